"""Front-end database (前置库): pull rows by update time, push rows the other side marks.

Pull is keyset paging over ``(updated_column, key_column)``: each page's watermark is the last
row's pair, so a pass resumes exactly after the last committed row, and rows sharing an update time
are never skipped. Push inserts one row per item (key, record type, JSON payload, status
``status_new``) unless the key is already there, then reads the status column back: the other
side's accepted / rejected values become the receipt; anything else is QUEUED, and
:meth:`DbFrontPusher.poll` reads again later. SQLAlchemy errors are translated here: connection
failures are transient and retried, a missing table or column is a rejected configuration.

Known limit of update-time sync: a row committed later with an update time older than the
watermark is not seen; the other side must stamp the time at commit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jnx.adapters.base import (
    Adapters,
    FieldReason,
    OutboundItem,
    Page,
    PayloadEncoding,
    Puller,
    RawRecord,
    Receipt,
    ReceiptStatus,
    Watermark,
    defective,
    raw_json,
    to_jsonable,
)
from jnx.adapters.config import (
    DbFrontConfig,
    DbPullSpec,
    DbPushSpec,
    SecretResolver,
    resolve_secret,
)
from jnx.adapters.errors import (
    LineUnreachableError,
    RequestRejectedError,
    TransportError,
)
from jnx.adapters.instants import excel_serial_date, in_the_future
from jnx.adapters.lines import Clock, Line, LineSet
from jnx.adapters.screening import text_problem
from jnx.adapters.traffic import Traffic
from jnx.adapters.transport import Sleep, Transport


class FrontDatabase:
    """The engine, its reflected tables and the transport every statement goes through."""

    def __init__(self, engine: Engine, transport: Transport, *, schema: str | None = None) -> None:
        self.engine = engine
        self.transport = transport
        self.schema = schema
        self._tables: dict[str, sa.Table] = {}

    def run(self, what: str, work: Any) -> Any:
        """``work(connection, tables)`` in one transaction on the (only) line, errors translated."""

        def op(line: Line) -> Any:
            try:
                with self.engine.begin() as conn:
                    return work(conn)
            except sa.exc.NoSuchTableError as exc:
                raise RequestRejectedError(f"{what} on {line.label}: no table {exc}") from exc
            except (sa.exc.ProgrammingError, sa.exc.IntegrityError, sa.exc.DataError) as exc:
                raise RequestRejectedError(f"{what} on {line.label}: {type(exc.orig).__name__}: {_first_line(exc)}") from exc
            except sa.exc.OperationalError as exc:
                if _is_missing_object(exc):
                    raise RequestRejectedError(f"{what} on {line.label}: {_first_line(exc)}") from exc
                raise LineUnreachableError(f"{what} on {line.label}: cannot connect ({type(exc.orig).__name__})") from exc
            except sa.exc.SQLAlchemyError as exc:
                raise TransportError(f"{what} on {line.label}: {type(exc).__name__}") from exc

        return self.transport.call(op, what=what)

    def table(self, conn: sa.Connection, name: str) -> sa.Table:
        if name not in self._tables:
            self._tables[name] = sa.Table(name, sa.MetaData(schema=self.schema), autoload_with=conn)
        return self._tables[name]


def _first_line(exc: sa.exc.DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__


def _is_missing_object(exc: sa.exc.OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "no such table" in text or "no such column" in text


def _bind(column: sa.Column[Any], value: str, *, lenient: bool = False) -> Any:
    """A watermark string as the column's Python type (``lenient``: a keyset position taken from a
    value the column's type could not read, such as MySQL's ``0000-00-00 00:00:00``, stays text)."""
    kind = column.type
    if lenient and isinstance(kind, sa.Date | sa.DateTime | sa.Integer):
        try:
            return _bind(column, value)
        except RequestRejectedError:
            return sa.bindparam(None, value, type_=sa.String())
    try:
        if isinstance(kind, sa.DateTime):
            return datetime.fromisoformat(value)
        if isinstance(kind, sa.Date):
            return date.fromisoformat(value[:10])
        if isinstance(kind, sa.Integer):
            return int(value)
    except ValueError as exc:
        raise RequestRejectedError(f"watermark {value!r} does not fit column {column.name} ({kind})") from exc
    return value


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


class Unreadable:
    """A column value the driver could not turn into its column's type (``0000-00-00`` in a DATE
    column, an Excel serial number in a DATETIME one): the row is a defect, kept with the raw value."""

    __slots__ = ("raw", "error")

    def __init__(self, raw: Any, error: BaseException) -> None:
        self.raw = raw
        self.error = error

    def __repr__(self) -> str:
        return repr(self.raw)


class _Lenient(sa.types.TypeDecorator[Any]):
    """Reads a column with its own type's conversion; a value that does not convert stays raw."""

    impl = sa.types.NullType
    cache_ok = True

    def __init__(self, inner: sa.types.TypeEngine[Any]) -> None:
        super().__init__()
        self.inner = inner

    def result_processor(self, dialect: sa.Dialect, coltype: Any) -> Any:
        convert = self.inner.dialect_impl(dialect).result_processor(dialect, coltype)
        if convert is None:
            return None

        def lenient(value: Any) -> Any:
            try:
                return convert(value)
            except (ValueError, TypeError, OverflowError) as exc:
                return Unreadable(value, exc)

        return lenient


def _excel_serial(value: Any) -> str:
    """What an Excel serial day number (44256) stands for, to say so in the message."""
    day = excel_serial_date(value)
    return f" — an Excel serial date? It would be {day.isoformat()}" if day is not None else ""


def row_problem(row: Mapping[str, Any], key_column: str, updated_column: str) -> tuple[str, str] | None:
    """Why a 前置库 row cannot be a record (rule, message), or None."""
    for name, value in row.items():
        if isinstance(value, Unreadable):
            return "column.unreadable", (f"column {name} holds {value.raw!r}, which its column type cannot read "
                                         f"({value.error}){_excel_serial(value.raw)}")
        if isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                return "encoding", f"column {name} holds bytes that are not UTF-8 at byte offset {exc.start} ({exc.reason})"
    if row.get(key_column) in (None, ""):
        return "key.missing", f"the row has no key (column {key_column} is NULL)"
    problem = text_problem({k: v for k, v in row.items() if isinstance(v, str)})
    if problem is not None:
        return "text", problem
    return None


class DbFrontPuller:
    def __init__(self, db: FrontDatabase, spec: DbPullSpec, *, page_size: int) -> None:
        self.db = db
        self.spec = spec
        self.page_size = page_size

    def pull(self, watermark: Watermark | None, *, page_size: int | None = None) -> Iterator[Page]:
        size = page_size or self.page_size
        mark = watermark or Watermark(since=self.spec.initial_since)
        line = self.db.transport.lines.lines[0].label
        number = 0
        now = datetime.now(UTC)
        position = mark  # where the next keyset page starts: past rows dated in the future, which `mark` is not
        while True:
            number += 1
            rows = self.db.run(f"pull {self.spec.table}", lambda conn, m=position, later=number > 1:
                               self._page(conn, m, size, lenient=later))
            records, mark = self._records(rows, mark, number, now)
            if rows:
                last_row = rows[-1]
                position = Watermark(since=_text(_raw_value(last_row[self.spec.updated_column])),
                                     key=_text(_raw_value(last_row[self.spec.key_column])))
            if len(rows) < size:
                break
            yield Page(tuple(records), mark, number, line)
        # rows whose update time is NULL are no part of the keyset: read on every pull (unchanged ones
        # are not staged again), each page in key order, the watermark left as the main pass put it
        after: Any = None
        pending = records
        while True:
            rows = self.db.run(f"pull {self.spec.table} (no update time)", lambda conn, a=after: self._undated(conn, a, size))
            if not rows:
                break
            found, _ = self._records(rows, mark, number, now)
            yield Page(tuple(pending), mark, number, line)
            number += 1
            pending = found
            after = rows[-1][self.spec.key_column]
            if len(rows) < size:
                break
        yield Page(tuple(pending), mark, number, line, last=True)

    def _records(self, rows: Sequence[Mapping[str, Any]], mark: Watermark, number: int,
                 now: datetime) -> tuple[list[RawRecord], Watermark]:
        """The records of one page of rows (a defect for each row that is not one) and the watermark after it."""
        spec = self.spec
        records: list[RawRecord] = []
        for index, row in enumerate(rows):
            where = f"{spec.table} page {number} row {index}"
            key_value, updated_value = row.get(spec.key_column), row.get(spec.updated_column)
            problem = row_problem(row, spec.key_column, spec.updated_column)
            future = updated_value is not None and in_the_future(_text(updated_value), now) is not None
            if problem is None and future:
                problem = ("updated.future", f"{spec.updated_column} is {_text(updated_value)}, after now: not stored and "
                                             "not used for the watermark")
            if problem is not None:
                readable = key_value not in (None, "") and not isinstance(key_value, Unreadable | bytes)
                records.append(defective(where, spec.record_type, raw_json({k: _raw(v) for k, v in row.items()}),
                                         PayloadEncoding.ROW, problem[0], problem[1], key=_text(key_value) if readable else None))
            else:
                records.append(RawRecord(source_key=_text(key_value), record_type=spec.record_type, payload=to_jsonable(dict(row)),
                                         encoding=PayloadEncoding.ROW,
                                         source_updated=None if updated_value is None else _text(updated_value)))
            if updated_value is not None and not isinstance(updated_value, Unreadable) and key_value is not None \
                    and not isinstance(key_value, Unreadable) and not future:
                mark = Watermark(since=_text(updated_value), key=_text(key_value))
        return records, mark

    def _undated(self, conn: sa.Connection, after: Any, size: int) -> list[Any]:
        table = self.db.table(conn, self.spec.table)
        updated, key = _instant(conn, table.c[self.spec.updated_column]), table.c[self.spec.key_column]
        where = updated.is_(None) if after is None else sa.and_(updated.is_(None), key > after)
        query = sa.select(*_lenient(table)).where(where).order_by(key).limit(size)
        return [row._mapping for row in conn.execute(query)]

    def acknowledge(self, page: Page) -> None:
        return None

    def _page(self, conn: sa.Connection, mark: Watermark, size: int, *, lenient: bool = False) -> list[Any]:
        table = self.db.table(conn, self.spec.table)
        column, key = table.c[self.spec.updated_column], table.c[self.spec.key_column]
        updated, since = _instant(conn, column), _instant(conn, column, _bind(column, mark.since, lenient=lenient))
        if mark.key is None:
            where = updated >= since
        else:
            where = sa.or_(updated > since, sa.and_(updated == since, key > _bind(key, mark.key, lenient=lenient)))
        query = sa.select(*_lenient(table)).where(where).order_by(updated, key).limit(size)
        return [row._mapping for row in conn.execute(query)]


def _instant(conn: sa.Connection, column: sa.Column[Any], value: Any = None) -> Any:
    """The update-time column (or a value bound as its type) as the keyset compares it.

    SQLite keeps dates and times as text in whatever form the writer chose (``2000-01-01 00:00:00``
    beside SQLAlchemy's ``2000-01-01 00:00:00.000000``), and compares them as text: rows at the
    watermark's instant written without a fraction would never come. There both sides are
    compared in one form (``strftime('%Y-%m-%d %H:%M:%f', …)``); a value SQLite cannot read as a
    time is NULL there, so its row is read with the rows without an update time (as an error).
    """
    target: Any = column if value is None else value if isinstance(value, sa.BindParameter) else \
        sa.bindparam(None, value, type_=column.type)
    if conn.dialect.name == "sqlite" and isinstance(column.type, sa.Date | sa.DateTime):
        return sa.func.strftime("%Y-%m-%d %H:%M:%f", target)
    return target


def _lenient(table: sa.Table) -> list[Any]:
    """The table's columns, each read leniently (a value its type cannot convert stays raw)."""
    return [sa.type_coerce(column, _Lenient(column.type)).label(column.name) for column in table.columns]


def _raw_value(value: Any) -> Any:
    return value.raw if isinstance(value, Unreadable) else value


def _raw(value: Any) -> Any:
    """A column value as it may be kept in a defect's raw JSON (bytes as latin-1 text: every byte kept)."""
    if isinstance(value, Unreadable):
        value = value.raw
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": bytes(value).hex()}
    return to_jsonable(value)


class DbFrontPusher:
    def __init__(self, db: FrontDatabase, spec: DbPushSpec, *, clock: Any = None) -> None:
        self.db = db
        self.spec = spec
        self._now = clock or (lambda: datetime.now(UTC).replace(tzinfo=None))

    def push(self, batch: list[OutboundItem]) -> list[Receipt]:
        if not batch:
            return []
        receipts: list[Receipt] = self.db.run(f"push into {self.spec.table}", lambda conn: self._insert_and_read(conn, batch))
        return receipts

    def poll(self, keys: Sequence[str]) -> list[Receipt]:
        """The receipts for keys pushed before, as the other side has marked them by now."""
        items = [OutboundItem(key, "", b"") for key in keys]
        receipts: list[Receipt] = self.db.run(f"poll {self.spec.table}", lambda conn: self._read(conn, items))
        return receipts

    def _insert_and_read(self, conn: sa.Connection, batch: list[OutboundItem]) -> list[Receipt]:
        table = self.db.table(conn, self.spec.table)
        s = self.spec
        keys = [item.idempotency_key for item in batch]
        present = set(conn.execute(sa.select(table.c[s.key_column]).where(table.c[s.key_column].in_(keys))).scalars())
        rows = []
        for item in batch:
            if item.idempotency_key in present:
                continue
            payload = item.payload.decode("utf-8") if isinstance(item.payload, bytes) else json.dumps(
                to_jsonable(item.payload), ensure_ascii=False, sort_keys=True
            )
            row: dict[str, Any] = {s.key_column: item.idempotency_key, s.record_type_column: item.record_type, s.payload_column: payload, s.status_column: s.status_new}
            if s.created_column:
                row[s.created_column] = self._now()
            rows.append(row)
            present.add(item.idempotency_key)
        if rows:
            conn.execute(table.insert(), rows)
        return self._read(conn, batch)

    def _read(self, conn: sa.Connection, items: list[OutboundItem]) -> list[Receipt]:
        table = self.db.table(conn, self.spec.table)
        s = self.spec
        columns = [table.c[s.key_column], table.c[s.status_column]]
        if s.reason_column:
            columns.append(table.c[s.reason_column])
        keys = [item.idempotency_key for item in items]
        found = {row[0]: row for row in conn.execute(sa.select(*columns).where(table.c[s.key_column].in_(keys)))}
        receipts = []
        for item in items:
            row = found.get(item.idempotency_key)
            if row is None:
                raise RequestRejectedError(f"{s.table}: no row for key {item.idempotency_key}; it was never pushed")
            status = str(row[1])
            state = ReceiptStatus.ACCEPTED if status in s.accepted else ReceiptStatus.REJECTED if status in s.rejected else ReceiptStatus.QUEUED
            reason = row[2] if s.reason_column and len(row) > 2 else None
            reasons = (FieldReason(field="", reason=str(reason)),) if reason and state is ReceiptStatus.REJECTED else ()
            receipts.append(Receipt(item.idempotency_key, state, reasons=reasons, raw={"status": status}))
        return receipts


def build_dbfront(config: DbFrontConfig, secrets: SecretResolver, *, sleep: Sleep = time.sleep, clock: Clock = time.monotonic,
                  traffic: Traffic | None = None) -> Adapters:
    url = resolve_secret(secrets, config.url)
    engine = sa.create_engine(url, pool_pre_ping=True)
    lines = LineSet([(url, "database")], config.health, clock=clock)
    traffic = traffic if traffic is not None else Traffic()
    db = FrontDatabase(engine, Transport(lines, config.retry, sleep=sleep, traffic=traffic), schema=config.db_schema)
    pullers: dict[str, Puller] = {spec.record_type: DbFrontPuller(db, spec, page_size=config.page_size) for spec in config.pull}
    pusher = DbFrontPusher(db, config.push) if config.push else None
    return Adapters(pullers=pullers, pusher=pusher, lines=lines, _close=[engine.dispose], traffic=traffic)
