"""Crashes and power cuts: a real kiosk process (``tests/crash_kiosk.py``: the call engine, the
embedded dispatch and a simulated interpreter, as ``kiosk demo --headless`` runs them) is
SIGKILLed at random moments of its calls. Its session log must pass SQLite's integrity check
every time, hold every session that had begun, and close the interrupted ones at the next start
(queued for dispatch's central records, which in the end hold every session exactly once).
A power cut differs from a kill in one way: what the kernel had not yet written to the disk is
lost too, so every commit must reach the disk (``fdatasync``) before the kiosk goes on; strace
shows that it does."""

from __future__ import annotations

import json
import os
import queue
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT
from kiosk.dispatch.records import CentralStore

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")]

DRIVER = ROOT / "tests" / "crash_kiosk.py"
KILLS = 20
PHASES = ("requesting", "queued", "ringing", "connecting", "connected", "rating", "between")
# How long each phase lasts with the driver's timings (seconds; a kill lands at a random moment
# up to this long after the phase began, so sometimes just after it, in the next one).
DWELL_S = {"requesting": 0.004, "queued": 0.5, "ringing": 0.3, "connecting": 0.1,
           "connected": 0.6, "rating": 0.3, "between": 0.3}
OPEN_STATES = ("requesting", "queued", "ringing", "connecting", "connected", "reconnecting")
ORDER = ("requesting", "queued", "ringing", "connecting", "connected", "ended")


class Kiosk:
    """One run of the driver; its stdout read line by line on a thread of its own."""

    def __init__(self, config_path: Path, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, str(DRIVER), str(config_path), *args], cwd=ROOT,
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[dict] = []
        self.stderr: list[str] = []
        self._out = threading.Thread(target=self._read, args=(self.proc.stdout, True), daemon=True)
        self._err = threading.Thread(target=self._read, args=(self.proc.stderr, False), daemon=True)
        self._out.start()
        self._err.start()

    def _read(self, stream, is_out: bool) -> None:
        for line in stream:
            if not is_out:
                self.stderr.append(line)
            elif line.startswith("{"):
                self.lines.put(json.loads(line))
        if is_out:
            self.lines.put(None)

    def next(self, deadline: float) -> dict | None:
        """The next line (None at the end of the output)."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        try:
            item = self.lines.get(timeout=left)
        except queue.Empty:
            raise TimeoutError from None
        if item is not None:
            self.seen.append(item)
        return item

    def until(self, match, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            item = self.next(deadline)
            if item is None:
                raise AssertionError("the kiosk ended before the awaited moment:\n" + self.tail())
            if match(item):
                return item

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(20)
        self.finish()

    def finish(self, timeout: float = 60) -> None:
        """Read whatever the process printed before it ended."""
        deadline = time.monotonic() + timeout
        while self.next(deadline) is not None:
            pass
        self.proc.wait(max(deadline - time.monotonic(), 1))
        self._err.join(5)

    def tail(self) -> str:
        return "".join(self.stderr[-30:])

    def begun(self) -> set[str]:
        return {x["session_id"] for x in self.seen if x.get("state") == "requesting"}

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def plan(rng: random.Random) -> list[tuple[str, int, float]]:
    """(phase, call, delay) of each kill: every phase in turn (shuffled each round), a queue
    only before a second call (the first finds the interpreter free)."""
    kills = []
    while len(kills) < KILLS:
        for phase in rng.sample(PHASES, len(PHASES)):
            call = 2 if phase == "queued" else rng.choice((1, 1, 2))
            kills.append((phase, call, round(rng.uniform(0, DWELL_S[phase]), 4)))
    return kills[:KILLS]


def reached(phase: str, call: int):
    def match(item: dict) -> bool:
        return item.get("call") == call and phase in (item.get("state"), item.get("phase"))
    return match


def integrity(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def read_log(path: Path) -> tuple[dict[str, sqlite3.Row], dict[str, list[str]], set[str]]:
    """(records by id, states of each session in order, the ids in the outbox)."""
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        records = {r["session_id"]: r for r in db.execute("SELECT * FROM sessions")}
        events: dict[str, list[str]] = {}
        for r in db.execute("SELECT session_id, state FROM session_events ORDER BY session_id, seq"):
            events.setdefault(r["session_id"], []).append(r["state"])
        outbox = {r[0] for r in db.execute("SELECT session_id FROM outbox")}
        return records, events, outbox
    finally:
        db.close()


def in_order(states: list[str]) -> bool:
    """A call's states in an order they can follow each other (a reconnect may repeat
    ``connected``)."""
    main = [s for s in states if s != "reconnecting"]
    steps = [s for i, s in enumerate(main) if i == 0 or s != main[i - 1]]
    ranks = [ORDER.index(s) for s in steps if s in ORDER]
    return states[0] == "requesting" and len(ranks) == len(steps) and ranks == sorted(set(ranks))


@pytest.fixture
def crash_config(demo_config):
    return demo_config(simulator={"answer_delay_s": 0.3, "interpreters": 1},
                       service_hours={"timezone": "UTC", **{d: "00:00-24:00" for d in
                                      ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})


@pytest.mark.timeout(300)
def test_sigkill_at_random_moments_of_calls_loses_no_session(crash_config):
    seed = int(os.environ.get("KIOSK_CRASH_SEED", random.SystemRandom().randrange(10**6)))
    rng = random.Random(seed)
    kills = plan(rng)
    config = crash_config
    db = config.data_path / "sessions.sqlite3"
    dispatch_dbs = ("accounts.sqlite3", "central.sqlite3")
    begun: set[str] = set()
    to_close: set[str] = set()  # open in the log after the last kill
    interrupted: set[str] = set()
    landed = []  # the last step each killed kiosk reported
    kiosk = None
    try:
        for n, (phase, call, delay) in enumerate(kills, start=1):
            where = (f"kill {n}/{KILLS} in {phase} of call {call}, {delay * 1000:.1f} ms in "
                     f"(replay: KIOSK_CRASH_SEED={seed})")
            kiosk = Kiosk(config.source, "--calls", "3")
            try:
                started = kiosk.until(lambda x: "started" in x)
            except (AssertionError, TimeoutError) as exc:
                pytest.fail(f"{where}: the kiosk did not start ({exc!r})\n{kiosk.tail()}")
            # the last run's open sessions are closed now, and queued for dispatch
            assert set(started["closed"]) == to_close, f"{where}: closed at start {started['closed']}"
            assert to_close <= set(started["queued"]), f"{where}: not queued {started['queued']}"
            assert (started["journal"], started["synchronous"]) == ("wal", 2), where  # 2 = FULL
            interrupted |= to_close
            try:
                kiosk.until(reached(phase, call))
            except (AssertionError, TimeoutError) as exc:
                pytest.fail(f"{where}: {phase} of call {call} never came ({exc!r})\n{kiosk.tail()}")
            time.sleep(delay)
            kiosk.kill()
            assert kiosk.proc.returncode == -signal.SIGKILL, f"{where}: the kiosk was not killed\n{kiosk.tail()}"
            begun |= kiosk.begun()
            last = kiosk.seen[-1]
            landed.append(f"{last.get('state') or last.get('phase')}/{last.get('call')}")

            assert integrity(db) == "ok", where
            for name in dispatch_dbs:
                assert integrity(config.dispatch_data_path / name) == "ok", f"{where}: {name}"
            records, events, outbox = read_log(db)
            missing = begun - set(records)
            assert not missing, f"{where}: begun sessions missing from the log: {missing}"
            to_close = {sid for sid, r in records.items() if r["end_reason"] is None}
            assert len(to_close) <= 1, f"{where}: more than one call open: {to_close}"
            for sid, r in records.items():
                assert in_order(events[sid]), f"{where}: {sid} went through {events[sid]}"
                if r["end_reason"] is None:
                    assert r["state"] in OPEN_STATES and events[sid][-1] == r["state"], where
                else:
                    assert r["state"] == "ended" and events[sid][-1] == "ended", where
                    assert r["ended_at"] is not None and r["ended_by"], where
            kiosk.close()

        # one more start closes the last one and sends dispatch everything still queued
        kiosk = Kiosk(config.source, "--calls", "0", "--drain")
        started = kiosk.until(lambda x: "started" in x)
        assert set(started["closed"]) == to_close, f"seed {seed}: closed at start {started['closed']}"
        interrupted |= to_close
        assert kiosk.until(lambda x: "drained" in x)["drained"], f"seed {seed}: uploads left\n{kiosk.tail()}"
        kiosk.finish()
        assert kiosk.proc.returncode == 0, kiosk.tail()
    finally:
        if kiosk is not None:
            kiosk.close()

    records, events, outbox = read_log(db)
    assert begun <= set(records) and not outbox, f"seed {seed}"
    assert {sid for sid, r in records.items() if r["end_reason"] == "interrupted"} == interrupted, f"seed {seed}"
    for sid in interrupted:
        r = records[sid]
        assert (r["state"], r["ended_by"], events[sid][-1]) == ("ended", "system", "ended"), f"seed {seed}: {sid}"
        assert r["ended_at"] >= r["requested_at"], f"seed {seed}: {sid}"
    assert not {sid for sid, r in records.items() if r["end_reason"] is None}, f"seed {seed}"
    for sid, r in records.items():  # a call killed after the answer keeps its times
        if "connecting" in events[sid]:
            assert r["answered_at"] is not None and r["interpreter_id"], f"seed {seed}: {sid}"
        if "connected" in events[sid]:
            assert r["connected_at"] is not None, f"seed {seed}: {sid}"
    with CentralStore(config.dispatch_data_path / "central.sqlite3") as central:
        assert central.count() == len(records), f"seed {seed}"
        for sid, r in records.items():
            row = central.get(sid)
            assert row is not None and row["end_reason"] == r["end_reason"], f"seed {seed}: {sid}"
    print(f"seed {seed}: {len(begun)} sessions, {len(interrupted)} interrupted; kills landed after "
          + ", ".join(landed))
    assert len(begun) >= KILLS, f"seed {seed}: only {len(begun)} calls begun"
    assert len(interrupted) >= KILLS // 4, f"seed {seed}: only {len(interrupted)} kills caught a call: {landed}"


@pytest.mark.parametrize("state", ["ringing", "connected", "ended"])
def test_the_last_committed_state_survives_a_kill_right_after_it(crash_config, state):
    config = crash_config
    kiosk = Kiosk(config.source, "--calls", "1", "--die-after-commit", state)
    try:
        kiosk.finish()
    finally:
        kiosk.close()
    assert kiosk.proc.returncode == -signal.SIGKILL, kiosk.tail()
    (sid,) = kiosk.begun()
    assert [x["committed"] for x in kiosk.seen if "committed" in x] == [state]
    records, events, outbox = read_log(config.data_path / "sessions.sqlite3")
    rec = records[sid]
    assert rec["state"] == state and events[sid][-1] == state
    if state == "ended":
        assert rec["end_reason"] == "completed" and outbox == {sid}
    else:
        assert rec["end_reason"] is None and not outbox
        if state == "connected":
            assert rec["answered_at"] is not None and rec["connected_at"] is not None


# --- a power cut: every commit is on the disk before the call returns -----------------------

STRACE = shutil.which("strace")


def can_trace() -> bool:
    """strace is there and may trace here (containers may forbid ptrace)."""
    if STRACE is None:
        return False
    probe = subprocess.run([STRACE, "-f", "-e", "trace=none", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0

SYNC_CHILD = """
import os, sys
from kiosk.sessions.store import SessionStore
store = SessionStore(sys.argv[1])
if sys.argv[2] != "FULL":
    store.connection.execute("PRAGMA synchronous=" + sys.argv[2])
def mark(what):  # a system call strace shows between the steps
    os.access("/kiosk-mark-" + what, os.F_OK)
mark("begin")
store.begin("s1", "k-01", "resident", None, "0.1.0", 100.0)
mark("queued")
store.transition("s1", "queued", 101.0)
mark("connected")
store.transition("s1", "connected", 106.0)
mark("ended")
store.end("s1", "completed", 110.0, "kiosk")
mark("done")
"""


def synced_steps(tmp_path: Path, mode: str) -> dict[str, bool]:
    """For each step of SYNC_CHILD: was the write-ahead log written and then synced (fsync or
    fdatasync on ``…-wal``) before the step returned? ``"folder"``: was the folder synced once
    the write-ahead log had been created (else a power cut could lose the file itself)?"""
    db = tmp_path / mode / "sessions.sqlite3"
    db.parent.mkdir()
    trace = subprocess.run(
        [STRACE, "-f", "-y", "-e", "trace=openat,pwrite64,write,fsync,fdatasync,access,faccessat,faccessat2",
         sys.executable, "-c", SYNC_CHILD, str(db), mode],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=60)
    assert trace.returncode == 0, trace.stderr[-3000:]
    steps: dict[str, list[str]] = {}
    current = None
    for line in trace.stderr.splitlines():
        mark = re.search(r'"/kiosk-mark-(\w+)"', line)
        if mark:
            current = mark.group(1)
            steps[current] = []
        elif current is not None and "-wal>" in line:
            steps[current].append(line)
    lines = trace.stderr.splitlines()
    created = next((i for i, x in enumerate(lines) if "openat(" in x and "-wal\"" in x and "O_CREAT" in x), None)
    result = {"folder": created is not None and any(
        re.search(rf"\b(fsync|fdatasync)\(\d+<{re.escape(str(db.parent))}>\)", x) for x in lines[created:])}
    for step in ("begin", "queued", "connected", "ended"):
        lines = steps.get(step, [])
        last_write = max((i for i, x in enumerate(lines) if re.search(r"\b(pwrite64|write)\(", x)), default=None)
        result[step] = last_write is not None and any(
            re.search(r"\b(fsync|fdatasync)\(", x) for x in lines[last_write + 1:])
    return result


def test_every_commit_reaches_the_disk_before_the_kiosk_goes_on(tmp_path):
    if not can_trace():
        pytest.skip("needs strace, allowed to trace")
    full = synced_steps(tmp_path, "FULL")
    assert full == {"folder": True, "begin": True, "queued": True, "connected": True, "ended": True}
    # the same steps with SQLite's cheaper setting: a power cut could take the last ones back
    normal = synced_steps(tmp_path, "NORMAL")
    assert not any(normal[step] for step in ("begin", "queued", "connected", "ended")), normal
