"""The report's and the console's charts: well-formed SVG, a mark per value, labels escaped, and a
chart with nothing to draw says so instead of showing empty axes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from jnx.indicators.charts import bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_a_line_chart_has_a_point_per_value_and_a_line_per_series() -> None:
    svg = ET.fromstring(line_chart("趋势", ["2026-09", "2026-10", "2026-11"],
                                   {"公示及时率": [0.5, None, 1.0], "完整率": [0.25, 0.5, 0.75]}))
    assert len(svg.findall(f"{SVG}circle")) == 5 and len(svg.findall(f"{SVG}polyline")) == 2
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "公示及时率" in texts and "2026-10" in texts and not any("无数据" in (t or "") for t in texts)


def test_a_bar_chart_escapes_its_labels_and_marks_a_missing_value() -> None:
    svg = ET.fromstring(bar_chart("及时率", ["甲局 <script>", "乙局"], [0.5, None]))
    assert len(svg.findall(f"{SVG}rect")) == 1
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "甲局 <script>" in texts and "—" in texts and "50.0%" in texts


def test_charts_with_nothing_to_draw_say_so() -> None:
    for chart in (line_chart("趋势", ["2026-10", "2026-11"], {"公示及时率": [None, None]}), bar_chart("及时率", [], [])):
        assert any("无数据" in (t.text or "") for t in ET.fromstring(chart).iter(f"{SVG}text"))
