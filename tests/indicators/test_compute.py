"""The month's indicators against a hand-computed fixture, on SQLite and PostgreSQL.

October 2026 crosses 中秋 (9/25–9/27) and 国庆 (10/1–10/7, adjusted working Saturday 10/10) and a
month's end (decisions of late September due in October; a raw record received at 00:30 Beijing on
10-01, which is still 09-30 in UTC). Today is 2026-10-20. The deadlines below were counted by hand
on the 2026 notice and are checked against the calendar first.

执法主体 A = 11370811MB1111111T (region 370811), B = 11370883MB2222222M (region 370883).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from jnx.indicators.compute import _FAN_OUT, GROUPS, compute, drill, make_scope, trend
from jnx.indicators.definitions import AllTime, Month
from jnx.publicity.calendar import WorkdayCalendar
from jnx.publicity.rules import NaturalPersonPublication, PublicationPolicy, disclosure_deadline
from jnx.store.db import session_factory
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureAction,
    DisclosureKind,
    DisclosureRevision,
    DisclosureStatus,
    MappingErrorEntry,
    MappingErrorStatus,
    RawRecord,
    Run,
    RunStatus,
    RunTrigger,
    SourceSystem,
    StandardRecord,
    SystemKind,
)

A, B = "11370811MB1111111T", "11370883MB2222222M"
TODAY = dt.date(2026, 10, 20)
NOW = dt.datetime(2026, 10, 20, 3, 0, tzinfo=dt.UTC)
CAL = WorkdayCalendar.load()
D = dt.date
BJ = dt.timezone(dt.timedelta(hours=8))

# decision → deadline (7 working days), counted by hand
DEADLINES = {
    D(2026, 9, 21): D(2026, 10, 8),  # 22 23 24 | 中秋 25-27 | 28 29 30 | 国庆 1-7 | 8
    D(2026, 9, 22): D(2026, 10, 9),
    D(2026, 9, 28): D(2026, 10, 13),  # 29 30 | 国庆 | 8 9 10(Sat, worked) 12 13
    D(2026, 9, 30): D(2026, 10, 15),  # REFERENCE §2.1's example
    D(2026, 10, 9): D(2026, 10, 19),
    D(2026, 10, 12): D(2026, 10, 21),
    D(2026, 10, 14): D(2026, 10, 23),
    D(2026, 10, 16): D(2026, 10, 27),
}


def test_the_hand_counted_deadlines_are_the_calendars() -> None:
    for decision, deadline in DEADLINES.items():
        assert disclosure_deadline(decision, CAL).date == deadline, decision
    assert CAL.add_workdays(TODAY, 1).date == D(2026, 10, 21)
    assert CAL.add_workdays(TODAY, 3).date == D(2026, 10, 23)


class Builder:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.n = count(1)

    def record(self, record_type: str, department: str, decided: dt.date, **data: Any) -> StandardRecord:
        i = next(self.n)
        name = {A: "任城区甲局", B: "邹城市乙局"}[department]
        payload = {"decision_date": decided.isoformat(), "authority_name": name, **data}
        if record_type == "inspection":
            payload = {"inspection_date": decided.isoformat(), "inspecting_department": name, **data}
        row = StandardRecord(record_type=record_type, business_key=f"{department}|DOC-{i}", content_hash=f"{i:064d}",
                             data=payload, decision_date=decided)
        self.s.add(row)
        self.s.flush()
        return row

    def disclosure(self, record: StandardRecord, status: DisclosureStatus, revisions: list[tuple[Any, ...]]) -> Disclosure:
        kind = DisclosureKind(record.record_type)
        assert record.decision_date is not None
        d = Disclosure(kind=kind, standard_record_id=record.id, business_key=record.business_key, status=status,
                       decision_date=record.decision_date, deadline=DEADLINES[record.decision_date],
                       current_revision=len(revisions))
        self.s.add(d)
        self.s.flush()
        for number, (action, due, acked, *rest) in enumerate(revisions, start=1):
            created = rest[0] if rest else dt.datetime.combine(record.decision_date, dt.time(10), BJ)
            reason = rest[1] if len(rest) > 1 else None
            at = None if acked is None else dt.datetime.combine(acked, dt.time(15), BJ)
            rev = DisclosureRevision(disclosure_id=d.id, revision=number, action=action, payload={}, reason=reason,
                                     idempotency_key=f"k{d.id}-{number}", due_date=due, created_at=created,
                                     acknowledged_at=at, acknowledged_on=acked)
            self.s.add(rev)
            self.s.flush()
            self.s.add(Delivery(disclosure_revision_id=rev.id,
                                status=DeliveryStatus.ACKNOWLEDGED if acked else DeliveryStatus.PENDING))
        return d


NEW, CORRECTION, WITHDRAWAL = DisclosureAction.NEW, DisclosureAction.CORRECTION, DisclosureAction.WITHDRAWAL
PUB, PENDING, BLOCKED = DisclosureStatus.PUBLISHED, DisclosureStatus.PENDING, DisclosureStatus.BLOCKED


def build(session: Session) -> dict[str, Any]:
    b = Builder(session)
    ids: dict[str, Any] = {}
    # A
    r1 = b.record("penalty", A, D(2026, 9, 28), penalty_types=["罚款"], fine_amount="1.000000")
    ids["d1"] = b.disclosure(r1, DisclosureStatus.WITHDRAWN, [
        (NEW, D(2026, 10, 13), D(2026, 10, 13)),  # on time, on its last day
        (WITHDRAWAL, D(2026, 10, 19), D(2026, 10, 20), dt.datetime(2026, 10, 14, 9, tzinfo=BJ), "信用修复：提前终止公示")])
    r2 = b.record("license", A, D(2026, 9, 30))
    ids["d2"] = b.disclosure(r2, PUB, [(NEW, D(2026, 10, 15), D(2026, 10, 16))])  # a day late
    r3 = b.record("penalty", A, D(2026, 10, 9), penalty_types=["罚款"], fine_amount="0.200000")
    ids["d3"] = b.disclosure(r3, PENDING, [(NEW, D(2026, 10, 19), None)])  # late, overdue now
    r7 = b.record("penalty", A, D(2026, 9, 21), penalty_types=["警告"])
    ids["d7"] = b.disclosure(r7, BLOCKED, [])  # no revision: late, overdue
    r11 = b.record("penalty", A, D(2026, 10, 12), penalty_types=["警告", "罚款"], fine_amount="1.234567")
    ids["d11"] = b.disclosure(r11, PENDING, [(NEW, D(2026, 10, 21), None)])  # due within 1 working day
    ids["s8"] = b.record("license", A, D(2026, 10, 15))  # no disclosure: 漏报
    b.record("inspection", A, D(2026, 10, 31), inspection_results=["1"])
    b.record("inspection", A, D(2026, 10, 30), inspection_results=["A", "D"])
    b.record("inspection", A, D(2026, 11, 1), inspection_results=["B"])  # November
    # B
    r4 = b.record("penalty", B, D(2026, 10, 14), penalty_types=["没收违法所得"], confiscation_amount="3.000001")
    ids["d4"] = b.disclosure(r4, PENDING, [(NEW, D(2026, 10, 23), None)])  # due within 3 working days
    r5 = b.record("license", B, D(2026, 10, 12))
    ids["d5"] = b.disclosure(r5, PUB, [(NEW, D(2026, 10, 21), D(2026, 10, 20))])  # early
    r6 = b.record("penalty", B, D(2026, 9, 22), penalty_types=["罚款"], fine_amount="2.000000")
    ids["d6"] = b.disclosure(r6, PUB, [(NEW, D(2026, 10, 9), D(2026, 9, 30)),
                                       (CORRECTION, D(2026, 10, 15), D(2026, 10, 15), dt.datetime(2026, 10, 12, 9, tzinfo=BJ))])
    ids["s9"] = b.record("penalty", B, D(2026, 10, 16), penalty_types=["警告"], party_type="自然人")  # 漏报 or excluded
    r10 = b.record("penalty", B, D(2026, 10, 16), penalty_types=["罚款"], fine_amount="0.000001")
    ids["d10"] = b.disclosure(r10, BLOCKED, [])
    b.record("coercive_measure", B, D(2026, 10, 10))
    # collection: three registering departments
    for sid, dep, kind in (("sx", "11370800MB0000001X", SystemKind.CASE_HANDLING),
                           ("sy", "11370800MB0000002Y", SystemKind.LICENSING),
                           ("sz", "11370800MB0000003Z", SystemKind.DOUBLE_RANDOM)):
        session.add(SourceSystem(id=sid, department_name=f"部门{sid}", department_credit_code=dep, region_code="370800",
                                 kind=kind, protocol="rest", registration={}, mapping_name="m", mapping_version="1"))
    session.add(SourceSystem(id="credit", department_name="发改委", department_credit_code="11370800MB0000004C",
                             region_code="370800", kind=SystemKind.CREDIT, protocol="rest", registration={},
                             mapping_name="m", mapping_version="1"))
    session.flush()
    utc = dt.UTC
    raws = []
    for sid, at in (("sx", dt.datetime(2026, 9, 30, 16, 30, tzinfo=utc)),  # 10-01 00:30 in Beijing: October
                    ("sx", dt.datetime(2026, 10, 5, tzinfo=utc)), ("sx", dt.datetime(2026, 10, 31, 15, 0, tzinfo=utc)),
                    ("sx", dt.datetime(2026, 9, 30, 15, 59, tzinfo=utc)),  # 09-30 23:59 in Beijing: September
                    ("sy", dt.datetime(2026, 10, 2, tzinfo=utc)), ("sy", dt.datetime(2026, 10, 3, tzinfo=utc))):
        raw = RawRecord(system_id=sid, source_key=f"k{len(raws)}", record_type="penalty" if sid == "sx" else "license",
                        content_hash=f"{len(raws):064d}", payload=b"{}", encoding="utf-8", received_at=at)
        session.add(raw)
        raws.append(raw)
    session.flush()
    for status, created, resolved in ((MappingErrorStatus.OPEN, dt.datetime(2026, 10, 5, tzinfo=utc), None),
                                      (MappingErrorStatus.REPLAYED, dt.datetime(2026, 10, 5, tzinfo=utc),
                                       dt.datetime(2026, 10, 5, 6, tzinfo=utc))):
        session.add(MappingErrorEntry(raw_record_id=raws[1].id, system_id="sx", mapping_name="m", mapping_version="1",
                                      record_type="penalty", field="penalty_types", rule="codeset.unknown", message="x",
                                      group_key="g" * 64, status=status, created_at=created, resolved_at=resolved))
    for sid, status, finished in (("sx", RunStatus.SUCCEEDED, dt.datetime(2026, 10, 10, tzinfo=utc)),
                                  ("sy", RunStatus.SUCCEEDED, dt.datetime(2026, 9, 30, 17, tzinfo=utc)),
                                  ("sz", RunStatus.FAILED, dt.datetime(2026, 10, 11, tzinfo=utc))):
        session.add(Run(system_id=sid, status=status, trigger=RunTrigger.SCHEDULE, due_at=finished, finished_at=finished))
    session.flush()
    return {k: v.id for k, v in ids.items()}


@pytest.fixture
def fixture(migrated_engine: Engine) -> Iterator[tuple[Session, dict[str, Any]]]:
    session = session_factory(migrated_engine)()
    ids = build(session)
    session.commit()
    yield session, ids
    session.close()


def _october(session: Session, **kw: Any) -> Any:
    return make_scope(session, month=Month(2026, 10), today=TODAY, now=NOW, calendar=CAL, **kw)


def _dep(result: dict[str, Any], code: str) -> dict[str, Any]:
    return next(d for d in result["departments"] if d["department"] == code)


def test_timeliness_completeness_compliance_by_department(fixture: tuple[Session, dict[str, Any]]) -> None:
    session, _ = fixture
    result = compute(session, _october(session))
    a, b, total = _dep(result, A), _dep(result, B), result["total"]
    assert (a["came_due"], a["on_time"], a["late"], a["timeliness"]) == (4, 1, 3, 0.25)
    assert (b["came_due"], b["on_time"], b["timeliness"]) == (2, 2, 1.0)
    assert (total["came_due"], total["on_time"], total["timeliness"]) == (6, 3, 0.5)
    assert (a["records"], a["disclosed"], a["missing"], a["completeness"]) == (3, 2, 1, 0.6667)
    assert (b["records"], b["disclosed"], b["missing"], b["excluded"], b["completeness"]) == (4, 3, 1, 0, 0.75)
    assert (a["compliance"], b["compliance"], b["blocked"]) == (1.0, 0.6667, 1)
    assert a["region"] == "370811" and a["department_name"] == "任城区甲局"
    assert a["kinds"]["许可"]["timeliness"] == 0.0 and a["kinds"]["处罚"]["came_due"] == 3


def test_overdue_now_and_due_within_working_days(fixture: tuple[Session, dict[str, Any]]) -> None:
    session, ids = fixture
    result = compute(session, _october(session))
    a, b = _dep(result, A), _dep(result, B)
    assert (a["overdue"], a["due_1"], a["due_3"]) == (2, 1, 1)
    assert (b["overdue"], b["due_1"], b["due_3"]) == (0, 0, 1)
    listed = drill(session, _october(session), "overdue")
    assert {r["id"] for r in listed["records"]} == {ids["d3"], ids["d7"]}


def test_count_overdue_counts_the_rows_of_overdue_condition(fixture: tuple[Session, dict[str, Any]]) -> None:
    """The console's overview counts from the partial indexes; the lists test each row: the same rows."""
    from sqlalchemy import func, select

    from jnx.publicity.views import count_overdue, overdue_condition

    session, _ = fixture
    for where in ((), (Disclosure.business_key.startswith(A),), (Disclosure.business_key.startswith(B),)):
        each_row = session.scalar(select(func.count()).select_from(Disclosure).where(overdue_condition(TODAY), *where))
        assert count_overdue(session, TODAY, *where) == each_row
    assert count_overdue(session, TODAY) == 2 and count_overdue(session, dt.date(2026, 1, 1)) == 0


def test_corrections_withdrawals_and_repairs(fixture: tuple[Session, dict[str, Any]]) -> None:
    session, ids = fixture
    result = compute(session, _october(session))
    a, b = _dep(result, A), _dep(result, B)
    assert (a["withdrawals_due"], a["withdrawal_timeliness"], a["credit_repairs"]) == (1, 0.0, 1)
    assert (b["corrections_due"], b["correction_timeliness"]) == (1, 1.0)
    late = drill(session, _october(session), "withdrawal_timeliness")
    assert [r["disclosure_id"] for r in late["records"]] == [ids["d1"]]


def test_enforcement_totals_are_exact(fixture: tuple[Session, dict[str, Any]]) -> None:
    session, _ = fixture
    result = compute(session, _october(session))
    a, b = _dep(result, A), _dep(result, B)
    assert a["fines_wan"] == Decimal("1.434567") and b["fines_wan"] == Decimal("0.000001")
    assert b["confiscations_wan"] == Decimal("3.000001")
    assert a["penalty_types"] == {"警告": 1, "罚款": 2}
    assert b["penalty_types"] == {"罚款": 1, "没收违法所得": 1, "警告": 1}
    assert (a["inspections"], a["problems"], a["problem_rate"]) == (2, 1, 0.5)
    assert b["coercive_measures"] == 1
    assert result["total"]["fines_wan"] == Decimal("1.434568")


def test_collection_and_data_quality(fixture: tuple[Session, dict[str, Any]]) -> None:
    session, _ = fixture
    c = compute(session, _october(session))["collection"]
    systems = {s["system"]: s for s in c["systems"]}
    assert set(systems) == {"sx", "sy", "sz"}  # the credit platform is not collected from
    assert (systems["sx"]["received"], systems["sy"]["received"], systems["sz"]["received"]) == (3, 2, 0)
    assert (c["departments_registered"], c["departments_connected"], c["connection_rate"]) == (3, 2, 0.6667)
    assert [d["department"] for d in c["not_connected"]] == ["11370800MB0000003Z"]
    assert systems["sx"]["error_rate"] == 0.3333 and systems["sx"]["open_errors"] == 1
    assert systems["sx"]["mean_resolution_hours"] == 6.0
    assert systems["sx"]["last_success_age_hours"] == 243.0  # 10-10 00:00Z → 10-20 03:00Z
    assert systems["sz"]["last_success"] is None


def test_publication_policy_excludes_what_it_does_not_publish(fixture: tuple[Session, dict[str, Any]]) -> None:
    session, ids = fixture
    for policy in (PublicationPolicy(excluded_penalty_categories=frozenset({"警告"})),
                   PublicationPolicy(natural_persons=NaturalPersonPublication.WITHHELD)):
        b = _dep(compute(session, _october(session), policy), B)
        assert (b["missing"], b["excluded"], b["completeness"]) == (0, 1, 1.0)
    b = _dep(compute(session, _october(session), PublicationPolicy(excluded_penalty_categories=frozenset({"罚款"}))), B)
    assert (b["missing"], b["excluded"]) == (1, 0)  # s9 is a 警告: still due
    assert [r["standard_record_id"] for r in drill(session, _october(session), "missing")["records"]] == [ids["s8"], ids["s9"]]


def test_every_count_drills_down_to_its_records(fixture: tuple[Session, dict[str, Any]]) -> None:
    session, ids = fixture
    scope = _october(session, department=A)
    result = compute(session, scope)
    assert [d["department"] for d in result["departments"]] == [A]
    late = drill(session, scope, "late")
    assert late["count"] == result["total"]["late"] == 3
    assert {r["id"] for r in late["records"]} == {ids["d2"], ids["d3"], ids["d7"]}
    assert "disclosures.deadline" in late["sql"]
    assert drill(session, scope, "missing")["count"] == result["total"]["missing"] == 1
    assert drill(session, scope, "penalties")["count"] == result["total"]["penalties"] == 2
    assert drill(session, scope, "problem_rate")["count"] == result["total"]["problems"] == 1
    assert drill(session, _october(session, region="370883"), "due_3")["count"] == 1
    assert drill(session, _october(session), "received")["count"] == 5


def test_all_time_and_another_month(fixture: tuple[Session, dict[str, Any]]) -> None:
    session, _ = fixture
    everything = compute(session, make_scope(session, month=AllTime(), today=TODAY, now=NOW, calendar=CAL))
    assert everything["total"]["disclosed"] == 9 and everything["total"]["inspections"] == 3
    september = compute(session, make_scope(session, month=Month(2026, 9), today=TODAY, now=NOW, calendar=CAL))
    assert september["total"]["came_due"] == 0 and september["total"]["records"] == 4
    assert september["collection"]["received"] == 1


def test_by_kind_and_by_region(fixture: tuple[Session, dict[str, Any]]) -> None:
    session, _ = fixture
    result = compute(session, _october(session))
    kinds = result["total"]["kinds"]
    assert list(kinds) == ["许可", "处罚", "强制", "检查"]
    assert (kinds["处罚"]["came_due"], kinds["处罚"]["on_time"], kinds["处罚"]["timeliness"]) == (4, 2, 0.5)  # d1 d6 | d3 d7
    assert (kinds["许可"]["came_due"], kinds["许可"]["on_time"], kinds["许可"]["missing"]) == (2, 1, 1)  # d5 | d2; s8
    assert (kinds["检查"]["inspections"], kinds["强制"]["coercive_measures"]) == (2, 1)
    regions = {r["region"]: r for r in result["regions"]}
    assert list(regions) == ["370811", "370883"]
    for code, department in (("370811", A), ("370883", B)):
        d = _dep(result, department)
        assert regions[code]["departments"] == 1
        for name in ("came_due", "on_time", "timeliness", "completeness", "compliance", "overdue", "fines_wan"):
            assert regions[code][name] == d[name], (code, name)
    assert _dep(compute(session, _october(session, region="370883")), B)["came_due"] == regions["370883"]["came_due"]


#: figure → the drill-down list whose count it is (the one aggregate and the list share their WHERE)
DRILLED = {
    "late": lambda t: t["late"], "missing": lambda t: t["missing"], "excluded": lambda t: t["excluded"],
    "compliance": lambda t: t["blocked"] + t["rejected"], "withdrawal_rate": lambda t: t["withdrawn"],
    "overdue": lambda t: t["overdue"], "due_1": lambda t: t["due_1"], "due_3": lambda t: t["due_3"],
    "correction_timeliness": lambda t: t["corrections_due"] - t["corrections_on_time"],
    "withdrawal_timeliness": lambda t: t["withdrawals_due"] - t["withdrawals_on_time"],
    "credit_repairs": lambda t: t["credit_repairs"], "penalties": lambda t: t["penalties"],
    "inspections": lambda t: t["inspections"], "problem_rate": lambda t: t["problems"],
    "coercive_measures": lambda t: t["coercive_measures"],
}


@pytest.mark.parametrize("today", [TODAY, D(2026, 11, 3)])
def test_the_aggregates_equal_their_drill_down_counts(fixture: tuple[Session, dict[str, Any]], today: dt.date) -> None:
    """The month's one pass over its records and the other aggregates (the fast path) against the
    plain list behind each figure, in total and for each 执法主体 and region."""
    session, _ = fixture
    for month in (Month(2026, 9), Month(2026, 10), AllTime()):
        scope = make_scope(session, month=month, today=today, now=NOW, calendar=CAL)
        result = compute(session, scope)
        assert result["total"]["records"] > 0
        for key, figure in DRILLED.items():
            assert drill(session, scope, key)["count"] == figure(result["total"]), (str(month), key)
        for row in result["departments"]:
            own = make_scope(session, month=month, today=today, now=NOW, calendar=CAL, department=row["department"])
            for key, figure in DRILLED.items():
                assert drill(session, own, key)["count"] == figure(row), (str(month), row["department"], key)
        for row in result["regions"]:
            own = make_scope(session, month=month, today=today, now=NOW, calendar=CAL, region=row["region"])
            assert drill(session, own, "late")["count"] == row["late"]
            assert drill(session, own, "missing")["count"] == row["missing"]
        c = result["collection"]
        assert drill(session, scope, "received")["count"] == c["received"]
        assert drill(session, scope, "open_errors")["count"] == c["open_errors"]
        assert drill(session, scope, "errors_by_cause")["count"] == sum(e["errors"] for e in result["error_causes"])


def test_parallel_connections_give_the_same_figures(migrated_engine: Engine) -> None:
    """On PostgreSQL ``parallel=True`` runs the query groups on their own connections on one exported
    snapshot; the figures are those of one connection (on SQLite it is the one-connection path)."""
    with session_factory(migrated_engine).begin() as session:
        build(session)
    with session_factory(migrated_engine)() as session:
        one = compute(session, _october(session))
    imported: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if "SET TRANSACTION SNAPSHOT" in statement:
            imported.append(statement)

    event.listen(migrated_engine, "before_cursor_execute", listen)
    try:
        with session_factory(migrated_engine)() as session:
            many = compute(session, _october(session), parallel=True)
    finally:
        event.remove(migrated_engine, "before_cursor_execute", listen)
    assert many == one and one["total"]["came_due"] == 6
    assert len(imported) == (len(GROUPS) if migrated_engine.dialect.name == "postgresql" else 0)
    imported.clear()
    busy = [_FAN_OUT.acquire(blocking=False) for _ in range(2)]  # two other computations fan out already
    event.listen(migrated_engine, "before_cursor_execute", listen)
    try:
        with session_factory(migrated_engine)() as session:
            assert compute(session, _october(session), parallel=True) == one
    finally:
        event.remove(migrated_engine, "before_cursor_execute", listen)
        for taken in busy:
            if taken:
                _FAN_OUT.release()
    assert busy == [True, True] and imported == []  # this one ran on its own connection


@pytest.mark.parametrize("scoped", [{}, {"department": A}, {"region": "370883"}])
def test_the_trend_is_each_months_total(fixture: tuple[Session, dict[str, Any]], scoped: dict[str, str]) -> None:
    """The trend (two aggregates grouped by month over the span) against a computation per month —
    across 中秋/国庆, a month's end and a month with nothing due."""
    session, _ = fixture
    months = Month(2026, 11).back(4)  # 2026-08 … 2026-11
    rows = trend(session, _october(session, **scoped), months)
    assert [r["month"] for r in rows] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    for row, month in zip(rows, months, strict=True):
        total = compute(session, make_scope(session, month=month, today=TODAY, now=NOW, calendar=CAL, **scoped))["total"]
        for key in ("timeliness", "completeness", "compliance", "came_due", "on_time", "late", "records", "missing", "excluded"):
            assert row[key] == total[key], (str(month), key)
    october = rows[2]
    if not scoped:
        assert (october["came_due"], october["on_time"], october["timeliness"]) == (6, 3, 0.5)
    assert rows[0]["timeliness"] is None and rows[0]["records"] == 0  # August: nothing
