"""The outbox's SQL: reading claimed deliveries and writing their outcomes, a batch per statement.

Every write checks that the rows are still leased to this worker (``SELECT … FOR UPDATE`` on
PostgreSQL, inside ``BEGIN IMMEDIATE`` on SQLite, as :mod:`jnx.store.leases` does), then writes
all of a batch with one ``executemany`` per kind of change; a row another worker took over (its
lease expired) is left alone and counted as a lost lease.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, select, update

from jnx.store.db import SQLITE_BEGIN, storage_errors
from jnx.store.leases import Lease
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureAction,
    DisclosureRevision,
    DisclosureStatus,
    beijing_day,
)

DELIVERIES: Table = Delivery.__table__  # type: ignore[assignment]
DISCLOSURES: Table = Disclosure.__table__  # type: ignore[assignment]
REVISIONS: Table = DisclosureRevision.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Work:
    """One claimed delivery and what it pushes."""

    lease: Lease
    delivery_id: int
    disclosure_id: int
    revision: int
    current: bool  # still the disclosure's newest revision
    action: DisclosureAction
    kind: str
    key: str
    payload: dict[str, Any]
    envelope: str | None


@dataclass(frozen=True)
class Outcome:
    """What to write for one delivery: its final status (or None: waiting again), and the disclosure's."""

    work: Work
    status: DeliveryStatus | None
    error: str | None = None
    receipt: dict[str, Any] | None = None
    due: dt.datetime | None = None  # when waiting again
    disclosure_status: DisclosureStatus | None = None
    problems: list[dict[str, str]] | None = None


_CLOSE = (
    update(DELIVERIES).where(DELIVERIES.c.id == bindparam("d_id"))
    .values(status=bindparam("d_status"), receipt=bindparam("d_receipt"), error=bindparam("d_error"),
            lease_owner=None, lease_expires_at=None, updated_at=bindparam("d_now"))
)
_RELEASE = (
    update(DELIVERIES).where(DELIVERIES.c.id == bindparam("d_id"))
    .values(status=DeliveryStatus.PENDING, error=bindparam("d_error"), next_attempt_at=bindparam("d_due"),
            lease_owner=None, lease_expires_at=None, updated_at=bindparam("d_now"))
)
_ENVELOPE = update(DELIVERIES).where(DELIVERIES.c.id == bindparam("d_id")).values(envelope=bindparam("d_envelope"))
_DISCLOSURE = (
    update(DISCLOSURES).where(DISCLOSURES.c.id == bindparam("x_id"), DISCLOSURES.c.current_revision == bindparam("x_rev"))
    .values(status=bindparam("x_status"), problems=bindparam("x_problems"), updated_at=bindparam("x_now"))
)
#: the first acceptance of a revision, written once (0007): a second acknowledgement leaves it alone
_ACKNOWLEDGED = (
    update(REVISIONS).where(REVISIONS.c.disclosure_id == bindparam("r_disclosure"), REVISIONS.c.revision == bindparam("r_rev"),
                            REVISIONS.c.acknowledged_at.is_(None))
    .values(acknowledged_at=bindparam("r_now"), acknowledged_on=bindparam("r_day"))
)


class OutboxStore:
    """Reads and writes of one worker (``owner``) on one engine."""

    def __init__(self, engine: Engine, owner: str) -> None:
        self.engine = engine
        self.owner = owner

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with storage_errors(self.engine.url), self.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with connection.begin():
                yield connection

    def _owned(self, connection: Connection, ids: Sequence[int]) -> set[int]:
        query = (select(DELIVERIES.c.id)
                 .where(DELIVERIES.c.id.in_(list(ids)), DELIVERIES.c.lease_owner == self.owner,
                        DELIVERIES.c.status == DeliveryStatus.LEASED)
                 .with_for_update())
        return set(connection.execute(query).scalars())

    def load(self, leases: Sequence[Lease]) -> list[Work]:
        by_id = {lease.row_id: lease for lease in leases}
        d, r, x = DELIVERIES.c, REVISIONS.c, DISCLOSURES.c
        query = (
            select(d.id, d.envelope, r.revision, r.action, r.idempotency_key, r.payload, x.id, x.kind, x.current_revision)
            .select_from(DELIVERIES.join(REVISIONS, d.disclosure_revision_id == r.id).join(DISCLOSURES, r.disclosure_id == x.id))
            .where(d.id.in_(list(by_id)))
            .order_by(d.id)
        )
        with storage_errors(self.engine.url), self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [Work(by_id[row[0]], row[0], row[6], row[2], row[2] == row[8], DisclosureAction(row[3]), str(row[7]), row[4],
                     row[5], row[1]) for row in rows]

    def keep_envelopes(self, envelopes: dict[int, str]) -> None:
        """Store sealed items before they are pushed (rows no longer ours are skipped)."""
        with self._writing() as connection:
            owned = self._owned(connection, list(envelopes))
            params = [{"d_id": i, "d_envelope": e} for i, e in envelopes.items() if i in owned]
            if params:
                connection.execute(_ENVELOPE, params)

    def write(self, outcomes: Sequence[Outcome], now: dt.datetime,
              then: Callable[[Connection, list[Outcome]], None] | None = None) -> list[Outcome]:
        """Write outcomes in one transaction; returns those written (the rest lost their lease).
        ``then(connection, written)`` runs last in the same transaction (the push's audit entry)."""
        with self._writing() as connection:
            owned = self._owned(connection, [o.work.delivery_id for o in outcomes])
            mine = [o for o in outcomes if o.work.delivery_id in owned]
            closed = [{"d_id": o.work.delivery_id, "d_status": o.status, "d_receipt": o.receipt, "d_error": o.error,
                       "d_now": now} for o in mine if o.status is not None]
            released = [{"d_id": o.work.delivery_id, "d_error": o.error, "d_due": o.due, "d_now": now}
                        for o in mine if o.status is None]
            marked = [{"x_id": o.work.disclosure_id, "x_rev": o.work.revision, "x_status": o.disclosure_status,
                       "x_problems": o.problems, "x_now": now} for o in mine if o.disclosure_status is not None]
            acknowledged = [{"r_disclosure": o.work.disclosure_id, "r_rev": o.work.revision, "r_now": now,
                             "r_day": beijing_day(now)} for o in mine if o.status is DeliveryStatus.ACKNOWLEDGED]
            for statement, params in ((_CLOSE, closed), (_RELEASE, released), (_DISCLOSURE, marked),
                                      (_ACKNOWLEDGED, acknowledged)):
                if params:
                    connection.execute(statement, params)
            if then is not None:
                then(connection, mine)
        return mine
