"""The double-random system's GB18030 CSV exports, end to end: the sandbox writes them into a drop
folder, a `files` registration pulls them, and the shipped CSV table maps them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from jnx.adapters.config import MappingSecrets
from jnx.adapters.factory import build_adapters
from jnx.exchange.ingest import decode_payload
from jnx.exchange.registry import parse_registration
from jnx.exchange.wiring import table_catalog
from jnx.sandbox.runner import Sandbox, SandboxConfig
from jnx.settings import Settings

pytestmark = pytest.mark.integration


def test_a_gb18030_export_drop_is_pulled_and_mapped(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    with Sandbox(SandboxConfig(port_base=0, records=150, seed=4)) as sandbox:
        sandbox.write_exports(drop)
    raw = next(drop.glob("results_*.csv")).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really GB18030
    registration = parse_registration({
        "format": 1, "id": "jn-double-random-files", "name": "济宁市双随机一公开监管系统（文件交换）",
        "department": "济宁市市场监督管理局", "department_credit_code": "11370800MB2850022B", "region": "370800",
        "kind": "double_random",
        "adapter": {"protocol": "files", "folder": str(drop),
                    "pull": [{"record_type": "inspection", "pattern": "results_*.csv", "format": "csv",
                              "encoding": "gb18030", "key_field": "结果编号", "updated_field": "更新时间"}]},
        "mappings": {"inspection": "double_random.inspection_csv@1"},
    }, "files.yaml", table_catalog(Settings(home=tmp_path)))
    adapters = build_adapters(registration.adapter, MappingSecrets({}))
    try:
        records = [r for page in adapters.pullers["inspection"].pull(None) for r in page.records]
    finally:
        adapters.close()
    assert len(records) == len({r.source_key for r in records}) > 100
    mapper = table_catalog(Settings(home=tmp_path)).compiled("double_random.inspection_csv", "1")
    results = [mapper(decode_payload(r.payload) or {}, today=dt.date(2026, 11, 25)) for r in records]
    mapped = [r for r in results if r.ok]
    assert len(mapped) > 0.8 * len(results), {i.rule for r in results for i in r.issues}
    assert any(len(r.record["inspection_methods"]) > 1 for r in mapped), "检查方式 labels joined by 、 become several codes"
    assert all(r.record["party_name"] for r in mapped)
