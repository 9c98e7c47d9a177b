"""The kiosk's session log: SQLite in WAL mode with ``synchronous=FULL``.

A record is created at the tap and changed in its own transaction at every state change, with
one row in ``session_events`` per change, so a crash or power cut at any moment leaves a record
that says how far the call got. ``close_interrupted`` ends such records at the next start.
Every finished record is put in the ``outbox`` (for dispatch's central records) in the same
transaction that finishes it, so a crash cannot lose an upload; ``mark_uploaded`` takes it out
once dispatch has acknowledged it.
The schema is versioned with ``PRAGMA user_version``; an older database is backed up before it
is migrated. No personal data is kept: no names, addresses, media or text.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Callable, Optional

from kiosk.sessions import summaries
from kiosk.sessions.sqlite import Transaction, migrate, open_database, schema_version
from kiosk.sessions.model import CALL_FACTS, END_REASONS, ENDED_BY, STARTED_BY, STATES, SessionRecord

log = logging.getLogger("kiosk.sessions")


class StoreError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; a person should not see that
        return str(self.args[0]) if self.args else "session store error"


def _v1(db: sqlite3.Connection) -> None:
    db.execute("""
        CREATE TABLE sessions (
            session_id     TEXT PRIMARY KEY,
            kiosk_id       TEXT NOT NULL,
            started_by     TEXT NOT NULL,
            category       TEXT,
            state          TEXT NOT NULL,
            requested_at   REAL NOT NULL,
            answered_at    REAL,
            connected_at   REAL,
            ended_at       REAL,
            wait_s         REAL,
            talk_s         REAL,
            end_reason     TEXT,
            ended_by       TEXT,
            interpreter_id TEXT,
            rating         INTEGER CHECK (rating BETWEEN 1 AND 5),
            rated_at       REAL,
            app_version    TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX sessions_requested ON sessions(requested_at)")
    db.execute("CREATE INDEX sessions_open ON sessions(end_reason) WHERE end_reason IS NULL")
    db.execute("""
        CREATE TABLE session_events (
            session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
            seq        INTEGER NOT NULL,
            state      TEXT NOT NULL,
            at         REAL NOT NULL,
            PRIMARY KEY (session_id, seq)
        )""")


def _v2(db: sqlite3.Connection) -> None:
    """The outbox: finished records waiting for dispatch's ``record_ack``."""
    db.execute("""
        CREATE TABLE outbox (
            session_id TEXT PRIMARY KEY REFERENCES sessions(session_id) ON DELETE CASCADE,
            queued_at  REAL NOT NULL,
            attempts   INTEGER NOT NULL DEFAULT 0
        )""")
    db.execute("CREATE INDEX outbox_queued ON outbox(queued_at)")
    # Nothing was ever uploaded before this version: every finished record goes out, oldest first.
    db.execute("""
        INSERT INTO outbox (session_id, queued_at)
        SELECT session_id, COALESCE(rated_at, ended_at, requested_at) FROM sessions
        WHERE end_reason IS NOT NULL ORDER BY requested_at""")


# Each migration takes the schema from version i to i + 1, inside one transaction.
def _v3(db: sqlite3.Connection) -> None:
    """The call's quality summary (JSON), written with its end."""
    db.execute("ALTER TABLE sessions ADD COLUMN quality TEXT")


def _v4(db: sqlite3.Connection) -> None:
    """Counts about the call: real-time text characters each way (never the text) and media
    gaps (how many, how long)."""
    for column, kind in (("text_chars_sent", "INTEGER NOT NULL DEFAULT 0"),
                         ("text_chars_received", "INTEGER NOT NULL DEFAULT 0"),
                         ("media_gaps", "INTEGER NOT NULL DEFAULT 0"),
                         ("media_gap_s", "REAL NOT NULL DEFAULT 0")):
        db.execute(f"ALTER TABLE sessions ADD COLUMN {column} {kind}")


def _v5(db: sqlite3.Connection) -> None:
    """Report summaries per local day, category and kiosk, and the waits indexed, kept by
    triggers in the transaction of every change (``kiosk.sessions.summaries``); filled from the
    records already there."""
    summaries.install(db, "sqlite", summaries.DEFAULT_ZONE)


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2, _v3, _v4, _v5]
SCHEMA_VERSION = len(MIGRATIONS)

_COLUMNS = [f for f in SessionRecord.__dataclass_fields__]


class SessionStore:
    def __init__(self, path: Path | str) -> None:
        self.path = path if path == ":memory:" else Path(path)
        self._db = open_database(self.path, foreign_keys=True)
        try:
            migrate(self._db, self.path, MIGRATIONS, what=f"the session log {self.path}",
                    too_new=lambda found, known: StoreError(
                        f"the session log {self.path} was written by a newer kiosk version "
                        f"(schema {found}, this version knows {known}); update the kiosk"))
        except BaseException:
            self._db.close()
            raise

    # --- schema ---------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return schema_version(self._db)

    @property
    def connection(self) -> sqlite3.Connection:
        """The log's connection, for readers such as ``kiosk.sessions.reports`` and
        ``kiosk.sessions.retention``; the store's own methods are the way to change a record."""
        return self._db

    def _transaction(self) -> Transaction:
        return Transaction(self._db)

    def set_report_zone(self, tz: str) -> bool:
        """Keep the report summaries in local days of ``tz`` (the zone the kiosk's reports are
        made in); rebuilt from the records if they were kept in another. True if rebuilt."""
        with self._transaction():
            return summaries.set_zone(self._db, tz)

    # --- writing --------------------------------------------------------------------------

    def begin(self, session_id: str, kiosk_id: str, started_by: str, category: Optional[str],
              app_version: str, at: float) -> SessionRecord:
        if started_by not in STARTED_BY:
            raise ValueError(f"started_by must be one of {STARTED_BY}, not {started_by!r}")
        with self._transaction():
            self._db.execute(
                "INSERT INTO sessions (session_id, kiosk_id, started_by, category, state,"
                " requested_at, app_version) VALUES (?, ?, ?, ?, 'requesting', ?, ?)",
                (session_id, kiosk_id, started_by, category, at, app_version))
            self._event(session_id, "requesting", at)
        return self.get(session_id)

    def transition(self, session_id: str, state: str, at: float, *,
                   interpreter_id: Optional[str] = None) -> SessionRecord:
        if state not in STATES or state in ("idle", "ended"):
            raise ValueError(f"not a state a running call can move to: {state!r}")
        with self._transaction():
            rec = self._open_record(session_id)
            changes = {"state": state}
            if state == "connecting" and rec.answered_at is None:
                changes["answered_at"] = at
            if state == "connected" and rec.connected_at is None:
                changes["connected_at"] = at
            if interpreter_id is not None:
                changes["interpreter_id"] = interpreter_id
            self._update(session_id, changes)
            self._event(session_id, state, at)
        return self.get(session_id)

    def end(self, session_id: str, reason: str, at: float, ended_by: str,
            quality: Optional[str] = None) -> SessionRecord:
        if reason not in END_REASONS:
            raise ValueError(f"unknown end reason {reason!r}")
        if ended_by not in ENDED_BY:
            raise ValueError(f"ended_by must be one of {ENDED_BY}, not {ended_by!r}")
        with self._transaction():
            self._close(self._open_record(session_id), reason, at, ended_by)
            if quality is not None:
                self._update(session_id, {"quality": quality})
            self._enqueue(session_id, at)
        return self.get(session_id)

    def set_call_facts(self, session_id: str, **facts) -> SessionRecord:
        """Set counts about a call (``CALL_FACTS``: text characters each way, media gaps and
        their seconds), during the call or with its end. A finished record goes out again."""
        unknown = set(facts) - set(CALL_FACTS)
        if unknown:
            raise ValueError(f"not a call fact: {', '.join(sorted(unknown))}")
        for name, value in facts.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a count of zero or more, not {value!r}")
        if not facts:
            return self._record(session_id)
        with self._transaction():
            rec = self._record(session_id)
            self._update(session_id, facts)
            if not rec.is_open:
                self._enqueue(session_id, rec.rated_at or rec.ended_at or rec.requested_at)
        return self.get(session_id)

    def rate(self, session_id: str, rating: Optional[int], at: float) -> SessionRecord:
        """The resident's rating, 5 (非常满意) … 1 (非常不满意); None = skipped."""
        if rating is not None and (not isinstance(rating, int) or isinstance(rating, bool)
                                   or not 1 <= rating <= 5):
            raise ValueError(f"a rating is 1 to 5 or None, not {rating!r}")
        with self._transaction():
            rec = self._record(session_id)
            if rec.is_open:
                raise StoreError(f"session {session_id} has not ended; it cannot be rated yet")
            if rec.rated_at is not None:
                raise StoreError(f"session {session_id} was already rated")
            self._update(session_id, {"rating": rating, "rated_at": at})
            self._enqueue(session_id, at)  # the rated record replaces the one queued at the end
        return self.get(session_id)

    def close_interrupted(self, at: float) -> list[SessionRecord]:
        """End every record left open (the app stopped mid-call) as ``interrupted``."""
        closed = []
        with self._transaction():
            rows = self._db.execute("SELECT * FROM sessions WHERE end_reason IS NULL").fetchall()
            for row in rows:
                rec = _record(row)
                # the call cannot have lasted past the last thing we know of it
                last = self._db.execute("SELECT MAX(at) FROM session_events WHERE session_id = ?",
                                        (rec.session_id,)).fetchone()[0]
                self._close(rec, "interrupted", max(last or rec.requested_at, rec.requested_at), "system")
                self._enqueue(rec.session_id, at)
                closed.append(rec.session_id)
        return [self.get(sid) for sid in closed]

    def _close(self, rec: SessionRecord, reason: str, at: float, ended_by: str) -> None:
        if rec.answered_at is not None:
            wait = rec.answered_at - rec.requested_at
        else:
            wait = at - rec.requested_at
        talk = at - rec.connected_at if rec.connected_at is not None else 0.0
        self._update(rec.session_id, {"state": "ended", "ended_at": at, "end_reason": reason,
                                      "ended_by": ended_by, "wait_s": max(0.0, wait),
                                      "talk_s": max(0.0, talk)})
        self._event(rec.session_id, "ended", at)

    def _enqueue(self, session_id: str, at: float) -> None:
        """Queue the record for upload (again): called inside the transaction that changed it."""
        self._db.execute("INSERT OR REPLACE INTO outbox (session_id, queued_at, attempts)"
                         " VALUES (?, ?, 0)", (session_id, at))

    def _update(self, session_id: str, changes: dict) -> None:
        cols = ", ".join(f"{c} = ?" for c in changes)
        self._db.execute(f"UPDATE sessions SET {cols} WHERE session_id = ?",
                         (*changes.values(), session_id))

    def _event(self, session_id: str, state: str, at: float) -> None:
        self._db.execute(
            "INSERT INTO session_events (session_id, seq, state, at) VALUES (?,"
            " (SELECT COALESCE(MAX(seq), 0) + 1 FROM session_events WHERE session_id = ?), ?, ?)",
            (session_id, session_id, state, at))

    # --- the outbox -----------------------------------------------------------------------

    def pending_uploads(self, limit: int = 50) -> list[SessionRecord]:
        """Records waiting for dispatch's acknowledgement, oldest first."""
        rows = self._db.execute(
            "SELECT s.* FROM outbox o JOIN sessions s ON s.session_id = o.session_id"
            " ORDER BY o.queued_at, o.rowid LIMIT ?", (limit,))
        return [_record(r) for r in rows.fetchall()]

    def mark_uploaded(self, session_id: str, sent: Optional[SessionRecord] = None) -> bool:
        """Dispatch has stored the record: take it out of the outbox. With ``sent`` (the record
        as it was uploaded), only if the record has not changed since; a newer version (rated
        meanwhile) stays queued. True if it was taken out."""
        with self._transaction():
            if sent is not None and self.get(session_id) != sent:
                return False
            return self._db.execute("DELETE FROM outbox WHERE session_id = ?",
                                    (session_id,)).rowcount > 0

    def note_upload_attempt(self, session_id: str) -> None:
        with self._transaction():
            self._db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE session_id = ?",
                             (session_id,))

    def outbox_size(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def upload_attempts(self, session_id: str) -> Optional[int]:
        """How often the queued record was sent; None if it is not queued."""
        row = self._db.execute("SELECT attempts FROM outbox WHERE session_id = ?",
                               (session_id,)).fetchone()
        return row[0] if row else None

    # --- reading --------------------------------------------------------------------------

    def _record(self, session_id: str) -> SessionRecord:
        rec = self.get(session_id)
        if rec is None:
            raise StoreError(f"no session {session_id}")
        return rec

    def _open_record(self, session_id: str) -> SessionRecord:
        rec = self._record(session_id)
        if not rec.is_open:
            raise StoreError(f"session {session_id} has already ended ({rec.end_reason})")
        return rec

    def get(self, session_id: str) -> Optional[SessionRecord]:
        row = self._db.execute("SELECT * FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
        return _record(row) if row else None

    def list_sessions(self, limit: int = 100, since: Optional[float] = None) -> list[SessionRecord]:
        if since is None:
            rows = self._db.execute(
                "SELECT * FROM sessions ORDER BY requested_at DESC LIMIT ?", (limit,))
        else:
            rows = self._db.execute(
                "SELECT * FROM sessions WHERE requested_at >= ? ORDER BY requested_at DESC LIMIT ?",
                (since, limit))
        return [_record(r) for r in rows.fetchall()]

    def events(self, session_id: str) -> list[tuple[str, float]]:
        rows = self._db.execute(
            "SELECT state, at FROM session_events WHERE session_id = ? ORDER BY seq", (session_id,))
        return [(r["state"], r["at"]) for r in rows.fetchall()]

    def integrity_ok(self) -> bool:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def pragma(self, name: str):
        return self._db.execute(f"PRAGMA {name}").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "SessionStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _record(row: sqlite3.Row) -> SessionRecord:
    present = row.keys()
    return SessionRecord(**{c: row[c] for c in _COLUMNS if c in present})
