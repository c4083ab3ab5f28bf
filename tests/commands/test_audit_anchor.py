"""The audit chain's head is anchored outside the database (signed checkpoints under the home): a cut,
an emptied table or a recomputed chain fails `jnx audit verify` without `--head`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update

from jnx.security.audit import GENESIS, entry_hash
from jnx.security.audit_anchor import ANCHOR_FILE
from jnx.security.audit_sql import _row_to_entry, audit_entries
from tests.commands.conftest import Jnx, assert_error

EXAMPLES = Path(__file__).parents[2] / "examples" / "systems"


@pytest.fixture
def audited(jnx: Jnx, db: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("JNX_KEY_PASSPHRASE", "anchor test passphrase")
    assert jnx("keys", "generate", "--use", "sig").code == 0  # audited: its checkpoint is signed by the new key
    assert jnx("systems", "register", str(EXAMPLES / "case-handling.yaml")).code == 0
    assert jnx("systems", "disable", "jn-case-handling").code == 0
    verified = jnx("audit", "verify", "--json")
    assert verified.code == 0, verified.err
    assert verified.json()["entries"] == 3 and verified.json()["checkpoints"]["signed"] == 3
    return db


def _sql(url: str, *statements: object) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(statement)  # type: ignore[call-overload]
    engine.dispose()


def test_deleting_the_last_entry_fails_verify(jnx: Jnx, audited: str) -> None:
    _sql(audited, audit_entries.delete().where(audit_entries.c.seq == 3))
    assert_error(jnx("audit", "verify"), 5, says="entries were removed", hint="restore the audit table")


def test_emptying_the_table_fails_verify(jnx: Jnx, audited: str) -> None:
    _sql(audited, audit_entries.delete())
    assert_error(jnx("audit", "verify"), 5, says="ends at seq 0")


def test_an_edited_entry_with_the_chain_recomputed_fails_verify(jnx: Jnx, audited: str) -> None:
    engine = create_engine(audited)
    with engine.begin() as connection:
        rows = [_row_to_entry(r) for r in connection.execute(select(audit_entries).order_by(audit_entries.c.seq))]
        previous = GENESIS
        for entry in rows:  # the attacker's way: change seq 2, then recompute every hash after it
            details = {**entry.details, "edited": True} if entry.seq == 2 else dict(entry.details)
            digest = entry_hash(seq=entry.seq, at=entry.at, actor=entry.actor, action=entry.action, subject=entry.subject,
                                details=details, prev_hash=previous)
            connection.execute(update(audit_entries).where(audit_entries.c.seq == entry.seq)
                               .values(details=details, prev_hash=previous, hash=digest))
            previous = digest
    engine.dispose()
    assert_error(jnx("audit", "verify"), 5, says="the chain was rewritten")


def test_an_edited_checkpoint_fails_verify(jnx: Jnx, audited: str, home: Path) -> None:
    path = home / ANCHOR_FILE
    lines = path.read_text(encoding="ascii").splitlines()
    last = json.loads(lines[-1])
    lines[-1] = json.dumps({**last, "head": "0" * 64})
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    assert_error(jnx("audit", "verify"), 5, says="does not verify")


def test_the_checkpoint_file_is_private(audited: str, home: Path) -> None:
    assert (home / ANCHOR_FILE).stat().st_mode & 0o077 == 0
