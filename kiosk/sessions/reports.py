"""Reports over the session log: for a period, and by local day, by category and by kiosk.

``build_report(db, start, end, tz=..., dialect=...)`` reads any database with a ``sessions``
table holding (at least) the ``SessionRecord`` columns: the kiosk's own session log (SQLite) or
dispatch's central records (SQLite or PostgreSQL, where rows whose kiosk record has not arrived
have ``end_reason`` NULL). ``to_csv``, ``to_xlsx`` and ``to_markdown`` write the result.

What is counted, and how (every figure of the period, of each day, category and kiosk):

- A session belongs to the period if its tap (``requested_at``) is in ``[start, end)`` and it
  has finished (``end_reason`` is not NULL); open sessions are not counted anywhere. Its day is
  the local calendar date of the tap in ``tz``; its category is the one staff picked, NULL
  being its own group ``"none"`` (未分类).
- **sessions**: those finished sessions (the calls offered).
- **answered**: sessions an interpreter accepted (``answered_at`` not NULL);
  **answered share** = answered / sessions.
- **answered within 30 s** = answered sessions with ``wait_s`` ≤ 30 s; its **share** is taken of
  *all* sessions offered, answered or not, as the relay-service rule measures speed of answer
  ("85 % of calls answered within 30 s"): a call never answered counts against it.
- **median and 90th-percentile wait**: over the answered sessions' ``wait_s`` (tap → accept),
  by the nearest-rank definition: with the n waits sorted ascending, the p-th percentile is the
  ⌈p·n⌉-th of them (the median is the ⌈n/2⌉-th, the lower middle one for an even n). Always a
  wait that occurred; None when nothing was answered.
- **abandoned before answer**: ``end_reason`` ``cancelled_by_caller`` and never answered.
- **talk time**: ``talk_s`` (connected → end) of the answered sessions, total and mean per
  answered session (an answered call whose media never flowed counts with 0 s).
- **ratings**: the count of each level 5 非常满意 … 1 非常不满意, and **not rated** = sessions
  without one of the five levels; **satisfaction share** = (非常满意 + 满意 + 基本满意) / rated
  sessions (the not-rated left out); None when nobody rated.
- **started by** resident / staff, and the count of each **end reason** (``END_REASONS``; a
  reason this version does not know, from a newer kiosk in the central records, is counted as
  ``other``).

How, and how fast. A database that keeps the report summaries (``kiosk.sessions.summaries``:
the kiosk's session log from schema v5, dispatch's central records from v4; triggers keep them
in the transaction of every change) answers a report of whole local days in the summaries'
time zone from them alone: the counts per day, category and kiosk are summed from
``report_summary`` (a few tens of thousands of rows for a year, whatever the number of
sessions), and each median and 90th percentile is found in ``report_waits`` by the zone its
rank lies in (the summaries' wait ladder says which) and one ``ORDER BY wait_s LIMIT 1 OFFSET
r`` over that zone of an index. The waits are the stored ones: the figures are exactly as
defined above. Anything else (another zone, a part of a day, a database without summaries) is
read from ``sessions``:

Everything that adds up comes from one ``GROUP BY`` (local day, category,
kiosk) in the database (the day computed from ``requested_at`` with the zone's UTC offsets,
found here), summed up into the period and the breakdowns. The exact percentiles never bring
all the waits over (``PERCENTILE_DISC`` is PostgreSQL's only):

1. a dozen days spread over the period get their median and p90 exactly, from a window query
   (``ROW_NUMBER() OVER (ORDER BY wait_s)``) over that day's answered sessions;
2. their spread gives a few wait thresholds, and the ``GROUP BY`` also counts each group's
   answered sessions with a wait at or under each; for any group that says between which two
   thresholds (in which *zone*) its k-th wait lies, and which one it is there;
3. every other day's two values come from a window query over its waits in those zones only;
4. for the period, each category and each kiosk, whose sessions are spread over the whole
   period, the waits of the zones that hold their ranks are read in one query and picked
   here (a few per cent of the answered sessions); a zone too large to read is asked for per
   group with ``ORDER BY wait_s LIMIT 1 OFFSET r`` instead.

The thresholds only decide how much is read: any give the same, exact, result. The SQL is the
same for SQLite and PostgreSQL but for the parameter marks and one ``FLOOR``. SQLite has no
hash aggregation and sorts the ``GROUP BY``'s rows, which is most of the time a long period
takes this way (see ``bench/report_speed.py`` and docs/performance.md).
"""

from __future__ import annotations

import bisect
import csv
import io
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence
from zoneinfo import ZoneInfo

from kiosk.sessions import summaries
from kiosk.sessions.model import END_REASONS

DIALECTS = ("sqlite", "postgresql")
NO_CATEGORY = "none"  # the key of sessions without a category (NULL)
NO_CATEGORY_LABEL = "未分类"
OTHER_REASON = "other"  # an end reason this version does not know
ANSWER_WITHIN_S = 30.0
SATISFIED_LEVELS = (5, 4, 3)  # 非常满意, 满意, 基本满意
# nearest-rank percentiles as exact fractions: rank = ceil(n * num / den)
MEDIAN = (1, 2)
P90 = (9, 10)
SECTIONS = ("total", "day", "category", "kiosk")  # the exports' section column

# Reading one wait into Python costs about this many times what scanning past a row does:
# a zone of waits is read whole when that is cheaper than one ORDER BY … OFFSET query (a scan
# of the period) for each rank wanted in it.
_READ_COST = 10.0

_EPOCH_DAY = date(1970, 1, 1)
_DAY_S = 86400


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Every figure of one group of sessions (the definitions are in the module docstring)."""

    sessions: int = 0
    answered: int = 0
    answered_share: Optional[float] = None  # answered / sessions
    answered_within_30s: int = 0
    answered_within_30s_share: Optional[float] = None  # answered within 30 s / ALL sessions
    wait_median_s: Optional[float] = None  # nearest rank, of answered sessions
    wait_p90_s: Optional[float] = None
    abandoned: int = 0  # cancelled_by_caller and never answered
    talk_total_s: float = 0.0  # of answered sessions
    talk_mean_s: Optional[float] = None  # talk_total_s / answered
    rating_5: int = 0  # 非常满意
    rating_4: int = 0  # 满意
    rating_3: int = 0  # 基本满意
    rating_2: int = 0  # 不满意
    rating_1: int = 0  # 非常不满意
    not_rated: int = 0
    satisfaction_share: Optional[float] = None  # (5 + 4 + 3) / rated
    started_by_resident: int = 0
    started_by_staff: int = 0
    # {end reason: count}, every END_REASONS key (and "other" when the report has such)
    end_reasons: Mapping[str, int] = field(default_factory=lambda: {r: 0 for r in END_REASONS})

    @property
    def rated(self) -> int:
        return self.rating_5 + self.rating_4 + self.rating_3 + self.rating_2 + self.rating_1

    @property
    def ratings(self) -> dict[int, int]:
        """{5: count, 4: …, 1: …}."""
        return {level: getattr(self, f"rating_{level}") for level in (5, 4, 3, 2, 1)}


@dataclass(frozen=True)
class Group:
    """One line of a breakdown. ``key``: the local date ``YYYY-MM-DD``, the category
    (``NO_CATEGORY`` for none) or the kiosk id."""

    key: str
    figures: Figures


@dataclass(frozen=True)
class Period:
    start: float  # epoch seconds, inclusive
    end: float  # exclusive
    tz: str
    first_day: date  # local dates of the first and the last moment of the period
    last_day: date

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"


@dataclass(frozen=True)
class Report:
    period: Period
    generated_at: float  # epoch seconds
    totals: Figures
    by_day: tuple[Group, ...]  # every local day of the period, in order, days without sessions too
    by_category: tuple[Group, ...]  # categories that occur, by name; "none" last
    by_kiosk: tuple[Group, ...]  # kiosks that occur, by id

    @property
    def end_reason_keys(self) -> tuple[str, ...]:
        return tuple(self.totals.end_reasons)

    def sections(self) -> Iterator[tuple[str, str, Figures]]:
        """(section, key, figures) for the total and every breakdown line, in export order."""
        yield SECTIONS[0], self.period.label, self.totals
        for section, groups in zip(SECTIONS[1:], (self.by_day, self.by_category, self.by_kiosk)):
            for g in groups:
                yield section, g.key, g.figures


# --- time zones: local days as arithmetic on epoch seconds ------------------------------------


def _offset(zone: ZoneInfo, t: int) -> int:
    """UTC offset in seconds at integer epoch second ``t`` (offsets change on whole seconds)."""
    return int(datetime.fromtimestamp(t, zone).utcoffset().total_seconds())


def _segments(zone: ZoneInfo, lo: float, hi: float) -> list[tuple[float, float, int]]:
    """[(from, to, offset)] covering [lo, hi): the stretches of constant UTC offset. Probes
    every 6 hours and bisects to the second where the offset changes (no zone changes twice
    within 6 hours)."""
    step = 6 * 3600
    t = math.floor(lo)
    cur_from, cur_off = lo, _offset(zone, t)
    segs = []
    stop = math.ceil(hi)
    while t < stop:
        nxt = min(t + step, stop)
        if _offset(zone, nxt) == cur_off:
            t = nxt
            continue
        a, b = t, nxt  # offset(a) == cur_off != offset(b)
        while b - a > 1:
            mid = (a + b) // 2
            if _offset(zone, mid) == cur_off:
                a = mid
            else:
                b = mid
        if b >= hi:
            break
        segs.append((cur_from, float(b), cur_off))
        cur_from, cur_off, t = float(b), _offset(zone, b), b
    segs.append((cur_from, hi, cur_off))
    return segs


def _local_day_number(segs, t: float) -> int:
    """Days since 1970-01-01 of the local date at ``t`` (inside the segments)."""
    for _, to, off in segs:
        if t < to:
            return math.floor((t + off) / _DAY_S)
    return math.floor((t + segs[-1][2]) / _DAY_S)


def _first_instant(segs, dayno: int) -> Optional[float]:
    """The first moment in the segments whose local date is day ``dayno`` or later."""
    local = dayno * _DAY_S
    for frm, to, off in segs:
        t = max(frm, float(local - off))
        if t < to:
            return t
    return None


def day_start(day: date, tz: str) -> float:
    """The first moment (epoch seconds) of local date ``day`` in ``tz``."""
    zone = ZoneInfo(tz)
    dayno = (day - _EPOCH_DAY).days
    segs = _segments(zone, float((dayno - 2) * _DAY_S), float((dayno + 3) * _DAY_S))
    t = _first_instant(segs, dayno)
    assert t is not None
    return t


def period_for_dates(first: date, last: date, tz: str) -> tuple[float, float]:
    """[start, end) of the local days ``first`` … ``last`` (inclusive) in ``tz``."""
    if last < first:
        raise ValueError(f"the period ends ({last}) before it begins ({first})")
    return day_start(first, tz), day_start(last + timedelta(days=1), tz)


# --- SQL -------------------------------------------------------------------------------------


class _Sql:
    """The statements, in one dialect."""

    def __init__(self, dialect: str, segs, base: int) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {DIALECTS}, not {dialect!r}")
        self.dialect = dialect
        if len(segs) == 1:
            off = str(segs[0][2])
        else:
            whens = " ".join(f"WHEN requested_at < {to!r} THEN {o}" for _, to, o in segs[:-1])
            off = f"(CASE {whens} ELSE {segs[-1][2]} END)"
        # the local day of the tap, counted from ``base`` (a local midnight before the period,
        # so the value is never negative and truncation is the floor)
        shifted = f"(requested_at + {off} - {base}) / {_DAY_S}"
        self.day = (f"CAST({shifted} AS INTEGER)" if dialect == "sqlite"
                    else f"CAST(FLOOR({shifted}) AS INTEGER)")

    def __call__(self, sql: str) -> str:
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")


_FINISHED = "requested_at >= ? AND requested_at < ? AND end_reason IS NOT NULL"
_ANSWERED = _FINISHED + " AND answered_at IS NOT NULL AND wait_s IS NOT NULL"

# the additive counters of a group, in this order, then one per wait threshold
# (``FILTER``: both databases have it, and SQLite evaluates it faster than ``CASE``)
_COUNTERS: tuple[tuple[str, str], ...] = (
    ("sessions", "COUNT(*)"),
    ("answered", "COUNT(answered_at)"),
    ("waits", "COUNT(wait_s) FILTER (WHERE answered_at IS NOT NULL)"),  # what the percentiles rank
    ("abandoned", "COUNT(*) FILTER (WHERE answered_at IS NULL AND end_reason = 'cancelled_by_caller')"),
    ("talk", "SUM(talk_s) FILTER (WHERE answered_at IS NOT NULL)"),
    *((f"rating_{r}", f"COUNT(*) FILTER (WHERE rating = {r})") for r in (5, 4, 3, 2, 1)),
    ("resident", "COUNT(*) FILTER (WHERE started_by = 'resident')"),
    ("staff", "COUNT(*) FILTER (WHERE started_by = 'staff')"),
    *((f"reason:{r}", f"COUNT(*) FILTER (WHERE end_reason = '{r}')") for r in END_REASONS),
)
_IX = {name: i for i, (name, _) in enumerate(_COUNTERS)}
_N = len(_COUNTERS)
# the summaries keep the same counters, in the same order, then their own ladder
assert [n.replace(":", "_") for n, _ in _COUNTERS] == list(summaries.COLUMNS[:_N])


def _rows(db, sql: str, params: Sequence[Any] = ()) -> list:
    """All rows of one query, as sequences read by position (psycopg: whatever row factory
    the connection has)."""
    if type(db).__module__.startswith("psycopg"):
        from psycopg.rows import tuple_row

        cur = db.cursor(row_factory=tuple_row)
    else:
        cur = db.cursor()
    try:
        cur.execute(sql, tuple(params))
        return cur.fetchall()
    finally:
        cur.close()


@contextmanager
def _snapshot(db, dialect: str) -> Iterator[None]:
    """Every query of one report reads the same state: a read transaction around them when
    the caller has none open (the kiosk may be writing its log meanwhile)."""
    if dialect == "sqlite":
        # SQLite sorts a GROUP BY's rows; let it sort on the other cores too (restored after)
        threads = db.execute("PRAGMA threads").fetchone()
        if threads is not None:
            db.execute(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
        try:
            if getattr(db, "in_transaction", True):
                yield
                return
            db.execute("BEGIN")
            try:
                yield
            finally:
                db.execute("COMMIT")
        finally:
            if threads is not None:
                db.execute(f"PRAGMA threads = {int(threads[0])}")
        return
    info = getattr(db, "info", None)
    idle = info is not None and int(info.transaction_status) == 0  # psycopg: IDLE
    if not idle:
        yield
        return
    if getattr(db, "autocommit", False):
        db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield
        finally:
            db.execute("ROLLBACK")
    else:
        db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try:
            yield
        finally:
            db.rollback()


# --- building --------------------------------------------------------------------------------


def _rank(n: int, p: tuple[int, int]) -> int:
    """Nearest rank: ceil(n · p), at least 1."""
    num, den = p
    return max(1, -(-n * num // den))



def _period_of(start: float, end: float, tz: str, dialect: str):
    """The period's UTC-offset segments, its first and last local day numbers, its SQL and
    its ``Period``."""
    segs = _segments(ZoneInfo(tz), start, end)
    first_no = _local_day_number(segs, start)
    last_no = _local_day_number(segs, math.nextafter(end, -math.inf))
    sql = _Sql(dialect, segs, (first_no - 1) * _DAY_S)
    period = Period(start, end, tz, _EPOCH_DAY + timedelta(days=first_no),
                    _EPOCH_DAY + timedelta(days=last_no))
    return segs, first_no, last_no, sql, period

def build_report(db, start: float, end: float, *, tz: str = "Asia/Shanghai",
                 dialect: str = "sqlite", clock: Callable[[], float] = time.time) -> Report:
    """The report of the finished sessions tapped in ``[start, end)`` (epoch seconds), with
    days in time zone ``tz``. ``db`` is a DB-API connection (sqlite3, or psycopg with
    ``dialect="postgresql"``) to a database with a ``sessions`` table; it is only read, in
    one read transaction of its own unless the caller has one open."""
    if not end > start:
        raise ValueError(f"the period must end after it starts (start {start}, end {end})")
    segs, first_no, last_no, sql, period = _period_of(start, end, tz, dialect)
    ndays = last_no - first_no + 1
    with _snapshot(db, dialect):
        if _summarized(db, dialect, tz, segs, period):
            sums, day_waits, waits = _from_summaries(db, sql, first_no, last_no)
            return _assemble(period, clock(), ndays, sums, summaries.THRESHOLDS, day_waits, waits)
        days = _Days(db, sql, segs, start, end, first_no)
        # a few days' percentiles, exactly, to place the wait thresholds around
        sample = {i: days.exact(i) for i in _sample(ndays, _SAMPLE_DAYS)}
        thresholds = _thresholds([w for w in sample.values() if w])
        sums = _sums(db, sql, start, end, thresholds)
        day_waits = {i: w for i, w in sample.items() if w}
        for i, v in sums.days.items():
            if i not in day_waits and v[_IX["waits"]]:
                day_waits[i] = days.in_zones(i, v, thresholds)
        waits = _group_percentiles(db, sql, start, end, thresholds, _wanted(sums))
        return _assemble(period, clock(), ndays, sums, thresholds, day_waits, waits)


def _wanted(sums: "_Sums") -> list[tuple[str, Any, Sequence[float]]]:
    wanted = [("total", None, sums.total)]
    wanted += [("category", c, v) for c, v in sums.cats.items()]
    wanted += [("kiosk", k, v) for k, v in sums.kiosks.items()]
    return wanted


# --- from the summaries ----------------------------------------------------------------------


def _summarized(db, dialect: str, tz: str, segs, period: Period) -> bool:
    """Whether the report can be read from the database's summaries: it keeps them in ``tz``,
    the period is whole local days, and the zone's offsets over the period are the ones found
    here."""
    if summaries.zone_of(db, dialect) != tz:
        return False
    if period.start != day_start(period.first_day, tz) or \
            period.end != day_start(period.last_day + timedelta(days=1), tz):
        return False
    return summaries.same_segments(summaries.stored_segments(db, dialect, period.start, period.end), segs)


def _summary_vectors(db, sql: _Sql, by: str, d0: int, d1: int) -> list[tuple[tuple, Any]]:
    """[(the ``by`` columns' values, the summed counters)] of the days d0 … d1. PostgreSQL
    sends each line's sums as one text (psycopg without its C part reads a value in
    microseconds; a float8 prints exactly)."""
    import numpy as np

    width = len(by.split(","))
    sums = [f"SUM({c})" for c in summaries.COLUMNS]
    cols = ", ".join(sums) if sql.dialect == "sqlite" else f"concat_ws(',', {', '.join(sums)})"
    rows = _rows(db, sql(f"SELECT {by}, {cols} FROM report_summary WHERE day >= ? AND day <= ?"
                         f" GROUP BY {by}"), [d0, d1])
    out = []
    for row in rows:
        values = row[width:] if sql.dialect == "sqlite" else row[width].split(",")
        v = np.array(values, dtype=np.float64)
        if v[0] > 0:  # rows emptied by changes are not groups
            out.append((tuple(row[:width]), v))
    return out


# the rows of ``report_waits`` a kind of group ranks: its key is ``k``, its days d0 … d1
_KINDS = {
    "day": "w.day = {k}",
    "total": "w.day >= ? AND w.day <= ?",
    "category": "w.cat = {k} AND w.day >= ? AND w.day <= ?",
    "kiosk": "w.kiosk_id = {k} AND w.day >= ? AND w.day <= ?",
}


def _kth(db, sql: _Sql, kind: str, groups: Sequence[tuple[Any, Any, Sequence[float]]], d0: int, d1: int,
         thresholds: Sequence[float]) -> dict[Any, tuple[float, float]]:
    """{name: (median, p90)} of groups [(name, key, counts)] of one kind, from ``report_waits``:
    per rank, a seek into the zone of waits that holds it (the counts say which) and a walk of
    the rank there. SQLite: a query per rank (in-process, each costs microseconds); PostgreSQL:
    one query for them all (a round trip costs more than the seek), the same subquery per rank."""
    m = len(thresholds)
    ranks = []  # (name, which, key, lower bound or None, upper bound or None, offset)
    for name, key, v in groups:
        for which, j, r in _targets(v, m):
            ranks.append((name, which, key, thresholds[j - 1] if j > 0 else None,
                          thresholds[j] if j < m else None, r - 1))
    span = [] if kind == "day" else [d0, d1]
    found: dict[Any, list[Optional[float]]] = {}
    if sql.dialect == "sqlite":
        for name, which, key, lo, hi, offset in ranks:
            where = _KINDS[kind].format(k="?")
            params = ([] if kind == "total" else [key]) + span
            if lo is not None:
                where += " AND w.wait_s > ?"
                params.append(lo)
            if hi is not None:
                where += " AND w.wait_s <= ?"
                params.append(hi)
            row = _rows(db, f"SELECT w.wait_s FROM report_waits w WHERE {where}"
                            " ORDER BY w.wait_s LIMIT 1 OFFSET ?", [*params, offset])
            found.setdefault(name, [None, None])[which] = float(row[0][0])
    elif ranks:
        columns: list[list] = [[], [], [], []]
        for _, _, key, lo, hi, offset in ranks:
            for col, value in zip(columns, (key, -math.inf if lo is None else lo,
                                            math.inf if hi is None else hi, offset)):
                col.append(value)
        key_type = {"day": "integer", "category": "text", "kiosk": "text", "total": "integer"}[kind]
        if kind == "total":
            columns[0] = [0] * len(ranks)
        where = _KINDS[kind].format(k="v.k")
        rows = _rows(db, sql(
            "SELECT v.i, (SELECT w.wait_s FROM report_waits w"
            f" WHERE {where} AND w.wait_s > v.lo AND w.wait_s <= v.hi"
            " ORDER BY w.wait_s LIMIT 1 OFFSET v.r)"
            f" FROM unnest(?::{key_type}[], ?::float8[], ?::float8[], ?::integer[])"
            " WITH ORDINALITY AS v (k, lo, hi, r, i)"), [*span, *columns])  # in text order
        for i, wait in rows:
            name, which = ranks[int(i) - 1][:2]
            found.setdefault(name, [None, None])[which] = float(wait)
    return {name: (w[0], w[1]) for name, w in found.items()}


def _from_summaries(db, sql: _Sql, d0: int, d1: int):
    """The sums and the percentiles from ``report_summary`` and ``report_waits``."""
    import numpy as np

    thresholds = summaries.THRESHOLDS
    days = {int(key[0]) - d0: v for key, v in _summary_vectors(db, sql, "day", d0, d1)}
    # the categories and the kiosks from one GROUP BY of both (a few hundred lines) summed here
    cats: dict = {}
    kiosks: dict = {}
    for (cat, kiosk), v in _summary_vectors(db, sql, "cat, kiosk_id", d0, d1):
        for groups, key in ((cats, summaries.category_of(cat)), (kiosks, kiosk)):
            groups[key] = groups[key] + v if key in groups else v.copy()
    total = np.sum(list(days.values()), axis=0) if days else np.zeros(len(summaries.COLUMNS))
    sums = _Sums(total, days, cats, kiosks)
    waited = _IX["waits"]
    day_waits = _kth(db, sql, "day", [(i, d0 + i, v) for i, v in days.items() if v[waited]],
                     d0, d1, thresholds)
    waits = {}
    waits.update(_kth(db, sql, "total", [(("total", None), None, total)] if total[waited] else [],
                      d0, d1, thresholds))
    waits.update(_kth(db, sql, "category", [(("category", c), summaries.cat_key(c), v)
                                            for c, v in cats.items() if v[waited]], d0, d1, thresholds))
    waits.update(_kth(db, sql, "kiosk", [(("kiosk", k), k, v) for k, v in kiosks.items() if v[waited]],
                      d0, d1, thresholds))
    return sums, day_waits, waits


def wait_counts(db, start: float, end: float, edges: Sequence[float], *, tz: str = "Asia/Shanghai",
                dialect: str = "sqlite") -> tuple[int, ...]:
    """How many answered sessions of the report of ``[start, end)`` waited ≤ ``edges[0]``, in
    each (edges[i-1], edges[i]], and longer than the last edge (ascending edges): from the
    summaries when the report would be, else counted in the database."""
    edges = [float(e) for e in edges]
    if list(edges) != sorted(set(edges)):
        raise ValueError(f"the edges must ascend: {edges}")
    segs, first_no, last_no, sql, period = _period_of(start, end, tz, dialect)
    with _snapshot(db, dialect):
        if set(edges) <= set(summaries.THRESHOLDS) and _summarized(db, dialect, tz, segs, period):
            ladder = [f"SUM(le_{summaries.THRESHOLDS.index(e)})" for e in edges]
            row = _rows(db, sql(f"SELECT SUM(waits), {', '.join(ladder)} FROM report_summary"
                                " WHERE day >= ? AND day <= ?"), [first_no, last_no])[0]
        else:
            ladder = ["COUNT(*) FILTER (WHERE wait_s <= ?)" for _ in edges]
            row = _rows(db, sql(f"SELECT COUNT(*), {', '.join(ladder)} FROM sessions WHERE {_ANSWERED}"),
                        [*edges, start, end])[0]
    n, at_or_under = int(row[0] or 0), [int(x or 0) for x in row[1:]]
    cumulative = [*at_or_under, n]
    return tuple(c - (cumulative[i - 1] if i else 0) for i, c in enumerate(cumulative))


# days whose median and p90 are found from all their waits, to place the thresholds
_SAMPLE_DAYS = 12


def _sample(ndays: int, count: int) -> list[int]:
    """``count`` day indices spread evenly over the period (every day of a short one)."""
    if ndays <= count:
        return list(range(ndays))
    return sorted({k * (ndays - 1) // max(1, count - 1) for k in range(count)})


def _thresholds(sample: Sequence[tuple[float, float]]) -> tuple[float, ...]:
    """Wait thresholds to count answered sessions under: 30 s (the answer-speed figure) and the
    spread of the sampled days' medians and 90th percentiles (min, quartiles, max), where the
    other days', the period's, the categories' and the kiosks' percentiles will mostly lie.
    (Any thresholds give the same results; good ones make the zones to read small.)"""
    points = {ANSWER_WITHIN_S}
    if not sample:
        points |= {10.0, 60.0}
    for j in (0, 1):
        values = sorted(w[j] for w in sample)
        for q in range(5) if values else ():
            points.add(values[(len(values) - 1) * q // 4])
    return tuple(sorted(points))


class _Sums:
    """The counters (then the answered sessions with a wait ≤ each threshold) summed for the
    period, per day index, per category (None: none) and per kiosk: numpy vectors."""

    def __init__(self, total, days: dict, cats: dict, kiosks: dict) -> None:
        self.total, self.days, self.cats, self.kiosks = total, days, cats, kiosks


def _sums(db, sql: _Sql, start: float, end: float, thresholds: Sequence[float]) -> _Sums:
    """One ``GROUP BY`` over the period. SQLite groups by (day, category, kiosk) and the rows
    are summed up here; PostgreSQL sums them up itself (``GROUPING SETS``), which matters
    when every value read costs Python time (psycopg without its C part)."""
    import numpy as np

    ladder = ", ".join("COUNT(*) FILTER (WHERE answered_at IS NOT NULL AND wait_s <= ?)" for _ in thresholds)
    counters = f"{', '.join(e for _, e in _COUNTERS)}, {ladder}"
    width = _N + len(thresholds)
    if sql.dialect == "postgresql":
        day = sql.day
        rows = _rows(db, sql(
            f"SELECT GROUPING({day}, category, kiosk_id), {day}, category, kiosk_id, {counters}"
            f" FROM sessions WHERE {_FINISHED}"
            f" GROUP BY GROUPING SETS (({day}), (category), (kiosk_id), ())"), [*thresholds, start, end])
        out = _Sums(np.zeros(width), {}, {}, {})
        for row in rows:
            v = np.nan_to_num(np.array(row[4:], dtype=np.float64))
            grouping = int(row[0])  # a bit for each of day, category, kiosk left out
            if grouping == 0b111:
                out.total = v
            elif grouping == 0b011:
                out.days[int(row[1]) - 1] = v
            elif grouping == 0b101:
                out.cats[row[2]] = v
            else:
                out.kiosks[row[3]] = v
        return out
    fine = _rows(db, sql(f"SELECT {sql.day} AS d, category, kiosk_id, {counters}"
                         f" FROM sessions WHERE {_FINISHED} GROUP BY 1, 2, 3"), [*thresholds, start, end])
    counts = np.array([r[3:] for r in fine], dtype=np.float64).reshape(len(fine), width)
    np.nan_to_num(counts, copy=False)  # SUM over no rows is NULL

    def per(keys: list) -> dict:
        index: dict = {}
        codes = np.fromiter((index.setdefault(k, len(index)) for k in keys), dtype=np.int64,
                            count=len(keys))
        summed = np.zeros((len(index), width))
        for col in range(width):
            summed[:, col] = np.bincount(codes, weights=counts[:, col], minlength=len(index))
        return {k: summed[i] for k, i in index.items()}

    return _Sums(counts.sum(axis=0) if len(fine) else np.zeros(width), per([int(r[0]) - 1 for r in fine]),
                 per([r[1] for r in fine]), per([r[2] for r in fine]))


# --- percentiles by zones ----------------------------------------------------------------------
#
# The thresholds T0 < T1 < … < T(m-1) cut the waits into zones: zone 0 is (-inf, T0], zone j
# is (T(j-1), Tj], zone m is (T(m-1), +inf). A group's counts of waits ≤ each threshold say in
# which zone its k-th wait lies and which one it is there (r): only that zone's waits need
# sorting.


def _below(v: Sequence[float], j: int) -> int:
    """The group's waits under zone j."""
    return 0 if j == 0 else int(v[_N + j - 1])


def _zone_size(v: Sequence[float], j: int, m: int) -> int:
    top = int(v[_IX["waits"]]) if j == m else int(v[_N + j])
    return top - _below(v, j)


def _targets(v: Sequence[float], m: int) -> list[tuple[int, int, int]]:
    """[(0 for the median or 1 for the p90, zone, rank in the zone)] of a group's vector."""
    n = int(v[_IX["waits"]])
    out = []
    for which, p in enumerate((MEDIAN, P90) if n else ()):
        k = _rank(n, p)
        j = next((i for i in range(m) if v[_N + i] >= k), m)
        out.append((which, j, k - _below(v, j)))
    return out


def _zone_sql(j: int, thresholds: Sequence[float]) -> tuple[str, list[float]]:
    parts, params = [], []
    if j > 0:
        parts.append("wait_s > ?")
        params.append(thresholds[j - 1])
    if j < len(thresholds):
        parts.append("wait_s <= ?")
        params.append(thresholds[j])
    return "(" + " AND ".join(parts) + ")", params


class _Days:
    """The queries over one local day's answered sessions (an index range of requested_at)."""

    def __init__(self, db, sql: _Sql, segs, start: float, end: float, first_no: int) -> None:
        self.db, self.sql, self.segs, self.start, self.end, self.first_no = db, sql, segs, start, end, first_no
        # With a change of UTC offset in the period a local day may not be one stretch of time
        # (clocks going back over midnight): read a little around it, pick the day by number.
        self.margin = max((abs(b[2] - a[2]) for a, b in zip(segs, segs[1:])), default=0)
        self.where = _ANSWERED + (f" AND {sql.day} = ?" if self.margin else "")

    def _params(self, i: int) -> list:
        lo = _first_instant(self.segs, self.first_no + i)
        hi = _first_instant(self.segs, self.first_no + i + 1)
        lo = self.start if lo is None else max(self.start, lo - self.margin)
        hi = self.end if hi is None else min(self.end, hi + self.margin)
        return [lo, hi] + ([i + 1] if self.margin else [])

    def exact(self, i: int) -> Optional[tuple[float, float]]:
        """Day i's (median, p90) from all its waits; None if nothing was answered."""
        rows = _rows(self.db, self.sql(
            "SELECT n, rn, wait_s FROM (SELECT wait_s, ROW_NUMBER() OVER w AS rn,"
            " COUNT(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS n"
            f" FROM sessions WHERE {self.where} WINDOW w AS (ORDER BY wait_s)) AS ranked"
            " WHERE rn = (n + 1) / 2 OR rn = (9 * n + 9) / 10"), self._params(i))
        if not rows:
            return None
        n = int(rows[0][0])
        at = {int(r[1]): float(r[2]) for r in rows}
        return at[_rank(n, MEDIAN)], at[_rank(n, P90)]

    def in_zones(self, i: int, v: Sequence[float], thresholds: Sequence[float]) -> tuple[float, float]:
        """Day i's (median, p90), ranking only the waits in the zones that hold them."""
        m = len(thresholds)
        targets = _targets(v, m)
        zones = sorted({j for _, j, _ in targets})
        offset, before = {}, 0
        for j in zones:  # the rows of the zones come in zone order
            offset[j] = before
            before += _zone_size(v, j, m)
        conds, params = [], []
        for j in zones:
            cond, p = _zone_sql(j, thresholds)
            conds.append(cond)
            params += p
        ranks = [offset[j] + r for _, j, r in targets]
        rows = _rows(self.db, self.sql(
            "SELECT rn, wait_s FROM (SELECT wait_s, ROW_NUMBER() OVER (ORDER BY wait_s) AS rn"
            f" FROM sessions WHERE {self.where} AND ({' OR '.join(conds)})) AS ranked"
            " WHERE rn = ? OR rn = ?"), [*self._params(i), *params, *ranks])
        at = {int(r[0]): float(r[1]) for r in rows}
        return at[ranks[0]], at[ranks[1]]


def _assemble(period: Period, generated_at: float, ndays: int, sums: _Sums,
              thresholds: Sequence[float], day_waits: dict[int, tuple[float, float]],
              waits: dict[tuple[str, Any], tuple[float, float]]) -> Report:
    import numpy as np

    width = _N + len(thresholds)
    total, days, cats, kiosks = sums.total, sums.days, sums.cats, sums.kiosks
    reasons = (*END_REASONS, OTHER_REASON) if _other_reasons(total) else END_REASONS
    w30 = _N + list(thresholds).index(ANSWER_WITHIN_S)
    empty = np.zeros(width)

    def figures(v, pct: Optional[tuple[float, float]]) -> Figures:
        return _figures(empty if v is None else v, pct, w30, reasons)

    by_day = tuple(Group((period.first_day + timedelta(days=i)).isoformat(),
                         figures(days.get(i), day_waits.get(i)))
                   for i in range(ndays))
    by_category = tuple(Group(NO_CATEGORY if c is None else c, figures(cats[c], waits.get(("category", c))))
                        for c in sorted(cats, key=lambda c: (c is None, c or "")))
    by_kiosk = tuple(Group(k, figures(kiosks[k], waits.get(("kiosk", k)))) for k in sorted(kiosks))
    return Report(period=period, generated_at=generated_at,
                  totals=figures(total, waits.get(("total", None))),
                  by_day=by_day, by_category=by_category, by_kiosk=by_kiosk)


def _group_percentiles(db, sql: _Sql, start: float, end: float, thresholds: Sequence[float],
                       wanted: list[tuple[str, Any, Sequence[float]]]
                       ) -> dict[tuple[str, Any], tuple[float, float]]:
    """{(section, key): (median, p90)} for the period, categories and kiosks, whose sessions
    are spread over the whole period. The zones that hold a wanted rank are read in one query
    (their waits only) when that is cheaper than one ``ORDER BY wait_s LIMIT 1 OFFSET r``
    query (a scan of the period) per rank wanted in the zone; else those queries are made."""
    m = len(thresholds)
    targets = [(section, key, which, j, r)
               for section, key, v in wanted for which, j, r in _targets(v, m)]
    if not targets:
        return {}
    total = wanted[0][2]
    period_rows = int(total[_IX["sessions"]])
    per_zone: dict[int, int] = {}
    for t in targets:
        per_zone[t[3]] = per_zone.get(t[3], 0) + 1
    bulk = {j for j, count in per_zone.items()
            if _zone_size(total, j, m) * _READ_COST <= period_rows * count}

    found: dict[tuple[str, Any], list[Optional[float]]] = {}
    if bulk:
        conds, params = [], []
        for j in sorted(bulk):
            cond, p = _zone_sql(j, thresholds)
            conds.append(cond)
            params += p
        rows = _rows(db, sql(f"SELECT category, kiosk_id, wait_s FROM sessions WHERE {_ANSWERED}"
                             f" AND ({' OR '.join(conds)})"), [start, end, *params])
        lists: dict[tuple, list[float]] = {}
        for category, kiosk, wait in rows:
            j = bisect.bisect_left(thresholds, wait)
            for key in ((j, "total", None), (j, "category", category), (j, "kiosk", kiosk)):
                lst = lists.get(key)
                if lst is None:
                    lst = lists[key] = []
                lst.append(wait)
        for lst in lists.values():
            lst.sort()
        for section, key, which, j, r in targets:
            if j in bulk:
                found.setdefault((section, key), [None, None])[which] = float(lists[(j, section, key)][r - 1])
    for section, key, which, j, r in targets:
        if j in bulk:
            continue
        cond, params = _zone_sql(j, thresholds)
        if section == "category":
            group, gparams = ("category IS NULL", []) if key is None else ("category = ?", [key])
        elif section == "kiosk":
            group, gparams = "kiosk_id = ?", [key]
        else:
            group, gparams = "1 = 1", []
        row = _rows(db, sql(f"SELECT wait_s FROM sessions WHERE {_ANSWERED} AND {group} AND {cond}"
                            " ORDER BY wait_s LIMIT 1 OFFSET ?"),
                    [start, end, *gparams, *params, r - 1])
        found.setdefault((section, key), [None, None])[which] = float(row[0][0])
    return {k: (v[0], v[1]) for k, v in found.items()}


def _other_reasons(v: Sequence[Any]) -> int:
    return int(v[_IX["sessions"]] - sum(v[_IX[f"reason:{r}"]] for r in END_REASONS))


def _share(part: int, whole: int) -> Optional[float]:
    return part / whole if whole else None


def _figures(v: Sequence[Any], pct: Optional[tuple[float, float]], w30: int,
             reasons: Sequence[str]) -> Figures:
    n, answered = int(v[_IX["sessions"]]), int(v[_IX["answered"]])
    ratings = {r: int(v[_IX[f"rating_{r}"]]) for r in (5, 4, 3, 2, 1)}
    rated = sum(ratings.values())
    talk = float(v[_IX["talk"]] or 0.0)
    counts = {r: int(v[_IX[f"reason:{r}"]]) for r in END_REASONS}
    if OTHER_REASON in reasons:
        counts[OTHER_REASON] = int(_other_reasons(v))
    within = int(v[w30])
    return Figures(
        sessions=n, answered=answered, answered_share=_share(answered, n),
        answered_within_30s=within, answered_within_30s_share=_share(within, n),
        wait_median_s=pct[0] if pct else None, wait_p90_s=pct[1] if pct else None,
        abandoned=int(v[_IX["abandoned"]]),
        talk_total_s=talk, talk_mean_s=talk / answered if answered else None,
        rating_5=ratings[5], rating_4=ratings[4], rating_3=ratings[3], rating_2=ratings[2],
        rating_1=ratings[1], not_rated=n - rated,
        satisfaction_share=_share(sum(ratings[r] for r in SATISFIED_LEVELS), rated),
        started_by_resident=int(v[_IX["resident"]]), started_by_staff=int(v[_IX["staff"]]),
        end_reasons=counts)


# --- exports ---------------------------------------------------------------------------------

END_REASON_LABELS = {
    "completed": "正常结束", "cancelled_by_caller": "呼叫方取消", "no_interpreter": "没有空闲翻译员",
    "out_of_hours": "非服务时间", "declined": "翻译员未接听", "dispatch_unreachable": "联系不上翻译中心",
    "network_lost": "连接中断", "device_error": "设备故障", "interrupted": "程序意外中断",
    OTHER_REASON: "其他原因",
}


@dataclass(frozen=True)
class Column:
    name: str  # the Figures attribute, or "end_reason:<code>"
    header: str  # "中文 / English"
    kind: str  # "count", "share" (a fraction), "seconds"

    def value(self, f: Figures):
        if self.name.startswith("end_reason:"):
            return f.end_reasons.get(self.name.split(":", 1)[1], 0)
        return getattr(f, self.name)


_FIXED_COLUMNS = (
    Column("sessions", "会话数 / Sessions", "count"),
    Column("answered", "已接通 / Answered", "count"),
    Column("answered_share", "接通率 / Answered share", "share"),
    Column("answered_within_30s", "30秒内接通 / Answered within 30 s", "count"),
    Column("answered_within_30s_share", "30秒内接通率（占全部） / Answered within 30 s, share of all", "share"),
    Column("wait_median_s", "等待时间中位数（秒） / Median wait (s)", "seconds"),
    Column("wait_p90_s", "等待时间90百分位（秒） / 90th percentile wait (s)", "seconds"),
    Column("abandoned", "接通前放弃 / Abandoned before answer", "count"),
    Column("talk_total_s", "通话总时长（秒） / Total talk time (s)", "seconds"),
    Column("talk_mean_s", "平均通话时长（秒） / Average talk time (s)", "seconds"),
    Column("rating_5", "非常满意 / Very satisfied (5)", "count"),
    Column("rating_4", "满意 / Satisfied (4)", "count"),
    Column("rating_3", "基本满意 / Fairly satisfied (3)", "count"),
    Column("rating_2", "不满意 / Dissatisfied (2)", "count"),
    Column("rating_1", "非常不满意 / Very dissatisfied (1)", "count"),
    Column("not_rated", "未评价 / Not rated", "count"),
    Column("satisfaction_share", "满意率 / Satisfaction share", "share"),
    Column("started_by_resident", "群众自助发起 / Started by resident", "count"),
    Column("started_by_staff", "工作人员发起 / Started by staff", "count"),
)

DEFINITIONS = (
    ("统计范围 / Scope", "申请时间（点击呼叫）在报表期间内、且已结束的会话；日期按当地时区。"
     " / Finished sessions whose tap (requested_at) is in the period; days in the local time zone."),
    ("接通率 / Answered share", "已接通 ÷ 全部会话。 / Answered ÷ all sessions."),
    ("30秒内接通率 / Answered within 30 s", "等待 ≤ 30 秒即接通的会话 ÷ 全部会话（未接通的也计入分母）。"
     " / Sessions answered with a wait ≤ 30 s ÷ ALL sessions offered, unanswered ones included."),
    ("等待时间 / Wait", "已接通会话从点击到翻译员接听的时间；中位数与90百分位按最近秩法：n 个值升序排列，取第 ⌈p·n⌉ 个。"
     " / Tap → interpreter's accept, answered sessions only; nearest rank: the ⌈p·n⌉-th of the n sorted waits."),
    ("接通前放弃 / Abandoned", "呼叫方取消且从未接通。 / Cancelled by the caller, never answered."),
    ("通话时长 / Talk time", "已接通会话从连通到结束的时间；平均值 = 总时长 ÷ 已接通会话数。"
     " / Connected → end of answered sessions; average = total ÷ answered sessions."),
    ("满意率 / Satisfaction share", "（非常满意 + 满意 + 基本满意）÷ 已评价会话数（未评价不计入）。"
     " / (Very satisfied + satisfied + fairly satisfied) ÷ rated sessions; the not rated left out."),
)


def columns(report: Report) -> tuple[Column, ...]:
    """The figure columns of the exports: the fixed ones, then one per end reason."""
    return _FIXED_COLUMNS + tuple(
        Column(f"end_reason:{r}", f"结束原因：{END_REASON_LABELS.get(r, r)} / End reason: {r}", "count")
        for r in report.end_reason_keys)


def _label(section: str, key: str) -> str:
    if section == "category" and key == NO_CATEGORY:
        return NO_CATEGORY_LABEL
    if section == "day":
        return f"{key} 周{'一二三四五六日'[date.fromisoformat(key).weekday()]}"
    return key


def _local(report: Report, t: float) -> str:
    return datetime.fromtimestamp(t, ZoneInfo(report.period.tz)).strftime("%Y-%m-%d %H:%M:%S")


def _csv_cell(col: Column, value) -> str:
    if value is None:
        return ""
    if col.kind == "share":
        return f"{value:.6f}"
    if col.kind == "seconds":
        return f"{value:.3f}"
    return str(value)


def to_csv(report: Report) -> str:
    """One table: a row per line (section total/day/category/kiosk, key, label), a column per
    figure (shares as fractions to 6 decimals, seconds to 3). UTF-8 with a byte-order mark so
    that Excel reads the Chinese right; encode it with ``utf-8`` (the mark is in the text)."""
    cols = columns(report)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["区间 / Section", "项目 / Key", "名称 / Label", *(c.header for c in cols)])
    for section, key, f in report.sections():
        w.writerow([section, key, _label(section, key), *(_csv_cell(c, c.value(f)) for c in cols)])
    return "\ufeff" + out.getvalue()


_SHEETS = (("总览 Summary", None), ("按日 By day", "day"), ("按事项 By category", "category"),
           ("按终端 By kiosk", "kiosk"))
_FORMATS = {"count": "0", "share": "0.0%", "seconds": "0.0"}


def to_xlsx(report: Report, path: Path | str) -> None:
    """An Excel workbook: 总览 Summary (period, every figure of the period, the definitions),
    按日 By day, 按事项 By category, 按终端 By kiosk (a row per line, a column per figure).
    Values are stored exactly; percentages and seconds are formatted. (Sheet names cannot
    hold "/", so the two languages are separated by a space.)"""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    cols = columns(report)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    wb = Workbook()
    ws = wb.active
    ws.title = _SHEETS[0][0]
    ws.append(["手语翻译服务报表 / Sign-language interpreting report"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["期间 / Period", report.period.label])
    ws.append(["时区 / Time zone", report.period.tz])
    ws.append(["生成时间 / Generated", _local(report, report.generated_at)])
    ws.append([])
    ws.append(["指标 / Figure", "数值 / Value"])
    for cell in ws[ws.max_row]:
        cell.font, cell.fill = bold, head_fill
    for c in cols:
        ws.append([c.header, c.value(report.totals)])
        ws.cell(ws.max_row, 2).number_format = _FORMATS[c.kind]
    ws.append([])
    ws.append(["口径 / Definitions"])
    ws.cell(ws.max_row, 1).font = bold
    for name, text in DEFINITIONS:
        ws.append([name, text])
        ws.cell(ws.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 52
    ws.column_dimensions["B"].width = 80

    groups = {"day": report.by_day, "category": report.by_category, "kiosk": report.by_kiosk}
    for title, section in _SHEETS[1:]:
        ws = wb.create_sheet(title)
        key_header = {"day": "日期 / Date", "category": "事项 / Category", "kiosk": "终端 / Kiosk"}[section]
        ws.append([key_header, "名称 / Label", *(c.header for c in cols)])
        for cell in ws[1]:
            cell.font, cell.fill = bold, head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for g in groups[section]:
            ws.append([g.key, _label(section, g.key), *(c.value(g.figures) for c in cols)])
        for i, c in enumerate(cols, start=3):
            letter = get_column_letter(i)
            for cell in ws[letter][1:]:
                cell.number_format = _FORMATS[c.kind]
            ws.column_dimensions[letter].width = 14
        ws.column_dimensions["A"].width = 16
        ws.column_dimensions["B"].width = 18
        ws.row_dimensions[1].height = 60
        ws.freeze_panes = "C2"
        if ws.max_row > 1:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(cols) + 2)}{ws.max_row}"
    wb.save(str(path))


def _md_value(col: Column, value) -> str:
    if value is None:
        return "–"
    if col.kind == "share":
        return f"{value * 100:.1f} %"
    if col.kind == "seconds":
        return f"{value:.1f}"
    return str(value)


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


# the columns of the breakdown tables in Markdown (the CSV and the workbook have them all)
_MD_BREAKDOWN = ("sessions", "answered_share", "answered_within_30s_share", "wait_median_s",
                 "wait_p90_s", "abandoned", "talk_mean_s", "not_rated", "satisfaction_share")


def to_markdown(report: Report) -> str:
    """The period's figures in full, the breakdowns with their main figures, the definitions."""
    cols = columns(report)
    p = report.period
    lines = ["# 手语翻译服务报表 / Sign-language interpreting report", "",
             f"- 期间 / Period: {p.label} ({p.tz})",
             f"- 生成时间 / Generated: {_local(report, report.generated_at)}", "",
             "## 总览 / Summary", "", "| 指标 / Figure | 数值 / Value |", "|---|---:|"]
    for c in cols:
        lines.append(f"| {_md_escape(c.header)} | {_md_value(c, c.value(report.totals))} |")
    short = [c for c in cols if c.name in _MD_BREAKDOWN]
    for section, title, groups in (("day", "## 按日 / By day", report.by_day),
                                   ("category", "## 按事项 / By category", report.by_category),
                                   ("kiosk", "## 按终端 / By kiosk", report.by_kiosk)):
        lines += ["", title, ""]
        if not groups:
            lines.append("（无 / none）")
            continue
        lines.append("| " + " | ".join(["项目 / Key", *(_md_escape(c.header) for c in short)]) + " |")
        lines.append("|---" + "|---:" * len(short) + "|")
        for g in groups:
            cells = [_md_escape(_label(section, g.key)), *(_md_value(c, c.value(g.figures)) for c in short)]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## 口径 / Definitions", ""]
    lines += [f"- **{name}**: {text}" for name, text in DEFINITIONS]
    return "\n".join(lines) + "\n"


__all__ = ["ANSWER_WITHIN_S", "Column", "DEFINITIONS", "DIALECTS", "Figures", "Group", "NO_CATEGORY",
           "OTHER_REASON", "Period", "Report", "build_report", "columns", "day_start",
           "period_for_dates", "to_csv", "to_markdown", "to_xlsx", "wait_counts"]
