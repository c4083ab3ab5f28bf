"""Real keys for the security tests: jnx's signing key, the platform's encryption key, per suite."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from jnx.security.keys import KeyUse, PrivateKey, Suite, generate_private_key

NOW = dt.datetime(2026, 3, 16, 9, 30, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Parties:
    """jnx (signs) and the credit platform (decrypts), plus a stranger's keys of the same suite."""

    jnx_signing: PrivateKey
    platform_decryption: PrivateKey
    stranger_signing: PrivateKey
    stranger_decryption: PrivateKey


def make_parties(suite: Suite) -> Parties:
    return Parties(
        jnx_signing=generate_private_key(f"jnx-{suite.value}-sig", suite, KeyUse.SIG),
        platform_decryption=generate_private_key(f"platform-{suite.value}-enc", suite, KeyUse.ENC),
        stranger_signing=generate_private_key(f"stranger-{suite.value}-sig", suite, KeyUse.SIG),
        stranger_decryption=generate_private_key(f"stranger-{suite.value}-enc", suite, KeyUse.ENC),
    )


_CACHE: dict[Suite, Parties] = {}


@pytest.fixture(params=list(Suite), ids=lambda s: s.value)
def parties(request: pytest.FixtureRequest) -> Parties:
    suite: Suite = request.param
    if suite not in _CACHE:
        _CACHE[suite] = make_parties(suite)
    return _CACHE[suite]


@pytest.fixture
def jose_parties() -> Parties:
    if Suite.JOSE not in _CACHE:
        _CACHE[Suite.JOSE] = make_parties(Suite.JOSE)
    return _CACHE[Suite.JOSE]
