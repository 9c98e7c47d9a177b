import QtQuick
import QtQuick.VirtualKeyboard
import QtQuick.VirtualKeyboard.Settings

// Real-time text beside the video: what the interpreter types (top, dark) and what the resident
// types (below, light), letter by letter both ways, with Qt's on-screen keyboard (Pinyin and
// English) under them. The video stays beside it; "text only" gives the text the screen.
// Nothing of the text stays when the call ends (kiosk.textCleared).
Rectangle {
    id: panel
    objectName: "textPanel"
    property real u: 1
    readonly property bool open: kiosk.textOpen
    // the keyboard's language follows the screen's; the language key switches it
    readonly property string keyboardLocale: Qt.uiLanguage.indexOf("en") === 0 ? "en_US" : "zh_CN"
    readonly property real gap: 16 * u
    readonly property alias keyboard: keyboard
    readonly property alias residentField: residentField
    color: Theme.background
    visible: open

    function applyKeyboardLocale() {
        VirtualKeyboardSettings.locale = panel.keyboardLocale
    }
    onKeyboardLocaleChanged: applyKeyboardLocale()

    Component.onCompleted: {
        VirtualKeyboardSettings.activeLocales = ["zh_CN", "en_US"]
        applyKeyboardLocale()
    }
    onOpenChanged: if (open) residentField.forceActiveFocus()

    Connections {
        target: kiosk
        function onTextChanged() {
            if (residentField.text !== kiosk.residentText)
                residentField.text = kiosk.residentText
        }
        function onTextCleared() {
            Qt.inputMethod.reset()  // a half-composed Pinyin syllable goes too
            residentField.clear()
            residentField.focus = false
            VirtualKeyboardSettings.userDataReset()
            kiosk.forgetTyping()
        }
    }

    // --- the mode buttons -------------------------------------------------------------------
    Row {
        id: header
        anchors { top: parent.top; right: parent.right; topMargin: panel.gap; rightMargin: panel.gap }
        spacing: panel.gap
        BigButton {
            objectName: "textOnlyButton"
            u: panel.u * 0.7
            baseColor: Theme.neutral
            textColor: Theme.neutralText
            icon: kiosk.textOnly ? "video" : "text-only"
            text: kiosk.textOnly ? qsTr("显示视频") : qsTr("只用文字")
            onActivated: kiosk.setTextOnly(!kiosk.textOnly)
        }
        BigButton {
            objectName: "closeTextButton"
            u: panel.u * 0.7
            baseColor: Theme.neutral
            textColor: Theme.neutralText
            icon: "hide-text"
            text: qsTr("收起文字")
            onActivated: kiosk.closeText()
        }
    }

    // --- the interpreter's text -------------------------------------------------------------
    // beside the buttons when it fits there, else under them
    readonly property bool labelBeside: interpreterLabel.implicitWidth <= width - header.width - 3 * gap
    Text {
        id: interpreterLabel
        anchors { left: parent.left; leftMargin: panel.gap; top: panel.labelBeside ? parent.top : header.bottom
                  topMargin: panel.gap }
        height: panel.labelBeside ? header.height : implicitHeight
        width: panel.labelBeside ? parent.width - header.width - 3 * panel.gap : parent.width - 2 * panel.gap
        verticalAlignment: Text.AlignVCenter
        text: qsTr("翻译员写的：")
        color: Theme.text
        font.pixelSize: Theme.bodySize * panel.u
        font.bold: true
        elide: Text.ElideRight
    }
    Rectangle {
        id: interpreterBox
        anchors { left: parent.left; right: parent.right; top: interpreterLabel.bottom; margins: panel.gap }
        height: (keyboard.y - interpreterLabel.y - interpreterLabel.height - residentLabel.height - 4 * panel.gap) * 0.6
        color: Theme.panel
        border.color: Theme.text
        border.width: Math.max(2, 3 * panel.u)
        radius: 12 * panel.u
        Accessible.role: Accessible.StaticText
        Accessible.name: interpreterLabel.text + " " + interpreterText.text
        Flickable {
            id: interpreterFlick
            // whole lines: the oldest line shown is never cut in half
            readonly property real line: interpreterText.lineCount > 0
                                         ? interpreterText.contentHeight / interpreterText.lineCount
                                         : interpreterText.font.pixelSize * 1.5
            anchors { left: parent.left; right: parent.right; top: parent.top; margins: 14 * panel.u }
            height: Math.max(line, Math.floor((parent.height - 28 * panel.u) / line + 0.1) * line)
            clip: true
            contentWidth: width
            contentHeight: interpreterText.implicitHeight
            // the newest line is always in view
            contentY: Math.max(0, contentHeight - height)
            Text {
                id: interpreterText
                objectName: "interpreterText"
                width: interpreterFlick.width
                text: kiosk.interpreterText
                color: Theme.text
                font.pixelSize: Theme.bodySize * 1.15 * panel.u
                wrapMode: Text.Wrap
                textFormat: Text.PlainText
            }
        }
    }

    // --- the resident's own text ------------------------------------------------------------
    Text {
        id: residentLabel
        anchors { left: parent.left; top: interpreterBox.bottom; leftMargin: panel.gap; topMargin: panel.gap }
        width: parent.width - 2 * panel.gap
        text: qsTr("您写的（翻译员能看到每个字）：")
        color: Theme.text
        font.pixelSize: Theme.smallSize * panel.u
        font.bold: true
        elide: Text.ElideRight
    }
    Rectangle {
        id: residentBox
        anchors { left: parent.left; right: parent.right; top: residentLabel.bottom; bottom: keyboard.top
                  margins: panel.gap }
        color: Theme.neutral
        border.color: residentField.activeFocus ? Theme.primary : Theme.text
        border.width: Math.max(3, 5 * panel.u)
        radius: 12 * panel.u
        Flickable {
            id: residentFlick
            readonly property real line: residentField.lineCount > 0
                                         ? residentField.contentHeight / residentField.lineCount
                                         : residentField.font.pixelSize * 1.5
            anchors { left: parent.left; right: parent.right; top: parent.top; margins: 14 * panel.u }
            height: Math.max(line, Math.floor((parent.height - 28 * panel.u) / line + 0.1) * line)
            clip: true
            contentWidth: width
            contentHeight: residentField.implicitHeight
            contentY: Math.max(0, contentHeight - height)
            TextEdit {
                id: residentField
                objectName: "residentText"
                width: residentFlick.width
                color: Theme.neutralText
                font.pixelSize: Theme.bodySize * 1.15 * panel.u
                wrapMode: TextEdit.Wrap
                textFormat: TextEdit.PlainText
                inputMethodHints: Qt.ImhNoPredictiveText
                Accessible.role: Accessible.EditableText
                Accessible.name: residentLabel.text
                onTextChanged: if (text !== kiosk.residentText) kiosk.typeText(text)
                // T.140 adds and erases at the end: the caret stays there
                onCursorPositionChanged: if (cursorPosition !== length && !inputMethodComposing)
                                             cursorPosition = length
            }
        }
        MouseArea {
            anchors.fill: parent
            // a larger place to tap for the field it holds, which is named for screen readers
            Accessible.ignored: true
            onPressed: (mouse) => { residentField.forceActiveFocus(); Qt.inputMethod.show(); mouse.accepted = false }
        }
    }

    // --- the on-screen keyboard -------------------------------------------------------------
    InputPanel {
        id: keyboard
        objectName: "keyboard"
        // never so wide that it is too tall: the text keeps most of the height
        width: Math.min(parent.width, parent.height * 1.1)
        anchors { horizontalCenter: parent.horizontalCenter; bottom: parent.bottom }
    }
    // Qt's keyboard sizes its keys and letters by its width against its style's design (2560
    // px wide, 800 tall): in this panel the letters would be 13–17 px and the key rows and the
    // Pinyin candidates under the touch minimum. Its style is given a narrower design (letters
    // at least half the design's size), a height that gives each of the 4 key rows the touch
    // minimum, and a candidate row as tall as a touch target.
    readonly property real keyScale: Math.max(0.5, keyboard.width / 2560)
    readonly property real keyRowsHeight: Math.max(keyboard.width * 800 / 2560, 4.6 * Theme.touchMin)
    Binding {
        target: keyboard.keyboard.style
        when: keyboard.keyboard.style !== null
        property: "keyboardDesignWidth"
        value: keyboard.width / panel.keyScale
    }
    Binding {
        target: keyboard.keyboard.style
        when: keyboard.keyboard.style !== null
        property: "keyboardDesignHeight"
        value: panel.keyRowsHeight / panel.keyScale
    }
    Binding {
        target: keyboard.keyboard.style
        when: keyboard.keyboard.style !== null
        property: "selectionListHeight"
        value: Math.max(Theme.touchMin, 85 * panel.keyScale)
    }
}
