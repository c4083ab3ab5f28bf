"""Charts as inline SVG we draw ourselves: no script, no CDN, no font download — the report's
HTML and PDF (WeasyPrint draws SVG too) render offline. Text uses the installed CJK font."""

from __future__ import annotations

from html import escape

FONT = "Noto Sans CJK SC, Noto Sans SC, sans-serif"
COLOURS = ("#1f5fa8", "#d9822b", "#3a9e5c", "#a83a3a")


def _text(x: float, y: float, text: str, *, size: int = 11, anchor: str = "start", fill: str = "#222") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-family="{FONT}" text-anchor="{anchor}" '
            f'fill="{fill}">{escape(text)}</text>')


def bar_chart(title: str, labels: list[str], values: list[float | None], *, width: int = 640) -> str:
    """Horizontal bars of shares (0..1), one per label; a missing value is drawn as “—”."""
    row, left, top = 22, 230, 30
    height = top + row * max(len(labels), 1) + 20
    scale = width - left - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             _text(4, 18, title, size=13)]
    if not labels:
        parts.append(_text(left, top + 14, "无数据（本期无应报记录）", fill="#667085"))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        parts.append(_text(left - 6, y + 14, label[:18], anchor="end"))
        if value is None:
            parts.append(_text(left + 4, y + 14, "—"))
            continue
        w = max(scale * value, 1.0)
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{COLOURS[0]}"/>')
        parts.append(_text(left + w + 4, y + 14, f"{value * 100:.1f}%"))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, labels: list[str], series: dict[str, list[float | None]], *, width: int = 640,
               height: int = 240) -> str:
    """Shares (0..1) over months, one line per series, with a legend."""
    left, right, top, bottom = 44, 16, 40, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             _text(4, 18, title, size=13)]
    for tick in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(_text(left - 4, y + 4, f"{tick * 100:.0f}%", size=10, anchor="end"))
    for i, label in enumerate(labels):
        parts.append(_text(left + i * step, height - 10, label, size=10, anchor="middle"))
    if all(v is None for values in series.values() for v in values):
        parts.append(_text(left + plot_w / 2, top + plot_h / 2, "无数据（这几个月无应报记录）", anchor="middle", fill="#667085"))
    for n, (name, values) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        points = [(left + i * step, top + plot_h * (1 - v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points]
        lx = left + n * 150
        parts.append(f'<rect x="{lx}" y="26" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(lx + 14, 35, name, size=10))
    parts.append("</svg>")
    return "".join(parts)
