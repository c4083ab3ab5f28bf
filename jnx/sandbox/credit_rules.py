"""How the credit platform checks a 双公示 record (docs/source-shapes.md §4.1): required fields,
enumerations, the natural-person rules, credit-code and ID check characters, dates, amounts, lengths.

Pure: a record in, a list of :class:`Reason` out. Messages never repeat an ID number.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from jnx.codesets.validators import USCC_PLACEHOLDER, check_id_number, check_uscc

#: A natural person's ID number as senders must publish it: masked (REFERENCE §2.2), e.g. 370811********0027.
#: The platform accepts the masked form; a full number is checked (and is what senders must not send).
MASKED_ID = re.compile(r"^[0-9]{6}\*{8}[0-9]{3}[0-9X]$")

PARTY_KINDS = ("法人及非法人组织", "自然人", "个体工商户")
ID_KINDS = ("身份证", "护照号", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "外国人永久居留身份证")
LICENSE_KINDS = ("普通", "特许", "认可", "核准", "登记")
PENALTY_KINDS = ("警告", "通报批评", "罚款", "没收违法所得", "没收非法财物", "暂扣许可证件", "降低资质等级", "吊销许可证件",
                 "限制开展生产经营活动", "责令停产停业", "责令关闭", "限制从业", "行政拘留")
ORG_CODES = ("XDR_SHXYM", "XDR_GSZC", "XDR_ZZJG", "XDR_SWDJ", "XDR_SYDW", "XDR_SHZZ")

# field (without prefix) → maximum length; shared by XK and CF where both have it
LENGTHS = {
    "XDR_MC": 200, "XDR_LB": 16, "XDR_SHXYM": 18, "XDR_GSZC": 50, "XDR_ZZJG": 9, "XDR_SWDJ": 15, "XDR_SYDW": 12,
    "XDR_SHZZ": 50, "FRDB": 50, "FR_ZJLX": 64, "FR_ZJHM": 64, "XDR_ZJLX": 64, "XDR_ZJHM": 64, "BZ": 512,
    "XKWS": 64, "WSH": 128, "XKLB": 256, "XKZS": 64, "XKBH": 64, "NR": 4000, "XKJG": 200, "XKJGDM": 18, "ZT": 1,
    "LYDW": 200, "LYDWDM": 18, "WFXW": 2000, "SY": 4000, "YJ": 2000, "CFLB": 256, "NR_ZKDX": 200, "CFJG": 200,
    "CFJGDM": 18, "SJLY": 200, "SJLYDM": 18,
}
LICENSE_FIELDS = ("XDR_MC", "XDR_LB", *ORG_CODES, "FRDB", "FR_ZJLX", "FR_ZJHM", "XDR_ZJLX", "XDR_ZJHM", "XKWS", "WSH",
                  "XKLB", "XKZS", "XKBH", "NR", "JDRQ", "YXQZ", "YXQZI", "XKJG", "XKJGDM", "ZT", "LYDW", "LYDWDM")
PENALTY_FIELDS = ("XDR_MC", "XDR_LB", *ORG_CODES, "FRDB", "FR_ZJLX", "FR_ZJHM", "XDR_ZJLX", "XDR_ZJHM", "WSH", "WFXW",
                  "SY", "YJ", "CFLB", "NR", "NR_FK", "NR_WFFF", "NR_ZKDX", "JDRQ", "YXQ", "GSJZQ", "CFJG", "CFJGDM", "SJLY", "SJLYDM")
REQUIRED = {
    "xzxk": ("XDR_MC", "XDR_LB", "XKWS", "WSH", "XKLB", "NR", "JDRQ", "YXQZ", "YXQZI", "XKJG", "XKJGDM", "ZT", "LYDW", "LYDWDM"),
    "xzcf": ("XDR_MC", "XDR_LB", "WSH", "WFXW", "SY", "YJ", "CFLB", "NR", "JDRQ", "YXQ", "CFJG", "CFJGDM", "SJLY", "SJLYDM"),
}
PREFIX = {"xzxk": "XK_", "xzcf": "CF_"}
AGENCY_CODES = {"xzxk": ("XKJGDM", "LYDWDM"), "xzcf": ("CFJGDM", "SJLYDM")}
DATES = {"xzxk": ("JDRQ", "YXQZ", "YXQZI"), "xzcf": ("JDRQ", "YXQ", "GSJZQ")}


@dataclass(frozen=True, slots=True)
class Reason:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


def business_key(kind: str, record: dict[str, Any]) -> tuple[str, str]:
    agency = "XK_XKJGDM" if kind == "xzxk" else "CF_CFJGDM"
    wsh = f"{PREFIX[kind]}WSH"
    return str(record.get(agency) or "").strip(), str(record.get(wsh) or "").strip()


def parse_date(value: str) -> dt.date | None:
    text = value.strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def check_record(kind: str, record: Any, today: dt.date) -> list[Reason]:
    """Every reason ``record`` (one 双公示 record of ``kind`` xzxk|xzcf) would be rejected; empty = accepted."""
    if not isinstance(record, dict):
        return [Reason("", "FORMAT", "每条记录必须是 JSON 对象 (each record must be a JSON object)")]
    p = PREFIX[kind]
    known = {p + f for f in (LICENSE_FIELDS if kind == "xzxk" else PENALTY_FIELDS)} | {"BZ"}
    reasons = [Reason(k, "UNKNOWN_FIELD", f"未知字段 {k}") for k in record if k not in known]

    def value(name: str) -> str:
        raw = record.get(name if name == "BZ" else p + name)
        return "" if raw is None else str(raw).strip()

    for name in REQUIRED[kind]:
        if not value(name):
            reasons.append(Reason(p + name, "REQUIRED", f"{p + name} 必填"))
    for name, limit in LENGTHS.items():
        if (p + name) in known and len(value(name)) > limit:
            reasons.append(Reason(p + name, "LENGTH", f"{p + name} 超过 {limit} 字符"))
    party = value("XDR_LB")
    if party and party not in PARTY_KINDS:
        reasons.append(Reason(p + "XDR_LB", "ENUM", f"行政相对人类别须为 {'、'.join(PARTY_KINDS)}"))
    if party == "自然人":
        for name in ("XDR_ZJLX", "XDR_ZJHM"):
            if not value(name):
                reasons.append(Reason(p + name, "NATURAL_PERSON", f"自然人的{'证件类型' if name.endswith('LX') else '证件号码'}必填"))
        for name in (*ORG_CODES, "FRDB", "FR_ZJLX", "FR_ZJHM"):
            if value(name):
                reasons.append(Reason(p + name, "NATURAL_PERSON", f"自然人不得填写 {p + name}"))
    elif party in ("法人及非法人组织", "个体工商户"):
        code = value("XDR_SHXYM")
        if not code:
            reasons.append(Reason(p + "XDR_SHXYM", "REQUIRED", "法人及非法人组织、个体工商户的统一社会信用代码必填"))
        elif code == USCC_PLACEHOLDER:  # REFERENCE §1.5 rule 2: an organisation known by its 注册号 only, either kind
            if not value("XDR_GSZC"):
                reasons.append(Reason(p + "XDR_GSZC", "CONDITIONAL", "统一社会信用代码为 17 个 0 加 X 时，工商注册号必填"))
        elif not (verdict := check_uscc(code)):
            reasons.append(Reason(p + "XDR_SHXYM", "CHECKSUM", f"统一社会信用代码无效: {verdict.reason}"))
        if party == "法人及非法人组织" and not value("FRDB"):
            reasons.append(Reason(p + "FRDB", "CONDITIONAL", "法人及非法人组织的法定代表人必填"))
    id_kind = value("XDR_ZJLX")
    if id_kind and id_kind not in ID_KINDS and not id_kind.startswith("其他-"):
        reasons.append(Reason(p + "XDR_ZJLX", "ENUM", f"证件类型须为 {'、'.join(ID_KINDS)} 或 其他-…"))
    number = value("XDR_ZJHM")
    if id_kind == "身份证" and number and not MASKED_ID.match(number) and not (verdict := check_id_number(number, today=today)):
        reasons.append(Reason(p + "XDR_ZJHM", "CHECKSUM", f"身份证号码无效 ({verdict.rule})"))
    for name in AGENCY_CODES[kind]:
        if value(name) and not (verdict := check_uscc(value(name))):
            reasons.append(Reason(p + name, "CHECKSUM", f"机关统一社会信用代码无效: {verdict.reason}"))
    dates: dict[str, dt.date] = {}
    for name in DATES[kind]:
        text = value(name)
        if text:
            day = parse_date(text)
            if day is None:
                reasons.append(Reason(p + name, "FORMAT", f"{p + name} 日期格式须为 YYYY-MM-DD"))
            else:
                dates[name] = day
    if dates.get("JDRQ") and dates["JDRQ"] > today:
        reasons.append(Reason(p + "JDRQ", "RANGE", "决定日期不能晚于今天"))
    if kind == "xzxk":
        reasons += _license_rules(value, dates)
    else:
        reasons += _penalty_rules(record, value)
    return reasons


def _license_rules(value: Any, dates: dict[str, dt.date]) -> list[Reason]:
    out = []
    if dates.get("YXQZ") and dates.get("YXQZI") and dates["YXQZ"] > dates["YXQZI"]:
        out.append(Reason("XK_YXQZI", "RANGE", "有效期至不能早于有效期自"))
    category = value("XKLB")
    if category and category not in LICENSE_KINDS and not category.startswith("其他"):
        out.append(Reason("XK_XKLB", "ENUM", f"许可类别须为 {'、'.join(LICENSE_KINDS)} 或 其他…"))
    if value("ZT") and value("ZT") not in ("1", "2"):
        out.append(Reason("XK_ZT", "ENUM", "当前状态须为 1（有效）或 2（无效）"))
    return out


def _amount(raw: Any) -> Decimal | None:
    if raw is None or raw == "" or isinstance(raw, bool):
        return None
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        return Decimal(-1)
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.000001")):
        return Decimal(-1)
    return amount


PENALTY_LAW_2021 = dt.date(2021, 7, 15)
#: Before 2021-07-15 decisions name the kinds of the 2017 law (REFERENCE §1.4); the platform accepts those for them.
PENALTY_KINDS_2017 = ("警告", "罚款", "没收违法所得", "没收非法财物", "责令停产停业", "暂扣或者吊销许可证", "暂扣或者吊销执照", "行政拘留")


def _decision_date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text).replace("/", "-")[:10]) if text else None
    except ValueError:
        return None


def _penalty_rules(record: dict[str, Any], value: Any) -> list[Reason]:
    out = []
    kinds = [k.strip() for k in value("CFLB").split(";") if k.strip()]
    decided = _decision_date(value("JDRQ"))
    allowed = PENALTY_KINDS if decided is None or decided >= PENALTY_LAW_2021 else PENALTY_KINDS_2017
    article = "《行政处罚法》(2021) 第九条" if allowed is PENALTY_KINDS else "《行政处罚法》(2017) 第八条"
    for k in kinds:
        if k in ("其他", "其他-"):  # 法律、行政法规规定的其他行政处罚: the format asks for its name
            out.append(Reason("CF_CFLB", "ENUM", "处罚类别为“其他”时须注明具体种类（其他-…）"))
        elif k not in allowed and not k.startswith("其他"):
            out.append(Reason("CF_CFLB", "ENUM", f"处罚类别 {k!r} 不在{article}所列种类中（按处罚决定日期）"))
    for name in ("CF_NR_FK", "CF_NR_WFFF"):
        if _amount(record.get(name)) == Decimal(-1):
            out.append(Reason(name, "FORMAT", f"{name} 须为不小于 0、最多 6 位小数的数字（万元）"))
    fine = _amount(record.get("CF_NR_FK"))
    if "罚款" in kinds and (fine is None or fine <= 0):
        out.append(Reason("CF_NR_FK", "CONDITIONAL", "处罚类别含罚款时，罚款金额（万元）必填且大于 0"))
    if any(k.startswith("没收") for k in kinds) and _amount(record.get("CF_NR_WFFF")) is None:
        out.append(Reason("CF_NR_WFFF", "CONDITIONAL", "处罚类别含没收时，没收金额（万元）必填"))
    if any(k in ("暂扣许可证件", "吊销许可证件") for k in kinds) and not value("NR_ZKDX"):
        out.append(Reason("CF_NR_ZKDX", "CONDITIONAL", "暂扣或吊销许可证件时，证照名称及编号必填"))
    return out
