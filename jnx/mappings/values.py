"""Parsing the messy values source systems send: text, dates, amounts.

Pure functions, compiled once per declared format, used by the transforms in
:mod:`jnx.mappings.transforms`. A value that cannot be read raises :class:`TransformFailure` with a
rule (``date.format``, ``amount.negative`` …) and a message a reviewer understands. Messages never
repeat the value itself: the issue carries it separately, masked when the field is personal.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from jnx.adapters.instants import excel_serial_date
from jnx.codesets.validators import AMOUNT_MAX_WAN, AMOUNT_QUANTUM


class TransformFailure(Exception):
    """A value a transform cannot turn into what the field needs. Caught by the compiled mapper."""

    __slots__ = ("transform", "rule", "message")

    def __init__(self, transform: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.transform = transform
        self.rule = rule
        self.message = message


# ---------------------------------------------------------------- text

STRIP_CHARS = " \t\r\n\v\f\u3000\xa0\u2002\u2003\u2009\u200b\ufeff"
"""Whitespace as source systems send it: ASCII, ideographic space (U+3000), NBSP, zero-width space, BOM."""

HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
"""Full-width ASCII forms (０-９, Ａ-Ｚ, ，…) and the ideographic space to their half-width forms."""

HALFWIDTH_ALNUM = {code: code - 0xFEE0 for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))} | {
    0x3000: 0x20
}
"""Full-width digits and Latin letters only: Chinese names keep their full-width punctuation （）、，."""


def as_text(value: Any, transform: str) -> str:
    """Strings pass (a ``str`` subclass, e.g. lxml's, as its plain text); integers and Decimals become
    their digits; a JSON number with a fraction (``5000.50``, read as a float) its shortest exact
    digits (``5000.5``: the adapters refuse a number a float cannot hold as written, so these digits
    are the sender's value); anything else is an error."""
    if value.__class__ is str:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise TransformFailure(transform, f"{transform}.type", f"expected text, got a {type(value).__name__}")


_WIDE = re.compile("[\uff01-\uff5e\u3000]")
_WIDE_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]")
INVISIBLE = "\u200b\ufeff"  # not whitespace to Python's str.split(), but never wanted around a value
WHITESPACE = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
"""What ``str.split()`` splits on (``str.isspace()``), spelled out: a character set is cheaper to search than ``\\s``."""
CLEAN_WORK = re.compile(f"[{WHITESPACE}{INVISIBLE}\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
"""A character ``clean`` changes or removes: text without one is already clean."""


def trim(value: Any) -> str | None:
    """Strip surrounding whitespace (including U+3000, NBSP, BOM); empty text becomes no value."""
    text = (value if value.__class__ is str else as_text(value, "trim")).strip(STRIP_CHARS)
    return text or None


def squeeze(value: Any) -> str | None:
    """Whitespace runs (any Unicode whitespace, newlines) to one space, then trim."""
    text = value if value.__class__ is str else as_text(value, "squeeze")
    if text.isascii():  # O(1) for str: no full-width forms, no zero-width space, no BOM to look for
        return " ".join(text.split()) or None
    return " ".join(text.split()).strip(INVISIBLE) or None


def clean(value: Any) -> str | None:
    """Full-width digits and letters to half-width, whitespace runs to one space, then trim."""
    text = value if value.__class__ is str else as_text(value, "clean")
    if text.isascii():  # O(1) for str: no full-width forms, no zero-width space, no BOM to look for
        return text if text.isalnum() else (" ".join(text.split()) or None)
    if CLEAN_WORK.search(text) is None:  # names, document numbers: nothing to change (and not empty)
        return text
    if _WIDE_ALNUM.search(text) is not None:
        text = text.translate(HALFWIDTH_ALNUM)
    return " ".join(text.split()).strip(INVISIBLE) or None


def halfwidth(value: Any) -> str:
    text = value if value.__class__ is str else as_text(value, "halfwidth")
    return text if text.isascii() or _WIDE.search(text) is None else text.translate(HALFWIDTH)


def cn_parens(value: Any) -> str:
    text = value if value.__class__ is str else as_text(value, "cn_parens")
    return text.replace("(", "（").replace(")", "）") if "(" in text or ")" in text else text


# ---------------------------------------------------------------- dates

_EPOCH = dt.date(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_CST_MS = 8 * 3600 * 1000  # China Standard Time, UTC+8, no daylight saving since 1991
_DAY_MS = 86_400_000

DATE_FORMATS: dict[str, str] = {
    "YYYY-MM-DD": r"(\d{4})-(\d{2})-(\d{2})",
    "YYYY-M-D": r"(\d{4})-(\d{1,2})-(\d{1,2})",
    "YYYY/M/D": r"(\d{4})/(\d{1,2})/(\d{1,2})",
    "YYYY.M.D": r"(\d{4})\.(\d{1,2})\.(\d{1,2})",
    "YYYYMMDD": r"(\d{4})(\d{2})(\d{2})",
    "YYYY年M月D日": r"(\d{4})年(\d{1,2})月(\d{1,2})日",
    "YYYY-MM-DD hh:mm:ss": r"(\d{4})-(\d{2})-(\d{2})[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?",
}
"""Declared date formats (the closed set a table may name), plus ``epoch_ms`` (milliseconds since
1970-01-01 UTC, read as a date in China Standard Time). ``hh:mm:ss`` keeps the date as written."""

DATE_FORMAT_NAMES: tuple[str, ...] = (*DATE_FORMATS, "epoch_ms")
EXCEL_SERIAL_MS = 2_958_466
"""Epoch milliseconds below this (1970-01-01 00:49 UTC, Excel's day number of 9999-12-31) are never a record's date."""
_NUMBERS = {str(n): n for n in range(100)} | {f"{n:02d}": n for n in range(10)}
"""Month and day texts (one or two digits) to their numbers: a dict lookup is cheaper than ``int()``."""


def date_parser(formats: Sequence[str], earliest: dt.date, latest: dt.date) -> Callable[[Any], dt.date]:
    """A parser trying ``formats`` in order; dates outside ``earliest``–``latest`` are errors."""
    written = [DATE_FORMATS[f] for f in formats if f != "epoch_ms"]
    # One alternation tried in the declared order (fullmatch backtracks into the next format); each
    # format has three groups, so the last group matched says which format read the text. ０-９: halfwidth first.
    pattern = re.compile("|".join(f"(?:{w})" for w in written), re.ASCII) if written else None
    epoch_ms = "epoch_ms" in formats
    declared = ", ".join(formats)

    def in_range(day: dt.date) -> dt.date:
        if earliest <= day <= latest:
            return day
        raise TransformFailure("date", "date.range", f"date {day.isoformat()} is outside {earliest}–{latest}")

    def excel(value: Any, what: str, rule: str) -> TransformFailure:
        day = excel_serial_date(value)
        if day is None:
            return TransformFailure("date", rule, what)
        return TransformFailure("date", "date.excel_serial", f"{what}; an Excel serial date? It would be {day.isoformat()} — "
                                                             "ask the sender to export dates as text")

    def from_epoch_ms(ms: int) -> dt.date:
        if 0 < ms < EXCEL_SERIAL_MS:  # the first 49 minutes of 1970: no record's date (a day number of Excel's?)
            raise excel(ms, "a number too small to be epoch milliseconds of a record's date", "date.range")
        try:  # the day number, in C: errors exactly where 1970-01-01 + that many days leaves date.min–date.max
            day = dt.date.fromordinal(_EPOCH_ORDINAL + (ms + _CST_MS) // _DAY_MS)
        except (OverflowError, ValueError):
            raise TransformFailure("date", "date.range", "epoch milliseconds out of any date range") from None
        return day if earliest <= day <= latest else in_range(day)

    iso_first = bool(formats) and formats[0] == "YYYY-MM-DD"
    # Eight ASCII digits can only be YYYYMMDD among the written formats (the others have separators),
    # and every format reads the same year, month and day from a text it matches, so the order of the
    # declared formats cannot change the day read: only whether epoch_ms gets a turn, which it never
    # does for a text a written format matches.
    compact = "YYYYMMDD" in formats
    # The same reasoning for the formats with separators: the mark after the year says which format a
    # text can be; split there, a declared format's parts are looked up, never parsed. Mark → whether
    # month and day need two digits (YYYY-MM-DD declared without YYYY-M-D).
    marks = {mark: short not in formats for mark, short, long in (("-", "YYYY-M-D", "YYYY-MM-DD"), ("/", "YYYY/M/D", ""),
                                                                   (".", "YYYY.M.D", "")) if short in formats or long in formats}
    chinese = "YYYY年M月D日" in formats

    def parse(value: Any) -> dt.date:
        if iso_first and value.__class__ is str and len(value) == 10 and value[4] == "-" and value[7] == "-" \
                and value.isascii():
            try:  # the common case, in C; anything odd falls through to the declared patterns
                day = dt.date.fromisoformat(value)
            except ValueError:
                pass
            else:
                return day if earliest <= day <= latest else in_range(day)
        if value.__class__ is dt.date:
            return in_range(value)
        if value.__class__ is int:
            if epoch_ms:
                return from_epoch_ms(value)
            raise excel(value, f"a number is not a date in the declared formats ({declared})", "date.type")
        if value.__class__ is float:
            raise excel(value, f"a number with a fraction is not a date in the declared formats ({declared})", "date.type")
        text = value if value.__class__ is str else as_text(value, "date")
        if compact and len(text) == 8 and text.isdigit() and text.isascii():  # YYYYMMDD, the only format it can be
            try:
                day = dt.date.fromisoformat(text)  # the ISO basic form, in C
            except ValueError:
                raise TransformFailure("date", "date.invalid", "no such day in the calendar") from None
            return day if earliest <= day <= latest else in_range(day)
        mark = text[4:5]
        two_digits = marks.get(mark)
        if two_digits is not None or (chinese and mark == "年" and text[-1:] == "日"):
            if two_digits is not None:
                parts = text.split(mark)
                year, month, day_of_month = parts if len(parts) == 3 else ("", "", "")
            else:
                year = text[:4]
                month, _, day_of_month = text[5:-1].partition("月")
            m, d = _NUMBERS.get(month), _NUMBERS.get(day_of_month)  # one or two ASCII digits, or None
            if m is not None and d is not None and year.isdigit() and year.isascii() and len(year) == 4 \
                    and not (two_digits and (len(month) != 2 or len(day_of_month) != 2)):
                try:
                    day = dt.date(int(year), m, d)
                except ValueError:
                    raise TransformFailure("date", "date.invalid", "no such day in the calendar") from None
                return day if earliest <= day <= latest else in_range(day)
        match = pattern.fullmatch(text) if pattern is not None else None
        if match is not None:
            last = match.lastindex or 0
            year, month, day_of_month = match.group(last - 2, last - 1, last)
            try:  # month and day are one or two ASCII digits: always in _NUMBERS
                day = dt.date(int(year), _NUMBERS[month], _NUMBERS[day_of_month])
            except ValueError:
                raise TransformFailure("date", "date.invalid", "no such day in the calendar") from None
            return day if earliest <= day <= latest else in_range(day)
        if epoch_ms and text.isdigit() and text.isascii():
            return from_epoch_ms(int(text))
        if text.isascii() and text.replace(".", "", 1).isdigit():
            raise excel(text, f"not a date in the declared formats ({declared})", "date.format")
        raise TransformFailure("date", "date.format", f"not a date in the declared formats ({declared})")

    return parse


def format_date(value: Any, layout: str) -> str:
    if not isinstance(value, dt.date):
        raise TransformFailure("format_date", "format_date.type", f"expected a date, got a {type(value).__name__}")
    return layout.replace("YYYY", f"{value.year:04d}").replace("MM", f"{value.month:02d}").replace("DD", f"{value.day:02d}")


# ---------------------------------------------------------------- amounts

UNITS: dict[str, int] = {"元": -4, "万元": 0}
"""Declared units of a bare number and the power of ten that turns them into 万元."""

_AMOUNT = re.compile(r"([+-]?)[¥￥]? ?((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+) ?(万元|元|万)?", re.ASCII)
_SUFFIX_SHIFT = {"元": -4, "万元": 0, "万": 0}


def amount_parser(unit: str) -> Callable[[Any], Decimal]:
    """A parser of amounts given in ``unit`` (元 or 万元) into exact 万元 with six places.

    Accepts ``5000``, ``5,000.00元``, ``0.5万元``, ``¥5000`` and Decimal/int values. A unit written in
    the value wins over the declared one. Negative, too large (beyond decimal(18,6)) and
    more-than-six-places amounts are errors, never rounded.
    """
    shift = UNITS[unit]

    def checked(wan: Decimal) -> Decimal:
        if wan < 0:
            raise TransformFailure("amount", "amount.negative", "an amount cannot be negative")
        if wan > AMOUNT_MAX_WAN:
            raise TransformFailure("amount", "amount.range", "larger than the standard holds (decimal 18,6 万元)")
        exact = wan.quantize(AMOUNT_QUANTUM)
        if exact != wan:
            raise TransformFailure("amount", "amount.places", "needs more than six decimal places in 万元 (below 0.01 元)")
        return exact if exact else exact.copy_abs()  # -0 is 0

    def parse(value: Any) -> Decimal:
        cls = value.__class__
        if cls is Decimal or cls is int:
            if cls is Decimal and not value.is_finite():
                raise TransformFailure("amount", "amount.format", "not a finite number")
            return checked(Decimal(value).scaleb(shift))
        if cls is float:
            return checked(Decimal(repr(value)).scaleb(shift))
        text = value if cls is str else as_text(value, "amount")
        if text.isdigit() and text.isascii():  # a bare number of the declared unit, the commonest form
            return checked(Decimal(text).scaleb(shift))
        match = _AMOUNT.fullmatch(text)
        if match is None:
            raise TransformFailure("amount", "amount.format", "not an amount (e.g. 5000, 5,000.00元, 0.5万元)")
        sign, digits, suffix = match.groups()
        try:
            number = Decimal(sign + digits.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimal numerals
            raise TransformFailure("amount", "amount.format", "not a number") from None
        return checked(number.scaleb(shift if suffix is None else _SUFFIX_SHIFT[suffix]))

    return parse
