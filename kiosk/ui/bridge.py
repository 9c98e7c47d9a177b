"""The one place where the Qt GUI thread and the call engine's asyncio thread meet.

Down: user actions become coroutines handed to the call thread with
``asyncio.run_coroutine_threadsafe`` (``CallThread.submit``); the GUI never waits for them.
Up: the engine's ``CallEvent`` snapshots (frozen, safe to share) become a Qt signal, which Qt
queues to the GUI thread; video frames go through ``LatestFrame`` slots.
The admin area's work goes the same way: session-log queries run on the call thread (the
SQLite connection belongs to it), the slow PIN hash in that loop's worker threads (neither the
GUI nor the call loop waits for it); each answer comes back as a signal with a copied value.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from PySide6.QtCore import QObject, Signal

from kiosk.call.engine import CallEngine, SessionFilter
from kiosk.call.runner import CallThread
from kiosk.call.states import CallEvent, CallState
from kiosk.sessions.pin import CheckResult, PinStore
from kiosk.ui.video import LatestFrame

if TYPE_CHECKING:
    from kiosk.sessions.reports import Report

log = logging.getLogger("kiosk.ui.bridge")


class CallBridge(QObject):
    event = Signal(object)  # CallEvent, emitted on the call thread, received on the GUI thread
    linkChanged = Signal(bool)
    quality = Signal(object)  # QualitySample, every second of a call
    devices = Signal(object)  # tuple of DeviceState, when a device comes or goes
    deviceCheck = Signal(object)  # DeviceCheckReport, ten times a second during a device check
    pinStatus = Signal(int, bool, object)  # request number, is a PIN set, CheckResult (lock, failures)
    pinChecked = Signal(int, object)  # request number, CheckResult of the PIN tried (or the exception)
    sessionsListed = Signal(int, object)  # request number, list of SessionRecord (or the exception)
    sessionEvents = Signal(str, object)  # session id, list of (state, at)
    reportReady = Signal(int, object)  # request number, ReportData (or the exception)
    exported = Signal(int, object)  # request number, Path of the file written (or the exception)
    text = Signal(str)  # the interpreter's real-time text so far ("" when the call ends)

    def __init__(self, thread: CallThread, engine: CallEngine, parent: Optional[QObject] = None,
                 pins: Optional[PinStore] = None) -> None:
        super().__init__(parent)
        self._thread = thread
        self._engine = engine
        self._pins = pins
        self.remote = LatestFrame(self)
        self.local = LatestFrame(self)
        self.event.connect(self._on_event)  # our own slot: runs on the GUI thread
        engine.machine.subscribe(self.event.emit)
        engine.on_remote_video = self.remote.offer
        engine.on_link_change = self.linkChanged.emit
        engine.on_quality = self.quality.emit
        engine.on_devices = self.devices.emit
        engine.on_text = self.text.emit
        engine.camera.subscribe(self.local.offer)

    def _on_event(self, event: CallEvent) -> None:
        if event.state is CallState.REQUESTING:
            self.local.open()  # the self-view warms up while the call is placed
        elif event.state is CallState.CONNECTING:
            self.remote.open()
        elif event.state is CallState.ENDED:
            # nothing of the last call stays on screen, and late frames are dropped (not on the
            # engine's later return to idle: a device check may have the camera by then)
            self.remote.clear()
            self.local.clear()

    def _submit(self, coro, what: str) -> concurrent.futures.Future:
        future = self._thread.submit(coro)

        def done(f: concurrent.futures.Future) -> None:
            if not f.cancelled() and f.exception() is not None:
                log.error("%s failed: %s", what, f.exception())

        future.add_done_callback(done)
        return future

    # --- the Commands interface of KioskViewModel ----------------------------------------

    def request_call(self, started_by: str = "resident", category: Optional[str] = None):
        return self._submit(self._engine.request_call(started_by, category), "request call")

    def cancel(self):
        return self._submit(self._engine.cancel(), "cancel")

    def hang_up(self):
        return self._submit(self._engine.hang_up(), "hang up")

    def rate(self, session_id: str, level: Optional[int]):
        return self._submit(self._engine.rate(session_id, level), "rate")

    def send_text(self, text: str):
        return self._submit(self._engine.send_text(text), "real-time text")

    def erase(self, count: int):
        return self._submit(self._engine.erase(count), "real-time text erasure")

    def start_device_check(self):
        self.local.open()  # the camera's picture on the check screen
        return self._submit(self._engine.start_device_check(self.deviceCheck.emit), "device check")

    def stop_device_check(self):
        self.local.clear()
        return self._submit(self._engine.stop_device_check(), "end of device check")

    def play_test_tone(self):
        return self._submit(self._check_step(lambda c: c.play_tone()), "test tone")

    def confirm_speaker(self, heard: bool):
        return self._submit(self._check_step(lambda c: c.confirm_speaker(heard)), "speaker result")

    def recheck_dispatch(self):
        return self._submit(self._check_step(lambda c: c.check_dispatch()), "dispatch check")

    async def _check_step(self, step) -> None:
        check = self._engine.device_check
        if check is not None:
            result = step(check)
            if asyncio.iscoroutine(result):
                await result

    # --- the AdminCommands interface of AdminViewModel -----------------------------------

    def pin_status(self, request: int):
        async def run() -> None:
            pins = self._pins
            if pins is None:
                self.pinStatus.emit(request, False, CheckResult(False, 0.0, 0))
                return
            try:
                has, status = await asyncio.to_thread(lambda: (pins.has_pin(), pins.status()))
            except Exception as exc:
                log.error("the PIN file could not be read: %s", exc)
                has, status = False, CheckResult(False, 0.0, 0)
            self.pinStatus.emit(request, has, status)

        return self._submit(run(), "PIN status")

    def check_pin(self, request: int, pin: str):
        async def run() -> None:
            try:
                if self._pins is None:
                    result: object = CheckResult(False, 0.0, 0)
                else:
                    # the hash takes a few tenths of a second: a worker thread, not the call loop
                    result = await asyncio.to_thread(self._pins.check, pin)
            except Exception as exc:  # the PIN file could not be written, …
                log.error("the PIN could not be checked: %s", exc)
                result = exc
            self.pinChecked.emit(request, result)

        return self._submit(run(), "PIN check")

    def list_sessions(self, request: int, filters: SessionFilter):
        async def run() -> None:
            try:
                result: object = await self._engine.list_sessions(filters)
            except Exception as exc:
                result = exc
            self.sessionsListed.emit(request, result)

        return self._submit(run(), "usage log")

    def session_events(self, session_id: str):
        async def run() -> None:
            try:
                result: object = await self._engine.session_events(session_id)
            except Exception as exc:
                result = exc
            self.sessionEvents.emit(session_id, result)

        return self._submit(run(), "session events")

    def build_report(self, request: int, start: Optional[float], end: float, tz: str):
        async def run() -> None:
            try:
                result: object = await self._engine.report(start, end, tz)
            except Exception as exc:
                log.error("the report could not be built: %s", exc)
                result = exc
            self.reportReady.emit(request, result)

        return self._submit(run(), "report")

    def export_report(self, request: int, report: Report, fmt: str, folder: Path):
        async def run() -> None:
            try:
                result: object = await asyncio.to_thread(write_export, report, fmt, folder)
            except Exception as exc:
                log.error("the report could not be exported: %s", exc)
                result = exc
            self.exported.emit(request, result)

        return self._submit(run(), "export")


def write_export(report: Report, fmt: str, folder: Path) -> Path:
    """The report as ``report-<first day>_<last day>-<now>.csv`` or ``.xlsx`` in ``folder``,
    written under a temporary name and renamed, so no half file is ever there to copy."""
    from kiosk.sessions.reports import to_csv, to_xlsx

    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"unknown export format {fmt!r}")
    folder.mkdir(parents=True, exist_ok=True)
    p = report.period
    path = folder / f"report-{p.first_day.isoformat()}_{p.last_day.isoformat()}-{datetime.now():%Y%m%d-%H%M%S}.{fmt}"
    tmp = path.with_name(path.name + ".part")
    try:
        if fmt == "csv":
            tmp.write_text(to_csv(report), encoding="utf-8")
        else:
            to_xlsx(report, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("report exported to %s", path)
    return path
