"""Echo cancellation, noise suppression and a high-pass filter on the kiosk's microphone.

At the counter the interpreter's voice comes out of the kiosk's speaker and reaches its
microphone a moment later; without echo cancellation the interpreter hears themselves. Browsers
cancel echo for free, aiortc and PortAudio do not. ``VoiceProcessor`` runs WebRTC's audio
processing module (APM: AEC3 echo canceller, noise suppressor, high-pass filter; the same code a
browser runs) on every microphone block before it goes to the peer connection, with what the
speaker actually played as the far-end reference.

Which binding (checked 2026-11 on PyPI, the package lists and this machine):

- ``livekit`` (``livekit.rtc.AudioProcessingModule``), chosen. Kept by LiveKit Inc. (1.2.1 in
  2026-11, frequent releases, among PyPI's most downloaded packages), Apache-2.0, ``py3-none``
  wheels for Linux glibc ≥ 2.28 (x86_64, aarch64), macOS (x86_64, arm64) and Windows (x86_64),
  Python ≥ 3.9: a ctypes-loaded native library, so no compiler on a kiosk and no rebuild per
  Python version. Its APM is a current libwebrtc build (AEC3). API fit: 10 ms int16 frames at 48 kHz, the
  kiosk's own format, processed in place; ``set_stream_delay_ms`` for the delay hint. Cost: a
  28 MB native library (the LiveKit client core) and ``protobuf`` as dependencies, and each call
  crosses its FFI (measured: ~1 % of one core for 48 kHz mono with all three parts on; see
  ``bench/aec_cpu.py``).
- ``pywebrtc-audio`` 0.2.0 (strands-labs, Apache-2.0, wheels for the same platforms): the same
  AEC3 with a neater numpy API and the GIL released, but a "beta" first-year project; on the same
  synthetic echo paths and speech-like voices (110–165 Hz) here it cancelled a little less
  (47–50 dB against 43–58 dB after 5 s) at three times the CPU (~3 % of a core). A good fallback
  if livekit ever stops publishing wheels. Both leak short bursts of echo on a synthetic 200 Hz
  voice made of clean harmonics (20–30 dB over 15 s): that is AEC3, not the binding.
- ``webrtc-audio-processing`` (last release 2019, the pre-AEC3 canceller, sdist only, needs
  swig), ``aec-audio-processing`` (Windows wheels only; elsewhere a meson/swig build) and
  ``webrtc-apm`` (one cp311 Windows wheel, no source): not usable on a Linux kiosk.
- Speex's echo canceller (``speexdsp`` 2018, ``pyaec``, ``speexaec``): an older, weaker
  algorithm (no residual echo suppressor worth the name, poor in double talk), small
  single-author bindings.

How the reference lines up: ``SpeakerSink`` hands every block its PortAudio callback plays
(silence included) to a ``FarEnd``, with the time PortAudio says it reaches the loudspeaker (so
the silence of an underrun can be put back into the reference); the microphone track, as each
block arrives from PortAudio, first feeds everything played since the last block to the APM as the reverse stream, then
processes the microphone block. Taking the reference where it is played, not where it is queued,
keeps the far-end and the echo a fixed distance apart whatever the speaker's buffer does (drops
of the oldest audio, trims of a standing queue, underruns and prefill insert or remove time that
a reference taken at ``write`` would not see). The delay hint is therefore the output stream's
latency (PortAudio's, from the callback to the loudspeaker) plus the input stream's latency (from
the microphone to the callback); AEC3's own delay estimator finds the acoustic rest.

Threads: ``FarEnd.played`` runs on PortAudio's output thread and only appends to a bounded deque;
everything else runs on the call engine's asyncio loop. Processing never breaks a call: if the
APM fails, the microphone's audio goes on unprocessed and the log says why.
"""

from __future__ import annotations

import collections
import importlib
import logging
import time
from typing import Any, Callable, Optional

import numpy as np

from kiosk.call.audio import AudioLevel
from kiosk.call.media import AUDIO_RATE

log = logging.getLogger("kiosk.call.aec")

FRAME_SAMPLES = AUDIO_RATE // 100  # the APM takes 10 ms frames: 480 samples at 48 kHz
FRAME_BYTES = FRAME_SAMPLES * 2
FAR_END_BLOCKS = 25  # played blocks kept for the microphone path (~0.5 s of 20 ms blocks)
GAP_TOLERANCE_S = 0.005  # DAC-time jitter between blocks that is not an underrun
MAX_GAP_S = 0.5  # longer jumps (a stream restart, a clock step) are not bridged

FEATURES = ("echo_cancellation", "noise_suppression", "high_pass_filter")


class ProcessingUnavailable(Exception):
    """The audio processing library cannot be loaded; ``str(exc)`` is for a person."""


def load_rtc(import_module: Callable[[str], Any] = importlib.import_module) -> Any:
    """``livekit.rtc`` (imported on demand: it loads a 28 MB native library)."""
    try:
        return import_module("livekit.rtc")
    except ImportError as exc:
        raise ProcessingUnavailable(
            f"the Python package livekit is not installed: pip install livekit ({exc})") from exc
    except OSError as exc:  # the native library does not load on this system
        raise ProcessingUnavailable(f"WebRTC audio processing cannot load: {exc}") from exc


class FarEnd:
    """What the speaker played, from PortAudio's output thread to the microphone path.

    ``played`` is called in the output callback with the interleaved int16 block it just handed
    to the device (``channels`` per frame) and PortAudio's ``outputBufferDacTime`` for it (None
    if unknown); ``take`` returns everything played since the last call as mono int16. At most
    ``max_blocks`` blocks wait (the oldest go first), so a microphone that is not running costs
    nothing but a copy per block.

    When the device ran dry between two blocks (an underrun: the DAC times jump by more than
    the first block lasts), the loudspeaker played silence that no callback produced; ``take``
    puts that much silence (at most ``MAX_GAP_S``) between them, so the reference keeps the
    loudspeaker's timeline and the echo stays where the canceller learnt to expect it.
    """

    def __init__(self, channels: int = 1, max_blocks: int = FAR_END_BLOCKS) -> None:
        self.channels = channels
        self._blocks: collections.deque[tuple[bytes, Optional[float]]] = collections.deque(
            maxlen=max_blocks)
        self.blocks_played = 0
        self.gaps = 0  # underruns bridged with silence
        self.gap_s = 0.0
        self._next_dac: Optional[float] = None  # when the block after the last one taken is due

    def played(self, data: bytes, dac_time: Optional[float] = None) -> None:  # PortAudio thread
        self._blocks.append((data, dac_time))
        self.blocks_played += 1

    def take(self) -> np.ndarray:
        parts = []
        frame_bytes = 2 * self.channels
        while True:
            try:
                data, dac = self._blocks.popleft()
            except IndexError:
                break
            if dac and self._next_dac is not None:
                gap = dac - self._next_dac
                if GAP_TOLERANCE_S < gap <= MAX_GAP_S:
                    parts.append(bytes(int(round(gap * AUDIO_RATE)) * frame_bytes))
                    self.gaps += 1
                    self.gap_s += gap
            self._next_dac = dac + len(data) / frame_bytes / AUDIO_RATE if dac else None
            parts.append(data)
        if not parts:
            return np.zeros(0, dtype=np.int16)
        pcm = np.frombuffer(b"".join(parts), dtype=np.int16)
        if self.channels == 1:
            return pcm
        pcm = pcm[: len(pcm) - len(pcm) % self.channels].reshape(-1, self.channels)
        return (pcm.astype(np.int32).sum(axis=1) // self.channels).astype(np.int16)

    def clear(self) -> None:
        self._blocks.clear()
        self._next_dac = None


class VoiceProcessor:
    """WebRTC audio processing for the microphone: ``process(block)`` takes int16 mono 48 kHz
    (any whole number of 10 ms frames) and returns the processed block.

    ``far_end``: the speaker's ``FarEnd`` (echo cancellation has nothing to cancel without it).
    ``output_latency_s``: a callable giving the speaker stream's current output latency; the
    delay hint is that plus the microphone stream's ``input_latency_s`` (see the module doc).
    ``level_in`` / ``level_out``: the microphone's level before and after processing.
    """

    def __init__(self, *, echo_cancellation: bool = True, noise_suppression: bool = True,
                 high_pass_filter: bool = True, far_end: Optional[FarEnd] = None,
                 output_latency_s: Optional[Callable[[], float]] = None, rtc: Any = None) -> None:
        self._rtc = rtc if rtc is not None else load_rtc()
        self.echo_cancellation = echo_cancellation
        self.noise_suppression = noise_suppression
        self.high_pass_filter = high_pass_filter
        self._apm = self._rtc.AudioProcessingModule(
            echo_cancellation=echo_cancellation, noise_suppression=noise_suppression,
            high_pass_filter=high_pass_filter)
        self.far_end = far_end if echo_cancellation else None
        self.output_latency_s = output_latency_s
        self.input_latency_s = 0.0
        self._far_pending = np.zeros(0, dtype=np.int16)
        self.level_in = AudioLevel()
        self.level_out = AudioLevel()
        self.frames = 0  # 10 ms microphone frames processed
        self.far_frames = 0  # 10 ms speaker frames given as the reference
        self.cpu_s = 0.0  # thread CPU time spent in the APM
        self.failed = ""  # why processing stopped (the audio then passes unprocessed)

    @property
    def features(self) -> tuple[str, ...]:
        """What runs, in ``FEATURES`` order (echo cancellation only with a speaker reference)."""
        on = {"echo_cancellation": self.far_end is not None,
              "noise_suppression": self.noise_suppression, "high_pass_filter": self.high_pass_filter}
        return tuple(name for name in FEATURES if on[name])

    def restart(self, input_latency_s: float = 0.0) -> None:
        """A new microphone stream starts (``input_latency_s``: PortAudio's input latency): what
        the speaker played before is no reference for it."""
        self.input_latency_s = input_latency_s
        if self.far_end is not None:
            self.far_end.clear()
        self._far_pending = np.zeros(0, dtype=np.int16)

    @property
    def delay_ms(self) -> int:
        """The delay hint: speaker callback → loudspeaker, plus microphone → input callback."""
        out = self.output_latency_s() if self.output_latency_s is not None else 0.0
        return max(0, int(round(1000.0 * (out + self.input_latency_s))))

    def _frame(self, pcm: np.ndarray) -> Any:
        return self._rtc.AudioFrame(bytearray(pcm.tobytes()), AUDIO_RATE, 1, FRAME_SAMPLES)

    def _feed_far_end(self) -> None:
        far = self.far_end.take()
        if far.size:
            far = np.concatenate([self._far_pending, far]) if self._far_pending.size else far
        else:
            far = self._far_pending
        whole = far.size - far.size % FRAME_SAMPLES
        for start in range(0, whole, FRAME_SAMPLES):
            self._apm.process_reverse_stream(self._frame(far[start:start + FRAME_SAMPLES]))
            self.far_frames += 1
        self._far_pending = far[whole:].copy()

    def process(self, block: bytes) -> bytes:
        pcm = np.frombuffer(block, dtype=np.int16)
        self.level_in.update(pcm)
        if self.failed or pcm.size % FRAME_SAMPLES:
            if not self.failed:
                self.failed = f"microphone blocks of {pcm.size} samples are not whole 10 ms frames"
                log.error("audio processing off: %s", self.failed)
            self.level_out.update(pcm)
            return block
        started = time.thread_time()
        try:
            if self.far_end is not None:
                self._feed_far_end()
                self._apm.set_stream_delay_ms(self.delay_ms)
            out = bytearray()
            for start in range(0, pcm.size, FRAME_SAMPLES):
                frame = self._frame(pcm[start:start + FRAME_SAMPLES])
                self._apm.process_stream(frame)
                out += frame.data.tobytes()
                self.frames += 1
        except Exception as exc:  # never break the call over processing
            self.failed = f"WebRTC audio processing failed: {exc}"
            log.exception("audio processing off for the rest of this run")
            self.level_out.update(pcm)
            return block
        finally:
            self.cpu_s += time.thread_time() - started
        result = bytes(out)
        self.level_out.update(np.frombuffer(result, dtype=np.int16))
        return result


def processor_for(audio, speaker=None, rtc: Any = None) -> Optional[VoiceProcessor]:
    """The processor the config asks for (None: all of it is off), wired to ``speaker`` (a
    ``SpeakerSink`` or None) as the far-end reference. Raises ``ProcessingUnavailable``."""
    if not (audio.echo_cancellation or audio.noise_suppression or audio.high_pass_filter):
        return None
    far_end = None
    echo = audio.echo_cancellation and speaker is not None
    if audio.echo_cancellation and speaker is None:
        log.warning("echo cancellation has no speaker signal to cancel (audio.output is %r or "
                    "unavailable): only noise suppression / high-pass filter run", audio.output)
    if echo:
        far_end = FarEnd(channels=speaker.channels)

    processor = VoiceProcessor(echo_cancellation=echo, noise_suppression=audio.noise_suppression,
                               high_pass_filter=audio.high_pass_filter, far_end=far_end,
                               output_latency_s=(lambda: speaker.output_latency_s) if echo else None,
                               rtc=rtc)
    if echo:
        speaker.far_end = far_end
    log.info("microphone processing: %s", ", ".join(processor.features) or "none")
    return processor
