import QtQuick

// Five faces, 非常满意 … 非常不满意 (GB/T 39734 "好差评"), anonymous, leaving by itself.
Rectangle {
    id: screen
    property real u: 1
    color: Theme.background
    Accessible.role: Accessible.Pane
    Accessible.name: title.text

    readonly property var levels: [
        { level: 5, text: qsTr("非常满意") },
        { level: 4, text: qsTr("满意") },
        { level: 3, text: qsTr("基本满意") },
        { level: 2, text: qsTr("不满意") },
        { level: 1, text: qsTr("非常不满意") }
    ]
    readonly property bool narrow: width < height

    Column {
        id: header
        anchors { top: parent.top; left: parent.left; right: parent.right; margins: Theme.margin * screen.u }
        spacing: 12 * screen.u
        Text {
            id: title
            width: parent.width
            text: qsTr("您对这次手语翻译满意吗？")
            color: Theme.text
            font.pixelSize: Theme.titleSize * screen.u
            font.bold: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        Text {
            width: parent.width
            text: qsTr("点一个表情")
            color: Theme.textSoft
            font.pixelSize: Theme.bodySize * screen.u
            horizontalAlignment: Text.AlignHCenter
        }
    }

    Grid {
        id: faces
        anchors.centerIn: parent
        columns: screen.narrow ? 1 : 5
        spacing: 20 * screen.u
        readonly property real cell: screen.narrow
            ? Math.min(screen.width - 2 * Theme.margin * screen.u, 760 * screen.u)
            : (screen.width - 2 * Theme.margin * screen.u - 4 * spacing) / 5
        Repeater {
            model: screen.levels
            BigButton {
                objectName: "rate" + modelData.level
                u: screen.u
                vertical: !screen.narrow
                width: faces.cell
                height: screen.narrow ? 190 * screen.u : Math.min(faces.cell * 1.25, 300 * screen.u)
                baseColor: Theme.neutral
                textColor: Theme.neutralText
                textSize: 32 * screen.u
                iconSize: screen.narrow ? 130 * screen.u : Math.min(faces.cell * 0.6, 140 * screen.u)
                icon: "rating-" + modelData.level
                text: modelData.text
                onActivated: kiosk.rate(modelData.level)
            }
        }
    }

    Row {
        anchors { bottom: parent.bottom; horizontalCenter: parent.horizontalCenter; bottomMargin: Theme.margin * screen.u }
        spacing: 32 * screen.u
        Text {
            anchors.verticalCenter: parent.verticalCenter
            text: qsTr("%1 秒后回到首页").arg(kiosk.countdown)
            color: Theme.textSoft
            font.pixelSize: Theme.smallSize * screen.u
        }
        BigButton {
            objectName: "skipRatingButton"
            u: screen.u
            baseColor: Theme.panel
            textColor: Theme.text
            textSize: Theme.smallSize * screen.u
            icon: "skip"
            iconSize: 40 * screen.u
            text: qsTr("不评价")
            onActivated: kiosk.skipRating()
        }
    }
}
