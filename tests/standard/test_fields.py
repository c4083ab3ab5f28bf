"""Field checks: text is real text, amounts plain decimals, and messages about personal data scrubbed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jnx.codesets import default_registry
from jnx.standard import default_dictionary, fields
from jnx.standard.fields import FieldProblem, field_check, scrub


def check(field: str, value: Any) -> Any:
    return field_check(default_dictionary().elements[field], default_registry())(value)


def problem(field: str, value: Any) -> FieldProblem:
    with pytest.raises(FieldProblem) as raised:
        check(field, value)
    return raised.value


@pytest.mark.parametrize("bad", ["\ud800", "济宁\udfff示例", "\ufffe", "\U0010ffff", "\ufdd0"])
def test_lone_surrogates_and_non_characters_are_not_text(bad: str) -> None:
    refused = problem("party_name", bad)
    assert refused.rule == "string.non_character"
    assert f"U+{ord(next(ch for ch in bad if ch not in '济宁示例')):04X}" in refused.message


def test_ordinary_text_beyond_the_basic_plane_is_text() -> None:
    assert check("party_name", "𠀀济宁示例😀") == "𠀀济宁示例😀"


@pytest.mark.parametrize("value", ["１２", "1e3", " 1.5 ", "1.5\n", "0.2\n"])
def test_amounts_are_plain_ascii_decimals(value: str) -> None:
    assert problem("fine_amount", value).rule == "amount.format"


def test_an_amount_is_a_six_place_decimal() -> None:
    assert check("fine_amount", "0.2") == Decimal("0.200000")


def test_a_final_newline_does_not_slip_past_the_date_form() -> None:
    assert problem("decision_date", "2022-05-01\n").rule == "date.format"


@pytest.mark.parametrize(
    ("message", "hidden"),
    [
        ("birth date 2100-02-15 is out of range", "2100-02-15"),
        ("positions 7–14 (19900230) are not a real date", "19900230"),
        ("born 1990/2/15", "1990/2/15"),
        ("born 1990年2月15日", "1990年2月15日"),
        ("number 370811199002150027", "370811199002150027"),
    ],
)
def test_scrub_hides_dates_and_long_digit_runs(message: str, hidden: str) -> None:
    scrubbed = scrub(message)
    assert hidden not in scrubbed and "*" * len(hidden) in scrubbed


def test_scrub_keeps_short_numbers() -> None:
    assert scrub("positions 7–14, 18 characters") == "positions 7–14, 18 characters"


# Field checks remember the values that passed (credit codes, organisation codes, ID numbers, codes):
# a failure fails again with the same message, and the memo stays bounded.


def test_a_bad_credit_code_fails_every_time_with_the_same_message() -> None:
    check = field_check(default_dictionary().elements["party_credit_code"], default_registry())
    assert check("91370800MA3C00011N") == "91370800MA3C00011N"
    assert check("91370800MA3C00011N") == "91370800MA3C00011N"  # from the memo
    failures = []
    for _ in range(2):
        with pytest.raises(FieldProblem) as raised:
            check("91370800MA3C00011X")
        failures.append((raised.value.rule, raised.value.message))
    assert failures[0] == failures[1]
    assert failures[0][0] == "uscc.check_char"


def test_a_remembered_code_is_still_checked_for_its_type() -> None:
    check = field_check(default_dictionary().elements["party_type"], default_registry())
    assert check("法人及非法人组织") == "法人及非法人组织"
    with pytest.raises(FieldProblem) as raised:
        check(["法人及非法人组织"])
    assert raised.value.rule == "type.string"


def test_the_field_memo_is_bounded_and_stays_right_when_emptied(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fields, "MEMO_SIZE", 2)
    check = field_check(default_dictionary().elements["penalty_types"], default_registry())
    codes = ["警告", "罚款", "通报批评", "没收违法所得"]
    for _ in range(2):
        assert [check([code]) for code in codes] == [[code] for code in codes]
    with pytest.raises(FieldProblem):
        check(["无此类"])


# Text is searched for control characters and non-characters only when it is not str.isprintable():
# printable text cannot hold one, since every character of that class is unprintable.


def test_no_control_character_nor_non_character_is_printable() -> None:
    members = [chr(cp) for cp in range(0x110000) if fields._NOT_TEXT.match(chr(cp))]
    assert len(members) == 29 + 2048 + 32 + 34  # C0 controls but tab, LF, CR; surrogates; U+FDD0–FDEF; U+xFFFE/xFFFF of 17 planes
    assert not any(ch.isprintable() for ch in members)


@given(st.text(alphabet=st.characters(codec=None), max_size=40) | st.text(alphabet="济宁\t\n\r\x01\x1f\ud800\udfff\ufdd0\uffff\U0010fffe 　", max_size=12))
def test_text_is_judged_as_by_the_single_search(text: str) -> None:
    def defined(value: str) -> tuple[str, str] | str:
        try:
            if fields._NOT_TEXT.search(value):
                fields._refuse_not_text(value)
            return value if len(value) <= 200 else ("string.max_length", "")
        except FieldProblem as problem:
            return problem.rule, problem.message

    def got(value: str) -> tuple[str, str] | str:
        try:
            return check("party_name", value)
        except FieldProblem as problem:
            return problem.rule, problem.message if problem.rule != "string.max_length" else ""

    if text:
        assert got(text) == defined(text)
