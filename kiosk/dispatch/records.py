"""Dispatch's central session records: one row per session, from two sources.

- the kiosk's own record (``session_record``, every ``SessionRecord`` field), uploaded from
  the kiosk's outbox, perhaps long after the call and perhaps more than once;
- dispatch's routing facts for the same session (where the kiosk stands, how long the call
  queued, how often it rang and was declined, whom it was routed to, how it ended at dispatch).

Each writer sets only its own columns, so the two can arrive in either order and a repeated
upload leaves the row as it was. No personal data: the kiosk record carries none, and neither do
the routing facts. Used from dispatch's asyncio thread: every method is one short transaction.

Two backends, one schema and one interface (``CentralRecords``):

- ``CentralStore``: SQLite in WAL mode with ``synchronous=FULL``; the schema is versioned with
  ``PRAGMA user_version`` and an older database is backed up before it is migrated, as the
  kiosk's session log is. One dispatch process.
- ``PgCentralStore``: PostgreSQL (``server.database_url``), for a city with many kiosks and
  several dispatch processes writing the same table. The same columns (REAL → double
  precision, TEXT → text in the "C" collation, so text sorts and groups byte-wise as in SQLite,
  INTEGER → integer), the same indexes, the same upserts. The schema is versioned in a table
  ``schema_version``; each migration is one transaction (PostgreSQL's DDL is transactional, so a
  failed one leaves the database as it was) under an advisory lock, so dispatch processes that
  start together migrate once. Backing the database up is the database's administrator's
  business (``pg_dump``), not dispatch's.

Both give a report module the connection (``connection()``) and its SQL ``dialect``. From
schema v4 both keep the report summaries (``kiosk.sessions.summaries``: tables and triggers,
so every upsert and delete updates them in its own transaction). ``remove_older_than`` is the
write path for retention (dispatch runs it at start-up and daily, ``server.retention_years``),
in short batches.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

from kiosk.protocol import SessionRecordUpload
from kiosk.sessions import retention, summaries
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


# --- the schema: written once, in SQLite's words; PostgreSQL's is derived from it -------------

_V1: tuple[str, ...] = (
    """CREATE TABLE sessions (
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
        )""",
    "CREATE INDEX sessions_routed ON sessions(routed_interpreter_id, dispatch_requested_at)",
    "CREATE INDEX sessions_interpreter ON sessions(interpreter_id, requested_at)",
    "CREATE INDEX sessions_kiosk ON sessions(kiosk_id, requested_at)",
)
# The kiosk's call quality summary (JSON).
_V2: tuple[str, ...] = ("ALTER TABLE sessions ADD COLUMN quality TEXT",)

# Counts about the call from the kiosk: real-time text characters each way, media gaps.
_V3: tuple[str, ...] = (
    "ALTER TABLE sessions ADD COLUMN text_chars_sent INTEGER",
    "ALTER TABLE sessions ADD COLUMN text_chars_received INTEGER",
    "ALTER TABLE sessions ADD COLUMN media_gaps INTEGER",
    "ALTER TABLE sessions ADD COLUMN media_gap_s REAL",
)

# SQLite's type names → PostgreSQL's (the "C" collation compares text as SQLite's BINARY does)
PG_TYPES = {"REAL": "DOUBLE PRECISION", "TEXT": 'TEXT COLLATE "C"', "INTEGER": "INTEGER"}


def _v1(db: sqlite3.Connection) -> None:
    for statement in _V1:
        db.execute(statement)


# Each migration takes the schema from version i to i + 1, inside one transaction.
def _v2(db: sqlite3.Connection) -> None:
    """The kiosk's call quality summary (JSON)."""
    for statement in _V2:
        db.execute(statement)


def _v3(db: sqlite3.Connection) -> None:
    """Counts about the call from the kiosk: real-time text characters, media gaps."""
    for statement in _V3:
        db.execute(statement)


def _v4(db: sqlite3.Connection) -> None:
    """Report summaries per local day, category and kiosk, and the waits indexed, kept by
    triggers in the transaction of every change (``kiosk.sessions.summaries``), filled from the
    records already there."""
    summaries.install(db, "sqlite", summaries.DEFAULT_ZONE)


def _pg_v4(db) -> None:
    summaries.install(db, "postgresql", summaries.DEFAULT_ZONE)


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2, _v3, _v4]
SCHEMA_VERSION = len(MIGRATIONS)


def pg_statement(statement: str) -> str:
    """One of the statements above in PostgreSQL's words: comments dropped, types mapped."""
    statement = re.sub(r"--[^\n]*", "", statement)
    return re.sub(r"\b(REAL|TEXT|INTEGER)\b", lambda m: PG_TYPES[m.group(1)], statement)


def _pg_step(statements: Sequence[str]) -> Callable[[Any], None]:
    def step(db) -> None:
        for statement in statements:
            db.execute(pg_statement(statement))
    return step


# PostgreSQL's migrations: the same steps, so version n means the same schema in either backend
PG_MIGRATIONS: list[Callable[[Any], None]] = [_pg_step(_V1), _pg_step(_V2), _pg_step(_V3), _pg_v4]
assert len(PG_MIGRATIONS) == len(MIGRATIONS)
# pg_advisory_xact_lock key serialising migrations between dispatch processes ("kiosk" in ASCII)
PG_MIGRATION_LOCK = 0x6B696F736B
# after the n-th failed attempt to connect again, wait this long before the next
RECONNECT_BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)


# --- the statements, in either dialect ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Sql:
    kiosk_upsert: str
    routing_upsert: str
    owner: str
    get: str
    count: str
    history: str


def _statements(dialect: str) -> _Sql:
    mark = "?" if dialect == "sqlite" else "%s"
    # NULL-safe equality: SQLite's IS; PostgreSQL's IS NOT DISTINCT FROM
    same = "IS" if dialect == "sqlite" else "IS NOT DISTINCT FROM"

    kiosk_cols = (*KIOSK_FIELDS, "uploaded_at")
    changed = [c for c in KIOSK_FIELDS if c not in ("session_id", "kiosk_id")]
    sets = ", ".join(f"{c} = excluded.{c}" for c in changed)
    unchanged = " AND ".join(f"sessions.{c} {same} excluded.{c}" for c in changed)
    # A repeat of the same record keeps the row as it is, upload time included. A record whose
    # kiosk_id is not the row's (a session id another kiosk owns) changes nothing.
    kiosk_upsert = (
        f"INSERT INTO sessions ({', '.join(kiosk_cols)}) VALUES ({', '.join(mark for _ in kiosk_cols)})"
        f" ON CONFLICT (session_id) DO UPDATE SET"
        f" {sets}, uploaded_at = CASE WHEN {unchanged} THEN sessions.uploaded_at"
        f" ELSE excluded.uploaded_at END"
        f" WHERE sessions.kiosk_id = excluded.kiosk_id")

    routing_cols = ("session_id", "kiosk_id", *ROUTING_FIELDS)
    routing_sets = ", ".join(f"{c} = excluded.{c}" for c in ("kiosk_id", *ROUTING_FIELDS))
    routing_upsert = (
        f"INSERT INTO sessions ({', '.join(routing_cols)})"
        f" VALUES ({', '.join(mark for _ in routing_cols)})"
        f" ON CONFLICT (session_id) DO UPDATE SET {routing_sets}")

    history = (
        "SELECT session_id, location, kiosk_id,"
        " COALESCE(dispatch_requested_at, requested_at) AS requested_at,"
        " answered_at, ended_at, talk_s, end_reason, dispatch_outcome"
        " FROM sessions"
        f" WHERE (routed_interpreter_id = {mark} OR interpreter_id = {mark})"
        f" AND COALESCE(dispatch_requested_at, requested_at) >= {mark}"
        " ORDER BY COALESCE(dispatch_requested_at, requested_at) DESC, session_id")
    return _Sql(
        kiosk_upsert=kiosk_upsert, routing_upsert=routing_upsert,
        owner=f"SELECT kiosk_id FROM sessions WHERE session_id = {mark}",
        get=f"SELECT * FROM sessions WHERE session_id = {mark}",
        count="SELECT COUNT(*) FROM sessions", history=history)


SQLITE_SQL = _statements("sqlite")
PG_SQL = _statements("postgresql")


# --- what both backends do -------------------------------------------------------------------


class CentralRecords:
    """The central records' interface, whatever the database. Subclasses give ``_write`` (one
    transaction), ``_read`` (under the lock), ``_sql`` and the schema/health/connection parts."""

    dialect: str = ""
    _sql: _Sql

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        # dispatch may open the store on one thread and use it on its loop's thread; the lock
        # keeps any use from two threads at once safe all the same
        self._lock = threading.RLock()

    def _write(self, work: Callable[[Any], Any]) -> Any:
        raise NotImplementedError

    def _read(self, work: Callable[[Any], Any]) -> Any:
        raise NotImplementedError

    # --- writing --------------------------------------------------------------------------

    def put_kiosk_record(self, rec: SessionRecordUpload) -> None:
        """Store (or replace) the kiosk's own record of a session; writes only the kiosk's
        columns and ``uploaded_at``. The same record twice leaves one row, unchanged."""
        values = [getattr(rec, c) for c in KIOSK_FIELDS]

        def work(db) -> None:
            cur = db.execute(self._sql.kiosk_upsert, (*values, self._clock()))
            if cur.rowcount == 0:
                owner = db.execute(self._sql.owner, (rec.session_id,)).fetchone()
                log.warning("kiosk %s sent a record for session %s, which belongs to kiosk %s;"
                            " ignored", rec.kiosk_id, rec.session_id, owner and owner[0])

        self._write(work)

    def put_routing(self, session_id: str, kiosk_id: str, *, location: Optional[str],
                    requested_at: Optional[float], queue_s: Optional[float],
                    rings: Optional[int], declines: Optional[int], missed_rings: Optional[int],
                    interpreter_id: Optional[str], outcome: Optional[str]) -> None:
        """Store (or replace) dispatch's routing facts for a session; writes only those columns
        (and ``kiosk_id``, which dispatch knows first hand), before or after the kiosk's record."""

        def work(db) -> None:
            row = db.execute(self._sql.owner, (session_id,)).fetchone()
            if row is not None and row[0] != kiosk_id:
                log.warning("session %s: routed for kiosk %s but its record came from kiosk %s",
                            session_id, kiosk_id, row[0])
            db.execute(self._sql.routing_upsert, (
                session_id, kiosk_id, location, requested_at, queue_s, rings, declines,
                missed_rings, interpreter_id, outcome))

        self._write(work)

    def _maintain(self, work: Callable[[Any], Any]) -> Any:
        """One transaction of upkeep (retention, summaries), without the statement timeout
        of the short writes where the backend has one."""
        return self._write(work)

    def remove_older_than(self, cutoff: float, *, batch: int = 1000,
                          stop: Optional[Callable[[], bool]] = None) -> int:
        """Remove the sessions tapped before ``cutoff`` (epoch seconds; a session known only
        from dispatch's routing, by dispatch's time of the request), ``batch`` at a time, each
        batch its own short transaction (the report summaries follow in it), so that the
        store's other users wait for one batch at most. ``stop()`` true ends it between
        batches. Returns how many were removed."""
        removed = 0
        while stop is None or not stop():
            count = self._maintain(lambda db: retention.remove_older_than(
                db, cutoff, dialect=self.dialect, limit=batch))
            removed += count
            if count < batch:
                break
        return removed

    def set_report_zone(self, tz: str) -> bool:
        """Keep the report summaries in local days of ``tz``; rebuilt from the records if they
        were kept in another zone. True if rebuilt."""
        return bool(self._maintain(lambda db: summaries.set_zone(db, tz, self.dialect)))

    # --- reading --------------------------------------------------------------------------

    def get(self, session_id: str) -> Optional[dict]:
        row = self._read(lambda db: db.execute(self._sql.get, (session_id,)).fetchone())
        return dict(row) if row else None

    def count(self) -> int:
        return self._read(lambda db: db.execute(self._sql.count).fetchone()[0])

    def interpreter_history(self, interpreter_id: str, since: float) -> list[dict]:
        """The sessions routed to (or, by the kiosk's record, taken by) ``interpreter_id`` that
        were requested at or after ``since``, newest first. ``requested_at`` is dispatch's time
        of the request where it has one, else the kiosk's."""
        rows = self._read(lambda db: db.execute(
            self._sql.history, (interpreter_id, interpreter_id, since)).fetchall())
        return [dict(r) for r in rows]

    # --- schema, health, reports (per backend) --------------------------------------------

    @property
    def schema_version(self) -> int:
        raise NotImplementedError

    def integrity_ok(self) -> bool:
        raise NotImplementedError

    def connection(self):
        """``with store.connection() as db:`` a DB-API connection to the ``sessions`` table
        for reading (reports), in ``self.dialect``, held for the block (the store's own methods
        wait). Rows are read by index or by column name; ``db.execute(sql, params)`` works on
        both. Do not close it.

        What differs between the dialects, for a report that runs on both: parameters are
        ``?`` in SQLite and ``%s`` in PostgreSQL; NULL sorts first in SQLite and last in
        PostgreSQL (say ``NULLS FIRST``/``NULLS LAST``, both understand it); date and time
        functions differ (``datetime(x, 'unixepoch')`` against ``to_timestamp(x)``; the
        PostgreSQL session's time zone is UTC). Numeric results (``AVG`` of integers) come back
        as float in both; text compares byte-wise in both."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- SQLite ----------------------------------------------------------------------------------


class CentralStore(CentralRecords):
    """The central records in one SQLite file (or ``":memory:"``)."""

    dialect = "sqlite"
    _sql = SQLITE_SQL

    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self.path = path if path == ":memory:" else Path(path)
        self._db = open_database(self.path, any_thread=True)
        try:
            migrate(self._db, self.path, MIGRATIONS, what=f"the central session records {self.path}",
                    lock=self._lock, too_new=lambda found, known: CentralStoreError(
                        f"the central session records {self.path} were written by a newer dispatch "
                        f"version (schema {found}, this version knows {known}); update dispatch"))
        except BaseException:
            self._db.close()
            raise

    @property
    def schema_version(self) -> int:
        with self._lock:
            return schema_version(self._db)

    def _transaction(self) -> Transaction:
        return Transaction(self._db, self._lock)

    def _write(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._transaction():
            return work(self._db)

    def _read(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._lock:
            return work(self._db)

    def integrity_ok(self) -> bool:
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def pragma(self, name: str):
        with self._lock:
            return self._db.execute(f"PRAGMA {name}").fetchone()[0]

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            row_factory = self._db.row_factory
            try:
                yield self._db
            finally:
                self._db.row_factory = row_factory
                if self._db.in_transaction:  # a reader's own BEGIN left open
                    self._db.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._db.close()


# --- PostgreSQL ------------------------------------------------------------------------------


class Row(tuple):
    """A row read by index (``row[0]``) or by column name (``row["kiosk_id"]``), and turned
    into a dict by ``dict(row)``: what ``sqlite3.Row`` gives the SQLite store's readers."""

    _index: dict[str, int]

    def __new__(cls, values, index: dict[str, int]) -> "Row":
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                key = self._index[key]
            except KeyError:
                key = self._index[key.lower()]
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def row_factory(cursor):
    """psycopg's row factory for ``Row``."""
    description = cursor.description
    if description is None:
        return tuple
    index = {}
    for i, column in enumerate(description):
        index.setdefault(column.name, i)
    return lambda values: Row(values, index)


def describe_url(url: str) -> str:
    """A database URL for the log: host, port and database, never the password."""
    try:
        from psycopg.conninfo import conninfo_to_dict
        params = conninfo_to_dict(url)
    except Exception:
        return "postgresql://…"
    user = f"{params['user']}@" if params.get("user") else ""
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgresql://{user}{params.get('host', '')}{port}/{params.get('dbname', '')}"


class PgCentralStore(CentralRecords):
    """The central records in a PostgreSQL database that several dispatch processes share.

    One connection per store (autocommit; every write an explicit transaction), used under the
    store's lock. A connection the server dropped is opened again and the statement tried once
    more: both writes are idempotent upserts, so a write whose commit was lost with the
    connection comes out the same. Statements that take longer than ``statement_timeout_s``
    (a stuck lock, an overloaded server) fail rather than stall dispatch's event loop; the
    kiosk's record is then not acknowledged and the kiosk sends it again later. A dead network
    is noticed by TCP keepalives and ``tcp_user_timeout`` (about 10 s; the URL may set its
    own), and while the server cannot be reached, connecting again is tried at growing
    intervals (``RECONNECT_BACKOFF_S``), the calls in between failing at once.
    """

    dialect = "postgresql"
    _sql = PG_SQL

    def __init__(self, database_url: str, clock: Callable[[], float] = time.time, *,
                 statement_timeout_s: float = 5.0, connect_timeout_s: int = 10) -> None:
        try:
            import psycopg  # noqa: F401  (libpq is needed only here)
        except ImportError as exc:
            raise CentralStoreError(f"central records in PostgreSQL need psycopg and libpq: {exc}") from exc
        super().__init__(clock)
        self.url = database_url
        self.where = describe_url(database_url)
        self._statement_timeout_ms = max(0, round(statement_timeout_s * 1000))
        self._connect_timeout_s = connect_timeout_s
        self._expected_version = 0
        self._closed = False
        self._monotonic = time.monotonic
        self._failed_connects = 0
        self._next_connect_at = 0.0
        self._db = self._connect()
        try:
            self._migrate()
            self._session_settings(self._db)
        except BaseException:
            self._db.close()
            raise

    # --- the connection -------------------------------------------------------------------

    def _connect(self):
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo
        from psycopg.types.numeric import FloatLoader

        try:
            given = conninfo_to_dict(self.url)
        except psycopg.ProgrammingError as exc:
            raise CentralStoreError(f"server.database_url is not a valid PostgreSQL URL: {exc}") from None
        defaults = {"connect_timeout": self._connect_timeout_s, "application_name": "kiosk-dispatch",
                    "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
                    "keepalives_count": 3, "tcp_user_timeout": 10_000}
        conninfo = make_conninfo(self.url, **{k: v for k, v in defaults.items() if k not in given})
        try:
            db = psycopg.connect(conninfo, autocommit=True, row_factory=row_factory)
        except psycopg.OperationalError as exc:
            raise CentralStoreError(f"cannot connect to the central records at {self.where}: "
                                    f"{str(exc).strip()}") from exc
        # numeric (AVG of integers, SUM of bigints) as float, as SQLite gives it: the same
        # reports from either backend
        db.adapters.register_loader("numeric", FloatLoader)
        try:
            db.execute("SET TIME ZONE 'UTC'")
        except BaseException:
            db.close()
            raise
        return db

    def _session_settings(self, db) -> None:
        db.execute("SELECT set_config('statement_timeout', %s, false)",
                   (f"{self._statement_timeout_ms}ms",))

    def _reconnect(self) -> None:
        import psycopg

        now = self._monotonic()
        if now < self._next_connect_at:
            raise CentralStoreError(f"the central records at {self.where} cannot be reached; trying "
                                    f"again in {self._next_connect_at - now:.0f} s")
        self._db.close()
        try:
            db = self._connect()
            try:
                self._session_settings(db)
            except BaseException:
                db.close()
                raise
        except (CentralStoreError, psycopg.Error):
            delay = RECONNECT_BACKOFF_S[min(self._failed_connects, len(RECONNECT_BACKOFF_S) - 1)]
            self._failed_connects += 1
            self._next_connect_at = now + delay
            raise
        self._db = db
        if self._failed_connects:
            log.info("connected to the central records at %s again", self.where)
        self._failed_connects = 0

    def _use(self, work: Callable[[Any], Any], transaction: bool) -> Any:
        import psycopg

        with self._lock:
            self._check_open()
            for attempt in (1, 2):
                if self._db.closed:
                    self._reconnect()
                try:
                    if transaction:
                        with self._db.transaction():
                            return work(self._db)
                    return work(self._db)
                except psycopg.OperationalError:
                    if attempt == 2 or not self._db.closed:
                        raise  # the statement failed, not the connection
                    log.warning("the connection to the central records at %s was lost; "
                                "connecting again", self.where)

    def _check_open(self) -> None:
        if self._closed:
            raise CentralStoreError(f"the central records at {self.where} are closed")

    def _write(self, work: Callable[[Any], Any]) -> Any:
        return self._use(work, transaction=True)

    def _read(self, work: Callable[[Any], Any]) -> Any:
        return self._use(work, transaction=False)

    def _maintain(self, work: Callable[[Any], Any]) -> Any:
        def unlimited(db) -> Any:
            db.execute("SET LOCAL statement_timeout = 0")
            return work(db)
        return self._use(unlimited, transaction=True)

    # --- schema ---------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Bring the database to ``len(PG_MIGRATIONS)``, one transaction per step, each under
        an advisory lock (dispatch processes starting together take turns; the later ones find
        the work done)."""
        db, migrations = self._db, PG_MIGRATIONS
        latest = len(migrations)
        what = f"the central session records {self.where}"
        while True:
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (PG_MIGRATION_LOCK,))
                db.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                           " one boolean PRIMARY KEY DEFAULT true CHECK (one),"
                           " version integer NOT NULL)")
                row = db.execute("SELECT version FROM schema_version").fetchone()
                if row is None:
                    db.execute("INSERT INTO schema_version (version) VALUES (0)")
                version = row[0] if row else 0
                if version > latest:
                    raise CentralStoreError(
                        f"{what} were written by a newer dispatch version (schema {version}, this "
                        f"version knows {latest}); update dispatch")
                if version == latest:
                    self._expected_version = latest
                    return
                migrations[version](db)
                db.execute("UPDATE schema_version SET version = %s", (version + 1,))
            log.info("%s: schema now at version %d", what, version + 1)

    @property
    def schema_version(self) -> int:
        return self._read(lambda db: db.execute("SELECT version FROM schema_version").fetchone()[0])

    def integrity_ok(self) -> bool:
        """The server answers, and the tables are there, at the schema this store opened."""
        import psycopg

        def check(db) -> bool:
            if db.execute("SELECT 1").fetchone()[0] != 1:
                return False
            tables = db.execute("SELECT to_regclass('sessions') IS NOT NULL,"
                                " to_regclass('schema_version') IS NOT NULL").fetchone()
            if not all(tables):
                return False
            version = db.execute("SELECT version FROM schema_version").fetchone()[0]
            return version == self._expected_version

        try:
            return bool(self._read(check))
        except (psycopg.Error, TypeError):
            return False

    @contextmanager
    def connection(self):
        """One read-only REPEATABLE READ transaction for the block: every query of a report
        sees the same records, while dispatch processes go on writing. No statement timeout
        (a report may take a while); the store's own methods wait for the block to end."""
        with self._lock:
            self._check_open()
            if self._db.closed:
                self._reconnect()
            db = self._db
            factory = db.row_factory
            db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                db.execute("SET LOCAL statement_timeout = 0")
                yield db
            finally:
                db.row_factory = factory
                if not db.closed:
                    from psycopg.pq import TransactionStatus
                    if db.info.transaction_status != TransactionStatus.IDLE:
                        db.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._db.close()


def open_central_store(*, database_url: Optional[str] = None, path: Path | str = ":memory:",
                       clock: Callable[[], float] = time.time) -> CentralRecords:
    """PostgreSQL when ``database_url`` is given, else SQLite at ``path``."""
    if database_url:
        return PgCentralStore(database_url, clock=clock)
    return CentralStore(path, clock=clock)
