"""双公示 rules: deadlines on the official calendar, display periods, publication policies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from jnx.publicity.calendar import WorkdayCalendar, YearSchedule
from jnx.publicity.rules import (
    NOTICE_527,
    DisclosureKind,
    DisplayPeriodError,
    DisplayPolicy,
    NaturalPersonPublication,
    PeriodRule,
    PublicationPolicy,
    Sector,
    Severity,
    SubjectCategory,
    add_months,
    assess_publication,
    disclosure_deadline,
    display_period,
    enforcement_publicity_deadline,
    withdrawal_deadline,
)

D = dt.date.fromisoformat
PENALTY, LICENSE = DisclosureKind.PENALTY, DisclosureKind.LICENSE
CALENDAR = WorkdayCalendar.load()


# TEST FIXTURE — NOT OFFICIAL DATA: a made-up 2027 元旦 holiday (1/1–1/3), built in code.
NEW_YEAR_2027 = frozenset({D("2027-01-01"), D("2027-01-02"), D("2027-01-03")})
TEST_2027 = YearSchedule(2027, "TEST FIXTURE", NEW_YEAR_2027, frozenset(), "test-fixture")


@pytest.mark.parametrize(
    "decision, due",
    [("2025-09-30", "2025-10-16"), ("2026-02-12", "2026-02-28"), ("2026-09-30", "2026-10-15")],
)
def test_reference_examples_of_the_7_working_day_deadline(decision: str, due: str) -> None:
    deadline = disclosure_deadline(D(decision), CALENDAR)
    assert deadline.date == D(due)
    assert not deadline.provisional
    assert "发改办财金〔2018〕424号" in deadline.basis and "chinese-calendar" in deadline.basis


def test_the_friday_before_spring_festival_gets_the_official_deadline() -> None:
    # Fri 2026-02-13: Sat 2/14 (调休), 2/24–2/27, Sat 2/28 (调休), Mon 3/2.
    assert disclosure_deadline(D("2026-02-13"), CALENDAR).date == D("2026-03-02")
    assert chinese_calendar.find_workday(7, D("2026-02-13")) == D("2026-03-02")


def test_the_last_working_day_before_mid_autumn_and_national_day() -> None:
    # Thu 2026-09-24; Fri 9/25 is already 中秋. Weekends-only counting would say 2026-10-06.
    assert disclosure_deadline(D("2026-09-24"), CALENDAR).date == D("2026-10-12")
    assert chinese_calendar.find_workday(7, D("2026-09-24")) == D("2026-10-12")
    # A decision dated on the holiday Friday itself: counting starts after it, same 7th working day.
    assert disclosure_deadline(D("2026-09-25"), CALENDAR).date == D("2026-10-12")


def test_a_deadline_in_an_unannounced_year_is_provisional_then_official_once_loaded() -> None:
    provisional = disclosure_deadline(D("2026-12-25"), CALENDAR)
    assert (provisional.date, provisional.provisional) == (D("2027-01-06"), True)  # 元旦 skipped by law, no 调休 known
    assert "PROVISIONAL" in provisional.basis and provisional.basis.startswith("双公示")
    official = disclosure_deadline(D("2026-12-25"), WorkdayCalendar([TEST_2027]))
    assert (official.date, official.provisional) == (D("2027-01-06"), False)


def test_withdrawal_is_due_3_working_days_after_the_change() -> None:
    deadline = withdrawal_deadline(D("2026-09-30"), CALENDAR)
    assert deadline.date == D("2026-10-10")  # an adjusted Saturday
    assert "第四十八条" in deadline.basis


def test_enforcement_publicity_runs_its_own_20_working_day_clock() -> None:
    deadline = enforcement_publicity_deadline(D("2026-03-02"), CALENDAR)
    assert deadline.date == D("2026-03-30")
    assert "20 working days" in deadline.basis


decisions = st.dates(min_value=D("2004-01-01"), max_value=D("2027-12-31"))


@given(decision=decisions)
def test_deadline_is_a_working_day_strictly_after_the_decision(decision: dt.date) -> None:
    deadline = disclosure_deadline(decision, CALENDAR)
    assert deadline.date > decision
    assert CALENDAR.is_workday(deadline.date)
    assert deadline.provisional == (deadline.date.year >= 2027)


@given(first=decisions, gap=st.integers(min_value=0, max_value=60))
def test_deadline_is_monotone_in_the_decision_date(first: dt.date, gap: int) -> None:
    later = first + dt.timedelta(days=gap)
    assert disclosure_deadline(first, CALENDAR).date <= disclosure_deadline(later, CALENDAR).date


@pytest.mark.parametrize(
    "day, months, expected",
    [
        ("2024-01-31", 1, "2024-02-29"),
        ("2023-01-31", 1, "2023-02-28"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2024-12-15", 1, "2025-01-15"),
        ("2024-08-31", 3, "2024-11-30"),
        ("2024-01-31", 0, "2024-01-31"),
    ],
)
def test_months_clamp_to_the_end_of_a_shorter_month(day: str, months: int, expected: str) -> None:
    assert add_months(D(day), months) == D(expected)


@given(day=st.dates(min_value=D("1990-01-01"), max_value=D("2090-12-31")), months=st.integers(0, 120))
def test_adding_months_lands_in_the_right_month_on_or_before_the_same_day(day: dt.date, months: int) -> None:
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == day.day or (result.day < day.day and (result + dt.timedelta(days=1)).day == 1)


def test_a_penalty_is_displayed_3_months_to_3_years_by_default() -> None:
    period = display_period(PENALTY, ["罚款"], D("2025-03-10"))
    assert (period.shortest_end, period.longest_end) == (D("2025-06-10"), D("2028-03-10"))
    assert "国家发展改革委令第58号" in period.basis


def test_a_display_period_from_a_month_end_decision_clamps() -> None:
    period = display_period(PENALTY, ["警告"], D("2024-11-30"))
    assert (period.shortest_end, period.longest_end) == (D("2025-02-28"), D("2027-11-30"))


@pytest.mark.parametrize("sector", list(Sector))
def test_special_sectors_are_displayed_at_least_a_year(sector: Sector) -> None:
    period = display_period(PENALTY, ["罚款"], D("2024-02-29"), sector=sector)
    assert period.shortest_end == D("2025-02-28")  # one year, clamped
    assert period.longest_end == D("2027-02-28")
    assert sector.value in period.basis


def test_several_categories_take_the_longest_period() -> None:
    policy = DisplayPolicy(
        category_periods={
            "吊销许可证件": PeriodRule(shortest_months=12, longest_months=36),
            "行政拘留": PeriodRule(shortest_months=6, longest_months=60),
        }
    )
    period = display_period(PENALTY, ["罚款", "吊销许可证件", "行政拘留"], D("2025-01-15"), policy=policy)
    assert (period.shortest_end, period.longest_end) == (D("2026-01-15"), D("2030-01-15"))
    alone = display_period(PENALTY, ["罚款"], D("2025-01-15"), policy=policy)
    assert (alone.shortest_end, alone.longest_end) == (D("2025-04-15"), D("2028-01-15"))


def test_notice_527_periods_depend_on_severity() -> None:
    serious = display_period(PENALTY, ["罚款"], D("2020-05-31"), severity=Severity.SERIOUS, policy=NOTICE_527)
    general = display_period(PENALTY, ["罚款"], D("2020-05-31"), severity=Severity.GENERAL, policy=NOTICE_527)
    assert (serious.shortest_end, serious.longest_end) == (D("2020-11-30"), D("2023-05-31"))
    assert (general.shortest_end, general.longest_end) == (D("2020-08-31"), D("2021-05-31"))
    with pytest.raises(DisplayPeriodError, match="by severity .*; got none"):
        display_period(PENALTY, ["罚款"], D("2020-05-31"), policy=NOTICE_527)


def test_order_58_does_not_grade_severity_and_says_so() -> None:
    period = display_period(PENALTY, ["罚款"], D("2025-03-10"), severity=Severity.SERIOUS)
    assert (period.shortest_end, period.longest_end) == (D("2025-06-10"), D("2028-03-10"))
    assert "does not grade 严重失信" in period.basis


def test_a_penalty_without_category_has_no_period() -> None:
    with pytest.raises(DisplayPeriodError, match="no 处罚类别"):
        display_period(PENALTY, [], D("2025-01-15"))
    with pytest.raises(TypeError, match="split CF_CFLB"):
        display_period(PENALTY, "罚款;警告", D("2025-01-15"))


def test_a_licence_is_displayed_while_valid() -> None:
    period = display_period(LICENSE, [], D("2025-01-15"), valid_until=D("2030-01-14"))
    assert (period.shortest_end, period.longest_end) == (D("2030-01-14"), D("2030-01-14"))


@pytest.mark.parametrize("valid_until", [None, D("2099-12-31")])
def test_a_licence_without_end_is_displayed_for_the_configured_period(valid_until: dt.date | None) -> None:
    assert display_period(LICENSE, [], D("2025-01-31"), valid_until=valid_until).longest_end == D("2028-01-31")
    policy = DisplayPolicy(licence_open_ended_months=12)
    assert display_period(LICENSE, [], D("2025-01-31"), valid_until=valid_until, policy=policy).longest_end == D(
        "2026-01-31"
    )


def test_a_licence_ending_before_its_decision_is_refused() -> None:
    with pytest.raises(DisplayPeriodError, match="有效期至"):
        display_period(LICENSE, [], D("2025-01-15"), valid_until=D("2024-12-31"))


def test_policies_refuse_impossible_or_unknown_settings() -> None:
    with pytest.raises(ValidationError, match="exceeds longest"):
        PeriodRule(shortest_months=12, longest_months=6)
    with pytest.raises(ValidationError, match="unknown 处罚类别"):
        PublicationPolicy(excluded_penalty_categories=frozenset({"警 告"}))
    with pytest.raises(ValidationError, match="unknown 处罚类别"):
        DisplayPolicy(category_periods={"吊销执照": PeriodRule(shortest_months=1, longest_months=2)})


ORG, PERSON = SubjectCategory.ORGANIZATION, SubjectCategory.NATURAL_PERSON


def test_by_default_every_penalty_is_published_and_natural_persons_masked() -> None:
    verdict = assess_publication(PENALTY, ["警告"], ORG)
    assert (verdict.publish, verdict.mask_personal_data) == (True, False)
    verdict = assess_publication(PENALTY, ["罚款"], PERSON)
    assert (verdict.publish, verdict.mask_personal_data) == (True, True)


def test_excluded_categories_withhold_a_decision_only_when_nothing_else_is_in_it() -> None:
    policy = PublicationPolicy(excluded_penalty_categories=frozenset({"警告", "通报批评"}))
    assert not assess_publication(PENALTY, ["警告"], ORG, policy=policy).publish
    assert not assess_publication(PENALTY, ["警告", "通报批评"], ORG, policy=policy).publish
    assert assess_publication(PENALTY, ["警告", "罚款"], ORG, policy=policy).publish
    assert assess_publication(LICENSE, [], ORG, policy=policy).publish


def test_a_low_fine_counts_as_excluded_once_a_threshold_is_configured() -> None:
    policy = PublicationPolicy.model_validate(
        {"excluded_penalty_categories": ["警告"], "low_fine_threshold_wan": "0.1"}  # as settings would give it
    )
    assert not assess_publication(PENALTY, ["警告", "罚款"], ORG, fine_wan=Decimal("0.05"), policy=policy).publish
    assert assess_publication(PENALTY, ["警告", "罚款"], ORG, fine_wan=Decimal("0.1"), policy=policy).publish
    assert assess_publication(PENALTY, ["罚款"], ORG, fine_wan=None, policy=policy).publish  # unknown: publish


def test_withheld_natural_persons_are_not_published() -> None:
    policy = PublicationPolicy(natural_persons=NaturalPersonPublication.WITHHELD)
    verdict = assess_publication(PENALTY, ["罚款"], PERSON, policy=policy)
    assert not verdict.publish and "natural person" in verdict.reason
    assert assess_publication(PENALTY, ["罚款"], SubjectCategory.INDIVIDUAL_BUSINESS, policy=policy).publish
