"""Drive Qt's on-screen keyboard (Qt Virtual Keyboard) the way a finger does: key clicks go into
its InputEngine, so the real layouts and the real Pinyin input method turn them into text."""

from __future__ import annotations

from PySide6.QtCore import QMetaObject, QObject, Q_ARG, Q_RETURN_ARG, Qt
from PySide6.QtQml import QQmlComponent

DRIVER_QML = b"""
import QtQuick
import QtQuick.VirtualKeyboard
import QtQuick.VirtualKeyboard.Settings
QtObject {
    function click(key, text) { return InputContext.inputEngine.virtualKeyClick(key, text, 0) }
    function setLocale(name) { VirtualKeyboardSettings.locale = name }
    function locale() { return InputContext.locale }
    function preedit() { return InputContext.preeditText }
    function candidates() {
        var model = InputContext.inputEngine.wordCandidateListModel, out = []
        for (var i = 0; i < model.count; i++)
            out.push(model.dataAt(i, 0))
        return out.join("\n")
    }
    function choose(index) { InputContext.inputEngine.wordCandidateListModel.selectItem(index) }
    function panelActive() { return Qt.inputMethod.visible }
}
"""


class VirtualKeyboard:
    def __init__(self, qml_engine) -> None:
        component = QQmlComponent(qml_engine)
        component.setData(DRIVER_QML, "keyboard_driver.qml")
        self._obj = component.create()
        assert self._obj is not None, component.errorString()
        self._component = component

    def _call(self, name: str, *args):
        return QMetaObject.invokeMethod(self._obj, name, Q_RETURN_ARG("QVariant"),
                                        *[Q_ARG("QVariant", a) for a in args])

    def key(self, ch: str) -> None:
        """One key of the layout: a letter, a space, "\\n" (Enter) or "\\b" (Backspace)."""
        if ch == "\b":
            self._call("click", int(Qt.Key.Key_Backspace.value), "")
        elif ch == "\n":
            self._call("click", int(Qt.Key.Key_Return.value), "\n")
        elif ch == " ":
            self._call("click", int(Qt.Key.Key_Space.value), " ")
        elif "a" <= ch.lower() <= "z":
            self._call("click", int(Qt.Key.Key_A.value) + ord(ch.lower()) - ord("a"), ch)
        else:
            raise ValueError(f"no key for {ch!r} in this driver")

    def set_locale(self, name: str) -> None:
        self._call("setLocale", name)

    @property
    def locale(self) -> str:
        return self._call("locale")

    @property
    def preedit(self) -> str:
        return self._call("preedit")

    def candidates(self) -> list[str]:
        joined = self._call("candidates") or ""
        return joined.split("\n") if joined else []

    def choose(self, index: int) -> None:
        self._call("choose", index)

    @property
    def visible(self) -> bool:
        return bool(self._call("panelActive"))

    def close(self) -> None:
        if isinstance(self._obj, QObject):
            self._obj.deleteLater()
