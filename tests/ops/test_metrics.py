"""/metrics: the example alert rules and the Grafana dashboard of docs/ name only metrics jnx exposes,
docs/operations.md lists exactly those, and /metrics of `jnx web` answers a bearer token or loopback."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from jnx.adapters.lines import LineReport, LineState
from jnx.adapters.traffic import TrafficCounts
from jnx.ops.listener import serve_in_thread, stop_server
from jnx.ops.metrics import ProcessMetrics, database_collector, registry_of
from jnx.settings import Settings
from jnx.web.app import create_app
from tests.ops.conftest import free_port

DOCS = Path(__file__).resolve().parents[2] / "docs"
NAME = re.compile(r"\bjnx_[a-z0-9_]+")


def exposed(engine: Engine, home: Path) -> tuple[set[str], set[str]]:
    """Every sample name /metrics can carry (histograms: _bucket, _count, _sum; counters: _total), and
    the metrics' names as docs/operations.md lists them (counters with _total, histograms bare)."""
    seen = ProcessMetrics()
    seen.lines_seen("jn-credit", [LineReport("primary", "http://x", LineState.UP, 0, None)])
    seen.delivery_pass("jn-credit", TrafficCounts(1, 1, 0, 0.0))
    text_ = generate_latest(registry_of(database_collector(engine, home / "calendar"), seen)).decode()
    names: set[str] = set()
    listed: set[str] = set()
    for family in text_string_to_metric_families(text_):
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}.get(family.type, [""])
        names |= {family.name + s for s in suffixes}
        listed.add(family.name + ("_total" if family.type == "counter" else ""))
    return names, listed


def test_alert_rules_and_dashboard_name_only_exposed_metrics(migrated_engine: Engine, tmp_path: Path) -> None:
    names, listed = exposed(migrated_engine, tmp_path)
    assert all(n.startswith("jnx_") for n in names) and len(names) > 20
    rules = yaml.safe_load((DOCS / "prometheus" / "jnx-alerts.yml").read_text(encoding="utf-8"))
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(alerts) >= 8 and all({"alert", "expr"} <= rule.keys() for rule in alerts)
    for rule in alerts:
        used = set(NAME.findall(rule["expr"])) | set(NAME.findall(json.dumps(rule.get("annotations", {}))))
        assert used and used <= names, (rule["alert"], used - names)
    dashboard = json.loads((DOCS / "grafana" / "jnx.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(exprs) >= 10
    for expr in exprs:
        used = set(NAME.findall(expr))
        assert used and used <= names, (expr, used - names)
    # the metrics table of docs/operations.md lists what is exposed, no more, no less
    documented = set(re.findall(r"^\| `(jnx_[a-z0-9_]+)` \|", (DOCS / "operations.md").read_text(encoding="utf-8"), re.M))
    assert documented == listed, (documented ^ listed)


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[Any]:
    servers: list[Any] = []

    def start(token: str | None) -> str:
        from jnx.store.db import create_engine_for

        settings = Settings(home=tmp_path / "home", database_url=database_url, metrics_token=token)
        port = free_port()
        servers.append(serve_in_thread(create_app(settings, engine=create_engine_for(database_url), environment={}),
                                       "127.0.0.1", port, name="test-web"))
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(base + "/healthz", timeout=2)
                return base
            except requests.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("jnx web did not start")

    yield start
    for server in servers:
        stop_server(server)


def test_web_metrics_need_the_token_when_one_is_set(web: Any) -> None:
    base = web("s3cret-metrics-token")
    assert requests.get(base + "/metrics", timeout=10).status_code == 401
    assert requests.get(base + "/metrics", headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    answer = requests.get(base + "/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"}, timeout=30)
    assert answer.status_code == 200
    names = {f.name for f in text_string_to_metric_families(answer.text)}
    assert {"jnx_database_up", "jnx_outbox_depth", "jnx_pushes", "jnx_records"} <= names
    assert requests.get(base + "/readyz", timeout=10).status_code == 200  # health stays open


def test_web_metrics_without_a_token_answer_loopback_only(web: Any) -> None:
    base = web(None)
    assert requests.get(base + "/metrics", timeout=30).status_code == 200  # this test is on loopback
    forwarded = requests.get(base + "/metrics", headers={"X-Forwarded-For": "10.1.2.3"}, timeout=10)
    assert forwarded.status_code == 403 and "JNX_METRICS_TOKEN" in forwarded.json()["detail"]
