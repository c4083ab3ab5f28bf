"""每月通报 — the monthly report: the month's indicators (:func:`jnx.indicators.compute.compute`)
and the months before it, written as HTML (inline SVG charts), PDF (that HTML through WeasyPrint,
with Debian's Noto CJK fonts) or XLSX (openpyxl, one sheet per table, native charts)."""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from jnx.errors import ConfigError
from jnx.indicators.charts import FONT, bar_chart, line_chart
from jnx.indicators.compute import compute, make_scope
from jnx.indicators.definitions import Month
from jnx.publicity.rules import WorkingDays

RATES = (("timeliness", "公示及时率"), ("completeness", "完整率"), ("compliance", "合规率"))
KIND_NAMES = {"许可": "行政许可", "处罚": "行政处罚", "强制": "行政强制", "检查": "行政检查"}


def build_report(session: Session, month: Month, *, today: dt.date, now: dt.datetime, calendar: WorkingDays,
                 months: int = 6, parallel: bool = False) -> dict[str, Any]:
    """The month's indicators and, for the trend, the totals of ``months`` months ending with it
    (``parallel``: see :func:`jnx.indicators.compute.compute`)."""
    current = compute(session, make_scope(session, month=month, today=today, now=now, calendar=calendar), parallel=parallel)
    trend = []
    for m in month.back(months):
        data = current if m == month else compute(session, make_scope(session, month=m, today=today, now=now,
                                                                        calendar=calendar), parallel=parallel)
        t = data["total"]
        trend.append({"month": str(m), "timeliness": t["timeliness"], "completeness": t["completeness"],
                      "compliance": t["compliance"], "came_due": t["came_due"], "late": t["late"],
                      "received": data["collection"]["received"], "penalties": t["penalties"]})
    return {"month": str(month), "generated": now, "today": today, "current": current, "trend": trend}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">无</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def sections(report: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The report's tables: (title, headers, rows) — the same for HTML, PDF and XLSX."""
    cur = report["current"]
    ranking = [[d["rank"] or "—", d["department_name"] or "", d["department"], d["region"], _pct(d["timeliness"]),
                _pct(d["completeness"]), _pct(d["compliance"]), d["came_due"], d["late"], d["missing"], d["overdue"]]
               for d in cur["departments"]]
    not_connected = [[d["department_name"], d["department"], d["region"], "、".join(d["systems"])]
                     for d in cur["collection"]["not_connected"]]
    overdue = [[d["department_name"] or "", d["department"], d["overdue"], d["due_1"], d["due_3"]]
               for d in sorted(cur["departments"], key=lambda d: (-d["overdue"], -d["due_3"], d["department"]))
               if d["overdue"] or d["due_3"]]
    causes = [[c["system"], c["rule"], c["field"], c["errors"], c["records"]] for c in cur["error_causes"]]
    systems = [[s["system"], s["department_name"], s["received"], _pct(s["error_rate"]), s["runs_succeeded"],
                s["last_success_age_hours"] if s["last_success_age_hours"] is not None else "从未成功", s["open_errors"]]
               for s in cur["collection"]["systems"]]
    trend = [[t["month"], _pct(t["timeliness"]), _pct(t["completeness"]), _pct(t["compliance"]), t["came_due"], t["late"],
              t["received"], t["penalties"]] for t in report["trend"]]
    enforcement = [[d["department_name"] or "", d["department"], d["penalties"], str(d["fines_wan"]),
                    str(d["confiscations_wan"]), d["inspections"], _pct(d["problem_rate"]), d["coercive_measures"]]
                   for d in cur["departments"] if d["penalties"] or d["inspections"] or d["coercive_measures"]]
    kinds = [[KIND_NAMES.get(kind, kind), _pct(k["timeliness"]), _pct(k["completeness"]), _pct(k["compliance"]),
              k["came_due"], k["late"], k["missing"], k["overdue"]] for kind, k in cur["total"]["kinds"].items()]
    regions = [[r["region"], r["departments"], _pct(r["timeliness"]), _pct(r["completeness"]), _pct(r["compliance"]),
                r["came_due"], r["late"], r["missing"], r["overdue"], r["penalties"], r["inspections"]]
               for r in cur["regions"]]
    return [
        ("一、执法主体排名（按公示及时率、完整率、合规率）",
         ["名次", "执法主体", "统一社会信用代码", "区划", "公示及时率", "完整率", "合规率", "应报", "迟报", "漏报", "当前逾期"], ranking),
        ("二、尚未对接（本月无成功归集）的部门", ["部门", "统一社会信用代码", "区划", "系统"], not_connected),
        ("三、逾期及即将到期的公示", ["执法主体", "统一社会信用代码", "当前逾期", "1个工作日内到期", "3个工作日内到期"], overdue),
        ("四、数据错误原因", ["系统", "规则", "字段", "错误数", "记录数"], causes),
        ("五、数据归集", ["系统", "部门", "归集记录数", "错误率", "成功次数", "距上次成功（小时）", "待处理错误"], systems),
        ("六、近几个月趋势", ["月份", "公示及时率", "完整率", "合规率", "应报", "迟报", "归集记录数", "行政处罚数"], trend),
        ("七、执法统计", ["执法主体", "统一社会信用代码", "行政处罚", "罚款（万元）", "没收（万元）", "行政检查", "问题发现率", "行政强制"],
         enforcement),
        ("八、分类别（许可、处罚、强制、检查）", ["类别", "公示及时率", "完整率", "合规率", "应报", "迟报", "漏报", "当前逾期"], kinds),
        ("九、分区县", ["区划", "执法主体数", "公示及时率", "完整率", "合规率", "应报", "迟报", "漏报", "当前逾期", "行政处罚", "行政检查"],
         regions),
    ]


STYLE = f"""
@page {{ size: A4; margin: 16mm 12mm; @bottom-center {{ content: counter(page) " / " counter(pages); font-size: 9pt; }} }}
body {{ font-family: {FONT}; font-size: 10pt; color: #222; }}
h1 {{ font-size: 16pt; text-align: center; }} h2 {{ font-size: 12pt; margin-top: 14pt; }}
table {{ border-collapse: collapse; width: 100%; margin: 4pt 0; }}
th, td {{ border: 1px solid #999; padding: 2pt 4pt; font-size: 8.5pt; }} th {{ background: #eef2f7; }}
tr {{ page-break-inside: avoid; }} svg {{ max-width: 100%; }}
.summary td {{ border: none; }}
"""


def render_html(report: dict[str, Any]) -> str:
    cur, t = report["current"], report["current"]["total"]
    c = cur["collection"]
    ranked = [d for d in cur["departments"] if d["rank"]][:20]
    charts = [
        bar_chart("各执法主体公示及时率（前20名）", [d["department_name"] or d["department"] for d in ranked],
                  [d["timeliness"] for d in ranked]),
        line_chart("近几个月趋势", [m["month"] for m in report["trend"]],
                   {name: [m[key] for m in report["trend"]] for key, name in RATES}),
    ]
    summary = (f"<p>本月（{escape(report['month'])}）应报 {t['came_due']} 条，按时 {t['on_time']} 条，迟报 {t['late']} 条，"
               f"公示及时率 {_pct(t['timeliness'])}；完整率 {_pct(t['completeness'])}（漏报 {t['missing']} 条，"
               f"依规不公示 {t['excluded']} 条）；合规率 {_pct(t['compliance'])}。当前逾期 {t['overdue']} 条，"
               f"1个工作日内到期 {t['due_1']} 条，3个工作日内到期 {t['due_3']} 条。"
               f"对接率 {_pct(c['connection_rate'])}（{c['departments_connected']}/{c['departments_registered']}），"
               f"归集记录 {c['received']} 条，错误率 {_pct(c['error_rate'])}。"
               f"行政处罚 {t['penalties']} 件，罚款 {t['fines_wan']} 万元，没收 {t['confiscations_wan']} 万元；"
               f"行政检查 {t['inspections']} 次，问题发现率 {_pct(t['problem_rate'])}；行政强制 {t['coercive_measures']} 件。</p>"
               f"<p>不公示规则：{escape(cur['publication_rule'])}。统计口径见 docs/indicators.md。</p>")
    body = [f"<h1>济宁市行政执法监督平台 双公示及数据归集情况通报（{escape(report['month'])}）</h1>",
            f"<p>生成于 {escape(report['generated'].isoformat(timespec='seconds'))}，统计截至 {escape(str(report['today']))}。</p>",
            summary, *charts]
    for title, headers, rows in sections(report):
        body.append(f"<h2>{escape(title)}</h2>{_table(headers, rows)}")
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>每月通报 {escape(report["month"])}'
            f'</title><style>{STYLE}</style></head><body>{"".join(body)}</body></html>')


def write_report(report: dict[str, Any], fmt: str, out: Path) -> int | None:
    """Write the report; the number of pages for a PDF."""
    if fmt == "html":
        out.write_text(render_html(report), encoding="utf-8")
        return None
    if fmt == "pdf":
        return _write_pdf(report, out)
    if fmt == "xlsx":
        _write_xlsx(report, out)
        return None
    raise ConfigError(f"unknown report format {fmt!r}", hint="give --format xlsx, pdf or html")


def _write_pdf(report: dict[str, Any], out: Path) -> int:
    try:
        from weasyprint import HTML
    except OSError as exc:  # its system libraries (pango) are missing
        raise ConfigError(f"WeasyPrint cannot start: {exc}",
                          hint="install Debian's libpango-1.0-0 libpangoft2-1.0-0 and fonts-noto-cjk") from exc
    document = HTML(string=render_html(report)).render()
    document.write_pdf(out)
    return len(document.pages)


def _write_xlsx(report: dict[str, Any], out: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.chart import LineChart, Reference
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    first = True
    names = ["排名", "未对接", "逾期", "错误原因", "数据归集", "趋势", "执法统计", "分类别", "分区县"]
    for (title, headers, rows), name in zip(sections(report), names, strict=True):
        sheet = book.active if first else book.create_sheet()
        first = False
        assert sheet is not None
        sheet.title = name
        sheet.append([title])
        sheet["A1"].font = Font(bold=True)
        sheet.append(headers)
        for cell in sheet[2]:
            cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="EEF2F7")
        for row in rows:
            sheet.append(row)
        for column, width in zip("ABCDEFGHIJK", (8, 28, 22, 10, 12, 12, 12, 8, 8, 8, 10), strict=False):
            sheet.column_dimensions[column].width = width
    trend = book["趋势"]
    numbers = book.create_sheet("趋势数据")
    numbers.append(["月份", "公示及时率", "完整率", "合规率"])
    for t in report["trend"]:
        numbers.append([t["month"], t["timeliness"], t["completeness"], t["compliance"]])
    chart = LineChart()
    chart.title, chart.y_axis.title = "近几个月趋势", "比率"
    chart.add_data(Reference(numbers, min_col=2, max_col=4, min_row=1, max_row=len(report["trend"]) + 1), titles_from_data=True)
    chart.set_categories(Reference(numbers, min_col=1, min_row=2, max_row=len(report["trend"]) + 1))
    trend.add_chart(chart, f"A{len(report['trend']) + 4}")
    book.save(out)
