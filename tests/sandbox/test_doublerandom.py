"""The double-random system: page-number REST paging and GB18030 CSV exports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from jnx.sandbox.doublerandom import CSV_COLUMNS
from jnx.sandbox.runner import Sandbox
from tests.sandbox.conftest import SANDBOX_RECORDS

pytestmark = pytest.mark.integration


def token(creds) -> dict[str, str]:
    return {"X-Api-Token": creds.inspection_token}


def test_results_pages_cover_every_result_once(sandbox: Sandbox, http, creds) -> None:
    keys: list[str] = []
    page = 1
    while True:
        body = http.get(sandbox.url("double_random") + "/api/v1/results", params={"pageNum": page, "pageSize": 40},
                        headers=token(creds), timeout=10).json()
        assert body["success"] is True
        if not body["result"]["rows"]:
            break
        keys += [row["resultId"] for row in body["result"]["rows"]]
        page += 1
    assert len(keys) == SANDBOX_RECORDS == len(set(keys))


def test_plans_and_tasks_link_to_results(sandbox: Sandbox, http, creds) -> None:
    base = sandbox.url("double_random")
    plans = http.get(base + "/api/v1/plans", params={"pageSize": 500}, headers=token(creds), timeout=10).json()["result"]["rows"]
    tasks = http.get(base + "/api/v1/tasks", params={"pageSize": 500}, headers=token(creds), timeout=10).json()["result"]["rows"]
    assert {t["planId"] for t in tasks} <= {p["planId"] for p in plans}
    assert all(isinstance(p["updateTime"], int) for p in plans)


def test_a_wrong_token_is_refused(sandbox: Sandbox, http) -> None:
    answer = http.get(sandbox.url("double_random") + "/api/v1/plans", headers={"X-Api-Token": "nope"}, timeout=10)
    assert answer.status_code == 401 and answer.json()["errorCode"] == "AUTH_FAILED"


def test_the_csv_export_is_gb18030_with_a_chinese_header_and_every_result(sandbox: Sandbox, http, creds) -> None:
    answer = http.get(sandbox.url("double_random") + "/export/results.csv", headers=token(creds), timeout=10)
    assert answer.headers["Content-Type"] == "text/csv; charset=GB18030"
    with pytest.raises(UnicodeDecodeError):
        answer.content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(answer.content.decode("gb18030"), newline="")))
    assert rows[0] == [title for title, _ in CSV_COLUMNS["results"]]
    assert len(rows) == SANDBOX_RECORDS + 1
    assert b"\r\n" in answer.content


def test_write_exports_puts_three_files_in_the_folder(sandbox: Sandbox, tmp_path: Path) -> None:
    written = sandbox.write_exports(tmp_path / "drop")
    assert sorted(p.name.split("_")[0] for p in written) == ["plans", "results", "tasks"]
    for path in written:
        header = path.read_bytes().split(b"\r\n", 1)[0].decode("gb18030")
        assert header.split(",")[0].endswith("编号")
