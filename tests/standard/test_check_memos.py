"""The record check remembers pure verdicts, and judging a record twice never changes its verdict.

Field checks keep the values that passed (credit codes, organisation codes, ID numbers, codes);
the record rules keep code verdicts by (code set, code, day) and ID number verdicts by (number,
day). These tests hold what that must not change: a failure fails again with the same message,
a verdict on one day is never reused for another, and the memos stay bounded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jnx.codesets import default_registry
from jnx.standard import check_record, default_dictionary
from jnx.standard import fields, rules
from jnx.standard.fields import FieldProblem, field_check
from tests.standard.conftest import TODAY
from tests.standard.samples.build import BASES, PARTY_FIELDS, as_natural_person


def judged(record_type: str, data: dict[str, Any], today: dt.date = TODAY) -> list[tuple[str, str, str]]:
    checked = check_record(default_dictionary().record_type(record_type), data, today=today, registry=default_registry())
    return [(issue.field, issue.rule, issue.message) for issue in checked.issues]


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


def test_a_code_judged_on_one_day_is_judged_again_on_another() -> None:
    in_2022 = {**BASES["penalty"], "penalty_types": ["通报批评"], "decision_date": "2022-05-01"}
    in_2020 = {**in_2022, "decision_date": "2020-05-01"}
    for _ in range(2):
        assert judged("penalty", in_2022) == []
        assert [(f, rule) for f, rule, _ in judged("penalty", in_2020)] == [("penalty_types", "codeset.penalty_type.not_in_version")]


def test_an_id_number_judged_on_one_day_is_judged_again_on_another() -> None:
    natural = {**as_natural_person(BASES["penalty"], PARTY_FIELDS), "party_id_number": "370811202502150028"}  # born 15 Feb 2025
    before_birth, after_birth = dt.date(2025, 1, 1), dt.date(2025, 3, 1)
    for _ in range(2):
        assert [rule for _, rule, _ in judged("penalty", {**natural, "decision_date": "2024-12-01"}, before_birth)] == ["id_number.birth_date"]
        assert judged("penalty", {**natural, "decision_date": "2024-12-01"}, after_birth) == []


def test_the_rule_memos_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "MEMO_SIZE", 3)
    base = {**BASES["penalty"], "penalty_types": ["警告"]}
    for day in range(1, 11):
        assert judged("penalty", {**base, "decision_date": f"2022-05-{day:02d}"}) == []
    plan = rules._plan(default_dictionary().record_type("penalty"), default_registry())
    assert len(plan.code_verdicts) <= 3
    assert len(plan.id_verdicts) <= 3
