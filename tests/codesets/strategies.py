"""Hypothesis strategies for valid identifiers, built from the algorithms' own definitions."""

from __future__ import annotations

import datetime as dt
import string

from hypothesis import strategies as st

from jnx.codesets.validators import (
    USCC_ALPHABET,
    USCC_REGISTRATION_KINDS,
    id_check_char,
    org_code_check_char,
    uscc_check_char,
)

REGISTRATION_PAIRS = [a + b for a, kinds in USCC_REGISTRATION_KINDS.items() for b in kinds]
DIGITS = string.digits
ORG_ALPHABET = string.digits + string.ascii_uppercase


@st.composite
def valid_usccs(draw: st.DrawFn, pairs: list[str] = REGISTRATION_PAIRS) -> str:
    """A credit code: a known 登记管理部门/机构类别 pair, six region digits, any body, its check char."""
    first17 = (
        draw(st.sampled_from(pairs))
        + draw(st.text(DIGITS, min_size=6, max_size=6))
        + draw(st.text(USCC_ALPHABET, min_size=9, max_size=9))
    )
    return first17 + uscc_check_char(first17)


@st.composite
def valid_id_numbers(draw: st.DrawFn) -> str:
    """An 18-character ID number: any area digits, a real birth date, a sequence, the check digit."""
    born = draw(st.dates(min_value=dt.date(1880, 1, 1), max_value=dt.date(2025, 12, 31)))
    first17 = draw(st.text(DIGITS, min_size=6, max_size=6)) + born.strftime("%Y%m%d") + draw(st.text(DIGITS, min_size=3, max_size=3))
    return first17 + id_check_char(first17)


@st.composite
def valid_org_codes(draw: st.DrawFn) -> str:
    body = draw(st.text(ORG_ALPHABET, min_size=8, max_size=8))
    return body + org_code_check_char(body)


def substitutions(code: str, alphabet: str) -> list[tuple[int, str, str]]:
    """Every code that differs from ``code`` in exactly one position: (position, new char, code)."""
    return [(i, ch, code[:i] + ch + code[i + 1 :]) for i in range(len(code)) for ch in alphabet if ch != code[i]]
