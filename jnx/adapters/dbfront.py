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
from collections.abc import Iterator, Sequence
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
from jnx.adapters.lines import Clock, Line, LineSet
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


def _bind(column: sa.Column[Any], value: str) -> Any:
    """A watermark string as the column's Python type."""
    kind = column.type
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


class DbFrontPuller:
    def __init__(self, db: FrontDatabase, spec: DbPullSpec, *, page_size: int) -> None:
        self.db = db
        self.spec = spec
        self.page_size = page_size

    def pull(self, watermark: Watermark | None, *, page_size: int | None = None) -> Iterator[Page]:
        size = page_size or self.page_size
        mark = watermark or Watermark(since=self.spec.initial_since)
        number = 0
        while True:
            number += 1
            rows = self.db.run(f"pull {self.spec.table}", lambda conn, m=mark: self._page(conn, m, size))
            records = tuple(
                RawRecord(
                    source_key=_text(row[self.spec.key_column]),
                    record_type=self.spec.record_type,
                    payload=to_jsonable(dict(row)),
                    encoding=PayloadEncoding.ROW,
                    source_updated=_text(row[self.spec.updated_column]),
                )
                for row in rows
            )
            if records:
                mark = Watermark(since=records[-1].source_updated or mark.since, key=records[-1].source_key)
            last = len(records) < size
            yield Page(records, mark, number, self.db.transport.lines.lines[0].label, last=last)
            if last:
                return

    def acknowledge(self, page: Page) -> None:
        return None

    def _page(self, conn: sa.Connection, mark: Watermark, size: int) -> list[Any]:
        table = self.db.table(conn, self.spec.table)
        updated, key = table.c[self.spec.updated_column], table.c[self.spec.key_column]
        since = _bind(updated, mark.since)
        if mark.key is None:
            where = updated >= since
        else:
            where = sa.or_(updated > since, sa.and_(updated == since, key > _bind(key, mark.key)))
        query = sa.select(table).where(where).order_by(updated, key).limit(size)
        return [row._mapping for row in conn.execute(query)]


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


def build_dbfront(config: DbFrontConfig, secrets: SecretResolver, *, sleep: Sleep = time.sleep, clock: Clock = time.monotonic) -> Adapters:
    url = resolve_secret(secrets, config.url)
    engine = sa.create_engine(url, pool_pre_ping=True)
    lines = LineSet([(url, "database")], config.health, clock=clock)
    db = FrontDatabase(engine, Transport(lines, config.retry, sleep=sleep), schema=config.db_schema)
    pullers: dict[str, Puller] = {spec.record_type: DbFrontPuller(db, spec, page_size=config.page_size) for spec in config.pull}
    pusher = DbFrontPusher(db, config.push) if config.push else None
    return Adapters(pullers=pullers, pusher=pusher, lines=lines, _close=[engine.dispose])
