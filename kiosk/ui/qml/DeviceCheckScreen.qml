import QtQuick
import QtMultimedia

// For technicians: is each device working? A live reading and a pass/fail result per row.
Rectangle {
    id: screen
    property real u: 1
    color: Theme.background
    Accessible.role: Accessible.Pane
    Accessible.name: title.text

    readonly property var check: kiosk.check
    // the speaker card's three buttons share its width (words wrap rather than run out)
    readonly property real speakerButtonW: (rows.cellW - 2 * 12 * screen.u * 2 - 24 * screen.u) / 3

    function resultText(row) {
        if (!row || row.result === "pending") return qsTr("检查中…")
        return row.result === "pass" ? qsTr("✓ 正常") : qsTr("✗ 有问题")
    }
    // what runs on the microphone (echo cancellation etc.), and its level before processing
    function processingText() {
        if (screen.check.micRawDbfs === undefined) return ""
        var names = { "echo_cancellation": qsTr("回声消除"),
                      "noise_suppression": qsTr("降噪"),
                      "high_pass_filter": qsTr("高通滤波") }
        var on = (screen.check.processing || []).map(function (n) { return names[n] || n })
        var what = screen.check.processingProblem ? qsTr("声音处理不可用（见日志）")
                 : on.length ? qsTr("已开启：%1").arg(on.join(", ")) : qsTr("声音处理已关闭")
        return what
    }
    // the level sent, and before processing when something processes the microphone
    function levelText() {
        if (screen.check.micDbfs === undefined) return ""
        if (screen.check.micRawDbfs === undefined) return qsTr("%1 dB").arg(Math.round(screen.check.micDbfs))
        return qsTr("发出 %1 dB，处理前 %2 dB").arg(Math.round(screen.check.micDbfs))
                   .arg(Math.round(screen.check.micRawDbfs))
    }
    function resultColor(row) {
        if (!row || row.result === "pending") return Theme.panel
        return row.result === "pass" ? Theme.pass : Theme.danger
    }

    Text {
        id: title
        anchors { top: parent.top; left: parent.left; margins: Theme.margin * screen.u }
        text: qsTr("设备检查")
        color: Theme.text
        font.pixelSize: Theme.titleSize * screen.u
        font.bold: true
    }
    BigButton {
        objectName: "closeDeviceCheckButton"
        u: screen.u
        anchors { top: parent.top; right: parent.right; margins: Theme.margin * screen.u * 0.6 }
        baseColor: Theme.neutral
        textColor: Theme.neutralText
        textSize: Theme.smallSize * screen.u
        icon: "ok"
        iconSize: 36 * screen.u
        text: qsTr("完成")
        onActivated: kiosk.closeDeviceCheck()
    }

    Grid {
        id: rows
        anchors { top: title.bottom; left: parent.left; right: parent.right; bottom: parent.bottom
                  margins: Theme.margin * screen.u }
        columns: screen.width > screen.height ? 2 : 1
        spacing: 20 * screen.u
        readonly property real cellW: (width - (columns - 1) * spacing) / columns
        readonly property real cellH: (height - (Math.ceil(4 / columns) - 1) * spacing) / Math.ceil(4 / columns)

        // --- camera: the live picture
        CheckRow {
            objectName: "checkCamera"
            width: rows.cellW; height: rows.cellH; u: screen.u
            label: qsTr("摄像头")
            row: screen.check.camera
            resultText: screen.resultText(row)
            resultColor: screen.resultColor(row)
            detail: screen.check.cameraFps !== undefined ? qsTr("每秒 %1 帧").arg(screen.check.cameraFps) : ""
            VideoOutput {
                id: preview
                objectName: "checkVideo"
                width: parent.width; height: parent.height
                fillMode: VideoOutput.PreserveAspectFit
                Component.onCompleted: kiosk.attachCheckSink(preview.videoSink)
            }
        }

        // --- microphone: a level meter
        CheckRow {
            objectName: "checkMicrophone"
            width: rows.cellW; height: rows.cellH; u: screen.u
            label: qsTr("麦克风")
            row: screen.check.microphone
            resultText: screen.resultText(row)
            resultColor: screen.resultColor(row)
            detail: qsTr("请对着麦克风说话")
            Item {
                width: parent.width; height: parent.height
                Rectangle {
                    id: meter
                    objectName: "micMeter"
                    anchors.centerIn: parent
                    anchors.verticalCenterOffset: -(meterText.height + micProcessing.height) / 2
                    width: parent.width * 0.9; height: 40 * screen.u
                    radius: 6; color: Theme.meter; border.color: Theme.textSoft; border.width: 2
                    Rectangle {
                        objectName: "micRawMeter"  // before processing: what processing took away shows
                        anchors { left: parent.left; top: parent.top; bottom: parent.bottom; margins: 4 }
                        width: Math.max(0, Math.min(1, ((screen.check.micRawDbfs || -100) + 60) / 60)) * (parent.width - 8)
                        radius: 4
                        color: Theme.textSoft; opacity: 0.45
                    }
                    Rectangle {
                        anchors { left: parent.left; top: parent.top; bottom: parent.bottom; margins: 4 }
                        // -60 dBFS … 0 dBFS across the meter
                        width: Math.max(0, Math.min(1, ((screen.check.micDbfs || -100) + 60) / 60)) * (parent.width - 8)
                        radius: 4
                        color: Theme.primary
                    }
                }
                // the level in figures under the bar (not over the yellow, where white is unreadable)
                Text {
                    id: meterText
                    anchors { top: meter.bottom; topMargin: 6 * screen.u; horizontalCenter: meter.horizontalCenter }
                    text: screen.levelText()
                    color: Theme.text
                    font.pixelSize: Theme.smallSize * screen.u
                }
                Text {
                    id: micProcessing
                    objectName: "micProcessing"
                    anchors { top: meterText.bottom; topMargin: 4 * screen.u
                              horizontalCenter: parent.horizontalCenter }
                    width: parent.width
                    horizontalAlignment: Text.AlignHCenter
                    wrapMode: Text.WordWrap
                    text: screen.processingText()
                    color: Theme.textSoft
                    font.pixelSize: Theme.smallSize * screen.u * 0.85
                }
            }
        }

        // --- speaker: a tone, then the technician says whether it was heard
        CheckRow {
            objectName: "checkSpeaker"
            width: rows.cellW; height: rows.cellH; u: screen.u
            label: qsTr("扬声器")
            row: screen.check.speaker
            resultText: screen.resultText(row)
            resultColor: screen.resultColor(row)
            detail: screen.check.tonePlaying ? qsTr("正在播放测试音…") : qsTr("播放测试音，听到了吗？")
            Row {
                id: speakerRow
                spacing: 12 * screen.u
                anchors.centerIn: parent
                // three equal buttons filling the card's free height
                readonly property real buttonH: Math.max(Theme.touchMin, Math.min(parent.height, 160 * screen.u))
                BigButton {
                    objectName: "playToneButton"
                    u: screen.u * 0.8; baseColor: Theme.primary; textColor: Theme.primaryText
                    width: screen.speakerButtonW; height: speakerRow.buttonH; vertical: true
                    textSize: Theme.smallSize * screen.u
                    icon: "play"; iconSize: 36 * screen.u
                    text: qsTr("播放"); onActivated: kiosk.playTestTone()
                }
                BigButton {
                    objectName: "heardButton"
                    u: screen.u * 0.8; baseColor: Theme.neutral; textColor: Theme.neutralText
                    width: screen.speakerButtonW; height: speakerRow.buttonH; vertical: true
                    textSize: Theme.smallSize * screen.u
                    icon: "ok"; iconSize: 36 * screen.u
                    text: qsTr("听到了"); onActivated: kiosk.confirmSpeaker(true)
                }
                BigButton {
                    objectName: "notHeardButton"
                    u: screen.u * 0.8; baseColor: Theme.neutral; textColor: Theme.neutralText
                    width: screen.speakerButtonW; height: speakerRow.buttonH; vertical: true
                    textSize: Theme.smallSize * screen.u
                    icon: "not-heard"; iconSize: 36 * screen.u
                    text: qsTr("没听到"); onActivated: kiosk.confirmSpeaker(false)
                }
            }
        }

        // --- the link to the interpreting centre
        CheckRow {
            objectName: "checkDispatch"
            width: rows.cellW; height: rows.cellH; u: screen.u
            label: qsTr("翻译中心连接")
            row: screen.check.dispatch
            resultText: screen.resultText(row)
            resultColor: screen.resultColor(row)
            detail: screen.check.dispatchMs >= 0 ? qsTr("往返 %1 毫秒").arg(Math.round(screen.check.dispatchMs)) : ""
            BigButton {
                objectName: "recheckDispatchButton"
                anchors.centerIn: parent
                u: screen.u * 0.8; baseColor: Theme.neutral; textColor: Theme.neutralText
                icon: "refresh"; iconSize: 40 * screen.u
                text: qsTr("再检查一次"); onActivated: kiosk.recheckDispatch()
            }
        }
    }
}
