import QtQuick

// One tap: the biggest thing on the screen is the button that calls an interpreter.
Rectangle {
    id: screen
    property real u: 1
    color: Theme.background
    Accessible.role: Accessible.Pane
    Accessible.name: title.text

    // top right: the language switch, and the counter staff's own button
    Row {
        id: topBar
        anchors { top: parent.top; right: parent.right; margins: 20 * screen.u }
        spacing: 16 * screen.u
        LanguageSwitch {
            objectName: "languageSwitch"
            u: screen.u
        }
        // for counter staff: small and quiet beside the resident's button; it asks which
        // matter the session is about, the resident's own tap never asks anything
        BigButton {
            objectName: "staffButton"
            u: screen.u
            height: Math.max(Theme.touchMin, 76 * screen.u)
            baseColor: Theme.panel
            textColor: Theme.text
            borderColor: Theme.textSoft
            textSize: Theme.smallSize * screen.u
            icon: "staff"
            iconSize: 44 * screen.u
            text: qsTr("工作人员")
            onActivated: kiosk.openStaffPanel()
        }
    }

    Column {
        id: header
        anchors { top: topBar.bottom; left: parent.left; right: parent.right
                  leftMargin: Theme.margin * screen.u; rightMargin: Theme.margin * screen.u; topMargin: 8 * screen.u }
        spacing: 8 * screen.u
        Text {
            id: title
            width: parent.width
            text: qsTr("手语翻译服务")
            color: Theme.text
            font.pixelSize: Theme.titleSize * screen.u
            font.bold: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        Text {
            objectName: "locationText"
            width: parent.width
            text: kiosk.location  // i18n-exempt: the hall's name, from config.yaml
            color: Theme.textSoft
            font.pixelSize: Theme.smallSize * screen.u
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
    }

    // the space between the title and the words below: the call button sits in its middle
    Item {
        id: middle
        anchors { top: header.bottom; bottom: deviceNote.visible ? deviceNote.top : hint.top
                  left: parent.left; right: parent.right; margins: Theme.margin * screen.u * 0.75 }
    }

    BigButton {
        id: start
        objectName: "startCallButton"
        u: screen.u
        vertical: true
        // the button and the moving pictures form one group, centred in the free space: side
        // by side in landscape, the pictures below the button in portrait
        readonly property bool portrait: screen.height > screen.width
        readonly property bool withHow: how.visible
        readonly property real howRoom: !withHow ? 0 : portrait ? 440 * screen.u : 330 * screen.u
        readonly property real gap: withHow ? 32 * screen.u : 0
        width: Math.min(middle.width - (portrait ? 0 : howRoom + gap), (portrait ? 1000 : 760) * screen.u)
        height: Math.max(Theme.touchMin, Math.min(middle.height - (portrait ? howRoom + gap : 0),
                                                  (portrait ? 760 : 440) * screen.u))
        x: portrait ? middle.x + (middle.width - width) / 2
                    : middle.x + (middle.width - (howRoom + gap + width)) / 2 + howRoom + gap
        y: portrait ? middle.y + (middle.height - (height + gap + howRoom)) / 2
                    : middle.y + (middle.height - height) / 2
        icon: "call-interpreter"
        iconSize: Math.min(220 * screen.u, height * 0.5)
        textSize: 56 * screen.u
        text: qsTr("点这里\n联系手语翻译员")
        onActivated: kiosk.startCall()
        visible: !kiosk.outOfHours
    }

    // outside the service hours: when it opens again and the other ways, in the button's place
    OutOfHours {
        objectName: "outOfHours"
        u: screen.u
        visible: kiosk.outOfHours
        // centred in the space between the title and the bottom (the hint is hidden then)
        readonly property real room: (deviceNote.visible ? deviceNote.y : hint.y + hint.height) - middle.y
        x: Theme.margin * screen.u
        y: middle.y + (room - height) / 2
        width: parent.width - 2 * Theme.margin * screen.u
        height: Math.min(implicitHeight, room)
    }

    // how it works, in moving pictures: beside the button in landscape, below it in portrait
    HowItWorks {
        id: how
        objectName: "howItWorks"
        u: screen.u
        visible: !kiosk.outOfHours
        x: start.portrait ? start.x : start.x - start.gap - start.howRoom
        y: start.portrait ? start.y + start.height + start.gap : start.y
        width: start.portrait ? start.width : start.howRoom
        height: start.portrait ? start.howRoom : start.height
    }

    Text {
        id: hint
        anchors { bottom: offline.top; left: parent.left; right: parent.right; margins: Theme.margin * screen.u }
        objectName: "welcomeHint"
        text: qsTr("点一下，手语翻译员就会出现在屏幕上。")
        visible: !kiosk.outOfHours  // out of hours its place is OutOfHours'
        color: Theme.textSoft
        font.pixelSize: Theme.bodySize * screen.u
        horizontalAlignment: Text.AlignHCenter
        wrapMode: Text.WordWrap
    }

    // a device is missing: say so before anyone taps (the technical detail is in the log)
    Rectangle {
        id: deviceNote
        objectName: "deviceNotice"
        visible: kiosk.missingDevices.length > 0
        anchors { bottom: hint.top; horizontalCenter: parent.horizontalCenter; bottomMargin: 8 * screen.u }
        width: Math.min(parent.width - 2 * Theme.margin * screen.u, deviceText.implicitWidth + 48 * screen.u)
        height: visible ? deviceText.implicitHeight + 16 * screen.u : 0
        radius: height / 2
        color: Theme.panel
        Text {
            id: deviceText
            anchors.centerIn: parent
            width: Math.min(implicitWidth, screen.width - 2 * Theme.margin * screen.u - 48 * screen.u)
            color: Theme.text
            font.pixelSize: Theme.smallSize * screen.u
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            text: {
                var m = kiosk.missingDevices
                if (m.indexOf("camera") >= 0) return qsTr("摄像头暂时不能用，翻译员看不到您。请告诉工作人员。")
                if (m.indexOf("microphone") >= 0) return qsTr("麦克风暂时不能用，翻译员听不到工作人员。请告诉工作人员。")
                return qsTr("扬声器暂时不能用，听不到翻译员的声音。请告诉工作人员。")
            }
        }
    }

    // the admin area: hold the top-left corner for three seconds (nothing shows there)
    MouseArea {
        objectName: "adminCorner"  // a hidden gesture, no control: Accessible.ignored below
        anchors { top: parent.top; left: parent.left }
        width: Math.max(96, 120 * screen.u)
        height: width
        pressAndHoldInterval: 3000
        onPressAndHold: kiosk.openAdmin()
        Accessible.ignored: true
    }

    // the link to the interpreting centre is down: say so before anyone taps
    Rectangle {
        id: offline
        objectName: "offlineBanner"
        anchors { bottom: parent.bottom; horizontalCenter: parent.horizontalCenter; bottomMargin: 16 * screen.u }
        visible: !kiosk.online
        height: visible ? offlineText.implicitHeight + 20 * screen.u : 0
        width: Math.min(parent.width - 2 * Theme.margin * screen.u, offlineText.implicitWidth + 48 * screen.u)
        radius: height / 2
        color: Theme.panel
        Text {
            id: offlineText
            anchors.centerIn: parent
            width: parent.width - 32 * screen.u
            text: qsTr("正在连接翻译中心……")
            color: Theme.text
            font.pixelSize: Theme.smallSize * screen.u
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
    }
}
