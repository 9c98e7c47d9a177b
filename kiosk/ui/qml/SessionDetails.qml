import QtQuick

// Everything the log knows about one session: every field, the call quality in words and the
// states it went through.
Rectangle {
    id: sheet
    property real u: 1
    readonly property var d: admin.detail
    readonly property var q: d.quality || {}
    readonly property bool wide: width > height
    color: Theme.background
    Accessible.role: Accessible.Dialog
    Accessible.name: title.text

    MouseArea { anchors.fill: parent; Accessible.ignored: true }  // the log behind cannot be touched

    function orDash(v) { return v === undefined || v === null || v === "" ? "—" : v }

    function qualityText() {
        if (!q.available) {
            return d.connectedAt ? qsTr("没有记录到通话质量。")
                                 : qsTr("这次没有接通视频，没有通话质量数据。")
        }
        var lines = [qsTr("总体：%1。").arg(Words.qualityLevel(q.level))]
        if (q.fpsIn)
            lines.push(qsTr("翻译员的画面：每秒约 %1 帧，最低 %2 帧。").arg(Math.round(q.fpsIn[0])).arg(Math.round(q.fpsIn[1])))
        if (q.fpsOut)
            lines.push(qsTr("本机发出的画面：每秒约 %1 帧，最低 %2 帧。").arg(Math.round(q.fpsOut[0])).arg(Math.round(q.fpsOut[1])))
        if (q.lowFpsSeconds > 0)
            lines.push(qsTr("有 %1 秒低于每秒 20 帧，手语可能看不清。").arg(Math.round(q.lowFpsSeconds)))
        if (q.lossPct)
            lines.push(qsTr("丢包：约 %1%，最多 %2%。").arg(q.lossPct[0]).arg(q.lossPct[1]))
        if (q.rttMs)
            lines.push(qsTr("网络往返延迟：约 %1 毫秒，最长 %2 毫秒。").arg(Math.round(q.rttMs[0])).arg(Math.round(q.rttMs[1])))
        if (q.kbpsIn && q.kbpsOut)
            lines.push(qsTr("带宽：收约 %1 kbps，发约 %2 kbps。").arg(Math.round(q.kbpsIn[0])).arg(Math.round(q.kbpsOut[0])))
        if (q.smallestScalePct < 100)
            lines.push(qsTr("为保持流畅，画面曾缩小到原来的 %1%。").arg(q.smallestScalePct))
        return lines.join("\n")
    }

    readonly property var fields: [
        [qsTr("点击时间"), orDash(d.requestedAt)],
        [qsTr("发起"), Words.startedBy(d.startedBy)],
        [qsTr("事项"), d.category ? Words.category(d.category) : orDash(d.category)],
        [qsTr("翻译员接听"), orDash(d.answeredAt)],
        [qsTr("视频接通"), orDash(d.connectedAt)],
        [qsTr("结束时间"), orDash(d.endedAt)],
        [qsTr("等待时长"), orDash(d.waitText)],
        [qsTr("通话时长"), orDash(d.talkText)],
        [qsTr("结束原因"), Words.endReason(d.endReason || "")],
        [qsTr("由谁结束"), d.endedBy ? Words.endedBy(d.endedBy) : "—"],
        [qsTr("最后状态"), Words.state(d.state)],
        [qsTr("翻译员编号"), orDash(d.interpreterId)],
        [qsTr("评价"), d.rated ? (d.rating ? Words.rating(d.rating) : qsTr("未评价（跳过）")) : qsTr("未评价")],
        [qsTr("评价时间"), orDash(d.ratedAt)],
        [qsTr("终端编号"), orDash(d.kioskId)],
        [qsTr("软件版本"), orDash(d.appVersion)],
        [qsTr("会话编号"), orDash(d.sessionId)]
    ]

    Text {
        id: title
        anchors { left: parent.left; verticalCenter: close.verticalCenter; leftMargin: Theme.margin * sheet.u }
        text: qsTr("会话详情")
        color: Theme.text
        font.pixelSize: Theme.titleSize * sheet.u
        font.bold: true
    }
    BigButton {
        id: close
        objectName: "closeDetailsButton"
        u: sheet.u
        anchors { top: parent.top; right: parent.right; margins: Theme.margin * sheet.u * 0.6 }
        height: Math.max(Theme.touchMin, 80 * sheet.u)
        baseColor: Theme.neutral
        textColor: Theme.neutralText
        textSize: Theme.smallSize * sheet.u
        icon: "back"
        iconSize: 36 * sheet.u
        text: qsTr("返回列表")
        onActivated: admin.closeDetails()
    }

    Flickable {
        id: body
        anchors { top: close.bottom; left: parent.left; right: parent.right; bottom: parent.bottom
                  margins: Theme.margin * sheet.u * 0.6; leftMargin: Theme.margin * sheet.u }
        contentHeight: layout.height
        clip: true
        boundsBehavior: Flickable.StopAtBounds

        Grid {
            id: layout
            width: body.width
            columns: sheet.wide ? 2 : 1
            spacing: 40 * sheet.u
            readonly property real colW: (width - (columns - 1) * spacing) / columns

            // all fields of the record
            Grid {
                objectName: "detailFields"
                width: layout.colW
                columns: 2
                rowSpacing: 4 * sheet.u
                columnSpacing: 24 * sheet.u
                Repeater {
                    model: sheet.fields.length * 2
                    Text {
                        readonly property var pair: sheet.fields[Math.floor(index / 2)]
                        readonly property bool isLabel: index % 2 === 0
                        width: isLabel ? layout.colW * 0.34 : layout.colW * 0.66 - 24 * sheet.u
                        text: isLabel ? pair[0] : pair[1]
                        color: isLabel ? Theme.textSoft : Theme.text
                        font.pixelSize: Theme.smallSize * sheet.u * 0.85
                        font.bold: !isLabel
                        wrapMode: Text.WrapAnywhere
                    }
                }
            }

            Column {
                width: layout.colW
                spacing: 14 * sheet.u
                Text {
                    text: qsTr("通话质量")
                    color: Theme.text
                    font.pixelSize: Theme.bodySize * sheet.u
                    font.bold: true
                }
                Text {
                    objectName: "qualityWords"
                    width: parent.width
                    text: sheet.qualityText()
                    color: Theme.text
                    font.pixelSize: Theme.smallSize * sheet.u * 0.85
                    lineHeight: 1.2
                    wrapMode: Text.WordWrap
                }
                Text {
                    text: qsTr("经过")
                    color: Theme.text
                    font.pixelSize: Theme.bodySize * sheet.u
                    font.bold: true
                }
                Column {
                    width: parent.width
                    spacing: 2
                    Repeater {
                        objectName: "detailEvents"
                        model: sheet.d.events || []
                        Text {
                            width: parent.width
                            text: modelData.time.substring(11) + "  " + Words.state(modelData.state)
                            color: Theme.textSoft
                            font.pixelSize: Theme.smallSize * sheet.u * 0.8
                        }
                    }
                }
            }
        }
    }
}
