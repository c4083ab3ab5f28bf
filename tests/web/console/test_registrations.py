"""系统 → 登记: a registration file uploaded, checked with each problem at its line (nothing stored),
then saved behind the confirm step and audited — as the system administrator (who sets up TOTP first),
on a copy of the demo's database."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from jnx.security import totp
from jnx.settings import Settings
from jnx.store.db import create_engine_for, session_factory
from jnx.store.models import AuditEntry, SourceSystem
from tests.web.console.conftest import add_user
from tests.web.console.test_pages import _csrf, _log_in

EXAMPLE = Path(__file__).parents[3] / "examples" / "systems" / "licensing.yaml"


def _log_in_with_totp(client: TestClient, username: str) -> None:
    """The first login of an administrator: new password, then an authenticator set up."""
    answer = client.post("/login", data={"username": username, "password": "Jining#2026first"}, follow_redirects=False)
    assert answer.headers["location"] == "/password"
    form = client.get("/password").text
    client.post("/password", data={"csrf_token": _csrf(form), "new_password": "Jining#2026later",
                                   "confirm_password": "Jining#2026later"}, follow_redirects=False)
    begun = client.post("/totp/begin", data={"csrf_token": _csrf(client.get("/totp").text)})
    secret = re.search(r"<code data-totp-secret>([A-Z2-7]+)</code>", begun.text)
    assert secret is not None, begun.text[:500]
    done = client.post("/totp", data={"csrf_token": _csrf(begun.text), "code": totp.code_at(secret.group(1), dt.datetime.now(dt.UTC))})
    assert done.status_code == 200 and "data-recovery-codes" in done.text


def _upload(client: TestClient, name: str, content: bytes) -> str:
    page = client.get("/systems/register")
    assert page.status_code == 200
    checked = client.post("/systems/register/check", data={"csrf_token": _csrf(page.text)},
                          files={"file": (name, content, "application/yaml")})
    assert checked.status_code == 200, checked.text[:300]
    return checked.text


def test_a_registration_is_uploaded_checked_at_its_lines_then_saved(demo_copy: tuple[Settings, TestClient]) -> None:
    settings, client = demo_copy
    add_user(settings, "sysadmin2", ["system-admin"])
    _log_in_with_totp(client, "sysadmin2")
    assert 'href="/systems/register"' in client.get("/systems").text

    original = EXAMPLE.read_text(encoding="utf-8")
    assert "\nschedule:" in original and "\nregion:" in original
    broken = re.sub(r"\nschedule: .*", "\nschedule: every day at two", original, count=1)
    broken = re.sub(r"\nregion: .*", '\nregion: "99"', broken, count=1)
    lines = broken.splitlines()
    schedule_line = next(n for n, line in enumerate(lines, start=1) if line.startswith("schedule:"))
    region_line = next(n for n, line in enumerate(lines, start=1) if line.startswith("region:"))
    page = _upload(client, "new-licensing.yaml", broken.replace("id: jn-licensing", "id: jn-licensing-2").encode())
    assert 'data-check="failed"' in page
    assert {int(n) for n in re.findall(r'data-line-error="(\d+)"', page)} == {schedule_line, region_line}  # each at its line
    assert "cron expression of 5 fields" in page and "/systems/register\"" not in page.split("data-problems")[1]

    fixed = original.replace("id: jn-licensing", "id: jn-licensing-2")
    page = _upload(client, "new-licensing.yaml", fixed.encode())
    assert 'data-check="ok"' in page and "jn-licensing-2" in page and 'data-touches="1"' in page
    engine = create_engine_for(settings.effective_database_url)
    with session_factory(engine)() as session:
        assert session.get(SourceSystem, "jn-licensing-2") is None  # checking stored nothing
    saved = client.post("/systems/register", data={"csrf_token": _csrf(page), "filename": "new-licensing.yaml", "content": fixed},
                        follow_redirects=False)
    assert (saved.status_code, saved.headers["location"]) == (303, "/systems/jn-licensing-2")
    with session_factory(engine)() as session:
        assert session.get(SourceSystem, "jn-licensing-2") is not None
        entry = session.scalars(select(AuditEntry).where(AuditEntry.subject == "system:jn-licensing-2")).one()
        assert (entry.actor, entry.action, entry.details["via"]) == ("sysadmin2", "system.created", "console")
    engine.dispose()
    again = _upload(client, "new-licensing.yaml", fixed.encode())
    assert 'data-touches="0"' in again  # the same file: nothing to save


def test_an_operator_may_not_register_and_a_bad_file_is_refused(demo_copy: tuple[Settings, TestClient]) -> None:
    _, client = demo_copy
    _log_in(client, "fixer")
    assert 'href="/systems/register"' not in client.get("/systems").text
    assert client.get("/systems/register").status_code == 403
