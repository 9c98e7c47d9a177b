"""The one place where the Qt GUI thread and the call engine's asyncio thread meet.

Down: user actions become coroutines handed to the call thread with
``asyncio.run_coroutine_threadsafe`` (``CallThread.submit``); the GUI never waits for them.
Up: the engine's ``CallEvent`` snapshots (frozen, safe to share) become a Qt signal, which Qt
queues to the GUI thread; video frames go through ``LatestFrame`` slots.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from typing import Optional

from PySide6.QtCore import QObject, Signal

from kiosk.call.engine import CallEngine
from kiosk.call.runner import CallThread
from kiosk.call.states import CallEvent, CallState
from kiosk.ui.video import LatestFrame

log = logging.getLogger("kiosk.ui.bridge")


class CallBridge(QObject):
    event = Signal(object)  # CallEvent, emitted on the call thread, received on the GUI thread
    linkChanged = Signal(bool)
    quality = Signal(object)  # QualitySample, every second of a call
    devices = Signal(object)  # tuple of DeviceState, when a device comes or goes
    deviceCheck = Signal(object)  # DeviceCheckReport, ten times a second during a device check

    def __init__(self, thread: CallThread, engine: CallEngine, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._thread = thread
        self._engine = engine
        self.remote = LatestFrame(self)
        self.local = LatestFrame(self)
        self.event.connect(self._on_event)  # our own slot: runs on the GUI thread
        engine.machine.subscribe(self.event.emit)
        engine.on_remote_video = self.remote.offer
        engine.on_link_change = self.linkChanged.emit
        engine.on_quality = self.quality.emit
        engine.on_devices = self.devices.emit
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
