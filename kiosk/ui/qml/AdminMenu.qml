import QtQuick

// The admin menu: usage log, reports, device check, and leaving kiosk mode (confirmed first).
Item {
    id: page
    property real u: 1
    readonly property bool wide: width > height

    Column {
        id: header
        anchors { top: parent.top; left: parent.left; right: home.left; margins: Theme.margin * page.u }
        spacing: 8 * page.u
        Text {
            width: parent.width
            text: qsTr("管理")
            color: Theme.text
            font.pixelSize: Theme.titleSize * page.u
            font.bold: true
        }
        Text {
            width: parent.width
            text: kiosk.location
            color: Theme.textSoft
            font.pixelSize: Theme.smallSize * page.u
            wrapMode: Text.WordWrap
        }
    }
    BigButton {
        id: home
        objectName: "adminCloseButton"
        u: page.u
        anchors { top: parent.top; right: parent.right; margins: Theme.margin * page.u * 0.6 }
        baseColor: Theme.neutral
        textColor: Theme.neutralText
        textSize: Theme.smallSize * page.u
        icon: "home"
        iconSize: 40 * page.u
        text: qsTr("回到首页")
        onActivated: admin.close()
    }

    Grid {
        id: menu
        anchors { top: header.bottom; left: parent.left; right: parent.right; bottom: parent.bottom
                  margins: Theme.margin * page.u }
        columns: page.wide ? 2 : 1
        spacing: 24 * page.u
        readonly property real cellW: (width - (columns - 1) * spacing) / columns
        readonly property real cellH: Math.min(240 * page.u,
            (height - (4 / columns - 1) * spacing) / (4 / columns))

        BigButton {
            objectName: "adminLogButton"
            u: page.u; width: menu.cellW; height: menu.cellH
            baseColor: Theme.neutral; textColor: Theme.neutralText
            icon: "log"; iconSize: 88 * page.u
            text: qsTr("使用记录")
            onActivated: admin.openLog()
        }
        BigButton {
            objectName: "adminReportButton"
            u: page.u; width: menu.cellW; height: menu.cellH
            baseColor: Theme.neutral; textColor: Theme.neutralText
            icon: "report"; iconSize: 88 * page.u
            text: qsTr("统计报表")
            onActivated: admin.openReport()
        }
        BigButton {
            objectName: "adminDeviceCheckButton"
            u: page.u; width: menu.cellW; height: menu.cellH
            baseColor: Theme.neutral; textColor: Theme.neutralText
            icon: "device-check"; iconSize: 88 * page.u
            text: qsTr("设备检查")
            onActivated: admin.openDeviceCheck()
        }
        BigButton {
            objectName: "adminLeaveButton"
            u: page.u; width: menu.cellW; height: menu.cellH
            baseColor: Theme.danger; textColor: Theme.dangerText
            icon: "exit"; iconSize: 88 * page.u
            text: qsTr("退出自助模式")
            onActivated: admin.askLeaveKiosk()
        }
    }

    // leaving kiosk mode takes the counter's service away: ask first
    Rectangle {
        objectName: "leaveConfirm"
        anchors.fill: parent
        visible: admin.confirmLeave
        color: Theme.overlay
        MouseArea { anchors.fill: parent; Accessible.ignored: true }  // nothing behind it can be touched
        Rectangle {
            anchors.centerIn: parent
            width: Math.min(parent.width - 2 * Theme.margin * page.u, 900 * page.u)
            height: confirmColumn.implicitHeight + 2 * Theme.margin * page.u
            radius: Theme.radius * page.u
            color: Theme.panel
            border.color: Theme.textSoft
            border.width: 2
            Column {
                id: confirmColumn
                anchors { fill: parent; margins: Theme.margin * page.u }
                spacing: 28 * page.u
                Text {
                    width: parent.width
                    text: qsTr("确定退出自助模式吗？")
                    color: Theme.text
                    font.pixelSize: Theme.titleSize * page.u
                    font.bold: true
                    horizontalAlignment: Text.AlignHCenter
                    wrapMode: Text.WordWrap
                }
                Text {
                    width: parent.width
                    text: qsTr("程序将关闭，屏幕回到电脑桌面。关闭期间群众无法呼叫手语翻译员。")
                    color: Theme.textSoft
                    font.pixelSize: Theme.bodySize * page.u
                    horizontalAlignment: Text.AlignHCenter
                    wrapMode: Text.WordWrap
                }
                Row {
                    anchors.horizontalCenter: parent.horizontalCenter
                    spacing: 32 * page.u
                    BigButton {
                        objectName: "cancelLeaveButton"
                        u: page.u
                        baseColor: Theme.neutral; textColor: Theme.neutralText
                        icon: "back"; iconSize: 48 * page.u
                        text: qsTr("不退出")
                        onActivated: admin.cancelLeaveKiosk()
                    }
                    BigButton {
                        objectName: "confirmLeaveButton"
                        u: page.u
                        baseColor: Theme.danger; textColor: Theme.dangerText
                        icon: "exit"; iconSize: 48 * page.u
                        text: qsTr("退出")
                        onActivated: admin.leaveKiosk()
                    }
                }
            }
        }
    }
}
