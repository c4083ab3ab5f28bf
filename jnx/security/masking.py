"""Masking of personal data (个人信息脱敏) for disclosures, logs and error messages.

Pure functions with no dependencies inside jnx, so the mapping engine, the error queue and the
outbound tables can all use them. The exact public format is a provincial decision not found in
the sources (REFERENCE.md §2.2): the rule is configurable through :class:`MaskRule`; the default
keeps the first 6 and last 4 characters of an identity number, which hides the birth date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def mask_id_numbers_in(text: str) -> str:
    """Every ID-number-shaped run in ``text`` masked — valid or not, it is personal either way."""
    return ID_NUMBER_LIKE.sub(lambda match: mask_id_number(match.group(0)), text)
