"""Properties of the shipped tables over generated records (hypothesis):

* outbound: any valid standard penalty gives a valid credit-platform 行政处罚信息 record;
* inbound then outbound: every field the credit platform publishes keeps its value, and a natural
  person's identity number never leaves in clear.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jnx.codesets import default_registry
from jnx.codesets.validators import id_check_char, uscc_check_char
from jnx.mappings.registry import SHIPPED_DIR, TableRegistry
from jnx.mappings.standard_dictionary import standard_dictionary
from jnx.standard import Publication, default_dictionary
from tests.mappings.conftest import CONTEXT, TODAY

REGISTRY = TableRegistry([SHIPPED_DIR], standard_dictionary(), default_registry())
INBOUND = REGISTRY.compiled("case_handling.penalty", 1)
OUTBOUND = REGISTRY.compiled("credit.penalty", 1)
CREDIT = default_dictionary().record_type("credit_penalty")
KINDS_2021 = ["警告", "通报批评", "罚款", "没收违法所得", "没收非法财物", "暂扣许可证件", "降低资质等级", "吊销许可证件",
              "限制开展生产经营活动", "责令停产停业", "责令关闭", "限制从业", "行政拘留"]
digits = st.text("0123456789", min_size=1, max_size=1)


@st.composite
def uscc(draw: st.DrawFn, head: str = "91370811") -> str:
    body = head + "".join(draw(st.lists(digits, min_size=17 - len(head), max_size=17 - len(head))))
    return body + uscc_check_char(body)


@st.composite
def id_number(draw: st.DrawFn) -> str:
    born = draw(st.dates(dt.date(1940, 1, 1), dt.date(2005, 12, 31)))
    body = f"370811{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + id_check_char(body)


names = st.text(alphabet="张王李赵鑫源餐饮有限公司超市店（）", min_size=2, max_size=20)


ORGANISATIONS = ["法人及非法人组织", "个体工商户"]


@st.composite
def standard_penalty(draw: st.DrawFn, parties: tuple[str, ...] = ("自然人", *ORGANISATIONS)) -> dict[str, Any]:
    decided = draw(st.dates(dt.date(2021, 7, 15), TODAY))
    kinds = draw(st.lists(st.sampled_from(KINDS_2021), min_size=1, max_size=3, unique=True))
    record: dict[str, Any] = {
        "party_name": draw(names), "case_number": "AJ" + draw(st.text("0123456789", min_size=4, max_size=10)),
        "illegal_act": draw(names), "illegal_facts": draw(names), "legal_basis": "《中华人民共和国食品安全法》第一百二十四条",
        "document_number": f"济任市监罚〔{decided.year}〕{draw(st.integers(1, 9999))}号", "penalty_types": kinds,
        "penalty_content": draw(names), "decision_date": decided,
        "valid_to": draw(st.dates(decided, dt.date(2099, 12, 31))),
        "authority_name": "任城区市场监督管理局", "authority_credit_code": "11370811MB2850017P",
        "data_source_unit": CONTEXT.department_name, "data_source_credit_code": CONTEXT.department_credit_code,
    }
    party = draw(st.sampled_from(parties))
    record["party_type"] = party
    if party == "自然人":
        record["party_id_type"] = "身份证"
        record["party_id_number"] = draw(id_number())
    else:
        record["party_credit_code"] = draw(uscc("91370811" if party != "个体工商户" else "92370811"))
        record["legal_representative"] = draw(names)
    if "罚款" in kinds:
        record["fine_amount"] = Decimal(draw(st.integers(1, 10**10))).scaleb(-6)
    if {"没收违法所得", "没收非法财物"} & set(kinds):
        record["confiscation_amount"] = Decimal(draw(st.integers(0, 10**10))).scaleb(-6)
    if {"暂扣许可证件", "吊销许可证件"} & set(kinds):
        record["suspended_license"] = "食品经营许可证（JY13708110012345）"
    return record


def _outbound_is_valid(record: dict[str, Any]) -> None:
    assert INBOUND.dictionary is not None
    assert INBOUND.dictionary.validate("penalty", record, TODAY) == []  # the generator makes valid records
    result = OUTBOUND(record, CONTEXT, today=TODAY)
    assert result.issues == ()
    if record["party_type"] == "自然人":
        assert record["party_id_number"] not in str(result.record)
        assert result.record["CF_XDR_MC"] == record["party_name"][0] + "*" * (len(record["party_name"]) - 1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(standard_penalty(tuple(ORGANISATIONS)))
def test_outbound_of_any_valid_organisation_penalty_is_a_valid_credit_record(record: dict[str, Any]) -> None:
    _outbound_is_valid(record)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(standard_penalty(("自然人",)))
def test_outbound_of_any_valid_natural_person_penalty_is_a_valid_credit_record(record: dict[str, Any]) -> None:
    _outbound_is_valid(record)


@st.composite
def case_handling_penalty(draw: st.DrawFn, parties: tuple[str, ...]) -> dict[str, Any]:
    """A case-handling source record in any of the shape's formats (docs/source-shapes.md §2.1)."""
    standard = draw(standard_penalty(parties))
    decided: dt.date = standard["decision_date"]
    date_text = draw(st.sampled_from([decided.isoformat(), f"{decided.year}/{decided.month}/{decided.day}",
                                      f"{decided:%Y%m%d}", f"{decided.year}年{decided.month}月{decided.day}日"]))
    fine = standard.get("fine_amount")
    return {
        "ajbh": standard["case_number"], "cfjdsh": standard["document_number"] + draw(st.sampled_from(["", " "])),
        "cfjdsmc": "行政处罚决定书",
        "dsrlx": {"自然人": "1", "法人及非法人组织": draw(st.sampled_from(["2", "9"])), "个体工商户": "3"}[standard["party_type"]],
        "dsrmc": draw(st.sampled_from(["", " ", "\u3000"])) + standard["party_name"],
        "zjlx": "01" if "party_id_number" in standard else None, "zjhm": standard.get("party_id_number"),
        "tyshxydm": standard.get("party_credit_code"), "fddbr": standard.get("legal_representative"),
        "wfxw": standard["illegal_act"], "wfss": standard["illegal_facts"], "cfyj": standard["legal_basis"],
        "cflb": draw(st.sampled_from([";", "；", "、", ",", "，"])).join(standard["penalty_types"]),
        "cfnr": standard["penalty_content"],
        "fkje": None if fine is None else draw(st.sampled_from([f"{fine * 10000:,f}元", f"{fine * 10000:f}", f"{fine}万元"])),
        "mswfsdje": None if standard.get("confiscation_amount") is None else f"{standard['confiscation_amount']}万元",
        "zkdxzzmc": standard.get("suspended_license"), "jdrq": date_text, "cfyxq": standard["valid_to"].isoformat(),
        "cfjg": standard["authority_name"], "cfjgdm": standard["authority_credit_code"], "xzqh": "370811",
    }


def _round_trip_keeps_published_fields(source: dict[str, Any]) -> None:
    standard = INBOUND(source, CONTEXT, today=TODAY)
    assert standard.issues == ()
    credit = OUTBOUND(standard.record, CONTEXT, today=TODAY)
    assert credit.issues == ()
    for use in CREDIT:
        element = use.element
        if element.publication is not Publication.PUBLISHED or element.derives_from is None:
            continue
        value = standard.record.get(element.derives_from)
        expected = ";".join(value) if isinstance(value, list) else value
        assert credit.record.get(element.field) == expected, element.field
    if source["zjhm"]:
        assert source["zjhm"] not in str(credit.record)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_handling_penalty(tuple(ORGANISATIONS)))
def test_inbound_then_outbound_keeps_every_published_field_of_organisations(source: dict[str, Any]) -> None:
    _round_trip_keeps_published_fields(source)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_handling_penalty(("自然人",)))
def test_inbound_then_outbound_keeps_every_published_field_of_natural_persons(source: dict[str, Any]) -> None:
    _round_trip_keeps_published_fields(source)
