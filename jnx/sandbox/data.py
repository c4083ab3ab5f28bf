"""Deterministic synthetic data of Jining's districts: agencies, parties, and the messy ways source
systems write dates, amounts and names (docs/source-shapes.md gives the shares used here).

Everything is drawn from one ``random.Random`` per generator, so the same seed gives the same data.
Credit codes and ID numbers carry the check characters of GB 32100 / GB 11643, except the share
that is deliberately broken.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from jnx.codesets.validators import (
    USCC_ALPHABET,
    USCC_PLACEHOLDER,
    id_check_char,
    org_code_check_char,
    uscc_check_char,
)

BEIJING = dt.timezone(dt.timedelta(hours=8))
FIRST_DECISION = dt.date(2019, 1, 2)
LAST_DECISION = dt.date(2025, 6, 27)
PENALTY_LAW_2021 = dt.date(2021, 7, 15)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    short: str  # the one-character abbreviation used in document numbers (济任…)


REGIONS: tuple[Region, ...] = (
    Region("370800", "济宁市", "济"),
    Region("370811", "任城区", "任"),
    Region("370812", "兖州区", "兖"),
    Region("370826", "微山县", "微"),
    Region("370827", "鱼台县", "鱼"),
    Region("370828", "金乡县", "金"),
    Region("370829", "嘉祥县", "嘉"),
    Region("370830", "汶上县", "汶"),
    Region("370831", "泗水县", "泗"),
    Region("370832", "梁山县", "梁"),
    Region("370881", "曲阜市", "曲"),
    Region("370883", "邹城市", "邹"),
    Region("370890", "济宁高新区", "高"),
    Region("370891", "太白湖新区", "太"),
    Region("370892", "济宁经济技术开发区", "经"),
)

# (name suffix, abbreviation in document numbers)
ENFORCEMENT_KINDS: tuple[tuple[str, str], ...] = (
    ("市场监督管理局", "市监"),
    ("综合行政执法局", "综执"),
    ("生态环境分局", "环"),
    ("交通运输局", "交"),
    ("卫生健康局", "卫"),
    ("应急管理局", "应急"),
    ("自然资源和规划局", "自规"),
    ("文化和旅游局", "文旅"),
    ("农业农村局", "农"),
)


@dataclass(frozen=True, slots=True)
class Agency:
    name: str
    uscc: str
    region: Region
    abbrev: str


@dataclass(frozen=True, slots=True)
class Party:
    """A 行政相对人. ``kind``: ``org`` (法人及非法人组织), ``individual`` (个体工商户) or ``person`` (自然人)."""

    kind: str
    name: str
    uscc: str | None = None
    reg_no: str | None = None
    org_code: str | None = None
    legal_rep: str | None = None
    legal_rep_id: str | None = None
    id_type: str | None = None  # id | passport | hk
    id_number: str | None = None
    address: str | None = None


SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎孔颜孟"
GIVEN = "建国伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英志华文博浩宇欣怡子涵梓轩庆祥春生立新海燕凤玉红梅"
RARE_GIVEN = ("䶮", "𠮷")  # outside GBK: GB18030 encodes them, a GBK decoder fails
TRADE_WORDS = "鑫源恒泰宏达金辉瑞丰隆盛华通永兴德润嘉禾圣源孔孟运河微湖太白儒乡荣昌顺发广和聚福"
INDUSTRIES = (
    ("餐饮", "有限公司"), ("商贸", "有限公司"), ("建筑工程", "有限公司"), ("食品", "有限责任公司"),
    ("物流", "有限公司"), ("化工", "股份有限公司"), ("机械制造", "有限公司"), ("医药连锁", "有限公司"),
    ("农业发展", "专业合作社"), ("环保科技", "有限公司"), ("建材", "有限公司"), ("运输", "有限公司"),
)
SHOP_KINDS = ("超市", "饭店", "烟酒店", "五金店", "诊所", "理发店", "药房", "水果店", "小吃部", "修理部")
STREETS = ("建设路", "红星路", "太白楼路", "共青团路", "琵琶山路", "古槐路", "吴泰闸路", "金宇路", "车站西路", "洸河路")
_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"[:14]
FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


class Generator:
    """Draws realistic, seeded values. One instance per dataset (seed + dataset name)."""

    def __init__(self, seed: int, stream: str) -> None:
        self.rng = random.Random(f"{seed}:{stream}")

    # ------------------------------------------------------------ primitives
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.rng.random() * len(items))]

    def digits(self, n: int) -> str:
        return str(int(self.rng.random() * 10**n)).zfill(n) if n <= 15 else self.digits(15) + self.digits(n - 15)

    def date_between(self, first: dt.date, last: dt.date) -> dt.date:
        return first + dt.timedelta(days=int(self.rng.random() * ((last - first).days + 1)))

    def timestamp_after(self, day: dt.date, max_days: int = 20) -> dt.datetime:
        base = dt.datetime.combine(day, dt.time(8, 0), BEIJING)
        return base + dt.timedelta(days=self.rng.randrange(max_days), seconds=self.rng.randrange(10 * 3600))

    # ------------------------------------------------------------ identifiers
    def uscc(self, prefix: str, region: str) -> str:
        body = ("MA" + "".join(self.pick(_BODY_CHARS) for _ in range(6))) if prefix[0] == "9" else "MB" + self.digits(6)
        first17 = prefix + region + body + org_code_check_char(body)
        return first17 + uscc_check_char(first17)

    def id_number(self, born: dt.date | None = None) -> str:
        region = self.pick(REGIONS[1:12]).code
        born = born or self.date_between(dt.date(1950, 1, 1), dt.date(2003, 12, 31))
        first17 = f"{region}{born.year:04d}{born.month:02d}{born.day:02d}{self.digits(3)}"
        return first17 + id_check_char(first17)

    def spoil_uscc(self, code: str) -> str:
        """Apply the identifier faults of docs/source-shapes.md to a valid credit code."""
        r = self.rng.random()
        if r < 0.02:
            wrong = [c for c in USCC_ALPHABET if c != code[17]]
            return code[:17] + self.pick(wrong)
        if r < 0.025:
            cut = self.rng.randrange(2, 17)
            return code[:cut] + code[cut + 1:]
        if r < 0.035:
            return fullwidth(code) if self.chance(0.5) else code.lower()
        return code

    def spoil_id(self, number: str) -> str:
        if self.chance(0.01):
            return number[:17] + self.pick([c for c in "0123456789X" if c != number[17]])
        if number.endswith("X") and self.chance(0.5):
            return number[:17] + "x"
        return number

    # ------------------------------------------------------------ names
    def person_name(self) -> str:
        given = "".join(self.pick(GIVEN) for _ in range(self.rng.choice((1, 2))))
        if self.chance(0.005):
            given = given[:1] + self.pick(RARE_GIVEN)
        return self.pick(SURNAMES) + given

    def trade_name(self) -> str:
        return self.pick(TRADE_WORDS) + self.pick(TRADE_WORDS)

    def address(self, region: Region) -> str:
        return f"济宁市{region.name if region.code != '370800' else '任城区'}{self.pick(STREETS)}{self.rng.randrange(1, 300)}号"

    def messy_text(self, text: str) -> str:
        """Stray whitespace (4 %) and full-width Latin/digits (1 %)."""
        r = self.rng.random()
        if r < 0.04:
            return self.pick((" ", "")) + text + self.pick(("  ", "\u3000", "\t", " "))
        if r < 0.05:
            return fullwidth(text)
        return text

    # ------------------------------------------------------------ parties
    def agency(self, region: Region, kind: tuple[str, str]) -> Agency:
        suffix, abbrev = kind
        if region.code == "370800":
            name = f"济宁市{suffix.replace('分局', '局')}"
        elif suffix == "生态环境分局":
            name = f"济宁市生态环境局{region.name}分局"
        else:
            name = f"{region.name}{suffix}"
        return Agency(name, self.uscc("11", region.code), region, abbrev)

    def company(self, region: Region) -> Party:
        industry, form = self.pick(INDUSTRIES)
        place = region.name if region.code != "370800" else "济宁"
        name = f"济宁市{place}{self.trade_name()}{industry}{form}" if self.chance(0.7) else f"山东{self.trade_name()}{industry}{form}"
        if self.chance(0.1):
            branch = f"{region.name[:2]}分公司"
            name += f"({branch})" if self.chance(0.1) else f"（{branch}）"
        prefix = "93" if form == "专业合作社" else self.pick(("91", "91", "91", "91", "12", "52"))
        code = self.uscc(prefix, region.code)
        return Party(
            kind="org", name=name, uscc=code, org_code=code[8:17], legal_rep=self.person_name(),
            legal_rep_id=self.id_number(), address=self.address(region),
        )

    def individual_business(self, region: Region) -> Party:
        owner = self.person_name()
        name = f"{region.name if region.code != '370800' else '任城区'}{self.trade_name()}{self.pick(SHOP_KINDS)}"
        if self.chance(0.2):
            return Party(kind="individual", name=name, uscc=USCC_PLACEHOLDER, reg_no=region.code + "60" + self.digits(7),
                         legal_rep=owner, legal_rep_id=self.id_number(), address=self.address(region))
        return Party(kind="individual", name=name, uscc=self.uscc("92", region.code), legal_rep=owner,
                     legal_rep_id=self.id_number(), address=self.address(region))

    def person(self, region: Region) -> Party:
        r = self.rng.random()
        if r < 0.03:
            id_type, number = "passport", "E" + self.digits(8)
        elif r < 0.04:
            id_type, number = "hk", "H" + self.digits(8)
        else:
            id_type, number = "id", self.id_number()
        return Party(kind="person", name=self.person_name(), id_type=id_type, id_number=number, address=self.address(region))

    def party(self, region: Region, person_share: float) -> Party:
        r = self.rng.random()
        if r < person_share:
            return self.person(region)
        if r < person_share + (1 - person_share) * 0.27:
            return self.individual_business(region)
        return self.company(region)

    # ------------------------------------------------------------ messy values
    def messy_date(self, day: dt.date, *, style: int | None = None) -> str | int:
        """One of the five date formats: ISO 60 %, 2021/3/5 15 %, 20210305 10 %, 2021年3月5日 10 %, epoch ms 5 %."""
        s = self.date_style() if style is None else style
        return format_date(day, s)

    def date_style(self) -> int:
        r = self.rng.random()
        return 0 if r < 0.60 else 1 if r < 0.75 else 2 if r < 0.85 else 3 if r < 0.95 else 4

    def amount_yuan(self) -> Decimal:
        yuan = Decimal(self.pick((50, 200, 500, 1000, 2000, 3000, 5000, 10000, 20000, 50000, 100000, 300000, 1000000, 5000000)))
        if self.chance(0.3):
            yuan = Decimal(self.rng.randrange(50, 5_000_000))
        if self.chance(0.1):
            yuan += Decimal(self.rng.randrange(1, 100)) / 100
        return yuan

    def messy_amount(self, yuan: Decimal) -> str:
        """元 with separators 50 %, plain 20 %, two decimals 15 %, 万元 5 %, full-width 5 %, spaced 5 %."""
        r = self.rng.random()
        plain = f"{yuan:f}".rstrip("0").rstrip(".") if "." in f"{yuan:f}" else f"{yuan:f}"
        if r < 0.50:
            return f"{yuan:,.2f}元"
        if r < 0.70:
            return plain
        if r < 0.85:
            return f"{yuan:.2f}"
        if r < 0.90:
            wan = (yuan / 10000).normalize()
            return f"{wan:f}万元"
        if r < 0.95:
            return fullwidth(plain) + "元"
        return f" {yuan:,.0f} 元 " if yuan == yuan.to_integral_value() else f" {yuan:,.2f} 元 "


def format_date(day: dt.date, style: int) -> str | int:
    if style == 0:
        return day.isoformat()
    if style == 1:
        return f"{day.year}/{day.month}/{day.day}"
    if style == 2:
        return f"{day.year:04d}{day.month:02d}{day.day:02d}"
    if style == 3:
        return f"{day.year}年{day.month}月{day.day}日"
    return int(dt.datetime.combine(day, dt.time(0, 0), BEIJING).timestamp() * 1000)


def fullwidth(text: str) -> str:
    return "".join(FULLWIDTH.get(ch, ch) for ch in text)


def local_time(moment: dt.datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in Beijing time, the usual vendor timestamp."""
    m = moment.astimezone(BEIJING)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d} {m.hour:02d}:{m.minute:02d}:{m.second:02d}"


def epoch_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def parse_since(value: str | None) -> dt.datetime:
    """A ``updated_after``-style parameter: epoch ms, ``yyyy-MM-dd HH:mm:ss`` or ISO; empty = the beginning."""
    if value is None or not value.strip():
        return dt.datetime(1970, 1, 1, tzinfo=BEIJING)
    text = value.strip()
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, BEIJING)
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)
