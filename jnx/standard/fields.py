"""Field-level checks, one per element type of the dictionary.

Each check takes a raw value (from JSON, from XML text, or from Python code) and returns the exact
typed value — ``datetime.date``, ``Decimal`` with six places, ``bool``… — or raises
:class:`FieldProblem` naming the rule broken. The same functions back the generated pydantic
models and the validation service, so both judge a field identically. Checks that need other
fields or a date (code set versions, conditional rules) live in :mod:`jnx.standard.rules`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from jnx.codesets import (
    CodeSetRegistry,
    check_id_number,
    check_org_code,
    check_uscc,
    parse_amount_wan,
)
from jnx.standard.dictionary import DataElement, ElementType, ElementUse, Publication
from jnx.standard.facets import MASKED_ID_NUMBER_PATTERN

FieldCheck = Callable[[Any], Any]

# matched with fullmatch: "$" would also match before a final newline
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
AMOUNT_TEXT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,6})?")
INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
XML_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
NON_CHARACTERS = re.compile(
    "[\ud800-\udfff\ufdd0-\ufdef" + "".join(f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000)) + "]"
)
"""Lone surrogates (JSON's ``"\\ud800"``) and the 66 Unicode non-characters: never text."""
_NOT_TEXT = re.compile(CONTROL_CHARS.pattern[:-1] + NON_CHARACTERS.pattern[1:])
"""Either of the two above, in one search: text that has neither (nearly all) is judged in one pass.

Searched only in text that is not ``str.isprintable()``: every character of the class is a control
(Cc), a surrogate (Cs) or unassigned (Cn), none printable, so printable text (nearly all, and checked
in C far faster than this class of ranges is searched) cannot hold one. Text with a line break, a tab
or a full-width space is searched."""
MASKED_ID_NUMBER = re.compile(MASKED_ID_NUMBER_PATTERN)
_PERSONAL_DIGITS = re.compile(
    r"[0-9]{4}\s*[-/.年]\s*[0-9]{1,2}\s*[-/.月]\s*[0-9]{1,2}日?"  # a date: 1990-02-15, 1990/2/15, 1990年2月15日
    r"|[0-9]{6,}"  # a birth date written 19900215, an ID number
)


class FieldProblem(ValueError):
    """One field breaks one rule."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def scrub(message: str) -> str:
    """Hide dates and runs of six or more digits (a birth date, an ID number) in a message about personal data."""
    return _PERSONAL_DIGITS.sub(lambda m: "*" * len(m.group()), message)


def _text(value: Any, element: DataElement, max_length: int | None) -> str:
    if not isinstance(value, str):
        raise FieldProblem("type.string", f"expected text, got {type(value).__name__}")
    if value == "":
        raise FieldProblem("string.empty", "empty text; leave the field out instead")
    if not str.isprintable(value) and _NOT_TEXT.search(value):  # one of the two below: the control character is reported first
        _refuse_not_text(value)
    if max_length is not None and len(value) > max_length:
        raise FieldProblem("string.max_length", f"{len(value)} characters, at most {max_length} allowed")
    return value


def _refuse_not_text(value: str) -> None:
    if CONTROL_CHARS.search(value):
        raise FieldProblem("string.control_char", "contains a control character")
    bad = NON_CHARACTERS.search(value)
    if bad:
        kind = "a lone surrogate" if "\ud800" <= bad.group() <= "\udfff" else "a Unicode non-character"
        raise FieldProblem("string.non_character", f"contains {kind} (U+{ord(bad.group()):04X} at character {bad.start() + 1}), which is not text")


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise FieldProblem("date.format", "expected a date, got a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise FieldProblem("date.invalid", f"{value!r} is not a real calendar date") from None
    raise FieldProblem("date.format", f"{value!r} is not a date in the form YYYY-MM-DD")


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise FieldProblem("amount.wan", f"expected an amount in 万元 as a decimal, got {type(value).__name__}")
    if isinstance(value, str) and not AMOUNT_TEXT.fullmatch(value):
        raise FieldProblem("amount.format", f"{value!r} is not an amount like 0.2 or 12.345678 (万元, up to 6 decimals)")
    try:
        return parse_amount_wan(value)
    except ValueError as exc:
        raise FieldProblem("amount.wan", str(exc)) from None


def _integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and INTEGER_TEXT.fullmatch(value):
        return int(value)
    raise FieldProblem("type.integer", f"{value!r} is not an integer")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in XML_BOOLEANS:
        return XML_BOOLEANS[value]
    raise FieldProblem("type.boolean", f"{value!r} is not true or false")


def known_anywhere(registry: CodeSetRegistry, codeset: str, value: str) -> bool:
    """Is ``value`` a code (or alias, or prefixed free text) of any version of ``codeset``?"""
    return any(version.lookup(value) is not None for version in registry.get(codeset).versions)


def _code(value: Any, element: DataElement, registry: CodeSetRegistry) -> str:
    code = _text(value, element, None)
    assert element.codeset is not None
    if element.name_required:
        base, dash, name = code.partition("-")
        if base in element.name_required:
            if dash and name.strip():
                return code  # 其他-取缔: the code with the name it needs
            raise FieldProblem(f"codeset.{element.codeset}.name_required",
                               f"{code!r} alone does not say which; write {base}-<name> ({element.name_required[base]})")
    if not known_anywhere(registry, element.codeset, code):
        verdict = registry.check(element.codeset, code)
        raise FieldProblem(verdict.rule or f"codeset.{element.codeset}.unknown", verdict.reason or f"{code!r} is not a code")
    return code


def _items(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise FieldProblem("type.list", f"expected a list of {what}, got {type(value).__name__}")
    if not value:
        raise FieldProblem("list.empty", "an empty list; leave the field out instead")
    return value


def _code_list(value: Any, element: DataElement, code_check: Callable[[Any], str]) -> list[str] | str:
    if element.separator:
        text = _text(value, element, element.max_length)
        codes = text.split(element.separator)
        for code in codes:
            code_check(code)
        return text
    codes = [code_check(item) for item in _items(value, "codes")]
    if len(set(codes)) != len(codes):
        raise FieldProblem("list.duplicate", "a code appears twice")
    return codes


def _uscc(value: Any, element: DataElement, allow_placeholder: bool) -> str:
    code = _text(value, element, None)
    # the embedded organisation code only ever adds a warning to a valid code, which a field check drops
    verdict = check_uscc(code, allow_placeholder=allow_placeholder, check_embedded_org_code=False)
    if not verdict:
        raise FieldProblem(verdict.rule or "uscc", verdict.reason or "not a valid credit code")
    return code


def _verdict_checked(value: Any, element: DataElement, check: Callable[[str], Any]) -> str:
    text = _text(value, element, None)
    verdict = check(text)
    if not verdict:
        raise FieldProblem(verdict.rule or element.type.value, verdict.reason or "invalid")
    return text


#: Bound of each per-check memo of pure value checks (credit codes, ID numbers, code membership):
#: a memo that fills up is emptied and starts again, so memory stays bounded on any input.
MEMO_SIZE = 4096


def _memoised(check: Callable[[str], str]) -> Callable[[str], str]:
    """``check`` (a pure function of one text) remembering the values that passed.

    Only passes are kept: a failing value raises FieldProblem again each time, with its own message.
    The set of passes is the function's ``passed`` attribute (see :func:`passed_values`).
    """
    passed: set[str] = set()

    def memoised(value: Any) -> str:
        if type(value) is str and value in passed:
            return value
        checked = check(value)
        if len(passed) >= MEMO_SIZE:
            passed.clear()
        passed.add(checked)
        return checked

    memoised.passed = passed  # type: ignore[attr-defined]
    return memoised


def passed_values(check: FieldCheck) -> set[str] | None:
    """The texts a memoised field check has passed (a ``str`` in it passes as itself), else None.

    Read-only for callers: the check adds to it and empties it when it is full.
    """
    return getattr(check, "passed", None)


def passed_items(check: FieldCheck) -> set[str] | None:
    """For a list of codes (not one separated text), the codes its check has passed, else None: a
    ``list`` of distinct ``str`` all in it passes as a copy of itself. Read-only, as :func:`passed_values`."""
    return getattr(check, "passed_items", None)


def text_limit(element: DataElement) -> int | None:
    """For a text element, its maximum length: a ``str`` of 1..limit characters that is
    ``str.isprintable()`` or holds no control character nor non-character passes its check as itself."""
    return element.max_length if element.type is ElementType.STRING else None


def field_check(element: DataElement, registry: CodeSetRegistry, *, allow_placeholder: bool = False) -> FieldCheck:
    """The check of one element: raw value in, typed value out (or FieldProblem).

    The check for the element's type is chosen once, here, not on every value; the checks of
    credit codes, organisation codes, ID numbers and codes are memoised on the values that passed.
    """
    kind = element.type
    check: FieldCheck
    if kind is ElementType.STRING:
        max_length = element.max_length

        def check(value: Any) -> Any:
            return _text(value, element, max_length)
    elif kind is ElementType.CODE:
        check = _memoised(lambda value: _code(value, element, registry))
    elif kind is ElementType.CODE_LIST:
        code_check = _memoised(lambda value: _code(value, element, registry))

        def check(value: Any) -> Any:
            return _code_list(value, element, code_check)

        check.passed_items = code_check.passed  # type: ignore[attr-defined]
    elif kind is ElementType.STRING_LIST:
        def check(value: Any) -> Any:
            return [_text(item, element, element.max_length) for item in _items(value, "texts")]
    elif kind is ElementType.DATE:
        check = _date
    elif kind is ElementType.DECIMAL_WAN:
        check = _amount
    elif kind is ElementType.INTEGER:
        check = _integer
    elif kind is ElementType.BOOLEAN:
        check = _boolean
    elif kind is ElementType.USCC:
        check = _memoised(lambda value: _uscc(value, element, allow_placeholder))
    elif kind is ElementType.ORG_CODE:
        check = _memoised(lambda value: _verdict_checked(value, element, check_org_code))
    else:
        check = _memoised(lambda value: _verdict_checked(value, element, check_id_number))
    if element.publication is Publication.NOT_PUBLISHED:
        return _scrubbed(check)
    return check


def use_check(use: ElementUse, registry: CodeSetRegistry) -> FieldCheck:
    """The check of an element as a record type uses it (the placeholder credit code where the use allows it)."""
    return field_check(use.element, registry, allow_placeholder=use.placeholder_when is not None)


def masked_id_number_problem(value: str, *, today: dt.date) -> tuple[str, str] | None:
    """(rule, message) when ``value`` is not a masked resident ID number; the message never shows the value.

    A full, valid ID number is the worst case — personal data about to be published — and has a rule
    of its own; anything else that is not 6 digits, 8 ``*``, 3 digits and a digit or X is a format error.
    """
    if MASKED_ID_NUMBER.fullmatch(value):
        return None
    if check_id_number(value, today=today):
        return "id_number.clear_in_disclosure", "a natural person's ID number must be published masked (6 digits, 8 '*', the last 4), never in clear"
    return "id_number.masked_format", "not a masked resident ID number: expected 6 digits, 8 '*', 3 digits and a digit or X (18 characters)"


def _scrubbed(check: FieldCheck) -> FieldCheck:
    def scrubbed(value: Any) -> Any:
        try:
            return check(value)
        except FieldProblem as exc:
            raise FieldProblem(exc.rule, scrub(exc.message)) from None

    for memo in ("passed", "passed_items"):
        if hasattr(check, memo):
            setattr(scrubbed, memo, getattr(check, memo))
    return scrubbed


PYTHON_TYPES: dict[ElementType, Any] = {
    ElementType.STRING: str,
    ElementType.CODE: str,
    ElementType.STRING_LIST: list[str],
    ElementType.DATE: dt.date,
    ElementType.DECIMAL_WAN: Decimal,
    ElementType.INTEGER: int,
    ElementType.BOOLEAN: bool,
    ElementType.USCC: str,
    ElementType.ORG_CODE: str,
    ElementType.ID_NUMBER: str,
}


def python_type(element: DataElement) -> Any:
    """The exact Python type a model holds for ``element``."""
    if element.type is ElementType.CODE_LIST:
        return str if element.separator else list[str]
    return PYTHON_TYPES[element.type]
