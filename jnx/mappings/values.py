"""Parsing the messy values source systems send: text, dates, amounts.

Pure functions, compiled once per declared format, used by the transforms in
:mod:`jnx.mappings.transforms`. A value that cannot be read raises :class:`TransformFailure` with a
rule (``date.format``, ``amount.negative`` …) and a message a reviewer understands. Messages never
repeat the value itself: the issue carries it separately, masked when the field is personal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

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

CN_PARENS = {ord("("): "（", ord(")"): "）"}
"""Half-width parentheses to the full-width ones Chinese names are registered with."""

def as_text(value: Any, transform: str) -> str:
    """Strings pass (a ``str`` subclass, e.g. lxml's, as its plain text); integers and Decimals become
    their digits; anything else is an error."""
    if value.__class__ is str:
        return value  # type: ignore[no-any-return]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    raise TransformFailure(transform, f"{transform}.type", f"expected text, got a {type(value).__name__}")


_WIDE = re.compile("[\uff01-\uff5e\u3000]")
_WIDE_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]")
_INVISIBLE = "\u200b\ufeff"  # not whitespace to Python's str.split(), but never wanted around a value


def trim(value: Any) -> str | None:
    """Strip surrounding whitespace (including U+3000, NBSP, BOM); empty text becomes no value."""
    text = (value if value.__class__ is str else as_text(value, "trim")).strip(STRIP_CHARS)
    return text or None


def squeeze(value: Any) -> str | None:
    """Whitespace runs (any Unicode whitespace, newlines) to one space, then trim."""
    text = value if value.__class__ is str else as_text(value, "squeeze")
    if text.isascii():  # O(1) for str: no full-width forms, no zero-width space, no BOM to look for
        return " ".join(text.split()) or None
    return " ".join(text.split()).strip(_INVISIBLE) or None


def clean(value: Any) -> str | None:
    """Full-width digits and letters to half-width, whitespace runs to one space, then trim."""
    text = value if value.__class__ is str else as_text(value, "clean")
    if text.isalnum():  # one word (ID numbers, most names): no whitespace, no zero-width space or BOM
        return text if text.isascii() or _WIDE_ALNUM.search(text) is None else text.translate(HALFWIDTH_ALNUM)
    if text.isascii():
        return " ".join(text.split()) or None
    if _WIDE_ALNUM.search(text) is not None:
        text = text.translate(HALFWIDTH_ALNUM)
    return " ".join(text.split()).strip(_INVISIBLE) or None


def halfwidth(value: Any) -> str:
    text = value if value.__class__ is str else as_text(value, "halfwidth")
    return text if text.isascii() or _WIDE.search(text) is None else text.translate(HALFWIDTH)


def cn_parens(value: Any) -> str:
    text = value if value.__class__ is str else as_text(value, "cn_parens")
    return text.translate(CN_PARENS) if "(" in text or ")" in text else text


# ---------------------------------------------------------------- dates

_EPOCH = dt.date(1970, 1, 1)
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

    def from_epoch_ms(ms: int) -> dt.date:
        try:
            return in_range(_EPOCH + dt.timedelta(days=(ms + _CST_MS) // _DAY_MS))
        except OverflowError:
            raise TransformFailure("date", "date.range", "epoch milliseconds out of any date range") from None

    iso_first = bool(formats) and formats[0] == "YYYY-MM-DD"

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
            raise TransformFailure("date", "date.type", f"a number is not a date in the declared formats ({declared})")
        text = value if value.__class__ is str else as_text(value, "date")
        match = pattern.fullmatch(text) if pattern is not None else None
        if match is not None:
            last = match.lastindex
            try:
                day = dt.date(int(match[last - 2]), int(match[last - 1]), int(match[last]))
            except ValueError:
                raise TransformFailure("date", "date.invalid", "no such day in the calendar") from None
            return in_range(day)
        if epoch_ms and text.isdigit() and text.isascii():
            return from_epoch_ms(int(text))
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
