"""The admin area behind the hidden gesture and the PIN: the PIN pad, the usage log, reports.

``AdminViewModel`` lives on the GUI thread like ``KioskViewModel``. It never touches the PIN
file or the session log itself: the slow PIN hash and every query go out through an
``AdminCommands`` object (the bridge, which runs them off the GUI thread) and the answers come
back through the ``apply_*`` slots as copied values. Stale answers (the filters changed
meanwhile) are recognised by their request number and dropped.

Words are the QML's (``Words.qml``, through ``qsTr``): this module hands over codes
("completed", "staff") and numbers.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Optional, Protocol, Sequence
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    Property, QAbstractListModel, QByteArray, QModelIndex, QObject, QPersistentModelIndex, Qt,
    QTimer, Signal, Slot,
)

from kiosk.call.engine import SessionFilter
from kiosk.sessions.model import END_REASONS, STARTED_BY, SessionRecord
from kiosk.sessions.pin import FREE_FAILURES

log = logging.getLogger("kiosk.ui.admin")

# pages of the admin area
PIN, NO_PIN, MENU, LOG, REPORT = "pin", "nopin", "menu", "log", "report"
PERIOD_KINDS = ("day", "week", "month", "year", "all")
LOG_LIMIT = 500  # rows the usage log shows at most (newest first)
NO_CATEGORY = "-"  # the category filter's value for sessions without one


class AdminCommands(Protocol):
    def pin_status(self, request: int) -> None: ...
    def check_pin(self, request: int, pin: str) -> None: ...
    def list_sessions(self, request: int, filters: SessionFilter) -> None: ...
    def session_events(self, session_id: str) -> None: ...
    def build_report(self, request: int, start: Optional[float], end: float, tz: str) -> None: ...
    def export_report(self, request: int, report, fmt: str, folder: Path) -> None: ...


# --- periods in the hall's own time ---------------------------------------------------------

@dataclass(frozen=True)
class Period:
    kind: str  # day, week, month, year, all
    start: Optional[datetime]  # None: since the beginning
    end: Optional[datetime]  # exclusive

    @property
    def label(self) -> str:
        """Numbers only (no words to translate): 2026-11-23, 2026-11-16 – 11-22, 2026-11, 2026."""
        if self.start is None or self.end is None:
            return ""
        last = (self.end - timedelta(days=1)).date()
        if self.kind == "day":
            return self.start.strftime("%Y-%m-%d")
        if self.kind == "week":
            return f"{self.start:%Y-%m-%d} – {last:%m-%d}"
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        if self.kind == "year":
            return self.start.strftime("%Y")
        return f"{self.start:%Y-%m-%d} – {last:%Y-%m-%d}"


def _local_midnight(d: date, zone: ZoneInfo) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=zone)


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period(kind: str, offset: int, now: datetime, zone: ZoneInfo) -> Period:
    """The day/week (Monday first)/month/year containing ``now`` in ``zone``, moved by
    ``offset`` of them (-1 = the one before)."""
    today = now.astimezone(zone).date()
    if kind == "day":
        first = today + timedelta(days=offset)
        last = first + timedelta(days=1)
    elif kind == "week":
        first = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
        last = first + timedelta(weeks=1)
    elif kind == "month":
        first = _add_months(today.replace(day=1), offset)
        last = _add_months(first, 1)
    elif kind == "year":
        first = date(today.year + offset, 1, 1)
        last = date(first.year + 1, 1, 1)
    else:
        return Period("all", None, None)
    return Period(kind, _local_midnight(first, zone), _local_midnight(last, zone))


# --- how a session reads on screen ---------------------------------------------------------

def clock_text(seconds: Optional[float]) -> str:
    """0:42, 12:05, 1:02:03; "" when unknown."""
    if seconds is None:
        return ""
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def quality_summary(text: Optional[str]) -> dict:
    """The stored quality JSON (``kiosk.call.quality.summarize``) as figures and an overall
    level (good / fair / poor, the call screen's thresholds applied to the medians); the QML
    puts them into words. ``{"available": False}`` when the call never had media."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return {"available": False}

    def pair(name: str) -> Optional[list]:
        value = data.get(name)
        if isinstance(value, dict) and value.get("median") is not None:
            return [value["median"], value.get("worst", value["median"])]
        return None

    fps = [p[0] for p in (pair("fps_in"), pair("fps_out")) if p is not None]
    loss, rtt = pair("loss_pct"), pair("rtt_ms")
    low_s = float(data.get("low_fps_seconds") or 0)
    scale = float(data.get("smallest_scale") or 1.0)
    lowest_fps = min(fps) if fps else None
    if (lowest_fps is not None and lowest_fps < 20) or (loss and loss[0] > 8) or (rtt and rtt[0] > 800):
        level = "poor"
    elif ((lowest_fps is not None and lowest_fps < 25) or (loss and loss[0] > 2)
          or (rtt and rtt[0] > 400) or scale < 1.0 or low_s > 0):
        level = "fair"
    else:
        level = "good"
    return {"available": True, "level": level, "samples": int(data.get("samples") or 0),
            "fpsIn": pair("fps_in"), "fpsOut": pair("fps_out"), "kbpsIn": pair("kbps_in"),
            "kbpsOut": pair("kbps_out"), "lossPct": loss, "rttMs": rtt,
            "lowFpsSeconds": low_s, "smallestScalePct": round(scale * 100)}


def _share(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value * 100, 1)


def report_view(data) -> dict:
    """What the report page shows of a ``ReportData``: the period's main figures, sessions per
    day (per month beyond two months) answered and not, and the waits' distribution."""
    report, f = data.report, data.report.totals
    groups = [(g.key, g.figures) for g in report.by_day]
    by_month = len(groups) > 62
    if by_month:
        months: dict[str, list[int]] = {}
        for key, fig in groups:
            m = months.setdefault(key[:7], [0, 0])
            m[0] += fig.answered
            m[1] += fig.sessions - fig.answered
        bars = [(key, a, u) for key, (a, u) in months.items()]
    else:
        bars = [(key[5:], fig.answered, fig.sessions - fig.answered) for key, fig in groups]
    return {
        "ready": True,
        "label": report.period.label,
        "sessions": f.sessions, "answered": f.answered, "answeredPct": _share(f.answered_share),
        "within30Pct": _share(f.answered_within_30s_share), "abandoned": f.abandoned,
        "waitMedian": clock_text(f.wait_median_s), "waitP90": clock_text(f.wait_p90_s),
        "talkMean": clock_text(f.talk_mean_s), "satisfiedPct": _share(f.satisfaction_share),
        "rated": f.rated, "byResident": f.started_by_resident, "byStaff": f.started_by_staff,
        "byMonth": by_month,
        "barLabels": [b[0] for b in bars],
        "barAnswered": [b[1] for b in bars],
        "barUnanswered": [b[2] for b in bars],
        "barMax": max([b[1] + b[2] for b in bars] + [0]),
        "waitCounts": list(data.wait_counts),
        "waitEdges": [int(e) for e in data.wait_edges_s],
        "waitMax": max(list(data.wait_counts) + [0]),
    }


class SessionLogModel(QAbstractListModel):
    """The usage log's rows, newest first: codes and numbers, the QML turns codes into words."""

    ROLES = ("sessionId", "time", "startedBy", "category", "waitText", "talkText", "endReason",
             "rating", "answered", "state")

    def __init__(self, zone: ZoneInfo, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._zone = zone
        self._records: list[SessionRecord] = []
        self._roles = {Qt.ItemDataRole.UserRole + i: name for i, name in enumerate(self.ROLES)}

    def roleNames(self) -> dict:
        return {role: QByteArray(name.encode()) for role, name in self._roles.items()}

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._records)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        rec = self._records[index.row()]
        name = self._roles.get(role)
        if name is None and role == Qt.ItemDataRole.DisplayRole:
            name = "sessionId"
        return {
            "sessionId": lambda: rec.session_id,
            "time": lambda: datetime.fromtimestamp(rec.requested_at, self._zone).strftime("%Y-%m-%d %H:%M"),
            "startedBy": lambda: rec.started_by,
            "category": lambda: rec.category or "",
            "waitText": lambda: clock_text(rec.wait_s),
            "talkText": lambda: clock_text(rec.talk_s) if rec.connected_at is not None else "",
            "endReason": lambda: rec.end_reason or "",
            "rating": lambda: rec.rating or 0,
            "answered": lambda: rec.answered_at is not None,
            "state": lambda: rec.state,
        }.get(name, lambda: None)()

    def set_records(self, records: Sequence[SessionRecord]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def record(self, row: int) -> Optional[SessionRecord]:
        return self._records[row] if 0 <= row < len(self._records) else None

    @property
    def records(self) -> list[SessionRecord]:
        return list(self._records)


class AdminViewModel(QObject):
    changed = Signal()
    logChanged = Signal()
    detailChanged = Signal()
    reportChanged = Signal()
    leaveKioskRequested = Signal()  # "leave kiosk mode", confirmed: the app quits

    def __init__(self, kiosk, commands: AdminCommands, categories: Sequence[str] = (),
                 timezone: str = "Asia/Shanghai", exports_dir: Optional[Path] = None,
                 clock=time.time, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._kiosk = kiosk  # KioskViewModel: which screen shows
        self._commands = commands
        self._categories = list(categories)
        self._timezone = timezone
        self._exports_dir = exports_dir
        self._zone = ZoneInfo(timezone)
        self._clock = clock
        self.sessions = SessionLogModel(self._zone, self)
        self._pin_request = 0  # numbers the PIN pad's questions: a late answer is not taken
        self._reset()
        self._lock_timer = QTimer(self)
        self._lock_timer.setInterval(500)
        self._lock_timer.timeout.connect(self._on_lock_tick)
        kiosk.adminEntered.connect(self.begin)
        kiosk.adminLeft.connect(self.end)

    def _reset(self) -> None:
        self._page = PIN
        self._digits = ""
        self._pin_busy = False
        self._pin_error = ""  # "", wrong, locked, short, failed
        self._failures = 0
        self._locked_until = 0.0  # time.monotonic() until which the pad is locked
        self._confirm_leave = False
        self._kind, self._offset = "month", 0
        self._reason = self._category = self._started_by = ""
        self._request = 0
        self._loading = False
        self._truncated = False
        self._detail: dict = {}
        self._report = None  # the ReportData shown
        self._report_error = False
        self._export = ""  # "", busy, done, failed
        self._export_path = ""

    # --- entering and leaving -------------------------------------------------------------

    @Slot()
    def begin(self) -> None:
        """The admin area opened: the PIN pad, disabled until the PIN file has been read."""
        self._reset()
        self._pin_busy = True
        self.sessions.set_records(())
        self._pin_request += 1
        self._commands.pin_status(self._pin_request)
        self._emit_all()

    @Slot()
    def end(self) -> None:
        """Back to Welcome: nothing typed or read here stays in memory or on screen."""
        self._reset()
        self._pin_request += 1  # whatever is still being checked no longer counts
        self._lock_timer.stop()
        self.sessions.set_records(())
        self._emit_all()

    def _emit_all(self) -> None:
        self.changed.emit()
        self.logChanged.emit()
        self.detailChanged.emit()
        self.reportChanged.emit()

    @Slot()
    def close(self) -> None:
        self._kiosk.closeAdmin()

    @property
    def unlocked(self) -> bool:
        return self._page in (MENU, LOG, REPORT)

    # --- the PIN pad ------------------------------------------------------------------------

    def _locked_seconds(self) -> int:
        return max(0, math.ceil(self._locked_until - time.monotonic()))

    def _set_lock(self, seconds: float) -> None:
        self._locked_until = time.monotonic() + seconds
        if seconds > 0:
            self._lock_timer.start()

    def _on_lock_tick(self) -> None:
        if self._locked_seconds() <= 0:
            self._lock_timer.stop()
            if self._pin_error == "locked":
                self._pin_error = ""
        self.changed.emit()

    @Slot(int, bool, object)
    def apply_pin_status(self, request: int, has_pin: bool, status) -> None:
        if request != self._pin_request or self._page not in (PIN, NO_PIN):
            return
        self._pin_busy = False
        if not has_pin:
            self._page = NO_PIN
        else:
            self._page = PIN
            self._failures = status.failures
            self._set_lock(status.locked_for_s)
            if status.locked_for_s > 0:
                self._pin_error = "locked"
        self.changed.emit()

    @Slot(str)
    def pinDigit(self, digit: str) -> None:
        if (self._page != PIN or self._pin_busy or self._locked_seconds() > 0
                or len(digit) != 1 or digit not in "0123456789" or len(self._digits) >= 12):
            return
        self._digits += digit
        if self._pin_error in ("wrong", "short", "failed"):
            self._pin_error = ""
        self.changed.emit()

    @Slot()
    def pinBackspace(self) -> None:
        if self._page == PIN and not self._pin_busy and self._digits:
            self._digits = self._digits[:-1]
            self.changed.emit()

    @Slot()
    def pinSubmit(self) -> None:
        if self._page != PIN or self._pin_busy or self._locked_seconds() > 0:
            return
        if len(self._digits) < 4:
            self._pin_error = "short"
            self.changed.emit()
            return
        pin, self._digits = self._digits, ""  # the typed PIN is not kept
        self._pin_busy = True
        self._pin_error = ""
        self.changed.emit()
        self._pin_request += 1
        self._commands.check_pin(self._pin_request, pin)

    @Slot(int, object)
    def apply_pin_result(self, request: int, result) -> None:
        """A ``CheckResult`` for the PIN sent, or an exception if it could not be checked."""
        if request != self._pin_request or self._page != PIN or not self._pin_busy:
            return
        self._pin_busy = False
        if isinstance(result, BaseException):
            self._pin_error = "failed"
        elif result.ok:
            self._page = MENU
            self._failures = 0
            self._pin_error = ""
            log.info("admin area unlocked")
        else:
            self._failures = result.failures
            self._set_lock(result.locked_for_s)
            self._pin_error = "locked" if result.locked_for_s > 0 else "wrong"
        self.changed.emit()

    # --- the menu -----------------------------------------------------------------------------

    @Slot()
    def back(self) -> None:
        """From the log or a report to the menu."""
        if self._page in (LOG, REPORT):
            self._page = MENU
            self._detail = {}
            self._report = None
            self._export = self._export_path = ""
            self.sessions.set_records(())
            self._emit_all()

    @Slot()
    def openLog(self) -> None:
        if self.unlocked:
            self._page = LOG
            self.changed.emit()
            self.refresh()

    @Slot()
    def openReport(self) -> None:
        if self.unlocked:
            self._page = REPORT
            self.changed.emit()
            self.refresh()

    @Slot()
    def openDeviceCheck(self) -> None:
        if self._page == MENU:
            self._kiosk.openDeviceCheck()

    @Slot()
    def askLeaveKiosk(self) -> None:
        if self._page == MENU:
            self._confirm_leave = True
            self.changed.emit()

    @Slot()
    def cancelLeaveKiosk(self) -> None:
        self._confirm_leave = False
        self.changed.emit()

    @Slot()
    def leaveKiosk(self) -> None:
        if self._page == MENU and self._confirm_leave:
            self._confirm_leave = False
            log.warning("leaving kiosk mode (admin)")
            self.changed.emit()
            self.leaveKioskRequested.emit()

    # --- filters and the log ----------------------------------------------------------------

    def current_period(self) -> Period:
        return period(self._kind, self._offset, datetime.fromtimestamp(self._clock(), self._zone), self._zone)

    def current_filter(self) -> SessionFilter:
        p = self.current_period()
        category: Optional[str] = None
        if self._category == NO_CATEGORY:
            category = ""
        elif self._category:
            category = self._category
        return SessionFilter(start=p.start.timestamp() if p.start else None,
                             end=p.end.timestamp() if p.end else None,
                             end_reason=self._reason or None, category=category,
                             started_by=self._started_by or None, limit=LOG_LIMIT + 1)

    @Slot()
    def refresh(self) -> None:
        """Ask again for what the open page shows (after a filter changed)."""
        if self._page == LOG:
            self._request += 1
            self._loading = True
            self.logChanged.emit()
            self._commands.list_sessions(self._request, self.current_filter())
        elif self._page == REPORT:
            self._request += 1
            self._loading = True
            self._report_error = False
            self._export = self._export_path = ""
            self.logChanged.emit()
            self.reportChanged.emit()
            p = self.current_period()
            if p.start is None:  # everything: up to the end of today
                end = period("day", 0, datetime.fromtimestamp(self._clock(), self._zone), self._zone).end
                self._commands.build_report(self._request, None, end.timestamp(), self._timezone)
            else:
                self._commands.build_report(self._request, p.start.timestamp(), p.end.timestamp(),
                                            self._timezone)

    @Slot(int, object)
    def apply_report(self, request: int, data) -> None:
        if request != self._request or self._page != REPORT:
            return
        self._loading = False
        if isinstance(data, BaseException):
            self._report, self._report_error = None, True
        else:
            self._report = data
        self.logChanged.emit()
        self.reportChanged.emit()

    @Slot(str)
    def exportReport(self, fmt: str) -> None:
        """The report shown, as CSV or Excel, into the data folder's ``exports``."""
        if (self._page != REPORT or self._report is None or self._export == "busy"
                or fmt not in ("csv", "xlsx") or self._exports_dir is None):
            return
        self._export, self._export_path = "busy", ""
        self.reportChanged.emit()
        self._commands.export_report(self._request, self._report.report, fmt, self._exports_dir)

    @Slot(int, object)
    def apply_export(self, request: int, result) -> None:
        if request != self._request or self._page != REPORT:
            return
        if isinstance(result, BaseException):
            self._export, self._export_path = "failed", ""
        else:
            self._export, self._export_path = "done", str(result)
        self.reportChanged.emit()

    @Slot(int, object)
    def apply_sessions(self, request: int, records) -> None:
        if request != self._request or self._page != LOG:
            return  # an answer to filters no longer shown
        self._loading = False
        if isinstance(records, BaseException):
            log.error("the usage log could not be read: %s", records)
            records = []
        self._truncated = len(records) > LOG_LIMIT
        self.sessions.set_records(records[:LOG_LIMIT])
        self.logChanged.emit()

    @Slot(str)
    def setPeriodKind(self, kind: str) -> None:
        if kind in PERIOD_KINDS:
            self._kind, self._offset = kind, 0
            self.logChanged.emit()
            self.refresh()

    @Slot(int)
    def shiftPeriod(self, steps: int) -> None:
        if self._kind != "all":
            self._offset = min(0, self._offset + steps)  # nothing is recorded in the future
            self.logChanged.emit()
            self.refresh()

    @Slot(str)
    def setReason(self, reason: str) -> None:
        if reason == "" or reason in END_REASONS:
            self._reason = reason
            self.logChanged.emit()
            self.refresh()

    @Slot(str)
    def setCategory(self, category: str) -> None:
        if category in ("", NO_CATEGORY) or category in self._categories:
            self._category = category
            self.logChanged.emit()
            self.refresh()

    @Slot(str)
    def setStartedBy(self, who: str) -> None:
        if who == "" or who in STARTED_BY:
            self._started_by = who
            self.logChanged.emit()
            self.refresh()

    # --- one session's details --------------------------------------------------------------

    @Slot(int)
    def showDetails(self, row: int) -> None:
        rec = self.sessions.record(row)
        if rec is None or self._page != LOG:
            return
        self._detail = self._detail_of(rec)
        self.detailChanged.emit()
        self._commands.session_events(rec.session_id)

    @Slot()
    def closeDetails(self) -> None:
        self._detail = {}
        self.detailChanged.emit()

    @Slot(str, object)
    def apply_events(self, session_id: str, events) -> None:
        if self._detail.get("sessionId") != session_id or isinstance(events, BaseException):
            return
        self._detail = dict(self._detail, events=[
            {"state": state, "time": self._time(at, seconds=True)} for state, at in events])
        self.detailChanged.emit()

    def _time(self, at: Optional[float], seconds: bool = False) -> str:
        if at is None:
            return ""
        return datetime.fromtimestamp(at, self._zone).strftime(
            "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")

    def _detail_of(self, rec: SessionRecord) -> dict:
        return {
            "sessionId": rec.session_id, "kioskId": rec.kiosk_id, "startedBy": rec.started_by,
            "category": rec.category or "", "state": rec.state,
            "requestedAt": self._time(rec.requested_at, True), "answeredAt": self._time(rec.answered_at, True),
            "connectedAt": self._time(rec.connected_at, True), "endedAt": self._time(rec.ended_at, True),
            "waitText": clock_text(rec.wait_s),
            "talkText": clock_text(rec.talk_s) if rec.connected_at is not None else "",
            "endReason": rec.end_reason or "", "endedBy": rec.ended_by or "",
            "interpreterId": rec.interpreter_id or "", "rating": rec.rating or 0,
            "rated": rec.rated_at is not None, "ratedAt": self._time(rec.rated_at, True),
            "appVersion": rec.app_version, "quality": quality_summary(rec.quality), "events": [],
        }

    # --- properties for QML -------------------------------------------------------------------

    def _get_page(self) -> str:
        return self._page

    def _get_pin_length(self) -> int:
        return len(self._digits)

    def _get_pin_busy(self) -> bool:
        return self._pin_busy

    def _get_pin_error(self) -> str:
        return self._pin_error

    def _get_tries_left(self) -> int:
        """Wrong PINs still possible before the pad locks."""
        return max(0, FREE_FAILURES + 1 - self._failures)

    def _get_locked_seconds(self) -> int:
        return self._locked_seconds()

    def _get_confirm_leave(self) -> bool:
        return self._confirm_leave

    def _get_period_kind(self) -> str:
        return self._kind

    def _get_period_label(self) -> str:
        return self.current_period().label

    def _get_period_offset(self) -> int:
        return self._offset

    def _get_reason(self) -> str:
        return self._reason

    def _get_category(self) -> str:
        return self._category

    def _get_started_by(self) -> str:
        return self._started_by

    def _get_loading(self) -> bool:
        return self._loading

    def _get_count(self) -> int:
        return self.sessions.rowCount()

    def _get_truncated(self) -> bool:
        return self._truncated

    def _get_detail(self) -> dict:
        return dict(self._detail)

    def _get_reasons(self) -> list:
        return list(END_REASONS)

    def _get_categories(self) -> list:
        return list(self._categories)

    def _get_log_limit(self) -> int:
        return LOG_LIMIT

    def _get_sessions(self) -> QObject:
        return self.sessions

    def _get_report(self) -> dict:
        if self._report is None:
            return {"ready": False, "failed": self._report_error}
        return report_view(self._report)

    def _get_export(self) -> str:
        return self._export

    def _get_export_path(self) -> str:
        return self._export_path

    def _get_exports_dir(self) -> str:
        return str(self._exports_dir or "")

    page = Property(str, _get_page, notify=changed)
    pinLength = Property(int, _get_pin_length, notify=changed)
    pinBusy = Property(bool, _get_pin_busy, notify=changed)
    pinError = Property(str, _get_pin_error, notify=changed)
    triesLeft = Property(int, _get_tries_left, notify=changed)
    lockedSeconds = Property(int, _get_locked_seconds, notify=changed)
    confirmLeave = Property(bool, _get_confirm_leave, notify=changed)
    periodKind = Property(str, _get_period_kind, notify=logChanged)
    periodLabel = Property(str, _get_period_label, notify=logChanged)
    periodOffset = Property(int, _get_period_offset, notify=logChanged)
    reason = Property(str, _get_reason, notify=logChanged)
    category = Property(str, _get_category, notify=logChanged)
    startedBy = Property(str, _get_started_by, notify=logChanged)
    loading = Property(bool, _get_loading, notify=logChanged)
    count = Property(int, _get_count, notify=logChanged)
    truncated = Property(bool, _get_truncated, notify=logChanged)
    detail = Property("QVariantMap", _get_detail, notify=detailChanged)
    reasons = Property(list, _get_reasons, constant=True)
    categories = Property(list, _get_categories, constant=True)
    logLimit = Property(int, _get_log_limit, constant=True)
    sessionModel = Property(QObject, _get_sessions, constant=True)
    report = Property("QVariantMap", _get_report, notify=reportChanged)
    exportState = Property(str, _get_export, notify=reportChanged)
    exportPath = Property(str, _get_export_path, notify=reportChanged)
    exportsDir = Property(str, _get_exports_dir, constant=True)
