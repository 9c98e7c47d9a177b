import QtQuick
import QtMultimedia

// The interpreter fills the screen; the resident's own picture sits small in a corner so they
// can check they are in frame; the call clock and the hang-up button are drawn over the video.
Rectangle {
    id: screen
    property real u: 1
    color: Theme.video
    Accessible.role: Accessible.Pane
    Accessible.name: qsTr("通话中")

    function clock(s) {
        var m = Math.floor(s / 60), r = s % 60
        return m + ":" + (r < 10 ? "0" : "") + r
    }

    // where the video goes: the whole screen, or beside (or above, on a tall screen) the text
    Item {
        id: videoArea
        readonly property bool tall: screen.height > screen.width
        // beside the video the text needs 860 px for the on-screen keyboard's labels to fit;
        // text only leaves the resident's own picture and the hang-up button 400 px
        readonly property real share: !kiosk.textOpen ? 1
                                      : kiosk.textOnly ? (tall ? 0.28 : Math.max(0.28, 400 / screen.width))
                                      : tall ? 0.42 : Math.min(0.42, 1 - 860 / screen.width)
        anchors { left: parent.left; top: parent.top }
        width: tall ? parent.width : parent.width * share
        height: tall ? parent.height * share : parent.height
    }

    VideoOutput {
        id: remote
        objectName: "remoteVideo"
        anchors.fill: videoArea
        visible: !kiosk.textOnly
        fillMode: VideoOutput.PreserveAspectFit
        Component.onCompleted: kiosk.attachRemoteSink(remote.videoSink)
        Accessible.role: Accessible.Animation
        Accessible.name: qsTr("手语翻译员的画面")
    }

    // When the interpreter appears the frame flashes: the answer is seen, not heard.
    Rectangle {
        id: flash
        objectName: "answerFlash"
        anchors.fill: parent
        color: "transparent"
        border.color: Theme.signal
        border.width: 18 * screen.u
        opacity: 0
        SequentialAnimation {
            id: flashAnimation
            loops: 3
            NumberAnimation { target: flash; property: "opacity"; to: 1; duration: 220 }
            NumberAnimation { target: flash; property: "opacity"; to: 0; duration: 380 }
        }
    }
    onVisibleChanged: if (visible) flashAnimation.restart()

    // the resident's own picture
    Rectangle {
        id: selfFrame
        objectName: "selfViewFrame"
        // beside the call clock and the connection pill when there is room, else under them
        readonly property bool besidePills: videoArea.width - width - 72 * screen.u
                                            >= Math.max(clockPill.width, qualityBadge.width)
        anchors { right: videoArea.right; top: videoArea.top; rightMargin: 24 * screen.u
                  topMargin: besidePills ? 24 * screen.u
                                         : qualityBadge.y + qualityBadge.height + 16 * screen.u }
        width: Math.max(160, Math.min(videoArea.width * (kiosk.textOpen ? 0.26 : 0.22), parent.width * 0.22))
        height: width * 3 / 4 + selfLabel.height
        color: Theme.background
        border.color: Theme.text
        border.width: 3
        radius: 8
        VideoOutput {
            id: self
            objectName: "selfVideo"
            anchors { fill: parent; margins: 3; bottomMargin: selfLabel.height }
            fillMode: VideoOutput.PreserveAspectCrop
            Component.onCompleted: kiosk.attachSelfSink(self.videoSink)
        }
        // the camera was unplugged: the interpreter sees a placeholder until it is back
        Rectangle {
            objectName: "cameraLostNote"
            visible: kiosk.missingDevices.indexOf("camera") >= 0
            anchors { fill: self }
            color: Theme.overlay
            Text {
                anchors.centerIn: parent
                width: parent.width - 16
                text: qsTr("摄像头断开了，翻译员暂时看不到您。请告诉工作人员。")
                color: Theme.text
                font.pixelSize: Theme.smallSize * screen.u
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.WordWrap
            }
        }
        Text {
            id: selfLabel
            anchors { bottom: parent.bottom; horizontalCenter: parent.horizontalCenter }
            height: implicitHeight + 8 * screen.u
            verticalAlignment: Text.AlignVCenter
            text: qsTr("您自己")
            color: Theme.text
            font.pixelSize: Theme.smallSize * screen.u
        }
    }

    // call clock
    Rectangle {
        id: clockPill
        anchors { left: parent.left; top: parent.top; margins: 24 * screen.u }
        width: clockText.implicitWidth + 40 * screen.u
        height: clockText.implicitHeight + 16 * screen.u
        radius: height / 2
        color: Theme.overlay
        Text {
            id: clockText
            objectName: "callClock"
            anchors.centerIn: parent
            text: qsTr("通话 %1").arg(screen.clock(kiosk.callSeconds))
            color: Theme.text
            font.pixelSize: Theme.bodySize * screen.u
            font.bold: true
        }
    }

    // connection quality: bars and a word, never colour alone
    Rectangle {
        id: qualityBadge
        objectName: "qualityIndicator"
        visible: kiosk.qualityLevel !== ""
        anchors { left: parent.left; top: parent.top; leftMargin: 24 * screen.u; topMargin: 100 * screen.u }
        width: qualityRow.implicitWidth + 32 * screen.u
        height: qualityRow.implicitHeight + 12 * screen.u
        radius: height / 2
        color: Theme.overlay
        Accessible.role: Accessible.Indicator
        Accessible.name: qualityText.text
        readonly property int bars: kiosk.qualityLevel === "good" ? 3 : kiosk.qualityLevel === "fair" ? 2 : 1
        Row {
            id: qualityRow
            anchors.centerIn: parent
            spacing: 10 * screen.u
            Row {
                anchors.bottom: qualityText.baseline
                spacing: 4 * screen.u
                Repeater {
                    model: 3
                    Rectangle {
                        anchors.bottom: parent.bottom
                        width: 8 * screen.u
                        height: (10 + 8 * index) * screen.u
                        radius: 2
                        color: index < qualityBadge.bars ? Theme.text : "transparent"
                        border.color: Theme.text
                        border.width: 1
                    }
                }
            }
            Text {
                id: qualityText
                text: kiosk.qualityLevel === "good" ? qsTr("连接良好")
                      : kiosk.qualityLevel === "fair" ? qsTr("连接一般") : qsTr("连接较差")
                color: Theme.text
                font.pixelSize: Theme.smallSize * screen.u
            }
        }
    }

    // a quiet note when signing may be hard to follow (under 20 frames a second)
    Rectangle {
        objectName: "lowFrameRateNote"
        visible: kiosk.lowFrameRate && !kiosk.reconnecting
        anchors { horizontalCenter: videoArea.horizontalCenter; top: parent.top
                  topMargin: !selfFrame.besidePills ? selfFrame.y + selfFrame.height + 16 * screen.u
                             : (kiosk.textOpen && !videoArea.tall ? 170 : 24) * screen.u }
        width: Math.min(parent.width * 0.5, lowText.implicitWidth + 48 * screen.u)
        height: lowText.implicitHeight + 16 * screen.u
        radius: height / 2
        color: Theme.overlay
        Text {
            id: lowText
            anchors.centerIn: parent
            width: Math.min(implicitWidth, parent.parent.width * 0.5 - 48 * screen.u)
            text: qsTr("画面可能不够流畅")
            color: Theme.text
            font.pixelSize: Theme.smallSize * screen.u
            wrapMode: Text.WordWrap
            horizontalAlignment: Text.AlignHCenter
        }
    }

    // the picture froze: say it plainly over the video (the hang-up button stays on top)
    ReconnectingOverlay {
        objectName: "reconnectingBanner"
        anchors.fill: videoArea  // the text beside it stays readable
        visible: kiosk.reconnecting
        u: screen.u
        seconds: kiosk.reconnectingSeconds
    }

    // real-time text: the interpreter's and the resident's, with the on-screen keyboard
    TextPanel {
        id: textPanel
        u: screen.u
        anchors {
            right: parent.right; bottom: parent.bottom
            left: videoArea.tall ? parent.left : videoArea.right
            top: videoArea.tall ? videoArea.bottom : parent.top
        }
    }

    BigButton {
        objectName: "textButton"
        u: screen.u
        visible: !kiosk.textOpen
        anchors { bottom: parent.bottom; left: parent.left; margins: 32 * screen.u }
        baseColor: Theme.neutral
        textColor: Theme.neutralText
        icon: "document"
        text: qsTr("文字")
        onActivated: kiosk.openText()
    }

    BigButton {
        objectName: "hangUpButton"
        u: screen.u
        anchors { bottom: videoArea.bottom; horizontalCenter: videoArea.horizontalCenter; bottomMargin: 32 * screen.u }
        width: Math.min(videoArea.width - 48 * screen.u, 360 * screen.u)
        baseColor: Theme.danger
        textColor: Theme.dangerText
        borderColor: Theme.text  // seen against any picture
        icon: "hang-up"
        text: qsTr("结束通话")
        onActivated: kiosk.hangUp()
    }
}
