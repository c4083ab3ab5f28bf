"""Pushes are sealed by default — docs/sandbox.md "Push to the sandbox", step by step: with the example
registrations and the sandbox's credit platform (envelopes only), `jnx disclosures deliver` sends only
envelopes; without the platform's key it refuses and says how to import it; `envelope: none` is warned."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jnx.publicity.outbox import stored_envelope
from jnx.sandbox.envelopes import dynamic_envelope_unwrap, home_signers, platform_key
from jnx.sandbox.runner import Sandbox, SandboxConfig
from jnx.sandbox.systems import registrations_for, secrets_from
from jnx.store.db import create_engine_for
from jnx.store.models import Delivery
from tests.commands.conftest import Jnx, assert_error


@pytest.fixture
def sealed_sandbox(home: Path) -> Iterator[tuple[Sandbox, Path]]:
    """What `jnx sandbox serve` starts: the credit platform opens envelopes with its key kept under the
    home and trusts jnx's signing keys of the home's key store (read at every push)."""
    home.mkdir(parents=True, exist_ok=True)
    key, public = platform_key(home / "sandbox")
    config = SandboxConfig(seed=3, records=30, port_base=0, unwrap=dynamic_envelope_unwrap([key], home_signers(home)))
    with Sandbox(config) as sandbox:
        yield sandbox, public


def _register_examples(jnx: Jnx, sandbox: Sandbox, tmp_path: Path) -> None:
    for doc in registrations_for(sandbox.urls()):  # the example registrations, on this sandbox's ports
        if doc["kind"] in ("case_handling", "credit"):
            path = tmp_path / f"{doc['id']}.yaml"
            path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
            registered = jnx("systems", "register", str(path))
            assert registered.code == 0 and "warning" not in registered.err, registered.err


def test_following_the_sandbox_page_deliver_sends_only_envelopes(
    jnx: Jnx, db: str, sealed_sandbox: tuple[Sandbox, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox, platform_public_key = sealed_sandbox
    monkeypatch.setenv("JNX_KEY_PASSPHRASE", "a passphrase for this test")
    for name, value in secrets_from(sandbox.config.credentials).items():  # the `export JNX_SANDBOX_…` lines
        monkeypatch.setenv(name, value)
    assert jnx("keys", "generate").code == 0
    _register_examples(jnx, sandbox, tmp_path)
    assert jnx("run", "jn-case-handling").code == 0

    # before the platform's key is imported: nothing goes out, and the hint says how
    assert_error(jnx("disclosures", "deliver"), 3, says="no platform encryption key is imported", hint="jnx keys import-peer")
    check = jnx("systems", "check", "jn-credit", "--json")
    assert any("jnx keys import-peer" in p for p in check.json()["problems"])

    assert jnx("keys", "import-peer", str(platform_public_key), "--use", "enc", "--name", "sandbox-credit").code == 0
    check = jnx("systems", "check", "jn-credit", "--json")
    assert not [p for p in check.json()["problems"] if p.startswith("envelopes")] and check.json()["warnings"] == []
    delivered = jnx("disclosures", "deliver", "--json")
    assert delivered.code == 0, delivered.err
    summary = delivered.json()
    assert summary["acknowledged"] > 0 and summary["failed"] == summary["rejected"] == summary["retried"] == 0

    store = sandbox.servers["credit"].platform.store  # type: ignore[attr-defined]
    pushed = [r for r in store.records.values() if r.source == "push"]
    assert len(pushed) == summary["acknowledged"]  # the platform took every one — it opens envelopes only
    engine = create_engine_for(db)
    with Session(engine) as session:
        envelopes = [stored_envelope(d.envelope) for d in session.scalars(select(Delivery))]
    engine.dispose()
    assert envelopes and all(e is not None and e[0].count(".") == 4 for e in envelopes)


def test_envelope_none_is_explicit_and_warned_at_registration_and_check(
    jnx: Jnx, db: str, sealed_sandbox: tuple[Sandbox, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox, _ = sealed_sandbox
    [doc] = [d for d in registrations_for(sandbox.urls()) if d["kind"] == "credit"]
    doc["settings"] = {"envelope": "none"}
    path = tmp_path / "clear.yaml"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    registered = jnx("systems", "register", str(path), "--json")
    assert registered.code == 0 and "pushes 双公示 items in clear" in registered.err
    assert registered.json()["warnings"]
    monkeypatch.setenv("JNX_SANDBOX_CREDIT_TOKEN", sandbox.config.credentials.credit_token)
    check = jnx("systems", "check", "jn-credit")
    assert "warning: system jn-credit pushes 双公示 items in clear" in check.err
