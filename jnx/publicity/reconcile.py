"""Reconciliation with the credit platform (对账): what it holds — pushed by jnx or filed by hand on its
web form — against jnx's disclosures. This is what ends double filing.

For every record the platform lists and every disclosure jnx has, by (kind, agency credit code,
文书号):

* **matched** — both have it. A revision of jnx's that was still waiting (or had failed) is *linked*:
  its delivery is closed as acknowledged by reconciliation, with the platform's record id, and is
  never pushed; records whose content differs are listed for review, not overwritten.
* **missing on the platform** — jnx has a published or waiting disclosure the platform does not
  hold: a failed or lost delivery is queued again (same idempotency key); a disclosure the platform
  once acknowledged but no longer holds gets a new revision (a new key, so it is stored again).
* **on the platform only** — reported per department (agency), for the department to confirm.

Running it twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from jnx.adapters.rest import RestPusher, decode_json
from jnx.errors import ConfigError
from jnx.progress import WorkProgress
from jnx.publicity.actions import add_revision
from jnx.store.db import session_factory, storage_errors
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureAction,
    DisclosureKind,
    DisclosureRevision,
    DisclosureStatus,
    beijing_day,
    utcnow,
)

PLATFORM_KIND: dict[DisclosureKind, str] = {DisclosureKind.LICENSE: "xzxk", DisclosureKind.PENALTY: "xzcf"}
KEY_FIELDS: dict[DisclosureKind, tuple[str, str, str]] = {  # agency code, 文书号, agency name
    DisclosureKind.LICENSE: ("XK_XKJGDM", "XK_WSH", "XK_XKJG"),
    DisclosureKind.PENALTY: ("CF_CFJGDM", "CF_WSH", "CF_CFJG"),
}
DEFAULT_LIST_PATHS: dict[DisclosureKind, str] = {DisclosureKind.LICENSE: "/api/v1/sgs/xzxk",
                                                 DisclosureKind.PENALTY: "/api/v1/sgs/xzcf"}
WAITING = (DeliveryStatus.PENDING, DeliveryStatus.LEASED)


@dataclass(frozen=True, slots=True)
class PlatformRecord:
    """One record the platform holds, as its list API gives it."""

    kind: DisclosureKind
    record_id: str
    source: str  # push | manual
    status: str  # published | withdrawn
    record: Mapping[str, Any]

    @property
    def business_key(self) -> str:
        agency, wsh, _ = KEY_FIELDS[self.kind]
        return f"{str(self.record.get(agency) or '').strip()}|{str(self.record.get(wsh) or '').strip()}"

    @property
    def department(self) -> str:
        agency, _, name = KEY_FIELDS[self.kind]
        return f"{self.record.get(name) or '?'} ({self.record.get(agency) or '?'})"


class PlatformHoldings(Protocol):
    """What the platform holds, kind by kind (:class:`RestHoldings` reads its list API)."""

    def records(self, kind: DisclosureKind) -> Iterator[PlatformRecord]: ...


class RestHoldings:
    """The platform's list API (``GET /api/v1/sgs/xzcf?page=&size=``, docs/source-shapes.md §4.4), over
    the credit system's HTTP client (lines, retries, failover, auth). Paths come from the system's
    settings ``list_license`` / ``list_penalty`` when given."""

    def __init__(self, rest: RestPusher, settings: Mapping[str, str], page_size: int = 500) -> None:
        self.http = rest.http
        self.paths = {kind: settings.get(f"list_{kind.value}", path) for kind, path in DEFAULT_LIST_PATHS.items()}
        self.page_size = page_size

    def records(self, kind: DisclosureKind) -> Iterator[PlatformRecord]:
        path, page = self.paths[kind], 1
        while True:
            what = f"GET {path} page {page}"
            response, line = self.http.request("GET", path, params={"page": str(page), "size": str(self.page_size)}, what=what)
            answer = decode_json(response, line, what)
            rows = answer.get("rows") if isinstance(answer, Mapping) else None
            if not isinstance(rows, list):
                raise ConfigError(f"{what} on line {line.label}: no `rows` list in the answer",
                                  hint="set list_license / list_penalty in the credit system's settings to its list API")
            for row in rows:
                if isinstance(row, Mapping) and isinstance(row.get("record"), Mapping):
                    yield PlatformRecord(kind, str(row.get("record_id")), str(row.get("source")), str(row.get("status")),
                                         row["record"])
            total = answer.get("total")
            if not rows or (isinstance(total, int) and page * self.page_size >= total):
                return
            page += 1


@dataclass
class ReconcileReport:
    """The outcome (``jnx reconcile credit --json``)."""

    platform_records: int = 0
    disclosures: int = 0
    matched: int = 0
    linked: int = 0
    differs: list[dict[str, Any]] = field(default_factory=list)
    requeued: int = 0
    republished: int = 0
    already_queued: int = 0
    withdrawn_on_platform: list[dict[str, Any]] = field(default_factory=list)
    platform_only: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "platform_records": self.platform_records, "disclosures": self.disclosures, "matched": self.matched,
            "linked": self.linked, "differs": self.differs, "requeued": self.requeued, "republished": self.republished,
            "already_queued": self.already_queued, "withdrawn_on_platform": self.withdrawn_on_platform,
            "platform_only": {dept: rows for dept, rows in sorted(self.platform_only.items())},
            "platform_only_count": sum(len(rows) for rows in self.platform_only.values()),
        }


def _canonical(data: Mapping[str, Any]) -> str:
    return json.dumps({k: str(v) for k, v in data.items() if v not in (None, "")}, ensure_ascii=False, sort_keys=True)


def reconcile(engine: Engine, holdings: PlatformHoldings, *, now: dt.datetime | None = None,
              progress: WorkProgress | None = None) -> ReconcileReport:
    """Compare, link, requeue and report; one transaction for what changes in jnx. ``progress`` is told
    each platform record as it is read (how many is not known ahead), then each disclosure compared."""
    report = ReconcileReport()
    held: dict[tuple[DisclosureKind, str], PlatformRecord] = {}
    if progress is not None:
        progress.start("reading the platform's records", None)
    for kind in DisclosureKind:
        for record in holdings.records(kind):
            held[(kind, record.business_key)] = record
            if progress is not None:
                progress.advance(1)
    report.platform_records = len(held)
    sessions = session_factory(engine)
    with storage_errors(engine.url), sessions.begin() as session:
        if progress is not None:
            progress.start("comparing disclosures", session.scalar(select(func.count()).select_from(Disclosure)))
        seen: set[tuple[DisclosureKind, str]] = set()
        for disclosure in session.scalars(select(Disclosure).order_by(Disclosure.id)):
            report.disclosures += 1
            if progress is not None:
                progress.advance(1)
            key = (disclosure.kind, disclosure.business_key)
            seen.add(key)
            platform = held.get(key)
            if platform is None:
                _missing(session, disclosure, report)
            else:
                _matched(session, disclosure, platform, report, now or utcnow())
        for key, platform in held.items():
            if key not in seen:
                report.platform_only.setdefault(platform.department, []).append(
                    {"kind": key[0].value, "business_key": key[1], "record_id": platform.record_id,
                     "source": platform.source, "status": platform.status})
    return report


def _revisions(session: Session, disclosure: Disclosure) -> list[DisclosureRevision]:
    return list(session.scalars(select(DisclosureRevision).where(DisclosureRevision.disclosure_id == disclosure.id)
                                .order_by(DisclosureRevision.revision)))


def _deliveries(session: Session, revision: DisclosureRevision) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.disclosure_revision_id == revision.id).order_by(Delivery.id)))


def _matched(session: Session, disclosure: Disclosure, platform: PlatformRecord, report: ReconcileReport,
             now: dt.datetime) -> None:
    report.matched += 1
    revisions = _revisions(session, disclosure)
    if not revisions:
        return  # blocked in jnx, filed by hand on the platform: nothing of jnx's to send
    current = revisions[-1]
    if current.action is DisclosureAction.WITHDRAWAL:
        if platform.status == "withdrawn":
            _link(session, current, platform, now, report)
            disclosure.status = DisclosureStatus.WITHDRAWN
        return
    if platform.status == "withdrawn" and disclosure.status is not DisclosureStatus.WITHDRAWN:
        report.withdrawn_on_platform.append({"disclosure_id": disclosure.id, "business_key": disclosure.business_key,
                                             "record_id": platform.record_id})
    if _canonical(current.payload) != _canonical(platform.record):
        report.differs.append({"disclosure_id": disclosure.id, "business_key": disclosure.business_key,
                               "record_id": platform.record_id, "source": platform.source,
                               "fields": sorted(k for k in set(current.payload) | set(platform.record)
                                                if str(current.payload.get(k, "")) != str(platform.record.get(k, "")))})
    if _link(session, current, platform, now, report) and disclosure.status is not DisclosureStatus.WITHDRAWN:
        disclosure.status, disclosure.problems = DisclosureStatus.PUBLISHED, None


def _link(session: Session, revision: DisclosureRevision, platform: PlatformRecord, now: dt.datetime,
          report: ReconcileReport) -> bool:
    """Close the revision's unsent deliveries as acknowledged by the record the platform holds."""
    deliveries = _deliveries(session, revision)
    if any(d.status is DeliveryStatus.ACKNOWLEDGED for d in deliveries):
        return True
    open_ones = [d for d in deliveries if d.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.REJECTED)]
    if not open_ones:
        return False  # leased right now: its worker will record the platform's answer
    receipt: dict[str, Any] = {"status": "accepted", "receipt_id": None, "record_id": platform.record_id, "reasons": [],
               "raw": {"reconciled": True, "source": platform.source}, "at": now.isoformat()}
    if revision.acknowledged_at is None:  # first acknowledged now, by the record the platform holds (0007)
        revision.acknowledged_at, revision.acknowledged_on = now, beijing_day(now)
    for delivery in open_ones[-1:]:
        delivery.status, delivery.receipt, delivery.error = DeliveryStatus.ACKNOWLEDGED, receipt, None
        delivery.lease_owner, delivery.lease_expires_at = None, None
    for delivery in open_ones[:-1]:
        if delivery.status is DeliveryStatus.PENDING:
            delivery.status, delivery.error = DeliveryStatus.FAILED, "superseded: linked by reconciliation"
    report.linked += 1
    return True


def _missing(session: Session, disclosure: Disclosure, report: ReconcileReport) -> None:
    if disclosure.status in (DisclosureStatus.WITHDRAWN, DisclosureStatus.BLOCKED, DisclosureStatus.EXPIRED):
        return
    revisions = _revisions(session, disclosure)
    if not revisions:
        return
    current = revisions[-1]
    if current.action is DisclosureAction.WITHDRAWAL:
        disclosure.status = DisclosureStatus.WITHDRAWN  # the platform holds nothing: withdrawn indeed
        for delivery in _deliveries(session, current):
            if delivery.status is DeliveryStatus.PENDING:
                delivery.status, delivery.error = DeliveryStatus.FAILED, "not needed: the platform holds no such record"
        return
    deliveries = _deliveries(session, current)
    if any(d.status in WAITING for d in deliveries):
        report.already_queued += 1
    elif any(d.status is DeliveryStatus.ACKNOWLEDGED for d in deliveries) or disclosure.status is DisclosureStatus.PUBLISHED:
        add_revision(session, disclosure, DisclosureAction.CORRECTION, dict(current.payload), current.due_date,
                     "missing on the platform (reconciliation): published again")
        disclosure.status = DisclosureStatus.PENDING
        report.republished += 1
    elif disclosure.status is DisclosureStatus.REJECTED:
        return  # waits for a corrected revision; pushing the same content again would be rejected again
    else:
        session.add(Delivery(disclosure_revision_id=current.id, status=DeliveryStatus.PENDING, next_attempt_at=utcnow()))
        report.requeued += 1


def reconcile_credit(engine: Engine, system: Any, secrets: Any, *, progress: WorkProgress | None = None,
                     **adapter_options: Any) -> ReconcileReport:
    """``jnx reconcile credit``: read the registered credit system's holdings through its lines, reconcile."""
    from jnx.adapters.factory import build_adapters

    adapters = build_adapters(system.registration.adapter, secrets, **adapter_options)
    try:
        if not isinstance(adapters.pusher, RestPusher):
            raise ConfigError(f"system {system.id!r} is not a REST credit platform with a push section",
                              hint="reconciliation reads the platform's list API over the same REST lines")
        return reconcile(engine, RestHoldings(adapters.pusher, system.registration.settings), progress=progress)
    finally:
        adapters.close()
