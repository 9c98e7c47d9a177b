import QtQuick

// The admin PIN: a large digit pad, dots for the digits typed, and what went wrong in words.
// Five wrong PINs lock the pad for a minute, then longer (the lock outlives a restart).
Item {
    id: page
    property real u: 1
    readonly property bool wide: width > height
    readonly property bool locked: admin.lockedSeconds > 0
    readonly property bool noPin: admin.page === "nopin"

    Row {
        id: heading
        anchors { top: parent.top; left: parent.left; margins: Theme.margin * page.u }
        spacing: 20 * page.u
        Pictogram {
            name: "lock"
            width: 64 * page.u
            height: width
            anchors.verticalCenter: parent.verticalCenter
        }
        Text {
            anchors.verticalCenter: parent.verticalCenter
            text: qsTr("管理员")
            color: Theme.text
            font.pixelSize: Theme.titleSize * page.u
            font.bold: true
        }
    }
    BigButton {
        id: back
        objectName: "pinCancelButton"
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

    // --- no PIN set yet: how to set one
    Column {
        objectName: "noPinNotice"
        visible: page.noPin
        anchors.centerIn: parent
        width: Math.min(parent.width - 2 * Theme.margin * page.u, 900 * page.u)
        spacing: 24 * page.u
        Text {
            width: parent.width
            text: qsTr("还没有设置管理密码")
            color: Theme.text
            font.pixelSize: Theme.titleSize * page.u
            font.bold: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        Text {
            width: parent.width
            text: qsTr("管理功能需要先设置密码（4 到 12 位数字）。请技术人员在这台终端的命令行运行：")
            color: Theme.textSoft
            font.pixelSize: Theme.bodySize * page.u
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        Rectangle {
            anchors.horizontalCenter: parent.horizontalCenter
            width: command.implicitWidth + 64 * page.u
            height: command.implicitHeight + 32 * page.u
            radius: 12 * page.u
            color: Theme.panel
            border.color: Theme.textSoft
            border.width: 2
            Text {
                id: command
                anchors.centerIn: parent
                text: "kiosk set-pin"  // i18n-exempt: a command to type, the same in every language
                color: Theme.text
                font.family: "monospace"
                font.pixelSize: Theme.bodySize * page.u
                font.bold: true
            }
        }
    }

    // --- the pad
    Grid {
        visible: !page.noPin
        anchors { centerIn: parent; verticalCenterOffset: (heading.height + Theme.margin * page.u) / 2 }
        columns: page.wide ? 2 : 1
        spacing: (page.wide ? 80 : 40) * page.u
        verticalItemAlignment: Grid.AlignVCenter
        horizontalItemAlignment: Grid.AlignHCenter

        Column {
            id: info
            width: page.wide ? 440 * page.u : page.width - 2 * Theme.margin * page.u
            spacing: 28 * page.u
            Text {
                width: parent.width
                text: qsTr("请输入管理密码")
                color: Theme.text
                font.pixelSize: Theme.bodySize * page.u
                font.bold: true
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.WordWrap
            }
            Row {
                objectName: "pinDots"
                anchors.horizontalCenter: parent.horizontalCenter
                spacing: 14 * page.u
                height: 30 * page.u
                Repeater {
                    model: Math.max(4, admin.pinLength)
                    Rectangle {
                        width: 26 * page.u
                        height: width
                        radius: width / 2
                        color: index < admin.pinLength ? Theme.primary : "transparent"
                        border.color: Theme.textSoft
                        border.width: 3
                    }
                }
            }
            Text {
                objectName: "pinMessage"
                width: parent.width
                height: Math.max(implicitHeight, 3 * Theme.smallSize * page.u)
                color: admin.pinError === "" || admin.pinBusy ? Theme.textSoft : Theme.primary
                font.pixelSize: Theme.smallSize * page.u
                font.bold: admin.pinError !== ""
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.WordWrap
                text: {
                    if (admin.pinBusy) return qsTr("正在验证……")
                    switch (admin.pinError) {
                    case "wrong": return qsTr("密码不对。再错 %1 次，密码键盘将暂时锁定。").arg(admin.triesLeft)
                    case "locked": return qsTr("错误次数太多，请 %1 后再试。").arg(Words.clock(admin.lockedSeconds))
                    case "short": return qsTr("密码至少 4 位数字。")
                    case "failed": return qsTr("暂时无法验证密码，请再试一次。")
                    default: return ""
                    }
                }
            }
        }

        Grid {
            id: keys
            columns: 3
            spacing: 16 * page.u
            readonly property real keyH: Math.max(Theme.touchMin, Math.min((page.wide ? 120 : 150) * page.u,
                ((page.wide ? page.height - heading.height - 3 * Theme.margin * page.u
                            : page.height * 0.5) - 3 * spacing) / 4))
            readonly property real keyW: Math.max(keyH, 170 * page.u)
            opacity: page.locked || admin.pinBusy ? 0.45 : 1
            Repeater {
                model: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "back", "0", "ok"]
                BigButton {
                    objectName: modelData === "back" ? "pinBackspace" : modelData === "ok" ? "pinOk" : "pinKey" + modelData
                    u: page.u
                    width: keys.keyW
                    height: keys.keyH
                    enabled: !page.locked && !admin.pinBusy
                    baseColor: modelData === "ok" ? Theme.primary : Theme.neutral
                    textColor: modelData === "ok" ? Theme.primaryText : Theme.neutralText
                    textSize: (modelData.length === 1 ? Theme.titleSize : Theme.smallSize) * page.u
                    icon: modelData === "back" ? "backspace" : modelData === "ok" ? "ok" : ""
                    wordsOnly: modelData.length === 1
                    iconSize: 40 * page.u
                    text: modelData === "back" ? "" : modelData === "ok" ? qsTr("确定") : modelData
                    accessibleName: modelData === "back" ? qsTr("删除") : text
                    onActivated: {
                        if (modelData === "back") admin.pinBackspace()
                        else if (modelData === "ok") admin.pinSubmit()
                        else admin.pinDigit(modelData)
                    }
                }
            }
        }
    }
}
