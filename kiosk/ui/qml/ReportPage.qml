import QtQuick

// Reports for a chosen period: the main figures, sessions per day and how long residents
// waited (charts), and the whole report exported as CSV or Excel into the data folder.
Item {
    id: page
    property real u: 1
    readonly property bool wide: width > height
    readonly property var r: admin.report
    property bool choosingPeriod: false

    function pct(v) { return v === undefined || v === null ? "—" : qsTr("%1%").arg(v) }
    function orDash(v) { return v === undefined || v === null || v === "" ? "—" : v }

    // --- top bar: back, title, exports
    BigButton {
        id: back
        objectName: "reportBackButton"
        u: page.u
        anchors { top: parent.top; left: parent.left; margins: Theme.margin * page.u * 0.6 }
        height: Math.max(Theme.touchMin, 80 * page.u)
        baseColor: Theme.neutral
        textColor: Theme.neutralText
        textSize: Theme.smallSize * page.u
        icon: "back"
        iconSize: 36 * page.u
        text: qsTr("返回")
        onActivated: admin.back()
    }
    Text {
        anchors { left: back.right; verticalCenter: back.verticalCenter; leftMargin: 28 * page.u }
        text: qsTr("统计报表")
        color: Theme.text
        font.pixelSize: Theme.titleSize * page.u
        font.bold: true
    }
    Row {
        anchors { top: parent.top; right: parent.right; margins: Theme.margin * page.u * 0.6 }
        spacing: 12 * page.u
        Repeater {
            model: [{ fmt: "csv", name: "exportCsvButton", text: qsTr("导出 CSV") },
                    { fmt: "xlsx", name: "exportXlsxButton", text: qsTr("导出 Excel") }]
            BigButton {
                objectName: modelData.name
                u: page.u
                height: Math.max(Theme.touchMin, 80 * page.u)
                enabled: page.r.ready === true && admin.exportState !== "busy"
                opacity: enabled ? 1 : 0.45
                baseColor: Theme.neutral
                textColor: Theme.neutralText
                textSize: Theme.smallSize * page.u
                icon: "export"
                iconSize: 36 * page.u
                text: modelData.text
                onActivated: admin.exportReport(modelData.fmt)
            }
        }
    }

    // --- the period
    Row {
        id: periodRow
        anchors { top: back.bottom; left: parent.left; topMargin: 16 * page.u; leftMargin: Theme.margin * page.u * 0.6 }
        spacing: 24 * page.u
        PeriodBar {
            u: page.u
            name: "reportPeriod"
            onPickKind: page.choosingPeriod = true
        }
        Text {
            objectName: "reportStatus"
            anchors.verticalCenter: parent.verticalCenter
            text: admin.loading ? qsTr("正在统计……")
                  : page.r.failed ? qsTr("报表暂时无法生成，请稍后再试。")
                  : page.r.ready ? qsTr("%1（已结束的会话）").arg(page.r.label) : ""
            color: page.r.failed ? Theme.primary : Theme.textSoft
            font.pixelSize: Theme.smallSize * page.u
        }
    }

    // --- the main figures
    Grid {
        id: figures
        objectName: "reportFigures"
        anchors { top: periodRow.bottom; left: parent.left; right: parent.right; topMargin: 16 * page.u
                  leftMargin: Theme.margin * page.u * 0.6; rightMargin: Theme.margin * page.u * 0.6 }
        columns: page.wide ? 6 : 3
        spacing: 12 * page.u
        visible: page.r.ready === true
        readonly property real cellW: (width - (columns - 1) * spacing) / columns
        Repeater {
            model: [
                { name: "figSessions", label: qsTr("会话"), value: page.orDash(page.r.sessions),
                  note: qsTr("工作人员发起 %1").arg(page.orDash(page.r.byStaff)) },
                { name: "figAnswered", label: qsTr("接通率"), value: page.pct(page.r.answeredPct),
                  note: qsTr("放弃 %1").arg(page.orDash(page.r.abandoned)) },
                { name: "figWithin30", label: qsTr("30 秒内接通"), value: page.pct(page.r.within30Pct),
                  note: qsTr("占全部会话") },
                { name: "figWait", label: qsTr("等待中位数"), value: page.orDash(page.r.waitMedian),
                  note: qsTr("90% 不超过 %1").arg(page.orDash(page.r.waitP90)) },
                { name: "figTalk", label: qsTr("平均通话"), value: page.orDash(page.r.talkMean),
                  note: qsTr("分:秒") },
                { name: "figSatisfied", label: qsTr("满意率"), value: page.pct(page.r.satisfiedPct),
                  note: qsTr("%1 人评价").arg(page.orDash(page.r.rated)) }
            ]
            Rectangle {
                objectName: modelData.name
                width: figures.cellW
                height: cardColumn.implicitHeight + 20 * page.u
                radius: 12 * page.u
                color: Theme.panel
                Accessible.role: Accessible.StaticText
                Accessible.name: modelData.label + " " + modelData.value
                Column {
                    id: cardColumn
                    anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: 14 * page.u }
                    Text {
                        width: parent.width
                        text: modelData.label
                        color: Theme.textSoft
                        font.pixelSize: Theme.smallSize * page.u * 0.75
                        elide: Text.ElideRight
                    }
                    Text {
                        objectName: modelData.name + "Value"
                        width: parent.width
                        text: modelData.value
                        color: Theme.text
                        font.pixelSize: Theme.bodySize * page.u
                        font.bold: true
                        elide: Text.ElideRight
                    }
                    Text {
                        width: parent.width
                        text: modelData.note
                        color: Theme.textSoft
                        font.pixelSize: Theme.smallSize * page.u * 0.7
                        elide: Text.ElideRight
                    }
                }
            }
        }
    }

    // --- the charts (QtGraphs, loaded only here: a missing module cannot stop the kiosk)
    Loader {
        id: charts
        objectName: "reportCharts"
        anchors { top: figures.bottom; left: parent.left; right: parent.right; bottom: parent.bottom
                  topMargin: 16 * page.u; leftMargin: Theme.margin * page.u * 0.6
                  rightMargin: Theme.margin * page.u * 0.6; bottomMargin: Theme.margin * page.u * 0.6 }
        active: page.visible && page.r.ready === true
        source: "ReportCharts.qml"
        onLoaded: item.u = Qt.binding(function () { return page.u })
    }
    Text {
        anchors.centerIn: charts
        visible: page.r.ready === true && page.r.sessions === 0
        text: qsTr("这段时间没有已结束的会话")
        color: Theme.textSoft
        font.pixelSize: Theme.bodySize * page.u
    }

    // --- where the export went (for ten seconds, or until tapped)
    Rectangle {
        id: exportNote
        objectName: "exportMessage"
        property bool shown: false
        visible: shown && admin.exportState !== ""
        anchors { bottom: parent.bottom; horizontalCenter: parent.horizontalCenter; bottomMargin: 20 * page.u }
        width: Math.min(parent.width - 2 * Theme.margin * page.u, exportText.implicitWidth + 48 * page.u)
        height: exportText.implicitHeight + 24 * page.u
        radius: 16 * page.u
        color: Theme.neutral
        border.color: Theme.primary
        border.width: 3
        property alias text: exportText.text
        Text {
            id: exportText
            anchors.centerIn: parent
            width: Math.min(implicitWidth, page.width - 2 * Theme.margin * page.u - 48 * page.u)
            text: admin.exportState === "busy" ? qsTr("正在导出……")
                  : admin.exportState === "failed" ? qsTr("导出失败，请检查数据文件夹是否可写。")
                  : qsTr("已保存：%1").arg(admin.exportPath)
            color: Theme.neutralText
            font.pixelSize: Theme.smallSize * page.u * 0.85
            wrapMode: Text.WrapAnywhere
            horizontalAlignment: Text.AlignHCenter
        }
        MouseArea { anchors.fill: parent; onClicked: exportNote.shown = false; Accessible.ignored: true }  // the note also leaves by itself
        Timer {
            id: exportTimer
            interval: 10000
            onTriggered: exportNote.shown = false
        }
        Connections {
            target: admin
            function onReportChanged() {
                exportNote.shown = admin.exportState !== ""
                if (admin.exportState !== "busy") exportTimer.restart()
            }
        }
    }

    ChoiceOverlay {
        objectName: "reportPeriodChoice"
        anchors.fill: parent
        u: page.u
        visible: page.choosingPeriod
        title: qsTr("按什么时间段统计？")
        namePrefix: "reportChoice-"
        options: ["day", "week", "month", "year", "all"].map(function (k) { return { value: k, label: Words.periodKind(k) } })
        current: admin.periodKind
        onDismissed: page.choosingPeriod = false
        onChosen: function (value) {
            admin.setPeriodKind(value)
            page.choosingPeriod = false
        }
    }
    onVisibleChanged: if (!visible) choosingPeriod = false
}
