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
        case 1: return qsTr("Monday")
        case 2: return qsTr("Tuesday")
        case 3: return qsTr("Wednesday")
        case 4: return qsTr("Thursday")
        case 5: return qsTr("Friday")
        case 6: return qsTr("Saturday")
        case 7: return qsTr("Sunday")
        default: return ""
        }
    }
    function openingText() {
        if (kiosk.opensInDays < 0) return qsTr("No service hours are set. Please ask the staff.")
        if (kiosk.opensInDays === 0) return qsTr("Opens again today at %1").arg(kiosk.opensAt)
        if (kiosk.opensInDays === 1) return qsTr("Opens again tomorrow at %1").arg(kiosk.opensAt)
        return qsTr("Opens again on %1 (%2) at %3").arg(dayName(kiosk.opensWeekday))
                                                 .arg(kiosk.opensDate).arg(kiosk.opensAt)
    }
    function kindName(kind) {
        switch (kind) {
        case "text_hotline": return qsTr("Text hotline")
        case "sms": return qsTr("SMS")
        case "web": return qsTr("Website")
        case "email": return qsTr("E-mail")
        case "wechat": return qsTr("WeChat")
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
                text: qsTr("The interpreting service is closed now")
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
            text: qsTr("Until then you can reach us by:")
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
                        height: Theme.bodySize * box.u * 1.4
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
