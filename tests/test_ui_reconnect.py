"""The kiosk window (offscreen) while a call loses its picture and gets it back by itself."""

from __future__ import annotations

import pytest
from PySide6.QtQuick import QQuickItem

from tests.kiosk_window import running_kiosk
from kiosk.ui.app import KioskApp

pytestmark = pytest.mark.slow
# The screenshots of this state (docs/screens/call-reconnecting-*.png) and their layout checks
# come from scripts/render_screens.py (tests/test_screens.py).


def visible(app: KioskApp, name: str) -> bool:
    item = app.find(name)
    assert isinstance(item, QQuickItem), f"no item {name!r}"
    return item.isVisible()


@pytest.fixture
def kiosk_app(qtbot, demo_config):
    with running_kiosk(demo_config()) as app:
        yield app


def test_the_call_screen_says_it_is_reconnecting_and_clears_when_the_picture_is_back(qtbot, kiosk_app):
    app = kiosk_app
    qtbot.waitUntil(lambda: app.engine.signaling.connected, timeout=10000)
    app.vm.startCall()
    qtbot.waitUntil(lambda: app.vm.screen == "call", timeout=30000)
    qtbot.waitUntil(lambda: app.bridge.remote.shown >= 10, timeout=15000)
    assert not visible(app, "reconnectingBanner")
    sim = app.services.interpreters[0]

    async def lose_media() -> None:  # the interpreter's side drops its connection without a word
        pc, sim._pc = sim._pc, None
        await pc.close()

    app.services_thread.call(lose_media())
    qtbot.waitUntil(lambda: app.vm.reconnecting, timeout=10000)
    qtbot.waitUntil(lambda: visible(app, "reconnectingBanner"), timeout=2000)
    assert visible(app, "reconnectingTitle") and visible(app, "reconnectingDots")
    assert visible(app, "hangUpButton")  # the resident can still end the call
    assert app.vm.qualityLevel == "poor"  # the bars do not go on saying the link is good
    assert app.vm.screen == "call"
    assert not app.window.grabWindow().isNull()

    qtbot.waitUntil(lambda: not app.vm.reconnecting, timeout=30000)
    qtbot.waitUntil(lambda: not visible(app, "reconnectingBanner"), timeout=2000)
    assert app.vm.screen == "call" and app.engine.current.interpreter_id == "sim-interpreter-1"
    shown = app.bridge.remote.shown
    qtbot.waitUntil(lambda: app.bridge.remote.shown >= shown + 10, timeout=15000)
    assert app.qml_warnings == []
