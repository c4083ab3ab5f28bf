"""错误队列 for the console: the errors queue of :mod:`jnx.exchange.error_queue`, scoped to the
viewer's department, with counts for the confirm step, a replay preview that changes nothing, and
the actions (ignore, replay) audited under the viewer's name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jnx.errors import NotFoundError
from jnx.exchange import error_queue
from jnx.exchange.wiring import Exchange
from jnx.progress import WorkProgress
from jnx.security.audit_sql import SqlAuditStore
from jnx.services.console_scope import Forbidden, Viewer
from jnx.store.models import MappingErrorEntry, MappingErrorStatus, RawRecord, Run, SourceSystem

E = MappingErrorEntry
PREVIEW_LIMIT = 2000  # a replay preview maps at most this many records (the rest are counted, not mapped)


class ErrorGroupRow(BaseModel):
    group: str
    system: str
    table: str
    record_type: str
    field: str
    rule: str
    value: str | None
    records: int
    errors: int
    message: str
    first_seen: dt.datetime
    last_seen: dt.datetime


class Selection(BaseModel):
    """What an action on ``group``/``system`` would touch."""

    group: str | None
    system: str | None
    errors: int
    records: int
    rule: str | None = None


class ReplayPreview(BaseModel):
    selection: Selection
    table: str | None
    mapped: int  # records mapped for the preview (at most PREVIEW_LIMIT)
    fixed: int
    still_broken: int
    new: int
    revised: int
    unchanged: int
    rules_after: list[tuple[str, str, int]]  # (field, rule, records) still failing among those mapped


def _visible_systems(session: Session, viewer: Viewer, action: str = "errors.list") -> set[str]:
    return set(session.scalars(select(SourceSystem.id).where(viewer.scope(action).systems())))


def _check_system(session: Session, viewer: Viewer, system: str | None) -> None:
    if system is not None and system not in _visible_systems(session, viewer):
        raise NotFoundError(f"no system {system!r} you may see", hint="the 系统 page lists yours")


def groups(session: Session, viewer: Viewer, *, system: str | None = None, group: str | None = None) -> list[ErrorGroupRow]:
    """Open errors by cause, largest first — the same groups as ``jnx errors groups``, of the viewer's systems;
    ``group``: that one group only (a group's page aggregates its own errors, not the whole queue's)."""
    everything = viewer.scope("errors.list").everything
    _check_system(session, viewer, system)
    visible = None if everything else _visible_systems(session, viewer)
    return [ErrorGroupRow(group=g.group, system=g.system, table=g.table, record_type=g.record_type, field=g.field,
                          rule=g.rule, value=g.value, records=g.records, errors=g.errors, message=g.message,
                          first_seen=g.first_seen, last_seen=g.last_seen)
            for g in error_queue.groups(session, system=system, where=E.group_key == group if group else None)
            if visible is None or g.system in visible]


_SORTS = {"id": E.id, "system": E.system_id, "field": E.field, "rule": E.rule, "created_at": E.created_at, "status": E.status}


def errors(session: Session, viewer: Viewer, *, group: str | None = None, system: str | None = None,
           status: MappingErrorStatus | None = MappingErrorStatus.OPEN, offset: int = 0, limit: int = 50,
           sort: str = "id", descending: bool = False) -> tuple[list[dict[str, Any]], int]:
    """One page of errors (masked values only) and how many match."""
    query = error_queue._selection(group=group, system=system, status=status).where(viewer.scope("errors.list").errors())
    total = int(session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0)
    column = _SORTS.get(sort, E.id)
    rows = session.scalars(query.order_by(column.desc() if descending else column, E.id).offset(offset).limit(limit))
    return [error_queue._summary(r) | {"fixed_by_run": r.resolved_by_run_id} for r in rows], total


def error(session: Session, viewer: Viewer, error_id: int) -> dict[str, Any]:
    """One error beside its raw record (masked), with the run that brought it and, once replayed, the fix."""
    viewer.scope("errors.show")
    row = session.get(E, error_id)
    if row is None or row.system_id not in _visible_systems(session, viewer):
        raise NotFoundError(f"no mapping error #{error_id}", hint="the 错误 page lists the open ones")
    shown = error_queue.show(session, error_id)
    raw = session.get(RawRecord, row.raw_record_id)
    shown["run"] = raw.run_id if raw is not None else None
    shown["failing_key"] = (row.source_path or "").split(".")[-1].split("[")[0] or None
    shown["resolved_at"] = row.resolved_at
    shown["closed_by_run"] = row.resolved_by_run_id  # the run whose newer record superseded it (0010)
    return shown


def closed_by_run(session: Session, viewer: Viewer, run_id: int) -> list[dict[str, Any]]:
    """The errors run ``run_id`` closed (its newer source records superseded theirs), by cause:
    field, rule, how they ended, how many records — the run's page answers "what did it deal with?"."""
    query = (select(E.group_key, E.field, E.rule, E.status, func.count(func.distinct(E.raw_record_id)).label("records"))
             .where(E.resolved_by_run_id == run_id, viewer.scope("errors.list").errors())
             .group_by(E.group_key, E.field, E.rule, E.status).order_by(func.count(func.distinct(E.raw_record_id)).desc()))
    return [{"group": r.group_key, "field": r.field, "rule": r.rule, "status": r.status.value, "records": int(r.records)}
            for r in session.execute(query)]


def selection(session: Session, viewer: Viewer, *, group: str | None = None, system: str | None = None,
              error_id: int | None = None, rule: str | None = None) -> Selection:
    """How many open errors and records an action on this selection touches (the confirm step's count)."""
    _check_system(session, viewer, system)
    query = error_queue._selection(group=group, system=system, rule=rule).where(viewer.scope("errors.list").errors())
    if error_id is not None:
        query = query.where(E.id == error_id)
    found = session.execute(query.with_only_columns(func.count(), func.count(func.distinct(E.raw_record_id))).order_by(None)).one()
    return Selection(group=group, system=system, rule=rule, errors=int(found[0]), records=int(found[1]))


def _require_selection(group: str | None, system: str | None, rule: str | None = None) -> None:
    if not group and not system and not rule:
        raise Forbidden("choose a group, a system or a rule first",
                        hint="the console acts on one group, or on the groups a filter by system and rule shows")


def _subject(group: str | None, system: str | None, rule: str | None, error_id: int | None = None) -> str:
    """The audit subject of an action on a selection: the group, else the filter (system, rule)."""
    if group:
        return group
    if error_id is not None:
        return f"error:{error_id}"
    return " ".join(part for part in (system, f"rule:{rule}" if rule else None) if part) or "all"


def ignore(session: Session, viewer: Viewer, audit: SqlAuditStore, *, reason: str, group: str | None = None,
           system: str | None = None, error_id: int | None = None, rule: str | None = None) -> int:
    """Take the selected open errors out of the queue with a reason; audited; how many."""
    scope = viewer.scope("errors.ignore")
    if error_id is None:
        _require_selection(group, system, rule)
    _check_system(session, viewer, system)
    if not scope.everything:  # a department officer ignores only its own systems' errors
        allowed = _visible_systems(session, viewer, "errors.ignore")
        query = error_queue._selection(group=group, system=system, rule=rule).with_only_columns(func.distinct(E.system_id))
        if error_id is not None:
            query = query.where(E.id == error_id)
        if set(session.scalars(query)) - allowed:
            if system is None and group is None:  # a filter by rule alone: the officer's own systems only
                return sum(ignore(session, viewer, audit, reason=reason, system=s, rule=rule) for s in sorted(allowed))
            raise Forbidden("the selection holds errors of another department's system", hint="choose one of your systems")
    count = error_queue.ignore(session, reason=reason, error_id=error_id, group=group, system=system, rule=rule)
    session.flush()
    session.commit()
    audit.append(actor=viewer.username, action="errors.ignored", subject=_subject(group, system, rule, error_id),
                 details={"count": count, "reason": reason, "via": "console", **({"rule": rule} if rule else {})},
                 at=dt.datetime.now(dt.UTC))
    return count


def table_versions(exchange: Exchange, name: str) -> list[str]:
    """The published versions of one mapping table, newest first (for the replay's choice)."""
    return [str(e.version) for e in sorted((e for e in exchange.catalog.registry.entries() if e.name == name),
                                           key=lambda e: e.version, reverse=True)]


def _streams(session: Session, viewer: Viewer, group: str | None, system: str | None,
             action: str, rule: str | None = None) -> dict[str, dict[str, list[int]]]:
    found = error_queue._raw_ids(session, group, system, rule)
    if not viewer.scope(action).everything:
        allowed = _visible_systems(session, viewer, action)
        found = {k: v for k, v in found.items() if k in allowed}
    return found


def replay_preview(exchange: Exchange, session: Session, viewer: Viewer, *, group: str | None = None,
                   system: str | None = None, table: tuple[str, str] | None = None, rule: str | None = None) -> ReplayPreview:
    """What a replay would do, computed inside a transaction that is rolled back: nothing changes."""
    _require_selection(group, system, rule)
    chosen = selection(session, viewer, group=group, system=system, rule=rule)
    streams = _streams(session, viewer, group, system, "errors.list", rule)
    service = exchange.runs()
    totals = {"new": 0, "revised": 0, "unchanged": 0, "errors": 0}
    mapped = 0
    after: dict[tuple[str, str], int] = {}
    transaction = session.begin_nested() if session.in_transaction() else session.begin()
    try:
        for system_id, by_type in streams.items():
            for record_type, ids in by_type.items():
                ids = ids[:max(0, PREVIEW_LIMIT - mapped)]
                if not ids:
                    continue
                counts = error_queue.remap(service, session, system_id, record_type, ids, table=table)
                mapped += len(ids)
                for key in totals:
                    totals[key] += int(getattr(counts, key, 0))
                session.flush()
                for field, rule, n in session.execute(
                        select(E.field, E.rule, func.count(func.distinct(E.raw_record_id)))
                        .where(E.raw_record_id.in_(ids), E.status == MappingErrorStatus.OPEN).group_by(E.field, E.rule)):
                    after[(field, rule)] = after.get((field, rule), 0) + int(n)
    finally:
        transaction.rollback()
    return ReplayPreview(selection=chosen, table=f"{table[0]}@{table[1]}" if table else None, mapped=mapped,
                         fixed=mapped - totals["errors"], still_broken=totals["errors"], new=totals["new"],
                         revised=totals["revised"], unchanged=totals["unchanged"],
                         rules_after=sorted(((f, r, n) for (f, r), n in after.items()), key=lambda x: -x[2]))


def replay(exchange: Exchange, viewer: Viewer, audit: SqlAuditStore, *, group: str | None = None, system: str | None = None,
           table: tuple[str, str] | None = None, progress: WorkProgress | None = None, rule: str | None = None,
           via: str = "console") -> dict[str, Any]:
    """Re-map the selected records (with ``table`` or each system's pinned one) and store the outcome; audited."""
    viewer.scope("errors.replay")
    if table is not None:
        viewer.scope("replay.run")  # another table version than the pinned one: the operator's call
    _require_selection(group, system, rule)
    from jnx.store.db import session_factory

    writes = session_factory(exchange.engine, immediate=True)
    with session_factory(exchange.engine)() as session:
        streams = _streams(session, viewer, group, system, "errors.replay", rule)
    service = exchange.runs()
    if progress is not None:
        progress.start("replaying errors", sum(len(ids) for by in streams.values() for ids in by.values()))
    records = 0
    totals: dict[str, int] = {}
    # one transaction per batch (each batch is whole: its records, errors and disclosures), so the
    # pages and the other writers wait at most one batch for SQLite's write lock
    for system_id, by_type in streams.items():
        for record_type, ids in by_type.items():
            for start in range(0, len(ids), error_queue.REPLAY_BATCH):
                batch = ids[start:start + error_queue.REPLAY_BATCH]
                with writes.begin() as session:
                    counts = error_queue.remap(service, session, system_id, record_type, batch, table=table, progress=progress)
                records += len(batch)
                for key, value in counts.as_dict().items():
                    totals[key] = totals.get(key, 0) + value
    report = {"records": records, "fixed": records - totals.get("errors", 0), "still_broken": totals.get("errors", 0), **totals,
              "table": f"{table[0]}@{table[1]}" if table else None, **({"rule": rule} if rule else {})}
    audit.append(actor=viewer.username, action="errors.replayed", subject=_subject(group, system, rule),
                 details={**report, "via": via}, at=dt.datetime.now(dt.UTC))
    return report


def runs_of_errors(session: Session, run_ids: Sequence[int]) -> dict[int, str]:
    return {r.id: r.status.value for r in session.scalars(select(Run).where(Run.id.in_(list(run_ids))))}
