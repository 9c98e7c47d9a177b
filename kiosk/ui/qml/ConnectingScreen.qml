import QtQuick

// From the tap until the interpreter's picture is on screen: where the call is, how long it
// has waited, and a way out.
Rectangle {
    id: screen
    property real u: 1
    color: Theme.background
    Accessible.role: Accessible.Pane
    Accessible.name: status.text

    readonly property var steps: ["requesting", "queued", "ringing", "connecting"]
    readonly property int step: Math.max(0, steps.indexOf(kiosk.callState))
    property bool pulse: false
    Timer {
        interval: 600; repeat: true; running: screen.visible
        onTriggered: screen.pulse = !screen.pulse
        onRunningChanged: screen.pulse = false
    }

    function clock(s) {
        var m = Math.floor(s / 60), r = s % 60
        return m + ":" + (r < 10 ? "0" : "") + r
    }

    Column {
        anchors.centerIn: parent
        anchors.verticalCenterOffset: -cancel.height / 2
        width: parent.width - 2 * Theme.margin * screen.u
        spacing: 28 * screen.u

        Pictogram {
            id: glass
            name: "waiting"
            width: 150 * screen.u
            height: width
            anchors.horizontalCenter: parent.horizontalCenter
            RotationAnimator on rotation {
                running: screen.visible
                loops: Animation.Infinite
                from: 0; to: 180; duration: 1600
                easing.type: Easing.InOutCubic
            }
        }

        Text {
            id: status
            objectName: "connectingStatus"
            width: parent.width
            color: Theme.text
            font.pixelSize: Theme.titleSize * screen.u
            font.bold: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            text: {
                switch (kiosk.callState) {
                case "queued": return qsTr("正在排队，请稍等")
                case "ringing": return qsTr("翻译员马上接听")
                case "connecting": return qsTr("翻译员已接听，正在接通视频")
                default: return qsTr("正在联系翻译中心")
                }
            }
        }

        Text {
            width: parent.width
            visible: kiosk.callState === "queued" && kiosk.queuePosition > 0
            color: Theme.textSoft
            font.pixelSize: Theme.bodySize * screen.u
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            text: kiosk.queuePosition <= 1 ? qsTr("下一位就是您")
                                           : qsTr("您前面还有 %1 位").arg(kiosk.queuePosition - 1)
        }

        Text {
            objectName: "estimatedWait"
            width: parent.width
            visible: kiosk.callState === "queued" && kiosk.estimatedWaitSeconds >= 60
            color: Theme.textSoft
            font.pixelSize: Theme.bodySize * screen.u
            horizontalAlignment: Text.AlignHCenter
            text: qsTr("预计等待约 %1 分钟").arg(Math.round(kiosk.estimatedWaitSeconds / 60))
        }

        // four steps, the current one lit: progress that needs no reading
        Row {
            objectName: "progressSteps"
            anchors.horizontalCenter: parent.horizontalCenter
            spacing: 24 * screen.u
            Repeater {
                model: 4
                Rectangle {
                    width: 56 * screen.u
                    height: 16 * screen.u
                    radius: height / 2
                    color: index <= screen.step ? Theme.primary : Theme.panel
                    border.color: Theme.textSoft
                    border.width: 2
                    opacity: index === screen.step && screen.pulse ? 0.35 : 1.0
                    Behavior on opacity { NumberAnimation { duration: 500 } }
                }
            }
        }

        Text {
            objectName: "waitClock"
            width: parent.width
            color: Theme.textSoft
            font.pixelSize: Theme.bodySize * screen.u
            horizontalAlignment: Text.AlignHCenter
            text: qsTr("已等待 %1").arg(screen.clock(kiosk.waitSeconds))
        }
    }

    // The interpreter answered: the frame flashes (the answer is seen, not heard) while the
    // video starts.
    Rectangle {
        id: answerFlash
        objectName: "answeredFlash"
        anchors.fill: parent
        color: "transparent"
        border.color: Theme.signal
        border.width: 18 * screen.u
        opacity: 0
        SequentialAnimation {
            id: answered
            loops: 2
            NumberAnimation { target: answerFlash; property: "opacity"; to: 1; duration: 200 }
            NumberAnimation { target: answerFlash; property: "opacity"; to: 0; duration: 300 }
        }
    }
    Connections {
        target: kiosk
        function onChanged() {
            if (screen.visible && kiosk.callState === "connecting" && !answered.running && !screen.answerShown) {
                screen.answerShown = true
                answered.restart()
            }
        }
    }
    property bool answerShown: false
    onVisibleChanged: answerShown = false

    BigButton {
        id: cancel
        objectName: "cancelButton"
        u: screen.u
        anchors { bottom: parent.bottom; horizontalCenter: parent.horizontalCenter; bottomMargin: Theme.margin * screen.u }
        width: Math.min(parent.width - 2 * Theme.margin * screen.u, 440 * screen.u)
        baseColor: Theme.neutral
        textColor: Theme.neutralText
        icon: "cancel"
        text: qsTr("取消")
        onActivated: kiosk.cancelCall()
    }
}
