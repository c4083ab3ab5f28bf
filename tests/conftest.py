"""Suite-wide rules and the database fixtures.

PostgreSQL tests may be skipped on a laptop, never on CI: ``.ci/run`` sets ``JNX_REQUIRE_POSTGRES=1``;
then any skipped test marked ``postgres`` fails the session, so a CI run cannot pass while silently
leaving out the PostgreSQL half of the suite. The same for the console's browser tests (marked
``browser``, skipped without Debian's ``/usr/bin/chromium``): ``JNX_REQUIRE_BROWSER=1``.

Database fixtures (each test runs once on SQLite and once on PostgreSQL):

``database_url``
    URL of a fresh database of this test alone, already migrated to the newest revision. SQLite: a
    copy of a migrated template file in ``tmp_path``. PostgreSQL: ``CREATE DATABASE … TEMPLATE`` from
    a template migrated once per session on the server of ``JNX_TEST_DATABASE_URL`` (e.g.
    ``postgresql+psycopg://postgres@127.0.0.1:5432/test``), dropped after the test. The ``postgres``
    case is marked ``postgres`` and skipped when that variable is unset.
``empty_database_url``
    The same, with no tables at all (for migration and ``jnx init`` tests).
``migrated_engine``
    An engine (:func:`jnx.store.db.create_engine_for`) on ``database_url``, disposed afterwards.

Use ``migrated_engine`` for most tests; ``database_url`` when the code under test makes its own
engine (other processes, the CLI). To run one backend only: ``-k sqlite`` or ``-k postgres``.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from jnx.store.db import create_engine_for, upgrade

_skipped_postgres: list[str] = []
_skipped_browser: list[str] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("postgres") is not None:
        _skipped_postgres.append(item.nodeid)
    if report.skipped and item.get_closest_marker("browser") is not None:
        _skipped_browser.append(item.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("JNX_REQUIRE_BROWSER") == "1" and _skipped_browser:
        session.exitstatus = 1
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"JNX_REQUIRE_BROWSER=1 but {len(_skipped_browser)} browser test(s) were skipped, e.g. {_skipped_browser[0]}",
                red=True,
            )
    if os.environ.get("JNX_REQUIRE_POSTGRES") == "1" and _skipped_postgres:
        session.exitstatus = 1
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"JNX_REQUIRE_POSTGRES=1 but {len(_skipped_postgres)} PostgreSQL test(s) were skipped, "
                f"e.g. {_skipped_postgres[0]}",
                red=True,
            )


# --- database fixtures -------------------------------------------------------------------------

BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "jnx.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_admin() -> Iterator[Engine]:
    base = os.environ.get("JNX_TEST_DATABASE_URL")
    if not base:
        pytest.skip("JNX_TEST_DATABASE_URL is not set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    yield admin
    admin.dispose()


def _create_database(admin: Engine, template: str | None = None) -> str:
    name = f"jnx_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    return name


def _drop_database(admin: Engine, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _postgres_url(admin: Engine, name: str) -> str:
    return make_url(admin.url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _postgres_template(_postgres_admin: Engine) -> Iterator[str]:
    name = _create_database(_postgres_admin)
    try:
        upgrade(_postgres_url(_postgres_admin, name))
        yield name
    finally:
        _drop_database(_postgres_admin, name)


def _join_background_jobs(timeout: float = 30.0) -> None:
    """Let the API's job threads (jnx.services.jobs) end before their database goes: a test that has seen
    a job finished may still have its thread returning the last connection (dropped under it, that
    connection is garbage-collected open — a ResourceWarning in some later test)."""
    for thread in threading.enumerate():
        if thread.name.startswith("job-") and thread is not threading.current_thread():
            thread.join(timeout)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of this test alone (see the module docstring)."""
    if request.param == "sqlite":
        path = tmp_path / "jnx.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    admin: Engine = request.getfixturevalue("_postgres_admin")
    name = _create_database(admin, template=request.getfixturevalue("_postgres_template"))
    try:
        yield _postgres_url(admin, name)
    finally:
        _join_background_jobs()
        _drop_database(admin, name)


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test alone with no tables (see the module docstring)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jnx.db'}"
        return
    admin: Engine = request.getfixturevalue("_postgres_admin")
    name = _create_database(admin)
    try:
        yield _postgres_url(admin, name)
    finally:
        _drop_database(admin, name)


@pytest.fixture
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """An engine on ``database_url``; disposed after the test."""
    engine = create_engine_for(database_url)
    yield engine
    _join_background_jobs()
    engine.dispose()
