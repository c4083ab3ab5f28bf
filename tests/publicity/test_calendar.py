"""The working-day calendar: package data, schedule files an admin loads, provisional years."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jnx.errors import ConfigError
from jnx.publicity.calendar import (
    STATUTORY_HOLIDAYS,
    CalendarFileError,
    WorkdayCalendar,
    YearSchedule,
    load_schedule,
    load_schedules,
    statutory_holidays,
)

D = dt.date.fromisoformat

# TEST FIXTURE — NOT OFFICIAL DATA. A plausible 2027 schedule invented for the tests; the real
# 国务院办公厅 notice for 2027 had not been published when this was written.
FIXTURE_2027 = """\
# TEST FIXTURE — NOT OFFICIAL DATA
format: 1
year: 2027
source: TEST FIXTURE, not a 国务院办公厅 notice
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
  - {name: 春节, from: 2027-02-06, to: 2027-02-14}
  - {name: 清明节, from: 2027-04-03, to: 2027-04-05}
  - {name: 劳动节, from: 2027-05-01, to: 2027-05-05}
  - {name: 端午节, from: 2027-06-09, to: 2027-06-11}
  - {name: 中秋节, from: 2027-09-15, to: 2027-09-17}
  - {name: 国庆节, from: 2027-10-01, to: 2027-10-07}
workdays:
  - {date: 2027-02-20, name: 春节}
  - {date: 2027-04-25, name: 劳动节}
  - {date: 2027-09-26, name: 国庆节}
  - {date: 2027-10-09, name: 国庆节}
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


@pytest.fixture(scope="module")
def package_calendar() -> WorkdayCalendar:
    return WorkdayCalendar.load()


@pytest.fixture
def calendar_2027(tmp_path: Path) -> WorkdayCalendar:
    write(tmp_path / "calendar", "2027.yaml", FIXTURE_2027)
    return WorkdayCalendar.load(tmp_path / "calendar")


def every_day(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def test_agrees_with_the_package_on_every_day_it_covers(package_calendar: WorkdayCalendar) -> None:
    for day in every_day(D("2004-01-01"), D("2026-12-31")):
        assert package_calendar.is_workday(day) == chinese_calendar.is_workday(day), day


def test_covers_the_packaged_years_and_not_2027(package_calendar: WorkdayCalendar) -> None:
    assert set(range(2004, 2027)) <= package_calendar.covered_years
    assert not package_calendar.covers(2027)


def test_adjusted_saturday_is_a_workday_and_national_day_is_not(package_calendar: WorkdayCalendar) -> None:
    assert package_calendar.is_workday(D("2026-02-28"))  # 调休 Saturday (春节)
    assert not package_calendar.is_workday(D("2026-10-01"))
    assert not package_calendar.is_workday(D("2026-10-05"))  # a Monday inside 国庆


def test_the_start_day_is_not_counted(package_calendar: WorkdayCalendar) -> None:
    assert package_calendar.add_workdays(D("2026-03-02"), 1).date == D("2026-03-03")  # Monday → Tuesday
    assert package_calendar.add_workdays(D("2026-03-06"), 1).date == D("2026-03-09")  # Friday → Monday


def test_a_start_on_a_holiday_is_not_moved_to_the_next_workday_first(package_calendar: WorkdayCalendar) -> None:
    # 2026-09-25 is 中秋: working days after it are 9/28, 9/29, 9/30, 10/8, 10/9, 10/10 (调休), 10/12.
    assert package_calendar.add_workdays(D("2026-09-25"), 7).date == D("2026-10-12")
    # chinese_calendar.find_workday first moves the start to 9/28 and so lands a day later.
    assert chinese_calendar.find_workday(7, D("2026-09-25")) == D("2026-10-13")


def test_a_year_not_covered_skips_weekends_and_statutory_holidays_and_is_flagged(package_calendar: WorkdayCalendar) -> None:
    deadline = package_calendar.add_workdays(D("2026-12-25"), 7)
    assert deadline.date == D("2027-01-06")  # 12/28–12/31, then (元旦 Fri 1/1 is a holiday by law) 1/4, 1/5, 1/6
    assert deadline.provisional
    assert "2027: PROVISIONAL" in deadline.basis and "2026: chinese-calendar" in deadline.basis
    assert "全国年节及纪念日放假办法" in deadline.basis


def test_the_issue_example_no_longer_counts_new_years_day() -> None:
    # 2026-12-31 + 7 working days was 2027-01-11 with weekends only, counting 元旦
    assert WorkdayCalendar.load().add_workdays(D("2026-12-31"), 7).date == D("2027-01-12")


def test_the_statutory_holidays_of_a_year_without_notice_follow_the_law() -> None:
    days = statutory_holidays(2027)
    assert {name for name in days.values() if "补假" not in name} == set(STATUTORY_HOLIDAYS)
    assert [d for d, n in sorted(days.items()) if n.startswith("春节")] == [
        D("2027-02-05"), D("2027-02-06"), D("2027-02-07"), D("2027-02-08"),  # 除夕 and 初一–初三
        D("2027-02-09"), D("2027-02-10")]  # 初一 (Sat) and 初二 (Sun) made up on the next working days (第六条)
    assert days[D("2027-04-05")] == "清明节" and days[D("2027-06-09")] == "端午节" and days[D("2027-09-15")] == "中秋节"
    assert sum(1 for n in days.values() if "补假" not in n) == 13


def test_two_holidays_on_one_day_give_a_make_up_day() -> None:
    days = statutory_holidays(2028)  # 中秋 is 2028-10-03, inside 国庆 (and 10-01 is a Sunday)
    assert [d for d in sorted(days) if d.month == 10] == [D(f"2028-10-0{n}") for n in range(1, 6)]


def test_a_schedule_naming_two_holidays_is_not_accepted_as_official(tmp_path: Path) -> None:
    text = "format: 1\nyear: 2027\nsource: t\nholidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\n" \
           "  - {name: 春节, from: 2027-02-06, to: 2027-02-14}\n"
    with pytest.raises(CalendarFileError, match="lacks 清明节、劳动节、端午节、中秋节、国庆节"):
        load_schedule(write(tmp_path, "2027.yaml", text))


def test_a_schedule_with_fewer_days_off_than_the_law_is_refused(tmp_path: Path) -> None:
    days = ["2027-01-01", "2027-02-06", "2027-04-05", "2027-05-03", "2027-06-09", "2027-09-15", "2027-10-01"]
    lines = [f"  - {{name: {name}, from: {day}, to: {day}}}" for name, day in zip(STATUTORY_HOLIDAYS, days, strict=True)]
    text = "format: 1\nyear: 2027\nsource: t\nholidays:\n" + "\n".join(lines) + "\n"
    with pytest.raises(CalendarFileError, match="gives 7 days off; the law alone gives 13"):
        load_schedule(write(tmp_path, "2027.yaml", text))


def package_year(year: int, *, extra: str = "", without: str | None = None) -> str:
    """A schedule file of ``year`` transcribed from the package (one range per day, Chinese names)."""
    names = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
             "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节", "National Day": "国庆节"}
    days = every_day(D(f"{year}-01-01"), D(f"{year}-12-31"))
    holidays = [(d, names[chinese_calendar.get_holiday_detail(d)[1]]) for d in days if d in chinese_calendar.holidays]
    lines = [f"  - {{name: {n}, from: {d}, to: {d}}}" for d, n in holidays if n != without] + ([extra] if extra else [])
    lines += ["workdays:"] + [f"  - {{date: {d}}}" for d in days if d in chinese_calendar.workdays]
    return f"format: 1\nyear: {year}\nsource: rebuilt\nholidays:\n" + "\n".join(lines) + "\n"


def test_a_schedule_file_overrides_the_package_for_its_year(tmp_path: Path) -> None:
    # Suppose the package had missed a day: the admin's file for 2026 wins over it.
    text = package_year(2026, extra="  - {name: 测试, from: 2026-03-03, to: 2026-03-03}", without="国庆节")
    text = text.replace("holidays:\n", "holidays:\n  - {name: 国庆节, from: 2026-10-02, to: 2026-10-08}\n", 1)
    calendar = WorkdayCalendar.load(write(tmp_path, "2026.yaml", text).parent)
    assert not calendar.is_workday(D("2026-03-03"))
    assert calendar.is_workday(D("2026-10-01"))  # the package's 2026 no longer applies at all
    assert "schedule file" in calendar.add_workdays(D("2026-03-02"), 2).basis


def test_a_file_rebuilt_from_the_package_gives_the_same_days(tmp_path: Path) -> None:
    days = every_day(D("2025-01-01"), D("2025-12-31"))
    text = package_year(2025)
    from_file = WorkdayCalendar([load_schedule(write(tmp_path, "2025.yaml", text))], use_package=False)
    assert [from_file.is_workday(d) for d in days] == [chinese_calendar.is_workday(d) for d in days]


def test_a_new_year_holiday_may_begin_in_the_previous_december(tmp_path: Path) -> None:
    text = FIXTURE_2027.replace("{name: 元旦, from: 2027-01-01, to: 2027-01-03}", "{name: 元旦, from: 2026-12-31, to: 2027-01-02}")
    calendar = WorkdayCalendar.load(write(tmp_path, "2027.yaml", text).parent)
    assert not calendar.is_workday(D("2026-12-31"))  # a Thursday, overridden by the 2027 notice
    assert calendar.is_workday(D("2026-12-30"))


def test_admin_folder_overrides_shipped_folder_for_the_same_year(tmp_path: Path) -> None:
    shipped = write(tmp_path / "shipped", "2027.yaml", FIXTURE_2027).parent
    admin_text = FIXTURE_2027.replace("source: TEST FIXTURE,", "source: ADMIN FIXTURE,")
    admin = write(tmp_path / "admin", "y2027.yml", admin_text).parent
    assert load_schedules(shipped, admin)[2027].source.startswith("ADMIN FIXTURE")
    assert load_schedules(admin, shipped)[2027].source.startswith("TEST FIXTURE")


def test_missing_admin_folder_is_empty_and_other_files_are_ignored(tmp_path: Path) -> None:
    write(tmp_path / "cal", "README.md", "not a schedule")
    assert load_schedules(tmp_path / "absent", tmp_path / "cal") == {}


def test_two_files_for_one_year_in_one_folder_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", FIXTURE_2027)
    write(tmp_path, "b.yaml", FIXTURE_2027)
    with pytest.raises(CalendarFileError, match=r"b\.yaml: .*a\.yaml already gives the schedule of 2027"):
        load_schedules(tmp_path)


def test_a_file_where_a_folder_is_expected_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CalendarFileError, match="is not a folder"):
        load_schedules(write(tmp_path, "calendar", "x"))


def test_two_schedules_that_disagree_on_a_day_are_refused() -> None:
    a = YearSchedule(2027, "a", frozenset({D("2026-12-31")}), frozenset(), "a.yaml")
    b = YearSchedule(2026, "b", frozenset(), frozenset({D("2026-12-31")}), "b.yaml")
    with pytest.raises(ConfigError, match="b.yaml and a.yaml disagree on 2026-12-31"):
        WorkdayCalendar([a, b])


GOOD_HEAD = "format: 1\nyear: 2027\nsource: t\n"
INVALID_FILES = {
    "wrong format": ("format: 2\nyear: 2027\nsource: t\nholidays: []\n", "format must be 1"),
    "not a mapping": ("- 2027-01-01\n", "top level: expected a mapping"),
    "unknown key": (GOOD_HEAD + "holiday: []\n", "missing ['holidays'], unknown ['holiday']"),
    "year as text": ("format: 1\nyear: '2027'\nsource: t\nholidays: []\n", "year must be a whole year"),
    "no source": ("format: 1\nyear: 2027\nsource: ''\nholidays: []\n", "source must name"),
    "no holidays": (GOOD_HEAD + "holidays: []\n", "holidays must be a non-empty list"),
    "outside the year": (
        GOOD_HEAD + "holidays:\n  - {name: 国庆节, from: 2026-10-01, to: 2026-10-07}\n",
        "holidays[0]: 2026-10-01 is outside 2027",
    ),
    "end before start": (
        GOOD_HEAD + "holidays:\n  - {name: 春节, from: 2027-02-14, to: 2027-02-06}\n",
        "holidays[0] (春节): ends 2027-02-06 before it starts 2027-02-14",
    ),
    "not a date": (GOOD_HEAD + "holidays:\n  - {name: 元旦, from: 2027-13-01, to: 2027-01-03}\n", "holidays[0].from"),
    "a time": (GOOD_HEAD + "holidays:\n  - {name: 元旦, from: 2027-01-01 08:00:00, to: 2027-01-03}\n", "is not a date"),
    "overlapping holidays": (
        GOOD_HEAD + "holidays:\n  - {name: 甲, from: 2027-01-01, to: 2027-01-03}\n"
        "  - {name: 乙, from: 2027-01-03, to: 2027-01-04}\n",
        "holidays[1] (乙): 2027-01-03 is already in 甲",
    ),
    "holiday and workday": (
        GOOD_HEAD + "holidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\nworkdays:\n  - {date: 2027-01-02}\n",
        "workdays[0]: 2027-01-02 is both a holiday (元旦) and a working day",
    ),
    "workday on a weekday": (
        GOOD_HEAD + "holidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\nworkdays:\n  - {date: 2027-01-04}\n",
        "workdays[0]: 2027-01-04 is a weekday",
    ),
    "workday twice": (
        GOOD_HEAD + "holidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\n"
        "workdays:\n  - {date: 2027-02-20}\n  - {date: 2027-02-20}\n",
        "workdays[1]: 2027-02-20 is listed twice",
    ),
    "broken yaml": (GOOD_HEAD + "holidays: [\n", "is not valid YAML"),
    "tagged bad date": (GOOD_HEAD + "holidays:\n  - {name: 元旦, from: !!timestamp 2027-02-30, to: 2027-01-03}\n",
                        "is not valid YAML"),
    "gb18030": (FIXTURE_2027.encode("gb18030"), "is not UTF-8"),
}


@pytest.mark.parametrize("content, reason", INVALID_FILES.values(), ids=INVALID_FILES.keys())
def test_an_invalid_schedule_file_is_refused_with_file_and_reason(
    tmp_path: Path, content: str | bytes, reason: str
) -> None:
    path = write(tmp_path, "2027.yaml", content)
    with pytest.raises(CalendarFileError) as caught:
        WorkdayCalendar.load(tmp_path)
    assert caught.value.path == str(path)
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"calendar file {path}: ")
    assert caught.value.exit_code == 3 and "docs/disclosures.md" in (caught.value.hint or "")


def test_a_datetime_or_a_non_positive_count_is_a_programming_error(package_calendar: WorkdayCalendar) -> None:
    with pytest.raises(TypeError):
        package_calendar.add_workdays(dt.datetime(2026, 3, 2, 9, 0), 7)
    with pytest.raises(ValueError, match="positive"):
        package_calendar.add_workdays(D("2026-03-02"), 0)


days = st.dates(min_value=D("2003-06-01"), max_value=D("2028-12-31"))


@given(start=days, n=st.integers(min_value=1, max_value=25))
def test_the_nth_working_day_is_a_working_day_with_exactly_n_before_it(start: dt.date, n: int) -> None:
    calendar = WorkdayCalendar.load()
    deadline = calendar.add_workdays(start, n)
    between = every_day(start + dt.timedelta(days=1), deadline.date)
    assert deadline.date > start and calendar.is_workday(deadline.date)
    assert sum(map(calendar.is_workday, between)) == n
    assert deadline.provisional == any(not calendar.covers(d.year) for d in between)


def test_the_example_in_the_admin_docs_is_a_valid_schedule_file(tmp_path: Path) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "disclosures.md").read_text(encoding="utf-8")
    block = docs.split("   ```yaml\n", 1)[1].split("   ```", 1)[0]
    example = "\n".join(line.removeprefix("   ") for line in block.splitlines())
    schedule = load_schedule(write(tmp_path, "2027.yaml", example))
    assert schedule.year == 2027 and D("2027-02-20") in schedule.workdays
