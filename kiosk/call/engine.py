"""The kiosk's call engine: one call at a time, from the tap to the rating.

It lives on one asyncio loop (``CallThread`` runs that loop beside the Qt GUI); every public
coroutine must be awaited on that loop. State changes go through ``CallMachine`` (which tells the
screens) and are written to the session log at once, each in its own transaction, so a crash at
any moment leaves a record that says how far the call got.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sqlite3
import ssl
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional
from zoneinfo import ZoneInfo

import av
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack

import kiosk
from kiosk.tasks import Tasks
from kiosk.call.aec import ProcessingUnavailable, VoiceProcessor, processor_for
from kiosk.call.audio import AudioUnavailable, MicrophoneTrack, SpeakerSink, find_device
from kiosk.call.camera import CameraNotFound, make_camera, resolve_source
from kiosk.call.devicecheck import DeviceCheck, DeviceCheckReport
from kiosk.call.memory import limit_arenas, release_free_memory
from kiosk.call.media import CaptureSource, CaptureTrack, ToneTrack, consume_in_background
from kiosk.call.quality import QualityMonitor, QualitySample, ResolutionPolicy, summary_json
from kiosk.call.peer import add_remote_candidate, make_peer
from kiosk.call.rtt import TextLink, open_t140_channel
from kiosk.call.signaling import SignalingClient
from kiosk.call.states import ACTIVE, BEFORE_ANSWER, CallEvent, CallMachine, CallState, EndReason
from kiosk.call.uploader import RecordUploader
from kiosk.protocol import (
    Accepted, Answer, CallEnded, CallRequest, Cancel, Error, Hangup, Hello, Ice, Message, Offer,
    Queued, RecordAck, Resume, Resumed, Ringing, Unavailable,
)
from kiosk.sessions import SessionRecord, SessionStore
from kiosk.sessions.retention import cutoff_for, remove_older_than

if TYPE_CHECKING:
    from kiosk.sessions.reports import Report

log = logging.getLogger("kiosk.call.engine")
QUALITY_INTERVAL_S = 1.0
WATCHDOG_S = 3.0  # no media from the other side this long: reconnecting
WATCHDOG_TICK_S = 0.25
RECONNECT_WINDOW_S = 60.0  # reconnect attempts this long after the watchdog fired, then network_lost


def reconnect_delay(attempt: int) -> float:
    """Seconds before reconnect attempt ``attempt`` (1, 2, …): about 0–1 s, 3 s, 5 s, then 7 s,
    jittered so that many kiosks behind one broken switch do not all offer at once."""
    if attempt <= 1:
        return random.uniform(0.0, 1.0)
    return (3.0, 5.0, 7.0)[min(attempt - 2, 2)] * random.uniform(0.8, 1.2)
RETENTION_INTERVAL_S = 24 * 3600.0
S = CallState

UNAVAILABLE_REASONS = {
    "no_interpreter": EndReason.NO_INTERPRETER,
    "out_of_hours": EndReason.OUT_OF_HOURS,
}


@dataclass(frozen=True)
class DeviceState:
    """One device as the screens show it: ``ok`` False with a message a person can act on."""

    name: str  # camera, microphone or speaker
    ok: bool
    message: str


@dataclass
class MediaCounters:
    """Frames seen in the current call (reset at each call); read by tests and the quality view."""

    video_received: int = 0
    audio_received: int = 0
    last_video_size: tuple[int, int] = (0, 0)
    first_video_at: Optional[float] = None
    extra: dict = field(default_factory=dict)


def dispatch_ssl_context(config) -> Optional[ssl.SSLContext]:
    """Trust the configured CA for wss:// to dispatch (None: the system's CAs)."""
    ca = config.dispatch_ca_path
    if ca is None:
        return None
    try:
        return ssl.create_default_context(cafile=str(ca))
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"dispatch.ca_file {ca} cannot be used: {exc}") from exc


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions the admin's usage log shows: ``None`` = any. ``start``/``end`` are epoch
    seconds of the tap (``start`` included, ``end`` not); ``category`` "" = sessions without one."""

    start: Optional[float] = None
    end: Optional[float] = None
    end_reason: Optional[str] = None
    category: Optional[str] = None
    started_by: Optional[str] = None
    limit: int = 500

    def matches(self, rec: SessionRecord) -> bool:
        return ((self.start is None or rec.requested_at >= self.start)
                and (self.end is None or rec.requested_at < self.end)
                and (self.end_reason is None or rec.end_reason == self.end_reason)
                and (self.category is None or (rec.category or "") == self.category)
                and (self.started_by is None or rec.started_by == self.started_by))


LOG_SCAN_LIMIT = 200_000  # records read to filter the usage log (years of a busy counter)
WAIT_EDGES_S = (10.0, 20.0, 30.0, 60.0, 120.0, 300.0)  # the wait distribution's buckets


@dataclass(frozen=True)
class ReportData:
    """A report for the admin screens, and how the answered sessions' waits are spread:
    ``wait_counts[i]`` sessions waited ≤ ``WAIT_EDGES_S[0]``, then in (edge i-1, edge i], the
    last one longer than the last edge (the same sessions and ≤ as the report's 30 s figure)."""

    report: Report
    wait_counts: tuple[int, ...]
    wait_edges_s: tuple[float, ...] = WAIT_EDGES_S


def read_report(path: Path, start: Optional[float], end: float, tz: str,
                clock: Callable[[], float] = time.time) -> ReportData:
    """The report of the session log at ``path`` for ``[start, end)`` (``start`` None: from the
    local day of its first session), through a read-only connection of its own (any thread;
    the log stays writable meanwhile), with every figure from one snapshot."""
    # imported here: the admin's reports must never keep the kiosk from placing calls
    from kiosk.sessions.reports import build_report, day_start, wait_counts

    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        db.execute("BEGIN")
        if start is None:
            first = db.execute("SELECT MIN(requested_at) FROM sessions WHERE requested_at < ?",
                               (end,)).fetchone()[0]
            day = datetime.fromtimestamp(first if first is not None else end - 1, ZoneInfo(tz)).date()
            start = day_start(day, tz)
        report = build_report(db, start, end, tz=tz, clock=clock)
        return ReportData(report, wait_counts(db, start, end, WAIT_EDGES_S, tz=tz))
    finally:
        db.close()


class CallEngine:
    def __init__(self, config, store: SessionStore, *, camera: CaptureSource | None = None,
                 microphone: Callable[[], MediaStreamTrack] | None = None,
                 clock: Callable[[], float] = time.time,
                 connect_wait_s: float = 5.0, connecting_timeout_s: float = 20.0,
                 watchdog_s: float = WATCHDOG_S, reconnect_window_s: float = RECONNECT_WINDOW_S) -> None:
        self.config = config
        self.store = store
        self._clock = clock
        limit_arenas()  # before the calls' threads: see kiosk/call/memory.py
        self.machine = CallMachine(clock=clock)
        video = config.video
        # what the screens say about the camera, microphone and speaker (all fine until told)
        self.devices: dict[str, DeviceState] = {
            name: DeviceState(name, True, "") for name in ("camera", "microphone", "speaker")}
        self.on_devices: Optional[Callable[[tuple[DeviceState, ...]], None]] = None
        self.camera = camera or make_camera(video, label="KIOSK " + config.kiosk.id,
                                            on_status=lambda ok, text: self._device("camera", ok, text))
        self._microphone = microphone or self._make_microphone
        self._speaker: Optional[SpeakerSink] = None
        self._voice: Optional[VoiceProcessor] = None  # echo cancellation etc., made at first use
        self.voice_problem: Optional[str] = None  # None: not set up yet; "": fine
        self.device_check: Optional[DeviceCheck] = None
        self._connect_wait_s = connect_wait_s
        self._connecting_timeout_s = connecting_timeout_s
        self._watchdog_s = watchdog_s
        self._reconnect_window_s = reconnect_window_s
        self.signaling = SignalingClient(
            config.dispatch.url,
            Hello(role="kiosk", id=config.kiosk.id, credential=config.dispatch.token,
                  location=config.kiosk.location),
            on_message=self._on_message, on_link=self._on_link,
            ssl_context=dispatch_ssl_context(config),
        )
        # finished records go to dispatch's central records from the session log's outbox
        self.uploader = RecordUploader(store, self.signaling.send, clock)
        self.on_remote_video: Optional[Callable[[av.VideoFrame], None]] = None
        self.on_remote_audio: Optional[Callable[[av.AudioFrame], None]] = None
        self.on_link_change: Optional[Callable[[bool], None]] = None
        self.on_quality: Optional[Callable[[QualitySample], None]] = None  # every second in a call
        self.quality: Optional[QualitySample] = None  # the latest sample of the current call
        self._quality_monitor: Optional[QualityMonitor] = None
        self._quality_task: Optional[asyncio.Task] = None
        self.counters = MediaCounters()
        self._pc: Optional[RTCPeerConnection] = None
        # real-time text of the current call: the interpreter's whole text after each change
        # ("" when the call ends: nothing of it stays on any screen)
        self.on_text: Optional[Callable[[str], None]] = None
        self.text: Optional[TextLink] = None
        self._text_session: Optional[str] = None
        self._tasks = Tasks(log, "call engine")
        self._timeout_task: Optional[asyncio.Task] = None
        # media watchdog and reconnection of the current call
        self._attempt = 0  # the offer the current peer connection belongs to
        self._last_media = 0.0  # time.monotonic() of the last frame from the other side
        self._gap_from: Optional[float] = None  # last frame before the current gap
        self._gaps = 0
        self._gap_s = 0.0
        self._watchdog_task: Optional[asyncio.Task] = None
        self._reconnect_task: Optional[asyncio.Task] = None
        self._retry_now = asyncio.Event()  # the link to dispatch is back: the next attempt at once

    # --- life cycle -----------------------------------------------------------------------

    async def start(self) -> list:
        """Close records a crash left open, check the devices, then connect to dispatch (in
        the background)."""
        self._check_devices()
        closed = self.store.close_interrupted(self._clock())
        for rec in closed:
            states = [state for state, _ in self.store.events(rec.session_id)]
            reached = states[-2] if len(states) >= 2 else "requesting"  # before the closing "ended"
            log.warning("session %s was left open (it had reached %s): closed as interrupted",
                        rec.session_id, reached)
        self._apply_retention()
        self._spawn(self._daily_retention())
        self.uploader.kick()
        self.signaling.start()
        return closed

    async def stop(self) -> None:
        await self.stop_device_check()
        if self.state in ACTIVE:
            await self._end(EndReason.INTERRUPTED, "system", notify=True)
        await self.uploader.stop()  # what is not acknowledged yet stays queued for the next start
        if self._speaker is not None:
            self._speaker.close()
            self._speaker = None
        await self.signaling.stop()
        await self.camera.stop()
        await self._tasks.cancel_all()

    async def wait_for(self, *states: CallState, timeout: float = 30.0) -> CallEvent:
        """Wait until the call reaches one of ``states`` (or has already); returns that event."""
        if self.state in states:
            return self.current
        loop = asyncio.get_running_loop()
        reached: asyncio.Future = loop.create_future()

        def listener(event: CallEvent) -> None:
            if event.state in states and not reached.done():
                loop.call_soon_threadsafe(reached.set_result, event)

        self.machine.subscribe(listener)
        try:
            return await asyncio.wait_for(reached, timeout)
        finally:
            self.machine.unsubscribe(listener)

    @property
    def state(self) -> CallState:
        return self.machine.state

    @property
    def current(self) -> CallEvent:
        return self.machine.current

    # --- commands -------------------------------------------------------------------------

    async def start_device_check(self, on_report: Callable[[DeviceCheckReport], None]) -> None:
        """The technician's device check (between calls only)."""
        if self.state in ACTIVE:
            raise RuntimeError("the devices are in a call")
        await self.stop_device_check()
        self.device_check = DeviceCheck(self, on_report)
        await self.device_check.start()

    async def stop_device_check(self) -> None:
        check, self.device_check = self.device_check, None
        if check is not None:
            await check.stop()

    async def request_call(self, started_by: str = "resident", category: Optional[str] = None) -> str:
        """The tap. Returns the new session id; the call then runs by itself."""
        await self.stop_device_check()
        if self.state is S.ENDED:
            self.machine.reset()
        if self.state is not S.IDLE:
            raise RuntimeError(f"a call is already {self.state.value}")
        session_id = str(uuid.uuid4())
        now = self._clock()
        self.store.begin(session_id, self.config.kiosk.id, started_by, category,
                         kiosk.__version__, now)
        self.counters = MediaCounters()
        self.quality = None
        self._attempt, self._gap_from, self._gaps, self._gap_s = 0, None, 0, 0.0
        self.machine.move(S.REQUESTING, session_id=session_id, started_by=started_by,
                          category=category, requested_at=now)
        if not self.config.service_hours.is_open(datetime.fromtimestamp(now, timezone.utc)):
            log.info("call %s: outside service hours", session_id)
            await self._end(EndReason.OUT_OF_HOURS, "kiosk")
            return session_id
        self.camera.start()  # warm up the self-view while the call is placed
        self._spawn(self._send_request(session_id, started_by, category))
        return session_id

    async def cancel(self) -> None:
        """The resident (or staff) gives up before the interpreter is on screen."""
        sid = self.current.session_id
        if self.state in BEFORE_ANSWER:
            await self.signaling.send(Cancel(session_id=sid))
            await self._end(EndReason.CANCELLED_BY_CALLER, "kiosk")
        elif self.state is S.CONNECTING:
            await self.signaling.send(Hangup(session_id=sid, reason="cancelled"))
            await self._end(EndReason.CANCELLED_BY_CALLER, "kiosk")

    async def hang_up(self) -> None:
        if self.state in (S.CONNECTED, S.RECONNECTING):
            await self.signaling.send(Hangup(session_id=self.current.session_id, reason="completed"))
            await self._end(EndReason.COMPLETED, "kiosk")
        elif self.state in BEFORE_ANSWER or self.state is S.CONNECTING:
            await self.cancel()

    async def rate(self, session_id: str, level: Optional[int]) -> None:
        """Store the resident's rating (None = skipped) and return to idle."""
        rec = self.store.get(session_id)
        if rec is not None and rec.rated_at is None and not rec.is_open:
            self.store.rate(session_id, level, self._clock())
            self.uploader.kick()
        if self.state is S.ENDED and self.current.session_id == session_id:
            self.machine.reset()

    # --- the session log, for the admin screens (the store's connection lives on this loop) --

    async def list_sessions(self, filters: SessionFilter = SessionFilter()) -> list[SessionRecord]:
        """Sessions matching ``filters``, newest first, at most ``filters.limit``."""
        found = []
        for rec in self.store.list_sessions(limit=LOG_SCAN_LIMIT, since=filters.start):
            if filters.matches(rec):
                found.append(rec)
                if len(found) >= filters.limit:
                    break
        return found

    async def session_events(self, session_id: str) -> list[tuple[str, float]]:
        """The states one session went through, with their times."""
        return self.store.events(session_id)

    async def report(self, start: Optional[float], end: float, tz: str) -> ReportData:
        """The report of ``[start, end)`` with the wait distribution, built in a worker thread
        on a read-only connection of its own (a long period does not hold up the call loop)."""
        if self.store.path == ":memory:":
            raise RuntimeError("reports need the session log in a file")
        return await asyncio.to_thread(read_report, Path(self.store.path), start, end, tz, self._clock)

    # --- signaling ------------------------------------------------------------------------

    async def _send_request(self, session_id: str, started_by: str, category: Optional[str]) -> None:
        if not await self.signaling.wait_ready(self._connect_wait_s) or not await self.signaling.send(
                CallRequest(session_id=session_id, started_by=started_by, category=category)):
            if self._is_current(session_id) and self.state is S.REQUESTING:
                log.error("call %s: dispatch unreachable (%s)", session_id, self.signaling.last_error)
                await self._end(EndReason.DISPATCH_UNREACHABLE, "kiosk")

    def _on_link(self, up: bool) -> None:
        if self.on_link_change:
            self.on_link_change(up)
        if up:
            self.uploader.kick()
            if self.state in (S.CONNECTED, S.RECONNECTING):
                # the call went on peer to peer meanwhile: tell dispatch it still runs
                self._spawn(self.signaling.send(Resume(session_id=self.current.session_id,
                                                       peer_id=self.current.interpreter_id or "")))
                if self.state is S.RECONNECTING:
                    self._retry_now.set()  # offers could not reach the interpreter meanwhile
            return
        # Dispatch forgets a kiosk's waiting call when the kiosk vanishes; a call whose
        # media already flows goes on peer to peer.
        if self.state in BEFORE_ANSWER:
            self._spawn(self._end(EndReason.DISPATCH_UNREACHABLE, "kiosk"))
        elif self.state is S.CONNECTING:
            self._spawn(self._end(EndReason.NETWORK_LOST, "kiosk"))

    def _is_current(self, session_id: Optional[str]) -> bool:
        return session_id is not None and session_id == self.current.session_id

    async def _on_message(self, msg: Message) -> None:
        if isinstance(msg, RecordAck):
            self.uploader.on_ack(msg.session_id)
            return
        if isinstance(msg, Error):
            log.warning("dispatch refused %s: %s (%s)", msg.ref_type, msg.message, msg.code)
            if msg.session_id and self._is_current(msg.session_id) and self.state in BEFORE_ANSWER:
                await self._end(EndReason.DISPATCH_UNREACHABLE, "dispatch")
            return
        if isinstance(msg, Resumed):
            log.info("call %s: dispatch knows the call again", msg.session_id)
            return
        sid = getattr(msg, "session_id", None)
        if not self._is_current(sid) or self.state not in ACTIVE:
            log.debug("ignoring %s for session %s", msg.type, sid)
            return
        state = self.state
        if isinstance(msg, Queued):
            details = dict(queue_position=msg.position, estimated_wait_s=msg.estimated_wait_s)
            if state is S.QUEUED:
                self.machine.update(**details)
            elif state in (S.REQUESTING, S.RINGING):
                self._move(S.QUEUED, **details)
        elif isinstance(msg, Ringing):
            if state in (S.REQUESTING, S.QUEUED):
                self._move(S.RINGING, queue_position=None, estimated_wait_s=None)
        elif isinstance(msg, Unavailable):
            if state in BEFORE_ANSWER:
                await self._end(UNAVAILABLE_REASONS.get(msg.reason, EndReason.NO_INTERPRETER), "dispatch")
        elif isinstance(msg, Accepted):
            if state in BEFORE_ANSWER:
                self._move(S.CONNECTING, interpreter_id=msg.interpreter_id,
                           answered_at=self._clock(), queue_position=None, estimated_wait_s=None)
                # ICE gathering can take seconds with a STUN server: keep reading signaling meanwhile
                self._spawn(self._open_media(msg.session_id))
        elif isinstance(msg, Answer):
            pc = self._pc
            if (pc is not None and msg.attempt == self._attempt and pc.remoteDescription is None
                    and state in (S.CONNECTING, S.RECONNECTING)):
                await pc.setRemoteDescription(RTCSessionDescription(sdp=msg.sdp, type="answer"))
        elif isinstance(msg, Ice):
            if self._pc is not None and msg.attempt == self._attempt:
                await add_remote_candidate(self._pc, msg)
        elif isinstance(msg, CallEnded):
            if state in BEFORE_ANSWER:
                await self._end(EndReason.DECLINED, "dispatch")
            elif msg.reason == "hangup":
                await self._end(EndReason.COMPLETED, "interpreter")
            else:
                await self._end(EndReason.NETWORK_LOST, msg.by)

    # --- media ----------------------------------------------------------------------------

    async def _open_media(self, session_id: str) -> None:
        self._timeout_task = self._spawn(self._connecting_timeout(session_id))
        try:
            await self._offer(session_id)
        except Exception:
            log.exception("call %s: could not set up media", session_id)
            if self._is_current(session_id) and self.state is S.CONNECTING:
                await self.signaling.send(Hangup(session_id=session_id, reason="network_lost"))
                await self._end(EndReason.NETWORK_LOST, "kiosk")

    def _make_peer_connection(self, session_id: str, attempt: int) -> RTCPeerConnection:
        """The one place a call's peer connection is built (first offer and every reconnect):
        our tracks, the consumers of theirs, and its state handler."""
        pc = make_peer(self.config.ice_servers)
        self._pc, self._attempt = pc, attempt
        pc.addTrack(self._microphone())
        video = self.camera.track()
        pc.addTrack(video)
        self._add_text_channel(pc, session_id)  # after the tracks: m=application comes last

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            handle = self._remote_video if track.kind == "video" else self._remote_audio

            def on_frame(frame, pc=pc) -> None:
                if pc is self._pc:  # late frames of a closed connection do not count
                    handle(frame)

            consume_in_background(track, on_frame, self._tasks)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc is not self._pc:
                return
            log.info("call %s: peer connection %s (attempt %d)", session_id, pc.connectionState, attempt)
            if pc.connectionState == "connected" and self.state in (S.CONNECTING, S.RECONNECTING):
                if self.state is S.CONNECTING:
                    self._last_media = time.monotonic()
                    self._move(S.CONNECTED, connected_at=self._clock())
                    self._watchdog_task = self._spawn(self._watch_media(session_id))
                self._quality_task = self._spawn(self._watch_quality(session_id, pc, video))
            elif pc.connectionState in ("failed", "closed"):
                if self.state is S.CONNECTING:
                    await self.signaling.send(Hangup(session_id=session_id, reason="network_lost"))
                    await self._end(EndReason.NETWORK_LOST, "kiosk")
                elif self.state is S.CONNECTED:
                    self._media_lost(session_id)  # no need to wait for the watchdog

        return pc

    async def _offer(self, session_id: str, attempt: int = 0) -> None:
        pc = self._make_peer_connection(session_id, attempt)
        offer = await pc.createOffer()
        await pc.setLocalDescription(offer)  # aiortc gathers every candidate here
        if pc is not self._pc or not self._is_current(session_id):
            return
        sent = await self.signaling.send(Offer(session_id=session_id, sdp=pc.localDescription.sdp,
                                               attempt=attempt))
        if not sent and attempt == 0:
            await self._end(EndReason.NETWORK_LOST, "kiosk")
        elif not sent:
            log.info("call %s: dispatch not reachable for reconnect attempt %d", session_id, attempt)

    # --- media watchdog and reconnecting ----------------------------------------------------

    def _media_arrived(self) -> None:
        self._last_media = time.monotonic()
        if self.state is S.RECONNECTING and self._gap_from is not None:
            self._media_back()

    async def _watch_media(self, session_id: str) -> None:
        """No frame from the other side for ``watchdog_s``: reconnecting."""
        while self._is_current(session_id) and self.state in (S.CONNECTED, S.RECONNECTING):
            await asyncio.sleep(WATCHDOG_TICK_S)
            if (self.state is S.CONNECTED and self._is_current(session_id)
                    and time.monotonic() - self._last_media > self._watchdog_s):
                self._media_lost(session_id)

    def _media_lost(self, session_id: str) -> None:
        if self.state is not S.CONNECTED:
            return
        self._gap_from = self._last_media
        log.warning("call %s: no media for %.1f s: reconnecting", session_id,
                    time.monotonic() - self._last_media)
        self._move(S.RECONNECTING)
        self._reconnect_task = self._spawn(self._reconnect(session_id))

    def _media_back(self) -> None:
        sid = self.current.session_id
        gap = self._close_gap()
        log.info("call %s: media back after %.1f s (gap %d of this call)", sid, gap, self._gaps)
        task, self._reconnect_task = self._reconnect_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self._move(S.CONNECTED)

    def _close_gap(self) -> float:
        """Count the current gap in the session record; returns its length."""
        if self._gap_from is None:
            return 0.0
        gap = max(0.0, time.monotonic() - self._gap_from)
        self._gap_from = None
        self._gaps += 1
        self._gap_s += gap
        try:
            self.store.set_call_facts(self.current.session_id, media_gaps=self._gaps,
                                      media_gap_s=round(self._gap_s, 2))
        except Exception:
            log.exception("session %s: could not record a media gap", self.current.session_id)
        return gap

    async def _reconnect(self, session_id: str) -> None:
        """A fresh peer connection and offer on the same session (aiortc has no ICE restart),
        again and again with growing delays, until media flows or ``reconnect_window_s`` is over."""
        deadline = time.monotonic() + self._reconnect_window_s
        n = 0
        while True:
            n += 1
            delay = reconnect_delay(n)
            if time.monotonic() + delay >= deadline:
                await asyncio.sleep(max(0.0, deadline - time.monotonic()))
                break
            self._retry_now.clear()
            try:
                await asyncio.wait_for(self._retry_now.wait(), delay)
            except asyncio.TimeoutError:
                pass
            if not self._is_current(session_id) or self.state is not S.RECONNECTING:
                return
            attempt = self._attempt + 1
            log.info("call %s: reconnect attempt %d", session_id, attempt)
            await self._close_peer()
            try:
                await self._offer(session_id, attempt)
            except Exception:
                log.exception("call %s: reconnect attempt %d failed", session_id, attempt)
        if self._is_current(session_id) and self.state is S.RECONNECTING:
            log.error("call %s: media did not come back within %.0f s", session_id,
                      self._reconnect_window_s)
            self._reconnect_task = None
            await self.signaling.send(Hangup(session_id=session_id, reason="network_lost"))
            await self._end(EndReason.NETWORK_LOST, "kiosk")

    async def _close_peer(self) -> None:
        """Close the current peer connection only (the camera goes on for the next one)."""
        pc, self._pc = self._pc, None
        task, self._quality_task = self._quality_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        if pc is not None:
            for sender in pc.getSenders():
                if sender.track is not None:
                    sender.track.stop()
            await pc.close()

    async def _connecting_timeout(self, session_id: str) -> None:
        await asyncio.sleep(self._connecting_timeout_s)
        if self._is_current(session_id) and self.state is S.CONNECTING:
            log.error("call %s: no media connection after %.0f s", session_id, self._connecting_timeout_s)
            await self.signaling.send(Hangup(session_id=session_id, reason="network_lost"))
            await self._end(EndReason.NETWORK_LOST, "kiosk")

    async def _watch_quality(self, session_id: str, pc: RTCPeerConnection, video: CaptureTrack) -> None:
        """Every second: measure, adapt the picture size, tell the screen."""
        monitor = QualityMonitor(pc, lambda: self.counters.video_received, lambda: video.frames_sent,
                                 clock=time.monotonic)
        if self._quality_monitor is not None:  # a reconnected call: one summary for the whole call
            monitor.samples = self._quality_monitor.samples
        policy = ResolutionPolicy(self.config.video.fps)
        self._quality_monitor = monitor
        while pc is self._pc and self._is_current(session_id):
            sample = await monitor.sample(scale=video.scale)
            if sample is not None and self.state is not S.CONNECTED:
                # a media gap is counted as a gap, not as a poor picture to adapt to
                if monitor.samples and monitor.samples[-1] is sample:
                    monitor.samples.pop()
                sample = None
            if sample is not None:
                changed = policy.feed(sample)
                if changed is not None:
                    log.info("call %s: sending %.0f %% of the picture size to keep %d fps "
                             "(sent %.1f fps, loss %.1f %%)", session_id, changed * 100,
                             self.config.video.fps, sample.fps_out, sample.loss_pct)
                    video.scale = changed
                self.quality = sample
                if self.on_quality:
                    self.on_quality(sample)
            await asyncio.sleep(QUALITY_INTERVAL_S)

    def _remote_video(self, frame: av.VideoFrame) -> None:
        self._media_arrived()
        c = self.counters
        c.video_received += 1
        c.last_video_size = (frame.width, frame.height)
        if c.first_video_at is None:
            c.first_video_at = self._clock()
        if self.on_remote_video:
            self.on_remote_video(frame)

    def _remote_audio(self, frame: av.AudioFrame) -> None:
        self._media_arrived()
        self.counters.audio_received += 1
        if self._speaker is not None:
            self._speaker.write(frame)
        if self.on_remote_audio:
            self.on_remote_audio(frame)

    async def _close_media(self) -> None:
        pc, self._pc = self._pc, None
        for task in (self._timeout_task, self._quality_task, self._watchdog_task, self._reconnect_task):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        self._timeout_task = self._quality_task = self._watchdog_task = self._reconnect_task = None
        if pc is not None:
            for sender in pc.getSenders():
                if sender.track is not None:
                    sender.track.stop()
            await pc.close()
        await self.camera.stop()
        release_free_memory()  # the call's picture buffers, kept by the allocator otherwise

    # --- real-time text (T.140, RFC 8865) ---------------------------------------------------

    async def send_text(self, text: str) -> None:
        """Characters the resident typed (sent within 300 ms); ignored outside a call."""
        if self.text is not None and self.state in (S.CONNECTING, S.CONNECTED, S.RECONNECTING):
            self.text.send_text(text)

    async def erase(self, count: int = 1) -> None:
        """The resident erased ``count`` characters at the end of their text."""
        if self.text is not None and self.state in (S.CONNECTING, S.CONNECTED, S.RECONNECTING):
            self.text.erase(count)

    def _add_text_channel(self, pc: RTCPeerConnection, session_id: str) -> None:
        """Every new peer connection of a call gets the T.140 channel, created before the
        offer (in-band negotiation); the call's text and counts carry over to it."""
        if self.text is None or self._text_session != session_id:
            if self.text is not None:
                self.text.close()
            self.text = TextLink(on_text=self._remote_text)
            self._text_session = session_id
        self.text.attach(open_t140_channel(pc))

    def _remote_text(self, text: str) -> None:
        if self.on_text:
            self.on_text(text)

    def _finish_text(self, session_id: str) -> None:
        """The call ends: its counts go to the record, the text goes nowhere."""
        link, self.text = self.text, None
        if link is None or self._text_session != session_id:
            return
        self._text_session = None
        sent, received = link.sent, link.received
        link.close()
        if sent or received:
            try:
                self.store.set_call_facts(session_id, text_chars_sent=sent, text_chars_received=received)
            except Exception:
                log.exception("session %s: could not record the text counts", session_id)
            log.info("call %s: real-time text, %d characters sent, %d received", session_id, sent, received)
        if self.on_text:
            self.on_text("")

    # --- retention ------------------------------------------------------------------------

    def _apply_retention(self) -> int:
        """Remove records older than ``kiosk.retention_years`` (at start-up and daily): the log
        says how many, never what they were."""
        try:
            removed = remove_older_than(self.store.connection,
                                        cutoff_for(self.config.kiosk.retention_years, self._clock()))
        except Exception:
            log.exception("could not remove old session records")
            return 0
        if removed:
            log.info("removed %d session record(s) older than %g years", removed,
                     self.config.kiosk.retention_years)
        return removed

    async def _daily_retention(self) -> None:
        while True:
            await asyncio.sleep(RETENTION_INTERVAL_S)
            if self.state not in ACTIVE:
                self._apply_retention()

    # --- devices --------------------------------------------------------------------------

    def _device(self, name: str, ok: bool, message: str) -> None:
        """A device came or went: log it for the admin, tell the screens."""
        state = DeviceState(name, ok, message)
        if self.devices.get(name) == state:
            return
        self.devices[name] = state
        (log.info if ok else log.error)("%s: %s", name, message or "ok")
        if self.on_devices:
            self.on_devices(tuple(self.devices.values()))

    def _check_devices(self) -> None:
        """At start-up: say at once which configured device is missing (the kiosk still runs:
        a call then goes on with a placeholder picture or silence)."""
        video, audio = self.config.video, self.config.audio
        if video.camera.strip().lower() != "synthetic":
            try:
                spec = resolve_source(video.camera, video.width, video.height, video.fps)
                if spec.format == "v4l2" and not os.path.exists(spec.file):
                    raise CameraNotFound(f"no camera at {spec.file} (is it plugged in?)")
            except CameraNotFound as exc:
                self._device("camera", False, str(exc))
        if audio.input != "synthetic":
            try:
                find_device(audio.input, "input")
            except AudioUnavailable as exc:
                self._device("microphone", False, str(exc))
        if audio.output != "synthetic" and self._speaker is None:
            try:
                self._speaker = SpeakerSink(audio.output)
            except AudioUnavailable as exc:
                self._device("speaker", False, str(exc))
        if audio.input != "synthetic":
            self._voice_processor()  # loads WebRTC's audio processing now, not at the first call

    def _make_microphone(self) -> MediaStreamTrack:
        if self.config.audio.input == "synthetic":
            return ToneTrack(frequency=660.0, level=0.05)
        try:
            return MicrophoneTrack(self.config.audio.input, processor=self._voice_processor(),
                                   on_status=lambda ok, text: self._device("microphone", ok, text))
        except AudioUnavailable as exc:
            self._device("microphone", False, str(exc))
            return AudioStreamTrack()  # silence: the call goes on, in sign and text

    def _voice_processor(self) -> Optional[VoiceProcessor]:
        """One processor for the kiosk's life (the echo path it learnt stays learnt between
        calls); None when the config turns it off or it cannot load (the call goes on)."""
        if self.voice_problem is None:
            try:
                self._voice = processor_for(self.config.audio, self._speaker)
                self.voice_problem = ""
            except ProcessingUnavailable as exc:
                log.error("microphone processing off: %s", exc)
                self.voice_problem = str(exc)
        return self._voice

    # --- state and record -----------------------------------------------------------------

    def _move(self, state: CallState, **details) -> None:
        event = self.machine.move(state, **details)
        try:
            self.store.transition(event.session_id, state.value, event.at,
                                  interpreter_id=event.interpreter_id)
        except Exception:
            log.exception("session %s: could not record state %s", event.session_id, state.value)

    async def _end(self, reason: EndReason, ended_by: str, notify: bool = False) -> None:
        if self.state not in ACTIVE:
            return
        sid = self.current.session_id
        if notify:
            await self.signaling.send(Hangup(session_id=sid, reason=reason.value))
        if self.state is S.RECONNECTING:
            self._close_gap()  # the call ends in a gap: it counts up to the end
        now = self._clock()
        self._finish_text(sid)
        event = self.machine.move(S.ENDED, reason=reason, ended_at=now)
        monitor, self._quality_monitor = self._quality_monitor, None
        quality = summary_json(monitor.summary()) if monitor is not None else None
        try:
            self.store.end(sid, reason.value, now, ended_by, quality=quality)
        except Exception:
            log.exception("session %s: could not record its end", sid)
        self.uploader.kick()
        log.info("call %s ended: %s (by %s)", sid, reason.value, ended_by)
        await self._close_media()
        return event

    def _spawn(self, coro) -> asyncio.Task:
        return self._tasks.spawn(coro)
