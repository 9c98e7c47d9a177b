"""A simulated interpreter: an aiortc client that logs in to dispatch like a console does,
answers after a configurable delay and sends a clearly labelled moving test picture and a tone.

The demo and the tests call it; it speaks exactly the protocol the browser console speaks,
including what the console does when the media or the link to dispatch drops: it answers each
new ``offer`` attempt of the kiosk with a fresh peer connection, says ``resume`` after a new
``welcome`` during a call, and ends the call as ``network_lost`` itself after
``give_up_s`` without media.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Iterable, Optional

from aiortc import RTCPeerConnection, RTCSessionDescription

from kiosk.call.memory import release_free_memory
from kiosk.call.media import SyntheticCamera, ToneTrack, consume_in_background
from kiosk.call.peer import add_remote_candidate, make_peer
from kiosk.call.signaling import SignalingClient
from kiosk.protocol import (
    Accept, Answer, CallEnded, Error, Hangup, Hello, Ice, Message, Offer, Presence, Resume,
    Resumed, Ring,
)

log = logging.getLogger("kiosk.call.simulator")
KEEP_CALLS = 100  # the newest calls kept in ``stats.calls``: the demo runs for days


@dataclass
class SimulatedCall:
    session_id: str
    kiosk_id: str
    rung_after_s: float
    video_frames: int = 0
    audio_frames: int = 0
    last_video_size: tuple[int, int] = (0, 0)
    connected: bool = False
    ended_reason: Optional[str] = None
    attempt: int = -1  # the kiosk's offer attempt answered last
    answers: int = 0
    reconnecting: bool = False  # no media for watchdog_s
    gaps: int = 0
    resumed: int = 0  # times dispatch confirmed the call after our link came back


@dataclass
class SimulatorStats:
    rings: int = 0
    calls: list[SimulatedCall] = field(default_factory=list)


class SimulatedInterpreter:
    def __init__(self, url: str, interpreter_id: str = "sim-interpreter-1", password: str = "demo",
                 *, answer_delay_s: float = 2.0, ice_servers: Iterable = (),
                 width: int = 1280, height: int = 720, fps: int = 30,
                 tone_hz: float = 440.0, hangup_after_s: Optional[float] = None,
                 watchdog_s: float = 3.0, give_up_s: float = 65.0) -> None:
        self.id = interpreter_id
        self.answer_delay_s = answer_delay_s
        self.hangup_after_s = hangup_after_s
        self.watchdog_s = watchdog_s
        self.give_up_s = give_up_s
        self._last_media = 0.0
        self._ice_servers = tuple(ice_servers)
        self._tone_hz = tone_hz
        self.camera = SyntheticCamera(width, height, fps, label="SIMULATED INTERPRETER",
                                      hue=(170, 100))
        self.signaling = SignalingClient(url, Hello(role="interpreter", id=interpreter_id,
                                                    credential=password),
                                         on_message=self._on_message, on_link=self._on_link)
        self.stats = SimulatorStats()
        self._pc: Optional[RTCPeerConnection] = None
        self._call: Optional[SimulatedCall] = None
        self._tasks: set[asyncio.Task] = set()
        self._pending_rings: dict[str, asyncio.Task] = {}
        self.available = asyncio.Event()  # logged in and marked available

    @property
    def current(self) -> Optional[SimulatedCall]:
        return self._call

    def start(self) -> None:
        self.signaling.start()

    async def stop(self) -> None:
        await self._close()
        await self.signaling.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def hang_up(self) -> None:
        if self._call is not None:
            await self.signaling.send(Hangup(session_id=self._call.session_id))
            self._call.ended_reason = "hangup"
            await self._close()

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _on_link(self, up: bool) -> None:
        if up:
            self._spawn(self._announce())
        else:
            self.available.clear()

    async def _announce(self) -> None:
        call = self._call
        if call is not None and call.connected:
            # back after a dropped link (or a restart of dispatch) in a call: it goes on
            await self.signaling.send(Resume(session_id=call.session_id, peer_id=call.kiosk_id))
        if await self.signaling.send(Presence(state="available")):
            self.available.set()

    async def _on_message(self, msg: Message) -> None:
        if isinstance(msg, Ring):
            self.stats.rings += 1
            task = self._spawn(self._answer_later(msg))
            self._pending_rings[msg.session_id] = task
            task.add_done_callback(lambda _t, sid=msg.session_id: self._pending_rings.pop(sid, None))
        elif isinstance(msg, Offer) and self._call and msg.session_id == self._call.session_id:
            if msg.attempt > self._call.attempt:
                await self._answer(msg)
        elif isinstance(msg, Ice) and self._pc is not None and self._call is not None:
            if msg.attempt == self._call.attempt:
                await add_remote_candidate(self._pc, msg)
        elif isinstance(msg, Resumed) and self._call and msg.session_id == self._call.session_id:
            self._call.resumed += 1
        elif isinstance(msg, CallEnded):
            ring = self._pending_rings.pop(msg.session_id, None)
            if ring is not None:  # the caller gave up while we were still "picking up"
                ring.cancel()
            if self._call and msg.session_id == self._call.session_id:
                self._call.ended_reason = msg.reason
                await self._close()
        elif isinstance(msg, Error):
            log.warning("dispatch refused %s: %s", msg.ref_type, msg.message)

    async def _answer_later(self, ring: Ring) -> None:
        await asyncio.sleep(self.answer_delay_s)
        if self._call is not None:
            return
        call = SimulatedCall(session_id=ring.session_id, kiosk_id=ring.kiosk_id,
                             rung_after_s=ring.waited_s)
        self._call = call
        self.stats.calls.append(call)
        del self.stats.calls[:-KEEP_CALLS]
        if not await self.signaling.send(Accept(session_id=ring.session_id)):
            self._call = None

    def _make_peer_connection(self, call: SimulatedCall) -> RTCPeerConnection:
        """The one place the simulator's peer connection is built (for every offer attempt)."""
        pc = make_peer(self._ice_servers)
        self._pc = pc

        @pc.on("track")
        def on_track(track) -> None:
            def count(frame, kind=track.kind):
                if pc is not self._pc:
                    return
                self._media_arrived(call)
                if kind == "video":
                    call.video_frames += 1
                    call.last_video_size = (frame.width, frame.height)
                else:
                    call.audio_frames += 1
            consume_in_background(track, count, self._tasks)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState == "connected" and pc is self._pc and not call.connected:
                call.connected = True
                self._last_media = time.monotonic()
                self._spawn(self._watch_media(call))
                if self.hangup_after_s is not None:
                    self._spawn(self._hang_up_later(call.session_id))

        return pc

    async def _answer(self, offer: Offer) -> None:
        call = self._call
        old, self._pc = self._pc, None
        if old is not None:  # the kiosk starts over with a new peer connection
            log.info("call %s: new offer (attempt %d): new peer connection", call.session_id, offer.attempt)
            await self._close_pc(old)
        call.attempt = offer.attempt
        pc = self._make_peer_connection(call)
        self.camera.start()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        pc.addTrack(ToneTrack(self._tone_hz))
        pc.addTrack(self.camera.track())
        await pc.setLocalDescription(await pc.createAnswer())
        if pc is not self._pc:
            return
        call.answers += 1
        await self.signaling.send(Answer(session_id=offer.session_id, sdp=pc.localDescription.sdp,
                                         attempt=offer.attempt))

    def _media_arrived(self, call: SimulatedCall) -> None:
        self._last_media = time.monotonic()
        if call.reconnecting:
            call.reconnecting = False
            log.info("call %s: media back", call.session_id)

    async def _watch_media(self, call: SimulatedCall) -> None:
        """Like the console: reconnecting after ``watchdog_s`` without media (the kiosk offers
        again); the call ends as ``network_lost`` after ``give_up_s``."""
        while self._call is call:
            await asyncio.sleep(0.25)
            silent = time.monotonic() - self._last_media
            if silent > self.watchdog_s and not call.reconnecting:
                call.reconnecting = True
                call.gaps += 1
                log.warning("call %s: no media for %.1f s: reconnecting", call.session_id, silent)
            if silent > self.give_up_s and self._call is call:
                log.error("call %s: no media for %.0f s: network lost", call.session_id, silent)
                await self.signaling.send(Hangup(session_id=call.session_id, reason="network_lost"))
                call.ended_reason = "network_lost"
                await self._close()
                return

    @staticmethod
    async def _close_pc(pc: RTCPeerConnection) -> None:
        for sender in pc.getSenders():
            if sender.track is not None:
                sender.track.stop()
        await pc.close()

    async def _hang_up_later(self, session_id: str) -> None:
        await asyncio.sleep(self.hangup_after_s)
        if self._call is not None and self._call.session_id == session_id:
            await self.hang_up()

    async def _close(self) -> None:
        pc, self._pc = self._pc, None
        self._call = None
        if pc is not None:
            await self._close_pc(pc)
        await self.camera.stop()
        release_free_memory()  # as the kiosk does: it shares the demo's process
        # back in the pool for the next call
        if self.signaling.connected:
            await self.signaling.send(Presence(state="available"))
