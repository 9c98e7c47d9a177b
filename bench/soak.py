"""Soak benchmark: many calls in a row through the real call engine must not grow memory, threads,
asyncio tasks or open file descriptors.

Run on demand (it is not part of the test suite), from the repository root::

    .venv/bin/python bench/soak.py --calls 200

One process holds what the headless demo holds: the kiosk's ``CallEngine`` with its SQLite
session log, the embedded dispatch service (aiohttp WebSocket signaling, central records) and a
simulated interpreter, with real aiortc peer connections on loopback. Each call is tapped,
answered at once, kept for ``--talk`` seconds, hung up and rated; the next starts when dispatch
counts the interpreter free again.

After ``--warmup`` calls (imports, codec set-up, caches and the allocator settle) and a full
``gc.collect()``, the process is measured (resident memory, Python and OS threads, asyncio tasks,
open descriptors, live Python objects); again every ``--every`` calls and after the last one.
Whatever grew is named (descriptor kinds, thread names, task coroutines, object types) so a leak
can be found; ``--tracemalloc`` adds the source lines whose allocations grew most.

The figures replace this benchmark's section of ``docs/performance.md`` (other sections stay).
Pass criteria (the product's): resident memory grows less than 20 MB over the calls, threads
and descriptors not at all.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ctypes.util
import gc
import logging
import os
import shlex
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for p in (str(ROOT), str(BENCH)):
    if p not in sys.path:  # run as a plain script from a checkout
        sys.path.insert(0, p)

from _report import DOC, machine_line, pkg_version, write_section  # noqa: E402
from call_loopback import bench_config, wait_interpreter_free  # noqa: E402
from kiosk.call.engine import CallEngine  # noqa: E402
from kiosk.call.states import CallState  # noqa: E402
from kiosk.demo import EmbeddedServices, open_store  # noqa: E402

log = logging.getLogger("bench.soak")
SECTION_START = "<!-- soak:start -->"
SECTION_END = "<!-- soak:end -->"
LIMIT_RSS_MB = 20.0


class WarningCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.name}: {record.getMessage()[:90]}"] += 1


# --- what the process holds -------------------------------------------------------------------


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def trimmed_rss_kib() -> Optional[int]:
    """Resident memory after glibc has handed its free heap pages back to the system
    (``malloc_trim(0)``): what is left is memory in use, not the allocator's reserve."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        return None
    return rss_kib()


def fd_kinds() -> Counter:
    """Open descriptors by kind: socket, pipe, anon_inode:[eventfd], or the file's path."""
    kinds: Counter = Counter()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # the descriptor listdir itself used
        kinds[target.split(":[")[0] if target.startswith(("socket:", "pipe:")) else target] += 1
    return kinds


def task_names() -> Counter:
    names: Counter = Counter()
    for task in asyncio.all_tasks():
        coro = task.get_coro()
        names[getattr(coro, "__qualname__", type(coro).__name__)] += 1
    return names


def snapshot(calls_done: int, trim: bool = False) -> dict:
    """Everything measured at one moment, after a full collection."""
    gc.collect()
    objects = gc.get_objects()
    types = Counter(type(o).__name__ for o in objects)
    fds = fd_kinds()
    snap = {
        "calls": calls_done,
        "at": time.monotonic(),
        "rss_kib": rss_kib(),
        "trimmed_kib": None,  # measured last: trimming changes what rss_kib would say
        "py_threads": threading.active_count(),
        "os_threads": len(os.listdir("/proc/self/task")),
        "tasks": len(asyncio.all_tasks()),
        "fds": sum(fds.values()),
        "objects": len(objects),
        "fd_kinds": fds,
        "thread_names": Counter(t.name.rstrip("0123456789") for t in threading.enumerate()),
        "task_names": task_names(),
        "types": types,
    }
    del objects
    if trim:
        snap["trimmed_kib"] = trimmed_rss_kib()
    return snap


def grown(before: Counter, after: Counter, top: int = 8) -> list[tuple[str, int]]:
    diff = [(k, after.get(k, 0) - before.get(k, 0)) for k in set(before) | set(after)]
    return sorted([d for d in diff if d[1] != 0], key=lambda d: -abs(d[1]))[:top]


async def fill_default_executor() -> int:
    """Start every thread of the event loop's default executor (aiortc encodes there). The pool
    grows by itself up to a fixed maximum, ``min(32, CPUs + 4)``, as jobs happen to overlap; filled
    before the first measurement, that bounded growth is not mistaken for a leak. Returns its size."""
    loop = asyncio.get_running_loop()
    size = min(32, (os.cpu_count() or 1) + 4)  # ThreadPoolExecutor's default, which asyncio uses
    barrier = threading.Barrier(size)

    def meet() -> None:
        try:
            barrier.wait(timeout=10)
        except threading.BrokenBarrierError:
            pass
    await asyncio.gather(*(loop.run_in_executor(None, meet) for _ in range(size)))
    return size


# --- the calls --------------------------------------------------------------------------------


async def one_call(engine: CallEngine, services: EmbeddedServices, talk_s: float) -> str:
    """Tap, talk, hang up, rate; the session's end reason (or what went wrong)."""
    sid = await engine.request_call()
    event = await engine.wait_for(CallState.CONNECTED, CallState.ENDED, timeout=30)
    connected = event.state is CallState.CONNECTED
    if connected:
        await asyncio.sleep(talk_s)
        await engine.hang_up()
    await engine.wait_for(CallState.ENDED, timeout=10)
    await engine.rate(sid, 5 if connected else None)
    if not await wait_interpreter_free(services, 10):
        log.warning("the simulated interpreter is still busy 10 s after the hang-up")
    rec = engine.store.get(sid)
    return rec.end_reason if rec is not None else "missing record"


async def soak(args, progress) -> dict:
    tmp = tempfile.TemporaryDirectory(prefix="kiosk-soak-")
    config = bench_config(Path(tmp.name) / "data", args.width, args.height, args.fps)
    services = EmbeddedServices(config)
    store = engine = None
    outcomes: Counter = Counter()
    series: list[dict] = []
    traces = None
    try:
        await asyncio.wait_for(services.start(), 20)
        if not services.interpreters or not services.interpreters[0].available.is_set():
            raise RuntimeError("the simulated interpreter did not log in to dispatch")
        store = open_store(config)
        engine = CallEngine(config, store)
        await engine.start()
        if not await engine.signaling.wait_ready(10):
            raise RuntimeError(f"kiosk could not reach dispatch: {engine.signaling.last_error}")
        pool = await fill_default_executor()  # first: the warm-up calls then run on all its threads
        for n in range(args.warmup):
            outcomes["warm-up " + await one_call(engine, services, args.talk)] += 1
        await asyncio.sleep(args.settle)
        if args.tracemalloc:
            tracemalloc.start(12)
            traces = [tracemalloc.take_snapshot()]
        series.append(snapshot(0, args.trim))
        progress(f"after {args.warmup} warm-up calls: {series[0]['rss_kib'] / 1024:.1f} MiB, "
                 f"{series[0]['os_threads']} threads, {series[0]['fds']} descriptors")
        t0 = time.monotonic()
        for n in range(1, args.calls + 1):
            outcomes[await one_call(engine, services, args.talk)] += 1
            if n % args.every == 0 or n == args.calls:
                await asyncio.sleep(args.settle)  # the call's teardown has ended
                series.append(snapshot(n, args.trim))
                s = series[-1]
                progress(f"{n}/{args.calls} calls: {s['rss_kib'] / 1024:.1f} MiB, {s['os_threads']} threads, "
                         f"{s['tasks']} tasks, {s['fds']} descriptors, {s['objects']} objects")
        wall = time.monotonic() - t0
        if traces is not None:
            traces.append(tracemalloc.take_snapshot())
            tracemalloc.stop()
    finally:
        if engine is not None:
            await engine.stop()
        await services.stop()
        if store is not None:
            store.close()
        tmp.cleanup()
    top_lines = []
    if traces is not None:
        for stat in traces[1].compare_to(traces[0], "lineno")[:10]:
            frame = stat.traceback[0]
            top_lines.append((f"{Path(frame.filename).name}:{frame.lineno}", stat.size_diff, stat.count_diff))
    return {"series": series, "outcomes": outcomes, "wall_s": wall, "top_lines": top_lines, "pool": pool}


# --- the report -------------------------------------------------------------------------------


def verdict(before: dict, after: dict) -> tuple[bool, list[str]]:
    rss_mb = (after["rss_kib"] - before["rss_kib"]) / 1024
    checks = [
        (rss_mb < LIMIT_RSS_MB, f"resident memory {rss_mb:+.1f} MiB (limit < {LIMIT_RSS_MB:.0f} MB)"),
        (after["os_threads"] <= before["os_threads"],
         f"threads {after['os_threads'] - before['os_threads']:+d} (limit 0)"),
        (after["fds"] <= before["fds"], f"open descriptors {after['fds'] - before['fds']:+d} (limit 0)"),
        (after["tasks"] <= before["tasks"], f"asyncio tasks {after['tasks'] - before['tasks']:+d} (limit 0)"),
    ]
    return all(ok for ok, _ in checks), [("ok: " if ok else "FAILED: ") + text for ok, text in checks]


def render(args, r: dict, command: str) -> str:
    series = r["series"]
    before, after = series[0], series[-1]
    calls = after["calls"]
    ok, lines = verdict(before, after)
    L = [SECTION_START, "## Soak: calls in a row (`bench/soak.py`)", ""]
    L.append(f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC} on {machine_line()}; "
             f"aiortc {pkg_version('aiortc')}, aiohttp {pkg_version('aiohttp')}.")
    L += ["", "Reproduce (from the repository root):", "", "```sh", command, "```", ""]
    L.append(f"{calls} calls one after another in one process (kiosk `CallEngine` with its SQLite "
             f"log ↔ embedded dispatch ↔ simulated interpreter, real aiortc on loopback, "
             f"{args.width}x{args.height} @ {args.fps} fps both ways, {args.talk:g} s of talk, "
             f"hang-up, rating), after {args.warmup} warm-up calls; every figure {args.settle:g} s after "
             f"the last call and after `gc.collect()`; the event loop's default executor (aiortc encodes there) filled to its "
             f"fixed maximum of {r['pool']} threads first. {r['wall_s']:.0f} s for the measured calls "
             f"({r['wall_s'] / max(calls, 1):.2f} s a call). Outcomes: "
             + ", ".join(f"{k} × {v}" for k, v in sorted(r["outcomes"].items())) + ".")
    L += ["", f"**Result: {'PASSED' if ok else 'FAILED'}** — " + "; ".join(lines) + ".", ""]
    trim = args.trim
    L.append("| after call | resident memory (MiB) | " + ("… then after `malloc_trim(0)` (MiB) | " if trim else "")
             + "threads (Python / OS) | asyncio tasks | open descriptors | live Python objects |")
    L.append("|---:|---:|" + ("---:|" if trim else "") + "---:|---:|---:|---:|")
    for s in series:
        trimmed = "–" if s["trimmed_kib"] is None else f"{s['trimmed_kib'] / 1024:.1f}"
        L.append(f"| {s['calls']} | {s['rss_kib'] / 1024:.1f} | " + (f"{trimmed} | " if trim else "")
                 + f"{s['py_threads']} / {s['os_threads']} | {s['tasks']} | {s['fds']} | {s['objects']:,} |")
    d_rss = (after["rss_kib"] - before["rss_kib"]) / 1024
    half = next((s for s in series if s["calls"] >= calls // 2), before)
    late = (after["rss_kib"] - half["rss_kib"]) / max(after["calls"] - half["calls"], 1)
    L += ["", f"Growth per call: {d_rss * 1024 / max(calls, 1):.1f} KiB resident memory over all "
              f"{calls} calls, {late:.1f} KiB over the second half "
              f"(calls {half['calls']}–{after['calls']}); "
              f"{(after['objects'] - before['objects']) / max(calls, 1):+.1f} live Python objects.", ""]
    moved = [("object types", grown(before["types"], after["types"])),
             ("descriptor kinds", grown(before["fd_kinds"], after["fd_kinds"])),
             ("threads", grown(before["thread_names"], after["thread_names"])),
             ("asyncio tasks", grown(before["task_names"], after["task_names"]))]
    for what, diff in moved:
        if diff:
            L.append(f"- {what} that changed: " + ", ".join(f"`{k}` {v:+d}" for k, v in diff))
    if r["top_lines"]:
        L.append("- allocations that grew most (tracemalloc): " + ", ".join(
            f"`{where}` {size / 1024:+.0f} KiB ({count:+d} blocks)" for where, size, count in r["top_lines"][:6]))
    if r.get("warnings"):
        L.append("- warnings logged during the run: " + ", ".join(
            f"{k} × {v}" for k, v in r["warnings"].most_common(5)))
    if args.notes:
        L += [""] + [line for line in args.notes.read_text(encoding="utf-8").rstrip("\n").splitlines()]
    L.append(SECTION_END)
    return "\n".join(L) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--warmup", type=int, default=5, help="calls before the first measurement")
    p.add_argument("--every", type=int, default=25, help="measure again after this many calls")
    p.add_argument("--talk", type=float, default=1.0, help="seconds each call stays connected")
    p.add_argument("--size", default="1280x720", help="picture both ways, WIDTHxHEIGHT")
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--settle", type=float, default=2.0,
                   help="seconds to wait before each measurement (the last call's teardown ends)")
    p.add_argument("--trim", action="store_true",
                   help="after each measurement, have glibc return its free pages (malloc_trim) and "
                        "measure again: tells memory in use from the allocator's reserve")
    p.add_argument("--keep-free-memory", action="store_true",
                   help="reference: no arena limit, no free memory handed back after each call")
    p.add_argument("--tracemalloc", action="store_true", help="name the source lines that grew (slower)")
    p.add_argument("--notes", type=Path, help="a Markdown file of observations appended to the section")
    p.add_argument("--out", type=Path, default=DOC)
    p.add_argument("--no-write", action="store_true", help="print the section, leave the document")
    args = p.parse_args(argv)
    args.width, args.height = (int(x) for x in args.size.lower().split("x"))
    return args


def reproduce_command(argv: Optional[list[str]]) -> str:
    argv = sys.argv[1:] if argv is None else argv
    keep, skip = [], False
    for a in argv:  # the document shows how to measure, not where this run put its notes
        if skip or a == "--no-write":
            skip = False
            continue
        if a in ("--notes", "--out"):
            skip = True
            continue
        if not a.startswith(("--notes=", "--out=")):
            keep.append(a)
    return " ".join([".venv/bin/python", "bench/soak.py", *map(shlex.quote, keep)])


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.keep_free_memory:  # the reference: the allocator as it was before the kiosk tuned it
        import kiosk.call.engine
        import kiosk.call.simulator
        for module in (kiosk.call.engine, kiosk.call.simulator):
            module.release_free_memory = lambda: False
        kiosk.call.engine.limit_arenas = lambda: False
    logging.basicConfig(level=logging.ERROR, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    warnings = WarningCounter()
    logging.getLogger().addHandler(warnings)
    logging.getLogger("kiosk").setLevel(logging.WARNING)

    def progress(text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    result = asyncio.run(soak(args, progress))
    result["warnings"] = warnings.counts
    section = render(args, result, reproduce_command(argv))
    print(section)
    if not args.no_write:
        write_section(args.out, SECTION_START, SECTION_END, section)
        progress(f"section written to {args.out}")
    ok, _ = verdict(result["series"][0], result["series"][-1])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
