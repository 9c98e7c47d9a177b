"""The fault test's fallback where network namespaces cannot be made: the media of a call on
loopback goes through a UDP relay the test controls (tests/udp_relay.py), which drops every
packet while the "cable" is pulled. The interpreter's link to dispatch stays up here.

The 5 s cut always runs (it also keeps the relay itself honest); the 90 s cut runs only where
tests/test_netfault.py cannot.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from kiosk.call.states import CallState
from kiosk.protocol import Answer, Offer
from test_call_engine import Rig, eventually
from test_netfault import _namespaces_usable
from udp_relay import MediaRelay

S = CallState
pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


def through_relay(rig: Rig, relay: MediaRelay) -> None:
    """Every offer the interpreter receives and every answer it sends names relay ports only."""
    sim = rig.sim
    receive, send = sim.signaling._on_message, sim.signaling.send

    async def on_message(msg):
        if isinstance(msg, Offer):
            msg = dataclasses.replace(msg, sdp=await relay.rewrite(msg.sdp))
        return await receive(msg)

    async def send_rewritten(msg):
        if isinstance(msg, Answer):
            msg = dataclasses.replace(msg, sdp=await relay.rewrite(msg.sdp))
        return await send(msg)

    sim.signaling._on_message = on_message
    sim.signaling.send = send_rewritten


async def cut_mid_call(demo_config, seconds: float):
    relay = MediaRelay()
    config = demo_config()
    try:
        async with Rig(config) as rig:
            through_relay(rig, relay)
            assert await rig.engine.signaling.wait_ready(5)
            sid = await rig.engine.request_call()
            assert (await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
            await eventually(lambda: rig.engine.counters.video_received >= 10, what="video")
            assert relay.forwarded > 0  # the media really goes through the relay
            sim_call = rig.sim.current
            relay.cut = True
            cut_at = time.monotonic()
            await rig.engine.wait_for(S.RECONNECTING, timeout=10)
            await eventually(lambda: sim_call.reconnecting, timeout=10, what="interpreter reconnecting")
            if seconds < 60:
                await asyncio.sleep(max(0.0, cut_at + seconds - time.monotonic()))
                relay.cut = False
                back = await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=40)
                assert back.state is S.CONNECTED, rig.states
                assert back.session_id == sid and back.interpreter_id == "sim-interpreter-1"
                assert rig.sim.current is sim_call and sim_call.attempt >= 1
                frames = rig.engine.counters.video_received
                await eventually(lambda: rig.engine.counters.video_received >= frames + 10,
                                 what="video again")
                await eventually(lambda: not sim_call.reconnecting, what="interpreter has media")
                rec = rig.store.get(sid)
                assert rec.media_gaps == 1 and seconds <= rec.media_gap_s < 40
                await rig.engine.hang_up()
                assert rig.store.get(sid).end_reason == "completed"
            else:
                ended = await rig.engine.wait_for(S.ENDED, timeout=85)
                assert ended.reason.value == "network_lost"
                await eventually(lambda: sim_call.ended_reason is not None, timeout=20,
                                 what="interpreter ended")
                assert sim_call.ended_reason == "network_lost"
                assert time.monotonic() - cut_at < seconds
                rec = rig.store.get(sid)
                assert rec.end_reason == "network_lost" and rec.media_gaps == 1
                assert rec.media_gap_s >= 60
    finally:
        relay.close()


async def test_relay_cut_for_five_seconds_recovers_with_one_gap(demo_config):
    await cut_mid_call(demo_config, 5.0)


async def test_relay_cut_for_ninety_seconds_ends_as_network_lost(demo_config):
    if _namespaces_usable() is None:
        pytest.skip("network namespaces work here: tests/test_netfault.py cuts a real link for 90 s")
    await cut_mid_call(demo_config, 90.0)
