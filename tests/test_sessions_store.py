"""kiosk/sessions/store.py on real SQLite files: durability settings, the life of a record,
refusals, interrupted calls, schema versions and migrations, no personal data, and a kill."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.sessions import store as store_module
from kiosk.sessions.model import SessionRecord
from kiosk.sessions.store import SCHEMA_VERSION, SessionStore, StoreError

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_717_380_000.0  # some epoch second


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "log" / "sessions.sqlite3"  # the folder does not exist yet


@pytest.fixture
def store(db):
    with SessionStore(db) as s:
        yield s


def begin(store: SessionStore, sid: str = "s1", at: float = T0, **kw) -> SessionRecord:
    args = {"kiosk_id": "k-01", "started_by": "resident", "category": None, "app_version": "0.1.0"}
    args.update(kw)
    return store.begin(sid, at=at, **args)


def columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as raw:
        names = [row[1] for row in raw.execute(f"PRAGMA table_info({table})")]
    raw.close()
    return names


def user_version(path: Path) -> int:
    raw = sqlite3.connect(path)
    try:
        return raw.execute("PRAGMA user_version").fetchone()[0]
    finally:
        raw.close()


# --- settings and schema --------------------------------------------------------------------


def test_wal_and_full_sync_are_in_force(store, db):
    assert db.exists()  # the missing folder was made
    assert store.pragma("journal_mode") == "wal"
    assert store.pragma("synchronous") == 2  # FULL
    assert store.pragma("foreign_keys") == 1
    # WAL is a property of the file: another connection sees it too
    assert user_version(db) == SCHEMA_VERSION
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


def test_new_database_is_at_the_current_schema_version(store):
    assert SCHEMA_VERSION == len(store_module.MIGRATIONS) >= 1
    assert store.schema_version == SCHEMA_VERSION
    assert store.integrity_ok()


def test_sessions_table_holds_exactly_the_record_fields(store, db):
    """No personal data: the columns are the record's fields and nothing else, so a new column
    has to be added to SessionRecord (and reviewed) on purpose."""
    fields = [f.name for f in dataclasses.fields(SessionRecord)]
    assert fields == [
        "session_id", "kiosk_id", "started_by", "category", "state", "requested_at",
        "answered_at", "connected_at", "ended_at", "wait_s", "talk_s", "end_reason", "ended_by",
        "interpreter_id", "rating", "rated_at", "app_version", "quality",
        "text_chars_sent", "text_chars_received", "media_gaps", "media_gap_s",
    ]
    assert columns(db, "sessions") == fields
    assert columns(db, "session_events") == ["session_id", "seq", "state", "at"]
    # the outbox is a table of its own and holds no record data, only what to send
    assert columns(db, "outbox") == ["session_id", "queued_at", "attempts"]
    with sqlite3.connect(db) as raw:
        tables = sorted(r[0] for r in raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"))
    raw.close()
    # besides the record's own tables only the report summaries, which count and never name
    assert tables == ["outbox", "report_summary", "report_waits", "report_zone", "session_events",
                      "sessions"]
    assert columns(db, "report_waits") == ["day", "wait_s", "session_id", "cat", "kiosk_id"]


def test_schema_version_is_five_with_the_outbox_quality_call_facts_and_summaries():
    assert [m.__name__ for m in store_module.MIGRATIONS] == ["_v1", "_v2", "_v3", "_v4", "_v5"]
    assert SCHEMA_VERSION == 5


def test_call_facts_are_counts_and_send_a_finished_record_again(store):
    begin(store)
    rec = store.set_call_facts("s1", text_chars_sent=12, media_gaps=1, media_gap_s=4.5)
    assert (rec.text_chars_sent, rec.text_chars_received, rec.media_gaps, rec.media_gap_s) == (
        12, 0, 1, 4.5)
    assert store.outbox_size() == 0  # an open call is not uploaded yet
    store.end("s1", "completed", T0 + 60, "kiosk")
    store.mark_uploaded("s1")
    rec = store.set_call_facts("s1", text_chars_received=30)
    assert rec.text_chars_received == 30 and rec.text_chars_sent == 12
    assert store.outbox_size() == 1  # the changed record goes out again
    for bad in ({"text": 3}, {"media_gaps": -1}, {"text_chars_sent": "12"}, {"media_gaps": True}):
        with pytest.raises(ValueError):
            store.set_call_facts("s1", **bad)
    assert store.get("s1") == rec


# --- the life of a record -------------------------------------------------------------------


def test_full_call_gives_times_durations_and_events(store):
    rec = begin(store, category="social_security", started_by="staff")
    assert (rec.state, rec.requested_at, rec.started_by, rec.category) == (
        "requesting", T0, "staff", "social_security")
    assert rec.is_open and rec.answered_at is None and rec.ended_at is None

    store.transition("s1", "queued", T0 + 1)
    store.transition("s1", "ringing", T0 + 4)
    rec = store.transition("s1", "connecting", T0 + 9, interpreter_id="int-7")
    assert rec.answered_at == T0 + 9 and rec.interpreter_id == "int-7" and rec.connected_at is None
    rec = store.transition("s1", "connected", T0 + 11)
    assert rec.connected_at == T0 + 11
    # a reconnect does not move the first answer or connection
    store.transition("s1", "reconnecting", T0 + 50)
    store.transition("s1", "connecting", T0 + 52)
    rec = store.transition("s1", "connected", T0 + 53)
    assert (rec.answered_at, rec.connected_at, rec.state) == (T0 + 9, T0 + 11, "connected")

    rec = store.end("s1", "completed", T0 + 131, "interpreter")
    assert (rec.state, rec.end_reason, rec.ended_by, rec.ended_at) == (
        "ended", "completed", "interpreter", T0 + 131)
    assert rec.wait_s == pytest.approx(9.0)  # answered - requested
    assert rec.talk_s == pytest.approx(120.0)  # ended - connected
    assert not rec.is_open and rec.rating is None and rec.rated_at is None

    rec = store.rate("s1", 4, T0 + 140)
    assert (rec.rating, rec.rated_at) == (4, T0 + 140)
    assert store.events("s1") == [
        ("requesting", T0), ("queued", T0 + 1), ("ringing", T0 + 4), ("connecting", T0 + 9),
        ("connected", T0 + 11), ("reconnecting", T0 + 50), ("connecting", T0 + 52),
        ("connected", T0 + 53), ("ended", T0 + 131),
    ]
    assert store.get("s1") == rec


def test_never_answered_call_waits_until_the_end_and_talks_zero(store):
    begin(store)
    store.transition("s1", "queued", T0 + 2)
    rec = store.end("s1", "cancelled_by_caller", T0 + 37, "kiosk")
    assert rec.wait_s == pytest.approx(37.0)
    assert rec.talk_s == 0.0
    assert rec.answered_at is None and rec.connected_at is None


def test_answered_but_never_connected_has_no_talk_time(store):
    begin(store)
    store.transition("s1", "connecting", T0 + 5)
    rec = store.end("s1", "network_lost", T0 + 30, "kiosk")
    assert (rec.wait_s, rec.talk_s) == (pytest.approx(5.0), 0.0)


def test_skipped_rating_is_recorded_as_rated_without_a_value(store):
    begin(store)
    store.end("s1", "no_interpreter", T0 + 3, "dispatch")
    rec = store.rate("s1", None, T0 + 10)
    assert rec.rating is None and rec.rated_at == T0 + 10
    with pytest.raises(StoreError, match="already rated"):
        store.rate("s1", 5, T0 + 11)


def test_records_survive_reopening_and_list_newest_first(db):
    with SessionStore(db) as s:
        for i in range(3):
            begin(s, f"s{i}", at=T0 + i * 100)
            s.end(f"s{i}", "completed", T0 + i * 100 + 10, "kiosk")
    with SessionStore(db) as s:
        assert [r.session_id for r in s.list_sessions()] == ["s2", "s1", "s0"]
        assert [r.session_id for r in s.list_sessions(limit=2)] == ["s2", "s1"]
        assert [r.session_id for r in s.list_sessions(since=T0 + 100)] == ["s2", "s1"]
        assert s.get("s1").ended_at == T0 + 110
        assert s.get("nope") is None


# --- refusals -------------------------------------------------------------------------------


def test_unknown_end_reason_is_refused_and_changes_nothing(store):
    begin(store)
    with pytest.raises(ValueError, match="unknown end reason"):
        store.end("s1", "bored", T0 + 1, "kiosk")
    with pytest.raises(ValueError, match="ended_by"):
        store.end("s1", "completed", T0 + 1, "resident")
    assert store.get("s1").is_open
    assert store.events("s1") == [("requesting", T0)]


@pytest.mark.parametrize("rating", [0, 6, -1, True, False, 4.0, "5"])
def test_bad_rating_is_refused(store, rating):
    begin(store)
    store.end("s1", "completed", T0 + 5, "kiosk")
    with pytest.raises(ValueError, match="a rating is 1 to 5"):
        store.rate("s1", rating, T0 + 6)
    assert store.get("s1").rated_at is None


@pytest.mark.parametrize("rating", [1, 5])
def test_rating_limits_are_accepted(store, rating):
    begin(store)
    store.end("s1", "completed", T0 + 5, "kiosk")
    assert store.rate("s1", rating, T0 + 6).rating == rating


def test_rating_before_the_end_is_refused(store):
    begin(store)
    store.transition("s1", "connected", T0 + 3)
    with pytest.raises(StoreError, match="has not ended"):
        store.rate("s1", 5, T0 + 4)
    assert store.get("s1").rated_at is None


def test_rating_twice_is_refused_and_keeps_the_first(store):
    begin(store)
    store.end("s1", "completed", T0 + 5, "kiosk")
    store.rate("s1", 2, T0 + 6)
    with pytest.raises(StoreError, match="already rated"):
        store.rate("s1", 5, T0 + 7)
    assert (store.get("s1").rating, store.get("s1").rated_at) == (2, T0 + 6)


def test_ended_session_cannot_move_or_end_again(store):
    begin(store)
    store.end("s1", "completed", T0 + 5, "kiosk")
    with pytest.raises(StoreError, match="already ended"):
        store.transition("s1", "connected", T0 + 6)
    with pytest.raises(StoreError, match="already ended"):
        store.end("s1", "network_lost", T0 + 6, "system")
    rec = store.get("s1")
    assert (rec.state, rec.end_reason, rec.ended_at) == ("ended", "completed", T0 + 5)
    assert [state for state, _ in store.events("s1")] == ["requesting", "ended"]


@pytest.mark.parametrize("state", ["idle", "ended", "talking", ""])
def test_transition_to_a_state_a_call_cannot_move_to_is_refused(store, state):
    begin(store)
    with pytest.raises(ValueError, match="not a state"):
        store.transition("s1", state, T0 + 1)
    assert store.get("s1").state == "requesting"


def test_unknown_started_by_is_refused_and_writes_nothing(store):
    with pytest.raises(ValueError, match="started_by"):
        begin(store, started_by="interpreter")
    assert store.get("s1") is None and store.events("s1") == []


def test_unknown_session_is_a_store_error(store):
    with pytest.raises(StoreError, match="no session ghost"):
        store.transition("ghost", "queued", T0)
    with pytest.raises(StoreError, match="no session ghost"):
        store.end("ghost", "completed", T0, "kiosk")
    with pytest.raises(StoreError, match="no session ghost"):
        store.rate("ghost", 3, T0)
    assert str(StoreError("no session ghost")) == "no session ghost"  # not KeyError's quotes


def test_a_failed_change_is_rolled_back_whole(store, db):
    begin(store)
    with pytest.raises(sqlite3.IntegrityError):
        begin(store)  # the same session id again
    assert store.events("s1") == [("requesting", T0)]
    # the connection is usable and not stuck in a transaction
    assert store.transition("s1", "queued", T0 + 1).state == "queued"
    assert not store._db.in_transaction


# --- interrupted calls ----------------------------------------------------------------------


def test_close_interrupted_ends_open_records_at_their_last_event(store):
    begin(store, "talking", at=T0)
    store.transition("talking", "connecting", T0 + 4)
    store.transition("talking", "connected", T0 + 6)
    store.transition("talking", "reconnecting", T0 + 70)

    begin(store, "waiting", at=T0 + 100)
    store.transition("waiting", "queued", T0 + 101)

    begin(store, "tapped", at=T0 + 200)

    begin(store, "done", at=T0 + 300)
    store.end("done", "completed", T0 + 330, "kiosk")
    done_before = store.get("done")

    closed = store.close_interrupted(at=T0 + 9999)
    assert sorted(r.session_id for r in closed) == ["talking", "tapped", "waiting"]
    for rec in closed:
        assert (rec.state, rec.end_reason, rec.ended_by) == ("ended", "interrupted", "system")
        assert rec == store.get(rec.session_id)

    talking, waiting, tapped = (store.get(s) for s in ("talking", "waiting", "tapped"))
    assert talking.ended_at == T0 + 70
    assert (talking.wait_s, talking.talk_s) == (pytest.approx(4.0), pytest.approx(64.0))
    assert waiting.ended_at == T0 + 101
    assert (waiting.wait_s, waiting.talk_s) == (pytest.approx(1.0), 0.0)
    assert tapped.ended_at == T0 + 200
    assert (tapped.wait_s, tapped.talk_s) == (0.0, 0.0)
    assert store.events("talking")[-1] == ("ended", T0 + 70)

    assert store.get("done") == done_before
    assert store.events("done")[-1] == ("ended", T0 + 330)
    assert store.close_interrupted(at=T0 + 10000) == []  # nothing left open


# --- schema versions and migrations ---------------------------------------------------------


def test_database_from_a_newer_kiosk_is_refused_untouched(db):
    with SessionStore(db) as s:
        begin(s)
    raw = sqlite3.connect(db)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StoreError) as info:
        SessionStore(db)
    message = str(info.value)
    assert "newer kiosk version" in message and str(db) in message
    assert f"schema {SCHEMA_VERSION + 1}" in message and "update the kiosk" in message
    assert user_version(db) == SCHEMA_VERSION + 1
    assert not list(db.parent.glob("*.bak"))


def test_fresh_database_is_migrated_once_without_a_backup(db, monkeypatch):
    calls = []
    real = list(store_module.MIGRATIONS)

    def spy(i):
        def run(conn):
            calls.append(i + 1)
            real[i](conn)
        return run

    monkeypatch.setattr(store_module, "MIGRATIONS", [spy(i) for i in range(len(real))])
    db.parent.mkdir(parents=True)
    sqlite3.connect(db).close()  # an empty database file, at version 0
    assert user_version(db) == 0
    with SessionStore(db) as s:
        assert s.schema_version == SCHEMA_VERSION
        begin(s)
    assert calls == list(range(1, SCHEMA_VERSION + 1))
    assert not list(db.parent.glob("*.bak"))  # nothing to back up at version 0

    with SessionStore(db) as s:  # opening again migrates nothing
        assert s.get("s1") is not None
    assert calls == list(range(1, SCHEMA_VERSION + 1))


def _add_counters_table(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL)")


def test_migrating_an_older_database_backs_it_up_first(db, monkeypatch):
    with SessionStore(db) as s:
        begin(s)
        s.end("s1", "completed", T0 + 20, "kiosk")
    old = SCHEMA_VERSION
    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS, _add_counters_table])
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", old + 1)

    with SessionStore(db) as s:
        assert s.schema_version == old + 1
        assert s.get("s1").end_reason == "completed"  # data kept
    backup = db.with_name(f"{db.name}.v{old}.bak")
    assert backup.exists()
    assert user_version(backup) == old
    raw = sqlite3.connect(backup)
    try:
        assert raw.execute("SELECT session_id, end_reason FROM sessions").fetchall() == [
            ("s1", "completed")]
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("SELECT name FROM sqlite_master WHERE name = 'counters'").fetchone() is None
    finally:
        raw.close()
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("SELECT name FROM sqlite_master WHERE name = 'counters'").fetchone()
    finally:
        raw.close()


def test_a_failing_migration_leaves_the_old_schema(db, monkeypatch):
    with SessionStore(db) as s:
        begin(s)
    old = SCHEMA_VERSION

    def broken(conn):
        conn.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("disk on fire")

    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS, broken])
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", old + 1)
    with pytest.raises(sqlite3.OperationalError, match="disk on fire"):
        SessionStore(db)
    assert user_version(db) == old
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
        assert raw.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1
    finally:
        raw.close()


# --- the outbox -----------------------------------------------------------------------------


def queued(store: SessionStore) -> list[str]:
    return [r.session_id for r in store.pending_uploads(limit=1000)]


def test_a_new_record_is_not_queued_until_it_ends(store):
    begin(store)
    store.transition("s1", "connected", T0 + 3)
    assert queued(store) == [] and store.outbox_size() == 0
    rec = store.end("s1", "completed", T0 + 9, "kiosk")
    assert store.pending_uploads() == [rec]  # the finished record itself, all fields
    assert store.outbox_size() == 1 and store.upload_attempts("s1") == 0


def test_rating_queues_the_rated_record_again(store):
    begin(store)
    store.end("s1", "completed", T0 + 9, "kiosk")
    store.note_upload_attempt("s1")
    assert store.upload_attempts("s1") == 1
    rated = store.rate("s1", 5, T0 + 15)
    assert store.pending_uploads() == [rated] and rated.rating == 5
    assert store.upload_attempts("s1") == 0  # a new version, not sent yet
    # uploaded, then nothing is queued; a rating after the upload queues it once more
    begin(store, "s2", at=T0 + 20)
    store.end("s2", "completed", T0 + 30, "kiosk")
    assert store.mark_uploaded("s2") is True
    assert queued(store) == ["s1"]
    store.rate("s2", None, T0 + 31)
    assert queued(store) == ["s1", "s2"]
    assert store.pending_uploads()[1].rated_at == T0 + 31


def test_close_interrupted_queues_what_it_closes(store):
    begin(store, "done", at=T0)
    store.end("done", "completed", T0 + 5, "kiosk")
    store.mark_uploaded("done")
    begin(store, "open1", at=T0 + 10)
    begin(store, "open2", at=T0 + 20)
    closed = store.close_interrupted(at=T0 + 100)
    assert sorted(queued(store)) == ["open1", "open2"]
    assert sorted(store.pending_uploads(), key=lambda r: r.session_id) == sorted(
        closed, key=lambda r: r.session_id)


def test_pending_uploads_oldest_first_with_a_limit(store):
    for i, sid in enumerate(["c", "a", "b", "d"]):
        begin(store, sid, at=T0 + i * 10)
        store.end(sid, "completed", T0 + i * 10 + 5, "kiosk")
    assert queued(store) == ["c", "a", "b", "d"]
    assert [r.session_id for r in store.pending_uploads(limit=2)] == ["c", "a"]
    store.rate("a", 3, T0 + 100)  # queued again, now the newest
    assert queued(store) == ["c", "b", "d", "a"]


def test_mark_uploaded_and_attempts(store):
    begin(store)
    store.end("s1", "completed", T0 + 9, "kiosk")
    for n in (1, 2, 3):
        store.note_upload_attempt("s1")
        assert store.upload_attempts("s1") == n
    assert store.mark_uploaded("s1") is True
    assert store.outbox_size() == 0 and store.pending_uploads() == []
    assert store.upload_attempts("s1") is None
    assert store.mark_uploaded("s1") is False  # a repeated ack changes nothing
    store.note_upload_attempt("s1")  # nor does an attempt for a record no longer queued
    assert store.outbox_size() == 0
    assert store.get("s1").end_reason == "completed"  # the record itself stays


def test_mark_uploaded_keeps_a_record_that_changed_since_it_was_sent(store):
    begin(store)
    sent = store.end("s1", "completed", T0 + 9, "kiosk")
    store.rate("s1", 2, T0 + 12)  # rated while the unrated version was on its way
    assert store.mark_uploaded("s1", sent) is False
    assert queued(store) == ["s1"]
    assert store.mark_uploaded("s1", store.get("s1")) is True
    assert queued(store) == []


def _break_the_outbox(db: Path) -> None:
    raw = sqlite3.connect(db)
    try:
        raw.execute("CREATE TRIGGER no_outbox BEFORE INSERT ON outbox"
                    " BEGIN SELECT RAISE(ABORT, 'outbox full'); END")
        raw.commit()
    finally:
        raw.close()


def test_end_and_enqueue_are_one_transaction(store, db):
    begin(store)
    store.transition("s1", "connected", T0 + 2)
    _break_the_outbox(db)
    with pytest.raises(sqlite3.IntegrityError, match="outbox full"):
        store.end("s1", "completed", T0 + 9, "kiosk")
    rec = store.get("s1")  # the end was rolled back with the failed enqueue
    assert rec.is_open and rec.state == "connected" and rec.ended_at is None
    assert [s for s, _ in store.events("s1")] == ["requesting", "connected"]
    assert not store._db.in_transaction


def test_rate_and_enqueue_are_one_transaction(store, db):
    begin(store)
    store.end("s1", "completed", T0 + 9, "kiosk")
    _break_the_outbox(db)
    with pytest.raises(sqlite3.IntegrityError, match="outbox full"):
        store.rate("s1", 4, T0 + 10)
    assert store.get("s1").rated_at is None
    assert store.pending_uploads()[0].rating is None  # the unrated version is still queued


def test_close_interrupted_and_enqueue_are_one_transaction(store, db):
    begin(store, "a")
    begin(store, "b", at=T0 + 1)
    _break_the_outbox(db)
    with pytest.raises(sqlite3.IntegrityError, match="outbox full"):
        store.close_interrupted(T0 + 50)
    assert store.get("a").is_open and store.get("b").is_open


def test_outbox_survives_reopening(db):
    with SessionStore(db) as s:
        for i in range(3):
            begin(s, f"s{i}", at=T0 + i)
            s.end(f"s{i}", "completed", T0 + i + 1, "kiosk")
        s.mark_uploaded("s1")
        s.note_upload_attempt("s2")
    with SessionStore(db) as s:
        assert queued(s) == ["s0", "s2"]
        assert s.upload_attempts("s2") == 1


def test_a_v1_database_is_migrated_to_v2_and_its_finished_records_queued(db, monkeypatch):
    # the v1 kiosk: only the first migration, and no outbox to put anything in
    with monkeypatch.context() as m:
        m.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:1])
        m.setattr(store_module, "SCHEMA_VERSION", 1)
        m.setattr(SessionStore, "_enqueue", lambda self, sid, at: None)
        with SessionStore(db) as old:
            assert old.schema_version == 1
            begin(old, "rated", at=T0 + 100)
            old.end("rated", "completed", T0 + 160, "kiosk")
            old.rate("rated", 5, T0 + 170)
            begin(old, "first", at=T0)
            old.end("first", "no_interpreter", T0 + 3, "dispatch")
            begin(old, "open", at=T0 + 200)  # the kiosk stopped mid-call
            old.transition("open", "queued", T0 + 201)
            records_before = {sid: old.get(sid) for sid in ("rated", "first", "open")}
    assert user_version(db) == 1
    assert "outbox" not in _tables(db)

    with SessionStore(db) as s:
        assert s.schema_version == SCHEMA_VERSION
        assert {sid: s.get(sid) for sid in records_before} == records_before  # data kept
        # ended but never uploaded: queued by the migration, oldest first; the open one is not
        assert queued(s) == ["first", "rated"]
        assert s.pending_uploads()[1].rating == 5
        assert [s.upload_attempts(x) for x in ("first", "rated")] == [0, 0]
        (closed,) = s.close_interrupted(T0 + 1000)
        assert closed.session_id == "open" and queued(s) == ["first", "rated", "open"]

    backup = db.with_name(f"{db.name}.v1.bak")
    assert backup.exists() and user_version(backup) == 1
    assert "outbox" not in _tables(backup)
    raw = sqlite3.connect(backup)
    try:
        assert raw.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 3
    finally:
        raw.close()
    with SessionStore(db) as s:  # opening again migrates (and queues) nothing more
        assert queued(s) == ["first", "rated", "open"]
    assert sorted(p.name for p in db.parent.glob("*.bak")) == [backup.name]


def _tables(path: Path) -> set[str]:
    raw = sqlite3.connect(path)
    try:
        return {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        raw.close()


# --- a kill right after a commit ------------------------------------------------------------

CHILD = """
import sys, time
from kiosk.sessions.store import SessionStore
store = SessionStore(sys.argv[1])
store.begin("killed", "k-01", "resident", None, "0.1.0", 100.0)
store.transition("killed", "queued", 101.0)
store.transition("killed", "connecting", 105.0, interpreter_id="int-1")
store.transition("killed", "connected", 106.0)
store.begin("ended", "k-01", "resident", None, "0.1.0", 90.0)
store.end("ended", "completed", 95.0, "kiosk")
print("committed", flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_record_survives_a_kill_right_after_a_commit(db):
    db.parent.mkdir(parents=True)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.strip() == "committed", child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()
    # the connection was never closed, so the commits are still in the write-ahead log
    assert Path(f"{db}-wal").exists() and Path(f"{db}-wal").stat().st_size > 0

    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        raw.close()
    with SessionStore(db) as s:
        assert s.integrity_ok()
        rec = s.get("killed")
        assert (rec.state, rec.answered_at, rec.connected_at, rec.interpreter_id) == (
            "connected", 105.0, 106.0, "int-1")
        assert [state for state, _ in s.events("killed")] == [
            "requesting", "queued", "connecting", "connected"]
        assert [r.session_id for r in s.pending_uploads()] == ["ended"]  # queued with its end
        (closed,) = s.close_interrupted(at=999.0)
        assert (closed.end_reason, closed.ended_at, closed.talk_s) == ("interrupted", 106.0, 0.0)
        assert [r.session_id for r in s.pending_uploads()] == ["ended", "killed"]
