"""Nothing is said only by sound: when the interpreter answers, the screen itself shows it (the
frame flashes on the Connecting screen as the video starts, and again when the picture is up)."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QCoreApplication

from kiosk.call.states import CallEvent, CallState


@pytest.fixture
def window(qtbot, demo_config):
    from kiosk.ui.app import KioskApp

    app = KioskApp(demo_config())
    app.window.resize(1280, 800)
    app.window.show()
    yield app
    app.shutdown()
    QCoreApplication.processEvents()


def _peak_opacity(qtbot, item, seconds: float) -> float:
    peak, end = 0.0, time.monotonic() + seconds
    while time.monotonic() < end:
        qtbot.wait(20)
        peak = max(peak, item.opacity())
    return peak


def test_answer_flashes_the_frame(qtbot, window):
    now = time.time()
    window.vm.apply_event(CallEvent(state=CallState.RINGING, session_id="s", requested_at=now))
    assert window.vm.screen == "connecting"
    flash = window.find("answeredFlash")
    assert _peak_opacity(qtbot, flash, 0.5) == 0.0  # ringing: nothing flashes yet
    window.vm.apply_event(CallEvent(state=CallState.CONNECTING, session_id="s", requested_at=now,
                                    answered_at=now + 1))
    assert _peak_opacity(qtbot, flash, 0.6) > 0.9
    window.vm.apply_event(CallEvent(state=CallState.CONNECTED, session_id="s", requested_at=now,
                                    answered_at=now + 1, connected_at=now + 2))
    assert window.vm.screen == "call"
    assert _peak_opacity(qtbot, window.find("answerFlash"), 0.6) > 0.9
