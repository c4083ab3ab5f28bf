"""``jnx replay``: re-map a system's staged records under a chosen table version."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from jnx.errors import ConfigError
from jnx.exchange.db import session_factory
from jnx.exchange.error_queue import remap
from jnx.exchange.ingest import PageCounts
from jnx.exchange.models import RawRecord
from jnx.exchange.runs import BEIJING
from jnx.exchange.wiring import Exchange


def replay_system(ex: Exchange, *, system: str, mapping: str, since: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Map every staged raw record of ``system`` (received since ``since``) with ``mapping``."""
    if "@" not in mapping:
        raise ConfigError(f"{mapping!r} is not NAME@VERSION", hint="e.g. --mapping case_handling.penalty@2")
    name, version = mapping.split("@", 1)
    table = ex.catalog.compiled(name, version)  # a clear error for an unknown table
    target = getattr(getattr(table, "table", None), "target", None)
    cutoff = None
    if since:
        try:
            cutoff = dt.datetime.combine(dt.date.fromisoformat(since), dt.time(), BEIJING)
        except ValueError as exc:
            raise ConfigError(f"--since {since!r} is not a date (YYYY-MM-DD)") from exc
    service = ex.runs()
    counts = PageCounts()
    records = 0
    session = session_factory(ex.engine)()
    try:
        with session.begin():
            query = select(RawRecord.record_type, RawRecord.id).where(RawRecord.system_id == system)
            if cutoff is not None:
                query = query.where(RawRecord.received_at >= cutoff)
            by_type: dict[str, list[int]] = {}
            for row in session.execute(query.order_by(RawRecord.id)):
                by_type.setdefault(row.record_type, []).append(row.id)
            system_row = service.registry.get(session, system)
            for record_type, ids in by_type.items():
                pinned = system_row.registration.mappings.get(record_type)
                pinned_target = getattr(getattr(ex.catalog.compiled(*pinned.split("@", 1)), "table", None), "target", None) if pinned else None
                if target is not None and pinned_target is not None and pinned_target != target:
                    continue  # a table for another record type of this system
                records += len(ids)
                counts.add(remap(service, session, system, record_type, ids, table=(name, version)))
            if dry_run:
                session.rollback()
    finally:
        session.close()
    return {"system": system, "mapping": mapping, "dry_run": dry_run, "records": records, **counts.as_dict()}
