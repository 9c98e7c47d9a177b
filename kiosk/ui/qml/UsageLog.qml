import QtQuick

// The usage log: sessions newest first, filtered by period, end reason, category and who
// started them; a tap on a row shows everything about that session.
Item {
    id: page
    property real u: 1
    readonly property bool wide: width > height
    // share of the table's width per column
    readonly property var cols: [0.2, 0.13, 0.13, 0.09, 0.09, 0.2, 0.16]
    property string choosing: ""  // which filter's choices are open

    function choices(which) {
        var list = []
        if (which === "period") {
            ["day", "week", "month", "year", "all"].forEach(function (k) {
                list.push({ value: k, label: Words.periodKind(k) })
            })
        } else if (which === "reason") {
            list.push({ value: "", label: qsTr("全部") })
            admin.reasons.forEach(function (r) { list.push({ value: r, label: Words.endReason(r) }) })
        } else if (which === "category") {
            list.push({ value: "", label: qsTr("全部") })
            admin.categories.forEach(function (c) { list.push({ value: c, label: Words.category(c) }) })
            list.push({ value: "-", label: Words.category("-") })
        } else if (which === "startedBy") {
            list.push({ value: "", label: qsTr("全部") })
            list.push({ value: "resident", label: Words.startedBy("resident") })
            list.push({ value: "staff", label: Words.startedBy("staff") })
        }
        return list
    }

    // --- top bar
    BigButton {
        id: back
        objectName: "logBackButton"
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
        id: title
        anchors { left: back.right; verticalCenter: back.verticalCenter; leftMargin: 28 * page.u }
        text: qsTr("使用记录")
        color: Theme.text
        font.pixelSize: Theme.titleSize * page.u
        font.bold: true
    }
    Text {
        objectName: "logCount"
        anchors { right: parent.right; verticalCenter: back.verticalCenter; rightMargin: Theme.margin * page.u }
        text: admin.loading ? qsTr("正在读取……")
              : admin.truncated ? qsTr("最近 %1 条").arg(admin.count) : qsTr("共 %1 条").arg(admin.count)
        color: Theme.textSoft
        font.pixelSize: Theme.bodySize * page.u
    }

    // --- filters
    Flow {
        id: filters
        anchors { top: back.bottom; left: parent.left; right: parent.right
                  topMargin: 20 * page.u; leftMargin: Theme.margin * page.u * 0.6; rightMargin: Theme.margin * page.u * 0.6 }
        spacing: 12 * page.u
        PeriodBar {
            u: page.u
            onPickKind: page.choosing = "period"
        }
        FilterButton {
            objectName: "reasonFilterButton"
            u: page.u
            label: qsTr("结束原因")
            value: admin.reason === "" ? qsTr("全部") : Words.endReason(admin.reason)
            onActivated: page.choosing = "reason"
        }
        FilterButton {
            objectName: "categoryFilterButton"
            u: page.u
            label: qsTr("事项")
            value: Words.category(admin.category)
            onActivated: page.choosing = "category"
        }
        FilterButton {
            objectName: "startedByFilterButton"
            u: page.u
            label: qsTr("发起")
            value: admin.startedBy === "" ? qsTr("全部") : Words.startedBy(admin.startedBy)
            onActivated: page.choosing = "startedBy"
        }
    }

    // --- the table
    Rectangle {
        id: table
        anchors { top: filters.bottom; left: parent.left; right: parent.right; bottom: parent.bottom
                  topMargin: 20 * page.u; leftMargin: Theme.margin * page.u * 0.6
                  rightMargin: Theme.margin * page.u * 0.6; bottomMargin: Theme.margin * page.u * 0.6 }
        color: "transparent"
        border.color: Theme.panel
        border.width: 2
        radius: 12 * page.u
        clip: true

        Row {
            id: heading
            x: 16 * page.u
            width: parent.width - 32 * page.u
            height: Math.max(48, 56 * page.u)
            Repeater {
                model: [qsTr("时间"), qsTr("发起"), qsTr("事项"), qsTr("等待"), qsTr("通话"),
                        qsTr("结束原因"), qsTr("评价")]
                Text {
                    width: heading.width * page.cols[index]
                    height: heading.height
                    verticalAlignment: Text.AlignVCenter
                    text: modelData
                    color: Theme.textSoft
                    font.pixelSize: Theme.smallSize * page.u * 0.85
                    font.bold: true
                    elide: Text.ElideRight
                }
            }
        }
        Rectangle {
            anchors { top: heading.bottom; left: parent.left; right: parent.right }
            height: 2
            color: Theme.textSoft
        }
        ListView {
            id: list
            objectName: "logList"
            anchors { top: heading.bottom; left: parent.left; right: parent.right; bottom: parent.bottom
                      topMargin: 2 }
            clip: true
            model: admin.sessionModel
            boundsBehavior: Flickable.StopAtBounds
            delegate: Rectangle {
                id: row
                objectName: "logRow" + index
                required property int index
                required property string time
                required property string startedBy
                required property string category
                required property string waitText
                required property string talkText
                required property string endReason
                required property int rating
                required property bool answered
                width: list.width
                height: Math.max(Theme.touchMin, 72 * page.u)
                color: rowMouse.pressed ? Qt.lighter(Theme.panel, 1.4) : index % 2 ? Theme.panel : Theme.background
                Accessible.role: Accessible.Row
                Accessible.name: time + " " + Words.startedBy(startedBy) + " " + Words.endReason(endReason)
                Row {
                    x: 16 * page.u
                    width: parent.width - 32 * page.u
                    height: parent.height
                    Repeater {
                        model: [row.time, Words.startedBy(row.startedBy), row.category ? Words.category(row.category) : "—",
                                row.waitText || "—", row.talkText || "—", Words.endReason(row.endReason),
                                row.answered || row.rating ? Words.rating(row.rating) : "—"]
                        Text {
                            width: (parent.width) * page.cols[index]
                            height: parent.height
                            verticalAlignment: Text.AlignVCenter
                            text: modelData
                            color: Theme.text
                            font.pixelSize: Theme.smallSize * page.u * 0.85
                            wrapMode: Text.WordWrap
                            maximumLineCount: 2
                            elide: Text.ElideRight
                        }
                    }
                }
                MouseArea {
                    id: rowMouse
                    anchors.fill: parent
                    onClicked: admin.showDetails(row.index)
                }
            }
        }
        Text {
            objectName: "logEmpty"
            anchors.centerIn: list
            visible: admin.count === 0 && !admin.loading
            text: qsTr("这段时间没有符合条件的记录")
            color: Theme.textSoft
            font.pixelSize: Theme.bodySize * page.u
        }
    }

    ChoiceOverlay {
        objectName: "choiceOverlay"
        anchors.fill: parent
        u: page.u
        visible: page.choosing !== ""
        title: page.choosing === "period" ? qsTr("按什么时间段查看？")
               : page.choosing === "reason" ? qsTr("结束原因")
               : page.choosing === "category" ? qsTr("事项") : qsTr("由谁发起")
        options: page.choices(page.choosing)
        current: page.choosing === "period" ? admin.periodKind
                 : page.choosing === "reason" ? admin.reason
                 : page.choosing === "category" ? admin.category : admin.startedBy
        onDismissed: page.choosing = ""
        onChosen: function (value) {
            if (page.choosing === "period") admin.setPeriodKind(value)
            else if (page.choosing === "reason") admin.setReason(value)
            else if (page.choosing === "category") admin.setCategory(value)
            else admin.setStartedBy(value)
            page.choosing = ""
        }
    }

    SessionDetails {
        objectName: "sessionDetails"
        anchors.fill: parent
        u: page.u
        visible: admin.detail.sessionId !== undefined
    }
    onVisibleChanged: if (!visible) choosing = ""
}
