"""Echo cancellation through real PortAudio streams: PulseAudio null sinks stand in for the
counter's loudspeaker and microphone, and a room made by the test joins them.

Set-up (``tests/pulse.py`` starts the daemon; everything that touches PortAudio runs in a child
process, as in tests/test_audio_call.py):

- the kiosk's engine opens ``kiosk_speaker`` (its loudspeaker) and ``kiosk_mic`` (the monitor of
  ``kiosk_mic_feed``) itself, with the shipped audio processing (echo cancellation, noise
  suppression, high-pass filter);
- the interpreter's speech-like voice goes in through the engine's remote-audio handler, 20 ms
  at a time on the loop's clock, as the peer connection would hand it over;
- the room: the test records ``kiosk_speaker``'s monitor (what the loudspeaker played), runs it
  through ``speechlike.echo_path`` (6 ms, four reflections, diffuse tail, -6 dB), adds the staff's
  voice from ``STAFF_FROM_S`` on, and plays that into ``kiosk_mic_feed``. The echo therefore
  also carries the real streams' latencies and the room loop's own (100-300 ms, steady: the
  test's feed never trims or drops);
- the kiosk's own speaker may run dry on a busy machine (PulseAudio xruns); its reference then
  gets the missing silence back from PortAudio's DAC times (``FarEnd``), as on a real counter;
- what the interpreter gets is what the kiosk's microphone track returns (the frames the peer
  connection would send), and a wrapper around the engine's processor keeps a copy of the raw
  microphone blocks beside the processed ones.

Measured here (11 runs, load average 5-9 from other work): ERLE 60-62 dB when the kiosk's speaker
ran without xruns, 38-50 dB with 1-2 xruns bridged. Runs in which the room loop itself glitched
are skipped (see the test).

Double talk, and why it once measured ~3 dB worse here than in tests/test_aec.py: the real streams
change nothing the processor gets. Recorded in the child, the microphone blocks are bit-identical
to the sample-exact path's (the same room, voices and noise) once shifted by the room loop's
latency, and the reference handed to the APM is bit-identical to the interpreter's audio (no
dropouts, drift or resampling; two reference frames then two microphone frames every 20 ms, as in
the lockstep test). What differed was the measure: it paired each of the interpreter's words with
what the staff said 155-175 ms later (the staff's lag to what was sent: room loop plus processing),
but the echo of that word meets at the microphone what the staff said 86-106 ms later (the kiosk's
speaker and the room's recording add to the interpreter's path), so it counted other frames than
where both talk (-5.5 to -7.5 dB in 9 runs; with the echo located in the microphone signal, the
same recordings give -4.3 to -5.6 dB). The rest of the gap to the sample-exact path (-3.8 to -4.4
dB with the same overlap of the two voices, also with the reference 200 ms ahead of the echo as
here) is AEC3 itself: over these ~3 s its figure depends on the exact alignment of reference and
echo; replaying one recorded run's own reference and microphone blocks through a fresh APM with the
reference moved by -40 to +20 ms gave -4.2 to -5.4 dB. Even the staff's voice alone loses 1.7 dB
over these frames in the processing (the high-pass filter trims the 90-130 Hz fundamental of their
low voice), in both paths.

Measured: the echo return loss enhancement over the echo-only part after the first 5 s, and in
double talk the least-squares gain of the staff's voice in what was sent (at the lag that fits:
the room loop's and the processing's delays) over the frames where the staff talk while the
interpreter's echo (found in the raw microphone signal before the staff start) reaches the
microphone; it must meet the requirement, at most 6 dB lost.
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

RATE = 48000
BLOCK = 960
SECONDS = 24.0
CONVERGED_S = 5.0
STAFF_FROM_S = 12.0  # echo only before, double talk after

SINKS = ("kiosk_speaker", "kiosk_mic_feed")
ASOUNDRC = (pulse_pcm("kiosk_speaker", "kiosk_speaker")
            + pulse_pcm("kiosk_mic", "kiosk_mic_feed.monitor")
            + pulse_pcm("room_out", "kiosk_mic_feed")
            + pulse_pcm("room_in", "kiosk_speaker.monitor"))


def child_main(config_path: str, out_path: str) -> None:
    import asyncio
    import faulthandler
    import logging

    faulthandler.dump_traceback_later(100, exit=True)  # a stuck child says where, then ends
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_child(config_path, out_path))


async def _child(config_path: str, out_path: str) -> None:
    import asyncio

    import av

    from kiosk.call.audio import MicrophoneTrack, SpeakerSink
    from kiosk.call.engine import CallEngine
    from kiosk.config import load_config
    from kiosk.demo import open_store
    from speechlike import echo_path, speech_like

    config = load_config(Path(config_path))
    far, far_active = speech_like(SECONDS, RATE, seed=1, f0=140)
    far *= 10 ** (-20 / 20)
    staff, staff_active = speech_like(SECONDS, RATE, seed=11, f0=110)
    staff *= 10 ** (-26 / 20)
    staff[:int(STAFF_FROM_S * RATE)] = 0
    noise = np.random.default_rng(3).standard_normal(far.size) * 10 ** (-75 / 20)
    h = echo_path(RATE, delay_ms=6.0, gain_db=-6.0, seed=1)

    store = open_store(config)
    engine = CallEngine(config, store)
    engine._check_devices()  # opens the kiosk's speaker, as start() does
    track = engine._make_microphone()  # with the engine's processor, as a call does
    processor = track.processor
    raw_blocks: list = []
    process = processor.process

    def keep_raw(block: bytes) -> bytes:
        raw_blocks.append(np.frombuffer(block, dtype=np.int16).copy())
        return process(block)

    processor.process = keep_raw

    room_in = MicrophoneTrack("room_in")  # what the kiosk's loudspeaker played
    room_out = SpeakerSink("room_out", max_buffer_ms=600, prefill_ms=100, standing_limit_ms=None)
    played: list = []
    fed = {"n": 0}
    history = np.zeros(len(h) - 1)
    fft = 1 << int(math.ceil(math.log2(len(h) - 1 + BLOCK + len(h))))
    h_spectrum = np.fft.rfft(h, fft)

    async def room() -> None:
        nonlocal history
        while True:
            frame = await room_in.recv()
            x = frame.to_ndarray().reshape(-1).astype(np.float64) / 32768.0
            played.append(x)
            seg = np.concatenate([history, x])
            echo = np.fft.irfft(np.fft.rfft(seg, fft) * h_spectrum, fft)[len(h) - 1:len(seg)]
            history = seg[-(len(h) - 1):]
            i = fed["n"]
            fed["n"] += 1
            s = staff[i * BLOCK:(i + 1) * BLOCK] if (i + 1) * BLOCK <= staff.size else np.zeros(BLOCK)
            z = noise[i * BLOCK:(i + 1) * BLOCK] if (i + 1) * BLOCK <= noise.size else np.zeros(BLOCK)
            pcm = np.clip(np.round((echo + s + z) * 32768), -32768, 32767).astype(np.int16)
            out = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
            out.sample_rate = RATE
            room_out.write(out)

    sent: list = []

    async def interpreter_listens() -> None:
        while True:
            frame = await track.recv()
            sent.append(frame.to_ndarray().reshape(-1).copy())

    tasks = [asyncio.create_task(room()), asyncio.create_task(interpreter_listens())]
    result: dict = {}
    try:
        # the room and the microphone run before the interpreter speaks (PulseAudio start-up)
        t0 = time.monotonic()
        while not played or not sent:
            if time.monotonic() - t0 > 10:
                raise RuntimeError("the room or the microphone delivered nothing in 10 s")
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)
        sent.clear()
        raw_blocks.clear()
        fed["n"] = 0  # the staff's voice is timed from the interpreter's first word
        pcm = np.clip(np.round(far * 32768), -32768, 32767).astype(np.int16)
        start = time.monotonic()
        for i in range(far.size // BLOCK):
            block = np.repeat(pcm[i * BLOCK:(i + 1) * BLOCK], 2).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout="stereo")
            frame.sample_rate = RATE
            frame.pts = i * BLOCK
            engine._remote_audio(frame)  # as the peer connection hands it over
            await asyncio.sleep(max(0.0, start + (i + 1) * BLOCK / RATE - time.monotonic()))
        await asyncio.sleep(0.3)
        speaker = engine._speaker
        result = {"speaker": {k: getattr(speaker, k) for k in (
                      "drops", "underruns", "trims", "xruns", "frames_written")},
                  "room_out": {k: getattr(room_out, k) for k in ("drops", "underruns", "trims")},
                  "room_in": {"drops": room_in.drops, "overflows": room_in.overflows},
                  "mic": {"drops": track.drops, "overflows": track.overflows},
                  "features": list(processor.features), "delay_ms": processor.delay_ms,
                  "far_frames": processor.far_frames, "frames": processor.frames,
                  "far_gaps": processor.far_end.gaps, "far_gap_s": processor.far_end.gap_s,
                  "failed": processor.failed}
    finally:
        track.stop()  # a stopped track ends its reader's recv (MediaStreamError)
        room_in.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        room_out.close()
        await engine.stop()
        store.close()
    n = min(len(sent), len(raw_blocks))
    np.savez(out_path, sent=np.concatenate(sent[:n]), raw=np.concatenate(raw_blocks[:n]),
             staff=staff, staff_active=staff_active, far=far, far_active=far_active)
    print("RESULT " + json.dumps(result), flush=True)


def dbfs(x: np.ndarray) -> float:
    x = x.astype(np.float64) / 32768.0
    return 10 * math.log10(float(np.mean(x * x)) + 1e-20)


@pytest.mark.slow
def test_echo_cancelled_through_real_audio_streams(tmp_path, demo_config):
    config = demo_config(audio={"input": "kiosk_mic", "output": "kiosk_speaker"},
                         video={"width": 160, "height": 120, "fps": 10})
    config_path = tmp_path / "config.yaml"
    assert config.audio.echo_cancellation and config_path.exists()
    out = tmp_path / "audio.npz"
    with private_pulseaudio(tmp_path, sinks=SINKS, extra_asoundrc=ASOUNDRC) as env:
        child = subprocess.Popen(
            [sys.executable, "-c",
             f"import sys; sys.path.insert(0, {str(TESTS)!r}); "
             "from test_aec_pulse import child_main; child_main(sys.argv[1], sys.argv[2])",
             str(config_path), str(out)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            stdout, stderr = child.communicate(timeout=150)
        finally:
            stop_process(child)
    line = next((ln for ln in stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert child.returncode == 0 and line, f"stdout:\n{stdout}\nstderr:\n{stderr}"
    r = json.loads(line[len("RESULT "):])
    data = np.load(out)
    sent, raw, staff = data["sent"], data["raw"], data["staff"]
    print("\n", json.dumps(r))
    assert r["features"] == ["echo_cancellation", "noise_suppression", "high_pass_filter"], r
    assert not r["failed"] and r["far_frames"] > 0.9 * SECONDS * 100, r
    # the room is the test's own loop through PulseAudio: when it glitched (its recording dropped
    # blocks, its playback ran dry or dropped), the echo path itself jumped and there is nothing
    # to measure. Glitches on the kiosk's side (its speaker's underruns) are the product's.
    rig = [r["room_in"]["drops"], r["room_in"]["overflows"], r["room_out"]["drops"],
           r["room_out"]["underruns"]]
    if any(rig):
        pytest.skip(f"the test's room loop glitched on this busy machine (room_in drops/overflows, "
                    f"room_out drops/underruns: {rig}); tests/test_aec.py measures without it")

    # echo only: from 5 s until the staff start
    lo, hi = int(CONVERGED_S * RATE), int(STAFF_FROM_S * RATE)
    echo_level = dbfs(raw[lo:hi])
    erle = echo_level - dbfs(sent[lo:hi])
    per_second = [round(dbfs(raw[s * RATE:(s + 1) * RATE]) - dbfs(sent[s * RATE:(s + 1) * RATE]), 1)
                  for s in range(int(CONVERGED_S), int(STAFF_FROM_S))]
    print(f"echo at the microphone {echo_level:.1f} dBFS; ERLE {erle:.1f} dB; by second {per_second}")
    assert echo_level > -40, "the echo must reach the microphone"
    assert erle >= 30, per_second

    # double talk: the staff's voice in what was sent, where both talk
    from speechlike import best_lag, speech_gain_db

    s = staff.astype(np.float64)
    o = sent.astype(np.float64) / 32768.0
    mic = raw.astype(np.float64) / 32768.0
    lag = best_lag(o, s, RATE)  # the room loop and the processing delay it by < 1 s
    # where both voices reach the microphone: the staff's through the room's feed only, the
    # interpreter's echo also through the kiosk's speaker and the room's recording, so later
    staff_at = best_lag(mic, s, RATE)
    echo_at = best_lag(mic[:int(STAFF_FROM_S * RATE)], data["far"], RATE)
    shift = echo_at - staff_at  # the interpreter's sample j echoes beside the staff's j + shift
    assert 0 <= shift < RATE // 2, (echo_at, staff_at)
    echo_active = np.concatenate([np.zeros(shift, bool), data["far_active"]])[:len(s)]
    both = data["staff_active"] & echo_active
    both[:int(STAFF_FROM_S * RATE)] = False
    assert both.sum() > 2 * RATE
    gain = speech_gain_db(o, s, both, lag)
    print(f"double talk over {both.sum() / RATE:.1f} s: staff speech {gain:.1f} dB at "
          f"{lag / RATE * 1000:.0f} ms (the echo meets the staff's voice "
          f"{shift / RATE * 1000:.0f} ms later)")
    assert gain >= -6.0  # the requirement (see the module doc for the figures measured here)
