"""All indicators of one month, assembled from the SQL aggregates (:mod:`.publicity_sql`,
:mod:`.exchange_sql`): per 执法主体 and kind, per department, in total; collection and data quality
per source system; and the drill-down behind any figure (:func:`drill`).

Rates are shares in 0..1 (None when nothing was counted); money is Decimal 万元 with 6 places.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select, text, true
from sqlalchemy.orm import Session

from jnx.errors import InputError, NotFoundError
from jnx.indicators import exchange_sql, month_sql, publicity_sql
from jnx.indicators.definitions import (
    BY_KEY,
    DISCLOSURE_KINDS,
    KIND_OF_TYPE,
    PENALTY_TYPES,
    Kind,
    Month,
    Period,
    rate,
)
from jnx.indicators.scope import DECIDED, Scope, count_if, key_filters, month_key, wan_value
from jnx.publicity.rules import DEFAULT_PUBLICATION, PublicationPolicy, WorkingDays
from jnx.store.models import Disclosure, DisclosureStatus, StandardRecord

COUNTS = ("came_due", "on_time", "records", "disclosed", "excluded", "blocked", "rejected", "withdrawn", "overdue",
          "due_1", "due_3", "corrections_due", "corrections_on_time", "withdrawals_due", "withdrawals_on_time",
          "credit_repairs", "penalties", "inspections", "problems", "coercive_measures")
MONEY = ("fines_wan", "confiscations_wan")
ZERO = Decimal("0.000000")


def make_scope(session: Session, *, month: Period, today: dt.date, now: dt.datetime, calendar: WorkingDays,
               department: str | None = None, region: str | None = None) -> Scope:
    """The scope of one computation; on PostgreSQL it also tunes the rest of the transaction: JIT
    compilation off (these are short aggregates whose plans look costly; compiling them took ~1 s
    of a 1.3 s query) and ``random_page_cost`` 1.1 (the pages are cached, not on a spinning disk:
    the month's few thousand records then join their disclosures by index instead of hashing all
    of them — 1.4 s → 0.8 s at 10^6 records, docs/performance.md)."""
    if session.get_bind().dialect.name == "postgresql":
        _tune(session)
    return Scope(month=month, today=today, due_1=calendar.add_workdays(today, 1).date,
                 due_3=calendar.add_workdays(today, 3).date, now=now, department=department, region=region,
                 dialect=session.get_bind().dialect.name)


class _Tally:
    """Raw counts by (department, kind); rates are derived from the sums, never averaged."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, Kind], dict[str, Any]] = {}

    def cell(self, department: str, kind: Kind) -> dict[str, Any]:
        found = self.cells.get((department, kind))
        if found is None:
            found = {**dict.fromkeys(COUNTS, 0), **dict.fromkeys(MONEY, ZERO), "penalty_types": {}}
            self.cells[(department, kind)] = found
        return found

    def add(self, department: str, kind: Kind, name: str, value: Any) -> None:
        cell = self.cell(department, kind)
        cell[name] += value


def _merge(cells: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {**dict.fromkeys(COUNTS, 0), **dict.fromkeys(MONEY, ZERO)}
    types: dict[str, int] = defaultdict(int)
    for cell in cells:
        for name in (*COUNTS, *MONEY):
            out[name] += cell[name]
        for name, n in cell["penalty_types"].items():
            types[name] += n
    out["penalty_types"] = {t: types[t] for t in PENALTY_TYPES if types.get(t)}
    return _rates(out)


def _rates(c: dict[str, Any]) -> dict[str, Any]:
    """The derived figures of a cell (formulas in :mod:`jnx.indicators.definitions`)."""
    published_base = c["records"] - c["excluded"]
    c["late"] = c["came_due"] - c["on_time"]
    c["missing"] = c["records"] - c["disclosed"] - c["excluded"]
    c["timeliness"] = rate(c["on_time"], c["came_due"])
    c["late_rate"] = None if c["timeliness"] is None else round(1 - c["timeliness"], 4)
    c["completeness"] = rate(c["disclosed"], published_base)
    c["compliance"] = None if c["disclosed"] == 0 else round(1 - (c["blocked"] + c["rejected"]) / c["disclosed"], 4)
    c["withdrawal_rate"] = rate(c["withdrawn"], c["disclosed"])
    c["correction_timeliness"] = rate(c["corrections_on_time"], c["corrections_due"])
    c["withdrawal_timeliness"] = rate(c["withdrawals_on_time"], c["withdrawals_due"])
    c["problem_rate"] = rate(c["problems"], c["inspections"])
    return c


def _disclosure_figures(found: dict[str, Any], tally: _Tally) -> None:
    for row in found["timeliness"]:
        kind = DISCLOSURE_KINDS[str(row.kind)]
        tally.add(row.department, kind, "came_due", int(row.came_due))
        tally.add(row.department, kind, "on_time", int(row.on_time))
    for name, now_by_key in found["now"].items():
        for (department, kind_name), n in now_by_key.items():
            tally.add(department, DISCLOSURE_KINDS[kind_name], name, n)
    for action, change_by_key in found["changes"].items():
        prefix = "corrections" if action == "correction" else "withdrawals"
        for (department, kind_name), (due, ok) in change_by_key.items():
            tally.add(department, DISCLOSURE_KINDS[kind_name], f"{prefix}_due", due)
            tally.add(department, DISCLOSURE_KINDS[kind_name], f"{prefix}_on_time", ok)
    for (department, kind_name), n in found["repairs"].items():
        tally.add(department, DISCLOSURE_KINDS[kind_name], "credit_repairs", n)


def _record_figures(rows: list[Any], scope: Scope, tally: _Tally) -> dict[str, str]:
    """Completeness, compliance, withdrawals and the enforcement totals from the month's one pass over
    its standard records; returns the 执法主体 names the records give (authority_name, or
    inspecting_department: the greatest, as ``max()`` in SQL)."""
    names: dict[str, str] = {}
    for row in rows:
        kind = KIND_OF_TYPE[row.record_type]
        if row.name is not None:
            names[row.department] = max(names.get(row.department, row.name), str(row.name))
        if row.record_type in DECIDED:
            for name in ("records", "disclosed", "excluded", "blocked", "rejected", "withdrawn"):
                tally.add(row.department, kind, name, int(getattr(row, name)))
        n = int(row.records)
        if kind is Kind.PENALTY:
            tally.add(row.department, kind, "penalties", n)
            tally.add(row.department, kind, "fines_wan", wan_value(row.fines, scope.dialect))
            tally.add(row.department, kind, "confiscations_wan", wan_value(row.confiscations, scope.dialect))
            types = tally.cell(row.department, kind)["penalty_types"]
            for i, name in enumerate(PENALTY_TYPES):
                if getattr(row, f"t{i}"):
                    types[name] = types.get(name, 0) + int(getattr(row, f"t{i}"))
        elif kind is Kind.INSPECTION:
            tally.add(row.department, kind, "inspections", n)
            tally.add(row.department, kind, "problems", int(row.problems))
        elif kind is Kind.COERCION:
            tally.add(row.department, kind, "coercive_measures", n)
    return names


def _collection(session: Session, scope: Scope) -> dict[str, Any]:
    received = exchange_sql.received(session, scope)
    runs = exchange_sql.runs(session, scope)
    errored = exchange_sql.errored_records(session, scope)
    resolved = exchange_sql.resolution(session, scope)
    open_now = exchange_sql.open_errors(session)
    systems: list[dict[str, Any]] = []
    departments: dict[str, dict[str, Any]] = {}
    for row in exchange_sql.systems(session, scope):
        by_type = {t: n for (system, t), n in received.items() if system == row.id}
        by_kind: dict[str, int] = defaultdict(int)
        for record_type, n in by_type.items():
            by_kind[KIND_OF_TYPE[record_type].value if record_type in KIND_OF_TYPE else record_type] += n
        total = sum(by_type.values())
        succeeded, last = runs.get(row.id, (0, None))
        count, mean, longest = resolved.get(row.id, (0, None, None))
        open_errors, open_records = open_now.get(row.id, (0, 0))
        systems.append({
            "system": row.id, "department": row.department_credit_code, "department_name": row.department_name,
            "region": row.region_code, "kind": row.kind.value, "received": total, "received_by_kind": dict(by_kind),
            "runs_succeeded": succeeded, "last_success": last,
            "last_success_age_hours": None if last is None else round((scope.as_of - last).total_seconds() / 3600, 2),
            "errored_records": errored.get(row.id, 0), "error_rate": rate(errored.get(row.id, 0), total),
            "resolved_errors": count, "mean_resolution_hours": None if mean is None else round(mean / 3600, 2),
            "max_resolution_hours": None if longest is None else round(longest / 3600, 2),
            "open_errors": open_errors, "open_error_records": open_records,
        })
        entry = departments.setdefault(row.department_credit_code, {
            "department": row.department_credit_code, "department_name": row.department_name,
            "region": row.region_code, "systems": [], "connected": False})
        entry["systems"].append(row.id)
        entry["connected"] = entry["connected"] or succeeded > 0
    connected = sum(1 for d in departments.values() if d["connected"] is True)
    received_total = sum(s["received"] for s in systems)
    errored_total = sum(s["errored_records"] for s in systems)
    return {
        "departments_registered": len(departments), "departments_connected": connected,
        "connection_rate": rate(connected, len(departments)), "received": received_total,
        "error_rate": rate(errored_total, received_total), "errored_records": errored_total,
        "open_errors": sum(s["open_errors"] for s in systems),
        "not_connected": [d for d in departments.values() if not d["connected"]],
        "departments": list(departments.values()), "systems": systems,
    }


def _rank(departments: list[dict[str, Any]]) -> None:
    """Rank by the mean of the three 双公示 rates that exist (timeliness breaks ties); none: last."""
    def score(d: dict[str, Any]) -> tuple[int, float, float]:
        rates = [d[k] for k in ("timeliness", "completeness", "compliance") if d[k] is not None]
        if not rates:
            return (1, 0.0, 0.0)
        return (0, -sum(rates) / len(rates), -(d["timeliness"] if d["timeliness"] is not None else 0.0))

    ordered = sorted(departments, key=lambda d: (*score(d), d["department"]))
    for place, d in enumerate(ordered, start=1):
        d["rank"] = place if score(d)[0] == 0 else None
        d["score"] = None if score(d)[0] else round(-score(d)[1], 4)
    departments.sort(key=lambda d: (d["rank"] is None, d["rank"] or 0, d["department"]))


def _by_kind(cells: list[tuple[tuple[str, Kind], dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The figures per kind (许可, 处罚, 强制, 检查) of some cells, in the order of :class:`Kind`."""
    by_kind: dict[Kind, list[dict[str, Any]]] = defaultdict(list)
    for (_, kind), cell in cells:
        by_kind[kind].append(cell)
    return {kind.value: _merge(by_kind[kind]) for kind in Kind if kind in by_kind}


def _regions(tally: _Tally) -> list[dict[str, Any]]:
    """The figures per region (county: characters 3–8 of the 执法主体's credit code), by region code."""
    by_region: dict[str, list[tuple[tuple[str, Kind], dict[str, Any]]]] = defaultdict(list)
    for key, cell in tally.cells.items():
        by_region[key[0][2:8]].append((key, cell))
    return [{"region": region, "departments": len({department for (department, _), _ in cells}),
             **_merge([c for _, c in cells]), "kinds": _by_kind(cells)} for region, cells in sorted(by_region.items())]


#: every query of :func:`compute`, by name; each reads only (session, scope, policy)
QUERIES: dict[str, Callable[[Session, Scope, PublicationPolicy], Any]] = {
    "records": lambda s, scope, policy: month_sql.month_records(s, scope, policy),
    "now": lambda s, scope, _: publicity_sql.now_counts(s, scope),
    "causes": lambda s, scope, _: exchange_sql.error_causes(s, scope),
    "timeliness": lambda s, scope, _: publicity_sql.timeliness(s, scope),
    "changes": lambda s, scope, _: publicity_sql.changes(s, scope),
    "repairs": lambda s, scope, _: publicity_sql.repairs(s, scope),
    "collection": lambda s, scope, _: _collection(s, scope),
}
#: how :func:`compute` splits them over connections on PostgreSQL (about equal server time each at
#: 10^6 records: the month's records; what waits now; the rest — docs/performance.md)
GROUPS = (("records",), ("now", "causes"), ("timeliness", "changes", "repairs", "collection"))
_SNAPSHOT = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")
#: computations of this process that may fan out at once; more run on their one connection, so that
#: fanned-out queries never wait for connections other computations hold (the pool has 15)
_FAN_OUT = threading.BoundedSemaphore(2)


def _tune(session: Session | Connection) -> None:
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text("SET LOCAL random_page_cost = 1.1"))


def _run(session: Session, scope: Scope, policy: PublicationPolicy, parallel: bool) -> dict[str, Any]:
    """Every query's result. With ``parallel`` on PostgreSQL, the groups run at once on their own
    connections, each in a REPEATABLE READ transaction importing one snapshot exported by
    ``session`` (``pg_export_snapshot``): the figures are of one instant, as if run one by one —
    but changes ``session`` has not committed are not seen, so only read-only callers ask for it."""
    bind = session.get_bind()
    if not parallel or scope.dialect != "postgresql" or not isinstance(bind, Engine) or not _FAN_OUT.acquire(blocking=False):
        return {name: query(session, scope, policy) for name, query in QUERIES.items()}
    try:
        return _fan_out(session, bind, scope, policy)
    finally:
        _FAN_OUT.release()


def _fan_out(session: Session, bind: Engine, scope: Scope, policy: PublicationPolicy) -> dict[str, Any]:
    snapshot = str(session.execute(text("SELECT pg_export_snapshot()")).scalar_one())
    if not _SNAPSHOT.fullmatch(snapshot):
        raise ValueError(f"unexpected snapshot id {snapshot!r}")

    def group(names: tuple[str, ...]) -> dict[str, Any]:
        with bind.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                connection.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
                _tune(connection)
                with Session(bind=connection) as worker:
                    return {name: QUERIES[name](worker, scope, policy) for name in names}

    found: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=len(GROUPS), thread_name_prefix="indicators") as pool:
        for part in pool.map(group, GROUPS):
            found.update(part)
    return found


def compute(session: Session, scope: Scope, policy: PublicationPolicy = DEFAULT_PUBLICATION, *,
            parallel: bool = False) -> dict[str, Any]:
    """Every indicator of ``scope.month``, by 执法主体 and kind, by department, by region and in total.

    ``parallel``: on PostgreSQL, run the queries on several connections at once, on one snapshot
    (:func:`_run`); for read-only callers (the CLI, the API, the console, the report)."""
    found = _run(session, scope, policy, parallel)
    tally = _Tally()
    _disclosure_figures(found, tally)
    names = _record_figures(found["records"], scope, tally)
    by_department: dict[str, list[tuple[Kind, dict[str, Any]]]] = defaultdict(list)
    for (department, kind), cell in tally.cells.items():
        by_department[department].append((kind, cell))
    departments = []
    for department, cells in by_department.items():
        row = {"department": department, "department_name": names.get(department), "region": department[2:8],
               **_merge([c for _, c in cells]),
               "kinds": _by_kind([((department, kind), c) for kind, c in cells])}
        departments.append(row)
    _rank(departments)
    return {
        "month": str(scope.month), "today": scope.today, "as_of": scope.as_of,
        "department": scope.department, "region": scope.region,
        "due_1_until": scope.due_1, "due_3_until": scope.due_3,
        "publication_rule": publicity_sql.policy_rule(policy),
        "total": {**_merge(list(tally.cells.values())), "kinds": _by_kind(list(tally.cells.items()))},
        "departments": departments,
        "regions": _regions(tally),
        "collection": found["collection"],
        "error_causes": [{"system": r.system_id, "rule": r.rule, "field": r.field, "errors": int(r.errors),
                          "records": int(r.records)} for r in found["causes"]],
    }


def trend(session: Session, scope: Scope, months: list[Month], policy: PublicationPolicy = DEFAULT_PUBLICATION) -> list[dict[str, Any]]:
    """The three 双公示 rates and their counts (came_due, on_time, late, records, disclosed,
    excluded, missing, blocked, rejected) of each of ``months`` in ``scope``'s department and
    region — two aggregates grouped by month over the whole span, not a computation per month; the
    same figures as each month's :func:`compute` total (tests/indicators)."""
    first, last = months[0].first, months[-1].last
    t = publicity_sql.timeliness_rows(scope, first, last)
    due_month = month_key(t.c.deadline, scope.dialect)
    timely = session.execute(select(due_month, count_if(publicity_sql.came_due(t, scope)), count_if(publicity_sql.on_time(t)))
                             .group_by(due_month))
    S, D = StandardRecord, Disclosure
    decided_month = month_key(S.decision_date, scope.dialect)
    where = [S.record_type.in_(DECIDED), S.decision_date >= first, S.decision_date <= last,
             *key_filters(scope, S.business_key)]  # the WHERE of month_sql.month_records over the span
    decided = session.execute(
        select(decided_month, count_if(true()), count_if(D.id.is_not(None)),
               count_if(and_(D.id.is_(None), publicity_sql.excluded_condition(policy))),
               count_if(D.status == DisclosureStatus.BLOCKED), count_if(D.status == DisclosureStatus.REJECTED))
        .select_from(S).outerjoin(D, D.standard_record_id == S.id).where(*where)
        .group_by(decided_month))
    cells = {str(m): {**dict.fromkeys(COUNTS, 0), **dict.fromkeys(MONEY, ZERO)} for m in months}
    for month, due, ok in timely:
        cells[str(month)].update(came_due=int(due), on_time=int(ok))
    for month, records, disclosed, excluded, blocked, rejected in decided:
        cells[str(month)].update(records=int(records), disclosed=int(disclosed), excluded=int(excluded),
                                 blocked=int(blocked), rejected=int(rejected))
    keys = ("timeliness", "completeness", "compliance", "came_due", "on_time", "late", "records", "disclosed",
            "excluded", "missing", "blocked", "rejected")
    return [{"month": month, **{k: _rates(cell)[k] for k in keys}} for month, cell in cells.items()]


LISTS = {**publicity_sql.LISTS, **exchange_sql.LISTS}


def drill(session: Session, scope: Scope, key: str, *, limit: int = 1000) -> dict[str, Any]:
    """The records behind indicator ``key`` in ``scope`` (the same WHERE as its figure), oldest first."""
    if key not in BY_KEY:
        raise NotFoundError(f"unknown indicator {key!r}", hint=f"known indicators: {', '.join(BY_KEY)}")
    if key not in LISTS:
        raise InputError(f"indicator {key!r} is a derived figure with no list of its own",
                         hint="drill into its parts, e.g. late, missing, compliance")
    query = LISTS[key](scope)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = [dict(r._mapping) for r in session.execute(query.limit(limit))]
    return {"indicator": key, "month": str(scope.month), "department": scope.department, "region": scope.region,
            "count": int(total or 0), "shown": len(rows), "records": rows,
            "sql": str(query.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))}
