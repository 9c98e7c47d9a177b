pragma Singleton
import QtQuick

// Colours and sizes of every screen. Text colours are chosen for contrast on their
// background: white on the dark blue is 15:1, black on the yellow 13:1, white on the red 7.8:1.
// tests/test_contrast.py checks every pair a screen uses against WCAG: 7:1 for the main texts,
// 4.5:1 for all text, 3:1 for a control against what is around it. No screen uses a colour
// that is not here.
QtObject {
    readonly property color background: "#0B1F33"
    readonly property color panel: "#16324F"
    readonly property color text: "#FFFFFF"
    readonly property color textSoft: "#D8E4F0"      // 12:1 on background
    readonly property color primary: "#FFD21F"
    readonly property color primaryText: "#111111"
    readonly property color danger: "#A4161A"
    readonly property color dangerText: "#FFFFFF"
    readonly property color neutral: "#FFFFFF"
    readonly property color neutralText: "#111111"
    readonly property color signal: "#3DDC84"         // the frame flashes this when the interpreter appears
    readonly property color overlay: "#CC0B1F33"      // text pills over video
    readonly property color video: "#000000"          // behind the interpreter's picture
    readonly property color pass: "#1B6E3A"           // a device check row that works (with ✓)
    readonly property color meter: "#0B1624"          // the microphone meter's trough
    readonly property color chartSecond: "#FF8A7A"    // the second series of a chart, beside primary
    readonly property color gridLine: "#3A5673"       // chart grid lines (decoration, no meaning)

    // sizes in px at the reference 1280×800 screen; every screen multiplies them by its `u`
    readonly property real titleSize: 52
    readonly property real bodySize: 34
    readonly property real smallSize: 26
    readonly property real buttonText: 38
    readonly property real minTouch: 96               // at the reference screen; never below touchMin
    // the smallest touch target in px: 12 mm on the real screen (its physical DPI), never
    // under 64 px. Main.qml sets it from the window's screen.
    property real touchMin: 64
    readonly property real radius: 24
    readonly property real margin: 40
}
