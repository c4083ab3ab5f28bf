"""Records of the licensing system (docs/source-shapes.md §1) and of the provincial licensing
service with legacy 双公示 codes (§1b)."""

from __future__ import annotations

import datetime as dt

from jnx.sandbox.case_data import BRACKETS, revisions
from jnx.sandbox.data import (
    FIRST_DECISION,
    LAST_DECISION,
    REGIONS,
    Agency,
    Generator,
    format_date,
    local_time,
)
from jnx.sandbox.feed import SourceRecord

ITEMS = (  # (许可事项, 证书, 类别 code)
    ("食品经营许可", "食品经营许可证", "01"), ("公共场所卫生许可", "公共场所卫生许可证", "01"),
    ("建筑工程施工许可", "建筑工程施工许可证", "01"), ("排污许可", "排污许可证", "01"),
    ("道路运输经营许可", "道路运输经营许可证", "01"), ("药品经营许可", "药品经营许可证", "01"),
    ("出租汽车经营许可", "出租汽车经营许可证", "02"), ("特种设备安装改造维修许可", "特种设备生产许可证", "03"),
    ("企业投资项目核准", None, "04"), ("个体工商户设立登记", None, "05"), ("烟花爆竹经营（零售）许可", "烟花爆竹经营（零售）许可证", "01"),
)
DOCUMENTS = ("准予行政许可决定书",) * 8 + ("准予变更行政许可决定书", "准予延续行政许可决定书")
PARTY_TYPE = {"org": "1", "person": "2", "individual": "4"}
ID_TEXT = {"id": "居民身份证", "passport": "护照", "hk": "港澳居民来往内地通行证"}
CATEGORY_TEXT = {"01": "普通", "02": "特许", "03": "认可", "04": "核准", "05": "登记", "99": "其他-备案"}


def approval_agencies(gen: Generator) -> list[Agency]:
    return [gen.agency(region, ("行政审批服务局", "审批")) for region in REGIONS]


def license_record(gen: Generator, agency: Agency, seq: int) -> SourceRecord:
    day = gen.date_between(FIRST_DECISION, LAST_DECISION)
    item, certificate, category = gen.pick(ITEMS)
    if gen.chance(0.01):
        category = "06"  # unknown code
    party = gen.party(agency.region, person_share=0.15)
    person = party.kind == "person"
    style = gen.date_style()
    left, right = gen.pick(BRACKETS)
    place = "济" if agency.region.code == "370800" else "济" + agency.region.short
    number = f"JY1{agency.region.code}{gen.digits(7)}" if certificate else None
    end = gen.rng.random()
    updated = gen.timestamp_after(day, 5)
    key = f"XK{agency.region.code}{day.year}{seq:08d}"
    sqrlx = "3" if gen.chance(0.01) else PARTY_TYPE[party.kind]
    region = "370882" if agency.region.code == "370812" and gen.chance(0.15) else agency.region.code
    fields = {
        "xkid": key,
        "xkwsh": "" if gen.chance(0.02) else f"{place}审批许{left}{day.year}{right}{seq % 10000:04d}号",
        "xkwsmc": gen.pick(DOCUMENTS),
        "xmmc": item,
        "xklb": category,
        "xkzsmc": certificate,
        "xkzbh": number,
        "xknr": gen.messy_text(f"准予{party.name}{item}，经营项目：{gen.pick(('预包装食品销售', '热食类食品制售', '住宿', '普通货运', '建筑施工'))}"),
        "sqrlx": sqrlx,
        "sqrmc": gen.messy_text(party.name),
        "tyshxydm": None if person else gen.spoil_uscc(party.uscc or ""),
        "gszch": party.reg_no,
        "zzjgdm": (party.org_code[:8] + "-" + party.org_code[8] if gen.chance(0.3) else party.org_code) if party.org_code else None,
        "fddbr": party.legal_rep,
        "fddbrzjlx": None if person else "居民身份证",
        "fddbrzjhm": None if person else gen.spoil_id(party.legal_rep_id or ""),
        "sqrzjlx": ID_TEXT[party.id_type or "id"] if person else None,
        "sqrzjhm": (gen.spoil_id(party.id_number or "") if party.id_type == "id" else party.id_number) if person else None,
        "jdrq": str(format_date(day, style)),
        "yxqq": str(format_date(day, style)),
        "yxqz": "长期" if end < 0.05 else "2099-12-31" if end < 0.10 else str(format_date(day.replace(day=min(day.day, 28)).replace(year=day.year + 5), style)),
        "xkjg": agency.name,
        "xkjgdm": agency.uscc,
        "xzqh": region,
        "zt": "2" if gen.chance(0.03) else "1",
        "bz": "" if gen.chance(0.9) else "延续换证",
    }
    return SourceRecord(key, updated, fields)


def revise_license(gen: Generator, record: SourceRecord, when: dt.datetime) -> SourceRecord:
    fields = dict(record.fields)
    if gen.chance(0.5):
        fields["zt"] = "2"
        fields["bz"] = "已注销"
    else:
        fields["yxqz"] = "2099-12-31"
        fields["bz"] = "延续"
    return SourceRecord(record.key, when, fields)


def licenses(seed: int, count: int) -> tuple[list[SourceRecord], list[SourceRecord]]:
    gen = Generator(seed, "licenses")
    pool = approval_agencies(gen)
    records = [license_record(gen, gen.pick(pool), seq) for seq in range(1, count + 1)]
    return records, revisions(gen, records, reviser=revise_license)


def province_record(gen: Generator, agency: Agency, seq: int) -> SourceRecord:
    base = license_record(gen, agency, seq).fields
    day = gen.date_between(FIRST_DECISION, LAST_DECISION)
    updated = gen.timestamp_after(day, 5)
    wsh = f"鲁济审批许字〔{day.year}〕第{seq:04d}号"
    person = base["sqrlx"] == "2"
    spl = CATEGORY_TEXT.get(str(base["xklb"]), "审批")
    fields = {
        "XK_WSH": wsh, "XK_XMMC": base["xmmc"], "XK_SPLB": spl, "XK_NR": base["xknr"], "XK_XDR": base["sqrmc"],
        "XK_XDR_SHXYM": "" if person else base["tyshxydm"] or "", "XK_XDR_ZDM": "" if person else base["zzjgdm"] or "",
        "XK_XDR_GSDJ": base["gszch"] or "", "XK_XDR_SFZ": (base["sqrzjhm"] or "") if person else "",
        "XK_FR": "" if person else base["fddbr"] or "", "XK_JDRQ": f"{day:%Y%m%d}",
        "XK_JZQ": "长期" if gen.chance(0.1) else f"{day.year + 5}{day:%m%d}" if day.month != 2 or day.day != 29 else f"{day.year + 5}0228",
        "XK_XZJG": agency.name, "XK_ZT": "正常" if gen.chance(0.95) else gen.pick(("撤销", "注销")),
        "DFBM": agency.region.code, "SJC": local_time(updated), "BZ": "",
    }
    return SourceRecord(wsh, updated, fields)


def province_licenses(seed: int, count: int) -> tuple[list[SourceRecord], list[SourceRecord]]:
    gen = Generator(seed, "province")
    pool = approval_agencies(gen)
    records = [province_record(gen, gen.pick(pool), seq) for seq in range(1, count + 1)]

    def revise(g: Generator, record: SourceRecord, when: dt.datetime) -> SourceRecord:
        return SourceRecord(record.key, when, record.fields | {"XK_ZT": "注销", "SJC": local_time(when)})

    return records, revisions(gen, records, reviser=revise)
