"""Echo cancellation, noise suppression and high-pass filter on the kiosk's microphone
(kiosk/call/aec.py and its hooks in audio.py / engine.py), and their config.

The echo tests drive the kiosk's real processing path, the same objects a call uses: a
``CallEngine`` built from the config opens its ``SpeakerSink`` and makes its ``MicrophoneTrack``
(with the engine's ``VoiceProcessor``) exactly as in a call; the interpreter's audio goes in
through the engine's remote-audio handler as Opus-decoder-like stereo frames; the frames the
microphone track returns are what the peer connection would send to the interpreter. Only the
``sounddevice`` module is a fake (``LockstepSD``): its output stream's callback is pulled and
its input stream's callback pushed by the test, one 20 ms block each per step, so the speaker
signal can go through a synthetic room (``tests/speechlike.echo_path``: 6 ms direct path, four
reflections, diffuse tail, -6 dB) plus the streams' reported latencies (30 ms out, 20 ms in)
into the microphone sample-exactly. The PulseAudio null sinks of tests/pulse.py are not used
here: a real-time loop through them (record the speaker's monitor, convolve, play into the
microphone's feed) adds its own variable latency and, on this shared 2-core machine, glitches
that would measure the test rig rather than the canceller.
"""

from __future__ import annotations

import asyncio
import importlib
import math
import sys
import types

import av
import numpy as np
import pytest

from kiosk.call import aec, audio
from kiosk.call.aec import FarEnd, ProcessingUnavailable, VoiceProcessor, processor_for
from kiosk.call.audio import MicrophoneTrack
from kiosk.call.engine import CallEngine
from kiosk.config import ConfigError, parse_config
from kiosk.demo import open_store
from speechlike import best_lag, dbfs, echo_path, speech_gain_db, speech_like

RATE = 48000
BLOCK = 960  # 20 ms, what the kiosk's streams use
OUT_LATENCY_S = 0.030
IN_LATENCY_S = 0.020
SECONDS = 16.0
CONVERGED_S = 5.0  # ERLE counts after this
STAFF_FROM_S = 6.0  # double talk: the staff start talking here


# --- a sounddevice stand-in the test drives block by block ----------------------------------


class LockstepStream:
    def __init__(self, kind, latency, **kwargs):
        self.kind, self.kwargs, self.latency = kind, kwargs, latency
        self.callback = kwargs["callback"]
        self.started = self.closed = False

    def start(self):
        self.started = True

    def stop(self):
        self.started = False

    def close(self):
        self.closed = True


class LockstepSD:
    """The part of ``sounddevice`` the kiosk uses: one stereo in/out device, streams whose
    callbacks the test calls (``pull`` the speaker, ``push`` the microphone)."""

    class PortAudioError(Exception):
        pass

    def __init__(self):
        self.devices = [{"name": "Counter Speakerphone", "index": 0, "hostapi": 0,
                         "max_input_channels": 2, "max_output_channels": 2,
                         "default_samplerate": 48000.0}]
        self.inputs: list[LockstepStream] = []
        self.outputs: list[LockstepStream] = []

    def query_devices(self, device=None, kind=None):
        return self.devices[0] if (kind or device is not None) else list(self.devices)

    def RawInputStream(self, **kwargs):
        self.inputs.append(LockstepStream("input", IN_LATENCY_S, **kwargs))
        return self.inputs[-1]

    def RawOutputStream(self, **kwargs):
        self.outputs.append(LockstepStream("output", OUT_LATENCY_S, **kwargs))
        return self.outputs[-1]

    def pull(self) -> np.ndarray:
        """One block from the speaker's callback, as the device would play it (mono float)."""
        stream = self.outputs[-1]
        channels = stream.kwargs["channels"]
        out = bytearray(BLOCK * channels * 2)
        stream.callback(memoryview(out), BLOCK, None, 0)
        pcm = np.frombuffer(bytes(out), dtype=np.int16).reshape(-1, channels)
        return pcm.mean(axis=1) / 32768.0

    def push(self, samples: np.ndarray) -> None:
        """One block into the microphone's callback (mono float)."""
        pcm = np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)
        self.inputs[-1].callback(memoryview(pcm.tobytes()), BLOCK, None, 0)


@pytest.fixture
def lockstep_sd(monkeypatch):
    sd = LockstepSD()
    monkeypatch.setattr(audio, "load_sounddevice", lambda *a, **k: sd)
    return sd


def interpreter_frames(signal: np.ndarray) -> list[av.AudioFrame]:
    """The interpreter's audio as aiortc's Opus decoder hands it over: s16 stereo, 20 ms."""
    frames = []
    pcm = np.clip(np.round(signal * 32768.0), -32768, 32767).astype(np.int16)
    for i in range(len(pcm) // BLOCK):
        block = np.repeat(pcm[i * BLOCK:(i + 1) * BLOCK], 2)
        frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = RATE
        frame.pts = i * BLOCK
        frames.append(frame)
    return frames


class Room:
    """The loudspeaker → microphone path: what the device played, after the output latency,
    through the echo path, after the input latency. Streaming FFT convolution."""

    def __init__(self, h: np.ndarray, delay_samples: int) -> None:
        self.h = h
        self.delay = delay_samples
        self.played = np.zeros(0)

    def echo(self, played_block: np.ndarray, index: int) -> np.ndarray:
        self.played = np.concatenate([self.played, played_block])
        start, end = index * BLOCK - self.delay, (index + 1) * BLOCK - self.delay
        lo = start - len(self.h) + 1
        x = np.zeros(end - lo)
        src_lo, src_hi = max(lo, 0), min(end, len(self.played))
        if src_hi > src_lo:
            x[src_lo - lo:src_hi - lo] = self.played[src_lo:src_hi]
        size = 1 << int(math.ceil(math.log2(len(x) + len(self.h))))
        y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(self.h, size), size)
        return y[len(self.h) - 1:len(self.h) - 1 + BLOCK]


async def run_counter(engine: CallEngine, sd: LockstepSD, far: np.ndarray, staff: np.ndarray,
                      noise: np.ndarray) -> dict:
    """Play ``far`` (the interpreter) through the kiosk's speaker while the kiosk's microphone
    hears the room's echo of it plus ``staff`` plus ``noise``; return what the interpreter gets."""
    speaker = engine._speaker
    track = engine._make_microphone()
    room = Room(echo_path(RATE, delay_ms=6.0, gain_db=-6.0, seed=1),
                int(round((OUT_LATENCY_S + IN_LATENCY_S) * RATE)))
    frames = interpreter_frames(far)
    echo_in, sent = [], []
    first = asyncio.ensure_future(track.recv())  # opens the microphone stream
    while not sd.inputs or not sd.inputs[-1].started:
        await asyncio.sleep(0.001)
    for i, frame in enumerate(frames):
        engine._remote_audio(frame)  # the peer connection hands the kiosk a decoded frame
        echo = room.echo(sd.pull(), i)
        echo_in.append(echo)
        sd.push(echo + staff[i * BLOCK:(i + 1) * BLOCK] + noise[i * BLOCK:(i + 1) * BLOCK])
        out = await (first if i == 0 else track.recv())
        assert out.sample_rate == RATE and out.samples == BLOCK
        sent.append(out.to_ndarray().reshape(-1).astype(np.float64) / 32768.0)
    track.stop()
    return {"echo": np.concatenate(echo_in), "sent": np.concatenate(sent), "track": track,
            "speaker": speaker}


def engine_for(demo_config, **audio_changes) -> CallEngine:
    config = demo_config(audio={"input": "Counter", "output": "Counter", **audio_changes})
    engine = CallEngine(config, open_store(config))
    engine._check_devices()  # as start() does: opens the speaker
    assert engine._speaker is not None and engine.devices["speaker"].ok
    return engine


def erle_db(echo: np.ndarray, sent: np.ndarray, after_s: float) -> float:
    cut = int(after_s * RATE)
    return dbfs(echo[cut:]) - dbfs(sent[cut:])


@pytest.fixture(scope="module")
def voices():
    far, far_active = speech_like(SECONDS, RATE, seed=1, f0=140)
    staff, staff_active = speech_like(SECONDS, RATE, seed=11, f0=110)
    return {"far": far * 10 ** (-20 / 20), "far_active": far_active,  # -20 dBFS while speaking
            "staff": staff * 10 ** (-26 / 20), "staff_active": staff_active,  # -26 dBFS at the mic
            "noise": np.random.default_rng(3).standard_normal(len(far)) * 10 ** (-65 / 20)}


# --- the Done-when tests --------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.asyncio
async def test_echo_of_the_interpreter_is_cancelled_by_30_db(demo_config, lockstep_sd, voices):
    engine = engine_for(demo_config)
    processor = engine._voice  # set up at start-up, before any call
    assert processor is not None
    try:
        r = await run_counter(engine, lockstep_sd, voices["far"], np.zeros_like(voices["far"]),
                              voices["noise"])
    finally:
        engine._speaker.close()
        engine.store.close()
    track = r["track"]
    assert track.processor is processor and processor.features == aec.FEATURES
    assert r["speaker"].far_end is processor.far_end
    # the speaker played the interpreter, and the microphone heard it loudly
    assert dbfs(r["echo"][int(CONVERGED_S * RATE):]) > -35
    assert processor.far_frames >= 0.95 * SECONDS * 100 and processor.frames >= 0.95 * SECONDS * 100
    assert processor.delay_ms == round(1000 * (OUT_LATENCY_S + IN_LATENCY_S))
    erle = erle_db(r["echo"], r["sent"], CONVERGED_S)
    per_second = [round(float(erle_db(r["echo"][:int((s + 1) * RATE)], r["sent"][:int((s + 1) * RATE)], s)), 1)
                  for s in range(int(CONVERGED_S), int(SECONDS))]
    print(f"ERLE after {CONVERGED_S:.0f} s: {erle:.1f} dB; second by second: {per_second}")
    assert erle >= 30, per_second


@pytest.mark.slow
@pytest.mark.asyncio
async def test_staff_speech_survives_double_talk(demo_config, lockstep_sd, voices):
    staff = voices["staff"].copy()
    staff[:int(STAFF_FROM_S * RATE)] = 0  # the staff start once the canceller has settled
    engine = engine_for(demo_config)
    try:
        r = await run_counter(engine, lockstep_sd, voices["far"], staff, voices["noise"])
    finally:
        engine._speaker.close()
        engine.store.close()
    delay = int(round((OUT_LATENCY_S + IN_LATENCY_S + 0.006) * RATE))
    echo_active = np.concatenate([np.zeros(delay, bool), voices["far_active"][:-delay]])
    window = np.zeros(len(staff), bool)
    window[int(STAFF_FROM_S * RATE):] = True
    both = window & voices["staff_active"] & echo_active  # staff and interpreter at once
    assert both.sum() > 2 * RATE, "the signals must overlap for seconds"
    lag = best_lag(r["sent"], staff, RATE // 10)  # the APM's band filters delay it by a few ms
    gain = speech_gain_db(r["sent"], staff, both, lag)
    n = len(staff) - lag
    level = dbfs(r["sent"][lag:][both[:n]]) - dbfs(staff[:n][both[:n]])
    print(f"double talk over {both.sum() / RATE:.1f} s: staff speech {gain:.1f} dB "
          f"(processing delay {lag / RATE * 1000:.1f} ms), level change {level:.1f} dB")
    assert gain >= -6.0
    # and the interpreter's echo is still cancelled while the staff talk
    only_echo = window & ~voices["staff_active"] & echo_active
    assert dbfs(r["echo"][only_echo]) - dbfs(r["sent"][only_echo]) >= 20


@pytest.mark.slow
@pytest.mark.asyncio
async def test_without_echo_cancellation_the_echo_goes_through(demo_config, lockstep_sd, voices):
    """The same room with echo_cancellation off (noise suppression and the filter still on):
    the echo reaches the interpreter, so the 30 dB above is the canceller's work."""
    engine = engine_for(demo_config, echo_cancellation=False)
    try:
        r = await run_counter(engine, lockstep_sd, voices["far"], np.zeros_like(voices["far"]),
                              voices["noise"])
    finally:
        engine._speaker.close()
        engine.store.close()
    assert engine._voice.features == ("noise_suppression", "high_pass_filter")
    assert engine._speaker.far_end is None
    assert erle_db(r["echo"], r["sent"], CONVERGED_S) < 10


@pytest.mark.asyncio
async def test_all_processing_off_passes_the_microphone_unchanged(demo_config, lockstep_sd):
    engine = engine_for(demo_config, echo_cancellation=False, noise_suppression=False,
                        high_pass_filter=False)
    try:
        track = engine._make_microphone()
        assert isinstance(track, MicrophoneTrack) and track.processor is None
        assert engine._speaker.far_end is None
        rng = np.random.default_rng(5)
        first = asyncio.ensure_future(track.recv())
        while not lockstep_sd.inputs or not lockstep_sd.inputs[-1].started:
            await asyncio.sleep(0.001)
        for i in range(20):
            lockstep_sd.pull()
            block = rng.standard_normal(BLOCK) * 0.1
            lockstep_sd.push(block)
            out = await (first if i == 0 else track.recv())
            expected = np.clip(np.round(block * 32768.0), -32768, 32767).astype(np.int16)
            assert np.array_equal(out.to_ndarray().reshape(-1), expected)
        track.stop()
    finally:
        engine._speaker.close()
        engine.store.close()


@pytest.mark.asyncio
async def test_device_check_shows_the_processing_and_the_level_before_and_after(demo_config, lockstep_sd):
    engine = engine_for(demo_config)
    reports = []
    try:
        await engine.start_device_check(reports.append)
        while not lockstep_sd.inputs or not lockstep_sd.inputs[-1].started:
            await asyncio.sleep(0.001)
        hum = 0.3 * np.sin(2 * np.pi * 50 * np.arange(RATE) / RATE)  # loud, below the voice
        for i in range(RATE // BLOCK):
            lockstep_sd.pull()
            lockstep_sd.push(hum[i * BLOCK:(i + 1) * BLOCK])
            await asyncio.sleep(0.004)
        await asyncio.sleep(0.25)  # a tick or two of the check
        report = reports[-1]
    finally:
        await engine.stop_device_check()
        engine._speaker.close()
        engine.store.close()
    assert report.processing == aec.FEATURES and report.processing_problem == ""
    assert report.mic_raw_dbfs > -15  # the hum reached the microphone
    assert report.mic_dbfs < report.mic_raw_dbfs - 20  # and the high-pass filter took it out


# --- the processor on its own ---------------------------------------------------------------


def test_processing_changes_the_audio_and_measures_both_levels():
    processor = VoiceProcessor(echo_cancellation=False, noise_suppression=True, high_pass_filter=True)
    rng = np.random.default_rng(2)
    hum = 0.3 * np.sin(2 * np.pi * 50 * np.arange(RATE) / RATE)  # mains hum: below the voice
    out = []
    for i in range(RATE // BLOCK):
        block = (hum[i * BLOCK:(i + 1) * BLOCK] + 0.001 * rng.standard_normal(BLOCK)) * 32768
        out.append(np.frombuffer(processor.process(block.astype(np.int16).tobytes()), np.int16))
    tail = np.concatenate(out)[RATE // 2:] / 32768.0
    assert processor.frames == 2 * (RATE // BLOCK)
    assert processor.level_in.level_dbfs > -15  # the hum, before
    assert dbfs(tail) < dbfs(hum) - 20  # filtered out
    assert processor.level_out.level_dbfs < processor.level_in.level_dbfs - 20
    assert processor.cpu_s > 0


def test_far_end_downmixes_and_keeps_only_the_newest():
    far = FarEnd(channels=2, max_blocks=3)
    for value in range(5):
        far.played(np.array([value, value + 2] * 4, dtype=np.int16).tobytes())
    got = far.take()
    assert got.tolist() == [3] * 4 + [4] * 4 + [5] * 4  # blocks 2, 3, 4; (L + R) / 2
    assert far.take().size == 0 and far.blocks_played == 5


def test_far_end_puts_the_silence_of_an_underrun_back():
    far = FarEnd(channels=1)
    block = np.ones(BLOCK, np.int16).tobytes()
    far.played(block, 10.0)
    far.played(block, 10.02)  # on time
    far.played(block, 10.04 + 0.03)  # the device ran dry for 30 ms before this one
    far.played(block, 10.09 + 0.001)  # 1 ms of jitter: no gap
    far.played(block, 10.11 + 2.0)  # a jump of seconds: a restart, not bridged
    got = far.take()
    assert got.size == 5 * BLOCK + int(0.03 * RATE)
    assert (got[2 * BLOCK:2 * BLOCK + int(0.03 * RATE)] == 0).all() and got[2 * BLOCK - 1] == 1
    assert far.gaps == 1 and far.gap_s == pytest.approx(0.03)
    far.played(block, None)  # no time from the device: blocks as they come
    far.played(block, None)
    assert far.take().size == 2 * BLOCK


def test_far_end_is_fed_in_whole_10ms_frames():
    processor = VoiceProcessor(far_end=FarEnd(channels=1))
    processor.far_end.played(np.zeros(700, np.int16).tobytes())
    processor.process(np.zeros(BLOCK, np.int16).tobytes())
    assert processor.far_frames == 1  # 480 of 700; 220 wait for the next block
    processor.far_end.played(np.zeros(300, np.int16).tobytes())
    processor.process(np.zeros(BLOCK, np.int16).tobytes())
    assert processor.far_frames == 2
    processor.restart(0.01)
    processor.far_end.played(np.zeros(100, np.int16).tobytes())
    processor.process(np.zeros(BLOCK, np.int16).tobytes())
    assert processor.far_frames == 2  # the 40 left over before the restart were dropped


def test_processing_failure_passes_audio_through(caplog):
    class BrokenAPM:
        def __init__(self, **kwargs):
            pass

        def process_stream(self, frame):
            raise RuntimeError("apm exploded")

    rtc = types.SimpleNamespace(AudioProcessingModule=BrokenAPM, AudioFrame=importlib.import_module(
        "livekit.rtc").AudioFrame)
    processor = VoiceProcessor(echo_cancellation=False, rtc=rtc)
    block = (np.arange(BLOCK) % 100).astype(np.int16).tobytes()
    assert processor.process(block) == block
    assert processor.process(block) == block
    assert "apm exploded" in processor.failed
    assert "audio processing off" in caplog.text


def test_missing_library_is_a_clear_error_and_the_call_goes_on(demo_config, lockstep_sd, monkeypatch):
    def no_livekit(name):
        raise ImportError(f"No module named {name!r}")

    with pytest.raises(ProcessingUnavailable, match="pip install livekit"):
        aec.load_rtc(no_livekit)
    load_rtc = aec.load_rtc
    monkeypatch.setattr(aec, "load_rtc", lambda: load_rtc(no_livekit))
    engine = engine_for(demo_config)  # start-up sets the processing up: it fails there
    try:
        assert "pip install livekit" in engine.voice_problem
        track = engine._make_microphone()
        assert isinstance(track, MicrophoneTrack) and track.processor is None
        assert "pip install livekit" in engine.voice_problem
        assert engine._speaker.far_end is None
        track.stop()
    finally:
        engine._speaker.close()
        engine.store.close()


def test_processor_for_follows_the_config(demo_config, lockstep_sd):
    speaker = audio.SpeakerSink("Counter")
    try:
        cfg = demo_config(audio={"input": "Counter", "output": "Counter"}).audio
        p = processor_for(cfg, speaker)
        assert p.features == aec.FEATURES and speaker.far_end is p.far_end
        assert p.far_end.channels == speaker.channels == 2
        speaker.far_end = None
        cfg = demo_config(audio={"noise_suppression": False}).audio
        p = processor_for(cfg, None)  # no speaker: nothing to cancel
        assert p.features == ("high_pass_filter",) and p.far_end is None
        cfg = demo_config(audio={"echo_cancellation": False, "noise_suppression": False,
                                 "high_pass_filter": False}).audio
        assert processor_for(cfg, speaker) is None and speaker.far_end is None
    finally:
        speaker.close()


# --- config ---------------------------------------------------------------------------------

BASE = """\
kiosk: {id: k1, location: Hall}
dispatch: {url: "ws://127.0.0.1:1/ws", token: t}
"""


def test_audio_processing_is_on_by_default():
    audio_cfg = parse_config(BASE).audio
    assert (audio_cfg.echo_cancellation, audio_cfg.noise_suppression, audio_cfg.high_pass_filter) == (
        True, True, True)
    assert audio_cfg.processing


def test_audio_processing_switches_in_yaml():
    cfg = parse_config(BASE + "audio:\n  echo_cancellation: false\n  noise_suppression: no\n").audio
    assert (cfg.echo_cancellation, cfg.noise_suppression, cfg.high_pass_filter) == (False, False, True)


@pytest.mark.parametrize("value", ["maybe", "1", "[true]"])
def test_audio_processing_bad_values_name_the_key_and_line(value):
    with pytest.raises(ConfigError) as err:
        parse_config(BASE + f"audio:\n  input: default\n  echo_cancellation: {value}\n")
    text = str(err.value)
    assert "line 5" in text and "audio.echo_cancellation" in text and "true or false" in text


def test_audio_processing_misspelt_key_is_caught():
    with pytest.raises(ConfigError, match="echo_cancellation"):
        parse_config(BASE + "audio:\n  echo_cancelation: false\n")


def test_the_shipped_config_cancels_echo():
    from conftest import ROOT
    from kiosk.config import load_config

    assert load_config(ROOT / "config.yaml").audio.echo_cancellation is True


def test_aec_module_keeps_livekit_out_until_needed():
    code = ("import sys; import kiosk.call.engine; "
            "assert 'livekit' not in sys.modules, 'livekit imported at start-up'")
    import subprocess

    from conftest import ROOT
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
