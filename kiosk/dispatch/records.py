"""Dispatch's central session records: one row per session, from two sources.

- the kiosk's own record (``session_record``, every ``SessionRecord`` field), uploaded from
  the kiosk's outbox, perhaps long after the call and perhaps more than once;
- dispatch's routing facts for the same session (where the kiosk stands, how long the call
  queued, how often it rang and was declined, whom it was routed to, how it ended at dispatch).

Each writer sets only its own columns, so the two can arrive in either order and a repeated
upload leaves the row as it was. SQLite in WAL mode with ``synchronous=FULL``; the schema is
versioned with ``PRAGMA user_version`` and an older database is backed up before it is migrated,
as the kiosk's session log is. Used from dispatch's asyncio thread: every method is one short
transaction. No personal data: the kiosk record carries none, and neither do the routing facts.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Optional

from kiosk.protocol import SessionRecordUpload
from kiosk.sessions.sqlite import Transaction, migrate, open_database, schema_version

log = logging.getLogger("kiosk.dispatch.records")

# the kiosk's columns: exactly the fields of the uploaded record
KIOSK_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SessionRecordUpload))
# dispatch's own columns
ROUTING_FIELDS: tuple[str, ...] = (
    "location", "dispatch_requested_at", "queue_s", "rings", "declines", "missed_rings",
    "routed_interpreter_id", "dispatch_outcome",
)
HISTORY_FIELDS: tuple[str, ...] = (
    "session_id", "location", "kiosk_id", "requested_at", "answered_at", "ended_at", "talk_s",
    "end_reason", "dispatch_outcome",
)


class CentralStoreError(RuntimeError):
    pass


def _v1(db: sqlite3.Connection) -> None:
    db.execute("""
        CREATE TABLE sessions (
            session_id            TEXT PRIMARY KEY,
            kiosk_id              TEXT NOT NULL,
            -- the kiosk's record: NULL until its upload arrives
            started_by            TEXT,
            category              TEXT,
            state                 TEXT,
            requested_at          REAL,
            answered_at           REAL,
            connected_at          REAL,
            ended_at              REAL,
            wait_s                REAL,
            talk_s                REAL,
            end_reason            TEXT,
            ended_by              TEXT,
            interpreter_id        TEXT,
            rating                INTEGER,
            rated_at              REAL,
            app_version           TEXT,
            -- dispatch's routing facts: NULL until the call is over at dispatch
            location              TEXT,
            dispatch_requested_at REAL,
            queue_s               REAL,
            rings                 INTEGER,
            declines              INTEGER,
            missed_rings          INTEGER,
            routed_interpreter_id TEXT,
            dispatch_outcome      TEXT,
            -- dispatch's clock when the kiosk's record (this version of it) arrived
            uploaded_at           REAL
        )""")
    db.execute("CREATE INDEX sessions_routed ON sessions(routed_interpreter_id, dispatch_requested_at)")
    db.execute("CREATE INDEX sessions_interpreter ON sessions(interpreter_id, requested_at)")
    db.execute("CREATE INDEX sessions_kiosk ON sessions(kiosk_id, requested_at)")


# Each migration takes the schema from version i to i + 1, inside one transaction.
def _v2(db: sqlite3.Connection) -> None:
    """The kiosk's call quality summary (JSON)."""
    db.execute("ALTER TABLE sessions ADD COLUMN quality TEXT")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)


def _kiosk_upsert_sql() -> str:
    cols = ", ".join((*KIOSK_FIELDS, "uploaded_at"))
    marks = ", ".join("?" for _ in (*KIOSK_FIELDS, "uploaded_at"))
    changed = [c for c in KIOSK_FIELDS if c not in ("session_id", "kiosk_id")]
    sets = ", ".join(f"{c} = excluded.{c}" for c in changed)
    unchanged = " AND ".join(f"sessions.{c} IS excluded.{c}" for c in changed)
    # A repeat of the same record keeps the row as it is, upload time included. A record whose
    # kiosk_id is not the row's (a session id another kiosk owns) changes nothing.
    return (f"INSERT INTO sessions ({cols}) VALUES ({marks}) ON CONFLICT (session_id) DO UPDATE SET"
            f" {sets}, uploaded_at = CASE WHEN {unchanged} THEN sessions.uploaded_at"
            f" ELSE excluded.uploaded_at END"
            f" WHERE sessions.kiosk_id = excluded.kiosk_id")


def _routing_upsert_sql() -> str:
    cols = ("session_id", "kiosk_id", *ROUTING_FIELDS)
    sets = ", ".join(f"{c} = excluded.{c}" for c in ("kiosk_id", *ROUTING_FIELDS))
    return (f"INSERT INTO sessions ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
            f" ON CONFLICT (session_id) DO UPDATE SET {sets}")


_KIOSK_UPSERT = _kiosk_upsert_sql()
_ROUTING_UPSERT = _routing_upsert_sql()


class CentralStore:
    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time) -> None:
        self.path = path if path == ":memory:" else Path(path)
        self._clock = clock
        # dispatch may open the store on one thread and use it on its loop's thread; the lock
        # keeps any use from two threads at once safe all the same
        self._lock = threading.RLock()
        self._db = open_database(self.path, any_thread=True)
        try:
            migrate(self._db, self.path, MIGRATIONS, what=f"the central session records {self.path}",
                    lock=self._lock, too_new=lambda found, known: CentralStoreError(
                        f"the central session records {self.path} were written by a newer dispatch "
                        f"version (schema {found}, this version knows {known}); update dispatch"))
        except BaseException:
            self._db.close()
            raise

    # --- schema ---------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return schema_version(self._db)

    def _transaction(self) -> Transaction:
        return Transaction(self._db, self._lock)

    # --- writing --------------------------------------------------------------------------

    def put_kiosk_record(self, rec: SessionRecordUpload) -> None:
        """Store (or replace) the kiosk's own record of a session; writes only the kiosk's
        columns and ``uploaded_at``. The same record twice leaves one row, unchanged."""
        values = [getattr(rec, c) for c in KIOSK_FIELDS]
        with self._transaction():
            cur = self._db.execute(_KIOSK_UPSERT, (*values, self._clock()))
            if cur.rowcount == 0:
                owner = self._db.execute("SELECT kiosk_id FROM sessions WHERE session_id = ?",
                                         (rec.session_id,)).fetchone()
                log.warning("kiosk %s sent a record for session %s, which belongs to kiosk %s;"
                            " ignored", rec.kiosk_id, rec.session_id, owner and owner[0])

    def put_routing(self, session_id: str, kiosk_id: str, *, location: Optional[str],
                    requested_at: Optional[float], queue_s: Optional[float],
                    rings: Optional[int], declines: Optional[int], missed_rings: Optional[int],
                    interpreter_id: Optional[str], outcome: Optional[str]) -> None:
        """Store (or replace) dispatch's routing facts for a session; writes only those columns
        (and ``kiosk_id``, which dispatch knows first hand), before or after the kiosk's record."""
        with self._transaction():
            row = self._db.execute("SELECT kiosk_id FROM sessions WHERE session_id = ?",
                                   (session_id,)).fetchone()
            if row is not None and row[0] != kiosk_id:
                log.warning("session %s: routed for kiosk %s but its record came from kiosk %s",
                            session_id, kiosk_id, row[0])
            self._db.execute(_ROUTING_UPSERT, (
                session_id, kiosk_id, location, requested_at, queue_s, rings, declines,
                missed_rings, interpreter_id, outcome))

    # --- reading --------------------------------------------------------------------------

    def get(self, session_id: str) -> Optional[dict]:
        with self._lock:
            row = self._db.execute("SELECT * FROM sessions WHERE session_id = ?",
                                   (session_id,)).fetchone()
        return dict(row) if row else None

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]

    def interpreter_history(self, interpreter_id: str, since: float) -> list[dict]:
        """The sessions routed to (or, by the kiosk's record, taken by) ``interpreter_id`` that
        were requested at or after ``since``, newest first. ``requested_at`` is dispatch's time
        of the request where it has one, else the kiosk's."""
        with self._lock:
            rows = self._db.execute(
                "SELECT session_id, location, kiosk_id,"
                " COALESCE(dispatch_requested_at, requested_at) AS requested_at,"
                " answered_at, ended_at, talk_s, end_reason, dispatch_outcome"
                " FROM sessions"
                " WHERE (routed_interpreter_id = ? OR interpreter_id = ?)"
                " AND COALESCE(dispatch_requested_at, requested_at) >= ?"
                " ORDER BY COALESCE(dispatch_requested_at, requested_at) DESC, session_id",
                (interpreter_id, interpreter_id, since)).fetchall()
        return [dict(r) for r in rows]

    def integrity_ok(self) -> bool:
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def pragma(self, name: str):
        with self._lock:
            return self._db.execute(f"PRAGMA {name}").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "CentralStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
