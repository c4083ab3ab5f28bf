"""The SQL that matters for a run, in one place: staging, upserts of standard records, lineage,
errors and watermarks. Core statements over the models' tables, batched per page; the dialect
decides only the ``INSERT … ON CONFLICT DO NOTHING`` spelling."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, column, select, text, update
from sqlalchemy import table as bare_table
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jnx.exchange.models import (
    MappingErrorEntry,
    MappingErrorStatus,
    RawRecord,
    RecordLineage,
    StandardRecord,
    StandardRecordRevision,
    Watermark,
    utcnow,
)

RAW: Table = RawRecord.__table__  # type: ignore[assignment]
STANDARD: Table = StandardRecord.__table__  # type: ignore[assignment]
REVISIONS: Table = StandardRecordRevision.__table__  # type: ignore[assignment]
LINEAGE: Table = RecordLineage.__table__  # type: ignore[assignment]
ERRORS: Table = MappingErrorEntry.__table__  # type: ignore[assignment]
WATERMARKS: Table = Watermark.__table__  # type: ignore[assignment]

_CHUNK = 500  # keys per IN (…) list: well under SQLite's variable limit


def _prebound(session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, verbatim: frozenset[str] = frozenset(),
              extra: Sequence[str] = ()) -> tuple[TableClause, list[dict[str, Any]]]:
    """The page's rows with every value already in its database form, and an untyped view of the table.

    The bulk writes of a run go through this instead of the models' column types: SQLAlchemy would
    run each value of each row through its type's processor (the instants of a page are one value,
    and the JSON of a standard record is serialised once, by the ingester, for the record and its
    revision). Columns named in ``verbatim`` are passed as given (JSON text); the others through
    their column type's bind processor, once per distinct instant."""
    dialect = session.get_bind().dialect
    names = list(rows[0]) if rows else []
    processors = {name: table.c[name].type._cached_bind_processor(dialect) for name in names if name not in verbatim}  # noqa: SLF001
    processors = {name: proc for name, proc in processors.items() if proc is not None}
    memo: dict[Any, Any] = {}

    def bound(name: str, value: Any) -> Any:
        if value is None:
            return None
        if type(value) is not dt.datetime:
            return processors[name](value)
        key = (name, value)
        result = memo.get(key)
        if result is None:
            memo[key] = result = processors[name](value)
        return result

    out = [{name: (bound(name, value) if name in processors else value) for name, value in row.items()} for row in rows]
    return bare_table(table.name, *(column(name) for name in dict.fromkeys([*names, *extra]))), out


def _insert_ignore(session: Session, table: Table, rows: Sequence[Mapping[str, Any]], keys: list[str]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    view, bound = _prebound(session, table, rows)
    stmt = module.insert(view).on_conflict_do_nothing(index_elements=keys)
    session.execute(stmt, bound)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def staged_ids(session: Session, system_id: str, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Ids of raw records already staged, by (source key, content hash).

    Searched by ``source_key IN (…)`` — a prefix of the unique index (system, source key, content
    hash) — and the hashes compared here: SQLite does not search that index by row values
    ``(source_key, content_hash) IN (…)`` and would scan every raw record of the system per page."""
    wanted = set(pairs)
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(list(dict.fromkeys(key for key, _ in pairs))):
        rows = session.execute(
            select(RAW.c.id, RAW.c.source_key, RAW.c.content_hash).where(RAW.c.system_id == system_id, RAW.c.source_key.in_(chunk))
        )
        for row in rows:
            pair = (row.source_key, row.content_hash)
            if pair in wanted:
                found[pair] = row.id
    return found


def stage(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert raw records; one already staged (same system, key and content) is left as it is.

    Returns the ids of the rows this statement inserted, by (source key, content hash): a row that
    another worker staged meanwhile (it waited for that worker's commit) is not among them, so only
    one of the two goes on to map and store it."""
    if not rows:
        return {}
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    view, bound = _prebound(session, RAW, rows, extra=["id"])
    statement = (
        module.insert(view)
        .on_conflict_do_nothing(index_elements=["system_id", "source_key", "content_hash"])
        .returning(view.c.id, view.c.source_key, view.c.content_hash)
    )
    return {(row.source_key, row.content_hash): int(row.id) for row in session.execute(statement, bound)}


def current_records(session: Session, record_type: str, keys: Sequence[str]) -> dict[str, tuple[int, int, str]]:
    """(id, current revision, content hash) of standard records by business key."""
    found: dict[str, tuple[int, int, str]] = {}
    for chunk in _chunks(list(dict.fromkeys(keys))):
        rows = session.execute(
            select(STANDARD.c.id, STANDARD.c.business_key, STANDARD.c.current_revision, STANDARD.c.content_hash).where(
                STANDARD.c.record_type == record_type, STANDARD.c.business_key.in_(chunk)
            )
        )
        for row in rows:
            found[row.business_key] = (row.id, row.current_revision, row.content_hash)
    return found


#: Standard records' and revisions' ``data`` arrive as JSON text (``db.dumps_json``), serialised once.
_DATA = frozenset({"data"})


def insert_standard_records(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert new standard records in one batch (``data`` as JSON text); their ids by business key."""
    if not rows:
        return {}
    view, bound = _prebound(session, STANDARD, rows, verbatim=_DATA, extra=["id"])
    result = session.execute(view.insert().returning(view.c.id, view.c.business_key), bound)
    return {row.business_key: int(row.id) for row in result}


def revise_standard_records(session: Session, changes: Mapping[int, Mapping[str, Any]]) -> None:
    """Move standard records to a new current revision (id → current_revision, content_hash, data as
    JSON text, decision_date, updated_at), in one batch."""
    if not changes:
        return
    view, bound = _prebound(session, STANDARD, list(changes.values()), verbatim=_DATA, extra=["id"])
    names = list(bound[0])
    statement = update(view).where(view.c.id == bindparam("record_id")).values({name: bindparam(f"new_{name}") for name in names})
    params = [{"record_id": record_id, **{f"new_{k}": v for k, v in values.items()}} for record_id, values in zip(changes, bound, strict=True)]
    session.connection().execute(statement, params)


def insert_revisions(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert revisions in one batch (``data`` as JSON text)."""
    if rows:
        view, bound = _prebound(session, REVISIONS, rows, verbatim=_DATA)
        session.execute(view.insert(), bound)


def link(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    _insert_ignore(session, LINEAGE, rows, ["standard_record_id", "raw_record_id"])


def lineage_sources(session: Session, record_ids: Sequence[int]) -> dict[int, set[tuple[str, str]]]:
    """The (system, source key) pairs each standard record was made from."""
    found: dict[int, set[tuple[str, str]]] = {}
    for chunk in _chunks(list(dict.fromkeys(record_ids))):
        rows = session.execute(
            select(LINEAGE.c.standard_record_id, RAW.c.system_id, RAW.c.source_key)
            .join(RAW, RAW.c.id == LINEAGE.c.raw_record_id)
            .where(LINEAGE.c.standard_record_id.in_(chunk))
        )
        for row in rows:
            found.setdefault(row.standard_record_id, set()).add((row.system_id, row.source_key))
    return found


def insert_errors(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        view, bound = _prebound(session, ERRORS, rows)
        session.execute(view.insert(), bound)


def close_errors_of(session: Session, raw_ids: Sequence[int], status: MappingErrorStatus) -> int:
    """Mark the open errors of these raw records (fixed by a replay, or superseded)."""
    total = 0
    for chunk in _chunks(list(raw_ids)):
        result = session.execute(
            update(ERRORS)
            .where(ERRORS.c.raw_record_id.in_(chunk), ERRORS.c.status == MappingErrorStatus.OPEN.value)
            .values(status=status.value, resolved_at=utcnow())
        )
        total += result.rowcount or 0
    return total


def superseded_raw_ids(session: Session, system_id: str, source_keys: Sequence[str], newer: Sequence[int]) -> list[int]:
    """Raw records of the same source keys, older than ``newer``, that still have open errors.

    Searched from the raw records' index (system, source key) to the errors' index (raw record);
    the status is compared here, so the planner never walks every open error of the queue."""
    ids: set[int] = set()
    newer_set = set(newer)
    for chunk in _chunks(list(dict.fromkeys(source_keys))):
        raw_ids = select(RAW.c.id).where(RAW.c.system_id == system_id, RAW.c.source_key.in_(chunk)).scalar_subquery()
        rows = session.execute(select(ERRORS.c.raw_record_id, ERRORS.c.status).where(ERRORS.c.raw_record_id.in_(raw_ids)))
        ids.update(r.raw_record_id for r in rows if r.status == MappingErrorStatus.OPEN.value and r.raw_record_id not in newer_set)
    return sorted(ids)


#: The tables a run grows; their statistics steer PostgreSQL to the indexes above.
GROWN_BY_RUNS = ("raw_records", "standard_records", "standard_record_revisions", "record_lineage", "mapping_errors")


def refresh_statistics(session: Session) -> None:
    """``ANALYZE`` the tables a run grows (PostgreSQL; nothing on SQLite).

    Without statistics PostgreSQL estimates each value of a 500-key ``IN (…)`` list at 0.5 % of the
    table, i.e. the whole table, and reads every row instead of the unique index — per page. A burst
    into fresh tables (a first run, or autovacuum off) needs fresh statistics long before autovacuum's
    next round."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {', '.join(GROWN_BY_RUNS)}"))


def get_watermark(session: Session, system_id: str, stream: str) -> str | None:
    return session.execute(
        select(WATERMARKS.c.value).where(WATERMARKS.c.system_id == system_id, WATERMARKS.c.stream == stream)
    ).scalar_one_or_none()


def set_watermark(session: Session, system_id: str, stream: str, value: str) -> None:
    updated = session.execute(
        update(WATERMARKS)
        .where(WATERMARKS.c.system_id == system_id, WATERMARKS.c.stream == stream)
        .values(value=value, updated_at=utcnow())
    )
    if not updated.rowcount:
        session.execute(WATERMARKS.insert().values(system_id=system_id, stream=stream, value=value, updated_at=utcnow()))
