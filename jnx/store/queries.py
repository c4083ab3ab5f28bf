"""The SQL that matters for a run, in one place: staging, upserts of standard records, lineage,
errors and watermarks. Core statements over the models' tables, batched per page; the dialect
decides only the ``INSERT … ON CONFLICT DO NOTHING`` spelling."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy import JSON, Table, select, text, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from jnx.store.db import affected, dumps_json
from jnx.store.models import (
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


def _prebound(session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *,
              verbatim: frozenset[str] = frozenset()) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names of a page's rows and their values, already in their database form.

    The bulk writes of a run go through this instead of the models' column types: SQLAlchemy would
    run each value of each row through its type's processor (the instants of a page are one value,
    and the JSON of a standard record is serialised once, by the ingester, for the record and its
    revision). Columns named in ``verbatim`` are passed as given (JSON text); the others through
    their column type's bind processor, once per distinct instant. Every row has the same keys."""
    dialect = session.get_bind().dialect
    names = list(rows[0]) if rows else []
    params = [list(row.values()) for row in rows]
    for index, name in enumerate(names):
        process = None if name in verbatim else table.c[name].type._cached_bind_processor(dialect)  # noqa: SLF001
        if process is None:
            continue
        memo: dict[Any, Any] = {}  # the instants of a page are a handful of values
        for values in params:
            value = values[index]
            if value is None:
                continue
            if type(value) is dt.datetime:
                done = memo.get(value)
                if done is None:
                    memo[value] = done = process(value)
                values[index] = done
            else:
                values[index] = process(value)
    return names, [tuple(values) for values in params]


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _marker(session: Session) -> str:
    """The driver's parameter marker: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    return "?" if _is_sqlite(session) else "%s"


def _executemany(session: Session, sql: str, params: Sequence[tuple[Any, ...]]) -> None:
    """One statement (written with :func:`_marker`) for every row, on the session's own connection."""
    if _is_sqlite(session):
        _sqlite(session).executemany(sql, params)
    else:
        session.connection().exec_driver_sql(sql, list(params))


_PG_TYPES: dict[tuple[str, str], str] = {}


def _pg_type(session: Session, table: Table, name: str) -> str:
    """The PostgreSQL type of a column as DDL writes it (``VARCHAR(64)``, ``TIMESTAMP WITH TIME ZONE``…)."""
    found = _PG_TYPES.get((table.name, name))
    if found is None:
        found = _PG_TYPES[(table.name, name)] = table.c[name].type.compile(dialect=session.get_bind().dialect)
    return found


def pg_insert_arrays(session: Session, table: Table, names: Sequence[str], params: Sequence[tuple[Any, ...]], *,
                     conflict: Sequence[str] | None = None, returning: Sequence[str] = ()) -> list[Any]:
    """PostgreSQL: a page's rows into ``table`` in sets — ``COPY`` (binary) into a staging table of
    the session's connection, then one ``INSERT … SELECT … [ON CONFLICT … DO NOTHING] [RETURNING]``
    from it (:func:`pg_copy_insert`); whatever the row count, three round trips per table and page,
    and the rows travel in PostgreSQL's own binary form rather than as statement parameters. A role
    without the TEMP privilege on the database gets ``INSERT … SELECT * FROM unnest(%s::type[], …)``
    instead (one array per column, one statement)."""
    if not params:
        return []
    if _may_create_temp(session):
        return pg_copy_insert(session, table, names, params, conflict=conflict, returning=returning)
    arrays = ", ".join(f"%b::{_pg_type(session, table, name)}[]" for name in names)  # binary: no text escaping
    on_conflict = f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING" if conflict else ""
    back = f" RETURNING {', '.join(returning)}" if returning else ""
    quote = session.get_bind().dialect.identifier_preparer.quote
    sql = f"INSERT INTO {table.name} ({', '.join(quote(n) for n in names)}) SELECT * FROM unnest({arrays}){on_conflict}{back}"
    columns = tuple(list(values) for values in zip(*params, strict=True))
    result = session.connection().exec_driver_sql(sql, columns)
    return list(result) if returning else []


def _may_create_temp(session: Session) -> bool:
    """Whether this connection's role may create temporary tables (asked once per connection)."""
    pooled = session.connection().connection
    allowed = pooled.info.get("jnx_temp_tables")
    if allowed is None:  # on the driver's cursor, as the COPY itself
        cursor = pooled.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute("SELECT has_database_privilege(current_user, current_database(), 'TEMP')")
            row = cursor.fetchone()
            allowed = pooled.info["jnx_temp_tables"] = bool(row and row[0])
        except psycopg.Error as exc:
            raise sa_exc.DBAPIError.instance("SELECT has_database_privilege(…)", None, exc, psycopg.Error) from exc
        finally:
            cursor.close()
    return bool(allowed)


_STAGING: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}
_STAGE_TYPES: dict[str, list[int]] = {}


def _staging(session: Session, table: Table, names: Sequence[str]) -> tuple[str, str]:
    """The staging table of ``table``'s columns ``names`` (its name, and the column list the
    ``INSERT … SELECT`` reads: JSON columns are staged as text and cast, since the text jnx sends is
    the stored JSON already). A temporary table per connection, emptied at each commit."""
    found = _STAGING.get((table.name, tuple(names)))
    if found is None:
        digest = hashlib.sha256(",".join(names).encode()).hexdigest()[:10]
        name = f"jnx_stage_{table.name}_{digest}"
        quote = session.get_bind().dialect.identifier_preparer.quote
        casts = [f"{quote(n)}::{_pg_type(session, table, n)}" if _is_json(table, n) else quote(n) for n in names]
        found = _STAGING[(table.name, tuple(names))] = (name, ", ".join(casts))
    return found


def _is_json(table: Table, name: str) -> bool:
    return isinstance(table.c[name].type, JSON)


def _json_text(row: tuple[Any, ...], wrapped: Sequence[int]) -> tuple[Any, ...]:
    """``row`` with each JSON column's value as the JSON text it stands for: a psycopg ``Json``
    wrapper serialised as the engine serialises JSON (:func:`jnx.store.db.dumps_json`), text as given."""
    values = list(row)
    for index in wrapped:
        value = values[index]
        if isinstance(value, Json):
            values[index] = (value.dumps or dumps_json)(value.obj)
    return tuple(values)


def pg_copy_insert(session: Session, table: Table, names: Sequence[str], params: Sequence[tuple[Any, ...]], *,
                   conflict: Sequence[str] | None = None, returning: Sequence[str] = ()) -> list[Any]:
    """``COPY`` of pre-bound rows into the staging table, then ``INSERT … SELECT`` from it.

    The staging table (``CREATE TEMP TABLE … ON COMMIT DELETE ROWS AS SELECT`` the columns, no
    constraints) is made on first use by each connection and emptied before each use, so a page
    that writes a table twice reads only its own rows; ``COPY … (FORMAT BINARY)`` with the staging
    table's column types. The insert keeps every guarantee of the statement it replaces: the same
    conflict target and ``DO NOTHING``, the same ``RETURNING``, inside the page's transaction."""
    if not params:
        return []
    stage, selected = _staging(session, table, names)
    quote = session.get_bind().dialect.identifier_preparer.quote  # `full`, `trigger`… are keywords
    columns = ", ".join(quote(n) for n in names)
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        json_columns = ", ".join(f"{quote(n)}::text AS {quote(n)}" if _is_json(table, n) else quote(n) for n in names)
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
                       f"SELECT {json_columns} FROM {table.name} WITH NO DATA; DELETE FROM {stage}")
        types = _STAGE_TYPES.get(stage)
        if types is None:  # the same built-in types on every connection: looked up once
            cursor.execute(f"SELECT atttypid FROM pg_attribute WHERE attrelid = '{stage}'::regclass AND attnum > 0 "
                           "AND NOT attisdropped ORDER BY attnum")
            types = _STAGE_TYPES[stage] = [int(row[0]) for row in cursor.fetchall()]
        with cursor.copy(f"COPY {stage} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            wrapped = [i for i, n in enumerate(names) if _is_json(table, n)]
            for row in params:
                if wrapped:  # the JSON columns' bind processor wraps values (psycopg's Json): staged as their text
                    row = _json_text(row, wrapped)
                copy.write_row(row)
        on_conflict = f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING" if conflict else ""
        back = f" RETURNING {', '.join(returning)}" if returning else ""
        cursor.execute(f"INSERT INTO {table.name} ({columns}) SELECT {selected} FROM {stage}{on_conflict}{back}")
        return list(cursor.fetchall()) if returning else []
    except psycopg.Error as exc:  # as SQLAlchemy raises it (IntegrityError, OperationalError…), for storage_errors
        raise sa_exc.DBAPIError.instance(f"COPY into {table.name}", None, exc, psycopg.Error) from exc
    finally:
        cursor.close()


def _write_many(session: Session, table: Table, names: Sequence[str], params: Sequence[tuple[Any, ...]],
                conflict: Sequence[str] | None = None) -> None:
    """``INSERT`` (ignoring rows that hit the ``conflict`` key) of pre-bound rows: one executemany on
    SQLite, one statement of column arrays on PostgreSQL (:func:`pg_insert_arrays`)."""
    if not _is_sqlite(session):
        pg_insert_arrays(session, table, names, params, conflict=conflict)
        return
    on_conflict = f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING" if conflict else ""
    markers = ", ".join([_marker(session)] * len(names))
    _executemany(session, f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({markers}){on_conflict}", params)


def _insert_with_ids(session: Session, table: Table, rows: Sequence[Mapping[str, Any]], key: Sequence[str], *,
                     verbatim: frozenset[str] = frozenset(), conflict: Sequence[str] | None = None) -> dict[tuple[Any, ...], int]:
    """Insert rows in one batch; the ids of those inserted, by the values of their ``key`` columns.

    PostgreSQL: ``INSERT … [ON CONFLICT DO NOTHING] RETURNING`` — a row that another worker inserted
    meanwhile (it waited for that worker's commit) is not among them. SQLite: a page's transaction
    holds the write lock from its ``BEGIN IMMEDIATE`` (the single-writer path,
    :mod:`jnx.store.leases`), so nobody else inserts until it commits; the ids after the largest
    are this batch's to give, one ``executemany`` with no ``RETURNING`` round, and a conflict fails
    the page instead of being ignored (the caller inserts only what its transaction found absent)."""
    names, params = _prebound(session, table, rows, verbatim=verbatim)
    if _is_sqlite(session):
        (largest,) = _sqlite(session).execute(f"SELECT coalesce(max(id), 0) FROM {table.name}").fetchone()
        ids = range(largest + 1, largest + 1 + len(params))
        _write_many(session, table, ["id", *names], [(i, *p) for i, p in zip(ids, params, strict=True)])
        return {tuple(row[k] for k in key): i for i, row in zip(ids, rows, strict=True)}
    returned = pg_insert_arrays(session, table, names, params, conflict=conflict, returning=["id", *key])
    return {tuple(row[1:]): int(row[0]) for row in returned}


def _sqlite(session: Session) -> Any:
    """A cursor of the session's own SQLite connection, inside its transaction."""
    return session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def _insert_ignore(session: Session, table: Table, rows: Sequence[Mapping[str, Any]], keys: list[str]) -> None:
    if rows:
        names, params = _prebound(session, table, rows)
        _write_many(session, table, names, params, conflict=keys)


def _select_in(session: Session, sql: str, head: Sequence[Any], keys: Sequence[Any]) -> Iterator[Any]:
    """Rows of ``sql`` for every chunk of ``keys``: ``{p}`` marks one parameter (taken from ``head``,
    in order), ``{in}`` the chunk's list. Plain SQL on the driver: these run once or twice per page
    with hundreds of keys, where building and compiling an expanding ``IN`` costs more than the search."""
    marker = _marker(session)
    connection = session.connection()
    for chunk in _chunks(list(keys)):
        statement = sql.replace("{p}", marker).replace("{in}", ", ".join([marker] * len(chunk)))
        yield from connection.exec_driver_sql(statement, (*head, *chunk))


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
    sql = "SELECT id, source_key, content_hash FROM raw_records WHERE system_id = {p} AND source_key IN ({in})"
    for row_id, source_key, digest in _select_in(session, sql, [system_id], list(dict.fromkeys(key for key, _ in pairs))):
        if (source_key, digest) in wanted:
            found[(source_key, digest)] = row_id
    return found


def stage(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert raw records; one already staged (same system, key and content) is left as it is.

    Returns the ids of the rows this statement inserted, by (source key, content hash): a row that
    another worker staged meanwhile (it waited for that worker's commit) is not among them, so only
    one of the two goes on to map and store it (on SQLite, see :func:`_insert_with_ids`)."""
    if not rows:
        return {}
    return _insert_with_ids(session, RAW, rows, ["source_key", "content_hash"],
                            conflict=["system_id", "source_key", "content_hash"])


def current_records(session: Session, record_type: str, keys: Sequence[str]) -> dict[str, tuple[int, int, str]]:
    """(id, current revision, content hash) of standard records by business key."""
    sql = "SELECT id, business_key, current_revision, content_hash FROM standard_records WHERE record_type = {p} AND business_key IN ({in})"
    return {key: (row_id, revision, digest)
            for row_id, key, revision, digest in _select_in(session, sql, [record_type], list(dict.fromkeys(keys)))}


#: Standard records' and revisions' ``data`` arrive as JSON text (``db.dumps_json``), serialised once.
_DATA = frozenset({"data"})


def insert_standard_records(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert new standard records in one batch (``data`` as JSON text); their ids by business key."""
    if not rows:
        return {}
    ids = _insert_with_ids(session, STANDARD, rows, ["business_key"], verbatim=_DATA)
    return {key: record_id for (key,), record_id in ids.items()}


def revise_standard_records(session: Session, changes: Mapping[int, Mapping[str, Any]]) -> None:
    """Move standard records to a new current revision (id → current_revision, content_hash, data as
    JSON text, decision_date, updated_at), in one batch."""
    if not changes:
        return
    names, params = _prebound(session, STANDARD, list(changes.values()), verbatim=_DATA)
    marker = _marker(session)
    sql = f"UPDATE {STANDARD.name} SET {', '.join(f'{name} = {marker}' for name in names)} WHERE id = {marker}"
    _executemany(session, sql, [(*p, record_id) for record_id, p in zip(changes, params, strict=True)])


def insert_revisions(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert revisions in one batch (``data`` as JSON text)."""
    if rows:
        names, params = _prebound(session, REVISIONS, rows, verbatim=_DATA)
        _write_many(session, REVISIONS, names, params)


def link(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    _insert_ignore(session, LINEAGE, rows, ["standard_record_id", "raw_record_id"])


def lineage_sources(session: Session, record_ids: Sequence[int]) -> dict[int, set[tuple[str, str]]]:
    """The (system, source key) pairs each standard record was made from."""
    found: dict[int, set[tuple[str, str]]] = {}
    sql = ("SELECT record_lineage.standard_record_id, raw_records.system_id, raw_records.source_key FROM record_lineage "
           "JOIN raw_records ON raw_records.id = record_lineage.raw_record_id WHERE record_lineage.standard_record_id IN ({in})")
    for record_id, system_id, source_key in _select_in(session, sql, [], list(dict.fromkeys(record_ids))):
        found.setdefault(record_id, set()).add((system_id, source_key))
    return found


def insert_errors(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        names, params = _prebound(session, ERRORS, rows)
        _write_many(session, ERRORS, names, params)


def close_errors_of(session: Session, raw_ids: Sequence[int], status: MappingErrorStatus, run_id: int | None = None) -> int:
    """Mark the open errors of these raw records (fixed by a replay, or superseded; by run ``run_id`` if a run did it)."""
    total = 0
    for chunk in _chunks(list(raw_ids)):
        result = session.execute(
            update(ERRORS)
            .where(ERRORS.c.raw_record_id.in_(chunk), ERRORS.c.status == MappingErrorStatus.OPEN.value)
            .values(status=status.value, resolved_at=utcnow(), resolved_by_run_id=run_id)
        )
        total += affected(result)
    return total


def open_conflicts_of(session: Session, raw_ids: Sequence[int]) -> set[int]:
    """The standard records in an open business-key conflict with any of these raw records."""
    sql = ("SELECT conflict_record_id FROM mapping_errors WHERE status = {p} AND raw_record_id IN ({in}) "
           "AND conflict_record_id IS NOT NULL")
    return {row[0] for row in _select_in(session, sql, [MappingErrorStatus.OPEN.value], list(dict.fromkeys(raw_ids)))}


def records_in_conflict(session: Session, record_ids: Sequence[int]) -> set[int]:
    """Which of these standard records have an open business-key conflict."""
    sql = "SELECT conflict_record_id FROM mapping_errors WHERE status = {p} AND conflict_record_id IN ({in})"
    return {row[0] for row in _select_in(session, sql, [MappingErrorStatus.OPEN.value], list(dict.fromkeys(record_ids)))}


def superseded_raw_ids(session: Session, system_id: str, source_keys: Sequence[str], newer: Sequence[int]) -> list[int]:
    """Raw records of the same source keys, older than ``newer``, that still have open errors.

    Searched from the raw records' index (system, source key) to the errors' index (raw record);
    the status is compared here, so the planner never walks every open error of the queue."""
    ids: set[int] = set()
    newer_set = set(newer)
    sql = ("SELECT raw_record_id, status FROM mapping_errors WHERE raw_record_id IN "
           "(SELECT id FROM raw_records WHERE system_id = {p} AND source_key IN ({in}))")
    for raw_id, status in _select_in(session, sql, [system_id], list(dict.fromkeys(source_keys))):
        if status == MappingErrorStatus.OPEN.value and raw_id not in newer_set:
            ids.add(raw_id)
    return sorted(ids)


#: The tables a run grows — its records and, since runs derive 双公示, their disclosures and deliveries;
#: their statistics steer PostgreSQL to the indexes above. (Without the last three, a first run of
#: 10^6 records slowed page by page: holding a conflicting record's deliveries back scanned every
#: pending delivery, ≈ 0.5 s per page at 500,000 — docs/performance.md, session 6.)
GROWN_BY_RUNS = ("raw_records", "standard_records", "standard_record_revisions", "record_lineage", "mapping_errors",
                 "disclosures", "disclosure_revisions", "deliveries")


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
    if not affected(updated):
        session.execute(WATERMARKS.insert().values(system_id=system_id, stream=stream, value=value, updated_at=utcnow()))
