"""WAL checkpoints of a SQLite database file, done by a thread beside the writers.

SQLite checkpoints inside the commit that takes the write-ahead log past ``wal_autocheckpoint``
frames: that commit copies the log into the database file and syncs both, in the writer's own time
(about 15 ms for a page of 1,000 records — a tenth of a run's commit path). jnx's SQLite engines
instead let one thread per process and database do it:

* when a connection that committed goes back to the engine's pool, the thread wakes, waits
  ``interval`` seconds so that commits close together share one checkpoint, and runs ``PRAGMA wal_checkpoint(PASSIVE)`` on a connection
  of its own — PASSIVE never waits for, nor blocks, readers and writers;
* after ``idle`` seconds without a commit it checkpoints once more and ends; the next commit starts
  a new one, so an idle engine holds no thread; each checkpoint opens its own connection (``mode=rw``:
  a database deleted meanwhile is never created again) and closes it, and none starts once the
  engine has closed its last connection (``engine.dispose()`` waits for one under way);
* the engine's connections keep SQLite's own checkpoint with a higher threshold
  (:data:`FALLBACK_PAGES`): if the thread cannot keep up (a long reader pins the log) or a connection
  commits many transactions without going back to the pool, the log stays bounded as before, only in
  the writer's time.

A checkpoint only moves committed pages from the log into the database file; the log is the durable
record, so a process killed during one loses nothing (SQLite recovers from the log on next open).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

#: Pages (of 4 KiB) past which a committing connection still checkpoints itself (64 MiB of log).
FALLBACK_PAGES = 16_000


class WalCheckpointer:
    """Checkpoints ``database`` in a thread of this process after commits (see the module docstring)."""

    def __init__(self, database: str | Path, *, interval: float = 0.25, idle: float = 10.0,
                 busy_timeout_ms: int = 10_000) -> None:
        self.database = str(database)
        self.interval = interval
        self.idle = idle
        self.busy_timeout_ms = busy_timeout_ms
        self.checkpoints = 0
        """Checkpoints run so far (all threads of this checkpointer): for tests and diagnostics."""
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._open = 0  # the engine's connections open now: with none, nothing is checkpointed
        self._checkpointing = threading.Lock()  # held during a checkpoint; the last close waits for it

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None and self._thread.is_alive()

    def opened(self) -> None:
        """The engine opened a connection to the database."""
        with self._lock:
            self._open += 1

    def closed(self) -> None:
        """The engine closed one; after its last (``engine.dispose()``) no checkpoint starts, and one
        under way is waited for — the folder may be deleted next, and must stay deleted."""
        with self._lock:
            self._open = max(self._open - 1, 0)
            last = self._open == 0
        if last:
            with self._checkpointing:
                pass

    def committed(self) -> None:
        """A transaction was committed on the database: checkpoint soon."""
        self._wake.set()
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's thread is not ours
                self._pid, self._thread = os.getpid(), None
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=f"jnx-wal-checkpoint:{Path(self.database).name}",
                                                daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            if not self._wake.wait(self.idle):
                with self._lock:
                    if not self._wake.is_set():
                        self._thread = None
                        break
                continue
            time.sleep(self.interval)  # commits close together share one checkpoint
            self._wake.clear()
            self._checkpoint()
        self._checkpoint()

    def _checkpoint(self) -> None:
        """One PASSIVE checkpoint on a connection of its own, opened for it: an idle thread holds no
        file open, and a database deleted meanwhile (with its folder) is never created again."""
        with self._checkpointing:
            with self._lock:
                if self._open == 0:  # the engine is disposed: its database may be going away
                    return
            self._checkpoint_now()

    def _checkpoint_now(self) -> None:
        try:
            connection = sqlite3.connect(f"file:{quote(self.database)}?mode=rw", uri=True, isolation_level=None,
                                         timeout=self.busy_timeout_ms / 1000, check_same_thread=False)
        except sqlite3.Error:
            log.debug("WAL checkpoint of %s: the database is gone", self.database)
            return
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error as exc:  # the writers' own fallback checkpoint still bounds the log
            if os.path.exists(self.database):
                log.warning("WAL checkpoint of %s failed: %s", self.database, exc)
        finally:
            connection.close()
