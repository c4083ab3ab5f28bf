"""``jnx indicators`` (监督指标) and ``jnx report monthly`` (每月通报). Thin: parse, call, print."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from jnx.commands._context import cli_actor, load_settings, transaction
from jnx.commands._output import JsonOption, emit
from jnx.indicators.definitions import INDICATORS, Month

app = typer.Typer(help="Supervision indicators (监督指标): 双公示 timeliness, completeness, compliance, collection, "
                       "data quality, enforcement totals — by department, region, month and kind.")
report_app = typer.Typer(help="Reports for the justice bureau (每月通报).", no_args_is_help=True)

MonthOption = Annotated[str | None, typer.Option("--month", help="YYYY-MM (Beijing time); omitted: everything to date.")]
DepartmentOption = Annotated[str | None, typer.Option(
    "--department", help="执法主体 统一社会信用代码 (for collection: the registering department's).")]
RegionOption = Annotated[str | None, typer.Option("--region", help="区划代码 of the 执法主体 (chars 3–8 of its credit code).")]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _render(data: dict[str, Any]) -> None:
    t, c = data["total"], data["collection"]
    typer.echo(f"indicators {data['month']} (today {data['today']}); publication rule: {data['publication_rule']}")
    typer.echo(f"  公示及时率 timeliness {_pct(t['timeliness'])} ({t['on_time']}/{t['came_due']}, late {t['late']}); "
               f"完整率 completeness {_pct(t['completeness'])} (missing {t['missing']}, excluded {t['excluded']}); "
               f"合规率 compliance {_pct(t['compliance'])}")
    typer.echo(f"  overdue now {t['overdue']}, due within 1 working day {t['due_1']}, within 3 {t['due_3']}")
    typer.echo(f"  对接率 {_pct(c['connection_rate'])} ({c['departments_connected']}/{c['departments_registered']}), "
               f"received {c['received']}, error rate {_pct(c['error_rate'])}, open errors {c['open_errors']}")
    typer.echo(f"  penalties {t['penalties']} (fines {t['fines_wan']} 万元, confiscations {t['confiscations_wan']} 万元), "
               f"inspections {t['inspections']} (problems {_pct(t['problem_rate'])}), coercive {t['coercive_measures']}")
    for kind, k in t["kinds"].items():
        typer.echo(f"  {kind}: timeliness {_pct(k['timeliness'])}, completeness {_pct(k['completeness'])}, "
                   f"compliance {_pct(k['compliance'])}, overdue {k['overdue']}")
    for r in data["regions"]:
        typer.echo(f"  region {r['region']} ({r['departments']} 执法主体): timeliness {_pct(r['timeliness'])}, "
                   f"completeness {_pct(r['completeness'])}, compliance {_pct(r['compliance'])}, overdue {r['overdue']}")
    for d in data["departments"]:
        rank = f"{d['rank']:>3}" if d["rank"] else "  -"
        typer.echo(f"{rank} {d['department']} {d['department_name'] or ''}: timeliness {_pct(d['timeliness'])}, "
                   f"completeness {_pct(d['completeness'])}, compliance {_pct(d['compliance'])}, overdue {d['overdue']}")
    typer.echo("the records behind a figure: `jnx indicators records KEY --month …` (keys: `jnx indicators definitions`)")


@contextmanager
def _service() -> Iterator[Any]:
    """A service context for the OS user at the server (the command line may read everything)."""
    from jnx.services.context import Actor, ServiceContext

    settings = load_settings()
    with transaction(settings) as session:
        yield ServiceContext(session=session, settings=settings, actor=Actor.os_user(cli_actor()))


@app.callback(invoke_without_command=True)
def indicators(ctx: typer.Context, month: MonthOption = None, department: DepartmentOption = None,
               region: RegionOption = None, as_json: JsonOption = False) -> None:
    """All indicators of a month (or to date): per department (执法主体), kind and in total."""
    if ctx.invoked_subcommand is not None:
        return
    from jnx.services.indicators import indicators as read

    with _service() as service:
        data = read(service, month=month, department=department, region=region).model_dump()
    emit(data, as_json, _render)


@app.command("records")
def records(
    key: Annotated[str, typer.Argument(help="The indicator (e.g. late, missing, overdue, penalties).")],
    month: MonthOption = None, department: DepartmentOption = None, region: RegionOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="List at most this many.")] = 1000,
    as_json: JsonOption = False,
) -> None:
    """The records behind a figure (drill-down), with the SQL that selects them."""
    from jnx.services.indicators import indicator_records

    with _service() as ctx:
        data = indicator_records(ctx, key, month=month, department=department, region=region, limit=limit)

    def render(d: dict[str, Any]) -> None:
        shown = "" if d["shown"] == d["count"] else f", {d['shown']} shown"
        typer.echo(f"{d['indicator']} {d['month']}: {d['count']} record(s){shown}")
        for row in d["records"]:
            typer.echo("  " + "  ".join(f"{k}={v}" for k, v in row.items()))

    emit(data, as_json, render)


@app.command("definitions")
def definitions(as_json: JsonOption = False) -> None:
    """Every indicator: key, Chinese and English name, formula, fields read, unit."""
    rows = [{"key": i.key, "group": i.group, "name_zh": i.name_zh, "name_en": i.name_en, "formula": i.formula,
             "fields": i.fields, "unit": i.unit} for i in INDICATORS]

    def render(d: dict[str, Any]) -> None:
        for r in d["indicators"]:
            typer.echo(f"{r['key']:<22} {r['name_zh']} / {r['name_en']} [{r['unit']}]: {r['formula']}")

    emit({"indicators": rows}, as_json, render)


FormatOption = Annotated[str, typer.Option("--format", help="xlsx, pdf or html.")]


@report_app.command("monthly")
def monthly(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM, the month reported on.")],
    fmt: FormatOption = "html",
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: jnx-report-YYYY-MM.<format>).")] = None,
    months: Annotated[int, typer.Option("--trend-months", min=2, max=24, help="Months in the trend charts.")] = 6,
    as_json: JsonOption = False,
) -> None:
    """每月通报: departments ranked by the three 双公示 rates, not connected, overdue, error causes, trends."""
    from jnx.indicators.report import write_report

    if fmt not in ("xlsx", "pdf", "html"):
        from jnx.errors import InputError

        raise InputError(f"unknown format {fmt!r}", hint="give --format xlsx, pdf or html")
    target = out or Path(f"jnx-report-{Month.parse(month)}.{fmt}")
    from jnx.services.indicators import monthly_report

    with _service() as ctx:
        report = monthly_report(ctx, month, months=months)
    pages = write_report(report, fmt, target)
    emit({"month": month, "format": fmt, "out": str(target), "bytes": target.stat().st_size, "pages": pages,
          "departments": len(report["current"]["departments"])}, as_json,
         lambda d: typer.echo(f"wrote {d['out']} ({d['format']}, {d['bytes']} bytes"
                              + (f", {d['pages']} page(s)" if d["pages"] else "") + ")"))


def register(root: typer.Typer) -> None:
    """Add this module's commands and groups to the root app."""
    root.add_typer(app, name="indicators")
    root.add_typer(report_app, name="report")
