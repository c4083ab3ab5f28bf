"""系统 → 计划 on the demo's systems: the system's page offers the schedule form to those who may set
it (operator, system administrator) and not to a department officer (the flow itself is tested on
both databases in test_pages.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jnx.settings import Settings
from tests.web.console.test_pages import _log_in


def test_the_system_page_offers_the_schedule_form_to_an_operator_only(demo_copy: tuple[Settings, TestClient]) -> None:
    _, client = demo_copy
    _log_in(client, "fixer")
    page = client.get("/systems/jn-case-handling").text
    assert 'action="/systems/jn-case-handling/schedule"' in page and 'name="cron"' in page
    preview = client.get("/systems/jn-case-handling/schedule", params={"cron": "0 * * * *"})
    assert preview.status_code == 200 and preview.text.count(":00:00") >= 3
    client.post("/logout", data={}, follow_redirects=False)
    client.cookies.clear()
    _log_in(client, "stranger")
    assert 'name="cron"' not in client.get("/systems").text
