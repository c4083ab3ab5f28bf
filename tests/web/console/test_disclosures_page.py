"""双公示: the list filtered by department (the 执法主体's credit code, the business key's first part)
holds that department's disclosures only, as many as the database has (on a copy of the demo)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jnx.settings import Settings
from jnx.store.db import create_engine_for, session_factory
from jnx.store.models import Disclosure
from tests.web.console.test_pages import _log_in


def test_disclosures_are_filtered_by_department(demo_copy: tuple[Settings, TestClient]) -> None:
    settings, client = demo_copy
    _log_in(client, "fixer")
    engine = create_engine_for(settings.effective_database_url)
    with session_factory(engine)() as session:
        keys = list(session.scalars(select(Disclosure.business_key)))
        code = max({k.split("|")[0] for k in keys}, key=lambda c: sum(k.startswith(c + "|") for k in keys))
        expected = int(session.scalar(select(func.count()).select_from(Disclosure).where(
            Disclosure.business_key.startswith(code + "|"))) or 0)
    engine.dispose()
    assert 0 < expected < len(keys)
    exported = client.get("/disclosures", params={"department": code.lower(), "format": "csv"}).text.strip().splitlines()
    assert len(exported) == 1 + expected and all(code in row for row in exported[1:])
    page = client.get("/disclosures", params={"department": code}).text
    assert 'name="department"' in page and len(re.findall(r'data-col="business_key">' + code, page)) == min(expected, 50)
