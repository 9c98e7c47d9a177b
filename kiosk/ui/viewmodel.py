"""What the QML screens show, derived from the call engine's ``CallEvent`` snapshots.

The view-model lives on the GUI thread. It never talks to aiortc: user actions go out through a
``Commands`` object (the bridge), state comes in through ``apply_event``. Which screen is shown
is decided here, in Python, so it can be tested without QML.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional, Protocol

from PySide6.QtCore import Property, QObject, QStandardPaths, QTimer, Signal, Slot

from kiosk.call.states import BEFORE_ANSWER, CallEvent, CallState, EndReason

log = logging.getLogger("kiosk.ui.viewmodel")


def pinyin_user_dictionary() -> Path:
    """Where Qt Virtual Keyboard's Pinyin keeps the words a user chose."""
    config = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(config) / "qtvirtualkeyboard" / "pinyin" / "usr_dict.dat"


# Screens, in the order a resident meets them.
WELCOME, CONNECTING, CALL, RATING, NOTICE = "welcome", "connecting", "call", "rating", "notice"
STAFF = "staff"  # counter staff start a session for a resident, naming the matter
ADMIN = "admin"  # behind a hidden gesture and a PIN: usage log, reports, device check, leave
DEVICE_CHECK = "devicecheck"  # for technicians
# Screens the engine's own late return to idle must not take away.
KEEP_ON_IDLE = (RATING, NOTICE, DEVICE_CHECK, STAFF, ADMIN)
# Screens that go back to Welcome after idle_timeout_s without a touch (a call in progress is
# never cut short: the resident signs and does not touch the screen).
LEAVE_WHEN_IDLE = (RATING, NOTICE, DEVICE_CHECK, STAFF, ADMIN)

# End reasons that need explaining to the resident; others go straight back to Welcome.
NOTICE_REASONS = {
    EndReason.NO_INTERPRETER,
    EndReason.OUT_OF_HOURS,
    EndReason.DECLINED,
    EndReason.DISPATCH_UNREACHABLE,
    EndReason.NETWORK_LOST,
    EndReason.DEVICE_ERROR,
}
RATING_LEVELS = (5, 4, 3, 2, 1)  # 非常满意 … 非常不满意
NOTICE_SECONDS = 12


class Commands(Protocol):
    def request_call(self, started_by: str = "resident", category: Optional[str] = None) -> None: ...
    def cancel(self) -> None: ...
    def hang_up(self) -> None: ...
    def rate(self, session_id: str, level: Optional[int]) -> None: ...
    def start_device_check(self) -> None: ...
    def stop_device_check(self) -> None: ...
    def play_test_tone(self) -> None: ...
    def confirm_speaker(self, heard: bool) -> None: ...
    def recheck_dispatch(self) -> None: ...
    def send_text(self, text: str) -> None: ...
    def erase(self, count: int) -> None: ...


class KioskViewModel(QObject):
    changed = Signal()
    remoteSinkAttached = Signal(QObject)
    selfSinkAttached = Signal(QObject)
    checkChanged = Signal()
    adminEntered = Signal()  # the admin area opened (its PIN pad first)
    adminLeft = Signal()  # back to Welcome: nothing of the admin area may stay
    textChanged = Signal()  # real-time text: the panel, the mode or either side's text
    textCleared = Signal()  # the call's text is gone (the screens and the keyboard forget it)
    hoursChanged = Signal()  # the service opened or closed, or the next opening moved
    idleReturn = Signal()  # nobody touched the screen for idle_timeout_s: back to Welcome

    def __init__(self, commands: Commands, location: str = "", rating_timeout_s: float = 20,
                 service_hours=None, categories: tuple[str, ...] = (), idle_timeout_s: float = 90,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._commands = commands
        self._location = location
        self._categories = list(categories)
        self.idle_timeout_s = float(idle_timeout_s)  # the staff panel and admin area close after this
        self._last_touch = time.monotonic()
        self._check_from = WELCOME  # where the device check returns to
        self._service_hours = service_hours
        self._online = False
        self._quality = None  # the latest QualitySample of the current call
        self._missing: frozenset[str] = frozenset()  # devices that do not work: camera, …
        self._check = None  # DeviceCheckReport while the device check screen is open
        self._self_sinks: dict[str, QObject] = {}  # the call screen's and the check screen's
        self._rating_timeout = int(rating_timeout_s)
        self._event = CallEvent(state=CallState.IDLE)
        self._screen = WELCOME
        self._rated_session: Optional[str] = None
        self._countdown = 0
        self._text_open = False
        self._text_only = False
        self._interpreter_text = ""
        self._resident_text = ""
        self.clock = lambda: datetime.now(timezone.utc)  # the hours' clock (tests set their own)
        self._hours: tuple = (False, None, None)  # (closed now, next opening local, today)
        self.refreshHours()
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start()

    # --- state in -------------------------------------------------------------------------

    @Slot(object)
    def apply_event(self, event: CallEvent) -> None:
        self._event = event
        shown = self._screen
        state = event.state
        if state is CallState.IDLE:
            # the engine's own return to idle (after a rating) comes late: it must not take
            # the resident's next screen, or a technician's, away
            if self._screen not in KEEP_ON_IDLE:
                self._screen = WELCOME
        elif state in BEFORE_ANSWER or state is CallState.CONNECTING:
            self._screen = CONNECTING
        elif state in (CallState.CONNECTED, CallState.RECONNECTING):
            self._screen = CALL
        elif state is CallState.ENDED:
            self._quality = None
            self._clear_text()
            if event.answered:
                self._screen = RATING
                self._countdown = self._rating_timeout
            elif event.reason in NOTICE_REASONS:
                self._screen = NOTICE
                self._countdown = NOTICE_SECONDS
            else:
                self._screen = WELCOME
        if self._screen != shown:
            # idle time counts from the screen's arrival too: a call the interpreter ended
            # after minutes without a touch still gets its rating screen
            self._last_touch = time.monotonic()
        self.changed.emit()

    def _on_tick(self) -> None:
        self.refreshHours()
        if self._screen in LEAVE_WHEN_IDLE and time.monotonic() - self._last_touch > self.idle_timeout_s:
            self.returnWhenIdle()
            return
        if self._screen in (RATING, NOTICE):
            self._countdown -= 1
            if self._countdown <= 0:
                if self._screen == RATING:
                    self.skipRating()
                else:
                    self.dismissNotice()
                return
        if self._screen in (CONNECTING, CALL, RATING, NOTICE):
            self.changed.emit()  # clocks on screen

    # --- properties for QML ---------------------------------------------------------------

    def _get_screen(self) -> str:
        return self._screen

    def _get_state(self) -> str:
        return self._event.state.value

    def _get_reason(self) -> str:
        return self._event.reason.value if self._event.reason else ""

    def _get_position(self) -> int:
        return self._event.queue_position or 0

    def _get_estimate(self) -> int:
        e = self._event.estimated_wait_s
        return -1 if e is None else int(round(e))

    def _get_wait_seconds(self) -> int:
        start = self._event.requested_at
        if start is None:
            return 0
        end = self._event.answered_at or self._event.ended_at or time.time()
        return max(0, int(end - start))

    def _get_call_seconds(self) -> int:
        start = self._event.connected_at
        if start is None:
            return 0
        end = self._event.ended_at or time.time()
        return max(0, int(end - start))

    def _get_countdown(self) -> int:
        return max(0, self._countdown)

    def _get_location(self) -> str:
        return self._location

    def _get_reconnecting(self) -> bool:
        return self._event.state is CallState.RECONNECTING

    def _get_reconnecting_seconds(self) -> int:
        """How long the call has been trying to get its picture back (0 when it is not)."""
        if self._event.state is not CallState.RECONNECTING:
            return 0
        return max(0, int(time.time() - self._event.at))

    def _get_online(self) -> bool:
        return self._online

    def _get_next_opening(self) -> str:
        """When the service opens again, for the out-of-hours notice ("" if unknown)."""
        if self._service_hours is None or self._event.reason is not EndReason.OUT_OF_HOURS:
            return ""
        at = datetime.fromtimestamp(self._event.ended_at or time.time()).astimezone()
        opening = self._service_hours.next_opening(at)
        return opening.strftime("%m-%d %H:%M") if opening else ""

    def _get_quality_level(self) -> str:
        if self._event.state is CallState.RECONNECTING:
            return "poor"  # the last sample was taken before the media stopped
        return self._quality.level if self._quality is not None else ""

    def _get_low_frame_rate(self) -> bool:
        return bool(self._quality is not None and self._quality.low_fps)

    def _get_missing_devices(self) -> list:
        return sorted(self._missing)

    def _get_categories(self) -> list:
        return list(self._categories)

    # --- idle and attract ----------------------------------------------------------------------

    @Slot()
    def returnWhenIdle(self) -> None:
        """Nobody is in front of the kiosk any more: back to Welcome from wherever a resident,
        the staff or a technician left it (not from a call in progress), and nothing of what
        they saw stays: the call's figures, the rating, the admin area's PIN, log filters and
        details, the device check."""
        if self._screen not in LEAVE_WHEN_IDLE:
            return
        if self._screen == RATING:
            self.skipRating()
        elif self._screen == NOTICE:
            self.dismissNotice()
        elif self._screen == STAFF:
            self.closeStaffPanel()
        elif self._screen == DEVICE_CHECK:
            self._check_from = WELCOME
            self.closeDeviceCheck()
            self.adminLeft.emit()  # it may have been opened from the admin area
        elif self._screen == ADMIN:
            self.closeAdmin()
        self.idleReturn.emit()

    # --- service hours on Welcome ----------------------------------------------------------------

    @Slot()
    def refreshHours(self) -> None:
        """Is the service closed now, and when does it open next (checked every second)."""
        hours = self._service_hours
        if hours is None:
            state: tuple = (False, None, None)
        else:
            now = self.clock()
            closed = not hours.is_open(now)
            opening = hours.next_opening(now) if closed else None
            # today's date too: "tomorrow" becomes "today" at midnight
            state = (closed, opening.astimezone(hours.zone) if opening else None,
                     now.astimezone(hours.zone).date())
        if state != self._hours:
            self._hours = state
            self.hoursChanged.emit()

    def _get_out_of_hours(self) -> bool:
        return self._hours[0]

    def _get_opens_at(self) -> str:
        """The next opening's time of day, "08:30" ("" when closed for good)."""
        return self._hours[1].strftime("%H:%M") if self._hours[1] else ""

    def _get_opens_date(self) -> str:
        """The next opening's date, "11-24" (numbers only: no words to translate)."""
        return self._hours[1].strftime("%m-%d") if self._hours[1] else ""

    def _get_opens_in_days(self) -> int:
        """0 = later today, 1 = tomorrow, …; -1 when no opening is configured."""
        closed, opening, today = self._hours
        return (opening.date() - today).days if opening else -1

    def _get_opens_weekday(self) -> int:
        """1 = Monday … 7 = Sunday (ISO), -1 when unknown; the QML names the day."""
        return self._hours[1].isoweekday() if self._hours[1] else -1

    def _get_alternatives(self) -> list:
        hours = self._service_hours
        alternatives = getattr(hours, "alternatives", ()) if hours is not None else ()
        return [{"kind": a.kind, "value": a.value} for a in alternatives]

    outOfHours = Property(bool, _get_out_of_hours, notify=hoursChanged)
    opensAt = Property(str, _get_opens_at, notify=hoursChanged)
    opensDate = Property(str, _get_opens_date, notify=hoursChanged)
    opensInDays = Property(int, _get_opens_in_days, notify=hoursChanged)
    opensWeekday = Property(int, _get_opens_weekday, notify=hoursChanged)
    alternatives = Property(list, _get_alternatives, constant=True)

    # --- the device check (technicians) -----------------------------------------------------

    @Slot()
    def openDeviceCheck(self) -> None:
        """From Welcome (``kiosk --device-check``) or the admin area, between calls."""
        if self._screen not in (WELCOME, ADMIN) or self._event.state not in (CallState.IDLE, CallState.ENDED):
            return
        self._check_from = self._screen
        self._last_touch = time.monotonic()
        self._screen = DEVICE_CHECK
        if "check" in self._self_sinks:
            self.selfSinkAttached.emit(self._self_sinks["check"])
        self._commands.start_device_check()
        self.changed.emit()

    @Slot()
    def closeDeviceCheck(self) -> None:
        if self._screen != DEVICE_CHECK:
            return
        self._commands.stop_device_check()
        if "call" in self._self_sinks:
            self.selfSinkAttached.emit(self._self_sinks["call"])
        self._check = None
        if self._check_from == ADMIN:
            self._check_from = WELCOME
            self._last_touch = time.monotonic()
            self._screen = ADMIN
            self.changed.emit()
        else:
            self._back_to_welcome()
        self.checkChanged.emit()

    @Slot()
    def playTestTone(self) -> None:
        if self._screen == DEVICE_CHECK:
            self._commands.play_test_tone()

    @Slot(bool)
    def confirmSpeaker(self, heard: bool) -> None:
        if self._screen == DEVICE_CHECK:
            self._commands.confirm_speaker(heard)

    @Slot()
    def recheckDispatch(self) -> None:
        if self._screen == DEVICE_CHECK:
            self._commands.recheck_dispatch()

    @Slot(object)
    def apply_device_check(self, report) -> None:
        if self._screen == DEVICE_CHECK:
            self._check = report
            self.checkChanged.emit()

    def _get_check(self) -> dict:
        r = self._check
        if r is None:
            return {}
        rows = {name: {"result": getattr(r, name).result, "detail": getattr(r, name).detail}
                for name in ("camera", "microphone", "speaker", "dispatch")}
        rows.update(cameraFps=r.camera_fps, micDbfs=r.mic_dbfs, micPeakDbfs=r.mic_peak_dbfs,
                    tonePlaying=r.tone_playing, dispatchMs=r.dispatch_ms if r.dispatch_ms is not None else -1)
        rows.update(micRawDbfs=r.mic_raw_dbfs, processing=list(r.processing),
                    processingProblem=r.processing_problem)
        return rows

    check = Property("QVariantMap", _get_check, notify=checkChanged)

    @Slot(object)
    def apply_devices(self, states) -> None:
        """The call engine's ``DeviceState`` tuple: which devices do not work now."""
        missing = frozenset(s.name for s in states if not s.ok)
        if missing != self._missing:
            self._missing = missing
            self.changed.emit()

    @Slot(object)
    def apply_quality(self, sample) -> None:
        """A quality sample of the call in progress (ignored outside a call)."""
        if self._screen == CALL:
            self._quality = sample
            self.changed.emit()

    @Slot(bool)
    def set_online(self, online: bool) -> None:
        """The link to dispatch came up or went down."""
        if online != self._online:
            self._online = online
            self.changed.emit()

    screen = Property(str, _get_screen, notify=changed)
    callState = Property(str, _get_state, notify=changed)
    endReason = Property(str, _get_reason, notify=changed)
    queuePosition = Property(int, _get_position, notify=changed)
    estimatedWaitSeconds = Property(int, _get_estimate, notify=changed)
    waitSeconds = Property(int, _get_wait_seconds, notify=changed)
    callSeconds = Property(int, _get_call_seconds, notify=changed)
    countdown = Property(int, _get_countdown, notify=changed)
    location = Property(str, _get_location, constant=True)
    reconnecting = Property(bool, _get_reconnecting, notify=changed)
    reconnectingSeconds = Property(int, _get_reconnecting_seconds, notify=changed)
    online = Property(bool, _get_online, notify=changed)
    qualityLevel = Property(str, _get_quality_level, notify=changed)
    missingDevices = Property(list, _get_missing_devices, notify=changed)
    lowFrameRate = Property(bool, _get_low_frame_rate, notify=changed)
    nextOpening = Property(str, _get_next_opening, notify=changed)
    categories = Property(list, _get_categories, constant=True)

    # --- actions from QML -----------------------------------------------------------------

    @Slot()
    def startCall(self) -> None:
        if self._screen == WELCOME and self._event.state in (CallState.IDLE, CallState.ENDED):
            self._commands.request_call("resident", None)

    # --- counter staff -----------------------------------------------------------------------

    @Slot()
    def openStaffPanel(self) -> None:
        """The small 工作人员 button on Welcome: the matters to pick from."""
        if self._screen == WELCOME and self._event.state in (CallState.IDLE, CallState.ENDED):
            self._last_touch = time.monotonic()
            self._screen = STAFF
            self.changed.emit()

    @Slot()
    def closeStaffPanel(self) -> None:
        if self._screen == STAFF:
            self._back_to_welcome()

    @Slot(str)
    def startStaffCall(self, category: str) -> None:
        """Staff picked the matter: the call starts, recorded as started by staff."""
        if (self._screen == STAFF and category in self._categories
                and self._event.state in (CallState.IDLE, CallState.ENDED)):
            self._commands.request_call("staff", category)

    # --- the admin area (its content is AdminViewModel's) --------------------------------------

    @Slot()
    def openAdmin(self) -> None:
        """The hidden gesture on Welcome (hold the top-left corner): the PIN pad."""
        if self._screen == WELCOME and self._event.state in (CallState.IDLE, CallState.ENDED):
            self._last_touch = time.monotonic()
            self._screen = ADMIN
            self.adminEntered.emit()
            self.changed.emit()

    @Slot()
    def closeAdmin(self) -> None:
        if self._screen == ADMIN:
            self.adminLeft.emit()
            self._back_to_welcome()

    @Slot()
    def noteActivity(self) -> None:
        """A touch anywhere on the window (the app's event filter): the staff panel and the
        admin area stay open while someone uses them."""
        self._last_touch = time.monotonic()

    def idleSeconds(self) -> float:
        """Seconds since the last touch anywhere on the window."""
        return time.monotonic() - self._last_touch

    @Slot()
    def cancelCall(self) -> None:
        if self._screen == CONNECTING:
            self._commands.cancel()

    @Slot()
    def hangUp(self) -> None:
        if self._screen == CALL:
            self._commands.hang_up()

    @Slot(int)
    def rate(self, level: int) -> None:
        if self._screen != RATING or level not in RATING_LEVELS:
            return
        self._finish_rating(level)

    @Slot()
    def skipRating(self) -> None:
        if self._screen == RATING:
            self._finish_rating(None)

    @Slot()
    def dismissNotice(self) -> None:
        if self._screen == NOTICE:
            self._back_to_welcome()

    def _finish_rating(self, level: Optional[int]) -> None:
        sid = self._event.session_id
        if sid and sid != self._rated_session:
            self._rated_session = sid
            self._commands.rate(sid, level)
        self._back_to_welcome()

    def _back_to_welcome(self) -> None:
        self._screen = WELCOME
        self._countdown = 0
        # Nothing of the last call stays on screen.
        self._event = CallEvent(state=CallState.IDLE)
        self._quality = None
        self._clear_text()
        self.changed.emit()

    # --- real-time text beside the video (T.140; TextPanel.qml) ----------------------------

    def _get_text_open(self) -> bool:
        return self._text_open

    def _get_text_only(self) -> bool:
        return self._text_open and self._text_only

    def _get_interpreter_text(self) -> str:
        return self._interpreter_text

    def _get_resident_text(self) -> str:
        return self._resident_text

    textOpen = Property(bool, _get_text_open, notify=textChanged)
    textOnly = Property(bool, _get_text_only, notify=textChanged)
    interpreterText = Property(str, _get_interpreter_text, notify=textChanged)
    residentText = Property(str, _get_resident_text, notify=textChanged)

    @Slot()
    def openText(self) -> None:
        """The text button on the call screen: the text areas and the keyboard."""
        if self._screen == CALL and not self._text_open:
            self._text_open = True
            self.textChanged.emit()

    @Slot()
    def closeText(self) -> None:
        """Back to the full-size video (the text stays until the call ends)."""
        if self._text_open:
            self._text_open = self._text_only = False
            self.textChanged.emit()

    @Slot(bool)
    def setTextOnly(self, on: bool) -> None:
        """Text only: the text takes the screen (video failed, or the resident prefers it);
        the call goes on as it was."""
        if self._screen == CALL and (on != self._text_only or not self._text_open):
            self._text_open = True
            self._text_only = bool(on)
            self.textChanged.emit()

    @Slot(str)
    def typeText(self, text: str) -> None:
        """The resident's text area now holds ``text``: what changed at its end goes out
        (T.140 can only add and erase at the end, so a change further back is erased to and
        typed again)."""
        if self._screen != CALL or text == self._resident_text:
            return
        before = self._resident_text
        same = 0
        for a, b in zip(before, text):
            if a != b:
                break
            same += 1
        erase, add = len(before) - same, text[same:]
        self._resident_text = text
        if erase:
            self._commands.erase(erase)
        if add:
            self._commands.send_text(add)
        self.textChanged.emit()

    @Slot(str)
    def apply_remote_text(self, text: str) -> None:
        """The interpreter's whole text so far (from the engine; "" when the call ends)."""
        if self._screen != CALL and text:
            return  # late text of a call that has ended
        if text != self._interpreter_text:
            self._interpreter_text = text
            self.textChanged.emit()

    @Slot()
    def forgetTyping(self) -> None:
        """After every call (TextPanel.qml, after the keyboard's ``userDataReset``): the
        on-screen keyboard's Pinyin keeps a user dictionary of the words chosen, always at
        ``<config>/qtvirtualkeyboard/pinyin/usr_dict.dat`` (it does not follow
        ``VirtualKeyboardSettings.userDataPath``): it is removed, so nothing typed stays."""
        path = pinyin_user_dictionary()
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("the on-screen keyboard's user dictionary could not be removed: %s", exc)

    def _clear_text(self) -> None:
        had = self._text_open or self._interpreter_text or self._resident_text
        self._text_open = self._text_only = False
        self._interpreter_text = self._resident_text = ""
        if had:
            self.textChanged.emit()
        self.textCleared.emit()

    # --- video sinks registered by the QML VideoOutputs -----------------------------------

    @Slot(QObject)
    def attachRemoteSink(self, sink: QObject) -> None:
        self.remoteSinkAttached.emit(sink)

    @Slot(QObject)
    def attachSelfSink(self, sink: QObject) -> None:
        self._self_sinks["call"] = sink
        self.selfSinkAttached.emit(sink)

    @Slot(QObject)
    def attachCheckSink(self, sink: QObject) -> None:
        self._self_sinks["check"] = sink
