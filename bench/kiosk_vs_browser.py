"""The kiosk against the browser: connect time, sustained 720p30, glass-to-glass and idle cost.

Run on demand (not part of the test suite), from the repository root::

    .venv/bin/python bench/kiosk_vs_browser.py

(defaults: 1280x720 @ 30 fps both ways, a 60 s sustained call per path, 3 connect-time calls per
path, 30 s idle; 5.5 to 8 minutes, depending on how busy the machine is; ``--max-minutes``
bounds it). It starts, each in its own process so that CPU is counted per process:

- **the kiosk**: the real Qt Quick window (``KioskApp``, no embedded services) on an X server of
  its own (``Xvfb``, as ``xvfb-run`` would start it; ``QT_QPA_PLATFORM=xcb``), so the scene graph
  really renders the QML ``VideoOutput``. The bench drives it like a resident would
  (``vm.startCall()``, ``vm.hangUp()``) and observes it from inside: which frame is handed to the
  video sink and when (``LatestFrame._deliver``, wrapped in a subclass), the render thread's
  synchronisations and buffer swaps, a 5 ms ``QTimer`` on the GUI thread that records how late it
  fires, the engine's quality samples, and the time libvpx spends per frame.
- **dispatch + the simulated interpreter** (``EmbeddedServices``: the real dispatch service and an
  aiortc ``SimulatedInterpreter``).
- **Chromium** (Debian's, headless, ``--disable-gpu``, fake camera), two browsers: one with the real
  interpreter console (``kiosk/dispatch/static``) logged in, one with a small caller page written
  here that speaks the kiosk side of the dispatch protocol (hello, call_request, offer, ice,
  hangup) with a kiosk account, so Chromium ↔ Chromium goes through the same dispatch and the same
  console code as the kiosk does.

Measured, one after another so that they do not compete for the CPU:

1. connect time, interpreter's accept → first remote frame on the kiosk's screen, for kiosk ↔
   simulated interpreter, kiosk ↔ console and Chromium caller ↔ console;
2. a sustained call per path: frame rates each way, CPU per process, GUI-thread stalls, the
   ResolutionPolicy's picture scale; plus shorter send-only / receive-only variants (and one with
   the policy off when it lowered the picture) to split the kiosk's CPU by direction;
3. glass-to-glass delay from the capture-time stamp in each frame (``write_stamp``/``read_stamp``;
   in Chromium a MediaStreamTrackProcessor/Generator pipe writes and reads the same stamp);
4. the idle kiosk on its Welcome screen.

It also counts how fast the kiosk process loses references to ``True`` (PySide6 6.12's
``Signal.emit`` on Python 3.11, see ``REFCOUNT_PAD``) and measures how much CPU processes outside
the bench take meanwhile (the machine may be shared).

The figures replace this bench's section of ``docs/performance.md`` (between
``<!-- kiosk_vs_browser:start -->`` and ``<!-- kiosk_vs_browser:end -->``, written to a temporary
file and renamed over it); other sections stay byte for byte. ``--json`` keeps the raw results,
``--render-only`` writes the section again from them.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import ctypes
import faulthandler
import json
import logging
import os
import select
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
for _p in (str(ROOT), str(BENCH)):
    if _p not in sys.path:  # run as a plain script from a checkout
        sys.path.insert(0, _p)

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack  # noqa: E402

import _report  # noqa: E402  (what the benchmarks share)
import call_loopback as cl  # noqa: E402  (helpers shared with the loopback bench)
from kiosk.call.media import STAMP_BITS  # noqa: E402
from kiosk.demo import DEMO_INTERPRETER  # noqa: E402

log = logging.getLogger("bench.kvb")

DEFAULT_OUT = ROOT / "docs" / "performance.md"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
SECTION_START = "<!-- kiosk_vs_browser:start -->"
SECTION_END = "<!-- kiosk_vs_browser:end -->"

CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--use-fake-ui-for-media-stream", "--disable-gpu",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--disable-sync", "--autoplay-policy=no-user-gesture-required",
    # "--use-fake-device-for-media-stream=fps=N" is added per run: without fps= the fake camera
    # captures at 20 fps whatever getUserMedia asks for (checked with Chromium 156).
]
# The Chromium caller page logs in to dispatch as a kiosk of its own.
BROWSER_KIOSK = ("bench-browser-kiosk", "bench-browser-kiosk-token", "Benchmark browser caller")
CONSOLE_ID, CONSOLE_PASSWORD = DEMO_INTERPRETER  # provisioned by kiosk.demo for trying the console
SIM_ID = "sim-interpreter-1"

STALL_PERIOD_MS = 5.0  # the GUI-thread probe timer
# The machine may be shared: CPU used by processes that are not part of the bench ("foreign")
# is measured in every window; before a window the bench waits (a little) for it to fall below
# QUIET_CORES, and a window with more than DISTURBED_CORES of it is flagged (the main sustained
# call is measured again once, time permitting).
QUIET_CORES = 0.15
DISTURBED_CORES = 0.25
STALL_TARGET_MS = 50.0
CONNECT_HOLD_S = 0.7  # a connect-time call stays up this long after its first frame

# PySide6 6.12 with Python 3.11 (this venv): every Signal.emit() drops one reference to True that it
# never took. Python < 3.12 does not make True immortal, so after as many emits as True has
# references the process aborts ("Fatal Python error: bool_dealloc"); the kiosk emits for every
# video frame (LatestFrame.offer) and did abort during the first full run of this bench. The
# bench measures how fast the references drain and, when the kiosk does not already keep True
# alive itself (kiosk/ui/__init__.py now does), adds this many to True and False inside the
# kiosk process only (unless --no-refcount-guard), so that the measurement can finish.
REFCOUNT_PAD = 1 << 40

KIOSK_ROLE = "kiosk"
SERVICES_ROLE = "services"


# --- small shared helpers ---------------------------------------------------------------------


def _die_with_parent() -> None:
    """Children get SIGTERM if the bench process dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def pct(values, q: float) -> Optional[float]:
    values = [v for v in values if v is not None]
    return float(np.percentile(values, q)) if values else None


def med(values) -> Optional[float]:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}{unit}"


def ms_between(a: Optional[float], b: Optional[float]) -> Optional[float]:
    """b - a in ms for two wall-clock times in seconds."""
    return (b - a) * 1000 if a is not None and b is not None else None


def scaled_stamp_delay(frame, now_ms: float, ref_width: int) -> tuple[Optional[float], Optional[str]]:
    """Like ``call_loopback.stamp_delay_ms`` for a frame that was scaled after the stamp was
    written (the kiosk's ResolutionPolicy, Chromium's adaptation): the block geometry is that of
    ``ref_width`` (the capture width), scaled to the frame's width."""
    try:
        y = cl.luma_plane(frame)
        w = y.shape[1]
        bw = max(2, ref_width // (STAMP_BITS + 8)) * w / ref_width
        if bw < 2:
            return None, "error"
        r0 = int(bw / 4)
        r1 = max(r0 + 1, int(bw - bw / 4))
        means = []
        for i in range(STAMP_BITS):
            c0 = int(i * bw + bw / 4)
            c1 = max(c0 + 1, int(i * bw + bw - bw / 4))
            means.append(float(y[r0:r1, c0:c1].mean()))
        if min(abs(m - 128) for m in means) < cl.STAMP_MIN_MARGIN:
            return None, "blurred"
        value = 0
        for m in means:
            value = (value << 1) | int(m > 128)
        delay = cl.wrap_delta_ms(int(now_ms), value)
    except Exception:  # an odd frame must not stop the measurement
        return None, "error"
    if cl.STAMP_MIN_MS <= delay <= cl.STAMP_MAX_MS:
        return float(delay), None
    return None, "implausible"


def stamp_delay(frame, now_ms: float, ref_width: int) -> tuple[Optional[float], Optional[str]]:
    if frame is None:
        return None, "error"
    if frame.width == ref_width:
        return cl.stamp_delay_ms(frame, now_ms)
    return scaled_stamp_delay(frame, now_ms, ref_width)


class SilentVideoTrack(MediaStreamTrack):
    """A video track that never produces a frame: for the one-direction variants (the sender
    then encodes and sends nothing)."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.frames_sent = 0
        self.scale = 1.0

    async def recv(self):
        while self.readyState == "live":
            await asyncio.sleep(0.25)
        raise MediaStreamError


class ChildChannel:
    """A child's end of the control channel: JSON lines in on stdin, out on the original stdout.
    File descriptor 1 is pointed at stderr, so that stray prints cannot corrupt the channel."""

    def __init__(self) -> None:
        fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self._out = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
        self._lock = threading.Lock()

    def send(self, obj: dict) -> None:
        line = json.dumps(obj, default=_json_default)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (set, tuple, deque, array)):
        return list(value)
    return str(value)


def stall_summary(ts: list[float], t0: Optional[float] = None) -> dict:
    """Lateness of the 5 ms GUI probe timer from its firing times (time.monotonic, s)."""
    if len(ts) < 2:
        return {"ticks": len(ts), "max": None, "p99": None, "p50": None, "over_50": 0, "top": []}
    arr = np.asarray(ts, dtype=np.float64)
    late = np.diff(arr) * 1000 - STALL_PERIOD_MS
    order = np.argsort(late)[::-1][:5]
    base = t0 if t0 is not None else arr[0]
    return {
        "ticks": len(ts), "max": float(late.max()), "p99": float(np.percentile(late, 99)),
        "p50": float(np.percentile(late, 50)), "over_50": int((late > STALL_TARGET_MS).sum()),
        "over_16": int((late > 16.7).sum()),
        "top": [[round(float(arr[i] - base), 2), round(float(late[i]), 1)] for i in order],
    }


def timing_summary(rows: list, cpu_i: int = 1, wall_i: int = 2) -> dict:
    if not rows:
        return {"n": 0}
    cpu = [r[cpu_i] for r in rows]
    wall = [r[wall_i] for r in rows]
    return {"n": len(rows), "cpu_med": med(cpu), "cpu_p95": pct(cpu, 95), "wall_med": med(wall),
            "wall_p95": pct(wall, 95), "cpu_sum": sum(cpu), "wall_max": max(wall)}


def per_second_counts(times: list[float], t0: float, t1: float) -> list[int]:
    bins = max(1, int(t1 - t0))
    counts = [0] * bins
    for t in times:
        i = int(t - t0)
        if 0 <= i < bins:
            counts[i] += 1
    return counts


CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def thread_cpu() -> dict[str, list]:
    """CPU seconds of every thread of this process, keyed by thread id, with its name (the
    Python thread name where there is one, else the OS name: Qt names its threads)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, list] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                stat = f.read()
            with open(f"/proc/self/task/{tid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
        out[tid] = [names.get(int(tid)) or comm, cpu]
    return out


THREAD_GROUPS = [
    ("GUI thread (QML, video copy into QVideoFrame, bench probes)", lambda n: n == "MainThread"),
    ("Qt Quick render thread", lambda n: n.startswith("QSGRenderThrea")),
    ("llvmpipe (software OpenGL rasteriser)", lambda n: n.startswith("llvmpipe")),
    ("call-engine loop (capture drawing, RTP/SRTP, ICE, jitter buffers, audio)",
     lambda n: n == "call-engine"),
    ("encoders (asyncio executor: VP8 video + Opus audio)", lambda n: n.startswith("asyncio")),
    ("video decoder thread", lambda n: n == "video-decoder"),
    ("audio decoder thread", lambda n: n == "audio-decoder"),
    ("bench control channel", lambda n: n == "bench-control"),
]
OTHER_THREADS = "other threads (Qt event reader, FFmpeg/libvpx helpers, …)"


def group_threads(before: dict, after: dict, seconds: float) -> dict[str, float]:
    out: Counter = Counter()
    for tid, (name, cpu) in after.items():
        used = cpu - (before.get(tid, [name, 0.0])[1])
        group = next((g for g, match in THREAD_GROUPS if match(name)), OTHER_THREADS)
        out[group] += used
    return {g: v / seconds for g, v in out.items()}


# ==============================================================================================
# The kiosk process: the real Qt window under Xvfb
# ==============================================================================================


class KioskProbe:
    """What the bench observes inside the kiosk process. Lists only grow; windows are index
    ranges. Times: ``time.time()`` (wall clock, shared with the other processes and with the
    stamps) unless named mono."""

    def __init__(self, ref_width: int) -> None:
        self.ref_width = ref_width
        self.stall_ts = array("d")  # time.monotonic() of each 5 ms probe tick (GUI thread)
        self.sync_ts = array("d")  # render loop: beforeSynchronizing (render thread)
        self.swap_ts = array("d")  # render loop: frameSwapped (render thread)
        # remote frames handed to the sink: (wall, delay_ms|None, why|None, w, h, deliver_ms, read_ms)
        self.deliveries: list[tuple] = []
        self.enc: list[tuple] = []  # (wall, thread cpu ms, wall ms, w, h) per VP8 encode
        self.dec: list[tuple] = []  # (wall, thread cpu ms, wall ms) per VP8 decode
        self.quality: list[tuple] = []  # (wall, fps_in, fps_out, scale, loss_pct, kbps_out, kbps_in)
        self.converting = None  # the frame to_qvideoframe was last given
        self.bench_emits = 0  # Signal.emit calls made by the bench's own control channel
        self.policy_off = False
        self.call_armed_mono: Optional[float] = None
        self.tap_at: Optional[float] = None
        self.first_shown: Optional[float] = None

    def arm(self) -> None:
        self.call_armed_mono = time.monotonic()
        self.tap_at = time.time()
        self.first_shown = None

    def on_remote_shown(self, frame, now: float, deliver_ms: float) -> None:
        if self.first_shown is None and self.call_armed_mono is not None:
            self.first_shown = now
        t0 = time.perf_counter()
        delay, why = stamp_delay(frame, now * 1000, self.ref_width)
        read_ms = (time.perf_counter() - t0) * 1000
        w, h = (frame.width, frame.height) if frame is not None else (0, 0)
        self.deliveries.append((now, delay, why, w, h, deliver_ms, read_ms))

    def glass_time(self, t: Optional[float]) -> Optional[float]:
        """When a frame handed to the sink at ``t`` reached the screen: the end of the buffer
        swap of the first render pass that synchronised after ``t``."""
        if t is None:
            return None
        i = bisect.bisect_left(self.sync_ts, t)
        if i >= len(self.sync_ts):
            return None
        j = bisect.bisect_left(self.swap_ts, self.sync_ts[i])
        return self.swap_ts[j] if j < len(self.swap_ts) else None

    def stalls(self, t0_mono: float, t1_mono: float) -> dict:
        i0 = bisect.bisect_left(self.stall_ts, t0_mono)
        i1 = bisect.bisect_right(self.stall_ts, t1_mono)
        return stall_summary(list(self.stall_ts[i0:i1]), t0_mono)


def kiosk_child(args) -> int:
    chan = ChildChannel()
    _die_with_parent()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from aiortc.codecs import vpx
    from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
    from PySide6.QtGui import QGuiApplication

    import kiosk.call.quality as quality_mod
    import kiosk.ui.bridge as bridge_mod
    import kiosk.ui.video as video_mod
    from kiosk.config import load_config
    from kiosk.ui.app import KioskApp, pick_font

    config = load_config(Path(args.config))
    probe = KioskProbe(config.video.width)

    # -- observation points, installed in this process only (product code is not edited) -----
    original_convert = video_mod.to_qvideoframe

    def convert(frame):
        probe.converting = frame  # exactly the frame _deliver hands to the sink
        return original_convert(frame)

    video_mod.to_qvideoframe = convert

    class BenchLatestFrame(video_mod.LatestFrame):
        role = "?"

        @Slot()
        def _deliver(self) -> None:
            before = self.shown
            probe.converting = None
            t0 = time.perf_counter()
            super()._deliver()
            if self.role == "remote" and self.shown != before:
                now = time.time()
                probe.on_remote_shown(probe.converting, now, (time.perf_counter() - t0) * 1000)

    bridge_mod.LatestFrame = BenchLatestFrame  # CallBridge makes its two slots from this name

    original_encode = vpx.Vp8Encoder.encode
    original_decode = vpx.Vp8Decoder.decode

    def timed_encode(self, frame, force_keyframe=False):
        c0, w0 = time.thread_time(), time.perf_counter()
        try:
            return original_encode(self, frame, force_keyframe)
        finally:
            probe.enc.append((time.time(), (time.thread_time() - c0) * 1000,
                              (time.perf_counter() - w0) * 1000, frame.width, frame.height))

    def timed_decode(self, encoded_frame):
        c0, w0 = time.thread_time(), time.perf_counter()
        try:
            return original_decode(self, encoded_frame)
        finally:
            probe.dec.append((time.time(), (time.thread_time() - c0) * 1000,
                              (time.perf_counter() - w0) * 1000))

    vpx.Vp8Encoder.encode = timed_encode
    vpx.Vp8Decoder.decode = timed_decode

    original_feed = quality_mod.ResolutionPolicy.feed

    def feed(self, sample):
        return None if probe.policy_off else original_feed(self, sample)

    quality_mod.ResolutionPolicy.feed = feed

    # -- the kiosk -------------------------------------------------------------------------------
    app = QGuiApplication([sys.argv[0]])
    app.setApplicationName("counter-kiosk")
    pick_font(app)
    kapp = KioskApp(config, embedded_services=False)
    remote, local = kapp.bridge.remote, kapp.bridge.local
    remote.role, local.role = "remote", "local"
    engine, vm, window = kapp.engine, kapp.vm, kapp.window
    forward_quality = engine.on_quality

    def on_quality(sample) -> None:
        probe.quality.append((time.time(), sample.fps_in, sample.fps_out, sample.scale,
                              sample.loss_pct, sample.kbps_out, sample.kbps_in))
        if forward_quality:
            forward_quality(sample)

    engine.on_quality = on_quality
    window.beforeSynchronizing.connect(lambda: probe.sync_ts.append(time.time()),
                                       Qt.ConnectionType.DirectConnection)
    window.frameSwapped.connect(lambda: probe.swap_ts.append(time.time()),
                                Qt.ConnectionType.DirectConnection)
    tick = QTimer()
    tick.setTimerType(Qt.TimerType.PreciseTimer)
    tick.setInterval(int(STALL_PERIOD_MS))
    tick.timeout.connect(lambda: probe.stall_ts.append(time.monotonic()))
    tick.start()
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    signal.signal(signal.SIGINT, lambda *_: app.quit())

    def video_track():
        pc = engine._pc  # the engine's current peer connection; the bench may look inside
        if pc is None:
            return None
        for sender in pc.getSenders():
            if sender.track is not None and sender.track.kind == "video":
                return sender.track
        return None

    def snapshot() -> dict:
        track = video_track()
        return {
            "wall": time.time(), "mono": time.monotonic(),
            "received": engine.counters.video_received, "offered": remote.offered,
            "shown": remote.shown, "self_shown": local.shown,
            "sent": getattr(track, "frames_sent", None), "captured": engine.camera.frames_captured,
            "swaps": len(probe.swap_ts), "n_sync": len(probe.sync_ts), "n_swap": len(probe.swap_ts),
            "n_deliv": len(probe.deliveries), "n_enc": len(probe.enc),
            "n_dec": len(probe.dec), "n_quality": len(probe.quality), "threads": thread_cpu(),
            "true_refs": sys.getrefcount(True), "bench_emits": probe.bench_emits,
        }

    state: dict[str, Any] = {"window": None, "saved": {}}

    def window_end() -> dict:
        s0, s1 = state["window"], snapshot()
        state["window"] = None
        dt = s1["mono"] - s0["mono"]

        def rate(key):
            a, b = s0.get(key), s1.get(key)
            return (b - a) / dt if a is not None and b is not None else None

        deliv = probe.deliveries[s0["n_deliv"]:s1["n_deliv"]]
        sink = [d[1] for d in deliv if d[1] is not None]
        glass = []
        for d in deliv:
            if d[1] is None:
                continue
            g = probe.glass_time(d[0])
            if g is not None:
                glass.append(d[1] + (g - d[0]) * 1000)
        why = Counter(d[2] for d in deliv if d[2] is not None)
        sizes = Counter(f"{d[3]}x{d[4]}" for d in deliv)
        shown_per_s = per_second_counts([d[0] for d in deliv], s0["wall"], s1["wall"])
        quality = probe.quality[s0["n_quality"]:s1["n_quality"]]
        enc = probe.enc[s0["n_enc"]:s1["n_enc"]]
        # render passes: how long each took (synchronise → end of swap), and how many of them
        # took a new remote frame (frames that can actually have been seen)
        syncs = list(probe.sync_ts[s0["n_sync"]:s1["n_sync"]])
        swaps = list(probe.swap_ts[s0["n_swap"]:])
        passes = []
        for t in syncs:
            j = bisect.bisect_left(swaps, t)
            if j < len(swaps):
                passes.append((0, (swaps[j] - t) * 1000, (swaps[j] - t) * 1000))
        times = [d[0] for d in deliv]
        reached = sum(1 for a, b in zip(syncs, syncs[1:])
                      if bisect.bisect_right(times, b) > bisect.bisect_right(times, a))
        return {
            "seconds": dt,
            "fps": {"received": rate("received"), "shown": rate("shown"), "offered": rate("offered"),
                    "self_shown": rate("self_shown"), "sent": rate("sent"),
                    "captured": rate("captured"), "render_swaps": rate("swaps"),
                    "rendered": reached / dt},
            "render_pass_ms": timing_summary(passes),
            "shown_per_s": shown_per_s, "wall0": s0["wall"],
            "sizes": dict(sizes),
            "g2g_sink": sink, "g2g_glass": glass, "unreadable": dict(why), "frames": len(deliv),
            "deliver_ms": timing_summary([(0, d[5], d[5]) for d in deliv]),
            "stamp_read_ms": timing_summary([(0, d[6], d[6]) for d in deliv]),
            "stalls": probe.stalls(s0["mono"], s1["mono"]),
            "quality": [list(q) for q in quality],
            "encode": timing_summary(enc), "encode_sizes": dict(Counter(f"{e[3]}x{e[4]}" for e in enc)),
            "decode": timing_summary(probe.dec[s0["n_dec"]:s1["n_dec"]]),
            "threads": group_threads(s0["threads"], s1["threads"], dt),
            # the bench's own control messages are emitted too: not the kiosk's doing
            "true_refs_lost": (s0["true_refs"] - s1["true_refs"]) - (s1["bench_emits"] - s0["bench_emits"]),
            "true_refs_lost_per_s": ((s0["true_refs"] - s1["true_refs"])
                                     - (s1["bench_emits"] - s0["bench_emits"])) / dt,
        }

    def call_info() -> dict:
        ev = engine.current
        pc = engine._pc
        codec = cl.video_codec(pc.remoteDescription.sdp) if pc and pc.remoteDescription else None
        return {
            "session_id": ev.session_id, "state": ev.state.value, "screen": vm.screen,
            "answered_at": ev.answered_at, "connected_at": ev.connected_at,
            "first_video_at": engine.counters.first_video_at, "first_shown": probe.first_shown,
            "first_glass": probe.glass_time(probe.first_shown), "tap": probe.tap_at, "codec": codec,
        }

    def set_variant(recv_only: bool = False, policy_off: bool = False) -> dict:
        probe.policy_off = policy_off
        cam = engine.camera
        if recv_only:  # the kiosk captures nothing and sends no video (no self-view either)
            cam.track = lambda: SilentVideoTrack()
            cam.start = lambda: None
        else:
            for name in ("track", "start"):
                cam.__dict__.pop(name, None)
        return {"recv_only": recv_only, "policy_off": policy_off}

    def call_done() -> dict:
        t0 = probe.call_armed_mono
        probe.call_armed_mono = None
        return probe.stalls(t0, time.monotonic()) if t0 is not None else {}

    def stalls_since(seconds: float) -> dict:
        now = time.monotonic()
        return probe.stalls(now - seconds, now)

    handlers: dict[str, Callable[..., Any]] = {
        "state": lambda: {"screen": vm.screen, "state": vm.callState, "online": vm.online,
                          "remote_shown": remote.shown, "self_shown": local.shown,
                          "width": window.width(), "height": window.height()},
        "start_call": lambda: (probe.arm(), vm.startCall(), {"tap": probe.tap_at})[-1],
        "hang_up": lambda: vm.hangUp(),
        "cancel": lambda: vm.cancelCall(),
        "skip_rating": lambda: vm.skipRating(),
        "dismiss_notice": lambda: vm.dismissNotice(),
        "call_info": call_info,
        "call_done": call_done,
        "window_start": lambda: state.update(window=snapshot()) or {"ok": True},
        "window_end": window_end,
        "stalls_since": stalls_since,
        "set_variant": set_variant,
        "quit": lambda: QTimer.singleShot(0, app.quit),
    }

    class Control(QObject):
        command = Signal(object)

        @Slot(object)
        def on_command(self, msg) -> None:
            cid = msg.get("id")
            try:
                result = handlers[msg["cmd"]](**(msg.get("args") or {}))
                if cid is not None:
                    chan.send({"id": cid, "ok": True, "result": result})
            except Exception as exc:  # noqa: BLE001 - reported to the bench
                log.exception("command %s failed", msg.get("cmd"))
                if cid is not None:
                    chan.send({"id": cid, "ok": False, "error": f"{type(exc).__name__}: {exc}"})

    control = Control()
    control.command.connect(control.on_command, Qt.ConnectionType.QueuedConnection)

    def reader() -> None:
        while True:
            line = sys.stdin.readline()
            if not line:
                break
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            probe.bench_emits += 1
            control.command.emit(msg)
        control.command.emit({"cmd": "quit", "id": None})  # the bench went away

    threading.Thread(target=reader, name="bench-control", daemon=True).start()
    app.aboutToQuit.connect(kapp.shutdown)
    kapp.start()
    true_refs_start = sys.getrefcount(True)
    # the kiosk may keep True alive by itself (kiosk/ui/__init__.py pads it on import)
    product_guard = sys.version_info < (3, 12) and true_refs_start > REFCOUNT_PAD // 2
    guarded = not args.no_refcount_guard and sys.version_info < (3, 12) and not product_guard
    if guarded:  # see REFCOUNT_PAD
        for obj in (True, False):
            ctypes.c_ssize_t.from_address(id(obj)).value += REFCOUNT_PAD
    screen = app.primaryScreen().geometry()
    window.setGeometry(screen)
    window.showFullScreen()

    def hello() -> None:
        try:
            api = str(window.rendererInterface().graphicsApi()).split(".")[-1]
        except Exception:  # noqa: BLE001 - only for the report
            api = "?"
        chan.send({"event": "hello", "pid": os.getpid(), "width": window.width(),
                   "height": window.height(), "screen": f"{screen.width()}x{screen.height()}",
                   "graphics_api": api, "true_refs_start": true_refs_start,
                   "refcount_guard": guarded, "product_guard": product_guard,
                   "python": sys.version.split()[0]})

    QTimer.singleShot(300, hello)
    code = app.exec()
    kapp.shutdown()
    return code


# ==============================================================================================
# The services process: dispatch + the simulated interpreter
# ==============================================================================================


@dataclass
class ScaledProbe(cl.FrameProbe):
    """call_loopback's FrameProbe, reading stamps of scaled frames too."""

    ref_width: int = 1280

    def on_frame(self, frame) -> None:
        now_ms = time.time() * 1000
        if self.first_at is None:
            self.first_at = time.monotonic()
            self.first_seen.set()
        if not self.measuring:
            return
        self.frames += 1
        self.sizes[(frame.width, frame.height)] += 1
        delay, why = stamp_delay(frame, now_ms, self.ref_width)
        if delay is None:
            self.unreadable[why] += 1
        else:
            self.delays.append(delay)


async def services_main(args) -> int:
    chan = ChildChannel()
    _die_with_parent()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from kiosk.config import load_config
    from kiosk.demo import EmbeddedServices
    from kiosk.protocol import Accept, Presence

    config = load_config(Path(args.config))
    tap = cl.SimulatorTap()
    tap.install()
    services = EmbeddedServices(config)
    await asyncio.wait_for(services.start(), 60)
    server = services._server  # the embedded RunningDispatch; the bench may look inside
    server.accounts.add_kiosk(BROWSER_KIOSK[0], BROWSER_KIOSK[2], BROWSER_KIOSK[1])
    sim = services.interpreters[0]
    accept_at: dict[str, float] = {}
    send = sim.signaling.send

    async def timed_send(msg):
        if isinstance(msg, Accept):
            accept_at[msg.session_id] = time.time()
        return await send(msg)

    sim.signaling.send = timed_send
    stop = asyncio.Event()
    state: dict[str, Any] = {}

    def sim_track():
        pc = sim._pc
        if pc is None:
            return None
        for sender in pc.getSenders():
            if sender.track is not None and sender.track.kind == "video":
                return sender.track
        return None

    def sim_counts() -> dict:
        track = sim_track()
        return {"mono": time.monotonic(), "sent": getattr(track, "frames_sent", None),
                "captured": sim.camera.frames_captured}

    async def presence(state: str) -> dict:
        ok = await sim.signaling.send(Presence(state=state))
        return {"sent": bool(ok)}

    def health() -> dict:
        hub = server.hub
        now = hub._clock()
        return {**hub.health(),
                "states": {i.id: i.state(now) for i in hub.interpreters.values()}}

    def probe_start(ref_width: int) -> dict:
        tap.probe = ScaledProbe("kiosk → interpreter", ref_width=ref_width)
        tap.probe.measuring = True
        state["counts"] = sim_counts()
        return {"ok": True}

    def probe_stop() -> dict:
        p, tap.probe = tap.probe, None
        c0, c1 = state.pop("counts", None), sim_counts()
        if p is None or c0 is None:
            return {}
        p.measuring = False
        dt = c1["mono"] - c0["mono"]
        sent = (c1["sent"] - c0["sent"]) / dt if c0["sent"] is not None and c1["sent"] is not None else None
        return {"seconds": dt, "received_fps": p.frames / dt, "frames": p.frames,
                "sent_fps": sent, "captured_fps": (c1["captured"] - c0["captured"]) / dt,
                "sizes": {f"{w}x{h}": n for (w, h), n in p.sizes.items()},
                "delays": p.delays, "unreadable": dict(p.unreadable)}

    def no_video(on: bool) -> dict:
        cam = sim.camera
        if on:
            cam.track = lambda: SilentVideoTrack()
            cam.start = lambda: None
        else:
            for name in ("track", "start"):
                cam.__dict__.pop(name, None)
        return {"no_video": on}

    handlers: dict[str, Callable[..., Any]] = {
        "presence": presence,
        "health": health,
        "accept_time": lambda session_id: accept_at.get(session_id),
        "probe_start": probe_start,
        "probe_stop": probe_stop,
        "no_video": no_video,
        "quit": lambda: stop.set(),
    }

    async def handle(msg: dict) -> None:
        cid = msg.get("id")
        try:
            result = handlers[msg["cmd"]](**(msg.get("args") or {}))
            if asyncio.iscoroutine(result):
                result = await result
            if cid is not None:
                chan.send({"id": cid, "ok": True, "result": result})
        except Exception as exc:  # noqa: BLE001
            log.exception("command %s failed", msg.get("cmd"))
            if cid is not None:
                chan.send({"id": cid, "ok": False, "error": f"{type(exc).__name__}: {exc}"})

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2 ** 22)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    async def read_commands() -> None:
        while True:
            line = await reader.readline()
            if not line:
                stop.set()
                return
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            loop.create_task(handle(msg))

    reading = loop.create_task(read_commands())
    chan.send({"event": "hello", "pid": os.getpid(), "port": config.server.port})
    await stop.wait()
    reading.cancel()
    try:
        await asyncio.wait_for(services.stop(), 15)
    except Exception:  # noqa: BLE001
        log.exception("stopping the services failed")
    tap.uninstall()
    return 0


# ==============================================================================================
# The bench process: children, Chromium, phases
# ==============================================================================================


class ChildError(RuntimeError):
    pass


class Child:
    """A child process of this bench with a JSON-lines control channel on its stdin/stdout."""

    def __init__(self, name: str, argv: list[str], env: dict, log_path: Path) -> None:
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self.proc: Optional[asyncio.subprocess.Process] = None
        self.hello: Optional[dict] = None
        self._pending: dict[int, asyncio.Future] = {}
        self._next = 0
        self._hello = asyncio.get_event_loop().create_future()
        self._reader: Optional[asyncio.Task] = None
        self._log = None

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    async def start(self, timeout: float) -> dict:
        self._log = open(self.log_path, "ab")
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=self._log, env=self.env, preexec_fn=_die_with_parent, limit=2 ** 24)
        self._reader = asyncio.create_task(self._read())
        try:
            self.hello = await asyncio.wait_for(asyncio.shield(self._hello), timeout)
        except asyncio.TimeoutError:
            raise ChildError(f"{self.name} did not start within {timeout:.0f} s "
                             f"(see {self.log_path})") from None
        return self.hello

    async def _read(self) -> None:
        assert self.proc and self.proc.stdout
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("event") == "hello" and not self._hello.done():
                self._hello.set_result(msg)
            elif "id" in msg:
                fut = self._pending.pop(msg["id"], None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
        err = ChildError(f"{self.name} exited (see {self.log_path})")
        if not self._hello.done():
            self._hello.set_exception(err)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(err)
        self._pending.clear()

    async def request(self, cmd: str, timeout: float = 15.0, **args) -> Any:
        if self.proc is None or self.proc.returncode is not None or self.proc.stdin is None:
            raise ChildError(f"{self.name} is not running")
        self._next += 1
        cid = self._next
        fut = asyncio.get_running_loop().create_future()
        self._pending[cid] = fut
        self.proc.stdin.write((json.dumps({"id": cid, "cmd": cmd, "args": args}) + "\n").encode())
        await self.proc.stdin.drain()
        try:
            msg = await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            self._pending.pop(cid, None)
            raise ChildError(f"{self.name}: {cmd} got no answer within {timeout:.0f} s") from None
        if not msg.get("ok"):
            raise ChildError(f"{self.name}: {cmd} failed: {msg.get('error')}")
        return msg.get("result")

    async def stop(self, timeout: float = 20.0) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.returncode is None:
            try:
                await self.request("quit", timeout=5)
            except Exception:  # noqa: BLE001
                pass
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except asyncio.TimeoutError:
                log.warning("%s did not exit within %.0f s: terminating pid %d", self.name, timeout, proc.pid)
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 5)
                except asyncio.TimeoutError:
                    proc.kill()
                    await proc.wait()
        if self._reader is not None:
            self._reader.cancel()
        if self._log is not None:
            self._log.close()


def start_xvfb(width: int, height: int, log_file) -> tuple[subprocess.Popen, str]:
    """An X server of our own, as xvfb-run would start it; returns it and its DISPLAY."""
    r, w = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
         "-noreset"], pass_fds=(w,), stdout=log_file, stderr=log_file, preexec_fn=_die_with_parent)
    os.close(w)
    data = b""
    deadline = time.monotonic() + 15
    try:
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                raise RuntimeError("Xvfb did not start")
            ready, _, _ = select.select([r], [], [], left)
            if ready:
                chunk = os.read(r, 64)
                if not chunk:
                    raise RuntimeError("Xvfb did not report its display")
                data += chunk
    except Exception:
        proc.terminate()
        raise
    finally:
        os.close(r)
    return proc, ":" + data.decode().strip()


# --- CPU and memory of the processes, from outside ----------------------------------------------


class Meter:
    """CPU seconds of each measured group of processes (psutil), and the whole machine."""

    def __init__(self) -> None:
        import psutil
        self.psutil = psutil
        self.groups: dict[str, Callable[[], list]] = {}

    def add_pid(self, name: str, pid: int) -> None:
        proc = self.psutil.Process(pid)
        self.groups[name] = lambda: [proc]

    def add_tree(self, name: str, root_pid: int) -> None:
        root = self.psutil.Process(root_pid)

        def procs():
            try:
                return [root] + root.children(recursive=True)
            except self.psutil.Error:
                return []
        self.groups[name] = procs

    def add_self(self) -> None:
        """This process and its helpers that are not measured otherwise (Playwright's driver)."""
        me = self.psutil.Process()

        def procs():
            out = [me]
            try:
                out += [p for p in me.children(recursive=True) if p.name() == "node"]
            except self.psutil.Error:
                pass
            return out
        self.groups["bench process + Playwright driver"] = procs

    def all_processes(self) -> dict[int, tuple[str, float]]:
        out = {}
        for p in self.psutil.process_iter(["name", "cpu_times"]):
            t = p.info.get("cpu_times")
            if t is not None:
                out[p.pid] = (p.info.get("name") or "?", t.user + t.system)
        return out

    def sample(self) -> dict:
        out: dict[str, Any] = {"_mono": time.monotonic(), "_machine": cl.machine_jiffies(), "_pids": {},
                               "_all": self.all_processes()}
        for name, procs in self.groups.items():
            total, pids = 0.0, {}
            for p in procs():
                try:
                    t = p.cpu_times()
                    pids[p.pid] = t.user + t.system
                    total += t.user + t.system
                except self.psutil.Error:
                    pass
            out[name] = total
            out["_pids"][name] = pids
        return out

    @staticmethod
    def cores(s0: dict, s1: dict) -> dict[str, float]:
        dt = s1["_mono"] - s0["_mono"]
        out = {}
        for name, pids in s1["_pids"].items():
            before = s0["_pids"].get(name, {})
            out[name] = sum(t - before.get(pid, 0.0) for pid, t in pids.items()) / dt
        (b0, t0), (b1, t1) = s0["_machine"], s1["_machine"]
        out["whole machine"] = (b1 - b0) / (t1 - t0) * (os.cpu_count() or 1) if t1 > t0 else None
        ours = {pid for pids in s1["_pids"].values() for pid in pids}
        others: Counter = Counter()
        for pid, (name, cpu) in s1.get("_all", {}).items():
            if pid in ours:
                continue
            before = s0.get("_all", {}).get(pid)
            used = cpu - before[1] if before and before[0] == name else cpu if before is None else 0.0
            others[name] += used / dt
        out["_others"] = [[n, round(v, 2)] for n, v in others.most_common(3) if v >= 0.05]
        return out

    def rss(self, pid: int) -> Optional[int]:
        try:
            return self.psutil.Process(pid).memory_info().rss
        except self.psutil.Error:
            return None

    def uss_pss(self, pid: int) -> tuple[Optional[int], Optional[int]]:
        try:
            m = self.psutil.Process(pid).memory_full_info()
            return m.uss, getattr(m, "pss", None)
        except self.psutil.Error:
            return None, None


def foreign_cores(cores: dict) -> Optional[float]:
    """Cores used by processes that are not part of the bench, from a Meter.cores result."""
    whole = cores.get("whole machine")
    if whole is None:
        return None
    return max(0.0, whole - sum(v for k, v in cores.items()
                                if k != "whole machine" and not k.startswith("_") and v))


def chromium_roots() -> set[int]:
    """Browser (root) processes of the Chromiums this bench started."""
    import psutil
    roots = set()
    for p in psutil.Process().children(recursive=True):
        try:
            if "chrom" in p.name().lower():
                parent = p.parent()
                if parent is None or "chrom" not in parent.name().lower():
                    roots.add(p.pid)
        except psutil.Error:
            pass
    return roots


# --- the page scripts ---------------------------------------------------------------------------

# Shared by the console (added as an init script) and the caller page. Stamps outgoing video when
# asked (getUserMedia is wrapped: a MediaStreamTrackProcessor → TransformStream →
# MediaStreamTrackGenerator pipe writes Date.now() into the top luma rows in exactly the format of
# kiosk.call.media.write_stamp), reads stamps of received video after decoding (a
# MediaStreamTrackProcessor on the received track) and as presented by the compositor
# (requestVideoFrameCallback on the <video>, the strip drawn into a canvas), and probes the page's
# main thread with a 5 ms timer. Clocks: wall-clock ms (performance.timeOrigin + now()).
BENCH_JS = r"""
(() => {
  if (window.__bench) return;
  const BITS = 40, MOD = 2 ** 40, MIN_MS = %(min_ms)d, MAX_MS = %(max_ms)d, MIN_MARGIN = %(min_margin)d;
  const wall = () => performance.timeOrigin + performance.now();
  const blockWidth = (w) => Math.max(2, Math.floor(w / (BITS + 8)));
  const B = window.__bench = {stampWanted: false, acceptAt: null, measuring: false, dirs: {},
    lag: [], lagTimer: null, readers: [], wall};

  document.addEventListener('click', (e) => {
    if (e.target && e.target.closest && e.target.closest('#accept')) B.acceptAt = wall();
  }, true);

  function stampTrack(track) {
    const proc = new MediaStreamTrackProcessor({track});
    const gen = new MediaStreamTrackGenerator({kind: 'video'});
    const stopSource = () => { try { track.stop(); } catch (e) {} };
    proc.readable.pipeThrough(new TransformStream({
      async transform(frame, controller) {
        const ms = Math.floor(wall()) %% MOD;
        const fmt = frame.format;
        if (!['I420', 'I420A', 'NV12'].includes(fmt)) { controller.enqueue(frame); return; }
        const buf = new Uint8Array(frame.allocationSize());
        const layout = await frame.copyTo(buf);
        const {offset, stride} = layout[0];
        const bw = blockWidth(frame.visibleRect.width);
        for (let i = 0; i < BITS; i++) {
          const bit = Math.floor(ms / 2 ** (BITS - 1 - i)) %% 2;
          const v = bit ? 251 : 16;
          for (let r = 0; r < bw; r++) buf.fill(v, offset + r * stride + i * bw, offset + r * stride + (i + 1) * bw);
        }
        const out = new VideoFrame(buf, {format: fmt, codedWidth: frame.codedWidth,
          codedHeight: frame.codedHeight, timestamp: frame.timestamp, layout,
          visibleRect: frame.visibleRect, displayWidth: frame.displayWidth, displayHeight: frame.displayHeight});
        frame.close();
        controller.enqueue(out);
      }
    })).pipeTo(gen.writable).catch(stopSource).finally(stopSource);
    const stop = gen.stop.bind(gen);
    gen.stop = () => { stop(); stopSource(); };
    return gen;
  }

  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const original = md.getUserMedia.bind(md);
    md.getUserMedia = async (constraints) => {
      const stream = await original(constraints);
      if (!B.stampWanted) return stream;
      const out = new MediaStream();
      for (const t of stream.getTracks()) out.addTrack(t.kind === 'video' ? stampTrack(t) : t);
      return out;
    };
  }

  function dir(name) {
    return B.dirs[name] || (B.dirs[name] = {frames: 0, unreadable: {}, delays: [], presented: 0,
      presentedTotal: 0, pfFirst: null, pfLast: null, shownDelays: [], expectedDelays: [],
      unreadableShown: {}, sizes: {}});
  }

  function judge(means, now) {
    let ms = 0, margin = 255;
    for (const m of means) { margin = Math.min(margin, Math.abs(m - 128)); ms = ms * 2 + (m > 128 ? 1 : 0); }
    if (margin < MIN_MARGIN) return [null, 'blurred'];
    let d = ((Math.floor(now) %% MOD) - ms + MOD) %% MOD;
    if (d >= MOD / 2) d -= MOD;
    return (d >= MIN_MS && d <= MAX_MS) ? [d, null] : [null, 'implausible'];
  }

  function blockRanges(bw) {
    const r0 = Math.floor(bw / 4), r1 = Math.max(r0 + 1, Math.floor(bw - bw / 4));
    const cols = [];
    for (let i = 0; i < BITS; i++) {
      const c0 = Math.floor(i * bw + bw / 4);
      cols.push([c0, Math.max(c0 + 1, Math.floor(i * bw + bw - bw / 4))]);
    }
    return [r0, r1, cols];
  }

  async function decodedDelay(frame, now, sentW) {
    const w = frame.visibleRect.width, h = frame.visibleRect.height;
    const bw = blockWidth(sentW) * w / sentW;
    const even = x => 2 * Math.ceil(x / 2);
    const rect = {x: 0, y: 0, width: Math.min(w - (w %% 2), even(BITS * bw)), height: Math.min(h - (h %% 2), even(bw))};
    if (rect.width < BITS * 2) return [null, 'error'];
    const buf = new Uint8Array(frame.allocationSize({rect}));
    const layout = await frame.copyTo(buf, {rect});
    const {offset, stride} = layout[0];
    const [r0, r1, cols] = blockRanges(bw);
    const means = cols.map(([c0, c1]) => {
      let sum = 0, n = 0;
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) { sum += buf[offset + r * stride + c]; n++; }
      return sum / n;
    });
    return judge(means, now);
  }

  // After decoding: every frame the receiver hands out.
  B.readTrack = (track, sentW, name) => {
    const d = dir(name);
    const reader = new MediaStreamTrackProcessor({track}).readable.getReader();
    B.readers.push(reader);
    (async () => {
      while (true) {
        let r;
        try { r = await reader.read(); } catch (e) { break; }
        if (r.done) break;
        const frame = r.value, now = wall();
        if (B.measuring) {
          d.frames++;
          const size = frame.visibleRect.width + 'x' + frame.visibleRect.height;
          d.sizes[size] = (d.sizes[size] || 0) + 1;
          try {
            const [delay, why] = await decodedDelay(frame, now, sentW);
            if (delay === null) d.unreadable[why] = (d.unreadable[why] || 0) + 1; else d.delays.push(delay);
          } catch (e) { d.unreadable.error = (d.unreadable.error || 0) + 1; }
        }
        frame.close();
      }
    })();
  };

  // As presented: each frame the compositor takes from the <video>.
  B.watchVideo = (video, sentW, name, readStamps) => {
    const d = dir(name);
    const canvas = new OffscreenCanvas(2, 2);
    const ctx = canvas.getContext('2d', {willReadFrequently: true});
    const cb = (now, meta) => {
      if (video.__benchWatch !== cb) return;
      d.presentedTotal++;
      if (B.measuring) {
        d.presented++;
        if (d.pfFirst === null) d.pfFirst = meta.presentedFrames;
        d.pfLast = meta.presentedFrames;
        if (readStamps) {
          try {
            const vw = video.videoWidth, vh = video.videoHeight;
            const bw = blockWidth(sentW) * vw / sentW;
            const sw = Math.min(vw, Math.ceil(BITS * bw)), sh = Math.min(vh, Math.max(2, Math.ceil(bw)));
            if (canvas.width !== sw || canvas.height !== sh) { canvas.width = sw; canvas.height = sh; }
            ctx.drawImage(video, 0, 0, sw, sh, 0, 0, sw, sh);
            const px = ctx.getImageData(0, 0, sw, sh).data;
            const [r0, r1, cols] = blockRanges(bw);
            const means = cols.map(([c0, c1]) => {
              let sum = 0, n = 0;
              for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) {
                const i = 4 * (r * sw + c);
                sum += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2]; n++;
              }
              return sum / n;
            });
            const shownAt = performance.timeOrigin + meta.presentationTime;
            const [delay, why] = judge(means, shownAt);
            if (delay === null) d.unreadableShown[why] = (d.unreadableShown[why] || 0) + 1;
            else {
              d.shownDelays.push(delay);
              d.expectedDelays.push(delay + (meta.expectedDisplayTime - meta.presentationTime));
            }
          } catch (e) { d.unreadableShown.error = (d.unreadableShown.error || 0) + 1; d.error = String(e); }
        }
      }
      video.requestVideoFrameCallback(cb);
    };
    video.__benchWatch = cb;
    video.requestVideoFrameCallback(cb);
  };

  B.measure = (on) => {
    if (on) {
      for (const d of Object.values(B.dirs)) {
        Object.assign(d, {frames: 0, unreadable: {}, delays: [], presented: 0, pfFirst: null,
          pfLast: null, shownDelays: [], expectedDelays: [], unreadableShown: {}, sizes: {}});
      }
      B.lag = [];
      B.measuredFrom = wall();
    }
    B.measuring = on;
  };

  B.startLag = () => {
    if (B.lagTimer) return;
    let last = performance.now();
    B.lagTimer = setInterval(() => {
      const n = performance.now();
      if (B.measuring) B.lag.push(n - last - 5);
      last = n;
    }, 5);
  };

  B.stopReaders = async () => {
    for (const r of B.readers) { try { await r.cancel(); } catch (e) {} }
    B.readers = [];
    B.dirs = {};
  };

  B.videoStats = async (pc) => {
    const out = {inbound: null, outbound: null, source: null, codec: null, t: wall()};
    if (!pc) return out;
    const report = await pc.getStats();
    const codecs = {};
    report.forEach(s => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
    report.forEach(s => {
      if (s.kind !== 'video') return;
      if (s.type === 'inbound-rtp') { out.inbound = s; out.codec = codecs[s.codecId] || out.codec; }
      if (s.type === 'outbound-rtp') out.outbound = s;
      if (s.type === 'media-source') out.source = s;
    });
    const pick = (s, keys) => s && Object.fromEntries(keys.map(k => [k, s[k] === undefined ? null : s[k]]));
    return {
      t: out.t, codec: out.codec,
      inbound: pick(out.inbound, ['framesDecoded', 'framesReceived', 'framesDropped', 'frameWidth',
        'frameHeight', 'decoderImplementation', 'totalDecodeTime', 'freezeCount', 'jitterBufferDelay',
        'jitterBufferEmittedCount']),
      outbound: pick(out.outbound, ['framesEncoded', 'framesSent', 'bytesSent', 'frameWidth', 'frameHeight',
        'qualityLimitationReason', 'encoderImplementation', 'totalEncodeTime']),
      source: pick(out.source, ['frames', 'width', 'height']),
    };
  };

  B.keepResolution = async (pc) => {
    if (!pc) return false;
    for (const s of pc.getSenders()) {
      if (!s.track || s.track.kind !== 'video') continue;
      const p = s.getParameters();
      p.degradationPreference = 'maintain-resolution';
      await s.setParameters(p);
    }
    return true;
  };

  B.results = () => ({dirs: B.dirs, lag: B.lag});
})();
""" % {"min_ms": cl.STAMP_MIN_MS, "max_ms": cl.STAMP_MAX_MS, "min_margin": cl.STAMP_MIN_MARGIN}

# The caller page: the kiosk side of the dispatch protocol (docs/protocol.md) in Chromium, with a
# layout like the kiosk's call screen (the remote picture filling the window, a self-view).
CALLER_JS = r"""
(() => {
  const B = window.__bench, wall = B.wall;
  const $ = (id) => document.getElementById(id);
  const C = window.caller = {ws: null, pc: null, stream: null, sid: null, t: {}, pendingIce: [],
    remoteSet: false, error: null, presented: 0};
  C.send = (m) => { if (C.ws && C.ws.readyState === WebSocket.OPEN) C.ws.send(JSON.stringify(m)); };
  C.connect = (url, id, credential, location) => new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    C.ws = ws;
    let last = null;
    const timer = setTimeout(() => reject(new Error('no welcome from dispatch; last message: ' + last)), 10000);
    ws.onopen = () => ws.send(JSON.stringify({type: 'hello', role: 'kiosk', id, credential, protocol: 1, location}));
    ws.onmessage = (e) => {
      last = e.data;
      const m = JSON.parse(e.data);
      if (m.type === 'welcome') { clearTimeout(timer); resolve(true); return; }
      C.onMessage(m).catch((err) => { C.error = String(err); });
    };
    ws.onclose = (e) => { C.closed = true; last = last || ('closed ' + e.code); };
  });
  C.call = async ({w, h, fps, stamped, keepResolution}) => {
    C.close();
    Object.assign(C, {t: {}, pendingIce: [], remoteSet: false, error: null, presented: 0, endReason: null});
    C.opts = {keepResolution};
    B.stampWanted = Boolean(stamped);
    C.sid = crypto.randomUUID();
    C.t.request = wall();
    // like the kiosk, the camera starts with the tap
    C.stream = await navigator.mediaDevices.getUserMedia({audio: true,
      video: {width: {ideal: w}, height: {ideal: h}, frameRate: {ideal: fps}}});
    $('self').srcObject = C.stream;
    C.send({type: 'call_request', session_id: C.sid, started_by: 'resident'});
    return C.sid;
  };
  C.onMessage = async (m) => {
    if (m.session_id !== C.sid) return;
    switch (m.type) {
      case 'accepted': C.t.accepted = wall(); await C.offer(); break;
      case 'answer':
        C.t.answer = wall();
        await C.pc.setRemoteDescription({type: 'answer', sdp: m.sdp});
        C.remoteSet = true;
        for (const ice of C.pendingIce.splice(0)) await C.addIce(ice);
        break;
      case 'ice': if (!C.remoteSet) C.pendingIce.push(m); else await C.addIce(m); break;
      case 'call_ended': C.t.ended = wall(); C.endReason = m.reason; C.close(); break;
      case 'unavailable': C.error = 'unavailable: ' + m.reason; break;
      case 'error': C.error = m.code + ': ' + m.message; break;
      default: break;
    }
  };
  C.addIce = async (m) => {
    try {
      if (!m.candidate) { await C.pc.addIceCandidate(null); return; }
      const text = m.candidate.startsWith('candidate:') ? m.candidate : 'candidate:' + m.candidate;
      await C.pc.addIceCandidate({candidate: text, sdpMid: m.sdp_mid, sdpMLineIndex: m.sdp_mline_index ?? 0});
    } catch (e) { /* as the console: ignore a candidate that does not apply */ }
  };
  C.offer = async () => {
    const pc = new RTCPeerConnection({iceServers: [], bundlePolicy: 'max-bundle'});
    C.pc = pc;
    pc.onicecandidate = (e) => {
      const c = e.candidate && e.candidate.candidate ? e.candidate : null;
      C.send({type: 'ice', session_id: C.sid, candidate: c ? c.candidate : null,
        sdp_mid: c ? c.sdpMid : null, sdp_mline_index: c ? c.sdpMLineIndex : null});
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected' && !C.t.connected) C.t.connected = wall();
    };
    pc.ontrack = (e) => {
      const v = $('remote');
      const stream = e.streams[0] || v.srcObject || new MediaStream();
      if (!stream.getTracks().includes(e.track)) stream.addTrack(e.track);
      if (v.srcObject !== stream) v.srcObject = stream;
      v.play().catch(() => {});
      if (e.track.kind === 'video') { C.remoteVideo = e.track; C.firstDecoded(e.track); C.watchFirst(v); }
    };
    for (const track of C.stream.getTracks()) {
      const sender = pc.addTrack(track, C.stream);
      if (track.kind === 'video' && C.opts.keepResolution) {
        const p = sender.getParameters();
        p.degradationPreference = 'maintain-resolution';
        try { await sender.setParameters(p); } catch (e) {}
      }
    }
    await pc.setLocalDescription(await pc.createOffer());
    C.send({type: 'offer', session_id: C.sid, sdp: pc.localDescription.sdp});
    C.t.offerSent = wall();
  };
  // the first decoded frame, as a MediaStreamTrackProcessor gets it (then let go of the track)
  C.firstDecoded = (track) => {
    const reader = new MediaStreamTrackProcessor({track}).readable.getReader();
    reader.read().then((r) => {
      if (!r.done) { C.t.firstDecoded = C.t.firstDecoded || wall(); r.value.close(); }
      reader.cancel().catch(() => {});
    }, () => {});
  };
  C.watchFirst = (video) => {
    const cb = (now, meta) => {
      if (video.__firstWatch !== cb) return;
      C.presented++;
      if (!C.t.firstShown) {
        C.t.firstShown = performance.timeOrigin + meta.presentationTime;
        C.t.firstExpected = performance.timeOrigin + meta.expectedDisplayTime;
      }
      video.requestVideoFrameCallback(cb);
    };
    video.__firstWatch = cb;
    video.requestVideoFrameCallback(cb);
  };
  C.hangup = () => {
    if (C.sid) C.send({type: 'hangup', session_id: C.sid, reason: 'completed'});
    C.close();
  };
  C.close = () => {
    if (C.pc) C.pc.close();
    C.pc = null;
    if (C.stream) C.stream.getTracks().forEach(t => t.stop());
    C.stream = null;
    $('remote').srcObject = null;
    $('self').srcObject = null;
  };
  C.info = () => ({sid: C.sid, t: C.t, error: C.error, presented: C.presented, endReason: C.endReason,
    state: C.pc ? C.pc.connectionState : null});
  setInterval(() => { $('clock').textContent = new Date().toLocaleTimeString(); }, 1000);
})();
"""

CALLER_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kiosk-vs-browser caller</title>
<style>
html, body { margin: 0; height: 100%%; background: #10141a; overflow: hidden; }
#remote { position: absolute; inset: 0; width: 100%%; height: 100%%; object-fit: contain; background: #000; }
#self { position: absolute; top: 2%%; right: 2%%; width: 22%%; aspect-ratio: 4 / 3; object-fit: cover;
        border: 3px solid #fff; background: #222; }
#clock { position: absolute; left: 2%%; top: 2%%; color: #fff; font: 28px sans-serif; }
</style></head>
<body><video id="remote" autoplay playsinline muted></video><video id="self" autoplay playsinline muted></video>
<div id="clock"></div>
<script>%s</script><script>%s</script></body></html>
"""


# --- the run ------------------------------------------------------------------------------------


async def until(fn: Callable[[], Awaitable[Any]], timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = await fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


class Rig:
    """Everything the phases use: the children, the X server, the browsers and pages."""

    def __init__(self, args, tmp: Path, progress: Callable[[str], None]) -> None:
        self.args, self.tmp, self.progress = args, tmp, progress
        self.kiosk: Optional[Child] = None
        self.services: Optional[Child] = None
        self.xvfb: Optional[subprocess.Popen] = None
        self.display: Optional[str] = None
        self.meter = Meter()
        self.pw = None
        self.console_browser = None
        self.caller_browser = None
        self.console = None  # Page
        self.caller = None  # Page
        self.base_url = ""
        self.browser_version = None
        self.console_stamped = False
        self.kiosk_hello: dict = {}

    # -- start and stop ----------------------------------------------------------------------

    async def start_processes(self) -> None:
        args = self.args
        cl.bench_config(self.tmp / "data", args.width, args.height, args.fps)
        config_path = self.tmp / "bench-config.yaml"  # where bench_config wrote it
        # The caller page is served by this process from its own origin (a page Playwright
        # fulfils itself counts as public and Chromium's local-network checks block its
        # WebSocket to 127.0.0.1); dispatch lets that origin in through its allowed_origins.
        self.caller_origin = f"http://127.0.0.1:{cl.free_port()}"
        data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        data["server"]["allowed_origins"] = [self.caller_origin]
        config_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        from kiosk.config import load_config
        cfg = load_config(config_path)
        self.config = cfg
        self.base_url = f"http://127.0.0.1:{cfg.server.port}"
        me = [sys.executable, str(Path(__file__).resolve())]
        env = dict(os.environ)
        env.pop("DISPLAY", None)
        self.services = Child("services", me + ["--child", SERVICES_ROLE, "--config", str(config_path)],
                              env, self.tmp / "services.log")
        self.meter.add_self()
        self.progress("starting dispatch + simulated interpreter (own process)")
        await self.services.start(90)
        self.meter.add_pid("services", self.services.pid)

        self._xvfb_log = open(self.tmp / "xvfb.log", "ab")
        self.xvfb, self.display = start_xvfb(args.screen_w, args.screen_h, self._xvfb_log)
        self.meter.add_pid("Xvfb", self.xvfb.pid)
        kenv = dict(env, DISPLAY=self.display, QT_QPA_PLATFORM="xcb", QSG_INFO="1",
                    XDG_RUNTIME_DIR=str(self.tmp / "xdg"))
        (self.tmp / "xdg").mkdir(mode=0o700, exist_ok=True)
        self.kiosk = Child("kiosk", me + ["--child", KIOSK_ROLE, "--config", str(config_path)]
                           + (["--no-refcount-guard"] if args.no_refcount_guard else []),
                           kenv, self.tmp / "kiosk.log")
        self.progress(f"starting the kiosk window on Xvfb {self.display} "
                      f"({args.screen_w}x{args.screen_h})")
        self.kiosk_hello = await self.kiosk.start(60)
        self.meter.add_pid("kiosk", self.kiosk.pid)
        await until(lambda: self._kiosk_ready(), 30, "the kiosk online on its Welcome screen")
        await until(self._sim_available, 30, "the simulated interpreter available")

    async def start_browsers(self) -> None:
        from playwright.async_api import async_playwright
        args = self.args
        launch_args = CHROMIUM_ARGS + [f"--use-fake-device-for-media-stream=fps={args.fps}"]
        self.pw = await asyncio.wait_for(async_playwright().start(), 30)
        before = chromium_roots()
        self.console_browser = await asyncio.wait_for(self.pw.chromium.launch(
            executable_path=args.chromium, headless=True, args=launch_args), 60)
        console_root = chromium_roots() - before
        self.caller_browser = await asyncio.wait_for(self.pw.chromium.launch(
            executable_path=args.chromium, headless=True, args=launch_args), 60)
        caller_root = chromium_roots() - before - console_root
        if len(console_root) != 1 or len(caller_root) != 1:
            raise RuntimeError(f"could not tell the two Chromiums apart ({console_root}, {caller_root})")
        self.meter.add_tree("console browser", console_root.pop())
        self.meter.add_tree("caller browser", caller_root.pop())
        self.browser_version = self.console_browser.version

        ctx = await self.console_browser.new_context(viewport={"width": 1280, "height": 800},
                                                     locale="zh-CN")
        await ctx.add_init_script(BENCH_JS)
        self.console = await ctx.new_page()
        self.console.set_default_timeout(20_000)
        await self.console.goto(self.base_url + "/")
        await self.console.fill("#login-id", CONSOLE_ID)
        await self.console.fill("#login-password", CONSOLE_PASSWORD)
        await self.console.click("#login-submit")
        await self.console.locator("#desk-panel").wait_for(state="visible", timeout=30_000)
        await until(lambda: self.console.evaluate(
            "() => document.getElementById('link-status').dataset.phase === 'up'"), 20,
            "the console's link to dispatch")

        from aiohttp import web
        html = CALLER_HTML % (BENCH_JS, CALLER_JS)

        async def page(_request):
            return web.Response(text=html, content_type="text/html")
        app = web.Application()
        app.router.add_get("/", page)
        self._caller_site = web.AppRunner(app, access_log=None)
        await self._caller_site.setup()
        port = int(self.caller_origin.rsplit(":", 1)[1])
        await web.TCPSite(self._caller_site, "127.0.0.1", port).start()
        ctx2 = await self.caller_browser.new_context(
            viewport={"width": args.screen_w, "height": args.screen_h})
        self.caller = await ctx2.new_page()
        self.caller.set_default_timeout(20_000)
        await self.caller.goto(self.caller_origin + "/")
        ws_url = self.base_url.replace("http://", "ws://") + "/ws"
        await self.caller.evaluate("a => caller.connect(a[0], a[1], a[2], a[3])",
                                   [ws_url, BROWSER_KIOSK[0], BROWSER_KIOSK[1], BROWSER_KIOSK[2]])
        await self.caller.evaluate("() => __bench.startLag()")

    async def stop(self) -> None:
        for browser in (self.caller_browser, self.console_browser):
            if browser is not None:
                try:
                    await asyncio.wait_for(browser.close(), 20)
                except Exception:  # noqa: BLE001
                    log.warning("a browser did not close cleanly", exc_info=True)
        if self.pw is not None:
            try:
                await asyncio.wait_for(self.pw.stop(), 20)
            except Exception:  # noqa: BLE001
                log.warning("playwright did not stop cleanly", exc_info=True)
        if getattr(self, "_caller_site", None) is not None:
            await self._caller_site.cleanup()
        if self.kiosk is not None:
            await self.kiosk.stop(25)
        if self.services is not None:
            await self.services.stop(25)
        if self.xvfb is not None and self.xvfb.poll() is None:
            self.xvfb.terminate()
            try:
                self.xvfb.wait(10)
            except subprocess.TimeoutExpired:
                self.xvfb.kill()
                self.xvfb.wait(5)
        if getattr(self, "_xvfb_log", None):
            self._xvfb_log.close()

    async def wait_quiet(self, timeout: float) -> Optional[float]:
        """Wait (up to ``timeout`` s) for a second in which processes outside the bench use
        less than QUIET_CORES; returns the last figure."""
        deadline = time.monotonic() + timeout
        while True:
            s0 = self.meter.sample()
            await asyncio.sleep(1.0)
            foreign = foreign_cores(Meter.cores(s0, self.meter.sample()))
            if foreign is None or foreign < QUIET_CORES or time.monotonic() > deadline:
                return foreign

    # -- states ------------------------------------------------------------------------------

    async def kiosk_state(self) -> dict:
        return await self.kiosk.request("state")

    async def _kiosk_ready(self) -> bool:
        st = await self.kiosk_state()
        return st["online"] and st["screen"] == "welcome" and st["state"] in ("idle", "ended")

    async def interpreter_state(self, who: str) -> Optional[str]:
        return (await self.services.request("health"))["states"].get(who)

    async def _sim_available(self) -> bool:
        return await self.interpreter_state(SIM_ID) == "available"

    async def wait_interpreter(self, who: str, state: str = "available", timeout: float = 20) -> None:
        async def check():
            return await self.interpreter_state(who) == state
        await until(check, timeout, f"{who} {state}")

    async def set_sim(self, state: str) -> None:
        await self.services.request("presence", state=state)
        await self.wait_interpreter(SIM_ID, state)

    async def set_console(self, state: str, stamped: Optional[bool] = None) -> None:
        page = self.console
        if stamped is not None and stamped != self.console_stamped:
            # the camera restarts with (or without) the stamp pipe: away stops it, available
            # starts it again through the wrapped getUserMedia
            await page.click("#presence-away")
            await self.wait_interpreter(CONSOLE_ID, "away")
            await until(lambda: page.evaluate("() => consoleDebug.state.media.phase === 'idle'"), 10,
                        "the console's camera off")
            await page.evaluate(f"() => {{ __bench.stampWanted = {str(stamped).lower()}; }}")
            self.console_stamped = stamped
        await page.click(f"#presence-{state}")
        await self.wait_interpreter(CONSOLE_ID, state)
        if state == "available":
            await until(lambda: page.evaluate("() => consoleDebug.state.media.phase === 'on'"), 15,
                        "the console's camera on")

    async def kiosk_to_welcome(self, timeout: float = 20) -> dict:
        """End whatever call the kiosk is in and bring it back to Welcome; returns the call's
        GUI-stall summary (from the tap to now)."""
        st = await self.kiosk_state()
        if st["screen"] == "call":
            await self.kiosk.request("hang_up")
        elif st["screen"] == "connecting":
            await self.kiosk.request("cancel")

        async def settled():
            s = await self.kiosk_state()
            if s["screen"] == "rating":
                await self.kiosk.request("skip_rating")
            elif s["screen"] == "notice":
                await self.kiosk.request("dismiss_notice")
            return s["screen"] == "welcome" and s["state"] in ("idle", "ended")
        await until(settled, timeout, "the kiosk back on Welcome")
        return await self.kiosk.request("call_done")

    # -- one kiosk call up to its first frame on screen ------------------------------------------

    async def kiosk_call_up(self, partner: str, need_frame: bool = True) -> dict:
        """Tap on the kiosk; the partner (sim or console) accepts; wait for the first remote
        frame shown on the kiosk's screen. Returns the kiosk's call info plus accept time."""
        await until(self._kiosk_ready, 20, "the kiosk ready for a call")
        who = SIM_ID if partner == "sim" else CONSOLE_ID
        await self.wait_interpreter(who)
        if partner == "console":
            await self.console.evaluate("() => { __bench.acceptAt = null; }")
        await self.kiosk.request("start_call")
        if partner == "console":
            await self.console.locator("#accept").click(timeout=15_000)

        async def shown():
            info = await self.kiosk.request("call_info")
            if info["state"] == "ended":
                raise RuntimeError(f"the call ended before a frame was shown ({info})")
            if not need_frame:  # the other side sends no video: connected is as far as it gets
                return info if info["state"] == "connected" else None
            return info if info["first_shown"] else None
        info = await until(shown, self.args.setup_timeout, "the first remote frame on the kiosk's screen",
                           interval=0.03)
        if partner == "sim":
            info["accept"] = await self.services.request("accept_time", session_id=info["session_id"])
        else:
            clicked = await self.console.evaluate("() => __bench.acceptAt")
            info["accept"] = clicked / 1000 if clicked is not None else None
        if need_frame and info.get("first_glass") is None:
            await asyncio.sleep(0.2)
            info["first_glass"] = (await self.kiosk.request("call_info"))["first_glass"]
        return info

    async def browser_call_up(self, stamped: bool) -> dict:
        await self.wait_interpreter(CONSOLE_ID)
        await self.console.evaluate("() => { __bench.acceptAt = null; }")
        await self.caller.evaluate("o => caller.call(o)", {
            "w": self.args.width, "h": self.args.height, "fps": self.args.fps, "stamped": stamped,
            "keepResolution": True})
        await self.console.locator("#accept").click(timeout=15_000)

        async def shown():
            info = await self.caller.evaluate("() => caller.info()")
            if info["error"] or info.get("endReason"):
                raise RuntimeError(f"the Chromium caller's call failed: {info}")
            return info if info["t"].get("firstShown") and info["t"].get("firstDecoded") else None
        info = await until(shown, self.args.setup_timeout, "the first frame in the caller page",
                           interval=0.03)
        info["accept"] = await self.console.evaluate("() => __bench.acceptAt")
        return info

    async def browser_hang_up(self) -> None:
        await self.caller.evaluate("() => caller.hangup()")
        await self.wait_interpreter(CONSOLE_ID, "available", 20)


# -- phases ----------------------------------------------------------------------------------


async def phase_idle(rig: Rig) -> dict:
    args = rig.args
    await asyncio.sleep(2)  # let start-up settle
    await rig.wait_quiet(rig.args.quiet_wait)
    kpid = rig.kiosk.pid
    rss = []
    await rig.kiosk.request("window_start")
    c0 = rig.meter.sample()
    end = time.monotonic() + args.idle_seconds
    while time.monotonic() < end:
        rss.append(rig.meter.rss(kpid))
        await asyncio.sleep(min(1.0, max(0.0, end - time.monotonic())))
    c1 = rig.meter.sample()
    win = await rig.kiosk.request("window_end", timeout=30)
    uss, pss = rig.meter.uss_pss(kpid)
    rss = [r for r in rss if r]
    cores = Meter.cores(c0, c1)
    return {"seconds": c1["_mono"] - c0["_mono"], "cores": cores, "foreign": foreign_cores(cores),
            "rss_mean": statistics.mean(rss) if rss else None, "rss_max": max(rss) if rss else None,
            "uss": uss, "pss": pss, "xvfb_rss": rig.meter.rss(rig.xvfb.pid),
            "services_rss": rig.meter.rss(rig.services.pid),
            "stalls": win["stalls"], "threads": win["threads"],
            "true_refs_lost_per_s": win["true_refs_lost_per_s"], "true_refs_lost": win["true_refs_lost"],
            "render_swaps": win["fps"]["render_swaps"]}


async def phase_kiosk_connect(rig: Rig, partner: str) -> list[dict]:
    out = []
    for n in range(rig.args.calls):
        rig.progress(f"connect time: kiosk ↔ {partner}, call {n + 1}/{rig.args.calls}")
        row: dict[str, Any] = {}
        try:
            info = await rig.kiosk_call_up(partner)
            await asyncio.sleep(CONNECT_HOLD_S)
            a = info["accept"]
            row = {
                "accepted": ms_between(a, info["answered_at"]),
                "connected": ms_between(a, info["connected_at"]),
                "decoded": ms_between(a, info["first_video_at"]),
                "shown": ms_between(a, info["first_shown"]),
                "glass": ms_between(a, info["first_glass"]),
                "codec": info.get("codec"),
            }
        except Exception as exc:  # noqa: BLE001
            row["error"] = f"{type(exc).__name__}: {exc}"
            log.error("kiosk ↔ %s connect call failed: %s", partner, row["error"])
        try:
            row["stalls"] = await rig.kiosk_to_welcome()
        except Exception as exc:  # noqa: BLE001
            row.setdefault("error", f"could not end the call: {exc}")
        out.append(row)
    return out


async def phase_browser_connect(rig: Rig) -> list[dict]:
    out = []
    for n in range(rig.args.calls):
        rig.progress(f"connect time: Chromium caller ↔ console, call {n + 1}/{rig.args.calls}")
        row: dict[str, Any] = {}
        try:
            info = await rig.browser_call_up(stamped=False)
            await asyncio.sleep(CONNECT_HOLD_S)
            t, a = info["t"], info["accept"]

            def d(key):
                return t[key] - a if t.get(key) is not None and a is not None else None
            row = {"accepted": d("accepted"), "connected": d("connected"), "decoded": d("firstDecoded"),
                   "shown": d("firstShown"), "glass": d("firstExpected")}
        except Exception as exc:  # noqa: BLE001
            row["error"] = f"{type(exc).__name__}: {exc}"
            log.error("Chromium connect call failed: %s", row["error"])
        try:
            await rig.browser_hang_up()
        except Exception as exc:  # noqa: BLE001
            row.setdefault("error", f"could not end the call: {exc}")
        out.append(row)
    return out


QUIET_SECOND_CORES = 0.2


def quiet_seconds(k: dict, seconds_log: list) -> dict:
    """The kiosk's figures over the seconds of the window in which processes outside the bench
    used less than QUIET_SECOND_CORES (the machine is shared)."""
    wall0, shown = k.get("wall0"), k.get("shown_per_s") or []
    if wall0 is None or not shown:
        return {}
    quiet_bins, kiosk_cores = [], []
    for mid, cores in seconds_log:
        i = int(mid - wall0)
        foreign = foreign_cores(cores)
        if 0 <= i < len(shown) and foreign is not None and foreign < QUIET_SECOND_CORES:
            quiet_bins.append(i)
            if cores.get("kiosk") is not None:
                kiosk_cores.append(cores["kiosk"])
    bins = sorted(set(quiet_bins))
    if not bins:
        return {"seconds": 0, "of": len(shown)}
    q = [row for row in k.get("quality") or [] if int(row[0] - wall0) in bins]
    return {"seconds": len(bins), "of": len(shown),
            "shown_fps": statistics.mean(shown[i] for i in bins),
            "kiosk_cores": statistics.mean(kiosk_cores) if kiosk_cores else None,
            "fps_in": statistics.mean(r[1] for r in q) if q else None,
            "fps_out": statistics.mean(r[2] for r in q) if q else None}


def presented_fps(d: dict, window: float) -> Optional[float]:
    """Frames the compositor presented from a <video> (requestVideoFrameCallback's
    presentedFrames, which also counts frames presented between two callbacks)."""
    if not window or d.get("pfFirst") is None or d.get("pfLast") is None:
        return None
    return (d["pfLast"] - d["pfFirst"]) / window


def page_figures(s0: dict, s1: dict, window: float) -> dict:
    """Rates from two of the bench page's videoStats snapshots."""
    def rate(part, key):
        a, b = (s0.get(part) or {}).get(key), (s1.get(part) or {}).get(key)
        return (b - a) / window if a is not None and b is not None else None
    inbound, outbound = s1.get("inbound") or {}, s1.get("outbound") or {}
    dec_time = rate("inbound", "totalDecodeTime")
    dec_fps = rate("inbound", "framesDecoded")
    enc_time = rate("outbound", "totalEncodeTime")
    enc_fps = rate("outbound", "framesEncoded")
    return {
        "received_fps": dec_fps, "sent_fps": enc_fps, "captured_fps": rate("source", "frames"),
        "received_size": f"{inbound.get('frameWidth')}x{inbound.get('frameHeight')}",
        "sent_size": f"{outbound.get('frameWidth')}x{outbound.get('frameHeight')}",
        "limited_by": outbound.get("qualityLimitationReason"),
        "encoder": outbound.get("encoderImplementation"), "decoder": inbound.get("decoderImplementation"),
        "decode_ms": dec_time / dec_fps * 1000 if dec_time and dec_fps else None,
        "encode_ms": enc_time / enc_fps * 1000 if enc_time and enc_fps else None,
        "codec": (s1.get("codec") or "?").replace("video/", ""),
        "kbps": rate("outbound", "bytesSent") * 8 / 1000 if rate("outbound", "bytesSent") else None,
    }


async def phase_kiosk_sustained(rig: Rig, partner: str, seconds: float, *, label: str,
                                recv_only: bool = False, send_only: bool = False,
                                policy_off: bool = False) -> dict:
    args = rig.args
    rig.progress(f"{label}: {seconds:g} s")
    result: dict[str, Any] = {"label": label, "partner": partner, "recv_only": recv_only,
                              "send_only": send_only, "policy_off": policy_off}
    await rig.kiosk.request("set_variant", recv_only=recv_only, policy_off=policy_off)
    if partner == "sim":
        await rig.services.request("no_video", on=send_only)
    result["quiet_before"] = await rig.wait_quiet(args.quiet_wait)
    try:
        info = await rig.kiosk_call_up(partner, need_frame=not send_only)
        result["codec"] = info.get("codec")
        stamped_console = partner == "console" and rig.console_stamped
        if partner == "console":
            await rig.console.evaluate("() => __bench.keepResolution(consoleDebug.pc)")
            await rig.console.evaluate(
                """o => { const pc = consoleDebug.pc;
                   const r = pc.getReceivers().find(r => r.track && r.track.kind === 'video');
                   if (o.stamped) __bench.readTrack(r.track, o.w, 'kiosk → console');
                   __bench.watchVideo(document.getElementById('remote-video'), o.w, 'kiosk → console', o.stamped); }""",
                {"w": args.width, "stamped": stamped_console})
        await asyncio.sleep(args.warmup)
        if partner == "sim":
            await rig.services.request("probe_start", ref_width=args.width)
        else:
            await rig.console.evaluate("() => __bench.measure(true)")
            p0 = await rig.console.evaluate("() => __bench.videoStats(consoleDebug.pc)")
        await rig.kiosk.request("window_start")
        c0 = rig.meter.sample()
        rss, seconds_log = [], []  # seconds_log: (wall at the end of the second, Meter.cores)
        prev, prev_wall = c0, time.time()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rss.append(rig.meter.rss(rig.kiosk.pid))
            await asyncio.sleep(min(1.0, max(0.0, end - time.monotonic())))
            cur, cur_wall = rig.meter.sample(), time.time()
            if cur["_mono"] - prev["_mono"] > 0.5:
                seconds_log.append(((prev_wall + cur_wall) / 2, Meter.cores(prev, cur)))
                prev, prev_wall = cur, cur_wall
        c1 = rig.meter.sample()
        result["kiosk"] = await rig.kiosk.request("window_end", timeout=30)
        result["cores"] = Meter.cores(c0, c1)
        result["foreign"] = foreign_cores(result["cores"])
        result["quiet"] = quiet_seconds(result["kiosk"], seconds_log)
        result["rss_max"] = max([r for r in rss if r] or [0]) or None
        if partner == "sim":
            result["peer"] = await rig.services.request("probe_stop")
        else:
            p1 = await rig.console.evaluate("() => __bench.videoStats(consoleDebug.pc)")
            await rig.console.evaluate("() => __bench.measure(false)")
            res = await rig.console.evaluate("() => __bench.results()")
            window = (p1["t"] - p0["t"]) / 1000
            d = res["dirs"].get("kiosk → console", {})
            result["peer"] = {**page_figures(p0, p1, window), "seconds": window,
                              "presented_fps": presented_fps(d, window),
                              "stamped": stamped_console, "decoded_delays": d.get("delays", []),
                              "shown_delays": d.get("shownDelays", []),
                              "expected_delays": d.get("expectedDelays", []),
                              "unreadable": d.get("unreadable", {}),
                              "unreadable_shown": d.get("unreadableShown", {}),
                              "frames": d.get("frames", 0), "sizes": d.get("sizes", {})}
            await rig.console.evaluate("() => __bench.stopReaders()")
    except Exception as exc:  # noqa: BLE001
        result["error"] = f"{type(exc).__name__}: {exc}"
        log.error("%s failed: %s", label, result["error"])
        if partner == "sim":
            try:
                await rig.services.request("probe_stop")
            except Exception:  # noqa: BLE001
                pass
    finally:
        try:
            result["call_stalls"] = await rig.kiosk_to_welcome()
        except Exception as exc:  # noqa: BLE001
            result.setdefault("error", f"could not end the call: {exc}")
        await rig.kiosk.request("set_variant", recv_only=False, policy_off=False)
        if partner == "sim":
            await rig.services.request("no_video", on=False)
    return result


async def phase_browser_sustained(rig: Rig, seconds: float, *, stamped: bool, label: str) -> dict:
    args = rig.args
    rig.progress(f"{label}: {seconds:g} s")
    result: dict[str, Any] = {"label": label, "stamped": stamped}
    result["quiet_before"] = await rig.wait_quiet(args.quiet_wait)
    try:
        await rig.browser_call_up(stamped=stamped)
        await rig.console.evaluate("() => __bench.keepResolution(consoleDebug.pc)")
        await rig.console.evaluate(
            """o => { const pc = consoleDebug.pc;
               const r = pc.getReceivers().find(r => r.track && r.track.kind === 'video');
               if (o.stamped) __bench.readTrack(r.track, o.w, 'caller → console');
               __bench.watchVideo(document.getElementById('remote-video'), o.w, 'caller → console', o.stamped); }""",
            {"w": args.width, "stamped": stamped})
        await rig.caller.evaluate(
            """o => { if (o.stamped) __bench.readTrack(caller.remoteVideo, o.w, 'console → caller');
               __bench.watchVideo(document.getElementById('remote'), o.w, 'console → caller', o.stamped); }""",
            {"w": args.width, "stamped": stamped})
        await asyncio.sleep(args.warmup)
        for page in (rig.console, rig.caller):
            await page.evaluate("() => __bench.measure(true)")
        k0 = await rig.caller.evaluate("() => __bench.videoStats(caller.pc)")
        i0 = await rig.console.evaluate("() => __bench.videoStats(consoleDebug.pc)")
        c0 = rig.meter.sample()
        await asyncio.sleep(seconds)
        c1 = rig.meter.sample()
        k1 = await rig.caller.evaluate("() => __bench.videoStats(caller.pc)")
        i1 = await rig.console.evaluate("() => __bench.videoStats(consoleDebug.pc)")
        for page in (rig.console, rig.caller):
            await page.evaluate("() => __bench.measure(false)")
        kres = await rig.caller.evaluate("() => __bench.results()")
        ires = await rig.console.evaluate("() => __bench.results()")
        result["cores"] = Meter.cores(c0, c1)
        result["foreign"] = foreign_cores(result["cores"])
        kw, iw = (k1["t"] - k0["t"]) / 1000, (i1["t"] - i0["t"]) / 1000

        def side(figs, res, name, window):
            d = res["dirs"].get(name, {})
            return {**figs, "seconds": window, "presented_fps": presented_fps(d, window),
                    "decoded_delays": d.get("delays", []), "shown_delays": d.get("shownDelays", []),
                    "expected_delays": d.get("expectedDelays", []), "unreadable": d.get("unreadable", {}),
                    "unreadable_shown": d.get("unreadableShown", {}), "frames": d.get("frames", 0)}
        result["caller"] = side(page_figures(k0, k1, kw), kres, "console → caller", kw)
        result["caller"]["stalls"] = stall_summary_from_lateness(kres.get("lag") or [])
        result["console"] = side(page_figures(i0, i1, iw), ires, "caller → console", iw)
        for page in (rig.console, rig.caller):
            await page.evaluate("() => __bench.stopReaders()")
    except Exception as exc:  # noqa: BLE001
        result["error"] = f"{type(exc).__name__}: {exc}"
        log.error("%s failed: %s", label, result["error"])
    finally:
        try:
            await rig.browser_hang_up()
        except Exception as exc:  # noqa: BLE001
            result.setdefault("error", f"could not end the call: {exc}")
    return result


def stall_summary_from_lateness(late: list[float]) -> dict:
    if not late:
        return {"ticks": 0, "max": None, "p99": None, "p50": None, "over_50": 0}
    arr = np.asarray(late)
    return {"ticks": len(late), "max": float(arr.max()), "p99": float(np.percentile(arr, 99)),
            "p50": float(np.percentile(arr, 50)), "over_50": int((arr > STALL_TARGET_MS).sum())}


def remaining_plan(args) -> float:
    """Rough length of what follows the main sustained call."""
    call = 4.0 + min(args.quiet_wait, 3)
    return (2 * (args.variant_seconds + args.warmup + call) + 2 * args.calls * call
            + 2 * (args.seconds + args.warmup + call) + args.stamped_seconds + args.warmup + call + 20)


def expected_seconds(args) -> float:
    """Rough length of a run at these settings, for the time budget."""
    call = 4.0
    return (25 + args.idle_seconds + 12 + 3 * args.calls * call
            + 3 * (args.seconds + args.warmup + call)
            + 2 * (args.variant_seconds + args.warmup + call)
            + (args.stamped_seconds + args.warmup + call) + 15)


async def all_phases(rig: Rig, results: dict, left: Callable[[], float],
                     progress: Callable[[str], None]) -> None:
    args = rig.args
    await rig.start_processes()
    results["kiosk_hello"] = rig.kiosk_hello
    progress(f"idle kiosk on Welcome: {args.idle_seconds:g} s")
    results["idle"] = await phase_idle(rig)

    progress("starting two Chromiums (console, caller page)")
    await rig.start_browsers()
    results["browser"] = rig.browser_version
    await rig.set_console("away")

    # kiosk ↔ simulated interpreter
    s0 = rig.meter.sample()
    results["connect_sim"] = await phase_kiosk_connect(rig, "sim")
    results["connect_sim_foreign"] = foreign_cores(Meter.cores(s0, rig.meter.sample()))
    results["sustained_sim"] = await phase_kiosk_sustained(
        rig, "sim", args.seconds, label="sustained: kiosk ↔ simulated interpreter")
    first = results["sustained_sim"]
    if (first.get("foreign") or 0) > DISTURBED_CORES:
        if left() > args.seconds + remaining_plan(args) + 30:
            progress(f"other processes used {first['foreign']:.2f} cores during that window: "
                     "measuring it again")
            again = await phase_kiosk_sustained(
                rig, "sim", args.seconds, label="sustained: kiosk ↔ simulated interpreter")
            if again.get("kiosk") and (again.get("foreign") or 0) < first["foreign"]:
                again["discarded"] = [first["foreign"]]
                results["sustained_sim"] = again
            else:
                first["discarded"] = [again.get("foreign")]
                first["kept_first"] = True
        else:
            results["skipped"].append("a repeat of the disturbed kiosk ↔ simulated interpreter "
                                      "window (time budget)")
    if not args.no_variants:
        for key, label, kw in (
                ("send_only", "variant: kiosk sends only", {"send_only": True}),
                ("recv_only", "variant: kiosk receives only", {"recv_only": True})):
            if left() < args.variant_seconds + 3 * args.seconds + 90:
                results["skipped"].append(f"{label} (time budget)")
                continue
            results[key] = await phase_kiosk_sustained(rig, "sim", args.variant_seconds,
                                                       label=label, **kw)
    scales = [q[3] for q in (results["sustained_sim"].get("kiosk") or {}).get("quality", [])]
    lowered = bool(scales) and min(scales) < 1.0
    if args.policy_off == "always" or (args.policy_off == "auto" and lowered):
        if left() > args.variant_seconds + 3 * args.seconds + 60:
            results["policy_off"] = await phase_kiosk_sustained(
                rig, "sim", args.variant_seconds, label="variant: ResolutionPolicy off",
                policy_off=True)
        else:
            results["skipped"].append("policy-off variant (time budget)")

    # the console in Chromium
    await rig.set_sim("away")
    await rig.set_console("available", stamped=False)
    s0 = rig.meter.sample()
    results["connect_console"] = await phase_kiosk_connect(rig, "console")
    s1 = rig.meter.sample()
    results["connect_browser"] = await phase_browser_connect(rig)
    results["connect_console_foreign"] = foreign_cores(Meter.cores(s0, s1))
    results["connect_browser_foreign"] = foreign_cores(Meter.cores(s1, rig.meter.sample()))
    results["sustained_browser"] = await phase_browser_sustained(
        rig, args.seconds, stamped=False, label="sustained: Chromium caller ↔ console")
    await rig.set_console("available", stamped=True)
    if left() > args.stamped_seconds + args.seconds + 60:
        results["stamped_browser"] = await phase_browser_sustained(
            rig, args.stamped_seconds, stamped=True,
            label="glass-to-glass: Chromium caller ↔ console, stamped")
    else:
        results["skipped"].append("stamped Chromium call (time budget)")
    if left() > args.seconds + 40:
        results["sustained_console"] = await phase_kiosk_sustained(
            rig, "console", args.seconds, label="sustained: kiosk ↔ console (stamped)")
    else:
        results["skipped"].append("kiosk ↔ console sustained call (time budget)")


async def run(args, progress: Callable[[str], None]) -> dict:
    started = time.monotonic()
    progress(f"expected length at these settings: about {expected_seconds(args) / 60:.1f} min")
    results: dict[str, Any] = {
        "args": args, "facts": cl.machine_facts(), "command": reproduce_command(args),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "errors": [],
        "skipped": [],
    }
    budget_end = started + args.max_minutes * 60

    def left() -> float:
        return budget_end - time.monotonic()

    with tempfile.TemporaryDirectory(prefix="kiosk-vs-browser-") as tmp_name:
        tmp = Path(tmp_name)
        rig = Rig(args, tmp, progress)
        try:
            try:
                await asyncio.wait_for(all_phases(rig, results, left, progress), max(60.0, left() - 45))
            except asyncio.TimeoutError:
                results["errors"].append(f"the time budget (--max-minutes {args.max_minutes:g}) ran out; "
                                         "the phases not reached are missing")
        except Exception as exc:  # noqa: BLE001 - whatever was measured is still written
            results["errors"].append(f"{type(exc).__name__}: {exc}")
            log.exception("the run stopped early")
        finally:
            progress("stopping browsers, kiosk, services and Xvfb")
            await rig.stop()
            results["kiosk_log"] = _read_log(tmp / "kiosk.log")
            results["services_log"] = _read_log(tmp / "services.log")
    results["elapsed_s"] = time.monotonic() - started
    return results


def _read_log(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


# ==============================================================================================
# The report
# ==============================================================================================


def gl_facts(kiosk_log: str) -> dict:
    facts = {}
    for line in kiosk_log.splitlines():
        if "RENDERER:" in line and "renderer" not in facts:
            facts["renderer"] = line.split("RENDERER:", 1)[1].split("VERSION:")[0].strip()
        if "render loop" in line and "loop" not in facts:
            facts["loop"] = line.split(":", 1)[1].strip() if ":" in line else line.strip()
    return facts


def log_problems(text: str) -> Counter:
    """WARNING/ERROR lines in a child's log, by logger (our log format)."""
    out: Counter = Counter()
    for line in text.splitlines():
        parts = line.split(" ", 4)
        if len(parts) >= 4 and parts[2] in ("WARNING", "ERROR", "CRITICAL"):
            out[f"{parts[2]} {parts[3].rstrip(':')}"] += 1
    return out


def quiet_text(r: dict) -> str:
    q = r.get("quiet") or {}
    if not q:
        return "–"
    if not q.get("seconds"):
        return f"none of {q.get('of')} s"
    return (f"{q['seconds']} of {q['of']} s: shown {fmt(q.get('shown_fps'), 1)} fps, kiosk process "
            f"{fmt(q.get('kiosk_cores'), 2)} cores")


def ms_cell(values: list, n_ok: int) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.0f}"
    return f"{statistics.median(values):.0f} ({min(values):.0f}–{max(values):.0f})"


def cores_cell(v: Optional[float]) -> str:
    return "–" if v is None else f"{v:.2f} ({v / (os.cpu_count() or 1) * 100:.0f} %)"


def dist_cell(values: list) -> str:
    if not values:
        return "–"
    return f"{pct(values, 50):.0f} / {pct(values, 95):.0f} / {max(values):.0f}"


def unread_cell(frames: int, unreadable: dict) -> str:
    n = sum((unreadable or {}).values())
    text = f"{n} of {frames}"
    if n:
        text += " (" + ", ".join(f"{v} {k}" for k, v in Counter(unreadable).most_common()) + ")"
    return text


def sizes_text(sizes: dict) -> str:
    if not sizes:
        return "–"
    total = sum(sizes.values())
    items = Counter(sizes).most_common()
    if len(items) == 1:
        return items[0][0]
    return ", ".join(f"{s} ({n / total * 100:.0f} %)" for s, n in items[:3])


def scale_text(quality: list) -> str:
    scales = [q[3] for q in quality]
    if not scales:
        return "no samples"
    c = Counter(scales)
    if len(c) == 1:
        return f"{scales[0]:g} throughout"
    return ", ".join(f"{s:g} for {n} s" for s, n in sorted(c.items(), reverse=True))


def render(results: dict) -> str:
    args, facts = results["args"], results["facts"]
    kh = results.get("kiosk_hello") or {}
    gl = gl_facts(results.get("kiosk_log", ""))
    ncpu = os.cpu_count() or 1
    L: list[str] = [SECTION_START, "## Kiosk against the browser (`bench/kiosk_vs_browser.py`)", ""]
    L += [
        f"Measured {results['date']} on this machine: **{facts['nproc']} CPUs**, {facts['cpu_model']}, "
        f"{facts['memory']} RAM, Linux {facts['kernel']}, no GPU. Python {facts['python']}, "
        f"aiortc {facts['aiortc']}, av {facts['av']}, PySide6 {facts['PySide6']}, "
        f"Chromium {results.get('browser') or 'not run'}.",
        "",
        f"Reproduce (from the repository root; this run took {results['elapsed_s'] / 60:.1f} min):",
        "",
        "```sh",
        results["command"],
        "```",
        "",
        "### Set-up",
        "",
        f"- **Kiosk**: the real Qt Quick window (`KioskApp`), alone in its process, full screen on an "
        f"X server of its own (Xvfb, {kh.get('screen', '?')}, window {kh.get('width', '?')}x"
        f"{kh.get('height', '?')}), `QT_QPA_PLATFORM=xcb`; Qt Quick renders through "
        f"{kh.get('graphics_api', '?')} on **{gl.get('renderer', 'an unknown renderer')}** (software "
        f"OpenGL: the machine has no GPU), {gl.get('loop', 'render loop not logged')}. Synthetic "
        f"camera and tone as in `config.yaml`, {args.width}x{args.height} @ {args.fps} fps. The bench "
        "taps *call* through the view-model (`vm.startCall()`), hangs up with `vm.hangUp()`.",
        "- **Dispatch + simulated interpreter**: `EmbeddedServices` in a second process (real dispatch, "
        f"one aiortc `SimulatedInterpreter` sending {args.width}x{args.height} @ {args.fps} fps, "
        "answering at once), wrap-up 0 s, host ICE candidates only.",
        "- **Chromium**: two headless browsers (`--headless=new --disable-gpu`, fake camera "
        f"`--use-fake-device-for-media-stream=fps={args.fps}`, asked for {args.width}x{args.height} @ "
        f"{args.fps}): one with the real interpreter console (`/`), logged in as "
        f"`{CONSOLE_ID}`, accepting by clicking *接听 Accept*; one with a caller page written in the "
        "bench that logs in to dispatch as a kiosk (its own kiosk account) and does what the kiosk "
        "does (camera at the tap, `call_request`, offer on `accepted`, trickled ICE, `hangup`); it is "
        "served by the bench from its own origin, which the bench config adds to dispatch's "
        "`allowed_origins`. Its "
        f"window {args.screen_w}x{args.screen_h} laid out like the kiosk's call screen (remote "
        "picture filling it, a self-view). Chromium ↔ Chromium therefore goes through the same "
        "dispatch and the same console code as kiosk ↔ console.",
        "- Only one interpreter is available at a time (the other set *away*), so each call goes "
        "where it should. CPU is per process from `/proc` (psutil: user + system time over the "
        "window / wall time; 1.00 = one core busy, "
        f"{ncpu}.00 = the whole machine); Chromium's figure is its whole process tree (browser, "
        "renderer, GPU/compositor, network, audio).",
        f"- Sustained calls: {args.warmup:g} s after the first frame, then a {args.seconds:g} s window. "
        "Chromium senders (console and caller page) are set to `degradationPreference: "
        "maintain-resolution` by the bench, so that both send 720p as the kiosk does rather than "
        "a scaled-down picture while their bandwidth estimate ramps up.",
        "",
    ]

    # ---- stability: PySide6's Signal.emit and True's reference count
    L += stability_lines(results)

    # ---- targets summary
    sim = results.get("sustained_sim") or {}
    ksim = sim.get("kiosk") or {}
    peer = sim.get("peer") or {}
    con = results.get("sustained_console") or {}
    kcon = con.get("kiosk") or {}
    cs, cc, cb = (results.get(k) or [] for k in ("connect_sim", "connect_console", "connect_browser"))
    shown_med = {name: med([r.get("shown") for r in rows if not r.get("error")])
                 for name, rows in (("sim", cs), ("console", cc), ("browser", cb))}
    L += ["### Targets", "", "| target | this run | verdict |", "|---|---|---|"]

    # 1. 720p ≥ 25 fps both ways
    for res, who, other in ((sim, "simulated interpreter", "interpreter"), (con, "console", "console")):
        k, p = res.get("kiosk") or {}, res.get("peer") or {}
        fps = k.get("fps") or {}
        if not fps:
            if res:
                L.append(f"| 720p at ≥ 25 fps sustained both ways (kiosk ↔ {who}) | not measured: "
                         f"{res.get('error')} | – |")
            continue
        scales = [q[3] for q in k.get("quality", [])]
        sizes = p.get("sizes") or ({p["received_size"]: 1} if p.get("received_size") else {})
        sent_size = sizes_text(sizes)
        in_size = sizes_text(k.get("sizes") or {})
        checks = {"kiosk sends (encoded)": fps.get("sent"), f"{other} receives (decoded)": p.get("received_fps"),
                  "kiosk receives (decoded)": fps.get("received"), "kiosk shows (into the sink)": fps.get("shown")}
        worst_name, worst = min(((n, v) for n, v in checks.items() if v is not None),
                                key=lambda kv: kv[1], default=(None, None))
        full = bool(scales) and min(scales) >= 1.0 and sent_size == f"{args.width}x{args.height}"
        shown_ps = k.get("shown_per_s") or []
        reasons = []
        if worst is not None and worst < 25:
            reasons.append(f"{worst_name} {worst:.1f} fps, {25 - worst:.1f} fps short")
        if not full:
            total = sum(sizes.values()) or 1
            small = 1 - sizes.get(f"{args.width}x{args.height}", 0) / total
            reasons.append(f"{small * 100:.0f} % of the frames the kiosk sent were smaller than "
                           f"{args.width}x{args.height} (ResolutionPolicy)")
        if in_size != f"{args.width}x{args.height}":
            reasons.append(f"the kiosk received {in_size}")
        verdict = "**met**" if not reasons else "**missed**: " + "; ".join(reasons)
        if not reasons and worst is not None:
            verdict += f" ({worst - 25:.1f} fps to spare)"
            if fps.get("rendered") is not None and fps["rendered"] < 25:
                verdict += (f", but of the frames shown only {fps['rendered']:.1f} per second were still "
                            "the newest when the render thread next drew (see section 2)")
        L.append(
            f"| 720p at ≥ 25 fps sustained both ways (kiosk ↔ {who}, {args.seconds:g} s) | "
            f"kiosk sends {fmt(fps.get('sent'), 1)} fps at {sent_size} (ResolutionPolicy scale "
            f"{scale_text(k.get('quality', []))}); {other} decodes {fmt(p.get('received_fps'), 1)}; kiosk "
            f"decodes {fmt(fps.get('received'), 1)} ({in_size}) and shows {fmt(fps.get('shown'), 1)} fps "
            f"(slowest second {min(shown_ps) if shown_ps else '–'}); in the seconds when other processes "
            f"left the machine alone ({quiet_text(res)}) | {verdict} |")
    # 2. connect time
    ref = shown_med.get("browser")
    for name, label in (("sim", "kiosk ↔ simulated interpreter"), ("console", "kiosk ↔ console")):
        v = shown_med.get(name)
        if v is None or ref is None:
            verdict = "not measured"
        elif v <= ref:
            verdict = f"**met** ({ref - v:.0f} ms faster)"
        else:
            verdict = f"**missed** by {v - ref:.0f} ms ({v / ref:.1f}×)"
        L.append(f"| connect time no slower than Chromium ↔ Chromium ({label}) | accept → first frame on "
                 f"screen, median of {args.calls}: {fmt(v)} ms vs Chromium ↔ Chromium {fmt(ref)} ms | {verdict} |")
    # 3. glass-to-glass
    g_sink, g_glass = ksim.get("g2g_sink") or [], ksim.get("g2g_glass") or []
    g_up = peer.get("delays") or []
    parts, ok = [], True
    for name, values, judged in (("interpreter → kiosk screen (handed to the sink)", g_sink, True),
                                 ("kiosk → interpreter (decoded)", g_up, True),
                                 ("interpreter → kiosk, after the buffer swap that shows it", g_glass, False)):
        if values:
            m = pct(values, 50)
            if judged:
                ok = ok and m <= 150
            parts.append(f"{name} {m:.0f} ms (p95 {pct(values, 95):.0f})")
        else:
            ok = ok and not judged
            parts.append(f"{name}: not measured")
    worst_g = max([pct(v, 50) for v in (g_sink, g_up) if v] or [0])
    glass_note = ""
    if g_glass and pct(g_glass, 50) > 150 >= worst_g:
        glass_note = f" (but {pct(g_glass, 50) - 150:.0f} ms over once the render pass is counted)"
    L.append(f"| glass-to-glass median ≤ 150 ms (kiosk ↔ simulated interpreter) | {'; '.join(parts)} | "
             + (f"**met**{glass_note}" if ok else f"**missed** by {worst_g - 150:.0f} ms" if worst_g > 150
                else "not measured") + " |")
    # 4. GUI stalls during calls
    call_stalls = []
    for key in ("sustained_sim", "sustained_console", "send_only", "recv_only", "policy_off"):
        r = results.get(key) or {}
        for s in ((r.get("kiosk") or {}).get("stalls"), r.get("call_stalls")):
            if s and s.get("max") is not None:
                call_stalls.append(s["max"])
    for rows in (cs, cc):
        for r in rows:
            s = r.get("stalls") or {}
            if s.get("max") is not None:
                call_stalls.append(s["max"])
    if call_stalls:
        worst = max(call_stalls)
        L.append(f"| GUI thread never blocked > {STALL_TARGET_MS:.0f} ms during a call | longest stall of the 5 ms "
                 f"probe timer over every kiosk call of the run (tap to back on Welcome): {worst:.0f} ms; "
                 f"in the sustained kiosk ↔ simulated interpreter window max "
                 f"{fmt((ksim.get('stalls') or {}).get('max'), 0)} ms, p99 "
                 f"{fmt((ksim.get('stalls') or {}).get('p99'), 1)} ms | "
                 + ("**met**" if worst <= STALL_TARGET_MS else f"**missed** by {worst - STALL_TARGET_MS:.0f} ms")
                 + " |")
    L.append("")

    # ---- 1. connect time
    L += ["### 1. Connect time (ms after the interpreter's accept; median (min–max) of "
          f"{args.calls} calls)", "",
          "| path | caller hears *accepted* | connected (ICE + DTLS) | first remote frame decoded | "
          "**first remote frame on screen** | … after the next buffer swap | calls ok | processes outside "
          "the bench meanwhile |",
          "|---|---|---|---|---|---|---|---|"]
    for name, rows, key in (("kiosk ↔ simulated interpreter (aiortc)", cs, "connect_sim"),
                            ("kiosk ↔ console (Chromium)", cc, "connect_console"),
                            ("Chromium caller page ↔ console (Chromium), reference", cb, "connect_browser")):
        good = [r for r in rows if not r.get("error")]
        cells = [ms_cell([r.get(k) for r in good], len(good)) for k in
                 ("accepted", "connected", "decoded", "shown", "glass")]
        cells[3] = f"**{cells[3]}**"
        L.append(f"| {name} | " + " | ".join(cells) + f" | {len(good)} of {len(rows)} | "
                 f"{cores_cell(results.get(key + '_foreign'))} |")
    L += [
        "",
        "- Clock: the wall clock, shared by every process. *Accept*: the simulated interpreter sends "
        "`accept`; in the console, the click on *Accept* (a capturing click listener in the page). "
        "*Accepted*: the caller (kiosk engine / caller page) gets dispatch's `accepted` and starts its "
        "offer. *Decoded*: the kiosk engine gets its first decoded frame (`counters.first_video_at`); "
        "the caller page: a MediaStreamTrackProcessor on the received track gets its first frame (on the "
        "page's main thread, so it can come a moment after the compositor already presented it).",
        "- **On screen** — kiosk: the GUI thread has handed the first remote frame to the QML "
        "`VideoOutput`'s sink (`bridge.remote.shown` turns 1; timed in a `LatestFrame._deliver` "
        "subclass). Chromium: the caller page's `<video>` presents its first frame "
        "(`requestVideoFrameCallback`, `presentationTime`). *Next buffer swap* — kiosk: the end of "
        "the buffer swap of the first render pass that synchronised after the hand-over (Qt "
        "Quick's `beforeSynchronizing` / `frameSwapped`); Chromium: `expectedDisplayTime`.",
        "- The kiosk (aiortc) gathers all its ICE candidates before sending the offer; the caller "
        "page trickles them, as browsers do. The console gathers before answering in both paths "
        "(its own code).",
        "",
    ]

    # ---- 2. sustained
    L += [f"### 2. Sustained call, {args.width}x{args.height} @ {args.fps} both ways, {args.seconds:g} s", "",
          "| call | direction | picture received | sent fps (encoded) | received fps (decoded) | "
          "shown fps (into the sink / presented) | slowest second shown |",
          "|---|---|---|---|---|---|---|"]

    def kiosk_rows(res: dict, partner_label: str) -> list[str]:
        k, p = res.get("kiosk") or {}, res.get("peer") or {}
        if not k:
            return [f"| kiosk ↔ {partner_label} | not measured: {res.get('error')} | | | | | |"]
        f = k["fps"]
        shown_ps = k.get("shown_per_s") or []
        limited = f", limited by {p['limited_by']}" if p.get("limited_by") not in (None, "none") else ""
        out = [f"| kiosk ↔ {partner_label} | kiosk → {partner_label} | {sizes_text(p.get('sizes') or {})} | "
               f"{fmt(f.get('sent'), 1)} (captured {fmt(f.get('captured'), 1)}) | {fmt(p.get('received_fps'), 1)} | "
               f"{fmt(p.get('presented_fps'), 1) if p.get('presented_fps') is not None else 'not displayed (aiortc)'} | – |",
               f"| kiosk ↔ {partner_label} | {partner_label} → kiosk | {sizes_text(k.get('sizes') or {})} | "
               f"{fmt(p.get('sent_fps'), 1)} (captured {fmt(p.get('captured_fps'), 1)}{limited}) | "
               f"{fmt(f.get('received'), 1)} | **{fmt(f.get('shown'), 1)}**; {fmt(f.get('rendered'), 1)} reached a "
               f"render pass ({fmt(f.get('render_swaps'), 1)} passes/s) | {min(shown_ps) if shown_ps else '–'} |"]
        return out

    L += kiosk_rows(sim, "simulated interpreter")
    L += kiosk_rows(con, "console")
    br = results.get("sustained_browser") or {}
    if br.get("caller"):
        c, i = br["caller"], br["console"]
        def lim(x):
            return f", limited by {x['limited_by']}" if x.get("limited_by") not in (None, "none") else ""
        L.append(f"| Chromium caller ↔ console | caller → console | {i.get('received_size')} | {fmt(c.get('sent_fps'), 1)} "
                 f"(captured {fmt(c.get('captured_fps'), 1)}{lim(c)}) | {fmt(i.get('received_fps'), 1)} | "
                 f"{fmt(i.get('presented_fps'), 1)} | – |")
        L.append(f"| Chromium caller ↔ console | console → caller | {c.get('received_size')} | {fmt(i.get('sent_fps'), 1)} "
                 f"(captured {fmt(i.get('captured_fps'), 1)}{lim(i)}) | {fmt(c.get('received_fps'), 1)} | "
                 f"**{fmt(c.get('presented_fps'), 1)}** | – |")
    else:
        L.append(f"| Chromium caller ↔ console | not measured: {br.get('error')} | | | | | |")
    L += [
        "",
        "- *Sent*: frames the sender took to its encoder (kiosk: the capture track's `frames_sent`; "
        "simulated interpreter the same; Chromium `outbound-rtp.framesEncoded`). *Received*: frames "
        "decoded (kiosk: `engine.counters.video_received`; Chromium `framesDecoded`). *Shown*: kiosk "
        "— frames the GUI thread handed to the `VideoOutput` sink (`bridge.remote.shown`); the "
        "kiosk's `LatestFrame` keeps only the newest frame, so frames the GUI thread cannot take in "
        "time are dropped, not queued. *Reached a render pass*: of those, the frames still the "
        "newest when Qt Quick's render thread next synchronised (a frame replaced before that is "
        "never drawn). Chromium — frames its compositor presented from the `<video>` "
        "(`requestVideoFrameCallback` metadata `presentedFrames`). *Slowest second*: fewest frames "
        "shown in one whole second of the window. *Captured*: frames the camera (synthetic, or "
        "Chromium's fake camera after the page) produced; *limited by*: Chromium's "
        "`qualityLimitationReason` when not `none`.",
        "",
    ]

    # CPU table
    L += ["#### CPU (cores; share of the whole machine in brackets)", "",
          "| call | the kiosk's side | Xvfb (X server) | the other side | processes outside the bench | "
          "whole machine |", "|---|---|---|---|---|---|"]
    if sim.get("cores"):
        cr = sim["cores"]
        L.append(f"| kiosk ↔ simulated interpreter | **{cores_cell(cr.get('kiosk'))}** kiosk process | "
                 f"{cores_cell(cr.get('Xvfb'))} | {cores_cell(cr.get('services'))} (dispatch + simulated "
                 f"interpreter) | {cores_cell(sim.get('foreign'))} | {cores_cell(cr.get('whole machine'))} |")
    if con.get("cores"):
        cr = con["cores"]
        L.append(f"| kiosk ↔ console | **{cores_cell(cr.get('kiosk'))}** kiosk process | {cores_cell(cr.get('Xvfb'))} | "
                 f"{cores_cell(cr.get('console browser'))} (console Chromium, with the stamp pipe) + "
                 f"{cores_cell(cr.get('services'))} (dispatch) | {cores_cell(con.get('foreign'))} | "
                 f"{cores_cell(cr.get('whole machine'))} |")
    if br.get("cores"):
        cr = br["cores"]
        L.append(f"| Chromium caller ↔ console | **{cores_cell(cr.get('caller browser'))}** caller Chromium (all its "
                 f"processes) | – (headless) | {cores_cell(cr.get('console browser'))} (console Chromium) + "
                 f"{cores_cell(cr.get('services'))} (dispatch) | {cores_cell(br.get('foreign'))} | "
                 f"{cores_cell(cr.get('whole machine'))} |")
    L += ["", "Everything runs on this one 2-core machine: the other side's encode and decode (the "
          "simulated interpreter, or the console's Chromium) compete with the kiosk for the same "
          "cores, which a real kiosk would not have to share. *Processes outside the bench*: the whole "
          "machine (`/proc/stat`) minus the processes listed (the machine is shared); before each "
          f"window the bench waits up to {args.quiet_wait:g} s for them to fall below {QUIET_CORES} cores.", ""]

    # variants (per direction)
    var_rows = []
    for key, label in (("sustained_sim", "both ways (the call above)"),
                       ("send_only", "kiosk sends only (the interpreter sends no video)"),
                       ("recv_only", "kiosk receives only (no capture, no self-view, no video sent)"),
                       ("policy_off", "both ways, ResolutionPolicy off")):
        r = results.get(key)
        if not r:
            continue
        k = r.get("kiosk") or {}
        if not k:
            var_rows.append(f"| {label} | not measured: {r.get('error')} | | | | | | |")
            continue
        f = k["fps"]
        scale = "– (sends no video)" if r.get("recv_only") else scale_text(k.get("quality", []))
        var_rows.append(f"| {label} | {r['kiosk']['seconds']:.0f} s | **{cores_cell((r.get('cores') or {}).get('kiosk'))}** | "
                        f"{cores_cell((r.get('cores') or {}).get('Xvfb'))} | {fmt(f.get('sent'), 1)} / "
                        f"{fmt(f.get('received'), 1)} / {fmt(f.get('shown'), 1)} | {scale} | "
                        f"{cores_cell(r.get('foreign'))} | {quiet_text(r)} |")
    if var_rows:
        L += ["#### The kiosk's CPU by direction (kiosk ↔ simulated interpreter)", "",
              "| variant | window | kiosk process | Xvfb | kiosk sent / received / shown fps | picture scale sent (ResolutionPolicy) "
              "| processes outside the bench | only the seconds in which they used < "
              f"{QUIET_SECOND_CORES} cores |",
              "|---|---|---|---|---|---|---|---|"] + var_rows
        L += ["", "The one-way variants replace one side's video track with one that never yields a frame "
              "(in the bench process only); audio still flows both ways. *Sends only* still shows the "
              "self-view; *receives only* captures nothing.", ""]

    # per-thread table
    if ksim.get("threads"):
        cols = [(lab, (results.get(key) or {}).get("kiosk") or {}) for key, lab in (
            ("sustained_sim", "both ways"), ("send_only", "sends only"), ("recv_only", "receives only"),
            ("policy_off", "policy off"), ("sustained_console", "kiosk ↔ console"))]
        cols = [(lab, k) for lab, k in cols if k.get("threads")]
        groups = sorted({g for _, k in cols for g in k["threads"]},
                        key=lambda g: -ksim["threads"].get(g, 0))
        L += ["#### Where the kiosk process spends it (per thread, cores)", "",
              "| thread | " + " | ".join(lab for lab, _ in cols) + " |", "|---" * (len(cols) + 1) + "|"]
        for g in groups:
            vals = [k["threads"].get(g, 0.0) for _, k in cols]
            if max(vals) >= 0.005:
                L.append(f"| {g} | " + " | ".join(f"{v:.2f}" for v in vals) + " |")
        L.append("| **total** | " + " | ".join(f"**{sum(k['threads'].values()):.2f}**" for _, k in cols) + " |")
        L.append("| remote frames shown / render passes per s | " + " | ".join(
            f"{fmt(k['fps'].get('shown'), 1)} / {fmt(k['fps'].get('render_swaps'), 1)}" for _, k in cols) + " |")
        enc, dec = ksim.get("encode") or {}, ksim.get("decode") or {}
        dl, rd = ksim.get("deliver_ms") or {}, ksim.get("stamp_read_ms") or {}
        L += ["", "Per frame (median / p95, ms):", "",
              "| step | thread CPU | wall | frames |", "|---|---|---|---|"]
        if enc.get("n"):
            L.append(f"| VP8 encode ({sizes_text(ksim.get('encode_sizes') or {})}, libvpx realtime, 1 thread) | "
                     f"{fmt(enc['cpu_med'], 1)} / {fmt(enc['cpu_p95'], 1)} | {fmt(enc['wall_med'], 1)} / "
                     f"{fmt(enc['wall_p95'], 1)} | {enc['n']} |")
        if dec.get("n"):
            L.append(f"| VP8 decode | {fmt(dec['cpu_med'], 1)} / {fmt(dec['cpu_p95'], 1)} | "
                     f"{fmt(dec['wall_med'], 1)} / {fmt(dec['wall_p95'], 1)} | {dec['n']} |")
        rp = ksim.get("render_pass_ms") or {}
        if rp.get("n"):
            L.append(f"| render pass of the {args.screen_w}x{args.screen_h} window (render thread: "
                     f"synchronise → end of buffer swap; llvmpipe draws) | – | {fmt(rp['wall_med'], 1)} / "
                     f"{fmt(rp['wall_p95'], 1)} | {rp['n']} |")
        if dl.get("n"):
            L.append(f"| hand-over to the sink on the GUI thread (`LatestFrame._deliver`: copy into a "
                     f"`QVideoFrame`, `setVideoFrame`) | – | {fmt(dl['wall_med'], 1)} / {fmt(dl['wall_p95'], 1)} | {dl['n']} |")
        if rd.get("n"):
            L.append(f"| the bench's stamp read on the GUI thread (not product work) | – | "
                     f"{fmt(rd['wall_med'], 2)} / {fmt(rd['wall_p95'], 2)} | {rd['n']} |")
        L.append("")

    # GUI stalls
    L += ["#### GUI thread stalls (lateness of a 5 ms timer, ms)", "",
          "| phase | ticks | median | p99 | max | late > 50 ms | longest (s into the window: ms) |",
          "|---|---|---|---|---|---|---|"]

    def stall_row(label, s):
        if not s or s.get("max") is None:
            return f"| {label} | – | – | – | – | – | – |"
        top = ", ".join(f"{t:.1f}: {v:.0f}" for t, v in (s.get("top") or [])[:3]) or "–"
        return (f"| {label} | {s['ticks']} | {fmt(s['p50'], 1)} | {fmt(s['p99'], 1)} | **{fmt(s['max'], 0)}** | "
                f"{s['over_50']} | {top} |")
    idle = results.get("idle") or {}
    L.append(stall_row(f"kiosk idle on Welcome ({args.idle_seconds:g} s)", idle.get("stalls")))
    L.append(stall_row("kiosk ↔ simulated interpreter, sustained window", ksim.get("stalls")))
    L.append(stall_row("kiosk ↔ console, sustained window", kcon.get("stalls")))
    setup_st = [r.get("stalls") for r in cs + cc if (r.get("stalls") or {}).get("max") is not None]
    if setup_st:
        worst = max(setup_st, key=lambda s: s["max"])
        L.append(stall_row(f"connect-time calls, tap → back on Welcome (worst of {len(setup_st)})", worst))
    for key, label in (("sustained_sim", "kiosk ↔ simulated interpreter, whole call"),
                       ("sustained_console", "kiosk ↔ console, whole call")):
        s = (results.get(key) or {}).get("call_stalls")
        if s:
            L.append(stall_row(label + " (tap → back on Welcome)", s))
    if br.get("caller"):
        L.append(stall_row("Chromium caller page's main thread, sustained window (5 ms setInterval)",
                           br["caller"].get("stalls")))
    L += ["", "The probe is a `QTimer` (precise, 5 ms) on the kiosk's GUI thread; lateness = time between "
          "two firings − 5 ms, i.e. how long the GUI thread could not run it. With Qt Quick's threaded "
          "render loop the GUI thread also waits while the render thread synchronises each frame.", ""]

    # ---- 3. glass to glass
    L += ["### 3. Glass-to-glass delay (ms: median / p95 / max)", "",
          "| call | direction | read where | median / p95 / max | frames without a readable stamp |",
          "|---|---|---|---|---|"]
    if ksim:
        n = ksim.get("frames", 0)
        L.append(f"| kiosk ↔ simulated interpreter | interpreter → kiosk | handed to the sink (GUI thread) | "
                 f"**{dist_cell(g_sink)}** | {unread_cell(n, ksim.get('unreadable'))} |")
        L.append(f"| kiosk ↔ simulated interpreter | interpreter → kiosk | after the buffer swap that shows it | "
                 f"{dist_cell(g_glass)} | – |")
        L.append(f"| kiosk ↔ simulated interpreter | kiosk → interpreter | decoded (aiortc, no display) | "
                 f"**{dist_cell(g_up)}** | {unread_cell(peer.get('frames', 0), peer.get('unreadable'))} |")
    if kcon:
        pcon = con.get("peer") or {}
        if pcon.get("stamped"):
            L.append(f"| kiosk ↔ console (stamped) | console → kiosk | handed to the sink | "
                     f"{dist_cell(kcon.get('g2g_sink') or [])} | {unread_cell(kcon.get('frames', 0), kcon.get('unreadable'))} |")
            L.append(f"| kiosk ↔ console (stamped) | console → kiosk | after the buffer swap | "
                     f"{dist_cell(kcon.get('g2g_glass') or [])} | – |")
            L.append(f"| kiosk ↔ console (stamped) | kiosk → console | decoded (MediaStreamTrackProcessor) | "
                     f"{dist_cell(pcon.get('decoded_delays') or [])} | {unread_cell(pcon.get('frames', 0), pcon.get('unreadable'))} |")
            L.append(f"| kiosk ↔ console (stamped) | kiosk → console | presented (`<video>`) | "
                     f"{dist_cell(pcon.get('shown_delays') or [])} | {unread_cell(int(round((pcon.get('presented_fps') or 0) * (pcon.get('seconds') or 0))), pcon.get('unreadable_shown'))} |")
    st = results.get("stamped_browser") or {}
    if st.get("caller"):
        for side_key, name in (("console", "caller → console"), ("caller", "console → caller")):
            s = st[side_key]
            L.append(f"| Chromium caller ↔ console (stamped, {args.stamped_seconds:g} s) | {name} | decoded (MediaStreamTrackProcessor) | "
                     f"**{dist_cell(s.get('decoded_delays') or [])}** | {unread_cell(s.get('frames', 0), s.get('unreadable'))} |")
            L.append(f"| Chromium caller ↔ console (stamped) | {name} | presented (`<video>`, presentationTime) | "
                     f"**{dist_cell(s.get('shown_delays') or [])}** | {unread_cell(int(round(s.get('presented_fps', 0) * s.get('seconds', 0))), s.get('unreadable_shown'))} |")
            L.append(f"| Chromium caller ↔ console (stamped) | {name} | expected on the display (expectedDisplayTime) | "
                     f"{dist_cell(s.get('expected_delays') or [])} | – |")
    elif st:
        L.append(f"| Chromium caller ↔ console (stamped) | not measured: {st.get('error')} | | | |")
    L += [
        "",
        "- The sender writes its wall-clock time (ms) into the top luma rows of each frame as it is "
        "captured (`kiosk.call.media.write_stamp`; in Chromium a MediaStreamTrackProcessor/Generator "
        "pipe writes the same strip into each fake-camera frame when it reaches the page, so Chromium's "
        "camera → page hop is not included). The receiver reads it back (`read_stamp`, or the same "
        "geometry scaled when the picture arrives smaller) and subtracts it from the wall clock at the "
        "point named in *read where*. Same rules as `bench/call_loopback.py`: a stamp counts only if "
        f"every block reads clearly (≥ {cl.STAMP_MIN_MARGIN} luma levels from the threshold) and the "
        f"delay lies between {cl.STAMP_MIN_MS} and {cl.STAMP_MAX_MS} ms.",
        "- Kiosk *handed to the sink*: read in the GUI thread from the very frame `_deliver` gives to "
        "`to_qvideoframe`, right after `setVideoFrame`. *After the buffer swap*: plus the time until "
        "the end of the swap of the first render pass that synchronised after it (on Xvfb there is "
        "no vsync; a real panel adds up to one refresh). Chromium *presented*: the strip of the frame "
        "the `<video>` presents, drawn into a canvas in its `requestVideoFrameCallback`, against "
        "`presentationTime`; *expected on the display*: against `expectedDisplayTime`.",
        "- In the stamped console calls the console's outgoing camera goes through the stamp pipe "
        "(the bench wraps `getUserMedia` in that page), which costs the console some CPU.",
        "",
    ]

    # ---- 4. idle
    L += [f"### 4. Idle kiosk on its Welcome screen ({args.idle_seconds:g} s, no call)", "",
          "| what | value |", "|---|---|"]
    if idle:
        cr = idle.get("cores") or {}
        mib = lambda b: f"{b / 2 ** 20:.0f} MiB" if b else "–"  # noqa: E731
        L += [f"| kiosk process CPU | **{cores_cell(cr.get('kiosk'))}** |",
              f"| kiosk process RSS (mean / max over the window) | **{mib(idle.get('rss_mean'))} / {mib(idle.get('rss_max'))}** |",
              f"| kiosk process USS / PSS at the end (private / proportional share) | {mib(idle.get('uss'))} / {mib(idle.get('pss'))} |",
              f"| Xvfb (X server) CPU / RSS | {cores_cell(cr.get('Xvfb'))} / {mib(idle.get('xvfb_rss'))} |",
              f"| dispatch + simulated interpreter process (not the kiosk) CPU / RSS | {cores_cell(cr.get('services'))} / {mib(idle.get('services_rss'))} |",
              f"| render passes per second | {fmt(idle.get('render_swaps'), 1)} |",
              f"| whole machine | {cores_cell(cr.get('whole machine'))} |"]
        if sim.get("rss_max"):
            L.append(f"| for comparison: kiosk RSS max during the sustained call | {mib(sim['rss_max'])} |")
        th = idle.get("threads") or {}
        busy = ", ".join(f"{g.split(' (')[0]} {v:.3f}" for g, v in sorted(th.items(), key=lambda kv: -kv[1]) if v >= 0.001)
        L += ["", "The kiosk process here is the Qt GUI (QML scene), the call engine's "
              "thread with its WebSocket to dispatch (heartbeats) and the session log. Dispatch and the simulated "
              "interpreter run in another process and are **not** included; nor is the X server (listed apart). "
              f"No camera runs while idle (it starts with a call). Busiest threads (cores): {busy or '–'}.", ""]
    else:
        L.append("| – | not measured |")
        L.append("")

    # ---- observations
    L += ["### Observations", ""] + [f"- {o}" for o in observations(results)] + [""]
    L.append(SECTION_END)
    return "\n".join(L) + "\n"


def stability_lines(results: dict) -> list[str]:
    """PySide6's Signal.emit and True's reference count (see REFCOUNT_PAD)."""
    kh = results.get("kiosk_hello") or {}
    start = kh.get("true_refs_start")
    if start is None or not str(kh.get("python", "3.11")).startswith("3.11"):
        return []
    rates = []
    for key, label in (("sustained_sim", "in the sustained kiosk ↔ simulated interpreter call"),
                       ("sustained_console", "in the sustained kiosk ↔ console call"),
                       ("idle", "idle on Welcome")):
        r = results.get(key) or {}
        k = r.get("kiosk") or r
        if k.get("true_refs_lost_per_s") is not None:
            rates.append((label, k["true_refs_lost_per_s"], k.get("true_refs_lost") or 0))
    if not rates:
        return []
    # sys.getrefcount(True) also moves with objects that come and go: a few references either
    # way are noise, a steady loss is not
    call_rates = [r for label, r, n in rates if "call" in label and n > 50]
    worst = max(call_rates) if call_rates else None

    def span(seconds: float) -> str:
        if seconds < 90 * 60:
            return f"{seconds / 60:.0f} min"
        if seconds < 48 * 3600:
            return f"{seconds / 3600:.1f} h"
        if seconds < 3 * 365 * 86400:
            return f"{seconds / 86400:.0f} days"
        return f"{seconds / (365 * 86400):,.0f} years"

    product = bool(kh.get("product_guard"))
    unpadded = start % REFCOUNT_PAD if product else start  # what the process holds by itself
    parts = []
    for label, rate, n in rates:
        if n > 50:
            parts.append(f"{rate:.1f} per second {label}")
        else:
            parts.append(f"{n:+d} over the window {label} (no steady loss)")
    lines = ["### `Signal.emit` and the reference count of `True`", ""]
    lines.append(
        f"PySide6 {results['facts'].get('PySide6')} on Python {kh.get('python')} (this virtualenv) drops a "
        "reference to `True` on every `Signal.emit()` without having taken it; Python before 3.12 does not "
        "make `True` immortal, so once it runs out of references the process aborts (`Fatal Python "
        "error: bool_dealloc`). The kiosk emits for every video frame (`LatestFrame.offer`, remote picture "
        "and self-view), every quality sample and every call event. Measured here: "
        + "; ".join(parts) + ". "
        + (f"A kiosk process holds about {unpadded:,} references to `True` of its own after start-up, "
           f"which at the call rate lasts **about {span(unpadded / worst)} of video calls**. " if worst else ""))
    lines.append("")
    if product:
        lines.append(
            "The kiosk now gives `True` and `False` 2^40 extra references when `kiosk.ui` is imported "
            "(`kiosk/ui/__init__.py`); this run's kiosk process started with "
            f"{start:,}" + (f", enough for about {span(start / worst)} at the call rate." if worst else ".")
            + " The bench therefore added none of its own.")
    elif kh.get("refcount_guard"):
        lines.append(
            "This kiosk does not guard against it: so that the measurements below can finish, the bench "
            "adds 2^40 references to `True` and `False` inside the kiosk process (bench only; "
            "`--no-refcount-guard` leaves them alone and shows the abort).")
    else:
        lines.append("Nothing guarded against it in this run (`--no-refcount-guard`).")
    lines += ["", "To reproduce the drop: `.venv/bin/python -c 'import sys; from PySide6.QtCore import "
              "QCoreApplication, QObject, Signal; A = type(\"A\", (QObject,), {\"s\": Signal()}); "
              "app = QCoreApplication([]); a = A(); n = sys.getrefcount(True); "
              "[a.s.emit() for _ in range(100)]; print(n - sys.getrefcount(True))'` prints 100 (and "
              "aborts on exit).", ""]
    return lines


def observations(results: dict) -> list[str]:
    args = results["args"]
    out: list[str] = []
    ncpu = os.cpu_count() or 1
    sim = results.get("sustained_sim") or {}
    k = sim.get("kiosk") or {}
    cores = sim.get("cores") or {}
    render_groups = (THREAD_GROUPS[1][0], THREAD_GROUPS[2][0])

    def render_cores(kk: dict) -> float:
        return sum((kk.get("threads") or {}).get(g, 0.0) for g in render_groups)

    if k:
        f = k["fps"]
        th = k.get("threads") or {}
        enc, dec = k.get("encode") or {}, k.get("decode") or {}
        codec = th.get(THREAD_GROUPS[4][0], 0.0) + th.get(THREAD_GROUPS[5][0], 0.0)
        out.append(
            f"Kiosk ↔ simulated interpreter, {args.seconds:g} s: the kiosk sent {fmt(f.get('sent'), 1)} fps "
            f"and decoded {fmt(f.get('received'), 1)} fps; its GUI thread handed {fmt(f.get('shown'), 1)} "
            f"fps to the video sink and {fmt(f.get('rendered'), 1)} fps reached a render pass "
            f"({fmt(f.get('render_swaps'), 1)} passes/s). The kiosk process used "
            f"{fmt(cores.get('kiosk'), 2)} cores of {ncpu}: rendering (Qt render thread + llvmpipe) "
            f"{render_cores(k):.2f}, the VP8 encoder and decoder threads {codec:.2f}, the call-engine "
            f"loop {th.get(THREAD_GROUPS[3][0], 0.0):.2f}, the GUI thread "
            f"{th.get(THREAD_GROUPS[0][0], 0.0):.2f}; Xvfb {fmt(cores.get('Xvfb'), 2)} more. The whole "
            f"machine was at {fmt(cores.get('whole machine'), 2)} of {ncpu}.00.")
        rp = k.get("render_pass_ms") or {}
        ro = (results.get("recv_only") or {}).get("kiosk") or {}
        ro_cores = ((results.get("recv_only") or {}).get("cores") or {}).get("kiosk")
        per_pass = (th.get(THREAD_GROUPS[2][0], 0.0) / f["render_swaps"] * 1000
                    if f.get("render_swaps") else None)
        text = (f"What stands in the way of the screen is drawing, not the codec. Qt Quick renders "
                f"through OpenGL, and on this GPU-less machine that is Mesa's llvmpipe on the CPU: a "
                f"render pass of the {args.screen_w}x{args.screen_h} window takes "
                f"{fmt(rp.get('wall_med'), 0)} ms (p95 {fmt(rp.get('wall_p95'), 0)}) from "
                f"synchronisation to the end of the swap and about {fmt(per_pass, 0)} ms of CPU in "
                f"llvmpipe's threads, redrawing the whole window (the remote picture scaled to it, the "
                f"self-view) for every new video frame.")
        if ro and ro_cores is not None:
            text += (f" Receiving alone (no camera, nothing sent) the kiosk showed "
                     f"{fmt(ro['fps'].get('shown'), 1)} fps and needed {ro_cores:.2f} cores for it, "
                     f"{render_cores(ro):.2f} of them rendering.")
        text += (" With the other side's encoder and decoder and the X server on the same 2 cores, "
                 "the render thread falls behind, `LatestFrame` keeps only the newest frame (so "
                 "frames are dropped, not delayed), and the GUI thread waits for the render thread "
                 "at each synchronisation — which is what the GUI-stall probe records. A GPU (even an "
                 "integrated one) takes this work off the CPU; it is the first thing to check on the "
                 "real kiosk hardware.")
        out.append(text)
        if enc.get("n"):
            budget = 1000 / args.fps
            out.append(
                f"Software VP8 encode of {args.width}x{args.height} is not the limit: libvpx (realtime, "
                f"cpu-used -6, one thread) spends {fmt(enc.get('cpu_med'), 1)} ms of CPU per frame "
                f"(p95 {fmt(enc.get('cpu_p95'), 1)}; {fmt(enc.get('wall_med'), 1)} ms wall while "
                f"sharing the cores) against a {budget:.0f} ms frame budget, and decode "
                f"{fmt(dec.get('cpu_med'), 1)} ms. That is on the synthetic test picture, which is "
                "easy to compress; a real camera picture costs more.")
    scales = [q[3] for q in k.get("quality", [])] if k else []
    pol = results.get("policy_off")
    if scales:
        if min(scales) < 1.0:
            out.append(f"The ResolutionPolicy lowered the kiosk's sent picture during the sustained call "
                       f"({scale_text(k.get('quality', []))}).")
        else:
            out.append("The ResolutionPolicy kept the full picture size throughout the sustained call: it "
                       "watches the frames *sent*, which stayed above its threshold; it does not see "
                       "frames lost on the way to the screen."
                       + (" A policy-off run was made anyway." if pol else " No policy-off run was needed."))
    if pol and pol.get("kiosk"):
        f = pol["kiosk"]["fps"]
        out.append(f"With the policy off the kiosk sent {fmt(f.get('sent'), 1)} fps and showed "
                   f"{fmt(f.get('shown'), 1)} fps; kiosk process {fmt((pol.get('cores') or {}).get('kiosk'), 2)} "
                   "cores.")
    so, ro = results.get("send_only") or {}, results.get("recv_only") or {}
    if so.get("cores") and ro.get("cores") and sim.get("cores"):
        a, b, c = so["cores"].get("kiosk"), ro["cores"].get("kiosk"), sim["cores"].get("kiosk")
        idle = ((results.get("idle") or {}).get("cores") or {}).get("kiosk")
        out.append(
            f"By direction (kiosk process): sending alone (capture, self-view, encode) {fmt(a, 2)} cores, "
            f"receiving alone (decode, remote picture on screen) {fmt(b, 2)}, both {fmt(c, 2)}; idle on "
            f"Welcome {fmt(idle, 3)}. Audio both ways and the call's fixed work are in each; the "
            "rendering cost depends on how many frames get drawn, so the directions do not simply "
            "add up when the CPU is short.")
    br = results.get("sustained_browser") or {}
    if br.get("cores") and k:
        cb = br["cores"].get("caller browser")
        c = br.get("caller") or {}
        out.append(
            f"Chromium doing the kiosk's part of the same call (the caller page, 720p30 both ways, "
            f"{args.screen_w}x{args.screen_h} window) used {fmt(cb, 2)} cores for all its processes "
            f"(encoder {c.get('encoder')}, decoder {c.get('decoder')}; by its own stats "
            f"{fmt(c.get('encode_ms'), 1)} ms encode and {fmt(c.get('decode_ms'), 1)} ms decode per "
            f"frame) and presented {fmt(c.get('presented_fps'), 1)} fps, against "
            f"{fmt((cores.get('kiosk') or 0) + (cores.get('Xvfb') or 0), 2)} cores for the kiosk process "
            f"and Xvfb showing {fmt(k['fps'].get('shown'), 1)}. Chromium composites in software as "
            "well (`--disable-gpu`) but only where the page changed and into memory (headless), "
            "without a general-purpose OpenGL rasteriser or an X server in the path.")
    rows = {key: [r.get("shown") for r in results.get(key) or [] if not r.get("error")]
            for key in ("connect_sim", "connect_console", "connect_browser")}
    if rows["connect_browser"] and (rows["connect_sim"] or rows["connect_console"]):
        cs = results.get("connect_sim") or []
        conn = med([r.get("connected") for r in cs if not r.get("error")])
        dec = med([r.get("decoded") for r in cs if not r.get("error")])
        out.append(
            f"Connect time, accept → first frame on screen (medians): {fmt(med(rows['connect_sim']))} ms "
            f"kiosk ↔ simulated interpreter, {fmt(med(rows['connect_console']))} ms kiosk ↔ console, "
            f"{fmt(med(rows['connect_browser']))} ms Chromium ↔ Chromium through the same dispatch and "
            f"console. For kiosk ↔ simulated interpreter, {fmt(conn)} ms of it is until the peer "
            f"connection is up (offer with every candidate gathered, ICE + DTLS, both ends aiortc) and "
            f"{fmt(dec)} ms until the first frame is decoded; aiortc's jitter buffer hands a frame to "
            "the decoder only when the next one starts arriving (see the loopback benchmark's notes).")
    kc = (results.get("sustained_console") or {})
    if kc.get("kiosk"):
        kk, pc = kc["kiosk"], kc.get("peer") or {}
        limited = (f", limited by {pc['limited_by']}" if pc.get("limited_by") not in (None, "none")
                   else "")
        out.append(f"Kiosk ↔ console: the console sent {fmt(pc.get('sent_fps'), 1)} fps "
                   f"({pc.get('sent_size')}{limited}), the kiosk decoded "
                   f"{fmt(kk['fps'].get('received'), 1)} and showed {fmt(kk['fps'].get('shown'), 1)}; kiosk "
                   f"process {fmt((kc.get('cores') or {}).get('kiosk'), 2)} cores, console Chromium "
                   f"{fmt((kc.get('cores') or {}).get('console browser'), 2)} (with the stamp pipe) — "
                   "more than the simulated interpreter takes, which leaves the kiosk's rendering less "
                   "of the 2 cores.")
    disturbed = []
    for key in ("idle", "sustained_sim", "send_only", "recv_only", "policy_off", "sustained_console",
                "sustained_browser", "stamped_browser"):
        r = results.get(key) or {}
        if (r.get("foreign") or 0) > DISTURBED_CORES:
            who = ", ".join(f"{n} {v:.2f}" for n, v in (r.get("cores") or {}).get("_others") or [])
            disturbed.append(f"{r.get('label', key)} ({r['foreign']:.2f} cores"
                             + (f"; busiest: {who}" if who else "") + ")")
    if disturbed:
        out.append("**Disturbed windows**: processes outside the bench used more than "
                   f"{DISTURBED_CORES} cores during: " + "; ".join(disturbed)
                   + ". With fewer cores to itself the kiosk shows fewer frames and later than it "
                   "would on a quiet machine; the CPU figures of the bench's own processes stay valid.")
    if sim.get("discarded"):
        which = "first" if sim.get("kept_first") else "repeated"
        out.append(f"The kiosk ↔ simulated interpreter window was measured twice because other processes "
                   f"used the CPU; the table shows the {'first' if which == 'first' else 'second'} "
                   f"(other attempt: {fmt(sim['discarded'][0], 2)} cores of foreign load).")
    if results.get("skipped"):
        out.append("Skipped: " + "; ".join(results["skipped"]) + ".")
    for key in ("connect_sim", "connect_console", "connect_browser"):
        for i, r in enumerate(results.get(key) or [], 1):
            if r.get("error"):
                out.append(f"{key} call {i} failed: {r['error']}")
    for key in ("sustained_sim", "sustained_console", "sustained_browser", "stamped_browser",
                "send_only", "recv_only", "policy_off"):
        r = results.get(key) or {}
        if r.get("error"):
            out.append(f"{r.get('label', key)} failed: {r['error']}")
    for err in results.get("errors") or []:
        out.append(f"**The run stopped early**: {err}")
    problems = log_problems(results.get("kiosk_log", "")) + log_problems(results.get("services_log", ""))
    if problems:
        out.append("Warnings/errors logged by the kiosk and services processes: "
                   + ", ".join(f"{k} × {v}" for k, v in problems.most_common(8)) + ".")
    else:
        out.append("No warnings or errors were logged by the kiosk and services processes.")
    return out


def write_section(path: Path, section: str) -> None:
    """Replace this bench's section of ``path`` (append it if missing); everything else stays
    byte for byte."""
    _report.write_section(path, SECTION_START, SECTION_END, section)


# ==============================================================================================
# main
# ==============================================================================================


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--seconds", type=float, default=60.0, help="window of each sustained call")
    p.add_argument("--calls", type=int, default=3, help="connect-time calls per path")
    p.add_argument("--size", default="1280x720", help="picture size WIDTHxHEIGHT, both ways")
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--idle-seconds", type=float, default=30.0, help="idle kiosk window")
    p.add_argument("--variant-seconds", type=float, default=20.0,
                   help="window of the send-only / receive-only / policy-off variants")
    p.add_argument("--stamped-seconds", type=float, default=20.0,
                   help="window of the stamped Chromium call (glass-to-glass)")
    p.add_argument("--warmup", type=float, default=5.0,
                   help="seconds after the first frame before a sustained window opens")
    p.add_argument("--screen", default="1920x1080", help="the kiosk's screen (Xvfb) and the caller page's window")
    p.add_argument("--policy-off", choices=("auto", "always", "never"), default="auto",
                   help="run the ResolutionPolicy-off variant: when the policy lowered the picture, always, never")
    p.add_argument("--no-variants", action="store_true", help="skip the send-only / receive-only variants")
    p.add_argument("--setup-timeout", type=float, default=30.0, help="give up on a call without a frame")
    p.add_argument("--quiet-wait", type=float, default=8.0,
                   help="before each window, wait up to this long for other processes to go quiet")
    p.add_argument("--chromium", default=DEFAULT_CHROMIUM, help="Chromium executable")
    p.add_argument("--max-minutes", type=float, default=9.0,
                   help="the whole run ends within about this long: optional phases that would not "
                        "fit are skipped, and a run that still overruns is cut (what was measured is "
                        "written)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to update")
    p.add_argument("--json", type=Path, default=None, help="also dump the raw results here")
    p.add_argument("--render-only", type=Path, default=None, metavar="JSON",
                   help="measure nothing: write the section again from a --json dump of an earlier run")
    p.add_argument("--no-refcount-guard", action="store_true",
                   help="do not pad True's reference count in the kiosk process (see REFCOUNT_PAD); "
                        "with a kiosk that does not pad it either, this shows the abort")
    p.add_argument("--child", choices=(KIOSK_ROLE, SERVICES_ROLE), help=argparse.SUPPRESS)
    p.add_argument("--config", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    try:
        args.width, args.height = (int(x) for x in args.size.lower().split("x"))
        args.screen_w, args.screen_h = (int(x) for x in args.screen.lower().split("x"))
    except ValueError:
        p.error("--size and --screen look like 1280x720")
    if args.calls < 1 or args.seconds <= 0 or args.idle_seconds <= 0 or args.variant_seconds <= 0:
        p.error("--calls >= 1; --seconds, --idle-seconds, --variant-seconds > 0")
    return args


def reproduce_command(args) -> str:
    defaults = parse_args([])
    parts = [".venv/bin/python", "bench/kiosk_vs_browser.py"]
    for name in ("seconds", "calls", "size", "fps", "idle_seconds", "variant_seconds",
                 "stamped_seconds", "warmup", "screen", "policy_off", "quiet_wait", "chromium"):
        value = getattr(args, name)
        if value != getattr(defaults, name):
            parts += ["--" + name.replace("_", "-"), f"{value:g}" if isinstance(value, float) else str(value)]
    if args.no_variants:
        parts.append("--no-variants")
    if args.no_refcount_guard:
        parts.append("--no-refcount-guard")
    return shlex.join(parts)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child == KIOSK_ROLE:
        return kiosk_child(args)
    if args.child == SERVICES_ROLE:
        return asyncio.run(services_main(args))

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.render_only:
        results = json.loads(args.render_only.read_text())
        stored = results.pop("args_dict", None)
        run_args = argparse.Namespace(**stored) if stored else parse_args([])
        results["args"] = run_args
        section = render(results)
        write_section(args.out, section)
        print(section)
        print(f"written to {args.out} (from {args.render_only})", file=sys.stderr)
        return 0
    for tool in ("Xvfb",):
        if not any((Path(d) / tool).exists() for d in os.environ.get("PATH", "").split(":")):
            print(f"kiosk_vs_browser: {tool} is needed (apt install xvfb)", file=sys.stderr)
            return 2
    if not Path(args.chromium).exists():
        print(f"kiosk_vs_browser: no Chromium at {args.chromium}", file=sys.stderr)
        return 2
    started = time.monotonic()

    def progress(msg: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {msg}", file=sys.stderr, flush=True)

    # last resort against a hang in native code: dump every thread's stack and exit
    faulthandler.dump_traceback_later(args.max_minutes * 60 + 55, exit=True)
    try:
        results = asyncio.run(run(args, progress))
    finally:
        faulthandler.cancel_dump_traceback_later()
    if args.json:
        dump = {k: v for k, v in results.items() if k != "args"}
        dump["args_dict"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        args.json.write_text(json.dumps(dump, default=_json_default, indent=1))
    section = render(results)
    write_section(args.out, section)
    print(section)
    print(f"written to {args.out}", file=sys.stderr)
    return 1 if results.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
