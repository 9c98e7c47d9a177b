import QtQuick

// A filter as one button: what it filters (small) and its current choice (bold), opening a
// list of choices when tapped.
Rectangle {
    id: button
    property real u: 1
    property string label
    property string value
    signal activated()

    implicitWidth: Math.max(Theme.touchMin, content.implicitWidth + 40 * u)
    implicitHeight: Math.max(Theme.touchMin, 80 * u)
    radius: 16 * u
    color: mouse.pressed ? Qt.darker(Theme.panel, 1.3) : Theme.panel
    border.color: Theme.textSoft
    border.width: 2
    Accessible.role: Accessible.ComboBox
    Accessible.name: label + " " + value
    Accessible.onPressAction: button.activated()

    Row {
        id: content
        anchors.centerIn: parent
        spacing: 14 * button.u
        Column {
            anchors.verticalCenter: parent.verticalCenter
            Text {
                text: button.label
                color: Theme.textSoft
                font.pixelSize: Theme.smallSize * button.u * 0.75
            }
            Text {
                text: button.value
                color: Theme.text
                font.pixelSize: Theme.smallSize * button.u
                font.bold: true
            }
        }
        Pictogram {
            anchors.verticalCenter: parent.verticalCenter
            name: "chevron"
            rotation: -90
            width: 24 * button.u
            height: width
        }
    }
    MouseArea {
        id: mouse
        anchors.fill: parent
        onClicked: button.activated()
    }
}
