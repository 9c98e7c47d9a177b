"""kiosk/sessions/summaries.py: the report summaries kept by triggers, and reports read from them.

Every report here is checked three ways: read from the summaries only (reading ``sessions`` for
the sums fails the test), read from ``sessions`` (the summaries ignored), and against the
figures computed again in plain Python over the records (``test_reports.expected_report``). The
summary tables themselves are compared with a rebuild from ``sessions`` after every kind of
change: a record's end, its rating, its call facts, closing interrupted records, retention,
dispatch's uploads and routing facts, a migration of a database that had records already, and
a change of the summaries' time zone. Dispatch's retention runs against SQLite and the real
PostgreSQL (tests/postgres.py), at start-up and daily.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import sqlite3
import threading
from bisect import bisect_left
from datetime import date, timedelta

import pytest
import pytest_asyncio

from postgres import pg_database, postgres_dsn  # noqa: F401  (fixtures)
from test_reports import (  # noqa: F401  (fixtures too)
    FIRST, KIOSKS, LAST, PERIOD, TZ, assert_report, expected_report, fill_central, known_log, local,
    log_db, memory_log, play, random_log, records_of, specs, upload,
)
from kiosk.dispatch import app as dispatch_app
from kiosk.dispatch import records as records_module
from kiosk.dispatch.records import CentralStore
from kiosk.sessions import reports, summaries
from kiosk.sessions import store as store_module
from kiosk.sessions.model import SessionRecord
from kiosk.sessions.reports import build_report, period_for_dates, wait_counts
from kiosk.sessions.retention import remove_older_than
from kiosk.sessions.store import SessionStore

EDGES = (10.0, 20.0, 30.0, 60.0, 120.0, 300.0)  # the kiosk's wait chart


def _no_sessions_scan(*args, **kwargs):
    raise AssertionError("the report read the sessions table for its sums")


def fast(db, start, end, tz=TZ, dialect="sqlite"):
    """The report from the summaries only."""
    saved = reports._sums
    reports._sums = _no_sessions_scan
    try:
        return build_report(db, start, end, tz=tz, dialect=dialect)
    finally:
        reports._sums = saved


def brute(db, start, end, tz=TZ, dialect="sqlite"):
    """The report from the sessions table, the summaries ignored."""
    saved = reports._summarized
    reports._summarized = lambda *a: False
    try:
        return build_report(db, start, end, tz=tz, dialect=dialect)
    finally:
        reports._summarized = saved


def both_right(db, records, start, end, tz=TZ, dialect="sqlite") -> None:
    want = expected_report(records, start, end, tz)
    assert_report(fast(db, start, end, tz, dialect), want)
    assert_report(brute(db, start, end, tz, dialect), want)


def expected_counts(records, start, end) -> tuple[int, ...]:
    counts = [0] * (len(EDGES) + 1)
    for r in records:
        if r.end_reason is not None and start <= r.requested_at < end and r.answered_at is not None:
            counts[bisect_left(EDGES, r.wait_s)] += 1
    return tuple(counts)


def table(db, name: str) -> list[tuple]:
    order = "day, cat, kiosk_id" if name == "report_summary" else "day, wait_s, session_id"
    return [tuple(r) for r in db.execute(f"SELECT * FROM {name} ORDER BY {order}").fetchall()]


def assert_like_a_rebuild(db: sqlite3.Connection) -> None:
    """The summary tables are what filling them from ``sessions`` afresh gives (the talk time
    to rounding: it is a sum kept up by additions and subtractions)."""
    copy = sqlite3.connect(":memory:")
    try:
        db.backup(copy)
        zone = copy.execute("SELECT zone FROM report_zone LIMIT 1").fetchone()[0]
        for name in summaries.TABLES:
            copy.execute(f"DELETE FROM {name}")
        summaries._fill(copy, "sqlite", zone)
        assert table(db, "report_waits") == table(copy, "report_waits")
        kept, rebuilt = table(db, "report_summary"), table(copy, "report_summary")
        talk = 3 + summaries.COLUMNS.index("talk")
        assert [r[:talk] + r[talk + 1:] for r in kept] == [r[:talk] + r[talk + 1:] for r in rebuilt]
        assert [r[talk] for r in kept] == pytest.approx([r[talk] for r in rebuilt], rel=1e-12, abs=1e-9)
    finally:
        copy.close()


def live_records(store: SessionStore) -> list[SessionRecord]:
    return store.list_sessions(limit=10**9)


# --- the kiosk's session log ------------------------------------------------------------------


def test_the_known_log_from_the_summaries(log_db):
    db, records = log_db
    both_right(db, records, *PERIOD)
    assert_like_a_rebuild(db)
    assert wait_counts(db, *PERIOD, EDGES, tz=TZ) == expected_counts(records, *PERIOD)
    # one day, and a period of days without a session
    day = period_for_dates(LAST, LAST, TZ)
    both_right(db, records, *day)
    empty = period_for_dates(date(2024, 1, 1), date(2024, 1, 3), TZ)
    assert fast(db, *empty).totals.sessions == 0


def test_not_whole_days_or_another_zone_read_the_sessions(log_db, monkeypatch):
    db, records = log_db
    calls = []
    real = reports._sums
    monkeypatch.setattr(reports, "_sums", lambda *a: calls.append(1) or real(*a))
    start, end = PERIOD[0] + 3600, PERIOD[1] - 60
    assert_report(build_report(db, start, end, tz=TZ), expected_report(records, start, end))
    utc = period_for_dates(FIRST, LAST, "UTC")
    assert_report(build_report(db, *utc, tz="UTC"), expected_report(records, *utc, "UTC"))
    assert len(calls) == 2
    assert wait_counts(db, start, end, EDGES, tz=TZ) == expected_counts(records, start, end)
    build_report(db, *PERIOD, tz=TZ)
    assert len(calls) == 2  # whole days in the summaries' zone: from the summaries


def test_summaries_follow_every_change_of_a_record(tmp_path):
    """Sessions played through the store's API, some left open and closed as interrupted,
    some given call facts after their end, then retention: after each step the summaries are
    a rebuild's, and the reports from them and from the sessions are the recomputed ones."""
    path = tmp_path / "sessions.sqlite3"
    with SessionStore(path) as store:
        for spec in specs():
            play(store, spec)
        db = store.connection
        assert_like_a_rebuild(db)
        both_right(db, live_records(store), *PERIOD)

        for i in range(4):  # the app stopped mid-call
            t = local(LAST, 12, i)
            store.begin(f"open-{i}", KIOSKS[i % 3], "staff", "民政", "1.2.0", at=t)
            store.transition(f"open-{i}", "queued", t + 1)
            if i % 2:
                store.transition(f"open-{i}", "connecting", t + 9 + i, interpreter_id="int-2")
                store.transition(f"open-{i}", "connected", t + 10 + i)
        assert_like_a_rebuild(db)  # open records are not counted
        closed = store.close_interrupted(local(LAST, 13))
        assert len(closed) == 4
        store.rate("open-1", 2, local(LAST, 13, 5))
        store.set_call_facts("s000", text_chars_sent=12, media_gaps=1, media_gap_s=2.5)
        assert_like_a_rebuild(db)
        both_right(db, live_records(store), *PERIOD)
        assert wait_counts(db, *PERIOD, EDGES, tz=TZ) == expected_counts(live_records(store), *PERIOD)

        cutoff = local(FIRST + timedelta(days=1), 10)  # in the middle of a day
        removed = remove_older_than(db, cutoff)
        assert removed > 0
        assert_like_a_rebuild(db)
        left = live_records(store)
        assert min(r.requested_at for r in left) >= cutoff
        both_right(db, left, *PERIOD)

        # everything gone: no row of counts (and no residue of talk time) is left
        remove_older_than(db, PERIOD[1] + 86400)
        assert table(db, "report_summary") == [] and table(db, "report_waits") == []
        assert fast(db, *PERIOD).totals.talk_total_s == 0.0


@pytest.mark.parametrize("spread", ["lognormal", "ties", "slow-kiosk"])
def test_random_logs_from_the_summaries(spread):
    rnd = random.Random(f"summaries-{spread}")
    start = local(date(2025, 5, 1), 0)
    rows = random_log(rnd, 3000, start - 86400, 22 * 86400, spread)
    with memory_log(rows) as store:  # straight INSERTs: the triggers count them all the same
        end = start + 20 * 86400
        both_right(store.connection, records_of(rows), start, end)
        assert wait_counts(store.connection, start, end, EDGES, tz=TZ) == \
            expected_counts(records_of(rows), start, end)
        assert_like_a_rebuild(store.connection)


def test_a_v4_log_with_records_is_migrated_and_summarised(tmp_path, monkeypatch):
    path = tmp_path / "sessions.sqlite3"
    with monkeypatch.context() as m:
        m.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:4])
        m.setattr(store_module, "SCHEMA_VERSION", 4)
        with SessionStore(path) as old:
            assert old.schema_version == 4
            records = [play(old, s) for s in specs()]
    with SessionStore(path) as store:
        assert store.schema_version == 5
        db = store.connection
        assert len(table(db, "report_waits")) == sum(r.answered_at is not None for r in records)
        assert_like_a_rebuild(db)
        both_right(db, records, *PERIOD)
        unrated = next(r for r in records if r.rated_at is None and r.end_reason is not None)
        store.rate(unrated.session_id, 3, unrated.ended_at + 1)  # the triggers work after it
        assert_like_a_rebuild(db)
    backup = path.with_name(f"{path.name}.v4.bak")
    raw = sqlite3.connect(backup)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 4
        assert raw.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'report_summary'").fetchone()[0] == 0
    finally:
        raw.close()


@pytest.mark.parametrize("tz, first, last", [
    ("UTC", date(2025, 3, 9), date(2025, 3, 11)),
    ("Europe/Berlin", date(2025, 3, 29), date(2025, 3, 31)),  # a 23-hour day
    ("America/Santiago", date(2025, 4, 4), date(2025, 4, 7)),  # clocks back an hour at midnight
    ("Australia/Lord_Howe", date(2025, 4, 5), date(2025, 4, 7)),  # half an hour back
])
def test_summaries_in_another_zone(tmp_path, tz, first, last):
    start, end = period_for_dates(first, last, tz)
    rnd = random.Random(tz)
    rows = random_log(rnd, 1500, start - 3 * 3600, end - start + 6 * 3600, "lognormal")
    with memory_log(rows) as store:
        db = store.connection
        assert summaries.zone_of(db, "sqlite") == summaries.DEFAULT_ZONE
        assert store.set_report_zone(tz) is True
        assert store.set_report_zone(tz) is False  # already
        assert summaries.zone_of(db, "sqlite") == tz
        assert_like_a_rebuild(db)
        both_right(db, records_of(rows), start, end, tz)
        with pytest.raises(Exception):
            store.set_report_zone("Mars/Olympus_Mons")
        assert summaries.zone_of(db, "sqlite") == tz


def test_zone_segments_are_the_reports_own():
    """The weekly probes find every change of offset the report's 6-hourly ones find."""
    for tz in ("Asia/Shanghai", "Europe/Berlin", "America/Santiago", "Australia/Lord_Howe", "UTC"):
        segs = summaries.zone_segments(tz)
        assert segs[0][0] == summaries.ZONE_FROM and segs[-1][1] == summaries.ZONE_TO
        assert all(a[1] == b[0] and a[2] != b[2] for a, b in zip(segs, segs[1:]))
        lo, hi = period_for_dates(date(2024, 1, 1), date(2026, 12, 31), tz)
        within = [(max(a, lo), min(b, hi), o) for a, b, o in segs if b > lo and a < hi]
        assert within == reports._segments(reports.ZoneInfo(tz), lo, hi)


# --- dispatch's central records ---------------------------------------------------------------


def central_changes(store, records) -> list[SessionRecord]:
    """After ``fill_central``: some records come again rated, one changes its category... the
    records as the central store now holds them."""
    now = []
    for rec in records:
        if rec.end_reason is not None and rec.rating is None and rec.rated_at is None \
                and rec.session_id.endswith(("1", "7")):
            rec = dataclasses.replace(rec, rating=4, rated_at=rec.ended_at + 30)
            store.put_kiosk_record(upload(rec))
        now.append(rec)
    # a record claiming another kiosk's session changes nothing
    stray = dataclasses.replace(now[3], kiosk_id="k-stray", rating=1)
    store.put_kiosk_record(upload(stray))
    return now


def test_central_records_in_sqlite_from_the_summaries(log_db, tmp_path):
    _, records = log_db
    with CentralStore(tmp_path / "central.sqlite3") as central:
        fill_central(central, records)
        now = central_changes(central, records)
        with central.connection() as db:
            both_right(db, now, *PERIOD)
            assert_like_a_rebuild(db)
        cutoff = local(FIRST + timedelta(days=1), 12)
        removed = central.remove_older_than(cutoff, batch=7)
        # routed-only sessions count by dispatch's time: two of the three are before noon
        assert removed == sum(r.requested_at < cutoff for r in now) + 3
        with central.connection() as db:
            assert_like_a_rebuild(db)
            both_right(db, [r for r in now if r.requested_at >= cutoff], *PERIOD)
        assert central.remove_older_than(cutoff) == 0


def test_a_v3_central_store_with_records_is_migrated_and_summarised(log_db, tmp_path, monkeypatch):
    _, records = log_db
    path = tmp_path / "central.sqlite3"
    with monkeypatch.context() as m:
        m.setattr(records_module, "MIGRATIONS", records_module.MIGRATIONS[:3])
        with CentralStore(path) as old:
            assert old.schema_version == 3
            fill_central(old, records)
    with CentralStore(path) as central:
        assert central.schema_version == 4
        with central.connection() as db:
            assert_like_a_rebuild(db)
            both_right(db, records, *PERIOD)
    assert path.with_name(f"{path.name}.v3.bak").exists()


def pg_report_right(central, records, start=PERIOD[0], end=PERIOD[1]) -> None:
    with central.connection() as db:
        both_right(db, records, start, end, dialect="postgresql")
        assert wait_counts(db, start, end, EDGES, tz=TZ, dialect="postgresql") == \
            expected_counts(records, start, end)


def test_central_records_in_postgresql_from_the_summaries(log_db, pg_database):
    pytest.importorskip("psycopg")
    from kiosk.dispatch.records import PgCentralStore

    _, records = log_db
    with PgCentralStore(pg_database) as central:
        assert central.schema_version == 4
        fill_central(central, records)
        now = central_changes(central, records)
        pg_report_right(central, now)
        cutoff = local(FIRST + timedelta(days=1), 12)
        removed = central.remove_older_than(cutoff, batch=7)
        assert removed == sum(r.requested_at < cutoff for r in now) + 3
        pg_report_right(central, [r for r in now if r.requested_at >= cutoff])
        assert central.count() == len(now) + 3 - removed
        # the summaries in another zone, rebuilt in the database
        assert central.set_report_zone("UTC") is True
        utc = period_for_dates(FIRST, LAST, "UTC")
        with central.connection() as db:
            both_right(db, [r for r in now if r.requested_at >= cutoff], *utc, "UTC", "postgresql")


def test_a_v3_central_store_in_postgresql_is_migrated_and_summarised(log_db, pg_database, monkeypatch):
    pytest.importorskip("psycopg")
    from kiosk.dispatch.records import PgCentralStore

    _, records = log_db
    with monkeypatch.context() as m:
        m.setattr(records_module, "PG_MIGRATIONS", records_module.PG_MIGRATIONS[:3])
        with PgCentralStore(pg_database) as old:
            assert old.schema_version == 3
            fill_central(old, records)
    with PgCentralStore(pg_database) as central:
        assert central.schema_version == 4
        pg_report_right(central, records)


def test_postgresql_summaries_stay_right_with_writers_at_once(log_db, pg_database):
    """Four stores (as four dispatch processes) upload and re-upload the records, and route
    them, at once: the summaries come out as the records do."""
    pytest.importorskip("psycopg")
    from kiosk.dispatch.records import PgCentralStore

    _, records = log_db
    finished = [r for r in records if r.end_reason is not None]
    rated = [dataclasses.replace(r, rating=1 + i % 5, rated_at=r.ended_at + 9) if r.rated_at is None else r
             for i, r in enumerate(finished)]
    stores = [PgCentralStore(pg_database) for _ in range(4)]
    barrier = threading.Barrier(4)
    errors = []

    def writer(k: int) -> None:
        try:
            order = list(range(len(finished)))
            random.Random(k).shuffle(order)
            barrier.wait()
            for i in order:
                if k < 2:
                    stores[k].put_kiosk_record(upload(finished[i]))
                    stores[k].put_kiosk_record(upload(rated[i]))
                else:
                    r = finished[i]
                    stores[k].put_routing(r.session_id, r.kiosk_id, location="hall",
                                          requested_at=r.requested_at, queue_s=1.0, rings=k,
                                          declines=0, missed_rings=0, interpreter_id="int-1",
                                          outcome="answered")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        # whichever upload came last for a session, the summaries count the row as it is
        held = [SessionRecord(**{f.name: stores[0].get(r.session_id)[f.name]
                                 for f in dataclasses.fields(SessionRecord)}) for r in finished]
        pg_report_right(stores[0], held)
    finally:
        for s in stores:
            s.close()


# --- dispatch removes old central records, at start-up and daily -------------------------------


def old_and_new(now: float) -> list[SessionRecord]:
    recs = []
    for i, age_days in enumerate((4 * 365.25, 3 * 365.25 + 2, 3 * 365.25 - 2, 10, 1)):
        t = now - age_days * 86400
        recs.append(SessionRecord(
            session_id=f"c{i}", kiosk_id=KIOSKS[i % 3], started_by="resident", category=None,
            state="ended", requested_at=t, answered_at=t + 8, connected_at=t + 9, ended_at=t + 99,
            wait_s=8.0, talk_s=90.0, end_reason="completed", ended_by="kiosk", interpreter_id="i",
            rating=5, rated_at=t + 120, app_version="1.2.0"))
    return recs


@pytest_asyncio.fixture
async def client_for(aiohttp_client):
    async def go(**settings):
        return await aiohttp_client(dispatch_app.create_app(dispatch_app.DispatchSettings(**settings)))
    return go


async def _until(check, timeout=20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def _retention_at_start_and_daily(client_for, monkeypatch, settings, open_store) -> None:
    import time

    now = time.time()
    recs = old_and_new(now)
    with open_store() as central:
        for r in recs:
            central.put_kiosk_record(upload(r))
    monkeypatch.setattr(dispatch_app, "RETENTION_INTERVAL_S", 0.3)
    client = await client_for(**settings)
    records = client.app[dispatch_app.RECORDS]
    await _until(lambda: records.count() == 3)  # older than 3 years: gone at start-up
    assert records.get("c0") is None and records.get("c1") is None and records.get("c2") is not None
    # a record that arrives late and is already too old goes at the next daily round
    late = dataclasses.replace(recs[0], session_id="late", requested_at=now - 5 * 365.25 * 86400)
    records.put_kiosk_record(upload(late))
    assert records.get("late") is not None
    await _until(lambda: records.get("late") is None)
    start, end = period_for_dates(date.fromtimestamp(now - 20 * 86400), date.fromtimestamp(now + 86400), TZ)
    with records.connection() as db:
        report = fast(db, start, end, TZ, records.dialect)
    assert report.totals.sessions == 2


@pytest.mark.asyncio
async def test_dispatch_removes_old_central_records_in_sqlite(client_for, tmp_path, monkeypatch):
    await _retention_at_start_and_daily(client_for, monkeypatch, {"data_dir": tmp_path},
                                        lambda: CentralStore(tmp_path / "central.sqlite3"))


@pytest.mark.asyncio
async def test_dispatch_removes_old_central_records_in_postgresql(client_for, tmp_path, monkeypatch,
                                                                  pg_database):
    pytest.importorskip("psycopg")
    from kiosk.dispatch.records import PgCentralStore

    await _retention_at_start_and_daily(
        client_for, monkeypatch, {"data_dir": tmp_path, "database_url": pg_database},
        lambda: PgCentralStore(pg_database))


@pytest.mark.asyncio
async def test_dispatch_keeps_everything_without_a_retention(client_for, tmp_path):
    import time

    with CentralStore(tmp_path / "central.sqlite3") as central:
        for r in old_and_new(time.time()):
            central.put_kiosk_record(upload(r))
    client = await client_for(data_dir=tmp_path, retention_years=None)
    await asyncio.sleep(0.3)
    assert client.app[dispatch_app.RECORDS].count() == 5


def test_a_failing_retention_is_logged_not_raised(tmp_path, caplog):
    with CentralStore(tmp_path / "central.sqlite3") as central:
        central.close()
        assert dispatch_app.apply_retention(central, 3, 1_750_000_000.0) == 0
    assert "could not remove old central session records" in caplog.text


def test_server_retention_years_in_the_config():
    from kiosk.config import ConfigError, ServerConfig, parse_config
    from kiosk.demo import dispatch_settings

    assert ServerConfig().retention_years == 3.0
    assert dispatch_app.DispatchSettings().retention_years == 3.0
    base = ("kiosk:\n  id: k-01\n  location: Hall 1\ndispatch:\n  url: wss://dispatch.example/ws\n"
            "  token: secret\n")
    config = parse_config(base + "server:\n  retention_years: 5\n")
    assert config.server.retention_years == 5
    assert dispatch_settings(config).retention_years == 5
    with pytest.raises(ConfigError, match="retention_years"):
        parse_config(base + "server:\n  retention_years: 0\n")


def test_the_kiosks_report_screen_reads_the_summaries(known_log, monkeypatch):
    """The admin area's report (``read_report``: a read-only connection of its own) takes its
    figures and its wait chart from the summaries."""
    from kiosk.call.engine import WAIT_EDGES_S, read_report

    path, records = known_log
    assert WAIT_EDGES_S == EDGES
    monkeypatch.setattr(reports, "_sums", _no_sessions_scan)
    data = read_report(path, PERIOD[0], PERIOD[1], TZ)
    assert_report(data.report, expected_report(records, *PERIOD))
    assert data.wait_counts == expected_counts(records, *PERIOD)
    # from the local day of the first session on: the same sessions, the first day earlier
    everything = read_report(path, None, PERIOD[1], TZ)
    first = min(r.requested_at for r in records)
    assert everything.report.totals.sessions == sum(
        r.end_reason is not None and first <= r.requested_at < PERIOD[1] for r in records)


@pytest.mark.parametrize("spread", ["ties", "slow-kiosk"])
def test_random_logs_in_postgresql_from_the_summaries(pg_database, spread):
    """Waits beyond the ladder's last step (slow kiosk), under its first, and many equal ones,
    in PostgreSQL (one query ranks every day, category or kiosk at once)."""
    pytest.importorskip("psycopg")
    import psycopg

    from kiosk.dispatch.records import PgCentralStore

    rnd = random.Random(f"pg-{spread}")
    start = local(date(2025, 5, 1), 0)
    rows = random_log(rnd, 1200, start - 86400, 12 * 86400, spread)
    rows += [(f"quick{i}", "k1", "staff", None, "ended", start + 3600 * i, start + 3600 * i + 0.5 + i / 10,
              None, start + 3600 * i + 9, 0.5 + i / 10, 0.0, "completed", "kiosk", None, 5, None, "1.0")
             for i in range(5)]
    records = records_of(rows)
    with PgCentralStore(pg_database) as central:
        with psycopg.connect(pg_database, autocommit=True) as db:
            names = [f.name for f in dataclasses.fields(SessionRecord)][:17]
            with db.cursor().copy(f"COPY sessions ({', '.join(names)}) FROM STDIN") as copy:
                for r in rows:  # COPY fires the row triggers too
                    copy.write_row(r)
        end = start + 10 * 86400
        pg_report_right(central, records, start, end)
