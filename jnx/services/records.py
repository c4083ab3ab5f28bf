"""Standard records as users see them: listed newest first in cursor pages, and one record with its
whole lineage (the console's 记录 pages, the same code). A department officer sees the records its
department decided; another's is "not found"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from jnx.services.console_scope import Viewer
from jnx.services.context import ServiceContext
from jnx.services.lineage import lineage, record_row
from jnx.services.paging import before_id, between, checked_limit, encode_cursor, filtered
from jnx.store.models import StandardRecord


class RecordItem(BaseModel):
    id: int
    record_type: str
    business_key: str
    revision: int
    decision_date: dt.date | None
    updated_at: dt.datetime


class RecordPage(BaseModel):
    records: list[RecordItem]
    count: int
    next_cursor: str | None


def list_records(ctx: ServiceContext, *, record_type: str | None = None, key: str | None = None, since: dt.datetime | None = None,
                 until: dt.datetime | None = None, limit: int = 100, cursor: str | None = None) -> RecordPage:
    """Records newest first: by type, a part of the business key, and when they last changed."""
    scope = ctx.authorize("records.list")
    limit = checked_limit(limit)
    query = select(StandardRecord.id, StandardRecord.record_type, StandardRecord.business_key, StandardRecord.current_revision,
                   StandardRecord.decision_date, StandardRecord.updated_at)
    query = filtered(query, None if scope.everything else scope.records(),
                     StandardRecord.record_type == record_type if record_type else None,
                     StandardRecord.business_key.contains(key, autoescape=True) if key else None,
                     *between(StandardRecord.updated_at, since, until), before_id(StandardRecord.id, cursor))
    rows = ctx.session.execute(query.order_by(StandardRecord.id.desc()).limit(limit + 1)).all()
    items = [RecordItem.model_validate(record_row(r)) for r in rows[:limit]]
    return RecordPage(records=items, count=len(items), next_cursor=encode_cursor(items[-1].id) if len(rows) > limit else None)


def show_record(ctx: ServiceContext, record_id: int) -> dict[str, Any]:
    """One record and its lineage: raw records → revisions → disclosures → deliveries → receipts, and its audit entries."""
    ctx.authorize("records.show")
    return lineage(ctx.session, Viewer.of(ctx.actor), record_id)
