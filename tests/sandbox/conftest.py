"""Fixtures that start the sandbox platforms on ephemeral loopback ports.

``sandbox_session`` starts one sandbox for the whole test session (data generation is the slow
part); ``sandbox`` hands it to a test and clears every fault knob afterwards, so tests that turn
knobs on cannot leak into the next. Candidates for the root conftest (adapters and exchange tests
need the same servers).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from jnx.sandbox.runner import Credentials, Sandbox, SandboxConfig
from jnx.sandbox.signing import sign

SANDBOX_SEED = 7
SANDBOX_RECORDS = 300


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=SANDBOX_SEED, records=SANDBOX_RECORDS, port_base=0)) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(sandbox_session: Sandbox) -> Iterator[Sandbox]:
    yield sandbox_session
    sandbox_session.clear_faults()


@pytest.fixture
def creds() -> Credentials:
    return Credentials()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def signed_get(http: requests.Session, base: str, path: str, params: dict[str, str], creds: Credentials,
               timeout: float = 10) -> requests.Response:
    """A GET to the case-handling API, signed as docs/source-shapes.md §2 says."""
    headers = sign(creds.case_app_key, creds.case_secret, "GET", path, params)
    return http.get(base + path, params=params, headers=headers, timeout=timeout)
