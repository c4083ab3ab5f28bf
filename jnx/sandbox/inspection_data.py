"""Records of the double-random system (双随机一公开): plans, tasks and results (docs/source-shapes.md §3)."""

from __future__ import annotations

import datetime as dt

from jnx.sandbox.case_data import agencies, revisions
from jnx.sandbox.data import (
    FIRST_DECISION,
    LAST_DECISION,
    Agency,
    Generator,
    epoch_ms,
    format_date,
)
from jnx.sandbox.feed import SourceRecord

CHECK_WAYS = {"1": "实地检查", "2": "书面检查", "3": "行政部门检查结果或专业意见", "4": "检验检测", "5": "网络监测", "6": "委托专业机构辅助"}
RESULTS = {
    "1": "未发现问题", "A": "发现问题待后续处理", "B": "未按规定公示应当公示的信息", "C": "公示信息隐瞒真实情况弄虚作假",
    "6": "通过登记的住所（经营场所）无法联系", "D": "违反其他工商行政管理规定行为", "3": "违反食品药品管理相关规定",
    "4": "违反质量技术监督相关规定", "G": "违反公安部门相关规定", "5": "违反其他部门相关规定", "E": "发现问题经责令已改正",
    "F": "未发现开展本次抽查涉及的经营活动", "7": "已关闭停业或正在组织清算", "8": "不配合检查情节严重",
    "9": "注销", "10": "被吊销", "11": "被撤销", "12": "迁出",
}
RESULT_WEIGHTS = ("1",) * 14 + ("A", "B", "E", "E", "F", "6", "3", "D", "C", "7", "8", "9")
DISPOSALS = {"1": "无须后置处置措施", "E": "违反本部门相关规定，责令限期整改", "A": "发现案件线索，移送办案机构"}
CHECK_ITEMS = ("食品经营许可情况检查", "企业公示信息检查", "产品质量监督抽查", "特种设备安全检查", "广告发布行为检查", "计量器具检查")


def plan(gen: Generator, agency: Agency, seq: int) -> SourceRecord:
    start = gen.date_between(FIRST_DECISION, LAST_DECISION - dt.timedelta(days=120))
    style = gen.date_style()
    key = f"JH{start.year}{agency.region.code}{seq:03d}"
    updated = gen.timestamp_after(start, 5)
    fields = {
        "planId": key, "planName": f"{start.year}年度{agency.name}{gen.pick(CHECK_ITEMS)}双随机抽查计划", "planYear": start.year,
        "deptName": agency.name, "deptCode": agency.uscc, "areaCode": agency.region.code,
        "startDate": format_date(start, style), "endDate": format_date(start + dt.timedelta(days=90), style),
        "checkItems": "；".join(gen.rng.sample(CHECK_ITEMS, 2)), "sampleRatio": gen.pick(("5%", "3%", "0.05", "10%")),
        "planStatus": gen.pick(("2", "3", "3")), "updateTime": epoch_ms(updated),
    }
    return SourceRecord(key, updated, fields)


def task(gen: Generator, agency: Agency, parent: SourceRecord, seq: int, objects: int) -> SourceRecord:
    start = parent.updated.date() + dt.timedelta(days=gen.rng.randrange(1, 20))
    style = gen.date_style()
    key = f"RW{parent.key[2:]}-{seq:03d}"
    updated = gen.timestamp_after(start, 3)
    inspectors = "、".join(gen.person_name() for _ in range(2))
    fields = {
        "taskId": key, "planId": parent.key, "taskName": f"{parent.fields['planName'][:-4]}任务{seq}", "deptName": agency.name,
        "deptCode": agency.uscc, "objectCount": objects, "inspectors": inspectors,
        "startDate": format_date(start, style), "endDate": format_date(start + dt.timedelta(days=30), style),
        "taskStatus": "3", "updateTime": epoch_ms(updated),
    }
    return SourceRecord(key, updated, fields)


def result(gen: Generator, agency: Agency, parent: SourceRecord, seq: int) -> SourceRecord:
    party = gen.company(agency.region) if gen.chance(0.75) else gen.individual_business(agency.region)
    day = parent.updated.date() + dt.timedelta(days=gen.rng.randrange(0, 25))
    code = "Z" if gen.chance(0.01) else gen.pick(RESULT_WEIGHTS)
    ways = sorted(gen.rng.sample(list(CHECK_WAYS), gen.rng.choice((1, 1, 2))))
    if gen.chance(0.01):
        ways.append("7")
    key = f"JG{parent.key[2:]}-{seq:04d}"
    updated = gen.timestamp_after(day, 4)
    obj_code = party.reg_no if party.reg_no else (
        agency.region.code + "0000" + gen.digits(5) if gen.chance(0.08) else gen.spoil_uscc(party.uscc or ""))
    fields = {
        "resultId": key, "taskId": parent.key, "planId": parent.fields["planId"], "taskName": parent.fields["taskName"],
        "objName": gen.messy_text(party.name), "objCode": obj_code, "objAddress": party.address, "legalPerson": party.legal_rep,
        "checkWays": gen.pick((",", ",", "，")).join(ways), "checkResult": code, "checkResultText": RESULTS.get(code, "其他"),
        "disposal": DISPOSALS.get(code, "停止检查，反馈至日常监管部门依法依规处理" if code in ("6", "F", "7") else "无须后置处置措施"),
        "deptName": agency.name, "deptCode": agency.uscc, "inspectors": parent.fields["inspectors"],
        "checkDate": format_date(day, gen.date_style()), "areaCode": agency.region.code, "updateTime": epoch_ms(updated),
    }
    return SourceRecord(key, updated, fields)


def revise_result(gen: Generator, record: SourceRecord, when: dt.datetime) -> SourceRecord:
    fields = record.fields | {"checkResult": "E", "checkResultText": RESULTS["E"], "disposal": DISPOSALS["E"], "updateTime": epoch_ms(when)}
    return SourceRecord(record.key, when, fields)


def inspections(seed: int, results: int) -> dict[str, tuple[list[SourceRecord], list[SourceRecord]]]:
    """Plans, tasks and ``results`` results (about 20 results per task, 3 tasks per plan)."""
    gen = Generator(seed, "inspections")
    pool = [a for a in agencies(Generator(seed, "penalties")) if a.abbrev in ("市监", "卫", "应急", "文旅", "农")]
    plans: list[SourceRecord] = []
    tasks: list[SourceRecord] = []
    out: list[SourceRecord] = []
    while len(out) < results:
        agency = gen.pick(pool)
        parent = plan(gen, agency, len(plans) + 1)
        plans.append(parent)
        for t in range(1, 4):
            n = min(gen.rng.randrange(10, 30), results - len(out))
            if n <= 0:
                break
            child = task(gen, agency, parent, t, n)
            tasks.append(child)
            out += [result(gen, agency, child, i) for i in range(1, n + 1)]
    return {"plans": (plans, []), "tasks": (tasks, []), "results": (out, revisions(gen, out, reviser=revise_result))}
