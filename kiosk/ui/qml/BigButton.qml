import QtQuick

// A large touch button: a pictogram and a few plain words, never smaller than 64 px.
Rectangle {
    id: button
    property real u: 1
    property alias text: label.text
    property string icon
    property color baseColor: Theme.primary
    property color textColor: Theme.primaryText
    property color borderColor: Qt.darker(baseColor, 1.6)
    property real textSize: Theme.buttonText * u
    property real iconSize: 64 * u
    property bool vertical: false
    // a digit key or a choice in a list: the words are all there is to show (every action
    // button has a pictogram; the screen checks say so)
    property bool wordsOnly: false
    // what a screen reader says: the words on it, or (a button with only a pictogram) this
    property string accessibleName: label.text
    signal activated()

    implicitWidth: Math.max(grid.implicitWidth + 64 * u, Math.max(Theme.touchMin, Theme.minTouch * u))
    implicitHeight: Math.max(grid.implicitHeight + 40 * u, Math.max(Theme.touchMin, Theme.minTouch * u))
    radius: Theme.radius * u
    color: mouse.pressed ? Qt.darker(baseColor, 1.25) : baseColor
    border.color: borderColor
    border.width: Math.max(2, 3 * u)
    scale: mouse.pressed ? 0.97 : 1.0
    Behavior on scale { NumberAnimation { duration: 80 } }

    Accessible.role: Accessible.Button
    Accessible.name: accessibleName
    Accessible.focusable: true
    Accessible.onPressAction: button.activated()

    Grid {
        id: grid
        anchors.centerIn: parent
        columns: button.vertical ? 1 : 2
        spacing: 20 * button.u
        horizontalItemAlignment: Grid.AlignHCenter
        verticalItemAlignment: Grid.AlignVCenter
        Pictogram {
            name: button.icon
            visible: button.icon !== ""
            // smaller rather than pushing the words out of the button
            width: button.vertical
                   ? Math.max(0.4 * button.iconSize, Math.min(button.iconSize,
                         button.height - label.height - grid.spacing - 32 * button.u))
                   : Math.min(button.iconSize, button.height - 16 * button.u)
            height: width
        }
        Text {
            id: label
            color: button.textColor
            font.pixelSize: button.textSize
            font.bold: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            width: Math.min(implicitWidth, button.width - 48 * button.u
                            - (button.vertical || button.icon === "" ? 0 : button.iconSize + grid.spacing))
        }
    }

    MouseArea {
        id: mouse
        anchors.fill: parent
        onClicked: button.activated()
    }
}
