"""映射表 → 试映射: a mapping table version tried on the raw records stored for the systems that use
the table — each record mapped with that version and with the one its system pins, nothing stored
(mapping is pure: no transaction is opened for writing). What a new version would fix and what it
would break, before a system is pinned to it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from jnx.errors import NotFoundError
from jnx.exchange.ingest import PageIngester
from jnx.exchange.registry import SystemRegistry
from jnx.exchange.runs import _context
from jnx.exchange.wiring import Exchange
from jnx.mappings.errors import UnknownTableError
from jnx.security.masking import mask_text
from jnx.services.console_scope import Viewer
from jnx.store.models import RawRecord, SourceSystem

Change = Literal["fixed", "broken", "still ok", "still failing"]
LIMIT = 200  # records tried at most (the latest of each stream, shared out)


class TrialRow(BaseModel):
    raw_record: int
    system: str
    record_type: str
    source_key: str
    received_at: dt.datetime
    pinned: str  # the table version the system pins for the stream
    pinned_issues: int
    issues: int  # under the tried version
    change: Change
    first_issue: str | None  # masked


class Trial(BaseModel):
    table: str
    streams: list[str]  # system/record type pairs that use the table
    mapped: int
    ok: int
    failing: int
    fixed: int
    broken: int
    rules: list[tuple[str, str, int]]  # (field, rule, records) failing under the tried version
    rows: list[TrialRow]


def try_table(exchange: Exchange, session: Session, viewer: Viewer, name: str, version: int, *, limit: int = LIMIT) -> Trial:
    """Map the latest stored raw records of every stream pinned to any version of ``name`` (of the
    systems the viewer may see) with ``name@version`` and with the pinned version; store nothing."""
    viewer.scope("mappings.show")
    service = exchange.runs()
    try:
        tried = service.tables.compiled(name, str(version))
    except UnknownTableError as exc:
        raise NotFoundError(str(exc), hint="the 映射表 page lists the published tables") from None
    visible = list(session.scalars(select(SourceSystem.id).where(viewer.scope("systems.list").systems()).order_by(SourceSystem.id))
                   ) if viewer.can("systems.list") else []
    registry = SystemRegistry()
    streams = []
    for system_id in visible:
        system = registry.get(session, system_id)
        for record_type, ref in sorted(system.registration.mappings.items()):
            if ref.split("@", 1)[0] == name:
                streams.append((system, record_type, ref))
    rows: list[TrialRow] = []
    rules: dict[tuple[str, str], int] = {}
    share = max(1, limit // max(1, len(streams)))
    for system, record_type, ref in streams:
        pinned_name, pinned_version = ref.split("@", 1)
        common = {"system_id": system.id, "record_type": record_type, "context": _context(system), "dictionary": service.dictionary,
                  "run_id": None, "today": service.today()}
        under_tried = PageIngester(mapper=tried, **common)  # type: ignore[arg-type]
        under_pinned = PageIngester(mapper=service.tables.compiled(pinned_name, pinned_version), **common)  # type: ignore[arg-type]
        raws = session.scalars(select(RawRecord).where(RawRecord.system_id == system.id, RawRecord.record_type == record_type)
                               .order_by(RawRecord.id.desc()).limit(share))
        for raw in raws:
            now, before = under_tried.prepare(raw.payload), under_pinned.prepare(raw.payload)
            for issue in now.issues:
                rules[(issue.field, issue.rule)] = rules.get((issue.field, issue.rule), 0) + 1
            change: Change = ("fixed" if before.issues and not now.issues else "broken" if now.issues and not before.issues
                              else "still failing" if now.issues else "still ok")
            first = now.issues[0] if now.issues else None
            rows.append(TrialRow(raw_record=raw.id, system=system.id, record_type=record_type, source_key=mask_text(raw.source_key),
                                 received_at=raw.received_at, pinned=ref, pinned_issues=len(before.issues), issues=len(now.issues),
                                 change=change, first_issue=mask_text(f"{first.field}: {first.message} ({first.rule})") if first else None))
    failing = sum(1 for r in rows if r.issues)
    return Trial(table=f"{name}@{version}", streams=[f"{s.id}/{t} ({ref})" for s, t, ref in streams], mapped=len(rows),
                 ok=len(rows) - failing, failing=failing, fixed=sum(1 for r in rows if r.change == "fixed"),
                 broken=sum(1 for r in rows if r.change == "broken"),
                 rules=sorted(((f, r, n) for (f, r), n in rules.items()), key=lambda x: -x[2]), rows=rows)
