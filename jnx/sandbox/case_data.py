"""Records of the case-handling system (行政执法网上办案系统): 行政处罚 and 行政强制, in the vendor
shape of docs/source-shapes.md §2, with the messiness and revisions described there."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal

from jnx.sandbox.data import (
    BEIJING,
    ENFORCEMENT_KINDS,
    FIRST_DECISION,
    LAST_DECISION,
    PENALTY_LAW_2021,
    REGIONS,
    Agency,
    Generator,
    Party,
    format_date,
    local_time,
)
from jnx.sandbox.feed import SourceRecord

PARTY_TYPE = {"person": "1", "org": "2", "individual": "3"}
ID_TYPE = {"id": "01", "passport": "04", "hk": "05"}
OLD_CATEGORIES = ("警告", "罚款", "没收违法所得", "没收非法财物", "责令停产停业", "暂扣或者吊销许可证", "暂扣或者吊销执照", "行政拘留", "其他")
NEW_CATEGORIES = ("警告", "通报批评", "罚款", "没收违法所得", "没收非法财物", "暂扣许可证件", "降低资质等级", "吊销许可证件",
                  "限制开展生产经营活动", "责令停产停业", "责令关闭", "限制从业", "行政拘留", "其他")
SEPARATORS = (";",) * 10 + ("；",) * 4 + ("、",) * 3 + (",",) * 2 + ("，",)
BRACKETS = (("〔", "〕"),) * 8 + (("[", "]"), ("（", "）"))
VIOLATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "市监": (("经营超过保质期的食品", "《中华人民共和国食品安全法》第一百二十四条第一款"),
           ("销售不符合食品安全标准的食品", "《中华人民共和国食品安全法》第一百二十四条第一款第（二）项"),
           ("未按规定公示年度报告", "《企业信息公示暂行条例》第十八条"),
           ("虚假宣传", "《中华人民共和国反不正当竞争法》第二十条")),
    "综执": (("未经批准擅自占道经营", "《城市市容和环境卫生管理条例》第三十六条"),
           ("未批先建", "《中华人民共和国城乡规划法》第六十四条")),
    "环": (("超标排放大气污染物", "《中华人民共和国大气污染防治法》第九十九条"),
          ("未批先建（环评）", "《中华人民共和国环境影响评价法》第三十一条")),
    "交": (("超限运输", "《公路安全保护条例》第六十四条"), ("未取得道路运输经营许可擅自经营", "《中华人民共和国道路运输条例》第六十三条")),
    "卫": (("公共场所未取得卫生许可证", "《公共场所卫生管理条例实施细则》第三十五条"),),
    "应急": (("未按规定开展安全生产教育和培训", "《中华人民共和国安全生产法》第九十七条"),),
    "自规": (("非法占用土地", "《中华人民共和国土地管理法》第七十七条"),),
    "文旅": (("擅自从事互联网上网服务经营活动", "《互联网上网服务营业场所管理条例》第二十七条"),),
    "农": (("经营假农药", "《农药管理条例》第五十五条"),),
}
MEASURES = ("100", "200", "300", "400", "900")
PERFORM = ("01", "02", "03", "04", "05", "06")
OBJECTS = ("过期食品32箱", "生产车间一处", "超限运输车辆一辆", "银行存款人民币12万元", "涉案设备3台", "假农药15件")


SECTORS: dict[str, tuple[tuple[str, float], ...]] = {
    # the vendor's 执法领域 names by agency kind, with the share of each (the rest: the first)
    "市监": (("市场监管", 0.0), ("特种设备安全", 0.12)),
    "综执": (("城市管理", 0.0),),
    "环": (("生态环境", 0.0),),
    "交": (("交通运输", 0.0),),
    "卫": (("卫生健康", 0.0),),
    "应急": (("安全生产", 0.0), ("消防安全", 0.4)),
    "自规": (("自然资源", 0.0),),
    "文旅": (("文化旅游", 0.0), ("消防安全", 0.1)),
    "农": (("农业农村", 0.0),),
}
CHANGE_TYPES = (("2", 0.8), ("4", 0.1), ("3", 0.1))  # bglx when sfcx = 1: 2 撤销, 3 确认违法, 4 确认无效
CHANGE_REASONS = {"1": "经复核，部分事实认定有误，依法变更", "2": "经行政复议，原处罚决定被依法撤销", "3": "经行政诉讼，原处罚决定被确认违法",
                  "4": "经行政诉讼，原处罚决定被确认无效"}
PHONE_PREFIXES = ("138", "139", "150", "158", "186", "187", "137")


def _extras(key: str) -> random.Random:
    """A record's own stream for the fields of the 2025 release (执法领域, 变更, personal data in 违法事实): drawing
    them from the dataset's stream would change every later record of it."""
    return random.Random(f"law:{key}")


def first_generation_id(number: str) -> str:
    """The 15-digit first-generation form of an 18-digit resident ID number (two-digit year, no check digit)."""
    return number[:6] + number[8:17]


def sector_of(rng: random.Random, abbrev: str) -> str:
    names = SECTORS.get(abbrev, (("其他", 0.0),))
    for name, share in names[1:]:
        if rng.random() < share:
            return name
    return names[0][0]


def change_fields(rng: random.Random, agency_doc: str, decision: dt.date, latest: dt.date, kind: str) -> dict[str, object]:
    """``bglx … bgyy`` of a decision changed (kind ``1``) or revoked (2/3/4) between ``decision`` and ``latest``."""
    span = max((latest - decision).days, 0)
    day = decision + dt.timedelta(days=rng.randrange(span + 1)) if span else decision
    return {"bglx": kind, "bgrq": day.isoformat(), "bgwh": agency_doc.replace("罚", "撤" if kind != "1" else "变", 1),
            "bgyy": CHANGE_REASONS[kind]}


def revocation_kind(rng: random.Random) -> str:
    r, total = rng.random(), 0.0
    for code, share in CHANGE_TYPES:
        total += share
        if r < total:
            return code
    return "2"


def personal_facts(rng: random.Random, party: Party, facts: str) -> str:
    """A natural person's 违法事实 as case officers write it on 30 %: name, phone and ID number inside the text."""
    if party.kind != "person" or rng.random() >= 0.3:
        return facts
    phone = rng.choice(PHONE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))
    number = party.id_number or ""
    written = first_generation_id(number) if party.id_type == "id" and len(number) == 18 and rng.random() < 0.5 else number
    return f"当事人{party.name}（身份证号码{written}，联系电话{phone}，住{party.address}）{facts}"


#: 处罚类别 that call for a hearing on request (《行政处罚法》(2021) 第六十三条) and, with 法制审核 and 集体讨论, mark a
#: 重大 decision (第五十七条第二款, 第五十八条) in the sandbox's release of 2026.
GRAVE = ("吊销许可证件", "暂扣或者吊销许可证", "暂扣或者吊销执照", "降低资质等级", "责令停产停业", "责令关闭", "限制从业")


def _lifecycle_stream(key: str) -> random.Random:
    """A record's own stream for the fields of the 2026 release (life-cycle dates, 法制审核): drawn apart from the
    dataset's stream and from the 2025 release's, so every earlier field of every record stays as it was."""
    return random.Random(f"lifecycle:{key}")


def lifecycle_fields(key: str, day: dt.date, latest: dt.date, style: int, status: str, cats: list[str],
                     fine: Decimal | None, summary: bool) -> dict[str, object]:
    """``lasj, sdrq, zxwbrq, jarq, sffzsh, sfjttl, sftz`` of a penalty decided on ``day`` and reported on ``latest``:
    filed 1–60 days before (the same day on the spot), served 0–7 days after, carried out and closed when
    ``ajzt`` is 40; 法制审核, 集体讨论 and 听证 for grave categories or fines of 100,000 元 and more, 10 % of the rest."""
    rng = _lifecycle_stream(key)
    filed = day if summary else day - dt.timedelta(days=rng.randrange(1, 61))
    served = day if summary else min(day + dt.timedelta(days=rng.randrange(0, 8)), max(latest, day))
    done = closed = None
    if status == "40":
        done = min(served + dt.timedelta(days=rng.randrange(0, 31)), max(latest, served))
        closed = min(done + dt.timedelta(days=rng.randrange(0, 11)), max(latest, done))
    grave = not summary and (any(c in GRAVE for c in cats) or (fine is not None and fine >= 100_000) or rng.random() < 0.1)
    return {"lasj": format_date(filed, style), "sdrq": format_date(served, style),
            "zxwbrq": format_date(done, style) if done else None, "jarq": format_date(closed, style) if closed else None,
            "sffzsh": "1" if grave else "0", "sfjttl": "1" if grave and rng.random() < 0.8 else "0",
            "sftz": "1" if grave and rng.random() < 0.3 else "0"}


def agencies(gen: Generator) -> list[Agency]:
    out: list[Agency] = []
    for region in REGIONS:
        kinds = ENFORCEMENT_KINDS if region.code == "370800" else gen.rng.sample(ENFORCEMENT_KINDS, gen.rng.randrange(4, 7))
        out += [gen.agency(region, kind) for kind in kinds]
    return out


def document_number(gen: Generator, agency: Agency, kind: str, year: int, seq: int) -> str:
    left, right = gen.pick(BRACKETS)
    place = "济" if agency.region.code == "370800" else "济" + agency.region.short
    return f"{place}{agency.abbrev}{kind}{left}{year}{right}{seq}号"


def region_code(gen: Generator, agency: Agency) -> str:
    if agency.region.code == "370890" and gen.chance(0.3):
        return "370871"  # the NBS code of 高新区, ~1 % of all records
    return agency.region.code


def party_fields(gen: Generator, party: Party) -> dict[str, object]:
    """``dsrlx … fddbrzjhm, dz`` of §2.1 for one party, with identifier faults and name messiness."""
    dsrlx = PARTY_TYPE[party.kind]
    if party.kind == "org" and party.uscc and party.uscc[:2] in ("12", "52") and gen.chance(0.5):
        dsrlx = "9"
    if gen.chance(0.01):
        dsrlx = "5"  # unknown code
    person = party.kind == "person"
    return {
        "dsrlx": dsrlx,
        "dsrmc": gen.messy_text(party.name),
        "zjlx": ("07" if gen.chance(0.01) else ID_TYPE[party.id_type or "id"]) if person else None,
        "zjhm": gen.spoil_id(party.id_number or "") if person and party.id_type == "id" else party.id_number,
        "tyshxydm": None if person else gen.spoil_uscc(party.uscc or ""),
        "gszch": party.reg_no,
        "fddbr": party.legal_rep,
        "fddbrzjlx": None if person else "01",
        "fddbrzjhm": None if person else gen.spoil_id(party.legal_rep_id or ""),
        "dz": party.address,
    }


def categories(gen: Generator, day: dt.date) -> list[str]:
    names = OLD_CATEGORIES if day < PENALTY_LAW_2021 else NEW_CATEGORIES
    first = "罚款" if gen.chance(0.65) else "警告" if gen.chance(0.6) else gen.pick(names)
    chosen = [first]
    if gen.chance(0.3):
        for _ in range(gen.rng.choice((1, 1, 2))):
            extra = gen.pick(names)
            if extra not in chosen:
                chosen.append(extra)
    if gen.chance(0.005):
        chosen.append("训诫")  # unknown category name
    return chosen


def penalty(gen: Generator, agency: Agency, seq: int) -> SourceRecord:
    day = gen.date_between(FIRST_DECISION, LAST_DECISION)
    party = gen.party(agency.region, person_share=0.38)
    wfxw, cfyj = gen.pick(VIOLATIONS[agency.abbrev])
    cats = categories(gen, day)
    style = gen.date_style()
    fine = gen.amount_yuan() if "罚款" in cats else None
    confiscated = gen.amount_yuan() if any(c.startswith("没收") for c in cats) else None
    permit = any(c.startswith(("暂扣", "吊销")) for c in cats)
    created = gen.timestamp_after(day, 3)
    updated = created + dt.timedelta(days=gen.rng.randrange(0, 15), seconds=gen.rng.randrange(3600))
    case_no = f"JNCF{agency.region.code}{day.year}{seq:06d}"
    fields: dict[str, object] = {
        "ajbh": case_no,
        "ajmc": f"{party.name}{wfxw}案",
        "cfjdsh": document_number(gen, agency, "罚", day.year, seq % 1000 + 1) + ("  " if gen.chance(0.02) else ""),
        "cfjdsmc": "当场行政处罚决定书" if gen.chance(0.05) else "行政处罚决定书",
        **party_fields(gen, party),
        "wfxw": wfxw,
        "wfss": gen.messy_text(f"经查，当事人于{day.year}年{day.month}月{wfxw}，违反了{cfyj.split('第')[0]}的规定。"),
        "cfyj": cfyj,
        "cflb": gen.pick(SEPARATORS).join(cats),
        "cfnr": "，".join(c if c != "罚款" else f"罚款人民币{fine}元" for c in cats),
        "fkje": gen.messy_amount(fine) if fine is not None else None,
        "mswfsdje": gen.messy_amount(confiscated) if confiscated is not None else None,
        "zkdxzzmc": f"食品经营许可证（JY1{agency.region.code}{gen.digits(7)}）" if permit else None,
        "jdrq": format_date(day, style),
        "cfyxq": "长期" if gen.chance(0.1) else format_date(day + dt.timedelta(days=365), style),
        "cfjg": agency.name,
        "cfjgdm": agency.uscc,
        "xzqh": region_code(gen, agency),
        "ajzt": gen.pick(("20", "30", "40", "40", "40")),
        "sfcx": "1" if gen.chance(0.02) else "0",
        "created_at": local_time(created),
        "updated_at": local_time(updated),
    }
    extras = _extras(case_no)
    fields["zfly"] = sector_of(extras, agency.abbrev)
    fields["wfss"] = personal_facts(extras, party, str(fields["wfss"]))
    if fields["sfcx"] == "1":
        fields.update(change_fields(extras, str(fields["cfjdsh"]).strip(), day, updated.date(), revocation_kind(extras)))
    fields.update(lifecycle_fields(case_no, day, updated.date(), style, str(fields["ajzt"]), cats, fine,
                                   fields["cfjdsmc"] == "当场行政处罚决定书"))
    return SourceRecord(case_no, updated, fields)


def coercion(gen: Generator, agency: Agency, seq: int, penalty_keys: list[str]) -> SourceRecord:
    day = gen.date_between(FIRST_DECISION, LAST_DECISION)
    party = gen.party(agency.region, person_share=0.2)
    measure = gen.chance(0.7)
    style = gen.date_style()
    updated = gen.timestamp_after(day, 10)
    key = f"JNQZ{agency.region.code}{day.year}{seq:06d}"
    fields: dict[str, object] = {
        "qzbh": key,
        "ajbh": gen.pick(penalty_keys) if penalty_keys and gen.chance(0.4) else None,
        "qzlx": "1" if measure else "2",
        "qzcslx": ("500" if gen.chance(0.01) else gen.pick(MEASURES)) if measure else None,
        "qzzxfs": None if measure else ("07" if gen.chance(0.01) else gen.pick(PERFORM)),
        "qzjdsh": document_number(gen, agency, "强制", day.year, seq % 1000 + 1),
        **{k: v for k, v in party_fields(gen, party).items() if k in ("dsrlx", "dsrmc", "zjlx", "zjhm", "tyshxydm", "gszch", "fddbr")},
        "qzdx": gen.pick(OBJECTS),
        "qzje": gen.messy_amount(gen.amount_yuan()) if gen.chance(0.3) else None,
        "qzyy": "涉嫌违法，为防止证据损毁、避免危害发生",
        "qzyj": f"《中华人民共和国行政强制法》第{gen.pick(('二十二', '二十三', '二十五', '四十五', '五十'))}条",
        "jdrq": format_date(day, style),
        "qzqxq": format_date(day, style) if measure else None,
        "qzqxz": format_date(day + dt.timedelta(days=30), style) if measure else None,
        "cljd": gen.pick(("1", "2", "2", "3", "4")) if measure and gen.chance(0.6) else None,
        "zfjg": agency.name,
        "zfjgdm": agency.uscc,
        "xzqh": region_code(gen, agency),
        "sfcx": "1" if gen.chance(0.02) else "0",
        "updated_at": local_time(updated),
    }
    if fields["sfcx"] == "1":
        fields.update(change_fields(_extras(key), str(fields["qzjdsh"]), day, updated.date(), "2"))
    rng = _lifecycle_stream(key)
    if measure:  # the 2026 release: 法制审核 and 集体讨论 of 重大 measures (冻结, 限制人身自由) and 20 % of the rest
        grave = fields["qzcslx"] in ("300", "400") or rng.random() < 0.2
        fields.update(sffzsh="1" if grave else "0", sfjttl="1" if grave and rng.random() < 0.5 else "0")
    # the 2026 release: the day the agency made the act public (执法公示), reported by then on 85 %
    public = day + dt.timedelta(days=rng.randrange(max((updated.date() - day).days, 0) + 1))
    fields["gsrq"] = format_date(public, style) if rng.random() < 0.85 else None
    return SourceRecord(key, updated, fields)


def revise(gen: Generator, record: SourceRecord, when: dt.datetime) -> SourceRecord:
    """An update of an earlier record: same key, later time, changed content."""
    fields = dict(record.fields)
    r = gen.rng.random()
    if r < 0.35 and fields.get("fkje"):
        fields["fkje"] = gen.messy_amount(gen.amount_yuan())
        if fields.get("sfcx") != "1":  # the fine changed by a decision (变更), dated before the source reports it
            extras = _extras(f"{record.key}@{when.isoformat()}")
            decided = _decision_day(fields) or when.date()
            fields.update(change_fields(extras, str(fields.get("cfjdsh") or "").strip(),
                                        max(decided, when.date() - dt.timedelta(days=12)), when.date(), "1"))
    elif r < 0.6:
        fields["dsrmc"] = str(fields["dsrmc"]).strip() + ("（更正）" if gen.chance(0.3) else "")
    elif r < 0.8:
        if fields.get("sfcx") != "1":  # revoked now: the change decision is dated before the source reports it
            extras = _extras(f"{record.key}@{when.isoformat()}")
            number = str(fields.get("cfjdsh") or fields.get("qzjdsh") or "").strip()
            decided = _decision_day(fields) or when.date()
            fields.update(change_fields(extras, number, max(decided, when.date() - dt.timedelta(days=12)), when.date(),
                                        revocation_kind(extras) if "cfjdsh" in fields else "2"))
        fields["sfcx"] = "1"
    else:
        fields["cfyxq" if "cfyxq" in fields else "qzqxz"] = "长期"
    fields["updated_at"] = local_time(when)
    return SourceRecord(record.key, when, fields)


def _decision_day(fields: dict[str, object]) -> dt.date | None:
    """The decision date of a record as the sandbox wrote it (any of its formats)."""
    value = fields.get("jdrq")
    if isinstance(value, int):
        return dt.datetime.fromtimestamp(value / 1000, BEIJING).date()
    text = str(value or "")
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


Reviser = Callable[[Generator, SourceRecord, dt.datetime], SourceRecord]


def revisions(gen: Generator, records: list[SourceRecord], share: float = 0.05, reviser: Reviser | None = None) -> list[SourceRecord]:
    """The revision batch: ``share`` of the records changed, all later than every current record."""
    if not records:
        return []
    latest = max(r.updated for r in records)
    chosen = gen.rng.sample(records, max(1, int(len(records) * share)))
    change = reviser or revise
    return [change(gen, r, latest + dt.timedelta(minutes=i + 1)) for i, r in enumerate(sorted(chosen, key=lambda r: r.key))]


def penalties(seed: int, count: int) -> tuple[list[SourceRecord], list[SourceRecord]]:
    gen = Generator(seed, "penalties")
    pool = agencies(gen)
    records = [penalty(gen, gen.pick(pool), seq) for seq in range(1, count + 1)]
    return records, revisions(gen, records)


def coercions(seed: int, count: int, penalty_keys: list[str]) -> tuple[list[SourceRecord], list[SourceRecord]]:
    gen = Generator(seed, "coercions")
    pool = agencies(Generator(seed, "penalties"))
    records = [coercion(gen, gen.pick(pool), seq, penalty_keys) for seq in range(1, count + 1)]
    return records, revisions(gen, records)

