import QtQuick

// Outside the service hours (config.yaml service_hours), in the big button's place on Welcome:
// the service is closed, when it opens again, and the other ways to reach it
// (service_hours.alternatives: a text hotline, an SMS number, a web address, …).
Rectangle {
    id: box
    property real u: 1
    color: Theme.panel
    radius: Theme.radius * u
    border.color: Theme.textSoft
    border.width: Math.max(2, 3 * u)
    clip: true
    implicitHeight: content.height + 2 * Theme.margin * u

    Accessible.role: Accessible.StaticText
    Accessible.name: title.text + " " + opening.text + " " + alternativesText()

    function dayName(isoWeekday) {
        switch (isoWeekday) {
        case 1: return qsTr("星期一")
        case 2: return qsTr("星期二")
        case 3: return qsTr("星期三")
        case 4: return qsTr("星期四")
        case 5: return qsTr("星期五")
        case 6: return qsTr("星期六")
        case 7: return qsTr("星期日")
        default: return ""
        }
    }
    function openingText() {
        if (kiosk.opensInDays < 0) return qsTr("还没有设定服务时间，请问工作人员。")
        if (kiosk.opensInDays === 0) return qsTr("今天 %1 再开始服务").arg(kiosk.opensAt)
        if (kiosk.opensInDays === 1) return qsTr("明天 %1 再开始服务").arg(kiosk.opensAt)
        return qsTr("%1（%2）%3 再开始服务").arg(dayName(kiosk.opensWeekday))
                                                 .arg(kiosk.opensDate).arg(kiosk.opensAt)
    }
    function kindName(kind) {
        switch (kind) {
        case "text_hotline": return qsTr("文字热线")
        case "sms": return qsTr("短信")
        case "web": return qsTr("网站")
        case "email": return qsTr("电子邮件")
        case "wechat": return qsTr("微信")
        default: return kind
        }
    }
    function alternativesText() {
        var parts = []
        for (var i = 0; i < kiosk.alternatives.length; ++i)
            parts.push(kindName(kiosk.alternatives[i].kind) + " " + kiosk.alternatives[i].value)
        return parts.join(", ")
    }

    Column {
        id: content
        anchors.centerIn: parent
        width: parent.width - 2 * Theme.margin * box.u
        spacing: 14 * box.u

        Row {
            anchors.horizontalCenter: parent.horizontalCenter
            spacing: 20 * box.u
            Pictogram {
                name: "closed"
                width: 72 * box.u
                height: width
                anchors.verticalCenter: parent.verticalCenter
            }
            Text {
                id: title
                objectName: "outOfHoursTitle"
                anchors.verticalCenter: parent.verticalCenter
                width: Math.min(implicitWidth, content.width - 92 * box.u)
                text: qsTr("现在不是手语翻译服务时间")
                color: Theme.text
                font.pixelSize: Theme.bodySize * box.u
                font.bold: true
                wrapMode: Text.WordWrap
            }
        }
        Text {
            id: opening
            objectName: "outOfHoursOpening"
            width: parent.width
            text: box.openingText()
            color: Theme.text
            font.pixelSize: Theme.bodySize * box.u
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        Text {
            visible: kiosk.alternatives.length > 0
            width: parent.width
            text: qsTr("这段时间您可以这样联系我们：")
            color: Theme.textSoft
            font.pixelSize: Theme.smallSize * box.u
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        Column {
            id: pills
            width: parent.width
            spacing: 10 * box.u
        Repeater {
            model: kiosk.alternatives
            Rectangle {
                required property var modelData
                required property int index
                objectName: "alternative" + index
                anchors.horizontalCenter: parent.horizontalCenter
                width: Math.min(content.width, row.implicitWidth + 40 * box.u)
                height: row.implicitHeight + 16 * box.u
                radius: height / 2
                color: Theme.background
                Accessible.role: Accessible.StaticText
                Accessible.name: kindLabel.text + " " + valueLabel.text
                Row {
                    id: row
                    anchors.centerIn: parent
                    spacing: 16 * box.u
                    Text {
                        id: kindLabel
                        anchors.verticalCenter: parent.verticalCenter
                        text: box.kindName(modelData.kind)
                        color: Theme.textSoft
                        font.pixelSize: Theme.smallSize * box.u
                    }
                    Text {
                        id: valueLabel
                        objectName: "alternativeValue" + index
                        anchors.verticalCenter: parent.verticalCenter
                        // the whole number or address, smaller if it must (never cut)
                        width: Math.min(implicitWidth, content.width - kindLabel.implicitWidth - 56 * box.u)
                        height: Theme.bodySize * box.u * 1.6  // the CJK font's line is ~1.5 × its size
                        text: modelData.value
                        color: Theme.text
                        font.pixelSize: Theme.bodySize * box.u
                        font.bold: true
                        fontSizeMode: Text.HorizontalFit
                        minimumPixelSize: Theme.smallSize * box.u * 0.7
                        verticalAlignment: Text.AlignVCenter
                    }
                }
            }
        }
        }
    }
}
