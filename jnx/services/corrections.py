"""Correct one raw record by hand and map it again (错误 → 更正): the form of its fields (personal
data masked, the failing fields marked), a preview that changes nothing, and the correction itself.
It starts from an error (its raw record) or from a standard record (the raw record of its current
revision): a record stored that way is revised, and its disclosure gets a correction revision.

The original raw record is never changed: the corrected content is staged as a new raw record of
the same source key (its run is none; the audit entry ``errors.corrected`` names the user, the
fields changed — never their values — and the reason), mapped with the system's pinned table and
stored as the record's next revision when it maps; the original's open errors close as
``resolved``. Rights: ``errors.correct`` (operator; a department officer for its own systems).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from jnx.errors import ConfigError, NotFoundError
from jnx.exchange import error_queue
from jnx.exchange.ingest import decode_payload
from jnx.exchange.wiring import Exchange
from jnx.security.audit_sql import SqlAuditStore
from jnx.services.console_scope import Viewer
from jnx.store.db import session_factory
from jnx.store.models import (
    MappingErrorEntry,
    MappingErrorStatus,
    RawRecord,
    RecordLineage,
    SourceSystem,
    StandardRecord,
    StandardRecordRevision,
)

E = MappingErrorEntry
_SCALARS = (str, int, float, bool)


class FormField(BaseModel):
    key: str
    shown: str  # the value as the page may show it ('' for none; personal data masked)
    personal: bool  # masked: the input starts empty and an empty input keeps the value
    failing: bool  # an open error of the record points at it
    editable: bool  # a plain value (nested objects and lists are corrected at the source)


class CorrectionForm(BaseModel):
    raw_record_id: int
    system: str
    record_type: str
    fields: list[FormField]
    errors: list[dict[str, Any]]  # the record's open errors (masked)


class ErrorLine(BaseModel):
    field: str
    rule: str
    message: str
    value: str | None


class CorrectionOutcome(BaseModel):
    original_raw_record_id: int
    raw_record_id: int | None  # the corrected raw record (None in a preview)
    record_id: int | None  # the standard record it was stored as (None: still broken, or a preview)
    changed: list[str]
    fixed: bool
    new: int
    revised: int
    unchanged: int
    closed: int  # errors of the original closed as resolved
    errors: list[ErrorLine]  # what is still wrong with the corrected content


def _raw(session: Session, viewer: Viewer, raw_id: int) -> RawRecord:
    """The raw record, when its system is one the viewer may correct (404 otherwise, as a missing one)."""
    scope = viewer.scope("errors.correct")
    raw = session.get(RawRecord, raw_id)
    if raw is None or session.scalar(select(SourceSystem.id).where(SourceSystem.id == raw.system_id, scope.systems())) is None:
        raise NotFoundError(f"no raw record #{raw_id} you may correct", hint="the 错误 and 记录 pages link the ones you may")
    return raw


def raw_of_error(session: Session, viewer: Viewer, error_id: int) -> int:
    """The raw record behind an error (404 outside the viewer's systems, as a missing one)."""
    row = session.get(E, error_id)
    if row is None:
        raise NotFoundError(f"no mapping error #{error_id}", hint="the 错误 page lists the open ones")
    try:
        return _raw(session, viewer, row.raw_record_id).id
    except NotFoundError:
        raise NotFoundError(f"no mapping error #{error_id}", hint="the 错误 page lists the open ones") from None


def raw_of_record(session: Session, viewer: Viewer, record_id: int) -> int:
    """The raw record a standard record's current revision was mapped from — what correcting the
    record (and so its disclosure: a correction revision follows) starts from."""
    record = session.get(StandardRecord, record_id)
    if record is None or not viewer.scope("records.show").sees_business_key(record.business_key):
        raise NotFoundError(f"no standard record #{record_id}", hint="the 记录 page lists the records you may see")
    raw_id = session.scalar(select(StandardRecordRevision.raw_record_id).where(
        StandardRecordRevision.record_id == record_id, StandardRecordRevision.revision == record.current_revision))
    if raw_id is None:
        raise ConfigError(f"record #{record_id} has no raw record to correct (it was not mapped from one)",
                          hint="correct it at its source system")
    return _raw(session, viewer, raw_id).id


def _failing_keys(session: Session, raw_id: int) -> set[str]:
    paths = session.scalars(select(E.source_path).where(E.raw_record_id == raw_id, E.status == MappingErrorStatus.OPEN))
    return {p.split(".")[0].split("[")[0] for p in paths if p}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def correction_form(session: Session, viewer: Viewer, raw_id: int) -> CorrectionForm:
    """The fields of a raw record as a form: masked where personal, the failing ones marked."""
    raw = _raw(session, viewer, raw_id)
    payload = decode_payload(raw.payload)
    if payload is None:
        raise ConfigError(f"raw record #{raw.id} is not a JSON object, so it cannot be corrected in a form",
                          hint="correct it at its source system and pull it again")
    masked = error_queue.mask_payload(dict(payload))
    failing = _failing_keys(session, raw.id)
    fields = []
    for key, value in payload.items():
        shown = masked.get(key)
        personal = shown != value
        fields.append(FormField(key=key, shown=_text(shown), personal=personal, failing=key in failing,
                                editable=value is None or isinstance(value, _SCALARS)))
    errors = [error_queue._summary(e) for e in session.scalars(
        select(E).where(E.raw_record_id == raw.id, E.status == MappingErrorStatus.OPEN).order_by(E.id))]
    return CorrectionForm(raw_record_id=raw.id, system=raw.system_id, record_type=raw.record_type,
                          fields=sorted(fields, key=lambda f: (not f.failing, f.key)), errors=errors)


def changes_from(session: Session, viewer: Viewer, raw_id: int, submitted: Mapping[str, str]) -> dict[str, Any]:
    """The corrections a submitted form asks for (``field:<key>`` inputs): a value that differs from
    the stored one, typed as the stored one was (a number stays a number); an empty input keeps a
    personal value and empties any other (null)."""
    raw = _raw(session, viewer, raw_id)
    payload = decode_payload(raw.payload) or {}
    masked = error_queue.mask_payload(dict(payload))
    changes: dict[str, Any] = {}
    for name, text in submitted.items():
        if not name.startswith("field:"):
            continue
        key = name[len("field:"):]
        if key not in payload:
            raise ConfigError(f"raw record #{raw.id} has no field {key!r}", hint="reload the form")
        old = payload[key]
        if not (old is None or isinstance(old, _SCALARS)):
            continue
        text = text.strip()
        personal = masked.get(key) != old
        if personal and not text:
            continue
        value = _typed(text, old)
        if value != old:
            changes[key] = value
    return changes


def _typed(text: str, old: Any) -> Any:
    if text == "":
        return None
    if isinstance(old, bool):
        if text.lower() in {"true", "false"}:
            return text.lower() == "true"
    elif isinstance(old, int):
        try:
            return int(text)
        except ValueError:
            pass
    elif isinstance(old, float):
        try:
            return float(text)
        except ValueError:
            pass
    return text


def _outcome(raw: RawRecord, changes: Mapping[str, Any], found: error_queue.Correction,
             record_id: int | None, preview: bool) -> CorrectionOutcome:
    return CorrectionOutcome(
        original_raw_record_id=raw.id, raw_record_id=None if preview else found.raw_record_id,
        record_id=None if preview else record_id, changed=sorted(changes), fixed=not found.errors,
        new=found.counts.new, revised=found.counts.revised, unchanged=found.counts.unchanged, closed=found.closed,
        errors=[ErrorLine(field=e["field"], rule=e["rule"], message=e["message"], value=e["value"]) for e in found.errors])


def preview_correction(exchange: Exchange, session: Session, viewer: Viewer, raw_id: int,
                       changes: Mapping[str, Any]) -> CorrectionOutcome:
    """What the correction would do — mapped inside a transaction that is rolled back: nothing changes."""
    if not changes:
        raise ConfigError("the form changes nothing", hint="change the failing field and preview again")
    raw = _raw(session, viewer, raw_id)
    transaction = session.begin_nested() if session.in_transaction() else session.begin()
    try:
        found = error_queue.correct(exchange.runs(), session, raw.id, changes)
    finally:
        transaction.rollback()
    return _outcome(raw, changes, found, None, preview=True)


class ErrorStateError(ConfigError):
    """A correction started from an error that is no longer open: over HTTP 409 (its state is in the way)."""

    http_status = 409


def correct_record(exchange: Exchange, viewer: Viewer, audit: SqlAuditStore, raw_id: int, changes: Mapping[str, Any],
                   reason: str, *, error_id: int | None = None, via: str = "console") -> CorrectionOutcome:
    """Store the corrected raw record and map it (one transaction); audited as ``errors.corrected``.
    ``error_id``: the error it was started from, which must still be open."""
    if not reason.strip():
        raise ConfigError("a correction needs a reason", hint="say why the source's value was wrong")
    if not changes:
        raise ConfigError("the form changes nothing", hint="change the failing field and preview again")
    with session_factory(exchange.engine, immediate=True).begin() as session:
        raw = _raw(session, viewer, raw_id)
        row = session.get(E, error_id) if error_id is not None else None
        if row is not None and row.status is not MappingErrorStatus.OPEN:
            raise ErrorStateError(f"error #{error_id} is {row.status.value} already", hint="the error's page says how it ended")
        found = error_queue.correct(exchange.runs(), session, raw.id, changes)
        record_id = session.scalar(select(RecordLineage.standard_record_id).where(RecordLineage.raw_record_id == found.raw_record_id))
        outcome = _outcome(raw, changes, found, record_id, preview=False)
    audit.append(actor=viewer.username, action="errors.corrected", subject=f"raw:{found.raw_record_id}",
                 details={"error": error_id, "original_raw_record": raw.id, "fields": sorted(changes), "reason": reason.strip(),
                          "fixed": outcome.fixed, "closed": outcome.closed, "record": record_id, "via": via},
                 at=dt.datetime.now(dt.UTC))
    return outcome
