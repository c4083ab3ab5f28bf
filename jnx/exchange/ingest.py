"""One page of raw records through stage → map → validate → store, in the caller's transaction.

The caller (a run) commits the page together with its watermark, so a crash anywhere leaves either
the whole page and its watermark, or neither: a rerun pulls the page again and, the raw records
being keyed by (system, source key, content hash) and standard records by business key, ends in the
same state with nothing lost or doubled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy.orm import Session

from jnx.adapters.base import PayloadEncoding, canonical_bytes, to_jsonable
from jnx.adapters.base import RawRecord as PulledRecord
from jnx.mappings.model import MappingContext, MappingIssue, MappingResult, TableRef
from jnx.security.masking import mask_id_numbers_in, mask_text
from jnx.standard.dictionary import Dictionary
from jnx.store import queries
from jnx.store.db import dumps_json
from jnx.store.models import MappingErrorStatus, utcnow


class Mapper(Protocol):
    """A compiled mapping table: one source record in, a result with every issue out."""

    @property
    def ref(self) -> TableRef: ...

    def __call__(self, record: Mapping[str, Any], context: MappingContext | None = None, *, validate: bool = True,
                 today: dt.date = dt.date.max) -> MappingResult: ...


@dataclass
class PageCounts:
    """What one page (or a whole run, summed) did."""

    pulled: int = 0
    staged: int = 0
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    duplicates_merged: int = 0
    errors: int = 0
    error_issues: int = 0
    conflicts: int = 0  # records whose business key another source record holds (also in errors)

    def add(self, other: PageCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class StoredRecord:
    """A standard record created or revised by a page: what later stages (disclosures) need."""

    record_id: int
    record_type: str
    business_key: str
    revision: int
    data: Mapping[str, Any]
    ahead: Any = None
    """What the run's stored hook had worked out for this record in a mapping helper, if anything
    (:class:`~jnx.exchange.premap.AheadSpec`); the hook checks it still holds before using it."""


class Prepared(NamedTuple):
    """One raw record mapped and ready to store: its business key, content hash, stored JSON and
    decision date — or the issues that keep it in the errors queue. ``data`` (the record as a dict)
    is left out when a prepared record travels between processes (a tuple pickles cheaply; the
    JSON text carries the same record)."""

    key: str | None = None
    digest: str | None = None
    data_json: str | None = None
    decision: dt.date | None = None
    issues: tuple[MappingIssue, ...] = ()
    data: dict[str, Any] | None = None
    ahead: Any = None  # worked out by a mapping helper for the run's stored hook (premap.AheadSpec)

    def record(self) -> Mapping[str, Any]:
        """The standard record: ``data``, or its JSON decoded when it is first read."""
        return self.data if self.data is not None else JsonRecord(self.data_json or "{}")


class JsonRecord(Mapping[str, Any]):
    """A standard record kept as its stored JSON text and decoded only if someone reads it."""

    __slots__ = ("_text", "_data")

    def __init__(self, text: str) -> None:
        self._text = text
        self._data: dict[str, Any] | None = None

    def _decoded(self) -> dict[str, Any]:
        if self._data is None:
            self._data = json.loads(self._text)
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return f"JsonRecord({self._decoded()!r})"


@dataclass
class PageOutcome:
    counts: PageCounts
    stored: list[StoredRecord] = field(default_factory=list)
    #: standard records whose conflicts opened or closed in this page: their disclosures are held or released
    conflicted: set[int] = field(default_factory=set)


_PLAIN = frozenset({str, int, float, bool})
_ENCODINGS = {encoding: encoding.value for encoding in PayloadEncoding}  # an Enum's .value is a slow property


def canonical(data: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of a standard record: JSON values (Decimals and dates as strings), no Nones."""
    return {k: v if type(v) in _PLAIN else to_jsonable(v) for k, v in data.items() if v is not None and v != [] and v != ""}


#: Fields that say who *reported* a decision, not what was decided. They are left out of change
#: detection, so the same decision arriving from a second system merges into the record (both
#: sources in its lineage, the first reporter kept) instead of becoming a revision per reporter.
PROVENANCE_FIELDS = frozenset({"data_source_unit", "data_source_credit_code"})


def content_hash(data: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of a standard record's decision content (provenance left out)."""
    decided = {k: v for k, v in data.items() if k not in PROVENANCE_FIELDS}
    text = json.dumps(decided, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def bare_hash(value: str) -> str:
    """Hashes are stored as 64 hex digits, without an algorithm prefix such as ``sha256:``."""
    return value.split(":", 1)[1] if ":" in value else value


def staging_pair(record: PulledRecord) -> tuple[str, str]:
    """What identifies a raw record once staged (with its system): source key and bare content hash."""
    return record.source_key[:200], bare_hash(record.content_hash)


def payload_bytes(record: PulledRecord) -> bytes:
    """The bytes staged for a raw record: as received, or the canonical JSON its content hash covers."""
    if record.canonical is not None:
        return record.canonical
    return canonical_bytes(record.payload)


def decode_payload(payload: bytes | Mapping[str, Any]) -> Mapping[str, Any] | None:
    if isinstance(payload, Mapping):
        return payload
    try:
        value = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, Mapping) else None


def _value_is_the_cause(issue: MappingIssue) -> bool:
    """An unknown code is its own cause ("code 13 unknown: 231 records"); a wrong check digit or a bad
    date is one cause whatever the value, and personal (masked) values never split a group."""
    value = issue.value
    return value is not None and "*" not in value and len(value) <= 64 and issue.rule.startswith(("code", "codeset"))


def group_key(system_id: str, table: TableRef, issue: MappingIssue) -> str:
    """Errors with the same cause share a group: system, table version, field, rule and — for unknown
    codes — the value itself."""
    value = issue.value if _value_is_the_cause(issue) else ""
    text = "\x1f".join((system_id, table.name, str(table.version), issue.field, issue.rule, value or ""))
    return hashlib.sha256(text.encode()).hexdigest()


class PageIngester:
    """Stages, maps and stores pages of one system's records of one record type."""

    def __init__(
        self,
        *,
        system_id: str,
        record_type: str,
        mapper: Mapper,
        context: MappingContext,
        dictionary: Dictionary,
        run_id: int | None,
        today: dt.date = dt.date.max,
        remap_existing: bool = False,
    ) -> None:
        self.system_id = system_id
        self.record_type = record_type
        self.mapper = mapper
        self.context = context
        self.run_id = run_id
        self.today = today  # "not in the future" is judged on this day (the engine has no clock)
        self.remap_existing = remap_existing
        target = dictionary.record_type(_target_of(mapper) or record_type)
        self.target_type = target.name
        self.business_key_fields = target.business_key
        self.reference_date = getattr(target, "reference_date", None)

    def map_one(self, payload: Mapping[str, Any] | None) -> MappingResult:
        """Map one record; a transform that crashes becomes an issue of that record, never a failed run."""
        if payload is None:
            issue = MappingIssue("", "", None, None, "payload.undecodable", "the raw record is not a JSON object; see its payload")
            return MappingResult({}, (issue,), self.mapper.ref)
        try:
            return self.mapper(payload, self.context, today=self.today)
        except Exception as exc:  # noqa: BLE001 - a bad record must not stop the run; kept as a reviewable error
            issue = MappingIssue("", "", None, None, "mapping.crashed", f"the mapping failed on this record: {type(exc).__name__}: {exc}")
            return MappingResult({}, (issue,), self.mapper.ref)

    def business_key(self, record: Mapping[str, Any]) -> str | None:
        parts = [record.get(name) for name in self.business_key_fields]
        if any(p is None or p == "" for p in parts):
            return None
        return "|".join(str(to_jsonable(p)) for p in parts)

    def ingest(self, session: Session, records: Sequence[PulledRecord], prepared: Mapping[str, Prepared] | None = None) -> PageOutcome:
        """Stage, map and store one page; ``prepared`` holds records already mapped ahead (by adapter
        content hash), the others are mapped here."""
        counts = PageCounts(pulled=len(records))
        outcome = PageOutcome(counts)
        pairs = [staging_pair(r) for r in records]
        known = queries.staged_ids(session, self.system_id, pairs)
        fresh: dict[tuple[str, str], PulledRecord] = {}
        for record, pair in zip(records, pairs, strict=True):
            if pair in known and not self.remap_existing:
                counts.unchanged += 1  # the same content was staged (and processed) before
            elif pair in fresh:
                counts.unchanged += 1  # the same record twice in one page
            elif pair not in known:
                fresh[pair] = record
        now = utcnow()
        ids = queries.stage(
            session,
            [
                {
                    "system_id": self.system_id,
                    "run_id": self.run_id,
                    "source_key": pair[0],
                    "record_type": r.record_type,
                    "content_hash": pair[1],
                    "payload": payload_bytes(r),
                    "encoding": _ENCODINGS[r.encoding],
                    "received_at": now,
                }
                for pair, r in fresh.items()
            ],
        )
        for pair in [p for p in fresh if p not in ids]:
            del fresh[pair]  # staged meanwhile by another worker, which maps and stores it
            counts.unchanged += 1
        counts.staged = len(fresh)
        todo = [(ids[pair], record) for pair, record in fresh.items()]
        if self.remap_existing:
            todo += [(known[pair], r) for r, pair in zip(records, pairs, strict=True) if pair in known]
        self._map_and_store(session, todo, outcome, now, prepared)
        return outcome

    def prepare(self, payload: bytes | Mapping[str, Any]) -> Prepared:
        """Map one staged payload and work out what storing it needs; pure (no database), so a page
        can be prepared ahead, in another process (:mod:`jnx.exchange.premap`)."""
        result = self.map_one(decode_payload(payload))
        key = self.business_key(result.record) if result.ok else None
        issues = result.issues
        if result.ok and key is None:
            issues += (MappingIssue(",".join(self.business_key_fields), "", None, None, "business_key.missing",
                                    "the record has no business key, so it cannot be stored or deduplicated"),)
        if issues:
            return Prepared(issues=issues)
        data = canonical(result.record)
        decision = _date(data.get(self.reference_date)) if self.reference_date else None
        return Prepared(key=key, digest=content_hash(data), data_json=dumps_json(data), decision=decision, data=data)

    def _map_and_store(self, session: Session, todo: Sequence[tuple[int, PulledRecord]], outcome: PageOutcome, now: dt.datetime,
                       prepared: Mapping[str, Prepared] | None = None) -> None:
        counts = outcome.counts
        good: list[tuple[int, PulledRecord, Prepared]] = []
        error_rows: list[dict[str, Any]] = []
        table = self.mapper.ref
        ahead = prepared or {}
        for raw_id, record in todo:
            ready = None if record.defect is None else _defect_issues(record)
            if ready is None:
                ready = ahead.get(record.content_hash)
            if ready is None:
                ready = self.prepare(record.payload)
            if ready.issues:
                counts.errors += 1
                counts.error_issues += len(ready.issues)
                for issue in ready.issues:
                    error_rows.append(
                        {
                            "raw_record_id": raw_id,
                            "system_id": self.system_id,
                            "mapping_name": table.name,
                            "mapping_version": str(table.version),
                            "record_type": self.target_type,
                            "field": issue.field[:100],
                            "source_path": (issue.source or None) and issue.source[:300],
                            "masked_value": issue.value and mask_text(issue.value),
                            "transform": issue.transform,
                            "rule": issue.rule[:100],
                            "message": mask_text(issue.message),
                            "group_key": group_key(self.system_id, table, issue),
                            "status": MappingErrorStatus.OPEN.value,
                            "created_at": now,
                        }
                    )
                continue
            good.append((raw_id, record, ready))
        if self.remap_existing:
            # replay: every remapped record's earlier errors leave the queue; the still-broken get new ones
            replayed = [raw_id for raw_id, _ in todo]
            outcome.conflicted.update(queries.open_conflicts_of(session, replayed))
            queries.close_errors_of(session, replayed, MappingErrorStatus.REPLAYED, self.run_id)
        queries.insert_errors(session, error_rows)
        self._store(session, good, outcome, now)

    def _store(self, session: Session, good: Sequence[tuple[int, PulledRecord, Prepared]], outcome: PageOutcome, now: dt.datetime) -> None:
        """Decide each record in page order (new, revised or unchanged), then write in batches.

        A business key first seen in this page has no id until it is inserted; it is referred to by
        ``("new", key)`` until the batch insert answers its id (a key revised within the same page is
        inserted once, at its last content, with a revision row for each content).
        """
        counts = outcome.counts
        if not good:
            return
        table = self.mapper.ref
        current: dict[str, tuple[Any, int, str]] = dict(queries.current_records(session, self.target_type, cast(list[str], [p.key for *_, p in good])))
        sources_of: dict[Any, set[tuple[str, str]]] = dict(queries.lineage_sources(session, [v[0] for v in current.values()]))
        inserts: dict[str, dict[str, Any]] = {}
        updates: dict[int, dict[str, Any]] = {}
        revisions: list[dict[str, Any]] = []
        links: list[tuple[Any, int]] = []
        stored: list[tuple[Any, str, int, Mapping[str, Any], Any]] = []
        conflicts: list[tuple[Any, int, PulledRecord, str]] = []
        for raw_id, record, ready in good:
            key, digest = ready.key, ready.digest
            assert key is not None and digest is not None
            source = (self.system_id, record.source_key)
            existing = current.get(key)
            if existing is not None and existing[2] != digest:
                owners = sources_of.get(existing[0], set())
                if owners and source not in owners:
                    # another source record claims this business key with other content: two cases, or one
                    # case re-keyed at its source — never a revision of the first; an admin decides
                    conflicts.append((existing[0], raw_id, record, key))
                    counts.errors += 1
                    counts.error_issues += 1
                    counts.conflicts += 1
                    continue
            if existing is not None and existing[2] == digest:
                ref = existing[0]
                links.append((ref, raw_id))
                counts.unchanged += 1
                if sources_of.get(ref, set()) - {source}:
                    counts.duplicates_merged += 1  # the same decision from another source: one record, both in its lineage
                sources_of.setdefault(ref, set()).add(source)
                continue
            state = {"current_revision": 1, "content_hash": digest, "data": ready.data_json, "decision_date": ready.decision, "updated_at": now}
            if existing is None:
                ref, revision = ("new", key), 1
                inserts[key] = {"record_type": self.target_type, "business_key": key, "created_at": now, **state}
                counts.new += 1
            else:
                ref, revision = existing[0], existing[1] + 1
                state["current_revision"] = revision
                if isinstance(ref, tuple):
                    inserts[key].update(state)
                else:
                    updates[ref] = state
                counts.revised += 1
            current[key] = (ref, revision, digest)
            sources_of.setdefault(ref, set()).add(source)
            revisions.append(
                {"record_id": ref, "revision": revision, "data": ready.data_json, "content_hash": digest, "raw_record_id": raw_id,
                 "mapping_name": table.name, "mapping_version": str(table.version), "mapping_hash": bare_hash(table.content_hash), "created_at": now}
            )
            links.append((ref, raw_id))
            stored.append((ref, key, revision, ready.record(), ready.ahead))
        ids = queries.insert_standard_records(session, list(inserts.values()))

        def resolve(ref: Any) -> int:
            return ids[ref[1]] if isinstance(ref, tuple) else int(ref)

        queries.revise_standard_records(session, updates)
        queries.insert_revisions(session, [{**row, "record_id": resolve(row["record_id"])} for row in revisions])
        queries.link(session, [{"standard_record_id": resolve(ref), "raw_record_id": raw_id, "system_id": self.system_id, "created_at": now}
                               for ref, raw_id in links])
        outcome.stored.extend(StoredRecord(resolve(ref), self.target_type, key, revision, data, ahead)
                              for ref, key, revision, data, ahead in stored)
        # a newer record of a source key that had errors supersedes them (a conflict it was in ends too)
        stale = queries.superseded_raw_ids(session, self.system_id, [r.source_key for _, r, *_ in good], [g[0] for g in good])
        if stale:
            outcome.conflicted.update(queries.open_conflicts_of(session, stale))
        queries.close_errors_of(session, stale, MappingErrorStatus.RESOLVED, self.run_id)
        if conflicts:
            self._queue_conflicts(session, conflicts, [resolve(ref) for ref, *_ in conflicts], table, outcome, now)

    def _queue_conflicts(self, session: Session, conflicts: Sequence[tuple[Any, int, PulledRecord, str]], record_ids: Sequence[int],
                         table: TableRef, outcome: PageOutcome, now: dt.datetime) -> None:
        """One ``business_key.conflict`` error per source record that claimed a business key another
        source record holds: the newcomer stays staged (its raw record is the error's), the standard
        record stays as it was, and its disclosure is held until the conflict is resolved."""
        owners = queries.lineage_sources(session, list(record_ids))
        rows = []
        for (_, raw_id, record, key), record_id in zip(conflicts, record_ids, strict=True):
            held_by = ", ".join(f"{system}/{source_key}" for system, source_key in sorted(owners.get(record_id, set()))) or "another source"
            issue = MappingIssue(
                field="business_key", source="", value=mask_id_numbers_in(key), transform=None, rule=CONFLICT_RULE,
                message=(f"business key {mask_id_numbers_in(key)} is held by standard record #{record_id} (from {held_by}); "
                         f"this source record ({self.system_id}/{record.source_key}) says something else, so it is not "
                         "taken as a revision and neither is disclosed until an admin decides: the same case under a new "
                         "source key → `jnx errors merge ERROR_ID`; two different cases → correct the decision number at "
                         "the source (the next run brings it) or `jnx errors ignore ERROR_ID --reason …`"),
            )
            rows.append({
                "raw_record_id": raw_id, "system_id": self.system_id, "mapping_name": table.name,
                "mapping_version": str(table.version), "record_type": self.target_type, "field": issue.field,
                "source_path": None, "masked_value": issue.value, "transform": None, "rule": issue.rule,
                "message": issue.message, "group_key": group_key(self.system_id, table, issue),
                "status": MappingErrorStatus.OPEN.value, "created_at": now, "conflict_record_id": record_id,
            })
        queries.insert_errors(session, rows)
        outcome.conflicted.update(record_ids)


#: The errors-queue rule of a business-key conflict (two source records, one business key).
CONFLICT_RULE = "business_key.conflict"


def _defect_issues(record: PulledRecord) -> Prepared:
    """A record the adapter could not read: one issue saying why and where, the raw bytes staged."""
    assert record.defect is not None
    issue = MappingIssue("", "", None, None, f"source.{record.defect.rule}"[:100], record.defect.message)
    return Prepared(issues=(issue,))


def _target_of(mapper: Mapper) -> str | None:
    table = getattr(mapper, "table", None)
    return getattr(table, "target", None)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


__all__ = ["Mapper", "PageCounts", "PageIngester", "PageOutcome", "StoredRecord", "canonical", "content_hash"]
