"""双公示 derivation: licence and penalty standard records become disclosures, in the run's transaction.

A run hands every standard record it created or revised to :meth:`DisclosureDeriver.on_stored`
(inside the page's transaction, see :mod:`jnx.exchange.runs`). For each licence or penalty:

1. publication is assessed (:func:`~jnx.exchange.publicity.assess_publication`); a decision the
   policy does not publish gets no disclosure and is counted, never silently dropped;
2. the record goes through the credit system's outbound table (``credit.license`` /
   ``credit.penalty``, which masks natural persons); a record the table refuses makes the disclosure
   ``blocked`` with its problems (field, rule, masked value) until a corrected revision maps cleanly;
   a payload that would still carry an ID number in clear is blocked the same way;
3. the deadline (7 working days, provisional flag and basis) and the display period (公示截止期,
   written into ``CF_GSJZQ`` when the source gave none) are computed;
4. one disclosure per (kind, business key): the first clean mapping is revision 1 (``new``); a later
   different payload a ``correction`` (变更); a licence whose status turns 2 (无效) a ``withdrawal``
   (撤销), due in 3 working days. Every revision gets its idempotency key and its delivery row (the
   outbox) in the same transaction, so none is lost.

Revisions, withdrawals (also by hand: a revoked penalty, 信用修复), recomputed deadlines and expiry
are :mod:`jnx.exchange.disclosure_actions`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from jnx.codesets.validators import check_id_number
from jnx.exchange.disclosure_actions import add_revision, withdraw_disclosure
from jnx.exchange.ingest import StoredRecord
from jnx.exchange.models import (
    Disclosure,
    DisclosureAction,
    DisclosureKind,
    DisclosureRevision,
    DisclosureStatus,
    SystemKind,
)
from jnx.exchange.publicity import (
    DEFAULT_PUBLICATION,
    ORDER_58,
    DisplayPeriodError,
    DisplayPolicy,
    PublicationPolicy,
    SubjectCategory,
    WorkingDays,
    assess_publication,
    disclosure_deadline,
    display_period,
    withdrawal_deadline,
)
from jnx.exchange.publicity import DisclosureKind as RuleKind
from jnx.exchange.registry import RegisteredSystem, SystemRegistry
from jnx.mappings.model import MappingContext, MappingResult
from jnx.security.masking import ID_NUMBER_LIKE, MASK_CHAR, mask_id_number

DEFAULT_TABLES: dict[DisclosureKind, tuple[str, int]] = {
    DisclosureKind.LICENSE: ("credit.license", 2),
    DisclosureKind.PENALTY: ("credit.penalty", 2),
}
KIND_OF_RECORD: dict[str, DisclosureKind] = {"license": DisclosureKind.LICENSE, "penalty": DisclosureKind.PENALTY}
LICENSE_INVALID = "2"  # XK_ZT / license_status 2 = 无效 (注销/撤销/吊销/失效)


class OutboundTable(Protocol):
    """A compiled outbound mapping table (standard record → 双公示 record)."""

    def __call__(self, record: Mapping[str, Any], context: MappingContext | None = None, *, validate: bool = True,
                 today: dt.date = dt.date.max) -> MappingResult: ...


class OutboundTables(Protocol):
    """Where compiled outbound tables come from (:class:`jnx.mappings.registry.TableRegistry`)."""

    def compiled(self, name: str, version: int) -> OutboundTable: ...


@dataclass(frozen=True)
class DisclosureRules:
    """Everything derivation decides with: calendar, policies, outbound tables, the clock's today."""

    calendar: WorkingDays
    tables: OutboundTables
    today: Callable[[], dt.date]
    display: DisplayPolicy = ORDER_58
    publication: PublicationPolicy = DEFAULT_PUBLICATION


@dataclass
class DerivationSummary:
    """What one call did; the lead's demo adds these up."""

    new: int = 0
    corrections: int = 0
    withdrawals: int = 0
    unchanged: int = 0
    blocked: int = 0
    not_published: int = 0
    reasons_not_published: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"new": self.new, "corrections": self.corrections, "withdrawals": self.withdrawals,
                "unchanged": self.unchanged, "blocked": self.blocked, "not_published": self.not_published}


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a disclosure cannot go out (field, rule, message; values already masked)."""

    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def clear_id_numbers(payload: Mapping[str, Any]) -> list[Problem]:
    """Fields of ``payload`` that still hold a valid ID number in clear (the last guard before the outbox)."""
    found = []
    for name, value in payload.items():
        for match in ID_NUMBER_LIKE.findall(str(value)):
            if check_id_number(match.upper()):
                found.append(Problem(name, "personal_data.clear_id_number",
                                     f"{name} holds an ID number in clear ({mask_id_number(match)}); it must be masked or omitted"))
    return found


def _masked_on_purpose(field_name: str, rule: str, payload: Mapping[str, Any]) -> bool:
    """An ID-number check failing on a value the table masked (``370811********0027``) is the masking
    working, not an error: the outbound dictionary checks the full number's form."""
    return rule.startswith("id_number.") and MASK_CHAR in str(payload.get(field_name, ""))


def credit_system(session: Session) -> RegisteredSystem | None:
    """The enabled registered system of kind ``credit`` (the platform disclosures go to), if any."""
    systems = [s for s in SystemRegistry().list(session, enabled_only=True) if s.kind == SystemKind.CREDIT.value]
    return systems[0] if systems else None


def _context(system: RegisteredSystem | None) -> MappingContext:
    if system is None:
        return MappingContext()
    return MappingContext(department_name=system.department, department_credit_code=system.department_credit_code,
                          region_code=system.region, system_name=system.name)


class DisclosureDeriver:
    """Derives and revises disclosures; :meth:`on_stored` is the run's ``StoredHook``."""

    def __init__(self, rules: DisclosureRules) -> None:
        self.rules = rules
        self.summary = DerivationSummary()

    def on_stored(self, session: Session, system: RegisteredSystem, stored: list[StoredRecord]) -> None:
        wanted = [s for s in stored if s.record_type in KIND_OF_RECORD]
        if not wanted:
            return
        tables = self._tables(session)
        known = existing_disclosures(session, [(KIND_OF_RECORD[s.record_type], s.business_key) for s in wanted])
        for record in wanted:
            self.derive(session, record, tables, _context(system), known)
        session.flush()

    def _tables(self, session: Session) -> dict[DisclosureKind, OutboundTable]:
        pinned = dict(DEFAULT_TABLES)
        credit = credit_system(session)
        if credit is not None:
            for kind in DisclosureKind:
                ref = credit.mappings.get(kind.value)
                if ref and "@" in ref and ref.split("@", 1)[1].isdigit():
                    pinned[kind] = (ref.split("@", 1)[0], int(ref.split("@", 1)[1]))
        return {kind: self.rules.tables.compiled(name, version) for kind, (name, version) in pinned.items()}

    # ------------------------------------------------------------------ one record
    def derive(self, session: Session, record: StoredRecord, tables: Mapping[DisclosureKind, OutboundTable],
               context: MappingContext, known: dict[tuple[DisclosureKind, str], Disclosure] | None = None) -> Disclosure | None:
        """Derive or revise the disclosure of one stored record; ``known`` caches the page's disclosures."""
        kind = KIND_OF_RECORD[record.record_type]
        if known is None:
            known = existing_disclosures(session, [(kind, record.business_key)])
        data = record.data
        today = self.rules.today()
        decision = _date(data.get("decision_date"))
        categories = [str(c) for c in data.get("penalty_types") or []] if kind is DisclosureKind.PENALTY else []
        try:
            subject = SubjectCategory(str(data.get("party_type")))
        except ValueError:
            subject = SubjectCategory.ORGANIZATION
        verdict = assess_publication(RuleKind(kind.value), categories, subject,
                                     fine_wan=_decimal(data.get("fine_amount")), policy=self.rules.publication)
        disclosure = known.get((kind, record.business_key))
        if not verdict.publish:
            self.summary.not_published += 1
            self.summary.reasons_not_published.append(f"{kind.value} {record.business_key}: {verdict.reason}")
            if disclosure is not None and disclosure.status is not DisclosureStatus.WITHDRAWN:
                self._withdraw(session, disclosure, f"no longer published: {verdict.reason}", today)
            return disclosure
        result = tables[kind](data, context, today=today)
        payload = dict(result.record)
        problems = [Problem(i.field, i.rule, str(i)) for i in result.issues if not _masked_on_purpose(i.field, i.rule, payload)]
        problems += clear_id_numbers(payload)
        period = None
        if decision is None:
            problems.append(Problem("decision_date", "decision_date.missing", "no decision date: no deadline can be counted"))
        else:
            try:
                period = display_period(RuleKind(kind.value), categories, decision, valid_until=_date(data.get("valid_to")),
                                        policy=self.rules.display)
            except DisplayPeriodError as exc:
                problems.append(Problem("publicity_until", "display_period", str(exc)))
        if period is not None and kind is DisclosureKind.PENALTY and not payload.get("CF_GSJZQ"):
            payload["CF_GSJZQ"] = period.longest_end.isoformat()
        if disclosure is None:
            if decision is None:
                self.summary.blocked += 1
                return None  # nothing to key a deadline on; the standard record's own checks report it
            if not problems and kind is DisclosureKind.LICENSE and str(data.get("license_status")) == LICENSE_INVALID:
                self.summary.not_published += 1
                self.summary.reasons_not_published.append(f"license {record.business_key}: invalid (status 2) when first seen")
                return None
            deadline = disclosure_deadline(decision, self.rules.calendar)
            disclosure = Disclosure(kind=kind, standard_record_id=record.record_id, business_key=record.business_key,
                                    status=DisclosureStatus.PENDING, decision_date=decision, deadline=deadline.date,
                                    deadline_provisional=deadline.provisional, deadline_basis=deadline.basis,
                                    display_until=period.longest_end if period else None, current_revision=0)
            session.add(disclosure)
            known[(kind, record.business_key)] = disclosure
        elif decision is not None and decision != disclosure.decision_date:
            deadline = disclosure_deadline(decision, self.rules.calendar)
            disclosure.decision_date, disclosure.deadline = decision, deadline.date
            disclosure.deadline_provisional, disclosure.deadline_basis = deadline.provisional, deadline.basis
        if period is not None:
            disclosure.display_until = period.longest_end
        if problems:
            if disclosure.current_revision == 0 or disclosure.status is DisclosureStatus.BLOCKED:
                disclosure.status = DisclosureStatus.BLOCKED
            disclosure.problems = [p.as_dict() for p in problems]
            self.summary.blocked += 1
            return disclosure
        if kind is DisclosureKind.LICENSE and str(data.get("license_status")) == LICENSE_INVALID:
            if disclosure.status is not DisclosureStatus.WITHDRAWN:
                self._withdraw(session, disclosure, "许可当前状态 2（无效）: licence revoked, cancelled or expired", today)
            return disclosure
        latest = _latest(session, disclosure) if disclosure.current_revision else None
        if latest is not None and latest.action is not DisclosureAction.WITHDRAWAL and latest.payload == payload:
            self.summary.unchanged += 1
            if disclosure.status is DisclosureStatus.BLOCKED:
                disclosure.status, disclosure.problems = DisclosureStatus.PENDING, None
            return disclosure
        if latest is None:
            self._add_revision(session, disclosure, DisclosureAction.NEW, payload, disclosure.deadline, None)
            disclosure.status, disclosure.problems = DisclosureStatus.PENDING, None
            self.summary.new += 1
        else:
            due = withdrawal_deadline(today, self.rules.calendar).date
            self._add_revision(session, disclosure, DisclosureAction.CORRECTION, payload, due,
                               f"standard record revised (revision {record.revision})")
            if disclosure.status is not DisclosureStatus.PUBLISHED:
                disclosure.status, disclosure.problems = DisclosureStatus.PENDING, None
            else:
                disclosure.problems = None
            self.summary.corrections += 1
        return disclosure

    # ------------------------------------------------------------------ revisions
    def _add_revision(self, session: Session, disclosure: Disclosure, action: DisclosureAction, payload: dict[str, Any],
                      due: dt.date | None, reason: str | None) -> DisclosureRevision:
        return add_revision(session, disclosure, action, payload, due, reason)

    def _withdraw(self, session: Session, disclosure: Disclosure, reason: str, today: dt.date) -> None:
        withdraw_disclosure(session, disclosure, reason, withdrawal_deadline(today, self.rules.calendar).date)
        self.summary.withdrawals += 1


def existing_disclosures(session: Session, keys: list[tuple[DisclosureKind, str]]) -> dict[tuple[DisclosureKind, str], Disclosure]:
    """The disclosures of these (kind, business key) pairs, in one query per kind and 500 keys."""
    found: dict[tuple[DisclosureKind, str], Disclosure] = {}
    for kind in {k for k, _ in keys}:
        wanted = sorted({key for k, key in keys if k is kind})
        for start in range(0, len(wanted), 500):
            query = select(Disclosure).where(Disclosure.kind == kind, Disclosure.business_key.in_(wanted[start:start + 500]))
            found.update({(kind, d.business_key): d for d in session.scalars(query)})
    return found


def _latest(session: Session, disclosure: Disclosure) -> DisclosureRevision | None:
    return session.scalars(
        select(DisclosureRevision).where(DisclosureRevision.disclosure_id == disclosure.id)
        .order_by(DisclosureRevision.revision.desc()).limit(1)
    ).one_or_none()


def derive_hook(rules: DisclosureRules) -> tuple[Callable[[Session, RegisteredSystem, list[StoredRecord]], None], DerivationSummary]:
    """The run's ``on_stored`` hook and the summary it fills (for ``jnx demo``)."""
    deriver = DisclosureDeriver(rules)
    return deriver.on_stored, deriver.summary


__all__ = [
    "DerivationSummary", "DisclosureDeriver", "DisclosureRules", "Problem", "clear_id_numbers", "credit_system",
    "derive_hook", "existing_disclosures",
]
