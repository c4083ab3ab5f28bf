"""WAL checkpoints of SQLite engines run in a thread beside the writers, not inside their commits."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from jnx.store.checkpoint import FALLBACK_PAGES
from jnx.store.db import create_engine_for, wal_checkpointer

ROW = "x" * 4000
ROWS_PER_COMMIT = 100  # ≈ 400 KB of log per commit


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'jnx.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    yield engine
    engine.dispose()


def _commit_rows(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO filler (body) VALUES (:body)"), [{"body": ROW}] * ROWS_PER_COMMIT)


def _wal_bytes(engine: Engine) -> int:
    wal = Path(engine.url.database + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_file_engines_checkpoint_in_a_thread_and_keep_only_a_fallback_in_their_commits(engine: Engine) -> None:
    checkpointer = wal_checkpointer(engine)
    assert checkpointer is not None
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == FALLBACK_PAGES
    before = checkpointer.checkpoints
    _commit_rows(engine)
    assert checkpointer.running
    assert _until(lambda before=before: checkpointer.checkpoints > before)


def test_the_log_stays_small_while_a_writer_commits_forty_megabytes(engine: Engine) -> None:
    checkpointer = wal_checkpointer(engine)
    checkpointer.interval = 0.0
    for _ in range(100):
        before = checkpointer.checkpoints
        _commit_rows(engine)
        assert _until(lambda before=before: checkpointer.checkpoints > before)
    # without the thread the log would hold every commit (the fallback is 64 MiB): ≈ 40 MB here
    assert _wal_bytes(engine) < 4 * 1024 * 1024
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM filler")).scalar() == 100 * ROWS_PER_COMMIT


def test_an_idle_checkpointer_checkpoints_everything_ends_and_the_next_commit_starts_it_again(engine: Engine) -> None:
    checkpointer = wal_checkpointer(engine)
    checkpointer.interval, checkpointer.idle = 0.0, 0.2
    _commit_rows(engine)
    assert _until(lambda: not checkpointer.running)
    with sqlite3.connect(engine.url.database) as reader:
        busy, log_frames, checkpointed = reader.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and log_frames == checkpointed  # nothing was left in the log only

    _commit_rows(engine)
    assert checkpointer.running


def test_every_committed_row_is_in_the_database_file_for_a_new_process(engine: Engine, tmp_path: Path) -> None:
    checkpointer = wal_checkpointer(engine)
    checkpointer.interval, checkpointer.idle = 0.0, 0.1
    for _ in range(5):
        _commit_rows(engine)
    assert _until(lambda: not checkpointer.running)
    engine.dispose()
    with sqlite3.connect(engine.url.database) as fresh:
        assert fresh.execute("SELECT count(*) FROM filler").fetchone() == (5 * ROWS_PER_COMMIT,)


def test_memory_databases_have_no_checkpointer() -> None:
    engine = create_engine_for("sqlite://")
    assert wal_checkpointer(engine) is None
    assert wal_checkpointer(create_engine_for("sqlite:///:memory:")) is None


def test_a_forked_child_gets_a_thread_of_its_own(engine: Engine) -> None:
    checkpointer = wal_checkpointer(engine)
    checkpointer.interval = 0.0
    _commit_rows(engine)
    assert checkpointer.running
    engine.dispose()  # connections are not shared across fork
    pid = os.fork()
    if pid == 0:  # the child: commit, and its own thread must checkpoint
        try:
            before = checkpointer.checkpoints
            _commit_rows(engine)
            os._exit(0 if _until(lambda: checkpointer.checkpoints > before) else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_database_deleted_with_its_folder_is_never_created_again_nor_warned_about(tmp_path: Path, caplog) -> None:
    folder = tmp_path / "home"
    engine = create_engine_for(f"sqlite:///{folder / 'jnx.db'}")
    checkpointer = wal_checkpointer(engine)
    checkpointer.interval, checkpointer.idle = 0.05, 0.1
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    for path in sorted(folder.iterdir(), reverse=True):
        path.unlink()
    folder.rmdir()
    assert _until(lambda: not checkpointer.running)
    assert not folder.exists()
    assert "failed" not in caplog.text


def test_after_dispose_no_checkpoint_touches_the_database_so_its_folder_can_be_deleted(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'jnx.db'}")
    checkpointer = wal_checkpointer(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()  # closes every connection: SQLite checkpoints and removes the -wal and -shm files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jnx.db"]
    before = checkpointer.checkpoints
    checkpointer._checkpoint()  # what the thread would do next (after its interval, or when idle)
    assert checkpointer.checkpoints == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jnx.db"]  # no -wal/-shm made again
    with engine.begin() as connection:  # the engine is usable again, and so is its checkpointer
        connection.execute(text("INSERT INTO t VALUES (1)"))
    checkpointer._checkpoint()
    assert checkpointer.checkpoints == before + 1
    engine.dispose()
