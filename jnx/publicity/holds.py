"""Disclosures held back while their standard record is in a business-key conflict.

Two source records that claim one business key with different content (two penalties under one
决定书文号, two inspection results of one task and party name) are a conflict in the errors queue
(rule ``business_key.conflict``, :mod:`jnx.exchange.ingest`): the first record stays as it was, the
second stays staged, and neither is disclosed until an admin decides. Here that "neither is
disclosed" is made true: the record's waiting deliveries become ``held`` (the outbox leases only
``pending`` ones) and a disclosure not yet on the platform is ``blocked`` with the conflict as its
problem. When no open conflict is left (merged, ignored, corrected at the source, replayed), held
deliveries are ``pending`` again and the block is lifted.

:func:`sync_holds` runs in the page's (or the admin action's) transaction, after the disclosures of
what the page stored were derived, for the records whose conflicts opened or closed — a page with
no conflict costs one indexed search.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jnx.store import queries
from jnx.store.models import Delivery, DeliveryStatus, Disclosure, DisclosureRevision, DisclosureStatus, utcnow

CONFLICT_PROBLEM = "business_key.conflict"


def _problem(record_id: int) -> dict[str, Any]:
    return {"field": "business_key", "rule": CONFLICT_PROBLEM,
            "message": f"standard record #{record_id} is in a business-key conflict: held until it is resolved "
                       "(`jnx errors groups`: rule business_key.conflict)"}


def _revision_ids(record_ids: Collection[int]) -> Any:
    return (select(DisclosureRevision.id).join(Disclosure, Disclosure.id == DisclosureRevision.disclosure_id)
            .where(Disclosure.standard_record_id.in_(list(record_ids))))


def sync_holds(session: Session, changed: Collection[int], stored: Collection[int] = ()) -> tuple[int, int]:
    """After a page: hold the disclosures of the records in an open conflict among ``changed`` (whose
    conflicts opened or closed) and ``stored`` (derived again just now), release those of ``changed``
    with none left. The deliveries (held, released) this changed."""
    candidates = set(changed) | set(stored)
    if not candidates:
        return 0, 0
    in_conflict = queries.records_in_conflict(session, list(candidates))
    held = hold(session, in_conflict) if in_conflict else 0
    free = set(changed) - in_conflict
    released = release(session, free) if free else 0
    return held, released


def hold(session: Session, record_ids: Collection[int]) -> int:
    """Waiting deliveries of these records' disclosures → held; a disclosure never yet on the
    platform → blocked with the conflict as its problem. How many deliveries were held."""
    held = session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.disclosure_revision_id.in_(_revision_ids(record_ids)))
        .values(status=DeliveryStatus.HELD, error="held: the standard record is in a business-key conflict")
        .execution_options(synchronize_session=False)
    )
    for disclosure in session.scalars(select(Disclosure).where(Disclosure.standard_record_id.in_(list(record_ids)),
                                                               Disclosure.status.in_([DisclosureStatus.PENDING, DisclosureStatus.BLOCKED]))):
        problems = [p for p in (disclosure.problems or []) if p.get("rule") != CONFLICT_PROBLEM]
        disclosure.problems = [*problems, _problem(disclosure.standard_record_id)]
        disclosure.status = DisclosureStatus.BLOCKED
        disclosure.updated_at = utcnow()
    return int(getattr(held, "rowcount", 0) or 0)


def release(session: Session, record_ids: Collection[int]) -> int:
    """Undo :func:`hold` for records with no open conflict left; how many deliveries were released."""
    released = session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.HELD, Delivery.disclosure_revision_id.in_(_revision_ids(record_ids)))
        .values(status=DeliveryStatus.PENDING, error=None, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    for disclosure in session.scalars(select(Disclosure).where(Disclosure.standard_record_id.in_(list(record_ids)),
                                                               Disclosure.status == DisclosureStatus.BLOCKED)):
        problems = disclosure.problems or []
        if not any(p.get("rule") == CONFLICT_PROBLEM for p in problems):
            continue  # blocked by the outbound mapping, not by a conflict: that block stays
        rest = [p for p in problems if p.get("rule") != CONFLICT_PROBLEM]
        disclosure.problems = rest or None
        if not rest:
            disclosure.status = DisclosureStatus.PENDING
        disclosure.updated_at = utcnow()
    return int(getattr(released, "rowcount", 0) or 0)
