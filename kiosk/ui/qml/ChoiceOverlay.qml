import QtQuick

// Large choices over a dimmed screen: one tap picks, 取消 (or a tap beside) leaves it as it was.
Rectangle {
    id: overlay
    property real u: 1
    property string title
    property var options: []  // [{ value: "...", label: "..." }]
    property string current
    property string namePrefix: "choice-"  // each choice's objectName: prefix + value ("all" for "")
    signal chosen(string value)
    signal dismissed()

    color: Theme.overlay
    Accessible.role: Accessible.Dialog
    Accessible.name: title

    MouseArea { anchors.fill: parent; onClicked: overlay.dismissed(); Accessible.ignored: true }  // its Cancel button says the same

    Rectangle {
        id: panel
        anchors.centerIn: parent
        width: Math.min(parent.width - 2 * Theme.margin * overlay.u, 1100 * overlay.u)
        height: Math.min(parent.height - 2 * Theme.margin * overlay.u,
                         heading.height + choices.height + cancel.height + 4 * Theme.margin * overlay.u * 0.75)
        radius: Theme.radius * overlay.u
        color: Theme.panel
        border.color: Theme.textSoft
        border.width: 2
        MouseArea { anchors.fill: parent; Accessible.ignored: true }  // a tap on the panel is not a tap beside it

        Text {
            id: heading
            anchors { top: parent.top; left: parent.left; right: parent.right; margins: Theme.margin * overlay.u * 0.75 }
            text: overlay.title
            color: Theme.text
            font.pixelSize: Theme.bodySize * overlay.u
            font.bold: true
            wrapMode: Text.WordWrap
        }
        Flickable {
            anchors { top: heading.bottom; left: parent.left; right: parent.right; bottom: cancel.top
                      margins: Theme.margin * overlay.u * 0.75 }
            contentHeight: choices.height
            clip: true
            boundsBehavior: Flickable.StopAtBounds
            Flow {
                id: choices
                width: parent.width
                spacing: 16 * overlay.u
                Repeater {
                    model: overlay.options
                    BigButton {
                        objectName: overlay.namePrefix + (modelData.value === "" ? "all" : modelData.value)
                        u: overlay.u
                        height: Math.max(Theme.touchMin, 84 * overlay.u)
                        baseColor: modelData.value === overlay.current ? Theme.primary : Theme.neutral
                        textColor: modelData.value === overlay.current ? Theme.primaryText : Theme.neutralText
                        textSize: Theme.smallSize * overlay.u
                        icon: modelData.value === overlay.current ? "ok" : ""
                        wordsOnly: true
                        iconSize: 32 * overlay.u
                        text: modelData.label
                        onActivated: overlay.chosen(modelData.value)
                    }
                }
            }
        }
        BigButton {
            id: cancel
            objectName: overlay.namePrefix + "cancel"
            u: overlay.u
            anchors { bottom: parent.bottom; right: parent.right; margins: Theme.margin * overlay.u * 0.75 }
            height: Math.max(Theme.touchMin, 80 * overlay.u)
            baseColor: Theme.panel
            textColor: Theme.text
            borderColor: Theme.textSoft
            textSize: Theme.smallSize * overlay.u
            icon: "cancel-light"
            iconSize: 36 * overlay.u
            text: qsTr("取消")
            onActivated: overlay.dismissed()
        }
    }
}
