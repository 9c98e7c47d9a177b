import QtQuick

// Counter staff start a session for a resident: they pick the matter (the record keeps it),
// and the call starts at once. A close button leads back to the resident's Welcome screen.
Rectangle {
    id: screen
    property real u: 1
    color: Theme.background
    Accessible.role: Accessible.Pane
    Accessible.name: title.text

    readonly property var categories: kiosk.categories
    readonly property bool narrow: width < height

    Column {
        id: header
        anchors { top: parent.top; left: parent.left; right: close.left; margins: Theme.margin * screen.u }
        spacing: 8 * screen.u
        Text {
            id: title
            width: parent.width
            text: qsTr("工作人员发起翻译")
            color: Theme.text
            font.pixelSize: Theme.titleSize * screen.u
            font.bold: true
            wrapMode: Text.WordWrap
        }
        Text {
            width: parent.width
            text: qsTr("请选择要办理的事项，选好后马上联系翻译员。")
            color: Theme.textSoft
            font.pixelSize: Theme.bodySize * screen.u
            wrapMode: Text.WordWrap
        }
    }

    BigButton {
        id: close
        objectName: "closeStaffButton"
        u: screen.u
        anchors { top: parent.top; right: parent.right; margins: Theme.margin * screen.u * 0.6 }
        baseColor: Theme.neutral
        textColor: Theme.neutralText
        textSize: Theme.smallSize * screen.u
        icon: "cancel"
        iconSize: 40 * screen.u
        text: qsTr("关闭")
        onActivated: kiosk.closeStaffPanel()
    }

    Flickable {
        id: area
        anchors { top: header.bottom; left: parent.left; right: parent.right; bottom: parent.bottom
                  margins: Theme.margin * screen.u }
        contentHeight: grid.height
        clip: true
        boundsBehavior: Flickable.StopAtBounds

        Grid {
            id: grid
            width: area.width
            columns: screen.narrow ? (screen.categories.length > 6 ? 2 : 1) : (screen.categories.length > 4 ? 3 : 2)
            spacing: 20 * screen.u
            readonly property int rowCount: Math.ceil(screen.categories.length / columns)
            readonly property real cellW: (width - (columns - 1) * spacing) / columns
            // fill the space when there are few, never below a comfortable touch height
            readonly property real cellH: Math.max(Theme.minTouch * screen.u,
                Math.min((screen.narrow ? 240 : 180) * screen.u, (area.height - (rowCount - 1) * spacing) / rowCount))

            Repeater {
                model: screen.categories
                BigButton {
                    objectName: "staffCategory" + index
                    u: screen.u
                    width: grid.cellW
                    height: grid.cellH
                    baseColor: Theme.neutral
                    textColor: Theme.neutralText
                    icon: modelData === "其他" || modelData === "其它" ? "other" : "document"  // i18n-exempt: config values, not shown
                    iconSize: Math.min(80 * screen.u, grid.cellH * 0.55)
                    text: Words.category(modelData)
                    onActivated: kiosk.startStaffCall(modelData)
                }
            }
        }
    }
}
