"""Call benchmark on loopback: set-up time, frame rate, glass-to-glass delay and CPU of real calls.

Run on demand (it is not part of the test suite), from the repository root::

    .venv/bin/python bench/call_loopback.py --calls 5 --seconds 10 --size 1280x720 --fps 30

It measures, one after another so they never compete for the CPU:

1. **kiosk ↔ simulated interpreter**: the real ``CallEngine`` calling a ``SimulatedInterpreter``
   through the embedded dispatch service (real aiohttp WebSocket signaling, real aiortc peer
   connections), the interpreter answering at once (``simulator.answer_delay_s = 0``).
2. **raw aiortc ↔ aiortc**: two ``RTCPeerConnection`` in this process exchanging offer/answer
   directly, no dispatch, the same ``SyntheticCamera`` picture: what dispatch adds to set-up.
3. **Chromium ↔ Chromium**: two ``RTCPeerConnection`` in one headless Chromium page fed by
   Chromium's fake camera, offer/answer exchanged in the page: what a browser engine does on the
   same machine. One extra call stamps the fake camera's frames (see ``CHROMIUM_JS``) so that a
   glass-to-glass figure can be read for Chromium too.

The figures replace the benchmark's section of ``docs/performance.md`` (other sections stay).

"Loopback" here means one machine: ICE uses host candidates only, so media flows between the
machine's own addresses (whatever interfaces aioice/Chromium pick), never over a real network.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import faulthandler
import logging
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from aiortc import RTCConfiguration, RTCPeerConnection  # noqa: E402

import _report  # noqa: E402  (what the benchmarks share)
from _report import free_port, pkg_version  # noqa: E402
import kiosk.call.simulator as simulator_module  # noqa: E402
from kiosk.call.engine import CallEngine  # noqa: E402
from kiosk.call.media import (  # noqa: E402
    STAMP_BITS, SyntheticCamera, _stamp_geometry, consume_in_background, read_stamp,
)
from kiosk.call.states import CallState  # noqa: E402
from kiosk.config import ServerConfig, load_config  # noqa: E402
from kiosk.demo import EmbeddedServices, open_store  # noqa: E402

log = logging.getLogger("bench")

DEFAULT_OUT = ROOT / "docs" / "performance.md"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
SECTION_BEGIN = "<!-- BEGIN call_loopback: written by bench/call_loopback.py, replaced on each run -->"
SECTION_END = "<!-- END call_loopback -->"

# A decoded stamp is believed only if it says the frame was captured between STAMP_MIN_MS before
# and STAMP_MAX_MS after... i.e. the delay is plausible (sender and receiver share one clock
# here, so a real delay is never negative; a little slack covers rounding to whole ms)...
STAMP_MIN_MS = -20
STAMP_MAX_MS = 5000
# ...and every block of the stamp strip is clearly black or white: the mean luma of each block's
# centre must be at least this far from the 128 threshold. A block the encoder smeared to grey
# would otherwise flip a low bit and give a plausible but wrong delay.
STAMP_MIN_MARGIN = 32
STAMP_MOD = 1 << STAMP_BITS

# The machine may be shared (other jobs, test runs). A call during whose window processes outside
# the bench used more than this many cores is measured again (see --retries), after waiting for
# the machine to calm down below QUIET_CORES.
DISTURBED_CORES = 0.25
QUIET_CORES = 0.15

CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--use-fake-ui-for-media-stream", "--disable-gpu",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--disable-sync",
    # "--use-fake-device-for-media-stream=fps=N" is added per run: without fps= the fake camera
    # captures at 20 fps whatever getUserMedia asks for.
]


# --- small helpers ----------------------------------------------------------------------------






def machine_facts() -> dict:
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        nproc = str(os.cpu_count())
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "nproc": nproc, "cpu_model": cpu_model, "memory": mem,
        "kernel": platform.release(), "python": platform.python_version(),
        "aiortc": pkg_version("aiortc"), "av": pkg_version("av"), "PySide6": pkg_version("PySide6"),
        "numpy": pkg_version("numpy"), "playwright": pkg_version("playwright"),
    }


def cpu_seconds() -> float:
    """CPU time (user + system, every thread) this process has used so far."""
    t = os.times()
    return t.user + t.system


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat, in clock ticks."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
        vals = [int(v) for v in fields]  # user nice system idle iowait irq softirq steal
    except (OSError, ValueError):
        return 0, 0
    total = sum(vals)
    return total - vals[3] - vals[4], total


class Window:
    """A measuring window: wall time, this process's CPU time and the whole machine's CPU time.
    The machine figure shows whether something outside the bench was using the CPU meanwhile."""

    def __init__(self) -> None:
        self.t0, self.cpu0, self.m0 = time.monotonic(), cpu_seconds(), machine_jiffies()

    def close(self) -> None:
        self.t1, self.cpu1, self.m1 = time.monotonic(), cpu_seconds(), machine_jiffies()

    @property
    def seconds(self) -> float:
        return self.t1 - self.t0

    @property
    def process_cpu_per_s(self) -> float:
        return (self.cpu1 - self.cpu0) / self.seconds

    @property
    def machine_cores_busy(self) -> Optional[float]:
        busy, total = self.m1[0] - self.m0[0], self.m1[1] - self.m0[1]
        return busy / total * (os.cpu_count() or 1) if total > 0 else None


def median(values) -> Optional[float]:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def percentile(values, q: float) -> Optional[float]:
    return float(np.percentile(values, q)) if len(values) else None


class WarningCounter(logging.Handler):
    """Counts the warnings and errors logged while the bench runs, by logger and bench phase."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter = Counter()
        self.phase = "start"  # what the bench was doing (set by its progress messages)

    def emit(self, record: logging.LogRecord) -> None:
        key = f"{record.levelname} {record.name} ({self.phase})"
        self.counts[key] += 1


# --- reading the capture-time stamp of a received frame ---------------------------------------


def luma_plane(frame) -> np.ndarray:
    """The Y plane of a decoded frame as a (height, width) array, without copying if possible."""
    if frame.format.name in ("yuv420p", "yuvj420p", "nv12"):
        plane = frame.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        return rows[: frame.height, : frame.width]
    return frame.to_ndarray(format="yuv420p")[: frame.height]


def stamp_margin(y_plane: np.ndarray) -> float:
    """How clearly the stamp strip reads: the smallest distance of a block's centre luma from the
    128 threshold. Same band and block centres as ``read_stamp``."""
    bw, bh = _stamp_geometry(y_plane.shape[1])
    band = y_plane[bh // 4: bh - bh // 4, : STAMP_BITS * bw].astype(np.float32)
    centres = band.reshape(band.shape[0], STAMP_BITS, bw)[:, :, bw // 4: bw - bw // 4]
    return float(np.abs(centres.mean(axis=(0, 2)) - 128).min())


def wrap_delta_ms(now_ms: int, stamp_ms: int) -> int:
    """now - stamp on the stamp's 40-bit clock (stamps are ms modulo 2**40)."""
    d = (now_ms - stamp_ms) % STAMP_MOD
    return d - STAMP_MOD if d >= STAMP_MOD // 2 else d


def stamp_delay_ms(frame, now_ms: float) -> tuple[Optional[float], Optional[str]]:
    """Capture-to-receipt delay of one decoded frame, or (None, why) when its stamp cannot be
    trusted: "blurred" (some block neither clearly black nor white), "implausible" (decodes to
    a time outside the plausible range) or "error" (the frame could not be read)."""
    try:
        y = luma_plane(frame)
        if y.shape[1] < STAMP_BITS + 8:
            return None, "error"
        if stamp_margin(y) < STAMP_MIN_MARGIN:
            return None, "blurred"
        delay = wrap_delta_ms(int(now_ms), read_stamp(y))
    except Exception:  # an odd frame format must not stop the measurement
        log.debug("stamp read failed", exc_info=True)
        return None, "error"
    if STAMP_MIN_MS <= delay <= STAMP_MAX_MS:
        return float(delay), None
    return None, "implausible"


@dataclass
class FrameProbe:
    """Receives every decoded video frame of one direction of one call.

    The first frame is timed always (set-up); frames are counted and their stamps read only while
    ``measuring`` is on (the steady-state window), so the set-up burst and the first key frame
    never enter the frame rate or the delay figures."""

    name: str
    first_at: Optional[float] = None  # time.monotonic() of the first decoded frame
    first_seen: asyncio.Event = field(default_factory=asyncio.Event)
    measuring: bool = False
    frames: int = 0
    unreadable: Counter = field(default_factory=Counter)  # why -> frames
    delays: list[float] = field(default_factory=list)
    sizes: Counter = field(default_factory=Counter)

    def on_frame(self, frame) -> None:
        # Take the receipt time before anything else: reading the stamp costs a little.
        now_ms = time.time() * 1000
        if self.first_at is None:
            self.first_at = time.monotonic()
            self.first_seen.set()
        if not self.measuring:
            return
        self.frames += 1
        self.sizes[(frame.width, frame.height)] += 1
        delay, why = stamp_delay_ms(frame, now_ms)
        if delay is None:
            self.unreadable[why] += 1
        else:
            self.delays.append(delay)


# --- aiortc sender-side counters ----------------------------------------------------------------


async def video_sender_snapshot(pc: Optional[RTCPeerConnection]) -> dict:
    """Frames the video sender has pulled from its track (= frames handed to the encoder; the
    track always takes the newest capture) and bytes it has sent, for rate deltas."""
    out = {"frames_sent": None, "bytes_sent": None}
    if pc is None:
        return out
    for sender in pc.getSenders():
        track = sender.track
        if track is None or track.kind != "video":
            continue
        out["frames_sent"] = getattr(track, "frames_sent", None)
        try:
            report = await asyncio.wait_for(sender.getStats(), 5)
            for stats in report.values():
                if stats.type == "outbound-rtp":
                    out["bytes_sent"] = stats.bytesSent
        except Exception:
            log.debug("getStats failed", exc_info=True)
    return out


def video_codec(sdp: Optional[str]) -> str:
    """The codec the answer chose for video: the first payload type of the m=video line."""
    if not sdp:
        return "?"
    lines = sdp.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("m=video"):
            parts = line.split()
            if len(parts) < 4:
                return "?"
            pt = parts[3]
            for other in lines[i + 1:]:
                if other.startswith("m="):
                    break
                if other.startswith(f"a=rtpmap:{pt} "):
                    return other.split(" ", 1)[1].split("/")[0]
    return "?"


def rate(delta, seconds: float) -> Optional[float]:
    return delta / seconds if delta is not None and seconds > 0 else None


def delta(a, b):
    return b - a if a is not None and b is not None else None


@dataclass
class CallResult:
    """One call of one path; times in ms, rates per second."""

    setup: dict = field(default_factory=dict)  # phase name -> ms
    window_s: float = 0.0
    directions: dict = field(default_factory=dict)  # direction -> dict of figures
    cpu_per_s: Optional[float] = None  # CPU seconds per second used by the path's own processes
    machine_per_s: Optional[float] = None  # the same for the whole machine (all processes)
    codec: str = "?"
    error: Optional[str] = None
    notes: list[str] = field(default_factory=list)


def direction_figures(probe: FrameProbe, window_s: float, *, captured=None, sent=None,
                      bytes_sent=None) -> dict:
    size = probe.sizes.most_common(1)[0][0] if probe.sizes else None
    return {
        "received_fps": rate(probe.frames, window_s),
        "captured_fps": rate(captured, window_s),
        "sent_fps": rate(sent, window_s),
        "kbps": rate(bytes_sent * 8 / 1000 if bytes_sent is not None else None, window_s),
        "size": f"{size[0]}x{size[1]}" if size else "?",
        "frames": probe.frames,
        "unreadable": dict(probe.unreadable),
        "delays": list(probe.delays),
    }


# --- 1. kiosk engine ↔ simulated interpreter through the embedded dispatch ------------------------


class SimulatorTap:
    """Sees the video frames the simulated interpreter receives.

    ``SimulatedInterpreter`` has no hook for received frames (the kiosk engine has
    ``on_remote_video``), so the bench wraps the ``consume_in_background`` name the simulator
    module calls for each received track; the simulator's own counting still runs."""

    def __init__(self) -> None:
        self.probe: Optional[FrameProbe] = None
        self._original = simulator_module.consume_in_background

    def install(self) -> None:
        original = self._original

        def instrumented(track, on_frame=None, tasks=None):
            if track.kind != "video":
                return original(track, on_frame, tasks)

            def both(frame):
                if self.probe is not None:
                    self.probe.on_frame(frame)
                if on_frame is not None:
                    on_frame(frame)
            return original(track, both, tasks)

        simulator_module.consume_in_background = instrumented

    def uninstall(self) -> None:
        simulator_module.consume_in_background = self._original


def bench_config(data_dir: Path, width: int, height: int, fps: int):
    """The shipped config.yaml on a free port with a temporary data folder, the requested
    picture, one simulated interpreter that answers at once and no STUN/TURN server."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    port = free_port()
    data["kiosk"]["data_dir"] = str(data_dir)
    data["dispatch"].update(url=f"ws://127.0.0.1:{port}/ws", embedded=True)
    data["server"].update(host="127.0.0.1", port=port)
    data["video"].update(width=width, height=height, fps=fps)
    # The shipped answer delay (2 s) imitates a person picking up; the bench measures the system.
    data["simulator"].update(interpreters=1, answer_delay_s=0.0)
    data["ice_servers"] = []
    # Dispatch may rest an interpreter between calls ("wrap-up"); back-to-back bench calls must
    # not wait for it. Only set where this version of the config knows the key.
    server_keys = {f.name for f in dataclasses.fields(ServerConfig)}
    if "wrap_up_s" in server_keys:
        data["server"]["wrap_up_s"] = 0
    # Always open, whatever the day and time the bench runs.
    data["service_hours"] = {"timezone": "UTC", **{d: "00:00-24:00" for d in
                                                   ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
    path = data_dir.parent / "bench-config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_config(path)


async def wait_interpreter_free(services: EmbeddedServices, timeout: float) -> bool:
    """Wait until dispatch counts the simulated interpreter as free again, so the next tap is
    not measured while the previous call is still being torn down."""
    server = services._server  # the embedded RunningDispatch; the bench may look inside
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is None or server.hub.health()["interpreters_available"] >= 1:
            return True
        await asyncio.sleep(0.05)
    return False


async def bench_kiosk(args, progress: Callable[[str], None], repeats: Repeats) -> list[CallResult]:
    results: list[CallResult] = []
    tmp = tempfile.TemporaryDirectory(prefix="kiosk-bench-")
    tap = SimulatorTap()
    tap.install()
    services = store = engine = None
    try:
        config = bench_config(Path(tmp.name) / "data", args.width, args.height, args.fps)
        services = EmbeddedServices(config)
        await asyncio.wait_for(services.start(), 20)
        if not services.interpreters or not services.interpreters[0].available.is_set():
            raise RuntimeError("the simulated interpreter did not log in to dispatch")
        sim = services.interpreters[0]
        store = open_store(config)
        engine = CallEngine(config, store)
        await engine.start()
        if not await engine.signaling.wait_ready(10):
            raise RuntimeError(f"kiosk could not reach dispatch: {engine.signaling.last_error}")

        for n in range(args.calls):
            results.append(await measured_call(
                f"kiosk call {n + 1}/{args.calls}",
                lambda result: one_kiosk_call(engine, sim, services, tap, result, args),
                args, progress, repeats, cleanup=lambda: end_kiosk_call(engine, services)))
    finally:
        progress("kiosk: stopping engine, interpreter and dispatch")
        if engine is not None:
            await guarded(engine.stop(), 15, "engine.stop")
        if services is not None:
            await guarded(services.stop(), 15, "services.stop")
        if store is not None:
            store.close()
        tap.uninstall()
        tmp.cleanup()
    return results


async def one_kiosk_call(engine: CallEngine, sim, services, tap: SimulatorTap, result: CallResult,
                         args) -> None:
    kiosk_rx = FrameProbe("interpreter → kiosk")
    interp_rx = FrameProbe("kiosk → interpreter")
    tap.probe = interp_rx
    engine.on_remote_video = kiosk_rx.on_frame

    # State changes reach listeners synchronously inside CallMachine.move, so these are the
    # moments the engine moved, to the resolution of time.monotonic().
    reached: dict[CallState, float] = {}

    def listener(event) -> None:
        reached.setdefault(event.state, time.monotonic())

    engine.machine.subscribe(listener)
    try:
        t_tap = time.monotonic()
        await engine.request_call()
        event = await engine.wait_for(CallState.CONNECTED, CallState.ENDED, timeout=args.setup_timeout)
        if event.state is not CallState.CONNECTED:
            raise RuntimeError(f"call ended before connecting: {event.reason}")
        left = max(1.0, args.setup_timeout - (time.monotonic() - t_tap))
        try:
            await asyncio.wait_for(asyncio.gather(kiosk_rx.first_seen.wait(),
                                                  interp_rx.first_seen.wait()), left)
        except asyncio.TimeoutError:
            missing = [p.name for p in (kiosk_rx, interp_rx) if p.first_at is None]
            raise RuntimeError(f"connected, but no video frame within {args.setup_timeout:g} s "
                               f"of the tap for: {', '.join(missing)}") from None
    finally:
        engine.machine.unsubscribe(listener)

    t_acc, t_conn = reached.get(CallState.CONNECTING), reached.get(CallState.CONNECTED)
    ms = lambda a, b: (b - a) * 1000 if a is not None and b is not None else None  # noqa: E731
    result.setup = {
        "tap_accepted": ms(t_tap, t_acc),
        "accepted_connected": ms(t_acc, t_conn),
        "connected_first": ms(t_conn, kiosk_rx.first_at),
        "accepted_first": ms(t_acc, kiosk_rx.first_at),
        "tap_first": ms(t_tap, kiosk_rx.first_at),
    }
    if CallState.QUEUED in reached or CallState.RINGING in reached:
        result.notes.append("between tap and accepted the engine passed through " + ", ".join(
            s.value for s in (CallState.QUEUED, CallState.RINGING) if s in reached)
            + " (dispatch queues every call first)")
    pc = engine._pc  # the engine's current peer connection; the bench may look inside
    result.codec = video_codec(pc.remoteDescription.sdp if pc and pc.remoteDescription else None)

    # Steady state: let the encoders and bitrate settle, then count over a fixed window.
    await asyncio.sleep(args.warmup)
    k0, s0 = await video_sender_snapshot(engine._pc), await video_sender_snapshot(sim._pc)
    cam_k0, cam_s0 = engine.camera.frames_captured, sim.camera.frames_captured
    win = Window()
    kiosk_rx.measuring = interp_rx.measuring = True
    await asyncio.sleep(args.seconds)
    kiosk_rx.measuring = interp_rx.measuring = False
    win.close()
    cam_k1, cam_s1 = engine.camera.frames_captured, sim.camera.frames_captured
    k1, s1 = await video_sender_snapshot(engine._pc), await video_sender_snapshot(sim._pc)
    window = win.seconds
    result.window_s = window
    result.cpu_per_s, result.machine_per_s = win.process_cpu_per_s, win.machine_cores_busy
    result.directions = {
        "kiosk → interpreter": direction_figures(
            interp_rx, window, captured=cam_k1 - cam_k0,
            sent=delta(k0["frames_sent"], k1["frames_sent"]),
            bytes_sent=delta(k0["bytes_sent"], k1["bytes_sent"])),
        "interpreter → kiosk": direction_figures(
            kiosk_rx, window, captured=cam_s1 - cam_s0,
            sent=delta(s0["frames_sent"], s1["frames_sent"]),
            bytes_sent=delta(s0["bytes_sent"], s1["bytes_sent"])),
    }
    if engine.state is not CallState.CONNECTED:
        result.notes.append(f"call was {engine.state.value} at the end of the window")


async def end_kiosk_call(engine: CallEngine, services: EmbeddedServices) -> None:
    """Hang up, skip the rating (back to idle) and wait for the interpreter to be free again."""
    engine.on_remote_video = None
    try:
        sid = engine.current.session_id
        if engine.state not in (CallState.IDLE, CallState.ENDED):
            await asyncio.wait_for(engine.hang_up(), 10)
            await engine.wait_for(CallState.ENDED, timeout=10)
        if engine.state is CallState.ENDED and sid:
            await engine.rate(sid, None)
    except Exception:
        log.exception("could not end the call cleanly")
    if not await wait_interpreter_free(services, 10):
        log.warning("the simulated interpreter is still busy 10 s after the hang-up")


async def guarded(coro, timeout: float, what: str) -> None:
    try:
        await asyncio.wait_for(coro, timeout)
    except Exception:
        log.exception("%s did not finish cleanly within %.0f s", what, timeout)


def per_call_budget(args) -> float:
    """Time limit of one call attempt."""
    return args.setup_timeout + args.warmup + args.seconds + 30


def call_estimate(args) -> float:
    """What one call usually takes: set-up, warm-up, window, hang-up and clean-up."""
    return args.warmup + args.seconds + 2.5


def planned_seconds(args) -> float:
    """Usual length of a run without repeats: every call of every path plus start-up."""
    calls = 2 * args.calls + (0 if args.no_chromium else args.calls + 1)
    return calls * call_estimate(args) + 20


def foreign_cores(result: CallResult) -> Optional[float]:
    """Cores that processes outside the measured path used during the call's window."""
    if result.machine_per_s is None or result.cpu_per_s is None:
        return None
    return result.machine_per_s - result.cpu_per_s


async def wait_quiet(timeout: float) -> bool:
    """Wait (up to ``timeout`` s) for a second in which the whole machine uses < QUIET_CORES."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m0 = machine_jiffies()
        await asyncio.sleep(1.0)
        m1 = machine_jiffies()
        total = m1[1] - m0[1]
        if total > 0 and (m1[0] - m0[0]) / total * (os.cpu_count() or 1) < QUIET_CORES:
            return True
    return False


@dataclass
class RepeatTime:
    """Seconds the whole run may spend on repeated calls (and the quiet waits before them), so
    that a busy machine does not stretch the run past --max-minutes."""

    seconds: float


@dataclass
class Repeats:
    """What is left of a path's budget of repeated calls, and which calls were repeated."""

    left: int
    time: RepeatTime
    discarded: list[str] = field(default_factory=list)
    refused: int = 0  # disturbed calls kept because no repeat (or no time) was left

    def take(self, cost_s: float) -> bool:
        if self.left <= 0 or self.time.seconds < cost_s:
            self.refused += 1
            return False
        self.left -= 1
        return True


async def measured_call(label: str, run_one: Callable[[CallResult], Any], args,
                        progress: Callable[[str], None], repeats: Repeats,
                        cleanup: Optional[Callable[[], Any]] = None) -> CallResult:
    """Run one call under a time limit; ``cleanup`` runs after every attempt. A call whose
    window other processes disturbed is thrown away and measured again while repeats are left
    (it is kept, and the report says so, when they run out)."""
    while True:
        progress(label)
        result = CallResult()
        try:
            await asyncio.wait_for(run_one(result), per_call_budget(args))
        except Exception as exc:  # noqa: BLE001 - record and go on with the next call
            result.error = f"{type(exc).__name__}: {exc}"
            log.error("%s failed: %s", label, result.error)
        finally:
            if cleanup is not None:
                await guarded(cleanup(), 30, f"{label}: clean-up")
        other = foreign_cores(result)
        if (result.error is None and other is not None and other > DISTURBED_CORES
                and repeats.take(args.quiet_wait + call_estimate(args))):
            repeats.discarded.append(f"{label} ({other:.2f} cores)")
            progress(f"{label}: other processes used {other:.2f} cores meanwhile; measuring it again")
            started = time.monotonic()
            await wait_quiet(args.quiet_wait)
            repeats.time.seconds -= (time.monotonic() - started) + call_estimate(args)
            continue
        return result


# --- 2. raw aiortc ↔ aiortc in one process, no dispatch ------------------------------------------


async def bench_raw(args, progress: Callable[[str], None], repeats: Repeats) -> list[CallResult]:
    return [await measured_call(f"raw aiortc call {n + 1}/{args.calls}",
                                lambda result: one_raw_call(result, args), args, progress, repeats)
            for n in range(args.calls)]


async def one_raw_call(result: CallResult, args) -> None:
    # "a" plays the kiosk (it offers), "b" the interpreter. Video only, one transport: the
    # kiosk bundles audio and video on one transport too, so ICE/DTLS work is alike.
    cam_a = SyntheticCamera(args.width, args.height, args.fps, label="RAW A")
    cam_b = SyntheticCamera(args.width, args.height, args.fps, label="RAW B", hue=(170, 100))
    pc_a = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc_b = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    a_rx, b_rx = FrameProbe("b → a"), FrameProbe("a → b")
    tasks: set[asyncio.Task] = set()
    connected = asyncio.Event()
    t_conn: list[float] = []

    @pc_a.on("connectionstatechange")
    def _on_state() -> None:
        if pc_a.connectionState == "connected" and not connected.is_set():
            t_conn.append(time.monotonic())
            connected.set()

    pc_a.on("track", lambda track: consume_in_background(track, a_rx.on_frame, tasks))
    pc_b.on("track", lambda track: consume_in_background(track, b_rx.on_frame, tasks))
    try:
        # Both cameras already run, as the kiosk's does from the tap on.
        cam_a.start()
        cam_b.start()
        pc_a.addTrack(cam_a.track())
        pc_b.addTrack(cam_b.track())

        # t_offer corresponds to the kiosk's "accepted": the kiosk starts its offer right then.
        t_offer = time.monotonic()
        await pc_a.setLocalDescription(await pc_a.createOffer())  # gathers all candidates
        await pc_b.setRemoteDescription(pc_a.localDescription)
        await pc_b.setLocalDescription(await pc_b.createAnswer())
        t_answer = time.monotonic()
        await pc_a.setRemoteDescription(pc_b.localDescription)
        await asyncio.wait_for(asyncio.gather(connected.wait(), a_rx.first_seen.wait(),
                                              b_rx.first_seen.wait()), args.setup_timeout)
        ms = lambda a, b: (b - a) * 1000  # noqa: E731
        result.setup = {
            "accepted_connected": ms(t_offer, t_conn[0]),
            "connected_first": ms(t_conn[0], a_rx.first_at),
            "accepted_first": ms(t_offer, a_rx.first_at),
            "answer_first": ms(t_answer, a_rx.first_at),
        }
        result.codec = video_codec(pc_a.remoteDescription.sdp)

        await asyncio.sleep(args.warmup)
        sa0, sb0 = await video_sender_snapshot(pc_a), await video_sender_snapshot(pc_b)
        ca0, cb0 = cam_a.frames_captured, cam_b.frames_captured
        win = Window()
        a_rx.measuring = b_rx.measuring = True
        await asyncio.sleep(args.seconds)
        a_rx.measuring = b_rx.measuring = False
        win.close()
        ca1, cb1 = cam_a.frames_captured, cam_b.frames_captured
        sa1, sb1 = await video_sender_snapshot(pc_a), await video_sender_snapshot(pc_b)
        window = win.seconds
        result.window_s = window
        result.cpu_per_s, result.machine_per_s = win.process_cpu_per_s, win.machine_cores_busy
        result.directions = {
            "a → b": direction_figures(b_rx, window, captured=ca1 - ca0,
                                       sent=delta(sa0["frames_sent"], sa1["frames_sent"]),
                                       bytes_sent=delta(sa0["bytes_sent"], sa1["bytes_sent"])),
            "b → a": direction_figures(a_rx, window, captured=cb1 - cb0,
                                       sent=delta(sb0["frames_sent"], sb1["frames_sent"]),
                                       bytes_sent=delta(sb0["bytes_sent"], sb1["bytes_sent"])),
        }
    finally:
        for pc in (pc_a, pc_b):
            for sender in pc.getSenders():
                if sender.track is not None:
                    sender.track.stop()
            await guarded(pc.close(), 10, "RTCPeerConnection.close")
        await cam_a.stop()
        await cam_b.stop()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# --- 3. Chromium ↔ Chromium in one headless page ----------------------------------------------------

# The page script. Two RTCPeerConnections, A (offers, like the kiosk) and B, each sending its own
# getUserMedia track of the fake camera; candidates trickle between them inside the page.
#
# Stamped mode (for the glass-to-glass figure): Chromium's fake camera draws no machine-readable
# time, so each captured frame goes through a MediaStreamTrackProcessor → MediaStreamTrackGenerator
# pipe that writes Date.now() into the top rows of the I420 luma plane in exactly the format of
# kiosk.call.media.write_stamp, before the frame reaches the encoder. On the receiving side a
# MediaStreamTrackProcessor hands over each decoded frame; the strip is read back and compared with
# Date.now() at that moment. The pipe costs CPU and a frame copy, so the plain calls (setup, fps,
# CPU) run without it and the stamped call is reported on its own row.
CHROMIUM_JS = r"""
(() => {
  const BITS = 40, MOD = 2 ** 40;
  const MIN_MS = %(min_ms)d, MAX_MS = %(max_ms)d, MIN_MARGIN = %(min_margin)d;
  const state = {};

  function blockWidth(w) { return Math.max(2, Math.floor(w / (BITS + 8))); }

  function stampTrack(track) {
    const proc = new MediaStreamTrackProcessor({track});
    const gen = new MediaStreamTrackGenerator({kind: 'video'});
    proc.readable.pipeThrough(new TransformStream({
      async transform(frame, controller) {
        const ms = Date.now() %% MOD;           // the frame's "capture" time
        const fmt = frame.format;
        if (!['I420', 'I420A', 'NV12'].includes(fmt)) { controller.enqueue(frame); return; }
        const buf = new Uint8Array(frame.allocationSize());
        const layout = await frame.copyTo(buf);
        const {offset, stride} = layout[0];      // the luma plane comes first in all three
        const bw = blockWidth(frame.visibleRect.width);
        for (let i = 0; i < BITS; i++) {
          const bit = Math.floor(ms / 2 ** (BITS - 1 - i)) %% 2;
          const v = bit ? 251 : 16;               // 1 * 235 + 16 / 0 * 235 + 16, as write_stamp
          for (let r = 0; r < bw; r++) buf.fill(v, offset + r * stride + i * bw, offset + r * stride + (i + 1) * bw);
        }
        const out = new VideoFrame(buf, {format: fmt, codedWidth: frame.codedWidth,
          codedHeight: frame.codedHeight, timestamp: frame.timestamp, layout,
          visibleRect: frame.visibleRect, displayWidth: frame.displayWidth, displayHeight: frame.displayHeight});
        frame.close();
        controller.enqueue(out);
      }
    })).pipeTo(gen.writable).catch(() => {});
    return gen;
  }

  // Reads stamps of a received track; geometry scaled from the sent width, because Chromium
  // lowers the resolution it sends while its bandwidth estimate ramps up (or when CPU-bound).
  async function readStamps(track, sentW, sentH, dir) {
    const reader = new MediaStreamTrackProcessor({track}).readable.getReader();
    state.readers.push(reader);
    while (true) {
      let r;
      try { r = await reader.read(); } catch (e) { break; }
      if (r.done) break;
      const frame = r.value;
      const now = Date.now();
      if (state.measuring) {
        dir.frames++;
        try {
          const [d, why] = await frameDelay(frame, now, sentW, sentH);
          if (d === null) dir.unreadable[why] = (dir.unreadable[why] || 0) + 1; else dir.delays.push(d);
        } catch (e) { dir.unreadable.error = (dir.unreadable.error || 0) + 1; dir.error = String(e); }
      }
      frame.close();
    }
  }

  async function frameDelay(frame, now, sentW, sentH) {
    const w = frame.visibleRect.width, h = frame.visibleRect.height;
    const scale = w / sentW;
    const bw = blockWidth(sentW) * scale;
    const even = x => 2 * Math.ceil(x / 2);  // I420 copy rectangles must be 2-aligned
    const rect = {x: 0, y: 0, width: Math.min(w - (w %% 2), even(BITS * bw)), height: Math.min(h - (h %% 2), even(bw))};
    if (rect.width < BITS * 2) return [null, 'error'];
    const buf = new Uint8Array(frame.allocationSize({rect}));
    const layout = await frame.copyTo(buf, {rect});
    const {offset, stride} = layout[0];
    let ms = 0, margin = 255;
    const r0 = Math.floor(bw / 4), r1 = Math.max(r0 + 1, Math.floor(bw - bw / 4));
    for (let i = 0; i < BITS; i++) {
      const c0 = Math.floor(i * bw + bw / 4), c1 = Math.max(c0 + 1, Math.floor(i * bw + bw - bw / 4));
      let sum = 0, n = 0;
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) { sum += buf[offset + r * stride + c]; n++; }
      const mean = sum / n;
      margin = Math.min(margin, Math.abs(mean - 128));
      ms = ms * 2 + (mean > 128 ? 1 : 0);
    }
    if (margin < MIN_MARGIN) return [null, 'blurred'];
    let d = ((now %% MOD) - ms + MOD) %% MOD;
    if (d >= MOD / 2) d -= MOD;
    return (d >= MIN_MS && d <= MAX_MS) ? [d, null] : [null, 'implausible'];
  }

  async function videoStats(pc) {
    const out = {inbound: null, outbound: null, codec: null, source: null};
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
      codec: out.codec,
      inbound: pick(out.inbound, ['framesDecoded', 'framesReceived', 'framesDropped', 'bytesReceived',
        'frameWidth', 'frameHeight', 'framesPerSecond', 'decoderImplementation', 'jitterBufferDelay',
        'jitterBufferEmittedCount', 'totalProcessingDelay', 'freezeCount']),
      outbound: pick(out.outbound, ['framesEncoded', 'framesSent', 'bytesSent', 'frameWidth',
        'frameHeight', 'framesPerSecond', 'qualityLimitationReason', 'encoderImplementation']),
      source: pick(out.source, ['frames', 'framesPerSecond', 'width', 'height']),
    };
  }

  async function firstDecoded(pc, deadline) {
    // Poll every few ms: getStats framesDecoded turns 1 when the first frame is decoded.
    while (performance.now() < deadline) {
      const report = await pc.getStats();
      let decoded = 0;
      report.forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'video') decoded = s.framesDecoded || 0; });
      if (decoded > 0) return performance.now();
      await new Promise(r => setTimeout(r, 4));
    }
    return null;
  }

  window.bench = {
    async setup({w, h, fps, stamped, timeoutMs}) {
      state.readers = []; state.measuring = false;
      state.dirs = {'A → B': {frames: 0, unreadable: {}, delays: []}, 'B → A': {frames: 0, unreadable: {}, delays: []}};
      const gum = () => navigator.mediaDevices.getUserMedia({audio: false,
        video: {width: {ideal: w}, height: {ideal: h}, frameRate: {ideal: fps}}});
      state.cams = [await gum(), await gum()];
      const camSettings = state.cams[0].getVideoTracks()[0].getSettings();
      let trackA = state.cams[0].getVideoTracks()[0], trackB = state.cams[1].getVideoTracks()[0];
      if (stamped) { trackA = stampTrack(trackA); trackB = stampTrack(trackB); }
      state.sent = [trackA, trackB];
      const a = new RTCPeerConnection(), b = new RTCPeerConnection();
      state.pcs = [a, b];
      let remoteA = null, remoteB = null;
      const remoteSet = new Map([[a, null], [b, null]]);
      let resolveA, resolveB;
      const hasRemote = new Map([[a, new Promise(r => resolveA = r)], [b, new Promise(r => resolveB = r)]]);
      a.onicecandidate = e => e.candidate && hasRemote.get(b).then(() => b.addIceCandidate(e.candidate)).catch(() => {});
      b.onicecandidate = e => e.candidate && hasRemote.get(a).then(() => a.addIceCandidate(e.candidate)).catch(() => {});
      a.ontrack = e => { remoteA = e.track; };
      b.ontrack = e => { remoteB = e.track; };
      let tConnected = null;
      const connected = new Promise(resolve => {
        a.onconnectionstatechange = () => { if (a.connectionState === 'connected' && tConnected === null) { tConnected = performance.now(); resolve(); } };
      });
      // Keep the requested resolution: by default Chromium starts its bandwidth estimate low and
      // sends a scaled-down picture (e.g. 640x360 for 1280x720) for the first ten-odd seconds,
      // which would compare a smaller picture with aiortc's full-size one.
      for (const [pc, track] of [[a, trackA], [b, trackB]]) {
        const sender = pc.addTrack(track);
        const params = sender.getParameters();
        params.degradationPreference = 'maintain-resolution';
        try { await sender.setParameters(params); } catch (e) { state.note = 'degradationPreference not applied: ' + e; }
      }

      const tOffer = performance.now();
      await a.setLocalDescription(await a.createOffer());
      await b.setRemoteDescription(a.localDescription); resolveB();
      await b.setLocalDescription(await b.createAnswer());
      const tAnswer = performance.now();
      await a.setRemoteDescription(b.localDescription); resolveA();
      const deadline = tOffer + timeoutMs;
      const [tFirstA, tFirstB] = await Promise.all([firstDecoded(a, deadline), firstDecoded(b, deadline)]);
      await Promise.race([connected, new Promise(r => setTimeout(r, Math.max(0, deadline - performance.now())))]);
      if (stamped) {
        readStamps(remoteB, camSettings.width, camSettings.height, state.dirs['A → B']);
        readStamps(remoteA, camSettings.width, camSettings.height, state.dirs['B → A']);
      }
      const ms = (x, y) => (x === null || y === null) ? null : y - x;
      return {
        camera: {width: camSettings.width, height: camSettings.height, frameRate: camSettings.frameRate},
        setup: {accepted_connected: ms(tOffer, tConnected), connected_first: ms(tConnected, tFirstA),
                accepted_first: ms(tOffer, tFirstA), answer_first: ms(tAnswer, tFirstA)},
        ok: tFirstA !== null && tFirstB !== null && tConnected !== null, note: state.note || null,
      };
    },
    measure(on) {
      state.measuring = on;
      if (on) for (const d of Object.values(state.dirs)) { d.frames = 0; d.unreadable = {}; d.delays = []; }
    },
    async stats() {
      const [a, b] = state.pcs;
      return {t: performance.now(), a: await videoStats(a), b: await videoStats(b), dirs: state.dirs};
    },
    async teardown() {
      state.measuring = false;
      for (const r of state.readers || []) { try { await r.cancel(); } catch (e) {} }
      for (const pc of state.pcs || []) pc.close();
      for (const s of state.cams || []) s.getTracks().forEach(t => t.stop());
      for (const t of state.sent || []) t.stop();
      state.pcs = []; state.cams = []; state.sent = []; state.readers = [];
    },
  };
})();
""" % {"min_ms": STAMP_MIN_MS, "max_ms": STAMP_MAX_MS, "min_margin": STAMP_MIN_MARGIN}

PAGE_URL = "http://127.0.0.1:9/call-bench.html"  # never contacted: Playwright fulfils it


class ChromiumCpu:
    """CPU seconds used by the Chromium processes this bench started (browser, renderer, GPU,
    network service, ...): the descendants of this process whose name says Chromium."""

    def __init__(self) -> None:
        import psutil  # installed with the test extras; only this reference needs it
        self._psutil = psutil
        self._me = psutil.Process()

    def sample(self) -> dict[int, float]:
        out = {}
        for proc in self._me.children(recursive=True):
            try:
                if "chrom" in proc.name().lower():
                    t = proc.cpu_times()
                    out[proc.pid] = t.user + t.system
            except (self._psutil.NoSuchProcess, self._psutil.AccessDenied):
                pass
        return out

    @staticmethod
    def used(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(t - before.get(pid, 0.0) for pid, t in after.items())


async def bench_chromium(args, progress: Callable[[str], None], repeats: Repeats) -> dict:
    """Plain calls (set-up, fps, CPU) and one stamped call (glass-to-glass). Never raises: a
    missing browser or Playwright ends up as ``error`` in the result."""
    out: dict[str, Any] = {"calls": [], "stamped": None, "error": None, "browser": None}
    exe = Path(args.chromium)
    if not exe.exists():
        out["error"] = f"Chromium not found at {exe}"
        return out
    try:
        from playwright.async_api import async_playwright
    except ImportError as exc:
        out["error"] = f"Playwright is not installed in this Python ({exc})"
        return out
    try:
        cpu = ChromiumCpu()
    except ImportError:
        cpu = None
    pw = browser = None
    try:
        pw = await asyncio.wait_for(async_playwright().start(), 30)
        browser = await asyncio.wait_for(pw.chromium.launch(
            executable_path=str(exe), headless=True,
            args=CHROMIUM_ARGS + [f"--use-fake-device-for-media-stream=fps={args.fps}"]), 60)
        out["browser"] = browser.version
        page = await browser.new_page()
        page.set_default_timeout(per_call_budget(args) * 1000)

        async def fulfil(route):
            await route.fulfill(status=200, content_type="text/html",
                                body="<!doctype html><title>call bench</title>")
        # An http://127.0.0.1 page is a secure context, which getUserMedia needs.
        await page.route(PAGE_URL, fulfil)
        await asyncio.wait_for(page.goto(PAGE_URL), 30)
        await asyncio.wait_for(page.evaluate(CHROMIUM_JS), 10)

        runs = [False] * args.calls + [True]
        for n, stamped in enumerate(runs):
            label = "stamped call (glass-to-glass)" if stamped else f"call {n + 1}/{args.calls}"
            result = await measured_call(
                f"Chromium {label}",
                lambda result, stamped=stamped: one_chromium_call(page, cpu, stamped, result, args),
                args, progress, repeats, cleanup=lambda: page.evaluate("bench.teardown()"))
            if stamped:
                out["stamped"] = result
            else:
                out["calls"].append(result)
    except Exception as exc:  # noqa: BLE001
        out["error"] = f"{type(exc).__name__}: {exc}"
        log.error("Chromium reference failed: %s", out["error"])
    finally:
        progress("Chromium: closing the browser")
        if browser is not None:
            await guarded(browser.close(), 20, "browser.close")
        if pw is not None:
            await guarded(pw.stop(), 20, "playwright.stop")
    return out


async def one_chromium_call(page, cpu: Optional[ChromiumCpu], stamped: bool, result: CallResult,
                            args) -> None:
    setup = await page.evaluate("p => bench.setup(p)", {
        "w": args.width, "h": args.height, "fps": args.fps, "stamped": stamped,
        "timeoutMs": args.setup_timeout * 1000})
    if not setup["ok"]:
        raise RuntimeError(f"no connection or no first frame within {args.setup_timeout} s: {setup}")
    result.setup = setup["setup"]
    cam = setup["camera"]
    result.notes.append(f"fake camera {cam['width']}x{cam['height']} @ {cam['frameRate']} fps, "
                        "senders set to degradationPreference maintain-resolution")
    if setup.get("note"):
        result.notes.append(setup["note"])

    await asyncio.sleep(args.warmup)
    s0 = await page.evaluate("bench.stats()")
    c0 = cpu.sample() if cpu else None
    win = Window()
    await page.evaluate("bench.measure(true)")
    await asyncio.sleep(args.seconds)
    await page.evaluate("bench.measure(false)")
    win.close()
    c1 = cpu.sample() if cpu else None
    s1 = await page.evaluate("bench.stats()")
    window = (s1["t"] - s0["t"]) / 1000  # the page's own clock, between the two getStats
    result.window_s = window
    result.machine_per_s = win.machine_cores_busy
    if cpu:
        result.cpu_per_s = ChromiumCpu.used(c0, c1) / win.seconds
    result.codec = (s1["a"]["codec"] or "?").replace("video/", "")

    def figures(sender: str, receiver: str, name: str) -> dict:
        rx0, rx1 = s0[receiver]["inbound"] or {}, s1[receiver]["inbound"] or {}
        tx0, tx1 = s0[sender]["outbound"] or {}, s1[sender]["outbound"] or {}
        sent_bytes = delta(tx0.get("bytesSent"), tx1.get("bytesSent"))
        src0, src1 = s0[sender]["source"] or {}, s1[sender]["source"] or {}
        d = s1["dirs"][name]
        fig = {
            "received_fps": rate(delta(rx0.get("framesDecoded"), rx1.get("framesDecoded")), window),
            "captured_fps": rate(delta(src0.get("frames"), src1.get("frames")), window),
            "sent_fps": rate(delta(tx0.get("framesEncoded"), tx1.get("framesEncoded")), window),
            "kbps": rate(sent_bytes * 8 / 1000 if sent_bytes is not None else None, window),
            "size": f"{rx1.get('frameWidth')}x{rx1.get('frameHeight')}",
            "limited_by": tx1.get("qualityLimitationReason"),
            "frames": d["frames"] if stamped else None,
            "unreadable": d["unreadable"] if stamped else None,
            "delays": list(d["delays"]) if stamped else None,
        }
        if d.get("error"):
            result.notes.append(f"{name}: stamp read error: {d['error']}")
        return fig

    result.directions = {"A → B": figures("a", "b", "A → B"), "B → A": figures("b", "a", "B → A")}


# --- the report -----------------------------------------------------------------------------------


def fmt(value, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}{unit}"


def setup_cell(calls: list[CallResult], key: str) -> str:
    values = [c.setup.get(key) for c in calls if c.error is None and c.setup.get(key) is not None]
    if not values:
        return "n/a"
    return f"{statistics.median(values):.0f} / {max(values):.0f}"


def ok_calls(calls: list[CallResult]) -> list[CallResult]:
    return [c for c in calls if c.error is None and c.directions]


def direction_rows(path: str, calls: list[CallResult], *, glass: bool = True,
                   glass_note: str = "") -> list[str]:
    rows = []
    good = ok_calls(calls)
    if not good:
        return [f"| {path} | – | – | – | – | – | – | – | – |"]
    for name in good[0].directions:
        figs = [c.directions[name] for c in good]

        def med(key):
            return median(f.get(key) for f in figs)

        def low(key):
            vals = [f.get(key) for f in figs if f.get(key) is not None]
            return min(vals) if vals else None

        sizes = Counter(f["size"] for f in figs)
        size = " / ".join(s for s, _ in sizes.most_common())
        received = f"{fmt(med('received_fps'), 1)} (min {fmt(low('received_fps'), 1)})"
        if glass and figs[0].get("delays") is not None:
            delays = [d for f in figs for d in f["delays"]]
            frames = sum(f["frames"] for f in figs)
            why: Counter = Counter()
            for f in figs:
                why.update(f["unreadable"])
            unreadable = sum(why.values())
            if delays:
                g2g = (f"{percentile(delays, 50):.0f} / {percentile(delays, 90):.0f} / "
                       f"{max(delays):.0f}")
            else:
                g2g = "no readable stamp"
            unread = f"{unreadable} of {frames}"
            if unreadable:
                unread += " (" + ", ".join(f"{n} {k}" for k, n in why.most_common()) + ")"
        else:
            g2g, unread = glass_note or "not measured", "–"
        extra = ""
        limited = Counter(f.get("limited_by") for f in figs if f.get("limited_by"))
        if limited:
            extra = " (limited by: " + ", ".join(f"{k}" for k, _ in limited.most_common()) + ")"
        rows.append(f"| {path} | {name} | {size} | {fmt(med('captured_fps'), 1)} | "
                    f"{fmt(med('sent_fps'), 1)} | {received} | {fmt(med('kbps'))}{extra} | "
                    f"{g2g} | {unread} |")
    return rows


def cpu_cell(calls: list[CallResult], attr: str = "cpu_per_s") -> str:
    vals = [getattr(c, attr) for c in ok_calls(calls) if getattr(c, attr) is not None]
    if not vals:
        return "n/a"
    return f"{statistics.median(vals):.2f} (max {max(vals):.2f})"


def foreign_load(calls: list[CallResult]) -> Optional[float]:
    """The most CPU (cores) that processes outside the path used during one of its windows."""
    vals = [v for v in (foreign_cores(c) for c in ok_calls(calls)) if v is not None]
    return max(vals) if vals else None


def render(results: dict) -> str:
    args, facts = results["args"], results["facts"]
    kiosk_calls, raw_calls, chrom = results["kiosk"], results["raw"], results["chromium"]
    lines = [SECTION_BEGIN, "## Call loopback benchmark (`bench/call_loopback.py`)", ""]
    lines += [
        f"Measured {results['date']} on this machine: **{facts['nproc']} CPUs** (`nproc`), "
        f"{facts['cpu_model']}, {facts['memory']} RAM, Linux {facts['kernel']}. "
        f"Python {facts['python']}, aiortc {facts['aiortc']}, av {facts['av']}, "
        f"PySide6 {facts['PySide6']} (not used by this bench), numpy {facts['numpy']}, "
        f"Playwright {facts['playwright']}, Chromium "
        + (f"{chrom['browser']} (headless, `--disable-gpu`, fake camera)." if chrom.get("browser")
           else "not run."),
        "",
        "Reproduce (from the repository root, about "
        f"{results['elapsed_s'] / 60:.1f} min):",
        "",
        "```sh",
        results["command"],
        "```",
        "",
        f"Each path: {args.calls} call{'s' if args.calls != 1 else ''}, one after another, "
        f"{args.width}x{args.height} @ "
        f"{args.fps} fps sent both ways; per call a {args.warmup:g} s warm-up after the first "
        f"frame, then a {args.seconds:g} s measuring window. Host ICE candidates only, no "
        "STUN/TURN. The simulated interpreter's answer delay is set to **0 s** for the bench "
        "(2 s in the shipped config, imitating a person picking up), so \"tap → accepted\" is "
        "dispatch alone. The machine may be shared: a call during whose window processes outside "
        f"the bench used more than {DISTURBED_CORES} cores is measured again, up to "
        f"{args.retries} times per path and only while the run stays within about "
        f"{args.max_minutes:g} minutes (see Notes).",
        "",
    ]

    # Set-up table
    lines += [
        "### Set-up time (ms, median / max over the calls)",
        "",
        "| path | tap → accepted | accepted → connected | connected → first frame | "
        "accepted → first frame | answer applied → first frame | tap → first frame | calls ok |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def setup_row(name: str, calls: list[CallResult], tap: bool) -> str:
        okc = [c for c in calls if c.error is None]
        cells = [setup_cell(calls, "tap_accepted") if tap else "—",
                 setup_cell(calls, "accepted_connected"), setup_cell(calls, "connected_first"),
                 setup_cell(calls, "accepted_first"),
                 setup_cell(calls, "answer_first") if not tap else "not observable",
                 setup_cell(calls, "tap_first") if tap else "—"]
        return f"| {name} | " + " | ".join(cells) + f" | {len(okc)} of {len(calls)} |"

    lines.append(setup_row("kiosk ↔ simulated interpreter, via dispatch", kiosk_calls, True))
    lines.append(setup_row("raw aiortc ↔ aiortc, no dispatch", raw_calls, False))
    if chrom.get("calls"):
        lines.append(setup_row("Chromium ↔ Chromium, one page", chrom["calls"], False))
    else:
        lines.append(f"| Chromium ↔ Chromium | reference missing: {chrom.get('error')} "
                     "| – | – | – | – | – | – |")
    lines += [
        "",
        "- *accepted*: the kiosk engine enters `connecting` (dispatch relayed the interpreter's "
        "accept; the engine now builds its offer). For the two references, which have no dispatch, "
        "the clock starts at `createOffer` instead, which is the same moment of the flow.",
        "- *connected*: the offerer's `connectionState` becomes `connected` (ICE + DTLS done).",
        "- *first frame*: the first video frame from the other side is decoded at the offerer "
        "(the kiosk): aiortc hands it to the track consumer; Chromium's getStats "
        "`inbound-rtp.framesDecoded` turns 1 (polled every 4 ms).",
        "- *answer applied*: the offerer starts `setRemoteDescription(answer)`. The kiosk engine "
        "does that inside its signaling handler, which the bench does not time.",
        "",
    ]

    # Steady-state table
    lines += [
        "### Steady state (per direction, median over the calls)",
        "",
        "| path | direction | received size | captured fps | encoded fps | received fps | "
        "sent video kbit/s | glass-to-glass ms (median / p90 / max) | frames without a readable stamp |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += direction_rows("kiosk ↔ interpreter", kiosk_calls)
    lines += direction_rows("raw aiortc", raw_calls)
    if chrom.get("calls"):
        lines += direction_rows("Chromium", chrom["calls"], glass=False,
                                glass_note="not readable (fake camera has no stamp); see next row")
        stamped = chrom.get("stamped")
        if stamped is not None and stamped.error is None:
            lines += direction_rows("Chromium, stamped (1 call)", [stamped])
        else:
            err = stamped.error if stamped is not None else "not run"
            lines.append(f"| Chromium, stamped | – | – | – | – | – | – | not obtained: {err} "
                         "| – |")
    else:
        lines.append(f"| Chromium | reference missing: {chrom.get('error')} | | | | | | | |")
    lines += [
        "",
        "- *captured*: frames the source produced (SyntheticCamera; Chromium: `media-source.frames`). "
        "*encoded*: frames the sender took to the encoder (aiortc: the capture track's "
        "`frames_sent`; Chromium: `outbound-rtp.framesEncoded`). *received*: decoded frames that "
        "reached the application (aiortc: the track consumer; Chromium: `framesDecoded`), counted "
        "over the window.",
        "- *glass-to-glass*: the sender writes its wall-clock time (ms) into the top rows of each "
        "frame's luma plane as it is captured (`write_stamp`); the receiver reads it back "
        "(`read_stamp`) from the decoded frame and subtracts it from the wall clock at receipt. "
        "Both ends share one clock. Capture → newest-frame hand-off → encode → RTP → jitter "
        "buffer → decode → application; no display, so a screen's refresh would add to it. "
        f"A stamp counts only if every block reads clearly (≥ {STAMP_MIN_MARGIN} luma levels "
        f"from the threshold) and the delay is between {STAMP_MIN_MS} and {STAMP_MAX_MS} ms; "
        "the others are counted in the last column, not averaged in.",
        "- Chromium plain calls send the fake camera untouched; its frames carry no readable time, "
        "so their glass-to-glass delay is not measured. The *stamped* row is one extra call in "
        "which a MediaStreamTrackProcessor/Generator pipe in the page writes the same stamp into "
        "each fake-camera frame before the encoder and reads it after the decoder (that pipe "
        "copies every frame, so it costs some CPU of its own). The stamp is written when the "
        "frame reaches the page, so the camera → page hop is not included there.",
        "",
    ]

    # CPU
    lines += [
        "### CPU (CPU seconds per second of call, over the measuring window; "
        f"{facts['nproc']}.00 = every core busy)",
        "",
        "| path | CPU s/s, median (max) | whole machine meanwhile | what it covers |",
        "|---|---|---|---|",
        f"| kiosk ↔ simulated interpreter | {cpu_cell(kiosk_calls)} | "
        f"{cpu_cell(kiosk_calls, 'machine_per_s')} | this Python process: kiosk engine **and** "
        "simulated interpreter **and** dispatch, video and audio both ways (2 × capture drawing, "
        "encode, decode) |",
        f"| raw aiortc ↔ aiortc | {cpu_cell(raw_calls)} | {cpu_cell(raw_calls, 'machine_per_s')} | "
        "this Python process, both peers, video only |",
    ]
    all_chrom = list(chrom.get("calls") or [])
    if chrom.get("calls"):
        lines.append(f"| Chromium ↔ Chromium | {cpu_cell(chrom['calls'])} | "
                     f"{cpu_cell(chrom['calls'], 'machine_per_s')} | every Chromium process "
                     "(browser, renderer, GPU/software compositing, network), both peers, video only |")
        if chrom.get("stamped") is not None and chrom["stamped"].error is None:
            all_chrom.append(chrom["stamped"])
            lines.append(f"| Chromium, stamped | {cpu_cell([chrom['stamped']])} | "
                         f"{cpu_cell([chrom['stamped']], 'machine_per_s')} | the same, with "
                         "the stamp pipe |")
    else:
        lines.append(f"| Chromium ↔ Chromium | n/a | n/a | reference missing: {chrom.get('error')} |")
    lines += [
        "",
        "*Whole machine*: busy cores from `/proc/stat` over the same windows, every process "
        "included; well above the path's own figure means something else was running.",
        "",
    ]

    # Codec and notes
    codecs = []
    for name, calls in (("kiosk", kiosk_calls), ("raw aiortc", raw_calls),
                        ("Chromium", chrom.get("calls") or [])):
        seen = sorted({c.codec for c in calls if c.error is None})
        if seen:
            codecs.append(f"{name} {', '.join(seen)}")
    notes = [
        "Reading the glass-to-glass figures: aiortc's receiver (`aiortc/jitterbuffer.py`, checked "
        "in aiortc 1.16.0) hands a video frame to the decoder only when the first packet of the "
        f"*next* frame arrives, so each frame waits about one frame interval "
        f"({1000 / args.fps:.0f} ms at {args.fps} fps) on the receiving side. That accounts for "
        "most of the gap between the aiortc rows and the Chromium stamped row.",
    ]
    if codecs:
        notes.append("Video codec negotiated: " + "; ".join(codecs) + ".")
    for name, calls in (("kiosk", kiosk_calls), ("raw aiortc", raw_calls),
                        ("Chromium", (chrom.get("calls") or [])
                         + ([chrom["stamped"]] if chrom.get("stamped") else []))):
        for i, c in enumerate(calls, 1):
            if c.error:
                notes.append(f"{name} call {i} failed: {c.error}")
        extra = sorted({n for c in calls for n in c.notes})
        if extra:
            notes.append(f"{name}: " + "; ".join(extra) + ".")
    for name, rep in results["repeats"].items():
        if rep.discarded:
            notes.append(f"{name}: measured again because other processes used the CPU during "
                         "the window (the discarded attempt is not in the tables): "
                         + "; ".join(rep.discarded) + ".")
    for name, calls in (("kiosk", kiosk_calls), ("raw aiortc", raw_calls), ("Chromium", all_chrom)):
        other = foreign_load(calls)
        if other is not None and other > DISTURBED_CORES:
            notes.append(f"**Other load**: during a {name} window that is in the tables, processes "
                         f"outside the bench used up to {other:.2f} cores (no repeat or no time "
                         "left for one); those figures may be disturbed.")
    if chrom.get("error"):
        notes.append(f"**Chromium reference missing**: {chrom['error']}. The aiortc figures above "
                     "were measured without it.")
    warn = results["warnings"]
    if warn.counts:
        notes.append("Warnings/errors logged during the run: " + ", ".join(
            f"{k} × {v}" for k, v in warn.counts.items()) + ".")
    else:
        notes.append("No warnings or errors were logged during the run.")
    if notes:
        lines += ["### Notes", ""] + [f"- {n}" for n in notes] + [""]
    lines.append(SECTION_END)
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section of ``path`` (create the file if needed)."""
    _report.write_section(path, SECTION_BEGIN, SECTION_END, section)


# --- main -------------------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--calls", type=int, default=5, help="calls per path")
    p.add_argument("--seconds", type=float, default=10.0, help="measuring window per call")
    p.add_argument("--warmup", type=float, default=2.0,
                   help="seconds after the first frame before the window opens")
    p.add_argument("--size", default="1280x720", help="picture size WIDTHxHEIGHT, both ways")
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--setup-timeout", type=float, default=30.0,
                   help="give up on a call not showing a frame after this many seconds")
    p.add_argument("--retries", type=int, default=2,
                   help="per path, how many calls disturbed by other processes (more than "
                        f"{DISTURBED_CORES} cores outside the bench) may be measured again")
    p.add_argument("--max-minutes", type=float, default=5.0,
                   help="repeat disturbed calls only while the run is expected to end within "
                        "this many minutes (a soft limit: the planned calls always run)")
    p.add_argument("--quiet-wait", type=float, default=10.0,
                   help="before the run and before a repeated call, wait up to this many "
                        "seconds for the machine to be idle")
    p.add_argument("--chromium", default=DEFAULT_CHROMIUM, help="Chromium executable")
    p.add_argument("--no-chromium", action="store_true", help="skip the Chromium reference")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to update")
    args = p.parse_args(argv)
    try:
        w, h = (int(x) for x in args.size.lower().split("x"))
    except ValueError:
        p.error(f"--size must look like 1280x720, got {args.size!r}")
    if w % 2 or h % 2 or not (160 <= w <= 3840 and 120 <= h <= 2160):
        p.error("--size: even width 160-3840 and even height 120-2160")
    if not 1 <= args.fps <= 60:
        p.error("--fps: 1 to 60")
    if (args.calls < 1 or args.seconds <= 0 or args.warmup < 0 or args.retries < 0
            or args.quiet_wait < 0 or args.max_minutes <= 0):
        p.error("--calls >= 1, --seconds > 0, --max-minutes > 0; --warmup, --retries and "
                "--quiet-wait >= 0")
    args.width, args.height = w, h
    return args


def reproduce_command(args) -> str:
    parts = [".venv/bin/python", "bench/call_loopback.py", "--calls", str(args.calls),
             "--seconds", f"{args.seconds:g}", "--warmup", f"{args.warmup:g}",
             "--size", f"{args.width}x{args.height}", "--fps", str(args.fps),
             "--retries", str(args.retries), "--max-minutes", f"{args.max_minutes:g}"]
    if args.no_chromium:
        parts.append("--no-chromium")
    elif args.chromium != DEFAULT_CHROMIUM:
        parts += ["--chromium", args.chromium]
    return shlex.join(parts)


def phase_budget(args) -> float:
    """Time limit of one path: its calls (plus Chromium's stamped one), the repeats and the
    quiet waits before them, and start/stop."""
    return ((args.calls + 1 + args.retries) * per_call_budget(args)
            + args.retries * args.quiet_wait + 90)


async def run(args, warnings: WarningCounter) -> dict:
    started = time.monotonic()

    def progress(msg: str) -> None:
        warnings.phase = msg
        print(f"[{time.monotonic() - started:6.1f}s] {msg}", file=sys.stderr, flush=True)

    budget = phase_budget(args)
    results: dict[str, Any] = {"args": args, "facts": machine_facts(), "warnings": warnings,
                               "command": reproduce_command(args),
                               "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}

    async def phase(name, coro, fallback):
        try:
            return await asyncio.wait_for(coro, budget)
        except Exception as exc:  # noqa: BLE001 - one phase failing must not lose the others
            log.error("%s phase failed: %s: %s", name, type(exc).__name__, exc)
            return fallback(f"{type(exc).__name__}: {exc}")

    def failed_calls(err):
        return [CallResult(error=err)]

    repeat_time = RepeatTime(max(0.0, args.max_minutes * 60 - planned_seconds(args)))
    results["repeats"] = repeats = {name: Repeats(args.retries, repeat_time)
                                    for name in ("kiosk", "raw aiortc", "Chromium")}
    if not await wait_quiet(args.quiet_wait):
        progress("the machine is busy with other processes; measuring anyway")
    results["kiosk"] = await phase("kiosk", bench_kiosk(args, progress, repeats["kiosk"]),
                                   failed_calls)
    results["raw"] = await phase("raw aiortc", bench_raw(args, progress, repeats["raw aiortc"]),
                                 failed_calls)
    if args.no_chromium:
        results["chromium"] = {"error": "skipped (--no-chromium)", "calls": [], "stamped": None}
    else:
        results["chromium"] = await phase(
            "Chromium", bench_chromium(args, progress, repeats["Chromium"]),
            lambda err: {"error": err, "calls": [], "stamped": None})
        if results["chromium"].get("error"):
            progress(f"Chromium reference missing: {results['chromium']['error']} "
                     "(the aiortc figures are still written)")
    results["elapsed_s"] = time.monotonic() - started
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    warnings = WarningCounter()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addHandler(warnings)
    # Last resort against a hang inside native code: dump every thread's stack and exit.
    phases = 2 + (0 if args.no_chromium else 1)
    hard_limit = phases * phase_budget(args) + args.quiet_wait + 120
    faulthandler.dump_traceback_later(hard_limit, exit=True)
    try:
        results = asyncio.run(run(args, warnings))
    finally:
        faulthandler.cancel_dump_traceback_later()
    section = render(results)
    write_section(args.out, section)
    print(section)
    print(f"written to {args.out}", file=sys.stderr)
    failed = any(c.error for c in results["kiosk"] + results["raw"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
