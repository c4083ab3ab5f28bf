"""映射表 → 试映射: a table version tried on the stored records of the systems that use it — the
counts agree with the rows, the pinned version changes nothing, another version shows what it fixes
and breaks, and nothing is stored (on a copy of the demo's database)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jnx.exchange.registry import SystemRegistry
from jnx.settings import Settings
from jnx.store.db import create_engine_for, session_factory
from jnx.store.models import MappingErrorEntry, RawRecord, StandardRecordRevision
from tests.web.console.test_pages import _log_in


def _figure(html: str, name: str) -> int:
    found = re.search(rf'data-figure="{name}">([\d,]+)<', html)
    assert found is not None, name
    return int(found.group(1).replace(",", ""))


def _stored(settings: Settings) -> tuple[int, int, int]:
    engine = create_engine_for(settings.effective_database_url)
    with session_factory(engine)() as session:
        found = tuple(int(session.scalar(select(func.count()).select_from(t)) or 0)
                      for t in (RawRecord, StandardRecordRevision, MappingErrorEntry))
    engine.dispose()
    return found  # type: ignore[return-value]


def test_a_table_version_is_tried_on_stored_records_and_nothing_is_stored(demo_copy: tuple[Settings, TestClient]) -> None:
    settings, client = demo_copy
    _log_in(client, "fixer")
    engine = create_engine_for(settings.effective_database_url)
    with session_factory(engine)() as session:
        pinned = SystemRegistry().get(session, "jn-case-handling").registration.mappings["penalty"]
    engine.dispose()
    name, version = pinned.split("@")
    before = _stored(settings)

    table_page = client.get(f"/mappings/{name}/{version}").text
    assert f'href="/mappings/{name}/{version}/test"' in table_page
    same = client.get(f"/mappings/{name}/{version}/test")
    assert same.status_code == 200
    mapped, ok, failing = (_figure(same.text, k) for k in ("mapped", "ok", "failing"))
    assert mapped > 0 and ok + failing == mapped and failing > 0  # the demo has broken records
    assert (_figure(same.text, "fixed"), _figure(same.text, "broken")) == (0, 0)  # the pinned version against itself
    exported = client.get(f"/mappings/{name}/{version}/test", params={"format": "csv"}).text
    assert len(exported.strip().splitlines()) == 1 + mapped

    older = [v for v in range(1, int(version)) if client.get(f"/mappings/{name}/{v}").status_code == 200]
    if older:
        other = client.get(f"/mappings/{name}/{older[0]}/test").text
        assert _figure(other, "mapped") == mapped
        for change, figure in (("broken", "broken"), ("fixed", "fixed")):
            listed = client.get(f"/mappings/{name}/{older[0]}/test", params={"change": change}).text
            assert listed.count('data-col="raw_record"') == min(_figure(other, figure), 50)  # the filter keeps those rows
    assert _stored(settings) == before  # nothing stored, nothing queued
    assert client.get(f"/mappings/{name}/999/test").status_code == 404
