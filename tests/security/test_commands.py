"""The jnx keys / envelope / audit commands, driven through typer's CliRunner."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from jwcrypto import jwk
from typer.testing import CliRunner

from jnx.cli import app
from jnx.security.audit import AuditEntry
from jnx.security.audit_sql import SqlAuditStore
from jnx.security.operator import key_store
from jnx.store.db import create_engine_for, upgrade

runner = CliRunner()
PASSPHRASE = "cli test passphrase"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A JNX_HOME with its (SQLite) database initialised: key actions go to its audit chain."""
    monkeypatch.setenv("JNX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JNX_KEY_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("JNX_DATABASE_URL", raising=False)
    upgrade(f"sqlite:///{tmp_path / 'home' / 'jnx.db'}")
    return tmp_path


def _audit_entries(env: Path) -> list[AuditEntry]:
    engine = create_engine_for(f"sqlite:///{env / 'home' / 'jnx.db'}")
    try:
        return list(SqlAuditStore(engine).entries())
    finally:
        engine.dispose()


def _invoke(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_generate_export_import_seal_and_open_round_trip(env: Path) -> None:
    jnx_keys = _invoke("keys", "generate", "--json")["keys"]
    assert {k["use"] for k in jnx_keys} == {"sig", "enc"}
    enc_kid = next(k["kid"] for k in jnx_keys if k["use"] == "enc")
    sig_kid = next(k["kid"] for k in jnx_keys if k["use"] == "sig")

    pem = runner.invoke(app, ["keys", "export-public", enc_kid, "--format", "pem"]).stdout
    assert "BEGIN PUBLIC KEY" in pem and "PRIVATE" not in pem
    (env / "peer.pem").write_text(pem)
    peer = _invoke("keys", "import-peer", str(env / "peer.pem"), "--kid", "platform-enc", "--use", "enc", "--name", "信用山东", "--json")
    assert peer["keys"][0]["owner"] == "peer"

    (env / "record.json").write_text('{"XK_XDR_MC":"济宁市某某公司"}', "utf-8")
    sealed = runner.invoke(app, ["envelope", "seal", "--to", "platform-enc", str(env / "record.json")])
    assert sealed.exit_code == 0, sealed.output
    (env / "envelope.jwe").write_text(sealed.stdout)

    # the platform's private key is, here, jnx's own encryption key (its public half was imported)
    from jnx.security.operator import key_store

    private = key_store(env / "home", PASSPHRASE).private_key(enc_kid)
    jwk = json.loads(private.secret_jwk_bytes())
    jwk["kid"] = "platform-enc"
    (env / "platform.jwk").write_text(json.dumps(jwk))
    opened = _invoke("envelope", "open", "--key", str(env / "platform.jwk"), str(env / "envelope.jwe"), "--json")
    assert opened["payload"] == '{"XK_XDR_MC":"济宁市某某公司"}'
    assert opened["signer_kid"] == sig_kid and len(opened["checks"]) == 4


def test_list_never_prints_private_material(env: Path) -> None:
    _invoke("keys", "generate", "--suite", "sm", "--json")
    listed = runner.invoke(app, ["keys", "list", "--json"])
    assert '"d"' not in listed.stdout and "ciphertext" not in listed.stdout


def test_missing_passphrase_is_a_clear_error(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JNX_KEY_PASSPHRASE")
    result = runner.invoke(app, ["keys", "generate"])
    assert result.exit_code != 0
    assert "JNX_KEY_PASSPHRASE" in str(result.exception)


def test_wrong_passphrase_on_rotate_is_refused(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _invoke("keys", "generate", "--use", "sig", "--json")
    monkeypatch.setenv("JNX_KEY_PASSPHRASE", "not it")
    result = runner.invoke(app, ["keys", "rotate"])
    assert result.exit_code != 0 and "passphrase" in str(result.exception)


def test_rotate_and_retire(env: Path) -> None:
    first = _invoke("keys", "generate", "--json")["keys"]
    rotated = _invoke("keys", "rotate", "--grace-days", "2", "--json")["keys"]
    states = {k["kid"]: k["state"] for k in _invoke("keys", "list", "--json")["keys"]}
    assert all(states[k["kid"]] == "grace" for k in first) and all(states[k["kid"]] == "active" for k in rotated)
    assert _invoke("keys", "retire", first[0]["kid"], "--json")["keys"][0]["state"] == "retired"


def test_audit_verify_reports_ok_and_finds_tampering(env: Path) -> None:
    import datetime as dt

    from sqlalchemy import text

    from jnx.security.audit_sql import SqlAuditStore
    from jnx.store.db import create_engine_for

    url = f"sqlite:///{env / 'home' / 'jnx.db'}"
    upgrade(url)
    engine = create_engine_for(url)
    store = SqlAuditStore(engine)
    for i in range(3):
        store.append(actor="admin", action="table.publish", subject=f"t-{i}", details={}, at=dt.datetime.now(dt.UTC))
    assert _invoke("audit", "verify", "--json")["entries"] == 3
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2"))
    engine.dispose()
    result = runner.invoke(app, ["audit", "verify", "--json"])
    assert result.exit_code != 0 and "seq 2" in str(result.exception)


# ---------------------------------------------------------------- key actions on the audit chain


def test_each_key_action_appends_one_audit_entry_and_the_chain_still_verifies(env: Path) -> None:
    generated = _invoke("keys", "generate", "--json")["keys"]
    [entry] = _audit_entries(env)
    assert (entry.action, entry.subject) == ("keys.generated", ",".join(k["kid"] for k in generated))
    assert [k["kid"] for k in entry.details["keys"]] == [k["kid"] for k in generated]

    rotated = _invoke("keys", "rotate", "--grace-days", "2", "--json")["keys"]
    entry = _audit_entries(env)[-1]
    assert len(_audit_entries(env)) == 2
    assert (entry.action, entry.subject) == ("keys.rotated", ",".join(k["kid"] for k in rotated))
    assert {g["kid"] for g in entry.details["grace"]} == {k["kid"] for k in generated}

    pem = runner.invoke(app, ["keys", "export-public", generated[1]["kid"], "--format", "pem"]).stdout
    (env / "peer.pem").write_text(pem)
    _invoke("keys", "import-peer", str(env / "peer.pem"), "--kid", "platform-enc", "--use", "enc", "--name", "信用山东", "--json")
    entry = _audit_entries(env)[-1]
    assert len(_audit_entries(env)) == 3
    assert (entry.action, entry.subject, entry.details["name"]) == ("keys.peer_imported", "platform-enc", "信用山东")

    _invoke("keys", "retire", generated[0]["kid"], "--json")
    entry = _audit_entries(env)[-1]
    assert len(_audit_entries(env)) == 4
    assert (entry.action, entry.subject, entry.details["private_key_deleted"]) == ("keys.retired", generated[0]["kid"], True)

    assert {e.actor for e in _audit_entries(env)} <= {"cli", f"cli:{getpass.getuser()}"}
    verified = _invoke("audit", "verify", "--json")
    assert verified["ok"] is True and verified["entries"] == 4


def test_the_audit_names_each_key_by_its_rfc_7638_thumbprint(env: Path) -> None:
    [key] = _invoke("keys", "generate", "--use", "enc", "--json")["keys"]
    public = json.loads(runner.invoke(app, ["keys", "export-public", key["kid"]]).stdout)
    [entry] = _audit_entries(env)
    assert entry.details["keys"][0]["thumbprint"] == jwk.JWK(**public).thumbprint()


@pytest.mark.parametrize("suite", ["jose", "sm"])
def test_no_private_key_material_or_passphrase_reaches_the_audit_chain(env: Path, suite: str) -> None:
    first = _invoke("keys", "generate", "--suite", suite, "--json")["keys"]
    rotated = _invoke("keys", "rotate", "--suite", suite, "--json")["keys"]
    store = key_store(env / "home", PASSPHRASE)
    secrets = [PASSPHRASE]
    for kid in [k["kid"] for k in first + rotated]:
        private = json.loads(store.private_key(kid).secret_jwk_bytes())
        secrets.append(private["d"])
        secrets.append(json.loads((env / "home" / "keys" / f"{kid}.key").read_text("utf-8"))["ciphertext"])
    _invoke("keys", "retire", first[0]["kid"], "--json")
    written = json.dumps([(e.actor, e.action, e.subject, dict(e.details)) for e in _audit_entries(env)], ensure_ascii=False)
    assert len(_audit_entries(env)) == 3
    assert '"d"' not in written
    for secret in secrets:
        assert secret not in written


def test_a_key_action_without_a_ready_database_changes_no_key(env: Path) -> None:
    (env / "home" / "jnx.db").unlink()
    result = runner.invoke(app, ["keys", "generate"])
    assert result.exit_code != 0 and "jnx init" in str(getattr(result.exception, "hint", ""))
    assert key_store(env / "home", PASSPHRASE).records() == []
