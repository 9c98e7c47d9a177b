"""The technician's device check: camera, microphone, speaker and the link to dispatch, each
with a live reading and a pass/fail result.

It runs on the call engine's loop, outside calls only (a call has the devices). The camera's
frames go to the self-view like in a call; the microphone is read through the same track a call
uses (with the same echo cancellation, noise suppression and high-pass filter), its level
measured 10 times a second before and after that processing; the speaker plays a test tone through the same sink
a call uses (a technician confirms hearing it); the dispatch check is an HTTP round trip to its
``/healthz`` beside the state of the WebSocket.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from typing import Callable, Optional

import aiohttp
import av
import numpy as np

from kiosk.call.audio import SILENCE_DBFS, AudioLevel
from kiosk.call.media import AUDIO_RATE, AUDIO_SAMPLES, consume

log = logging.getLogger("kiosk.call.devicecheck")

MIC_PASS_DBFS = -60.0  # something louder than a quiet room reached the microphone
CAMERA_PASS_FPS = 10.0
TONE_HZ = 440.0


@dataclass(frozen=True)
class Check:
    """One row of the device check. ``result``: pending, pass or fail."""

    result: str = "pending"
    detail: str = ""


@dataclass(frozen=True)
class DeviceCheckReport:
    camera: Check = Check()
    camera_fps: float = 0.0
    microphone: Check = Check()
    mic_dbfs: float = SILENCE_DBFS
    mic_peak_dbfs: float = SILENCE_DBFS
    mic_raw_dbfs: float = SILENCE_DBFS  # before processing (``mic_dbfs`` is what a call sends)
    processing: tuple[str, ...] = ()  # what runs on the microphone, of kiosk.call.aec.FEATURES
    processing_problem: str = ""  # why it does not run although the config asks for it (for the log)
    speaker: Check = Check()
    tone_playing: bool = False
    dispatch: Check = Check()
    dispatch_ms: Optional[float] = None


def healthz_url(ws_url: str) -> str:
    """``ws(s)://host/ws`` → ``http(s)://host/healthz``."""
    http = "https" + ws_url[3:] if ws_url.startswith("wss") else "http" + ws_url[2:]
    base = http.rsplit("/", 1)[0] if http.count("/") > 2 else http
    return base + "/healthz"


class DeviceCheck:
    """Started by the engine; reports a fresh ``DeviceCheckReport`` through ``on_report``."""

    def __init__(self, engine, on_report: Callable[[DeviceCheckReport], None]) -> None:
        self._engine = engine
        self._on_report = on_report
        self.report = DeviceCheckReport()
        self._tasks: list[asyncio.Task] = []
        self._mic = None
        self._level = AudioLevel()
        self._frames = 0

    def _publish(self, **changes) -> None:
        self.report = replace(self.report, **changes)
        self._on_report(self.report)

    async def start(self) -> None:
        engine = self._engine
        engine.camera.subscribe(self._count_frame)
        engine.camera.start()
        self._mic = engine._microphone()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(consume(self._mic, self._mic_frame), name="check-mic"),
                       loop.create_task(self._tick(), name="check-tick"),
                       loop.create_task(self.check_dispatch(), name="check-dispatch")]
        self._publish()

    async def stop(self) -> None:
        engine = self._engine
        engine.camera.unsubscribe(self._count_frame)
        await engine.camera.stop()
        if self._mic is not None:
            self._mic.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    # --- camera and microphone -------------------------------------------------------------

    def _count_frame(self, frame) -> None:
        self._frames += 1

    def _mic_frame(self, frame: av.AudioFrame) -> None:
        self._level.update(frame)

    async def _tick(self) -> None:
        """Ten times a second: microphone level; every second: camera frame rate."""
        last, frames = time.monotonic(), self._frames
        n = 0
        while True:
            await asyncio.sleep(0.1)
            n += 1
            changes: dict = {"mic_dbfs": round(self._level.level_dbfs, 1),
                             "mic_peak_dbfs": round(self._level.peak_dbfs, 1), **self._processing()}
            devices = self._engine.devices
            if not devices["microphone"].ok:
                changes["microphone"] = Check("fail", devices["microphone"].message)
            elif self._level.peak_dbfs > MIC_PASS_DBFS:
                changes["microphone"] = Check("pass")  # the screen shows the level itself
            if n % 10 == 0:
                now = time.monotonic()
                fps = (self._frames - frames) / (now - last)
                last, frames = now, self._frames
                camera = getattr(self._engine.camera, "available", True)
                if not devices["camera"].ok or not camera:
                    detail = devices["camera"].message or getattr(self._engine.camera, "status_message", "")
                    changes["camera"] = Check("fail", detail or "no picture")
                elif fps >= CAMERA_PASS_FPS:
                    changes["camera"] = Check("pass")  # the screen shows the frame rate
                else:
                    changes["camera"] = Check("fail", f"only {fps:.0f} fps")
                changes["camera_fps"] = round(fps, 1)
            self._publish(**changes)

    def _processing(self) -> dict:
        processor = getattr(self._mic, "processor", None)
        if processor is None:
            return {"mic_raw_dbfs": round(self._level.level_dbfs, 1), "processing": (),
                    "processing_problem": getattr(self._engine, "voice_problem", None) or ""}
        return {"mic_raw_dbfs": round(processor.level_in.level_dbfs, 1),
                "processing": processor.features, "processing_problem": processor.failed}

    # --- speaker ----------------------------------------------------------------------------

    async def play_tone(self, seconds: float = 1.5) -> None:
        """A 440 Hz tone through the kiosk's speaker; the technician says whether it was heard."""
        speaker = self._engine._speaker
        devices = self._engine.devices
        if not devices["speaker"].ok:
            self._publish(speaker=Check("fail", devices["speaker"].message))
            return
        self._publish(tone_playing=True)
        try:
            blocks = int(seconds * AUDIO_RATE / AUDIO_SAMPLES)
            for i in range(blocks):
                if speaker is not None:
                    speaker.write(_tone_frame(i))
                await asyncio.sleep(AUDIO_SAMPLES / AUDIO_RATE)
        finally:
            self._publish(tone_playing=False)

    def confirm_speaker(self, heard: bool) -> None:
        self._publish(speaker=Check("pass" if heard else "fail"))

    # --- dispatch ---------------------------------------------------------------------------

    async def check_dispatch(self) -> None:
        engine = self._engine
        url = healthz_url(engine.config.dispatch.url)
        started = time.monotonic()
        try:
            timeout = aiohttp.ClientTimeout(total=5)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.get(url, ssl=engine.signaling.ssl_param) as resp:
                    ok = resp.status == 200 and (await resp.json()).get("ok") is True
            ms = round((time.monotonic() - started) * 1000, 1)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, OSError) as exc:
            self._publish(dispatch=Check("fail", f"cannot reach {url}: {exc or type(exc).__name__}"),
                          dispatch_ms=None)
            return
        linked = engine.signaling.connected
        if ok and linked:
            self._publish(dispatch=Check("pass"), dispatch_ms=ms)  # the screen shows the time
        elif ok:
            self._publish(dispatch=Check("fail", engine.signaling.last_error or "not logged in"),
                          dispatch_ms=ms)
        else:
            self._publish(dispatch=Check("fail", f"{url} answered, but not as dispatch"), dispatch_ms=ms)


def _tone_frame(index: int) -> av.AudioFrame:
    n = np.arange(index * AUDIO_SAMPLES, (index + 1) * AUDIO_SAMPLES)
    pcm = (0.3 * 32767 * np.sin(2 * np.pi * TONE_HZ * n / AUDIO_RATE)).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(np.repeat(pcm, 2).reshape(1, -1), format="s16", layout="stereo")
    frame.sample_rate = AUDIO_RATE
    frame.pts = index * AUDIO_SAMPLES
    return frame
