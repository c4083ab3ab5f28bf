"""记录: standard records in the viewer's scope, and one record's whole lineage — raw records (with
their runs) → standard record revisions (with their table versions) → disclosure revisions →
deliveries → receipts, and the audit entries about it (who did what)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from jnx.errors import NotFoundError
from jnx.exchange.error_queue import mask_payload
from jnx.security.masking import mask_id_numbers_in
from jnx.services.console_scope import Viewer
from jnx.store.models import (
    AuditEntry,
    Delivery,
    Disclosure,
    DisclosureRevision,
    RawRecord,
    RecordLineage,
    StandardRecord,
    StandardRecordRevision,
)

_SORTS = {"id": StandardRecord.id, "record_type": StandardRecord.record_type, "decision_date": StandardRecord.decision_date,
          "revision": StandardRecord.current_revision, "updated_at": StandardRecord.updated_at}


def records(session: Session, viewer: Viewer, *, record_type: str | None = None, key: str | None = None, offset: int = 0,
            limit: int = 50, sort: str = "id", descending: bool = True) -> tuple[list[dict[str, Any]], int]:
    query = select(StandardRecord.id, StandardRecord.record_type, StandardRecord.business_key, StandardRecord.current_revision,
                   StandardRecord.decision_date, StandardRecord.updated_at).where(viewer.scope("records.list").records())
    if record_type:
        query = query.where(StandardRecord.record_type == record_type)
    if key:
        query = query.where(StandardRecord.business_key.contains(key, autoescape=True))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    column = _SORTS.get(sort, StandardRecord.id)
    rows = session.execute(query.order_by(column.desc() if descending else column, StandardRecord.id).offset(offset).limit(limit))
    return [record_row(r) for r in rows], total


def record_row(r: Any) -> dict[str, Any]:
    """One standard record as lists show it (a business key's ID numbers masked)."""
    return {"id": r.id, "record_type": r.record_type, "business_key": mask_id_numbers_in(r.business_key),
            "revision": r.current_revision, "decision_date": r.decision_date, "updated_at": r.updated_at}


def record_types(session: Session) -> list[str]:
    return list(session.scalars(select(StandardRecord.record_type).distinct().order_by(StandardRecord.record_type)))


def lineage(session: Session, viewer: Viewer, record_id: int) -> dict[str, Any]:
    record = session.get(StandardRecord, record_id)
    if record is None or not viewer.scope("records.show").sees_business_key(record.business_key):
        raise NotFoundError(f"no standard record #{record_id}", hint="the 记录 page lists the records you may see")
    raws: list[dict[str, Any]] = [{"id": r.id, "system": r.system_id, "run": r.run_id, "source_key": r.source_key, "received_at": r.received_at,
             "content_hash": r.content_hash[:12]}
            for r in session.scalars(select(RawRecord).join(RecordLineage, RecordLineage.raw_record_id == RawRecord.id)
                                     .where(RecordLineage.standard_record_id == record_id).order_by(RawRecord.id))]
    revisions: list[dict[str, Any]] = [{"revision": v.revision, "raw_record": v.raw_record_id, "table": f"{v.mapping_name}@{v.mapping_version}",
                  "created_at": v.created_at, "content_hash": v.content_hash[:12]}
                 for v in session.scalars(select(StandardRecordRevision).where(StandardRecordRevision.record_id == record_id)
                                          .order_by(StandardRecordRevision.revision))]
    disclosures: list[dict[str, Any]] = []
    for d in session.scalars(select(Disclosure).where(Disclosure.standard_record_id == record_id).order_by(Disclosure.id)):
        steps = []
        for rev in session.scalars(select(DisclosureRevision).where(DisclosureRevision.disclosure_id == d.id)
                                   .order_by(DisclosureRevision.revision)):
            deliveries = [{"id": x.id, "status": x.status.value, "attempts": x.attempts, "updated_at": x.updated_at,
                           "receipt": x.receipt}
                          for x in session.scalars(select(Delivery).where(Delivery.disclosure_revision_id == rev.id).order_by(Delivery.id))]
            steps.append({"revision": rev.revision, "action": rev.action.value, "created_at": rev.created_at, "reason": rev.reason,
                          "deliveries": deliveries})
        disclosures.append({"id": d.id, "kind": d.kind.value, "status": d.status.value, "revisions": steps})
    subjects = ([f"record:{record_id}"] + [f"disclosure:{d['id']}" for d in disclosures]
                + [f"raw:{r['id']}" for r in raws])  # raw:ID — a raw record corrected by hand (errors.corrected)
    audit: list[dict[str, Any]] = [{"at": a.at, "actor": a.actor, "action": a.action, "subject": a.subject}
             for a in session.scalars(select(AuditEntry).where(or_(*(AuditEntry.subject == s for s in subjects)))
                                      .order_by(AuditEntry.seq).limit(200))]
    corrected_by = {int(a["subject"][4:]): a["actor"] for a in audit if a["action"] == "errors.corrected"}
    runs = {r["id"]: r["run"] for r in raws}
    for raw in raws:
        raw["corrected_by"] = corrected_by.get(raw["id"])
    for revision in revisions:  # each step's run, or the user whose correction it maps
        revision["run"] = runs.get(revision["raw_record"]) if revision["raw_record"] else None
        revision["corrected_by"] = corrected_by.get(revision["raw_record"]) if revision["raw_record"] else None
    return {"id": record.id, "record_type": record.record_type, "business_key": mask_id_numbers_in(record.business_key),
            "revision": record.current_revision, "decision_date": record.decision_date,
            "data": mask_payload(record.data), "raw_records": raws, "revisions": revisions, "disclosures": disclosures,
            "audit": audit}
