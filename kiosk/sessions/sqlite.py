"""What the kiosk's session log and dispatch's central records share about SQLite: how a
database is opened (WAL, ``synchronous=FULL``), one change as one transaction, and versioned
migrations with a backup of the older file first."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Optional, Sequence

log = logging.getLogger("kiosk.sessions")

Migration = Callable[[sqlite3.Connection], None]


def open_database(path: Path | str, *, foreign_keys: bool = False,
                  any_thread: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL journal, every commit
    on disk before it returns (``synchronous=FULL``), rows by column name."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), isolation_level=None, timeout=10, check_same_thread=not any_thread)
    db.row_factory = sqlite3.Row
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA busy_timeout=10000")
        if foreign_keys:
            db.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        db.close()
        raise
    return db


class Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error: one change, all or nothing. With a
    ``lock``, held for the transaction (a connection used from more than one thread)."""

    def __init__(self, db: sqlite3.Connection, lock: Optional[threading.RLock] = None) -> None:
        self._db = db
        self._lock = lock

    def __enter__(self) -> None:
        if self._lock is not None:
            self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
        finally:
            if self._lock is not None:
                self._lock.release()


def schema_version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite3.Connection, path: Path | str, migrations: Sequence[Migration], *,
            what: str, too_new: Callable[[int, int], Exception],
            lock: Optional[threading.RLock] = None) -> None:
    """Bring ``db`` to ``len(migrations)``: migration i takes version i to i + 1, each in its
    own transaction. An older file is backed up beside itself first (``name.vN.bak``); a newer
    one raises ``too_new(found, known)`` and is left as it is. ``what`` names it in the log."""
    version, latest = schema_version(db), len(migrations)
    if version > latest:
        raise too_new(version, latest)
    if version == latest:
        return
    if version > 0 and path != ":memory:":
        path = Path(path)
        backup = path.with_name(f"{path.name}.v{version}.bak")
        target = sqlite3.connect(str(backup))
        try:
            db.backup(target)
        finally:
            target.close()
        log.info("backed up %s to %s before migrating it", what, backup)
    for target_version in range(version + 1, latest + 1):
        with Transaction(db, lock):
            migrations[target_version - 1](db)
            db.execute(f"PRAGMA user_version = {target_version}")
        log.info("%s: schema now at version %d", what, target_version)
