"""No value skips every step after it: a value that a step empties (trim, clean, split, coalesce…) is no
value for the rest of the chain, however many steps follow and whatever they are, so a required field
reports ``required`` and another field is simply absent — never a ``*.type`` error on None.

Each shape runs on "", whitespace, U+3000, None and a missing path, twice (the second time a memoised
field looks its text up first)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from jnx.mappings.compiler import CompiledTable
from jnx.mappings.registry import SHIPPED_DIR, TableRegistry
from jnx.mappings.transforms import TRANSFORMS, BuildEnv
from tests.mappings.conftest import CONTEXT, TODAY

MISSING = object()
BLANKS = [pytest.param("", id="empty"), pytest.param("   ", id="spaces"), pytest.param("\u3000", id="U+3000"),
          pytest.param(None, id="None"), pytest.param(MISSING, id="missing")]

# shape: (the table's fields, the field under test, whether the standard requires it, its value for "", None and
# missing (its default), a source text and the value the chain makes of it)
SHAPES: dict[str, tuple[str, str, bool, Any, str, Any]] = {
    "memoised, in place, then replace and date, with a default": (
        'valid_to: {from: v, default: 长期, do: [trim, {replace: {map: {长期: "2099-12-31"}}}, {date: [YYYY-MM-DD]}]}\n',
        "valid_to", True, dt.date(2099, 12, 31), " 2030-01-02 ", dt.date(2030, 1, 2)),
    "in-place one-liners only (not memoised), required": (
        "party_name: {from: v, do: [clean, cn_parens, upper]}\n", "party_name", True, None, " 某店(建设路) ", "某店（建设路）"),
    "in-place one-liners only (not memoised), optional": (
        "party_credit_code: {from: v, do: [trim, cn_parens, upper, lower]}\n", "party_credit_code", False, None, " ab(c) ", "ab（c）"),
    "code after an in-place step": (
        'party_type: {from: v, do: [trim, upper, {code: {set: party_type, map: {"1": 自然人}}}]}\n', "party_type", True, None, " 1 ", "自然人"),
    "date after halfwidth": (
        "decision_date: {from: v, do: [trim, halfwidth, {date: [YYYY-MM-DD]}]}\n", "decision_date", True, None, "２０２２-01-05 ", dt.date(2022, 1, 5)),
    "amount after halfwidth and remove": (
        'fine_amount: {from: v, do: [clean, halfwidth, {remove: ","}, {amount: 元}]}\n', "fine_amount", False, None, "５,000元", Decimal("0.500000")),
    "steps with when: (held and not held) before others": (
        "party_type: {const: 自然人}\n"
        "party_id_number:\n"
        "  from: v\n"
        "  do:\n"
        "    - trim\n"
        "    - {const: 00000000000000000X, when: {field: party_type, equals: 法人及非法人组织}}\n"
        "    - {upper: null, when: {field: party_type, equals: 自然人}}\n"
        "    - cn_parens\n"
        "    - halfwidth\n", "party_id_number", False, None, " 37081119900215006x ", "37081119900215006X"),
    "field with when: and a chain": (
        "party_type: {const: 自然人}\n"
        "party_id_number: {from: v, do: [clean, cn_parens, halfwidth], when: {field: party_type, equals: 自然人}}\n",
        "party_id_number", False, None, " ３7(0) ", "37(0)"),
    "list: split after an in-place step, then codes of each item": (
        "penalty_types: {from: v, do: [trim, halfwidth, split, {code: {set: penalty_type}}]}\n", "penalty_types", True, None, " 警告；罚款 ", ["警告", "罚款"]),
    "list: steps on each item after split": (
        "penalty_types: {from: v, do: [halfwidth, split, trim, halfwidth, {code: {set: penalty_type}}]}\n",
        "penalty_types", True, None, "警告、 罚款、警告", ["警告", "罚款"]),
    "several paths: coalesce, then in-place and other steps": (
        "document_number: {from: [v, w], do: [coalesce, trim, cn_parens, halfwidth]}\n", "document_number", True, None, " 济任(2022)１号 ", "济任(2022)1号"),
}


def _record(value: Any) -> dict[str, Any]:
    return {} if value is MISSING else {"v": value, "w": value}


@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize("shape", SHAPES)
def test_a_step_after_no_value_does_not_run(compiled, shape: str, blank: Any) -> None:  # type: ignore[no-untyped-def]
    fields, target, required, defaulted, _, _ = SHAPES[shape]
    mapper: CompiledTable = compiled(fields)
    gets_default = defaulted is not None and blank in ("", None, MISSING)
    for _ in range(2):  # new to the field, then (for a memoised field) looked up first
        out, issues = mapper.map_fields(_record(blank), CONTEXT)
        assert [(i.field, i.rule) for i in issues] == ([] if gets_default or not required else [(target, "required")])
        assert out.get(target) == (defaulted if gets_default else None)


@pytest.mark.parametrize("shape", SHAPES)
def test_the_same_chains_still_map_a_value(compiled, shape: str) -> None:  # type: ignore[no-untyped-def]
    fields, target, _, _, text, expected = SHAPES[shape]
    mapper: CompiledTable = compiled(fields)
    for _ in range(2):
        out, issues = mapper.map_fields({"v": text, "w": None}, CONTEXT)
        assert issues == []
        assert out[target] == expected


@pytest.fixture(scope="module")
def penalty_v1(dictionary, codesets) -> CompiledTable:  # type: ignore[no-untyped-def]
    return TableRegistry([SHIPPED_DIR], dictionary, codesets).compiled("case_handling.penalty", 1)


GOOD_PENALTY = {"dsrmc": "济宁市任城区鑫源餐饮有限公司", "dsrlx": "2", "tyshxydm": "91370811MA3C2L5E1E", "fddbr": "王建国",
                "ajbh": "JNCF3708112022000001", "wfxw": "超范围经营", "wfss": "经查，当事人超范围经营。", "cfyj": "《某法》第一条",
                "cfjdsmc": "行政处罚决定书", "cfjdsh": "济任市监罚〔2022〕1号", "cflb": "警告", "cfnr": "警告",
                "jdrq": "2022-01-05", "cfyxq": "2023-01-05", "cfjg": "任城区市场监督管理局", "cfjgdm": "11370811MB2850017P",
                "xzqh": "370811"}


@pytest.mark.parametrize("blank", ["   ", "\u3000", " \t\u3000 "])
def test_a_blank_validity_of_the_case_handling_penalty_is_a_missing_valid_to(penalty_v1: CompiledTable, blank: str) -> None:
    assert penalty_v1.map_fields(GOOD_PENALTY, CONTEXT)[1] == []
    for _ in range(2):
        out, issues = penalty_v1.map_fields({**GOOD_PENALTY, "cfyxq": blank}, CONTEXT)
        assert "valid_to" not in out
        assert [(i.field, i.rule, i.message) for i in issues] == [
            ("valid_to", "required", "required, and the source has no value at cfyxq")]


@pytest.mark.parametrize("absent", ["", None, MISSING])
def test_an_absent_validity_of_the_case_handling_penalty_is_long_term(penalty_v1: CompiledTable, absent: Any) -> None:
    record = {k: v for k, v in GOOD_PENALTY.items() if k != "cfyxq"} | ({} if absent is MISSING else {"cfyxq": absent})
    result = penalty_v1(record, CONTEXT, today=TODAY)
    assert result.issues == ()
    assert result.record["valid_to"] == dt.date(2099, 12, 31)


# A raw "" reaching a parsing step with no trim before it, and a `remove` that removes every character: no value
# too, so a required field reports `required` and an optional one is left out (never date.format, code.unknown,
# amount.format, and never "" stored).
EMPTYING: dict[str, tuple[str, str, bool, Any]] = {
    "date first": ("decision_date: {from: v, do: [{date: [YYYY-MM-DD]}]}\n", "decision_date", True, ""),
    "code first": ('party_type: {from: v, do: [{code: {set: party_type, map: {"1": 自然人}}}]}\n', "party_type", True, ""),
    "amount first": ("fine_amount: {from: v, do: [{amount: 元}]}\n", "fine_amount", False, ""),
    "halfwidth, then date": ("decision_date: {from: v, do: [halfwidth, {date: [YYYY-MM-DD]}]}\n", "decision_date", True, ""),
    "upper only": ("party_credit_code: {from: v, do: [upper]}\n", "party_credit_code", False, ""),
    "remove of every character": ('party_credit_code: {from: v, do: [{remove: "-"}]}\n', "party_credit_code", False, "--"),
    "remove of every character, then code": (
        'party_type: {from: v, do: [{remove: "-"}, {code: {set: party_type, map: {"1": 自然人}}}]}\n', "party_type", True, "-"),
    "trim, then remove of every character, then amount": (
        'fine_amount: {from: v, do: [trim, {remove: "-"}, {amount: 元}]}\n', "fine_amount", False, " - "),
    "split, then remove of every character in one item": (
        'penalty_types: {from: v, do: [split, {remove: "-"}, {code: {set: penalty_type}}]}\n', "penalty_types", True, "-;--"),
}


@pytest.mark.parametrize("shape", EMPTYING)
def test_an_empty_text_is_no_value_wherever_it_appears_in_a_chain(compiled, shape: str) -> None:  # type: ignore[no-untyped-def]
    fields, target, required, text = EMPTYING[shape]
    mapper: CompiledTable = compiled(fields)
    for _ in range(2):  # new to the field, then (for a memoised field) looked up first
        out, issues = mapper.map_fields({"v": text}, CONTEXT)
        assert [(i.field, i.rule) for i in issues] == ([(target, "required")] if required else [])
        assert target not in out


def test_remove_still_gives_what_is_left() -> None:
    remove = TRANSFORMS["remove"].build({"chars": "-"}, BuildEnv(None, {}))  # type: ignore[arg-type]
    assert (remove("60003734-1"), remove("--"), remove("")) == ("600037341", None, None)


def test_whitespace_alone_still_reaches_a_parsing_step_without_trim(compiled) -> None:  # type: ignore[no-untyped-def]
    """Only "" is no value by itself: whitespace is no value after trim (or clean, squeeze, split), as the chain says."""
    out, issues = compiled("decision_date: {from: v, do: [{date: [YYYY-MM-DD]}]}\n").map_fields({"v": "  "}, CONTEXT)
    assert [(i.field, i.rule) for i in issues] == [("decision_date", "date.format")]


def test_an_empty_source_text_of_the_benchmark_table_is_tested_by_its_chains_alone(penalty_v1: CompiledTable) -> None:
    """Every chain of case_handling.penalty@1 starts by emptying "" itself (trim, clean, squeeze, or halfwidth
    then split or trim): its compiled function carries no separate test of the source for ""."""
    assert "if v == '':" not in penalty_v1.source
