"""双公示 disclosures as users see them: a department officer sees those whose issuing agency
(执法主体 credit code, the business key's first part) is their department; another's is "not found"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from jnx.errors import ConfigError, NotFoundError
from jnx.exchange.registry import RegisteredSystem
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


def record_of(ctx: ServiceContext, disclosure_id: int) -> int:
    """The standard record a disclosure was derived from (404 outside the caller's scope, as a missing one)."""
    scope = ctx.authorize("disclosures.show")
    row = ctx.session.get(Disclosure, disclosure_id)
    if row is None or not scope.sees_business_key(row.business_key):
        raise NotFoundError(f"no disclosure {disclosure_id}", hint="`jnx disclosures list` shows their ids")
    return int(row.standard_record_id)


def withdraw_disclosure(ctx: ServiceContext, disclosure_id: int, reason: str) -> dict[str, Any]:
    """Withdraw (撤下) one disclosure with a reason (the console's withdrawal, the same code); audited."""
    from jnx.services.console_scope import Viewer
    from jnx.services.disclosure_desk import withdrawn

    ctx.authorize("disclosures.withdraw")
    data = withdrawn(ctx.session, Viewer.of(ctx.actor), disclosure_id, reason, ctx.settings.home / "calendar")
    ctx.audit("disclosure.withdraw", f"disclosure:{disclosure_id}", {"reason": reason})
    return data


def not_configured(error: ConfigError) -> ConfigError:
    """What the action needs is not configured at the server (no credit platform registered, the key
    passphrase not set): the request is right and the server's state is in the way — over HTTP 409,
    with the hint the server's operator follows; at the command line a ConfigError as ever (exit 3)."""
    error.http_status = 409  # type: ignore[attr-defined]
    return error


def credit_platform(ctx: ServiceContext, engine: Engine, system: str | None = None) -> RegisteredSystem:
    """The credit platform to push to (``system``, or the one enabled credit system) — 409 when there is none."""
    from jnx.commands._credit import credit_platform as registered

    try:
        return registered(ctx.settings, system, engine)
    except ConfigError as exc:
        raise not_configured(exc) from None


def start_delivery(ctx: ServiceContext, jobs: Any, engine: Engine, environment: Mapping[str, str], *,
                   system: str | None = None, limit: int = 10_000) -> Any:
    """Push what is due now, as a job (202) — the outbox as `jnx disclosures deliver` and `jnx serve` wire it."""
    from jnx.commands._credit import credit_delivery, key_store_for

    ctx.authorize("deliveries.run")
    credit = credit_platform(ctx, engine, system)
    try:
        key_store_for(ctx.settings, credit, environment)  # a missing passphrase is refused now, not in the job
    except ConfigError as exc:
        raise not_configured(exc) from None
    settings = ctx.settings

    def work(progress: Any) -> dict[str, Any]:
        with credit_delivery(settings, engine, environment, system=credit.id, worker_id="api-outbox") as wired:
            return dict(wired.deliver(limit, progress=progress).as_dict())

    return jobs.submit(ctx, kind="deliveries.run", title=f"Deliver to {credit.id}", subject=f"system:{credit.id}", work=work)


def start_reconcile(ctx: ServiceContext, jobs: Any, exchange: Any, audit: Any, engine: Engine) -> Any:
    """Reconcile with the credit platform as a job (202): the console's reconciliation, the same code."""
    from jnx.services.console_scope import Viewer
    from jnx.services.disclosure_desk import reconcile

    ctx.authorize("reconcile.run")
    credit = credit_platform(ctx, engine)
    viewer = Viewer.of(ctx.actor)

    def work(progress: Any) -> dict[str, Any]:
        return reconcile(exchange(), viewer, audit, progress, via="api")

    return jobs.submit(ctx, kind="reconcile.run", title="Reconcile with the credit platform", subject=f"system:{credit.id}", work=work)
