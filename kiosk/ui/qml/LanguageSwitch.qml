import QtQuick

// The language switch on Welcome: a pictogram and both languages, each named in its own words
// (whoever needs the other one can read its name). The one shown now is bold and underlined,
// not told by colour alone. A tap switches every text on screen at once.
Rectangle {
    id: sw
    property real u: 1
    implicitWidth: row.implicitWidth + 48 * u
    implicitHeight: Math.max(Theme.touchMin, 76 * u)
    radius: Theme.radius * u
    color: mouse.pressed ? Qt.darker(Theme.panel, 1.3) : Theme.panel
    border.color: Theme.textSoft
    border.width: Math.max(2, 3 * u)
    scale: mouse.pressed ? 0.97 : 1.0

    readonly property var names: i18n.names
    Accessible.role: Accessible.Button
    Accessible.name: qsTr("切换语言") + ": " + names[0].name + " / " + names[1].name
    Accessible.focusable: true
    Accessible.onPressAction: i18n.toggle()

    Row {
        id: row
        anchors.centerIn: parent
        spacing: 12 * sw.u
        Pictogram {
            name: "language"
            width: 48 * sw.u
            height: width
            anchors.verticalCenter: parent.verticalCenter
        }
        Repeater {
            model: sw.names
            Row {
                anchors.verticalCenter: parent.verticalCenter
                spacing: 12 * sw.u
                Text {
                    visible: index > 0
                    text: "/"
                    color: Theme.textSoft
                    font.pixelSize: Theme.smallSize * sw.u
                }
                Text {
                    objectName: "languageName_" + modelData.code
                    text: modelData.name  // i18n-exempt: each language's own name for itself
                    color: modelData.code === i18n.language ? Theme.text : Theme.textSoft
                    font.pixelSize: Theme.smallSize * sw.u
                    font.bold: modelData.code === i18n.language
                    font.underline: modelData.code === i18n.language
                }
            }
        }
    }
    MouseArea {
        id: mouse
        anchors.fill: parent
        onClicked: i18n.toggle()
    }
}
