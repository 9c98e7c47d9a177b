"""Dispatch as a call centre: ring time-outs, missed rings, wrap-up, estimates, service hours,
the interpreter's status, central records, the console's login API and the Origin check.

Real app, real WebSocket frames and HTTP requests (helpers from ``test_dispatch``)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timezone
from types import MappingProxyType

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk import protocol
from kiosk.config import ServiceHours
from kiosk.dispatch.app import RECORDS
from kiosk.protocol import (
    Accept, Accepted, CallEnded, CallRequest, Hangup, Hello, Presence, ProtocolError, Queued,
    RecordAck, Ring, SessionRecordUpload, Status, Unavailable, Welcome,
)
from test_dispatch import PASSWORD, Dispatch, dispatch, start  # noqa: F401  (fixtures)

pytestmark = pytest.mark.asyncio


async def until(peer, cls, **fields):
    """Skip what comes before the first ``cls`` message (e.g. the queue updates of a re-ring)."""
    while True:
        msg = await peer.recv()
        if isinstance(msg, cls) and all(getattr(msg, k) == v for k, v in fields.items()):
            return msg


def record(session_id: str, kiosk_id: str, **changes) -> SessionRecordUpload:
    now = time.time()
    fields = dict(session_id=session_id, kiosk_id=kiosk_id, started_by="resident", category=None,
                  state="ended", requested_at=now - 60, answered_at=now - 50, connected_at=now - 49,
                  ended_at=now, wait_s=10.0, talk_s=49.0, end_reason="completed", ended_by="kiosk",
                  interpreter_id="i1", rating=5, rated_at=now, app_version="test")
    fields.update(changes)
    return SessionRecordUpload(**fields)


# --- the interpreter's status -----------------------------------------------------------------


async def test_status_follows_the_interpreter_through_a_call(start):
    dispatch: Dispatch = await start(wrap_up_s=0.4)
    interp = await dispatch.interpreter("i1", available=False)
    await interp.expect(Status, state="away")
    await interp.send(Presence(state="available"))
    await interp.expect(Status, state="available")
    kiosk = await dispatch.kiosk("k1")
    await kiosk.send(CallRequest(session_id="s1"))
    await interp.expect(Ring, session_id="s1")
    await interp.expect(Status, state="ringing")
    await interp.send(Accept(session_id="s1"))
    await interp.expect(Status, state="in_call")
    await kiosk.send(Hangup(session_id="s1"))
    await interp.expect(CallEnded, session_id="s1", reason="hangup")
    wrap = await interp.expect(Status, state="wrap_up")
    assert 0 < wrap.wrap_up_s <= 0.4
    await interp.expect(Status, state="available", reason="wrap_up_over")


async def test_no_ring_during_wrap_up_then_the_call_is_served(start):
    dispatch: Dispatch = await start(wrap_up_s=0.5)
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.call(kiosk, interp, "s1")
    await interp.send(Accept(session_id="s1"))
    await kiosk.expect(Accepted)
    await interp.send(Hangup(session_id="s1"))
    await kiosk.expect(CallEnded, reason="hangup")
    started = time.monotonic()
    await kiosk.send(CallRequest(session_id="s2"))
    await kiosk.expect(Queued, session_id="s2", position=1)
    await interp.expect(Ring, session_id="s2")
    assert time.monotonic() - started >= 0.4  # not before the wrap-up pause was over


async def test_ready_now_ends_wrap_up_early(start):
    dispatch: Dispatch = await start(wrap_up_s=30)
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.connected_call(kiosk, interp, "s1")
    await kiosk.send(Hangup(session_id="s1"))
    await interp.expect(CallEnded)
    await interp.expect(Status, state="wrap_up")
    await interp.send(Presence(state="available"))
    await interp.expect(Status, state="available")
    await dispatch.call(kiosk, interp, "s2")


async def test_an_old_wrap_up_timer_does_not_end_a_later_pause(start):
    dispatch: Dispatch = await start(wrap_up_s=0.6)
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.connected_call(kiosk, interp, "s1")
    await kiosk.send(Hangup(session_id="s1"))
    await interp.expect(CallEnded, session_id="s1")
    await interp.expect(Status, state="wrap_up")
    await interp.send(Presence(state="available"))  # ready now: the first pause ends early
    await interp.expect(Status, state="available")
    await dispatch.connected_call(kiosk, interp, "s2")
    await asyncio.sleep(0.3)
    await kiosk.send(Hangup(session_id="s2"))
    started = time.monotonic()
    await interp.expect(CallEnded, session_id="s2")
    await interp.expect(Status, state="wrap_up")
    await interp.expect(Status, state="available", reason="wrap_up_over")
    assert time.monotonic() - started >= 0.5  # the second pause ran its full length


# --- rings that are not answered --------------------------------------------------------------


async def test_an_unanswered_ring_moves_to_the_next_interpreter(start):
    dispatch: Dispatch = await start(ring_timeout_s=0.3)
    first = await dispatch.interpreter("i1")
    await asyncio.sleep(0.01)
    second = await dispatch.interpreter("i2")
    kiosk = await dispatch.kiosk("k1")
    ring = await dispatch.call(kiosk, first, "s1")
    assert ring.timeout_s == 0.3
    await first.expect(CallEnded, session_id="s1", reason="ring_timeout", by="dispatch")
    await second.expect(Ring, session_id="s1")
    await second.send(Accept(session_id="s1"))
    await until(kiosk, Accepted, interpreter_id="i2")
    await dispatch.expect_health(kiosks_online=1, interpreters_online=2, interpreters_available=1,
                                 calls_active=1)


async def test_three_missed_rings_in_a_row_set_away(start):
    dispatch: Dispatch = await start(ring_timeout_s=0.2, missed_rings_to_away=3)
    interp = await dispatch.interpreter("i1")
    backup = await dispatch.interpreter("i2", available=False)
    kiosk = await dispatch.kiosk("k1")
    for n in range(1, 4):
        await kiosk.send(CallRequest(session_id=f"s{n}"))
        await interp.expect(Ring, session_id=f"s{n}")
        await interp.expect(CallEnded, session_id=f"s{n}", reason="ring_timeout")
        # nobody else on duty: the call cannot be served and ends for the kiosk; after the
        # third miss nobody is on duty at all
        ended = await kiosk.recv()
        while isinstance(ended, (Queued, protocol.Ringing)):
            ended = await kiosk.recv()
        if n < 3:
            assert isinstance(ended, CallEnded) and ended.reason == "declined"
        else:
            assert isinstance(ended, Unavailable) and ended.reason == "no_interpreter"
    await interp.nothing()
    told = [st for st in interp.statuses if st.reason == "missed_rings"]
    assert [(st.state, st.missed_rings) for st in told] == [("away", 3)]
    assert interp.statuses[-1].state == "away"
    await dispatch.expect_health(kiosks_online=1, interpreters_online=2)
    await backup.nothing()
    assert [st.state for st in backup.statuses] == ["away"]  # never rung: it is away


async def test_answering_resets_the_missed_ring_count(start):
    dispatch: Dispatch = await start(ring_timeout_s=0.2, missed_rings_to_away=2)
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await kiosk.send(CallRequest(session_id="s1"))
    await interp.expect(Ring)
    await interp.expect(CallEnded, reason="ring_timeout")
    await until(kiosk, CallEnded, session_id="s1", reason="declined")
    await dispatch.call(kiosk, interp, "s2")
    await interp.send(Accept(session_id="s2"))
    await kiosk.expect(Accepted)
    await interp.send(Hangup(session_id="s2"))
    await kiosk.expect(CallEnded)
    await kiosk.send(CallRequest(session_id="s3"))
    await interp.expect(Ring, session_id="s3")
    await interp.expect(CallEnded, reason="ring_timeout")
    # one miss after an answer: still on duty
    await asyncio.sleep(0.05)
    assert all(s.reason != "missed_rings" for s in interp.statuses)


# --- what the waiting kiosk hears -------------------------------------------------------------


async def test_queue_position_comes_with_an_estimated_wait(dispatch):
    busy = await dispatch.interpreter("i1")
    first = await dispatch.kiosk("k1")
    await dispatch.connected_call(first, busy, "s1")
    k2, k3 = await dispatch.kiosk("k2"), await dispatch.kiosk("k3")
    await k2.send(CallRequest(session_id="s2"))
    q2 = await k2.expect(Queued, position=1)
    await k3.send(CallRequest(session_id="s3"))
    q3 = await k3.expect(Queued, position=2)
    assert q2.estimated_wait_s > 0 and q3.estimated_wait_s > q2.estimated_wait_s
    # moving up the queue shortens the estimate
    await first.send(Hangup(session_id="s1"))
    await busy.expect(CallEnded)
    await k2.expect(protocol.Ringing)
    moved = await k3.expect(Queued, position=1)
    assert moved.estimated_wait_s is not None and moved.estimated_wait_s < q3.estimated_wait_s


async def test_waiting_calls_end_when_nobody_is_on_duty_any_more(dispatch):
    busy = await dispatch.interpreter("i1")
    first = await dispatch.kiosk("k1")
    await dispatch.connected_call(first, busy, "s1")
    waiting = await dispatch.kiosk("k2")
    await waiting.send(CallRequest(session_id="s2"))
    await waiting.expect(Queued)
    await busy.send(Presence(state="away"))  # leaves after this call
    await waiting.expect(Unavailable, session_id="s2", reason="no_interpreter")
    await dispatch.expect_health(kiosks_online=2, interpreters_online=1, calls_active=1)


async def test_outside_service_hours_the_kiosk_hears_so_at_once(start):
    closed = ServiceHours(timezone="UTC", weekly=MappingProxyType(
        {d: () for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}))
    dispatch: Dispatch = await start(service_hours=closed)
    await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await kiosk.send(CallRequest(session_id="s1"))
    await kiosk.expect(Unavailable, session_id="s1", reason="out_of_hours")
    facts = dispatch.client.server.app[RECORDS].get("s1")
    assert facts["dispatch_outcome"] == "out_of_hours"


async def test_opening_hours_detail_names_the_next_opening(start):
    now = datetime.now(timezone.utc)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(now.weekday() + 1) % 7]
    weekly = {d: () for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    weekly[day] = ((9 * 60, 17 * 60),)
    dispatch: Dispatch = await start(service_hours=ServiceHours(timezone="UTC",
                                                                weekly=MappingProxyType(weekly)))
    await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await kiosk.send(CallRequest(session_id="s1"))
    msg = await kiosk.expect(Unavailable, reason="out_of_hours")
    assert msg.detail.endswith("09:00+00:00")


# --- central records --------------------------------------------------------------------------


async def test_a_kiosk_record_is_stored_once_and_acknowledged(dispatch):
    kiosk = await dispatch.kiosk("k1")
    rec = record("s1", "k1")
    for _ in range(3):  # resent after a lost ack: still one row
        await kiosk.send(rec)
        await kiosk.expect(RecordAck, session_id="s1")
    store = dispatch.client.server.app[RECORDS]
    assert store.count() == 1
    assert store.get("s1")["rating"] == 5


async def test_a_kiosk_cannot_upload_another_kiosks_record(dispatch):
    kiosk = await dispatch.kiosk("k1")
    await kiosk.send(record("s1", "k2"))
    await kiosk.expect_error("forbidden", ref_type="session_record")
    assert dispatch.client.server.app[RECORDS].count() == 0


async def test_routing_facts_join_the_kiosk_record(start):
    dispatch: Dispatch = await start(ring_timeout_s=0.2)
    i1 = await dispatch.interpreter("i1")
    await asyncio.sleep(0.01)
    i2 = await dispatch.interpreter("i2")
    kiosk = await dispatch.kiosk("k1", location="Hall 3")
    await dispatch.call(kiosk, i1, "s1")
    await i1.expect(CallEnded, reason="ring_timeout")
    await i2.expect(Ring, session_id="s1")
    await i2.send(Accept(session_id="s1"))
    await until(kiosk, Accepted)
    await kiosk.send(Hangup(session_id="s1"))
    await i2.expect(CallEnded)
    await kiosk.send(record("s1", "k1", interpreter_id="i2"))
    await kiosk.expect(RecordAck)
    row = dispatch.client.server.app[RECORDS].get("s1")
    assert (row["rings"], row["missed_rings"], row["declines"]) == (2, 1, 0)
    assert row["routed_interpreter_id"] == "i2" and row["dispatch_outcome"] == "answered"
    assert row["location"] == "Hall 3" and row["queue_s"] >= 0.2
    assert row["end_reason"] == "completed" and row["rating"] == 5


# --- the console's HTTP API and the WebSocket's Origin check ---------------------------------


async def login(dispatch: Dispatch, interpreter_id: str, password: str):
    return await dispatch.client.post("/api/login", json={"id": interpreter_id, "password": password})


async def test_console_login_gives_a_token_that_opens_the_websocket(dispatch):
    dispatch.register("interpreter", "i1")
    resp = await login(dispatch, "i1", PASSWORD)
    assert resp.status == 200
    body = await resp.json()
    assert body["id"] == "i1" and body["expires_in"] > 0 and PASSWORD not in json.dumps(body)
    peer = await dispatch.raw()
    await peer.send(Hello(role="interpreter", id="i1", credential=body["token"]))
    await peer.expect(Welcome, id="i1")
    # the token is this interpreter's only
    other = await dispatch.raw()
    dispatch.register("interpreter", "i2")
    await other.send(Hello(role="interpreter", id="i2", credential=body["token"]))
    await other.expect_error("unauthenticated")
    history = await dispatch.client.get("/api/history",
                                        headers={"Authorization": f"Bearer {body['token']}"})
    assert history.status == 200 and (await history.json()) == {"calls": []}
    await dispatch.client.post("/api/logout", headers={"Authorization": f"Bearer {body['token']}"})
    history = await dispatch.client.get("/api/history",
                                        headers={"Authorization": f"Bearer {body['token']}"})
    assert history.status == 401


async def test_wrong_passwords_lock_the_login(dispatch):
    dispatch.register("interpreter", "i1")
    for _ in range(5):
        assert (await login(dispatch, "i1", "wrong-password")).status == 401
    locked = await login(dispatch, "i1", PASSWORD)  # even the right one, for a while
    assert locked.status == 429 and int(locked.headers["Retry-After"]) > 0
    bad = await dispatch.client.post("/api/login", data=b"not json")
    assert bad.status == 400


async def test_a_disabled_interpreter_cannot_log_in(dispatch):
    dispatch.register("interpreter", "i1")
    dispatch.accounts.set_interpreter_enabled("i1", False)
    assert (await login(dispatch, "i1", PASSWORD)).status == 401


async def test_the_history_lists_the_interpreters_calls_of_today(dispatch):
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1", location="Hall 3")
    await dispatch.connected_call(kiosk, interp, "s1")
    await kiosk.send(Hangup(session_id="s1"))
    await interp.expect(CallEnded)
    token = (await (await login(dispatch, "i1", PASSWORD)).json())["token"]
    calls = (await (await dispatch.client.get(
        "/api/history", headers={"Authorization": f"Bearer {token}"})).json())["calls"]
    assert [c["session_id"] for c in calls] == ["s1"] and calls[0]["location"] == "Hall 3"


async def test_a_foreign_origin_cannot_open_the_websocket(dispatch):
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await dispatch.client.ws_connect("/ws", headers={"Origin": "https://evil.example"})
    assert err.value.status == 403
    own = f"http://{dispatch.client.host}:{dispatch.client.port}"
    ws = await dispatch.client.ws_connect("/ws", headers={"Origin": own})
    await ws.close()


async def test_console_config_needs_a_login_and_comes_with_a_content_security_policy(dispatch):
    resp = await dispatch.client.get("/api/config")
    assert resp.status == 401  # it carries the TURN credentials
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    dispatch.register("interpreter", "i1")
    token = (await (await login(dispatch, "i1", PASSWORD)).json())["token"]
    resp = await dispatch.client.get("/api/config", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200
    config = await resp.json()
    assert config["ice_servers"] == [] and config["ring_timeout_s"] > 0
    page = await dispatch.client.get("/")
    assert page.status == 200 and "default-src 'self'" in page.headers["Content-Security-Policy"]


async def test_stale_console_tokens_never_count_as_wrong_passwords(dispatch):
    dispatch.register("interpreter", "i1")
    for _ in range(8):  # a console reconnecting with a token from before a restart
        peer = await dispatch.raw()
        await peer.send(Hello(role="interpreter", id="i1", credential="cs_expired-token"))
        await peer.expect_error("unauthenticated")
    assert (await login(dispatch, "i1", PASSWORD)).status == 200


# --- fuzz: nothing malformed changes anything -------------------------------------------------


def _frames():
    names = st.sampled_from(sorted(protocol.MESSAGE_TYPES))
    values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                          | st.text(max_size=20), lambda kids: st.lists(kids, max_size=3)
                          | st.dictionaries(st.text(max_size=8), kids, max_size=3), max_leaves=6)
    fields = st.dictionaries(st.sampled_from(["session_id", "sdp", "state", "position", "reason",
                                              "kiosk_id", "id", "role", "x"]), values, max_size=4)
    objects = st.builds(lambda t, f: json.dumps({"type": t, **f}), names, fields)
    return objects | st.text(max_size=200)


def _invalid(frame: str) -> bool:
    try:
        protocol.decode(frame)
    except ProtocolError:
        return True
    return False


async def test_fuzzed_frames_leave_dispatch_running_and_unchanged(start):
    dispatch: Dispatch = await start()
    interp = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1")
    await dispatch.connected_call(kiosk, interp, "s1")
    before = await dispatch.health()
    sent = []

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(frame=_frames(), to_kiosk=st.booleans())
    def collect(frame, to_kiosk):
        if _invalid(frame):
            sent.append((frame, to_kiosk))

    collect()
    assert len(sent) > 50
    for frame, to_kiosk in sent:
        peer = kiosk if to_kiosk else interp
        await peer.send(frame)
        reply = await peer.recv()
        assert reply.type == "error" and reply.code in ("bad_message", "too_large")
    assert await dispatch.health() == before
    # and the call still works
    await kiosk.send(Hangup(session_id="s1"))
    await interp.expect(CallEnded, reason="hangup")


# --- https and wss ------------------------------------------------------------------------------


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1, as a hall's private CA would issue."""
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


async def test_dispatch_serves_wss_and_a_kiosk_trusting_its_ca_connects(demo_config, certificate):
    import ssl

    from kiosk.call.engine import CallEngine
    from kiosk.demo import EmbeddedServices, open_store

    cert, key = certificate
    base = demo_config(simulator={"interpreters": 0})
    url = base.dispatch.url.replace("ws://", "wss://")
    config = demo_config(simulator={"interpreters": 0},
                         server={"port": base.server.port, "tls_cert": str(cert), "tls_key": str(key)},
                         dispatch={"url": url, "ca_file": str(cert)})
    services = EmbeddedServices(config)
    await services.start()
    store = open_store(config)
    engine = CallEngine(config, store)
    try:
        await engine.start()
        assert await engine.signaling.wait_ready(10), engine.signaling.last_error
        # https for the console too, and plain http is not served
        context = ssl.create_default_context(cafile=str(cert))
        async with aiohttp.ClientSession() as http:
            https = url.replace("wss://", "https://").replace("/ws", "/healthz")
            async with http.get(https, ssl=context) as resp:
                assert resp.status == 200
            with pytest.raises(aiohttp.ClientError):
                async with http.get(https.replace("https://", "http://")) as resp:
                    await resp.read()
    finally:
        await engine.stop()
        store.close()
    # a kiosk that does not trust the certificate is refused by TLS, with a clear reason
    untrusting = demo_config(simulator={"interpreters": 0}, dispatch={"url": url, "embedded": False},
                             server={"port": base.server.port})
    store = open_store(untrusting)
    engine = CallEngine(untrusting, store)
    try:
        await engine.start()
        assert not await engine.signaling.wait_ready(2)
        assert "certificate" in (engine.signaling.last_error or "").lower()
    finally:
        await engine.stop()
        store.close()
        await services.stop()


# --- a peer that vanishes without closing -------------------------------------------------------


class Blackhole:
    """TCP relay to dispatch that can go silent: bytes are swallowed, sockets stay open, as when
    a cable is pulled or Wi-Fi drops without a goodbye."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.silent = False
        self._server = None
        self._writers = []

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._server.close()
        for w in self._writers:
            w.transport.abort()
        self._writers.clear()

    async def _accept(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer),
                             return_exceptions=True)

    async def _pipe(self, reader, writer) -> None:
        while data := await reader.read(65536):
            if not self.silent:
                writer.write(data)
                await writer.drain()


async def test_heartbeats_notice_an_interpreter_that_vanished_mid_call(start):
    dispatch: Dispatch = await start(heartbeat_s=0.4, resume_grace_s=0.2)
    hole = Blackhole(dispatch.client.port)
    port = await hole.start()
    try:
        dispatch.register("interpreter", "i1")
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(f"http://127.0.0.1:{port}/ws", autoping=True)
            from test_dispatch import Peer

            interp = Peer(ws, "interpreter", "i1")
            await interp.send(Hello(role="interpreter", id="i1", credential=PASSWORD))
            await interp.expect(Welcome)
            await interp.available()
            kiosk = await dispatch.kiosk("k1")
            await dispatch.connected_call(kiosk, interp, "s1")
            hole.silent = True  # gone without a word
            started = time.monotonic()
            await kiosk.expect(CallEnded, session_id="s1", reason="peer_gone", by="interpreter")
            assert time.monotonic() - started < 3.0
            await dispatch.expect_health(kiosks_online=1)
            await hole.stop()  # no close handshake through a silent line: just drop it
    finally:
        await hole.stop()
