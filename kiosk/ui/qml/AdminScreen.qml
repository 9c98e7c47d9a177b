import QtQuick

// The admin area: the PIN pad first, then the menu, the usage log and the reports. What shows
// is decided by the admin view-model (`admin.page`).
Rectangle {
    id: screen
    property real u: 1
    color: Theme.background
    Accessible.role: Accessible.Pane
    Accessible.name: qsTr("管理")

    PinPad {
        objectName: "pinPage"
        anchors.fill: parent
        u: screen.u
        visible: admin.page === "pin" || admin.page === "nopin"
    }
    AdminMenu {
        objectName: "adminMenu"
        anchors.fill: parent
        u: screen.u
        visible: admin.page === "menu"
    }
    UsageLog {
        objectName: "usageLog"
        anchors.fill: parent
        u: screen.u
        visible: admin.page === "log"
    }
    ReportPage {
        objectName: "reportPage"
        anchors.fill: parent
        u: screen.u
        visible: admin.page === "report"
    }
}
