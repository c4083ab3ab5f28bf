"""The credit platform's check of one 双公示 record (jnx.sandbox.credit_rules), without a server: the
placeholder credit code as REFERENCE §1.5 rule 2 has it — for a 法人及非法人组织 or a 个体工商户 with
its 工商注册号, never for a 自然人."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jnx.codesets import USCC_PLACEHOLDER
from jnx.sandbox.credit_rules import check_record
from tests.sandbox.test_credit import PENALTY

TODAY = dt.date(2025, 7, 1)
NATURAL_PERSON: dict[str, Any] = {k: v for k, v in PENALTY.items() if k not in ("CF_XDR_SHXYM", "CF_FRDB")} | {
    "CF_XDR_MC": "王某某", "CF_XDR_LB": "自然人", "CF_XDR_ZJLX": "身份证", "CF_XDR_ZJHM": "370811********0027"}
INDIVIDUAL: dict[str, Any] = {k: v for k, v in PENALTY.items() if k != "CF_FRDB"} | {
    "CF_XDR_MC": "任城区鑫源超市", "CF_XDR_LB": "个体工商户"}


def reasons(record: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r.field, r.code) for r in check_record("xzcf", record, TODAY)}


def test_the_base_records_are_accepted() -> None:
    assert reasons(PENALTY) == reasons(NATURAL_PERSON) == reasons(INDIVIDUAL) == set()


@pytest.mark.parametrize("party", [PENALTY, INDIVIDUAL], ids=["法人及非法人组织", "个体工商户"])
def test_an_organisation_with_the_placeholder_and_its_registration_number_is_accepted(party: dict[str, Any]) -> None:
    assert reasons(party | {"CF_XDR_SHXYM": USCC_PLACEHOLDER, "CF_XDR_GSZC": "370811000074657"}) == set()


@pytest.mark.parametrize("party", [PENALTY, INDIVIDUAL], ids=["法人及非法人组织", "个体工商户"])
def test_an_organisation_with_the_placeholder_and_no_registration_number_is_refused_for_it(party: dict[str, Any]) -> None:
    assert reasons(party | {"CF_XDR_SHXYM": USCC_PLACEHOLDER}) == {("CF_XDR_GSZC", "CONDITIONAL")}
    assert reasons(party | {"CF_XDR_SHXYM": USCC_PLACEHOLDER, "CF_XDR_GSZC": "  "}) == {("CF_XDR_GSZC", "CONDITIONAL")}


def test_a_natural_person_with_the_placeholder_is_refused_with_or_without_a_registration_number() -> None:
    assert reasons(NATURAL_PERSON | {"CF_XDR_SHXYM": USCC_PLACEHOLDER}) == {("CF_XDR_SHXYM", "NATURAL_PERSON")}
    assert reasons(NATURAL_PERSON | {"CF_XDR_SHXYM": USCC_PLACEHOLDER, "CF_XDR_GSZC": "370811600123456"}) == {
        ("CF_XDR_SHXYM", "NATURAL_PERSON"), ("CF_XDR_GSZC", "NATURAL_PERSON")}


def test_the_placeholder_is_no_agency_credit_code() -> None:
    assert reasons(PENALTY | {"CF_CFJGDM": USCC_PLACEHOLDER}) == {("CF_CFJGDM", "CHECKSUM")}


def test_the_licence_format_follows_the_same_rule() -> None:
    licence = {"XK_XDR_MC": "济宁示例科技有限公司", "XK_XDR_LB": "法人及非法人组织", "XK_XDR_SHXYM": USCC_PLACEHOLDER,
               "XK_FRDB": "张三", "XK_XKWS": "准予行政许可决定书", "XK_WSH": "济任审批许〔2021〕0002号", "XK_XKLB": "普通",
               "XK_NR": "预包装食品销售", "XK_JDRQ": "2021-03-05", "XK_YXQZ": "2021-03-05", "XK_YXQZI": "2026-03-04",
               "XK_XKJG": "任城区行政审批服务局", "XK_XKJGDM": "11370811MB2850017P", "XK_ZT": "1",
               "XK_LYDW": "任城区行政审批服务局", "XK_LYDWDM": "11370811MB2850017P"}
    assert {(r.field, r.code) for r in check_record("xzxk", licence, TODAY)} == {("XK_XDR_GSZC", "CONDITIONAL")}
    assert check_record("xzxk", licence | {"XK_XDR_GSZC": "370811000074657"}, TODAY) == []


@pytest.mark.parametrize(("categories", "refused"), [
    ("警告;其他-取缔", False), ("警告;其他", True), ("其他-", True), ("罚款;其他限制", False)])
def test_a_penalty_category_other_must_be_named(categories: str, refused: bool) -> None:
    record = {**PENALTY, "CF_CFLB": categories}
    if "罚款" not in categories:
        record.pop("CF_NR_FK", None)
    assert (("CF_CFLB", "ENUM") in reasons(record)) is refused
