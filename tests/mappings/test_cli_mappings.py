"""``jnx mappings`` end to end through the command (real files, a temporary JNX home)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jnx.cli import app
from jnx.mappings.errors import PublishedVersionError
from jnx.mappings.registry import SHIPPED_DIR

SAMPLES = Path(__file__).with_name("samples")
runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JNX_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_validate_passes_on_every_shipped_table() -> None:
    result = runner.invoke(app, ["mappings", "validate", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)) >= 8


def test_validate_fails_with_file_and_line_on_a_typo_and_an_unknown_code_set(tmp_path: Path) -> None:
    text = (SHIPPED_DIR / "case_handling.penalty" / "1.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("  region: gbt2260-jining", "  regoin: gbt2260-jining").replace("[squeeze]", "[squeez]", 1),
                      encoding="utf-8")
    result = runner.invoke(app, ["mappings", "validate", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:14: unknown code set 'regoin'" in result.output
    line = next(n for n, text in enumerate(broken.read_text(encoding="utf-8").splitlines(), start=1) if "squeez]" in text)
    assert f"{broken}:{line}: unknown transform 'squeez'; known: " in result.output


def test_test_reports_every_bad_field_of_the_messy_sample_without_stopping() -> None:
    result = runner.invoke(app, ["mappings", "test", "case_handling.penalty@1", str(SAMPLES / "case_handling_penalties_messy.jsonl"),
                                 "--department-name", "济宁市司法局", "--department-credit-code", "11370800004180002M", "--json"])
    assert result.exit_code == 1
    run = json.loads(result.output)
    assert run["table"] == "case_handling.penalty@1" and len(run["outcomes"]) == 6
    assert sum(len(o["issues"]) for o in run["outcomes"]) == 15


def test_publish_diff_and_refusal_of_in_place_edits(tmp_path: Path, home: Path) -> None:
    source = (SHIPPED_DIR / "case_handling.penalty" / "2.yaml").read_text(encoding="utf-8")
    edited = tmp_path / "edited.yaml"
    edited.write_text(source.replace("do: [trim]}", "do: [clean]}", 1), encoding="utf-8")
    refused = runner.invoke(app, ["mappings", "publish", str(edited)])
    assert isinstance(refused.exception, PublishedVersionError)  # jnx.cli.main prints it and exits 3
    assert refused.exception.exit_code == 3
    edited.write_text(source.replace("do: [trim]}", "do: [clean]}", 1).replace("version: 2", "version: 5"), encoding="utf-8")
    published = runner.invoke(app, ["mappings", "publish", str(edited), "--json"])
    assert published.exit_code == 0, published.output
    assert json.loads(published.stdout)["status"] == "published"
    assert "not in the audit chain" in published.stderr, "a publication that cannot be audited says so"
    assert (home / "mappings" / "case_handling.penalty" / "5.yaml").is_file()
    diff = runner.invoke(app, ["mappings", "diff", "case_handling.penalty@2", "case_handling.penalty@5"])
    assert "~ case_number do: [\"trim\"] → [\"clean\"]" in diff.output
    listed = runner.invoke(app, ["mappings", "list"])
    assert "case_handling.penalty@5" in listed.output


def test_show_and_unknown_names() -> None:
    shown = runner.invoke(app, ["mappings", "show", "credit.penalty@1"])
    assert shown.exit_code == 0 and "CF_XDR_ZJHM" in shown.output and "mask" in shown.output
