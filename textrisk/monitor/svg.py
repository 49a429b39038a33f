"""Inline SVG charts drawn on the server (no JavaScript, no external assets: the page works offline)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..data.timestamps import format_timestamp

__all__ = ["bar_chart", "line_chart"]

_W, _H, _PAD = 560, 160, 36


def _date(ts: float) -> str:
    text = format_timestamp(ts)
    return text[:10] if text.endswith("Z") else text


def line_chart(points: Sequence[tuple[float, float]], marks: Sequence[tuple[float, str]] = (),
               title: str = "", y_max: float = 1.0) -> str:
    """A line of ``(ts, value)`` points in ``[0, y_max]`` with alert ``marks`` ``(ts, label)`` as red dots."""
    if not points:
        return f'<svg class="chart" width="{_W}" height="40"><text x="4" y="24">{escape(title)}: no data</text></svg>'
    t0, t1 = points[0][0], points[-1][0]
    span = (t1 - t0) or 1.0

    def x(ts: float) -> float:
        return _PAD + (ts - t0) / span * (_W - 2 * _PAD)

    def y(value: float) -> float:
        return _H - _PAD + 10 - min(max(value, 0.0), y_max) / y_max * (_H - 2 * _PAD)

    path = " ".join(f"{'M' if i == 0 else 'L'}{x(t):.1f},{y(v):.1f}" for i, (t, v) in enumerate(points))
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
             f'viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}">',
             f'<text x="{_PAD}" y="14" font-size="12" font-weight="bold">{escape(title)}</text>',
             f'<line x1="{_PAD}" y1="{y(0):.1f}" x2="{_W - _PAD}" y2="{y(0):.1f}" stroke="#999"/>',
             f'<line x1="{_PAD}" y1="{y(y_max):.1f}" x2="{_PAD}" y2="{y(0):.1f}" stroke="#999"/>',
             f'<text x="2" y="{y(y_max) + 4:.1f}" font-size="10">{y_max:g}</text>',
             f'<text x="2" y="{y(0) + 4:.1f}" font-size="10">0</text>',
             f'<text x="{_PAD}" y="{_H - 4}" font-size="10">{_date(t0)}</text>',
             f'<text x="{_W - _PAD}" y="{_H - 4}" font-size="10" text-anchor="end">{_date(t1)}</text>',
             f'<path class="series" d="{path}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>']
    values = dict(points)
    for ts, label in marks:
        value = values.get(ts, max((v for t, v in points if t <= ts), default=0.0))
        parts.append(f'<circle class="alert" cx="{x(ts):.1f}" cy="{y(value):.1f}" r="4" fill="#d62728">'
                     f'<title>{escape(label)} {_date(ts)}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(bars: Sequence[tuple[str, float, bool]], title: str = "", threshold: float | None = None) -> str:
    """Horizontal bars ``(label, value, highlighted)``; highlighted bars are red; an optional threshold line."""
    height = 24 + 18 * max(len(bars), 1)
    top = max([v for _, v, _ in bars] + [threshold or 0.0, 1e-9])
    width = _W - 160
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{height}" '
             f'viewBox="0 0 {_W} {height}" role="img" aria-label="{escape(title)}">',
             f'<text x="4" y="14" font-size="12" font-weight="bold">{escape(title)}</text>']
    for i, (label, value, hot) in enumerate(bars):
        y = 22 + 18 * i
        parts.append(f'<text x="4" y="{y + 12}" font-size="11">{escape(label)}</text>'
                     f'<rect x="110" y="{y}" width="{max(value, 0) / top * width:.1f}" height="13" '
                     f'fill="{"#d62728" if hot else "#1f77b4"}"/>'
                     f'<text x="{114 + max(value, 0) / top * width:.1f}" y="{y + 11}" font-size="10">'
                     f'{value:.3f}</text>')
    if threshold is not None:
        tx = 110 + threshold / top * width
        parts.append(f'<line x1="{tx:.1f}" y1="20" x2="{tx:.1f}" y2="{height}" stroke="#555" '
                     f'stroke-dasharray="3,3"/>')
    parts.append("</svg>")
    return "".join(parts)
