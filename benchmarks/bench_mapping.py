"""Mapping throughput: the compiled case-handling penalty table against a hand-written function.

Maps N penalty records of the case-handling shape (docs/source-shapes.md §2.1: 31 keys, 27 target
fields) with the shape's messiness — five date formats, six amount formats, mixed category
separators, full-width, half-width-parenthesised and padded names, 2017 and 2021 category names,
~1 % unknown codes — through ``case_handling.penalty@1`` compiled once, and through ``handwritten``
below, in the same process, one core.

Values repeat as in real feeds and no more: case and document numbers, ID numbers and the facts
text are unique per pool record, party names nearly so (~4,400 of 5,000), dates and amounts spread
over six years and 50–5,000,000 元; acts, legal bases and codes come from short lists. The engine
remembers each field's outcome per distinct short text (``compiler.MEMO_SIZE`` texts per field);
the pool is cycled, so it must hold more than twice that many records, or values unique per record
would be found in the memo on the next cycle and flatter the engine: ``main`` refuses to run then.

"The same work" on both sides: read every source field, run the same value parsers
(jnx.mappings.values: clean, date, amount — a hand-written mapper would call the same helpers),
translate codes through dicts, split categories, collect every field's error with field, source,
shown value, rule and message, and fill the settings. Neither side runs the standard's record
check (pydantic/``check_record``), which is the same cost on both and is measured separately with
``--validate``.

    python benchmarks/bench_mapping.py [--records N] [--validate] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from jnx.codesets.validators import id_check_char, uscc_check_char
from jnx.mappings.compiler import MEMO_SIZE, shown
from jnx.mappings.model import MappingContext, MappingIssue
from jnx.mappings.service import open_registry
from jnx.mappings.values import (
    TransformFailure,
    amount_parser,
    clean,
    cn_parens,
    date_parser,
    halfwidth,
    squeeze,
    trim,
)

POOL = 5_000
CONTEXT = MappingContext(department_name="济宁市司法局", department_credit_code="11370800004180002M")
FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHJKLMNPQRTUWXY"}
OLD = ["警告", "罚款", "没收违法所得", "没收非法财物", "责令停产停业", "暂扣或者吊销许可证", "暂扣或者吊销执照"]
NEW = ["警告", "通报批评", "罚款", "没收违法所得", "没收非法财物", "暂扣许可证件", "吊销许可证件", "责令停产停业", "限制从业"]
REGIONS = ["370811", "370812", "370826", "370827", "370828", "370829", "370830", "370831", "370832", "370881", "370883"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国玉兰志红"
STEMS = "鑫源宏达盛泰恒丰金瑞福祥隆兴嘉和顺安永康德利华美佳乐天成新"
TRADES = ["餐饮", "商贸", "食品", "建材", "药房", "超市", "烧烤店", "百货"]
ACTS = ["经营超过保质期的食品", "未取得食品经营许可从事食品经营活动", "销售不符合安全标准的产品", "未按规定公示营业执照",
        "虚假宣传", "使用未经检定的计量器具", "无证排污", "超范围经营"]
BASES = ["《中华人民共和国食品安全法》第一百二十四条第一款", "《中华人民共和国食品安全法》第一百二十二条",
         "《中华人民共和国产品质量法》第四十九条", "《中华人民共和国反不正当竞争法》第二十条", "《中华人民共和国计量法》第二十六条"]


def _uscc(rng: random.Random, head: str) -> str:
    body = head + "".join(rng.choice("0123456789") for _ in range(17 - len(head)))
    return body + uscc_check_char(body)


def _id(rng: random.Random) -> str:
    body = f"370811{rng.randint(1950, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + id_check_char(body)


def _messy_date(rng: random.Random, day: dt.date) -> Any:
    kind = rng.random()
    if kind < 0.60:
        return day.isoformat()
    if kind < 0.75:
        return f"{day.year}/{day.month}/{day.day}"
    if kind < 0.85:
        return day.strftime("%Y%m%d")
    if kind < 0.95:
        return f"{day.year}年{day.month}月{day.day}日"
    return (day - dt.date(1970, 1, 1)).days * 86_400_000 - 8 * 3_600_000


def _messy_amount(rng: random.Random) -> str:
    yuan = rng.randint(50, 5_000_000)
    kind = rng.random()
    if kind < 0.50:
        return f"{yuan:,}.00元"
    if kind < 0.70:
        return str(yuan)
    if kind < 0.85:
        return f"{yuan}.{rng.choice(['00', '35'])}"
    if kind < 0.90:
        return f"{yuan / 10000:.4f}万元"
    if kind < 0.95:
        return f"{yuan}元".translate(FULLWIDTH)
    return f" {yuan:,} 元 "


def _party_name(rng: random.Random, person: bool) -> str:
    """Names as feeds carry them: people and firms rarely repeat; some full-width, half-width (), padded."""
    if person:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    else:
        stem = rng.choice(STEMS) + rng.choice(STEMS)
        kind = rng.random()
        if kind < 0.10:
            name = f"ＡＢＣ{stem}{rng.choice(TRADES)}"
        elif kind < 0.25:
            name = f"{rng.choice(['任城区', '兖州区', '曲阜市'])}{stem}{rng.choice(TRADES)}(建设路{rng.randint(1, 300)}号店)"
        else:
            name = f"济宁市{rng.choice(['任城区', '兖州区', '曲阜市', '邹城市'])}{stem}{rng.choice(TRADES)}有限公司"
    return f" {name}\u3000" if rng.random() < 0.04 else name


def penalty_records(seed: int = 20250701) -> list[dict[str, Any]]:
    """A pool of case-handling penalty records, as messy as the sandbox makes them."""
    rng = random.Random(seed)
    records = []
    for n in range(POOL):
        day = dt.date(2019, 1, 2) + dt.timedelta(days=rng.randint(0, 2368))
        kinds = rng.sample(OLD if day < dt.date(2021, 7, 15) else NEW, rng.choice([1, 1, 2, 3]))
        if rng.random() < 0.005:
            kinds.append("训诫")
        person = rng.random() < 0.38
        party = rng.choice(["1", "2", "3", "9"]) if not person else "1"
        name = _party_name(rng, person)
        records.append({
            "ajbh": f"JNCF370811{day.year}{n:06d}", "ajmc": f"{name}案",
            "cfjdsh": f"济任市监罚〔{day.year}〕{n}号" + (" " if rng.random() < 0.02 else ""),
            "cfjdsmc": "行政处罚决定书", "dsrlx": party if rng.random() > 0.01 else "5", "dsrmc": name,
            "zjlx": "01" if person else None, "zjhm": _id(rng) if person else None,
            "tyshxydm": None if person else _uscc(rng, "91370811"), "gszch": None,
            "fddbr": None if person else "王建国", "fddbrzjlx": None if person else "01",
            "fddbrzjhm": None if person else _id(rng), "dz": "济宁市任城区建设路12号",
            "wfxw": (act := rng.choice(ACTS)),
            "wfss": f"经查，当事人于  {day.year}年{day.month}月{day.day}日在{name.strip()}经营场所{act}，"
                    f"涉及货值{rng.randint(100, 90_000)}元、{rng.randint(1, 40)}批次。\n以上事实有现场检查笔录、询问笔录等证据证实。",
            "cfyj": rng.choice(BASES),
            "cflb": rng.choice([";", "；", "、", ",", "，"]).join(kinds),
            "cfnr": f"{'、'.join(kinds)}，罚款人民币{rng.randint(1, 500) * 100}元" if "罚款" in kinds else "、".join(kinds),
            "fkje": _messy_amount(rng) if "罚款" in kinds else None,
            "mswfsdje": _messy_amount(rng) if "没收违法所得" in kinds or "没收非法财物" in kinds else None,
            "zkdxzzmc": "食品经营许可证（JY13708110012345）" if any("许可证" in k or "执照" in k for k in kinds) else None,
            "jdrq": _messy_date(rng, day), "cfyxq": rng.choice([_messy_date(rng, day + dt.timedelta(days=365)), "长期"]),
            "cfjg": "任城区市场监督管理局", "cfjgdm": "11370811MB2850017P",
            "xzqh": rng.choice(REGIONS) if rng.random() > 0.01 else "370871", "ajzt": "40", "sfcx": "0",
            "created_at": "2021-03-05 09:12:40", "updated_at": "2021-03-05 14:23:11",
        })
    return records


# ---------------------------------------------------------------- the hand-written mapper

_DATE = date_parser(("YYYY-MM-DD", "YYYY/M/D", "YYYYMMDD", "YYYY年M月D日", "epoch_ms"), dt.date(1900, 1, 1), dt.date(2099, 12, 31))
_YUAN = amount_parser("元")
_PARTY = {"1": "自然人", "2": "法人及非法人组织", "3": "个体工商户", "9": "法人及非法人组织",
          "自然人": "自然人", "法人及非法人组织": "法人及非法人组织", "个体工商户": "个体工商户"}
_ID_TYPE = {"01": "身份证", "02": "其他-驾驶证", "03": "其他-军官证", "04": "护照号", "05": "港澳居民来往内地通行证",
            "99": "其他-其他证件", "身份证": "身份证", "护照号": "护照号"}
_PENALTY = {k: k for k in OLD + NEW + ["降低资质等级", "限制开展生产经营活动", "责令关闭", "行政拘留", "其他"]}
_REGION = {r: r for r in [*REGIONS, "370800", "370890", "370891", "370892"]} | {"370871": "370890"}
_SEP = re.compile("[;；、,，]")


def _code(table: Mapping[str, str], value: str, name: str) -> str:
    code = table.get(value)
    if code is None:
        raise TransformFailure("code", "code.unknown", f"not a known value for code set {name}")
    return code


def _issue(field: str, source: str, raw: Any, exc: TransformFailure, personal: bool = False) -> MappingIssue:
    return MappingIssue(field, source, shown(raw, personal), exc.transform, exc.rule, exc.message)


def _missing(field: str, source: str) -> MappingIssue:
    return MappingIssue(field, source, None, None, "required", f"required, and the source has no value at {source}")


def _upper(value: str | None) -> str | None:
    return value.upper() if value is not None else None


def _amount(value: Any) -> Any:
    text = trim(halfwidth(value))
    return _YUAN(text) if text is not None else None


def _categories(value: Any) -> list[str] | None:
    parts = dict.fromkeys(p.strip() for p in _SEP.split(halfwidth(value)))
    return [_code(_PENALTY, p, "penalty_type") for p in parts if p] or None


def handwritten(src: Mapping[str, Any], ctx: MappingContext) -> tuple[dict[str, Any], list[MappingIssue]]:
    """case_handling.penalty@1 written out by hand: one try per field, every error collected."""
    out: dict[str, Any] = {}
    issues: list[MappingIssue] = []
    # fields that never fail: text normalisation only
    for field, key, fn, need in (
        ("business_registration_no", "gszch", clean, False), ("legal_representative", "fddbr", clean, False),
        ("case_number", "ajbh", trim, True), ("illegal_act", "wfxw", squeeze, True),
        ("illegal_facts", "wfss", squeeze, True), ("legal_basis", "cfyj", squeeze, True),
        ("document_title", "cfjdsmc", trim, False), ("document_number", "cfjdsh", clean, True),
        ("penalty_content", "cfnr", squeeze, True), ("suspended_license", "zkdxzzmc", clean, False),
        ("authority_name", "cfjg", clean, True),
    ):
        raw = src.get(key)
        value = fn(raw) if raw is not None else None
        if value is not None:
            out[field] = value
        elif need:
            issues.append(_missing(field, key))
    raw = src.get("dsrmc")
    value = clean(raw) if raw is not None else None
    if value is not None:
        out["party_name"] = cn_parens(value)
    else:
        issues.append(_missing("party_name", "dsrmc"))
    for field, key, need, _personal in (("party_credit_code", "tyshxydm", False, False),
                                       ("legal_rep_id_number", "fddbrzjhm", False, True),
                                       ("party_id_number", "zjhm", False, True),
                                       ("authority_credit_code", "cfjgdm", True, False)):
        raw = src.get(key)
        value = _upper(clean(raw)) if raw is not None else None
        if value is not None:
            out[field] = value
        elif need:
            issues.append(_missing(field, key))
    for field, key, table, name, need in (("party_type", "dsrlx", _PARTY, "party_type", True),
                                          ("legal_rep_id_type", "fddbrzjlx", _ID_TYPE, "id_type", False),
                                          ("party_id_type", "zjlx", _ID_TYPE, "id_type", False),
                                          ("region", "xzqh", _REGION, "region", False)):
        raw = src.get(key)
        if raw is not None:
            try:
                text = trim(raw)
                if text is not None:
                    out[field] = _code(table, text, name)
                elif need:
                    issues.append(_missing(field, key))
            except TransformFailure as exc:
                issues.append(_issue(field, key, raw, exc))
        elif need:
            issues.append(_missing(field, key))
    out["enforcement_act_type"] = "02"
    raw = src.get("cflb")
    try:
        value = _categories(raw) if raw is not None else None
        if value is not None:
            out["penalty_types"] = value
        else:
            issues.append(_missing("penalty_types", "cflb"))
    except TransformFailure as exc:
        issues.append(_issue("penalty_types", "cflb", raw, exc))
    for field, key in (("fine_amount", "fkje"), ("confiscation_amount", "mswfsdje")):
        raw = src.get(key)
        if raw is not None:
            try:
                value = _amount(raw)
                if value is not None:
                    out[field] = value
            except TransformFailure as exc:
                issues.append(_issue(field, key, raw, exc))
    raw = src.get("jdrq")
    try:
        text = trim(raw) if raw is not None else None
        if text is not None:
            out["decision_date"] = _DATE(text)
        else:
            issues.append(_missing("decision_date", "jdrq"))
    except TransformFailure as exc:
        issues.append(_issue("decision_date", "jdrq", raw, exc))
    raw = src.get("cfyxq")
    try:
        text = trim("长期" if raw is None or raw == "" else raw)
        out["valid_to"] = _DATE("2099-12-31" if text == "长期" else text)
    except TransformFailure as exc:
        issues.append(_issue("valid_to", "cfyxq", raw, exc))
    for field, setting in (("data_source_unit", ctx.department_name), ("data_source_credit_code", ctx.department_credit_code)):
        if setting is None:
            issues.append(MappingIssue(field, "setting", None, None, "required", "setting is not set"))
        else:
            out[field] = setting
    return out, issues


def _rate(fn: Callable[[Mapping[str, Any], MappingContext], Any], pool: list[dict[str, Any]], n: int) -> float:
    best = 0.0
    for _ in range(3):
        started = time.process_time()
        for i in range(n):
            fn(pool[i % POOL], CONTEXT)
        best = max(best, n / (time.process_time() - started))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000, help="records mapped per run (default 200,000)")
    parser.add_argument("--validate", action="store_true", help="also measure the engine with the standard's record check")
    parser.add_argument("--json", action="store_true", help='print {"records", "engine_rps", "handwritten_rps", "ratio"}')
    args = parser.parse_args(argv)
    if POOL < 2 * MEMO_SIZE:
        print(f"the pool ({POOL:,}) must exceed twice the memo ({MEMO_SIZE:,}) to keep unique values unique", file=sys.stderr)
        return 1
    compiled = open_registry(None).compiled("case_handling.penalty", 1)
    pool = penalty_records()
    agree = sum(compiled.map_fields(r, CONTEXT)[0] == handwritten(r, CONTEXT)[0] for r in pool)
    if agree != POOL:
        print(f"the hand-written mapper disagrees with the table on {POOL - agree} of {POOL} records", file=sys.stderr)
        return 1
    engine = _rate(compiled.map_fields, pool, args.records)
    hand = _rate(handwritten, pool, args.records)
    result: dict[str, Any] = {"records": args.records, "engine_rps": round(engine), "handwritten_rps": round(hand),
                              "ratio": round(hand / engine, 3)}
    if args.validate:
        today = dt.date(2025, 7, 1)
        result["engine_validated_rps"] = round(_rate(lambda r, c: compiled(r, c, today=today), pool, max(args.records // 10, 1)))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"records mapped:      {args.records:,} (pool of {POOL:,} distinct messy records, best of 3)")
        print(f"engine (compiled):   {engine:,.0f} records/s")
        print(f"hand-written:        {hand:,.0f} records/s")
        print(f"ratio hand/engine:   {hand / engine:.3f}")
        if "engine_validated_rps" in result:
            print(f"engine + record check (standard): {result['engine_validated_rps']:,} records/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
