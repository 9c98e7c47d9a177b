"""Keeping session records only as long as the configuration says (``kiosk.retention_years``).

Using a sign-language service reveals a disability, so the log is kept no longer than needed
(PIPL Art. 19). The kiosk calls, at start-up and once a day::

    remove_older_than(store.connection, cutoff_for(config.kiosk.retention_years, time.time()))

The same function prunes dispatch's central records (their ``sessions`` table only; pass
``dialect="postgresql"`` for a psycopg connection); dispatch does it through
``CentralRecords.remove_older_than`` (``server.retention_years``), in batches. The report
summaries follow every removal in its transaction (their triggers).
"""

from __future__ import annotations

import logging
from typing import Any, Optional

log = logging.getLogger("kiosk.sessions.retention")

DAYS_PER_YEAR = 365.2425  # the Gregorian calendar's mean year
# the tables that hang off ``sessions`` by session_id, where they exist (the kiosk's log)
_CHILD_TABLES = ("session_events", "outbox")


def cutoff_for(retention_years: float, now: float) -> float:
    """The moment before which records are removed: ``now`` less ``retention_years`` mean
    Gregorian years (epoch seconds)."""
    if not retention_years > 0:
        raise ValueError(f"retention_years must be positive, not {retention_years!r}")
    return now - retention_years * DAYS_PER_YEAR * 86400


def remove_older_than(db, cutoff: float, *, dialect: str = "sqlite", limit: Optional[int] = None) -> int:
    """Delete every session tapped before ``cutoff`` (``requested_at``; in the central
    records, a session known only from dispatch's routing by ``dispatch_requested_at``), with
    its ``session_events`` and ``outbox`` rows where those tables exist, in one transaction
    (the caller's, if one is open on ``db``: then committing is the caller's). Returns the
    number of sessions removed. With ``limit``, at most that many (the oldest first): a caller
    that must not hold the database long removes in batches until fewer come back.

    The report summaries (``kiosk.sessions.summaries``), where the database keeps them, follow
    in the same transaction (their triggers)."""
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit!r}")
    if dialect == "sqlite":
        return _sqlite(db, cutoff, limit)
    if dialect == "postgresql":
        return _postgresql(db, cutoff, limit)
    raise ValueError(f"dialect must be 'sqlite' or 'postgresql', not {dialect!r}")


def _condition(db) -> str:
    cur = db.cursor()
    try:
        cur.execute("SELECT * FROM sessions WHERE 1 = 0")
        names = {d[0].lower() for d in cur.description}
    finally:
        cur.close()
    if "dispatch_requested_at" in names:
        return "COALESCE(requested_at, dispatch_requested_at) < {p}"
    return "requested_at < {p}"


def _delete(db, cutoff: float, children: list[str], mark: str, limit: Optional[int]) -> int:
    condition = _condition(db)
    old = condition.format(p=mark)
    cur = db.cursor()
    try:
        if limit is not None:  # the batch: the oldest ids, fixed before their rows go
            when = condition.split(" < ")[0]
            cur.execute(f"SELECT session_id FROM sessions WHERE {old} ORDER BY {when}"
                        f" LIMIT {int(limit)}", (cutoff,))
            ids = [r[0] for r in cur.fetchall()]
            if not ids:
                return 0
            marks = ", ".join(mark for _ in ids)
            for table in children:
                cur.execute(f"DELETE FROM {table} WHERE session_id IN ({marks})", ids)
            cur.execute(f"DELETE FROM sessions WHERE session_id IN ({marks})", ids)
            removed = cur.rowcount
        else:
            for table in children:
                cur.execute(f"DELETE FROM {table} WHERE session_id IN"
                            f" (SELECT session_id FROM sessions WHERE {old})", (cutoff,))
            cur.execute(f"DELETE FROM sessions WHERE {old}", (cutoff,))
            removed = cur.rowcount
    finally:
        cur.close()
    if removed:
        log.info("removed %d session records from before %s", removed, cutoff)
    return removed


def _sqlite(db, cutoff: float, limit: Optional[int]) -> int:
    present = {r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
    if "sessions" not in present:
        raise ValueError("the database has no sessions table")
    children = [t for t in _CHILD_TABLES if t in present]
    if db.in_transaction:
        return _delete(db, cutoff, children, "?", limit)
    db.execute("BEGIN IMMEDIATE")
    try:
        removed = _delete(db, cutoff, children, "?", limit)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return removed


def _postgresql(db: Any, cutoff: float, limit: Optional[int]) -> int:
    from psycopg.rows import tuple_row

    with db.transaction():
        cur = db.cursor(row_factory=tuple_row)
        try:
            present = {}
            for table in ("sessions", *_CHILD_TABLES):
                cur.execute("SELECT to_regclass(%s)", (table,))
                present[table] = cur.fetchone()[0] is not None
        finally:
            cur.close()
        if not present["sessions"]:
            raise ValueError("the database has no sessions table")
        return _delete(db, cutoff, [t for t in _CHILD_TABLES if present[t]], "%s", limit)
