"""Records filed by hand on the credit platform (not by jnx), for reconciliation: valid 双公示
records, some with the same (agency, 文书号) as a case-handling penalty (docs/source-shapes.md §4.4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jnx.sandbox.data import FIRST_DECISION, LAST_DECISION, REGIONS, Generator, Party
from jnx.sandbox.feed import SourceRecord

PARTY_KIND = {"org": "法人及非法人组织", "individual": "个体工商户", "person": "自然人"}
ID_KIND = {"id": "身份证", "passport": "护照号", "hk": "港澳居民来往内地通行证"}


def party_fields(prefix: str, party: Party) -> dict[str, str]:
    if party.kind == "person":
        return {f"{prefix}XDR_MC": party.name, f"{prefix}XDR_LB": "自然人",
                f"{prefix}XDR_ZJLX": ID_KIND[party.id_type or "id"], f"{prefix}XDR_ZJHM": party.id_number or ""}
    out = {f"{prefix}XDR_MC": party.name, f"{prefix}XDR_LB": PARTY_KIND[party.kind], f"{prefix}XDR_SHXYM": party.uscc or ""}
    if party.reg_no:
        out[f"{prefix}XDR_GSZC"] = party.reg_no
    if party.kind == "org":
        out[f"{prefix}FRDB"] = party.legal_rep or ""
    return out


def manual_penalty(gen: Generator, source: SourceRecord | None) -> dict[str, Any]:
    day = gen.date_between(FIRST_DECISION, LAST_DECISION)
    region = gen.pick(REGIONS)
    agency = gen.agency(region, ("市场监督管理局", "市监"))
    wsh = f"济{region.short}市监罚〔{day.year}〕{gen.rng.randrange(1000, 9999)}号"
    agency_name, agency_code = agency.name, agency.uscc
    if source is not None:
        wsh, agency_name, agency_code = str(source.fields["cfjdsh"]).strip(), str(source.fields["cfjg"]), str(source.fields["cfjgdm"])
    party = gen.party(region, person_share=0.3)
    fine = gen.pick(("0.2", "0.05", "1.5", "0.3"))
    return party_fields("CF_", party) | {
        "CF_WSH": wsh, "CF_WFXW": "经营超过保质期的食品", "CF_SY": "经查，当事人经营超过保质期的食品。",
        "CF_YJ": "《中华人民共和国食品安全法》第一百二十四条第一款", "CF_CFLB": "警告;罚款", "CF_NR": f"警告，罚款{fine}万元",
        "CF_NR_FK": fine, "CF_JDRQ": day.isoformat(), "CF_YXQ": (day + dt.timedelta(days=365)).isoformat(),
        "CF_CFJG": agency_name, "CF_CFJGDM": agency_code, "CF_SJLY": agency_name, "CF_SJLYDM": agency_code,
    }


def manual_license(gen: Generator) -> dict[str, Any]:
    day = gen.date_between(FIRST_DECISION, LAST_DECISION)
    region = gen.pick(REGIONS)
    agency = gen.agency(region, ("行政审批服务局", "审批"))
    party = gen.party(region, person_share=0.1)
    return party_fields("XK_", party) | {
        "XK_XKWS": "准予行政许可决定书", "XK_WSH": f"济{region.short}审批许〔{day.year}〕{gen.rng.randrange(1000, 9999)}号",
        "XK_XKLB": "普通", "XK_XKZS": "食品经营许可证", "XK_XKBH": f"JY1{region.code}{gen.digits(7)}", "XK_NR": "预包装食品销售",
        "XK_JDRQ": day.isoformat(), "XK_YXQZ": day.isoformat(), "XK_YXQZI": (day + dt.timedelta(days=1825)).isoformat(),
        "XK_XKJG": agency.name, "XK_XKJGDM": agency.uscc, "XK_ZT": "1", "XK_LYDW": agency.name, "XK_LYDWDM": agency.uscc,
    }


def manual_records(seed: int, count: int, penalties: list[SourceRecord]) -> list[tuple[str, dict[str, Any]]]:
    """``count`` hand-filed records: two thirds penalties (a third of those matching a source penalty), a third licences."""
    gen = Generator(seed, "credit-manual")
    out: list[tuple[str, dict[str, Any]]] = []
    for i in range(count):
        if i % 3 == 2:
            out.append(("xzxk", manual_license(gen)))
        else:
            source = gen.pick(penalties) if penalties and gen.chance(0.33) else None
            out.append(("xzcf", manual_penalty(gen, source)))
    return out
