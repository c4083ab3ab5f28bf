"""After `jnx demo`: `jnx indicators --json` agrees with `jnx disclosures list --json` and
`jnx errors groups --json`; `jnx report monthly` writes a workbook openpyxl opens and a PDF whose
pages render (pdftoppm) with Chinese text in an embedded CJK font."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _jnx(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JNX_")} | {"JNX_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "jnx.cli", *args], cwd=home, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def _json(home: Path, *args: str) -> Any:
    done = _jnx(home, *args, "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("indicators-demo")
    done = _jnx(folder, "demo", "--records", "200", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / "demo"  # jnx demo keeps its database in <home>/demo


def test_indicators_agree_with_disclosures_and_error_groups(demo_home: Path) -> None:
    data = _json(demo_home, "indicators")
    listed = _json(demo_home, "disclosures", "list", "--limit", "100000")["disclosures"]
    overdue = _json(demo_home, "disclosures", "list", "--overdue", "--limit", "100000")["disclosures"]
    by_department = Counter(d["business_key"][:18] for d in listed)
    overdue_by_department = Counter(d["business_key"][:18] for d in overdue)
    blocked = Counter(d["business_key"][:18] for d in listed if d["status"] in ("blocked", "rejected"))
    mine = {d["department"]: d for d in data["departments"]}
    assert by_department and {k: v["disclosed"] for k, v in mine.items() if v["disclosed"]} == dict(by_department)
    assert {k: v["overdue"] for k, v in mine.items() if v["overdue"]} == dict(overdue_by_department)
    assert {k: v["blocked"] + v["rejected"] for k, v in mine.items() if v["blocked"] + v["rejected"]} == dict(blocked)
    assert data["total"]["disclosed"] == len(listed)
    for row in [data["total"], *data["departments"]]:
        for name in ("timeliness", "completeness", "compliance"):
            assert row[name] is None or 0 <= row[name] <= 1, (name, row)
    assert data["total"]["timeliness"] is not None and 0 <= data["total"]["timeliness"] <= 1

    groups = _json(demo_home, "errors", "groups")["groups"]
    per_system = Counter()
    for g in groups:
        per_system[g["system"]] += g["errors"]
    systems = {s["system"]: s for s in data["collection"]["systems"]}
    assert {k: v["open_errors"] for k, v in systems.items() if v["open_errors"]} == dict(per_system)
    per_department = Counter()
    for system, n in per_system.items():
        per_department[systems[system]["department"]] += n
    assert sum(per_department.values()) == data["collection"]["open_errors"]


def test_a_figure_drills_down_to_the_same_number(demo_home: Path) -> None:
    data = _json(demo_home, "indicators")
    for key, figure in (("late", "late"), ("penalties", "penalties"), ("inspections", "inspections")):
        listed = _json(demo_home, "indicators", "records", key, "--limit", "5")
        assert listed["count"] == data["total"][figure], key
        assert "SELECT" in listed["sql"]


def test_definitions_name_every_indicator(demo_home: Path) -> None:
    rows = _json(demo_home, "indicators", "definitions")["indicators"]
    assert {"timeliness", "completeness", "compliance"} <= {r["key"] for r in rows}
    assert all(r["name_zh"] and r["name_en"] and r["formula"] and r["unit"] for r in rows)


def test_a_bad_month_is_an_error_not_a_traceback(demo_home: Path) -> None:
    done = _jnx(demo_home, "indicators", "--month", "2025-13")
    assert done.returncode != 0 and "YYYY-MM" in done.stderr and "Traceback" not in done.stderr


def _busiest_month(home: Path) -> str:
    listed = _json(home, "disclosures", "list", "--limit", "100000")["disclosures"]
    return Counter(d["deadline"][:7] for d in listed if d["deadline"]).most_common(1)[0][0]


def test_monthly_report_as_a_workbook(demo_home: Path) -> None:
    from openpyxl import load_workbook

    month = _busiest_month(demo_home)
    out = demo_home / "report.xlsx"
    done = _json(demo_home, "report", "monthly", "--month", month, "--format", "xlsx", "--out", str(out))
    book = load_workbook(out)
    assert book.sheetnames[0] == "排名"
    ranking = book["排名"]
    assert ranking["B2"].value == "执法主体"
    assert ranking.max_row - 2 == done["departments"] > 0
    assert "趋势" in book.sheetnames and "未对接" in book.sheetnames


def test_monthly_report_as_a_pdf_renders_page_by_page_with_chinese(demo_home: Path, tmp_path: Path) -> None:
    assert shutil.which("pdftoppm"), "install poppler-utils and fonts-noto-cjk (apt), as .ci/run does"
    month = _busiest_month(demo_home)
    out = demo_home / "report.pdf"
    done = _json(demo_home, "report", "monthly", "--month", month, "--format", "pdf", "--out", str(out))
    assert done["pages"] >= 1
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts and " yes " in fonts  # an embedded CJK font
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "双公示及数据归集情况通报" in text and "公示及时率" in text
    for page in range(1, done["pages"] + 1):
        prefix = tmp_path / f"p{page}"
        subprocess.run(["pdftoppm", "-r", "40", "-gray", "-f", str(page), "-l", str(page), str(out), str(prefix)],
                       check=True, capture_output=True)
        image = next(tmp_path.glob(f"p{page}*.pgm")).read_bytes()
        pixels = image[image.index(b"255\n") + 4:]
        dark = sum(1 for b in pixels[::7] if b < 128)
        assert dark > 50, f"page {page} renders blank"
        page_text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(out), "-"],
                                   capture_output=True, text=True, check=True).stdout
        assert any("\u4e00" <= ch <= "\u9fff" for ch in page_text), f"page {page} has no Chinese text"


def test_monthly_report_as_html_is_offline(demo_home: Path) -> None:
    out = demo_home / "report.html"
    _json(demo_home, "report", "monthly", "--month", _busiest_month(demo_home), "--format", "html", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<script" not in page and "https://" not in page
