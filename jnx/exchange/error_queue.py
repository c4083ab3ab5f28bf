"""The errors queue for admins: mapping and validation errors by cause, their raw records, ignore
and replay.

Errors are grouped by cause — system, table version, field, rule and (for short, non-personal
values) the value — so "unknown penalty code 13 in system X: 231 records" is one line. Replay
re-maps the raw records of a selection with the system's *current* pinned table: fixed records
leave the queue (their errors become ``replayed``) and are stored; records still broken get their
new errors, the old ones closed as replayed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.orm import Session

from jnx.adapters.base import PayloadEncoding
from jnx.adapters.base import RawRecord as PulledRecord
from jnx.errors import ConfigError, NotFoundError
from jnx.exchange.ingest import CONFLICT_RULE, PageCounts, PageIngester, bare_hash, decode_payload, staging_pair
from jnx.exchange.registry import SystemRegistry
from jnx.exchange.runs import RunService, _context
from jnx.progress import WorkProgress
from jnx.publicity.holds import sync_holds
from jnx.security.masking import MaskRule, mask_id_numbers_in, mask_text, mask_value
from jnx.store import queries
from jnx.store.db import affected
from jnx.store.models import MappingErrorEntry, MappingErrorStatus, RawRecord, StandardRecord, utcnow

E = MappingErrorEntry
_NAME_RULE = MaskRule(keep_head=1, keep_tail=0)  # a personal value shown by its first character only
REPLAY_BATCH = 500


@dataclass(frozen=True)
class ErrorGroup:
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

    def line(self) -> str:
        value = f" {self.value!r}" if self.value else ""
        return mask_text(f"{self.group[:10]}  {self.system}  {self.table}  {self.field} {self.rule}{value}: {self.records} records — {self.message}")


def _selection(*, group: str | None = None, system: str | None = None, status: MappingErrorStatus | None = MappingErrorStatus.OPEN,
               rule: str | None = None) -> Select[Any]:
    query = select(E)
    if rule:
        query = query.where(E.rule == rule)
    if status is not None:
        query = query.where(E.status == status)
    if group:
        # a prefix, never a pattern: % and _ in it are plain characters
        query = query.where(E.group_key.startswith(group, autoescape=True)) if len(group) < 64 else query.where(E.group_key == group)
    if system:
        query = query.where(E.system_id == system)
    return query


def groups(session: Session, *, system: str | None = None, status: MappingErrorStatus = MappingErrorStatus.OPEN,
           where: ColumnElement[bool] | None = None) -> list[ErrorGroup]:
    """Open errors by cause, largest first; ``where`` narrows them (a user's row scope)."""
    query = (
        select(
            E.group_key, E.system_id, E.mapping_name, E.mapping_version, E.record_type, E.field, E.rule,
            func.count(func.distinct(E.raw_record_id)).label("records"), func.count().label("errors"),
            func.min(E.message).label("message"), func.min(E.masked_value).label("value"),
            func.min(E.created_at).label("first"), func.max(E.created_at).label("last"),
        )
        .where(E.status == status)
        .group_by(E.group_key, E.system_id, E.mapping_name, E.mapping_version, E.record_type, E.field, E.rule)
        .order_by(func.count(func.distinct(E.raw_record_id)).desc(), E.group_key)
    )
    if system:
        query = query.where(E.system_id == system)
    if where is not None:
        query = query.where(where)
    out = []
    for row in session.execute(query):
        value = row.value if row.value is not None and "*" not in row.value and row.rule.startswith(("code", "codeset")) else None
        out.append(ErrorGroup(row.group_key, row.system_id, f"{row.mapping_name}@{row.mapping_version}", row.record_type,
                              row.field, row.rule, value, row.records, row.errors, row.message, row.first, row.last))
    return out


def list_errors(session: Session, *, group: str | None = None, system: str | None = None,
                status: MappingErrorStatus | None = MappingErrorStatus.OPEN, limit: int = 100,
                where: ColumnElement[bool] | None = None) -> list[dict[str, Any]]:
    """Errors by id; ``where`` narrows them further (a user's row scope)."""
    query = _selection(group=group, system=system, status=status)
    if where is not None:
        query = query.where(where)
    rows = session.scalars(query.order_by(E.id).limit(limit))
    return [_summary(row) for row in rows]


def _summary(row: MappingErrorEntry) -> dict[str, Any]:
    return {
        "id": row.id, "raw_record": row.raw_record_id, "system": row.system_id,
        "table": f"{row.mapping_name}@{row.mapping_version}", "record_type": row.record_type, "field": row.field,
        "source_path": row.source_path, "value": row.masked_value, "transform": row.transform, "rule": row.rule,
        "message": row.message, "status": row.status.value, "group": row.group_key, "created_at": row.created_at,
        "ignore_reason": row.ignore_reason, "conflict_record": row.conflict_record_id,
    }


def mask_payload(node: Any, personal_keys: frozenset[str] = frozenset()) -> Any:
    """A raw payload fit to show: ID-number-like strings and personal keys masked, everything else as is."""
    if isinstance(node, Mapping):
        return {k: (mask_value(v, _NAME_RULE) if k in personal_keys and isinstance(v, str) and v else mask_payload(v, personal_keys))
                for k, v in node.items()}
    if isinstance(node, list):
        return [mask_payload(v, personal_keys) for v in node]
    if isinstance(node, str):
        return mask_id_numbers_in(node)
    return node


def show(session: Session, error_id: int, personal_keys: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One error, the other errors of its raw record, and the raw record itself (masked)."""
    row = session.get(E, error_id)
    if row is None:
        raise NotFoundError(f"no mapping error #{error_id}", hint="`jnx errors list` shows the open ones")
    raw = session.get(RawRecord, row.raw_record_id)
    assert raw is not None
    try:
        payload: Any = json.loads(raw.payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        payload = {"_undecodable_bytes": len(raw.payload), "_preview": raw.payload[:200].decode("utf-8", "replace")}
    siblings = session.scalars(select(E).where(E.raw_record_id == raw.id, E.id != row.id).order_by(E.id))
    conflict = None
    if row.conflict_record_id is not None:
        held = session.get(StandardRecord, row.conflict_record_id)
        if held is not None:
            conflict = {"record": held.id, "business_key": mask_id_numbers_in(held.business_key), "revision": held.current_revision,
                        "data": mask_payload(held.data, personal_keys)}
    return {
        **_summary(row),
        "raw": {"id": raw.id, "system": raw.system_id, "source_key": raw.source_key, "received_at": raw.received_at,
                "content_hash": raw.content_hash, "payload": mask_payload(payload, personal_keys)},
        "other_errors_of_record": [_summary(s) for s in siblings],
        "conflict": conflict,
    }


def ignore(session: Session, *, reason: str, error_id: int | None = None, group: str | None = None,
           system: str | None = None, rule: str | None = None) -> int:
    """Take errors out of the queue on purpose, with a reason; how many (``rule`` narrows the selection)."""
    if not reason.strip():
        raise ConfigError("ignoring errors needs a reason", hint='add --reason "…"')
    if error_id is None and group is None and system is None and rule is None:
        raise ConfigError("say which errors to ignore", hint="give an error id, --group or --system")
    where: list[Any] = [E.status == MappingErrorStatus.OPEN]
    if rule:
        where.append(E.rule == rule)
    if error_id is not None:
        where.append(E.id == error_id)
    if group:
        where.append(E.group_key.startswith(group, autoescape=True))  # a prefix, never a pattern
    if system:
        where.append(E.system_id == system)
    # conflicts among them end: their records' disclosures are released (once no other conflict holds them)
    conflicted = {record_id for record_id in session.scalars(select(E.conflict_record_id).where(*where, E.conflict_record_id.is_not(None)))
                  if record_id is not None}
    ignored = affected(session.execute(update(E).where(*where).values(status=MappingErrorStatus.IGNORED, ignore_reason=reason,
                                                                      resolved_at=utcnow())))
    if conflicted:
        sync_holds(session, conflicted)
    return ignored


def merge(service: RunService, session: Session, error_id: int) -> PageCounts:
    """Resolve a business-key conflict as one case re-keyed at its source: the newcomer's source
    record becomes a source of the standard record (its lineage), and its raw record is mapped again,
    now as that record's revision (or as the same content, merged). The conflict closes as replayed;
    the record's disclosure is released and carries the newcomer's content from then on."""
    row = session.get(E, error_id)
    if row is None:
        raise NotFoundError(f"no mapping error #{error_id}", hint="`jnx errors groups` lists the conflicts (rule business_key.conflict) and `jnx errors list --group G` their ids")
    if row.conflict_record_id is None or row.rule != CONFLICT_RULE:
        raise ConfigError(f"error #{error_id} is not a business-key conflict ({row.rule})",
                          hint="only `business_key.conflict` errors merge; replay or ignore the others")
    if row.status is not MappingErrorStatus.OPEN:
        raise ConfigError(f"conflict #{error_id} is {row.status.value} already", hint="`jnx errors show ID` says how it ended")
    raw = session.get(RawRecord, row.raw_record_id)
    assert raw is not None
    queries.link(session, [{"standard_record_id": row.conflict_record_id, "raw_record_id": raw.id,
                            "system_id": raw.system_id, "created_at": utcnow()}])
    return remap(service, session, raw.system_id, raw.record_type, [raw.id], table=(row.mapping_name, row.mapping_version))


@dataclass
class ReplayReport:
    records: int
    fixed: int
    still_broken: int
    counts: PageCounts

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.records, "fixed": self.fixed, "still_broken": self.still_broken, **self.counts.as_dict()}


def _raw_ids(session: Session, group: str | None, system: str | None, rule: str | None = None) -> dict[str, dict[str, list[int]]]:
    """Raw record ids with open errors, by system and record type (source stream)."""
    query = (
        select(E.system_id, RawRecord.record_type, E.raw_record_id)
        .join(RawRecord, RawRecord.id == E.raw_record_id)
        .where(E.id.in_(_selection(group=group, system=system, rule=rule).with_only_columns(E.id)))
        .distinct()
    )
    found: dict[str, dict[str, list[int]]] = {}
    for row in session.execute(query):
        found.setdefault(row.system_id, {}).setdefault(row.record_type, []).append(row.raw_record_id)
    return found


def _pulled(raw: RawRecord) -> PulledRecord:
    encoding = PayloadEncoding(raw.encoding) if raw.encoding in {e.value for e in PayloadEncoding} else PayloadEncoding.JSON
    return PulledRecord(raw.source_key, raw.record_type, raw.payload, encoding, None, content_hash=raw.content_hash)


def remap(service: RunService, session: Session, system_id: str, record_type: str, raw_ids: Sequence[int],
          table: tuple[str, str] | None = None, progress: WorkProgress | None = None) -> PageCounts:
    """Map staged raw records again (with ``table`` or the system's pinned one) and store the outcome;
    ``progress`` is told each batch's records once they are stored."""
    system = SystemRegistry().get(session, system_id)
    name, version = table or system.registration.table_for(record_type)
    ingester = PageIngester(system_id=system_id, record_type=record_type, mapper=service.tables.compiled(name, version),
                            context=_context(system), dictionary=service.dictionary, run_id=None, today=service.today(),
                            remap_existing=True)
    total = PageCounts()
    for start in range(0, len(raw_ids), REPLAY_BATCH):
        raws = session.scalars(select(RawRecord).where(RawRecord.id.in_(raw_ids[start:start + REPLAY_BATCH])).order_by(RawRecord.id))
        outcome = ingester.ingest(session, [_pulled(r) for r in raws])
        service.after_ingest(session, system, outcome)
        total.add(outcome.counts)
        if progress is not None:
            progress.advance(len(raw_ids[start:start + REPLAY_BATCH]))
    return total


def replay(service: RunService, session: Session, *, group: str | None = None, system: str | None = None,
           progress: WorkProgress | None = None) -> ReplayReport:
    """Re-map the raw records behind the selected open errors with each system's current table
    (``progress``: the records to re-map, then each batch as it is stored)."""
    selected = _raw_ids(session, group, system)
    if progress is not None:
        progress.start("replaying errors", sum(len(ids) for streams in selected.values() for ids in streams.values()))
    counts = PageCounts()
    records = 0
    for system_id, streams in selected.items():
        for record_type, ids in streams.items():
            records += len(ids)
            counts.add(remap(service, session, system_id, record_type, ids, progress=progress))
    return ReplayReport(records=records, fixed=records - counts.errors, still_broken=counts.errors, counts=counts)


@dataclass
class Correction:
    """A raw record corrected by hand and mapped again: the new raw record (the original stays as
    received), what mapping it did, and how many errors of the original it closed."""

    raw_record_id: int
    counts: PageCounts
    closed: int
    errors: list[dict[str, Any]]  # the corrected record's own errors (empty: it was stored)


def corrected_payload(raw: RawRecord, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The raw record's JSON object with ``changes`` applied to its top-level keys (only keys it has)."""
    payload = decode_payload(raw.payload)
    if payload is None:
        raise ConfigError(f"raw record #{raw.id} is not a JSON object, so it cannot be corrected in a form",
                          hint="correct it at its source system and pull it again")
    unknown = sorted(set(changes) - set(payload))
    if unknown:
        raise ConfigError(f"raw record #{raw.id} has no field {', '.join(map(repr, unknown))}",
                          hint="only the record's own top-level fields can be corrected")
    return {**payload, **changes}


def correct(service: RunService, session: Session, raw_id: int, changes: Mapping[str, Any]) -> Correction:
    """Store the corrected content of raw record ``raw_id`` as a new raw record of the same source key
    (the original is never changed), map it with the system's pinned table and store the outcome; the
    original's open errors close as ``resolved`` (its conflicts release their holds)."""
    raw = session.get(RawRecord, raw_id)
    if raw is None:
        raise NotFoundError(f"no raw record #{raw_id}", hint="the 错误 page links each error's raw record")
    payload = corrected_payload(raw, changes)
    system = SystemRegistry().get(session, raw.system_id)
    name, version = system.registration.table_for(raw.record_type)
    ingester = PageIngester(system_id=raw.system_id, record_type=raw.record_type, mapper=service.tables.compiled(name, version),
                            context=_context(system), dictionary=service.dictionary, run_id=None, today=service.today())
    pulled = PulledRecord(raw.source_key, raw.record_type, payload, PayloadEncoding.JSON, None)
    if bare_hash(pulled.content_hash) == raw.content_hash:
        raise ConfigError(f"the correction does not change raw record #{raw_id}", hint="change at least one field")
    conflicted = queries.open_conflicts_of(session, [raw.id])
    open_before = int(session.scalar(select(func.count()).select_from(E).where(
        E.raw_record_id == raw.id, E.status == MappingErrorStatus.OPEN)) or 0)
    outcome = ingester.ingest(session, [pulled])  # a stored correction supersedes the original's errors itself
    new_id = queries.staged_ids(session, raw.system_id, [staging_pair(pulled)]).get(staging_pair(pulled))
    if new_id is None:  # pragma: no cover - staged in this very transaction
        raise ConfigError(f"the corrected record of #{raw_id} was not staged", hint="try again")
    queries.close_errors_of(session, [raw.id], MappingErrorStatus.RESOLVED)  # and a still-broken one's too
    outcome.conflicted.update(conflicted)
    service.after_ingest(session, system, outcome)
    errors = [_summary(e) for e in session.scalars(select(E).where(E.raw_record_id == new_id, E.status == MappingErrorStatus.OPEN)
                                                   .order_by(E.id))]
    return Correction(raw_record_id=new_id, counts=outcome.counts, closed=open_before, errors=errors)
