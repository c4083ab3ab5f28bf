"""The 双公示 conditional rules, the penalty categories by decision date, and masking in messages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from jnx.codesets import default_registry
from jnx.security.masking import mask_id_number
from jnx.standard import check_record, code_days, default_dictionary, model_for, rules
from tests.standard.conftest import TODAY
from tests.standard.samples.build import (
    BASES,
    CREDIT_PARTY,
    ID_NUMBER,
    MALFORMED_MASK,
    MASKED_ID_NUMBER,
    PARTY_FIELDS,
    as_individual_business,
    as_natural_person,
)


def issues(record_type: str, data: dict[str, Any], today: dt.date = TODAY) -> set[tuple[str, str]]:
    checked = check_record(default_dictionary().record_type(record_type), data, today=today, registry=default_registry())
    return {(issue.field, issue.rule) for issue in checked.issues}


def test_a_natural_person_needs_id_type_and_number_and_no_organisation_fields() -> None:
    f = CREDIT_PARTY["CF"]
    natural = as_natural_person(BASES["credit_penalty"], f)
    assert issues("credit_penalty", natural) == set()
    broken = {**natural, f["credit"]: "91370800MA3C00011N", f["rep"]: "张三"}
    del broken[f["id_type"]], broken[f["id_no"]]
    assert issues("credit_penalty", broken) == {
        ("CF_XDR_SHXYM", "forbidden"),
        ("CF_FRDB", "forbidden"),
        ("CF_XDR_ZJLX", "conditional_required"),
        ("CF_XDR_ZJHM", "conditional_required"),
    }


def test_a_legal_person_needs_a_credit_code_and_a_legal_representative() -> None:
    base = {k: v for k, v in BASES["penalty"].items() if k not in ("party_credit_code", "legal_representative")}
    assert issues("penalty", base) == {("party_credit_code", "conditional_required"), ("legal_representative", "conditional_required")}


def test_the_placeholder_is_for_an_individual_business_with_a_registration_number() -> None:
    f = CREDIT_PARTY["XK"]
    individual = as_individual_business(BASES["credit_license"], f)
    assert issues("credit_license", individual) == set()
    assert issues("credit_license", {k: v for k, v in individual.items() if k != f["reg"]}) == {("XK_XDR_GSZC", "conditional_required")}
    # a credit code that is not a party's never takes the placeholder
    assert ("XK_XKJGDM", "uscc.placeholder") in issues("credit_license", {**BASES["credit_license"], "XK_XKJGDM": "00000000000000000X"})


@pytest.mark.parametrize(("record_type", "prefix"), [("credit_license", "XK"), ("credit_penalty", "CF"), ("penalty", None),
                                                     ("license", None), ("inspection", None)])
def test_the_placeholder_is_for_a_legal_person_with_a_registration_number_too(record_type: str, prefix: str | None) -> None:
    """REFERENCE §1.5 rule 2: 法人及非法人组织 and 个体工商户 alike; the 工商注册号 is then required."""
    f = CREDIT_PARTY[prefix] if prefix else PARTY_FIELDS
    legal_person = {**BASES[record_type], f["credit"]: "00000000000000000X"}
    assert legal_person[f["type"]] == "法人及非法人组织"
    assert issues(record_type, {**legal_person, f["reg"]: "370811000074657"}) == set()
    assert issues(record_type, legal_person) == {(f["reg"], "conditional_required")}
    model = model_for(record_type)
    model.model_validate({**legal_person, f["reg"]: "370811000074657"}, context={"today": TODAY})
    with pytest.raises(ValidationError, match=f["reg"]):
        model.model_validate(legal_person, context={"today": TODAY})


@pytest.mark.parametrize(("record_type", "prefix"), [("credit_license", "XK"), ("credit_penalty", "CF"), ("penalty", None)])
def test_the_placeholder_is_never_for_a_natural_person(record_type: str, prefix: str | None) -> None:
    f = CREDIT_PARTY[prefix] if prefix else PARTY_FIELDS
    natural = as_natural_person(BASES[record_type], f)
    assert issues(record_type, {**natural, f["credit"]: "00000000000000000X"}) == {
        (f["credit"], "forbidden"), (f["credit"], "uscc.placeholder"), (f["reg"], "conditional_required")}
    assert issues(record_type, {**natural, f["credit"]: "00000000000000000X", f["reg"]: "370811600123456"}) == {
        (f["credit"], "forbidden"), (f["credit"], "uscc.placeholder"), (f["reg"], "forbidden")}


def test_public_criticism_is_rejected_for_a_2020_penalty_and_accepted_for_2022() -> None:
    in_2022 = {**BASES["penalty"], "penalty_types": ["通报批评"], "decision_date": "2022-05-01"}
    del in_2022["fine_amount"]
    in_2020 = {**in_2022, "decision_date": "2020-05-01"}
    assert issues("penalty", in_2022) == set()
    assert issues("penalty", in_2020) == {("penalty_types", "codeset.penalty_type.not_in_version")}
    model = model_for("penalty")
    model.model_validate(in_2022, context={"today": TODAY})
    with pytest.raises(ValidationError, match="通报批评"):
        model.model_validate(in_2020, context={"today": TODAY})


def test_amounts_are_required_by_category_and_kept_as_six_place_decimals() -> None:
    without_fine = {k: v for k, v in BASES["penalty"].items() if k != "fine_amount"}
    assert issues("penalty", without_fine) == {("fine_amount", "conditional_required")}
    record = model_for("penalty").model_validate(BASES["penalty"], context={"today": TODAY})
    assert str(record.fine_amount) == "0.200000"
    assert record.decision_date == dt.date(2022, 5, 1)
    assert ("fine_amount", "amount.format") in issues("penalty", {**BASES["penalty"], "fine_amount": "0.1234567"})
    assert ("fine_amount", "amount.wan") in issues("penalty", {**BASES["penalty"], "fine_amount": 0.2})  # a float is never exact


def test_dates_in_order_and_not_in_the_future() -> None:
    backwards = {**BASES["credit_license"], "XK_YXQZ": "2027-03-01", "XK_YXQZI": "2027-02-28"}
    assert issues("credit_license", backwards) == {("XK_YXQZI", "date_order")}
    future = {**BASES["credit_license"], "XK_JDRQ": "2025-07-01"}
    assert issues("credit_license", future) == {("XK_JDRQ", "not_in_future")}
    assert issues("credit_license", future, today=dt.date(2025, 7, 1)) == set()


def test_every_failing_field_is_reported_at_once() -> None:
    data = {**BASES["license"], "decision_date": "2022-02-30", "license_type": "无此类", "valid_to": "soon", "surprise": 1}
    del data["license_content"]
    assert issues("license", data) == {
        ("decision_date", "date.invalid"),
        ("license_type", "codeset.license_type.unknown"),
        ("valid_to", "date.format"),
        ("surprise", "unknown_field"),
        ("license_content", "required"),
    }


def test_id_numbers_never_appear_in_messages() -> None:
    natural = {**as_natural_person(BASES["penalty"], PARTY_FIELDS), "party_id_number": "370811199002300027"}  # 30 February
    checked = check_record(default_dictionary().record_type("penalty"), natural, today=TODAY, registry=default_registry())
    assert [i.rule for i in checked.issues] == ["id_number.birth_date"]
    assert "19900230" not in checked.issues[0].message and "370811" not in checked.issues[0].message


def test_a_birth_date_after_the_validation_day_is_reported_without_the_date() -> None:
    natural = {**as_natural_person(BASES["penalty"], PARTY_FIELDS), "party_id_number": "370811210002150021"}  # born 2100
    checked = check_record(default_dictionary().record_type("penalty"), natural, today=TODAY, registry=default_registry())
    [issue] = checked.issues
    assert issue.rule == "id_number.birth_date"
    assert "2100" not in issue.describe() and "21000215" not in issue.describe()


@pytest.mark.parametrize("record_type, prefix", [("credit_license", "XK"), ("credit_penalty", "CF")])
def test_a_disclosure_publishes_a_natural_persons_id_number_masked_only(record_type: str, prefix: str) -> None:
    f = CREDIT_PARTY[prefix]
    natural = as_natural_person(BASES[record_type], f)
    assert natural[f["id_no"]] == MASKED_ID_NUMBER == mask_id_number(ID_NUMBER)
    assert issues(record_type, natural) == set()
    assert issues(record_type, {**natural, f["id_no"]: ID_NUMBER}) == {(f["id_no"], "id_number.clear_in_disclosure")}
    for malformed in (MALFORMED_MASK, "370811********002", "370811********002x", "370811########0027", "37081119900215002X", "王某某"):
        assert issues(record_type, {**natural, f["id_no"]: malformed}) == {(f["id_no"], "id_number.masked_format")}, malformed
    # another kind of document is not a resident ID number: no mask is demanded of it
    assert issues(record_type, {**natural, f["id_type"]: "护照号", f["id_no"]: "E12345678"}) == set()


def test_a_clear_id_number_in_a_disclosure_is_reported_without_the_number() -> None:
    f = CREDIT_PARTY["CF"]
    clear = {**as_natural_person(BASES["credit_penalty"], f), f["id_no"]: ID_NUMBER}
    checked = check_record(default_dictionary().record_type("credit_penalty"), clear, today=TODAY, registry=default_registry())
    [issue] = checked.issues
    assert issue.message.startswith("a natural person's ID number must be published masked")
    assert ID_NUMBER not in issue.describe() and "370811" not in issue.describe() and "0027" not in issue.describe()
    with pytest.raises(ValidationError, match="must be published masked") as info:
        model_for("credit_penalty").model_validate(clear, context={"today": TODAY})
    assert ID_NUMBER not in str(info.value)


@pytest.mark.parametrize("record_type, prefix", [("credit_license", "XK"), ("credit_penalty", "CF")])
def test_a_disclosure_never_carries_the_legal_representatives_id_number(record_type: str, prefix: str) -> None:
    f = CREDIT_PARTY[prefix]
    with_type = {**BASES[record_type], f["rep_type"]: "身份证"}
    assert issues(record_type, with_type) == set()
    for number in (MASKED_ID_NUMBER, ID_NUMBER):
        assert issues(record_type, {**with_type, f["rep_no"]: number}) == {(f["rep_no"], "forbidden")}


def test_business_key_and_reference_date() -> None:
    record = model_for("penalty").model_validate(BASES["penalty"], context={"today": TODAY})
    assert record.business_key() == ("11370800004180002M", "济市监罚〔2022〕12号")
    assert record.reference_date() == dt.date(2022, 5, 1)


# The record rules remember each code's spans of passing days and the verdicts of other (code, day)
# pairs: a verdict on one day is never reused for another, and the memos stay bounded. ID numbers
# are judged on the day of each check.


def judged(record_type: str, data: dict[str, Any], today: dt.date = TODAY) -> list[tuple[str, str, str]]:
    checked = check_record(default_dictionary().record_type(record_type), data, today=today, registry=default_registry())
    return [(issue.field, issue.rule, issue.message) for issue in checked.issues]


def test_a_code_judged_on_one_day_is_judged_again_on_another() -> None:
    in_2022 = {**BASES["penalty"], "penalty_types": ["通报批评"], "decision_date": "2022-05-01"}
    in_2020 = {**in_2022, "decision_date": "2020-05-01"}
    for _ in range(2):
        assert judged("penalty", in_2022) == []
        assert [(f, rule) for f, rule, _ in judged("penalty", in_2020)] == [("penalty_types", "codeset.penalty_type.not_in_version")]


def test_a_code_is_judged_by_the_version_in_force_on_the_first_and_last_day_of_its_span() -> None:
    base = {**BASES["penalty"], "penalty_types": ["暂扣或者吊销许可证"], "suspended_license": "食品经营许可证（JY13708110012345）"}
    del base["fine_amount"]
    for _ in range(2):  # the 2017 list runs 1996-10-01 to 2021-07-14
        assert judged("penalty", {**base, "decision_date": "2021-07-14"}) == []
        [(field, rule, message)] = judged("penalty", {**base, "decision_date": "2021-07-15"})
        assert (field, rule) == ("penalty_types", "codeset.penalty_type.not_in_version")
        assert message.endswith("(judged on 2021-07-15)")
        assert ("penalty_types", "codeset.penalty_type.no_version") not in {(f, r) for f, r, _ in judged("penalty", {**base, "decision_date": "1996-10-01"})}
        assert ("penalty_types", "codeset.penalty_type.no_version") in {(f, r) for f, r, _ in judged("penalty", {**base, "decision_date": "1996-09-30"})}


def test_an_id_number_judged_on_one_day_is_judged_again_on_another() -> None:
    natural = {**as_natural_person(BASES["penalty"], PARTY_FIELDS), "party_id_number": "370811202502150028"}  # born 15 Feb 2025
    before_birth, after_birth = dt.date(2025, 1, 1), dt.date(2025, 3, 1)
    for _ in range(2):
        assert [rule for _, rule, _ in judged("penalty", {**natural, "decision_date": "2024-12-01"}, before_birth)] == ["id_number.birth_date"]
        assert judged("penalty", {**natural, "decision_date": "2024-12-01"}, after_birth) == []


def test_the_rule_memos_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(code_days, "MEMO_SIZE", 3)
    monkeypatch.setattr(rules, "_COMPILED", {})  # a check compiled afresh: empty memos
    base = {**as_natural_person(BASES["penalty"], PARTY_FIELDS), "penalty_types": ["警告"]}
    kinds = ["警告", "通报批评", "罚款", "责令停产停业", "限制从业", "责令关闭"]
    old = {**base, "penalty_types": ["暂扣或者吊销执照"], "suspended_license": "营业执照"}  # of the 2017 list only: judged by (code, day)
    for day in range(1, 11):  # a new code, decision date and day of the check each time
        today = TODAY + dt.timedelta(days=day)
        assert judged("penalty", {**base, "penalty_types": [kinds[day % 6]], "decision_date": f"2022-05-{day:02d}"}, today) == []
        assert [rule for _, rule, _ in judged("penalty", {**old, "decision_date": f"2022-05-{day:02d}"}, today)] == [
            "codeset.penalty_type.not_in_version"]
    memos = rules.compiled_check(default_dictionary().record_type("penalty"), default_registry()).memos
    assert memos and all(len(memo) <= 3 for memo in memos)


@pytest.mark.parametrize("record_type", ["penalty", "credit_penalty"])
def test_other_is_a_category_only_with_its_name(record_type: str) -> None:
    """《行政处罚法》(2021) 第九条第（六）项 (2017: 第八条第（七）项): 法律、行政法规规定的其他行政处罚 — 其他 names which."""
    field = "penalty_types" if record_type == "penalty" else "CF_CFLB"
    base = BASES[record_type]
    value: Any = (lambda *kinds: list(kinds)) if record_type == "penalty" else (lambda *kinds: ";".join(kinds))
    kinds = base[field] if record_type == "penalty" else base[field].split(";")
    for day in ("2020-05-01", "2022-05-01"):  # both lists of the law have it
        date_field = "decision_date" if record_type == "penalty" else "CF_JDRQ"
        dated = {**base, date_field: day}
        assert issues(record_type, {**dated, field: value(*kinds, "其他-取缔")}) == set()
        assert issues(record_type, {**dated, field: value(*kinds, "其他")}) == {(field, "codeset.penalty_type.name_required")}
        assert issues(record_type, {**dated, field: value(*kinds, "其他- ")}) == {(field, "codeset.penalty_type.name_required")}
    checked = check_record(default_dictionary().record_type(record_type), {**base, field: value(*kinds, "其他")},
                           today=TODAY, registry=default_registry())
    assert "write 其他-<name>" in str(checked.issues[0]) and "第九条" in str(checked.issues[0])


def test_a_named_other_passes_the_schemas_and_a_bare_one_does_not() -> None:
    import json

    import jsonschema

    from jnx.standard.export import ExportFormat, export

    schema = json.loads(export(ExportFormat.JSONSCHEMA))
    for element, good, bad in (("penalty_types", ["警告", "其他-取缔"], ["警告", "其他"]), ("CF_CFLB", "警告;其他-取缔", "警告;其他")):
        validator = jsonschema.Draft202012Validator({"$ref": f"#/$defs/element.{element}", "$defs": schema["$defs"]})
        assert validator.is_valid(good) and not validator.is_valid(bad), element


def test_the_life_cycle_dates_keep_their_order() -> None:
    base = {**BASES["penalty"], "decision_date": "2024-03-01"}
    assert issues("penalty", {**base, "filing_date": "2024-02-01", "service_date": "2024-03-05", "execution_date": "2024-03-20",
                              "closing_date": "2024-03-25", "case_status": "已结案"}) == set()
    assert issues("penalty", {**base, "filing_date": "2024-03-02"}) == {("decision_date", "date_order")}
    assert issues("penalty", {**base, "service_date": "2024-02-28"}) == {("service_date", "date_order")}
    assert issues("penalty", {**base, "execution_date": "2024-03-20", "closing_date": "2024-03-10"}) == {("closing_date", "date_order")}
    assert issues("penalty", {**base, "case_status": "已撤案"}) == {("case_status", "codeset.case_status.unknown")}
