"""A SOAP system with a WSDL of its own (the provincial 政务服务平台: operation GetXkxxList, legacy
element names) connects by a registration file alone — no code — and pulls every page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jnx.adapters.config import MappingSecrets, SoapConfig
from jnx.adapters.factory import build_adapters
from jnx.exchange.registry import load_registration
from jnx.sandbox.runner import Sandbox, SandboxConfig

pytestmark = pytest.mark.integration

REGISTRATION = """\
format: 1
id: sd-province-licensing
name: 山东省政务服务平台（行政许可）
department: 山东省大数据局
department_credit_code: 11370800004180002M
region: "370800"
kind: licensing
adapter:
  protocol: soap
  lines:
    - {{url: "{primary}/axis/services/XkxxService", name: primary}}
    - {{url: "{backup}/axis/services/XkxxService", name: backup}}
  auth:
    kind: password
    username: sdzw-sandbox
    password: {{env: PROVINCE_PASSWORD}}
  page_size: 10
  pull:
    - record_type: license
      operation: GetXkxxList
      arguments: {{startTime: "{{since}}", page: "{{page}}", rows: "{{page_size}}"}}
      records_path: XKXX
      total_path: ZS
      key_field: XK_WSH
      updated_field: SJC
      initial_since: "2000-01-01 00:00:00"
mappings:
  license: province.license@1
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(port_base=0, records=90, seed=11)) as running:
        yield running


def test_a_differently_shaped_soap_system_is_connected_by_its_registration_file(sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "province.yaml"
    path.write_text(REGISTRATION.format(primary=sandbox.url("licensing", "primary"), backup=sandbox.url("licensing", "backup")),
                    encoding="utf-8")
    registration = load_registration(path)
    assert isinstance(registration.adapter, SoapConfig)
    secrets = MappingSecrets({"PROVINCE_PASSWORD": sandbox.config.credentials.province_password})
    adapters = build_adapters(registration.adapter, secrets)
    try:
        pages = list(adapters.pullers["license"].pull(None))
    finally:
        adapters.close()
    records = [record for page in pages for record in page.records]
    assert len(pages) > 1, "several pages, driven by the registration's page size"
    assert len({r.source_key for r in records}) == len(records) > 0
    assert all("XK_XDR" in r.payload for r in records), "the legacy element names come through as the source shape"
    assert pages[-1].last
