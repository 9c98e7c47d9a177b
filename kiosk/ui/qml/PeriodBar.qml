import QtQuick

// Which period is shown: ◀ the one before, the period (tap to pick day/week/month/year/all),
// the one after ▶ (never past today).
Row {
    id: bar
    property real u: 1
    property string name: "period"  // objectNames: <name>Prev, <name>Button, <name>Next
    signal pickKind()
    spacing: 8 * u

    function arrowEnabled(next) { return admin.periodKind !== "all" && (!next || admin.periodOffset < 0) }

    Rectangle {
        objectName: bar.name + "Prev"
        width: Math.max(Theme.touchMin, 80 * bar.u); height: width
        radius: 16 * bar.u
        color: prevMouse.pressed ? Qt.darker(Theme.panel, 1.3) : Theme.panel
        border.color: Theme.textSoft; border.width: 2
        enabled: bar.arrowEnabled(false)
        opacity: enabled ? 1 : 0.35
        Accessible.role: Accessible.Button
        Accessible.name: qsTr("上一段")
        Pictogram { anchors.centerIn: parent; name: "chevron"; width: 32 * bar.u; height: width }
        MouseArea { id: prevMouse; anchors.fill: parent; onClicked: admin.shiftPeriod(-1) }
    }
    FilterButton {
        objectName: bar.name + "Button"
        u: bar.u
        label: qsTr("时间")
        value: admin.periodKind === "all" ? qsTr("全部")
               : qsTr("%1 · %2").arg(Words.periodKind(admin.periodKind)).arg(admin.periodLabel)
        onActivated: bar.pickKind()
    }
    Rectangle {
        objectName: bar.name + "Next"
        width: Math.max(Theme.touchMin, 80 * bar.u); height: width
        radius: 16 * bar.u
        color: nextMouse.pressed ? Qt.darker(Theme.panel, 1.3) : Theme.panel
        border.color: Theme.textSoft; border.width: 2
        enabled: bar.arrowEnabled(true)
        opacity: enabled ? 1 : 0.35
        Accessible.role: Accessible.Button
        Accessible.name: qsTr("下一段")
        Pictogram { anchors.centerIn: parent; name: "chevron"; mirror: true; width: 32 * bar.u; height: width }
        MouseArea { id: nextMouse; anchors.fill: parent; onClicked: admin.shiftPeriod(1) }
    }
}
