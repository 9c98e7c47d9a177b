import QtQuick
import QtGraphs

// The report's two charts: sessions per day (answered and not, stacked) and the answered
// sessions' waits (within 30 s and longer). Colour is never the only clue: every chart has a
// legend in words and the figures above it.
Grid {
    id: charts
    property real u: 1
    readonly property var r: admin.report
    readonly property bool wide: width > height * 1.2
    columns: wide ? 2 : 1
    spacing: 16 * u
    readonly property real cellW: (width - (columns - 1) * spacing) / columns
    readonly property real cellH: (height - (wide ? 0 : spacing)) / (wide ? 1 : 2)
    readonly property color answeredColor: Theme.primary
    readonly property color otherColor: Theme.chartSecond

    // a round upper end for the value axis and a whole-number tick
    function niceMax(n) {
        if (n <= 5) return 5
        var p = Math.pow(10, Math.floor(Math.log(n) / Math.LN10))
        var steps = [1, 2, 2.5, 5, 10]
        for (var i = 0; i < steps.length; ++i)
            if (steps[i] * p >= n) return steps[i] * p
        return 10 * p
    }
    // axis labels must differ: the ones left out are blanks of different lengths
    function thinned(labels, room) {
        var every = Math.max(1, Math.ceil(labels.length * 62 * u / Math.max(1, room)))
        return labels.map(function (l, i) { return i % every === 0 ? l : " ".repeat(i + 1) })
    }
    function seconds(s) { return s < 60 || s % 60 !== 0 ? qsTr("%1秒").arg(s) : qsTr("%1分").arg(s / 60) }
    function waitLabels(edges) {
        var out = [qsTr("≤%1").arg(seconds(edges[0]))]
        for (var i = 1; i < edges.length; ++i) {
            var lo = edges[i - 1], hi = edges[i]
            out.push(hi <= 60 ? qsTr("%1–%2秒").arg(lo).arg(hi) : qsTr("%1–%2分").arg(lo / 60).arg(hi / 60))
        }
        out.push(qsTr(">%1").arg(seconds(edges[edges.length - 1])))
        return out
    }

    component Legend: Row {
        property color color
        property string text
        spacing: 8 * charts.u
        Rectangle { width: 20 * charts.u; height: width; radius: 4; color: parent.color; anchors.verticalCenter: parent.verticalCenter }
        Text { text: parent.text; color: Theme.textSoft; font.pixelSize: Theme.smallSize * charts.u * 0.7 }
    }

    component ChartTheme: GraphsTheme {
        colorScheme: GraphsTheme.ColorScheme.Dark
        backgroundVisible: false
        plotAreaBackgroundVisible: false
        labelTextColor: Theme.text
        axisXLabelFont.pixelSize: Theme.smallSize * charts.u * 0.62
        axisYLabelFont.pixelSize: Theme.smallSize * charts.u * 0.62
        grid.mainColor: Theme.gridLine
        axisX.mainColor: Theme.textSoft
        axisY.mainColor: Theme.textSoft
    }

    // --- sessions per day (or per month)
    Rectangle {
        objectName: "sessionsChart"
        width: charts.cellW
        height: charts.cellH
        radius: 12 * charts.u
        color: Theme.panel
        Accessible.role: Accessible.Chart
        Accessible.name: perDayTitle.text
        Text {
            id: perDayTitle
            anchors { top: parent.top; left: parent.left; margins: 14 * charts.u }
            text: charts.r.byMonth ? qsTr("每月会话数") : qsTr("每日会话数")
            color: Theme.text
            font.pixelSize: Theme.smallSize * charts.u * 0.85
            font.bold: true
        }
        Row {
            anchors { verticalCenter: perDayTitle.verticalCenter; right: parent.right; rightMargin: 14 * charts.u }
            spacing: 16 * charts.u
            Legend { color: charts.answeredColor; text: qsTr("接通") }
            Legend { color: charts.otherColor; text: qsTr("未接通") }
        }
        GraphsView {
            objectName: "sessionsGraph"
            anchors { top: perDayTitle.bottom; left: parent.left; right: parent.right; bottom: parent.bottom
                      margins: 6 * charts.u }
            marginRight: 24 * charts.u
            theme: ChartTheme {}
            axisX: BarCategoryAxis {
                categories: charts.thinned(charts.r.barLabels || [], charts.cellW - 80 * charts.u)
                gridVisible: false
                subGridVisible: false
            }
            axisY: ValueAxis {
                min: 0
                max: charts.niceMax(charts.r.barMax || 0)
                tickInterval: max / 5
                labelDecimals: 0
                subGridVisible: false
            }
            BarSeries {
                barsType: BarSeries.BarsType.Stacked
                barWidth: 0.7
                BarSet { label: qsTr("接通"); values: charts.r.barAnswered || []; color: charts.answeredColor; borderColor: charts.answeredColor }
                BarSet { label: qsTr("未接通"); values: charts.r.barUnanswered || []; color: charts.otherColor; borderColor: charts.otherColor }
            }
        }
    }

    // --- how long the answered sessions waited
    Rectangle {
        id: waitBox
        objectName: "waitChart"
        width: charts.cellW
        height: charts.cellH
        radius: 12 * charts.u
        color: Theme.panel
        Accessible.role: Accessible.Chart
        Accessible.name: waitTitle.text
        readonly property var counts: charts.r.waitCounts || []
        readonly property var edges: charts.r.waitEdges || [30]
        Text {
            id: waitTitle
            anchors { top: parent.top; left: parent.left; margins: 14 * charts.u }
            text: qsTr("等待多久接通")
            color: Theme.text
            font.pixelSize: Theme.smallSize * charts.u * 0.85
            font.bold: true
        }
        Row {
            anchors { verticalCenter: waitTitle.verticalCenter; right: parent.right; rightMargin: 14 * charts.u }
            spacing: 16 * charts.u
            Legend { color: charts.answeredColor; text: qsTr("30 秒内") }
            Legend { color: charts.otherColor; text: qsTr("超过 30 秒") }
        }
        GraphsView {
            objectName: "waitGraph"
            anchors { top: waitTitle.bottom; left: parent.left; right: parent.right; bottom: parent.bottom
                      margins: 6 * charts.u }
            marginRight: 24 * charts.u
            theme: ChartTheme {}
            axisX: BarCategoryAxis {
                categories: charts.waitLabels(waitBox.edges)
                gridVisible: false
                subGridVisible: false
            }
            axisY: ValueAxis {
                min: 0
                max: charts.niceMax(charts.r.waitMax || 0)
                tickInterval: max / 5
                labelDecimals: 0
                subGridVisible: false
            }
            BarSeries {
                barsType: BarSeries.BarsType.Stacked
                barWidth: 0.7
                // bucket i ends at edges[i] (the last has no end): within 30 s when that is ≤ 30
                BarSet {
                    label: qsTr("30 秒内")
                    values: waitBox.counts.map(function (c, i) { return i < waitBox.edges.length && waitBox.edges[i] <= 30 ? c : 0 })
                    color: charts.answeredColor; borderColor: charts.answeredColor
                }
                BarSet {
                    label: qsTr("超过 30 秒")
                    values: waitBox.counts.map(function (c, i) { return i < waitBox.edges.length && waitBox.edges[i] <= 30 ? 0 : c })
                    color: charts.otherColor; borderColor: charts.otherColor
                }
            }
        }
    }
}
