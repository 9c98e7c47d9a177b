"""The dispatch service over real WebSocket frames: hello, routing, relay, hang-ups, refusals.

Every test starts the real aiohttp app (``create_app``) on a loopback port through
pytest-aiohttp's ``aiohttp_client`` and talks to it as kiosks and interpreters do, with
``kiosk.protocol`` messages. No mocks: what is checked is what a peer would see on the wire, and
the numbers ``/healthz`` reports.

pytest-asyncio runs in strict mode here (pyproject); pytest-aiohttp >= 1.0 declares its fixtures
with ``pytest_asyncio.fixture``, so ``aiohttp_client`` works with the marker below and the
default function-scoped loop, and needs nothing else.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
import typing
from typing import Any, Optional

import aiohttp
import pytest
import pytest_asyncio

from conftest import ROOT
from kiosk import protocol
from kiosk.dispatch.accounts import ScryptParams
from kiosk.dispatch.app import ACCOUNTS, DispatchSettings, create_app
from kiosk.protocol import (
    Accept, Accepted, Answer, CallEnded, CallRequest, Cancel, Decline, Error, Hangup, Hello, Ice,
    Message, Offer, Presence, Queued, Ring, Ringing, Status, Unavailable, Welcome,
)

pytestmark = pytest.mark.asyncio

TIMEOUT = 3.0  # a message that must come
QUIET = 0.15  # how long to listen before concluding that nothing comes
SDP_OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
SDP_ANSWER = "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
PASSWORD = "secret-password"
FAST_HASH = ScryptParams(n=2 ** 10)  # real scrypt, cheap enough for many logins in tests
IDLE = dict(kiosks_online=0, interpreters_online=0, interpreters_available=0,
            calls_queued=0, calls_ringing=0, calls_active=0)


# --- helpers ----------------------------------------------------------------------------------


class Peer:
    """One WebSocket to dispatch, as a kiosk or an interpreter (or not yet either)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, role: str = "", id: str = "") -> None:
        self.ws = ws
        self.role = role
        self.id = id
        self.statuses: list[Status] = []  # what dispatch said about an interpreter's state

    def __repr__(self) -> str:
        return f"<{self.role or 'peer'} {self.id}>"

    async def send(self, msg: Message | str | bytes) -> None:
        if isinstance(msg, Message):
            await self.ws.send_str(protocol.encode(msg))
        elif isinstance(msg, bytes):
            await self.ws.send_bytes(msg)
        else:
            await self.ws.send_str(msg)

    async def recv(self, timeout: float = TIMEOUT, statuses: bool = False) -> Message:
        """The next message, decoded with the protocol's own strict decoder. ``status``
        messages are collected in ``self.statuses`` and skipped unless ``statuses``."""
        while True:
            try:
                frame = await self.ws.receive(timeout=timeout)
            except asyncio.TimeoutError:
                raise AssertionError(f"{self!r}: no message within {timeout} s") from None
            assert frame.type is aiohttp.WSMsgType.TEXT, f"{self!r}: expected a text frame, got {frame}"
            msg = protocol.decode(frame.data)
            if isinstance(msg, Status):
                self.statuses.append(msg)
                if not statuses:
                    continue
            return msg

    async def expect(self, cls: type[Message], **fields: Any) -> Any:
        msg = await self.recv(statuses=cls is Status)
        assert isinstance(msg, cls), f"{self!r}: expected {cls.type}, got {msg}"
        for name, value in fields.items():
            assert getattr(msg, name) == value, f"{self!r}: {msg} has {name}!={value!r}"
        return msg

    async def expect_error(self, code: str, **fields: Any) -> Error:
        return await self.expect(Error, code=code, **fields)

    async def expect_closed(self) -> None:
        frame = await self.ws.receive(timeout=TIMEOUT)
        assert frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                              aiohttp.WSMsgType.CLOSING), f"{self!r}: expected a close, got {frame}"
        # the client answers the close handshake; afterwards the socket is closed for good
        assert (await self.ws.receive(timeout=TIMEOUT)).type is aiohttp.WSMsgType.CLOSED
        assert self.ws.closed

    async def nothing(self, wait: float = QUIET) -> None:
        """No message but ``status`` updates comes within ``wait``."""
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                frame = await self.ws.receive(timeout=left)
            except asyncio.TimeoutError:
                return
            if frame.type is aiohttp.WSMsgType.TEXT:
                msg = protocol.decode(frame.data)
                if isinstance(msg, Status):
                    self.statuses.append(msg)
                    continue
            raise AssertionError(f"{self!r}: expected silence, got {frame}")

    async def sync(self) -> None:
        """Wait until dispatch has handled everything this peer sent so far: a repeated hello is
        refused with ``bad_state`` and changes nothing, and frames of one socket are handled in
        order."""
        await self.send(Hello(role=self.role, id=self.id, credential="x"))
        await self.expect_error("bad_state", ref_type="hello")

    async def close(self) -> None:
        await self.ws.close()

    # interpreter conveniences

    async def available(self) -> None:
        await self.send(Presence(state="available"))
        await self.sync()

    async def away(self) -> None:
        await self.send(Presence(state="away"))
        await self.sync()


class Dispatch:
    """The running app and its clients."""

    def __init__(self, client) -> None:
        self.client = client

    async def raw(self) -> Peer:
        return Peer(await self.client.ws_connect("/ws"))

    @property
    def accounts(self):
        return self.client.server.app[ACCOUNTS]

    def register(self, role: str, id: str, credential: str = PASSWORD) -> None:
        """An account for ``id`` unless there is one (dispatch knows only registered ids)."""
        if role == "kiosk" and self.accounts.kiosk(id) is None:
            self.accounts.add_kiosk(id, "", credential)
        elif role == "interpreter" and self.accounts.interpreter(id) is None:
            self.accounts.add_interpreter(id, credential)

    async def hello(self, role: str, id: str, credential: str = PASSWORD, **extra: Any) -> Peer:
        self.register(role, id, credential)
        peer = await self.raw()
        peer.role, peer.id = role, id
        await peer.send(Hello(role=role, id=id, credential=credential, **extra))
        await peer.expect(Welcome, role=role, id=id, protocol=protocol.PROTOCOL_VERSION)
        return peer

    async def kiosk(self, id: str, location: Optional[str] = None, credential: str = PASSWORD) -> Peer:
        return await self.hello("kiosk", id, credential, location=location)

    async def interpreter(self, id: str, available: bool = True, credential: str = PASSWORD) -> Peer:
        peer = await self.hello("interpreter", id, credential)
        if available:
            await peer.available()
        return peer

    async def health(self) -> dict:
        async with self.client.get("/healthz") as resp:
            assert resp.status == 200
            return await resp.json()

    async def expect_health(self, **expected: int) -> dict:
        """``/healthz`` shows ``expected`` (unnamed numbers as in an idle dispatch). Disconnects
        are handled by the server on its own time, so this polls briefly."""
        want = {**IDLE, **expected, "ok": True}
        deadline = time.monotonic() + TIMEOUT
        while True:
            health = await self.health()
            if health == want or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
        assert health == want
        return health

    async def call(self, kiosk: Peer, interp: Peer, session_id: str, position: int = 1) -> Ring:
        """``kiosk`` calls, ``interp`` (free, the one routing picks) is rung."""
        await kiosk.send(CallRequest(session_id=session_id))
        await kiosk.expect(Queued, session_id=session_id, position=position)
        ring = await interp.expect(Ring, session_id=session_id, kiosk_id=kiosk.id)
        await kiosk.expect(Ringing, session_id=session_id)
        return ring

    async def connected_call(self, kiosk: Peer, interp: Peer, session_id: str) -> None:
        """A call from ``kiosk`` answered by ``interp``, offer and answer exchanged."""
        await self.call(kiosk, interp, session_id)
        await interp.send(Accept(session_id=session_id))
        await kiosk.expect(Accepted, session_id=session_id, interpreter_id=interp.id)
        await kiosk.send(Offer(session_id=session_id, sdp=SDP_OFFER))
        await interp.expect(Offer, session_id=session_id, sdp=SDP_OFFER)
        await interp.send(Answer(session_id=session_id, sdp=SDP_ANSWER))
        await kiosk.expect(Answer, session_id=session_id, sdp=SDP_ANSWER)


@pytest_asyncio.fixture
async def start(aiohttp_client):
    """``await start(**DispatchSettings fields)`` → a running dispatch on a loopback port."""

    async def go(**settings: Any) -> Dispatch:
        # no wrap-up pause and a long ring unless a test is about them
        settings = {"wrap_up_s": 0.0, "ring_timeout_s": 60.0, "scrypt": FAST_HASH, **settings}
        return Dispatch(await aiohttp_client(create_app(DispatchSettings(**settings))))

    return go


@pytest_asyncio.fixture
async def dispatch(start) -> Dispatch:
    return await start()


# --- hello --------------------------------------------------------------------------------------


async def test_hello_welcomes_kiosk_and_interpreter(dispatch):
    await dispatch.expect_health()
    kiosk = await dispatch.kiosk("k1", location="Counter 3")
    await dispatch.expect_health(kiosks_online=1)
    interp = await dispatch.interpreter("i1", available=False)
    # an interpreter starts away: online, but not available until it says so
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1)
    await interp.available()
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1, interpreters_available=1)
    await kiosk.nothing()
    await interp.nothing()


async def test_wrong_credential_is_refused_and_the_socket_closed(dispatch):
    dispatch.register("kiosk", "k1", "token-1")
    dispatch.register("interpreter", "i1", "pw-1-long-enough")
    for role, id, credential in [("kiosk", "k1", "wrong"), ("kiosk", "k-unknown", "token-1"),
                                 ("interpreter", "i1", "token-1"),
                                 ("interpreter", "i9", "pw-1-long-enough"),
                                 ("kiosk", "i1", "pw-1-long-enough"),  # an interpreter as a kiosk
                                 ("interpreter", "k1", "token-1")]:  # a kiosk as an interpreter
        peer = await dispatch.raw()
        await peer.send(Hello(role=role, id=id, credential=credential))
        await peer.expect_error("unauthenticated", ref_type="hello")
        await peer.expect_closed()
    await dispatch.expect_health()
    await dispatch.kiosk("k1", credential="token-1")
    await dispatch.interpreter("i1", credential="pw-1-long-enough")
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1, interpreters_available=1)


async def test_a_message_before_hello_is_unauthenticated_and_closes(dispatch):
    peer = await dispatch.raw()
    await peer.send(CallRequest(session_id="s1"))
    await peer.expect_error("unauthenticated", ref_type="call_request")
    await peer.expect_closed()
    await dispatch.expect_health()


async def test_another_protocol_version_is_refused_and_closes(dispatch):
    peer = await dispatch.raw()
    await peer.send(Hello(role="kiosk", id="k1", credential="x",
                          protocol=protocol.PROTOCOL_VERSION + 1))
    await peer.expect_error("unsupported_protocol", ref_type="hello")
    await peer.expect_closed()
    await dispatch.expect_health()


async def test_a_second_hello_on_the_same_socket_is_bad_state(dispatch):
    kiosk = await dispatch.kiosk("k1")
    await kiosk.send(Hello(role="interpreter", id="i1", credential="x"))
    await kiosk.expect_error("bad_state", ref_type="hello")
    # still the same kiosk, still connected and usable
    await dispatch.expect_health(kiosks_online=1)
    await kiosk.send(CallRequest(session_id="s1"))
    await kiosk.expect(Unavailable, session_id="s1", reason="no_interpreter")


async def test_connecting_again_replaces_and_closes_the_older_connection(dispatch):
    old = await dispatch.interpreter("i1")
    new = await dispatch.interpreter("i1")
    await old.expect_error("already_connected")
    await old.expect_closed()
    await dispatch.expect_health(interpreters_online=1, interpreters_available=1)
    kiosk = await dispatch.kiosk("k1")
    await dispatch.call(kiosk, new, "s1")


# --- a whole call -----------------------------------------------------------------------------


async def test_call_flow_kiosk_hangs_up_and_the_interpreter_is_free_again(dispatch):
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1", location="Tax office, counter 3")
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1, interpreters_available=1)

    await kiosk.send(CallRequest(session_id="s1", started_by="staff", category="tax"))
    await kiosk.expect(Queued, session_id="s1", position=1)
    ring = await interp.expect(Ring, session_id="s1", kiosk_id="k1",
                               location="Tax office, counter 3", started_by="staff", category="tax")
    assert isinstance(ring.waited_s, float) and 0 <= ring.waited_s < TIMEOUT
    await kiosk.expect(Ringing, session_id="s1")
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1, calls_ringing=1)

    await interp.send(Accept(session_id="s1"))
    await kiosk.expect(Accepted, session_id="s1", interpreter_id="i1")
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1, calls_active=1)

    # the relay forwards the very message it got
    offer = Offer(session_id="s1", sdp=SDP_OFFER + "a=x-unicode:手语\r\n")
    await kiosk.send(offer)
    assert await interp.recv() == offer
    answer = Answer(session_id="s1", sdp=SDP_ANSWER)
    await interp.send(answer)
    assert await kiosk.recv() == answer
    to_interp = Ice(session_id="s1", candidate="candidate:1 1 UDP 2122252543 10.0.0.2 50000 typ host",
                    sdp_mid="0", sdp_mline_index=0)
    await kiosk.send(to_interp)
    assert await interp.recv() == to_interp
    to_kiosk = Ice(session_id="s1", candidate="candidate:2 1 UDP 2122252543 10.0.0.3 50001 typ host",
                   sdp_mid="0", sdp_mline_index=0)
    await interp.send(to_kiosk)
    assert await kiosk.recv() == to_kiosk
    end_of_candidates = Ice(session_id="s1")
    await interp.send(end_of_candidates)
    assert await kiosk.recv() == end_of_candidates

    await kiosk.send(Hangup(session_id="s1"))
    await interp.expect(CallEnded, session_id="s1", reason="hangup", by="kiosk")
    await kiosk.nothing()  # the side that hangs up hears nothing back
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1, interpreters_available=1)

    # the interpreter is free again, and the kiosk may call again
    await dispatch.call(kiosk, interp, "s2")


async def test_call_flow_interpreter_hangs_up(dispatch):
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    ring = await dispatch.call(kiosk, interp, "s1")
    assert ring.location == "k1"  # a kiosk without a location is shown by its id
    await interp.send(Accept(session_id="s1"))
    await kiosk.expect(Accepted, session_id="s1", interpreter_id="i1")
    await kiosk.send(Offer(session_id="s1", sdp=SDP_OFFER))
    await interp.expect(Offer, sdp=SDP_OFFER)
    await interp.send(Answer(session_id="s1", sdp=SDP_ANSWER))
    await kiosk.expect(Answer, sdp=SDP_ANSWER)

    await interp.send(Hangup(session_id="s1", reason="completed"))
    await kiosk.expect(CallEnded, session_id="s1", reason="hangup", by="interpreter")
    await interp.nothing()
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1, interpreters_available=1)
    # the ended session is gone for both
    await kiosk.send(Offer(session_id="s1", sdp=SDP_OFFER))
    await kiosk.expect_error("unknown_session", session_id="s1")
    await interp.send(Answer(session_id="s1", sdp=SDP_ANSWER))
    await interp.expect_error("unknown_session", session_id="s1")
    await dispatch.call(kiosk, interp, "s2")


# --- queue order and interpreter order ------------------------------------------------------


async def test_waiting_calls_are_served_oldest_first_with_positions(dispatch):
    i1 = await dispatch.interpreter("i1")
    k0 = await dispatch.kiosk("k0")
    await dispatch.connected_call(k0, i1, "s0")  # i1 is busy from now on
    k1 = await dispatch.kiosk("k1")
    k2 = await dispatch.kiosk("k2")
    await k1.send(CallRequest(session_id="s1"))
    await k1.expect(Queued, session_id="s1", position=1)
    await k2.send(CallRequest(session_id="s2"))
    await k2.expect(Queued, session_id="s2", position=2)
    await k1.nothing()  # k1's place did not change
    await dispatch.expect_health(kiosks_online=3, interpreters_online=1, calls_queued=2,
                                 calls_active=1)
    await asyncio.sleep(0.3)

    # a second interpreter comes in: the older call rings, the younger one moves up
    i2 = await dispatch.interpreter("i2", available=False)
    await i2.send(Presence(state="available"))
    ring = await i2.expect(Ring, session_id="s1", kiosk_id="k1")
    assert ring.waited_s >= 0.3
    await k1.expect(Ringing, session_id="s1")
    await k2.expect(Queued, session_id="s2", position=1)
    await dispatch.expect_health(kiosks_online=3, interpreters_online=2, calls_queued=1,
                                 calls_ringing=1, calls_active=1)

    # i1 hangs up: the next waiting call rings i1
    await i1.send(Hangup(session_id="s0"))
    await k0.expect(CallEnded, session_id="s0", reason="hangup", by="interpreter")
    await i1.expect(Ring, session_id="s2", kiosk_id="k2")
    await k2.expect(Ringing, session_id="s2")
    await dispatch.expect_health(kiosks_online=3, interpreters_online=2, calls_ringing=2)


async def test_a_call_rings_the_interpreter_free_the_longest(dispatch):
    # i2 connects first, but i1 is available first: i1 has been free longer
    i2 = await dispatch.interpreter("i2", available=False)
    i1 = await dispatch.interpreter("i1", available=False)
    await i1.available()
    await i2.available()
    k1 = await dispatch.kiosk("k1")
    await dispatch.call(k1, i1, "s1")
    await i2.nothing()
    await i1.send(Accept(session_id="s1"))
    await k1.expect(Accepted, interpreter_id="i1")
    await i1.send(Hangup(session_id="s1"))
    await k1.expect(CallEnded, session_id="s1")
    await i1.sync()
    # i1 just finished a call; i2 has waited since it became available
    await dispatch.call(k1, i2, "s2")
    await i1.nothing()


# --- declines ---------------------------------------------------------------------------------


async def test_a_declined_call_rings_the_next_interpreter(dispatch):
    i1 = await dispatch.interpreter("i1")
    i2 = await dispatch.interpreter("i2")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.call(kiosk, i1, "s1")
    await i1.send(Decline(session_id="s1"))
    await i2.expect(Ring, session_id="s1", kiosk_id="k1")
    await kiosk.expect(Ringing, session_id="s1")  # ringing again, elsewhere
    await i1.nothing()  # not rung again for the call they declined
    await i1.send(Accept(session_id="s1"))  # too late: no longer routed to i1
    await i1.expect_error("unknown_session", session_id="s1")
    await i2.send(Accept(session_id="s1"))
    await kiosk.expect(Accepted, session_id="s1", interpreter_id="i2")
    await dispatch.expect_health(kiosks_online=1, interpreters_online=2, interpreters_available=1,
                                 calls_active=1)


async def test_a_call_declined_by_every_available_interpreter_ends(dispatch):
    i1 = await dispatch.interpreter("i1")
    i2 = await dispatch.interpreter("i2")
    await dispatch.interpreter("i3", available=False)  # away: does not count
    kiosk = await dispatch.kiosk("k1")
    await dispatch.call(kiosk, i1, "s1")
    await i1.send(Decline(session_id="s1"))
    await i2.expect(Ring, session_id="s1")
    await kiosk.expect(Ringing, session_id="s1")
    await i2.send(Decline(session_id="s1"))
    await kiosk.expect(CallEnded, session_id="s1", reason="declined", by="dispatch")
    await i1.nothing()
    await dispatch.expect_health(kiosks_online=1, interpreters_online=3, interpreters_available=2)
    # a new call is a new chance
    await dispatch.call(kiosk, i1, "s2")


# --- nobody there -----------------------------------------------------------------------------


async def test_no_interpreter_online_or_all_away_is_unavailable(dispatch):
    kiosk = await dispatch.kiosk("k1")
    await kiosk.send(CallRequest(session_id="s1"))
    await kiosk.expect(Unavailable, session_id="s1", reason="no_interpreter")
    await dispatch.expect_health(kiosks_online=1)

    interp = await dispatch.interpreter("i1", available=False)
    await kiosk.send(CallRequest(session_id="s2"))
    await kiosk.expect(Unavailable, session_id="s2", reason="no_interpreter")
    await interp.available()
    await interp.away()
    await kiosk.send(CallRequest(session_id="s3"))
    await kiosk.expect(Unavailable, session_id="s3", reason="no_interpreter")
    await interp.nothing()
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1)
    # the kiosk has no call left over: its next call is served
    await interp.available()
    await dispatch.call(kiosk, interp, "s4")


# --- cancel -----------------------------------------------------------------------------------


async def test_cancel_while_ringing_stops_the_ring(dispatch):
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.call(kiosk, interp, "s1")
    await kiosk.send(Cancel(session_id="s1"))
    await interp.expect(CallEnded, session_id="s1", reason="cancelled", by="kiosk")
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1, interpreters_available=1)
    await interp.send(Accept(session_id="s1"))
    await interp.expect_error("unknown_session", session_id="s1")
    await kiosk.nothing()
    await dispatch.call(kiosk, interp, "s2")


async def test_cancel_while_queued_moves_the_others_up(dispatch):
    i1 = await dispatch.interpreter("i1")
    k0 = await dispatch.kiosk("k0")
    await dispatch.call(k0, i1, "s0")  # i1 is ringing: everyone else waits
    kiosks = [await dispatch.kiosk(f"k{n}") for n in (1, 2, 3)]
    for n, k in enumerate(kiosks, start=1):
        await k.send(CallRequest(session_id=f"s{n}"))
        await k.expect(Queued, session_id=f"s{n}", position=n)
    k1, k2, k3 = kiosks
    await k1.send(Cancel(session_id="s1"))
    await k2.expect(Queued, session_id="s2", position=1)
    await k3.expect(Queued, session_id="s3", position=2)
    await k1.nothing()
    await i1.nothing()  # a waiting call's cancel concerns no interpreter
    await dispatch.expect_health(kiosks_online=4, interpreters_online=1, calls_queued=2,
                                 calls_ringing=1)
    await k1.send(Cancel(session_id="s1"))  # gone already
    await k1.expect_error("unknown_session", session_id="s1")
    # the queue goes on in order: i1 declines s0, which ends (i1 was the only one), and the
    # oldest waiting call rings
    await i1.send(Decline(session_id="s0"))
    await i1.expect(Ring, session_id="s2", kiosk_id="k2")
    await k2.expect(Ringing, session_id="s2")
    await k0.expect(CallEnded, session_id="s0", reason="declined", by="dispatch")
    await k3.expect(Queued, session_id="s3", position=1)


# --- peers that vanish ------------------------------------------------------------------------


async def test_kiosk_gone_mid_call_ends_the_call_for_the_interpreter_after_the_grace(start):
    dispatch = await start(resume_grace_s=0.5)
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.connected_call(kiosk, interp, "s1")
    await kiosk.close()
    await interp.expect(CallEnded, session_id="s1", reason="peer_gone", by="kiosk")
    await dispatch.expect_health(interpreters_online=1, interpreters_available=1)
    k2 = await dispatch.kiosk("k2")
    await dispatch.call(k2, interp, "s2")


async def test_kiosk_gone_while_ringing_stops_the_ring(dispatch):
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.call(kiosk, interp, "s1")
    await kiosk.close()
    await interp.expect(CallEnded, session_id="s1", reason="peer_gone", by="kiosk")
    await dispatch.expect_health(interpreters_online=1, interpreters_available=1)


async def test_interpreter_gone_mid_call_ends_the_call_for_the_kiosk_after_the_grace(start):
    dispatch = await start(resume_grace_s=0.5)
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.connected_call(kiosk, interp, "s1")
    await interp.close()
    await kiosk.expect(CallEnded, session_id="s1", reason="peer_gone", by="interpreter")
    await dispatch.expect_health(kiosks_online=1)
    await kiosk.send(CallRequest(session_id="s2"))
    await kiosk.expect(Unavailable, session_id="s2", reason="no_interpreter")


async def test_interpreter_gone_while_ringing_puts_the_call_back_and_rings_another(dispatch):
    i1 = await dispatch.interpreter("i1")
    i2 = await dispatch.interpreter("i2")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.call(kiosk, i1, "s1")
    await i1.close()
    await i2.expect(Ring, session_id="s1", kiosk_id="k1")
    await kiosk.expect(Ringing, session_id="s1")
    await dispatch.expect_health(kiosks_online=1, interpreters_online=1, calls_ringing=1)
    await i2.send(Accept(session_id="s1"))
    await kiosk.expect(Accepted, session_id="s1", interpreter_id="i2")


async def test_a_call_put_back_by_a_vanished_interpreter_keeps_its_place(dispatch):
    busy = await dispatch.interpreter("i0")
    k0 = await dispatch.kiosk("k0")
    await dispatch.connected_call(k0, busy, "s0")
    i1 = await dispatch.interpreter("i1")
    k1 = await dispatch.kiosk("k1")
    k2 = await dispatch.kiosk("k2")
    await dispatch.call(k1, i1, "s1")
    await k2.send(CallRequest(session_id="s2"))
    await k2.expect(Queued, session_id="s2", position=1)
    await i1.close()
    # nobody free: s1 waits again, ahead of the younger s2
    await k1.expect(Queued, session_id="s1", position=1)
    await k2.expect(Queued, session_id="s2", position=2)
    await dispatch.expect_health(kiosks_online=3, interpreters_online=1, calls_queued=2,
                                 calls_active=1)
    await busy.send(Hangup(session_id="s0"))
    await k0.expect(CallEnded, session_id="s0")
    await busy.expect(Ring, session_id="s1", kiosk_id="k1")
    await k1.expect(Ringing, session_id="s1")
    await k2.expect(Queued, session_id="s2", position=1)


# --- roles and isolation ----------------------------------------------------------------------


async def test_a_kiosk_may_not_send_interpreter_messages(dispatch):
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.call(kiosk, interp, "s1")
    before = await dispatch.health()
    for msg in (Accept(session_id="s1"), Decline(session_id="s1"), Presence(state="away"),
                Answer(session_id="s1", sdp=SDP_ANSWER)):
        await kiosk.send(msg)
        await kiosk.expect_error("forbidden", ref_type=msg.type)
    assert await dispatch.health() == before
    await interp.nothing()
    await interp.send(Accept(session_id="s1"))  # the call itself is untouched
    await kiosk.expect(Accepted, session_id="s1", interpreter_id="i1")


async def test_an_interpreter_may_not_send_kiosk_messages(dispatch):
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.call(kiosk, interp, "s1")
    await interp.send(Accept(session_id="s1"))
    await kiosk.expect(Accepted)
    before = await dispatch.health()
    for msg in (CallRequest(session_id="s9"), Offer(session_id="s1", sdp=SDP_OFFER),
                Cancel(session_id="s1")):
        await interp.send(msg)
        await interp.expect_error("forbidden", ref_type=msg.type)
    assert await dispatch.health() == before
    await kiosk.nothing()


async def test_a_kiosk_cannot_touch_another_kiosks_call(dispatch):
    i1 = await dispatch.interpreter("i1")
    k1 = await dispatch.kiosk("k1")
    k2 = await dispatch.kiosk("k2")
    await dispatch.connected_call(k1, i1, "s1")
    before = await dispatch.health()
    for msg in (Offer(session_id="s1", sdp="v=0 forged"), Ice(session_id="s1", candidate="forged"),
                Hangup(session_id="s1"), Cancel(session_id="s1")):
        await k2.send(msg)
        await k2.expect_error("unknown_session", ref_type=msg.type, session_id="s1")
    # the same session id cannot be taken over by a new request either
    await k2.send(CallRequest(session_id="s1"))
    await k2.expect_error("bad_state", ref_type="call_request", session_id="s1")
    assert await dispatch.health() == before
    await i1.nothing()
    await k1.nothing()
    # k1's call goes on
    await i1.send(Ice(session_id="s1", candidate="candidate:9"))
    await k1.expect(Ice, session_id="s1", candidate="candidate:9")
    await k1.send(Hangup(session_id="s1"))
    await i1.expect(CallEnded, session_id="s1", reason="hangup", by="kiosk")


async def test_an_interpreter_cannot_take_a_call_rung_elsewhere(dispatch):
    i1 = await dispatch.interpreter("i1")
    i2 = await dispatch.interpreter("i2")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.call(kiosk, i1, "s1")
    before = await dispatch.health()
    for msg in (Accept(session_id="s1"), Decline(session_id="s1"),
                Answer(session_id="s1", sdp=SDP_ANSWER), Hangup(session_id="s1")):
        await i2.send(msg)
        await i2.expect_error("unknown_session", ref_type=msg.type, session_id="s1")
    assert await dispatch.health() == before
    await kiosk.nothing()
    await i1.send(Accept(session_id="s1"))
    await kiosk.expect(Accepted, session_id="s1", interpreter_id="i1")


async def test_messages_out_of_order_are_bad_state(dispatch):
    i0 = await dispatch.interpreter("i0")
    k0 = await dispatch.kiosk("k0")
    await dispatch.call(k0, i0, "s0")  # another call, ringing all along
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.call(kiosk, interp, "s1")
    # before accept: no media negotiation, no hangup from the interpreter
    await kiosk.send(Offer(session_id="s1", sdp=SDP_OFFER))
    await kiosk.expect_error("bad_state", ref_type="offer", session_id="s1")
    await kiosk.send(Ice(session_id="s1", candidate="candidate:1"))
    await kiosk.expect_error("bad_state", ref_type="ice", session_id="s1")
    await interp.send(Answer(session_id="s1", sdp=SDP_ANSWER))
    await interp.expect_error("bad_state", ref_type="answer", session_id="s1")
    await interp.send(Hangup(session_id="s1"))
    await interp.expect_error("bad_state", ref_type="hangup", session_id="s1")
    # one call per kiosk
    await kiosk.send(CallRequest(session_id="s2"))
    await kiosk.expect_error("bad_state", ref_type="call_request", session_id="s2")
    await dispatch.expect_health(kiosks_online=2, interpreters_online=2, calls_ringing=2)
    # after accept: no second accept, no decline, no cancel
    await interp.send(Accept(session_id="s1"))
    await kiosk.expect(Accepted, session_id="s1")
    await interp.send(Accept(session_id="s1"))
    await interp.expect_error("bad_state", ref_type="accept", session_id="s1")
    await interp.send(Decline(session_id="s1"))
    await interp.expect_error("bad_state", ref_type="decline", session_id="s1")
    await kiosk.send(Cancel(session_id="s1"))
    await kiosk.expect_error("bad_state", ref_type="cancel", session_id="s1")
    await dispatch.expect_health(kiosks_online=2, interpreters_online=2, calls_ringing=1,
                                 calls_active=1)
    await kiosk.send(Offer(session_id="s1", sdp=SDP_OFFER))
    await interp.expect(Offer, session_id="s1", sdp=SDP_OFFER)


# --- malformed input --------------------------------------------------------------------------

OVERSIZED = protocol.encode(Offer(session_id="s1", sdp="a" * protocol.MAX_MESSAGE_BYTES))
BAD_FRAMES = {
    "not JSON": ("{type: offer", "bad_message"),
    "not an object": ('["offer"]', "bad_message"),
    "no type": ('{"session_id":"s1"}', "bad_message"),
    "unknown type": ('{"type":"reboot","session_id":"s1"}', "bad_message"),
    "missing field": ('{"type":"offer","session_id":"s1"}', "bad_message"),
    "unknown field": ('{"type":"hangup","session_id":"s1","by":"kiosk"}', "bad_message"),
    "wrong field type": ('{"type":"hangup","session_id":1}', "bad_message"),
    "binary frame": (b'{"type":"hangup","session_id":"s1"}', "bad_message"),
    "oversized frame": (OVERSIZED, "too_large"),
    "oversized by multibyte text": (
        '{"type":"hangup","session_id":"s1","reason":"' + "语" * (protocol.MAX_MESSAGE_BYTES // 3)
        + '"}', "too_large"),
    # a JSON escape for half a UTF-16 pair decodes to a string no text frame can carry
    "unpaired surrogate": ('{"type":"offer","session_id":"s1","sdp":"v=0 \\ud800"}', "bad_message"),
    "unpaired surrogate in a field name": ('{"type":"hangup","session_id":"s1","\\udfff":1}',
                                           "bad_message"),
}


@pytest.mark.parametrize("frame, code", list(BAD_FRAMES.values()), ids=list(BAD_FRAMES))
async def test_malformed_frames_are_refused_and_change_nothing(dispatch, frame, code):
    assert len(OVERSIZED) > protocol.MAX_MESSAGE_BYTES
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    waiting = await dispatch.kiosk("k2")
    await dispatch.call(kiosk, interp, "s1")
    await interp.send(Accept(session_id="s1"))
    await kiosk.expect(Accepted)
    await waiting.send(CallRequest(session_id="s2"))
    await waiting.expect(Queued, session_id="s2", position=1)
    before = await dispatch.health()
    assert before["calls_active"] == 1 and before["calls_queued"] == 1

    for peer in (kiosk, interp, waiting):
        await peer.send(frame)
        error = await peer.expect_error(code)
        assert error.message and error.session_id is None
        assert not peer.ws.closed
        assert await dispatch.health() == before
    for peer in (kiosk, interp, waiting):
        await peer.nothing(0.05)

    # the same call goes on as if nothing had happened
    await kiosk.send(Offer(session_id="s1", sdp=SDP_OFFER))
    await interp.expect(Offer, session_id="s1", sdp=SDP_OFFER)
    await interp.send(Answer(session_id="s1", sdp=SDP_ANSWER))
    await kiosk.expect(Answer, session_id="s1", sdp=SDP_ANSWER)
    await interp.send(Hangup(session_id="s1"))
    await kiosk.expect(CallEnded, session_id="s1", reason="hangup", by="interpreter")
    # and the waiting call is served next
    await interp.expect(Ring, session_id="s2", kiosk_id="k2")
    await waiting.expect(Ringing, session_id="s2")


@pytest.mark.parametrize("frame, code", [
    ("hello", "bad_message"),
    ('{"type":"hello","role":"kiosk","id":"k1"}', "bad_message"),
    ('{"type":"hello","role":"operator","id":"k1","credential":"x"}', "bad_message"),
    ('{"type":"hello","role":"kiosk","id":"k1\\ud800","credential":"x"}', "bad_message"),
    (OVERSIZED, "too_large"),
], ids=["not JSON", "missing credential", "unknown role", "unpaired surrogate", "oversized"])
async def test_a_malformed_first_frame_is_refused_and_closes(dispatch, frame, code):
    peer = await dispatch.raw()
    await peer.send(frame)
    await peer.expect_error(code)
    await peer.expect_closed()
    await dispatch.expect_health()


async def test_a_frame_beyond_the_transport_limit_closes_only_that_connection(start):
    """Frames above 4 x MAX_MESSAGE_BYTES are stopped by aiohttp itself (close code 1009);
    the hub then treats the peer as gone (after the grace for an answered call)."""
    dispatch = await start(resume_grace_s=0.5)
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.connected_call(kiosk, interp, "s1")
    await kiosk.send("x" * (4 * protocol.MAX_MESSAGE_BYTES + 1))
    frame = await kiosk.ws.receive(timeout=TIMEOUT)
    assert frame.type is aiohttp.WSMsgType.CLOSE and frame.data == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    await interp.expect(CallEnded, session_id="s1", reason="peer_gone", by="kiosk")
    await dispatch.expect_health(interpreters_online=1, interpreters_available=1)
    k2 = await dispatch.kiosk("k2")
    await dispatch.connected_call(k2, interp, "s2")


# --- /healthz ---------------------------------------------------------------------------------


async def test_healthz_follows_every_step(start):
    dispatch = await start(resume_grace_s=0.5)
    h = dispatch.expect_health
    await h()
    i1 = await dispatch.interpreter("i1", available=False)
    await h(interpreters_online=1)
    await i1.available()
    await h(interpreters_online=1, interpreters_available=1)
    i2 = await dispatch.interpreter("i2")
    await h(interpreters_online=2, interpreters_available=2)
    k1, k2, k3 = [await dispatch.kiosk(f"k{n}") for n in (1, 2, 3)]
    await h(kiosks_online=3, interpreters_online=2, interpreters_available=2)

    await dispatch.call(k1, i1, "s1")
    await h(kiosks_online=3, interpreters_online=2, interpreters_available=1, calls_ringing=1)
    await dispatch.call(k2, i2, "s2")
    await h(kiosks_online=3, interpreters_online=2, calls_ringing=2)
    await k3.send(CallRequest(session_id="s3"))
    await k3.expect(Queued, position=1)
    await h(kiosks_online=3, interpreters_online=2, calls_queued=1, calls_ringing=2)
    await i1.send(Accept(session_id="s1"))
    await k1.expect(Accepted)
    await h(kiosks_online=3, interpreters_online=2, calls_queued=1, calls_ringing=1, calls_active=1)
    await i2.send(Accept(session_id="s2"))
    await k2.expect(Accepted)
    await h(kiosks_online=3, interpreters_online=2, calls_queued=1, calls_active=2)

    await k1.send(Hangup(session_id="s1"))
    await i1.expect(CallEnded, reason="hangup")
    await i1.expect(Ring, session_id="s3")
    await h(kiosks_online=3, interpreters_online=2, calls_ringing=1, calls_active=1)
    await k3.close()
    await i1.expect(CallEnded, session_id="s3", reason="peer_gone")
    await h(kiosks_online=2, interpreters_online=2, interpreters_available=1, calls_active=1)
    await i2.close()
    await k2.expect(CallEnded, session_id="s2", reason="peer_gone", by="interpreter")
    await h(kiosks_online=2, interpreters_online=1, interpreters_available=1)
    await i1.away()
    await h(kiosks_online=2, interpreters_online=1)
    for peer in (i1, k1, k2):
        await peer.close()
    await h()


# --- the protocol document --------------------------------------------------------------------

DOC = ROOT / "docs" / "protocol.md"
HEADING = re.compile(r"^### `([a-z_]+)`\s*$", re.MULTILINE)


# (async only because the module's asyncio mark applies to every test in it)


def _doc_sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = HEADING.split(text)
    return {name: body.split("\n## ")[0] for name, body in zip(parts[1::2], parts[2::2])}


async def test_protocol_doc_has_a_heading_for_every_message_and_no_other():
    sections = _doc_sections()
    assert set(sections) == set(protocol.MESSAGE_TYPES), (
        f"missing: {sorted(set(protocol.MESSAGE_TYPES) - set(sections))}, "
        f"not in the code: {sorted(set(sections) - set(protocol.MESSAGE_TYPES))}")
    assert len(HEADING.findall(DOC.read_text(encoding="utf-8"))) == len(sections)  # no duplicates


async def test_protocol_doc_names_every_field_and_gives_a_valid_example():
    for name, body in _doc_sections().items():
        cls = protocol.MESSAGE_TYPES[name]
        for f in dataclasses.fields(cls):
            assert f"`{f.name}`" in body, f"docs/protocol.md: {name} does not describe {f.name}"
        examples = re.findall(r"```json\n(.*?)\n```", body, re.DOTALL)
        assert examples, f"docs/protocol.md: {name} has no JSON example"
        for example in examples:
            msg = protocol.decode(example)  # strict: the example is a real, complete message
            assert msg.type == name


async def test_protocol_doc_lists_every_error_code_and_the_limits():
    text = DOC.read_text(encoding="utf-8")
    for code in typing.get_args(protocol.ErrorCode):
        assert re.search(rf"^\| `{code}` \|", text, re.MULTILINE), f"error code {code} missing"
    assert f"{protocol.MAX_MESSAGE_BYTES}" in text
    assert f'"protocol": {protocol.PROTOCOL_VERSION}' in text
