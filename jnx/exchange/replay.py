"""``jnx replay``: re-map a system's staged records under a chosen table version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jnx.errors import ConfigError
from jnx.exchange.error_queue import remap
from jnx.exchange.ingest import PageCounts
from jnx.exchange.registry import RegisteredSystem
from jnx.exchange.runs import BEIJING
from jnx.exchange.wiring import Exchange
from jnx.mappings.table import MappingTable
from jnx.progress import WorkProgress
from jnx.store.db import session_factory
from jnx.store.models import RawRecord


def _table(ex: Exchange, ref: str) -> MappingTable:
    """The published table ``NAME@VERSION`` (the catalog's clear error for an unknown one)."""
    name, version = ref.split("@", 1)
    ex.catalog.compiled(name, version)
    return ex.catalog.registry.compiled(name, int(version)).table


def _streams_for(ex: Exchange, system: RegisteredSystem, table: MappingTable) -> list[str]:
    """The system's record types that ``table`` can map: those whose pinned table reads the same
    source kind and makes the same record type. ConfigError naming both sides when there is none."""
    streams: dict[str, str] = {}
    fits = []
    for record_type, ref in system.mappings.items():
        pinned = _table(ex, ref)
        streams[record_type] = f"{record_type} ({pinned.source_kind} → {pinned.target}, {ref})"
        if (pinned.direction, pinned.source_kind, pinned.target) == (table.direction, table.source_kind, table.target):
            fits.append(record_type)
    if not fits:
        ref = f"{table.name}@{table.version}"
        raise ConfigError(
            f"{ref} maps {table.direction.value} {table.source_kind} records to {table.target!r}; "
            f"system {system.id!r} streams {'; '.join(streams.values()) or 'no record types'}",
            hint=f"replay with a version of a table the system pins (`jnx systems show {system.id}`); "
                 "`jnx mappings list` shows every table and version",
        )
    return fits


def replay_system(ex: Exchange, *, system: str, mapping: str, since: str | None = None, dry_run: bool = False,
                  progress: WorkProgress | None = None, session: Session | None = None,
                  audit: Callable[[Session, dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Map every staged raw record of ``system`` (received since ``since``) with ``mapping``.

    Only the record types whose pinned table reads the same source kind into the same record type
    are re-mapped; a table that fits none of them is refused (ConfigError), not a replay of 0 records.
    ``progress`` is told how many records there are, then each batch as it is mapped. A replay that
    stores (not ``dry_run``) is handed to ``audit`` in its transaction before it commits; ``session``
    is the (unstarted) session to work in, a new one by default.
    """
    if "@" not in mapping:
        raise ConfigError(f"{mapping!r} is not NAME@VERSION", hint="e.g. --mapping case_handling.penalty@2")
    name, version = mapping.split("@", 1)
    table = _table(ex, mapping)
    cutoff = None
    if since:
        try:
            cutoff = dt.datetime.combine(dt.date.fromisoformat(since), dt.time(), BEIJING)
        except ValueError as exc:
            raise ConfigError(f"--since {since!r} is not a date (YYYY-MM-DD)") from exc
    service = ex.runs()
    counts = PageCounts()
    records = 0
    session = session if session is not None else session_factory(ex.engine)()
    try:
        with session.begin():
            record_types = _streams_for(ex, service.registry.get(session, system), table)
            query = select(RawRecord.record_type, RawRecord.id).where(
                RawRecord.system_id == system, RawRecord.record_type.in_(record_types))
            if cutoff is not None:
                query = query.where(RawRecord.received_at >= cutoff)
            by_type: dict[str, list[int]] = {}
            for row in session.execute(query.order_by(RawRecord.id)):
                by_type.setdefault(row.record_type, []).append(row.id)
            if progress is not None:
                progress.start(f"re-mapping {system} with {mapping}", sum(len(ids) for ids in by_type.values()))
            for record_type, ids in by_type.items():
                records += len(ids)
                counts.add(remap(service, session, system, record_type, ids, table=(name, version), progress=progress))
            report = {"system": system, "mapping": mapping, "dry_run": dry_run, "records": records, **counts.as_dict()}
            if dry_run:
                session.rollback()
            elif audit is not None:
                audit(session, report)
    finally:
        session.close()
    return report
