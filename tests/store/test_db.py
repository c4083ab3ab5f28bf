"""Engines, error translation and schema checks of jnx.store.db."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import StatementError

from jnx.errors import ConfigError, StorageError, TransientError
from jnx.store.db import (
    create_engine_for,
    current_revision,
    head_revision,
    mask_url,
    require_current,
    session_factory,
    storage_errors,
    write_transaction,
)
from jnx.store.errors import (
    ConstraintViolationError,
    DatabaseLockedError,
    DatabaseUnavailableError,
    SchemaNotReadyError,
)
from jnx.store.models import Run


def test_mask_url_hides_the_password_only() -> None:
    assert mask_url("postgresql+psycopg://jnx:s3cr%40t@db.local:5432/jnx") == "postgresql+psycopg://jnx:***@db.local:5432/jnx"
    assert mask_url("sqlite:////var/lib/jnx/jnx.db") == "sqlite:////var/lib/jnx/jnx.db"
    assert mask_url("::::") == "<unparseable database URL>"


def test_sqlite_engine_creates_its_folder_and_sets_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'a' / 'b' / 'jnx.db'}", busy_timeout_ms=1234)
    try:
        with engine.connect() as connection:
            pragmas = [connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("journal_mode", "foreign_keys", "busy_timeout")]
    finally:
        engine.dispose()
    assert pragmas == ["wal", 1, 1234]
    assert (tmp_path / "a" / "b" / "jnx.db").exists()


def test_sqlite_transactions_are_real_and_roll_back(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'jnx.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
        with pytest.raises(RuntimeError), engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("abort")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0
    finally:
        engine.dispose()


def test_a_second_writer_is_told_the_database_is_locked_after_the_busy_timeout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jnx.db'}"
    holder, waiter = create_engine_for(url), create_engine_for(url, busy_timeout_ms=100)
    held, done = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with write_transaction(holder):
            held.set()
            done.wait(10)

    thread = threading.Thread(target=hold_the_lock)
    thread.start()
    try:
        held.wait(10)
        with pytest.raises(DatabaseLockedError) as locked, write_transaction(waiter):
            pass
    finally:
        done.set()
        thread.join()
        holder.dispose()
        waiter.dispose()
    assert isinstance(locked.value, TransientError)
    assert "is locked" in str(locked.value)


def test_an_unreachable_postgres_is_a_transient_error_with_a_hint_and_no_password() -> None:
    url = "postgresql+psycopg://jnx:topsecret@127.0.0.1:9/jnx"  # port 9 (discard): nothing listens
    with pytest.raises(DatabaseUnavailableError) as unreachable:
        current_revision(url)
    error = unreachable.value
    assert isinstance(error, StorageError) and isinstance(error, TransientError)
    assert "topsecret" not in str(error) and "jnx:***@127.0.0.1:9/jnx" in str(error)
    assert error.hint and "JNX_DATABASE_URL" in error.hint


@pytest.mark.parametrize("url", ["mysql://jnx@localhost/jnx", "not a url"])
def test_urls_jnx_cannot_use_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        create_engine_for(url)


def test_a_constraint_violation_is_permanent_and_shows_no_parameters(migrated_engine: Engine) -> None:
    insert = text(
        "INSERT INTO audit_entries (at, actor, action, subject, details, prev_hash, hash) "
        "VALUES ('2026-01-01 00:00:00', 'ops', 'register', :subject, '{}', '', 'h1')"
    )
    with pytest.raises(ConstraintViolationError) as violated, storage_errors(migrated_engine.url), migrated_engine.begin() as connection:
        connection.execute(insert, {"subject": "370811199002150027"})
        connection.execute(insert, {"subject": "370811199002150027"})
    assert "370811199002150027" not in str(violated.value)
    assert "hash" in str(violated.value)


def test_tables_missing_is_schema_not_ready_with_the_init_hint(empty_database_url: str) -> None:
    engine = create_engine_for(empty_database_url)
    try:
        with pytest.raises(SchemaNotReadyError) as missing, storage_errors(empty_database_url), engine.connect() as connection:
            connection.execute(text("SELECT count(*) FROM runs"))
        with pytest.raises(SchemaNotReadyError, match="revision none"):
            require_current(engine)
    finally:
        engine.dispose()
    assert missing.value.hint is not None and "jnx init" in missing.value.hint


def test_a_migrated_database_is_current(migrated_engine: Engine, database_url: str) -> None:
    require_current(migrated_engine)
    assert current_revision(database_url) == head_revision()


def test_a_bug_in_a_statement_is_not_disguised_as_a_transient_storage_error(migrated_engine: Engine) -> None:
    with pytest.raises(StatementError, match="naive datetime"), storage_errors(migrated_engine.url), migrated_engine.connect() as connection:
        connection.execute(select(Run.id).where(Run.due_at < dt.datetime(2026, 1, 1)))


def test_an_immediate_session_holds_the_sqlite_write_lock_from_its_first_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jnx.db'}"
    engine, other = create_engine_for(url), create_engine_for(url, busy_timeout_ms=100)
    try:
        with session_factory(engine, immediate=True)() as session:
            session.execute(text("SELECT 1"))
            with pytest.raises(DatabaseLockedError), write_transaction(other) as connection:
                connection.execute(text("SELECT 1"))
        with write_transaction(other) as connection:  # lock released with the session
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
        other.dispose()


def test_a_postgres_row_lock_past_lock_timeout_is_a_locked_database(migrated_engine: Engine) -> None:
    if migrated_engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite's database lock is tested above")
    with migrated_engine.begin() as connection:
        connection.execute(
            text("INSERT INTO keys (kid, owner, use, suite, algorithm, public_jwk, state, created_at) "
                 "VALUES ('k1', 'self', 'sig', 'jose', 'ES256', '{}', 'active', now())")
        )
    with migrated_engine.connect() as holder, holder.begin():
        holder.execute(text("SELECT kid FROM keys FOR UPDATE"))
        with pytest.raises(DatabaseLockedError) as locked, storage_errors(migrated_engine.url), migrated_engine.begin() as waiter:
            waiter.execute(text("SET LOCAL lock_timeout = '100ms'"))
            waiter.execute(text("UPDATE keys SET state = 'retired'"))
    assert isinstance(locked.value, TransientError)
