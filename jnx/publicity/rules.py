"""双公示 publicity rules: when a disclosure is due, how long it stays up, whether it is published.

Pure functions over dates and policy objects — no clock, no database. The outbox and the
disclosure store call them; docs/disclosures.md ("Rules") gives the sources and what is unconfirmed.

* Deadlines, counted on a :class:`WorkingDays` calendar (decision day not counted):
  :func:`disclosure_deadline` 7 working days (发改办财金〔2018〕424号), :func:`withdrawal_deadline`
  3 working days for 撤销/变更 (《行政处罚法》第四十八条), :func:`enforcement_publicity_deadline`
  20 working days for 行政执法公示 (国办发〔2018〕118号, unconfirmed).
* Display periods (公示期限 / 公示截止期): :func:`display_period` under a :class:`DisplayPolicy`
  (default :data:`ORDER_58`, 国家发展改革委令第58号; :data:`NOTICE_527` models 527号's severities).
* Publication: :func:`assess_publication` under a :class:`PublicationPolicy` — excluded penalty
  categories and the natural-person rule, both configurable, defaults documented.
"""

from __future__ import annotations

import calendar as _gregorian
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from jnx.codesets import default_registry
from jnx.errors import InputError
from jnx.publicity.calendar import Deadline

DISCLOSURE_WORKDAYS = 7
WITHDRAWAL_WORKDAYS = 3
ENFORCEMENT_PUBLICITY_WORKDAYS = 20
FINE = "罚款"


class DisplayPeriodError(InputError):
    """A record lacks what its display period needs (no 处罚类别, validity ending before the decision…)."""


class WorkingDays(Protocol):
    """The role a working-day calendar plays for the rules (:class:`jnx.publicity.calendar.WorkdayCalendar`)."""

    def add_workdays(self, start: dt.date, n: int) -> Deadline: ...


class DisclosureKind(StrEnum):
    LICENSE = "license"  # 行政许可
    PENALTY = "penalty"  # 行政处罚


class Severity(StrEnum):
    """失信 severity of a penalty, as 发改办财金〔2019〕527号 distinguishes it."""

    GENERAL = "一般失信"
    SERIOUS = "严重失信"


class Sector(StrEnum):
    """Sectors whose penalties have a longer shortest display period (国家发展改革委令第58号)."""

    SPECIAL_EQUIPMENT = "特种设备"
    PRODUCTION_SAFETY = "安全生产"
    FIRE = "消防"


class SubjectCategory(StrEnum):
    """行政相对人类别, with the text values of the national standard."""

    ORGANIZATION = "法人及非法人组织"
    NATURAL_PERSON = "自然人"
    INDIVIDUAL_BUSINESS = "个体工商户"


class NaturalPersonPublication(StrEnum):
    MASKED = "masked"  # published, personal fields masked
    WITHHELD = "withheld"  # not published at all


class Procedure(StrEnum):
    """处罚程序 (code set ``penalty_procedure``)."""

    SIMPLE = "简易"  # 当场作出 (《行政处罚法》第五十一条、第五十二条)
    ORDINARY = "普通"


class InvalidLicencePublication(StrEnum):
    CORRECTED = "corrected"  # the format's reading: XK_ZT 2 (无效) pushed as a correction; published when first seen
    WITHDRAWN = "withdrawn"  # withdrawn from the platform; never published when first seen invalid


class SimpleProcedurePublication(StrEnum):
    PUBLISHED = "published"  # 简易程序 penalties are published like any other
    WITHHELD = "withheld"  # not published at all


def _counted(rule: str, start: dt.date, workdays: int, calendar: WorkingDays) -> Deadline:
    counted = calendar.add_workdays(start, workdays)
    return Deadline(counted.date, counted.provisional, f"{rule}; {counted.basis}")


def disclosure_deadline(decision_date: dt.date, calendar: WorkingDays) -> Deadline:
    """Due date of a 双公示 disclosure: the 7th working day after the decision (424号)."""
    return _counted("双公示: 7 working days after the decision (发改办财金〔2018〕424号)", decision_date,
                    DISCLOSURE_WORKDAYS, calendar)


def withdrawal_deadline(event_date: dt.date, calendar: WorkingDays) -> Deadline:
    """Due date of withdrawing (撤销) or correcting (变更) a published decision: 3 working days after
    the event that changed it — revocation, change, 确认违法/无效, or 信用修复 granted."""
    return _counted("withdrawal: 3 working days after the change (《行政处罚法》第四十八条)", event_date,
                    WITHDRAWAL_WORKDAYS, calendar)


def enforcement_publicity_deadline(decision_date: dt.date, calendar: WorkingDays) -> Deadline:
    """Due date under 行政执法公示制度 (a separate clock): 20 working days after the decision."""
    return _counted("执法公示: 20 working days after the decision (国办发〔2018〕118号, unconfirmed)", decision_date,
                    ENFORCEMENT_PUBLICITY_WORKDAYS, calendar)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months; the same day of the target month, or its last day when it has
    none (《民法典》第二百零二条): 2024-01-31 + 1 month = 2024-02-29."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _gregorian.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


class PeriodRule(BaseModel):
    """Shortest and longest display period, in months from the decision date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shortest_months: int = Field(ge=0, le=1200)
    longest_months: int = Field(ge=1, le=1200)

    @model_validator(mode="after")
    def _ordered(self) -> PeriodRule:
        if self.shortest_months > self.longest_months:
            raise ValueError(f"shortest {self.shortest_months} months exceeds longest {self.longest_months}")
        return self


def _known_penalty_categories() -> frozenset[str]:
    penalty_type = default_registry().get("penalty_type")
    return frozenset(code for version in penalty_type.versions for code in version.entries)


def _check_categories(categories: Iterable[str]) -> None:
    unknown = sorted(set(categories) - _known_penalty_categories())
    if unknown:
        raise ValueError(f"unknown 处罚类别 {unknown}; known: {sorted(_known_penalty_categories())}")


class DisplayPolicy(BaseModel):
    """How long disclosures stay displayed. The default is :data:`ORDER_58`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "国家发展改革委令第58号"
    penalty: PeriodRule = PeriodRule(shortest_months=3, longest_months=36)
    sector_shortest_months: Mapping[Sector, int] = Field(
        default_factory=lambda: {Sector.SPECIAL_EQUIPMENT: 12, Sector.PRODUCTION_SAFETY: 12, Sector.FIRE: 12}
    )
    severity: Mapping[Severity, PeriodRule] = Field(default_factory=dict)
    """When not empty, the regime distinguishes severities and a penalty must give one."""
    category_periods: Mapping[str, PeriodRule] = Field(default_factory=dict)
    """Longer periods for particular 处罚类别 (none by default); several categories ⇒ the longest."""
    licence_open_ended_months: int = Field(default=36, ge=1, le=1200)
    """Display period of a licence with no end of validity (jnx's own choice, see the docs)."""
    licence_open_ended_from: dt.date = dt.date(2099, 12, 31)
    """A 有效期至 on or after this date means 长期 (long-term)."""

    @field_validator("category_periods")
    @classmethod
    def _known(cls, value: Mapping[str, PeriodRule]) -> Mapping[str, PeriodRule]:
        _check_categories(value)
        return value


ORDER_58 = DisplayPolicy()
NOTICE_527 = DisplayPolicy(
    name="发改办财金〔2019〕527号",
    sector_shortest_months={},
    severity={
        Severity.SERIOUS: PeriodRule(shortest_months=6, longest_months=36),
        Severity.GENERAL: PeriodRule(shortest_months=3, longest_months=12),
    },
)


@dataclass(frozen=True, slots=True)
class DisplayPeriod:
    """公示期限: displayed at least until ``shortest_end`` (after it the party may apply for 信用修复),
    at most until ``longest_end`` (公示截止期, CF_GSJZQ), both inclusive."""

    shortest_end: dt.date
    longest_end: dt.date
    basis: str


def display_period(
    kind: DisclosureKind,
    categories: Iterable[str],
    decision_date: dt.date,
    *,
    severity: Severity | None = None,
    sector: Sector | None = None,
    valid_until: dt.date | None = None,
    policy: DisplayPolicy = ORDER_58,
) -> DisplayPeriod:
    """The display period of a licence or penalty decided on ``decision_date``.

    Penalties: the policy's period (or its severity's), raised by any category rule and by the
    sector's shortest period — the longest applies. Licences: displayed while valid, until
    ``valid_until`` (有效期至); with no end (or 长期) for the policy's open-ended period.
    """
    if isinstance(categories, str):
        raise TypeError("categories is a collection of 处罚类别, not one string; split CF_CFLB first")
    if kind == DisclosureKind.LICENSE:
        return _licence_period(decision_date, valid_until, policy)
    wanted = sorted(set(categories))
    if not wanted:
        raise DisplayPeriodError(f"a penalty decided on {decision_date.isoformat()} has no 处罚类别; "
                                 "its display period cannot be computed")
    if policy.severity:
        if severity is None or severity not in policy.severity:
            known = ", ".join(s.value for s in policy.severity)
            raise DisplayPeriodError(f"{policy.name} sets display periods by severity ({known}); "
                                     f"got {severity.value if severity else 'none'}")
        rules = [(policy.severity[severity], f"{severity.value} under {policy.name}")]
    else:
        rules = [(policy.penalty, f"penalty under {policy.name}")]
        if severity is not None:
            rules[0] = (policy.penalty, f"penalty under {policy.name} (which does not grade {severity.value})")
    rules += [(policy.category_periods[c], f"处罚类别 {c}") for c in wanted if c in policy.category_periods]
    shortest = max(rule.shortest_months for rule, _ in rules)
    longest = max(rule.longest_months for rule, _ in rules)
    reasons = [f"{why} {rule.shortest_months}–{rule.longest_months} months" for rule, why in rules]
    if sector is not None and sector in policy.sector_shortest_months:
        shortest = max(shortest, policy.sector_shortest_months[sector])
        longest = max(longest, shortest)
        reasons.append(f"{sector.value} shortest {policy.sector_shortest_months[sector]} months")
    basis = f"{'; '.join(reasons)} ⇒ {shortest}–{longest} months from {decision_date.isoformat()}"
    return DisplayPeriod(add_months(decision_date, shortest), add_months(decision_date, longest), basis)


def _licence_period(decision_date: dt.date, valid_until: dt.date | None, policy: DisplayPolicy) -> DisplayPeriod:
    if valid_until is not None and valid_until < decision_date:
        raise DisplayPeriodError(f"licence valid until {valid_until.isoformat()}, before its decision "
                                 f"{decision_date.isoformat()}; check 有效期至")
    if valid_until is None or valid_until >= policy.licence_open_ended_from:
        months = policy.licence_open_ended_months
        end = add_months(decision_date, months)
        return DisplayPeriod(end, end, f"licence without end of validity: {months} months ({policy.name} config)")
    return DisplayPeriod(valid_until, valid_until, f"licence displayed while valid, until 有效期至 {valid_until}")


class PublicationPolicy(BaseModel):
    """Which decisions are published at all, and how natural persons are.

    Defaults publish every penalty category (公开为常态, 424号) and natural persons masked; whether
    警告/通报批评/较低数额罚款 are excluded (58号) is unconfirmed — configure it here when confirmed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    excluded_penalty_categories: frozenset[str] = frozenset()
    low_fine_threshold_wan: Decimal | None = Field(default=None, ge=0, decimal_places=6)
    """A 罚款 below this (万元) counts as excluded, like the categories above; None: no threshold."""
    low_fine_thresholds_wan: Mapping[SubjectCategory, Decimal] = Field(default_factory=dict)
    """The same threshold by party type (it wins over ``low_fine_threshold_wan`` for the types it names),
    e.g. 自然人 0.02 and 法人及非法人组织 0.3 — the 200 元 / 3,000 元 of 《行政处罚法》第五十一条."""
    natural_persons: NaturalPersonPublication = NaturalPersonPublication.MASKED
    simple_procedure: SimpleProcedurePublication = SimpleProcedurePublication.PUBLISHED
    """简易程序 (当场) penalties: published like any other, or withheld (not published at all)."""
    invalid_licences: InvalidLicencePublication = InvalidLicencePublication.CORRECTED
    """A licence whose XK_ZT turns 2 (无效): a correction carrying the status (the national format's
    reading, REFERENCE §2.4), or a withdrawal."""

    @field_validator("low_fine_thresholds_wan")
    @classmethod
    def _exact(cls, value: Mapping[SubjectCategory, Decimal]) -> Mapping[SubjectCategory, Decimal]:
        for subject, amount in value.items():
            if amount < 0 or amount != amount.quantize(Decimal("0.000001")):
                raise ValueError(f"threshold of {subject.value}: {amount} is not an amount of 万元 ≥ 0 with at most 6 places")
        return value

    def fine_threshold(self, subject: SubjectCategory) -> Decimal | None:
        """The low-fine threshold (万元) of a party type, if any."""
        return self.low_fine_thresholds_wan.get(subject, self.low_fine_threshold_wan)

    @field_validator("excluded_penalty_categories")
    @classmethod
    def _known(cls, value: frozenset[str]) -> frozenset[str]:
        _check_categories(value)
        return value


DEFAULT_PUBLICATION = PublicationPolicy()


@dataclass(frozen=True, slots=True)
class PublicationVerdict:
    publish: bool
    mask_personal_data: bool
    reason: str


def assess_publication(
    kind: DisclosureKind,
    categories: Iterable[str],
    subject: SubjectCategory,
    *,
    fine_wan: Decimal | None = None,
    policy: PublicationPolicy = DEFAULT_PUBLICATION,
    procedure: Procedure | None = None,
) -> PublicationVerdict:
    """Is this decision published, and with natural persons' data masked? The reason says why."""
    if isinstance(categories, str):
        raise TypeError("categories is a collection of 处罚类别, not one string; split CF_CFLB first")
    natural = subject == SubjectCategory.NATURAL_PERSON
    if natural and policy.natural_persons == NaturalPersonPublication.WITHHELD:
        return PublicationVerdict(False, True, "natural person: policy withholds natural persons' decisions")
    if kind == DisclosureKind.PENALTY:
        if procedure is Procedure.SIMPLE and policy.simple_procedure is SimpleProcedurePublication.WITHHELD:
            return PublicationVerdict(False, natural, "简易程序 (当场) penalty: policy withholds simple-procedure penalties")
        wanted = set(categories)
        excluded = set(policy.excluded_penalty_categories)
        threshold = policy.fine_threshold(subject)
        if threshold is not None and fine_wan is not None and fine_wan < threshold:
            excluded.add(FINE)
        if wanted and wanted <= excluded:
            return PublicationVerdict(False, natural, f"only excluded categories {sorted(wanted)} (publication policy)")
    masked = " masked" if natural else ""
    return PublicationVerdict(True, natural, f"published{masked} ({kind.value}, {subject.value})")
