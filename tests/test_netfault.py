"""A real network cut in the middle of a call.

The test makes two network namespaces joined by a veth pair: the kiosk's (dispatch and the call
engine, tests/netfault_agent.py in a subprocess via ``ip netns exec``) and the interpreter's
(the simulated interpreter, aiortc, in another subprocess). Media and the interpreter's link to
dispatch both cross the veth pair; the test cuts it with ``ip link set … down``.

- cut for 5 s: the call comes back by itself, same session and interpreter, one gap logged;
- cut for 90 s: the call ends as ``network_lost`` at the kiosk and at the interpreter;
- dispatch on the interpreter's side instead, cut for 20 s: the kiosk loses its signaling too
  (its WebSocket is dropped), reconnects, resumes the call, and the media comes back.

Needs root and network namespaces (``ip netns add``); skipped with the reason otherwise.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pytest_asyncio

from conftest import free_port

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

AGENT = Path(__file__).with_name("netfault_agent.py")
ROOT = Path(__file__).resolve().parent.parent
KIOSK_IP, INTERP_IP = "10.98.0.1", "10.98.0.2"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=10)


class Link:
    """Two namespaces and the veth pair between them, removed again at the end."""

    def __init__(self) -> None:
        n = os.getpid() % 100000
        self.kiosk_ns, self.interp_ns = f"nfk{n}", f"nfi{n}"
        self.kiosk_dev, self.interp_dev = f"nfk{n}v", f"nfi{n}v"

    def create(self) -> None:
        _ip("netns", "add", self.kiosk_ns)
        _ip("netns", "add", self.interp_ns)
        _ip("link", "add", self.kiosk_dev, "netns", self.kiosk_ns, "type", "veth",
            "peer", "name", self.interp_dev, "netns", self.interp_ns)
        _ip("-n", self.kiosk_ns, "addr", "add", f"{KIOSK_IP}/30", "dev", self.kiosk_dev)
        _ip("-n", self.interp_ns, "addr", "add", f"{INTERP_IP}/30", "dev", self.interp_dev)
        for ns, dev in ((self.kiosk_ns, self.kiosk_dev), (self.interp_ns, self.interp_dev)):
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "link", "set", dev, "up")

    def cut(self) -> None:
        _ip("-n", self.kiosk_ns, "link", "set", self.kiosk_dev, "down")

    def mend(self) -> None:
        _ip("-n", self.kiosk_ns, "link", "set", self.kiosk_dev, "up")

    def remove(self) -> None:
        for ns in (self.kiosk_ns, self.interp_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


def _namespaces_usable() -> str | None:
    """None when the test can make namespaces, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"nfprobe{os.getpid() % 100000}"
    try:
        _ip("netns", "add", probe)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        return f"cannot make a network namespace here: {detail}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10)
    return None


class Agent:
    """One side in its namespace: JSON events from stdout, commands to stdin."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.events: list[dict] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None
        self._changed = asyncio.Event()

    async def start(self, ns: str, *args: str, log_path: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self._log = open(log_path, "w")
        self.proc = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", ns, sys.executable, str(AGENT), *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=self._log, env=env)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while line := await self.proc.stdout.readline():
            try:
                self.events.append(json.loads(line))
            except ValueError:
                continue
            self._changed.set()

    async def send(self, command: str) -> None:
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()

    async def wait_for(self, predicate, timeout: float, what: str, after: int = 0) -> dict:
        """The first event from index ``after`` on that matches (its index in ``self.at``)."""
        deadline = time.monotonic() + timeout
        seen = after
        while True:
            for i, event in enumerate(self.events[seen:], start=seen):
                if predicate(event):
                    self.at = i
                    return event
            seen = len(self.events)
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.returncode is not None:
                raise AssertionError(f"{self.name}: no {what} within {timeout:.0f} s; "
                                     f"last events: {self.events[-8:]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 1.0))
            except asyncio.TimeoutError:
                pass

    def states(self) -> list[str]:
        return [e["state"] for e in self.events if e.get("event") == "state"]

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            try:
                await self.send("quit")
            except (ConnectionError, RuntimeError):
                pass
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader:
            await self._reader
        self._log.close()


@pytest.fixture
def link():
    why = _namespaces_usable()
    if why:
        pytest.skip(why)
    link = Link()
    link.remove()  # left over from an interrupted run
    link.create()
    yield link
    link.remove()


@pytest_asyncio.fixture
async def sides(link, demo_config, tmp_path):
    port = free_port()
    demo_config(server={"host": "0.0.0.0", "port": port},
                dispatch={"url": f"ws://127.0.0.1:{port}/ws"},
                simulator={"interpreters": 1})
    kiosk, interp = Agent("kiosk"), Agent("interpreter")
    try:
        await kiosk.start(link.kiosk_ns, "kiosk", str(tmp_path / "config.yaml"),
                          log_path=tmp_path / "kiosk.log")
        await kiosk.wait_for(lambda e: e["event"] == "ready", 30, "dispatch and kiosk ready")
        from kiosk.demo import SIM_PASSWORD
        await interp.start(link.interp_ns, "interpreter", f"ws://{KIOSK_IP}:{port}/ws",
                           "sim-interpreter-1", SIM_PASSWORD, log_path=tmp_path / "interpreter.log")
        await interp.wait_for(lambda e: e["event"] == "available", 30, "interpreter available")
        yield kiosk, interp
    finally:
        await interp.stop()
        await kiosk.stop()


@pytest_asyncio.fixture
async def sides_dispatch_far(link, demo_config, tmp_path):
    """Dispatch runs beside the interpreter: the kiosk reaches it over the veth pair."""
    port = free_port()
    demo_config(server={"host": "0.0.0.0", "port": port},
                dispatch={"url": f"ws://{INTERP_IP}:{port}/ws"},
                simulator={"interpreters": 1})
    kiosk, interp = Agent("kiosk"), Agent("interpreter")
    try:
        from kiosk.demo import SIM_PASSWORD
        await interp.start(link.interp_ns, "interpreter", f"ws://127.0.0.1:{port}/ws",
                           "sim-interpreter-1", SIM_PASSWORD, str(tmp_path / "config.yaml"),
                           log_path=tmp_path / "interpreter.log")
        await interp.wait_for(lambda e: e["event"] == "available", 30, "dispatch and interpreter")
        await kiosk.start(link.kiosk_ns, "kiosk", str(tmp_path / "config.yaml"), "nodispatch",
                          log_path=tmp_path / "kiosk.log")
        await kiosk.wait_for(lambda e: e["event"] == "ready", 30, "kiosk ready")
        yield kiosk, interp
    finally:
        await kiosk.stop()
        await interp.stop()


async def _call_with_media(kiosk: Agent, interp: Agent) -> str:
    await kiosk.send("call")
    connected = await kiosk.wait_for(lambda e: e.get("state") in ("connected", "ended"), 40,
                                     "connected call")
    assert connected["state"] == "connected", kiosk.events
    sid = connected["session_id"]
    await interp.wait_for(lambda e: e["event"] == "call" and e["session_id"] == sid
                          and e["frames"] >= 2, 20, "kiosk video at the interpreter")
    return sid


async def _record(kiosk: Agent, sid: str) -> dict:
    seen = len(kiosk.events)
    await kiosk.send(f"record {sid}")
    return await kiosk.wait_for(lambda e: e["event"] == "record" and e["record"]
                                and e["record"]["session_id"] == sid, 10, "record", after=seen)


async def test_a_five_second_cut_recovers_with_one_gap(link, sides):
    kiosk, interp = sides
    sid = await _call_with_media(kiosk, interp)
    link.cut()
    cut_at = time.monotonic()
    await kiosk.wait_for(lambda e: e.get("state") == "reconnecting", 10, "reconnecting at the kiosk")
    lost = kiosk.at
    await interp.wait_for(lambda e: e["event"] == "call" and e["reconnecting"], 10,
                          "reconnecting at the interpreter")
    await asyncio.sleep(max(0.0, cut_at + 5.0 - time.monotonic()))
    link.mend()
    back = await kiosk.wait_for(lambda e: e.get("state") in ("connected", "ended"), 40,
                                "the call back", after=lost)
    assert back["state"] == "connected", kiosk.events
    assert back["session_id"] == sid and back["interpreter_id"] == "sim-interpreter-1"
    # media flows both ways again, to the same interpreter's call
    view = await interp.wait_for(lambda e: e["event"] == "call" and not e["reconnecting"]
                                 and e["attempt"] >= 1, 20, "media back at the interpreter")
    assert view["session_id"] == sid and view["ended_reason"] is None
    frames_then = view["frames"]
    await interp.wait_for(lambda e: e["event"] == "call" and e["frames"] >= frames_then + 2, 20,
                          "fresh video at the interpreter", after=interp.at)
    await kiosk.send("frames")
    before = (await kiosk.wait_for(lambda e: e["event"] == "frames", 5, "frames"))["video"]
    await asyncio.sleep(1.0)
    await kiosk.send("frames")
    after = (await kiosk.wait_for(lambda e: e["event"] == "frames", 5, "frames",
                                  after=kiosk.at + 1))["video"]
    assert after > before  # the interpreter's picture reaches the kiosk again
    rec = (await _record(kiosk, sid))["record"]
    assert rec["media_gaps"] == 1
    assert 3.0 <= rec["media_gap_s"] < 40.0
    assert rec["interpreter_id"] == "sim-interpreter-1" and rec["end_reason"] is None
    await kiosk.send("hangup")
    await kiosk.wait_for(lambda e: e.get("state") == "ended", 10, "ended")
    await interp.wait_for(lambda e: e["event"] == "call" and e["ended_reason"] == "hangup", 20,
                          "hang-up at the interpreter")
    rec = (await _record(kiosk, sid))["record"]
    assert rec["end_reason"] == "completed" and rec["media_gaps"] == 1
    assert kiosk.states()[-4:] == ["connected", "reconnecting", "connected", "ended"]


async def test_a_ninety_second_cut_ends_as_network_lost_on_both_sides(link, sides):
    kiosk, interp = sides
    sid = await _call_with_media(kiosk, interp)
    cut_at = time.monotonic()
    link.cut()
    await kiosk.wait_for(lambda e: e.get("state") == "reconnecting", 10, "reconnecting")
    ended = await kiosk.wait_for(lambda e: e.get("state") == "ended", 85, "the kiosk giving up")
    assert ended["reason"] == "network_lost" and ended["session_id"] == sid
    view = await interp.wait_for(lambda e: e["event"] == "call" and e["ended_reason"], 85,
                                 "the interpreter giving up")
    assert view["ended_reason"] == "network_lost" and view["session_id"] == sid
    assert time.monotonic() - cut_at < 90  # both gave up while the link was still cut
    rec = (await _record(kiosk, sid))["record"]
    assert rec["end_reason"] == "network_lost" and rec["ended_by"] == "kiosk"
    assert rec["media_gaps"] == 1 and rec["media_gap_s"] >= 60.0
    await asyncio.sleep(max(0.0, cut_at + 90 - time.monotonic()))
    link.mend()
    # the interpreter's console comes back to dispatch by itself, free for the next call
    gave_up = interp.at
    await interp.wait_for(lambda e: e["event"] == "available", 40,
                          "the interpreter back at dispatch", after=gave_up)


async def test_a_cut_that_also_drops_the_kiosks_signaling_recovers(link, sides_dispatch_far):
    kiosk, interp = sides_dispatch_far
    sid = await _call_with_media(kiosk, interp)
    cut_at = time.monotonic()
    link.cut()
    await kiosk.wait_for(lambda e: e.get("state") == "reconnecting", 10, "reconnecting")
    lost = kiosk.at
    await kiosk.wait_for(lambda e: e["event"] == "link" and not e["up"], 30,
                         "the kiosk noticing its link to dispatch is gone")
    await asyncio.sleep(max(0.0, cut_at + 20.0 - time.monotonic()))
    link.mend()
    await kiosk.wait_for(lambda e: e["event"] == "link" and e["up"], 30, "the kiosk back at dispatch",
                         after=lost)
    back = await kiosk.wait_for(lambda e: e.get("state") in ("connected", "ended"), 50,
                                "the call back", after=lost)
    assert back["state"] == "connected", kiosk.events
    assert back["session_id"] == sid and back["interpreter_id"] == "sim-interpreter-1"
    view = await interp.wait_for(lambda e: e["event"] == "call" and not e["reconnecting"]
                                 and e["attempt"] >= 1, 20, "media back at the interpreter")
    assert view["session_id"] == sid and view["ended_reason"] is None
    rec = (await _record(kiosk, sid))["record"]
    assert rec["media_gaps"] == 1 and 20.0 <= rec["media_gap_s"] < 60.0
    await kiosk.send("hangup")
    await interp.wait_for(lambda e: e["event"] == "call" and e["ended_reason"] == "hangup", 20,
                          "the hang-up relayed by dispatch after the resume")
