"""A lone `jnx serve` does the whole job: over the demo's registrations (the sandbox's four systems) it
runs every system on its schedule and delivers every disclosure — no `jnx disclosures deliver` — while
`--metrics-port` answers /metrics (Prometheus text) whose record and push counters equal what
`jnx runs list --json` and `jnx disclosures list --json` report, and /readyz follows the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from jnx.ops.logs import json_objects
from jnx.sandbox.runner import Sandbox
from tests.commands.conftest import Jnx
from tests.ops.conftest import PASSPHRASE, free_port, register_demo_systems
from tests.ops.test_health import _unreachable

JNX = str(Path(sys.executable).with_name("jnx"))


def metrics(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, parsed by prometheus_client's own parser."""
    answer = requests.get(base + "/metrics", timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_a_lone_serve_runs_and_delivers_everything_and_its_metrics_agree(
    jnx: Jnx, db: str, home: Path, sealed_sandbox: tuple[Sandbox, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, relay_to_postgres: Any,
) -> None:
    sandbox, platform_public = sealed_sandbox
    url, cut, mend = _unreachable(db, relay_to_postgres)
    monkeypatch.setenv("JNX_DATABASE_URL", url)
    register_demo_systems(jnx, sandbox, platform_public, tmp_path, monkeypatch)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = subprocess.Popen([JNX, "serve", "--workers", "2", "--tick", "1", "--deliver-every", "1",
                              "--metrics-port", str(port)], env={**os.environ, "JNX_LOG_FORMAT": "json"}, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        runs: list[dict[str, Any]] = []
        disclosures: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            time.sleep(1)
            runs = jnx("runs", "list", "--limit", "1000", "--json").json()["runs"]
            disclosures = jnx("disclosures", "list", "--json").json()["disclosures"]
            finished = {r["system"] for r in runs if r["status"] == "succeeded"}
            if finished >= {"jn-case-handling", "jn-licensing", "jn-double-random"} and disclosures and \
                    all(d["status"] not in ("pending",) for d in disclosures) and serve.poll() is None:
                samples = metrics(base)
                if value(samples, "jnx_outbox_depth") == 0:
                    break
        else:
            raise AssertionError(f"serve did not finish: runs {runs}, {len(disclosures)} disclosures")
        assert serve.poll() is None, serve.communicate()
        statuses = {d["status"] for d in disclosures}
        assert statuses <= {"published", "rejected"} and "published" in statuses, statuses
        store = sandbox.servers["credit"].platform.store  # type: ignore[attr-defined]
        published = [d for d in disclosures if d["status"] == "published"]
        assert len([r for r in store.records.values() if r.source == "push"]) >= len(published)

        samples = metrics(base)  # the counters equal what the command line reports
        for system in {r["system"] for r in runs}:
            mine = [r for r in runs if r["system"] == system]
            for key, outcome in (("new", "new"), ("revised", "revised"), ("unchanged", "unchanged"), ("errors", "error")):
                assert value(samples, "jnx_records_total", system=system, outcome=outcome) == sum(r.get(key, 0) for r in mine)
            assert value(samples, "jnx_records_pulled_total", system=system) == sum(r.get("pulled", 0) for r in mine)
            assert value(samples, "jnx_runs_total", system=system, outcome="succeeded") == \
                len([r for r in mine if r["status"] == "succeeded"])
            assert value(samples, "jnx_last_success_timestamp_seconds", system=system) > time.time() - 600
        for status in ("published", "rejected", "pending"):
            assert value(samples, "jnx_disclosures", status=status) == len([d for d in disclosures if d["status"] == status])
        assert value(samples, "jnx_pushes_total", outcome="acknowledged") == len(published)  # one revision each
        assert value(samples, "jnx_pushes_total", outcome="rejected") == len([d for d in disclosures if d["status"] == "rejected"])
        assert value(samples, "jnx_push_latency_seconds_count") == len(published)
        assert value(samples, "jnx_outbox_depth") == 0 and value(samples, "jnx_outbox_oldest_age_seconds") == 0
        assert value(samples, "jnx_delivery_passes_total") >= 1 and value(samples, "jnx_database_up") == 1
        assert value(samples, "jnx_line_up", system="jn-credit", line="primary") == 1
        assert value(samples, "jnx_line_up", system="jn-case-handling", line="primary") == 1
        assert value(samples, "jnx_run_duration_seconds_count", system="jn-case-handling") >= 1
        assert all(name.startswith("jnx_") for name, _ in samples)

        assert requests.get(base + "/readyz", timeout=10).status_code == 200
        cut()
        assert requests.get(base + "/readyz", timeout=10).status_code == 503
        if db.startswith("postgresql"):  # (SQLite: the pool's open file still reads, renamed or not)
            assert value(metrics(base), "jnx_database_up") == 0  # a scrape says so rather than failing
        assert requests.get(base + "/healthz", timeout=10).status_code == 200
        mend()
        assert requests.get(base + "/readyz", timeout=10).status_code == 200
    finally:
        serve.send_signal(signal.SIGTERM)
        out, err = serve.communicate(timeout=120)
    assert serve.returncode == 0, err
    lines = json_objects(err.splitlines())  # JNX_LOG_FORMAT=json: every stderr line of serve is an object
    assert lines[-1]["message"] == "jnx serve: stopped" and not [line for line in lines if "exception" in line], err
    ends = [line for line in lines if line["logger"] == "jnx.exchange.runs" and " succeeded in " in line["message"]]
    assert ends and all(isinstance(line["run_id"], int) and line["system"] in line["message"] for line in ends)
    passes = [line for line in lines if line["message"].startswith("delivery pass: claimed")]
    assert passes and all(line["system"] == "jn-credit" and line["delivery_pass"] >= 1 for line in passes)
    assert PASSPHRASE not in err
