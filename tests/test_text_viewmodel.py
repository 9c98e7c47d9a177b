"""The real-time text on the kiosk's view-model: the resident's text area becomes T.140 commands
(additions and erasures at the end), the interpreter's text is shown during the call only, and
everything is gone when the call ends."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QStandardPaths

from kiosk.call.states import CallEvent, CallState, EndReason
from kiosk.ui.viewmodel import KioskViewModel, pinyin_user_dictionary

S = CallState


class Commands:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, name):
        return lambda *args: self.calls.append((name, *args))


def event(state, **kw) -> CallEvent:
    now = time.time()
    return CallEvent(state=state, session_id="s-1", requested_at=now - 30, at=now, **kw)


@pytest.fixture
def vm(qtbot):
    commands = Commands()
    model = KioskViewModel(commands, location="hall 1")
    model.commands = commands
    return model


def in_call(vm) -> None:
    now = time.time()
    vm.apply_event(event(S.CONNECTING, answered_at=now - 5))
    vm.apply_event(event(S.CONNECTED, answered_at=now - 5, connected_at=now - 4))


def test_typing_becomes_additions_and_erasures_at_the_end(vm):
    in_call(vm)
    vm.openText()
    assert vm.textOpen and not vm.textOnly
    for text in ("h", "he", "hel", "help", "hel", "help me", "help you", "你好"):
        vm.typeText(text)
    assert vm.commands.calls == [
        ("send_text", "h"), ("send_text", "e"), ("send_text", "l"), ("send_text", "p"),
        ("erase", 1), ("send_text", "p me"),
        ("erase", 2), ("send_text", "you"),  # a change back in the text: erased to it, typed again
        ("erase", 8), ("send_text", "你好"),
    ]
    assert vm.residentText == "你好"
    vm.typeText("你好")  # no change, nothing sent
    assert len(vm.commands.calls) == 10


def test_text_only_keeps_the_call_and_hiding_keeps_the_text(vm):
    in_call(vm)
    vm.setTextOnly(True)
    assert vm.textOpen and vm.textOnly and vm.screen == "call"
    vm.apply_remote_text("您好")
    vm.closeText()
    assert not vm.textOpen and not vm.textOnly
    assert vm.interpreterText == "您好"  # hidden, not gone: the call goes on
    assert all(name not in ("hang_up", "cancel") for name, *_ in vm.commands.calls)


def test_everything_is_cleared_when_the_call_ends(vm, qtbot):
    in_call(vm)
    vm.openText()
    vm.typeText("my id")
    vm.apply_remote_text("OK")
    with qtbot.waitSignal(vm.textCleared, timeout=1000):
        vm.apply_event(event(S.ENDED, reason=EndReason.COMPLETED, answered_at=time.time() - 5,
                             ended_at=time.time()))
    assert (vm.textOpen, vm.residentText, vm.interpreterText) == (False, "", "")
    # a message still in flight from the ended call does not reach the screen
    vm.apply_remote_text("late")
    assert vm.interpreterText == ""
    # and nothing can be typed outside a call
    calls = len(vm.commands.calls)
    vm.openText()
    vm.typeText("x")
    assert not vm.textOpen and len(vm.commands.calls) == calls


def test_the_keyboards_user_dictionary_goes_after_the_call(vm):
    QStandardPaths.setTestModeEnabled(True)  # Qt's test folder, not this user's configuration
    try:
        path = pinyin_user_dictionary()
        assert path.name == "usr_dict.dat" and path.parent.name == "pinyin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes("你好".encode("utf-16-le"))
        vm.forgetTyping()
        assert not path.exists()
    finally:
        QStandardPaths.setTestModeEnabled(False)
