"""One name space for code sets and validators: ``check(name, value, on)``."""

from __future__ import annotations

import datetime as dt

import pytest

from jnx.codesets.checks import VALIDATORS, check, known_names, named_check
from jnx.codesets.registry import CodeSetRegistry, default_registry, parse_codeset
from jnx.errors import CodeSetError


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("uscc", "91370800MA3C00011N", True),
        ("uscc", "91370800MA3C00011M", False),
        ("uscc", "00000000000000000X", False),
        ("id_number", "370883198506301236", True),
        ("id_number", "370883198506301237", False),
        ("org_code", "60003734-1", True),
        ("amount_wan", "0.2", True),
        ("amount_wan", "0.12345678", False),
        ("date", "2021-07-15", True),
        ("party_type", "个体工商户", True),
        ("party_type", "个人", False),
        ("license_type", "特许", True),
        ("coercive_measure_type", "200", True),
        ("coercive_enforcement_type", "07", False),
        ("enforcement_act_type", "02", True),
        ("inspection_result", "A", True),
        ("inspection_result", "H", False),
    ],
)
def test_check_dispatches_to_code_sets_and_validators(name: str, value: str, ok: bool) -> None:
    assert check(name, value).ok is ok


def test_the_date_picks_the_code_set_version() -> None:
    assert not check("penalty_type", "通报批评", dt.date(2020, 5, 1)).ok
    assert check("penalty_type", "通报批评", dt.date(2022, 5, 1)).ok


def test_for_id_numbers_the_date_is_the_latest_possible_birth_date() -> None:
    assert check("id_number", "370811199002150027", dt.date(2020, 1, 1)).ok
    assert check("id_number", "370811199002150027", dt.date(1989, 1, 1)).rule == "id_number.birth_date"


def test_an_unknown_name_lists_every_code_set_and_validator() -> None:
    with pytest.raises(CodeSetError) as caught:
        check("credit_code", "x")
    message = str(caught.value)
    for name in [*default_registry().names(), *VALIDATORS]:
        assert name in message
    assert caught.value.exit_code == 3


def test_known_names_are_code_sets_and_validators() -> None:
    assert set(known_names()) == set(default_registry().names()) | {"uscc", "id_number", "org_code", "amount_wan", "date"}


def test_a_code_set_may_not_take_a_validators_name() -> None:
    clash = parse_codeset(
        {"format": 1, "name": "uscc", "versions": [{"version": "1", "valid_from": "2000-01-01", "entries": [{"code": "a", "label": "A"}]}]},
        "uscc.yaml",
    )
    with pytest.raises(CodeSetError, match="name of a validator"):
        named_check("nothing", CodeSetRegistry([clash]))
