"""Engines, sessions and schema upgrades for the jnx database (SQLite or PostgreSQL).

* :func:`create_engine_for` — the one place engines are made. SQLite: the folder is created, WAL,
  ``foreign_keys=ON``, a busy timeout, transactions begun by jnx itself (``BEGIN``, or
  ``BEGIN IMMEDIATE`` for the single-writer path of :mod:`jnx.store.leases`), and WAL
  checkpoints by a thread after commits (:mod:`jnx.store.checkpoint`). PostgreSQL: psycopg
  3, a bounded pool with pre-ping and a connect timeout.
* :func:`session_factory` — ORM sessions that keep loaded values after commit.
* :func:`upgrade` / :func:`current_revision` / :func:`head_revision` — Alembic with the migrations
  packaged in ``jnx/store/migrations``; no ``alembic.ini`` needed at run time.
* :func:`storage_errors` — SQLAlchemy errors become :mod:`jnx.store.errors`, with the URL's
  password masked and no SQL parameters in the message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from jnx.errors import ConfigError, JnxError, StorageError
from jnx.store.checkpoint import FALLBACK_PAGES, WalCheckpointer
from jnx.store.errors import (
    ConstraintViolationError,
    DatabaseLockedError,
    DatabaseUnavailableError,
    SchemaNotReadyError,
)

_checkpointers: weakref.WeakKeyDictionary[Engine, WalCheckpointer] = weakref.WeakKeyDictionary()

_COMMITTED = "jnx_committed"

MIGRATIONS = Path(__file__).with_name("migrations")

#: Execution option read by the SQLite ``begin`` hook: ``"IMMEDIATE"`` takes the write lock up front.
SQLITE_BEGIN = "jnx_sqlite_begin"

UpgradeAction = Literal["created", "upgraded", "current"]


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***`` — the only form that goes into messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "<unparseable database URL>"


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)  # money stays exact: "12.500000", never a float
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot store {type(value).__name__} in a JSON column")


def affected(result: Any) -> int:
    """The rows an UPDATE or DELETE touched (``rowcount`` of its cursor result; 0 when unknown)."""
    return int(getattr(result, "rowcount", 0) or 0)


def dumps_json(value: Any) -> str:
    """JSON as stored: Chinese kept readable, Decimals and dates as strings, keys in given order."""
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def create_engine_for(
    url: str | URL,
    *,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
    connect_timeout: int = 10,
    busy_timeout_ms: int = 10_000,
    echo: bool = False,
) -> Engine:
    """An engine for ``url``, configured the jnx way for its backend (see the module docstring)."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError as exc:
        raise ConfigError(
            f"not a database URL: {exc}", hint="use sqlite:///path/jnx.db or postgresql+psycopg://user@host/db"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, busy_timeout_ms=busy_timeout_ms, echo=echo)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_pre_ping=True,
            connect_args={"connect_timeout": connect_timeout, "application_name": "jnx"},
            json_serializer=dumps_json,
            echo=echo,
        )
    raise ConfigError(f"unsupported database {backend!r} in {mask_url(parsed)}", hint="jnx runs on SQLite or PostgreSQL")


def ensure_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists: a SQLite database holds raw records with
    ID numbers, and SQLite gives its -wal and -shm files the mode of the database file."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return


def _sqlite_engine(url: URL, *, busy_timeout_ms: int, echo: bool) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            ensure_private_file(Path(database).expanduser())
        except OSError as exc:
            raise ConfigError(
                f"cannot create the folder of {mask_url(url)}: {exc.strerror}",
                hint="choose a writable folder with JNX_HOME or JNX_DATABASE_URL",
            ) from exc
    engine = create_engine(url, json_serializer=dumps_json, echo=echo, connect_args={"timeout": busy_timeout_ms / 1000})
    checkpointer = None
    if database and database != ":memory:" and not database.startswith("file:"):
        checkpointer = WalCheckpointer(Path(database).expanduser(), busy_timeout_ms=busy_timeout_ms)
        _checkpointers[engine] = checkpointer

        @event.listens_for(engine, "commit")
        def _on_commit(connection: Connection) -> None:
            connection.connection.info[_COMMITTED] = True  # this event comes before the COMMIT itself

        @event.listens_for(engine, "connect")
        def _on_connect_count(_dbapi_connection: Any, _record: Any) -> None:
            checkpointer.opened()

        @event.listens_for(engine, "close")
        def _on_close(_dbapi_connection: Any, _record: Any) -> None:
            checkpointer.closed()

        @event.listens_for(engine, "close_detached")
        def _on_close_detached(_dbapi_connection: Any) -> None:
            checkpointer.closed()

        @event.listens_for(engine, "checkin")
        def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
            if record is not None and record.info.pop(_COMMITTED, False):  # the commit has landed
                checkpointer.committed()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # jnx emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if checkpointer is not None:  # a thread checkpoints; the writers only past the fallback
            cursor.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
            raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def wal_checkpointer(engine: Engine) -> WalCheckpointer | None:
    """The thread-backed WAL checkpointer of a SQLite file engine (None for others)."""
    return _checkpointers.get(engine)


def session_factory(engine: Engine, *, immediate: bool = False) -> sessionmaker[Session]:
    """ORM sessions bound to ``engine``; objects keep their values after commit.

    ``immediate=True``: on SQLite each transaction takes the write lock at ``BEGIN`` (waiting up to
    the busy timeout). Use it for transactions that read then write while other writers run: a
    deferred SQLite transaction that must upgrade to writing fails at once with "database is
    locked" instead of waiting. No effect on PostgreSQL.
    """
    bind = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) if immediate else engine
    return sessionmaker(bind, expire_on_commit=False)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that will write: ``BEGIN IMMEDIATE`` on SQLite; errors translated."""
    with storage_errors(engine.url), engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        with connection.begin():
            yield connection


def _driver_message(exc: sa_exc.SQLAlchemyError, url: str | URL) -> str:
    """The driver's first line: no SQL, no parameters (they may hold personal data), no password."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc).split("\n[SQL:")[0]
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    try:
        password = make_url(url).password
    except sa_exc.ArgumentError:
        password = None
    return first.replace(str(password), "***") if password else first


_UNREACHABLE_HINTS = (
    ("does not exist", "create the database first (e.g. `createdb NAME`) or fix JNX_DATABASE_URL"),
    ("authentication failed", "check the user and password in JNX_DATABASE_URL"),
    ("unable to open", "check that the folder of the SQLite file exists and is writable (JNX_HOME)"),
)


def translate(exc: sa_exc.SQLAlchemyError, url: str | URL) -> JnxError:
    """The jnx error for a SQLAlchemy error on the database at ``url`` (raise it ``from exc``)."""
    where = mask_url(url)
    message = _driver_message(exc, url)
    lowered = message.lower()
    if isinstance(exc, sa_exc.IntegrityError):
        orig = getattr(exc, "orig", None)
        constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
        return ConstraintViolationError(f"{where}: {message}", constraint=constraint)
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return SchemaNotReadyError(f"{where} has no jnx tables ({message})")
    if any(word in lowered for word in ("database is locked", "database table is locked", "busy", "deadlock", "could not obtain lock", "lock timeout")):
        return DatabaseLockedError(f"{where} is locked: {message}", hint="another writer holds it; retry shortly")
    if isinstance(exc, sa_exc.OperationalError) and any(
        word in lowered for word in ("connect", "unable to open", "authentication", "database")
    ):
        hint = next((h for key, h in _UNREACHABLE_HINTS if key in lowered), None)
        return DatabaseUnavailableError(
            f"cannot reach {where}: {message}",
            hint=hint or "check that the database server is running and JNX_DATABASE_URL is right",
        )
    if isinstance(exc, sa_exc.TimeoutError):
        return StorageError(f"{where}: no free connection in the pool ({message})", hint="reduce workers or raise pool_size")
    return StorageError(f"{where}: {message}")


@contextmanager
def storage_errors(url: str | URL) -> Iterator[None]:
    """Translate SQLAlchemy errors raised inside the block into jnx errors.

    A statement jnx itself got wrong before it reached the database (e.g. a naive datetime bound to
    an instant column) is a bug, not a storage failure: it is left as it is, never made "transient".
    """
    try:
        yield
    except sa_exc.StatementError as exc:
        if not isinstance(exc, sa_exc.DBAPIError):
            raise
        raise translate(exc, url) from exc
    except sa_exc.SQLAlchemyError as exc:
        raise translate(exc, url) from exc


def migrations_config() -> Config:
    """A programmatic Alembic config over the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision this jnx knows."""
    head = ScriptDirectory.from_config(migrations_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise SchemaNotReadyError("no migrations are packaged with this jnx")
    return head


def _revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current_revision(url: str | URL) -> str | None:
    """The database's revision, or ``None`` when it has never been initialised."""
    engine = create_engine_for(url, pool_size=1, max_overflow=0)
    try:
        with storage_errors(url), engine.connect() as connection:
            return _revision_of(connection)
    finally:
        engine.dispose()


def require_current(engine: Engine) -> None:
    """Refuse to work on a database that is not at :func:`head_revision`."""
    with storage_errors(engine.url), engine.connect() as connection:
        revision = _revision_of(connection)
    if revision != head_revision():
        raise SchemaNotReadyError(
            f"{mask_url(engine.url)} is at revision {revision or 'none'}, this jnx needs {head_revision()}"
        )


@dataclasses.dataclass(frozen=True, slots=True)
class UpgradeResult:
    database: str  # masked URL
    from_revision: str | None
    revision: str
    action: UpgradeAction


def upgrade(url: str | URL, revision: str = "head") -> UpgradeResult:
    """Create or upgrade the database at ``url`` to ``revision``; safe to run twice."""
    engine = create_engine_for(url, pool_size=1, max_overflow=0)
    config = migrations_config()
    try:
        with storage_errors(url), engine.begin() as connection:
            before = _revision_of(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            after = _revision_of(connection)
    finally:
        engine.dispose()
    if after is None:  # pragma: no cover - alembic always stamps
        raise SchemaNotReadyError(f"{mask_url(url)}: the upgrade left no revision")
    action: UpgradeAction = "current" if before == after else "created" if before is None else "upgraded"
    return UpgradeResult(database=mask_url(url), from_revision=before, revision=after, action=action)
