import QtQuick

// Over the call while the picture is gone and the kiosk is reconnecting by itself: the frozen
// picture is dimmed so nobody signs to it, a moving row of dots shows that something is
// happening, and plain words say the interpreter is still in the call. Nothing to tap: the
// call ends by itself if the connection does not come back (the hang-up button stays usable).
Rectangle {
    id: overlay
    property real u: 1
    property int seconds: 0
    color: Theme.overlay
    Accessible.role: Accessible.AlertMessage
    Accessible.name: title.text + " " + body.text

    Column {
        anchors.centerIn: parent
        width: Math.min(parent.width - 2 * Theme.margin * overlay.u, 900 * overlay.u)
        spacing: 28 * overlay.u

        // three dots that light up in turn
        Row {
            id: dots
            objectName: "reconnectingDots"
            anchors.horizontalCenter: parent.horizontalCenter
            spacing: 24 * overlay.u
            property int lit: 0
            Repeater {
                model: 3
                Rectangle {
                    width: 36 * overlay.u
                    height: width
                    radius: width / 2
                    color: Theme.primary
                    opacity: index === dots.lit ? 1.0 : 0.3
                    Behavior on opacity { NumberAnimation { duration: 200 } }
                }
            }
            Timer {
                interval: 450
                repeat: true
                running: overlay.visible
                onTriggered: dots.lit = (dots.lit + 1) % 3
            }
        }

        Text {
            id: title
            objectName: "reconnectingTitle"
            width: parent.width
            text: qsTr("画面中断，正在重新连接……")
            color: Theme.text
            font.pixelSize: Theme.titleSize * overlay.u
            font.bold: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }

        Text {
            id: body
            width: parent.width
            text: qsTr("翻译员还在通话中，请稍等。")
            color: Theme.textSoft
            font.pixelSize: Theme.bodySize * overlay.u
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }

        Text {
            objectName: "reconnectingSeconds"
            width: parent.width
            visible: overlay.seconds >= 5
            text: qsTr("已经尝试 %n 秒", "", overlay.seconds)
            color: Theme.textSoft
            font.pixelSize: Theme.smallSize * overlay.u
            horizontalAlignment: Text.AlignHCenter
        }
    }
}
