"""The call engine against the real dispatch service and the simulated interpreter, on loopback.

No Qt here: these are the engine's own guarantees (state sequence, media both ways, the record).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from kiosk.call.engine import CallEngine
from kiosk.call.states import CallState, EndReason
from kiosk.demo import EmbeddedServices, open_store

S = CallState
pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


async def eventually(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Rig:
    """Embedded dispatch + simulated interpreters + a kiosk engine, all on this loop."""

    def __init__(self, config, **engine_kwargs) -> None:
        self.config = config
        self.services = EmbeddedServices(config)
        self.store = open_store(config)
        self.engine = CallEngine(config, self.store, **engine_kwargs)
        self.events = []
        self.engine.machine.subscribe(self.events.append)

    @property
    def states(self) -> list[CallState]:
        return [e.state for e in self.events]

    @property
    def sim(self):
        return self.services.interpreters[0]

    async def __aenter__(self) -> "Rig":
        await self.services.start()
        await self.engine.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.engine.stop()
        await self.services.stop()
        self.store.close()


async def test_answered_call_full_sequence_media_both_ways_and_record(demo_config):
    config = demo_config()
    async with Rig(config) as rig:
        assert await rig.engine.signaling.wait_ready(5)
        t_tap = time.time()
        sid = await rig.engine.request_call()
        connected = await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)
        assert connected.state is S.CONNECTED, rig.states
        # the interpreter's picture reaches the kiosk, the resident's reaches the interpreter
        await eventually(lambda: rig.engine.counters.video_received >= 10, what="remote video at kiosk")
        await eventually(lambda: rig.sim.current is not None and rig.sim.current.video_frames >= 10,
                         what="kiosk video at interpreter")
        await eventually(lambda: rig.engine.counters.audio_received >= 10, what="remote audio at kiosk")
        assert rig.engine.counters.last_video_size == (320, 240)
        assert rig.sim.current.last_video_size == (320, 240)
        assert rig.sim.current.audio_frames > 0
        await asyncio.sleep(0.5)
        await rig.engine.hang_up()
        await rig.engine.rate(sid, 4)

        assert rig.states == [S.REQUESTING, S.QUEUED, S.RINGING, S.CONNECTING, S.CONNECTED,
                              S.ENDED, S.IDLE]
        rec = rig.store.get(sid)
        assert rec.kiosk_id == config.kiosk.id
        assert rec.started_by == "resident" and rec.category is None
        assert rec.state == "ended" and rec.end_reason == "completed" and rec.ended_by == "kiosk"
        assert rec.interpreter_id == "sim-interpreter-1"
        assert t_tap <= rec.requested_at <= rec.answered_at <= rec.connected_at <= rec.ended_at
        assert rec.wait_s == pytest.approx(rec.answered_at - rec.requested_at)
        assert rec.wait_s >= config.simulator.answer_delay_s
        assert rec.talk_s == pytest.approx(rec.ended_at - rec.connected_at)
        assert rec.talk_s >= 0.5
        assert rec.rating == 4 and rec.rated_at >= rec.ended_at
        assert rec.app_version
        assert [s for s, _ in rig.store.events(sid)] == [
            "requesting", "queued", "ringing", "connecting", "connected", "ended"]
        # the interpreter heard the hang-up and is free again
        await eventually(lambda: rig.sim.current is None, what="interpreter released")


async def test_interpreter_hangs_up(demo_config):
    config = demo_config()
    async with Rig(config) as rig:
        rig.sim.hangup_after_s = 0.5
        sid = await rig.engine.request_call()
        ended = await rig.engine.wait_for(S.ENDED, timeout=30)
        assert ended.reason is EndReason.COMPLETED
        rec = rig.store.get(sid)
        assert rec.ended_by == "interpreter" and rec.talk_s > 0


async def test_calls_in_a_row_reuse_engine_and_interpreter(demo_config):
    config = demo_config()
    async with Rig(config) as rig:
        for n in range(2):
            sid = await rig.engine.request_call()
            assert (await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
            await eventually(lambda: rig.engine.counters.video_received >= 3, what="video")
            await rig.engine.hang_up()
            await rig.engine.rate(sid, None)
            assert rig.store.get(sid).rating is None
        assert len(rig.sim.stats.calls) == 2


async def test_no_interpreter_online(demo_config):
    config = demo_config(simulator={"interpreters": 0})
    async with Rig(config) as rig:
        assert await rig.engine.signaling.wait_ready(5)
        sid = await rig.engine.request_call()
        ended = await rig.engine.wait_for(S.ENDED, timeout=10)
        assert ended.reason is EndReason.NO_INTERPRETER
        rec = rig.store.get(sid)
        assert rec.end_reason == "no_interpreter" and rec.answered_at is None and rec.talk_s == 0


async def test_dispatch_unreachable_ends_with_clear_reason(demo_config):
    config = demo_config(dispatch={"embedded": False}, simulator={"interpreters": 0})
    async with Rig(config, connect_wait_s=1.0) as rig:
        sid = await rig.engine.request_call()
        ended = await rig.engine.wait_for(S.ENDED, timeout=10)
        assert ended.reason is EndReason.DISPATCH_UNREACHABLE
        assert rig.engine.signaling.last_error and "cannot reach dispatch" in rig.engine.signaling.last_error
        assert rig.store.get(sid).end_reason == "dispatch_unreachable"


async def test_cancel_while_ringing(demo_config):
    config = demo_config(simulator={"answer_delay_s": 30})
    async with Rig(config) as rig:
        sid = await rig.engine.request_call()
        await rig.engine.wait_for(S.RINGING, timeout=10)
        await rig.engine.cancel()
        assert rig.engine.state is S.ENDED
        assert rig.engine.current.reason is EndReason.CANCELLED_BY_CALLER
        rec = rig.store.get(sid)
        assert rec.end_reason == "cancelled_by_caller" and rec.state == "ended"
        assert rec.answered_at is None
        # the interpreter never got the call
        await asyncio.sleep(0.3)
        assert rig.sim.stats.calls == []


async def test_outside_service_hours_ends_at_once_without_dispatch(demo_config):
    # open one minute a week, three days from now
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    open_day = days[(time.localtime().tm_wday + 3) % 7]
    hours = {d: "03:00-03:01" if d == open_day else "closed" for d in days}
    config = demo_config(service_hours=hours)
    async with Rig(config) as rig:
        assert await rig.engine.signaling.wait_ready(5)
        sid = await rig.engine.request_call()
        assert rig.engine.state is S.ENDED
        assert rig.engine.current.reason is EndReason.OUT_OF_HOURS
        assert rig.states == [S.REQUESTING, S.ENDED]
        rec = rig.store.get(sid)
        assert rec.end_reason == "out_of_hours" and rec.ended_by == "kiosk"
        await asyncio.sleep(0.3)
        assert rig.services.interpreters[0].stats.rings == 0  # dispatch was never asked


async def test_missing_devices_are_reported_and_the_call_still_works(demo_config):
    """No camera, microphone or speaker where the configuration says: the kiosk says which,
    and a call still connects with the 'camera unavailable' picture and silence."""
    config = demo_config(video={"camera": "/dev/video-missing"},
                         audio={"input": "no such microphone", "output": "no such speaker"})
    async with Rig(config) as rig:
        told = []
        rig.engine.on_devices = told.append
        states = rig.engine.devices
        assert not states["camera"].ok and "video-missing" in states["camera"].message
        assert not states["microphone"].ok and states["microphone"].message
        assert not states["speaker"].ok and states["speaker"].message
        sid = await rig.engine.request_call()
        assert (await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
        await eventually(lambda: rig.sim.current is not None and rig.sim.current.video_frames >= 10,
                         what="the placeholder picture at the interpreter")
        await eventually(lambda: rig.sim.current.audio_frames >= 10, what="silence at the interpreter")
        assert rig.sim.current.last_video_size == (320, 240)
        await rig.engine.hang_up()
        assert rig.store.get(sid).end_reason == "completed"


async def test_records_older_than_the_retention_period_are_removed_at_start(demo_config):
    config = demo_config(kiosk={"retention_years": 1})
    store = open_store(config)
    now = time.time()
    for sid, age_days in (("old", 400), ("recent", 30)):
        at = now - age_days * 86400
        store.begin(sid, config.kiosk.id, "resident", None, "test", at)
        store.end(sid, "completed", at + 60, "kiosk")
    store.close()
    async with Rig(config) as rig:
        assert rig.store.get("old") is None and rig.store.get("recent") is not None
        assert rig.store.events("old") == []
