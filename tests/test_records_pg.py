"""Dispatch's central records in PostgreSQL: the same schema and the same answers as SQLite,
migrations, several dispatch processes writing the same sessions at once, a dropped connection,
and the dispatch app with ``database_url``.

The interface both backends share is tested on both in ``test_records.py``; here is what is
PostgreSQL's own. One private server for the session (``tests/postgres.py``), a fresh database
per test.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time

import pytest

from postgres import find_bin_dir, pg_database, postgres_dsn  # noqa: F401  (fixtures)

try:
    import psycopg
except ImportError:  # no libpq: fine only where there is no PostgreSQL either
    if find_bin_dir() is not None:
        raise
    pytest.skip("PostgreSQL is not installed (scripts/system-deps.sh installs it)",
                allow_module_level=True)
from test_dispatch import Dispatch, start  # noqa: F401  (fixtures)
from test_records import ROUTING, T0, Clock, upload

from kiosk.dispatch import records as records_module
from kiosk.dispatch.app import RECORDS, DispatchSettings
from kiosk.dispatch.records import (
    KIOSK_FIELDS, PG_MIGRATIONS, PG_SQL, ROUTING_FIELDS, SCHEMA_VERSION, CentralStore,
    CentralStoreError, PgCentralStore, describe_url, open_central_store,
)
from kiosk.protocol import Accept, Accepted, CallEnded, Hangup, RecordAck

SQLITE_TO_PG = {"REAL": "double precision", "TEXT": "text", "INTEGER": "integer"}


def raw(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True)


@pytest.fixture
def pg(pg_database):
    with PgCentralStore(pg_database, clock=Clock()) as store:
        yield store


@pytest.fixture
def lite(tmp_path):
    with CentralStore(tmp_path / "central.sqlite3", clock=Clock()) as store:
        yield store


# --- the schema -----------------------------------------------------------------------------


def test_the_schema_is_sqlites_column_for_column(pg, lite, pg_database):
    assert pg.dialect == "postgresql" and lite.dialect == "sqlite"
    assert pg.schema_version == lite.schema_version == SCHEMA_VERSION == len(PG_MIGRATIONS)
    assert pg.integrity_ok()
    with lite.connection() as db:
        sqlite_cols = [(r["name"], SQLITE_TO_PG[r["type"]], bool(r["notnull"] or r["pk"]),
                        bool(r["pk"])) for r in db.execute("PRAGMA table_info(sessions)")]
        sqlite_indexes = {r["name"]: [c["name"] for c in db.execute(f"PRAGMA index_info({r['name']})")]
                          for r in db.execute("PRAGMA index_list(sessions)") if r["origin"] == "c"}
    with raw(pg_database) as db:
        pk = {r[0] for r in db.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'sessions'::regclass AND i.indisprimary")}
        columns = db.execute(
            "SELECT column_name, data_type, is_nullable, collation_name FROM information_schema.columns"
            " WHERE table_name = 'sessions' ORDER BY ordinal_position").fetchall()
        pg_indexes = {r[0]: r[1] for r in db.execute(
            "SELECT i.relname, array_agg(a.attname ORDER BY k.ord) FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid"
            " CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)"
            " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum"
            " WHERE x.indrelid = 'sessions'::regclass AND NOT x.indisprimary GROUP BY i.relname")}
        versions = db.execute("SELECT version FROM schema_version").fetchall()
    pg_cols = [(name, type_, nullable == "NO", name in pk) for name, type_, nullable, _ in columns]
    assert pg_cols == sqlite_cols  # same names, order, types, NOT NULL, primary key
    assert [c[0] for c in pg_cols] == [*KIOSK_FIELDS[:17], *ROUTING_FIELDS, "uploaded_at",
                                       *KIOSK_FIELDS[17:]]
    # text compares byte-wise, as SQLite's does, whatever the database's own collation
    assert {coll for _, type_, _, coll in columns if type_ == "text"} == {"C"}
    assert pg_indexes == sqlite_indexes and len(pg_indexes) == 3
    assert versions == [(SCHEMA_VERSION,)]  # one row


def test_an_older_database_is_migrated_in_place(pg_database, monkeypatch):
    monkeypatch.setattr(records_module, "PG_MIGRATIONS", PG_MIGRATIONS[:1])
    with PgCentralStore(pg_database) as v1:
        assert v1.schema_version == 1
        v1.put_routing("s1", "k-01", **ROUTING)
        with pytest.raises(psycopg.errors.UndefinedColumn):  # no quality column yet
            v1.put_kiosk_record(upload())
    monkeypatch.setattr(records_module, "PG_MIGRATIONS", PG_MIGRATIONS)
    with PgCentralStore(pg_database) as store:
        assert store.schema_version == SCHEMA_VERSION and store.integrity_ok()
        assert store.get("s1")["location"] == ROUTING["location"] and store.count() == 1
        store.put_kiosk_record(upload(quality='{"fps_in": 15}'))
        assert store.get("s1")["quality"] == '{"fps_in": 15}'
        assert store.get("s1")["rings"] == 2


def test_a_failed_migration_leaves_the_database_as_it_was(pg, pg_database, monkeypatch):
    pg.put_kiosk_record(upload())

    def broken(db):
        db.execute("CREATE TABLE extra (x integer)")
        db.execute("ALTER TABLE sessions ADD COLUMN half_done text")
        raise RuntimeError("migration failed half way")

    monkeypatch.setattr(records_module, "PG_MIGRATIONS", [*PG_MIGRATIONS, broken])
    with pytest.raises(RuntimeError, match="half way"):
        PgCentralStore(pg_database)
    with raw(pg_database) as db:
        assert db.execute("SELECT version FROM schema_version").fetchone() == (SCHEMA_VERSION,)
        assert db.execute("SELECT to_regclass('extra')").fetchone() == (None,)
        assert db.execute("SELECT count(*) FROM information_schema.columns"
                          " WHERE table_name = 'sessions' AND column_name = 'half_done'").fetchone() == (0,)
    assert pg.count() == 1 and pg.integrity_ok()  # the open store did not notice

    def fixed(db):
        db.execute("CREATE TABLE extra (x integer)")

    monkeypatch.setattr(records_module, "PG_MIGRATIONS", [*PG_MIGRATIONS, fixed])
    with PgCentralStore(pg_database) as newer:
        assert newer.schema_version == SCHEMA_VERSION + 1 and newer.count() == 1


def test_a_newer_schema_is_refused_without_showing_the_password(pg_database):
    PgCentralStore(pg_database).close()
    with raw(pg_database) as db:
        db.execute("UPDATE schema_version SET version = version + 1")
    with pytest.raises(CentralStoreError, match="newer dispatch version") as caught:
        PgCentralStore(pg_database)
    password = psycopg.conninfo.conninfo_to_dict(pg_database)["password"]
    assert password not in str(caught.value) and "127.0.0.1" in str(caught.value)
    assert password not in describe_url(pg_database)
    assert password not in repr(DispatchSettings(database_url=pg_database))


def test_dispatch_processes_starting_together_migrate_once(pg_database, monkeypatch):
    runs = [0] * len(PG_MIGRATIONS)

    def counted(i, step):
        def run(db):
            runs[i] += 1
            time.sleep(0.05)  # widen the window a second process would slip into
            step(db)
        return run

    monkeypatch.setattr(records_module, "PG_MIGRATIONS",
                        [counted(i, step) for i, step in enumerate(PG_MIGRATIONS)])
    barrier = threading.Barrier(4)
    stores, errors = [], []

    def open_one():
        try:
            barrier.wait()
            stores.append(PgCentralStore(pg_database))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == [] and len(stores) == 4
        assert runs == [1] * len(PG_MIGRATIONS)
        assert {s.schema_version for s in stores} == {SCHEMA_VERSION}
    finally:
        for s in stores:
            s.close()


def test_a_closed_store_stays_closed(pg_database):
    store = PgCentralStore(pg_database)
    store.close()
    with pytest.raises(CentralStoreError, match="closed"):
        store.put_kiosk_record(upload())
    with pytest.raises(CentralStoreError, match="closed"):
        store.count()
    assert store._db.closed  # not opened again behind the caller's back
    store.close()


def test_integrity_check_notices_a_missing_table(pg, pg_database):
    assert pg.integrity_ok()
    with raw(pg_database) as db:
        db.execute("ALTER TABLE sessions RENAME TO sessions_gone")
    assert not pg.integrity_ok()
    with raw(pg_database) as db:
        db.execute("ALTER TABLE sessions_gone RENAME TO sessions")
    assert pg.integrity_ok()


def test_a_connection_the_server_dropped_is_opened_again(pg, pg_database, caplog):
    pg.put_kiosk_record(upload())
    for _ in range(2):
        with raw(pg_database) as db:
            db.execute("SELECT pg_terminate_backend(%s)", (pg._db.info.backend_pid,))
        # a write: the lost connection is noticed, replaced, the upsert run again
        pg.put_routing("s1", "k-01", **ROUTING)
        assert pg.get("s1")["dispatch_outcome"] == "answered"
    assert "connecting again" in caplog.text
    with raw(pg_database) as db:
        db.execute("SELECT pg_terminate_backend(%s)", (pg._db.info.backend_pid,))
    assert pg.count() == 1  # a read, likewise
    assert pg.integrity_ok()


def test_an_unreachable_server_is_tried_again_at_growing_intervals(pg, pg_database, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(pg, "_monotonic", lambda: now[0])
    attempts = []
    real_connect = pg._connect
    monkeypatch.setattr(pg, "_connect", lambda: attempts.append(now[0]) or real_connect())
    name = psycopg.conninfo.conninfo_to_dict(pg_database)["dbname"]
    admin_url = psycopg.conninfo.make_conninfo(pg_database, dbname="postgres")
    with raw(admin_url) as db:
        db.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        db.execute("SELECT pg_terminate_backend(%s)", (pg._db.info.backend_pid,))
    with pytest.raises(CentralStoreError, match="cannot connect"):
        pg.put_routing("s1", "k-01", **ROUTING)
    assert len(attempts) == 1
    with pytest.raises(CentralStoreError, match="cannot be reached; trying again in 1 s"):
        pg.count()  # fails at once: no attempt within the back-off
    assert len(attempts) == 1
    now[0] += 1.5
    with pytest.raises(CentralStoreError, match="cannot connect"):
        pg.count()
    with pytest.raises(CentralStoreError, match="trying again in 2 s"):
        pg.count()
    assert len(attempts) == 2
    with raw(admin_url) as db:
        db.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    now[0] += 2.5
    pg.put_routing("s1", "k-01", **ROUTING)  # back, and the write goes through
    assert pg.get("s1")["rings"] == 2 and len(attempts) == 3
    assert pg.integrity_ok()


def test_a_statement_stuck_on_a_lock_fails_rather_than_stalling_dispatch(pg_database):
    store = PgCentralStore(pg_database, statement_timeout_s=0.3)
    try:
        store.put_kiosk_record(upload())
        with raw(pg_database) as db, db.transaction():
            db.execute("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
            began = time.monotonic()
            with pytest.raises(psycopg.errors.QueryCanceled):
                store.put_routing("s1", "k-01", **ROUTING)
            assert time.monotonic() - began < 3
        store.put_routing("s1", "k-01", **ROUTING)  # the store goes on once the lock is gone
        assert store.get("s1")["rings"] == 2
    finally:
        store.close()


def test_an_unreachable_server_is_a_clear_error(postgres_dsn):
    from conftest import free_port

    params = psycopg.conninfo.conninfo_to_dict(postgres_dsn)
    url = psycopg.conninfo.make_conninfo(postgres_dsn, port=free_port())
    with pytest.raises(CentralStoreError, match="cannot connect to the central records") as caught:
        PgCentralStore(url)
    assert params["password"] not in str(caught.value)


# --- several dispatch processes: concurrent upserts -------------------------------------------


ROUTING_SQL_ARGS = ("s1", "k-01", ROUTING["location"], ROUTING["requested_at"], ROUTING["queue_s"],
                    ROUTING["rings"], ROUTING["declines"], ROUTING["missed_rings"],
                    ROUTING["interpreter_id"], ROUTING["outcome"])


def _blocked_then_released(pg_database, first_sql: str, first_args: tuple, second) -> None:
    """Another dispatch process has inserted the session's row but not committed yet; this
    one's upsert of the same session waits for it, then merges its columns into that row."""
    with raw(pg_database) as other:
        with other.transaction():
            other.execute(first_sql, first_args)  # the row exists for ``other`` only
            done = threading.Event()
            errors = []

            def run():
                try:
                    second()
                except Exception as exc:  # pragma: no cover - reported below
                    errors.append(exc)
                finally:
                    done.set()

            thread = threading.Thread(target=run)
            thread.start()
            assert not done.wait(0.4), "the second upsert should wait for the first to commit"
        # committed: the waiting upsert goes on, as an update of that row
        thread.join(10)
        assert done.is_set() and errors == []


def test_routing_first_uncommitted_then_kiosk_record_keeps_both(pg_database):
    with PgCentralStore(pg_database) as store:
        rec = upload()
        _blocked_then_released(pg_database, PG_SQL.routing_upsert, ROUTING_SQL_ARGS,
                               lambda: store.put_kiosk_record(rec))
        row = store.get("s1")
        assert {k: row[k] for k in KIOSK_FIELDS} == dataclasses.asdict(rec)
        assert (row["rings"], row["routed_interpreter_id"]) == (2, "wang.li")
        assert store.count() == 1


def test_kiosk_record_first_uncommitted_then_routing_keeps_both(pg_database):
    with PgCentralStore(pg_database) as store:
        rec = upload()
        values = (*[getattr(rec, c) for c in KIOSK_FIELDS], T0 + 1000)
        _blocked_then_released(pg_database, PG_SQL.kiosk_upsert, values,
                               lambda: store.put_routing("s1", "k-01", **ROUTING))
        row = store.get("s1")
        assert {k: row[k] for k in KIOSK_FIELDS} == dataclasses.asdict(rec)
        assert row["uploaded_at"] == T0 + 1000
        assert (row["rings"], row["dispatch_outcome"]) == (2, "answered")


def test_two_dispatch_processes_writing_the_same_sessions_lose_nothing(pg_database):
    """Four stores (four connections, as dispatch processes have) write 150 sessions at once:
    two upload the kiosks' records (the second as a resend after lost acks), two the routing
    facts; one of each in the same order (both racing to create each row), the others in
    random orders."""
    n = 150
    ids = [f"s{i:03d}" for i in range(n)]
    records = {sid: upload(sid, kiosk_id=f"k-{i % 7:02d}", requested_at=T0 + i, rating=1 + i % 5,
                           rated_at=T0 + i + 70)
               for i, sid in enumerate(ids)}
    routing = {sid: {**ROUTING, "requested_at": T0 + i + 0.5, "rings": i % 4, "queue_s": i / 10}
               for i, sid in enumerate(ids)}
    stores = [PgCentralStore(pg_database, clock=Clock(T0 + 10_000 * (k + 1))) for k in range(4)]
    barrier = threading.Barrier(4)
    errors = []

    def kiosk_writer(store, seed):
        order = ids[:]
        if seed is not None:
            random.Random(seed).shuffle(order)
        barrier.wait()
        for sid in order:
            store.put_kiosk_record(records[sid])

    def routing_writer(store, seed):
        order = ids[:]
        if seed is not None:
            random.Random(seed).shuffle(order)
        barrier.wait()
        for sid in order:
            store.put_routing(sid, records[sid].kiosk_id, **routing[sid])

    def guarded(fn, *args):
        try:
            fn(*args)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=args) for args in (
        (kiosk_writer, stores[0], None), (routing_writer, stores[1], None),  # in step
        (kiosk_writer, stores[2], 3), (routing_writer, stores[3], 4))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert stores[0].count() == n
        for sid in ids:
            row = stores[1].get(sid)
            assert {k: row[k] for k in KIOSK_FIELDS} == dataclasses.asdict(records[sid]), sid
            r = routing[sid]
            assert (row["location"], row["dispatch_requested_at"], row["queue_s"], row["rings"],
                    row["routed_interpreter_id"], row["dispatch_outcome"]) == (
                r["location"], r["requested_at"], r["queue_s"], r["rings"], r["interpreter_id"],
                r["outcome"]), sid
            assert row["uploaded_at"] is not None
        with raw(pg_database) as db:
            counts = db.execute("SELECT count(DISTINCT session_id), count(*) FROM sessions").fetchone()
            assert counts == (n, n)
    finally:
        for s in stores:
            s.close()


# --- the same answers as SQLite ------------------------------------------------------------


def _same_story(store) -> None:
    """Writes in an order that exercises every merge path, ties in time, case in ids."""
    store.put_routing("B-1", "k-01", **{**ROUTING, "requested_at": T0})
    store.put_kiosk_record(upload("B-1", requested_at=T0, rating=4, rated_at=T0 + 70))
    store.put_kiosk_record(upload("a-1", requested_at=T0, rating=5, rated_at=T0 + 70))
    store.put_routing("a-1", "k-01", **{**ROUTING, "requested_at": T0})
    store.put_kiosk_record(upload("a-2", kiosk_id="K-02", requested_at=T0 + 50, rating=3))
    store.put_kiosk_record(upload("a-2", kiosk_id="K-02", requested_at=T0 + 50, rating=3))  # resent
    store.put_kiosk_record(upload("a-2", kiosk_id="k-01", rating=1))  # not its kiosk: ignored
    store.put_routing("Z", "k-03", location="三楼", requested_at=T0 + 80, queue_s=None, rings=0,
                      declines=0, missed_rings=0, interpreter_id=None, outcome="no_interpreter")
    store.put_kiosk_record(upload("é-3", kiosk_id="k-03", interpreter_id="li.na", talk_s=12.25,
                                  end_reason="network_lost", quality='{"rtt_ms": 80}'))


REPORT_QUERIES = (
    "SELECT * FROM sessions ORDER BY session_id",
    "SELECT kiosk_id, COUNT(*), COUNT(rating), AVG(rating), SUM(talk_s), MIN(session_id),"
    " MAX(location) FROM sessions GROUP BY kiosk_id ORDER BY kiosk_id",
    "SELECT COALESCE(routed_interpreter_id, interpreter_id) AS who, COUNT(*) AS n,"
    " SUM(CASE WHEN rating >= 4 THEN 1 ELSE 0 END) AS satisfied, AVG(wait_s) AS wait"
    " FROM sessions GROUP BY COALESCE(routed_interpreter_id, interpreter_id)"
    " ORDER BY who NULLS FIRST",  # SQLite puts NULL first by default, PostgreSQL last
)


def test_the_same_writes_give_the_same_rows_and_answers_in_both(pg, lite):
    for store in (pg, lite):
        _same_story(store)
    assert pg.count() == lite.count() == 5
    for sid in ("B-1", "a-1", "a-2", "Z", "é-3"):
        a, b = pg.get(sid), lite.get(sid)
        assert a == b and [type(v) for v in a.values()] == [type(v) for v in b.values()], sid
    for who in ("wang.li", "li.na"):
        assert pg.interpreter_history(who, 0) == lite.interpreter_history(who, 0)
    # byte-wise order of ids, as SQLite's (en-US would put "a-1" before "B-1")
    assert [h["session_id"] for h in pg.interpreter_history("wang.li", 0)][-2:] == ["B-1", "a-1"]
    with pg.connection() as p, lite.connection() as s:
        for sql in REPORT_QUERIES:
            pg_rows = [tuple(r) for r in p.execute(sql).fetchall()]
            lite_rows = [tuple(r) for r in s.execute(sql).fetchall()]
            assert pg_rows == lite_rows, sql
            assert [[type(v) for v in r] for r in pg_rows] == [[type(v) for v in r] for r in lite_rows], sql


def test_the_reports_connection_reads_one_snapshot_and_writes_nothing(pg, pg_database):
    pg.put_kiosk_record(upload("s1"))
    other = PgCentralStore(pg_database)  # another dispatch process
    try:
        with pg.connection() as db:
            assert pg.dialect == "postgresql"
            row = db.execute("SELECT session_id, rating FROM sessions").fetchone()
            assert row[0] == row["session_id"] == "s1" and dict(row) == {"session_id": "s1", "rating": None}
            other.put_kiosk_record(upload("s2"))  # committed meanwhile ...
            assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1  # ... not seen
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                db.execute("DELETE FROM sessions")
        # the store works on after the reader's failed statement
        assert pg.count() == 2
        with pg.connection() as db:
            db.row_factory = psycopg.rows.dict_row  # a reader's own settings stay its own
            db.execute("SELECT 1").fetchone()
            db.commit()  # a reader that commits does no harm
        assert pg.get("s2")["session_id"] == "s2" and pg.count() == 2
        pg.put_routing("s1", "k-01", **ROUTING)
        assert pg.get("s1")["rings"] == 2
    finally:
        other.close()


def test_the_factory_picks_the_backend(pg_database, tmp_path):
    with open_central_store(database_url=pg_database) as store:
        assert isinstance(store, PgCentralStore)
    with open_central_store(path=tmp_path / "c.sqlite3") as store:
        assert isinstance(store, CentralStore) and store.dialect == "sqlite"


# --- the dispatch app with database_url ----------------------------------------------------


@pytest.mark.asyncio
async def test_dispatch_app_keeps_kiosk_records_and_routing_facts_in_postgresql(start, pg_database):
    from test_routing import record, until

    dispatch: Dispatch = await start(database_url=pg_database, ring_timeout_s=0.3)
    store = dispatch.client.server.app[RECORDS]
    assert isinstance(store, PgCentralStore)
    i1 = await dispatch.interpreter("i1")
    kiosk = await dispatch.kiosk("k1", location="Hall 3")
    await dispatch.call(kiosk, i1, "s1")
    await i1.send(Accept(session_id="s1"))
    await until(kiosk, Accepted)
    await kiosk.send(Hangup(session_id="s1"))
    await i1.expect(CallEnded)
    rec = record("s1", "k1", interpreter_id="i1")
    for _ in range(3):  # resent after a lost ack: still one row
        await kiosk.send(rec)
        await kiosk.expect(RecordAck, session_id="s1")
    # a record for a session dispatch never routed (the kiosk was offline): stored as well
    await kiosk.send(record("s2", "k1", rating=None, rated_at=None))
    await kiosk.expect(RecordAck, session_id="s2")

    with raw(pg_database) as db:  # in the database itself, not only through the store
        db.row_factory = psycopg.rows.dict_row
        rows = {r["session_id"]: r for r in db.execute("SELECT * FROM sessions")}
    assert set(rows) == {"s1", "s2"}
    s1 = rows["s1"]
    assert {k: s1[k] for k in KIOSK_FIELDS} == dataclasses.asdict(rec)
    assert (s1["rings"], s1["missed_rings"], s1["declines"]) == (1, 0, 0)
    assert s1["routed_interpreter_id"] == "i1" and s1["dispatch_outcome"] == "answered"
    assert s1["location"] == "Hall 3" and s1["queue_s"] >= 0
    assert rows["s2"]["dispatch_outcome"] is None and rows["s2"]["rating"] is None
    assert store.count() == 2 and store.get("s1")["rating"] == 5

    await dispatch.client.close()  # the app's cleanup closes the store's connection
    assert store._db.closed


@pytest.mark.asyncio
async def test_dispatch_with_database_url_from_the_config(demo_config, pg_database):
    from kiosk.demo import dispatch_settings
    from kiosk.dispatch.app import open_accounts, serve

    config = demo_config(simulator={"interpreters": 0}, server={"database_url": pg_database})
    settings = dispatch_settings(config)
    assert settings.database_url == pg_database
    server = await serve(settings, accounts=open_accounts(settings))
    try:
        assert isinstance(server.records, PgCentralStore)
        server.records.put_kiosk_record(upload("from-config"))
    finally:
        await server.stop()
    # accounts stay in data_dir; no central.sqlite3 there
    assert not (settings.data_dir / "central.sqlite3").exists()
    with PgCentralStore(pg_database) as store:
        assert store.get("from-config")["kiosk_id"] == "k-01"


def test_a_failing_database_does_not_leave_the_accounts_open(postgres_dsn, tmp_path, monkeypatch):
    from conftest import free_port
    from kiosk.dispatch import app as app_module

    opened = []

    def open_accounts(settings):
        opened.append(real_open_accounts(settings))
        return opened[-1]

    real_open_accounts = app_module.open_accounts
    monkeypatch.setattr(app_module, "open_accounts", open_accounts)
    url = psycopg.conninfo.make_conninfo(postgres_dsn, port=free_port())
    with pytest.raises(CentralStoreError, match="cannot connect"):
        app_module.create_app(DispatchSettings(data_dir=tmp_path, database_url=url))
    assert len(opened) == 1
    with pytest.raises(Exception):  # closed by create_app
        opened[0].kiosk("k1")
