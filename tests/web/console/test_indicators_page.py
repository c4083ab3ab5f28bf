"""/indicators through an in-process client, on SQLite and PostgreSQL, over the hand-computed October
2026 fixture of tests/indicators: the page's figures, ranking, kinds and regions are the service's,
every drill-down count is its figure's, the ranking exports, and a department officer is refused."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jnx.services import indicators as service
from jnx.services.context import Actor, ServiceContext
from jnx.settings import Settings
from jnx.store.db import session_factory
from jnx.web.console import create_console_app
from tests.indicators.test_compute import A, B, build
from tests.web.console.conftest import add_user, fast_accounts
from tests.web.console.test_pages import _log_in


@pytest.fixture
def client(migrated_engine: Engine, database_url: str, tmp_path: object) -> Iterator[tuple[TestClient, Settings]]:
    with session_factory(migrated_engine).begin() as session:
        build(session)
    settings = Settings(home=str(tmp_path), database_url=database_url, accounts=fast_accounts())
    add_user(settings, "judge", ["supervisor"])
    add_user(settings, "officer", ["department-officer"], A)
    app = create_console_app(settings, engine=migrated_engine, environment={})
    with TestClient(app) as test_client:
        yield test_client, settings


def _expected(engine: Engine, settings: Settings, month: str) -> dict[str, object]:
    with session_factory(engine)() as session:
        ctx = ServiceContext(session=session, settings=settings, actor=Actor.os_user("test"))
        return service.indicators(ctx, month=month).model_dump()


def test_the_page_shows_the_services_figures_ranking_kinds_and_regions(client: tuple[TestClient, Settings],
                                                                        migrated_engine: Engine) -> None:
    test_client, settings = client
    _log_in(test_client, "judge")
    page = test_client.get("/indicators", params={"month": "2026-10"})
    assert page.status_code == 200, page.text
    html = page.text
    assert 'href="/indicators" class="here"' in html  # in the navigation
    expected = _expected(migrated_engine, settings, "2026-10")
    total = expected["total"]
    assert isinstance(total, dict)
    assert total["came_due"] == 9  # today is past every deadline of the fixture's October
    assert re.search(rf'data-figure="timeliness">{round(total["timeliness"] * 100, 1)}%<', html)
    assert re.search(rf'data-figure="overdue">{total["overdue"]}<', html)
    ranked = re.findall(r'data-col="department">([^<]+)<', html)
    departments = expected["departments"]
    assert isinstance(departments, list)
    assert ranked == [d["department"] for d in departments] and set(ranked) == {A, B}
    assert re.findall(r'data-col="timeliness_pct">([^<]*)<', html) == [
        "" if d["timeliness"] is None else str(round(d["timeliness"] * 100, 1)) for d in departments]
    kinds = re.search(r'data-list="kinds">(.*?)</table>', html, re.S)
    assert kinds is not None and all(k in kinds.group(1) for k in ("许可", "处罚", "强制", "检查"))
    regions = re.search(r'data-list="regions">(.*?)</table>', html, re.S)
    assert regions is not None and "370811" in regions.group(1) and "370883" in regions.group(1)
    trend = re.findall(r'<td><a href="/indicators\?month=([0-9-]+)">', html)
    assert trend == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    october = re.search(r'month=2026-10">2026-10</a></td><td class="num">([^<]*)</td>', html)
    assert october is not None and october.group(1) == str(round(total["timeliness"] * 100, 1))  # the trend is the total
    assert html.count("<svg") == 2 and "<script" not in html.split("</nav>", 1)[1].split("</main>")[0]
    assert "尚未对接的部门" in html and "11370800MB0000003Z" in html


def test_each_drill_down_lists_as_many_records_as_its_figure(client: tuple[TestClient, Settings],
                                                             migrated_engine: Engine) -> None:
    test_client, settings = client
    _log_in(test_client, "judge")
    expected = _expected(migrated_engine, settings, "2026-10")
    total, departments = expected["total"], expected["departments"]
    assert isinstance(total, dict) and isinstance(departments, list)
    for key in ("late", "missing", "overdue", "due_3"):
        page = test_client.get(f"/indicators/{key}", params={"month": "2026-10"})
        assert page.status_code == 200, page.text
        assert f'data-count="{total[key]}"' in page.text, key
        assert "SELECT" in page.text  # the SQL behind it
    own = test_client.get("/indicators/late", params={"month": "2026-10", "department": A})
    late_of_a = next(d["late"] for d in departments if d["department"] == A)
    assert late_of_a > 0 and f'data-count="{late_of_a}"' in own.text
    unknown = test_client.get("/indicators/nonsense", params={"month": "2026-10"})
    assert unknown.status_code == 404 and "Traceback" not in unknown.text
    bad = test_client.get("/indicators", params={"month": "2026-13"})
    assert bad.status_code == 400 and "YYYY-MM" in bad.text


def test_the_ranking_exports_and_an_officer_is_refused(client: tuple[TestClient, Settings]) -> None:
    test_client, _ = client
    _log_in(test_client, "judge")
    exported = test_client.get("/indicators", params={"month": "2026-10", "format": "csv"})
    assert exported.status_code == 200
    link = re.search(r'href="(/indicators\?[^"]*format=xlsx[^"]*)"', test_client.get("/indicators?month=2026-10").text)
    assert link is not None and "month=2026-10" in link.group(1).replace("&amp;", "&")  # the export keeps the month
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["名次", "部门", "统一社会信用代码"] and {r[2] for r in rows[1:]} == {A, B}
    test_client.cookies.clear()
    _log_in(test_client, "officer")
    assert 'href="/indicators"' not in test_client.get("/").text
    assert test_client.get("/indicators", params={"month": "2026-10"}).status_code == 403
