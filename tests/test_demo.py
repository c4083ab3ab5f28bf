"""`jnx demo`, the main job, end to end as a user runs it: one command, one JSON summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

KEYS = ("pulled", "standard_records", "mapping_errors", "error_groups", "duplicates_merged", "seconds",
        "disclosures", "disclosures_acknowledged", "disclosures_rejected", "overdue")


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JNX_")}
    completed = subprocess.run(
        [sys.executable, "-m", "jnx.cli", "demo", "--records", "150", "--json"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    data = json.loads(completed.stdout)
    data["_folder"] = str(folder)
    data["_stderr"] = completed.stderr
    return data


def test_the_summary_has_what_a_scheduler_reads(summary: dict) -> None:
    for key in KEYS:
        assert key in summary, key
    assert summary["pulled"] >= 4 * 150 * 0.9
    assert 0 < summary["standard_records"] <= summary["pulled"]
    assert summary["mapping_errors"] > 0 and summary["error_groups"] > 0
    assert summary["duplicates_merged"] > 0, "the provincial mirror reports decisions the case-handling system has"


def test_every_run_succeeded(summary: dict) -> None:
    assert [r["status"] for r in summary["runs"]] == ["succeeded"] * len(summary["runs"])


def test_disclosures_reach_the_platform_once_and_without_clear_id_numbers(summary: dict) -> None:
    platform = summary["platform"]
    assert summary["disclosures_acknowledged"] > 0
    assert summary["disclosures_rejected"] == 0, "every disclosure jnx derives is one the platform accepts"
    assert summary["disclosures_acknowledged"] == summary["disclosures"] - summary["derived"]["blocked"]
    assert platform["records_from_jnx"] == summary["disclosures_acknowledged"]
    assert platform["clear_id_numbers"] == 0


def test_the_demo_keeps_its_data_in_its_own_folder_and_says_where_to_look(summary: dict) -> None:
    assert (Path(summary["_folder"]) / ".jnx" / "demo" / "jnx.db").exists()
    assert "registered jn-case-handling" in summary["_stderr"]
