"""Counter staff and the admin area in the real QML window (offscreen): the staff panel starts a
call with its category; the hidden gesture, the PIN pad (off the GUI thread), the usage log with
its filters and a session's details; and the admin view-model's own rules without a window."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from kiosk.call.engine import SessionFilter
from kiosk.sessions.pin import CheckResult, PinStore
from kiosk.ui.admin import AdminViewModel, period, quality_summary
from tests.kiosk_window import running_kiosk, tap
from kiosk.ui.app import KioskApp
from kiosk.ui.viewmodel import KioskViewModel

LIGHT = dict(n=2 ** 10, r=8, p=1)  # the UI test's PIN store: fast; tests/test_pin.py checks the real one
PIN = "2580"




def hold(app: KioskApp, point: QPoint, ms: int) -> None:
    QTest.mousePress(app.window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    QTest.qWait(ms)
    QTest.mouseRelease(app.window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def record(app: KioskApp, session_id: str):
    """The session record, read on the call thread (the store's connection belongs there)."""
    async def get():
        return app.engine.store.get(session_id)
    return app.thread.call(get())


class ThreadNotingPins(PinStore):
    """A PinStore that notes which thread each hash ran on."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.check_threads: list[str] = []

    def check(self, pin: str) -> CheckResult:
        self.check_threads.append(threading.current_thread().name)
        return super().check(pin)


@pytest.fixture
def pins(tmp_path):
    return ThreadNotingPins(tmp_path / "admin-pin.json", **LIGHT)


@pytest.fixture
def kiosk_app(qtbot, demo_config, pins):
    with running_kiosk(demo_config(), pin_store=pins) as app:
        yield app


def call_hang_up_and_rate(qtbot, app: KioskApp, start: list[str], rating: str) -> str:
    for name in start:
        tap(app, name)
    qtbot.waitUntil(lambda: app.vm.screen == "call", timeout=30000)
    session_id = app.engine.current.session_id
    tap(app, "hangUpButton")
    qtbot.waitUntil(lambda: app.vm.screen == "rating", timeout=10000)
    tap(app, rating)
    qtbot.waitUntil(lambda: app.vm.screen == "welcome", timeout=5000)
    qtbot.waitUntil(lambda: app.engine.state.value == "idle", timeout=5000)
    return session_id


# --- (a) staff start ------------------------------------------------------------------------

@pytest.mark.slow
def test_staff_pick_a_category_and_residents_still_tap_once(qtbot, kiosk_app):
    app = kiosk_app
    qtbot.waitUntil(lambda: app.engine.signaling.connected, timeout=10000)
    staff_button = app.find("staffButton")
    start_button = app.find("startCallButton")
    # small and secondary beside the resident's button, yet a comfortable touch target
    assert staff_button.height() >= 64 and staff_button.width() >= 64
    assert staff_button.width() * staff_button.height() < start_button.width() * start_button.height() / 6

    # the panel opens and closes without calling anyone
    tap(app, "staffButton")
    assert app.vm.screen == "staff"
    assert app.vm.categories == list(app.config.kiosk.categories)
    tap(app, "closeStaffButton")
    assert app.vm.screen == "welcome" and app.engine.state.value == "idle"

    category = app.config.kiosk.categories[1]
    assert app.find("staffCategory1").property("text") == category
    staff_session = call_hang_up_and_rate(qtbot, app, ["staffButton", "staffCategory1"], "rate4")
    rec = record(app, staff_session)
    assert (rec.started_by, rec.category, rec.end_reason, rec.rating) == ("staff", category, "completed", 4)

    # the resident's own tap: one tap, no question, no category
    resident_session = call_hang_up_and_rate(qtbot, app, ["startCallButton"], "skipRatingButton")
    rec = record(app, resident_session)
    assert (rec.started_by, rec.category, rec.end_reason) == ("resident", None, "completed")
    assert app.qml_warnings == []


# --- (b) the admin area -----------------------------------------------------------------------

def seed_sessions(app: KioskApp) -> dict[str, str]:
    """Known sessions at known local times, through the engine's own store on its thread."""
    zone = ZoneInfo(app.config.service_hours.timezone)
    today = datetime.now(zone).date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=zone).timestamp()
    yesterday = datetime.combine(today - timedelta(days=1), datetime.min.time(), zone).timestamp()
    good = json.dumps({"samples": 60, "fps_in": {"median": 29.0, "worst": 24.0},
                       "fps_out": {"median": 30.0, "worst": 27.0}, "kbps_in": {"median": 700, "worst": 300},
                       "kbps_out": {"median": 800, "worst": 350}, "loss_pct": {"median": 0.5, "worst": 2.0},
                       "rtt_ms": {"median": 40, "worst": 90}, "low_fps_seconds": 0, "smallest_scale": 1.0})
    plan = {  # name: (tap time, started_by, category, end reason, answered, rating)
        "A": (midnight + 60, "resident", None, "completed", True, 5),
        "B": (midnight + 120, "staff", "社保", "completed", True, None),
        "C": (midnight + 180, "staff", "医疗", "cancelled_by_caller", False, None),
        "E": (yesterday + 12 * 3600, "resident", None, "no_interpreter", False, None),
        "F": (midnight - 400 * 86400, "resident", None, "network_lost", True, 2),
    }
    ids = {name: str(uuid.uuid4()) for name in plan}

    async def seed() -> None:
        store = app.engine.store
        for name, (at, who, category, reason, answered, rating) in plan.items():
            sid = ids[name]
            store.begin(sid, app.config.kiosk.id, who, category, "test", at)
            if answered:
                store.transition(sid, "connecting", at + 15, interpreter_id="interp-9")
                store.transition(sid, "connected", at + 17)
            store.end(sid, reason, at + (200 if answered else 25), "kiosk",
                      quality=good if name == "A" else None)
            if answered:
                store.rate(sid, rating, at + 230)

    app.thread.call(seed())
    return ids


def wait_log(qtbot, app: KioskApp) -> int:
    qtbot.waitUntil(lambda: not app.admin.property("loading"), timeout=5000)
    return app.admin.sessions.rowCount()


def choose(qtbot, app: KioskApp, filter_button: str, choice: str, overlay: str = "choiceOverlay") -> int:
    tap(app, filter_button)
    qtbot.wait(50)  # the choices are laid out (Flow) before the next frame
    tap(app, choice)
    assert not app.find(overlay).isVisible()
    return wait_log(qtbot, app)


@pytest.mark.slow
def test_admin_gesture_pin_log_filters_details_and_leaving(qtbot, kiosk_app, pins, monkeypatch):
    app = kiosk_app
    pins.set_pin(PIN)
    ids = seed_sessions(app)
    qtbot.waitUntil(lambda: app.engine.signaling.connected, timeout=10000)
    corner = QPoint(10, 10)

    # a short press in the corner does nothing; three seconds' hold opens the PIN pad
    hold(app, corner, 1000)
    assert app.vm.screen == "welcome"
    QTest.mousePress(app.window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, corner)
    QTest.qWait(2500)
    assert app.vm.screen == "welcome"
    qtbot.waitUntil(lambda: app.vm.screen == "admin", timeout=2000)
    QTest.mouseRelease(app.window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, corner)
    qtbot.waitUntil(lambda: not app.admin.property("pinBusy"), timeout=5000)
    assert app.admin.page == "pin" and app.find("pinPage").isVisible()

    # a wrong PIN: said so, with the tries left
    for key in ("pinKey1", "pinKey1", "pinKey1", "pinKey1"):
        tap(app, key)
    assert app.admin.pinLength == 4
    tap(app, "pinOk")
    assert app.admin.pinLength == 0  # the typed PIN is not kept
    qtbot.waitUntil(lambda: app.admin.pinError == "wrong", timeout=5000)
    message = app.find("pinMessage").property("text")
    assert "密码不对" in message and "4" in message
    assert app.admin.page == "pin"

    # the right PIN, with one digit typed wrong and taken back
    for key in ("pinKey2", "pinKey5", "pinKey9", "pinBackspace", "pinKey8", "pinKey0"):
        tap(app, key)
    tap(app, "pinOk")
    qtbot.waitUntil(lambda: app.admin.page == "menu", timeout=5000)
    assert app.find("adminMenu").isVisible()
    # the hash ran in a worker: neither on the GUI thread nor on the call engine's loop
    assert len(pins.check_threads) == 2
    assert all(name not in (threading.main_thread().name, "call-engine") for name in pins.check_threads)
    assert pins.status() == CheckResult(False, 0.0, 0)

    # the usage log, filtered
    tap(app, "adminLogButton")
    wait_log(qtbot, app)
    assert choose(qtbot, app, "periodButton", "choice-all") == 5
    assert [r.session_id for r in app.admin.sessions.records] == [ids[n] for n in "CBAEF"]  # newest first
    assert choose(qtbot, app, "periodButton", "choice-day") == 3
    tap(app, "periodPrev")
    assert wait_log(qtbot, app) == 1 and app.admin.sessions.records[0].session_id == ids["E"]
    tap(app, "periodNext")
    assert wait_log(qtbot, app) == 3
    assert choose(qtbot, app, "periodButton", "choice-all") == 5
    assert choose(qtbot, app, "reasonFilterButton", "choice-completed") == 2
    assert choose(qtbot, app, "reasonFilterButton", "choice-all") == 5
    assert choose(qtbot, app, "categoryFilterButton", "choice-社保") == 1
    assert choose(qtbot, app, "categoryFilterButton", "choice--") == 3  # sessions without a category
    assert choose(qtbot, app, "categoryFilterButton", "choice-all") == 5
    assert choose(qtbot, app, "startedByFilterButton", "choice-staff") == 2
    assert choose(qtbot, app, "reasonFilterButton", "choice-completed") == 1
    assert app.admin.sessions.records[0].session_id == ids["B"]
    assert choose(qtbot, app, "startedByFilterButton", "choice-resident") == 1
    assert app.admin.sessions.records[0].session_id == ids["A"]
    assert choose(qtbot, app, "reasonFilterButton", "choice-all") == 3
    assert choose(qtbot, app, "startedByFilterButton", "choice-all") == 5
    assert app.find("logCount").property("text") == "共 5 条"

    # a row's details: every field, the quality in words, the states it went through
    tap(app, "logRow2")
    qtbot.waitUntil(lambda: len(app.admin.detail.get("events", [])) == 4, timeout=5000)
    detail = app.admin.detail
    assert detail["sessionId"] == ids["A"] and detail["startedBy"] == "resident"
    assert detail["endReason"] == "completed" and detail["rating"] == 5
    assert detail["interpreterId"] == "interp-9" and detail["waitText"] == "0:15"
    assert [e["state"] for e in detail["events"]] == ["requesting", "connecting", "connected", "ended"]
    assert app.find("sessionDetails").isVisible()
    words = app.find("qualityWords").property("text")
    assert "良好" in words and "每秒约 29 帧" in words
    tap(app, "closeDetailsButton")
    tap(app, "logRow0")
    qtbot.waitUntil(lambda: len(app.admin.detail.get("events", [])) == 2, timeout=5000)
    assert app.admin.detail["category"] == "医疗"
    assert "没有接通视频" in app.find("qualityWords").property("text")
    tap(app, "closeDetailsButton")
    tap(app, "logBackButton")
    assert app.admin.page == "menu" and app.admin.sessions.rowCount() == 0

    # reports: the period's figures, two charts, exports into the data folder
    tap(app, "adminReportButton")
    wait_log(qtbot, app)
    choose(qtbot, app, "reportPeriodButton", "reportChoice-all", overlay="reportPeriodChoice")
    report = app.admin.report
    assert report["ready"] and report["sessions"] == 5 and report["answered"] == 3
    assert report["answeredPct"] == 60.0 and report["satisfiedPct"] == 50.0  # 非常满意, 不满意
    assert report["waitMedian"] == "0:15" and report["waitCounts"] == [0, 3, 0, 0, 0, 0, 0]
    assert report["byMonth"] and sum(report["barAnswered"]) + sum(report["barUnanswered"]) == 5
    assert app.find("figWaitValue").property("text") == "0:15"
    assert app.find("figSatisfiedValue").property("text") == "50%"
    qtbot.waitUntil(lambda: app.find("sessionsGraph") is not None and app.find("waitGraph") is not None,
                    timeout=5000)
    assert app.find("reportCharts").property("item") is not None  # QtGraphs loaded
    choose(qtbot, app, "reportPeriodButton", "reportChoice-day", overlay="reportPeriodChoice")
    report = app.admin.report
    assert report["sessions"] == 3 and report["barLabels"] == [datetime.now(
        ZoneInfo(app.config.service_hours.timezone)).strftime("%m-%d")]
    assert report["barAnswered"] == [2] and report["barUnanswered"] == [1]
    exports = app.config.data_path / "exports"
    tap(app, "exportCsvButton")
    qtbot.waitUntil(lambda: app.admin.exportState == "done", timeout=5000)
    csv_path = Path(app.admin.exportPath)
    assert csv_path.parent == exports and csv_path.suffix == ".csv"
    text = csv_path.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff") and "会话数" in text and "total" in text
    assert app.find("exportMessage").isVisible() and str(csv_path) in app.find("exportMessage").property("text")
    tap(app, "exportXlsxButton")
    qtbot.waitUntil(lambda: app.admin.exportState == "done" and app.admin.exportPath.endswith(".xlsx"),
                    timeout=10000)
    from openpyxl import load_workbook
    book = load_workbook(app.admin.exportPath)
    assert book.sheetnames[0].startswith("总览") and len(book.sheetnames) == 4
    assert sorted(p.suffix for p in exports.iterdir()) == [".csv", ".xlsx"]  # no partial file left
    tap(app, "reportBackButton")
    assert app.admin.page == "menu"

    # the device check from the admin area, and back to the menu
    tap(app, "adminDeviceCheckButton")
    assert app.vm.screen == "devicecheck"
    qtbot.waitUntil(lambda: app.vm.check.get("dispatch", {}).get("result") == "pass", timeout=10000)
    tap(app, "closeDeviceCheckButton")
    qtbot.waitUntil(lambda: app.vm.screen == "admin", timeout=3000)
    assert app.admin.page == "menu"

    # leaving kiosk mode asks first; confirmed, the application quits
    quits = []
    monkeypatch.setattr(QGuiApplication, "quit", lambda: quits.append(True))
    tap(app, "adminLeaveButton")
    assert app.find("leaveConfirm").isVisible()
    tap(app, "cancelLeaveButton")
    assert not app.find("leaveConfirm").isVisible() and quits == []
    tap(app, "adminLeaveButton")
    tap(app, "confirmLeaveButton")
    assert quits == [True]

    # back to Welcome: nothing of the admin area stays
    tap(app, "adminCloseButton")
    assert app.vm.screen == "welcome" and app.admin.page == "pin"
    assert app.admin.sessions.rowCount() == 0 and app.admin.detail == {}
    assert app.qml_warnings == []


@pytest.mark.slow
def test_admin_lockout_shows_and_outlives_leaving_and_idle_closes(qtbot, demo_config, pins):
    pins.set_pin(PIN)
    app = KioskApp(demo_config(), embedded_services=False, pin_store=pins)
    app.window.resize(1280, 800)
    app.window.show()
    app.start()
    try:
        app.vm.openAdmin()
        qtbot.waitUntil(lambda: not app.admin.pinBusy, timeout=5000)
        for attempt in range(5):
            for key in ("pinKey9", "pinKey9", "pinKey9", "pinKey9"):
                tap(app, key)
            tap(app, "pinOk")
            qtbot.waitUntil(lambda: not app.admin.pinBusy, timeout=5000)
        assert app.admin.pinError == "locked" and 55 <= app.admin.lockedSeconds <= 60
        assert "错误次数太多" in app.find("pinMessage").property("text")
        assert not app.find("pinKey1").isEnabled()  # the pad does not take digits while locked
        # leaving and coming back does not lift the lock (it is read from the PIN file)
        tap(app, "pinCancelButton")
        assert app.vm.screen == "welcome"
        app.vm.openAdmin()
        qtbot.waitUntil(lambda: not app.admin.pinBusy, timeout=5000)
        assert app.admin.pinError == "locked" and app.admin.lockedSeconds > 50
        # no PIN: the admin area says how to set one
        pins.clear()
        app.vm.closeAdmin()
        app.vm.openAdmin()
        qtbot.waitUntil(lambda: app.admin.page == "nopin", timeout=5000)
        assert app.find("noPinNotice").isVisible()
        # touches keep it open; nobody touching it: back to Welcome by itself
        app.vm.idle_timeout_s = 1.5
        for _ in range(6):
            QTest.mouseClick(app.window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                             QPoint(640, 700))
            qtbot.wait(500)
        assert app.vm.screen == "admin"
        qtbot.waitUntil(lambda: app.vm.screen == "welcome", timeout=4000)
        assert app.admin.page == "pin"
        assert app.qml_warnings == []
    finally:
        app.shutdown()


# --- the view-models without a window -------------------------------------------------------

class FakeCommands:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def request_call(self, started_by="resident", category=None):
        self.calls.append(("request_call", started_by, category))

    def start_device_check(self):
        self.calls.append(("start_device_check",))

    def stop_device_check(self):
        self.calls.append(("stop_device_check",))

    def pin_status(self, request):
        self.calls.append(("pin_status", request))

    def check_pin(self, request, pin):
        self.calls.append(("check_pin", request, pin))

    def list_sessions(self, request, filters):
        self.calls.append(("list_sessions", request, filters))

    def session_events(self, session_id):
        self.calls.append(("session_events", session_id))


@pytest.fixture
def models(qtbot):
    commands = FakeCommands()
    kiosk = KioskViewModel(commands, categories=("社保", "其他"))
    admin = AdminViewModel(kiosk, commands, categories=("社保", "其他"), timezone="Asia/Shanghai")
    return kiosk, admin, commands


def test_staff_panel_only_starts_known_categories(models):
    kiosk, _, commands = models
    kiosk.startStaffCall("社保")  # not on the staff panel: nothing
    kiosk.openStaffPanel()
    kiosk.startStaffCall("not configured")
    kiosk.startStaffCall("其他")
    assert commands.calls == [("request_call", "staff", "其他")]
    kiosk.closeStaffPanel()
    kiosk.startCall()
    assert commands.calls[-1] == ("request_call", "resident", None)


def test_pin_pad_rules(models):
    kiosk, admin, commands = models
    kiosk.openAdmin()
    assert kiosk.screen == "admin" and admin.page == "pin" and admin.pinBusy
    assert commands.calls == [("pin_status", 1)]
    admin.pinDigit("1")  # not before the PIN file was read
    assert admin.pinLength == 0
    admin.apply_pin_status(1, True, CheckResult(False, 0.0, 2))
    assert admin.triesLeft == 3
    for d in "12x":
        admin.pinDigit(d)
    admin.pinSubmit()
    assert admin.pinError == "short" and commands.calls[-1] == ("pin_status", 1)
    for d in "3456789012345":
        admin.pinDigit(d)
    assert admin.pinLength == 12  # never more than a PIN can have
    admin.pinSubmit()
    assert commands.calls[-1] == ("check_pin", 2, "123456789012") and admin.pinBusy
    admin.openLog()  # not before the PIN is right
    assert admin.page == "pin"
    admin.apply_pin_result(2, CheckResult(False, 60.0, 5))
    assert admin.pinError == "locked" and admin.lockedSeconds == 60
    admin.pinDigit("1")
    assert admin.pinLength == 0
    kiosk.closeAdmin()
    assert kiosk.screen == "welcome" and admin.page == "pin" and admin.lockedSeconds == 0


def test_a_late_pin_answer_does_not_open_a_new_visit(models):
    kiosk, admin, commands = models
    kiosk.openAdmin()
    admin.apply_pin_status(1, True, CheckResult(False, 0.0, 0))
    for d in PIN:
        admin.pinDigit(d)
    admin.pinSubmit()  # request 2 …
    kiosk.closeAdmin()  # … and away before its answer
    kiosk.openAdmin()  # a new visit asks for the PIN file's state again
    request = commands.calls[-1][1]
    assert commands.calls[-1] == ("pin_status", request) and request > 2
    admin.apply_pin_result(2, CheckResult(True, 0.0, 0))
    assert admin.page == "pin"
    admin.apply_pin_status(1, False, CheckResult(False, 0.0, 0))  # an old status answer
    assert admin.page == "pin" and admin.pinBusy
    admin.apply_pin_status(request, True, CheckResult(False, 0.0, 0))
    assert admin.page == "pin" and not admin.pinBusy


def test_stale_log_answers_are_dropped(models):
    kiosk, admin, commands = models
    kiosk.openAdmin()
    admin.apply_pin_status(1, True, CheckResult(False, 0.0, 0))
    for d in PIN:
        admin.pinDigit(d)
    admin.pinSubmit()
    admin.apply_pin_result(2, CheckResult(True, 0.0, 0))
    assert admin.page == "menu"
    admin.openLog()
    admin.setReason("completed")
    requests = [c for c in commands.calls if c[0] == "list_sessions"]
    assert [r[1] for r in requests] == [1, 2]
    assert requests[-1][2].end_reason == "completed" and requests[-1][2].started_by is None
    admin.apply_sessions(1, [object()])  # the answer to the filters before
    assert admin.sessions.rowCount() == 0 and admin.loading
    admin.apply_sessions(2, [])
    assert not admin.loading
    admin.setCategory("-")
    assert commands.calls[-1][2].category == ""
    admin.setCategory("unknown")  # not a configured category: ignored
    assert commands.calls[-1][1] == 3


def test_periods_follow_the_halls_calendar():
    zone = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 3, 1, 0, 30, tzinfo=zone)  # a Sunday, just after midnight in the hall
    day = period("day", 0, now.astimezone(timezone.utc), zone)
    assert (day.start, day.end) == (datetime(2026, 3, 1, tzinfo=zone), datetime(2026, 3, 2, tzinfo=zone))
    week = period("week", -1, now, zone)
    assert (week.start.date().isoformat(), week.label) == ("2026-02-16", "2026-02-16 – 02-22")
    month = period("month", -1, now, zone)
    assert (month.label, month.end) == ("2026-02", datetime(2026, 3, 1, tzinfo=zone))
    assert period("month", -3, now, zone).label == "2025-12"
    assert period("year", 0, now, zone).label == "2026"
    assert period("all", 0, now, zone).start is None
    # a day with a clock change is 23 hours long where the hall has one
    berlin = ZoneInfo("Europe/Berlin")
    spring = period("day", 0, datetime(2026, 3, 29, 12, tzinfo=berlin), berlin)
    assert spring.end.timestamp() - spring.start.timestamp() == 23 * 3600


def test_session_filter_matches():
    from kiosk.sessions.model import SessionRecord

    rec = SessionRecord(session_id="s", kiosk_id="k", started_by="staff", category=None, state="ended",
                        requested_at=100.0, answered_at=None, connected_at=None, ended_at=110.0,
                        wait_s=10.0, talk_s=0.0, end_reason="declined", ended_by="dispatch",
                        interpreter_id=None, rating=None, rated_at=None, app_version="t")
    assert SessionFilter().matches(rec)
    assert SessionFilter(start=100, end=101, category="", started_by="staff", end_reason="declined").matches(rec)
    assert not SessionFilter(end=100).matches(rec)
    assert not SessionFilter(category="社保").matches(rec)
    assert not SessionFilter(started_by="resident").matches(rec)


def test_quality_in_figures_for_words():
    assert quality_summary(None) == {"available": False}
    assert quality_summary("not json") == {"available": False}
    poor = quality_summary(json.dumps({"samples": 10, "fps_in": {"median": 14, "worst": 9},
                                       "fps_out": {"median": 30, "worst": 28}, "low_fps_seconds": 8,
                                       "smallest_scale": 0.5}))
    assert poor["level"] == "poor" and poor["fpsIn"] == [14, 9] and poor["smallestScalePct"] == 50
    fair = quality_summary(json.dumps({"fps_in": {"median": 29, "worst": 25}, "rtt_ms": {"median": 450, "worst": 900}}))
    assert fair["level"] == "fair" and fair["lossPct"] is None
