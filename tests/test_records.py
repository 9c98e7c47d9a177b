"""Central session records: dispatch's ``CentralStore``, the kiosk's ``RecordUploader``, and the
kiosk's outbox end to end through a network the test cuts and restores.

The end-to-end tests use neither the real dispatch hub nor real calls: a small WebSocket server
here speaks hello/welcome, stores every ``session_record`` in a ``CentralStore`` and answers
``record_ack``; a TCP proxy between it and the kiosk can drop every connection and refuse new
ones. Finished records are written straight into the kiosk's ``SessionStore``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import time
from pathlib import Path
from typing import Optional

import aiohttp
import pytest
from aiohttp import web

from conftest import free_port
from postgres import pg_database, postgres_dsn  # noqa: F401  (fixtures)
from kiosk import protocol
from kiosk.call.engine import CallEngine
from kiosk.call.uploader import RecordUploader, upload_message
from kiosk.dispatch import records as records_module
from kiosk.dispatch.records import (
    HISTORY_FIELDS, KIOSK_FIELDS, ROUTING_FIELDS, SCHEMA_VERSION, CentralStore, CentralStoreError,
    PgCentralStore,
)
from kiosk.protocol import Error, Hello, RecordAck, SessionRecordUpload, Welcome
from kiosk.sessions import SessionRecord, SessionStore

T0 = 1_767_225_600.0


def upload(sid: str = "s1", kiosk_id: str = "k-01", **changes) -> SessionRecordUpload:
    fields = dict(
        session_id=sid, kiosk_id=kiosk_id, started_by="resident", category=None, state="ended",
        requested_at=T0, answered_at=T0 + 4, connected_at=T0 + 5, ended_at=T0 + 65, wait_s=4.0,
        talk_s=60.0, end_reason="completed", ended_by="kiosk", interpreter_id="wang.li",
        rating=None, rated_at=None, app_version="1.0.0")
    fields.update(changes)
    return SessionRecordUpload(**fields)


ROUTING = dict(location="一楼无障碍窗口", requested_at=T0 + 0.2, queue_s=1.5, rings=2, declines=1,
               missed_rings=0, interpreter_id="wang.li", outcome="answered")


class Clock:
    def __init__(self, t: float = T0 + 1000) -> None:
        self.t = t

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


@pytest.fixture(params=["sqlite", "postgresql"])
def open_central(request, tmp_path):
    """``open_central(clock=…)`` → a new central store on the backend of the test's parameter
    (the same SQLite file, or the same PostgreSQL database, each time); closed after the test."""
    if request.param == "postgresql":
        dsn = request.getfixturevalue("pg_database")  # a private server, see tests/postgres.py
    opened = []

    def make(clock=time.time):
        if request.param == "postgresql":
            store = PgCentralStore(dsn, clock=clock)
        else:
            store = CentralStore(tmp_path / "dispatch" / "records.sqlite3", clock=clock)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def central(open_central):
    """The central store on each backend: the tests below hold for both."""
    return open_central(clock=Clock())


@pytest.fixture
def sqlite_central(tmp_path):
    with CentralStore(tmp_path / "dispatch" / "records.sqlite3", clock=Clock()) as c:
        yield c


# --- CentralStore ---------------------------------------------------------------------------


def test_central_store_settings_and_columns(sqlite_central, tmp_path):
    central = sqlite_central
    assert central.pragma("journal_mode") == "wal"
    assert central.pragma("synchronous") == 2  # FULL
    assert central.schema_version == SCHEMA_VERSION == len(records_module.MIGRATIONS)
    assert central.integrity_ok()
    # the kiosk's columns are exactly the uploaded record's, which are the kiosk log's fields
    assert list(KIOSK_FIELDS) == [f.name for f in dataclasses.fields(SessionRecord)]
    raw = sqlite3.connect(tmp_path / "dispatch" / "records.sqlite3")
    try:
        cols = [r[1] for r in raw.execute("PRAGMA table_info(sessions)")]
    finally:
        raw.close()
    # (later migrations append their columns)
    assert sorted(cols) == sorted([*KIOSK_FIELDS, *ROUTING_FIELDS, "uploaded_at"])
    assert ROUTING_FIELDS == ("location", "dispatch_requested_at", "queue_s", "rings", "declines",
                              "missed_rings", "routed_interpreter_id", "dispatch_outcome")


def test_central_store_refuses_a_newer_schema(tmp_path):
    path = tmp_path / "records.sqlite3"
    CentralStore(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(CentralStoreError, match="newer dispatch version"):
        CentralStore(path)


def test_central_store_backs_up_before_migrating(tmp_path, monkeypatch):
    path = tmp_path / "records.sqlite3"
    with CentralStore(path) as c:
        c.put_kiosk_record(upload())
    old = SCHEMA_VERSION
    monkeypatch.setattr(records_module, "MIGRATIONS", [
        *records_module.MIGRATIONS, lambda db: db.execute("CREATE TABLE extra (x)")])
    monkeypatch.setattr(records_module, "SCHEMA_VERSION", old + 1)
    with CentralStore(path) as c:
        assert c.schema_version == old + 1 and c.count() == 1
    assert path.with_name(f"{path.name}.v{old}.bak").exists()


def test_kiosk_record_upsert_is_idempotent(central):
    rec = upload()
    central.put_kiosk_record(rec)
    first = central.get("s1")
    assert {k: first[k] for k in KIOSK_FIELDS} == dataclasses.asdict(rec)
    assert all(first[k] is None for k in ROUTING_FIELDS)
    assert first["uploaded_at"] is not None
    central.put_kiosk_record(rec)  # the same record again (an ack was lost)
    central.put_kiosk_record(rec)
    assert central.count() == 1
    assert central.get("s1") == first  # identical, upload time included

    rated = dataclasses.replace(rec, rating=5, rated_at=T0 + 70)
    central.put_kiosk_record(rated)  # a newer version replaces it
    row = central.get("s1")
    assert (row["rating"], row["rated_at"]) == (5, T0 + 70)
    assert row["uploaded_at"] > first["uploaded_at"]
    assert central.count() == 1


def test_kiosk_record_for_another_kiosks_session_changes_nothing(central):
    central.put_kiosk_record(upload(kiosk_id="k-01"))
    before = central.get("s1")
    central.put_kiosk_record(upload(kiosk_id="k-02", end_reason="declined"))
    assert central.get("s1") == before
    central.put_routing("s2", "k-01", **ROUTING)
    central.put_kiosk_record(upload("s2", kiosk_id="k-02"))
    assert central.get("s2")["started_by"] is None  # still only dispatch's facts
    assert central.count() == 2


def _routing_of(row: dict) -> dict:
    return {k: row[k] for k in ROUTING_FIELDS}


EXPECTED_ROUTING = dict(location="一楼无障碍窗口", dispatch_requested_at=T0 + 0.2, queue_s=1.5, rings=2,
                        declines=1, missed_rings=0, routed_interpreter_id="wang.li",
                        dispatch_outcome="answered")


def test_merge_kiosk_record_first_then_routing(central):
    rec = upload()
    central.put_kiosk_record(rec)
    uploaded_at = central.get("s1")["uploaded_at"]
    central.put_routing("s1", "k-01", **ROUTING)
    row = central.get("s1")
    assert {k: row[k] for k in KIOSK_FIELDS} == dataclasses.asdict(rec)
    assert _routing_of(row) == EXPECTED_ROUTING
    assert row["uploaded_at"] == uploaded_at
    assert central.count() == 1


def test_merge_routing_first_then_kiosk_record(central):
    central.put_routing("s1", "k-01", **ROUTING)
    row = central.get("s1")
    assert row["kiosk_id"] == "k-01" and _routing_of(row) == EXPECTED_ROUTING
    assert all(row[k] is None for k in KIOSK_FIELDS if k not in ("session_id", "kiosk_id"))
    assert row["uploaded_at"] is None

    rec = upload()
    central.put_kiosk_record(rec)
    central.put_kiosk_record(rec)
    row = central.get("s1")
    assert {k: row[k] for k in KIOSK_FIELDS} == dataclasses.asdict(rec)
    assert _routing_of(row) == EXPECTED_ROUTING  # the kiosk's upload left dispatch's facts alone
    # and routing written again (same facts) leaves the kiosk's record alone
    central.put_routing("s1", "k-01", **ROUTING)
    assert central.get("s1") == row
    assert central.count() == 1


def test_unanswered_call_routing_with_nulls(central):
    central.put_routing("s1", "k-01", location="窗口", requested_at=T0, queue_s=30.0, rings=3,
                        declines=0, missed_rings=3, interpreter_id=None, outcome="no_interpreter")
    row = central.get("s1")
    assert row["routed_interpreter_id"] is None and row["missed_rings"] == 3
    assert central.get("nope") is None


def test_interpreter_history_filters_and_orders(central):
    day = 86400.0
    # routed to wang.li, kiosk record arrived
    central.put_routing("old", "k-01", **{**ROUTING, "requested_at": T0 - 2 * day})
    central.put_kiosk_record(upload("old", requested_at=T0 - 2 * day))
    central.put_routing("mid", "k-02", **{**ROUTING, "location": "二楼", "requested_at": T0 + 100})
    central.put_kiosk_record(upload("mid", kiosk_id="k-02", requested_at=T0 + 99,
                                    answered_at=T0 + 104, ended_at=T0 + 200, talk_s=90.0))
    # dispatch's facts only (the kiosk has not uploaded yet)
    central.put_routing("new", "k-01", **{**ROUTING, "requested_at": T0 + 500})
    # the kiosk's record only (dispatch restarted before it wrote its facts)
    central.put_kiosk_record(upload("kiosk-only", requested_at=T0 + 300))
    # someone else's calls
    central.put_routing("other", "k-01", **{**ROUTING, "interpreter_id": "li.na",
                                             "requested_at": T0 + 400})
    central.put_kiosk_record(upload("other", interpreter_id="li.na", requested_at=T0 + 400))

    history = central.interpreter_history("wang.li", since=T0 - day)
    assert [h["session_id"] for h in history] == ["new", "kiosk-only", "mid"]
    assert all(tuple(h) == HISTORY_FIELDS for h in history)
    mid = history[2]
    assert mid == dict(session_id="mid", location="二楼", kiosk_id="k-02",
                       requested_at=T0 + 100,  # dispatch's time where it has one
                       answered_at=T0 + 104, ended_at=T0 + 200, talk_s=90.0,
                       end_reason="completed", dispatch_outcome="answered")
    assert history[1]["requested_at"] == T0 + 300 and history[1]["dispatch_outcome"] is None
    assert history[0]["end_reason"] is None and history[0]["location"] == "一楼无障碍窗口"

    assert [h["session_id"] for h in central.interpreter_history("wang.li", since=0)] == [
        "new", "kiosk-only", "mid", "old"]
    assert central.interpreter_history("wang.li", since=T0 + 500)[0]["session_id"] == "new"
    assert central.interpreter_history("wang.li", since=T0 + 501) == []
    assert [h["session_id"] for h in central.interpreter_history("li.na", since=0)] == ["other"]
    assert central.interpreter_history("nobody", since=0) == []


def test_central_store_can_be_used_from_another_thread(open_central):
    """Dispatch may open it before its loop thread starts."""
    import threading

    store = open_central()
    errors = []

    def work():
        try:
            store.put_kiosk_record(upload())
            store.put_routing("s1", "k-01", **ROUTING)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert errors == [] and store.count() == 1
    store.close()


# --- RecordUploader with a fake link ----------------------------------------------------------


def finish(store: SessionStore, sid: str, at: float, rating: Optional[int] = None,
           kiosk_id: str = "k-01") -> SessionRecord:
    store.begin(sid, kiosk_id, "resident", None, "1.0.0", at)
    rec = store.end(sid, "completed", at + 30, "kiosk")
    if rating is not None:
        rec = store.rate(sid, rating, at + 40)
    return rec


class FakeLink:
    def __init__(self) -> None:
        self.up = True
        self.sent: list[SessionRecordUpload] = []
        self.fail_after: Optional[int] = None

    async def send(self, msg) -> bool:
        await asyncio.sleep(0)  # a real send yields to the loop
        if not self.up or (self.fail_after is not None and len(self.sent) >= self.fail_after):
            return False
        protocol.decode(protocol.encode(msg))  # a valid frame
        self.sent.append(msg)
        return True

    @property
    def ids(self) -> list[str]:
        return [m.session_id for m in self.sent]


@pytest.fixture
def kiosk_store(tmp_path):
    with SessionStore(tmp_path / "kiosk" / "sessions.sqlite3") as s:
        yield s


def test_upload_message_carries_every_record_field(kiosk_store):
    rec = finish(kiosk_store, "s1", T0, rating=4)
    msg = upload_message(rec)
    assert isinstance(msg, SessionRecordUpload)
    assert dataclasses.asdict(msg) == rec.to_dict()


@pytest.mark.asyncio
async def test_kicks_are_coalesced_and_each_record_is_sent_once(kiosk_store):
    for i in range(5):
        finish(kiosk_store, f"s{i}", T0 + i * 100)
    link = FakeLink()
    up = RecordUploader(kiosk_store, link.send)
    for _ in range(5):
        up.kick()
    await up.wait_idle()
    assert link.ids == ["s0", "s1", "s2", "s3", "s4"]  # one drain, oldest first
    for sid in link.ids:
        up.on_ack(sid)
    assert kiosk_store.outbox_size() == 0
    await up.wait_idle()
    await up.stop()


@pytest.mark.asyncio
async def test_one_kick_sends_each_record_once_and_acks_empty_the_outbox(kiosk_store):
    for i in range(4):
        finish(kiosk_store, f"s{i}", T0 + i * 100)
    link = FakeLink()
    up = RecordUploader(kiosk_store, link.send)
    up.kick()
    await up.wait_idle()
    assert link.ids == ["s0", "s1", "s2", "s3"]
    assert [kiosk_store.upload_attempts(f"s{i}") for i in range(4)] == [1, 1, 1, 1]
    assert up.in_flight == 4
    up.on_ack("s1")
    up.on_ack("s1")  # a repeated ack is ignored
    assert [r.session_id for r in kiosk_store.pending_uploads()] == ["s0", "s2", "s3"]
    for sid in ("s0", "s2", "s3"):
        up.on_ack(sid)
    await up.wait_idle()
    assert kiosk_store.outbox_size() == 0 and up.in_flight == 0
    assert link.ids == ["s0", "s1", "s2", "s3"]  # nothing was sent twice
    await up.stop()


@pytest.mark.asyncio
async def test_window_sends_the_next_records_as_acks_come_back(kiosk_store):
    for i in range(7):
        finish(kiosk_store, f"s{i}", T0 + i)
    link = FakeLink()
    up = RecordUploader(kiosk_store, link.send, window=3)
    up.kick()
    await up.wait_idle()
    assert link.ids == ["s0", "s1", "s2"]
    for round_ in range(5):
        for m in list(link.sent):
            up.on_ack(m.session_id)
        await up.wait_idle()
        if kiosk_store.outbox_size() == 0:
            break
    assert kiosk_store.outbox_size() == 0
    assert sorted(set(link.ids)) == [f"s{i}" for i in range(7)]
    assert len(link.ids) == 7  # each exactly once
    await up.stop()


@pytest.mark.asyncio
async def test_drain_stops_when_the_link_is_down_and_resends_on_the_next_kick(kiosk_store):
    for i in range(5):
        finish(kiosk_store, f"s{i}", T0 + i)
    link = FakeLink()
    link.fail_after = 2
    up = RecordUploader(kiosk_store, link.send)
    up.kick()
    await up.wait_idle()
    assert link.ids == ["s0", "s1"]
    assert [kiosk_store.upload_attempts(f"s{i}") for i in range(5)] == [1, 1, 0, 0, 0]
    assert kiosk_store.outbox_size() == 5 and up.in_flight == 0  # sent but never acknowledged
    link.fail_after = None  # the link is back
    up.kick()
    await up.wait_idle()
    assert link.ids == ["s0", "s1", "s0", "s1", "s2", "s3", "s4"]
    for sid in set(link.ids):
        up.on_ack(sid)
    assert kiosk_store.outbox_size() == 0
    await up.stop()


@pytest.mark.asyncio
async def test_unacknowledged_records_are_sent_again_on_the_next_kick(kiosk_store):
    finish(kiosk_store, "s0", T0)
    link = FakeLink()
    up = RecordUploader(kiosk_store, link.send)
    up.kick()
    await up.wait_idle()
    up.kick()  # e.g. after a reconnect: the ack may never come on the old link
    await up.wait_idle()
    assert link.ids == ["s0", "s0"]
    up.on_ack("s0")
    assert kiosk_store.outbox_size() == 0
    up.on_ack("s0")  # the second copy's ack
    assert kiosk_store.outbox_size() == 0
    await up.stop()


@pytest.mark.asyncio
async def test_a_rating_while_the_unrated_record_is_on_its_way_is_not_lost(kiosk_store):
    finish(kiosk_store, "s0", T0)
    link = FakeLink()
    up = RecordUploader(kiosk_store, link.send)
    up.kick()
    await up.wait_idle()
    assert link.sent[0].rating is None
    kiosk_store.rate("s0", 5, T0 + 40)  # the engine rates ...
    up.kick()  # ... and kicks; the ack of the unrated version comes before the drain runs
    up.on_ack("s0")
    assert kiosk_store.outbox_size() == 1  # the rated version is still queued
    await up.wait_idle()
    assert link.sent[-1].rating == 5
    up.on_ack("s0")
    assert kiosk_store.outbox_size() == 0
    await up.stop()


@pytest.mark.asyncio
async def test_stopped_uploader_sends_nothing(kiosk_store):
    finish(kiosk_store, "s0", T0)
    link = FakeLink()
    up = RecordUploader(kiosk_store, link.send)
    await up.stop()
    up.kick()
    await up.wait_idle()
    assert link.sent == [] and kiosk_store.outbox_size() == 1


@pytest.mark.asyncio
async def test_a_failing_send_keeps_the_records_queued(kiosk_store):
    finish(kiosk_store, "s0", T0)

    async def broken(msg):
        raise RuntimeError("socket exploded")

    up = RecordUploader(kiosk_store, broken)
    up.kick()
    await up.wait_idle()
    assert kiosk_store.outbox_size() == 1
    await up.stop()


# --- end to end: fake dispatch, a network the test controls ---------------------------------


class FakeDispatch:
    """hello → welcome; every ``session_record`` from the kiosk it names is stored in a
    ``CentralStore`` and, while ``ack`` is true, answered with ``record_ack``."""

    def __init__(self, central: CentralStore) -> None:
        self.central = central
        self.port = free_port()
        self.ack = True
        self.received: list[SessionRecordUpload] = []  # every frame, repeats included
        self.records: dict[str, SessionRecordUpload] = {}  # the latest per session
        self._sockets: set[web.WebSocketResponse] = set()
        self._runner: Optional[web.AppRunner] = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ws", self._ws)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=5)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            first = await ws.receive()
            hello = protocol.decode(first.data)
            assert isinstance(hello, Hello) and hello.role == "kiosk"
            await ws.send_str(protocol.encode(Welcome(role="kiosk", id=hello.id)))
            async for frame in ws:
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    continue
                msg = protocol.decode(frame.data)
                if not isinstance(msg, SessionRecordUpload):
                    continue
                self.received.append(msg)
                if msg.kiosk_id != hello.id:
                    await ws.send_str(protocol.encode(Error(
                        code="forbidden", message="not your record", ref_type=msg.type,
                        session_id=msg.session_id)))
                    continue
                self.central.put_kiosk_record(msg)
                self.records[msg.session_id] = msg
                if self.ack:
                    await ws.send_str(protocol.encode(RecordAck(session_id=msg.session_id)))
        finally:
            self._sockets.discard(ws)
        return ws


class Proxy:
    """TCP between the kiosk and dispatch. ``cut()`` drops every connection and refuses new
    ones (nothing listens on the port); ``restore()`` listens again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.connections = 0
        self._server: Optional[asyncio.base_events.Server] = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()

    async def restore(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    start = restore

    async def cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()

    async def stop(self) -> None:
        await self.cut()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tasks.add(asyncio.current_task())
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            except OSError:
                writer.transport.abort()
                return
            if self._server is None:  # cut while connecting
                writer.transport.abort()
                up_writer.transport.abort()
                return
            self.connections += 1
            self._writers.update((writer, up_writer))
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
            self._writers.difference_update((writer, up_writer))
        finally:
            self._tasks.discard(asyncio.current_task())

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()


async def eventually(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def fast_reconnect(monkeypatch):
    monkeypatch.setattr("kiosk.call.signaling.BACKOFF_S", (0.05, 0.1, 0.2))


class Net:
    """Fake dispatch behind a proxy, and the kiosk's config pointed at the proxy."""

    def __init__(self, tmp_path: Path, demo_config) -> None:
        self.central = CentralStore(tmp_path / "dispatch" / "records.sqlite3")
        self.dispatch = FakeDispatch(self.central)
        self.proxy = Proxy(self.dispatch.port)
        self.config = demo_config(dispatch={"url": f"ws://127.0.0.1:{self.proxy.port}/ws",
                                            "embedded": False})
        self.store_path = tmp_path / "kiosk" / "sessions.sqlite3"

    async def __aenter__(self) -> "Net":
        await self.dispatch.start()
        await self.proxy.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.proxy.stop()
        await self.dispatch.stop()
        self.central.close()

    @property
    def kiosk_id(self) -> str:
        return self.config.kiosk.id

    def finish(self, store: SessionStore, sid: str, at: float, rating: Optional[int] = None):
        return finish(store, sid, at, rating, kiosk_id=self.kiosk_id)

    def stored_once_each(self) -> dict[str, int]:
        raw = sqlite3.connect(self.central.path)
        try:
            return dict(raw.execute("SELECT session_id, COUNT(*) FROM sessions GROUP BY session_id"))
        finally:
            raw.close()

    def assert_central_matches(self, store: SessionStore, ids) -> None:
        for sid in ids:
            row = self.central.get(sid)
            assert row is not None, sid
            assert {k: row[k] for k in KIOSK_FIELDS} == store.get(sid).to_dict()


@pytest.mark.asyncio
async def test_records_survive_a_network_cut_and_arrive_once_each(tmp_path, demo_config,
                                                                  fast_reconnect):
    async with Net(tmp_path, demo_config) as net:
        store = SessionStore(net.store_path)
        for i in range(3):
            net.finish(store, f"before-{i}", T0 + i * 100, rating=5 - i)
        engine = CallEngine(net.config, store)
        try:
            await engine.start()
            await eventually(lambda: store.outbox_size() == 0, what="first records acknowledged")
            assert sorted(net.dispatch.records) == ["before-0", "before-1", "before-2"]

            # two records reach dispatch but their acks are lost with the network
            net.dispatch.ack = False
            for i in range(2):
                net.finish(store, f"unacked-{i}", T0 + 1000 + i)
            engine.uploader.kick()  # as the engine does after every end
            await eventually(lambda: {"unacked-0", "unacked-1"} <= set(net.dispatch.records),
                             what="unacknowledged records at dispatch")
            assert store.outbox_size() == 2

            await net.proxy.cut()
            await eventually(lambda: not engine.signaling.connected, what="link down")
            received = len(net.dispatch.received)
            net.dispatch.ack = True
            for i in range(4):
                net.finish(store, f"during-{i}", T0 + 2000 + i * 10)
                engine.uploader.kick()
            # one of them is rated through the engine (which kicks) while the network is down
            await engine.rate("during-0", 2)
            await asyncio.sleep(1.0)  # several reconnect attempts, all refused
            assert len(net.dispatch.received) == received  # nothing arrived ...
            expected = {"unacked-0", "unacked-1", "during-0", "during-1", "during-2", "during-3"}
            assert {r.session_id for r in store.pending_uploads()} == expected  # ... none lost
            assert store.get("during-0").rating == 2

            await net.proxy.restore()
            await eventually(lambda: store.outbox_size() == 0, what="outbox emptied")
            all_ids = {f"before-{i}" for i in range(3)} | expected
            assert set(net.dispatch.records) == all_ids
            counts = net.stored_once_each()
            assert counts == {sid: 1 for sid in all_ids}  # each session stored exactly once
            assert net.central.count() == len(all_ids)
            net.assert_central_matches(store, all_ids)  # the rated version, in full
            sent = [m.session_id for m in net.dispatch.received]
            assert sent.count("unacked-0") >= 2 and sent.count("unacked-1") >= 2  # sent twice
            assert net.proxy.connections >= 2
        finally:
            await engine.stop()
            store.close()


@pytest.mark.asyncio
async def test_outbox_survives_a_restart_and_is_sent_after_it(tmp_path, demo_config,
                                                             fast_reconnect):
    async with Net(tmp_path, demo_config) as net:
        await net.proxy.cut()  # dispatch unreachable for the whole first run
        store = SessionStore(net.store_path)
        for i in range(3):
            net.finish(store, f"s{i}", T0 + i * 100, rating=(None if i == 1 else 4))
        engine = CallEngine(net.config, store)
        await engine.start()
        await asyncio.sleep(0.5)
        await engine.stop()
        assert net.dispatch.received == []
        assert store.outbox_size() == 3
        # a call was under way when the kiosk went down
        store.begin("open", net.kiosk_id, "resident", None, "1.0.0", T0 + 500)
        store.close()

        # the next start: the same log, the network back
        await net.proxy.restore()
        store = SessionStore(net.store_path)
        assert {r.session_id for r in store.pending_uploads()} == {"s0", "s1", "s2"}
        engine = CallEngine(net.config, store)
        try:
            closed = await engine.start()  # closes "open" as interrupted and queues it
            assert [r.session_id for r in closed] == ["open"]
            await eventually(lambda: store.outbox_size() == 0, what="outbox emptied after restart")
            ids = {"s0", "s1", "s2", "open"}
            assert set(net.dispatch.records) == ids
            assert net.stored_once_each() == {sid: 1 for sid in ids}
            net.assert_central_matches(store, ids)
            assert net.central.get("open")["end_reason"] == "interrupted"
            assert net.central.get("s1")["rating"] is None and net.central.get("s0")["rating"] == 4
        finally:
            await engine.stop()
            store.close()


@pytest.mark.asyncio
async def test_records_of_another_kiosk_id_stay_queued(tmp_path, demo_config, fast_reconnect):
    """A record the dispatch refuses (not the sender's kiosk id) is never acknowledged: it stays
    in the outbox and does not hold back the others."""
    async with Net(tmp_path, demo_config) as net:
        store = SessionStore(net.store_path)
        finish(store, "foreign", T0, kiosk_id="renamed-kiosk")
        net.finish(store, "mine", T0 + 10)
        engine = CallEngine(net.config, store)
        try:
            await engine.start()
            await eventually(lambda: "mine" in net.dispatch.records, what="own record stored")
            await eventually(lambda: store.outbox_size() == 1, what="own record acknowledged")
            assert [r.session_id for r in store.pending_uploads()] == ["foreign"]
            assert net.central.get("foreign") is None
            assert engine.state.value == "idle"  # the refusal did not disturb the engine
        finally:
            await engine.stop()
            store.close()


@pytest.mark.asyncio
async def test_engine_uploads_a_call_it_ends_and_its_rating(tmp_path, demo_config, fast_reconnect):
    """No call is placed: outside service hours the engine ends the call at the tap, without
    dispatch, and the finished record (then the rated one) goes out at once."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    async with Net(tmp_path, demo_config) as net:
        net.config = demo_config(dispatch={"url": f"ws://127.0.0.1:{net.proxy.port}/ws",
                                           "embedded": False},
                                 service_hours={d: "closed" for d in days})
        store = SessionStore(net.store_path)
        engine = CallEngine(net.config, store)
        try:
            await engine.start()
            assert await engine.signaling.wait_ready(5)
            sid = await engine.request_call()
            assert store.get(sid).end_reason == "out_of_hours"
            await eventually(lambda: sid in net.dispatch.records and store.outbox_size() == 0,
                             what="ended record uploaded")
            assert net.dispatch.records[sid].rating is None
            await engine.rate(sid, 3)
            await eventually(lambda: net.dispatch.records[sid].rating == 3
                             and store.outbox_size() == 0, what="rated record uploaded")
            assert net.central.get(sid)["rating"] == 3 and net.central.count() == 1
        finally:
            await engine.stop()
            store.close()


@pytest.mark.asyncio
async def test_a_record_never_acknowledged_is_remembered_a_bounded_number_of_times(kiosk_store):
    finish(kiosk_store, "poison", T0)
    link = FakeLink()
    up = RecordUploader(kiosk_store, link.send)
    for _ in range(30):
        up.kick()
        await up.wait_idle()
    assert len(link.sent) == 30 and kiosk_store.upload_attempts("poison") == 30
    assert len(up._sent["poison"]) <= 8
    up.on_ack("poison")  # should it come after all, the record leaves the outbox
    assert kiosk_store.outbox_size() == 0
    await up.stop()


@pytest.mark.asyncio
async def test_real_dispatch_network_cut_while_records_queued_loses_none(tmp_path, demo_config,
                                                                         fast_reconnect):
    """The real dispatch service (accounts, hub, central store) behind a proxy the test cuts."""
    from kiosk.demo import dispatch_settings, provision_demo
    from kiosk.dispatch.app import open_accounts, serve

    dispatch_port = free_port()
    proxy = Proxy(dispatch_port)
    config = demo_config(simulator={"interpreters": 0}, server={"port": dispatch_port},
                         dispatch={"url": f"ws://127.0.0.1:{proxy.port}/ws", "embedded": False})
    settings = dispatch_settings(config)
    accounts = open_accounts(settings)
    provision_demo(accounts, config)
    server = await serve(settings, accounts=accounts)
    await proxy.start()
    store = SessionStore(tmp_path / "kiosk" / "sessions.sqlite3")
    engine = CallEngine(config, store)
    kiosk_id = config.kiosk.id
    try:
        for i in range(3):
            finish(store, f"before-{i}", T0 + i, rating=4, kiosk_id=kiosk_id)
        await engine.start()
        await eventually(lambda: store.outbox_size() == 0, what="first records acknowledged")
        await proxy.cut()
        await eventually(lambda: not engine.signaling.connected, what="link down")
        during = [f"during-{i}" for i in range(5)]
        for n, sid in enumerate(during):
            finish(store, sid, T0 + 100 + n, kiosk_id=kiosk_id)
            engine.uploader.kick()
        await engine.rate("during-0", 1)
        await asyncio.sleep(0.8)  # reconnects refused meanwhile
        assert store.outbox_size() == len(during)
        assert all(server.records.get(sid) is None for sid in during)
        await proxy.restore()
        await eventually(lambda: store.outbox_size() == 0, what="outbox emptied after the network returned")
        raw = sqlite3.connect(tmp_path / "data" / "dispatch" / "central.sqlite3")
        try:
            counts = dict(raw.execute("SELECT session_id, COUNT(*) FROM sessions GROUP BY session_id"))
        finally:
            raw.close()
        assert counts == {sid: 1 for sid in [f"before-{i}" for i in range(3)] + during}
        assert server.records.get("during-0")["rating"] == 1
        assert server.records.get("before-2")["kiosk_id"] == kiosk_id
    finally:
        await engine.stop()
        store.close()
        await proxy.stop()
        await server.stop()
