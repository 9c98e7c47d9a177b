"""Real microphone and speaker through PortAudio (the ``sounddevice`` package).

- ``list_devices`` / ``find_device``: what PortAudio sees, and the device a config names.
- ``MicrophoneTrack``: an aiortc audio track fed by a PortAudio input stream (48 kHz mono s16,
  20 ms blocks). The device clock paces it; if the device stops delivering (unplugged) the track
  sends silence paced by the wall clock so the call goes on, says so through ``on_status`` and
  reopens the stream every few seconds until audio flows again.
- ``SpeakerSink``: plays the remote party's decoded frames through a PortAudio output stream,
  with a bounded buffer (drop the oldest on overflow, silence on underrun).
- ``AudioLevel``: RMS level of a frame in dBFS, for level meters.

``sounddevice`` is imported lazily: importing it loads PortAudio, which is missing on machines
without ``libportaudio2`` (``OSError``) and may even hang on some CI hosts. Every failure to find
or open a device becomes an ``AudioUnavailable`` whose message a person can act on. Every class
takes the ``sounddevice`` module as an optional argument so tests can hand in a fake.

Threads: PortAudio calls the stream callbacks on its own thread. The microphone callback only
copies the block and hands it to the asyncio loop with ``call_soon_threadsafe``; the speaker
callback only copies out of a lock-protected ``bytearray`` that ``write`` (asyncio thread) fills.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import importlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from kiosk.call.media import AUDIO_RATE, AUDIO_SAMPLES, AUDIO_TIME_BASE

log = logging.getLogger("kiosk.call.audio")

SAMPLE_BYTES = 2  # int16
BLOCK_S = AUDIO_SAMPLES / AUDIO_RATE  # 20 ms

KIND_WORDS = {"input": ("microphone", "input"), "output": ("speaker", "output")}


class AudioUnavailable(Exception):
    """No usable audio device; ``str(exc)`` is a sentence for a person (logs, device-check screen)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- the sounddevice module, loaded on demand ----------------------------------------------


def load_sounddevice(import_module: Callable[[str], Any] = importlib.import_module) -> Any:
    """Import ``sounddevice`` (and so PortAudio), turning every failure into ``AudioUnavailable``."""
    try:
        return import_module("sounddevice")
    except OSError as exc:  # sounddevice raises OSError("PortAudio library not found")
        raise AudioUnavailable(
            f"PortAudio is not installed: install libportaudio2 (apt-get install libportaudio2) ({exc})"
        ) from exc
    except ImportError as exc:
        raise AudioUnavailable(
            f"the Python package sounddevice is not installed: pip install sounddevice ({exc})"
        ) from exc
    except Exception as exc:  # e.g. PortAudioError from Pa_Initialize
        raise AudioUnavailable(f"PortAudio could not start: {exc}") from exc


def _sd(module: Any = None) -> Any:
    return module if module is not None else load_sounddevice()


# --- devices --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    inputs: int
    outputs: int
    default_samplerate: float

    def channels(self, kind: str) -> int:
        return self.inputs if kind == "input" else self.outputs


def _device(info: Any) -> AudioDevice:
    return AudioDevice(index=int(info["index"]), name=str(info["name"]),
                       inputs=int(info["max_input_channels"]), outputs=int(info["max_output_channels"]),
                       default_samplerate=float(info["default_samplerate"]))


def list_devices(sd: Any = None) -> list[AudioDevice]:
    """Every device PortAudio sees (empty on a machine without sound devices)."""
    sd = _sd(sd)
    try:
        infos = sd.query_devices()
    except Exception as exc:
        raise AudioUnavailable(f"PortAudio could not list the audio devices: {exc}") from exc
    return [_device(info) for info in infos]


def _names(devices: list[AudioDevice]) -> str:
    return ", ".join(f'{d.index}: "{d.name}"' for d in devices) or "none"


def find_device(name_or_index: Union[str, int, None], kind: str, sd: Any = None) -> AudioDevice:
    """The ``kind`` ("input" or "output") device a config names.

    ``None``, ``""`` or ``"default"`` (when no device has that name): the system's default device.
    An int or a string of digits: that PortAudio index. Otherwise the device with exactly that
    name, else the first whose name contains it (case-insensitive). Only devices with channels of
    that kind are candidates. Raises ``AudioUnavailable`` naming the devices there are.
    """
    if kind not in KIND_WORDS:
        raise ValueError(f"kind must be 'input' or 'output', not {kind!r}")
    word, direction = KIND_WORDS[kind]
    sd = _sd(sd)
    devices = list_devices(sd)
    usable = [d for d in devices if d.channels(kind) > 0]
    if not usable:
        raise AudioUnavailable(f"no {word} found (PortAudio sees no {direction} device)")

    if isinstance(name_or_index, str):
        wanted = name_or_index.strip()
        if wanted.isdigit():
            name_or_index = int(wanted)
    else:
        wanted = ""

    if isinstance(name_or_index, int) and not isinstance(name_or_index, bool):
        for d in devices:
            if d.index == name_or_index:
                if d.channels(kind) == 0:
                    raise AudioUnavailable(f'audio device {d.index} "{d.name}" has no {direction} channels; '
                                           f"{direction} devices: {_names(usable)}")
                return d
        raise AudioUnavailable(f"no {word} with index {name_or_index}; {direction} devices: {_names(usable)}")

    if wanted:
        exact = [d for d in usable if d.name == wanted]
        if exact:
            return exact[0]
        lowered = wanted.lower()
        partial = [d for d in usable if lowered in d.name.lower()]
        if partial:
            if len(partial) > 1:
                log.warning('%s "%s" matches several devices (%s): using "%s"', word, wanted,
                            _names(partial), partial[0].name)
            return partial[0]
        if lowered != "default":
            raise AudioUnavailable(f'no {word} named "{wanted}"; {direction} devices: {_names(usable)}')

    try:  # the system default
        info = sd.query_devices(kind=kind)
    except Exception:
        info = None
    if info is not None:
        default = _device(info)
        if default.channels(kind) > 0:
            return default
    return usable[0]


# --- level meter ----------------------------------------------------------------------------

SILENCE_DBFS = -100.0


class AudioLevel:
    """RMS level in dBFS (0 dB = a full-scale square wave, so a full-scale sine is -3 dB).

    ``AudioLevel.dbfs(frame)`` measures one frame (``av.AudioFrame`` of any format, or an array of
    int16 or float samples); an instance keeps the last level and the peak since ``reset``.
    """

    def __init__(self) -> None:
        self.level_dbfs = SILENCE_DBFS
        self.peak_dbfs = SILENCE_DBFS

    @staticmethod
    def dbfs(frame: Union[av.AudioFrame, np.ndarray]) -> float:
        data = frame.to_ndarray() if isinstance(frame, av.AudioFrame) else np.asarray(frame)
        if data.size == 0:
            return SILENCE_DBFS
        if np.issubdtype(data.dtype, np.integer):
            scale = float(2 ** (8 * data.dtype.itemsize - 1))
            if np.issubdtype(data.dtype, np.unsignedinteger):  # u8: centred on 128
                data = data.astype(np.float64) - scale
            samples = data.astype(np.float64) / scale
        else:
            samples = data.astype(np.float64)
        rms = math.sqrt(float(np.mean(samples * samples)))
        if rms <= 0.0:
            return SILENCE_DBFS
        return max(SILENCE_DBFS, 20.0 * math.log10(rms))

    def update(self, frame: Union[av.AudioFrame, np.ndarray]) -> float:
        self.level_dbfs = self.dbfs(frame)
        self.peak_dbfs = max(self.peak_dbfs, self.level_dbfs)
        return self.level_dbfs

    def reset(self) -> None:
        self.level_dbfs = self.peak_dbfs = SILENCE_DBFS


# --- microphone -----------------------------------------------------------------------------

StatusCallback = Callable[[bool, str], None]


class MicrophoneTrack(MediaStreamTrack):
    """An aiortc audio track (48 kHz mono s16, 20 ms frames) from a PortAudio input device.

    Create it on the asyncio loop that will ``recv`` it (aiortc's sender does). The device is
    looked up at once (``AudioUnavailable`` if there is none); the stream opens at the first
    ``recv``. ``present`` is False while the device delivers nothing; ``on_status(present, text)``
    is called on the loop's thread at each change.

    ``processor`` (e.g. ``kiosk.call.aec.VoiceProcessor``): ``process(block) -> block`` runs on
    each block as it arrives from the device, before it is queued for the peer connection, and
    ``restart(input_latency_s)`` each time a stream opens.
    """

    kind = "audio"

    def __init__(self, device: Union[str, int, None] = None, *, sd: Any = None,
                 on_status: Optional[StatusCallback] = None, max_blocks: int = 10,
                 gone_after_s: float = 1.0, start_grace_s: float = 3.0,
                 reopen_every_s: float = 2.0, clock: Callable[[], float] = time.monotonic,
                 processor: Any = None) -> None:
        super().__init__()
        self.processor = processor
        self._sdmod = _sd(sd)
        self._wanted = device
        self.device = find_device(device, "input", self._sdmod)
        self.on_status = on_status
        self._gone_after_s = gone_after_s
        self._start_grace_s = max(start_grace_s, gone_after_s)
        self._reopen_every_s = reopen_every_s
        self._clock = clock
        self._blocks: collections.deque[bytes] = collections.deque(maxlen=max_blocks)
        self._pending = bytearray()  # a partial block, if the device delivers odd sizes
        self._arrived: Optional[asyncio.Event] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stream: Any = None
        self._stream_lock = threading.Lock()  # open/close may run on an executor thread
        self._generation = 0  # blocks from a closed stream are ignored
        self._reopen_task: Optional[asyncio.Task] = None
        self._started = False
        self._last_data = 0.0  # clock time of the last block from the device
        self._silence_start = 0.0
        self._silence_sent = 0
        self._samples = 0
        self.present = True
        self.problem = ""
        # counters
        self.blocks_captured = 0
        self.samples_captured = 0
        self.drops = 0  # blocks dropped because recv did not keep up (oldest first)
        self.overflows = 0  # PortAudio reported an input overflow
        self.silence_frames = 0
        self.reopens = 0

    # --- PortAudio thread -------------------------------------------------------------------

    def _callback(self, generation: int, indata, frames, time_info, status) -> None:
        data = bytes(indata)
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._push, data, generation, bool(status))
        except RuntimeError:  # the loop is closed: the track is going away
            pass

    # --- asyncio thread ---------------------------------------------------------------------

    def _push(self, data: bytes, generation: int, flagged: bool) -> None:
        if generation != self._generation or self.readyState != "live":
            return
        if flagged:
            self.overflows += 1
        block_bytes = AUDIO_SAMPLES * SAMPLE_BYTES
        if not self._pending and len(data) == block_bytes:
            blocks = [data]
        else:
            self._pending += data
            cut = len(self._pending) - len(self._pending) % block_bytes
            blocks = [bytes(self._pending[i:i + block_bytes]) for i in range(0, cut, block_bytes)]
            del self._pending[:cut]
        for block in blocks:
            if self.processor is not None:
                block = self.processor.process(block)
            if len(self._blocks) == self._blocks.maxlen:
                self.drops += 1  # the deque drops the oldest
            self._blocks.append(block)
            self.blocks_captured += 1
            self.samples_captured += AUDIO_SAMPLES
        self._last_data = self._clock()
        if blocks and not self.present:
            self._set_present(True, "the microphone delivers audio again")
        if self._arrived is not None:
            self._arrived.set()

    def _open_stream(self) -> None:
        """Open and start a new input stream (blocking: run it off the loop)."""
        with self._stream_lock:
            self._close_stream_locked()
            if self.readyState != "live":
                return
            try:  # the device may have come back under another index
                self.device = find_device(self._wanted, "input", self._sdmod)
            except AudioUnavailable:
                pass
            callback = functools.partial(self._callback, self._generation)
            stream = self._sdmod.RawInputStream(samplerate=AUDIO_RATE, channels=1, dtype="int16",
                                                blocksize=AUDIO_SAMPLES, device=self.device.index,
                                                callback=callback)
            try:
                stream.start()
            except Exception:
                stream.close()
                raise
            self._stream = stream

    def _close_stream_locked(self) -> None:
        stream, self._stream = self._stream, None
        self._generation += 1
        if stream is not None:
            try:
                stream.stop()
            except Exception:
                pass
            try:
                stream.close()
            except Exception:
                log.debug("closing the input stream failed", exc_info=True)

    def _close_stream(self) -> None:
        with self._stream_lock:
            self._close_stream_locked()

    def _set_present(self, present: bool, text: str) -> None:
        if present == self.present:
            return
        self.present, self.problem = present, ("" if present else text)
        (log.info if present else log.warning)("microphone %s: %s", self.device.name, text)
        if self.on_status is not None:
            try:
                self.on_status(present, text)
            except Exception:
                log.exception("microphone status callback failed")

    def _gone(self, text: str) -> None:
        self._set_present(False, text)
        self._silence_start = self._clock()
        self._silence_sent = 0
        if self._reopen_task is None or self._reopen_task.done():
            self._reopen_task = self._loop.create_task(self._reopen_loop(), name="microphone-reopen")

    async def _reopen_loop(self) -> None:
        wait = self._reopen_every_s
        while self.readyState == "live" and not self.present:
            await asyncio.sleep(wait)
            if self.readyState != "live" or self.present:
                return
            self.reopens += 1
            self._blocks.clear()
            self._pending.clear()
            try:
                await self._loop.run_in_executor(None, self._open_stream)
            except Exception as exc:
                log.debug("reopening microphone %s failed: %s", self.device.name, exc)
                self.problem = f"the microphone cannot be opened (unplugged or in use?): {exc}"
                wait = self._reopen_every_s
            else:  # opened: give it its start-up time before closing it again
                self._restart_processor()
                wait = max(self._reopen_every_s, self._start_grace_s)

    async def _start(self) -> None:
        self._started = True
        self._loop = asyncio.get_running_loop()
        self._arrived = asyncio.Event()
        # a fresh stream has a start-up delay (PulseAudio: 0.5-1.9 s); allow more than gone_after_s
        self._last_data = self._clock() + self._start_grace_s - self._gone_after_s
        try:
            await self._loop.run_in_executor(None, self._open_stream)
        except Exception as exc:
            self._gone(f"the microphone cannot be opened (unplugged or in use?): {exc}")
        else:
            self._restart_processor()

    @property
    def input_latency_s(self) -> float:
        try:
            return float(self._stream.latency)
        except Exception:
            return 0.0

    def _restart_processor(self) -> None:
        if self.processor is not None:
            self.processor.restart(self.input_latency_s)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if not self._started:
            await self._start()
        data = await self._next_block()
        frame = av.AudioFrame(format="s16", layout="mono", samples=AUDIO_SAMPLES)
        frame.planes[0].update(data)
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._samples
        frame.time_base = AUDIO_TIME_BASE
        self._samples += AUDIO_SAMPLES
        return frame

    async def _next_block(self) -> bytes:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if self._blocks:
                return self._blocks.popleft()
            now = self._clock()
            if self.present:
                due = self._last_data + self._gone_after_s
                if now >= due:
                    self._gone("the microphone stopped delivering audio (unplugged?)")
                    continue
            else:  # silence at the wall clock's pace until the device is back
                due = self._silence_start + self._silence_sent * BLOCK_S
                if now >= due:
                    self._silence_sent += 1
                    self.silence_frames += 1
                    if now - due > 10 * BLOCK_S:  # the loop stalled: don't burst to catch up
                        self._silence_start = now - self._silence_sent * BLOCK_S
                    return bytes(AUDIO_SAMPLES * SAMPLE_BYTES)
            self._arrived.clear()
            try:  # not asyncio.wait_for: on Python 3.11 it can swallow a cancellation that
                # arrives as the event fires (CPython bpo-42130, fixed in 3.12), and a cancelled reader then
                # goes on reading forever
                async with asyncio.timeout(max(0.0, due - now)):
                    await self._arrived.wait()
            except TimeoutError:
                pass

    def stop(self) -> None:
        super().stop()
        if self._reopen_task is not None:
            self._reopen_task.cancel()
            self._reopen_task = None
        self._close_stream()
        self._blocks.clear()
        if self._arrived is not None:
            self._arrived.set()  # wake a waiting recv so it raises MediaStreamError


# --- speaker --------------------------------------------------------------------------------

_NO_LOW = 1 << 62  # no callback in the window yet


class SpeakerSink:
    """Plays audio frames through a PortAudio output device.

    ``write(frame)`` (asyncio thread) appends to a buffer of at most ``max_buffer_ms``; when it is
    full the OLDEST audio is dropped, so latency cannot creep. The PortAudio callback takes one
    block at a time and plays silence when the buffer runs dry; after running dry it waits for
    ``prefill_ms`` of audio before playing again, so one late packet does not cause a string of
    tiny gaps. The stream opens in the constructor.

    The cap alone does not keep latency low: a burst (e.g. audio written during the output
    stream's start-up: 0.7-1.9 s on PulseAudio) fills the buffer, and a steady producer and consumer
    then keep it full, 200 ms late, for the whole call. So the buffer's low point is watched over
    windows of ``window_s``: if it never fell below ``standing_limit_ms``, the oldest audio is
    trimmed so that low point becomes ``standing_keep_ms`` (counted in ``trims``). Pass
    ``standing_limit_ms=None`` to turn that off.

    ``far_end`` (e.g. ``kiosk.call.aec.FarEnd``, settable at any time): its ``played(block,
    dac_time)`` gets a copy of every block the callback hands to the device, silence included,
    with PortAudio's time for its first sample at the loudspeaker: the echo canceller's reference.
    """

    def __init__(self, device: Union[str, int, None] = None, *, sd: Any = None,
                 max_buffer_ms: int = 200, prefill_ms: int = 40,
                 standing_limit_ms: Optional[int] = 60, standing_keep_ms: int = 20,
                 window_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._sdmod = _sd(sd)
        self.device = find_device(device, "output", self._sdmod)
        self.channels = 2 if self.device.outputs >= 2 else 1
        self._frame_bytes = SAMPLE_BYTES * self.channels
        self._bytes_per_ms = AUDIO_RATE // 1000 * self._frame_bytes
        self._max_bytes = max_buffer_ms * self._bytes_per_ms
        self._prefill_bytes = min(prefill_ms * self._bytes_per_ms, self._max_bytes)
        self._standing_limit = None if standing_limit_ms is None else standing_limit_ms * self._bytes_per_ms
        self._standing_keep = standing_keep_ms * self._bytes_per_ms
        self._window_s = window_s
        self._clock = clock
        self._window_start = clock()
        self._low = _NO_LOW  # the buffer's low point in this window (set by the callback)
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._playing = False  # False until prefill is reached (again)
        self._resamplers: dict[tuple, av.AudioResampler] = {}
        self.underruns = 0  # times playback ran dry while playing
        self.drops = 0  # writes that pushed the oldest audio out
        self.dropped_samples = 0
        self.trims = 0  # standing latency trimmed (see the class doc)
        self.trimmed_samples = 0
        self.xruns = 0  # PortAudio reported an output underflow
        self.frames_written = 0
        self.closed = False
        self.far_end: Any = None
        self._stream: Any = None
        try:
            self._stream = self._sdmod.RawOutputStream(
                samplerate=AUDIO_RATE, channels=self.channels, dtype="int16",
                blocksize=AUDIO_SAMPLES, device=self.device.index, callback=self._callback)
            self._stream.start()
        except Exception as exc:
            if self._stream is not None:
                try:
                    self._stream.close()
                except Exception:
                    pass
            raise AudioUnavailable(f'the speaker "{self.device.name}" cannot be opened: {exc}') from exc

    # --- PortAudio thread: keep it tiny ------------------------------------------------------

    def _callback(self, outdata, frames, time_info, status) -> None:
        self._play(outdata, status)
        far_end = self.far_end
        if far_end is not None:
            far_end.played(bytes(outdata), getattr(time_info, "outputBufferDacTime", None))

    def _play(self, outdata, status) -> None:
        n = len(outdata)
        with self._lock:
            if status:
                self.xruns += 1
            if not self._playing and self._buf and len(self._buf) >= self._prefill_bytes:
                self._playing = True
            if self._playing:
                take = min(n, len(self._buf))
                outdata[:take] = self._buf[:take]
                del self._buf[:take]
                if take < n:
                    outdata[take:] = bytes(n - take)
                    self.underruns += 1
                    self._playing = False
                    self._low = 0
                elif len(self._buf) < self._low:
                    self._low = len(self._buf)
                return
        outdata[:] = bytes(n)

    # --- asyncio thread ----------------------------------------------------------------------

    def _pcm(self, frame: av.AudioFrame) -> bytes:
        """The frame as interleaved s16 at 48 kHz with this sink's channel count."""
        fmt, layout, rate = frame.format.name, frame.layout.name, frame.sample_rate
        nch = len(frame.layout.channels)
        if fmt == "s16" and rate == AUDIO_RATE and nch in (1, 2):
            pcm = frame.to_ndarray().reshape(-1, nch)  # packed s16: shape (1, samples * channels)
            if nch == self.channels:
                return pcm.tobytes()
            if nch == 2:  # stereo to a mono device
                return (pcm.astype(np.int32).sum(axis=1) // 2).astype(np.int16).tobytes()
            return np.repeat(pcm, 2, axis=1).tobytes()  # mono to stereo
        key = (fmt, layout, rate)
        resampler = self._resamplers.get(key)
        if resampler is None:
            resampler = self._resamplers[key] = av.AudioResampler(
                format="s16", layout="stereo" if self.channels == 2 else "mono", rate=AUDIO_RATE)
        return b"".join(out.to_ndarray().tobytes() for out in resampler.resample(frame))

    def write(self, frame: av.AudioFrame) -> None:
        if self.closed:
            return
        data = self._pcm(frame)
        self.frames_written += 1
        now = self._clock()
        trim = 0
        with self._lock:
            self._buf += data
            excess = len(self._buf) - self._max_bytes
            if excess > 0:
                excess += -excess % self._frame_bytes
                del self._buf[:excess]
            if now - self._window_start >= self._window_s:
                low, self._low, self._window_start = self._low, _NO_LOW, now
                if self._standing_limit is not None and self._standing_limit < low < _NO_LOW:
                    trim = low - self._standing_keep
                    trim -= trim % self._frame_bytes
                    del self._buf[:trim]
        if excess > 0:
            self.drops += 1
            self.dropped_samples += excess // self._frame_bytes
        if trim > 0:
            self.trims += 1
            self.trimmed_samples += trim // self._frame_bytes

    @property
    def buffered_ms(self) -> float:
        with self._lock:
            return len(self._buf) / self._bytes_per_ms

    @property
    def output_latency_s(self) -> float:
        try:
            return float(self._stream.latency)
        except Exception:
            return 0.0

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._stream.stop()
        except Exception:
            pass
        try:
            self._stream.close()
        except Exception:
            log.debug("closing the output stream failed", exc_info=True)
        with self._lock:
            self._buf.clear()
