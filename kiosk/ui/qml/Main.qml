import QtQuick
import QtQuick.Window

// The kiosk window. Which screen shows is decided by the view-model (`kiosk.screen`);
// every screen exists from the start so the video outputs are wired once.
Window {
    id: root
    width: 1280
    height: 800
    visible: false
    color: Theme.background
    title: qsTr("手语翻译服务")

    // 12 mm on this screen (Screen.pixelDensity: physical pixels per mm), never under 64 px
    Binding {
        target: Theme
        property: "touchMin"
        value: Math.max(64, Math.ceil(12 * root.Screen.pixelDensity))
    }

    // one unit of size: 1 at 1280×800, larger on bigger screens, never tiny
    readonly property real u: Math.max(0.6, Math.min(width / 1280, height / 800))

    WelcomeScreen {
        objectName: "welcomeScreen"
        anchors.fill: parent
        u: root.u
        visible: kiosk.screen === "welcome"
    }
    ConnectingScreen {
        objectName: "connectingScreen"
        anchors.fill: parent
        u: root.u
        visible: kiosk.screen === "connecting"
    }
    CallScreen {
        objectName: "callScreen"
        anchors.fill: parent
        u: root.u
        visible: kiosk.screen === "call"
    }
    RatingScreen {
        objectName: "ratingScreen"
        anchors.fill: parent
        u: root.u
        visible: kiosk.screen === "rating"
    }
    DeviceCheckScreen {
        objectName: "deviceCheckScreen"
        anchors.fill: parent
        u: root.u
        visible: kiosk.screen === "devicecheck"
    }
    StaffScreen {
        objectName: "staffScreen"
        anchors.fill: parent
        u: root.u
        visible: kiosk.screen === "staff"
    }
    AdminScreen {
        objectName: "adminScreen"
        anchors.fill: parent
        u: root.u
        visible: kiosk.screen === "admin"
    }
    NoticeScreen {
        objectName: "noticeScreen"
        anchors.fill: parent
        u: root.u
        visible: kiosk.screen === "notice"
    }
}
