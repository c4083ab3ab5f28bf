"""双公示 disclosures as users see them: a department officer sees those whose issuing agency
(执法主体 credit code, the business key's first part) is their department; another's is "not found"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jnx.errors import NotFoundError
from jnx.publicity import views
from jnx.services.context import ServiceContext
from jnx.store.models import Disclosure, DisclosureStatus


def list_disclosures(ctx: ServiceContext, *, status: DisclosureStatus | None = None, overdue: bool = False,
                     limit: int = 1000, today: dt.date | None = None) -> list[dict[str, Any]]:
    scope = ctx.authorize("disclosures.list")
    return views.list_disclosures(ctx.session, today=today or ctx.clock().date(), status=status, overdue=overdue,
                                  limit=limit, where=None if scope.everything else scope.disclosures())


def show_disclosure(ctx: ServiceContext, disclosure_id: int, *, today: dt.date | None = None) -> dict[str, Any]:
    scope = ctx.authorize("disclosures.show")
    row = ctx.session.get(Disclosure, disclosure_id)
    if row is None or not scope.sees_business_key(row.business_key):
        raise NotFoundError(f"no disclosure {disclosure_id}", hint="`jnx disclosures list` shows their ids")
    return views.show_disclosure(ctx.session, disclosure_id, today or ctx.clock().date())
