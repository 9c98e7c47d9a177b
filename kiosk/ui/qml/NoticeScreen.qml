import QtQuick

// A call that could not happen or was cut off: what happened and what to do, in plain words.
Rectangle {
    id: screen
    property real u: 1
    color: Theme.background
    Accessible.role: Accessible.AlertMessage
    Accessible.name: title.text + " " + advice.text

    readonly property string reason: kiosk.endReason

    Column {
        anchors.centerIn: parent
        anchors.verticalCenterOffset: -ok.height / 2
        width: parent.width - 2 * Theme.margin * screen.u
        spacing: 28 * screen.u

        Pictogram {
            name: screen.reason === "out_of_hours" ? "closed" : "warning"
            width: 160 * screen.u
            height: width
            anchors.horizontalCenter: parent.horizontalCenter
        }
        Text {
            id: title
            objectName: "noticeTitle"
            width: parent.width
            color: Theme.text
            font.pixelSize: Theme.titleSize * screen.u
            font.bold: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            text: {
                switch (screen.reason) {
                case "no_interpreter": return qsTr("现在没有空闲的手语翻译员")
                case "out_of_hours": return qsTr("现在不是手语翻译服务时间")
                case "declined": return qsTr("手语翻译员暂时无法接听")
                case "dispatch_unreachable": return qsTr("暂时联系不上翻译中心")
                case "network_lost": return qsTr("视频连接断开了")
                case "device_error": return qsTr("摄像头或麦克风出了问题")
                default: return qsTr("通话没有接通")
                }
            }
        }
        Text {
            id: advice
            width: parent.width
            color: Theme.textSoft
            font.pixelSize: Theme.bodySize * screen.u
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            text: {
                switch (screen.reason) {
                case "out_of_hours":
                    return kiosk.nextOpening ? qsTr("下次服务时间：%1。请向工作人员求助。").arg(kiosk.nextOpening)
                                             : qsTr("请向工作人员求助。")
                case "device_error": return qsTr("请告诉工作人员。")
                case "network_lost": return qsTr("请再点一次，重新联系翻译员。")
                default: return qsTr("请稍后再试，或请工作人员帮忙。")
                }
            }
        }
    }

    Column {
        anchors { bottom: parent.bottom; horizontalCenter: parent.horizontalCenter; bottomMargin: Theme.margin * screen.u }
        spacing: 12 * screen.u
        BigButton {
            id: ok
            objectName: "dismissNoticeButton"
            u: screen.u
            anchors.horizontalCenter: parent.horizontalCenter
            width: Math.min(screen.width - 2 * Theme.margin * screen.u, 400 * screen.u)
            baseColor: Theme.neutral
            textColor: Theme.neutralText
            icon: "ok"
            text: qsTr("知道了")
            onActivated: kiosk.dismissNotice()
        }
        Text {
            anchors.horizontalCenter: parent.horizontalCenter
            text: qsTr("%1 秒后回到首页").arg(kiosk.countdown)
            color: Theme.textSoft
            font.pixelSize: Theme.smallSize * screen.u
        }
    }
}
