"""Media sources and sinks for calls on machines without devices, and the track plumbing.

- ``SyntheticCamera``: a capture source that draws a moving, time-stamped test picture at the
  configured size and rate. One capture feeds every subscriber (the self-view and the call), as
  a real camera must; ``CaptureTrack`` is the aiortc track that sends its newest frame.
- ``ToneTrack``: synthetic microphone, a quiet sine tone in 20 ms Opus-sized frames.
- ``consume``: reads a received track to its end (every received track must be consumed, or
  aiortc's unbounded receive queues grow) and hands each frame to a callback.

A frame's top rows carry its capture time as a strip of black/white blocks (``read_stamp``
recovers it after encode and decode), so benchmarks can measure glass-to-glass delay.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import math
import time
from typing import Callable, Optional

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger("kiosk.call.media")

VIDEO_CLOCK = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)
AUDIO_RATE = 48_000
AUDIO_SAMPLES = 960  # 20 ms
AUDIO_TIME_BASE = fractions.Fraction(1, AUDIO_RATE)

# --- a 5x7 bitmap font, enough for labels and clocks ----------------------------------------

_GLYPHS = {
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11110 10001 10001 10001 10001 10001 11110",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 10001 01010 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    ":": "00000 01100 01100 00000 01100 01100 00000",
    ".": "00000 00000 00000 00000 00000 01100 01100",
    "-": "00000 00000 00000 11111 00000 00000 00000",
    "#": "01010 01010 11111 01010 11111 01010 01010",
    " ": "00000 00000 00000 00000 00000 00000 00000",
}
_GLYPH_BITS = {
    ch: np.array([[c == "1" for c in row] for row in rows.split()], dtype=bool)
    for ch, rows in _GLYPHS.items()
}


def text_mask(text: str, scale: int) -> np.ndarray:
    """A boolean mask of ``text`` in the bitmap font, each font pixel ``scale`` px square."""
    glyphs = [_GLYPH_BITS.get(ch, _GLYPH_BITS["#"]) for ch in text.upper()]
    gap = np.zeros((7, 1), dtype=bool)
    row = np.hstack([g if i == 0 else np.hstack([gap, g]) for i, g in enumerate(glyphs)])
    return np.kron(row, np.ones((scale, scale), dtype=bool))


def draw_text(plane: np.ndarray, text: str, x: int, y: int, scale: int, value: int) -> None:
    mask = text_mask(text, scale)
    h = min(mask.shape[0], plane.shape[0] - y)
    w = min(mask.shape[1], plane.shape[1] - x)
    if h > 0 and w > 0:
        plane[y : y + h, x : x + w][mask[:h, :w]] = value


# --- a machine-readable time stamp ----------------------------------------------------------

STAMP_BITS = 40  # milliseconds modulo 2**40 (~35 years)


def _stamp_geometry(width: int) -> tuple[int, int]:
    block = max(2, width // (STAMP_BITS + 8))
    return block, block  # block width, strip height


def write_stamp(y_plane: np.ndarray, ms: int) -> None:
    """Draw ``ms`` as STAMP_BITS black/white blocks across the top of the luma plane."""
    bw, bh = _stamp_geometry(y_plane.shape[1])
    bits = [(ms >> (STAMP_BITS - 1 - i)) & 1 for i in range(STAMP_BITS)]
    strip = np.repeat(np.array(bits, dtype=np.uint8) * 235 + 16, bw)
    y_plane[:bh, : strip.size] = strip


def read_stamp(y_plane: np.ndarray) -> int:
    """Recover the time stamp written by ``write_stamp`` from a decoded luma plane."""
    bw, bh = _stamp_geometry(y_plane.shape[1])
    band = y_plane[bh // 4 : bh - bh // 4, : STAMP_BITS * bw].astype(np.float32)
    centres = band.reshape(band.shape[0], STAMP_BITS, bw)[:, :, bw // 4 : bw - bw // 4]
    bits = centres.mean(axis=(0, 2)) > 128
    value = 0
    for b in bits:
        value = (value << 1) | int(b)
    return value


# --- the synthetic camera -------------------------------------------------------------------

FrameCallback = Callable[[av.VideoFrame], None]


class CaptureSource:
    """A video capture shared by every consumer: subscribers get each frame as it arrives,
    tracks wait for the newest one. Subclasses implement ``_run`` (produce frames and call
    ``_publish``)."""

    def __init__(self, width: int, height: int, fps: int) -> None:
        self.width, self.height, self.fps = width, height, fps
        self._subscribers: list[FrameCallback] = []
        self._latest: Optional[av.VideoFrame] = None
        self._seq = 0
        self._changed = asyncio.Event()
        self._task: Optional[asyncio.Task] = None
        self.frames_captured = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def subscribe(self, callback: FrameCallback) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: FrameCallback) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def start(self) -> None:
        if not self.running:
            self._changed = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="capture")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._changed.set()  # wake waiting tracks so they notice

    async def _run(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _publish(self, frame: av.VideoFrame) -> None:
        self._latest = frame
        self._seq += 1
        self.frames_captured += 1
        self._changed.set()
        self._changed = asyncio.Event()
        for callback in list(self._subscribers):
            try:
                callback(frame)
            except Exception:  # a broken viewer must not stop the capture
                log.exception("frame subscriber failed")

    async def next_frame(self, after_seq: int) -> tuple[int, av.VideoFrame]:
        """Wait for a frame newer than ``after_seq``; returns (seq, frame)."""
        while self._seq <= after_seq or self._latest is None:
            if not self.running:
                raise MediaStreamError("capture stopped")
            await self._changed.wait()
        return self._seq, self._latest

    def track(self) -> "CaptureTrack":
        return CaptureTrack(self)


class SyntheticCamera(CaptureSource):
    """A moving, time-stamped test picture: a sweeping bar, a bouncing block, a clock, a label."""

    def __init__(self, width: int, height: int, fps: int, label: str = "KIOSK TEST CAMERA",
                 hue: tuple[int, int] = (100, 160)) -> None:
        super().__init__(width, height, fps)
        self.label = label
        h, w = height, width
        yy, xx = np.mgrid[0:h, 0:w]
        self._y_base = (40 + (xx * 120 // max(1, w - 1)) + (yy * 40 // max(1, h - 1))).astype(np.uint8)
        self._u = np.full((h // 2, w // 2), hue[0], dtype=np.uint8)
        self._v = np.full((h // 2, w // 2), hue[1], dtype=np.uint8)
        self._scale = max(2, height // 160)
        self._t0 = time.time()

    def draw(self, at: float) -> av.VideoFrame:
        h, w, s = self.height, self.width, self._scale
        y = self._y_base.copy()
        t = at - self._t0
        bar_x = int((t * w / 4) % w)
        y[:, bar_x : bar_x + max(4, w // 40)] = 235
        bx = int((0.5 + 0.4 * math.sin(t * 1.3)) * (w - w // 6))
        by = int((0.5 + 0.35 * math.cos(t * 0.9)) * (h - h // 6))
        y[by : by + h // 8, bx : bx + h // 8] = 16
        stamp = time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at * 1000) % 1000:03d}"
        top = h // 2 - s * 9  # mid-height: clear of the clock, self-view and buttons drawn over it
        draw_text(y, self.label, s * 2, top, s, 235)
        draw_text(y, stamp, s * 2, top + s * 10, s, 235)
        write_stamp(y, int(at * 1000))
        frame = av.VideoFrame.from_ndarray(np.vstack([y, self._u.reshape(-1, w), self._v.reshape(-1, w)]),
                                           format="yuv420p")
        return frame

    async def _run(self) -> None:
        period = 1.0 / self.fps
        start = time.monotonic()
        n = 0
        while True:
            self._publish(self.draw(time.time()))
            n += 1
            delay = start + n * period - time.monotonic()
            if delay < -period:  # fell behind (busy CPU): skip ahead, keep real time
                n = int((time.monotonic() - start) / period)
                delay = 0
            await asyncio.sleep(max(0.0, delay))


class CaptureTrack(MediaStreamTrack):
    """Sends the newest frame of a ``CaptureSource``; never queues old frames."""

    kind = "video"

    def __init__(self, source: CaptureSource) -> None:
        super().__init__()
        self._source = source
        self._seq = 0
        self._t0: Optional[float] = None
        self.frames_sent = 0
        self.scale = 1.0  # share of the capture size to send (ResolutionPolicy lowers it)

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        self._seq, frame = await self._source.next_frame(self._seq)
        if self.scale < 1.0:
            # smaller picture, same frame rate: even sizes for 4:2:0
            width = max(2, int(frame.width * self.scale) // 2 * 2)
            height = max(2, int(frame.height * self.scale) // 2 * 2)
            frame = frame.reformat(width=width, height=height, format="yuv420p")
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        # The frame object is shared with the self-view; only its timing fields are ours.
        frame.pts = int((now - self._t0) * VIDEO_CLOCK)
        frame.time_base = VIDEO_TIME_BASE
        self.frames_sent += 1
        return frame


# --- synthetic audio ------------------------------------------------------------------------


class ToneTrack(MediaStreamTrack):
    """A sine tone in 20 ms frames of 48 kHz mono s16, paced by the clock."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0, level: float = 0.2) -> None:
        super().__init__()
        self.frequency = frequency
        self._amplitude = int(32767 * level)
        self._start: Optional[float] = None
        self._samples = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        else:
            wait = self._start + self._samples / AUDIO_RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        n = np.arange(self._samples, self._samples + AUDIO_SAMPLES)
        pcm = (self._amplitude * np.sin(2 * np.pi * self.frequency * n / AUDIO_RATE)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._samples
        frame.time_base = AUDIO_TIME_BASE
        self._samples += AUDIO_SAMPLES
        return frame


# --- consuming received tracks --------------------------------------------------------------


async def consume(track: MediaStreamTrack, on_frame: Callable[[object], None] | None = None) -> int:
    """Read ``track`` until it ends; returns the number of frames read."""
    count = 0
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return count
        count += 1
        if on_frame is not None:
            try:
                on_frame(frame)
            except Exception:
                log.exception("frame consumer failed")


def consume_in_background(track: MediaStreamTrack, on_frame=None,
                          tasks: set | None = None) -> asyncio.Task:
    task = asyncio.get_running_loop().create_task(consume(track, on_frame), name=f"consume-{track.kind}")
    if tasks is not None:
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    return task

