"""Dispatch keeps answered calls through dropped links and adopts them after a restart.

Real dispatch app on loopback, raw protocol peers (the helpers of tests/test_dispatch.py).
"""

from __future__ import annotations

import pytest

from kiosk.dispatch.app import RECORDS
from kiosk.protocol import (
    Accept, Answer, CallEnded, CallRequest, Hangup, Offer, Queued, Resume, Resumed, Ring, Ringing,
    Status,
)
from test_dispatch import SDP_ANSWER, SDP_OFFER, Dispatch, start  # noqa: F401  (fixture)

pytestmark = pytest.mark.asyncio


async def relays_both_ways(kiosk, interp, sid: str, attempt: int = 1) -> None:
    await kiosk.send(Offer(session_id=sid, sdp=SDP_OFFER, attempt=attempt))
    await interp.expect(Offer, session_id=sid, sdp=SDP_OFFER, attempt=attempt)
    await interp.send(Answer(session_id=sid, sdp=SDP_ANSWER, attempt=attempt))
    await kiosk.expect(Answer, session_id=sid, sdp=SDP_ANSWER, attempt=attempt)


async def test_a_kiosk_that_comes_back_resumes_its_call(start):
    dispatch: Dispatch = await start(resume_grace_s=5.0)
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.connected_call(kiosk, interp, "s1")
    await kiosk.close()
    await interp.nothing(0.5)  # no call_ended: the media may still flow
    await dispatch.expect_health(interpreters_online=1, calls_active=1)
    kiosk = await dispatch.kiosk("k1")
    await kiosk.send(Resume(session_id="s1", peer_id="i1"))
    await kiosk.expect(Resumed, session_id="s1")
    await relays_both_ways(kiosk, interp, "s1")
    await kiosk.send(Hangup(session_id="s1"))
    await interp.expect(CallEnded, session_id="s1", reason="hangup", by="kiosk")
    row = dispatch.client.server.app[RECORDS].get("s1")  # stored at the accept, kept since
    assert row["routed_interpreter_id"] == "i1" and row["dispatch_outcome"] == "answered"
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1, interpreters_available=1)


async def test_an_interpreter_that_comes_back_is_in_its_call_and_not_rung(start):
    dispatch: Dispatch = await start(resume_grace_s=5.0)
    interp = await dispatch.interpreter("i1")
    k1 = await dispatch.kiosk("k1")
    await dispatch.connected_call(k1, interp, "s1")
    await interp.close()
    await k1.nothing(0.5)
    interp = await dispatch.hello("interpreter", "i1")
    assert (await interp.expect(Status)).state == "in_call"
    await interp.send(Resume(session_id="s1", peer_id="k1"))
    await interp.expect(Resumed, session_id="s1")
    await interp.available()
    # a second kiosk calls: the interpreter is busy, the call waits
    k2 = await dispatch.kiosk("k2")
    await k2.send(CallRequest(session_id="s2"))
    await k2.expect(Queued, session_id="s2", position=1)
    await interp.nothing()
    await relays_both_ways(k1, interp, "s1")
    await interp.send(Hangup(session_id="s1"))
    await k1.expect(CallEnded, session_id="s1", reason="hangup", by="interpreter")
    await interp.expect(Ring, session_id="s2")


async def test_the_end_a_side_missed_while_away_is_told_when_it_resumes(start):
    dispatch: Dispatch = await start(resume_grace_s=5.0)
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.connected_call(kiosk, interp, "s1")
    await kiosk.close()
    await interp.send(Hangup(session_id="s1"))
    kiosk = await dispatch.kiosk("k1")
    await kiosk.send(Resume(session_id="s1", peer_id="i1"))
    await kiosk.expect(CallEnded, session_id="s1", reason="hangup", by="interpreter")
    await kiosk.send(CallRequest(session_id="s2"))  # free for the next call
    await kiosk.expect(Queued, session_id="s2")


async def test_giving_up_on_the_media_ends_the_call_as_network_lost_for_the_other_side(start):
    dispatch: Dispatch = await start()
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.connected_call(kiosk, interp, "s1")
    await kiosk.send(Hangup(session_id="s1", reason="network_lost"))
    await interp.expect(CallEnded, session_id="s1", reason="network_lost", by="kiosk")


async def test_a_side_that_comes_back_without_resuming_has_left_the_call(start):
    dispatch: Dispatch = await start(resume_grace_s=5.0, resume_wait_s=0.3)
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.connected_call(kiosk, interp, "s1")
    await kiosk.close()
    kiosk = await dispatch.kiosk("k1")  # e.g. the kiosk app restarted: it knows no call
    await interp.expect(CallEnded, session_id="s1", reason="peer_gone", by="kiosk")
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1, interpreters_available=1)


async def test_a_new_call_request_leaves_the_old_call(start):
    dispatch: Dispatch = await start(resume_grace_s=5.0)
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.connected_call(kiosk, interp, "s1")
    await kiosk.close()
    kiosk = await dispatch.kiosk("k1")
    await kiosk.send(CallRequest(session_id="s2"))
    await interp.expect(CallEnded, session_id="s1", reason="peer_gone", by="kiosk")
    await kiosk.expect(Queued, session_id="s2")
    await interp.expect(Ring, session_id="s2")
    await kiosk.expect(Ringing, session_id="s2")


async def test_nobody_may_resume_another_sides_call(start):
    dispatch: Dispatch = await start(resume_grace_s=5.0)
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.connected_call(kiosk, interp, "s1")
    other = await dispatch.kiosk("k2")
    await other.send(Resume(session_id="s1", peer_id="i1"))
    await other.expect_error("unknown_session", session_id="s1", ref_type="resume")
    i2 = await dispatch.interpreter("i2")
    await i2.send(Resume(session_id="s1", peer_id="k1"))
    await i2.expect_error("unknown_session", session_id="s1")
    await relays_both_ways(kiosk, interp, "s1")


async def test_after_a_restart_both_sides_claim_the_call_and_dispatch_adopts_it(start):
    dispatch: Dispatch = await start(resume_grace_s=5.0)
    kiosk = await dispatch.kiosk("k1")
    interp = await dispatch.interpreter("i1")
    # a call dispatch never saw (as after its restart)
    await kiosk.send(Resume(session_id="s9", peer_id="i1"))
    await kiosk.nothing()
    await interp.send(Resume(session_id="s9", peer_id="k1"))
    await interp.expect(Resumed, session_id="s9")
    await kiosk.expect(Resumed, session_id="s9")
    await interp.expect(Status, state="in_call")
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1, calls_active=1)
    await relays_both_ways(kiosk, interp, "s9", attempt=3)
    await interp.send(Hangup(session_id="s9"))
    await kiosk.expect(CallEnded, session_id="s9", reason="hangup", by="interpreter")
    # no routing facts for the adopted call: dispatch stored them before it restarted
    assert dispatch.client.server.app[RECORDS].get("s9") is None


async def test_a_claim_nobody_matches_ends_after_the_grace(start):
    dispatch: Dispatch = await start(resume_grace_s=0.5)
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await interp.send(Resume(session_id="s9", peer_id="k-other"))
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1)  # busy: not rung
    await kiosk.send(Resume(session_id="s9", peer_id="i1"))  # names i1, but i1 named another kiosk
    await kiosk.expect_error("unknown_session", session_id="s9")
    await interp.expect(CallEnded, session_id="s9", reason="peer_gone", by="kiosk")
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1, interpreters_available=1)
