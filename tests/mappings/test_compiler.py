"""The compiled mapper: every bad field of a record reported, personal values masked, the standard's
record rules counted as errors of the record, lineage on every result."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from jnx.mappings.compiler import MEMO_CHARS, MEMO_SIZE, CompiledTable, compile_table
from jnx.mappings.model import MappingContext
from jnx.mappings.table import parse_table
from jnx.mappings.values import clean, cn_parens, squeeze
from tests.mappings.conftest import CONTEXT, TODAY, table_text

FIELDS = """\
party_name: {from: dsrmc, do: [clean]}
party_type:
  from: dsrlx
  do: [trim, {code: {set: party_type, map: {"1": 自然人, "2": 法人及非法人组织}}}]
party_id_type: {const: 身份证, when: {field: party_type, equals: 自然人}}
party_id_number: {from: zjhm, do: [clean, upper], when: {field: party_type, equals: 自然人}}
party_credit_code: {from: tyshxydm, do: [clean, upper]}
legal_representative: {from: fddbr, do: [clean]}
case_number: {from: ajbh}
illegal_act: {from: wfxw}
illegal_facts: {from: wfss}
legal_basis: {from: cfyj}
document_number: {from: [wsh, ajbh], do: [coalesce, clean]}
penalty_types: {from: cflb, do: [{split: [";", "、"]}, {code: {set: penalty_type}}]}
penalty_content: {from: cfnr}
fine_amount: {from: fkje, do: [halfwidth, trim, {amount: 元}], when: {field: penalty_types, contains: 罚款}}
decision_date: {from: jdrq, do: [trim, {date: [YYYY-MM-DD, YYYYMMDD]}]}
valid_to: {from: yxq, default: 长期, do: [{replace: {map: {长期: "2099-12-31"}}}, {date: [YYYY-MM-DD]}]}
authority_name: {from: cfjg}
authority_credit_code: {from: cfjgdm}
data_source_unit: {setting: department_name}
data_source_credit_code: {setting: department_credit_code}
"""

OUTBOUND = """\
format: 1
name: test.out
version: 1
direction: outbound
source_kind: standard
source_record: penalty
target: credit_penalty
effective_from: 2024-01-01
fields:
"""

GOOD = {"dsrmc": " 张三 ", "dsrlx": "1", "zjhm": "37081119900215006x", "ajbh": "AJ1", "wfxw": "w", "wfss": "s", "cfyj": "y",
        "cflb": "警告;罚款", "cfnr": "n", "fkje": "５０００元", "jdrq": "20220105", "cfjg": "任城区市场监督管理局",
        "cfjgdm": "11370811MB2850017P"}


def test_a_good_record_maps_to_typed_values_with_its_table_version(compiled) -> None:  # type: ignore[no-untyped-def]
    mapper = compiled(FIELDS)
    result = mapper(GOOD, CONTEXT, today=TODAY)
    assert result.issues == ()
    assert result.record["party_name"] == "张三"
    assert result.record["party_id_number"] == "37081119900215006X"
    assert result.record["penalty_types"] == ["警告", "罚款"]
    assert result.record["fine_amount"] == Decimal("0.500000")
    assert result.record["decision_date"] == dt.date(2022, 1, 5)
    assert result.record["valid_to"] == dt.date(2099, 12, 31)  # the default stands in for the missing source value
    assert result.record["document_number"] == "AJ1"
    assert result.record["data_source_credit_code"] == "11370800004180002M"
    assert (result.table.name, result.table.version, len(result.table.content_hash)) == ("test.penalty", 1, 64)


def test_every_bad_field_of_a_record_is_reported_not_only_the_first(compiled) -> None:  # type: ignore[no-untyped-def]
    bad = {**GOOD, "dsrlx": "7", "cflb": "警告;训诫", "jdrq": "2022-02-30", "yxq": "someday", "fkje": "-1"}
    result = compiled(FIELDS)(bad, CONTEXT, today=TODAY)
    by_field = {i.field: i for i in result.issues}
    assert by_field["party_type"].rule == "code.unknown"
    assert by_field["party_type"].source == "dsrlx"
    assert by_field["party_type"].value == "7"
    assert by_field["penalty_types"].transform == "code"
    assert by_field["decision_date"].rule == "date.invalid"
    assert by_field["valid_to"].rule == "date.format"
    assert "fine_amount" not in by_field  # the condition reads penalty_types, which failed: no value, no cascade


def test_personal_values_are_masked_in_issues(compiled) -> None:  # type: ignore[no-untyped-def]
    result = compiled(FIELDS)({**GOOD, "zjhm": "370811199002150021"}, CONTEXT, today=TODAY)
    issue = next(i for i in result.issues if i.field == "party_id_number")
    assert issue.rule == "id_number.check_digit"
    assert "370811199002150021" not in str(issue)
    assert issue.value is not None and "*" in issue.value


def test_the_standards_conditional_rules_are_errors_of_the_record(compiled) -> None:  # type: ignore[no-untyped-def]
    result = compiled(FIELDS)({**GOOD, "dsrlx": "2", "tyshxydm": None}, CONTEXT, today=TODAY)
    rules = {(i.field, i.rule) for i in result.issues}
    assert ("party_credit_code", "conditional_required") in rules
    assert ("legal_representative", "conditional_required") in rules


def test_missing_required_values_and_settings_are_reported(compiled) -> None:  # type: ignore[no-untyped-def]
    result = compiled(FIELDS)({**GOOD, "dsrmc": "\u3000"}, MappingContext(), today=TODAY)
    messages = {i.field: i.message for i in result.issues}
    assert messages["party_name"] == "required, and the source has no value at dsrmc"
    assert "setting department_name is not set" in messages["data_source_unit"]


def test_a_record_that_is_not_an_object_is_an_issue_not_a_crash(compiled) -> None:  # type: ignore[no-untyped-def]
    result = compiled(FIELDS)(["not", "a", "record"], CONTEXT)  # type: ignore[arg-type]
    assert result.issues[0].rule == "record.type"


def test_steps_with_a_condition_apply_only_when_it_holds(compiled) -> None:  # type: ignore[no-untyped-def]
    mapper = compiled("CF_XDR_MC: {from: party_name, do: [{mask: name, when: {path: party_type, equals: 自然人}}]}\n", OUTBOUND)
    assert mapper.map_fields({"party_name": "张三丰", "party_type": "自然人"}, CONTEXT)[0] == {"CF_XDR_MC": "张**"}
    assert mapper.map_fields({"party_name": "某公司", "party_type": "法人及非法人组织"}, CONTEXT)[0] == {"CF_XDR_MC": "某公司"}


def test_the_generated_source_contains_no_text_of_the_table_but_names_and_paths(compiled) -> None:  # type: ignore[no-untyped-def]
    source = compiled(FIELDS).source
    assert "罚款" not in source and "自然人" not in source and "2099" not in source
    assert "get('ajbh')" in source and "get('dsrmc')" in source


def test_values_of_the_wrong_json_type_are_issues_not_crashes(compiled) -> None:  # type: ignore[no-untyped-def]
    result = compiled(FIELDS)({**GOOD, "dsrlx": {"code": 1}, "dsrmc": ["张三"], "jdrq": [2.5]}, CONTEXT, today=TODAY)
    rules = {i.field: i.rule for i in result.issues}
    assert rules["party_type"] == "trim.type"
    assert rules["party_name"] == "clean.type"
    assert rules["decision_date"] == "trim.type"


# ---------------------------------------------------------------- the per-field memo


def test_a_value_seen_before_maps_exactly_as_the_first_time(compiled) -> None:  # type: ignore[no-untyped-def]
    mapper = compiled(FIELDS)
    records = [GOOD, {**GOOD, "dsrlx": "7", "jdrq": "2022-02-30", "fkje": "-1"}, {**GOOD, "dsrmc": "\u3000"},
               {**GOOD, "cflb": "警告;训诫", "jdrq": 20220105}]
    first = [mapper.map_fields(r, CONTEXT) for r in records]
    assert [mapper.map_fields(r, CONTEXT) for r in records] == first
    assert [mapper.map_fields(r, CONTEXT) for r in reversed(records)] == first[::-1]


def test_a_bad_value_is_reported_on_every_record_that_carries_it(compiled) -> None:  # type: ignore[no-untyped-def]
    mapper = compiled(FIELDS)
    bad = {**GOOD, "dsrlx": "7"}
    for _ in range(3):
        issues = mapper.map_fields(bad, CONTEXT)[1]
        assert [(i.field, i.rule, i.value) for i in issues] == [("party_type", "code.unknown", "7")]


def test_a_remembered_list_is_copied_out_so_a_caller_cannot_change_it(compiled) -> None:  # type: ignore[no-untyped-def]
    mapper = compiled(FIELDS)
    mapper.map_fields(GOOD, CONTEXT)[0]["penalty_types"].append("训诫")
    again = mapper.map_fields(GOOD, CONTEXT)[0]["penalty_types"]
    assert again == ["警告", "罚款"]
    assert again is not mapper.map_fields(GOOD, CONTEXT)[0]["penalty_types"]


def test_values_of_other_types_are_never_taken_for_the_text_remembered(compiled) -> None:  # type: ignore[no-untyped-def]
    mapper = compiled(FIELDS)
    assert mapper.map_fields(GOOD, CONTEXT)[0]["party_type"] == "自然人"  # "1" is now remembered
    out, issues = mapper.map_fields({**GOOD, "dsrlx": True}, CONTEXT)  # True == 1, but it is no text
    assert "party_type" not in out
    assert [(i.field, i.rule) for i in issues] == [("party_type", "trim.type")]
    assert mapper.map_fields({**GOOD, "dsrlx": 1}, CONTEXT)[0]["party_type"] == "自然人"


def test_memos_stay_bounded_and_keep_no_long_texts(compiled) -> None:  # type: ignore[no-untyped-def]
    mapper = compiled(FIELDS)
    day = dt.date(2000, 1, 1)
    for n in range(2 * MEMO_SIZE + 7):
        mapper.map_fields({**GOOD, "jdrq": (day + dt.timedelta(days=n)).isoformat(), "dsrmc": "某" * (MEMO_CHARS + n)}, CONTEXT)
    assert mapper.memos and all(len(memo) <= MEMO_SIZE for memo in mapper.memos)
    assert all(len(text) <= MEMO_CHARS for memo in mapper.memos for text in memo)
    assert mapper.map_fields({**GOOD, "jdrq": "2000-01-01"}, CONTEXT)[0]["decision_date"] == dt.date(2000, 1, 1)


def test_fields_whose_steps_read_other_fields_are_mapped_every_time(compiled) -> None:  # type: ignore[no-untyped-def]
    mapper = compiled("CF_XDR_MC: {from: party_name, do: [clean, {mask: name, when: {path: party_type, equals: 自然人}}]}\n",
                      OUTBOUND)
    assert mapper.map_fields({"party_name": "张三丰", "party_type": "自然人"}, CONTEXT)[0] == {"CF_XDR_MC": "张**"}
    assert mapper.map_fields({"party_name": "张三丰", "party_type": "法人及非法人组织"}, CONTEXT)[0] == {"CF_XDR_MC": "张三丰"}
    assert mapper.memos == ()


def test_text_of_a_str_subclass_maps_as_its_plain_text_before_and_after_it_is_remembered(compiled) -> None:  # type: ignore[no-untyped-def]
    class SmartString(str):  # what lxml returns for text() results
        pass

    mapper = compiled(FIELDS)
    smart = {**GOOD, "dsrlx": SmartString("1"), "jdrq": SmartString("20220105"), "cflb": SmartString("警告;罚款")}
    first = mapper.map_fields(smart, CONTEXT)
    mapper.map_fields(GOOD, CONTEXT)  # the plain texts are now remembered
    assert mapper.map_fields(smart, CONTEXT) == first == mapper.map_fields(GOOD, CONTEXT)


# ---------------------------------------------------------------- steps written in place

IN_PLACE_FIELDS = """\
party_name: {from: a, do: [clean]}
illegal_facts: {from: b, do: [squeeze]}
legal_representative: {from: c, do: [cn_parens]}
illegal_act: {from: d, do: [clean, cn_parens, squeeze]}
"""
_in_place: list[CompiledTable] = []


@given(st.one_of(st.text(alphabet=st.sampled_from("aZ09 \t\n\u3000\xa0\u200b\ufeff１Ａｚ（）(),济宁-/.\x85\u2028"), max_size=16),
                 st.text(max_size=16)))
def test_steps_written_in_place_give_what_their_transforms_give(dictionary, codesets, text: str) -> None:  # type: ignore[no-untyped-def]
    if not _in_place:
        _in_place.append(compile_table(parse_table(table_text(IN_PLACE_FIELDS), "t.yaml", dictionary, codesets), dictionary))
    mapper = _in_place[0]
    expected = {"party_name": clean(text), "illegal_facts": squeeze(text), "legal_representative": cn_parens(text) or None,
                "illegal_act": None if clean(text) is None else squeeze(cn_parens(clean(text)))}
    for _ in range(2):  # new to the field, then remembered
        out, issues = mapper.map_fields({"a": text, "b": text, "c": text, "d": text}, CONTEXT)
        assert out == {k: v for k, v in expected.items() if v is not None}
        assert [(i.field, i.rule) for i in issues] == [
            (k, "required") for k, v in expected.items() if v is None and mapper.rules[k].facts.required]


def test_chains_of_only_text_one_liners_are_mapped_every_time_and_others_remembered(compiled) -> None:  # type: ignore[no-untyped-def]
    mapper = compiled("""\
party_name: {from: a, do: [clean, cn_parens]}
party_credit_code: {from: b, do: [trim, clean, upper]}
illegal_facts: {from: c, do: [squeeze]}
decision_date: {from: d, do: [trim, {date: [YYYY-MM-DD]}]}
""")
    out, _ = mapper.map_fields({"a": "某(店)", "b": " 91ab ", "c": "x  y", "d": "2022-01-05"}, CONTEXT)
    assert out == {"party_name": "某（店）", "party_credit_code": "91AB", "illegal_facts": "x y", "decision_date": dt.date(2022, 1, 5)}
    assert [list(memo) for memo in mapper.memos] == [["x  y"], ["2022-01-05"]]
