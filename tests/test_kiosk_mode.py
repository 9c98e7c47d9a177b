"""Kiosk mode in the real QML window (offscreen): the close keys and the window manager's close
leave the window up, only the admin area or the technician keys (no PIN set) leave; the mouse
pointer on touch screens; idle and after-call return to Welcome with nothing of the last
session left on any screen; Welcome out of hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QWindow
from PySide6.QtQuick import QQuickItem
from PySide6.QtTest import QTest

from kiosk.sessions.pin import PinStore
from tests.kiosk_window import tap
from kiosk.ui.app import EXIT_LEFT_KIOSK, KioskApp, cursor_hidden

LIGHT = dict(n=2 ** 10, r=8, p=1)
PIN = "2580"
SCREENS = ("welcomeScreen", "connectingScreen", "callScreen", "ratingScreen", "deviceCheckScreen",
           "staffScreen", "adminScreen", "noticeScreen")
# moves by itself on Welcome: checked on its own (it starts again from step 1)
ANIMATED = ("howItWorks",)




@pytest.fixture
def pins(tmp_path):
    return PinStore(tmp_path / "admin-pin.json", **LIGHT)


def quiet_config(demo_config, **sections):
    """No embedded dispatch: the window alone (the link to dispatch stays down)."""
    return demo_config(dispatch={"embedded": False}, simulator={"interpreters": 0}, **sections)


# --- kiosk mode ------------------------------------------------------------------------------

def test_close_keys_and_the_window_managers_close_leave_the_window_up(qtbot, demo_config, pins):
    app = KioskApp(quiet_config(demo_config), pin_store=pins)
    try:
        guard = app.lock_down()
        left: list[int] = []
        guard._on_leave = left.append  # what would end the app
        guard.show()
        qtbot.waitExposed(app.window)
        assert app.window.visibility() == QWindow.Visibility.FullScreen
        assert app.window.flags() & Qt.WindowType.FramelessWindowHint
        assert app.window.flags() & Qt.WindowType.WindowStaysOnTopHint

        Key, Mod = Qt.Key, Qt.KeyboardModifier
        for key, mods in [(Key.Key_F4, Mod.AltModifier), (Key.Key_Escape, Mod.NoModifier),
                          (Key.Key_Q, Mod.ControlModifier), (Key.Key_W, Mod.ControlModifier)]:
            QTest.keyClick(app.window, key, mods)
            QTest.qWait(50)
            assert app.window.isVisible(), f"{key.name} closed the window"
        # the window manager's close button asks through the same close event as
        # QWindow.close() (the platform window's close request)
        assert app.window.close() is False
        QTest.qWait(200)
        assert app.window.isVisible() and app.window.visibility() == QWindow.Visibility.FullScreen
        assert list(guard.refused) == ["Alt+F4", "Esc", "Ctrl+Q", "Ctrl+W", "closing the window"]
        assert left == []

        # made smaller by some desktop shortcut: back to full screen
        app.window.showNormal()
        qtbot.waitUntil(lambda: app.window.visibility() == QWindow.Visibility.FullScreen, timeout=3000)

        # the technician keys while a PIN is set: nothing
        pins.set_pin(PIN)
        QTest.keyClick(app.window, Key.Key_F12, Mod.ControlModifier | Mod.AltModifier | Mod.ShiftModifier)
        QTest.qWait(50)
        assert left == [] and app.window.isVisible()
        assert guard.refused[-1].startswith("the technician keys (an admin PIN is set")

        # the admin area's "leave kiosk mode" (confirmed there) ends the app for good
        app.admin.leaveKioskRequested.emit()
        assert left == [EXIT_LEFT_KIOSK] and guard.leaving
        assert app.window.close() is True  # now the window may close
    finally:
        app.shutdown()


def test_technician_keys_leave_only_while_no_pin_is_set(qtbot, demo_config, pins):
    app = KioskApp(quiet_config(demo_config, kiosk={"technician_exit_keys": "Ctrl+Shift+K"}), pin_store=pins)
    try:
        guard = app.lock_down()
        left: list[int] = []
        guard._on_leave = left.append
        guard.show()
        qtbot.waitExposed(app.window)
        Key, Mod = Qt.Key, Qt.KeyboardModifier
        # the default combination is not this kiosk's
        QTest.keyClick(app.window, Key.Key_F12, Mod.ControlModifier | Mod.AltModifier | Mod.ShiftModifier)
        QTest.keyClick(app.window, Key.Key_K, Mod.ControlModifier)
        QTest.qWait(50)
        assert left == []
        assert not pins.has_pin()
        QTest.keyClick(app.window, Key.Key_K, Mod.ControlModifier | Mod.ShiftModifier)
        assert left == [EXIT_LEFT_KIOSK]
    finally:
        app.shutdown()


def test_no_technician_keys_when_switched_off(qtbot, demo_config, pins):
    app = KioskApp(quiet_config(demo_config, kiosk={"technician_exit_keys": None}), pin_store=pins)
    try:
        guard = app.lock_down()
        left: list[int] = []
        guard._on_leave = left.append
        guard.show()
        qtbot.waitExposed(app.window)
        Mod = Qt.KeyboardModifier
        QTest.keyClick(app.window, Qt.Key.Key_F12, Mod.ControlModifier | Mod.AltModifier | Mod.ShiftModifier)
        QTest.qWait(50)
        assert left == [] and app.window.isVisible()
    finally:
        app.shutdown()


def test_the_pointer_hides_on_touch_screens_in_kiosk_mode(qapp):
    from PySide6.QtGui import QInputDevice

    had_touch = any(d.type() == QInputDevice.DeviceType.TouchScreen for d in QInputDevice.devices())
    assert cursor_hidden("hidden", kiosk_mode=False) and cursor_hidden("hidden", kiosk_mode=True)
    assert not cursor_hidden("shown", kiosk_mode=True)
    assert cursor_hidden("auto", kiosk_mode=True) is had_touch
    QTest.createTouchDevice()  # a touch screen appears (registered with Qt like a real one)
    assert cursor_hidden("auto", kiosk_mode=True)
    assert not cursor_hidden("auto", kiosk_mode=False)  # the demo window keeps it


# --- back to Welcome with nothing left ------------------------------------------------------

def _tree(item: QQuickItem, path: str, out: list) -> None:
    name = item.objectName()
    if name in ANIMATED:
        return
    entry = [path, type(item).__name__, item.isVisible()]
    text = item.property("text")
    if isinstance(text, str):
        entry.append(text)
    for prop in ("contentY", "currentIndex", "checked"):
        value = item.property(prop)
        if value is not None:
            entry.append((prop, value))
    out.append(tuple(entry))
    for i, child in enumerate(item.childItems()):
        _tree(child, f"{path}/{child.objectName() or i}", out)


def _props(obj: QObject) -> dict:
    meta = obj.metaObject()
    found = {}
    for i in range(meta.propertyCount()):
        name = meta.property(i).name()
        if name == "objectName":
            continue
        value = obj.property(name)
        found[name] = value if not isinstance(value, QObject) else type(value).__name__
    return found


def snapshot(app: KioskApp) -> dict:
    """Everything every screen shows (texts, what is visible, list positions) and every
    property of both view-models."""
    screens = {}
    for name in SCREENS:
        out: list = []
        _tree(app.find(name), name, out)
        screens[name] = out
    return {"screens": screens, "kiosk": _props(app.vm), "admin": _props(app.admin),
            "rows": app.admin.sessions.rowCount()}


def assert_as_fresh(app: KioskApp, fresh: dict, after: str) -> None:
    now = snapshot(app)
    for name in SCREENS:
        before, later = fresh["screens"][name], now["screens"][name]
        diff = [(a, b) for a, b in zip(before, later) if a != b]
        assert len(before) == len(later) and not diff, f"{name} after {after}: {diff[:5]} ({len(before)} vs {len(later)})"
    assert now["kiosk"] == fresh["kiosk"], f"after {after}"
    assert now["admin"] == fresh["admin"], f"after {after}"
    assert now["rows"] == 0


@pytest.fixture
def idle_app(qtbot, demo_config, pins):
    pins.set_pin(PIN)
    app = KioskApp(demo_config(kiosk={"rating_timeout_s": 300}), embedded_services=True, pin_store=pins)
    app.window.resize(1280, 800)
    app.window.show()
    app.start()
    qtbot.waitUntil(lambda: app.vm.online, timeout=15000)
    QTest.qWait(300)
    yield app
    app.shutdown()


def go_idle(qtbot, app: KioskApp, seconds: float = 1.0) -> None:
    """Nobody touches the screen for the idle time (shortened for the test)."""
    app.vm.idle_timeout_s = seconds
    returned: list[bool] = []
    app.vm.idleReturn.connect(lambda: returned.append(True))
    qtbot.waitUntil(lambda: app.vm.screen == "welcome", timeout=10000)
    how = app.find("howItWorks")
    assert how.isVisible() and how.property("step") == 0  # the pictures start again from step 1
    assert returned, "back to Welcome, but not by the idle rule"
    app.vm.idle_timeout_s = 3600
    QTest.qWait(100)


@pytest.mark.slow
def test_idle_return_leaves_nothing_of_the_last_session_on_any_screen(qtbot, idle_app):
    app = idle_app
    fresh = snapshot(app)
    assert fresh["kiosk"]["screen"] == "welcome"

    # a resident's call, answered and ended: the rating screen waits; nobody rates
    tap(app, "startCallButton")
    qtbot.waitUntil(lambda: app.vm.screen == "call", timeout=30000)
    QTest.qWait(1500)  # figures on screen: the wait, the call's clock, quality
    assert app.vm.callSeconds >= 1
    tap(app, "hangUpButton")
    qtbot.waitUntil(lambda: app.vm.screen == "rating", timeout=10000)
    assert snapshot(app) != fresh
    go_idle(qtbot, app)
    qtbot.waitUntil(lambda: app.engine.state.value == "idle", timeout=5000)
    assert_as_fresh(app, fresh, "the rating screen")

    # the staff panel left open
    tap(app, "staffButton")
    assert app.vm.screen == "staff"
    go_idle(qtbot, app)
    assert_as_fresh(app, fresh, "the staff panel")

    # the admin area: PIN, the usage log filtered, a session's details open
    app.vm.openAdmin()
    qtbot.waitUntil(lambda: app.admin.page == "pin" and not app.admin.pinBusy, timeout=5000)
    for digit in PIN:
        app.admin.pinDigit(digit)
    app.admin.pinSubmit()
    qtbot.waitUntil(lambda: app.admin.page == "menu", timeout=10000)
    app.admin.openLog()
    qtbot.waitUntil(lambda: app.admin.sessions.rowCount() == 1 and not app.admin.loading, timeout=10000)
    app.admin.showDetails(0)
    qtbot.waitUntil(lambda: bool(app.admin.detail), timeout=10000)
    app.admin.setStartedBy("resident")
    app.admin.setPeriodKind("day")
    qtbot.waitUntil(lambda: not app.admin.loading, timeout=10000)
    assert app.admin.startedBy == "resident" and app.admin.periodKind == "day"
    go_idle(qtbot, app)
    assert_as_fresh(app, fresh, "the admin area")

    # the device check, opened from Welcome
    app.vm.openDeviceCheck()
    qtbot.waitUntil(lambda: bool(app.vm.check), timeout=10000)
    go_idle(qtbot, app)
    assert_as_fresh(app, fresh, "the device check")
    assert app.qml_warnings == []


def test_idle_rule_leaves_every_screen_but_a_call(qtbot):
    """The rule itself, on the view-model alone: which screens idle time leaves."""
    from kiosk.call.states import CallEvent, CallState, EndReason
    from kiosk.ui.viewmodel import KioskViewModel

    class Commands:
        def __getattr__(self, name):
            return lambda *a, **k: None

    vm = KioskViewModel(Commands(), idle_timeout_s=3600)
    left = []
    vm.idleReturn.connect(lambda: left.append(vm.screen))
    vm.apply_event(CallEvent(state=CallState.CONNECTED, session_id="s1", connected_at=1.0))
    assert vm.screen == "call"
    vm.returnWhenIdle()
    assert vm.screen == "call" and left == []  # a call in progress is never cut short
    vm.apply_event(CallEvent(state=CallState.ENDED, session_id="s1", reason=EndReason.NO_INTERPRETER))
    assert vm.screen == "notice" and vm.endReason == "no_interpreter"
    vm.returnWhenIdle()
    assert vm.screen == "welcome" and vm.endReason == "" and left == ["welcome"]


def test_a_call_ended_after_long_silence_still_shows_its_rating(qtbot):
    """Nobody touches the screen during a call; when the interpreter ends it, the idle time
    starts then, not at the tap that began the call."""
    import time

    from kiosk.call.states import CallEvent, CallState, EndReason
    from kiosk.ui.viewmodel import KioskViewModel

    class Commands:
        def __getattr__(self, name):
            return lambda *a, **k: None

    vm = KioskViewModel(Commands(), idle_timeout_s=60, rating_timeout_s=300)
    vm.apply_event(CallEvent(state=CallState.CONNECTED, session_id="s1", connected_at=1.0))
    vm._last_touch = time.monotonic() - 600  # ten minutes of signing, no touch
    vm.apply_event(CallEvent(state=CallState.ENDED, session_id="s1", connected_at=1.0, answered_at=1.0,
                             reason=EndReason.COMPLETED))
    assert vm.screen == "rating"
    vm._on_tick()
    assert vm.screen == "rating"


# --- out of hours -----------------------------------------------------------------------------

HOURS = {"timezone": "Asia/Shanghai", "mon": "08:30-12:00, 13:30-17:30", "tue": "08:30-17:30",
         "wed": "closed", "thu": "closed", "fri": "closed", "sat": "closed", "sun": "closed",
         "alternatives": [{"kind": "text_hotline", "value": "12345"},
                          {"kind": "web", "value": "https://help.example.gov.cn/deaf"}]}


def _shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    """November 2026 in Shanghai (the 23rd is a Monday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai"))


def texts(item: QQuickItem) -> list[str]:
    out: list = []
    _tree(item, "", out)
    return [e[3] for e in out if len(e) > 3 and isinstance(e[3], str) and e[2] and e[3]]


def test_out_of_hours_welcome_says_when_it_opens_and_the_alternatives(qtbot, demo_config, pins):
    app = KioskApp(quiet_config(demo_config, service_hours=HOURS), pin_store=pins)
    try:
        app.window.resize(1280, 800)
        app.window.show()
        qtbot.waitExposed(app.window)
        vm = app.vm
        closed, how, start = app.find("outOfHours"), app.find("howItWorks"), app.find("startCallButton")

        vm.clock = lambda: _shanghai(23, 10, 0)  # Monday morning: open
        vm.refreshHours()
        QTest.qWait(50)
        assert not vm.outOfHours and not closed.isVisible()
        assert start.isVisible() and how.isVisible()

        vm.clock = lambda: _shanghai(23, 12, 30)  # lunch break: again today at 13:30
        vm.refreshHours()
        QTest.qWait(50)
        assert vm.outOfHours and closed.isVisible() and not start.isVisible() and not how.isVisible()
        shown = texts(closed)
        assert "今天 13:30 再开始服务" in shown, shown
        assert ["12345", "https://help.example.gov.cn/deaf"] == [
            app.find(f"alternativeValue{i}").property("text") for i in range(2)]
        assert "文字热线" in shown and "网站" in shown

        vm.clock = lambda: _shanghai(23, 18, 0)  # Monday evening: tomorrow
        vm.refreshHours()
        QTest.qWait(50)
        assert "明天 08:30 再开始服务" in texts(closed)

        vm.clock = lambda: _shanghai(25, 9, 0)  # Wednesday: next Monday, with its date
        vm.refreshHours()
        QTest.qWait(50)
        assert "星期一（11-30）08:30 再开始服务" in texts(closed)
        # everything on it fits inside the box, nothing is cut off
        box = closed.mapRectToScene(closed.boundingRect())
        for i in range(2):
            pill = app.find(f"alternative{i}")
            r = pill.mapRectToScene(pill.boundingRect())
            assert box.contains(r), (i, r, box)
            value = app.find(f"alternativeValue{i}")
            assert not value.property("truncated")

        # the hour comes round by itself (the view-model looks every second)
        vm.clock = lambda: _shanghai(30, 8, 30)
        qtbot.waitUntil(lambda: not closed.isVisible() and start.isVisible(), timeout=3000)
        assert app.qml_warnings == []
    finally:
        app.shutdown()
