"""Calls that lose their media or their link to dispatch and come back, on loopback.

Real dispatch, the real kiosk engine and the simulated interpreter (aiortc), all on this loop.
The network-namespace fault test (a real cut link) is tests/test_netfault.py.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from kiosk.call import engine as engine_module
from kiosk.call.states import CallState
from kiosk.demo import dispatch_settings
from kiosk.dispatch.app import open_accounts, serve
from kiosk.demo import provision_demo
from test_call_engine import Rig, eventually

S = CallState
pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


async def test_reconnect_delays_grow_with_jitter():
    for _ in range(200):
        assert 0.0 <= engine_module.reconnect_delay(1) <= 1.0
        assert 2.4 <= engine_module.reconnect_delay(2) <= 3.6
        assert 4.0 <= engine_module.reconnect_delay(3) <= 6.0
        assert 5.6 <= engine_module.reconnect_delay(4) <= 8.4
        assert 5.6 <= engine_module.reconnect_delay(9) <= 8.4
    assert len({round(engine_module.reconnect_delay(2), 6) for _ in range(20)}) > 1


async def test_the_interpreters_peer_connection_vanishes_and_the_call_reconnects(demo_config):
    """The interpreter's side drops its peer connection without a word through dispatch: the
    kiosk notices, reconnects with a fresh offer on the same session to the same interpreter,
    and logs one gap."""
    config = demo_config()
    async with Rig(config) as rig:
        assert await rig.engine.signaling.wait_ready(5)
        sid = await rig.engine.request_call()
        assert (await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
        await eventually(lambda: rig.engine.counters.video_received >= 5, what="remote video")
        sim_call = rig.sim.current
        old_pc = rig.sim._pc
        rig.sim._pc = None
        await old_pc.close()
        await rig.engine.wait_for(S.RECONNECTING, timeout=10)
        back = await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)
        assert back.state is S.CONNECTED, rig.states
        assert back.session_id == sid and back.interpreter_id == "sim-interpreter-1"
        frames = rig.engine.counters.video_received
        await eventually(lambda: rig.engine.counters.video_received >= frames + 5, what="video again")
        assert rig.sim.current is sim_call and sim_call.attempt >= 1
        rec = rig.store.get(sid)
        assert rec.media_gaps == 1 and 0 < rec.media_gap_s < 30
        await rig.engine.hang_up()
        rec = rig.store.get(sid)
        assert rec.end_reason == "completed" and rec.media_gaps == 1
        assert [s for s, _ in rig.store.events(sid)][-3:] == ["reconnecting", "connected", "ended"]


async def test_media_that_never_comes_back_ends_as_network_lost_on_both_sides(demo_config):
    """A short reconnect window: the interpreter's side answers nothing any more."""
    config = demo_config()
    async with Rig(config, reconnect_window_s=4.0) as rig:
        assert await rig.engine.signaling.wait_ready(5)
        sid = await rig.engine.request_call()
        assert (await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
        await eventually(lambda: rig.engine.counters.video_received >= 5, what="remote video")
        sim_call = rig.sim.current

        async def ignore(offer):  # the interpreter's side hears the offers but cannot answer
            return None

        rig.sim._answer = ignore
        old_pc = rig.sim._pc
        rig.sim._pc = None
        await old_pc.close()
        ended = await rig.engine.wait_for(S.ENDED, timeout=30)
        assert ended.reason.value == "network_lost"
        rec = rig.store.get(sid)
        assert rec.end_reason == "network_lost" and rec.ended_by == "kiosk"
        assert rec.media_gaps == 1 and rec.media_gap_s >= 4.0
        await eventually(lambda: sim_call.ended_reason is not None, what="interpreter told")
        assert sim_call.ended_reason == "network_lost"


async def test_a_signaling_blink_does_not_end_a_call_whose_media_flows(demo_config):
    """Dispatch drops the kiosk's WebSocket mid-call: media goes on, the kiosk reconnects and
    resumes, and the call ends normally later."""
    config = demo_config()
    async with Rig(config) as rig:
        assert await rig.engine.signaling.wait_ready(5)
        sid = await rig.engine.request_call()
        assert (await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
        hub = rig.services._server.hub
        connects = rig.engine.signaling.connects
        await hub.kiosks[config.kiosk.id].conn.close()
        await eventually(lambda: rig.engine.signaling.connects > connects, what="kiosk reconnected")
        await eventually(lambda: hub.calls.get(sid) is not None and not hub.calls[sid].away,
                         what="call resumed at dispatch")
        frames = rig.engine.counters.video_received
        await eventually(lambda: rig.engine.counters.video_received >= frames + 10, what="video flows")
        assert rig.engine.state is S.CONNECTED and S.RECONNECTING not in rig.states
        sim_call = rig.sim.current
        await rig.engine.hang_up()
        await eventually(lambda: sim_call.ended_reason == "hangup", what="interpreter heard hang-up")
        assert rig.store.get(sid).end_reason == "completed"


async def test_dispatch_restarts_during_a_call_and_queued_uploads(demo_config):
    """Dispatch stops (its memory is gone) while a call runs and finished records wait in the
    kiosk's outbox; it comes back on the same port: the call goes on, the kiosk and the
    interpreter reconnect and resume it, and every record arrives exactly once centrally."""
    config = demo_config()
    async with Rig(config) as rig:
        assert await rig.engine.signaling.wait_ready(5)
        # three short calls whose records are acknowledged, then dispatch goes down
        earlier = []
        for _ in range(2):
            sid = await rig.engine.request_call()
            assert (await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
            await rig.engine.hang_up()
            await rig.engine.rate(sid, 5)
            earlier.append(sid)
        await eventually(lambda: rig.store.outbox_size() == 0, what="records uploaded")

        sid = await rig.engine.request_call()
        assert (await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
        records = rig.services._server.records
        routed = records.get(sid)
        assert routed is not None and routed["routed_interpreter_id"] == "sim-interpreter-1"

        await rig.services._server.stop()
        await eventually(lambda: not rig.engine.signaling.connected, what="kiosk noticed")
        # while dispatch is away, a record is finished and waits in the outbox: the rating of
        # the last earlier call is changed (a new version) — the running call stays open
        rig.store.set_call_facts(earlier[0], text_chars_sent=3)
        assert rig.store.outbox_size() == 1
        frames = rig.engine.counters.video_received
        await asyncio.sleep(1.0)
        assert rig.engine.counters.video_received > frames  # media goes on without dispatch

        settings = dispatch_settings(config)
        accounts = open_accounts(settings)
        provision_demo(accounts, config)
        server = await serve(settings, accounts=accounts)
        rig.services._server = server
        try:
            t0 = time.monotonic()
            await eventually(lambda: rig.engine.signaling.connected, timeout=15, what="kiosk back")
            await eventually(lambda: sid in server.hub.calls, timeout=15, what="call adopted")
            back_s = time.monotonic() - t0
            print(f"\nkiosk and interpreter back and the call adopted {back_s:.1f} s after dispatch restarted")
            call = server.hub.calls[sid]
            assert call.adopted and call.interpreter.id == "sim-interpreter-1"
            await eventually(lambda: rig.store.outbox_size() == 0, what="outbox drained")
            assert rig.engine.state is S.CONNECTED
            frames = rig.engine.counters.video_received
            await eventually(lambda: rig.engine.counters.video_received >= frames + 10, what="video")
            sim_call = rig.sim.current
            await rig.engine.hang_up()
            await eventually(lambda: sim_call.ended_reason == "hangup", what="hang-up relayed")
            await rig.engine.rate(sid, 4)
            await eventually(lambda: rig.store.outbox_size() == 0, what="last record uploaded")
            central = server.records
            for s in earlier + [sid]:
                row = central.get(s)
                assert row is not None and row["end_reason"] == "completed", s
                assert row["routed_interpreter_id"] == "sim-interpreter-1"
                assert row["dispatch_outcome"] == "answered"
            assert central.get(earlier[0])["text_chars_sent"] == 3
            assert central.get(sid)["rating"] == 4
            assert central.count() == 3
            assert back_s < 10
        finally:
            pass
