"""Write the sample records of tests/standard/samples/ (JSON and XML) and their manifest.

Run ``python tests/standard/samples/build.py`` after changing the dictionary. Each invalid sample is a
valid base record with one deliberate fault; ``beyond`` lists the schema validators that cannot see
that fault (they accept the sample; the models reject it) — see docs/standard.md. In the disclosure
formats (credit_license, credit_penalty) a natural person's ID number is masked, as the outbound
tables write it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from jnx.standard import default_dictionary
from jnx.standard.xmlio import records_to_xml

HERE = Path(__file__).parent
AUTHORITY = {"authority_name": "济宁市市场监督管理局", "authority_credit_code": "11370800004180002M",
             "data_source_unit": "济宁市市场监督管理局", "data_source_credit_code": "11370800004180002M", "region": "370800"}
COMPANY = {"party_name": "济宁示例科技有限公司", "party_type": "法人及非法人组织", "party_credit_code": "91370800MA3C00011N",
           "legal_representative": "张三", "legal_rep_id_type": "身份证", "legal_rep_id_number": "370811199002150027"}
CASE = {"case_number": "济市监案〔2022〕88号", "case_source": "2", "illegal_act": "未按规定标明价格",
        "illegal_facts": "当事人销售商品未明码标价。", "legal_basis": "《价格违法行为行政处罚规定》第十三条"}

BASES: dict[str, dict[str, Any]] = {
    "agency": {"agency_name": "济宁市市场监督管理局", "agency_credit_code": "11370800004180002M", "agency_nature": "01",
               "enforcement_field": "02", "entrusted_organization": False, "region": "370800"},
    "officer": {"officer_name": "李四", "officer_type": "01", "officer_id_number": "370883198506301236", "certificate_number": "37080012345",
                "certificate_valid_to": "2027-12-31", "agency_name": "济宁市市场监督管理局", "agency_credit_code": "11370800004180002M"},
    "license": {**COMPANY, "document_title": "食品经营许可决定书", "document_number": "JY13708110012345", "license_type": "普通",
                "license_content": "预包装食品销售", "decision_date": "2022-03-01", "valid_from": "2022-03-01", "valid_to": "2027-02-28",
                "license_status": "1", **AUTHORITY},
    "penalty": {**COMPANY, **CASE, "document_number": "济市监罚〔2022〕12号", "penalty_types": ["警告", "罚款"], "penalty_content": "警告，罚款2000元",
                "fine_amount": "0.2", "decision_date": "2022-05-01", "valid_to": "2099-12-31", "hearing_held": False, **AUTHORITY},
    "coercive_measure": {**COMPANY, **CASE, "document_number": "济市监强〔2022〕5号", "coercive_measure_type": "200",
                         "property_description": "涉嫌侵权商品120件", "decision_date": "2022-04-01", "measure_start_date": "2022-04-01",
                         "measure_end_date": "2022-05-01", **AUTHORITY},
    "coercive_enforcement": {**COMPANY, "case_number": "济市监案〔2022〕88号", "legal_basis": "《中华人民共和国行政强制法》第四十五条",
                             "document_number": "济市监执〔2022〕3号", "basis_document_number": "济市监罚〔2022〕12号",
                             "coercive_enforcement_type": "01", "court_enforcement": False, "enforcement_amount": "0.05",
                             "decision_date": "2022-07-01", **AUTHORITY},
    "inspection": {"plan_number": "JN2022-001", "plan_name": "2022年度双随机抽查计划", "task_number": "JN2022-001-07",
                   "task_name": "食品经营者检查", "inspection_type": "02", **COMPANY, "party_address": "济宁市任城区示例路1号",
                   "checked_items": ["经营场所卫生", "进货查验记录"], "inspection_methods": ["1", "2"], "inspection_results": ["1"],
                   "follow_up_measures": "无须后置处置措施", "inspecting_department": "济宁市市场监督管理局",
                   "inspecting_department_credit_code": "11370800004180002M", "inspectors": ["李四", "王五"], "inspection_date": "2022-06-15"},
    "credit_license": {"XK_XDR_MC": "济宁示例科技有限公司", "XK_XDR_LB": "法人及非法人组织", "XK_XDR_SHXYM": "91370800MA3C00011N",
                       "XK_FRDB": "张三", "XK_XKWS": "食品经营许可决定书", "XK_WSH": "JY13708110012345", "XK_XKLB": "普通",
                       "XK_NR": "预包装食品销售", "XK_JDRQ": "2022-03-01", "XK_YXQZ": "2022-03-01", "XK_YXQZI": "2027-02-28",
                       "XK_XKJG": "济宁市市场监督管理局", "XK_XKJGDM": "11370800004180002M", "XK_ZT": "1",
                       "XK_LYDW": "济宁市市场监督管理局", "XK_LYDWDM": "11370800004180002M"},
    "credit_penalty": {"CF_XDR_MC": "济宁示例科技有限公司", "CF_XDR_LB": "法人及非法人组织", "CF_XDR_SHXYM": "91370800MA3C00011N",
                       "CF_FRDB": "张三", "CF_WSH": "济市监罚〔2022〕12号", "CF_WFXW": "未按规定标明价格", "CF_SY": "当事人销售商品未明码标价。",
                       "CF_YJ": "《价格违法行为行政处罚规定》第十三条", "CF_CFLB": "警告;罚款", "CF_NR": "警告，罚款2000元", "CF_NR_FK": "0.2",
                       "CF_JDRQ": "2022-05-01", "CF_YXQ": "2099-12-31", "CF_CFJG": "济宁市市场监督管理局", "CF_CFJGDM": "11370800004180002M",
                       "CF_SJLY": "济宁市市场监督管理局", "CF_SJLYDM": "11370800004180002M"},
}

PARTY_FIELDS = {"name": "party_name", "type": "party_type", "credit": "party_credit_code", "reg": "business_registration_no",
                "rep": "legal_representative", "rep_type": "legal_rep_id_type", "rep_no": "legal_rep_id_number",
                "id_type": "party_id_type", "id_no": "party_id_number"}
CREDIT_PARTY = {prefix: {"name": f"{prefix}_XDR_MC", "type": f"{prefix}_XDR_LB", "credit": f"{prefix}_XDR_SHXYM", "reg": f"{prefix}_XDR_GSZC",
                         "rep": f"{prefix}_FRDB", "rep_type": f"{prefix}_FR_ZJLX", "rep_no": f"{prefix}_FR_ZJHM",
                         "id_type": f"{prefix}_XDR_ZJLX", "id_no": f"{prefix}_XDR_ZJHM"} for prefix in ("XK", "CF")}
ID_NUMBER = "370811199002150027"
MASKED_ID_NUMBER = "370811********0027"  # jnx.security.masking.mask_id_number(ID_NUMBER)
MALFORMED_MASK = "370811****02150027"  # four '*' only: the birth month and day show
DISCLOSURES = ("credit_license", "credit_penalty")


def party_names(record_type: str) -> dict[str, str] | None:
    if record_type == "credit_license":
        return CREDIT_PARTY["XK"]
    if record_type == "credit_penalty":
        return CREDIT_PARTY["CF"]
    return PARTY_FIELDS if "party_name" in BASES[record_type] else None


def as_natural_person(record: dict[str, Any], f: dict[str, str]) -> dict[str, Any]:
    """The record for a natural person with a 身份证: the number masked in a disclosure format, in clear otherwise."""
    out = {k: v for k, v in record.items() if k not in (f["credit"], f["rep"], f["rep_type"], f["rep_no"])}
    number = MASKED_ID_NUMBER if f in CREDIT_PARTY.values() else ID_NUMBER
    out.update({f["name"]: "王某某", f["type"]: "自然人", f["id_type"]: "身份证", f["id_no"]: number})
    return out


def as_individual_business(record: dict[str, Any], f: dict[str, str]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k not in (f["rep"], f["rep_type"], f["rep_no"])}
    out.update({f["name"]: "任城区示例小吃店", f["type"]: "个体工商户", f["credit"]: "00000000000000000X", f["reg"]: "370811600123456"})
    return out


def variants(record_type: str) -> list[tuple[str, dict[str, Any], str, list[str]]]:
    """(name, record, expect, beyond) for one record type."""
    base = BASES[record_type]
    first_required = next(u.field for u in default_dictionary().record_type(record_type).uses if u.required)
    first_string = next(u for u in default_dictionary().record_type(record_type).uses if u.element.type.value == "string")
    out = [("valid", base, "valid", [])]
    missing = {k: v for k, v in base.items() if k != first_required}
    out.append(("missing_required", missing, "invalid", []))
    too_long = {**base, first_string.field: "长" * (first_string.element.max_length + 1)}
    out.append(("too_long", too_long, "invalid", []))
    out.append(("unknown_field", {**base, "no_such_field": "x"}, "invalid", []))
    code_use = next((u for u in default_dictionary().record_type(record_type).uses if u.element.type.value == "code"), None)
    if code_use is not None:
        out.append(("unknown_code", {**base, code_use.field: "不存在的代码"}, "invalid", []))
    credit_use = next(u for u in default_dictionary().record_type(record_type).uses if u.element.type.value == "uscc" and u.required)
    wrong = base[credit_use.field][:-1] + ("N" if base[credit_use.field][-1] != "N" else "P")
    out.append(("wrong_check_char", {**base, credit_use.field: wrong}, "invalid", ["xsd", "jsonschema"]))
    f = party_names(record_type)
    if f is not None:
        natural = as_natural_person(base, f)
        out.append(("natural_person", natural, "valid", []))
        out.append(("natural_person_with_credit_code", {**natural, f["credit"]: "91370800MA3C00011N"}, "invalid", ["xsd"]))
        out.append(("natural_person_without_id", {k: v for k, v in natural.items() if k != f["id_no"]}, "invalid", ["xsd"]))
        individual = as_individual_business(base, f)
        out.append(("individual_business_placeholder", individual, "valid", []))
        out.append(("placeholder_without_registration_no", {k: v for k, v in individual.items() if k != f["reg"]}, "invalid", ["xsd"]))
        legal_person = {**base, f["credit"]: "00000000000000000X", f["reg"]: "370811000074657"}  # REFERENCE §1.5 rule 2
        out.append(("legal_person_placeholder", legal_person, "valid", []))
        out.append(("legal_person_placeholder_without_registration_no", {k: v for k, v in legal_person.items() if k != f["reg"]},
                    "invalid", ["xsd"]))
        out.append(("natural_person_placeholder", {**natural, f["credit"]: "00000000000000000X"}, "invalid", ["xsd"]))
        out.append(("legal_person_without_representative", {k: v for k, v in base.items() if k != f["rep"]}, "invalid", ["xsd"]))
    if record_type in DISCLOSURES:
        assert f is not None
        natural = as_natural_person(base, f)
        out.append(("natural_person_clear_id", {**natural, f["id_no"]: ID_NUMBER}, "invalid", ["xsd"]))
        out.append(("natural_person_malformed_mask", {**natural, f["id_no"]: MALFORMED_MASK}, "invalid", ["xsd"]))
        out.append(("natural_person_passport", {**natural, f["id_type"]: "护照号", f["id_no"]: "E1234****"}, "valid", []))
        with_type = {**base, f["rep_type"]: "身份证"}
        out.append(("legal_person_with_representative_id_type", with_type, "valid", []))
        out.append(("legal_person_with_representative_id_number", {**with_type, f["rep_no"]: MASKED_ID_NUMBER}, "invalid", []))
    return out


def main() -> None:
    dictionary = default_dictionary()
    manifest = []
    for record_type in dictionary.record_types:
        for name, record, expect, beyond in variants(record_type):
            stem = f"{record_type}.{name}"
            (HERE / f"{stem}.json").write_text(json.dumps({"record_type": record_type, **record}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            (HERE / f"{stem}.xml").write_bytes(records_to_xml(dictionary, [(record_type, copy.deepcopy(record))]))
            manifest.append({"sample": stem, "record_type": record_type, "expect": expect, "beyond": beyond})
    header = "# Generated by build.py: expect = the models' verdict; beyond = schema validators that cannot see the fault.\n"
    (HERE / "manifest.yaml").write_text(header + yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), encoding="utf-8")


if __name__ == "__main__":
    main()
