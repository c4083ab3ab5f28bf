"""What happens to a disclosure after derivation: revisions with their outbox rows, withdrawals (by
rule or by hand), deadlines counted again, display periods ending. Every function works in the
caller's session and transaction; the CLI and the deriver (:mod:`jnx.publicity.derive`) call them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Row, Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from jnx.errors import InputError, NotFoundError
from jnx.publicity.rules import WorkingDays, disclosure_deadline, withdrawal_deadline
from jnx.store.db import affected
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureAction,
    DisclosureKind,
    DisclosureRevision,
    DisclosureStatus,
    utcnow,
)
from jnx.store.queries import pg_insert_arrays

OPEN_DELIVERY = (DeliveryStatus.PENDING,)


class DisclosureStateError(InputError):
    """An operator action that does not fit the disclosure's state (withdrawing a withdrawn one…):
    over HTTP a 409 Conflict, the request being right and the disclosure's state in the way."""

    http_status = 409


def idempotency_key(kind: DisclosureKind, business_key: str, revision: int, payload: Mapping[str, Any]) -> str:
    """Stable for one disclosure revision and its content, unique across jnx installations."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"{kind.value}\n{business_key}\n{revision}\n{body}".encode()).hexdigest()
    return f"jnx-{kind.value[:3]}-r{revision}-{digest[:40]}"


def withdrawal_request(kind: DisclosureKind, payload: Mapping[str, Any], reason: str) -> dict[str, Any]:
    """The platform's withdrawal (撤下) request: the record's key (agency code, 文书号) and a reason."""
    if kind is DisclosureKind.LICENSE:
        return {"XK_XKJGDM": payload.get("XK_XKJGDM"), "XK_WSH": payload.get("XK_WSH"), "reason": reason}
    return {"CF_CFJGDM": payload.get("CF_CFJGDM"), "CF_WSH": payload.get("CF_WSH"), "reason": reason}


def _latest_content(session: Session, disclosure: Disclosure) -> DisclosureRevision | None:
    return session.scalars(
        select(DisclosureRevision).where(DisclosureRevision.disclosure_id == disclosure.id,
                                         DisclosureRevision.action != DisclosureAction.WITHDRAWAL)
        .order_by(DisclosureRevision.revision.desc()).limit(1)
    ).one_or_none()


def add_revision(session: Session, disclosure: Disclosure, action: DisclosureAction, payload: dict[str, Any],
                 due: dt.date | None, reason: str | None) -> DisclosureRevision:
    """A new revision and its delivery, in the caller's transaction; older undelivered ones are superseded."""
    number = disclosure.current_revision + 1
    revision = DisclosureRevision(disclosure=disclosure, revision=number, action=action, payload=payload,
                                  idempotency_key=idempotency_key(disclosure.kind, disclosure.business_key, number, payload),
                                  due_date=due, reason=reason)
    session.add(revision)
    if number > 1:
        if disclosure.id is None:
            session.flush()  # created earlier in this page
        supersede_waiting(session, disclosure.id, number)
    session.add(Delivery(disclosure_revision=revision, status=DeliveryStatus.PENDING, next_attempt_at=utcnow()))
    disclosure.current_revision = number
    return revision


def supersede_waiting(session: Session, disclosure_id: int, current: int) -> int:
    """Waiting deliveries of older revisions will never be sent: the newest revision says it all."""
    return supersede_many(session, [(disclosure_id, current)], utcnow())


def _ever_sent(session: Session, disclosure_id: int) -> bool:
    """Did any revision of this disclosure leave jnx (or may have: leased, sent, acknowledged)?"""
    statuses = (DeliveryStatus.LEASED, DeliveryStatus.SENT, DeliveryStatus.ACKNOWLEDGED)
    query = (select(Delivery.id).join(DisclosureRevision, Delivery.disclosure_revision_id == DisclosureRevision.id)
             .where(DisclosureRevision.disclosure_id == disclosure_id, Delivery.status.in_(statuses)).limit(1))
    return session.scalars(query).first() is not None


def withdraw_disclosure(session: Session, disclosure: Disclosure, reason: str, due: dt.date | None) -> DisclosureRevision | None:
    """Withdraw (撤下): a withdrawal revision to push, or — nothing having left jnx yet — just withdrawn here."""
    if disclosure.status is DisclosureStatus.WITHDRAWN:
        raise DisclosureStateError(f"disclosure {disclosure.id} is already withdrawn")
    if disclosure.id is None:
        session.flush()  # created earlier in this page
    content = _latest_content(session, disclosure)
    if content is None or not _ever_sent(session, disclosure.id):
        if content is not None:
            supersede_waiting(session, disclosure.id, disclosure.current_revision + 1)
        disclosure.status, disclosure.problems = DisclosureStatus.WITHDRAWN, None
        return None
    request = withdrawal_request(disclosure.kind, content.payload, reason)
    return add_revision(session, disclosure, DisclosureAction.WITHDRAWAL, request, due, reason)


def withdraw(session: Session, disclosure_id: int, reason: str, calendar: WorkingDays, today: dt.date) -> Disclosure:
    """``jnx disclosures withdraw``: a revoked decision or 信用修复; due 3 working days from ``today``."""
    if not reason.strip():
        raise InputError("a withdrawal needs a reason (e.g. 决定被撤销, 信用修复)", hint="pass --reason TEXT")
    disclosure = get_disclosure(session, disclosure_id)
    if disclosure.status is DisclosureStatus.EXPIRED:
        raise DisclosureStateError(
            f"disclosure {disclosure_id} expired on {disclosure.display_until}: the platform no longer shows it, "
            "so there is nothing to withdraw", hint=f"`jnx disclosures show {disclosure_id}` shows its history")
    latest = latest_revisions(session, [disclosure.id]).get(disclosure.id)
    if latest is not None and latest[0] is DisclosureAction.WITHDRAWAL and disclosure.status is not DisclosureStatus.WITHDRAWN:
        raise DisclosureStateError(
            f"disclosure {disclosure_id} already has a withdrawal waiting (revision {disclosure.current_revision})",
            hint=f"`jnx disclosures show {disclosure_id}` shows its delivery; `jnx disclosures deliver` pushes it")
    withdraw_disclosure(session, disclosure, reason.strip(), withdrawal_deadline(today, calendar).date)
    session.flush()
    return disclosure


def get_disclosure(session: Session, disclosure_id: int) -> Disclosure:
    disclosure = session.get(Disclosure, disclosure_id)
    if disclosure is None:
        raise NotFoundError(f"no disclosure {disclosure_id}", hint="`jnx disclosures list` shows their ids")
    return disclosure


@dataclass(frozen=True, slots=True)
class Recomputed:
    disclosure_id: int
    old: dt.date | None
    new: dt.date
    provisional: bool


def recompute_deadlines(session: Session, calendar: WorkingDays) -> list[Recomputed]:
    """Count every provisional deadline again (after a year's schedule was loaded); which changed."""
    changed: list[Recomputed] = []
    for disclosure in session.scalars(select(Disclosure).where(Disclosure.deadline_provisional.is_(True))):
        deadline = disclosure_deadline(disclosure.decision_date, calendar)
        if (deadline.date, deadline.provisional) != (disclosure.deadline, disclosure.deadline_provisional):
            changed.append(Recomputed(disclosure.id, disclosure.deadline, deadline.date, deadline.provisional))
        new_revisions = session.scalars(select(DisclosureRevision).where(
            DisclosureRevision.disclosure_id == disclosure.id, DisclosureRevision.action == DisclosureAction.NEW))
        for revision in new_revisions:
            revision.due_date = deadline.date
        disclosure.deadline, disclosure.deadline_provisional = deadline.date, deadline.provisional
        disclosure.deadline_basis = deadline.basis
    session.flush()
    return changed


def expire_displays(session: Session, today: dt.date) -> int:
    """Published disclosures whose 公示截止期 has passed are ``expired``: the platform stops showing them
    by itself after the longest period (58号), so nothing is pushed. How many changed."""
    result = session.execute(
        update(Disclosure)
        .where(Disclosure.status == DisclosureStatus.PUBLISHED, Disclosure.display_until < today)
        .values(status=DisclosureStatus.EXPIRED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return affected(result)


# ------------------------------------------------------------------ a page's writes, in bulk
#: The columns a page's derivation reads and writes of a disclosure (besides its id).
HELD_COLUMNS = ("kind", "business_key", "standard_record_id", "status", "decision_date", "deadline",
                "deadline_provisional", "deadline_basis", "display_until", "current_revision", "problems",
                "display_shortest_until", "repaired_on", "review")
_PAGE_KEYS = 1000  # keys per IN (…): a whole page, well under SQLite's 32,766 variables

DISCLOSURES: Table = Disclosure.__table__  # type: ignore[assignment]
REVISIONS: Table = DisclosureRevision.__table__  # type: ignore[assignment]
DELIVERIES: Table = Delivery.__table__  # type: ignore[assignment]


def disclosure_rows(session: Session, kind: DisclosureKind, keys: Sequence[str]) -> list[Row[Any]]:
    """The disclosures of ``kind`` with these business keys: id and :data:`HELD_COLUMNS`, no ORM objects."""
    found: list[Row[Any]] = []
    columns = [DISCLOSURES.c.id, *(DISCLOSURES.c[name] for name in HELD_COLUMNS)]
    for start in range(0, len(keys), _PAGE_KEYS):
        query = select(*columns).where(DISCLOSURES.c.kind == kind, DISCLOSURES.c.business_key.in_(keys[start:start + _PAGE_KEYS]))
        found.extend(session.execute(query))
    return found


def latest_revisions(session: Session, disclosure_ids: Sequence[int]) -> dict[int, tuple[DisclosureAction, dict[str, Any]]]:
    """The newest revision (action, payload) of each of these disclosures, in one query per page."""
    newer = REVISIONS.alias("newer")
    newest = (select(func.max(newer.c.revision)).where(newer.c.disclosure_id == REVISIONS.c.disclosure_id)
              .scalar_subquery())
    found: dict[int, tuple[DisclosureAction, dict[str, Any]]] = {}
    for start in range(0, len(disclosure_ids), _PAGE_KEYS):
        query = (select(REVISIONS.c.disclosure_id, REVISIONS.c.action, REVISIONS.c.payload)
                 .where(REVISIONS.c.disclosure_id.in_(disclosure_ids[start:start + _PAGE_KEYS]), REVISIONS.c.revision == newest))
        found.update({disclosure_id: (action, payload) for disclosure_id, action, payload in session.execute(query)})
    return found


def insert_with_ids(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert rows (all with the same keys) in one executemany; the ids given to them, in order.

    The ids are taken before the insert: on PostgreSQL from the table's sequence (one ``nextval``
    query for the batch), on SQLite after the largest id, which is this batch's to give because the
    page's transaction holds the write lock (the run's ``BEGIN IMMEDIATE``, see
    :mod:`jnx.store.leases`; as :func:`jnx.store.queries.stage` does). Values are bound once
    per column and distinct value (:func:`bound`), and the statement goes to the driver as it is."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "sqlite":
        largest = int(session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())
        ids = list(range(largest + 1, largest + 1 + len(rows)))
    else:
        query = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)")
        ids = [int(i) for i in session.scalars(query, {"table": table.name, "count": len(rows)})]
    names = ["id", *rows[0]]
    write_many(session, table, names, [(i, *row.values()) for i, row in zip(ids, rows, strict=True)])
    return ids


def insert_deliveries(session: Session, revision_ids: Sequence[int], now: dt.datetime) -> None:
    """One waiting delivery (the outbox row) per new revision."""
    if revision_ids:
        names = ["disclosure_revision_id", "status", "attempts", "next_attempt_at", "created_at", "updated_at"]
        write_many(session, DELIVERIES, names, [(i, DeliveryStatus.PENDING, 0, now, now, now) for i in revision_ids])


def write_many(session: Session, table: Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """``INSERT`` of ``rows`` (values of the columns ``names``) in one driver executemany."""
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite":
        pg_insert_arrays(session, table, names, bound(dialect, table, names, rows))
        return
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(['?'] * len(names))})"
    session.connection().exec_driver_sql(sql, bound(dialect, table, names, rows))


def bound(dialect: Dialect, table: Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows in their database form, through each column type's bind processor as SQLAlchemy would,
    but once per distinct value of a column (a page's instants, dates and statuses are a handful);
    unhashable values (JSON) once each. ``None`` goes through too: a JSON column stores it as ``null``."""
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else []
    for index, name in enumerate(names):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            continue
        values = columns[index]
        try:
            memo = {value: process(value) for value in set(values)}
        except TypeError:  # unhashable: dicts or lists for a JSON column
            columns[index] = [process(value) for value in values]
        else:
            columns[index] = [memo[value] for value in values]
    return list(zip(*columns, strict=True))


def supersede_many(session: Session, superseding: Sequence[tuple[int, int]], now: dt.datetime) -> int:
    """:func:`supersede_waiting` for every (disclosure id, new revision) of a page, in their order;
    how many deliveries it closed.

    The older revisions are found by their disclosure and their deliveries by revision — the two
    indexed ways in — and a delivery's status is tested here, not in SQL: with the status in the
    statement SQLite (without statistics) walks every waiting delivery for each disclosure instead,
    which made a first run quadratic (43 s of 70 at 100,000 penalties)."""
    if not superseding:
        return 0
    disclosure_ids = list(dict.fromkeys(disclosure_id for disclosure_id, _ in superseding))
    revision_of: dict[int, tuple[int, int]] = {}
    for start in range(0, len(disclosure_ids), _PAGE_KEYS):
        query = select(REVISIONS.c.id, REVISIONS.c.disclosure_id, REVISIONS.c.revision).where(
            REVISIONS.c.disclosure_id.in_(disclosure_ids[start:start + _PAGE_KEYS]))
        revision_of.update({row.id: (row.disclosure_id, row.revision) for row in session.execute(query)})
    waiting: dict[int, list[tuple[int, int]]] = {}  # disclosure id → its open deliveries (id, revision)
    revision_ids = list(revision_of)
    for start in range(0, len(revision_ids), _PAGE_KEYS):
        query = select(DELIVERIES.c.id, DELIVERIES.c.disclosure_revision_id, DELIVERIES.c.status).where(
            DELIVERIES.c.disclosure_revision_id.in_(revision_ids[start:start + _PAGE_KEYS]))
        for delivery_id, revision_id, status in session.execute(query):
            if status in OPEN_DELIVERY:
                disclosure_id, revision = revision_of[revision_id]
                waiting.setdefault(disclosure_id, []).append((delivery_id, revision))
    closed: list[dict[str, Any]] = []
    for disclosure_id, current in superseding:
        still = []
        for delivery_id, revision in waiting.get(disclosure_id, ()):
            if revision < current:
                closed.append({"d_id": delivery_id, "d_error": f"superseded by revision {current} before it was sent"})
            else:
                still.append((delivery_id, revision))
        waiting[disclosure_id] = still
    if closed:
        statement = (update(DELIVERIES).where(DELIVERIES.c.id == bindparam("d_id"))
                     .values(status=DeliveryStatus.FAILED, error=bindparam("d_error"), updated_at=now))
        session.execute(statement, closed)
    return len(closed)


#: What a page may change of a disclosure it found (kind, key and record stay).
UPDATED_COLUMNS = ("status", "decision_date", "deadline", "deadline_provisional", "deadline_basis", "display_until",
                   "current_revision", "problems", "display_shortest_until", "review")


def update_disclosures(session: Session, rows: Sequence[Mapping[str, Any]], now: dt.datetime) -> None:
    """Write the page's changes to disclosures it found: ``rows`` of id and :data:`UPDATED_COLUMNS`."""
    if not rows:
        return
    statement = (update(DISCLOSURES).where(DISCLOSURES.c.id == bindparam("d_id"))
                 .values({name: bindparam(f"d_{name}", type_=DISCLOSURES.c[name].type) for name in UPDATED_COLUMNS}
                         | {"updated_at": now}))
    session.execute(statement, [{f"d_{name}": value for name, value in row.items()} for row in rows])
