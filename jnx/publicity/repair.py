"""信用修复 (credit repair): a penalty disclosure withdrawn for good.

国家发展改革委令第58号 (as REFERENCE §2.3 states it): after the shortest display period the party may
apply for early termination of the publication; once granted, the platform stops showing the
penalty. In jnx that is a state of the disclosure (``repaired_on``, ``repair_reason``), not a one-off
withdrawal: derivation leaves a repaired disclosure alone whatever later source edits say (they
revise the standard record, not the publication). A repair before the shortest end
(``display_shortest_until``) is refused unless forced, and a forced one says so in its reason.

Two ways in: jnx withdraws it from the platform (a withdrawal revision, due 3 working days after the
day it was granted), or the platform notified jnx that it granted the repair and stopped showing the
record (``by_platform``): the withdrawal revision is then recorded as acknowledged by that notice and
nothing is pushed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from jnx.errors import InputError
from jnx.publicity.actions import DisclosureStateError, get_disclosure, withdraw_disclosure
from jnx.publicity.rules import WorkingDays, withdrawal_deadline
from jnx.store.models import Delivery, DeliveryStatus, Disclosure, DisclosureKind, DisclosureStatus, beijing_day, utcnow


def repair(session: Session, disclosure_id: int, reason: str, calendar: WorkingDays, today: dt.date, *,
           granted_on: dt.date | None = None, force: bool = False, by_platform: bool = False) -> Disclosure:
    """Record 信用修复 of a penalty disclosure and withdraw it (see the module docstring)."""
    reason = reason.strip()
    if not reason:
        raise InputError("信用修复 needs a reason (the decision that granted it, e.g. 信用中国 修复决定 No. …)",
                         hint="pass --reason TEXT")
    disclosure = get_disclosure(session, disclosure_id)
    if disclosure.kind is not DisclosureKind.PENALTY:
        raise DisclosureStateError(f"disclosure {disclosure_id} is a licence: 信用修复 applies to penalty information")
    if disclosure.repaired_on is not None:
        raise DisclosureStateError(f"disclosure {disclosure_id} was repaired on {disclosure.repaired_on}: {disclosure.repair_reason}")
    if disclosure.status is DisclosureStatus.EXPIRED:
        raise DisclosureStateError(f"disclosure {disclosure_id} expired on {disclosure.display_until}: "
                                   "its display period is over, there is nothing to repair")
    on = granted_on or today
    if on > today:
        raise InputError(f"信用修复 granted on {on} is in the future (today is {today})", hint="give --on the day it was granted")
    shortest = disclosure.display_shortest_until
    early = shortest is not None and on <= shortest
    if early and not force:
        raise DisclosureStateError(
            f"disclosure {disclosure_id}: 信用修复 is admissible after the shortest display period, which ends on "
            f"{shortest} (国家发展改革委令第58号); granted on {on}",
            hint="if a decision allows it earlier, repeat with --force and a --reason that names it")
    note = reason + (f" (forced: before the shortest display period ended on {shortest})" if early else "")
    disclosure.repaired_on, disclosure.repair_reason = on, note
    if disclosure.status is not DisclosureStatus.WITHDRAWN:
        revision = withdraw_disclosure(session, disclosure, f"信用修复: {note}", withdrawal_deadline(on, calendar).date)
        session.flush()
        if revision is not None and by_platform:  # the platform granted it and stopped showing it: nothing to push
            delivery = session.scalars(select(Delivery).where(Delivery.disclosure_revision_id == revision.id)).one()
            delivery.status, delivery.receipt = DeliveryStatus.ACKNOWLEDGED, {"platform_notice": reason, "source": "notice"}
            delivery.updated_at = revision.acknowledged_at = utcnow()
            revision.acknowledged_on = beijing_day(revision.acknowledged_at)  # acknowledged: as the outbox records it (0007)
            disclosure.status = DisclosureStatus.WITHDRAWN
    session.flush()
    return disclosure


__all__ = ["repair"]
