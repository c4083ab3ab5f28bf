"""Leasing: the one place for the SQL that hands due rows (runs, deliveries) to workers.

A *lease* says "worker W works on row R until T". Workers :meth:`~Leases.claim` up to N due rows,
:meth:`~Leases.renew` (heartbeat) while they work, and end with :meth:`~Leases.complete` (a final
status) or :meth:`~Leases.release` (back to waiting, optionally due later). A worker that crashes
stops renewing; once its lease has expired the row is due again: :meth:`~Leases.claim` takes it over
directly and :meth:`~Leases.reclaim_expired` sweeps such rows back to waiting. A worker whose row was
taken over gets :class:`~jnx.store.errors.LeaseLostError` from renew, release and complete.

Concurrency, per backend:

* PostgreSQL — ``SELECT … ORDER BY due LIMIT n FOR UPDATE SKIP LOCKED`` then ``UPDATE … RETURNING``
  in one transaction: many workers claim at once, each row goes to exactly one of them.
* SQLite — the same statements inside ``BEGIN IMMEDIATE``: one writer at a time holds the database
  lock; others wait up to the engine's busy timeout.

Order and fairness (issue 19): deliveries are claimed nearest their 双公示 deadline first (the
revision's ``due_date``), then by when they are due; runs, with a ``department_cap``, skip the
departments that already have that many runs in flight and prefer the departments with fewest, so
one department's backlog never starves the others. (Two workers claiming at the same instant may
each see one place left: the cap is a fairness rule, not a hard limit.)

Times are aware instants; ``now`` may be passed for tests and defaults to the worker's clock
(keep workers' clocks in sync with NTP: leases are minutes, skew must stay well below that).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import Engine, Select, Table, and_, func, or_, select, update
from sqlalchemy.orm import aliased

from jnx.store.db import write_transaction
from jnx.store.errors import LeaseLostError
from jnx.store.models import Delivery, DeliveryStatus, DisclosureRevision, Run, RunStatus, SourceSystem, utcnow

DEADLINE_WINDOW = 4  # nearest-deadline candidates looked at per row claimed


@dataclasses.dataclass(frozen=True, slots=True)
class LeaseQueue:
    """How a table is leased: which status waits, which is leased, which column says when it is due."""

    table: Table
    waiting: Any  # status of rows waiting for a worker
    leased: Any  # status while a worker holds the lease
    finals: frozenset[Any]  # statuses complete() may set
    due_column: str
    started_column: str | None = None  # set on first claim
    finished_column: str | None = None  # set by complete()
    by_department: bool = False  # rows name a system (``system_id``): a department cap may apply
    by_deadline: bool = False  # rows name a disclosure revision: nearest ``due_date`` first

    @property
    def name(self) -> str:
        return self.table.name


RUNS = LeaseQueue(
    table=Run.__table__,  # type: ignore[arg-type]
    waiting=RunStatus.QUEUED,
    leased=RunStatus.RUNNING,
    finals=frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED}),
    due_column="due_at",
    started_column="started_at",
    finished_column="finished_at",
    by_department=True,
)

DELIVERIES = LeaseQueue(
    table=Delivery.__table__,  # type: ignore[arg-type]
    waiting=DeliveryStatus.PENDING,
    leased=DeliveryStatus.LEASED,
    finals=frozenset({DeliveryStatus.SENT, DeliveryStatus.ACKNOWLEDGED, DeliveryStatus.REJECTED, DeliveryStatus.FAILED}),
    due_column="next_attempt_at",
    by_deadline=True,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Lease:
    """A row held by a worker until ``expires_at``; ``attempts`` counts claims including this one."""

    table: str
    row_id: int
    owner: str
    expires_at: dt.datetime
    attempts: int


class LeaseStore(Protocol):
    """The role workers depend on; :class:`Leases` is the SQL implementation."""

    def claim(self, owner: str, *, limit: int, lease_for: dt.timedelta, now: dt.datetime | None = None) -> list[Lease]: ...

    def renew(self, lease: Lease, *, lease_for: dt.timedelta, now: dt.datetime | None = None) -> Lease: ...

    def release(self, lease: Lease, *, due_at: dt.datetime | None = None, values: Mapping[str, Any] | None = None) -> None: ...

    def complete(self, lease: Lease, status: Any, *, values: Mapping[str, Any] | None = None, now: dt.datetime | None = None) -> None: ...

    def reclaim_expired(self, *, now: dt.datetime | None = None) -> int: ...


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


class Leases:
    """Leasing of one :class:`LeaseQueue` on one engine (implements :class:`LeaseStore`)."""

    def __init__(self, engine: Engine, queue: LeaseQueue, *, department_cap: int | None = None) -> None:
        if department_cap is not None and (department_cap < 1 or not queue.by_department):
            raise ValueError(f"a department cap needs a queue of system rows and a cap of at least 1, not {department_cap}")
        self._engine = engine
        self._queue = queue
        self._t = queue.table
        self._cap = department_cap

    def _pick(self, due: Any, now: dt.datetime, limit: int, *, by_deadline: bool = True) -> Select[Any]:
        """The ids to claim, in claiming order (see the module's "Order and fairness").

        Nearest deadline first is chosen in two steps: a window of the ``DEADLINE_WINDOW`` × ``limit``
        nearest, without locks (PostgreSQL then keeps only the top rows of its sort in memory), then
        those of them no other claimer holds, locked — locking the sort itself would sort every due row
        on disk first (docs/storage.md has the figures)."""
        t, q = self._t, self._queue
        pick = select(t.c.id).where(due)
        order: list[Any] = []
        if q.by_deadline and by_deadline:
            revision = DisclosureRevision.__table__
            nearest = [revision.c.due_date.asc().nulls_last(), t.c[q.due_column], t.c.id]
            window = (select(t.c.id).select_from(t.outerjoin(revision, revision.c.id == t.c.disclosure_revision_id))
                      .where(due).order_by(*nearest).limit(limit * DEADLINE_WINDOW))
            pick = pick.outerjoin(revision, revision.c.id == t.c.disclosure_revision_id).where(t.c.id.in_(window.scalar_subquery()))
            order.append(nearest[0])
        if self._cap is not None:
            mine, busy_system = aliased(SourceSystem), aliased(SourceSystem)
            busy_run = t.alias("busy")
            busy = (select(func.count()).select_from(busy_run.join(busy_system, busy_system.id == busy_run.c.system_id))
                    .where(busy_run.c.status == q.leased, busy_run.c.lease_expires_at >= now,
                           busy_system.department_credit_code == mine.department_credit_code)
                    .correlate(mine).scalar_subquery())
            pick = pick.join(mine, mine.id == t.c.system_id).where(busy < self._cap)
            order.append(busy)
        return pick.order_by(*order, t.c[q.due_column], t.c.id).limit(limit).with_for_update(skip_locked=True, of=t)

    def claim(self, owner: str, *, limit: int, lease_for: dt.timedelta, now: dt.datetime | None = None) -> list[Lease]:
        """Lease up to ``limit`` due rows (waiting and due, or leased with an expired lease) to ``owner``."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        now = _now(now)
        t, q = self._t, self._queue
        due = or_(
            and_(t.c.status == q.waiting, t.c[q.due_column] <= now),
            and_(t.c.status == q.leased, t.c.lease_expires_at < now),
        )
        values: dict[str, Any] = {
            "status": q.leased,
            "lease_owner": owner,
            "lease_expires_at": now + lease_for,
            "heartbeat_at": now,
            "attempts": t.c.attempts + 1,
        }
        if q.started_column:
            values[q.started_column] = func.coalesce(t.c[q.started_column], now)
        pick = self._pick(due, now, limit)
        with write_transaction(self._engine) as connection:
            ids = list(connection.execute(pick).scalars())
            if not ids and q.by_deadline:  # the window's rows all held by other claimers: the rest by due time
                ids = list(connection.execute(self._pick(due, now, limit, by_deadline=False)).scalars())
            if not ids:
                return []
            rows = connection.execute(
                update(t).where(t.c.id.in_(ids), due).values(values).returning(t.c.id, t.c.lease_expires_at, t.c.attempts)
            ).all()
        leases = [Lease(q.name, row.id, owner, row.lease_expires_at, row.attempts) for row in rows]
        return sorted(leases, key=lambda lease: ids.index(lease.row_id))

    def _update_own(self, lease: Lease, values: Mapping[str, Any], verb: str) -> None:
        t = self._t
        unknown = set(values) - set(t.c.keys())
        if unknown:
            raise ValueError(f"{t.name} has no column(s) {', '.join(sorted(unknown))}")
        statement = (
            update(t)
            .where(t.c.id == lease.row_id, t.c.lease_owner == lease.owner, t.c.status == self._queue.leased)
            .values(dict(values))
        )
        with write_transaction(self._engine) as connection:
            matched = connection.execute(statement).rowcount
        if matched != 1:
            raise LeaseLostError(
                f"cannot {verb} {t.name} #{lease.row_id}: no longer leased to {lease.owner}",
                table=t.name,
                row_id=lease.row_id,
                owner=lease.owner,
            )

    def renew(self, lease: Lease, *, lease_for: dt.timedelta, now: dt.datetime | None = None) -> Lease:
        """Heartbeat: extend the lease to ``now + lease_for``; the returned lease replaces the old one."""
        now = _now(now)
        expires = now + lease_for
        self._update_own(lease, {"lease_expires_at": expires, "heartbeat_at": now}, "renew")
        return dataclasses.replace(lease, expires_at=expires)

    def release(self, lease: Lease, *, due_at: dt.datetime | None = None, values: Mapping[str, Any] | None = None) -> None:
        """Give the row back (waiting again), due at ``due_at`` if given (e.g. a retry with back-off)."""
        changes: dict[str, Any] = {**(values or {}), "status": self._queue.waiting, "lease_owner": None, "lease_expires_at": None}
        if due_at is not None:
            changes[self._queue.due_column] = _now(due_at)
        self._update_own(lease, changes, "release")

    def complete(self, lease: Lease, status: Any, *, values: Mapping[str, Any] | None = None, now: dt.datetime | None = None) -> None:
        """End the lease with a final ``status``, writing ``values`` (counts, error, receipt…) with it."""
        if status not in self._queue.finals:
            finals = ", ".join(sorted(str(s) for s in self._queue.finals))
            raise ValueError(f"{status!r} is not a final status of {self._queue.name} ({finals})")
        changes: dict[str, Any] = {**(values or {}), "status": status, "lease_owner": None, "lease_expires_at": None}
        if self._queue.finished_column:
            changes[self._queue.finished_column] = _now(now)
        self._update_own(lease, changes, "complete")

    def reclaim_expired(self, *, now: dt.datetime | None = None) -> int:
        """Put rows whose lease expired (their worker crashed or hung) back to waiting; how many."""
        now = _now(now)
        t, q = self._t, self._queue
        statement = (
            update(t)
            .where(t.c.status == q.leased, t.c.lease_expires_at < now)
            .values(status=q.waiting, lease_owner=None, lease_expires_at=None)
        )
        with write_transaction(self._engine) as connection:
            return connection.execute(statement).rowcount
