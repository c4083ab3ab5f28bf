"""Suite-wide rules: PostgreSQL tests may be skipped on a laptop, never on CI.

``.ci/run`` sets ``JNX_REQUIRE_POSTGRES=1``; then any skipped test marked ``postgres`` fails the
session, so a CI run cannot pass while silently leaving out the PostgreSQL half of the suite.
"""

from __future__ import annotations

import os

import pytest

_skipped_postgres: list[str] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("postgres") is not None:
        _skipped_postgres.append(item.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("JNX_REQUIRE_POSTGRES") == "1" and _skipped_postgres:
        session.exitstatus = 1
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"JNX_REQUIRE_POSTGRES=1 but {len(_skipped_postgres)} PostgreSQL test(s) were skipped, "
                f"e.g. {_skipped_postgres[0]}",
                red=True,
            )
