"""双公示 derivation: licence and penalty standard records become disclosures, in the run's transaction.

A run hands every standard record it created or revised to :meth:`DisclosureDeriver.on_stored`
(inside the page's transaction, see :mod:`jnx.exchange.runs`). For each licence or penalty:

1. publication is assessed (:func:`~jnx.publicity.rules.assess_publication`); a decision the
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

Steps 1–3 are a :class:`Plan` per record, made without the database; step 4 is a page's
:class:`PageWriter`, which reads the page's disclosures once, applies the plans in memory in the
records' order and writes them in bulk (docs/disclosures.md, "How a page is written"). The
per-record ORM derivation it replaced is :mod:`jnx.publicity.derive_reference`.

Revisions, withdrawals (also by hand: a revoked penalty, 信用修复), recomputed deadlines and expiry
are :mod:`jnx.publicity.actions`.
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
from jnx.exchange.ingest import StoredRecord
from jnx.exchange.registry import RegisteredSystem, SystemRegistry
from jnx.mappings.model import MappingContext, MappingResult
from jnx.publicity.actions import (
    DISCLOSURES,
    HELD_COLUMNS,
    REVISIONS,
    UPDATED_COLUMNS,
    disclosure_rows,
    idempotency_key,
    insert_deliveries,
    insert_with_ids,
    latest_revisions,
    supersede_many,
    update_disclosures,
    withdraw_disclosure,
)
from jnx.publicity.calendar import Deadline
from jnx.publicity.changes import revocation
from jnx.publicity.enforcement import track as track_enforcement
from jnx.publicity.free_text import ADDRESS_REVIEW, address_reviews, mask_payload_text
from jnx.publicity.rules import (
    DEFAULT_PUBLICATION,
    ORDER_58,
    DisplayPeriodError,
    DisplayPolicy,
    InvalidLicencePublication,
    Procedure,
    PublicationPolicy,
    Sector,
    SubjectCategory,
    WorkingDays,
    assess_publication,
    disclosure_deadline,
    display_period,
    withdrawal_deadline,
)
from jnx.publicity.rules import DisclosureKind as RuleKind
from jnx.security.masking import ID_NUMBER_LIKE, MASK_CHAR, mask_id_number
from jnx.store.models import (
    Disclosure,
    DisclosureAction,
    DisclosureKind,
    DisclosureStatus,
    SystemKind,
    utcnow,
)

DEFAULT_TABLES: dict[DisclosureKind, tuple[str, int]] = {
    DisclosureKind.LICENSE: ("credit.license", 2),
    DisclosureKind.PENALTY: ("credit.penalty", 2),
}
KIND_OF_RECORD: dict[str, DisclosureKind] = {"license": DisclosureKind.LICENSE, "penalty": DisclosureKind.PENALTY}
LICENSE_INVALID = "2"  # XK_ZT / license_status 2 = 无效 (注销/撤销/吊销/失效)
PERIODS_KEPT = 20_000  # display periods a deriver remembers (a few MB) before it starts again
SECTORS = {s.value: s for s in Sector}
PROCEDURES = {p.value: p for p in Procedure}


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
        text = value if type(value) is str else str(value)
        if len(text) < 18:  # no room for an ID number: most fields, skipped without a search
            continue
        for match in ID_NUMBER_LIKE.findall(text):
            if check_id_number(match.upper()):
                found.append(Problem(name, "personal_data.clear_id_number",
                                     f"{name} holds an ID number in clear ({mask_id_number(match)}); it must be masked or omitted"))
    return found


def invalid_licence(kind: DisclosureKind, data: Mapping[str, Any], policy: PublicationPolicy) -> bool:
    """A licence whose status is 2 (无效) that the policy withdraws (``invalid_licences: withdrawn``); under the
    default (``corrected``) its status is one more field of a correction."""
    return (kind is DisclosureKind.LICENSE and policy.invalid_licences is InvalidLicencePublication.WITHDRAWN
            and str(data.get("license_status")) == LICENSE_INVALID)


def unmasked_id_numbers(payload: dict[str, Any], data: Mapping[str, Any], natural_person: bool) -> list[Problem]:
    """Mask the free text of ``payload`` (:mod:`jnx.publicity.free_text`), then the last guard: ID numbers
    still in clear. An organisation's text is masked only when the guard finds one in it (most have none:
    the search is the guard's own), a natural person's always (names, phones, addresses have no guard).
    A masked address adds an ``ADDRESS_REVIEW`` finding: no obstacle, published masked and kept for review."""
    addressed: list[tuple[str, bool]] = []
    if natural_person:
        addressed = mask_payload_text(payload, data, True)
    found = clear_id_numbers(payload)
    if found and not natural_person:
        mask_payload_text(payload, data, False)
        found = clear_id_numbers(payload)
    return found + [Problem(r["field"], r["rule"], r["message"]) for r in address_reviews(payload, addressed)]


def split_review(problems: list[Problem]) -> tuple[list[Problem], list[dict[str, str]] | None]:
    """(what stops a disclosure, what only asks for review — :data:`ADDRESS_REVIEW` findings — or None)."""
    if not any(p.rule == ADDRESS_REVIEW for p in problems):
        return problems, None
    return [p for p in problems if p.rule != ADDRESS_REVIEW], [p.as_dict() for p in problems if p.rule == ADDRESS_REVIEW]


def review_notes(review: list[dict[str, str]] | None, revision: int) -> list[dict[str, Any]] | None:
    """``disclosures.review`` of a disclosure whose current revision is ``revision``."""
    return [{**note, "revision": revision} for note in review] if review else None


def _masked_on_purpose(field_name: str, rule: str, payload: Mapping[str, Any]) -> bool:
    """An ID-number check failing on a value the table masked (``370811********0027``) is the masking
    working, not an error: the outbound dictionary checks the full number's form."""
    return rule.startswith("id_number.") and MASK_CHAR in str(payload.get(field_name, ""))


def credit_system(session: Session) -> RegisteredSystem | None:
    """The enabled registered system of kind ``credit`` (the platform disclosures go to), if any."""
    systems = [s for s in SystemRegistry().list(session, enabled_only=True) if s.kind == SystemKind.CREDIT.value]
    return systems[0] if systems else None


def context_of(system: RegisteredSystem | None) -> MappingContext:
    """The mapping context of the outbound tables: the source system's department and region."""
    if system is None:
        return MappingContext()
    return MappingContext(department_name=system.department, department_credit_code=system.department_credit_code,
                          region_code=system.region, system_name=system.name)


def pinned_tables(session: Session) -> dict[DisclosureKind, tuple[str, int]]:
    """The outbound table (name, version) of each kind: the credit system's pinned ``name@version`` or the default."""
    pinned = dict(DEFAULT_TABLES)
    credit = credit_system(session)
    if credit is not None:
        for kind in DisclosureKind:
            ref = credit.mappings.get(kind.value)
            if ref and "@" in ref and ref.split("@", 1)[1].isdigit():
                pinned[kind] = (ref.split("@", 1)[0], int(ref.split("@", 1)[1]))
    return pinned


def outbound_tables(session: Session, rules: DisclosureRules) -> dict[DisclosureKind, OutboundTable]:
    """The compiled outbound table of each kind (:func:`pinned_tables`)."""
    return {kind: rules.tables.compiled(name, version) for kind, (name, version) in pinned_tables(session).items()}


@dataclass(slots=True)
class Plan:
    """What one stored record asks of its disclosure, decided without the database."""

    kind: DisclosureKind
    record: StoredRecord
    decision: dt.date | None
    published: str | None  # None, or why the policy does not publish it
    payload: dict[str, Any]
    problems: list[Problem]
    display_until: dt.date | None  # the display period's longest end, when it could be counted
    invalid: bool  # a licence whose status is 2 (无效)
    changed_on: dt.date | None = None  # the source's change date (变更/撤销…): a revision's 3 working days count from it
    shortest_until: dt.date | None = None  # the display period's shortest end (信用修复 admissible after it)


Signature = tuple[tuple[str, str, int, str], ...]


def table_signature(tables: Mapping[DisclosureKind, OutboundTable]) -> Signature:
    """Which outbound tables a plan is made with: kind, name, version and content hash of each."""
    return tuple(sorted((kind.value, t.ref.name, t.ref.version, t.ref.content_hash)  # type: ignore[attr-defined]
                        for kind, t in tables.items()))


def plan_from_ahead(record: StoredRecord, signature: Signature, today: dt.date) -> Plan | None:
    """The plan a mapping helper made for ``record`` (:mod:`jnx.publicity.ahead`), if it was
    made with these outbound tables on this day; None: the deriver plans the record itself."""
    made = record.ahead
    if made.__class__ is not tuple or len(made) != 11 or made[0] != signature or made[1] != today:
        return None
    return Plan(made[2], record, *made[3:])


@dataclass(slots=True)
class Held:
    """A disclosure as the page knows it: read once, changed in memory, written in bulk at the end."""

    kind: DisclosureKind
    business_key: str
    standard_record_id: int
    status: DisclosureStatus
    decision_date: dt.date
    deadline: dt.date | None
    deadline_provisional: bool
    deadline_basis: str | None
    display_until: dt.date | None
    current_revision: int
    problems: list[Any] | None
    display_shortest_until: dt.date | None
    repaired_on: dt.date | None  # 信用修复 granted: the publication no longer follows the source
    review: list[Any] | None = None  # findings to review in what went out (0012)
    id: int | None = None  # None until the page inserts it
    latest: tuple[DisclosureAction, dict[str, Any]] | None = None  # the newest revision's action and payload
    changed: bool = False

    def update_row(self) -> dict[str, Any]:
        return {"id": self.id, **{name: getattr(self, name) for name in UPDATED_COLUMNS}}

    def insert_row(self, now: dt.datetime) -> dict[str, Any]:
        return {name: getattr(self, name) for name in HELD_COLUMNS} | {"created_at": now, "updated_at": now}


class DisclosureDeriver:
    """Derives and revises disclosures; :meth:`on_stored` is the run's ``StoredHook``.

    A page is derived in two halves: :meth:`plan` decides each record without the database
    (publication, outbound mapping, problems, display period), then a :class:`PageWriter` applies
    the plans to the page's disclosures in memory, in the records' order, and writes them in bulk."""

    def __init__(self, rules: DisclosureRules) -> None:
        self.rules = rules
        self.summary = DerivationSummary()
        #: Display periods' (shortest, longest) ends (or why none) by kind, categories, decision and
        #: validity or sector: a pure function of the rules' policy, so kept across pages.
        self.periods: dict[tuple[Any, ...], tuple[dt.date, dt.date] | str] = {}

    def on_stored(self, session: Session, system: RegisteredSystem, stored: list[StoredRecord]) -> None:
        track_enforcement(session, stored, self.rules.calendar, self.rules.today())  # 执法公示 of 行政强制 / 行政检查
        wanted = [s for s in stored if s.record_type in KIND_OF_RECORD]
        if not wanted:
            return
        tables = outbound_tables(session, self.rules)
        context, today = context_of(system), self.rules.today()
        if len(self.periods) > PERIODS_KEPT:
            self.periods.clear()
        signature = table_signature(tables)  # plans made ahead in mapping helpers count if made alike
        plans = [plan_from_ahead(record, signature, today) or self.plan(record, tables, context, today) for record in wanted]
        writer = PageWriter(session, self.rules, self.summary, today)
        writer.load([(plan.kind, plan.record.business_key) for plan in plans])
        for plan in plans:
            writer.apply(plan)
        writer.flush()

    # ------------------------------------------------------------------ one record, no database
    def plan(self, record: StoredRecord, tables: Mapping[DisclosureKind, OutboundTable], context: MappingContext,
             today: dt.date, periods: dict[tuple[Any, ...], tuple[dt.date, dt.date] | str] | None = None) -> Plan:
        """Publication, outbound record, problems and display period of one record; ``periods``
        remembers display periods (the deriver's own, :attr:`periods`, unless another is given)."""
        if periods is None:
            periods = self.periods
        kind = KIND_OF_RECORD[record.record_type]
        data = record.data
        decision = _date(data.get("decision_date"))
        categories = [str(c) for c in data.get("penalty_types") or []] if kind is DisclosureKind.PENALTY else []
        try:
            subject = SubjectCategory(str(data.get("party_type")))
        except ValueError:
            subject = SubjectCategory.ORGANIZATION
        changed_on = _date(data.get("change_date")) if data.get("change_date") else None
        invalid = invalid_licence(kind, data, self.rules.publication)
        revoked = revocation(data)
        if revoked is not None:
            return Plan(kind, record, decision, revoked, {}, [], None, invalid, changed_on)
        verdict = assess_publication(RuleKind(kind.value), categories, subject, fine_wan=_decimal(data.get("fine_amount")),
                                     policy=self.rules.publication, procedure=PROCEDURES.get(data.get("procedure")))  # type: ignore[arg-type]
        if not verdict.publish:
            return Plan(kind, record, decision, verdict.reason, {}, [], None, invalid, changed_on)
        result = tables[kind](data, context, today=today)
        payload = dict(result.record)
        problems = [Problem(i.field, i.rule, str(i)) for i in result.issues if not _masked_on_purpose(i.field, i.rule, payload)]
        problems += unmasked_id_numbers(payload, data, subject is SubjectCategory.NATURAL_PERSON)
        end = shortest = None
        if decision is None:
            problems.append(Problem("decision_date", "decision_date.missing", "no decision date: no deadline can be counted"))
        else:
            valid_until = _date(data.get("valid_to"))
            sector = SECTORS.get(data.get("sector")) if kind is DisclosureKind.PENALTY else None  # type: ignore[arg-type]
            # a penalty's period depends on its set of categories and its sector, a licence's on its validity
            key = (kind, frozenset(categories), decision, valid_until if kind is DisclosureKind.LICENSE else sector)
            found = periods.get(key)
            if found is None:
                try:
                    period = display_period(RuleKind(kind.value), categories, decision, valid_until=valid_until, sector=sector,
                                            policy=self.rules.display)
                    found = (period.shortest_end, period.longest_end)
                except DisplayPeriodError as exc:
                    found = str(exc)
                periods[key] = found
            if isinstance(found, str):
                problems.append(Problem("publicity_until", "display_period", found))
            else:
                shortest, end = found
        if end is not None and kind is DisclosureKind.PENALTY and not payload.get("CF_GSJZQ"):
            payload["CF_GSJZQ"] = end.isoformat()
        return Plan(kind, record, decision, None, payload, problems, end, invalid, changed_on, shortest)


class PageWriter:
    """A page's disclosures in memory: :meth:`load` reads them (and their newest revisions) in two
    queries, :meth:`apply` follows one plan as the reference derivation does, :meth:`flush` writes
    the new disclosures, revisions and deliveries with ``INSERT`` executemany, then the supersedes
    and the changed disclosures with ``UPDATE`` executemany. Withdrawals are rare: they flush what
    is pending and go through :func:`~jnx.publicity.actions.withdraw_disclosure` (the ORM)."""

    def __init__(self, session: Session, rules: DisclosureRules, summary: DerivationSummary, today: dt.date) -> None:
        self.session, self.rules, self.summary, self.today = session, rules, summary, today
        self.held: dict[tuple[DisclosureKind, str], Held] = {}
        self.deadlines: dict[dt.date, Deadline] = {}  # by decision date: a page has few
        self._due: dict[dt.date, dt.date] = {}  # 3 working days after a day (change or notice), by day
        self._new: list[Held] = []  # inserted at the next flush, with their state by then
        self._revisions: list[tuple[Held, dict[str, Any]]] = []
        self._superseding: list[tuple[Held, int]] = []

    def load(self, keys: list[tuple[DisclosureKind, str]]) -> None:
        for kind in dict.fromkeys(k for k, _ in keys):
            wanted = list(dict.fromkeys(key for k, key in keys if k is kind))
            for row in disclosure_rows(self.session, kind, wanted):
                held = Held(*row[1:], id=row[0])  # type: ignore[call-arg]  # the columns of disclosure_rows, in Held's order
                self.held[(kind, held.business_key)] = held
        revised = {h.id: h for h in self.held.values() if h.current_revision and h.id is not None}
        for disclosure_id, latest in latest_revisions(self.session, list(revised)).items():
            revised[disclosure_id].latest = latest

    def _due_after(self, start: dt.date | None) -> dt.date:
        """A withdrawal's or correction's due date: 3 working days after ``start`` (the source's change
        date), or after today when the source gives none (《行政处罚法》第四十八条)."""
        day = start or self.today
        found = self._due.get(day)
        if found is None:
            found = self._due[day] = withdrawal_deadline(day, self.rules.calendar).date
        return found

    def _deadline(self, decision: dt.date) -> Deadline:
        found = self.deadlines.get(decision)
        if found is None:
            found = self.deadlines[decision] = disclosure_deadline(decision, self.rules.calendar)
        return found

    # ------------------------------------------------------------------ one plan, in memory
    def apply(self, plan: Plan) -> None:  # noqa: C901 — the reference's branches, one for one
        kind, key, decision, summary = plan.kind, plan.record.business_key, plan.decision, self.summary
        held = self.held.get((kind, key))
        if held is not None and held.repaired_on is not None:
            summary.unchanged += 1  # 信用修复 granted: later source edits revise the record, not the publication
            return
        if plan.published is not None:
            summary.not_published += 1
            summary.reasons_not_published.append(f"{kind.value} {key}: {plan.published}")
            if held is not None and held.status is not DisclosureStatus.WITHDRAWN:
                self._withdraw(held, f"no longer published: {plan.published}", plan.changed_on)
            return
        problems, review = split_review(plan.problems)
        if held is None:
            if decision is None:
                summary.blocked += 1
                return  # nothing to key a deadline on; the standard record's own checks report it
            if not problems and plan.invalid:
                summary.not_published += 1
                summary.reasons_not_published.append(f"license {key}: invalid (status 2) when first seen")
                return
            deadline = self._deadline(decision)
            held = Held(kind, key, plan.record.record_id, DisclosureStatus.PENDING, decision, deadline.date,
                        deadline.provisional, deadline.basis, plan.display_until, 0, None, plan.shortest_until, None)
            self.held[(kind, key)] = held
            self._new.append(held)
        elif decision is not None and decision != held.decision_date:
            deadline = self._deadline(decision)
            held.decision_date, held.deadline = decision, deadline.date
            held.deadline_provisional, held.deadline_basis = deadline.provisional, deadline.basis
            held.changed = True
        if plan.display_until is not None and held.display_until != plan.display_until:
            held.display_until, held.changed = plan.display_until, True
        if plan.shortest_until is not None and held.display_shortest_until != plan.shortest_until:
            held.display_shortest_until, held.changed = plan.shortest_until, True
        if problems:
            if held.current_revision == 0 or held.status is DisclosureStatus.BLOCKED:
                held.status = DisclosureStatus.BLOCKED
            held.problems, held.changed = [p.as_dict() for p in problems], True
            summary.blocked += 1
            return
        if plan.invalid:
            if held.status is not DisclosureStatus.WITHDRAWN:
                self._withdraw(held, "许可当前状态 2（无效）: licence revoked, cancelled or expired")
            return
        latest = held.latest if held.current_revision else None
        if latest is not None and latest[0] is not DisclosureAction.WITHDRAWAL and latest[1] == plan.payload:
            summary.unchanged += 1
            if held.status is DisclosureStatus.BLOCKED:
                held.status, held.problems, held.changed = DisclosureStatus.PENDING, None, True
            self._review(held, review)
            return
        if latest is None:
            self._add_revision(held, DisclosureAction.NEW, plan.payload, held.deadline, None)
            held.status, held.problems = DisclosureStatus.PENDING, None
            summary.new += 1
        else:
            self._add_revision(held, DisclosureAction.CORRECTION, plan.payload, self._due_after(plan.changed_on),
                               correction_reason(plan.record))
            if held.status is not DisclosureStatus.PUBLISHED:
                held.status = DisclosureStatus.PENDING
            held.problems = None
            summary.corrections += 1
        self._review(held, review)

    def _review(self, held: Held, review: list[dict[str, str]] | None) -> None:
        notes = review_notes(review, held.current_revision)
        if held.review != notes:
            held.review, held.changed = notes, True

    def _add_revision(self, held: Held, action: DisclosureAction, payload: dict[str, Any], due: dt.date | None,
                      reason: str | None) -> None:
        """:func:`~jnx.publicity.actions.add_revision`, written at :meth:`flush`."""
        number = held.current_revision + 1
        self._revisions.append((held, {
            "revision": number, "action": action, "payload": payload,
            "idempotency_key": idempotency_key(held.kind, held.business_key, number, payload),
            "due_date": due, "reason": reason}))
        if number > 1:
            self._superseding.append((held, number))
        held.current_revision, held.latest, held.changed = number, (action, payload), True

    def _withdraw(self, held: Held, reason: str, start: dt.date | None = None) -> None:
        self.flush()
        disclosure = self.session.get(Disclosure, held.id, populate_existing=True)
        assert disclosure is not None
        revision = withdraw_disclosure(self.session, disclosure, reason, self._due_after(start))
        self.session.flush()
        held.status, held.problems, held.current_revision = disclosure.status, disclosure.problems, disclosure.current_revision
        if revision is not None:
            held.latest = (revision.action, revision.payload)
        self.summary.withdrawals += 1

    # ------------------------------------------------------------------ the page's writes
    def flush(self) -> None:
        """Write what the plans applied so far changed: inserts, supersedes, updates, in bulk."""
        session, now = self.session, utcnow()
        for held, disclosure_id in zip(self._new, insert_with_ids(session, DISCLOSURES, [h.insert_row(now) for h in self._new]),
                                       strict=True):
            held.id, held.changed = disclosure_id, False
        rows = [{"disclosure_id": held.id, **row, "created_at": now} for held, row in self._revisions]
        insert_deliveries(session, insert_with_ids(session, REVISIONS, rows), now)
        supersede_many(session, [(held.id, number) for held, number in self._superseding], now)  # type: ignore[misc]
        new = {id(h) for h in self._new}
        update_disclosures(session, [h.update_row() for h in self.held.values() if h.changed and id(h) not in new], now)
        for held in self.held.values():
            held.changed = False
        self._new, self._revisions, self._superseding = [], [], []


def correction_reason(record: StoredRecord) -> str:
    """Why a correction revision exists: the source's change decision when it names one, else the revision."""
    data = record.data
    if data.get("change_type") == "变更" and data.get("change_date"):
        number = data.get("change_document_number")
        return f"决定变更（{data['change_date']}{'，' + str(number) if number else ''}）; standard record revision {record.revision}"
    return f"standard record revised (revision {record.revision})"


def existing_disclosures(session: Session, keys: list[tuple[DisclosureKind, str]]) -> dict[tuple[DisclosureKind, str], Disclosure]:
    """The disclosures of these (kind, business key) pairs, in one query per kind and 500 keys."""
    found: dict[tuple[DisclosureKind, str], Disclosure] = {}
    for kind in {k for k, _ in keys}:
        wanted = sorted({key for k, key in keys if k is kind})
        for start in range(0, len(wanted), 500):
            query = select(Disclosure).where(Disclosure.kind == kind, Disclosure.business_key.in_(wanted[start:start + 500]))
            found.update({(kind, d.business_key): d for d in session.scalars(query)})
    return found


def derive_hook(rules: DisclosureRules) -> tuple[Callable[[Session, RegisteredSystem, list[StoredRecord]], None], DerivationSummary]:
    """The run's ``on_stored`` hook and the summary it fills (for ``jnx demo``)."""
    deriver = DisclosureDeriver(rules)
    return deriver.on_stored, deriver.summary


__all__ = [
    "DerivationSummary", "DisclosureDeriver", "DisclosureRules", "Held", "PageWriter", "Plan", "Problem", "clear_id_numbers",
    "context_of", "correction_reason", "credit_system", "derive_hook", "existing_disclosures", "outbound_tables", "pinned_tables",
    "invalid_licence", "review_notes", "revocation", "split_review", "unmasked_id_numbers",
]
