"""kiosk/sessions/reports.py and retention.py, and ``kiosk report``.

A known set of sessions goes through the real ``SessionStore`` (begin, transitions, end, rate):
every end reason, every category and none, every rating and none, resident and staff, three
kiosks, three local days in Asia/Shanghai with sessions either side of its midnight (16:00
UTC, so a tap's UTC date and local date differ), plus sessions just outside the period and one
still open. Every expected figure is computed here again, with plain Python over the records
(``Fraction`` for the nearest ranks), and compared with the report, its CSV, its workbook and
its Markdown; the same records uploaded to dispatch's central records (SQLite, and PostgreSQL
where it is installed) give the same report. Random logs (ties, equal waits, other time zones
with clocks changing at midnight) check the percentiles and the days against brute force, with
the zone reading forced both ways.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import random
import shutil
import sqlite3
import subprocess
import sys
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

import pytest

from conftest import ROOT, free_port
from postgres import pg_database, postgres_dsn  # noqa: F401  (fixtures)
from kiosk.dispatch.records import CentralStore
from kiosk.protocol import SessionRecordUpload
from kiosk.sessions import reports
from kiosk.sessions.model import END_REASONS, RATING_LABELS, SessionRecord
from kiosk.sessions.reports import (
    NO_CATEGORY, Figures, build_report, day_start, period_for_dates, to_csv, to_markdown, to_xlsx,
)
from kiosk.sessions.retention import cutoff_for, remove_older_than
from kiosk.sessions.store import SessionStore

TZ = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TZ)
FIRST, LAST = date(2025, 3, 9), date(2025, 3, 11)  # the report's days (local)
KIOSKS = ("k-east", "k-north", "k-west")
CATEGORIES = ("社保", "医疗", "民政", "企业登记", "其他", None)
RATINGS = (5, 4, 3, 2, 1, None)
# end reasons a call can have after an interpreter answered (cancelled_by_caller: both)
AFTER_ANSWER = ("completed", "network_lost", "device_error", "interrupted")


def local(day: date, h: int, m: int = 0, s: int = 0) -> float:
    return datetime(day.year, day.month, day.day, h, m, s, tzinfo=SHANGHAI).timestamp()


# --- the known log ------------------------------------------------------------------------


@dataclasses.dataclass
class Spec:
    sid: str
    kiosk: str
    category: Optional[str]
    started_by: str
    at: float
    reason: str
    answered: bool
    connected: bool
    wait: float  # tap → answer, or tap → end when never answered
    talk: float
    rating: Optional[int]
    rate: bool  # call rate() (with None: the resident skipped the rating screen)


def specs() -> list[Spec]:
    rnd = random.Random(20250309)
    out = []
    days = (FIRST, FIRST + timedelta(days=1), LAST)
    for i in range(135):
        reason = END_REASONS[i % len(END_REASONS)]
        answered = reason in AFTER_ANSWER or (reason == "cancelled_by_caller" and (i // 9) % 2 == 1)
        day = days[(i // 7) % 3]
        at = local(day, rnd.randrange(7, 21), rnd.randrange(60), rnd.randrange(60))
        wait = rnd.choice((30.0, 12.0, 12.0, 31.0, 0.25)) if i % 5 == 0 else rnd.randrange(1, 400) / 4
        rating = RATINGS[(i // 2) % len(RATINGS)]
        out.append(Spec(f"s{i:03d}", KIOSKS[i % 3], CATEGORIES[(i // 3) % len(CATEGORIES)],
                        ("resident", "staff")[(i // 5) % 2], at, reason, answered,
                        connected=answered and i % 11 != 0, wait=wait,
                        talk=rnd.randrange(0, 2400, 5) if answered else 0.0,
                        rating=rating, rate=rating is not None or i % 4 == 0))
    # either side of local midnight (16:00 UTC the day before): the UTC date and the local
    # date of these taps differ, or the tap is the first second of a local day
    edge = [
        ("e-before-midnight", local(FIRST, 23, 59, 59)),  # 15:59:59 UTC
        ("e-at-midnight", local(FIRST + timedelta(days=1), 0, 0, 0)),  # 16:00:00 UTC, day before
        ("e-after-midnight", local(FIRST + timedelta(days=1), 0, 30)),
        ("e-utc-midnight", local(LAST, 8, 0, 0)),  # 00:00 UTC
        ("e-utc-evening", local(LAST, 7, 30)),  # 23:30 UTC the day before
        ("e-first-second", local(FIRST, 0, 0, 0)),
        ("e-last-second", local(LAST, 23, 59, 59)),
    ]
    for n, (sid, at) in enumerate(edge):
        out.append(Spec(sid, KIOSKS[n % 3], CATEGORIES[n % 6], "staff" if n % 2 else "resident", at,
                        "completed", True, True, 20.0 + n, 60.0 * n, RATINGS[n % 6], True))
    # outside the period: the second before it, and the first second after it
    out.append(Spec("x-before", "k-east", None, "resident", local(FIRST, 0) - 1, "completed", True,
                    True, 5.0, 10.0, 5, True))
    out.append(Spec("x-after", "k-east", None, "resident", local(LAST + timedelta(days=1), 0),
                    "completed", True, True, 5.0, 10.0, 5, True))
    return out


def play(store: SessionStore, spec: Spec) -> SessionRecord:
    """One session through the store's API, as the call engine drives it."""
    t = spec.at
    store.begin(spec.sid, spec.kiosk, spec.started_by, spec.category, "1.2.0", at=t)
    store.transition(spec.sid, "queued", t + 0.25)
    if spec.answered:
        store.transition(spec.sid, "ringing", t + min(spec.wait, 0.5) / 2)
        store.transition(spec.sid, "connecting", t + spec.wait, interpreter_id="int-1")
        end = t + spec.wait + 1.0
        if spec.connected:
            store.transition(spec.sid, "connected", t + spec.wait + 1.0)
            end += spec.talk
        rec = store.end(spec.sid, spec.reason, end, "interpreter", quality='{"fps_in": 30}')
    else:
        rec = store.end(spec.sid, spec.reason, t + spec.wait, "dispatch")
    if spec.rate:
        rec = store.rate(spec.sid, spec.rating, rec.ended_at + 5)
    return rec


@pytest.fixture(scope="module")
def known_log(tmp_path_factory) -> tuple[Path, list[SessionRecord]]:
    """The known sessions in a session log file, and the records as the store returned them
    (finished, outside the period, and one still open)."""
    path = tmp_path_factory.mktemp("log") / "sessions.sqlite3"
    with SessionStore(path) as store:
        records = [play(store, s) for s in specs()]
        records.append(store.begin("open-1", "k-west", "resident", None, "1.2.0", at=local(LAST, 10)))
        store.transition("open-1", "queued", local(LAST, 10) + 1)
    return path, records


@pytest.fixture
def log_db(known_log):
    path, records = known_log
    db = sqlite3.connect(path)
    yield db, records
    db.close()


PERIOD = period_for_dates(FIRST, LAST, TZ)


# --- the figures, computed again ----------------------------------------------------------


def nearest_rank(values: list[float], p: Fraction) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered))) - 1]


def expected_figures(recs: list[SessionRecord]) -> dict:
    n = len(recs)
    answered = [r for r in recs if r.answered_at is not None]
    waits = [r.wait_s for r in answered]
    within = sum(1 for r in answered if r.wait_s <= 30)
    talk = sum(r.talk_s for r in answered)
    ratings = {level: sum(1 for r in recs if r.rating == level) for level in (5, 4, 3, 2, 1)}
    rated = sum(ratings.values())
    return {
        "sessions": n,
        "answered": len(answered),
        "answered_share": len(answered) / n if n else None,
        "answered_within_30s": within,
        "answered_within_30s_share": within / n if n else None,
        "wait_median_s": nearest_rank(waits, Fraction(1, 2)),
        "wait_p90_s": nearest_rank(waits, Fraction(9, 10)),
        "abandoned": sum(1 for r in recs if r.end_reason == "cancelled_by_caller" and r.answered_at is None),
        "talk_total_s": float(talk),
        "talk_mean_s": talk / len(answered) if answered else None,
        **{f"rating_{level}": c for level, c in ratings.items()},
        "not_rated": n - rated,
        "satisfaction_share": (ratings[5] + ratings[4] + ratings[3]) / rated if rated else None,
        "started_by_resident": sum(1 for r in recs if r.started_by == "resident"),
        "started_by_staff": sum(1 for r in recs if r.started_by == "staff"),
        "end_reasons": {reason: sum(1 for r in recs if r.end_reason == reason) for reason in END_REASONS},
    }


def expected_report(records: list[SessionRecord], start: float, end: float, tz: str = TZ) -> dict:
    zone = ZoneInfo(tz)
    recs = [r for r in records if r.end_reason is not None and start <= r.requested_at < end]
    by_day, by_cat, by_kiosk = defaultdict(list), defaultdict(list), defaultdict(list)
    for r in recs:
        by_day[datetime.fromtimestamp(r.requested_at, zone).date().isoformat()].append(r)
        by_cat[NO_CATEGORY if r.category is None else r.category].append(r)
        by_kiosk[r.kiosk_id].append(r)
    first = datetime.fromtimestamp(start, zone).date()
    last = datetime.fromtimestamp(end - 1e-3, zone).date()
    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    return {
        "total": expected_figures(recs),
        "day": {d: expected_figures(by_day.get(d, [])) for d in days},
        "category": {c: expected_figures(v) for c, v in by_cat.items()},
        "kiosk": {k: expected_figures(v) for k, v in by_kiosk.items()},
    }


def assert_figures(f: Figures, exp: dict, where: str) -> None:
    got = dataclasses.asdict(f)
    got["end_reasons"] = dict(f.end_reasons)
    assert set(got) == set(exp), where
    for name, want in exp.items():
        have = got[name]
        if isinstance(want, float) and name not in ("wait_median_s", "wait_p90_s"):
            assert have == pytest.approx(want, rel=1e-12), f"{where}: {name}"
        else:  # counts, None, and the percentiles, which are the very waits stored
            assert have == want, f"{where}: {name}"


def assert_report(report, exp: dict) -> None:
    assert_figures(report.totals, exp["total"], "total")
    assert [g.key for g in report.by_day] == list(exp["day"])
    for g in report.by_day:
        assert_figures(g.figures, exp["day"][g.key], f"day {g.key}")
    assert [g.key for g in report.by_category] == sorted(
        exp["category"], key=lambda k: (k == NO_CATEGORY, k))
    for g in report.by_category:
        assert_figures(g.figures, exp["category"][g.key], f"category {g.key}")
    assert [g.key for g in report.by_kiosk] == sorted(exp["kiosk"])
    for g in report.by_kiosk:
        assert_figures(g.figures, exp["kiosk"][g.key], f"kiosk {g.key}")


# --- the known log: the report ------------------------------------------------------------


def test_the_known_log_covers_what_it_should(log_db):
    """The fixture itself: every end reason, category, rating, starter, kiosk and day, taps
    whose UTC date differs from their local date, and sessions the report must leave out."""
    _, records = log_db
    inside = [r for r in records if r.end_reason and PERIOD[0] <= r.requested_at < PERIOD[1]]
    assert {r.end_reason for r in inside} == set(END_REASONS)
    assert {r.category for r in inside} == set(CATEGORIES)
    assert {r.rating for r in inside} == set(RATINGS)
    assert {r.started_by for r in inside} == {"resident", "staff"}
    assert {r.kiosk_id for r in inside} == set(KIOSKS)
    assert {datetime.fromtimestamp(r.requested_at, SHANGHAI).date() for r in inside} == {
        FIRST, FIRST + timedelta(days=1), LAST}
    utc_dates_differ = [r for r in inside if datetime.fromtimestamp(r.requested_at, SHANGHAI).date()
                        != datetime.fromtimestamp(r.requested_at, timezone.utc).date()]
    assert len(utc_dates_differ) >= 3
    assert any(r.end_reason == "cancelled_by_caller" and r.answered_at is not None for r in inside)
    assert any(r.answered_at is not None and r.connected_at is None for r in inside)
    assert any(r.wait_s == 30.0 and r.answered_at for r in inside)  # "within 30 s" is ≤ 30
    assert any(r.is_open for r in records)
    assert len(inside) < len(records) - 2


def test_period_for_dates_is_local_midnight_to_local_midnight():
    start, end = PERIOD
    assert datetime.fromtimestamp(start, SHANGHAI) == datetime(2025, 3, 9, tzinfo=SHANGHAI)
    assert end - start == 3 * 86400
    assert datetime.fromtimestamp(start, timezone.utc) == datetime(2025, 3, 8, 16, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        period_for_dates(LAST, FIRST, TZ)


def test_report_of_the_known_log(log_db):
    db, records = log_db
    report = build_report(db, *PERIOD, tz=TZ, clock=lambda: 1_741_700_000.0)
    assert report.period.first_day == FIRST and report.period.last_day == LAST
    assert report.generated_at == 1_741_700_000.0
    assert_report(report, expected_report(records, *PERIOD))
    # and the figures are not trivially empty
    t = report.totals
    assert t.sessions > 100 and 0 < t.answered < t.sessions and t.abandoned > 0
    assert all(t.end_reasons[r] > 0 for r in END_REASONS)
    assert all(t.ratings[level] > 0 for level in (5, 4, 3, 2, 1)) and t.not_rated > 0
    assert sum(g.figures.sessions for g in report.by_day) == t.sessions
    assert sum(g.figures.sessions for g in report.by_kiosk) == t.sessions
    assert sum(g.figures.sessions for g in report.by_category) == t.sessions


def test_report_through_the_store_connection(known_log):
    """The kiosk's own store hands its connection to the report (autocommit, foreign keys)."""
    path, records = known_log
    with SessionStore(path) as store:
        threads = store.pragma("threads")
        report = build_report(store.connection, *PERIOD, tz=TZ)
        assert not store.connection.in_transaction  # its own read transaction, ended
        assert store.pragma("threads") == threads  # its sorter threads, put back
    assert_report(report, expected_report(records, *PERIOD))


def test_a_part_of_a_day_and_an_empty_period(log_db):
    db, records = log_db
    start, end = local(FIRST + timedelta(days=1), 0, 0, 0), local(FIRST + timedelta(days=1), 12)
    report = build_report(db, start, end, tz=TZ)
    assert [g.key for g in report.by_day] == ["2025-03-10"]
    assert_report(report, expected_report(records, start, end))
    empty = build_report(db, local(date(2024, 1, 1), 0), local(date(2024, 1, 3), 0), tz=TZ)
    assert empty.totals == Figures()
    assert [g.key for g in empty.by_day] == ["2024-01-01", "2024-01-02"]
    assert empty.by_category == () and empty.by_kiosk == ()
    assert "0" in to_markdown(empty) and to_csv(empty).count("\n") == 4
    with pytest.raises(ValueError):
        build_report(db, end, start)
    with pytest.raises(ValueError):
        build_report(db, start, end, dialect="oracle")


def test_the_report_in_utc_has_other_days(log_db):
    db, records = log_db
    start, end = PERIOD
    report = build_report(db, start, end, tz="UTC")
    assert [g.key for g in report.by_day] == ["2025-03-08", "2025-03-09", "2025-03-10", "2025-03-11"]
    assert_report(report, expected_report(records, start, end, "UTC"))


# --- the known log: the exports -----------------------------------------------------------


def number(cell: str):
    if cell == "":
        return None
    return float(cell) if "." in cell else int(cell)


def test_csv_holds_the_report(log_db):
    db, records = log_db
    report = build_report(db, *PERIOD, tz=TZ)
    text = to_csv(report)
    assert text.startswith("\ufeff")  # Excel then reads UTF-8
    rows = list(csv.reader(io.StringIO(text[1:])))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["区间 / Section", "项目 / Key", "名称 / Label"]
    assert all(" / " in h for h in header)  # bilingual
    cols = reports.columns(report)
    assert header[3:] == [c.header for c in cols]
    lines = list(report.sections())
    assert [(r[0], r[1]) for r in body] == [(s, k) for s, k, _ in lines]
    assert {r[0] for r in body} == set(reports.SECTIONS) == {"total", "day", "category", "kiosk"}
    for level, label in RATING_LABELS.items():  # the five levels, in the standard's words
        assert f"{label} / " in header[3 + [c.name for c in cols].index(f"rating_{level}")]
    assert any(r[0] == "category" and r[1] == "none" and r[2] == "未分类" for r in body)
    for row, (section, key, f) in zip(body, lines):
        for col, cell in zip(cols, row[3:]):
            want = col.value(f)
            got = number(cell)
            if want is None:
                assert got is None, (section, key, col.name)
            elif col.kind == "share":
                assert got == pytest.approx(want, abs=5e-7), (section, key, col.name)
            elif col.kind == "seconds":
                assert got == pytest.approx(want, abs=5e-4), (section, key, col.name)
            else:
                assert got == want and isinstance(got, int), (section, key, col.name)
    # and against the figures computed here, for the totals
    exp = expected_report(records, *PERIOD)["total"]
    total = dict(zip(header, body[0]))
    assert number(total["会话数 / Sessions"]) == exp["sessions"]
    assert number(total["30秒内接通 / Answered within 30 s"]) == exp["answered_within_30s"]
    assert number(total["结束原因：呼叫方取消 / End reason: cancelled_by_caller"]) == exp["end_reasons"]["cancelled_by_caller"]
    assert number(total["等待时间中位数（秒） / Median wait (s)"]) == pytest.approx(exp["wait_median_s"], abs=5e-4)


def summary_table(wb) -> dict:
    """The summary sheet's figure table: {header: value cell}, from 指标 / Figure to the blank row."""
    rows = list(wb["总览 Summary"].iter_rows(max_col=2))
    top = next(i for i, r in enumerate(rows) if r[0].value == "指标 / Figure")
    table = {}
    for r in rows[top + 1:]:
        if r[0].value is None:
            break
        table[r[0].value] = r[1]
    return table


def test_xlsx_holds_the_report(log_db, tmp_path):
    from openpyxl import load_workbook

    db, _ = log_db
    report = build_report(db, *PERIOD, tz=TZ)
    path = tmp_path / "report.xlsx"
    to_xlsx(report, path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["总览 Summary", "按日 By day", "按事项 By category", "按终端 By kiosk"]
    cols = reports.columns(report)
    # the summary: a figure per row, its value beside it, formatted by kind
    summary = summary_table(wb)
    assert wb["总览 Summary"]["B2"].value == "2025-03-09 – 2025-03-11"
    for c in cols:
        cell = summary[c.header]
        want = c.value(report.totals)
        assert cell.value == (pytest.approx(want, rel=1e-12) if isinstance(want, float) else want), c.name
        assert cell.number_format == {"count": "0", "share": "0.0%", "seconds": "0.0"}[c.kind]
    for title, groups in (("按日 By day", report.by_day), ("按事项 By category", report.by_category),
                          ("按终端 By kiosk", report.by_kiosk)):
        ws = wb[title]
        rows = list(ws.iter_rows())
        header = [cell.value for cell in rows[0]]
        assert header[2:] == [c.header for c in cols]
        assert [r[0].value for r in rows[1:]] == [g.key for g in groups]
        for row, g in zip(rows[1:], groups):
            for c, cell in zip(cols, row[2:]):
                want = c.value(g.figures)
                if isinstance(want, float):
                    assert cell.value == pytest.approx(want, rel=1e-12), (title, g.key, c.name)
                else:
                    assert cell.value == want, (title, g.key, c.name)
                if c.kind == "share":
                    assert cell.number_format == "0.0%"
        assert ws.freeze_panes == "C2"
        assert ws.column_dimensions["C"].width >= 10


def test_markdown_holds_the_totals(log_db):
    db, _ = log_db
    report = build_report(db, *PERIOD, tz=TZ)
    md = to_markdown(report)
    t = report.totals
    assert md.startswith("# ")
    assert "2025-03-09 – 2025-03-11 (Asia/Shanghai)" in md
    assert f"| 会话数 / Sessions | {t.sessions} |" in md
    assert f"| 已接通 / Answered | {t.answered} |" in md
    assert f"{t.answered_within_30s_share * 100:.1f} %" in md
    assert f"| 等待时间中位数（秒） / Median wait (s) | {t.wait_median_s:.1f} |" in md
    assert f"| 满意率 / Satisfaction share | {t.satisfaction_share * 100:.1f} % |" in md
    assert f"| 非常不满意 / Very dissatisfied (1) | {t.rating_1} |" in md
    for heading in ("## 按日 / By day", "## 按事项 / By category", "## 按终端 / By kiosk", "## 口径 / Definitions"):
        assert heading in md
    assert "| 未分类 |" in md and "| 2025-03-10 周一 |" in md


# --- the same sessions in dispatch's central records ---------------------------------------


def upload(rec: SessionRecord) -> SessionRecordUpload:
    return SessionRecordUpload(**rec.to_dict())


def fill_central(store, records: list[SessionRecord]) -> None:
    for rec in records:  # the open one too: its row has end_reason NULL, as a late upload's would
        store.put_kiosk_record(upload(rec))
    # sessions dispatch routed but whose kiosk record has not arrived
    for i in range(3):
        store.put_routing(f"routed-only-{i}", KIOSKS[i], location="hall", requested_at=PERIOD[0] + 3600 * i,
                          queue_s=1.0, rings=1, declines=0, missed_rings=0, interpreter_id="int-1",
                          outcome="answered")
    store.put_routing(records[0].session_id, records[0].kiosk_id, location="hall",
                      requested_at=records[0].requested_at, queue_s=1.0, rings=1, declines=0,
                      missed_rings=0, interpreter_id="int-1", outcome="answered")


def test_report_of_the_central_records(log_db, tmp_path):
    _, records = log_db
    with CentralStore(tmp_path / "central.sqlite3") as central:
        fill_central(central, records)
        with central.connection() as db:
            report = build_report(db, *PERIOD, tz=TZ, dialect=central.dialect)
    assert_report(report, expected_report(records, *PERIOD))


def test_report_of_the_central_records_in_postgresql(log_db, pg_database):
    psycopg = pytest.importorskip("psycopg")
    from kiosk.dispatch.records import PgCentralStore

    _, records = log_db
    with PgCentralStore(pg_database) as central:
        fill_central(central, records)
        with central.connection() as db:
            report = build_report(db, *PERIOD, tz=TZ, dialect="postgresql")
    assert_report(report, expected_report(records, *PERIOD))
    # a plain psycopg connection, autocommit or not, rows as dicts, works too and is left as it was
    for autocommit in (True, False):
        with psycopg.connect(pg_database, autocommit=autocommit, row_factory=psycopg.rows.dict_row) as db:
            again = build_report(db, *PERIOD, tz=TZ, dialect="postgresql")
            assert db.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert_report(again, expected_report(records, *PERIOD))
        # the zone reading both ways, and days in a zone whose clocks change (a CASE in the SQL)
    with psycopg.connect(pg_database, autocommit=True) as db:
        for read_cost in (0.0, 1e12):
            reports._READ_COST, saved = read_cost, reports._READ_COST
            try:
                assert_report(build_report(db, *PERIOD, tz=TZ, dialect="postgresql"),
                              expected_report(records, *PERIOD))
            finally:
                reports._READ_COST = saved
        chile = period_for_dates(date(2025, 4, 4), date(2025, 4, 7), "America/Santiago")
        assert len(build_report(db, *chile, tz="America/Santiago", dialect="postgresql").by_day) == 4


# --- percentiles and days against brute force ----------------------------------------------


def random_log(rnd: random.Random, n: int, start: float, span_s: float, spread: str) -> list[tuple]:
    """Rows for the sessions table straight (no store API): many sessions, quickly."""
    rows = []
    for i in range(n):
        t = start + rnd.random() * span_s
        kiosk = f"k{rnd.randrange(4)}"
        if spread == "ties":
            wait = float(rnd.choice((3, 3, 3, 7, 30, 30, 31)))
        elif spread == "slow-kiosk" and kiosk == "k3":
            wait = 500 + rnd.random() * 1000
        else:
            wait = rnd.lognormvariate(2.4, 0.8)
        answered = rnd.random() < 0.85
        reason = rnd.choice(AFTER_ANSWER) if answered else rnd.choice(("cancelled_by_caller", "no_interpreter"))
        category = rnd.choice(CATEGORIES)
        rows.append((f"r{i}", kiosk, rnd.choice(("resident", "staff")), category, "ended", t,
                     t + wait if answered else None, t + wait + 1 if answered else None,
                     t + wait + 60, wait, 59.0 if answered else 0.0, reason, "kiosk", None,
                     rnd.choice(RATINGS), None, "1.0"))
    return rows


def records_of(rows: list[tuple]) -> list[SessionRecord]:
    names = [f.name for f in dataclasses.fields(SessionRecord)][:17]
    return [SessionRecord(**dict(zip(names, r))) for r in rows]


def memory_log(rows: list[tuple]) -> SessionStore:
    store = SessionStore(":memory:")
    db = store.connection
    db.execute("BEGIN")
    names = [f.name for f in dataclasses.fields(SessionRecord)][:17]
    db.executemany(f"INSERT INTO sessions ({', '.join(names)}) VALUES ({', '.join('?' * 17)})", rows)
    db.execute("COMMIT")
    return store


@pytest.mark.parametrize("read_cost", [0.0, 10.0, 1e12])  # read zones always / as shipped / never
@pytest.mark.parametrize("sample_days", [0, 3, 12])  # no thresholds but 10/30/60 s; few; as shipped
@pytest.mark.parametrize("spread", ["lognormal", "ties", "slow-kiosk"])
def test_percentiles_equal_brute_force(monkeypatch, read_cost, sample_days, spread):
    monkeypatch.setattr(reports, "_READ_COST", read_cost)
    monkeypatch.setattr(reports, "_SAMPLE_DAYS", sample_days)
    rnd = random.Random(f"{spread}-{read_cost}-{sample_days}")
    start = local(date(2025, 5, 1), 0)
    rows = random_log(rnd, 3000, start - 86400, 22 * 86400, spread)
    with memory_log(rows) as store:
        end = start + 20 * 86400
        report = build_report(store.connection, start, end, tz=TZ)
    assert_report(report, expected_report(records_of(rows), start, end))


def test_percentiles_of_a_day_with_one_answered_session(monkeypatch):
    monkeypatch.setattr(reports, "_SAMPLE_DAYS", 1)
    start = local(date(2025, 5, 1), 0)
    rows = random_log(random.Random(7), 400, start, 86400, "lognormal")
    rows.append(("lonely", "k9", "staff", None, "ended", start + 86400 + 5, start + 86400 + 17.5,
                 None, start + 86400 + 40, 12.5, 0.0, "network_lost", "kiosk", None, None, None, "1.0"))
    with memory_log(rows) as store:
        report = build_report(store.connection, start, start + 2 * 86400, tz=TZ)
    day2 = report.by_day[1].figures
    assert (day2.sessions, day2.wait_median_s, day2.wait_p90_s, day2.talk_mean_s) == (1, 12.5, 12.5, 0.0)
    assert_report(report, expected_report(records_of(rows), start, start + 2 * 86400))


@pytest.mark.parametrize("tz, first, last", [
    ("America/Santiago", date(2025, 4, 4), date(2025, 4, 7)),  # clocks back an hour at midnight
    ("America/Santiago", date(2025, 9, 5), date(2025, 9, 8)),  # midnight does not exist
    ("Europe/Berlin", date(2025, 3, 29), date(2025, 3, 31)),  # a 23-hour day
    ("Europe/Berlin", date(2025, 10, 25), date(2025, 10, 27)),  # a 25-hour day
    ("Australia/Lord_Howe", date(2025, 4, 5), date(2025, 4, 7)),  # half an hour back
])
def test_days_where_the_clocks_change(monkeypatch, tz, first, last):
    monkeypatch.setattr(reports, "_SAMPLE_DAYS", 1)  # the first day exactly, the others by zones
    rnd = random.Random(tz + str(first))
    start, end = period_for_dates(first, last, tz)
    zone = ZoneInfo(tz)
    assert datetime.fromtimestamp(start, zone).date() == first
    assert datetime.fromtimestamp(start - 1, zone).date() == first - timedelta(days=1)
    assert datetime.fromtimestamp(end - 1, zone).date() == last
    # the taps cluster around the local midnights, where the days are decided
    rows = random_log(rnd, 1500, start - 3 * 3600, end - start + 6 * 3600, "lognormal")
    for i, day in enumerate(first + timedelta(days=d) for d in range((last - first).days + 2)):
        b = day_start(day, tz)
        rows += [(f"m{i}-{j}", "k0", "staff", None, "ended", b + off, b + off + 5, b + off + 6,
                  b + off + 60, 5.0 + j, 54.0, "completed", "kiosk", None, 5, None, "1.0")
                 for j, off in enumerate((-3600.5, -1800, -1, 0, 0.5, 1800, 3600.5))]
    with memory_log(rows) as store:
        report = build_report(store.connection, start, end, tz=tz)
    assert_report(report, expected_report(records_of(rows), start, end, tz))


# --- retention ------------------------------------------------------------------------------


def test_cutoff_for():
    now = 1_750_000_000.0
    assert cutoff_for(3, now) == now - 3 * 365.2425 * 86400
    assert now - cutoff_for(0.5, now) == pytest.approx(182.62 * 86400, rel=1e-4)
    with pytest.raises(ValueError):
        cutoff_for(0, now)


def test_retention_removes_old_sessions_with_their_events_and_outbox(known_log, tmp_path):
    path, records = known_log
    copy = tmp_path / "sessions.sqlite3"
    shutil.copy(path, copy)
    cutoff = local(FIRST + timedelta(days=1), 0)
    old = {r.session_id for r in records if r.requested_at < cutoff}
    assert old and len(old) < len(records)
    with SessionStore(copy) as store:
        db = store.connection
        assert db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] > 0
        assert remove_older_than(db, cutoff) == len(old)
        assert not db.in_transaction
        left = {r[0] for r in db.execute("SELECT session_id FROM sessions")}
        assert left == {r.session_id for r in records} - old
        for table in ("session_events", "outbox"):
            orphans = db.execute(f"SELECT COUNT(*) FROM {table} WHERE session_id NOT IN"
                                 " (SELECT session_id FROM sessions)").fetchone()[0]
            assert orphans == 0
            assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] > 0
        assert store.integrity_ok()
        assert remove_older_than(db, cutoff) == 0
        # the log goes on working
        store.begin("new-1", "k-east", "staff", "社保", "1.2.0", at=cutoff + 10 * 86400)
        store.end("new-1", "no_interpreter", cutoff + 10 * 86400 + 5, "dispatch")


def test_retention_without_foreign_keys_and_in_the_callers_transaction(known_log, tmp_path):
    path, records = known_log
    copy = tmp_path / "sessions.sqlite3"
    shutil.copy(path, copy)
    cutoff = local(LAST, 0)
    db = sqlite3.connect(copy)  # foreign keys off: the child rows go by explicit deletes
    try:
        db.execute("BEGIN")
        removed = remove_older_than(db, cutoff)
        assert db.in_transaction  # the caller's transaction: the caller commits
        db.rollback()
        assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == len(records)
        assert remove_older_than(db, cutoff) == removed == sum(r.requested_at < cutoff for r in records)
        assert db.execute("SELECT COUNT(*) FROM session_events WHERE session_id NOT IN"
                          " (SELECT session_id FROM sessions)").fetchone()[0] == 0
    finally:
        db.close()


def test_retention_of_the_central_records(log_db, tmp_path):
    _, records = log_db
    with CentralStore(tmp_path / "central.sqlite3") as central:
        fill_central(central, records)
        before = central.count()
        cutoff = PERIOD[0] + 3600 * 1.5  # two of the routed-only sessions are older
        with central.connection() as db:
            removed = remove_older_than(db, cutoff)
        assert removed == sum(r.requested_at < cutoff for r in records) + 2
        assert central.count() == before - removed
        assert central.get("routed-only-2") is not None and central.get("routed-only-0") is None


def test_retention_of_the_central_records_in_postgresql(log_db, pg_database):
    pytest.importorskip("psycopg")
    from kiosk.dispatch.records import PgCentralStore

    _, records = log_db
    with PgCentralStore(pg_database) as central:
        fill_central(central, records)
        before = central.count()
        cutoff = PERIOD[0] + 3600 * 1.5
        import psycopg

        with psycopg.connect(pg_database, row_factory=psycopg.rows.dict_row) as db:
            removed = remove_older_than(db, cutoff, dialect="postgresql")
        assert removed == sum(r.requested_at < cutoff for r in records) + 2
        assert central.count() == before - removed


# --- kiosk report ---------------------------------------------------------------------------


def kiosk(config, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", "report", "--config", str(config.source), *args],
                          cwd=ROOT, capture_output=True, timeout=120)


@pytest.fixture
def report_config(demo_config, known_log):
    config = demo_config()
    config.data_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(known_log[0], config.data_path / "sessions.sqlite3")
    return config


@pytest.mark.slow
def test_kiosk_report_csv_to_stdout(report_config, known_log):
    result = kiosk(report_config, "--from", "2025-03-09", "--to", "2025-03-11", "--format", "csv")
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    exp = expected_report(known_log[1], *PERIOD)
    total = rows[0]
    assert total["区间 / Section"] == "total"
    assert int(total["会话数 / Sessions"]) == exp["total"]["sessions"]
    assert int(total["非常满意 / Very satisfied (5)"]) == exp["total"]["rating_5"]
    assert float(total["满意率 / Satisfaction share"]) == pytest.approx(exp["total"]["satisfaction_share"], abs=1e-6)
    days = {r["项目 / Key"]: r for r in rows if r["区间 / Section"] == "day"}
    assert list(days) == list(exp["day"])
    for key, row in days.items():
        assert int(row["会话数 / Sessions"]) == exp["day"][key]["sessions"]
    assert b"sessions" in result.stderr


@pytest.mark.slow
def test_kiosk_report_xlsx_md_and_central(report_config, known_log, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "r.xlsx"
    result = kiosk(report_config, "--from", "2025-03-09", "--to", "2025-03-11", "--format", "xlsx", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    exp = expected_report(known_log[1], *PERIOD)
    assert summary_table(load_workbook(out))["会话数 / Sessions"].value == exp["total"]["sessions"]

    md = tmp_path / "r.md"
    result = kiosk(report_config, "--from", "2025-03-10", "--to", "2025-03-10", "--format", "md", "--out", str(md))
    assert result.returncode == 0, result.stderr.decode()
    one_day = expected_report(known_log[1], *period_for_dates(FIRST + timedelta(days=1), FIRST + timedelta(days=1), TZ))
    assert f"| 会话数 / Sessions | {one_day['total']['sessions']} |" in md.read_text(encoding="utf-8")

    # --central: the same sessions in dispatch's central records
    central_path = report_config.dispatch_data_path / "central.sqlite3"
    with CentralStore(central_path) as central:
        fill_central(central, known_log[1])
    result = kiosk(report_config, "--from", "2025-03-09", "--to", "2025-03-11", "--central")
    assert result.returncode == 0, result.stderr.decode()
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode("utf-8")[1:])))
    assert int(rows[0]["会话数 / Sessions"]) == exp["total"]["sessions"]


@pytest.mark.slow
def test_kiosk_report_central_in_postgresql(demo_config, known_log, pg_database):
    pytest.importorskip("psycopg")
    from kiosk.dispatch.records import PgCentralStore

    with PgCentralStore(pg_database) as central:
        fill_central(central, known_log[1])
    config = demo_config(server={"database_url": pg_database})
    result = kiosk(config, "--from", "2025-03-09", "--to", "2025-03-11", "--central", "--format", "md")
    assert result.returncode == 0, result.stderr.decode()
    exp = expected_report(known_log[1], *PERIOD)
    assert f"| 会话数 / Sessions | {exp['total']['sessions']} |" in result.stdout.decode("utf-8")
    # a server that is not there: said so, without the password
    config = demo_config(server={"database_url": f"postgresql://someone:s3cret@127.0.0.1:{free_port()}/central"})
    result = kiosk(config, "--from", "2025-03-09", "--to", "2025-03-11", "--central")
    assert result.returncode == 1
    assert "cannot read the central records at postgresql://someone@127.0.0.1:" in result.stderr.decode()
    assert b"s3cret" not in result.stderr


@pytest.mark.slow
def test_kiosk_report_refuses_what_it_cannot_do(report_config, tmp_path):
    cases = [
        (("--from", "2025-02-30", "--to", "2025-03-01"), 2, "expected a date like"),
        (("--from", "9.3.2025", "--to", "2025-03-01"), 2, "expected a date like"),
        (("--from", "2025-03-11", "--to", "2025-03-09"), 2, "is before --from"),
        (("--from", "2025-03-09", "--to", "2025-03-11", "--format", "xlsx"), 2, "needs --out"),
        (("--from", "2025-03-09", "--to", "2025-03-11", "--out", str(tmp_path / "no" / "r.csv")), 1, "does not exist"),
        (("--from", "2025-03-09", "--to", "2025-03-11", "--central"), 1, "no central records"),
        (("--from", "2025-03-09", "--to", "2025-03-11", "--data-dir", str(tmp_path / "empty")), 1, "no session log"),
    ]
    for args, code, message in cases:
        result = kiosk(report_config, *args)
        assert result.returncode == code, (args, result.stderr.decode())
        assert message in result.stderr.decode(), (args, result.stderr.decode())
        assert not (tmp_path / "empty").exists()  # a report never creates a log


# --- layers ---------------------------------------------------------------------------------


def test_reports_and_retention_import_nothing_above_the_session_layer():
    code = ("import sys\n"
            "import kiosk.sessions.reports, kiosk.sessions.retention\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'aiortc', 'av', 'openpyxl')"
            " or m.startswith(('kiosk.call', 'kiosk.ui', 'kiosk.dispatch')))\n"
            "print(bad)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
