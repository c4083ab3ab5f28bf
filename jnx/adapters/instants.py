"""Update times and watermarks as instants, whatever form the source writes them in.

Sources write update times as ISO text (with or without ``T``, a fraction, an offset), as
``YYYYMMDDHHMMSS`` digits, as epoch seconds or epoch milliseconds. A watermark keeps the source's own
form (the source compares it), but jnx compares two of them — which is later, whether one went
backwards, whether one is in the future — only as aware datetimes. A time without an offset is a
Beijing time (the platforms are in China).
"""

from __future__ import annotations

import datetime as dt
import re

BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
#: A record may be stamped this far after jnx's clock (clocks of source systems drift); later is an error.
ALLOWED_SKEW = dt.timedelta(hours=1)

_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$")
_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_instant(value: object) -> dt.datetime | None:
    """The instant a source's update time stands for, or None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=BEIJING)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=BEIJING)
    if isinstance(value, int | float):
        return _epoch(float(value))
    text = str(value).strip()
    if not text:
        return None
    try:
        if text.isdigit():
            if len(text) in (8, 12, 14):
                match = _COMPACT.match(text)
                if match and 1 <= int(match.group(2)) <= 12:
                    return _at([int(p) for p in match.groups() if p is not None])
            return _epoch(float(text))
        match = _SLASHED.match(text)
        if match:
            return _at([int(p) for p in match.groups() if p is not None])
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)


def _at(parts: list[int]) -> dt.datetime:
    year, month, day, *clock = parts + [0] * (6 - len(parts))
    return dt.datetime(year, month, day, clock[0], clock[1], clock[2], tzinfo=BEIJING)


def _epoch(number: float) -> dt.datetime | None:
    """Epoch seconds, or milliseconds when the number is too large to be seconds (after year 5138)."""
    if number < 0:
        return None
    seconds = number / 1000 if number >= 1e11 else number
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None


def later(a: str | None, b: str | None) -> str | None:
    """The later of two update times, compared as instants (as text only when one is not an instant)."""
    if a is None or b is None:
        return a if b is None else b
    first, second = parse_instant(a), parse_instant(b)
    if first is not None and second is not None:
        return a if first >= second else b
    if a.isdigit() and b.isdigit():
        return a if int(a) >= int(b) else b
    return a if a >= b else b


def went_backwards(new: str, old: str) -> bool:
    """Whether watermark ``new`` is before ``old``; values that are not instants are not compared."""
    first, second = parse_instant(new), parse_instant(old)
    if first is None or second is None:
        return False
    return first < second


#: Excel's day numbers (counted from 1899-12-30) of the days a record may be dated: 1950-01-01 to 2099-12-31.
EXCEL_SERIALS = range(18_264, 73_051)


def excel_serial_date(value: object) -> dt.date | None:
    """The day an Excel serial day number (44256, or 44256.5 with a time) stands for, when ``value``
    is one of a day a record may be dated (:data:`EXCEL_SERIALS`); None otherwise. Such numbers
    reach jnx from spreadsheets pasted into a system's table."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, int | float | str) else float(str(value))
    except (TypeError, ValueError, OverflowError):
        return None
    if not EXCEL_SERIALS.start <= number < EXCEL_SERIALS.stop:  # NaN is in no range
        return None
    return dt.date(1899, 12, 30) + dt.timedelta(days=int(number))


def in_the_future(value: str | None, now: dt.datetime, skew: dt.timedelta = ALLOWED_SKEW) -> dt.datetime | None:
    """The instant of ``value`` when it is after ``now`` + ``skew`` (a record dated 2099), else None."""
    instant = parse_instant(value)
    return instant if instant is not None and instant > now + skew else None
