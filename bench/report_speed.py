"""Report speed: ``kiosk.sessions.reports.build_report`` over a session log of a year with
1,000,000 sessions from 20 kiosks, in SQLite.

Run on demand (it is not part of the test suite), from the repository root::

    .venv/bin/python bench/report_speed.py

What it does:

1. Builds the log (a few minutes): ``SessionStore`` creates the file, so the schema, the
   indexes, the report summaries with their triggers, WAL and ``synchronous=FULL`` are a
   kiosk's own; then the sessions go straight into the ``sessions`` table with
   ``executemany`` in one transaction, in time order, as a log grows (the triggers keep the
   summaries as they would for the store's own writes; through the store's API, one fsync per
   state change, a million sessions would take hours; the report reads only ``sessions`` and
   the summaries, so no ``session_events`` or ``outbox`` rows).
   The distributions are meant to look like a city's halls: taps mostly in office hours on
   weekdays (fewer on Saturdays, few on Sundays and on the Spring Festival and National Day
   holidays), twenty kiosks of very different traffic, staff-started sessions with a category
   and resident-started ones without; taps outside the service hours end ``out_of_hours``;
   waits log-normal with a longer median at busy hours and callers who give up when it runs
   past their patience; talk times log-normal around 6 minutes; most answered calls rated,
   mostly 5 and 4; a call-quality JSON on every answered session, as the kiosk writes it.
2. Times ``build_report`` (Asia/Shanghai days) for a month (June), a quarter (Q2) and the
   whole year: the median of ``--runs`` runs each, the file in the page cache (warm), after
   one untimed run; from the summaries (as shipped) and, as the reference in the same run, from
   the ``sessions`` table with the summaries ignored (the report's path for a period that is not
   whole days of the summaries' zone). For the year it also times the report's steps, the
   exports, and two bare queries that show what SQLite itself needs for a scan and for a
   ``GROUP BY`` of a million rows on this machine.
3. Replaces its section of ``docs/performance.md`` (between ``<!-- report_speed:start -->``
   and ``<!-- report_speed:end -->``, appended if missing) through a temporary file and
   ``os.replace``; the other sections stay byte for byte.

``--db PATH --keep`` keeps the log for another run (it is reused when it holds the same number
of sessions). ``--postgresql URL`` also copies the sessions into a table ``sessions`` in a schema
``report_speed`` of that database (dropped and made again; nothing else is touched), with the
index the report uses and the summaries (``kiosk.sessions.summaries.install``: tables,
triggers, filled from the copied rows, as dispatch's migration does), and times the same
reports there (``dialect="postgresql"``), both ways.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import shlex
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Optional
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import _report  # noqa: E402  (what the benchmarks share)
from _report import cpu_model  # noqa: E402
from kiosk.sessions import reports, summaries  # noqa: E402
from kiosk.sessions.reports import build_report, period_for_dates, to_csv, to_markdown, to_xlsx  # noqa: E402
from kiosk.sessions.store import SessionStore  # noqa: E402

TZ = "Asia/Shanghai"
YEAR = 2025
TARGET_S = 1.0
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- report_speed:start -->", "<!-- report_speed:end -->"
CATEGORIES = (("社保", 30), ("医疗", 25), ("民政", 20), ("企业登记", 15), ("其他", 10))
HOLIDAYS = {date(YEAR, 1, 28) + timedelta(days=i) for i in range(8)} | \
           {date(YEAR, 10, 1) + timedelta(days=i) for i in range(8)}
QUALITY = ('{"fps_in": {"median": %.1f, "worst": %.1f}, "fps_out": {"median": 30.0, "worst": %.1f},'
           ' "kbps_in": {"median": %d, "worst": %d}, "loss": {"median": 0.0, "worst": %.3f},'
           ' "rtt_ms": {"median": %d, "worst": %d}}')
COLUMNS = ("session_id", "kiosk_id", "started_by", "category", "state", "requested_at", "answered_at",
           "connected_at", "ended_at", "wait_s", "talk_s", "end_reason", "ended_by", "interpreter_id",
           "rating", "rated_at", "app_version", "quality")


# --- the log ---------------------------------------------------------------------------------


def day_weight(d: date) -> float:
    if d in HOLIDAYS:
        return 0.1
    return (1.0, 1.0, 1.0, 1.0, 1.05, 0.35, 0.08)[d.weekday()]


# taps per hour of the day (local), office hours with a morning and an afternoon peak
HOUR_WEIGHTS = [0.05, 0.02, 0.01, 0.01, 0.01, 0.02, 0.1, 0.4, 1.6, 3.2, 3.6, 2.6, 1.2, 1.6,
                3.0, 3.4, 2.6, 1.2, 0.4, 0.25, 0.15, 0.1, 0.08, 0.06]


def in_service(local: datetime) -> bool:
    minute = local.hour * 60 + local.minute
    if local.date() in HOLIDAYS or local.weekday() == 6:
        return False
    if local.weekday() == 5:
        return 9 * 60 <= minute < 12 * 60
    return 8 * 60 + 30 <= minute < 17 * 60 + 30


def generate(n: int, kiosks: int, seed: int = 2025) -> list[tuple]:
    """n sessions over the year, in time order, as rows of the sessions table."""
    rnd = random.Random(seed)
    zone = ZoneInfo(TZ)
    days = [date(YEAR, 1, 1) + timedelta(days=i) for i in range(365)]
    weights = [day_weight(d) for d in days]
    per_day = [n * w / sum(weights) for w in weights]
    counts = [int(x) for x in per_day]
    for i in sorted(range(365), key=lambda i: per_day[i] - counts[i], reverse=True)[:n - sum(counts)]:
        counts[i] += 1
    kiosk_ids = [f"hall-{i + 1:02d}" for i in range(kiosks)]
    kiosk_w = [1 / (i + 1) ** 0.7 for i in range(kiosks)]
    cat_names, cat_w = zip(*CATEGORIES)
    hours = list(range(24))
    rows = []
    for d, count in zip(days, counts):
        midnight = datetime(d.year, d.month, d.day, tzinfo=zone).timestamp()
        taps = sorted(midnight + 3600 * (h + rnd.random())
                      for h in rnd.choices(hours, HOUR_WEIGHTS, k=count))
        for t in taps:
            local = datetime.fromtimestamp(t, zone)
            staff = rnd.random() < 0.35
            category = rnd.choices(cat_names, cat_w)[0] if staff else None
            busy = HOUR_WEIGHTS[local.hour] / 3.6  # 0 … 1
            answered_at = connected_at = interpreter = quality = None
            talk = 0.0
            if not in_service(local):
                reason, wait, ended_by = "out_of_hours", rnd.uniform(0.3, 1.5), "dispatch"
            else:
                wait = min(600.0, rnd.lognormvariate(math.log(7 + 9 * busy), 0.75))
                patience = rnd.expovariate(1 / 150)
                u = rnd.random()
                if u < 0.004:
                    reason, wait, ended_by = "dispatch_unreachable", rnd.uniform(5, 15), "system"
                elif u < 0.03:
                    reason, wait, ended_by = "no_interpreter", rnd.uniform(1, 4), "dispatch"
                elif u < 0.038:
                    reason, ended_by = "declined", "dispatch"
                elif wait > patience:
                    reason, wait, ended_by = "cancelled_by_caller", patience, "kiosk"
                else:
                    answered_at = t + wait
                    interpreter = f"int-{rnd.randrange(60):03d}"
                    v = rnd.random()
                    reason, ended_by = (("completed", rnd.choice(("kiosk", "interpreter"))) if v < 0.95 else
                                        ("network_lost", "system") if v < 0.975 else
                                        ("cancelled_by_caller", "kiosk") if v < 0.988 else
                                        ("device_error", "system") if v < 0.996 else
                                        ("interrupted", "system"))
                    if rnd.random() < 0.99:
                        connected_at = answered_at + rnd.uniform(0.5, 3.0)
                        talk = min(3600.0, rnd.lognormvariate(math.log(360), 0.7))
                        fps = rnd.uniform(27, 30)
                        quality = QUALITY % (fps, fps - rnd.uniform(0, 8), 30 - rnd.uniform(0, 6),
                                             rnd.randrange(700, 1500), rnd.randrange(150, 700),
                                             rnd.random() * 0.05, rnd.randrange(20, 80),
                                             rnd.randrange(80, 400))
            ended = (connected_at + talk) if connected_at else (answered_at or t + wait) + (
                rnd.uniform(1, 10) if answered_at else 0)
            rated = answered_at is not None and rnd.random() < 0.7 or answered_at is None and rnd.random() < 0.15
            rating = (rnd.choices((5, 4, 3, 2, 1), (58, 24, 10, 5, 3) if answered_at else (20, 20, 20, 20, 20))[0]
                      if rated else None)
            rows.append((
                "%032x" % rnd.getrandbits(128), rnd.choices(kiosk_ids, kiosk_w)[0],
                "staff" if staff else "resident", category, "ended", t, answered_at, connected_at,
                ended, max(0.0, (answered_at or ended) - t), talk if answered_at else 0.0, reason,
                ended_by, interpreter, rating, ended + rnd.uniform(3, 15) if rated else None,
                "1.4.2", quality))
    return rows


def build_log(path: Path, n: int, kiosks: int) -> float:
    """Creates the log at ``path``; returns the seconds it took."""
    began = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    rows = generate(n, kiosks)
    with SessionStore(path) as store:
        db = store.connection
        db.execute("BEGIN")
        db.executemany(f"INSERT INTO sessions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                       rows)
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - began


# --- measuring -------------------------------------------------------------------------------


def machine_busy() -> tuple[int, int]:
    """(busy jiffies, total jiffies) of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    total = sum(parts[:8])
    return total - parts[3] - parts[4], total


def self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def timed(fn: Callable[[], object]) -> tuple[float, float, float]:
    """(wall s, own CPU s, other processes' CPU in cores) of one call."""
    hz = os.sysconf("SC_CLK_TCK")
    busy0, _ = machine_busy()
    cpu0 = self_cpu_s()
    t0 = time.perf_counter()
    fn()
    wall = time.perf_counter() - t0
    cpu = self_cpu_s() - cpu0
    busy1, _ = machine_busy()
    other = max(0.0, (busy1 - busy0) / hz - cpu) / wall if wall else 0.0
    return wall, cpu, other


class from_sessions:
    """Within it, reports ignore the summaries and read the ``sessions`` table (the reference)."""

    def __enter__(self):
        self.saved = reports._summarized
        reports._summarized = lambda *a: False

    def __exit__(self, *exc):
        reports._summarized = self.saved


def measure(db, start: float, end: float, runs: int, dialect: str = "sqlite") -> dict:
    build_report(db, start, end, tz=TZ, dialect=dialect)  # untimed: the same warm state for every run
    results = [timed(lambda: build_report(db, start, end, tz=TZ, dialect=dialect)) for _ in range(runs)]
    walls = [r[0] for r in results]
    mark = "?" if dialect == "sqlite" else "%s"
    rows = db.execute(f"SELECT COUNT(*) FROM sessions WHERE requested_at >= {mark} AND requested_at < {mark}"
                      " AND end_reason IS NOT NULL", (start, end)).fetchone()[0]
    return {"sessions": rows, "median": statistics.median(walls), "min": min(walls), "max": max(walls),
            "runs": walls, "cpu": statistics.median(r[1] for r in results),
            "other": max(r[2] for r in results)}


def steps(db, start: float, end: float, runs: int = 3) -> dict[str, float]:
    """Seconds in each step of the report (the module's internal steps, wrapped): the run
    with the shortest total of ``runs``, the least disturbed by other processes."""
    return min((one_run_steps(db, start, end) for _ in range(runs)), key=lambda r: r["total"])


def one_run_steps(db, start: float, end: float) -> dict[str, float]:
    spent: dict[str, float] = {}
    names = {
        (reports, "_summarized"): "whether the summaries serve the period (their zone and its offsets)",
        (reports, "_summary_vectors"): "the sums: `report_summary` grouped by day, and by category"
                                       " and kiosk (every count and the wait ladder)",
        (reports, "_kth"): "every day's, category's, kiosk's and the period's median and p90"
                           " (`report_waits`: an index seek into the zone and a walk of the rank in it)",
    }
    saved = {key: getattr(*key) for key in names}

    def wrap(key, fn):
        def inner(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[names[key]] = spent.get(names[key], 0.0) + time.perf_counter() - t0
        return inner

    for key, fn in saved.items():
        setattr(*key, wrap(key, fn))
    try:
        t0 = time.perf_counter()
        build_report(db, start, end, tz=TZ)
        total = time.perf_counter() - t0
    finally:
        for key, fn in saved.items():
            setattr(*key, fn)
    spent["the rest (summing up, figures)"] = total - sum(spent.values())
    spent["total"] = total
    return spent


def baselines(db, start: float, end: float) -> dict[str, float]:
    """What SQLite itself needs for the year on this machine: a scan, and a GROUP BY."""
    where = " FROM sessions WHERE requested_at >= ? AND requested_at < ? AND end_reason IS NOT NULL"
    queries = {
        "`SELECT COUNT(*), SUM(talk_s)` over the year (the scan)": "SELECT COUNT(*), SUM(talk_s)" + where,
        "`SELECT category, kiosk_id, COUNT(*) … GROUP BY 1, 2` (the scan and a sort of every row)":
            "SELECT category, kiosk_id, COUNT(*)" + where + " GROUP BY 1, 2",
    }
    out = {}
    for label, q in queries.items():
        db.execute(q, (start, end)).fetchall()
        out[label] = min(timed(lambda: db.execute(q, (start, end)).fetchall())[0] for _ in range(3))
    return out


def exports(db, start: float, end: float) -> dict[str, float]:
    report = build_report(db, start, end, tz=TZ)
    with tempfile.TemporaryDirectory() as tmp:
        return {
            "to_csv": timed(lambda: to_csv(report))[0],
            "to_markdown": timed(lambda: to_markdown(report))[0],
            "to_xlsx": timed(lambda: to_xlsx(report, Path(tmp) / "r.xlsx"))[0],
        }


def copy_to_postgresql(url: str, log: Path):
    """The log's sessions in ``report_speed.sessions`` of the database at ``url``, with the
    summaries; returns an autocommit connection whose search_path finds them, and the seconds
    the summaries took to fill."""
    import psycopg

    types = {"REAL": "DOUBLE PRECISION", "TEXT": 'TEXT COLLATE "C"', "INTEGER": "INTEGER"}
    lite = sqlite3.connect(log)
    try:
        decl = [(r[1], r[2], r[3], r[5]) for r in lite.execute("PRAGMA table_info(sessions)")]
        db = psycopg.connect(url, autocommit=True)
        db.execute("DROP SCHEMA IF EXISTS report_speed CASCADE")
        db.execute("CREATE SCHEMA report_speed")
        db.execute("SET search_path TO report_speed")
        db.execute("CREATE TABLE sessions (" + ", ".join(
            f"{name} {types[kind.split()[0].upper()]}{' NOT NULL' if notnull else ''}{' PRIMARY KEY' if pk else ''}"
            for name, kind, notnull, pk in decl) + ")")
        # no autovacuum while loading: its ANALYZE of the fresh million rows would hold back the
        # VACUUM below from marking the pages all-visible (index-only scans would then read the
        # table too); the VACUUM ANALYZE of each table here is what autovacuum does in time
        db.execute("ALTER TABLE sessions SET (autovacuum_enabled = off)")
        names = [d[0] for d in decl]
        with db.cursor().copy(f"COPY sessions ({', '.join(names)}) FROM STDIN") as copy:
            for row in lite.execute(f"SELECT {', '.join(names)} FROM sessions"):
                copy.write_row(row)
        db.execute("CREATE INDEX sessions_requested ON sessions(requested_at)")
        began = time.perf_counter()
        with db.transaction():
            summaries.install(db, "postgresql", TZ)
            for table in summaries.TABLES:
                db.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = off)")
        filled = time.perf_counter() - began
        for table in ("sessions", *summaries.TABLES):
            db.execute(f"VACUUM ANALYZE {table}")
        return db, filled
    finally:
        lite.close()


def postgresql_facts(db) -> str:
    version = db.execute("SHOW server_version").fetchone()[0]
    settings = {name: db.execute(f"SHOW {name}").fetchone()[0]
                for name in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather")}
    return f"PostgreSQL {version} (" + ", ".join(f"{k} {v}" for k, v in settings.items()) + ")"


# --- the document ----------------------------------------------------------------------------




def mem_gib() -> str:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "? GiB"


def write_cost(rows: list[tuple], n: int = 100_000) -> dict[str, float]:
    """Seconds to insert the first ``n`` sessions into a new log in one transaction, with the
    summaries' triggers and, as the reference, with the triggers dropped."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="report-speed-writes-") as tmp:
        for label, keep in (("with", True), ("without", False)):
            path = Path(tmp) / f"{label}.sqlite3"
            with SessionStore(path) as store:
                db = store.connection
                if not keep:
                    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
                        db.execute(f"DROP TRIGGER {name}")
                t0 = time.perf_counter()
                db.execute("BEGIN")
                db.executemany(f"INSERT INTO sessions ({', '.join(COLUMNS)}) VALUES"
                               f" ({', '.join('?' * len(COLUMNS))})", rows[:n])
                db.execute("COMMIT")
                out[label] = time.perf_counter() - t0
    return out


def render(a, facts: dict, built_s: Optional[float], size_mib: float, periods: dict, refs: dict,
           split: dict, base: dict, exp: dict, writes: dict, table_rows: dict,
           pg: Optional[dict] = None) -> str:
    year = periods["year"]
    met = [name for name, r in periods.items() if r["median"] <= TARGET_S]
    L = [START, "## Report speed (`bench/report_speed.py`)", ""]
    L.append(f"Measured {facts['date']} on this machine: **{facts['nproc']} CPUs** (`nproc`), {facts['cpu']}, "
             f"{facts['mem']} RAM, Linux {facts['kernel']}. Python {facts['python']}, SQLite {sqlite3.sqlite_version}. "
             f"Load average when it started: {facts['load']}.")
    L += ["", "Reproduce (from the repository root):", "", "```sh", facts["command"], "```", ""]
    if pg:
        L += ["`URL`: a PostgreSQL database to copy the sessions into (schema `report_speed`). The figures"
              " below came from a throwaway server like the one the tests start (`tests/postgres.py`:"
              " fsync off, 16 MB of shared buffers, otherwise PostgreSQL's defaults), on this same machine.", ""]
    L.append(f"The log: {a.sessions:,} finished sessions over {YEAR} from {a.kiosks} kiosks, "
             f"{size_mib:.0f} MiB of SQLite made by `SessionStore` (its schema, indexes and the report"
             " summaries that its triggers keep: `report_summary`, "
             f"{table_rows['report_summary']:,} rows of counts per local day, category and kiosk, and "
             f"`report_waits`, {table_rows['report_waits']:,} waits indexed by day, kiosk, category and"
             " wait), inserted in time order"
             + (f" ({built_s:.0f} s to generate and insert)" if built_s is not None else " (reused)") +
             ". Office-hour peaks, weekdays, holidays, staff/resident, every end reason, ratings and a"
             " call-quality JSON per answered session, as described in the script. Reports in "
             f"{TZ} days; timings with the file in the page cache, after one untimed run.")
    L += ["", f"### `build_report` (median of {a.runs} runs; target ≤ {TARGET_S:.0f} s)", "",
          "From the summaries (as shipped), and from the `sessions` table with the summaries ignored"
          " (the reference, in the same run: the previous way, still the path of a period that is not"
          " whole days in the summaries' time zone):", "",
          "| period | sessions | median s | min / max s | CPU s | other processes (cores) | ≤ 1 s |"
          " reference: from `sessions`, median s |",
          "|---|---:|---:|---:|---:|---:|---|---:|"]
    for name, label in (("month", "June (30 days)"), ("quarter", "Q2 (91 days)"), ("year", f"{YEAR} (365 days)")):
        r = periods[name]
        L.append(f"| {label} | {r['sessions']:,} | **{r['median']:.3f}** | {r['min']:.3f} / {r['max']:.3f} | "
                 f"{r['cpu']:.2f} | {r['other']:.2f} | {'yes' if r['median'] <= TARGET_S else 'no'} | "
                 f"{refs[name]['median']:.2f} |")
    if pg:
        L += ["", f"The same reports from the same sessions in {pg['facts']}, on this machine"
              " (psycopg; the table with the index on `requested_at` and the summaries, filled from the"
              f" copied rows in {pg['filled']:.0f} s; median of {a.runs}):", "",
              "| period | sessions | median s | min / max s | ≤ 1 s | reference: from `sessions`, median s |",
              "|---|---:|---:|---:|---|---:|"]
        for name, label in (("month", "June"), ("quarter", "Q2"), ("year", str(YEAR))):
            r = pg["periods"][name]
            L.append(f"| {label} | {r['sessions']:,} | **{r['median']:.3f}** | {r['min']:.3f} / {r['max']:.3f} | "
                     f"{'yes' if r['median'] <= TARGET_S else 'no'} | {pg['refs'][name]['median']:.2f} |")
    if pg:
        L += ["", "(The PostgreSQL tables were loaded with autovacuum off and then each given a `VACUUM"
              " ANALYZE`, the state autovacuum keeps a table in: the visibility map set, so the index-only"
              " scans of `report_waits` need not read the table. An earlier run without that, autovacuum"
              " working on the fresh rows alongside, gave 1.37 s for the year; `EXPLAIN ANALYZE` of a like"
              " database in that state showed every index entry the percentile walks passed fetched from"
              " the table (`Heap Fetches`). The rows of days not yet vacuumed cost that way in production"
              " too.)"]
    L += ["", "Where the year's report from the summaries spends its time (steps of"
          " `kiosk/sessions/reports.py`; the quickest of 3 runs, the least disturbed):", "",
          "| step | s |", "|---|---:|"]
    for label, sec in split.items():
        L.append(f"| {label} | {sec:.3f} |")
    L += ["", "SQLite alone on the same year's `sessions` (the quickest of 3), for scale:", "",
          "| query | s |", "|---|---:|"]
    for label, sec in base.items():
        L.append(f"| {label} | {sec:.2f} |")
    n = writes["n"]
    L += ["", f"What the summaries cost on writing: {n:,} sessions inserted into a new log in one"
          f" transaction took {writes['with']:.1f} s with the triggers and {writes['without']:.1f} s with"
          f" them dropped ({(writes['with'] - writes['without']) / n * 1e6:.0f} µs more per finished"
          " session; the kiosk's own writes are one fsync'd transaction per state change, milliseconds each).",
          "", "Exports of the year's report: " + ", ".join(f"`{k}` {v * 1000:.0f} ms" for k, v in exp.items()) + ".",
          "", "### Observations", ""]
    if len(met) == 3:
        L.append(f"- All three reports took at most {TARGET_S:.0f} s; the year's over {year['sessions']:,}"
                 f" sessions {year['median']:.3f} s, against {refs['year']['median']:.2f} s reading `sessions`.")
    else:
        L.append(f"- Within {TARGET_S:.0f} s: {', '.join(met) or 'none'}; the year's report over "
                 f"{year['sessions']:,} sessions took {year['median']:.2f} s, "
                 f"{year['median'] / TARGET_S:.1f}× the target.")
    L.append("- The report reads summaries, not sessions: the counts of each local day, category and"
             " kiosk (a few tens of thousands of rows for a year, whatever the number of sessions) and,"
             " for the exact medians and 90th percentiles, two index seeks per day, category, kiosk and"
             " period into `report_waits` (the wait ladder in the summaries says in which zone of waits"
             " the rank lies; only that zone is walked). The sums grow with the number of days,"
             " categories and kiosks, not with the sessions; only the walks in the zones do, a small part.")
    L.append("- The triggers keep the summaries in the transaction of every change of a record (its end,"
             " rating, call facts, closing interrupted records, dispatch's upserts, retention), so the"
             " figures are the ones the `sessions` table gives: the tests compare both ways against"
             " figures recomputed in Python (`tests/test_report_summaries.py`).")
    if pg:
        y = pg["periods"]["year"]
        L.append(f"- PostgreSQL took {y['median']:.3f} s for the year from the summaries, against"
                 f" {pg['refs']['year']['median']:.2f} s from `sessions`.")
    if max(r["other"] for r in periods.values()) > 0.3:
        L.append("- The machine was shared while measuring: other processes used up to "
                 f"{max(r['other'] for r in periods.values()):.2f} cores during a run; the figures vary"
                 " between runs accordingly.")
    L.append(END)
    return "\n".join(L) + "\n"


def write_section(section: str, path: Path = DOC) -> None:
    """Replace the section between the markers (or append it), leaving every other byte."""
    _report.write_section(path, START, END, section)


def shown_args(args: list[str]) -> list[str]:
    """The command line for the document: no --no-doc, and no PostgreSQL URL (nor password)."""
    out = []
    for x in args:
        if x == "--no-doc":
            continue
        if x.startswith(("postgresql://", "postgres://")):
            x = "URL"  # a throwaway server's; never a password
        out.append(x)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sessions", type=int, default=1_000_000)
    p.add_argument("--kiosks", type=int, default=20)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--db", type=Path, help="where to build the log (default: a temporary folder)")
    p.add_argument("--keep", action="store_true", help="keep the log (and reuse it when it fits)")
    p.add_argument("--no-doc", action="store_true", help="print the section instead of writing it")
    p.add_argument("--postgresql", metavar="URL",
                   help="also time the reports in this PostgreSQL database (schema report_speed)")
    a = p.parse_args(argv)
    tmp = None
    if a.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="report-speed-")
        a.db = Path(tmp.name) / "sessions.sqlite3"
    facts = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "nproc": os.cpu_count(),
             "cpu": cpu_model(), "mem": mem_gib(), "kernel": platform.release(),
             "python": platform.python_version(),
             "load": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
             "command": ".venv/bin/python bench/report_speed.py" + "".join(
                 f" {shlex.quote(x)}" for x in shown_args(argv if argv is not None else sys.argv[1:]))}
    try:
        built_s = None
        reuse = False
        if a.keep and a.db.exists():
            with sqlite3.connect(a.db) as db:
                reuse = db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == a.sessions
        if not reuse:
            print(f"building a log of {a.sessions:,} sessions at {a.db} …", file=sys.stderr)
            built_s = build_log(a.db, a.sessions, a.kiosks)
        size_mib = a.db.stat().st_size / 2 ** 20
        periods_at = {"month": (date(YEAR, 6, 1), date(YEAR, 6, 30)),
                      "quarter": (date(YEAR, 4, 1), date(YEAR, 6, 30)),
                      "year": (date(YEAR, 1, 1), date(YEAR, 12, 31))}
        with SessionStore(a.db) as store:
            db = store.connection
            periods, refs = {}, {}
            for name, (first, last) in periods_at.items():
                start, end = period_for_dates(first, last, TZ)
                periods[name] = measure(db, start, end, a.runs)
                with from_sessions():
                    refs[name] = measure(db, start, end, a.runs)
                r = periods[name]
                print(f"{name}: {r['sessions']:,} sessions, median {r['median']:.3f} s "
                      f"(runs {', '.join(f'{x:.3f}' for x in r['runs'])}; other processes ≤ {r['other']:.2f} cores);"
                      f" from sessions {refs[name]['median']:.3f} s", file=sys.stderr)
            year = period_for_dates(*periods_at["year"], TZ)
            split = steps(db, *year)
            base = baselines(db, *year)
            exp = exports(db, *year)
            table_rows = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                          for t in ("report_summary", "report_waits")}
        print("timing writes with and without the triggers …", file=sys.stderr)
        writes = {"n": min(100_000, a.sessions), **write_cost(generate(min(100_000, a.sessions), a.kiosks))}
        pg = None
        if a.postgresql:
            print("copying the sessions to PostgreSQL …", file=sys.stderr)
            pdb, filled = copy_to_postgresql(a.postgresql, a.db)
            try:
                pg = {"facts": postgresql_facts(pdb), "periods": {}, "refs": {}, "filled": filled}
                for name, (first, last) in periods_at.items():
                    r = pg["periods"][name] = measure(pdb, *period_for_dates(first, last, TZ), a.runs, "postgresql")
                    with from_sessions():
                        ref = pg["refs"][name] = measure(pdb, *period_for_dates(first, last, TZ), a.runs,
                                                         "postgresql")
                    print(f"postgresql {name}: median {r['median']:.3f} s; from sessions {ref['median']:.3f} s",
                          file=sys.stderr)
            finally:
                pdb.close()
        section = render(a, facts, built_s, size_mib, periods, refs, split, base, exp, writes, table_rows, pg)
        if a.no_doc:
            print(section)
        else:
            write_section(section)
            print(f"wrote the report_speed section of {DOC}", file=sys.stderr)
    finally:
        if tmp is not None:
            tmp.cleanup()
        elif not a.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(str(a.db) + suffix).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
