"""双公示 disclosures as users see them: a department officer sees those whose issuing agency
(执法主体 credit code, the business key's first part) is their department; another's is "not found"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jnx.errors import NotFoundError
from jnx.publicity import views
from jnx.services.context import ServiceContext
from jnx.services.paging import BadCursor, checked_limit, decode_cursor, encode_cursor
from jnx.store.models import Disclosure, DisclosureStatus


def list_disclosures(ctx: ServiceContext, *, status: DisclosureStatus | None = None, overdue: bool = False,
                     limit: int = 1000, today: dt.date | None = None) -> list[dict[str, Any]]:
    scope = ctx.authorize("disclosures.list")
    return views.list_disclosures(ctx.session, today=today or ctx.clock().date(), status=status, overdue=overdue,
                                  limit=limit, where=None if scope.everything else scope.disclosures())


def disclosure_page(ctx: ServiceContext, *, status: DisclosureStatus | None = None, overdue: bool = False,
                    limit: int = 100, cursor: str | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """One page of :func:`list_disclosures`: ``{"disclosures": [...], "count": N, "next_cursor": C or None}``
    (``jnx disclosures list --json`` is every page of it, ``GET /api/v1/disclosures`` one)."""
    scope = ctx.authorize("disclosures.list")
    limit = checked_limit(limit, 10_000)
    after = None
    if cursor:
        deadline, last_id = decode_cursor(cursor, 2)
        try:
            after = (dt.date.fromisoformat(str(deadline)), int(last_id))
        except ValueError as exc:
            raise BadCursor("this cursor is not one a page gave out", hint="start again without cursor") from exc
    items = views.list_disclosures(ctx.session, today=today or ctx.clock().date(), status=status, overdue=overdue,
                                   limit=limit + 1, where=None if scope.everything else scope.disclosures(), after=after)
    more = len(items) > limit
    items = items[:limit]
    last = ctx.session.get(Disclosure, items[-1]["id"]) if more else None
    next_cursor = encode_cursor(*(v.isoformat() if isinstance(v, dt.date) else v for v in views.sort_key(last))) if last else None
    return {"disclosures": items, "count": len(items), "next_cursor": next_cursor}


def show_disclosure(ctx: ServiceContext, disclosure_id: int, *, today: dt.date | None = None) -> dict[str, Any]:
    scope = ctx.authorize("disclosures.show")
    row = ctx.session.get(Disclosure, disclosure_id)
    if row is None or not scope.sees_business_key(row.business_key):
        raise NotFoundError(f"no disclosure {disclosure_id}", hint="`jnx disclosures list` shows their ids")
    return views.show_disclosure(ctx.session, disclosure_id, today or ctx.clock().date())
