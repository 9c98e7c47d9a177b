import QtQuick

// One device in the device check: its name, a live area (the children), the result badge and
// the technical detail (error text, frame rate, round trip).
Rectangle {
    id: card
    property real u: 1
    property string label
    property var row
    property string resultText
    property color resultColor
    property string detail
    default property alias content: live.data
    radius: Theme.radius * u
    color: Theme.panel
    Accessible.role: Accessible.Grouping
    Accessible.name: label + " " + resultText + " " + (row && row.detail ? row.detail : "")

    Text {
        id: name
        anchors { top: parent.top; left: parent.left; right: result.left; margins: 16 * card.u }
        wrapMode: Text.WordWrap
        text: card.label
        color: Theme.text
        font.pixelSize: Theme.bodySize * card.u
        font.bold: true
    }
    Rectangle {
        id: result
        objectName: card.objectName + "Result"
        anchors { top: parent.top; right: parent.right; margins: 12 * card.u }
        width: badge.implicitWidth + 28 * card.u
        height: badge.implicitHeight + 10 * card.u
        radius: height / 2
        color: card.resultColor
        border.color: Theme.textSoft
        border.width: 1
        Text {
            id: badge
            anchors.centerIn: parent
            text: card.resultText
            color: Theme.text
            font.pixelSize: Theme.smallSize * card.u
            font.bold: true
        }
    }
    Item {
        id: live
        anchors { top: name.bottom; left: parent.left; right: parent.right; bottom: info.top
                  margins: 12 * card.u }
        clip: true
    }
    Text {
        id: info
        anchors { bottom: parent.bottom; left: parent.left; right: parent.right; margins: 12 * card.u }
        text: (card.row && card.row.detail ? card.row.detail : card.detail)
        color: Theme.textSoft
        font.pixelSize: Theme.smallSize * card.u * 0.85
        elide: Text.ElideRight
        maximumLineCount: 2
        wrapMode: Text.WordWrap
    }
}
