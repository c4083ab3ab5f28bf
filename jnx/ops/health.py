"""Health: ``/healthz`` (the process is alive) and ``/readyz`` (it can do its work).

Readiness is three checks, each on a fresh connection so that what a load balancer or Kubernetes
hears is what a new request would meet, not what a pooled connection remembers:

* ``database`` — the database answers ``SELECT 1`` (SQLite: the file opens read-write and is not
  created when missing; PostgreSQL: a new connection within the connect timeout);
* ``schema`` — its Alembic revision is the one this jnx needs (``jnx init`` upgrades it);
* ``keys`` — the key store's index reads, and when jnx holds private keys the passphrase opens one
  (a process that must sign and cannot is not ready). The passphrase check is remembered while the
  index file stays the same, so a probe every few seconds does not run scrypt each time.

All three run in a helper thread with a deadline (:data:`READY_TIMEOUT`): a database that does not
answer in time is "not ready", never a probe that hangs.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from jnx import __version__

READY_TIMEOUT = 5.0  # seconds a readiness probe waits for its checks
CONNECT_TIMEOUT = 3  # seconds a PostgreSQL connection of the probe may take


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """One readiness check: its name, whether it passed, and what it found (never a secret)."""

    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclasses.dataclass(frozen=True, slots=True)
class Readiness:
    checks: tuple[Check, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {"status": "ready" if self.ok else "not ready", "version": __version__,
                "checks": [c.as_dict() for c in self.checks], "seconds": round(self.seconds, 3)}


def liveness() -> dict[str, str]:
    """What ``/healthz`` answers: the process runs and serves HTTP."""
    return {"status": "alive", "version": __version__}


@functools.lru_cache(maxsize=1)
def _head() -> str:
    from jnx.store.db import head_revision

    return head_revision()


def probe_url(url: str | URL) -> URL:
    """The URL a probe connects with: SQLite read-write without creating a missing file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not parsed.database.startswith("file:"):
        path = Path(parsed.database).expanduser().resolve()
        return parsed.set(database=f"file:{path}?mode=rw", query={**parsed.query, "uri": "true"})
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def _probe_engine(url: URL) -> Engine:
    if url.get_backend_name() == "postgresql":
        return create_engine(url, poolclass=NullPool,
                             connect_args={"connect_timeout": CONNECT_TIMEOUT, "application_name": "jnx-readyz"})
    return create_engine(url, poolclass=NullPool, connect_args={"timeout": 1.0})


def _driver_text(exc: BaseException) -> str:
    """The driver's first line, with the URL's password (if any) never in it."""
    from jnx.adapters.lines import scrub_credentials

    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return scrub_credentials(first)[:300]


class KeyStoreCheck:
    """Whether the key store under ``folder`` opens with ``passphrase`` (see the module docstring)."""

    def __init__(self, folder: Path, passphrase: str | None) -> None:
        self.folder = folder
        self.passphrase = passphrase
        self._opened: tuple[int, int] | None = None  # (mtime_ns, size) of the index the passphrase opened
        self._lock = threading.Lock()

    def __call__(self) -> Check:
        from jnx.errors import JnxError
        from jnx.security.keystore import FileKeyStore, KeyOwner, KeyState

        store = FileKeyStore(self.folder, self.passphrase)
        try:
            records = store.records()
        except JnxError as exc:
            return Check("keys", False, str(exc))
        private = [r for r in records if r.owner is KeyOwner.JNX and r.state is not KeyState.RETIRED]
        if not private:
            return Check("keys", True, f"{len(records)} key(s), none of jnx's own to open")
        if not self.passphrase:
            return Check("keys", False, f"{len(private)} private key(s) of jnx and no passphrase to open them "
                                        "(set the variable JNX_KEY_PASSPHRASE_ENV names)")
        index = self.folder / "index.json"
        try:
            stat = index.stat()
        except OSError as exc:
            return Check("keys", False, f"cannot read {index}: {exc.strerror}")
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._opened == stamp:
                return Check("keys", True, f"{len(private)} private key(s) open with the passphrase")
            try:
                store.private_key(private[0].kid)
            except JnxError as exc:
                return Check("keys", False, str(exc))
            self._opened = stamp
        return Check("keys", True, f"{len(private)} private key(s) open with the passphrase")


class ReadinessProbe:
    """The checks of ``/readyz`` for one database and key store; thread-safe, reused per request."""

    def __init__(self, url: str | URL, keys: Callable[[], Check] | None, *, timeout: float = READY_TIMEOUT) -> None:
        self.url = probe_url(url)
        self.keys = keys
        self.timeout = timeout
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="jnx-readyz")

    @staticmethod
    def _revision(connection: Any) -> str | None:
        """The Alembic revision (read directly: alembic's MigrationContext logs two lines per probe)."""
        from sqlalchemy import inspect

        if not inspect(connection).has_table("alembic_version"):
            return None
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        return str(found[0]) if len(found) == 1 else None

    def _database(self) -> list[Check]:
        engine = _probe_engine(self.url)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                revision = self._revision(connection)
        except Exception as exc:  # noqa: BLE001 - any driver failure is "not ready", said in its words
            return [Check("database", False, f"does not answer: {_driver_text(exc)}"),
                    Check("schema", False, "not checked: the database does not answer")]
        finally:
            engine.dispose()
        head = _head()
        database = Check("database", True, f"{self.url.get_backend_name()} answers")
        if revision != head:
            return [database, Check("schema", False, f"at revision {revision or 'none'}, this jnx needs {head} "
                                                     "(run `jnx init` to upgrade)")]
        return [database, Check("schema", True, f"at revision {head}")]

    def __call__(self) -> Readiness:
        started = time.monotonic()
        database = self._pool.submit(self._database)
        keys = self._pool.submit(self.keys) if self.keys is not None else None
        checks: list[Check] = []
        try:
            checks += database.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            checks += [Check("database", False, f"no answer within {self.timeout:g} s"),
                       Check("schema", False, "not checked: the database does not answer")]
        if keys is not None:
            left = max(self.timeout - (time.monotonic() - started), 0.1)
            try:
                checks.append(keys.result(timeout=left))
            except concurrent.futures.TimeoutError:
                checks.append(Check("keys", False, f"the key store did not open within {self.timeout:g} s"))
        return Readiness(tuple(checks), time.monotonic() - started)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def readiness_probe(database_url: str | URL, home: Path, passphrase: str | None) -> ReadinessProbe:
    """The probe of a jnx home: its database, and its key store (``<home>/keys``) with ``passphrase``."""
    return ReadinessProbe(database_url, KeyStoreCheck(home / "keys", passphrase))
