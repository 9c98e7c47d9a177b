"""The whole story in the real QML window (offscreen): tap, interpreter, hang up, rate, log."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject, QSize, Slot

from kiosk.call.states import CallState
from kiosk.sessions import SessionStore
from tests.kiosk_window import running_kiosk, tap
from kiosk.ui.app import KioskApp

S = CallState
pytestmark = pytest.mark.slow


class Recorder(QObject):
    """Receives the bridge's events like the view-model does, noting the receiving thread."""

    def __init__(self) -> None:
        super().__init__()
        self.states: list[CallState] = []
        self.on_gui_thread: list[bool] = []

    @Slot(object)
    def on_event(self, event) -> None:
        self.states.append(event.state)
        self.on_gui_thread.append(threading.current_thread() is threading.main_thread())




@pytest.fixture
def kiosk_app(qtbot, demo_config):
    with running_kiosk(demo_config()) as app:
        yield app


def test_tap_call_hang_up_rate_and_record(qtbot, kiosk_app):
    app = kiosk_app
    recorder = Recorder()
    app.bridge.event.connect(recorder.on_event)
    assert app.qml_warnings == []
    qtbot.waitUntil(lambda: app.engine.signaling.connected, timeout=10000)
    assert app.vm.screen == "welcome"

    tap(app, "startCallButton")
    qtbot.waitUntil(lambda: app.vm.screen == "connecting", timeout=5000)
    qtbot.waitUntil(lambda: app.vm.screen == "call", timeout=30000)

    # the interpreter's frames reached the VideoOutput's sink on the screen
    remote_sink = app.bridge.remote.sink
    assert remote_sink is not None
    assert app.find("remoteVideo").property("videoSink") is remote_sink
    qtbot.waitUntil(lambda: app.bridge.remote.shown >= 10, timeout=15000)
    assert remote_sink.videoSize() == QSize(320, 240)
    assert remote_sink.videoFrame().isValid()
    # the resident sees themself, and their frames reached the interpreter
    qtbot.waitUntil(lambda: app.bridge.local.shown >= 5, timeout=5000)
    sim = app.services.interpreters[0]
    qtbot.waitUntil(lambda: sim.current is not None and sim.current.video_frames >= 10, timeout=15000)
    assert sim.current.last_video_size == (320, 240)
    session_id = app.engine.current.session_id

    tap(app, "hangUpButton")
    qtbot.waitUntil(lambda: app.vm.screen == "rating", timeout=10000)
    # nothing of the call stays on screen
    assert not remote_sink.videoFrame().isValid()
    tap(app, "rate2")
    qtbot.waitUntil(lambda: app.vm.screen == "welcome", timeout=5000)
    qtbot.waitUntil(lambda: recorder.states and recorder.states[-1] is S.IDLE, timeout=5000)
    # frames still in flight when the call ended never reach the screen afterwards
    shown = (app.bridge.remote.shown, app.bridge.local.shown)
    qtbot.wait(500)
    assert (app.bridge.remote.shown, app.bridge.local.shown) == shown
    assert not remote_sink.videoFrame().isValid()
    assert not app.bridge.local.sink.videoFrame().isValid()

    assert recorder.states == [S.REQUESTING, S.QUEUED, S.RINGING, S.CONNECTING, S.CONNECTED,
                               S.ENDED, S.IDLE]
    assert all(recorder.on_gui_thread)
    assert app.qml_warnings == []  # no binding went wrong on any screen along the way

    with SessionStore(app.config.data_path / "sessions.sqlite3") as store:
        rec = store.get(session_id)
        assert [r.session_id for r in store.list_sessions()] == [session_id]
    assert rec.state == "ended" and rec.end_reason == "completed" and rec.ended_by == "kiosk"
    assert rec.started_by == "resident" and rec.category is None
    assert rec.kiosk_id == app.config.kiosk.id
    assert rec.interpreter_id == "sim-interpreter-1"
    assert rec.rating == 2
    assert rec.requested_at < rec.answered_at <= rec.connected_at < rec.ended_at <= rec.rated_at
    assert rec.wait_s == pytest.approx(rec.answered_at - rec.requested_at)
    assert rec.talk_s == pytest.approx(rec.ended_at - rec.connected_at)


def test_cancel_from_connecting_screen(qtbot, demo_config):
    app = KioskApp(demo_config(simulator={"answer_delay_s": 30}), embedded_services=True)
    app.window.show()
    app.start()
    try:
        qtbot.waitUntil(lambda: app.engine.signaling.connected, timeout=10000)
        tap(app, "startCallButton")
        qtbot.waitUntil(lambda: app.vm.callState == "ringing", timeout=10000)
        tap(app, "cancelButton")
        qtbot.waitUntil(lambda: app.vm.screen == "welcome", timeout=5000)
        assert app.engine.current.reason.value == "cancelled_by_caller"
    finally:
        app.shutdown()


def test_device_check_screen_tests_every_device(qtbot, kiosk_app):
    app = kiosk_app
    qtbot.waitUntil(lambda: app.engine.signaling.connected, timeout=10000)
    app.vm.openDeviceCheck()
    assert app.vm.screen == "devicecheck"
    check = lambda: app.vm.check  # noqa: E731
    qtbot.waitUntil(lambda: check().get("camera", {}).get("result") == "pass", timeout=10000)
    qtbot.waitUntil(lambda: check()["microphone"]["result"] == "pass", timeout=5000)
    qtbot.waitUntil(lambda: check()["dispatch"]["result"] == "pass", timeout=5000)
    assert check()["micDbfs"] > -60 and check()["dispatchMs"] >= 0
    # the camera's picture is on the check screen's own video output
    sink = app.find("checkVideo").property("videoSink")
    qtbot.waitUntil(lambda: sink.videoFrame().isValid(), timeout=5000)
    assert check()["speaker"]["result"] == "pending"
    tap(app, "playToneButton")
    qtbot.waitUntil(lambda: check()["tonePlaying"], timeout=3000)
    tap(app, "heardButton")
    qtbot.waitUntil(lambda: check()["speaker"]["result"] == "pass", timeout=3000)
    tap(app, "closeDeviceCheckButton")
    qtbot.waitUntil(lambda: app.vm.screen == "welcome", timeout=3000)
    qtbot.waitUntil(lambda: not app.engine.camera.running, timeout=3000)
    assert app.engine.device_check is None and app.qml_warnings == []
    # and a call works as before, its self-view on the call screen again
    tap(app, "startCallButton")
    qtbot.waitUntil(lambda: app.vm.screen == "call", timeout=30000)
    qtbot.waitUntil(lambda: app.bridge.local.shown >= 5, timeout=5000)
    assert app.bridge.local.sink is app.find("selfVideo").property("videoSink")
    tap(app, "hangUpButton")
    qtbot.waitUntil(lambda: app.vm.screen == "rating", timeout=10000)


def test_device_check_names_what_is_missing(qtbot, demo_config):
    app = KioskApp(demo_config(video={"camera": "/dev/video-missing"},
                               audio={"output": "no such speaker"}), embedded_services=True)
    app.window.show()
    app.start()
    try:
        app.vm.openDeviceCheck()
        qtbot.waitUntil(lambda: app.vm.check.get("camera", {}).get("result") == "fail", timeout=10000)
        assert "video-missing" in app.vm.check["camera"]["detail"]
        tap(app, "playToneButton")
        qtbot.waitUntil(lambda: app.vm.check["speaker"]["result"] == "fail", timeout=3000)
        assert app.vm.check["speaker"]["detail"]
    finally:
        app.shutdown()
