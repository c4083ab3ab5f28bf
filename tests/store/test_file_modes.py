"""The SQLite database and receiver.db hold raw records and receipts: created 0600 in a 0700 home."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from jnx.security.receiver import SqliteReceiptStore
from jnx.settings import Settings
from jnx.store.db import create_engine_for, upgrade


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_its_journal_and_the_home_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    os.umask(0o022)
    settings = Settings(home=tmp_path / "home")
    settings.ensure_home()
    engine = create_engine_for(settings.effective_database_url)
    try:
        upgrade(settings.effective_database_url)
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT count(*) FROM audit_entries").scalar()
            assert _mode(tmp_path / "home" / "jnx.db") == 0o600
            for journal in ("jnx.db-wal", "jnx.db-shm"):
                if (tmp_path / "home" / journal).exists():
                    assert _mode(tmp_path / "home" / journal) == 0o600
    finally:
        engine.dispose()
    assert _mode(tmp_path / "home") == 0o700


def test_receiver_db_is_private(tmp_path: Path) -> None:
    os.umask(0o022)
    store = SqliteReceiptStore(tmp_path / "receiver.db")
    try:
        assert _mode(tmp_path / "receiver.db") == 0o600
    finally:
        store.close()
