"""The supervision indicators (监督指标), each defined once: names, formula, fields read, unit.

Pure: no database, no clock. :mod:`jnx.indicators.queries` computes them by SQL aggregation,
:mod:`jnx.indicators.service` assembles them, docs/indicators.md explains each with a worked
example; this catalogue is what all three name.

Two kinds of "department":

* the **执法主体** (deciding authority) of a record — the first part of its business key, the
  ``authority_credit_code`` (``inspecting_department_credit_code`` for inspections), an 18-character
  统一社会信用代码; its **region** is the code's characters 3–8 (GB 32100: 登记管理机关行政区划码);
* the **registering department** of a source system (``source_systems.department_credit_code`` and
  ``region_code``), for collection: who connected a system and whether it delivers.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from jnx.errors import InputError, NotFoundError

BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
CREDIT_CODE_LENGTH = 18


class Kind(StrEnum):
    """The four kinds of enforcement act the indicators are broken down by."""

    LICENSE = "许可"
    PENALTY = "处罚"
    COERCION = "强制"
    INSPECTION = "检查"


#: standard record types (and raw ``record_type``\ s) by kind
RECORD_TYPES: dict[Kind, tuple[str, ...]] = {
    Kind.LICENSE: ("license",),
    Kind.PENALTY: ("penalty",),
    Kind.COERCION: ("coercive_measure", "coercive_enforcement"),
    Kind.INSPECTION: ("inspection",),
}
KIND_OF_TYPE: dict[str, Kind] = {t: kind for kind, types in RECORD_TYPES.items() for t in types}
#: 双公示 covers licences and penalties only
DISCLOSURE_KINDS: dict[str, Kind] = {"license": Kind.LICENSE, "penalty": Kind.PENALTY}

#: 抽查结果 codes (code set ``inspection_result``) that mean a problem was found
PROBLEM_RESULTS: tuple[str, ...] = ("A", "B", "C", "D", "3", "4", "G", "5", "E", "8")

#: 处罚类别 (both code-set versions) counted one by one in the enforcement totals
PENALTY_TYPES: tuple[str, ...] = (
    "警告", "通报批评", "罚款", "没收违法所得", "没收非法财物", "暂扣许可证件", "降低资质等级", "吊销许可证件",
    "限制开展生产经营活动", "责令停产停业", "责令关闭", "限制从业", "行政拘留", "暂扣或者吊销许可证",
    "暂扣或者吊销执照", "其他",
)


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator: ``key`` is its name in ``--json`` and in the drill-down (``jnx indicators records``)."""

    key: str
    name_zh: str
    name_en: str
    formula: str
    fields: str
    unit: str
    group: str


def _i(group: str, key: str, zh: str, en: str, formula: str, fields: str, unit: str) -> Indicator:
    return Indicator(key, zh, en, formula, fields, unit, group)


INDICATORS: tuple[Indicator, ...] = (
    # --- collection (数据归集), by source system and its registering department
    _i("collection", "received", "归集记录数", "Records received",
       "count of raw records received in the month",
       "raw_records.received_at, system_id, record_type", "records"),
    _i("collection", "connection_rate", "对接率", "Connection rate",
       "registered departments with a succeeded run finished in the month / registered departments",
       "source_systems.department_credit_code, enabled, kind (credit excluded); runs.status, finished_at",
       "ratio 0..1"),
    _i("collection", "last_success_age", "距上次成功归集时长", "Age of last success",
       "as-of instant (month end, or now in the current month) − newest finished_at of a succeeded run",
       "runs.status, finished_at", "hours"),
    # --- 双公示, by 执法主体, licences and penalties
    _i("disclosure", "timeliness", "公示及时率", "Timeliness (1 − 迟报率)",
       "on time / came due, over disclosures whose deadline (7 working days) falls in the month; on time = "
       "first acknowledged (acknowledged_on of a new or correction revision) on or before the deadline; "
       "came due = acknowledged, or deadline before today",
       "disclosures.deadline, business_key; disclosure_revisions.acknowledged_on, action", "ratio 0..1"),
    _i("disclosure", "late", "迟报数", "Late disclosures",
       "came due − on time (same set as timeliness)", "as timeliness", "disclosures"),
    _i("disclosure", "completeness", "完整率", "Completeness (1 − 漏报率)",
       "records with a disclosure / (licence and penalty records decided in the month − those the "
       "publication policy excludes)",
       "standard_records.record_type, decision_date, business_key, data.party_type, data.penalty_types, "
       "data.fine_amount; disclosures.standard_record_id", "ratio 0..1"),
    _i("disclosure", "missing", "漏报数", "Missing disclosures",
       "records decided in the month with no disclosure and not excluded by the publication policy",
       "as completeness", "records"),
    _i("disclosure", "excluded", "依规不公示数", "Excluded by publication policy",
       "records with no disclosure that the publication policy does not publish (the rule is shown)",
       "as completeness", "records"),
    _i("disclosure", "compliance", "合规率", "Compliance",
       "1 − (blocked + rejected) / derived, over disclosures of records decided in the month",
       "disclosures.status", "ratio 0..1"),
    _i("disclosure", "overdue", "当前逾期数", "Overdue now",
       "not withdrawn or expired, and the waiting revision's due date (or the deadline, with no revision) is "
       "before today — exactly `jnx disclosures list --overdue`",
       "disclosures.status, current_revision, deadline; disclosure_revisions.due_date; deliveries.status",
       "disclosures"),
    _i("disclosure", "due_1", "1个工作日内到期数", "Due within 1 working day",
       "not withdrawn or expired, current revision not acknowledged, due today .. the next working day",
       "disclosure_revisions.due_date, acknowledged_at; disclosures.deadline", "disclosures"),
    _i("disclosure", "due_3", "3个工作日内到期数", "Due within 3 working days",
       "as due_1, due today .. the 3rd working day after today", "as due_1", "disclosures"),
    _i("disclosure", "correction_timeliness", "变更及时率", "Correction timeliness",
       "correction revisions due (3 working days) in the month and come due: acknowledged on or before due / all",
       "disclosure_revisions.action, due_date, acknowledged_on", "ratio 0..1"),
    _i("disclosure", "withdrawal_timeliness", "撤下及时率", "Withdrawal timeliness",
       "withdrawal revisions due (3 working days) in the month and come due: acknowledged on or before due / all",
       "disclosure_revisions.action, due_date, acknowledged_on", "ratio 0..1"),
    _i("disclosure", "withdrawal_rate", "撤下率", "Withdrawal rate",
       "disclosures of records decided in the month now withdrawn / derived", "disclosures.status", "ratio 0..1"),
    _i("disclosure", "credit_repairs", "信用修复数", "Credit repairs",
       "withdrawal revisions created in the month whose reason names 信用修复",
       "disclosure_revisions.action, reason, created_at", "revisions"),
    # --- data quality, by source system
    _i("quality", "error_rate", "数据错误率", "Error rate",
       "raw records received in the month with a mapping error / raw records received in the month",
       "mapping_errors.raw_record_id; raw_records.received_at", "ratio 0..1"),
    _i("quality", "errors_by_cause", "错误原因", "Errors by cause",
       "mapping errors created in the month by system, rule and field: errors and distinct raw records",
       "mapping_errors.system_id, rule, field, created_at", "errors"),
    _i("quality", "resolution_hours", "错误处置时长", "Time to resolution",
       "mean and longest resolved_at − created_at of errors resolved (replayed, ignored, resolved) in the month",
       "mapping_errors.created_at, resolved_at", "hours"),
    _i("quality", "open_errors", "待处理错误数", "Open errors",
       "mapping errors in status open now — as `jnx errors groups` sums them", "mapping_errors.status", "errors"),
    # --- enforcement totals, by 执法主体, decided in the month
    _i("enforcement", "penalties", "行政处罚数", "Penalties",
       "penalty records decided in the month, in total and by 处罚类别 (a decision of several counts in each)",
       "standard_records.record_type, decision_date, data.penalty_types", "decisions"),
    _i("enforcement", "fines_wan", "罚款金额", "Fines",
       "sum of fine_amount over penalties decided in the month", "data.fine_amount", "万元 (Decimal, 6 places)"),
    _i("enforcement", "confiscations_wan", "没收金额", "Confiscations",
       "sum of confiscation_amount over penalties decided in the month", "data.confiscation_amount",
       "万元 (Decimal, 6 places)"),
    _i("enforcement", "inspections", "行政检查数", "Inspections",
       "inspection records dated (inspection_date) in the month", "standard_records.decision_date", "inspections"),
    _i("enforcement", "problem_rate", "问题发现率", "Problem-found rate",
       "inspections whose 抽查结果 include a problem code (A B C D 3 4 G 5 E 8) / inspections",
       "data.inspection_results", "ratio 0..1"),
    _i("enforcement", "coercive_measures", "行政强制数", "Coercive measures",
       "coercive measure and coercive enforcement records decided in the month", "standard_records.record_type",
       "decisions"),
)
BY_KEY: dict[str, Indicator] = {i.key: i for i in INDICATORS}


def indicator(key: str) -> Indicator:
    try:
        return BY_KEY[key]
    except KeyError:
        raise NotFoundError(f"unknown indicator {key!r}", hint=f"known indicators: {', '.join(BY_KEY)}") from None


def rate(numerator: int, denominator: int) -> float | None:
    """A share in 0..1, rounded to 4 places; None when nothing was counted (no 0/0 = 100 %)."""
    return None if denominator == 0 else round(numerator / denominator, 4)


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month in China: its days and the UTC instants that bound it."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        found = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if not found or not 1 <= int(found.group(2)) <= 12 or not 1900 <= int(found.group(1)) <= 9998:
            raise InputError(f"month {text!r} is not YYYY-MM", hint="give a month such as 2026-10")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Month:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def next(self) -> Month:
        return Month(self.year + (self.month == 12), self.month % 12 + 1)

    @property
    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def last(self) -> dt.date:
        return self.next.first - dt.timedelta(days=1)

    @property
    def start(self) -> dt.datetime:
        """00:00 Beijing time of the first day, as an aware instant."""
        return dt.datetime.combine(self.first, dt.time(), BEIJING)

    @property
    def end(self) -> dt.datetime:
        """00:00 Beijing time of the next month's first day (exclusive)."""
        return self.next.start

    def back(self, months: int) -> list[Month]:
        """This month and the ``months`` − 1 before it, oldest first."""
        out = [self]
        while len(out) < months:
            out.insert(0, out[0].previous)
        return out


@dataclass(frozen=True, slots=True)
class AllTime:
    """Every day up to the end of time: ``jnx indicators`` without ``--month`` (figures to date)."""

    def __str__(self) -> str:
        return "all"

    @property
    def first(self) -> dt.date:
        return dt.date(1900, 1, 1)

    @property
    def last(self) -> dt.date:
        return dt.date(9999, 12, 30)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), BEIJING)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last, dt.time(), BEIJING)


Period = Month | AllTime
