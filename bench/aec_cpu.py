#!/usr/bin/env python3
"""CPU cost of the microphone's audio processing (echo cancellation, noise suppression,
high-pass filter: ``kiosk/call/aec.py``) per second of audio, against the real-time budget.

    .venv/bin/python bench/aec_cpu.py [--seconds 60] [--runs 3] [--no-doc]

What it does:

1. Makes ``--seconds`` of a counter conversation at 48 kHz (``tests/speechlike.py``): the
   interpreter's speech-like voice played by the speaker, its echo through a synthetic room
   (6 ms, four reflections, diffuse tail, -6 dB, 50 ms stream latency) and the staff talking over
   it, plus -65 dBFS noise. Generated once, outside the timing.
2. Runs it through ``VoiceProcessor`` exactly as the kiosk does: every 20 ms the speaker's
   stereo block goes to ``FarEnd.played`` (as ``SpeakerSink``'s callback hands it over) and the
   microphone's block to ``process`` (as ``MicrophoneTrack`` does when it arrives), for each
   configuration: everything on (the shipped config), echo cancellation alone, noise suppression
   + high-pass filter alone (echo_cancellation: false). CPU time is the whole process's
   (``time.process_time``: any thread the native library might use counts too), around the
   processing calls only.
3. Reference, same audio, same run: aiortc's own Opus encoder (``aiortc.codecs.opus.OpusEncoder``,
   what the kiosk spends anyway on every second of microphone audio it sends).
4. Medians of ``--runs`` runs; the machine's other load (``/proc/stat``) is printed beside them.
5. Replaces its section of ``docs/performance.md`` (between ``<!-- aec_cpu:start -->`` and
   ``<!-- aec_cpu:end -->``, appended if missing) unless ``--no-doc``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import av  # noqa: E402
from aiortc.codecs.opus import OpusEncoder  # noqa: E402

from kiosk.call.aec import FarEnd, VoiceProcessor  # noqa: E402
from speechlike import echo_path, speech_like  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- aec_cpu:start -->", "<!-- aec_cpu:end -->"
RATE = 48000
BLOCK = 960  # 20 ms, the kiosk's stream blocks

CONFIGS = (
    ("everything on (shipped config)", dict(echo_cancellation=True, noise_suppression=True,
                                            high_pass_filter=True)),
    ("echo cancellation alone", dict(echo_cancellation=True, noise_suppression=False,
                                     high_pass_filter=False)),
    ("noise suppression + high-pass filter (echo_cancellation: false)",
     dict(echo_cancellation=False, noise_suppression=True, high_pass_filter=True)),
)


def conversation(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(speaker stereo int16 blocks, microphone mono int16 blocks)."""
    far, _ = speech_like(seconds, RATE, seed=1, f0=140)
    staff, _ = speech_like(seconds, RATE, seed=11, f0=110)
    far *= 10 ** (-20 / 20)
    delay = int(0.05 * RATE)
    echo = np.concatenate([np.zeros(delay), np.convolve(far, echo_path(RATE))])[:far.size]
    noise = np.random.default_rng(3).standard_normal(far.size) * 10 ** (-65 / 20)
    mic = echo + staff * 10 ** (-26 / 20) + noise
    n = far.size // BLOCK * BLOCK

    def s16(x):
        return np.clip(np.round(x[:n] * 32768), -32768, 32767).astype(np.int16)

    speaker = np.repeat(s16(far), 2).reshape(-1, BLOCK * 2)
    return speaker, s16(mic).reshape(-1, BLOCK)


def cpu_stat() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        values = [float(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def run_processor(speaker: np.ndarray, mic: np.ndarray, settings: dict) -> dict:
    far_end = FarEnd(channels=2)
    processor = VoiceProcessor(far_end=far_end if settings["echo_cancellation"] else None,
                               output_latency_s=lambda: 0.03, **settings)
    processor.restart(0.02)
    speaker_blocks = [b.tobytes() for b in speaker]
    mic_blocks = [b.tobytes() for b in mic]
    busy0, total0 = cpu_stat()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for played, heard in zip(speaker_blocks, mic_blocks):
        far_end.played(played)
        processor.process(heard)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    busy1, total1 = cpu_stat()
    cores = os.cpu_count() or 1
    machine = (busy1 - busy0) / max(total1 - total0, 1) * cores
    assert not processor.failed, processor.failed
    return {"cpu": cpu, "wall": wall, "frames": processor.frames, "far_frames": processor.far_frames,
            "other": max(0.0, machine - cpu / max(wall, 1e-9))}


def run_opus(mic: np.ndarray) -> dict:
    encoder = OpusEncoder()
    frames = []
    for i, block in enumerate(mic):
        frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = i * BLOCK
        frames.append(frame)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    packets = 0
    for frame in frames:
        packets += len(encoder.encode(frame)[0])
    return {"cpu": time.process_time() - cpu0, "wall": time.perf_counter() - wall0, "packets": packets}


def versions() -> str:
    def v(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"
    return (f"Python {platform.python_version()}, livekit {v('livekit')}, aiortc {v('aiortc')}, "
            f"av {av.__version__}, numpy {np.__version__}")


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def section(results: dict, opus: list, seconds: float, runs: int, argv: list[str], started: str,
            load: tuple) -> str:
    L = [START, "## Microphone audio processing CPU (`bench/aec_cpu.py`)", ""]
    L.append(f"Measured {started} on this machine: **{os.cpu_count()} CPUs** (`nproc`), {cpu_name()}, "
             f"{platform.system()} {platform.release()}. {versions()}. Load average when it started: "
             f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}.")
    L += ["", "Reproduce (from the repository root, about a minute):", "", "```sh",
          ".venv/bin/python bench/aec_cpu.py " + " ".join(shlex.quote(a) for a in argv), "```", ""]
    L.append(f"{seconds:.0f} s of a counter conversation at 48 kHz mono (the interpreter's speech-like "
             "voice from the speaker, its echo through a synthetic room, the staff talking over it, "
             "noise), fed to `VoiceProcessor` 20 ms at a time exactly as `SpeakerSink` and "
             "`MicrophoneTrack` hand it over (the speaker's stereo block to `FarEnd.played`, the "
             "microphone's block to `process`). CPU = the process's CPU time (all threads) around those "
             f"calls (WebRTC's APM through livekit's FFI plus the kiosk's numpy glue). Median of {runs} runs.")
    L += ["", "| processing | CPU ms per s of audio | share of one core | per 10 ms frame (budget 10 ms) "
              "| min / max ms per s | other load (cores) |", "|---|---:|---:|---:|---:|---:|"]
    for name, rs in results.items():
        per_s = [1000 * r["cpu"] / seconds for r in rs]
        med = statistics.median(per_s)
        frames = rs[0]["frames"] / seconds / 100  # microphone frames per 10 ms (1)
        L.append(f"| {name} | **{med:.1f}** | {med / 10:.2f} % | {med / 100 / frames * 1000:.0f} µs "
                 f"| {min(per_s):.1f} / {max(per_s):.1f} | {max(r['other'] for r in rs):.2f} |")
    opus_ms = [1000 * r["cpu"] / seconds for r in opus]
    L.append(f"| *reference: aiortc's Opus encoder, same audio* | {statistics.median(opus_ms):.1f} | "
             f"{statistics.median(opus_ms) / 10:.2f} % | {statistics.median(opus_ms) / 100 * 1000:.0f} µs "
             f"| {min(opus_ms):.1f} / {max(opus_ms):.1f} | – |")
    everything = statistics.median([1000 * r["cpu"] / seconds for r in next(iter(results.values()))])
    L += ["", f"- Real-time budget: 1000 ms of CPU per second of audio on one core; the shipped "
              f"configuration uses {everything:.1f} ms, {everything / 10:.2f} % of one core of this "
              f"machine, {statistics.median(opus_ms) and everything / statistics.median(opus_ms):.1f}× "
              "what encoding the same audio to Opus costs.",
          f"- On a kiosk CPU 4-10x slower than this server core (the planning figure in the "
          f"architecture notes) that would be about {everything * 4 / 10:.0f}-{everything * 10 / 10:.0f} % "
          "of one core.",
          "- *per 10 ms frame*: CPU per microphone frame, with its share of the speaker's reference "
          "frames (echo cancellation on); the processing runs on the call engine's asyncio loop as "
          "each 20 ms block arrives, so this is also how long it holds that loop.",
          "- *other load*: busy cores of the whole machine outside the bench's own process during the "
          "run (from `/proc/stat`); this machine is shared, so high values mean the figures may be "
          "a little high.", END]
    return "\n".join(L) + "\n"


def write_section(text: str, path: Path = DOC) -> None:
    """Replace the section between the markers (or append it), leaving every other byte."""
    data = path.read_bytes() if path.exists() else b"# Performance\n"
    start, end = data.find(START.encode()), data.find(END.encode())
    new = text.encode("utf-8")
    if start != -1 and end > start:
        stop = end + len(END)
        if data[stop:stop + 1] == b"\n":
            stop += 1
        data = data[:start] + new + data[stop:]
    else:
        data = data.rstrip(b"\n") + b"\n\n" + new
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/performance.md")
    args = parser.parse_args()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()
    print(f"making {args.seconds:.0f} s of conversation…", flush=True)
    speaker, mic = conversation(args.seconds)
    seconds = mic.size / RATE
    results: dict = {name: [] for name, _ in CONFIGS}
    opus = []
    for run in range(args.runs):
        for name, settings in CONFIGS:
            r = run_processor(speaker, mic, settings)
            results[name].append(r)
            print(f"run {run + 1}: {name}: {1000 * r['cpu'] / seconds:.1f} ms CPU per s of audio "
                  f"(wall {1000 * r['wall'] / seconds:.1f} ms, other load {r['other']:.2f} cores)", flush=True)
        r = run_opus(mic)
        opus.append(r)
        print(f"run {run + 1}: Opus encoder: {1000 * r['cpu'] / seconds:.1f} ms CPU per s of audio", flush=True)
    argv = [a for a in sys.argv[1:] if a != "--no-doc"]
    text = section(results, opus, seconds, args.runs, argv, started, load)
    print(text)
    if not args.no_doc:
        write_section(text)
        print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
