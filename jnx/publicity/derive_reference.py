"""The reference 双公示 derivation: one record at a time through the ORM's unit of work.

This is how :mod:`jnx.publicity.derive` derived before it planned each record without the
database and wrote a page's disclosures, revisions and deliveries in bulk. It is kept, unchanged in
behaviour, as the reference the bulk derivation is checked against
(``tests/exchange/test_disclosures_agreement.py``), as :mod:`jnx.standard.reference` is for the
compiled record check; :meth:`jnx.publicity.derive.DisclosureDeriver.derive` (one record, outside
a run) still goes through it. It costs ~650 µs per record, most of it in ORM flushes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jnx.exchange.ingest import StoredRecord
from jnx.exchange.registry import RegisteredSystem
from jnx.mappings.model import MappingContext
from jnx.publicity.actions import add_revision, withdraw_disclosure
from jnx.publicity.derive import (
    KIND_OF_RECORD,
    PROCEDURES,
    SECTORS,
    DerivationSummary,
    DisclosureRules,
    OutboundTable,
    Problem,
    _date,
    _decimal,
    _masked_on_purpose,
    context_of,
    correction_reason,
    existing_disclosures,
    invalid_licence,
    outbound_tables,
    review_notes,
    revocation,
    split_review,
    unmasked_id_numbers,
)
from jnx.publicity.enforcement import track as track_enforcement
from jnx.publicity.rules import DisclosureKind as RuleKind
from jnx.publicity.rules import (
    DisplayPeriodError,
    SubjectCategory,
    assess_publication,
    disclosure_deadline,
    display_period,
    withdrawal_deadline,
)
from jnx.store.models import (
    Disclosure,
    DisclosureAction,
    DisclosureKind,
    DisclosureRevision,
    DisclosureStatus,
)


class ReferenceDeriver:
    """The per-record, ORM unit-of-work derivation (kept as the reference the bulk one must agree with)."""

    def __init__(self, rules: DisclosureRules, summary: DerivationSummary | None = None) -> None:
        self.rules = rules
        self.summary = summary if summary is not None else DerivationSummary()

    def on_stored(self, session: Session, system: RegisteredSystem, stored: list[StoredRecord]) -> None:
        track_enforcement(session, stored, self.rules.calendar, self.rules.today())  # 执法公示 of 行政强制 / 行政检查
        wanted = [s for s in stored if s.record_type in KIND_OF_RECORD]
        if not wanted:
            return
        tables = self._tables(session)
        known = existing_disclosures(session, [(KIND_OF_RECORD[s.record_type], s.business_key) for s in wanted])
        for record in wanted:
            self.derive(session, record, tables, context_of(system), known)
        session.flush()

    def _tables(self, session: Session) -> dict[DisclosureKind, OutboundTable]:
        return outbound_tables(session, self.rules)

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
        changed_on = _date(data.get("change_date")) if data.get("change_date") else None
        revoked = revocation(data)
        verdict = assess_publication(RuleKind(kind.value), categories, subject, fine_wan=_decimal(data.get("fine_amount")),
                                     policy=self.rules.publication, procedure=PROCEDURES.get(data.get("procedure")))  # type: ignore[arg-type]
        disclosure = known.get((kind, record.business_key))
        if disclosure is not None and disclosure.repaired_on is not None:
            self.summary.unchanged += 1  # 信用修复 granted: later source edits revise the record, not the publication
            return disclosure
        why_not = revoked if revoked is not None else None if verdict.publish else verdict.reason
        if why_not is not None:
            self.summary.not_published += 1
            self.summary.reasons_not_published.append(f"{kind.value} {record.business_key}: {why_not}")
            if disclosure is not None and disclosure.status is not DisclosureStatus.WITHDRAWN:
                self._withdraw(session, disclosure, f"no longer published: {why_not}", changed_on or today)
            return disclosure
        result = tables[kind](data, context, today=today)
        payload = dict(result.record)
        problems = [Problem(i.field, i.rule, str(i)) for i in result.issues if not _masked_on_purpose(i.field, i.rule, payload)]
        problems += unmasked_id_numbers(payload, data, subject is SubjectCategory.NATURAL_PERSON)
        problems, review = split_review(problems)
        period = None
        if decision is None:
            problems.append(Problem("decision_date", "decision_date.missing", "no decision date: no deadline can be counted"))
        else:
            try:
                sector = SECTORS.get(data.get("sector")) if kind is DisclosureKind.PENALTY else None  # type: ignore[arg-type]
                period = display_period(RuleKind(kind.value), categories, decision, valid_until=_date(data.get("valid_to")),
                                        sector=sector, policy=self.rules.display)
            except DisplayPeriodError as exc:
                problems.append(Problem("publicity_until", "display_period", str(exc)))
        if period is not None and kind is DisclosureKind.PENALTY and not payload.get("CF_GSJZQ"):
            payload["CF_GSJZQ"] = period.longest_end.isoformat()
        if disclosure is None:
            if decision is None:
                self.summary.blocked += 1
                return None  # nothing to key a deadline on; the standard record's own checks report it
            if not problems and invalid_licence(kind, data, self.rules.publication):
                self.summary.not_published += 1
                self.summary.reasons_not_published.append(f"license {record.business_key}: invalid (status 2) when first seen")
                return None
            deadline = disclosure_deadline(decision, self.rules.calendar)
            disclosure = Disclosure(kind=kind, standard_record_id=record.record_id, business_key=record.business_key,
                                    status=DisclosureStatus.PENDING, decision_date=decision, deadline=deadline.date,
                                    deadline_provisional=deadline.provisional, deadline_basis=deadline.basis,
                                    display_until=period.longest_end if period else None, current_revision=0,
                                    display_shortest_until=period.shortest_end if period else None)
            session.add(disclosure)
            known[(kind, record.business_key)] = disclosure
        elif decision is not None and decision != disclosure.decision_date:
            deadline = disclosure_deadline(decision, self.rules.calendar)
            disclosure.decision_date, disclosure.deadline = decision, deadline.date
            disclosure.deadline_provisional, disclosure.deadline_basis = deadline.provisional, deadline.basis
        if period is not None:
            disclosure.display_until, disclosure.display_shortest_until = period.longest_end, period.shortest_end
        if problems:
            if disclosure.current_revision == 0 or disclosure.status is DisclosureStatus.BLOCKED:
                disclosure.status = DisclosureStatus.BLOCKED
            disclosure.problems = [p.as_dict() for p in problems]
            self.summary.blocked += 1
            return disclosure
        if invalid_licence(kind, data, self.rules.publication):
            if disclosure.status is not DisclosureStatus.WITHDRAWN:
                self._withdraw(session, disclosure, "许可当前状态 2（无效）: licence revoked, cancelled or expired", today)
            return disclosure
        latest = _latest(session, disclosure) if disclosure.current_revision else None
        if latest is not None and latest.action is not DisclosureAction.WITHDRAWAL and latest.payload == payload:
            self.summary.unchanged += 1
            if disclosure.status is DisclosureStatus.BLOCKED:
                disclosure.status, disclosure.problems = DisclosureStatus.PENDING, None
            disclosure.review = review_notes(review, disclosure.current_revision)
            return disclosure
        if latest is None:
            self._add_revision(session, disclosure, DisclosureAction.NEW, payload, disclosure.deadline, None)
            disclosure.status, disclosure.problems = DisclosureStatus.PENDING, None
            self.summary.new += 1
        else:
            due = withdrawal_deadline(changed_on or today, self.rules.calendar).date
            self._add_revision(session, disclosure, DisclosureAction.CORRECTION, payload, due, correction_reason(record))
            if disclosure.status is not DisclosureStatus.PUBLISHED:
                disclosure.status, disclosure.problems = DisclosureStatus.PENDING, None
            else:
                disclosure.problems = None
            self.summary.corrections += 1
        disclosure.review = review_notes(review, disclosure.current_revision)
        return disclosure

    # ------------------------------------------------------------------ revisions
    def _add_revision(self, session: Session, disclosure: Disclosure, action: DisclosureAction, payload: dict[str, Any],
                      due: dt.date | None, reason: str | None) -> DisclosureRevision:
        return add_revision(session, disclosure, action, payload, due, reason)

    def _withdraw(self, session: Session, disclosure: Disclosure, reason: str, today: dt.date) -> None:
        withdraw_disclosure(session, disclosure, reason, withdrawal_deadline(today, self.rules.calendar).date)
        self.summary.withdrawals += 1


def _latest(session: Session, disclosure: Disclosure) -> DisclosureRevision | None:
    if disclosure.id is None:
        # Created earlier in this page: without its id the query would look for ``disclosure_id IS NULL``
        # and find nothing, and a record stored twice in one page got a second ``new`` revision.
        session.flush()
    return session.scalars(
        select(DisclosureRevision).where(DisclosureRevision.disclosure_id == disclosure.id)
        .order_by(DisclosureRevision.revision.desc()).limit(1)
    ).one_or_none()


__all__ = ["ReferenceDeriver"]
