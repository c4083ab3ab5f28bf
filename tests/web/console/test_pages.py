"""The console's pages through an in-process client, on SQLite and PostgreSQL: the login contract,
CSRF, the department scope, and the errors page agreeing with the errors queue."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jnx.exchange import error_queue
from jnx.settings import Settings
from jnx.store.db import session_factory
from jnx.store.models import MappingErrorEntry, MappingErrorStatus, RawRecord, SourceSystem, SystemKind
from jnx.web.console import create_console_app
from tests.web.console.conftest import FIRST_PASSWORD, PASSWORD, add_user, fast_accounts

DEPT_A = "11370800004180002M"
DEPT_B = "11370800MB28500117"
NOW = dt.datetime.now(dt.UTC)


def _seed(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        for system_id, dept in (("sys-a", DEPT_A), ("sys-b", DEPT_B)):
            session.add(SourceSystem(id=system_id, department_name=f"部门{system_id}", department_credit_code=dept,
                                     region_code="370800", kind=SystemKind.CASE_HANDLING, protocol="rest",
                                     registration={"adapter": {"lines": [{"name": "primary", "url": "http://127.0.0.1:9/"}]}},
                                     mapping_name="case_handling.penalty", mapping_version="1", enabled=True))
        session.flush()
        for n in range(6):
            system_id = "sys-a" if n < 4 else "sys-b"
            raw = RawRecord(system_id=system_id, source_key=f"k{n}", record_type="penalty", content_hash=f"{n:064d}",
                            payload=b'{"cflb": "13", "name": "x"}', encoding="utf-8", received_at=NOW)
            session.add(raw)
            session.flush()
            session.add(MappingErrorEntry(raw_record_id=raw.id, system_id=system_id, mapping_name="case_handling.penalty",
                                          mapping_version="1", record_type="penalty", field="penalty_types", source_path="cflb",
                                          masked_value="13", rule="code.unknown", message="unknown code 13",
                                          group_key=("a" if system_id == "sys-a" else "b") * 64,
                                          status=MappingErrorStatus.OPEN, created_at=NOW))


@pytest.fixture
def client(migrated_engine: Engine, database_url: str, tmp_path: object) -> Iterator[tuple[TestClient, Settings]]:
    _seed(migrated_engine)
    settings = Settings(home=str(tmp_path), database_url=database_url, accounts=fast_accounts())
    add_user(settings, "op", ["operator"])
    add_user(settings, "officer", ["department-officer"], DEPT_A)
    app = create_console_app(settings, engine=migrated_engine, environment={})
    with TestClient(app) as test_client:
        yield test_client, settings


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _log_in(client: TestClient, username: str) -> None:
    answer = client.post("/login", data={"username": username, "password": FIRST_PASSWORD}, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/password")
    form = client.get("/password")
    assert 'name="new_password"' in form.text and 'name="confirm_password"' in form.text
    changed = client.post("/password", data={"csrf_token": _csrf(form.text), "new_password": PASSWORD,
                                             "confirm_password": PASSWORD}, follow_redirects=False)
    assert (changed.status_code, changed.headers["location"]) == (303, "/")


def test_login_is_a_form_with_username_password_and_a_submit_button(client: tuple[TestClient, Settings]) -> None:
    test_client, _ = client
    assert test_client.get("/", follow_redirects=False).headers["location"] == "/login"
    page = test_client.get("/login").text
    for part in ('name="username"', 'name="password"', 'type="submit"', 'action="/login"'):
        assert part in page
    wrong = test_client.post("/login", data={"username": "op", "password": "nope"})
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    assert "Traceback" not in wrong.text


def test_pages_wait_until_the_first_password_is_changed(client: tuple[TestClient, Settings]) -> None:
    test_client, _ = client
    test_client.post("/login", data={"username": "op", "password": FIRST_PASSWORD})
    assert test_client.get("/errors", follow_redirects=False).headers["location"] == "/password"
    mismatch = test_client.post("/password", data={"csrf_token": _csrf(test_client.get("/password").text),
                                                   "new_password": PASSWORD, "confirm_password": PASSWORD + "x"})
    assert mismatch.status_code == 422


def test_a_post_without_the_sessions_csrf_token_is_refused(client: tuple[TestClient, Settings]) -> None:
    test_client, _ = client
    _log_in(test_client, "op")
    refused = test_client.post("/errors/ignore", data={"group": "a" * 64, "reason": "x", "csrf_token": "forged"})
    assert refused.status_code == 400
    assert test_client.get("/errors/group/" + "a" * 64).text.count('data-col="id"') == 4  # nothing was ignored


def test_overview_and_errors_show_every_system_and_the_queues_groups(client: tuple[TestClient, Settings],
                                                                     migrated_engine: Engine) -> None:
    test_client, _ = client
    _log_in(test_client, "op")
    overview = test_client.get("/").text
    assert "sys-a" in overview and "sys-b" in overview
    errors = test_client.get("/errors").text
    with session_factory(migrated_engine)() as session:
        groups = error_queue.groups(session)
    cells = re.findall(r'data-col="system">(?:<a [^>]+>)?([^<]+)<.*?data-col="records"><a [^>]+>(\d+)<', errors, re.S)
    assert cells == [(g.system, str(g.records)) for g in groups]


def test_ignoring_a_group_asks_first_with_the_count_then_audits(client: tuple[TestClient, Settings],
                                                                 migrated_engine: Engine) -> None:
    test_client, _ = client
    _log_in(test_client, "op")
    confirm = test_client.get("/errors/ignore", params={"group": "a" * 64})
    assert 'data-touches="4"' in confirm.text
    done = test_client.post("/errors/ignore", data={"group": "a" * 64, "reason": "旧代码，已线下处理", "csrf_token": _csrf(confirm.text)},
                            follow_redirects=False)
    assert done.status_code == 303
    with session_factory(migrated_engine)() as session:
        assert [g.system for g in error_queue.groups(session)] == ["sys-b"]
        from sqlalchemy import select

        from jnx.store.models import AuditEntry

        actions = [(a.actor, a.action) for a in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert ("op", "errors.ignored") in actions


def test_a_department_officer_sees_only_its_departments_rows(client: tuple[TestClient, Settings]) -> None:
    test_client, _ = client
    _log_in(test_client, "officer")
    overview = test_client.get("/").text
    assert "sys-a" in overview and "sys-b" not in overview
    errors = test_client.get("/errors").text
    assert "sys-a" in errors and "sys-b" not in errors
    assert test_client.get("/errors/group/" + "b" * 64).text.count('data-col="id"') == 0
    assert test_client.get("/errors/ignore", params={"system": "sys-b"}).status_code == 404
    exported = test_client.get("/errors", params={"format": "csv"}).text
    assert "sys-a" in exported and "sys-b" not in exported


def _add_date_error(engine: Engine) -> int:
    """One more open error of sys-a, of another rule: a filter by rule leaves it alone."""
    with session_factory(engine).begin() as session:
        raw = RawRecord(system_id="sys-a", source_key="d1", record_type="penalty", content_hash="d" * 64,
                        payload=b'{"jdrq": "2026-13-01"}', encoding="utf-8", received_at=NOW)
        session.add(raw)
        session.flush()
        entry = MappingErrorEntry(raw_record_id=raw.id, system_id="sys-a", mapping_name="case_handling.penalty", mapping_version="1",
                                  record_type="penalty", field="decision_date", source_path="jdrq", masked_value="2026-13-01",
                                  rule="date.format", message="not a date", group_key="c" * 64, status=MappingErrorStatus.OPEN,
                                  created_at=NOW)
        session.add(entry)
        session.flush()
        return entry.id


def _open_by_group(engine: Engine) -> dict[str, int]:
    with session_factory(engine)() as session:
        return {g.group[:1]: g.errors for g in error_queue.groups(session)}


def test_bulk_ignore_acts_on_the_groups_a_filter_shows(client: tuple[TestClient, Settings], migrated_engine: Engine) -> None:
    test_client, _ = client
    _add_date_error(migrated_engine)
    _log_in(test_client, "op")
    filtered = test_client.get("/errors", params={"rule": "code.unknown"}).text
    assert "data-bulk" in filtered and 'href="/errors/ignore?rule=code.unknown"' in filtered
    assert "data-bulk" not in test_client.get("/errors").text  # no filter, no bulk action
    confirm = test_client.get("/errors/ignore", params={"rule": "code.unknown"})
    assert 'data-touches="6"' in confirm.text and 'name="rule" value="code.unknown"' in confirm.text
    done = test_client.post("/errors/ignore", data={"rule": "code.unknown", "reason": "代码表已更新前的旧数据",
                                                    "csrf_token": _csrf(confirm.text)}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/errors?rule=code.unknown")
    assert _open_by_group(migrated_engine) == {"c": 1}  # the date error is not of the rule: still open
    with session_factory(migrated_engine)() as session:
        from sqlalchemy import select

        from jnx.store.models import AuditEntry

        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "errors.ignored")).one()
    assert (entry.actor, entry.subject, entry.details["count"], entry.details["rule"]) == ("op", "rule:code.unknown", 6, "code.unknown")


def test_a_department_officers_bulk_action_touches_its_own_systems_only(client: tuple[TestClient, Settings],
                                                                        migrated_engine: Engine) -> None:
    test_client, _ = client
    _add_date_error(migrated_engine)
    _log_in(test_client, "officer")
    confirm = test_client.get("/errors/ignore", params={"rule": "code.unknown"})
    assert 'data-touches="4"' in confirm.text  # sys-a's four, not sys-b's two
    both = test_client.get("/errors/ignore", params={"rule": "code.unknown", "system": "sys-a"})
    assert 'data-touches="4"' in both.text
    test_client.post("/errors/ignore", data={"rule": "code.unknown", "reason": "x", "csrf_token": _csrf(confirm.text)})
    assert _open_by_group(migrated_engine) == {"b": 2, "c": 1}


def test_a_schedule_is_previewed_with_its_next_runs_then_set_and_audited(client: tuple[TestClient, Settings],
                                                                          migrated_engine: Engine) -> None:
    test_client, _ = client
    _log_in(test_client, "op")
    preview = test_client.get("/systems/sys-a/schedule", params={"cron": " 30  2 * * * "})
    assert preview.status_code == 200 and 'data-touches="1"' in preview.text
    assert 'data-figure="after">30 2 * * *<' in preview.text and preview.text.count("02:30:00") == 3  # China time
    wrong = test_client.get("/systems/sys-a/schedule", params={"cron": "every day"})
    assert wrong.status_code == 400 and "cron expression of 5 fields" in wrong.text
    with session_factory(migrated_engine)() as session:
        row = session.get(SourceSystem, "sys-a")
        assert row is not None and row.schedule_cron is None  # the preview changed nothing
    done = test_client.post("/systems/sys-a/schedule", data={"cron": "30 2 * * *", "csrf_token": _csrf(preview.text)},
                            follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/systems/sys-a")
    with session_factory(migrated_engine)() as session:
        from sqlalchemy import select

        from jnx.store.models import AuditEntry

        row = session.get(SourceSystem, "sys-a")
        assert row is not None and row.schedule_cron == "30 2 * * *" and row.registration["schedule"] == "30 2 * * *"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "system.schedule_set")).one()
    assert (entry.actor, entry.subject, entry.details["before"], entry.details["after"]) == ("op", "system:sys-a", None, "30 2 * * *")
    same = test_client.get("/systems/sys-a/schedule", params={"cron": "30 2 * * *"})
    assert 'data-touches="0"' in same.text  # nothing to change: the button is disabled


def test_a_department_officer_cannot_change_a_schedule(client: tuple[TestClient, Settings]) -> None:
    test_client, _ = client
    _log_in(test_client, "officer")
    assert test_client.get("/systems/sys-a/schedule", params={"cron": "30 2 * * *"}).status_code == 403
