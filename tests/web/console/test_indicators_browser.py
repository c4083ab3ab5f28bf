"""/indicators in Debian's Chromium over `jnx demo`: a supervisor opens it from the navigation, sees
the three rates, both charts drawn (inline SVG, nothing fetched from outside), the ranking, drills
into a figure and back, and picks another month — with no JavaScript error, and screenshots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from jnx.services import indicators as service
from jnx.services.context import Actor, ServiceContext
from jnx.store.db import create_engine_for, session_factory
from tests.web.console.conftest import Demo, add_user
from tests.web.console.test_browser import Journey

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]


def _figures(demo: Demo, month: str | None) -> dict[str, Any]:
    engine = create_engine_for(demo.settings.effective_database_url)
    try:
        with session_factory(engine)() as session:
            ctx = ServiceContext(session=session, settings=demo.settings, actor=Actor.os_user("test"))
            return service.indicators(ctx, month=month).model_dump()
    finally:
        engine.dispose()


def test_supervisor_reads_the_indicators_ranking_and_trend(browser: Any, console: Demo, screenshots: Path) -> None:
    add_user(console.settings, "ranker", ["supervisor"])  # a user of its own: the other journeys changed theirs
    me = Journey(browser, console, screenshots, "indicators")
    outside: list[str] = []
    me.page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((console.url, "data:")) else None)
    me.login("ranker")
    page = me.go("/")
    page.locator("header nav a[href='/indicators']").click()
    page.wait_for_url(re.compile(r"/indicators$"))
    month = page.locator("[data-indicators]").get_attribute("data-indicators")
    assert month == "all"  # no month: everything to date, as `jnx indicators`
    figures = _figures(console, None)
    for chart in ("trend", "ranking"):
        box = page.locator(f"[data-chart={chart}] svg").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 50, chart
    rates = page.locator("table[data-list=trend] tbody td.num").all_inner_texts()  # 3 rates, came due, late per month
    shown = [r for i, r in enumerate(rates) if i % 5 < 3 and r.strip()]
    assert page.locator("[data-chart=trend] svg circle").count() == len(shown)  # a point per rate the table shows
    rows = page.locator("table[data-list^=indicators] tbody tr")
    assert rows.count() == min(len(figures["departments"]), 50) > 0
    assert page.locator("table[data-list=kinds] tbody tr").count() == len(figures["total"]["kinds"])
    assert page.locator("table[data-list=trend] tbody tr").count() == 6
    assert page.locator("[data-figure=timeliness]").inner_text() == f"{round(figures['total']['timeliness'] * 100, 1)}%"
    me.shot("indicators")
    busiest = max(figures["departments"], key=lambda d: d["came_due"])
    link = page.locator(f"td[data-col=late] a[href*='department={busiest['department']}']")
    if busiest["late"]:
        link.click()
        page.wait_for_url(re.compile(r"/indicators/late\?"))
        assert page.locator("[data-count]").get_attribute("data-count") == str(busiest["late"])
        assert page.locator("table[data-list=indicator-records] tbody tr").count() == min(busiest["late"], 500)
        me.shot("indicator-records")
        page.go_back()
    previous = page.locator("a[rel=prev]").first.get_attribute("href")
    assert previous is not None
    page.select_option("select[name=month]", previous.split("=")[1])  # the month picker submits itself
    page.wait_for_url(re.compile(rf"month={previous.split('=')[1]}"))
    assert page.locator("[data-indicators]").get_attribute("data-indicators") == previous.split("=")[1]
    assert outside == []
    me.done()
