"""映射表 → 发布: a new table version uploaded, checked with each problem at its line (nothing
published), then published behind the confirm step and audited — as the system administrator, on a
copy of the demo's home."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from jnx.settings import Settings
from jnx.store.db import create_engine_for, session_factory
from jnx.store.models import AuditEntry
from tests.web.console.conftest import add_user
from tests.web.console.test_pages import _csrf, _log_in
from tests.web.console.test_registrations import _log_in_with_totp

SHIPPED = Path(__file__).parents[3] / "jnx" / "mappings" / "tables" / "licensing.license" / "1.yaml"


def _upload(client: TestClient, name: str, content: str) -> str:
    page = client.get("/mappings/publish")
    assert page.status_code == 200
    checked = client.post("/mappings/publish/check", data={"csrf_token": _csrf(page.text)},
                          files={"file": (name, content.encode(), "application/yaml")})
    assert checked.status_code == 200, checked.text[:300]
    return checked.text


def test_a_table_version_is_uploaded_checked_in_place_then_published(demo_copy: tuple[Settings, TestClient]) -> None:
    settings, client = demo_copy
    add_user(settings, "tables", ["system-admin"])
    _log_in_with_totp(client, "tables")
    assert 'href="/mappings/publish"' in client.get("/mappings").text
    shipped = SHIPPED.read_text(encoding="utf-8")

    same = _upload(client, "1.yaml", shipped)
    assert 'data-check="ok"' in same and 'data-touches="0"' in same  # published with this content already
    edited = _upload(client, "1.yaml", shipped.replace("description: >", "description: >\n  Edited."))
    assert 'data-check="failed"' in edited and "published versions never change" in edited and "version: 2" in edited

    new = shipped.replace("version: 1\n", "version: 2\n", 1)
    lines = new.splitlines()
    wrong_at = next(n for n, line in enumerate(lines, start=1) if line.startswith("  party_name:"))
    broken = new.replace("  party_name: {from: sqrmc, do: [clean, cn_parens]}", "  party_name: {from: sqrmc, do: [clean, no_such_step]}")
    page = _upload(client, "2.yaml", broken)
    assert 'data-check="failed"' in page and f'data-line-error="{wrong_at}"' in page and "no_such_step" in page
    assert client.get("/mappings/licensing.license/2").status_code == 404  # checking published nothing

    page = _upload(client, "2.yaml", new)
    assert 'data-check="ok"' in page and 'data-touches="1"' in page and "licensing.license@2" in page
    done = client.post("/mappings/publish", data={"csrf_token": _csrf(page), "filename": "2.yaml", "content": new},
                       follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/mappings/licensing.license/2")
    assert client.get("/mappings/licensing.license/2").status_code == 200
    engine = create_engine_for(settings.effective_database_url)
    with session_factory(engine)() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "mapping.published",
                                                         AuditEntry.subject == "licensing.license@2")).one()
        assert (entry.actor, entry.details["via"]) == ("tables", "console")
    engine.dispose()


def test_an_operator_may_not_publish(demo_copy: tuple[Settings, TestClient]) -> None:
    _, client = demo_copy
    _log_in(client, "fixer")
    assert 'href="/mappings/publish"' not in client.get("/mappings").text
    assert client.get("/mappings/publish").status_code == 403
