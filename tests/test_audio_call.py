"""A real call with real audio devices: PulseAudio null sinks stand in for the counter's speaker
and microphone.

Requirement: a tone sent by the simulated interpreter arrives at the kiosk's speaker output at the
right pitch, and the kiosk's microphone input arrives at the interpreter.

Set-up (``tests/pulse.py`` starts the daemon; everything that touches PortAudio runs in a child
process so PULSE_SERVER and the ALSA configuration never leak into the rest of the suite):

- two null sinks: ``kiosk_speaker`` (the kiosk's loudspeaker) and ``kiosk_mic_feed`` (what the
  kiosk's microphone "hears": its monitor source is the microphone);
- ALSA pcm definitions naming each PulseAudio sink/source, which PortAudio lists as devices::

      pcm.kiosk_speaker { type pulse device kiosk_speaker }          # kiosk output
      pcm.kiosk_mic     { type pulse device kiosk_mic_feed.monitor } # kiosk input
      pcm.test_feed     { type pulse device kiosk_mic_feed }         # the test plays 880 Hz here
      pcm.test_listen   { type pulse device kiosk_speaker.monitor }  # the test records here

- the kiosk's config says ``audio: {input: kiosk_mic, output: kiosk_speaker}``: the engine opens
  them itself, exactly as on a counter (MicrophoneTrack per call, SpeakerSink at start).

In the child: the embedded dispatch service (as ``EmbeddedServices`` starts it, with the demo
accounts) and one simulated interpreter sending ``ToneTrack(440)``, subclassed only to keep a copy
of the audio it receives; a ``CallEngine`` places a call that lasts ``CALL_S`` seconds while the
test plays 880 Hz into ``kiosk_mic_feed`` and records ``kiosk_speaker``'s monitor. The spectra of
the last ``ANALYSE_S`` seconds on both sides are printed as JSON; this process asserts on them.

Measured here (7 runs, ~9 s each): speaker peak 440.0 Hz (439.9 when the window holds 99
blocks), 55-59 dB above any bin more than 20 Hz away, -20.0 dBFS; interpreter peak 880.0 Hz,
53-55 dB margin, -20.0 dBFS. The interpreter's tone is decoded at the kiosk ~0.08 s after
"connected" and heard on the speaker's monitor ~0.2 s after; the kiosk's microphone reaches the
interpreter 0.09-0.8 s after "connected" (it opens at the sender's first ``recv``). No drops,
underruns or trims in the analysed window; once in 7 runs the speaker dropped 140 ms at the start
of the call (its output stream was still starting) and trimmed it.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pulse import private_pulseaudio, pulse_pcm, stop_process

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent

INTERPRETER_HZ = 440.0  # the simulated interpreter's tone: must come out of the kiosk's speaker
RESIDENT_HZ = 880.0  # played into the kiosk's microphone: must reach the interpreter
CALL_S = 5.0  # how long the call stays connected
ANALYSE_S = 2.0  # the spectra use the last this-many seconds of the call
RATE = 48_000

SINKS = ("kiosk_speaker", "kiosk_mic_feed")
ASOUNDRC = (pulse_pcm("kiosk_speaker", "kiosk_speaker")
            + pulse_pcm("kiosk_mic", "kiosk_mic_feed.monitor")
            + pulse_pcm("test_feed", "kiosk_mic_feed")
            + pulse_pcm("test_listen", "kiosk_speaker.monitor"))
# the microphone's processing (kiosk/call/aec.py) is off here: noise suppression removes a steady
# tone, and echo cancellation's suppressor adds a little of its own around it (measured: 880 Hz
# margin 23 dB instead of 53 dB); tests/test_aec.py measures the processing with speech-like audio
KIOSK_AUDIO = {"input": "kiosk_mic", "output": "kiosk_speaker", "echo_cancellation": False,
               "noise_suppression": False, "high_pass_filter": False}


# --- analysis (pure numpy, used in the child) -----------------------------------------------


def dbfs(pcm: np.ndarray) -> float:
    x = pcm.astype(np.float64) / 32768.0
    rms = math.sqrt(float(np.mean(x * x))) if x.size else 0.0
    return 20 * math.log10(rms) if rms > 0 else -100.0


def spectrum_figures(pcm: np.ndarray, guard_hz: float = 20.0) -> dict:
    """Peak frequency of ``pcm`` (int16 mono at 48 kHz), its margin in dB over the strongest bin
    more than ``guard_hz`` away (DC excluded), where that bin is, and the RMS level."""
    if pcm.size < RATE // 10:
        return {"samples": int(pcm.size), "peak_hz": None, "margin_db": None, "runner_up_hz": None,
                "rms_dbfs": dbfs(pcm)}
    x = pcm.astype(np.float64)
    x -= x.mean()
    mag = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    hz = np.fft.rfftfreq(x.size, 1 / RATE)
    k = int(np.argmax(mag))
    others = mag.copy()
    others[(np.abs(hz - hz[k]) <= guard_hz) | (hz < guard_hz)] = 0
    j = int(np.argmax(others))
    margin = 20 * math.log10(mag[k] / others[j]) if others[j] > 0 else 200.0
    return {"samples": int(pcm.size), "peak_hz": float(hz[k]), "margin_db": margin,
            "runner_up_hz": float(hz[j]), "rms_dbfs": dbfs(pcm)}


def mono_s16(frame) -> np.ndarray:
    """Channel 0 of an ``av.AudioFrame`` as int16 (aiortc's Opus decoder gives packed s16 stereo)."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.name == "s16":
        return data.reshape(-1, channels)[:, 0].copy()
    if frame.format.name == "s16p":
        return data[0].copy()
    x = data.reshape(-1, channels)[:, 0] if not frame.format.is_planar else data[0]
    return np.clip(np.asarray(x, dtype=np.float64) * 32768, -32768, 32767).astype(np.int16)


def window(timed: list, start: float, end: float) -> np.ndarray:
    """The samples of the (arrival time, pcm) blocks that arrived in [start, end)."""
    blocks = [pcm for t, pcm in timed if start <= t < end]
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int16)


def onset(timed: list, after: float, threshold_dbfs: float = -40.0):
    """Seconds from ``after`` to the first block louder than ``threshold_dbfs`` (None: never)."""
    for t, pcm in timed:
        if t >= after and dbfs(pcm) > threshold_dbfs:
            return t - after
    return None


# --- the child process ----------------------------------------------------------------------


def child_main(config_path: str) -> None:
    import asyncio
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_child(config_path))


async def _child(config_path: str) -> None:
    import asyncio

    from kiosk.call.audio import MicrophoneTrack, SpeakerSink, list_devices
    from kiosk.call.engine import CallEngine
    from kiosk.call.media import ToneTrack
    from kiosk.call.simulator import SimulatedInterpreter
    from kiosk.call.states import CallState
    from kiosk.config import load_config
    from kiosk.demo import SIM_PASSWORD, dispatch_settings, open_store, provision_demo
    from kiosk.dispatch import serve
    from kiosk.dispatch.app import open_accounts

    class ListeningInterpreter(SimulatedInterpreter):
        """The simulated interpreter, unchanged, plus a copy of every audio frame it receives:
        its peer connection gets one more "track" listener (registered as the connection is
        created, before the simulator's own) that wraps the received track's ``recv``."""

        def __init__(self, *args, **kwargs) -> None:
            self.heard: list = []  # (arrival time, int16 mono block)
            super().__init__(*args, **kwargs)

        @property
        def _pc(self):
            return self.__dict__.get("_listening_pc")

        @_pc.setter
        def _pc(self, pc) -> None:
            self.__dict__["_listening_pc"] = pc
            if pc is not None:
                pc.on("track", self._listen)

        def _listen(self, track) -> None:
            if track.kind != "audio":
                return
            recv = track.recv

            async def recv_and_keep():
                frame = await recv()
                self.heard.append((time.monotonic(), mono_s16(frame)))
                return frame

            track.recv = recv_and_keep

    config = load_config(Path(config_path))
    loop_tasks: list[asyncio.Task] = []
    result: dict = {"devices": [d.name for d in list_devices()]}

    # the test's own ends of the two sinks: 880 Hz into the microphone's feed, and an ear on the
    # speaker's monitor. Both are running before the call so their PulseAudio start-up is over.
    listen = MicrophoneTrack("test_listen")
    feed = SpeakerSink("test_feed")
    played: list = []  # what left the kiosk's speaker: (arrival time, int16 mono block)

    async def play_feed() -> None:
        tone = ToneTrack(RESIDENT_HZ, level=0.2)
        while True:
            feed.write(await tone.recv())

    async def record_speaker() -> None:
        while True:
            frame = await listen.recv()
            played.append((time.monotonic(), mono_s16(frame)))

    kiosk_heard: list = []  # arrival times of the frames the kiosk decoded

    def kiosk_mic():  # the track the engine sends as the kiosk's microphone (diagnostics only)
        pc = engine._pc
        return None if pc is None else next(
            (s.track for s in pc.getSenders() if s.track is not None and s.track.kind == "audio"), None)

    def counters(at: float) -> dict:
        speaker, mic = engine._speaker, kiosk_mic()
        return {"t": round(at, 2), "feed_drops": feed.drops, "listen_drops": listen.drops,
                "spk_drops": getattr(speaker, "drops", None),
                "spk_underruns": getattr(speaker, "underruns", None),
                "spk_trims": getattr(speaker, "trims", None),
                "spk_ms": getattr(speaker, "buffered_ms", None),
                "mic_blocks": getattr(mic, "blocks_captured", None), "mic_drops": getattr(mic, "drops", None),
                "heard": len(sim.heard), "played": len(played)}

    server = sim = engine = store = None
    try:
        loop_tasks.append(asyncio.create_task(play_feed()))
        loop_tasks.append(asyncio.create_task(record_speaker()))
        t0 = time.monotonic()
        while not played:
            if time.monotonic() - t0 > 10:
                raise RuntimeError("the speaker monitor delivered nothing in 10 s")
            await asyncio.sleep(0.02)
        result["monitor_start_s"] = time.monotonic() - t0

        # dispatch as EmbeddedServices starts it; the interpreter as it does, with a 440 Hz tone
        settings = dispatch_settings(config)
        accounts = open_accounts(settings)
        provision_demo(accounts, config)
        server = await serve(settings, accounts=accounts)
        sim = ListeningInterpreter(config.dispatch.url, "sim-interpreter-1", SIM_PASSWORD,
                                   answer_delay_s=config.simulator.answer_delay_s,
                                   ice_servers=config.ice_servers, width=config.video.width,
                                   height=config.video.height, fps=config.video.fps,
                                   tone_hz=INTERPRETER_HZ)
        sim.start()
        await asyncio.wait_for(sim.available.wait(), 10)

        store = open_store(config)
        engine = CallEngine(config, store)
        engine.on_remote_audio = lambda frame: kiosk_heard.append(time.monotonic())
        await engine.start()
        result["devices_at_start"] = {n: [d.ok, d.message] for n, d in engine.devices.items()}
        if not await engine.signaling.wait_ready(5):
            raise RuntimeError(f"dispatch not reachable: {engine.signaling.last_error}")

        t_tap = time.monotonic()
        await engine.request_call()
        event = await engine.wait_for(CallState.CONNECTED, CallState.ENDED, timeout=20)
        if event.state is not CallState.CONNECTED:
            raise RuntimeError(f"the call did not connect: {event}")
        t_conn = time.monotonic()
        result["connect_s"] = t_conn - t_tap
        timeline = result["timeline"] = []  # drop counters every 0.5 s of the call
        while (now := time.monotonic()) < t_conn + CALL_S:
            timeline.append(counters(now - t_conn))
            await asyncio.sleep(min(0.5, t_conn + CALL_S - now))
        t_end = time.monotonic()
        timeline.append(counters(t_end - t_conn))

        mic, speaker = kiosk_mic(), engine._speaker
        result["kiosk_mic"] = None if mic is None else {
            "type": type(mic).__name__, "device": getattr(getattr(mic, "device", None), "name", None),
            **{k: getattr(mic, k, None) for k in (
                "present", "blocks_captured", "drops", "overflows", "silence_frames", "reopens")}}
        result["kiosk_speaker"] = None if speaker is None else {
            "device": speaker.device.name, "buffered_ms": speaker.buffered_ms,
            **{k: getattr(speaker, k) for k in (
                "frames_written", "drops", "dropped_samples", "underruns", "trims", "trimmed_samples",
                "xruns")}}
        result["devices_in_call"] = {n: [d.ok, d.message] for n, d in engine.devices.items()}
        result["kiosk_audio_frames"] = engine.counters.audio_received
        result["interpreter_audio_frames"] = sim.current.audio_frames if sim.current else None
        await engine.hang_up()
        # what the counters did while the analysed audio went through
        w0 = next(e for e in timeline if e["t"] >= CALL_S - ANALYSE_S - 0.05)
        result["in_window"] = {k: None if w0[k] is None else timeline[-1][k] - w0[k]
                               for k in w0 if k not in ("t", "spk_ms")}

        # the interpreter's tone: decoded at the kiosk, then out of its speaker (sink monitor)
        result["speaker"] = {
            **spectrum_figures(window(played, t_end - ANALYSE_S, t_end)),
            "onset_after_connect_s": onset(played, t_conn),
            "first_decoded_after_connect_s": (kiosk_heard[0] - t_conn) if kiosk_heard else None,
        }
        # the kiosk's microphone: what the interpreter decoded
        result["interpreter"] = {
            **spectrum_figures(window(sim.heard, t_end - ANALYSE_S, t_end)),
            "onset_after_connect_s": onset(sim.heard, t_conn),
            "first_frame_after_connect_s": (sim.heard[0][0] - t_conn) if sim.heard else None,
        }
        result["test_feed"] = {"drops": feed.drops, "underruns": feed.underruns}
        result["test_listen"] = {"drops": listen.drops, "overflows": listen.overflows,
                                 "silence_frames": listen.silence_frames}
    finally:
        for task in loop_tasks:
            task.cancel()
        await asyncio.gather(*loop_tasks, return_exceptions=True)
        if engine is not None:
            await engine.stop()
        if sim is not None:
            await sim.stop()
        if server is not None:
            await server.stop()
        if store is not None:
            store.close()
        listen.stop()
        feed.close()
    print("RESULT " + json.dumps(result), flush=True)


# --- the test -------------------------------------------------------------------------------


@pytest.mark.slow
def test_tone_reaches_kiosk_speaker_and_kiosk_microphone_reaches_interpreter(tmp_path, demo_config):
    config = demo_config(audio=KIOSK_AUDIO, video={"width": 160, "height": 120, "fps": 10})
    config_path = tmp_path / "config.yaml"  # demo_config writes the YAML there
    assert config.audio.input == "kiosk_mic" and config_path.exists()
    with private_pulseaudio(tmp_path, sinks=SINKS, extra_asoundrc=ASOUNDRC) as env:
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-c",
             f"import sys; sys.path.insert(0, {str(TESTS)!r}); "
             "from test_audio_call import child_main; child_main(sys.argv[1])", str(config_path)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            stdout, stderr = child.communicate(timeout=60)
        finally:
            stop_process(child)  # on timeout or interruption: no child outlives the test
        elapsed = time.monotonic() - started
    line = next((ln for ln in stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert child.returncode == 0 and line, f"stdout:\n{stdout}\nstderr:\n{stderr}"
    r = json.loads(line[len("RESULT "):])
    print(f"audio call through PulseAudio null sinks ({elapsed:.1f} s):")
    for key, value in r.items():
        if key == "timeline":
            print(" timeline:", *(json.dumps(entry) for entry in value), sep="\n  ")
        else:
            print(f" {key}: {json.dumps(value)}")

    assert {"kiosk_speaker", "kiosk_mic"} <= set(r["devices"]), r["devices"]
    # the engine opened the configured devices, not a placeholder
    assert all(ok for ok, _ in r["devices_in_call"].values()), r["devices_in_call"]
    assert r["kiosk_speaker"]["device"] == "kiosk_speaker", r
    assert r["kiosk_mic"]["type"] == "MicrophoneTrack" and r["kiosk_mic"]["device"] == "kiosk_mic", r
    assert r["kiosk_mic"]["present"] and r["kiosk_mic"]["silence_frames"] == 0, r

    # the interpreter's 440 Hz tone comes out of the kiosk's speaker, at that pitch and clearly
    speaker = r["speaker"]
    assert speaker["samples"] >= ANALYSE_S * RATE * 0.9, speaker
    assert abs(speaker["peak_hz"] - INTERPRETER_HZ) <= 10, speaker
    assert speaker["margin_db"] >= 20, speaker
    # sent at -17 dBFS (ToneTrack level 0.2); arrives at -20 dBFS because aiortc's Opus encoder
    # upmixes mono to stereo through libswresample, which puts mono at -3 dB on each side
    assert speaker["rms_dbfs"] > -30, speaker

    # the 880 Hz the kiosk's microphone hears reaches the interpreter
    heard = r["interpreter"]
    assert heard["samples"] >= ANALYSE_S * RATE * 0.9, heard
    assert abs(heard["peak_hz"] - RESIDENT_HZ) <= 10, heard
    assert heard["margin_db"] >= 20, heard
    assert heard["rms_dbfs"] > -30, heard
