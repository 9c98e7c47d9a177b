"""Report summaries kept beside a ``sessions`` table, so that a period's report reads a few
thousand summary rows instead of every session (see ``kiosk.sessions.reports``).

Two tables, kept right by triggers on ``sessions`` in the same transaction as every change of a
row (insert, update, delete: a record ending, rated, its call facts set, closed as interrupted,
uploaded to or routed by dispatch, removed by retention), whoever makes the change:

- ``report_summary``: per local day, category and kiosk, the additive counts of the report
  (sessions, answered, waits, abandoned, talk time, each rating, who started, each end reason)
  and a ladder of counts of answered sessions with a wait at or under each of ``THRESHOLDS``.
  The day is the local date of the tap in the summary's time zone (``report_zone``: its UTC
  offsets from 1970 to 2100, computed here), counted in days since 1970-01-01.
- ``report_waits``: one row per finished, answered session with its wait, indexed by (day,
  wait), (kiosk, wait), (category, wait) and (wait): the k-th wait of a day, a kiosk, a
  category or the whole period is an index seek and a short walk, inside the ladder's zone
  that holds it. The percentiles stay exact: they are the waits themselves.

Only finished sessions (``end_reason`` and ``requested_at`` set) are counted, as in the
report. A category is kept as ``cat``: '' for none, else '=' and the name.

The summaries hold for one time zone (``DEFAULT_ZONE`` unless ``set_zone`` changed it);
a report in another zone, or for a period that is not whole local days, reads ``sessions``.
An end reason added to ``END_REASONS`` later needs a new column (a migration); until then it is
counted as "other" by the summaries, as by the report.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Optional, Sequence
from zoneinfo import ZoneInfo

from kiosk.sessions.model import END_REASONS

log = logging.getLogger("kiosk.sessions.summaries")

DEFAULT_ZONE = "Asia/Shanghai"
# the wait ladder (seconds); it holds the report's 30 s and the kiosk's wait-chart edges
THRESHOLDS: tuple[float, ...] = (2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 75.0,
                                 90.0, 120.0, 180.0, 300.0, 600.0)
# the UTC offsets are kept for taps in [1970, 2100); a report outside reads ``sessions``
ZONE_FROM = 0.0
ZONE_TO = 4102444800.0  # 2100-01-01T00:00:00Z
_DAY_S = 86400

TABLES = ("report_zone", "report_summary", "report_waits")


def _when(cond: str) -> str:
    return f"CASE WHEN {cond} THEN 1 ELSE 0 END"


def counters(r: str) -> list[tuple[str, str]]:
    """(column, the value one finished session row ``r`` adds to it), in the order of
    ``kiosk.sessions.reports._COUNTERS`` and then the ladder."""
    answered = f"{r}.answered_at IS NOT NULL"
    out = [
        ("sessions", "1"),
        ("answered", _when(answered)),
        ("waits", _when(f"{answered} AND {r}.wait_s IS NOT NULL")),
        ("abandoned", _when(f"{r}.answered_at IS NULL AND {r}.end_reason = 'cancelled_by_caller'")),
        ("talk", f"CASE WHEN {answered} THEN COALESCE({r}.talk_s, 0) ELSE 0 END"),
        *((f"rating_{v}", _when(f"{r}.rating = {v}")) for v in (5, 4, 3, 2, 1)),
        ("resident", _when(f"{r}.started_by = 'resident'")),
        ("staff", _when(f"{r}.started_by = 'staff'")),
        *((f"reason_{e}", _when(f"{r}.end_reason = '{e}'")) for e in END_REASONS),
        *((f"le_{i}", _when(f"{answered} AND {r}.wait_s <= {t!r}")) for i, t in enumerate(THRESHOLDS)),
    ]
    return out


COLUMNS = tuple(name for name, _ in counters("s"))


# days added before truncating, so that the value is positive and truncation is the floor
# (SQLite's FLOOR needs its math functions, which not every build has)
_DAYS_BEFORE = 100_000


def day_sql(r: str, dialect: str) -> str:
    """The local day number of row ``r``'s tap in the summary's zone. (PostgreSQL's CAST of a
    double to an integer rounds, SQLite's truncates.)"""
    local = (f"{r}.requested_at + COALESCE((SELECT z.off FROM report_zone z"
             f" WHERE {r}.requested_at >= z.from_t AND {r}.requested_at < z.to_t), 0)")
    if dialect == "sqlite":
        return f"(CAST(({local}) / {_DAY_S} + {_DAYS_BEFORE} AS INTEGER) - {_DAYS_BEFORE})"
    return f"CAST(FLOOR(({local}) / {_DAY_S}) AS INTEGER)"


def cat_sql(r: str) -> str:
    return f"CASE WHEN {r}.category IS NULL THEN '' ELSE '=' || {r}.category END"


def category_of(cat: str) -> Optional[str]:
    return None if cat == "" else cat[1:]


def cat_key(category: Optional[str]) -> str:
    return "" if category is None else "=" + category


def _finished(r: str) -> str:
    return f"{r}.end_reason IS NOT NULL AND {r}.requested_at IS NOT NULL"


def _waited(r: str) -> str:
    return f"{_finished(r)} AND {r}.answered_at IS NOT NULL AND {r}.wait_s IS NOT NULL"


def _change(r: str, sign: int, dialect: str) -> list[str]:
    """The statements that add (sign 1) or take away (-1) row ``r`` (NEW or OLD)."""
    cols = counters(r)
    values = ", ".join(v if sign > 0 else f"-({v})" for _, v in cols)
    names = ", ".join(n for n, _ in cols)
    sets = ", ".join(f"{n} = report_summary.{n} + excluded.{n}" for n, _ in cols)
    out = [f"INSERT INTO report_summary (day, cat, kiosk_id, {names})"
           f" SELECT {day_sql(r, dialect)}, {cat_sql(r)}, {r}.kiosk_id, {values} WHERE {_finished(r)}"
           f" ON CONFLICT (day, cat, kiosk_id) DO UPDATE SET {sets}"]
    if sign > 0:
        out.append(f"INSERT INTO report_waits (day, wait_s, session_id, cat, kiosk_id)"
                   f" SELECT {day_sql(r, dialect)}, {r}.wait_s, {r}.session_id, {cat_sql(r)}, {r}.kiosk_id"
                   f" WHERE {_waited(r)}")
    else:
        # an emptied row goes (no float residue of the talk time is left behind)
        out.append(f"DELETE FROM report_summary WHERE day = {day_sql(r, dialect)} AND cat = {cat_sql(r)}"
                   f" AND kiosk_id = {r}.kiosk_id AND sessions = 0")
        out.append(f"DELETE FROM report_waits WHERE day = {day_sql(r, dialect)} AND wait_s = {r}.wait_s"
                   f" AND session_id = {r}.session_id")
    return out


def _tables(dialect: str) -> list[str]:
    if dialect == "sqlite":
        real, text, integer, without = "REAL", "TEXT", "INTEGER", " WITHOUT ROWID"
    else:
        real, text, integer, without = "DOUBLE PRECISION", 'TEXT COLLATE "C"', "INTEGER", ""
    cols = ",\n".join(f"  {n} {real if n == 'talk' else integer} NOT NULL DEFAULT 0" for n in COLUMNS)
    return [
        f"CREATE TABLE report_zone (zone {text} NOT NULL, from_t {real} NOT NULL,"
        f" to_t {real} NOT NULL, off {integer} NOT NULL, PRIMARY KEY (from_t)){without}",
        f"CREATE TABLE report_summary (day {integer} NOT NULL, cat {text} NOT NULL,"
        f" kiosk_id {text} NOT NULL,\n{cols},\n  PRIMARY KEY (day, cat, kiosk_id)){without}",
        f"CREATE TABLE report_waits (day {integer} NOT NULL, wait_s {real} NOT NULL,"
        f" session_id {text} NOT NULL, cat {text} NOT NULL, kiosk_id {text} NOT NULL,"
        f" PRIMARY KEY (day, wait_s, session_id)){without}",
        "CREATE INDEX report_waits_kiosk ON report_waits (kiosk_id, wait_s, day)",
        "CREATE INDEX report_waits_cat ON report_waits (cat, wait_s, day)",
        "CREATE INDEX report_waits_wait ON report_waits (wait_s, day)",
    ]


def _triggers(dialect: str) -> list[str]:
    if dialect == "sqlite":
        def body(statements: list[str]) -> str:
            return " ".join(s + ";" for s in statements)
        return [
            f"CREATE TRIGGER report_sessions_insert AFTER INSERT ON sessions"
            f" WHEN {_finished('NEW')} BEGIN {body(_change('NEW', 1, dialect))} END",
            f"CREATE TRIGGER report_sessions_delete AFTER DELETE ON sessions"
            f" WHEN {_finished('OLD')} BEGIN {body(_change('OLD', -1, dialect))} END",
            f"CREATE TRIGGER report_sessions_update AFTER UPDATE ON sessions"
            f" WHEN ({_finished('OLD')}) OR ({_finished('NEW')})"
            f" BEGIN {body(_change('OLD', -1, dialect) + _change('NEW', 1, dialect))} END",
        ]
    sub = " ".join(s + ";" for s in _change("OLD", -1, dialect))
    add = " ".join(s + ";" for s in _change("NEW", 1, dialect))
    return [
        "CREATE OR REPLACE FUNCTION report_sessions_change() RETURNS trigger LANGUAGE plpgsql AS $f$"
        " BEGIN"
        f" IF TG_OP <> 'INSERT' THEN IF {_finished('OLD')} THEN {sub} END IF; END IF;"
        f" IF TG_OP <> 'DELETE' THEN IF {_finished('NEW')} THEN {add} END IF; END IF;"
        " RETURN NULL; END $f$",
        "CREATE TRIGGER report_sessions_change AFTER INSERT OR UPDATE OR DELETE ON sessions"
        " FOR EACH ROW EXECUTE FUNCTION report_sessions_change()",
    ]


def _offset(zone: ZoneInfo, t: int) -> int:
    return int(datetime.fromtimestamp(t, zone).utcoffset().total_seconds())


def zone_segments(tz: str, lo: float = ZONE_FROM, hi: float = ZONE_TO) -> list[tuple[float, float, int]]:
    """[(from, to, UTC offset)] of ``tz`` over [lo, hi): probes weekly and bisects to the second
    where the offset changes. (A report checks its own, finer, finding of its period's offsets
    against these and reads ``sessions`` if they differ.)"""
    zone = ZoneInfo(tz)
    step = 7 * _DAY_S
    t, stop = int(lo), int(hi)
    cur_from, cur_off = float(lo), _offset(zone, t)
    segs = []
    while t < stop:
        nxt = min(t + step, stop)
        if _offset(zone, nxt) == cur_off:
            t = nxt
            continue
        a, b = t, nxt
        while b - a > 1:
            mid = (a + b) // 2
            if _offset(zone, mid) == cur_off:
                a = mid
            else:
                b = mid
        segs.append((cur_from, float(b), cur_off))
        cur_from, cur_off, t = float(b), _offset(zone, b), b
    segs.append((cur_from, float(hi), cur_off))
    return segs


def _mark(dialect: str) -> str:
    return "?" if dialect == "sqlite" else "%s"


def _fill(db, dialect: str, tz: str) -> None:
    """The zone's offsets, then the summaries of every row already in ``sessions``."""
    m = _mark(dialect)
    for frm, to, off in zone_segments(tz):
        db.execute(f"INSERT INTO report_zone (zone, from_t, to_t, off) VALUES ({m}, {m}, {m}, {m})",
                   (tz, frm, to, off))
    cols = counters("s")
    db.execute(
        f"INSERT INTO report_summary (day, cat, kiosk_id, {', '.join(n for n, _ in cols)})"
        f" SELECT {day_sql('s', dialect)}, {cat_sql('s')}, s.kiosk_id, {', '.join(f'SUM({v})' for _, v in cols)}"
        f" FROM sessions s WHERE {_finished('s')} GROUP BY 1, 2, 3")
    db.execute(
        f"INSERT INTO report_waits (day, wait_s, session_id, cat, kiosk_id)"
        f" SELECT {day_sql('s', dialect)}, s.wait_s, s.session_id, {cat_sql('s')}, s.kiosk_id"
        f" FROM sessions s WHERE {_waited('s')}")


def install(db, dialect: str = "sqlite", tz: str = DEFAULT_ZONE) -> None:
    """Create the summary tables and triggers and fill them from ``sessions`` (a migration
    step: inside the caller's transaction)."""
    for statement in _tables(dialect):
        db.execute(statement)
    _fill(db, dialect, tz)
    for statement in _triggers(dialect):
        db.execute(statement)


def set_zone(db, tz: str, dialect: str = "sqlite") -> bool:
    """Keep the summaries in time zone ``tz`` (rebuilt from ``sessions`` if they were in
    another one), inside the caller's transaction. True if they were rebuilt."""
    if zone_of(db, dialect) == tz:
        return False
    ZoneInfo(tz)  # an unknown zone fails before anything is changed
    for table in TABLES:
        db.execute(f"DELETE FROM {table}")
    _fill(db, dialect, tz)
    log.info("report summaries rebuilt for time zone %s", tz)
    return True


def _cursor(db):
    """A cursor whose rows are tuples (psycopg: whatever row factory the connection has)."""
    if type(db).__module__.startswith("psycopg"):
        from psycopg.rows import tuple_row

        return db.cursor(row_factory=tuple_row)
    return db.cursor()


def _one(db, sql: str, params: Sequence[Any] = ()) -> Optional[tuple]:
    cur = _cursor(db)
    try:
        cur.execute(sql, tuple(params))
        row = cur.fetchone()
        return None if row is None else tuple(row)
    finally:
        cur.close()


def present(db, dialect: str) -> bool:
    """Whether the database keeps the summaries."""
    if dialect == "sqlite":
        row = _one(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'"
                       " AND name = 'report_sessions_update'")
    else:
        row = _one(db, "SELECT COUNT(*) FROM pg_trigger WHERE tgname = 'report_sessions_change'"
                       " AND tgrelid = to_regclass('sessions')")
    return bool(row and row[0])


def zone_of(db, dialect: str) -> Optional[str]:
    """The summaries' time zone; None if the database has none."""
    if not present(db, dialect):
        return None
    row = _one(db, "SELECT zone FROM report_zone LIMIT 1")
    return row[0] if row else None


def stored_segments(db, dialect: str, lo: float, hi: float) -> list[tuple[float, float, int]]:
    """The summaries' zone offsets over [lo, hi), clipped to it."""
    m = _mark(dialect)
    cur = _cursor(db)
    try:
        cur.execute(f"SELECT from_t, to_t, off FROM report_zone WHERE to_t > {m} AND from_t < {m}"
                    " ORDER BY from_t", (lo, hi))
        rows = [tuple(r) for r in cur.fetchall()]
    finally:
        cur.close()
    return [(max(float(a), lo), min(float(b), hi), int(o)) for a, b, o in rows]


def same_segments(a: Sequence[tuple[float, float, int]], b: Sequence[tuple[float, float, int]]) -> bool:
    return [tuple(x) for x in a] == [tuple(y) for y in b]


__all__ = ["COLUMNS", "DEFAULT_ZONE", "THRESHOLDS", "install", "present", "set_zone", "zone_of",
           "zone_segments"]
