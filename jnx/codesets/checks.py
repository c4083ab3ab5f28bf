"""Named checks: every code set and every identifier validator under one name space.

``check("penalty_type", "通报批评", on=date)`` and ``check("uscc", "91370800MA3C00011N")`` answer
the same way, with a :class:`Verdict`; the command line (``jnx codesets check NAME VALUE``), the
data standard and the mapping engine use the one entry point. An unknown name raises
:class:`CodeSetError` listing every known name, code sets and validators alike.

``on`` is the date of the record (its decision date). Code sets use it to pick the version in
force; ``id_number`` uses it as the latest possible birth date; the other validators ignore it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from jnx.codesets.registry import CodeSetRegistry, default_registry
from jnx.codesets.validators import (
    Verdict,
    check_amount_wan,
    check_date,
    check_id_number,
    check_org_code,
    check_uscc,
)
from jnx.errors import CodeSetError


class Check(Protocol):
    """The role every named check plays: judge one value, as of a date."""

    def __call__(self, value: str, on: dt.date | None = None, /) -> Verdict: ...


@dataclass(frozen=True, slots=True)
class Validator:
    """An identifier or value validator with a name, usable wherever a code set name is."""

    name: str
    title: str
    title_en: str
    description: str
    rules: tuple[str, ...]
    judge: Callable[[str, dt.date | None], Verdict]

    def __call__(self, value: str, on: dt.date | None = None, /) -> Verdict:
        return self.judge(value, on)


VALIDATORS: Mapping[str, Validator] = {
    v.name: v
    for v in (
        Validator(
            "uscc",
            "统一社会信用代码",
            "Unified social credit code",
            "GB 32100-2015: 18 characters of 0-9 and A-Z without I, O, S, V, Z; a known 登记管理部门/机构类别 "
            "pair (e.g. 91, 92, N2, A1, Y1); six region digits; the MOD 31 check character. The 双公示 "
            "placeholder 00000000000000000X is rejected here (only 行政相对人代码_1 admits it, for a "
            "法人及非法人组织 or 个体工商户 with its 工商注册号 and never for a 自然人, see "
            "check_uscc(allow_placeholder=True)). Warns (uscc.org_code) when positions "
            "9–17 fail GB 11714.",
            (
                "uscc.placeholder",
                "uscc.length",
                "uscc.charset",
                "uscc.registration_kind",
                "uscc.region",
                "uscc.check_char",
                "uscc.org_code (warning)",
            ),
            lambda value, on: check_uscc(value),
        ),
        Validator(
            "id_number",
            "居民身份证号码",
            "Resident identity number",
            "GB 11643-1999: 17 digits and a MOD 11-2 check digit or X; positions 7–14 a real birth date, not "
            "after the record's date. The area prefix is not checked against the birth year. 15-digit "
            "first-generation numbers are rejected (id_number.legacy_15): convert with upgrade_id_15_to_18.",
            ("id_number.legacy_15", "id_number.length", "id_number.charset", "id_number.birth_date", "id_number.check_digit"),
            lambda value, on: check_id_number(value, today=on),
        ),
        Validator(
            "org_code",
            "组织机构代码",
            "Organisation code",
            "GB 11714: 8 digits or uppercase letters and a MOD 11 check character (digit or X), written "
            "XXXXXXXXC or XXXXXXXX-C.",
            ("org_code.length", "org_code.charset", "org_code.check_char"),
            lambda value, on: check_org_code(value),
        ),
        Validator(
            "amount_wan",
            "金额（万元）",
            "Amount in 10,000 yuan",
            "A non-negative decimal amount in 万元 with at most six decimal places, at most decimal(18,6); "
            "never rounded.",
            ("amount.wan",),
            lambda value, on: check_amount_wan(value),
        ),
        Validator(
            "date",
            "日期",
            "Date",
            "A real calendar date written YYYY-MM-DD.",
            ("date.format", "date.real"),
            lambda value, on: check_date(value),
        ),
    )
}


def known_names(registry: CodeSetRegistry | None = None) -> list[str]:
    """Every name ``check`` accepts: the code sets of ``registry`` and the validators, sorted."""
    registry = registry or default_registry()
    clash = set(registry.names()) & set(VALIDATORS)
    if clash:
        raise CodeSetError(f"code set(s) {', '.join(sorted(clash))} have the name of a validator; rename the data file")
    return sorted([*registry.names(), *VALIDATORS])


def named_check(name: str, registry: CodeSetRegistry | None = None) -> Check:
    """The check called ``name``: a validator or a code set's ``check``."""
    registry = registry or default_registry()
    if name in VALIDATORS:
        return VALIDATORS[name]
    if name in registry:
        return registry.get(name).check
    raise CodeSetError(
        f"unknown code set or validator {name!r}; known: {', '.join(known_names(registry))}",
        hint="`jnx codesets list` shows every code set and validator",
    )


def check(name: str, value: str, on: dt.date | None = None, *, registry: CodeSetRegistry | None = None) -> Verdict:
    """Judge ``value`` with the code set or validator called ``name``, as of the record date ``on``."""
    return named_check(name, registry)(value, on)
