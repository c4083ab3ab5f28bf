"""`jnx systems check` against the real sandbox platforms: a working registration passes, and a
broken one says why."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jnx.adapters.config import MappingSecrets
from jnx.exchange.registry import RegisteredSystem, parse_registration
from jnx.exchange.syscheck import check_system
from jnx.exchange.wiring import table_catalog
from jnx.sandbox.runner import Sandbox, SandboxConfig
from jnx.sandbox.systems import registrations_for, secrets_from
from jnx.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(port_base=0, records=60, seed=5)) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_faults(sandbox: Sandbox) -> Iterator[None]:
    sandbox.clear_faults()
    yield
    sandbox.clear_faults()


def _system(doc: dict[str, Any]) -> RegisteredSystem:
    registration = parse_registration(doc, f"{doc['id']}.yaml")
    return RegisteredSystem(
        id=registration.id, name=registration.name, department=registration.department,
        department_credit_code=registration.department_credit_code, region=registration.region,
        kind=registration.kind.value, protocol=registration.adapter.protocol, mappings=dict(registration.mappings),
        schedule=registration.schedule, enabled=True, registration=registration, updated_at=dt.datetime.now(dt.UTC),
    )


def _docs(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    return {doc["id"]: doc for doc in registrations_for(sandbox.urls())}


def _check(sandbox: Sandbox, doc: dict[str, Any], tmp_path: Path, env: dict[str, str] | None = None) -> Any:
    secrets = MappingSecrets(env if env is not None else secrets_from(sandbox.config.credentials))
    return check_system(_system(doc), tables=table_catalog(Settings(home=tmp_path)), secrets=secrets)


@pytest.mark.parametrize("system_id", ["jn-licensing", "jn-case-handling", "jn-double-random", "jn-credit"])
def test_the_shipped_registrations_work_against_the_sandbox(sandbox: Sandbox, system_id: str, tmp_path: Path) -> None:
    report = _check(sandbox, _docs(sandbox)[system_id], tmp_path)
    assert report.ok, report.problems
    assert [line.name for line in report.lines] == ["primary", "backup"]
    assert all(line.latency_ms is not None for line in report.lines)
    for stream in report.streams:
        if stream.record_type.startswith("push "):
            assert stream.ok and "credentials accepted" in stream.detail
        else:
            assert stream.pulled > 0 and stream.mapped > 0
    assert report.streams, "every system has something to check beyond its lines"


def test_a_wrong_secret_is_reported_as_refused_credentials(sandbox: Sandbox, tmp_path: Path) -> None:
    env = {**secrets_from(sandbox.config.credentials), "JNX_SANDBOX_CASE_SECRET": "not-the-secret"}
    report = _check(sandbox, _docs(sandbox)["jn-case-handling"], tmp_path, env)
    assert not report.ok
    assert any("credentials refused" in p for p in report.problems)


def test_a_missing_secret_says_which_variable_to_set(sandbox: Sandbox, tmp_path: Path) -> None:
    report = _check(sandbox, _docs(sandbox)["jn-licensing"], tmp_path, env={})
    assert not report.ok
    assert any("JNX_SANDBOX_LICENSING_PASSWORD" in p for p in report.problems)


def test_a_line_that_is_down_is_named(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.set_faults("case_handling", lines_down=["backup"])
    report = _check(sandbox, _docs(sandbox)["jn-case-handling"], tmp_path)
    assert not report.ok
    assert [line.ok for line in report.lines] == [True, False]
    assert any("line backup" in p for p in report.problems)
    assert report.streams and report.streams[0].mapped > 0, "the pull still works through the primary line"


def test_a_wsdl_without_the_operation_is_reported(sandbox: Sandbox, tmp_path: Path) -> None:
    doc = copy.deepcopy(_docs(sandbox)["jn-licensing"])
    doc["adapter"]["pull"][0]["operation"] = "QueryPermits"
    report = _check(sandbox, doc, tmp_path)
    assert not report.ok
    assert any("QueryPermits" in p for p in report.problems)


def test_a_refused_token_of_the_credit_platform_is_reported(sandbox: Sandbox, tmp_path: Path) -> None:
    env = {**secrets_from(sandbox.config.credentials), "JNX_SANDBOX_CREDIT_TOKEN": "wrong"}
    report = _check(sandbox, _docs(sandbox)["jn-credit"], tmp_path, env)
    assert not report.ok
    assert any("credentials refused" in p for p in report.problems)


def test_one_unlucky_5xx_does_not_make_a_line_down(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.set_faults("case_handling", fail_next=1, error_status=503)
    report = _check(sandbox, _docs(sandbox)["jn-case-handling"], tmp_path)
    assert report.ok, report.problems
