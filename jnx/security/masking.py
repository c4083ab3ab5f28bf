"""Masking of personal data (个人信息脱敏) for disclosures, logs and error messages.

Pure functions with no dependencies inside jnx, so the mapping engine, the error queue and the
outbound tables can all use them. The exact public format is a provincial decision not found in
the sources (REFERENCE.md §2.2): the rule is configurable through :class:`MaskRule`; the default
keeps the first 6 and last 4 characters of an identity number, which hides the birth date.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MASK_CHAR = "*"


@dataclass(frozen=True, slots=True)
class MaskRule:
    """Keep ``keep_head`` leading and ``keep_tail`` trailing characters; mask the rest."""

    keep_head: int = 6
    keep_tail: int = 4

    def apply(self, value: str) -> str:
        if not value:
            return value
        n = len(value)
        head = min(self.keep_head, n)
        tail = min(self.keep_tail, max(n - head, 0))
        if head + tail >= n:  # too short to show anything safely
            return MASK_CHAR * n
        return value[:head] + MASK_CHAR * (n - head - tail) + (value[n - tail:] if tail else "")


ID_NUMBER_RULE = MaskRule(keep_head=6, keep_tail=4)
PHONE_RULE = MaskRule(keep_head=3, keep_tail=4)
GENERIC_RULE = MaskRule(keep_head=1, keep_tail=1)


def mask_id_number(value: str, rule: MaskRule = ID_NUMBER_RULE) -> str:
    """``370811199002150027`` → ``370811********0027``."""
    return rule.apply(value)


def mask_name(value: str) -> str:
    """A natural person's name: keep the surname (first character), ``张三丰`` → ``张**``."""
    if not value:
        return value
    return value[0] + MASK_CHAR * (len(value) - 1)


def mask_phone(value: str) -> str:
    return PHONE_RULE.apply(value)


def mask_value(value: object, rule: MaskRule = GENERIC_RULE) -> str:
    """Mask any value shown in an error or a log line when its field is personal."""
    return rule.apply(str(value))


#: Something shaped like an 18-character resident ID number inside any text (not part of a longer
#: code). Chinese characters around it do not hide it (no ``\b``: they are word characters).
ID_NUMBER_LIKE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")

#: Candidates the content masking looks at: 18 characters (17 digits and a digit or X) or 15 digits,
#: not inside a longer run of digits. Letters may touch them (``身份证ID370811…``, ``no.370811…``).
_CANDIDATE = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
ID15_RULE = ID_NUMBER_RULE  # 370811*****5002, as mask_id_number masks 15 digits


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return 1880 <= year <= 2100


def is_valid_id_number(value: str) -> bool:
    """A valid resident ID number (GB 11643): 18 characters with an area code, a real birth date and
    the MOD 11-2 check character; or a first-generation 15-digit number with an area code and a real
    birth date (YYMMDD, born 19YY)."""
    if len(value) == 18 and value[:17].isascii() and value[:17].isdigit():
        if value[0] not in "12345678" or not _real_date(int(value[6:10]), int(value[10:12]), int(value[12:14])):
            return False
        check = _ID_CHECK[sum(int(ch) * w for ch, w in zip(value[:17], _ID_WEIGHTS, strict=True)) % 11]
        return value[17].upper() == check
    if len(value) == 15 and value.isascii() and value.isdigit():
        return value[0] in "12345678" and _real_date(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))
    return False


def _masked_candidate(match: re.Match[str]) -> str:
    found = match.group(0)
    start, end = match.span()
    text = match.string
    alone = (start == 0 or not text[start - 1].isascii() or not text[start - 1].isalpha()) and (
        end == len(text) or not text[end].isascii() or not text[end].isalpha())
    if len(found) == 18 and (alone or is_valid_id_number(found)):
        return mask_id_number(found)  # 18 characters standing alone: personal whether valid or mistyped
    if len(found) == 15 and is_valid_id_number(found):
        return ID15_RULE.apply(found)
    return found


def mask_id_numbers_in(text: str) -> str:
    """Every ID number in ``text`` masked: any valid 18- or 15-digit ID number wherever it stands
    (letters around it do not hide it), and any 18-character ID-number shape standing alone, valid or
    not (a mistyped ID number is personal too). A longer run of digits is not an ID number."""
    if len(text) < 15:
        return text
    return _CANDIDATE.sub(_masked_candidate, text)


def _masked_valid(match: re.Match[str]) -> str:
    found = match.group(0)
    if not is_valid_id_number(found):
        return found
    return mask_id_number(found) if len(found) == 18 else ID15_RULE.apply(found)


def mask_text(text: str) -> str:
    """What every text a person or a log reads goes through (CLI output, errors and their stored
    values, audit details, logs, API answers): every *valid* 18- or 15-digit ID number masked
    wherever it stands. Invalid shapes (a credit code of digits, the placeholder
    ``00000000000000000X``) are left as they are; :func:`mask_id_numbers_in` also masks those
    where any ID-number shape is personal (raw payloads)."""
    if len(text) < 15:
        return text
    return _CANDIDATE.sub(_masked_valid, text)


def mask_deep(node: Any) -> Any:
    """``node`` (JSON-like: dicts, lists, strings, scalars) with :func:`mask_text` applied to every
    string in it, keys included. Other values are returned as they are."""
    if isinstance(node, str):
        return mask_text(node)
    if isinstance(node, Mapping):
        return {(mask_text(k) if isinstance(k, str) else k): mask_deep(v) for k, v in node.items()}
    if isinstance(node, list):
        return [mask_deep(v) for v in node]
    if isinstance(node, tuple):
        return tuple(mask_deep(v) for v in node)
    return node


class MaskingFormatter(logging.Formatter):
    """Formats as ``inner`` does, then masks every valid ID number in the whole line (message,
    arguments and any traceback text)."""

    def __init__(self, inner: logging.Formatter | None = None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(self.inner.format(record))


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Mask ID numbers in everything written by the handlers of ``logger`` (the root by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not isinstance(handler.formatter, MaskingFormatter):
            handler.setFormatter(MaskingFormatter(handler.formatter))
