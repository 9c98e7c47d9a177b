"""Dispatch load benchmark: many kiosks and interpreters on ONE dispatch process.

Run on demand (it is not part of the test suite), from the repository root::

    .venv/bin/python bench/dispatch_load.py --kiosks 2000 --interpreters 200 --rate 50 --seconds 30

What it does:

1. Registers the kiosks and interpreters in a fresh accounts database
   (``<data_dir>/accounts.sqlite3``; interpreter passwords hashed with ``ScryptParams(n=2**10)``
   instead of production's 2**17, so that 200 logins take a second and not a minute).
2. Starts dispatch (``kiosk.dispatch.serve``) in a **separate process** running this same file
   with ``--_dispatch-child``: its own event loop and its own CPU, records written to real SQLite
   files in ``data_dir`` (WAL, ``synchronous=FULL``, as in production), log at INFO to a file, as
   ``kiosk dispatch`` logs. The load generator is this process: one asyncio loop, aiohttp
   WebSocket clients (no uvloop).
3. Connects the interpreters (hello, ``presence`` available) and then the kiosks (hello), and
   measures connect + hello times; lets everything sit idle for a few seconds to see the cost of
   the idle connections (heartbeats).
4. Places calls at ``--rate`` per second for ``--seconds``: an idle kiosk sends ``call_request``;
   the rung interpreter accepts at once and hangs up after ``--call-length`` s; on ``accepted``
   the kiosk sends a small fake SDP ``offer``; on ``call_ended`` it uploads its
   ``session_record`` and waits for ``record_ack``. Then it waits for the calls in progress to end.
5. Reports routing delay (kiosk sends ``call_request`` → interpreter receives ``ring``; both
   sockets live in this process, so both ends are read from one ``time.perf_counter``), offer
   relay and record-ack delays, dispatch RSS and CPU (from ``/proc/<pid>``), and this process's
   own CPU and event-loop lag (is the load generator itself the bottleneck?).

``--profile FILE`` runs cProfile inside the dispatch process during the call phase (the figures
of such a run are inflated by the profiler) and summarises where dispatch's time goes.

The figures replace this benchmark's section of ``docs/performance.md`` (between
``<!-- dispatch_load:start -->`` and ``<!-- dispatch_load:end -->``); other sections stay.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import logging
import math
import os
import platform
import pstats
import random
import resource
import shlex
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from _report import cpu_model, free_port, mem_total_gib, pkg_version  # noqa: E402  (shared)

from kiosk import protocol  # noqa: E402
from kiosk.dispatch.accounts import Accounts, ScryptParams  # noqa: E402
from kiosk.protocol import (  # noqa: E402
    Accept, CallRequest, Hangup, Hello, Offer, Presence, SessionRecordUpload,
)

log = logging.getLogger("bench.dispatch_load")

DEFAULT_OUT = ROOT / "docs" / "performance.md"
SECTION_START = "<!-- dispatch_load:start -->"
SECTION_END = "<!-- dispatch_load:end -->"
PROFILE_START = "<!-- dispatch_load:profile:start -->"
PROFILE_END = "<!-- dispatch_load:profile:end -->"
RUNS_START = "<!-- dispatch_load:runs:start -->"
RUNS_END = "<!-- dispatch_load:runs:end -->"

BENCH_SCRYPT = ScryptParams(n=2 ** 10)
PASSWORD = "bench-password"
TARGET_P99_MS = 20.0
SDP_OFFER = ("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
             "a=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
             "a=rtpmap:96 VP8/90000\r\na=mid:0\r\na=sendrecv\r\n")
CHILD_LAG_INTERVAL_S = 0.01
LOAD_LAG_INTERVAL_S = 0.005
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- small helpers ----------------------------------------------------------------------------


def pct(values: list[float], p: float) -> Optional[float]:
    """Nearest-rank percentile (p in 0..100) of ``values``; None if empty."""
    if not values:
        return None
    s = sorted(values)
    k = max(1, math.ceil(p / 100 * len(s)))
    return s[min(k, len(s)) - 1]


def summary(values: list[float]) -> dict:
    return {"n": len(values), "median": pct(values, 50), "p90": pct(values, 90),
            "p99": pct(values, 99), "max": max(values) if values else None}


def fmt(v: Optional[float], digits: int = 1) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def proc_cpu_s(pid: int) -> float:
    """user + system CPU seconds of process ``pid`` (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def proc_status_kib(pid: int, key: str) -> Optional[int]:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def machine_busy() -> tuple[float, float, float]:
    """(busy jiffies, total jiffies, steal jiffies) of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    total = sum(parts[:8])  # guest times are already counted in user/nice
    idle = parts[3] + parts[4]  # idle + iowait
    steal = parts[7] if len(parts) > 7 else 0
    return total - idle - steal, total, steal


def self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system




def filesystem_of(path: Path) -> str:
    best, fs = "", "?"
    try:
        with open("/proc/mounts") as f:
            for line in f:
                dev, mnt, kind = line.split()[:3]
                if str(path).startswith(mnt) and len(mnt) > len(best):
                    best, fs = mnt, f"{kind} on {dev}"
    except OSError:
        pass
    return fs








def raise_nofile() -> tuple[int, int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit; (soft before, soft after, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    new = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if new > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise RLIMIT_NOFILE from %d to %d: %s", soft, new, exc)
    return soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard


class Probe:
    """Event-loop lag (a sleep that wakes late) and garbage-collector pauses of one process,
    with ``time.perf_counter`` stamps (CLOCK_MONOTONIC on Linux: the same clock in both
    processes, so events can be lined up with the calls)."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.lags: list[tuple[float, float]] = []  # (when, ms late)
        self.gcs: list[tuple[float, int, float]] = []  # (when, generation, ms)
        self._gc_start = 0.0
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict) -> None:
        t = time.perf_counter()
        if phase == "start":
            self._gc_start = t
        else:
            self.gcs.append((t, info.get("generation", -1), (t - self._gc_start) * 1000))

    async def run(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(self.interval_s)
            now = time.perf_counter()
            self.lags.append((now, (now - t - self.interval_s) * 1000))

    def reset(self) -> None:
        self.lags.clear()
        self.gcs.clear()

    def stats(self) -> dict:
        lags = [x for _, x in self.lags]
        by_gen = {}
        for g in (0, 1, 2):
            ms = [x for _, gen, x in self.gcs if gen == g]
            by_gen[str(g)] = {"n": len(ms), "max": max(ms) if ms else None, "total": sum(ms)}
        return {"lag_ms": summary(lags), "lag_over_20ms": sum(1 for x in lags if x > 20),
                "lag_events": [(t, x) for t, x in self.lags if x > 5][:500],
                "gc": by_gen, "gc_events": [(t, g, x) for t, g, x in self.gcs if x > 2][:500]}


class BenchError(RuntimeError):
    """Something that stops the benchmark; ``str()`` says what, for a person."""


# --- the dispatch process ---------------------------------------------------------------------


def child_main(args: argparse.Namespace) -> int:
    """Runs in the dispatch process: serve(), then obey one-line commands on stdin and answer
    with one JSON line each on stdout. The log goes to stderr (a file, set up by the parent)."""
    logging.basicConfig(level=getattr(logging, args.log_level),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("aioice", "aiortc", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        asyncio.run(_child(args))
    except Exception as exc:  # the parent reads the reason from the JSON line
        logging.getLogger("bench").exception("dispatch child failed")
        print(json.dumps({"event": "failed", "error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    return 0


class _Timed:
    """Wraps a method of a store object: how long each call takes on dispatch's loop thread."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.samples: list[float] = []

    def __call__(self, *a, **kw):
        t = time.perf_counter()
        try:
            return self.fn(*a, **kw)
        finally:
            self.samples.append((time.perf_counter() - t) * 1000)


async def _child(args: argparse.Namespace) -> None:
    from kiosk.dispatch.app import DispatchSettings, serve

    settings = DispatchSettings(host="127.0.0.1", port=args.port, data_dir=Path(args.data_dir),
                                heartbeat_s=args.heartbeat, ring_timeout_s=args.ring_timeout,
                                wrap_up_s=args.wrap_up, scrypt=BENCH_SCRYPT)
    running = await serve(settings)
    # time the synchronous SQLite work done on the loop thread (instance attributes shadow the
    # methods; product code is not changed)
    timed: dict[str, _Timed] = {}
    for obj, name in ((running.records, "put_routing"), (running.records, "put_kiosk_record"),
                      (running.accounts, "check_kiosk")):
        timed[name] = _Timed(getattr(obj, name))
        setattr(obj, name, timed[name])

    probe = Probe(CHILD_LAG_INTERVAL_S)
    monitor = asyncio.get_running_loop().create_task(probe.run())
    profiler: Optional[cProfile.Profile] = None
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def reply(**body: Any) -> None:
        sys.stdout.write(json.dumps(body) + "\n")
        sys.stdout.flush()

    reply(event="ready", pid=os.getpid(), port=args.port)
    try:
        while True:
            line = (await reader.readline()).decode().strip()
            if not line or line == "quit":
                break
            if line == "reset":
                probe.reset()
                for t in timed.values():
                    t.samples.clear()
                reply(event="reset")
            elif line == "stats":
                reply(event="stats", **probe.stats(),
                      timed={k: {**summary(t.samples), "total_ms": sum(t.samples)}
                             for k, t in timed.items()},
                      health=running.hub.health())
            elif line == "profile_on" and args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                reply(event="profile_on")
            elif line == "profile_off" and profiler is not None:
                profiler.disable()
                profiler.dump_stats(args.profile)
                profiler = None
                reply(event="profile_off", path=args.profile)
            else:
                reply(event="unknown", command=line)
    finally:
        if profiler is not None:
            profiler.disable()
        monitor.cancel()
        await running.stop()
        reply(event="stopped")


class DispatchProcess:
    """The parent's handle on the dispatch process."""

    def __init__(self, args: argparse.Namespace, data_dir: Path, port: int) -> None:
        self.args = args
        self.data_dir = data_dir
        self.port = port
        self.log_path = data_dir / "dispatch.log"
        self.proc: Optional[asyncio.subprocess.Process] = None
        self.pid = 0

    async def start(self) -> None:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--_dispatch-child",
               "--data-dir", str(self.data_dir), "--port", str(self.port),
               "--wrap-up", str(self.args.wrap_up), "--ring-timeout", str(self.args.ring_timeout),
               "--heartbeat", str(self.args.heartbeat), "--log-level", self.args.log_level]
        if self.args.profile:
            cmd += ["--profile", str(Path(self.args.profile).resolve())]
        self._log_file = open(self.log_path, "wb")
        self.proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=self._log_file, cwd=str(ROOT))
        self.pid = self.proc.pid
        ready = await self._read("ready", timeout=30)
        if ready.get("pid") != self.pid:
            raise BenchError(f"dispatch child reported pid {ready.get('pid')}, expected {self.pid}")

    async def _read(self, event: str, timeout: float) -> dict:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"dispatch process: no '{event}' within {timeout:.0f} s "
                                 f"(see {self.log_path})")
            try:
                line = await asyncio.wait_for(self.proc.stdout.readline(), left)
            except asyncio.TimeoutError:
                continue
            if not line:
                rc = await asyncio.wait_for(self.proc.wait(), 5)
                raise BenchError(f"dispatch process exited (code {rc}) while waiting for "
                                 f"'{event}'; its log: {self.log_path}\n{self.log_tail()}")
            body = json.loads(line)
            if body.get("event") == "failed":
                raise BenchError(f"dispatch process failed: {body.get('error')} (log: {self.log_path})")
            if body.get("event") == event:
                return body

    async def command(self, cmd: str, event: str, timeout: float = 30) -> dict:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((cmd + "\n").encode())
        await self.proc.stdin.drain()
        return await self._read(event, timeout)

    def cpu_s(self) -> float:
        return proc_cpu_s(self.pid)

    def rss_mib(self) -> float:
        return (proc_status_kib(self.pid, "VmRSS") or 0) / 1024

    def hwm_mib(self) -> float:
        return (proc_status_kib(self.pid, "VmHWM") or 0) / 1024

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    async def stop(self) -> None:
        if self.proc is None:
            return
        try:
            if self.proc.returncode is None:
                try:
                    await self.command("quit", "stopped", timeout=20)
                except (BenchError, ConnectionError, OSError) as exc:
                    log.warning("dispatch did not stop cleanly: %s", exc)
                try:
                    await asyncio.wait_for(self.proc.wait(), 10)
                except asyncio.TimeoutError:
                    log.warning("dispatch process %d still running: terminating it", self.pid)
                    self.proc.terminate()
                    try:
                        await asyncio.wait_for(self.proc.wait(), 5)
                    except asyncio.TimeoutError:
                        self.proc.kill()
                        await self.proc.wait()
        finally:
            self._log_file.close()


# --- the load generator -----------------------------------------------------------------------


@dataclass(eq=False)
class CallTimes:
    sid: str
    kiosk: "KioskPeer"
    t_request: float
    t_queued: Optional[float] = None
    t_ring: Optional[float] = None
    waited_s: Optional[float] = None  # dispatch's own figure in the ring
    interpreter: Optional[str] = None
    t_accept: Optional[float] = None
    t_accepted: Optional[float] = None
    t_offer: Optional[float] = None
    t_offer_rx: Optional[float] = None
    t_hangup: Optional[float] = None
    t_ended: Optional[float] = None
    t_record: Optional[float] = None
    t_ack: Optional[float] = None
    wall_request: float = field(default_factory=time.time)
    outcome: Optional[str] = None


class Peer:
    def __init__(self, bench: "Bench", pid: str, credential: str) -> None:
        self.bench = bench
        self.id = pid
        self.credential = credential
        self.ws: Optional[aiohttp.ClientWebSocketResponse] = None
        self.reader: Optional[asyncio.Task] = None
        self.connect_ms: Optional[float] = None

    async def send(self, msg) -> None:
        assert self.ws is not None
        await self.ws.send_str(protocol.encode(msg))

    async def connect(self, hello: Hello, heartbeat: Optional[float]) -> None:
        timeout = self.bench.args.connect_timeout
        t0 = time.perf_counter()
        self.ws = await asyncio.wait_for(
            self.bench.session.ws_connect(self.bench.url, heartbeat=heartbeat, autoping=True,
                                          max_msg_size=4 * protocol.MAX_MESSAGE_BYTES),
            timeout)
        await self.send(hello)
        frame = await self.ws.receive(timeout=timeout)
        if frame.type is not aiohttp.WSMsgType.TEXT:
            raise BenchError(f"{self.id}: expected welcome, got {frame.type.name} {frame.extra or ''}")
        msg = json.loads(frame.data)
        if msg.get("type") != "welcome":
            raise BenchError(f"{self.id}: hello refused: {msg}")
        self.connect_ms = (time.perf_counter() - t0) * 1000
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                now = time.perf_counter()
                if frame.type is aiohttp.WSMsgType.TEXT:
                    try:
                        msg = protocol.decode(frame.data)
                    except protocol.ProtocolError as exc:
                        self.bench.problem(f"{self.id}: undecodable message from dispatch: {exc.message}")
                        continue
                    await self.on_message(msg, now)
                else:
                    self.bench.problem(f"{self.id}: unexpected frame {frame.type.name}")
        except Exception as exc:  # a bug here must show, not vanish in a task
            self.bench.problem(f"{self.id}: reader failed: {type(exc).__name__}: {exc}")
        finally:
            if not self.bench.stopping:
                self.bench.problem(f"{self.id}: connection closed by dispatch "
                                   f"(code {self.ws.close_code})")
                self.on_lost()

    async def on_message(self, msg, now: float) -> None:
        raise NotImplementedError

    def on_lost(self) -> None:
        pass

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()


class InterpreterPeer(Peer):
    def __init__(self, bench: "Bench", pid: str, credential: str) -> None:
        super().__init__(bench, pid, credential)
        self.state = "away"
        self.available = asyncio.Event()

    async def on_message(self, msg, now: float) -> None:
        kind = msg.type
        b = self.bench
        b.received[f"interpreter:{kind}"] += 1
        if kind == "ring":
            call = b.calls.get(msg.session_id)
            if call is None:
                b.problem(f"{self.id}: ring for an unknown session {msg.session_id}")
                return
            call.t_ring, call.waited_s, call.interpreter = now, msg.waited_s, self.id
            call.t_accept = time.perf_counter()
            await self.send(Accept(session_id=msg.session_id))
        elif kind == "offer":
            call = b.calls.get(msg.session_id)
            if call is not None:
                call.t_offer_rx = now
            b.spawn(self._hang_up_later(msg.session_id))
        elif kind == "status":
            self.state = msg.state
            if msg.state == "available":
                self.available.set()
            elif msg.state == "away" and b.calls_started:
                b.problem(f"{self.id}: set away by dispatch ({msg.reason})")
        elif kind == "call_ended":
            b.problem(f"{self.id}: call {msg.session_id} ended by dispatch: {msg.reason}")
        elif kind == "error":
            b.errors[f"interpreter {msg.code}: {msg.message}"] += 1
        # anything else (welcome repeats, answers...) is ignored

    async def _hang_up_later(self, sid: str) -> None:
        await asyncio.sleep(self.bench.args.call_length)
        call = self.bench.calls.get(sid)
        if call is None or self.ws is None or self.ws.closed:
            return
        call.t_hangup = time.perf_counter()
        await self.send(Hangup(session_id=sid, reason="completed"))


class KioskPeer(Peer):
    def __init__(self, bench: "Bench", pid: str, credential: str, location: str) -> None:
        super().__init__(bench, pid, credential)
        self.location = location
        self.call: Optional[CallTimes] = None

    async def on_message(self, msg, now: float) -> None:
        kind = msg.type
        b = self.bench
        b.received[f"kiosk:{kind}"] += 1
        call = self.call
        if kind == "error":
            b.errors[f"kiosk {msg.code}: {msg.message}"] += 1
            if call is not None and msg.session_id == call.sid and msg.ref_type == "call_request":
                b.finish(call, "refused")
            return
        if call is None or getattr(msg, "session_id", None) != call.sid:
            if kind not in ("welcome",):
                b.problem(f"{self.id}: {kind} for a session it does not have")
            return
        if kind == "queued":
            if call.t_queued is None:
                call.t_queued = now
        elif kind == "accepted":
            call.t_accepted = now
            call.t_offer = time.perf_counter()
            await self.send(Offer(session_id=call.sid, sdp=SDP_OFFER))
        elif kind == "call_ended":
            call.t_ended = now
            wall = time.time()
            requested = call.wall_request
            answered = requested + (call.t_accepted - call.t_request) if call.t_accepted else None
            rec = SessionRecordUpload(
                session_id=call.sid, kiosk_id=self.id, started_by="resident", category=None,
                state="ended", requested_at=requested, answered_at=answered,
                connected_at=answered, ended_at=wall,
                wait_s=round(answered - requested, 3) if answered else None,
                talk_s=round(wall - answered, 3) if answered else None,
                end_reason="completed", ended_by="interpreter", interpreter_id=call.interpreter,
                rating=None, rated_at=None, app_version="bench")
            call.t_record = time.perf_counter()
            await self.send(rec)
        elif kind == "record_ack":
            call.t_ack = now
            b.finish(call, "completed")
        elif kind == "unavailable":
            b.problem(f"{self.id}: call unavailable: {msg.reason}")
            b.finish(call, f"unavailable:{msg.reason}")
        # ringing and others: nothing to do

    def on_lost(self) -> None:
        if self.call is not None:
            self.bench.finish(self.call, "kiosk_lost")


class Bench:
    def __init__(self, args: argparse.Namespace, url: str) -> None:
        self.args = args
        self.url = url
        self.session: aiohttp.ClientSession
        self.kiosks: list[KioskPeer] = []
        self.interpreters: list[InterpreterPeer] = []
        self.idle: deque[KioskPeer] = deque()
        self.calls: dict[str, CallTimes] = {}  # every call placed, kept for the figures
        self.outstanding = 0
        self.drained = asyncio.Event()
        self.outcomes: Counter = Counter()
        self.received: Counter = Counter()
        self.errors: Counter = Counter()
        self.problems: Counter = Counter()
        self.problem_examples: list[str] = []
        self.stopping = False
        self.calls_started = False
        self.no_idle_kiosk = 0
        self._tasks: set[asyncio.Task] = set()

    def problem(self, text: str) -> None:
        key = text.split(":", 1)[1].strip() if ":" in text else text
        self.problems[key.split(" (")[0][:80]] += 1
        if len(self.problem_examples) < 10:
            self.problem_examples.append(text)
            log.warning("%s", text)

    def spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def finish(self, call: CallTimes, outcome: str) -> None:
        if call.outcome is not None:
            return
        call.outcome = outcome
        self.outcomes[outcome] += 1
        if call.kiosk.call is call:
            call.kiosk.call = None
            self.idle.append(call.kiosk)
        self.outstanding -= 1
        if self.outstanding == 0:
            self.drained.set()

    async def place_call(self) -> bool:
        if not self.idle:
            self.no_idle_kiosk += 1
            return False
        kiosk = self.idle.popleft()
        sid = str(uuid.uuid4())
        msg = protocol.encode(CallRequest(session_id=sid))
        call = CallTimes(sid, kiosk, t_request=0.0)
        kiosk.call = call
        self.calls[sid] = call
        self.outstanding += 1
        self.drained.clear()
        call.t_request = time.perf_counter()
        await kiosk.ws.send_str(msg)
        return True


async def connect_all(bench: Bench, peers: list[Peer], hello_of, heartbeat: Optional[float],
                      what: str) -> float:
    """Connects ``peers`` (at most --connect-concurrency at once); returns the wall time in s."""
    sem = asyncio.Semaphore(bench.args.connect_concurrency)
    failures: list[str] = []

    async def one(peer: Peer) -> None:
        async with sem:
            if failures and len(failures) >= 20:
                return
            try:
                await peer.connect(hello_of(peer), heartbeat)
            except asyncio.TimeoutError:
                failures.append(f"{peer.id}: no connection/welcome within {bench.args.connect_timeout} s")
            except (aiohttp.ClientError, OSError, BenchError) as exc:
                failures.append(f"{peer.id}: {type(exc).__name__}: {exc}")

    t0 = time.perf_counter()
    await asyncio.gather(*(one(p) for p in peers))
    wall = time.perf_counter() - t0
    if failures:
        hint = ""
        if any("Too many open files" in f for f in failures):
            hint = " (file descriptors: raise the hard RLIMIT_NOFILE, `ulimit -Hn`)"
        raise BenchError(f"{len(failures)}+ {what} could not connect{hint}; first: "
                         + "; ".join(failures[:5]))
    return wall


async def cpu_sampler(disp: DispatchProcess, series: list[dict]) -> None:
    """Once a second: CPU share (of one core) of dispatch and of this process, machine busy cores."""
    last_t, last_d, last_s, last_m = time.perf_counter(), disp.cpu_s(), self_cpu_s(), machine_busy()
    while True:
        await asyncio.sleep(1.0)
        t, d, s, m = time.perf_counter(), disp.cpu_s(), self_cpu_s(), machine_busy()
        dt = t - last_t
        ticks = max(1, m[1] - last_m[1])
        machine = (m[0] - last_m[0]) / ticks * os.cpu_count()
        entry = {"t": t, "dispatch": (d - last_d) / dt, "load": (s - last_s) / dt,
                 "machine": machine, "steal": (m[2] - last_m[2]) / ticks * os.cpu_count(),
                 "rss": disp.rss_mib()}
        entry["other"] = max(0.0, machine - entry["dispatch"] - entry["load"])
        series.append(entry)
        last_t, last_d, last_s, last_m = t, d, s, m


async def run_bench(args: argparse.Namespace, nofile: tuple[int, int, int]) -> dict:
    r: dict[str, Any] = {"args": vars(args).copy(), "nofile": nofile}
    own_dir = args.data_dir is None
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="dispatch_load-")).resolve()
    if (data_dir / "accounts.sqlite3").exists() or (data_dir / "central.sqlite3").exists():
        raise BenchError(f"{data_dir} already holds dispatch databases; give an empty --data-dir")
    data_dir.mkdir(parents=True, exist_ok=True)
    r["data_dir"] = str(data_dir)
    r["data_fs"] = filesystem_of(data_dir)

    # --- accounts -------------------------------------------------------------------------
    t0 = time.perf_counter()
    accounts = Accounts(data_dir / "accounts.sqlite3", BENCH_SCRYPT)
    try:
        interp_ids = [f"interp-{i:04d}" for i in range(args.interpreters)]
        for iid in interp_ids:
            accounts.add_interpreter(iid, PASSWORD)
        kiosk_tokens = {}
        for i in range(args.kiosks):
            kid = f"kiosk-{i:05d}"
            kiosk_tokens[kid] = accounts.add_kiosk(kid, f"Counter {i}")
    finally:
        accounts.close()
    r["register_s"] = time.perf_counter() - t0
    print(f"registered {args.kiosks} kiosks and {args.interpreters} interpreters in "
          f"{r['register_s']:.1f} s ({data_dir})", flush=True)

    port = args.port or free_port()
    disp = DispatchProcess(args, data_dir, port)
    session: Optional[aiohttp.ClientSession] = None
    bench = Bench(args, f"http://127.0.0.1:{port}/ws")
    load_probe = Probe(LOAD_LAG_INTERVAL_S)
    tasks: list[asyncio.Task] = []
    loop = asyncio.get_running_loop()
    try:
        await disp.start()
        r["dispatch_pid"] = disp.pid
        await asyncio.sleep(0.5)
        r["rss_start"] = disp.rss_mib()
        print(f"dispatch pid {disp.pid} on port {port}: RSS {r['rss_start']:.1f} MiB", flush=True)

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=False))
        bench.session = session
        tasks.append(loop.create_task(load_probe.run()))

        # --- interpreters ---------------------------------------------------------------------
        bench.interpreters = [InterpreterPeer(bench, iid, PASSWORD) for iid in interp_ids]
        cpu0 = disp.cpu_s()
        r["interp_connect_s"] = await connect_all(
            bench, bench.interpreters,
            lambda p: Hello(role="interpreter", id=p.id, credential=p.credential), None,
            "interpreters")
        for p in bench.interpreters:
            await p.send(Presence(state="available"))
        try:
            await asyncio.wait_for(asyncio.gather(*(p.available.wait() for p in bench.interpreters)),
                                   args.connect_timeout)
        except asyncio.TimeoutError:
            n = sum(1 for p in bench.interpreters if not p.available.is_set())
            raise BenchError(f"{n} interpreters not available {args.connect_timeout} s after "
                             f"presence available") from None
        r["interp_connect_ms"] = summary([p.connect_ms for p in bench.interpreters])
        print(f"{len(bench.interpreters)} interpreters logged in and available in "
              f"{r['interp_connect_s']:.2f} s", flush=True)

        # --- kiosks ---------------------------------------------------------------------------
        bench.kiosks = [KioskPeer(bench, kid, tok, f"Counter {i}")
                        for i, (kid, tok) in enumerate(kiosk_tokens.items())]
        heartbeat = args.kiosk_heartbeat or None
        r["kiosk_connect_s"] = await connect_all(
            bench, bench.kiosks,
            lambda p: Hello(role="kiosk", id=p.id, credential=p.credential, location=p.location),
            heartbeat, "kiosks")
        r["connect_cpu_s"] = disp.cpu_s() - cpu0
        r["kiosk_connect_ms"] = summary([p.connect_ms for p in bench.kiosks])
        idle_order = list(bench.kiosks)
        random.Random(1).shuffle(idle_order)
        bench.idle.extend(idle_order)
        await asyncio.sleep(0.5)
        r["rss_connected"] = disp.rss_mib()
        r["fds"] = len(os.listdir(f"/proc/{disp.pid}/fd"))
        print(f"{len(bench.kiosks)} kiosks connected in {r['kiosk_connect_s']:.2f} s; dispatch "
              f"RSS {r['rss_connected']:.1f} MiB, {r['fds']} open files", flush=True)
        health = (await disp.command("stats", "stats"))["health"]
        r["health_connected"] = health
        if health["kiosks_online"] != args.kiosks or health["interpreters_available"] != args.interpreters:
            raise BenchError(f"dispatch does not see everyone: {health}")

        # --- idle: the cost of the connections alone ----------------------------------------
        c0, t_0 = disp.cpu_s(), time.perf_counter()
        await asyncio.sleep(args.idle_seconds)
        r["idle_cpu_share"] = (disp.cpu_s() - c0) / (time.perf_counter() - t_0)

        # --- calls ----------------------------------------------------------------------------
        await disp.command("reset", "reset")
        if args.profile:
            await disp.command("profile_on", "profile_on")
        load_probe.reset()
        series: list[dict] = []
        sampler = loop.create_task(cpu_sampler(disp, series))
        tasks.append(sampler)
        bench.calls_started = True
        d_cpu0, s_cpu0, m0, t_calls0 = disp.cpu_s(), self_cpu_s(), machine_busy(), time.perf_counter()
        n_calls = int(round(args.rate * args.seconds))
        slips: list[float] = []
        placed = 0
        print(f"placing {n_calls} calls at {args.rate}/s for {args.seconds:g} s ...", flush=True)
        for i in range(n_calls):
            target = t_calls0 + i / args.rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            slips.append((time.perf_counter() - target) * 1000)
            if await bench.place_call():
                placed += 1
        t_placed = time.perf_counter()
        r["placing_s"] = t_placed - t_calls0
        r["schedule_slip_ms"] = summary(slips)
        drain_timeout = args.call_length + args.wrap_up + args.drain_timeout
        if bench.outstanding:
            try:
                await asyncio.wait_for(bench.drained.wait(), drain_timeout)
            except asyncio.TimeoutError:
                pass
        t_end = time.perf_counter()
        r["drain_s"] = t_end - t_placed
        r["unfinished"] = bench.outstanding
        r["calls_wall_s"] = t_end - t_calls0
        r["dispatch_cpu_s"] = disp.cpu_s() - d_cpu0
        r["load_cpu_s"] = self_cpu_s() - s_cpu0
        m1 = machine_busy()
        r["machine_busy_cores"] = (m1[0] - m0[0]) / max(1, m1[1] - m0[1]) * os.cpu_count()
        r["steal_cores"] = (m1[2] - m0[2]) / max(1, m1[1] - m0[1]) * os.cpu_count()
        r["other_cores"] = max(0.0, r["machine_busy_cores"]
                               - (r["dispatch_cpu_s"] + r["load_cpu_s"]) / r["calls_wall_s"])
        sampler.cancel()
        if args.profile:
            await disp.command("profile_off", "profile_off", timeout=120)
        child = await disp.command("stats", "stats")
        r["child"] = child
        r["rss_end"] = disp.rss_mib()
        r["rss_peak"] = disp.hwm_mib()
        r["series"] = series
        r["placed"] = placed
        r["no_idle_kiosk"] = bench.no_idle_kiosk
        r["load"] = load_probe.stats()
        r["load_lag_ms"] = r["load"]["lag_ms"]
        r["t_calls0"] = t_calls0
        bench.calls_started = False

        calls = list(bench.calls.values())
        ok = lambda c, *attrs: all(getattr(c, a) is not None for a in attrs)  # noqa: E731
        r["answered"] = sum(1 for c in calls if c.t_accepted is not None)
        r["rung"] = sum(1 for c in calls if c.t_ring is not None)
        r["outcomes"] = dict(bench.outcomes)
        r["routing_ms"] = summary([(c.t_ring - c.t_request) * 1000 for c in calls if ok(c, "t_ring")])
        r["queued_ms"] = summary([(c.t_queued - c.t_request) * 1000 for c in calls if ok(c, "t_queued")])
        r["waited_ms"] = summary([c.waited_s * 1000 for c in calls if ok(c, "waited_s")])
        r["transit_ms"] = summary([(c.t_ring - c.t_request) * 1000 - c.waited_s * 1000 for c in calls
                                   if ok(c, "t_ring", "waited_s")])
        r["accept_ms"] = summary([(c.t_accepted - c.t_accept) * 1000 for c in calls
                                  if ok(c, "t_accepted", "t_accept")])
        r["offer_ms"] = summary([(c.t_offer_rx - c.t_offer) * 1000 for c in calls
                                 if ok(c, "t_offer_rx", "t_offer")])
        r["hangup_ms"] = summary([(c.t_ended - c.t_hangup) * 1000 for c in calls
                                  if ok(c, "t_ended", "t_hangup")])
        r["ack_ms"] = summary([(c.t_ack - c.t_record) * 1000 for c in calls if ok(c, "t_ack", "t_record")])
        r["seconds"] = per_second(calls, t_calls0, series, child, r["load"])
        r["errors"] = dict(bench.errors)
        r["problems"] = dict(bench.problems)
        r["problem_examples"] = bench.problem_examples
        r["received"] = dict(bench.received)
    finally:
        bench.stopping = True
        for t in tasks:
            t.cancel()
        peers: list[Peer] = [*bench.kiosks, *bench.interpreters]
        try:
            if peers:
                t_close = time.perf_counter()
                results = await asyncio.wait_for(
                    asyncio.gather(*(asyncio.wait_for(p.close(), 5) for p in peers),
                                   return_exceptions=True), 60)
                bad = sum(1 for x in results if isinstance(x, BaseException))
                r["close_s"] = time.perf_counter() - t_close
                if bad:
                    log.warning("%d connections did not close cleanly", bad)
            for t in list(bench._tasks):
                t.cancel()
            if session is not None:
                await asyncio.wait_for(session.close(), 10)
        except (asyncio.TimeoutError, OSError) as exc:
            log.warning("closing the client connections: %s", exc or type(exc).__name__)
        finally:
            await disp.stop()
        r["dispatch_log_tail"] = disp.log_tail(5)
        r["dispatch_warnings"] = count_log_warnings(disp.log_path)
        r["central"] = check_central(data_dir / "central.sqlite3")
        if own_dir and not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
            r["data_dir_removed"] = True
    return r


def per_second(calls: list[CallTimes], t0: float, series: list[dict], child: dict,
               load: dict) -> list[dict]:
    """Second by second of the call phase: routing delays of the calls requested in it, and what
    else happened then (loop lag and GC pauses in both processes, other processes' CPU)."""
    n = int(max((c.t_request for c in calls), default=t0) - t0) + 1
    rows = [{"second": i, "routing": [], "disp_lag": 0.0, "disp_gc": 0.0, "disp_gc_gen": None,
             "load_lag": 0.0, "load_gc": 0.0, "other": None, "steal": None, "dispatch_cpu": None}
            for i in range(n)]

    def at(t: float) -> Optional[dict]:
        i = int(math.floor(t - t0))
        return rows[i] if 0 <= i < n else None

    for c in calls:
        if c.t_ring is not None:
            rows[int(c.t_request - t0)]["routing"].append((c.t_ring - c.t_request) * 1000)
    for t, ms in child["lag_events"]:
        if (row := at(t)) is not None:
            row["disp_lag"] = max(row["disp_lag"], ms)
    for t, gen, ms in child["gc_events"]:
        if (row := at(t)) is not None and ms > row["disp_gc"]:
            row["disp_gc"], row["disp_gc_gen"] = ms, gen
    for t, ms in load["lag_events"]:
        if (row := at(t)) is not None:
            row["load_lag"] = max(row["load_lag"], ms)
    for t, gen, ms in load["gc_events"]:
        if (row := at(t)) is not None:
            row["load_gc"] = max(row["load_gc"], ms)
    for e in series:  # each sample covers the second before its time stamp
        if (row := at(e["t"] - 0.5)) is not None:
            row["other"], row["steal"], row["dispatch_cpu"] = e["other"], e["steal"], e["dispatch"]
    for row in rows:
        v = row.pop("routing")
        row.update(calls=len(v), p99=pct(v, 99), max=max(v) if v else None,
                   over_target=sum(1 for x in v if x > TARGET_P99_MS))
    return rows


def count_log_warnings(path: Path) -> dict:
    counts: Counter = Counter()
    try:
        with open(path, errors="replace") as f:
            for line in f:
                parts = line.split(" ", 4)
                if len(parts) >= 4 and parts[2] in ("WARNING", "ERROR", "CRITICAL"):
                    counts[f"{parts[2]} {parts[4].strip()[:90] if len(parts) > 4 else ''}"] += 1
    except OSError:
        pass
    return dict(counts.most_common(8))


def check_central(path: Path) -> dict:
    """What reached the central records: rows with dispatch's routing facts and the kiosk's record."""
    if not path.exists():
        return {"error": "no central.sqlite3"}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT COUNT(*), SUM(dispatch_outcome = 'answered'),"
                          " SUM(uploaded_at IS NOT NULL),"
                          " SUM(dispatch_outcome = 'answered' AND uploaded_at IS NOT NULL)"
                          " FROM sessions").fetchone()
        return {"rows": rows[0], "routed_answered": rows[1] or 0, "kiosk_records": rows[2] or 0,
                "both": rows[3] or 0,
                "journal_mode": db.execute("PRAGMA journal_mode").fetchone()[0]}
    finally:
        db.close()


# --- the profile -------------------------------------------------------------------------------


def _area(filename: str, funcname: str) -> str:
    f = filename.replace("\\", "/")
    if f == "~":  # a C function
        if "sqlite3" in funcname:
            return "SQLite (C calls: execute, commit incl. fsync)"
        if "poll" in funcname or "select" in funcname:
            return "waiting for I/O (epoll: idle)"
        if "_json" in funcname:
            return "json (C scanner/encoder)"
        if "_socket" in funcname or "recv" in funcname or "send" in funcname:
            return "socket system calls"
        return "other C builtins"
    for key, name in (("kiosk/dispatch/hub.py", "kiosk.dispatch.hub (routing, state)"),
                      ("kiosk/dispatch/records.py", "kiosk.dispatch.records (Python side)"),
                      ("kiosk/dispatch/accounts.py", "kiosk.dispatch.accounts"),
                      ("kiosk/dispatch/app.py", "kiosk.dispatch.app (WebSocket handler)"),
                      ("kiosk/protocol.py", "kiosk.protocol (decode/encode)"),
                      ("/aiohttp/", "aiohttp (HTTP, WebSocket frames, heartbeats)"),
                      ("/asyncio/", "asyncio (event loop, tasks)"),
                      ("/json/", "json"), ("/logging/", "logging (INFO lines to the log file)"),
                      ("dataclasses.py", "dataclasses (asdict in encode)"),
                      ("typing.py", "typing (get_origin/get_args in decode)"),
                      ("bench/dispatch_load.py", "benchmark instrumentation (timers, lag probe)")):
        if key in f:
            return name
    return "other Python"


def profile_report(path: str, top: int = 15) -> dict:
    st = pstats.Stats(path)
    total = st.total_tt
    areas: Counter = Counter()
    rows = []
    for (filename, line, funcname), (cc, nc, tt, ct, callers) in st.stats.items():
        areas[_area(filename, funcname)] += tt
        rows.append((tt, ct, nc, filename, line, funcname))
    rows.sort(reverse=True)
    short = lambda fn: fn if fn == "~" else "/".join(Path(fn).parts[-2:])  # noqa: E731
    top_rows = [{"tottime_s": tt, "cumtime_s": ct, "calls": nc,
                 "where": f"{short(fn)}:{ln}({func})" if fn != "~" else func}
                for tt, ct, nc, fn, ln, func in rows[:top]]
    cum_rows = []
    wanted = ("on_text", "_from_kiosk", "_from_interpreter", "_call_request", "_route", "_ring",
              "_hang_up", "_forget", "_record_upload", "put_routing", "put_kiosk_record",
              "decode", "encode", "send_str", "_ws", "_status", "_tell_position", "_end_hopeless",
              "_estimate", "_release", "_wrap_up_over", "emit")
    for tt, ct, nc, fn, ln, func in sorted(rows, key=lambda x: -x[1]):
        if func in wanted and ("kiosk/" in fn or "aiohttp" in fn or "logging" in fn):
            cum_rows.append({"cumtime_s": ct, "calls": nc, "where": f"{short(fn)}:{ln}({func})"})
    return {"total_s": total, "areas": areas.most_common(), "top": top_rows, "cum": cum_rows[:18]}


# --- the report --------------------------------------------------------------------------------


def machine_facts() -> dict:
    return {"nproc": os.cpu_count(), "cpu": cpu_model(), "mem_gib": mem_total_gib(),
            "kernel": platform.release(), "python": platform.python_version(),
            "aiohttp": pkg_version("aiohttp"),
            "uvloop": pkg_version("uvloop"),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def render(r: dict, facts: dict, command: str, prof: Optional[dict]) -> str:
    a = r["args"]
    L: list[str] = []
    routing = r["routing_ms"]
    p99 = routing["p99"]
    met = p99 is not None and p99 <= TARGET_P99_MS and not r["unfinished"]
    wall = r["calls_wall_s"]
    completed = r["outcomes"].get("completed", 0)
    disp_share = r["dispatch_cpu_s"] / wall if wall else 0
    load_share = r["load_cpu_s"] / wall if wall else 0
    series = r.get("series") or []
    max_disp = max((s["dispatch"] for s in series), default=None)
    max_load = max((s["load"] for s in series), default=None)
    child = r["child"]
    lag = child["lag_ms"]
    load_lag = r["load_lag_ms"]
    verdict = (f"MET, p99 {fmt(p99)} ms ≤ {TARGET_P99_MS:.0f} ms" if met else
               f"MISSED, p99 {fmt(p99)} ms > {TARGET_P99_MS:.0f} ms" if p99 is not None and p99 > TARGET_P99_MS
               else f"NOT MET, p99 {fmt(p99)} ms, {r['unfinished']} calls unfinished")

    L.append(f"## Dispatch load benchmark (`bench/dispatch_load.py`)")
    L.append("")
    L.append(f"Measured {facts['date']} on this machine: **{facts['nproc']} CPUs** (`nproc`), "
             f"{facts['cpu']}, {fmt(facts['mem_gib'])} GiB RAM, Linux {facts['kernel']}. "
             f"Python {facts['python']}, aiohttp {facts['aiohttp']}, default asyncio event loop "
             f"(uvloop {facts['uvloop']}). Loopback only (127.0.0.1).")
    L.append("")
    L.append("Reproduce (from the repository root):")
    L.append("")
    L.append("```sh")
    L.append(command)
    L.append("```")
    L.append("")
    L.append(f"**Target** (product requirement): routing delay p99 ≤ {TARGET_P99_MS:.0f} ms with "
             f"2,000 kiosks and 200 interpreters on one dispatch process at 50 calls/s. "
             f"**This run ({a['kiosks']} kiosks, {a['interpreters']} interpreters, {a['rate']:g} "
             f"calls/s): {verdict}.**")
    if capacity_short(a):
        L.append("")
        L.append(f"*Capacity note: {a['rate']:g} calls/s × ({a['call_length']:g} s call + "
                 f"{a['wrap_up']:g} s wrap-up) needs ~{needed(a):.0f} interpreters busy, more than "
                 f"the {a['interpreters']} connected: calls queue at dispatch, and the routing delay "
                 f"here is mostly that queueing (see dispatch's own `waited_s`), not dispatch's speed.*")
    if prof is not None:
        L.append("")
        L.append("*This run had cProfile on inside dispatch during the call phase (`--profile`): its "
                 "delays and CPU figures are inflated by the profiler; use a run without it for the "
                 "figures.*")
    L.append("")
    L.append("### Set-up")
    L.append("")
    L.append(f"- {a['kiosks']} kiosks and {a['interpreters']} interpreters connected over WebSocket "
             f"to **one** dispatch process (`kiosk.dispatch.serve`) started as a separate process; "
             f"the load generator (all the kiosks and interpreters) is one asyncio process with "
             f"aiohttp clients. The two processes share the machine's {facts['nproc']} cores.")
    L.append(f"- Dispatch settings: `wrap_up_s={a['wrap_up']:g}`, `ring_timeout_s={a['ring_timeout']:g}`, "
             f"`heartbeat_s={a['heartbeat']:g}` (production default); log at {a['log_level']} to a "
             f"file, as `kiosk dispatch` logs (a few lines per call); accounts and central records in "
             f"real SQLite files (WAL, `synchronous=FULL`, as in production) in a temporary directory "
             f"on {r['data_fs']}. Kiosk clients send WebSocket pings every "
             f"{a['kiosk_heartbeat']:g} s as `kiosk/call/signaling.py` does; interpreter clients "
             f"(browsers in real life) send none.")
    L.append(f"- Interpreter accounts use `ScryptParams(n=2**10)` instead of production's 2**17 so that "
             f"{a['interpreters']} logins take about a second instead of about a minute (each 2**17 "
             f"check costs ~0.3 s and 128 MiB; see `kiosk/dispatch/accounts.py`); the interpreter "
             f"connect times below are therefore lower than production's. Registering the accounts "
             f"took {r['register_s']:.1f} s.")
    L.append(f"- Calls: {a['rate']:g} per second for {a['seconds']:g} s, each from an idle kiosk "
             f"(`call_request`); the rung interpreter sends `accept` at once and `hangup` "
             f"{a['call_length']:g} s after it receives the kiosk's `offer` (~{len(SDP_OFFER)}-byte "
             f"fake SDP, sent on `accepted`); on `call_ended` the kiosk uploads its `session_record` "
             f"and waits for `record_ack`. No `answer`/`ice` relay. About "
             f"{a['rate'] * (a['call_length'] + a['wrap_up']):.0f} interpreters are busy at a time.")
    L.append(f"- Delays are measured in the load process with one `time.perf_counter` clock: both "
             f"the sending and the receiving socket of each delay live there. *Routing delay*: the "
             f"kiosk sends `call_request` → the interpreter's socket delivers `ring`.")
    L.append(f"- File descriptors: soft RLIMIT_NOFILE was {r['nofile'][0]}, raised to "
             f"{r['nofile'][1]} (hard limit {r['nofile'][2]}); dispatch held {r['fds']} open files "
             f"with everyone connected.")
    L.append("")
    L.append("### Connections")
    L.append("")
    kc, ic = r["kiosk_connect_ms"], r["interp_connect_ms"]
    L.append("| who | connected | wall time | connect + hello → welcome, ms: median / p99 / max |")
    L.append("|---|---|---|---|")
    L.append(f"| interpreters (hello with password; wall time until all are `available`) | {ic['n']} of {a['interpreters']} "
             f"| {r['interp_connect_s']:.2f} s | {fmt(ic['median'])} / {fmt(ic['p99'])} / {fmt(ic['max'])} |")
    L.append(f"| kiosks (hello with token) | {kc['n']} of {a['kiosks']} | {r['kiosk_connect_s']:.2f} s "
             f"| {fmt(kc['median'])} / {fmt(kc['p99'])} / {fmt(kc['max'])} |")
    L.append("")
    L.append(f"At most {a['connect_concurrency']} handshakes in flight at once. Dispatch spent "
             f"{r['connect_cpu_s']:.2f} CPU s on all the connections.")
    L.append("")
    L.append("### Calls")
    L.append("")
    L.append(f"- Placed {r['placed']} calls in {r['placing_s']:.1f} s (planned "
             f"{int(round(a['rate'] * a['seconds']))}; no idle kiosk: {r['no_idle_kiosk']}); rung "
             f"{r['rung']}, answered (kiosk got `accepted`) {r['answered']}, completed with "
             f"`record_ack` {completed}; unfinished after the drain: {r['unfinished']}. Outcomes: "
             + ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items())) + ".")
    c = r.get("central") or {}
    if "rows" in c:
        L.append(f"- Central records afterwards: {c['rows']} rows, {c['routed_answered']} with "
                 f"dispatch's routing facts (answered), {c['kiosk_records']} with the kiosk's "
                 f"record, {c['both']} with both.")
    L.append("")
    L.append("| delay (ms) | n | median | p90 | p99 | max |")
    L.append("|---|---|---|---|---|---|")

    def row(name: str, s: dict) -> None:
        L.append(f"| {name} | {s['n']} | {fmt(s['median'])} | {fmt(s['p90'])} | {fmt(s['p99'])} | {fmt(s['max'])} |")

    row("**routing: `call_request` sent → `ring` received**", routing)
    row("`call_request` sent → `queued` received (kiosk)", r["queued_ms"])
    row("dispatch's own `waited_s` in the ring (its request → its ring; 1 ms steps)", r["waited_ms"])
    row("routing minus `waited_s` (sockets, both event loops, decoding)", r["transit_ms"])
    row("`accept` sent → `accepted` received (kiosk)", r["accept_ms"])
    row("**offer relay: `offer` sent → received (interpreter)**", r["offer_ms"])
    row("`hangup` sent → `call_ended` received (kiosk)", r["hangup_ms"])
    row("**record: `session_record` sent → `record_ack` received**", r["ack_ms"])
    L.append("")
    over = sum(x["over_target"] for x in r["seconds"])
    worst = sorted((x for x in r["seconds"] if x["max"] is not None), key=lambda x: -x["max"])[:5]
    if worst:
        L.append(f"{over} of {routing['n']} calls took longer than {TARGET_P99_MS:.0f} ms to ring, in "
                 f"{sum(1 for x in r['seconds'] if x['over_target'])} of the {len(r['seconds'])} "
                 f"seconds. The five seconds with the slowest ring, and what else happened in them "
                 f"(\"lag\": how late a timer in that process's event loop fired; \"GC\": the "
                 f"longest garbage-collector pause, generation in brackets; \"other CPU\": cores "
                 f"used by processes outside this benchmark):")
        L.append("")
        L.append("| second | calls | ring delay p99 / max ms | calls > 20 ms | dispatch: CPU, max lag, max GC | load generator: max lag, max GC | other CPU (cores) | steal (cores) |")
        L.append("|---|---|---|---|---|---|---|---|")
        for x in sorted(worst, key=lambda x: x["second"]):
            gen = f" ({x['disp_gc_gen']})" if x["disp_gc_gen"] is not None else ""
            L.append(f"| {x['second']} | {x['calls']} | {fmt(x['p99'])} / {fmt(x['max'])} | {x['over_target']} "
                     f"| {fmt(x['dispatch_cpu'] * 100 if x['dispatch_cpu'] is not None else None, 0)} %, "
                     f"{x['disp_lag']:.0f} ms, {x['disp_gc']:.0f} ms{gen} "
                     f"| {x['load_lag']:.0f} ms, {x['load_gc']:.0f} ms "
                     f"| {fmt(x['other'], 2)} | {fmt(x['steal'], 2)} |")
        L.append("")
    L.append("### Dispatch process: memory and CPU")
    L.append("")
    L.append("| | value |")
    L.append("|---|---|")
    L.append(f"| RSS before any connection | {r['rss_start']:.1f} MiB |")
    L.append(f"| RSS with everyone connected | {r['rss_connected']:.1f} MiB "
             f"(+{(r['rss_connected'] - r['rss_start']) * 1024 / max(1, a['kiosks'] + a['interpreters']):.0f} KiB per connection) |")
    L.append(f"| RSS at the end of the calls | {r['rss_end']:.1f} MiB (peak VmHWM {r['rss_peak']:.1f} MiB) |")
    L.append(f"| CPU while idle with everyone connected | {r['idle_cpu_share'] * 100:.1f} % of one core "
             f"(heartbeats), over {a['idle_seconds']:g} s |")
    L.append(f"| CPU during the call phase ({wall:.1f} s incl. drain) | {r['dispatch_cpu_s']:.2f} s = "
             f"{disp_share * 100:.0f} % of one core on average, {fmt(max_disp * 100 if max_disp is not None else None, 0)} % in the busiest second |")
    if completed:
        marginal = (r["dispatch_cpu_s"] - r["idle_cpu_share"] * wall) / completed
        L.append(f"| **CPU per call** | {r['dispatch_cpu_s'] / completed * 1000:.2f} ms "
                 f"(all dispatch CPU / completed calls); {marginal * 1000:.2f} ms above the idle "
                 f"heartbeat load |")
    L.append(f"| dispatch event-loop lag (10 ms probe; call phase) | median {fmt(lag['median'], 2)}, "
             f"p99 {fmt(lag['p99'])}, max {fmt(lag['max'])} ms; {child['lag_over_20ms']} of "
             f"{lag['n']} probes late by > 20 ms |")
    L.append(f"| dispatch garbage collection (call phase) | {gc_line(child['gc'])} |")
    for name, label in (("put_routing", "`CentralStore.put_routing` (one commit per ended call)"),
                        ("put_kiosk_record", "`CentralStore.put_kiosk_record` (one commit per upload)"),
                        ("check_kiosk", "`Accounts.check_kiosk`")):
        t = child["timed"].get(name)
        if t and t["n"]:
            L.append(f"| {label}, on the loop thread | n {t['n']}, median {fmt(t['median'], 2)}, "
                     f"p99 {fmt(t['p99'], 2)}, max {fmt(t['max'], 1)} ms; {t['total_ms'] / 1000:.2f} s in all |")
    L.append("")
    L.append("### Load generator (is it the bottleneck?)")
    L.append("")
    slip = r["schedule_slip_ms"]
    L.append(f"- Its CPU during the call phase: {load_share * 100:.0f} % of one core on average, "
             f"{fmt(max_load * 100 if max_load is not None else None, 0)} % in the busiest second. "
             f"Whole machine: {r['machine_busy_cores']:.2f} of {facts['nproc']} cores busy on average.")
    L.append(f"- Its event-loop lag (5 ms probe): median {fmt(load_lag['median'], 2)}, p99 "
             f"{fmt(load_lag['p99'])}, max {fmt(load_lag['max'])} ms; call schedule slip p99 "
             f"{fmt(slip['p99'])} ms, max {fmt(slip['max'])} ms. Its garbage collection: "
             f"{gc_line(r['load']['gc'])}.")
    max_other = max((x["other"] for x in series), default=0.0)
    L.append(f"- Other processes on the machine (not this benchmark) used {r['other_cores']:.2f} cores on "
             f"average during the call phase, up to {max_other:.2f} in one second; hypervisor steal "
             f"{r['steal_cores']:.2f} cores on average.")
    busy_load = (max_load or 0) > 0.85 or (load_lag["p99"] or 0) > 10
    L.append("- " + ("**The load generator was close to saturation or lagging: part of the measured "
                     "delays may be its own.**" if busy_load else
                     "It had headroom (well below one core, small loop lag), so the delays above are "
                     "dispatch's and the network stack's, not the generator's."))
    L.append("")
    L.append("### Observations")
    L.append("")
    for note in observations(r, met, disp_share, max_disp):
        L.append(f"- {note}")
    if r["errors"]:
        L.append("- Errors from dispatch: " + "; ".join(f"{k} × {v}" for k, v in r["errors"].items()))
    if r["problems"]:
        L.append("- Problems seen by the clients: " + "; ".join(f"{k} × {v}" for k, v in r["problems"].items()))
    if r["dispatch_warnings"]:
        L.append("- Dispatch log warnings/errors: " + "; ".join(f"`{k}` × {v}" for k, v in r["dispatch_warnings"].items()))
    if not r["errors"] and not r["problems"] and not r["dispatch_warnings"]:
        L.append("- No errors: no `error` message, no lost connection, no warning in dispatch's log.")
    return "\n".join(L) + "\n"


def gc_line(gcs: dict) -> str:
    return "; ".join(f"gen{g}: {v['n']}× max {fmt(v['max'])} ms" for g, v in gcs.items() if v["n"])


def needed(a: dict) -> float:
    """Interpreters busy on average at the planned rate (Little's law)."""
    return a["rate"] * (a["call_length"] + a["wrap_up"])


def capacity_short(a: dict) -> bool:
    return needed(a) > 0.95 * a["interpreters"]


def observations(r: dict, met: bool, disp_share: float, max_disp: Optional[float]) -> list[str]:
    notes = []
    routing = r["routing_ms"]
    if met:
        notes.append(f"Routing p99 {fmt(routing['p99'])} ms is within the {TARGET_P99_MS:.0f} ms target "
                     f"(median {fmt(routing['median'])} ms, max {fmt(routing['max'])} ms).")
    else:
        notes.append(f"Routing p99 {fmt(routing['p99'])} ms misses the {TARGET_P99_MS:.0f} ms target "
                     f"(median {fmt(routing['median'])} ms, max {fmt(routing['max'])} ms).")
    if max_disp is not None and max_disp > 0.85:
        notes.append(f"Dispatch's single event loop was near saturation (up to {max_disp * 100:.0f} % "
                     f"of a core in one second): requests wait behind other work.")
    else:
        notes.append(f"Dispatch was not CPU-bound: {disp_share * 100:.0f} % of one core on average, "
                     f"{fmt(max_disp * 100 if max_disp is not None else None, 0)} % in its busiest second.")
    busy = [x for x in r["seconds"] if x["over_target"]]
    if capacity_short(r["args"]):
        notes.append(f"Too few interpreters for the rate: calls waited in dispatch's queue for a "
                     f"free interpreter (dispatch's own `waited_s`: median "
                     f"{fmt(r['waited_ms']['median'], 0)} ms). Without that wait, the routing took "
                     f"median {fmt(r['transit_ms']['median'])} ms, p99 {fmt(r['transit_ms']['p99'])} ms.")
    elif busy:
        noisy = [x for x in busy if (x["other"] or 0) > 0.3]
        gc2 = [x for x in busy if x["disp_gc"] > 10 and x["disp_gc_gen"] == 2]
        notes.append(f"Of the {len(busy)} seconds with a ring slower than {TARGET_P99_MS:.0f} ms, "
                     f"{len(noisy)} had other processes using more than 0.3 cores and {len(gc2)} had a "
                     f"dispatch gen-2 GC pause over 10 ms.")
    stalls = [(t - r["t_calls0"], t % 1, ms) for t, ms in r["child"]["lag_events"] if ms > TARGET_P99_MS]
    if stalls:
        # when the probe's timer was due, modulo one second: a burst at a whole second shows
        # as due times just before or after it
        aligned = [x for x in stalls if not 0.2 <= (x[1] - x[2] / 1000) % 1 <= 0.98]
        text = (f"Dispatch's loop stalled for more than {TARGET_P99_MS:.0f} ms {len(stalls)} times, at "
                + ", ".join(f"{t:.1f} s ({ms:.0f} ms)" for t, _, ms in stalls[:8])
                + " into the call phase; a message arriving then waits that long.")
        if r["args"]["heartbeat"] < 3600 and len(aligned) >= max(1, len(stalls) // 2):
            text += (f" {len(aligned)} of them began within 0.2 s after a whole second of the monotonic "
                     f"clock: aiohttp (`helpers.calculate_timeout_when`, used by "
                     f"`WebSocketResponse._reset_heartbeat`) rounds every heartbeat time above 5 s up "
                     f"to a whole second of the loop clock, so the pings of all connections that were "
                     f"last active in the same second are sent in one loop iteration (one task per "
                     f"ping on Python 3.11). The kiosks here connected within "
                     f"{r['kiosk_connect_s']:.1f} s, as after a dispatch restart, so the pings "
                     f"of about {r['args']['kiosks']} connections (and the pongs to the kiosks' own pings) "
                     f"are handled in a burst every "
                     f"~{r['args']['heartbeat'] + 1:g} s (the interval, plus the rounding after the "
                     f"reset by the last frame).")
        gc2 = [(t - r["t_calls0"], ms) for t, g, ms in r["child"]["gc_events"] if g == 2 and ms > 10]
        if gc2:
            text += (" Full (generation 2) garbage collections in dispatch took "
                     + ", ".join(f"{ms:.0f} ms at {t:.1f} s" for t, ms in gc2) + ".")
        notes.append(text)
    if r["other_cores"] > 0.2:
        notes.append(f"The machine was not quiet: other processes used {r['other_cores']:.2f} cores on "
                     f"average during the calls; the tail figures are disturbed by that and vary "
                     f"between runs.")
    return notes


def render_profile(prof: dict, facts: dict, command: str) -> str:
    L = ["### Where dispatch's time goes (cProfile)", "",
         f"Profiled {facts['date']} with `{command}` (cProfile inside the dispatch process over the "
         f"call phase only; the profiler slows Python code down, so compare shares, not absolute "
         f"times). Total {prof['total_s']:.1f} s in the loop thread, including time waiting in "
         f"epoll (idle).", "",
         "| area (own time, `tottime`) | s | share of busy time |", "|---|---|---|"]
    idle = sum(s for name, s in prof["areas"] if name.startswith("waiting for I/O"))
    busy = prof["total_s"] - idle
    for name, s in prof["areas"]:
        share = "idle" if name.startswith("waiting for I/O") else f"{s / busy * 100:.0f} %" if busy else "–"
        L.append(f"| {name} | {s:.2f} | {share} |")
    L += ["", "On loopback, a socket `send` also does the kernel's TCP work of delivering the data to "
          "the receiving socket, so \"socket system calls\" is larger than it would be with a network "
          "card; SQLite's share is mostly the two commits per call (`synchronous=FULL`: an fsync each)."]
    L += ["", "| function (top by own time) | calls | own s | cumulative s |", "|---|---|---|---|"]
    for t in prof["top"]:
        L.append(f"| `{t['where']}` | {t['calls']} | {t['tottime_s']:.3f} | {t['cumtime_s']:.3f} |")
    L += ["", "| dispatch step (cumulative, includes callees) | calls | cumulative s |", "|---|---|---|"]
    for t in prof["cum"]:
        L.append(f"| `{t['where']}` | {t['calls']} | {t['cumtime_s']:.3f} |")
    return "\n".join(L) + "\n"


RUNS_HEADER = ("### Run log (newest last; one line per run without `--profile`, whatever its size and settings)\n\n"
               "| date | kiosks / interpreters / calls/s / s | heartbeat s (dispatch / kiosk) | "
               "routing median / p99 / max ms | target | dispatch CPU % (busiest s) | "
               "RSS end MiB | other processes' CPU (cores) |\n"
               "|---|---|---|---|---|---|---|---|")
MAX_RUN_LINES = 12


def run_line(r: dict, facts: dict) -> str:
    a, routing = r["args"], r["routing_ms"]
    met = routing["p99"] is not None and routing["p99"] <= TARGET_P99_MS and not r["unfinished"]
    busiest = max((x["dispatch"] for x in r.get("series") or []), default=None)
    return (f"| {facts['date']} | {a['kiosks']} / {a['interpreters']} / {a['rate']:g} / {a['seconds']:g} "
            f"| {a['heartbeat']:g} / {a['kiosk_heartbeat']:g} "
            f"| {fmt(routing['median'])} / {fmt(routing['p99'])} / {fmt(routing['max'])} "
            f"| {'met' if met else 'missed'} "
            f"| {r['dispatch_cpu_s'] / r['calls_wall_s'] * 100:.0f} ({fmt(busiest * 100 if busiest is not None else None, 0)}) "
            f"| {r['rss_end']:.1f} | {r['other_cores']:.2f} |")


def _block(inner: str, start: str, end: str) -> tuple[str, str]:
    """(the block's content, ``inner`` without the block)."""
    i, j = inner.find(start), inner.find(end)
    if i == -1 or j < i:
        return "", inner
    return inner[i + len(start):j].strip("\n"), inner[:i] + inner[j + len(end):]


def write_section(path: Path, main: Optional[str], profile: Optional[str],
                  run: Optional[str] = None) -> None:
    """Replace this benchmark's section of ``path`` (between SECTION_START and SECTION_END);
    ``main`` and ``profile`` each replace their own part (None keeps what is there), ``run`` is
    appended to the run log (which keeps its last MAX_RUN_LINES lines)."""
    if path.exists():
        text = path.read_text(encoding="utf-8")
    else:
        text = ("# Performance\n\nFigures measured on real hardware by the scripts in `bench/`. "
                "Each script rewrites only its own section.\n")
    start, end = text.find(SECTION_START), text.find(SECTION_END)
    old_main, old_profile, old_runs = "", "", ""
    if start != -1 and end > start:
        inner = text[start + len(SECTION_START):end]
        old_profile, inner = _block(inner, PROFILE_START, PROFILE_END)
        old_runs, inner = _block(inner, RUNS_START, RUNS_END)
        old_main = inner.strip("\n")
    main_text = (main if main is not None else old_main).strip("\n")
    profile_text = (profile if profile is not None else old_profile).strip("\n")
    run_lines = [x for x in old_runs.splitlines() if x.startswith("| 2")]
    if run:
        run_lines.append(run)
    run_lines = run_lines[-MAX_RUN_LINES:]
    parts = [SECTION_START, main_text]
    if profile_text:
        parts += ["", PROFILE_START, profile_text, PROFILE_END]
    if run_lines:
        parts += ["", RUNS_START, RUNS_HEADER, *run_lines, RUNS_END]
    parts.append(SECTION_END)
    section = "\n".join(parts) + "\n"
    if start != -1 and end > start:
        text = text[:start] + section + text[end + len(SECTION_END):].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# --- main --------------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--kiosks", type=int, default=2000)
    p.add_argument("--interpreters", type=int, default=200)
    p.add_argument("--rate", type=float, default=50.0, help="calls placed per second")
    p.add_argument("--seconds", type=float, default=30.0, help="how long calls are placed")
    p.add_argument("--call-length", type=float, default=3.0,
                   help="seconds from the interpreter receiving the offer to its hangup")
    p.add_argument("--wrap-up", type=float, default=0.5, help="dispatch's wrap_up_s")
    p.add_argument("--ring-timeout", type=float, default=20.0, help="dispatch's ring_timeout_s")
    p.add_argument("--heartbeat", type=float, default=10.0, help="dispatch's heartbeat_s")
    p.add_argument("--kiosk-heartbeat", type=float, default=10.0,
                   help="WebSocket ping interval of the kiosk clients (0: none)")
    p.add_argument("--idle-seconds", type=float, default=5.0,
                   help="idle time with everyone connected, to measure the heartbeat CPU")
    p.add_argument("--connect-concurrency", type=int, default=50)
    p.add_argument("--connect-timeout", type=float, default=30.0)
    p.add_argument("--drain-timeout", type=float, default=20.0,
                   help="extra seconds (beyond call length + wrap-up) to wait for the last calls")
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                   help="dispatch's log level (its log goes to a file in the data dir)")
    p.add_argument("--port", type=int, default=0, help="dispatch port (0: a free one)")
    p.add_argument("--data-dir", help="empty directory for dispatch's databases (default: a "
                                       "temporary one, removed afterwards)")
    p.add_argument("--keep-data", action="store_true", help="keep the temporary data dir")
    p.add_argument("--profile", metavar="FILE",
                   help="run cProfile in dispatch during the call phase; write pstats to FILE")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to update")
    p.add_argument("--no-write", action="store_true", help="print the figures only")
    p.add_argument("--json", type=Path, help="also write all figures as JSON here")
    p.add_argument("--_dispatch-child", dest="dispatch_child", action="store_true",
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not args.dispatch_child:
        for name in ("kiosks", "interpreters", "connect_concurrency"):
            if getattr(args, name) < 1:
                p.error(f"--{name.replace('_', '-')} must be at least 1")
        for name in ("rate", "seconds"):
            if getattr(args, name) <= 0:
                p.error(f"--{name} must be positive")
    return args


def documented_args(argv: list[str]) -> list[str]:
    """The command line without the options that only say where output goes."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in ("--json", "--out"):
            skip = True
        elif a.startswith(("--json=", "--out=")) or a == "--no-write":
            continue
        else:
            out.append(a)
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.dispatch_child:
        return child_main(args)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    nofile = raise_nofile()
    print(f"RLIMIT_NOFILE: soft {nofile[0]} → {nofile[1]} (hard {nofile[2]})", flush=True)
    if capacity_short(vars(args)):
        print(f"note: {args.rate:g} calls/s × ({args.call_length:g} s + {args.wrap_up:g} s wrap-up) "
              f"needs ~{needed(vars(args)):.0f} busy interpreters but only {args.interpreters} "
              f"connect: calls will queue, and routing delays will mostly be queueing", flush=True)
    need = args.kiosks + args.interpreters + 100
    if nofile[1] < need:
        print(f"error: {need} file descriptors needed per process, the limit is {nofile[1]}; "
              f"raise the hard limit (ulimit -Hn) or connect fewer peers", file=sys.stderr)
        return 2
    command = ".venv/bin/python bench/dispatch_load.py " + shlex.join(
        documented_args(argv if argv is not None else sys.argv[1:]))
    facts = machine_facts()
    try:
        r = asyncio.run(run_bench(args, nofile))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    prof = profile_report(args.profile) if args.profile else None
    main_text = render(r, facts, command, prof)
    prof_text = render_profile(prof, facts, command) if prof else None
    print()
    print(main_text)
    if prof_text:
        print(prof_text)
    if args.json:
        args.json.write_text(json.dumps({"facts": facts, "result": r, "profile": prof},
                                        indent=1, default=str))
    if not args.no_write:
        # a profiled run's delays are inflated: it updates only the profile part
        write_section(args.out, None if prof else main_text, prof_text,
                      None if prof else run_line(r, facts))
        print(f"updated {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
