"""The Chinese working-day calendar (工作日: 法定节假日 and 调休 adjusted working weekends).

Deadlines of 双公示 and withdrawals are counted in working days. Three sources, in order:

1. **Schedule files** an admin drops into ``<home>/calendar/`` (or shipped in
   ``jnx/publicity/data/calendar/``): one YAML file per year transcribing the 国务院办公厅 notice on
   that year's holidays. A file for a year replaces the package for that year, so a new year can be
   loaded — or a package error corrected — without a release of jnx.
2. **The chinese-calendar package** (pinned), which carries the notices from 2004 up to the last
   published year.
3. **Provisional rule** for a year neither covers: weekends and the statutory holidays of
   《全国年节及纪念日放假办法》(2024 修订, in force 2025-01-01, 第二条: 元旦 1 day, 春节 4 days from 除夕, 清明节
   1 day, 劳动节 2 days, 端午节 1 day, 中秋节 1 day, 国庆节 3 days) are not working days, and a holiday on a
   weekend is made up on the next working day (第六条: 适逢周六、周日，应当在工作日补假); the 调休 the State
   Council's notice adds is unknown. Lunar dates come from ``borax`` (1900–2100), 清明 from the
   chinese-calendar package's solar terms. A result that relied on it is flagged ``provisional=True``
   with the reason and what to do; nothing raises on this common path (a December decision whose
   deadline falls in a year not yet announced).

Schedule file (format 1)::

    format: 1
    year: 2027
    source: 国办发明电〔2026〕N号 国务院办公厅关于2027年部分节假日安排的通知
    url: https://www.gov.cn/…              # optional
    holidays:                               # 放假, inclusive ranges
      - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
    workdays:                               # 调休上班 (Saturdays or Sundays)
      - {date: 2027-02-20, name: 春节}

Days lie in the file's year; only a 元旦 holiday may begin in the last week of the year before
(as 2019's did, 2018-12-30) — such days override whatever covers that earlier year.

Pure: no clock, no database; files are read only by :func:`load_schedule` / :func:`load_schedules`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml
from borax.calendars.lunardate import LunarDate

from jnx.errors import ConfigError

FORMAT = 1
SHIPPED_DIR = Path(__file__).with_name("data") / "calendar"
MAX_FILE_BYTES = 64 * 1024
PACKAGE_NAME = "chinese-calendar"
PACKAGE_VERSION = package_version(PACKAGE_NAME)

_PACKAGE_HOLIDAYS = frozenset(chinese_calendar.holidays)
_PACKAGE_WORKDAYS = frozenset(chinese_calendar.workdays)
_PACKAGE_YEARS = frozenset(range(min(_PACKAGE_HOLIDAYS).year, max(_PACKAGE_HOLIDAYS).year + 1))
STATUTORY_HOLIDAYS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
"""The holidays every 国务院办公厅 notice schedules (《全国年节及纪念日放假办法》第二条)."""
HOLIDAY_LAW_2025 = 2025  # 国务院令第795号 (2024-11-10) amended 《全国年节及纪念日放假办法》 from 2025-01-01
LUNAR_YEARS = range(1901, 2100)  # borax's lunar calendar (1900–2100), a year's 除夕 in the year before


class _ScheduleLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so a bad one ('2027-13-01') is reported, not raised by PyYAML."""


_ScheduleLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class CalendarFileError(ConfigError):
    """A holiday-schedule file cannot be used; names the file and the reason."""

    hint = "correct the file against the 国务院办公厅 notice (format in docs/disclosures.md, 'Loading a new year')"

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"calendar file {path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Deadline:
    """A date counted on the working-day calendar, and how sure it is.

    ``provisional`` means at least one counted day lay in a year with no official schedule, where
    only weekends were skipped; ``basis`` says which rule and which calendar sources gave the date.
    """

    date: dt.date
    provisional: bool
    basis: str


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's official schedule (the 国务院办公厅 notice) read from a file."""

    year: int
    source: str
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    origin: str


def _as_date(value: Any, path: Path, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise CalendarFileError(path, f"{where}: {value!r} has a time; give a date (YYYY-MM-DD)")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise CalendarFileError(path, f"{where}: {value!r} is not a date (YYYY-MM-DD)") from exc


def _check_keys(raw: Any, path: Path, where: str, required: set[str], optional: set[str]) -> Mapping[str, Any]:
    known = sorted(required | optional)
    if not isinstance(raw, Mapping):
        raise CalendarFileError(path, f"{where}: expected a mapping with keys {known}, got {raw!r}")
    missing, unknown = required - set(raw), set(raw) - required - optional
    if missing or unknown:
        detail = f"missing {sorted(missing)}, unknown {sorted(map(str, unknown))}"
        raise CalendarFileError(path, f"{where}: {detail} (known keys: {known})")
    return raw


def _check_in_year(day: dt.date, year: int, path: Path, where: str) -> None:
    earliest = dt.date(year - 1, 12, 25)  # a 元旦 holiday may start in the last week of the year before
    if not earliest <= day <= dt.date(year, 12, 31):
        raise CalendarFileError(
            path,
            f"{where}: {day.isoformat()} is outside {year} (a schedule file holds the days of its own year; "
            "only a 元旦 holiday may begin in the last week of the year before)",
        )


def _holidays(items: list[Any], year: int, path: Path) -> dict[dt.date, str]:
    """Holiday ranges → day: holiday name; ranges in the year, ordered, not overlapping."""
    names: dict[dt.date, str] = {}
    for i, raw in enumerate(items):
        item = _check_keys(raw, path, f"holidays[{i}]", {"name", "from", "to"}, set())
        where = f"holidays[{i}] ({item['name']})"
        start = _as_date(item["from"], path, f"holidays[{i}].from")
        end = _as_date(item["to"], path, f"holidays[{i}].to")
        if end < start:
            raise CalendarFileError(path, f"{where}: ends {end.isoformat()} before it starts {start.isoformat()}")
        for day in (start, end):
            _check_in_year(day, year, path, f"holidays[{i}]")
        for offset in range((end - start).days + 1):
            day = start + dt.timedelta(days=offset)
            if day in names:
                raise CalendarFileError(path, f"{where}: {day.isoformat()} is already in {names[day]}")
            names[day] = str(item["name"])
    return names


def _workdays(items: list[Any], holidays: Mapping[dt.date, str], year: int, path: Path) -> frozenset[dt.date]:
    """Adjusted working days (调休上班): weekend days of the year, not holidays, each once."""
    days: set[dt.date] = set()
    for i, raw in enumerate(items):
        where = f"workdays[{i}]"
        day = _as_date(_check_keys(raw, path, where, {"date"}, {"name"})["date"], path, f"{where}.date")
        _check_in_year(day, year, path, where)
        if day in holidays:
            raise CalendarFileError(path, f"{where}: {day} is both a holiday ({holidays[day]}) and a working day")
        if day.weekday() < 5:
            raise CalendarFileError(path, f"{where}: {day} is a weekday; adjusted working days (调休) are weekends")
        if day in days:
            raise CalendarFileError(path, f"{where}: {day} is listed twice")
        days.add(day)
    return frozenset(days)


def parse_schedule(doc: Any, path: Path) -> YearSchedule:
    """Validate a parsed schedule file whole; :class:`CalendarFileError` says where and why."""
    doc = _check_keys(doc, path, "top level", {"format", "year", "source", "holidays"}, {"url", "workdays", "notes"})
    if doc["format"] != FORMAT:
        raise CalendarFileError(path, f"format must be {FORMAT}, got {doc['format']!r}")
    year = doc["year"]
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2200:
        raise CalendarFileError(path, f"year must be a whole year such as 2027, got {year!r}")
    source = doc["source"]
    if not isinstance(source, str) or not source.strip():
        raise CalendarFileError(path, "source must name the 国务院办公厅 notice (e.g. 国办发明电〔2026〕N号)")
    if not isinstance(doc["holidays"], list) or not doc["holidays"]:
        raise CalendarFileError(path, "holidays must be a non-empty list of {name, from, to} ranges")
    workday_items = doc.get("workdays") or []
    if not isinstance(workday_items, list):
        raise CalendarFileError(path, "workdays must be a list of {date, name} entries (调休上班)")
    holidays = _holidays(doc["holidays"], year, path)
    workdays = _workdays(workday_items, holidays, year, path)
    schedule = YearSchedule(year, source.strip(), frozenset(holidays), workdays, str(path))
    check_plausible(schedule, holidays, path)
    return schedule


def load_schedule(path: Path) -> YearSchedule:
    """Read and validate one schedule file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CalendarFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if len(data) > MAX_FILE_BYTES:
        raise CalendarFileError(path, f"is {len(data)} bytes; a year's schedule is far below {MAX_FILE_BYTES}")
    try:
        doc = yaml.load(data.decode("utf-8"), Loader=_ScheduleLoader)  # noqa: S506 - a SafeLoader
    except UnicodeDecodeError as exc:
        raise CalendarFileError(path, f"is not UTF-8 (byte {exc.start}); save it as UTF-8") from exc
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: an explicit !!timestamp that is no date
        raise CalendarFileError(path, f"is not valid YAML: {exc}") from exc
    return parse_schedule(doc, path)


def load_schedules(*directories: Path | None) -> dict[int, YearSchedule]:
    """Every ``*.yaml``/``*.yml`` file of the directories; a later directory overrides an earlier one
    for the same year. A missing directory is empty; two files for one year in one directory is an error.
    """
    schedules: dict[int, YearSchedule] = {}
    for directory in directories:
        if directory is None or not directory.exists():
            continue
        if not directory.is_dir():
            raise CalendarFileError(directory, "is not a folder (expected a folder of <year>.yaml schedule files)")
        found: dict[int, YearSchedule] = {}
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            schedule = load_schedule(path)
            if schedule.year in found:
                earlier = found[schedule.year].origin
                raise CalendarFileError(path, f"{earlier} already gives the schedule of {schedule.year}")
            found[schedule.year] = schedule
        schedules.update(found)
    return schedules


def statutory_holidays(year: int) -> dict[dt.date, str]:
    """The statutory holidays of ``year`` by the 2024 《全国年节及纪念日放假办法》 (第二条), with the make-up
    day of each that falls on a weekend (第六条): what a year looks like before its notice. {} outside
    the years the lunar calendar covers."""
    if year < HOLIDAY_LAW_2025 or year not in LUNAR_YEARS:
        return {}  # before 2025 the law had other holidays (3 days of 春节, 1 of 劳动节); every such year is covered
    new_year = LunarDate(year, 1, 1).to_solar_date()
    qingming = next(day for day, name in chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 10))
                    if name == "清明")
    listed = [(dt.date(year, 1, 1), "元旦"), *((new_year + dt.timedelta(days=offset), "春节") for offset in range(-1, 3)),
              (qingming, "清明节"), (dt.date(year, 5, 1), "劳动节"), (dt.date(year, 5, 2), "劳动节"),
              (LunarDate(year, 5, 5).to_solar_date(), "端午节"), (LunarDate(year, 8, 15).to_solar_date(), "中秋节"),
              *((dt.date(year, 10, day), "国庆节") for day in (1, 2, 3))]
    days: dict[dt.date, str] = {}
    owed: list[str] = []  # holidays on a weekend, or on a day another holiday holds (中秋 on 10-03 in 2028)
    for day, name in sorted(listed):
        if day in days or day.weekday() >= 5:
            owed.append(name)
        days.setdefault(day, name)
    for name in owed:  # 补假: the next weekday after the holiday's period that is not yet off
        later = max(d for d, n in days.items() if n == name)
        while later.weekday() >= 5 or later in days:
            later += dt.timedelta(days=1)
        days[later] = f"{name}（补假）"
    return {day: name for day, name in days.items() if day.year == year}


def check_plausible(schedule: YearSchedule, names: Mapping[dt.date, str], path: Path) -> None:
    """A year's schedule names every statutory holiday (《全国年节及纪念日放假办法》第二条) and gives at least
    as many days off as the law does: a file with two holidays is a typo or half a notice, not official."""
    found = {holiday for name in set(names.values()) for holiday in STATUTORY_HOLIDAYS if holiday[:2] in name}
    missing = [name for name in STATUTORY_HOLIDAYS if name not in found]
    if missing:
        raise CalendarFileError(path, f"the schedule of {schedule.year} lacks {'、'.join(missing)}: every notice schedules "
                                "元旦、春节、清明节、劳动节、端午节、中秋节 and 国庆节 (《全国年节及纪念日放假办法》第二条)")
    own = [day for day in schedule.holidays if day.year == schedule.year]
    statutory = 13 if schedule.year >= 2025 else 11
    if len(own) < statutory:
        raise CalendarFileError(path, f"the schedule of {schedule.year} gives {len(own)} days off; the law alone gives "
                                f"{statutory} (more with the days that fall on a weekend)")


class WorkdayCalendar:
    """Working days from schedule files, then the chinese-calendar package, then the weekend rule."""

    def __init__(
        self,
        schedules: Iterable[YearSchedule] = (),
        *,
        use_package: bool = True,
        schedule_dir: Path | None = None,
    ) -> None:
        self._files: dict[int, YearSchedule] = {}
        self._days: dict[dt.date, tuple[bool, str]] = {}  # day → (working?, file that says so)
        for schedule in sorted(schedules, key=lambda s: s.year):
            if schedule.year in self._files:
                first = self._files[schedule.year].origin
                raise ConfigError(f"two schedules for {schedule.year}: {first} and {schedule.origin}")
            self._files[schedule.year] = schedule
            for day, working in [*((d, False) for d in schedule.holidays), *((d, True) for d in schedule.workdays)]:
                working_before, origin = self._days.get(day, (working, schedule.origin))
                if working_before != working:
                    raise ConfigError(f"{origin} and {schedule.origin} disagree on {day.isoformat()}")
                self._days[day] = (working, schedule.origin)
        self._package_years = _PACKAGE_YEARS if use_package else frozenset()
        self._schedule_dir = schedule_dir
        self._basis_of_span: dict[tuple[int, int], str] = {}
        self._provisional: dict[int, frozenset[dt.date]] = {}  # statutory holidays of uncovered years

    def _statutory(self, year: int) -> frozenset[dt.date]:
        found = self._provisional.get(year)
        if found is None:
            found = self._provisional[year] = frozenset(statutory_holidays(year))
        return found

    @classmethod
    def load(cls, admin_dir: Path | None = None) -> WorkdayCalendar:
        """The calendar with the shipped schedule files and the admin's (``Settings.home / "calendar"``)."""
        return cls(load_schedules(SHIPPED_DIR, admin_dir).values(), schedule_dir=admin_dir)

    @property
    def covered_years(self) -> frozenset[int]:
        """Years with an official schedule (package or file); other years are provisional."""
        return self._package_years | frozenset(self._files)

    def covers(self, year: int) -> bool:
        return year in self._package_years or year in self._files

    def is_workday(self, day: dt.date) -> bool:
        """Is ``day`` a working day? In an uncovered year: Monday–Friday (see :meth:`covers`)."""
        if isinstance(day, dt.datetime):
            raise TypeError("is_workday takes a date, not a datetime")
        known = self._days.get(day)
        if known is not None:
            return known[0]
        if day.year in self._package_years and day.year not in self._files:
            return day in _PACKAGE_WORKDAYS or (day.weekday() < 5 and day not in _PACKAGE_HOLIDAYS)
        if day.year in self._files:
            return day.weekday() < 5
        return day.weekday() < 5 and day not in self._statutory(day.year)

    def add_workdays(self, start: dt.date, n: int) -> Deadline:
        """The ``n``-th working day after ``start`` (``start`` itself is not counted, even when it is
        a working day — and, unlike ``chinese_calendar.find_workday``, not moved when it is a holiday).
        """
        if isinstance(start, dt.datetime):
            raise TypeError("add_workdays takes a date, not a datetime")
        if n < 1:
            raise ValueError(f"n must be a positive number of working days, got {n}")
        day, counted = start, 0
        while counted < n:
            day += dt.timedelta(days=1)
            counted += self.is_workday(day)
        years = range((start + dt.timedelta(days=1)).year, day.year + 1)
        provisional = any(not self.covers(y) for y in years)
        span = (years.start, years.stop)
        if span not in self._basis_of_span:
            self._basis_of_span[span] = "; ".join(self.year_basis(y) for y in years)
        return Deadline(day, provisional, self._basis_of_span[span])

    def year_basis(self, year: int) -> str:
        """Where the working days of ``year`` come from, in words fit for an operator."""
        if year in self._files:
            schedule = self._files[year]
            return f"{year}: schedule file {schedule.origin} ({schedule.source})"
        if year in self._package_years:
            return f"{year}: {PACKAGE_NAME} {PACKAGE_VERSION} (国务院办公厅 notice)"
        where = f" into {self._schedule_dir}" if self._schedule_dir else ""
        rule = ("weekends and the statutory holidays of 《全国年节及纪念日放假办法》 (with 补假, without 调休)"
                if year >= HOLIDAY_LAW_2025 and year in LUNAR_YEARS else "weekends only")
        return (
            f"{year}: PROVISIONAL, {rule} — no official holiday schedule for {year} is loaded; "
            f"load the 国务院办公厅 notice for {year} as a schedule file{where} (docs/disclosures.md)"
        )
