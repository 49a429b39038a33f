"""The dashboard's charts: Plotly figures built on the server, drawn in the browser by the plotly.js that the
``plotly`` package bundles (served by the dashboard itself, or inlined in an export), so the page works offline.

Every figure is a plain dict (Plotly's JSON); :func:`embed` turns one into a ``<div>`` and the script that draws
it. Times are drawn in UTC (the axis says so); alerts are coloured by rule, the same colour for a rule on every
chart of a page, with the alert's time, rule, severity, summary and document in its hover text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import cache
from typing import Any

__all__ = ["PLOTLY_JS_URL", "drift_chart", "embed", "index_chart", "plotly_js", "rule_colours", "sparkline"]

#: Where the dashboard serves plotly.js.
PLOTLY_JS_URL = "/assets/plotly.min.js"
_BLUE, _GREY, _RED = "#1f77b4", "#9e9e9e", "#d62728"
_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


@cache
def plotly_js() -> bytes:
    """The minified plotly.js bundled with the ``plotly`` package."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode("utf-8")


def rule_colours(rules: Sequence[str]) -> dict[str, str]:
    """A colour per rule name (Plotly's qualitative palette, in sorted order, so a rule keeps its colour)."""
    from plotly.colors import qualitative

    palette = [c for c in qualitative.D3 if c.lower() != _BLUE] + qualitative.Dark2  # blue is the index line
    return {rule: palette[i % len(palette)] for i, rule in enumerate(sorted(set(rules)))}


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _y_range(values: Sequence[float]) -> list[float]:
    """A y range that shows the series' own spread (an index under 0.4 does not hug the floor of a 0-1 axis)."""
    top = max(values, default=0.0)
    return [0.0, min(1.0, max(0.05, top * 1.15))]


def sparkline(points: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """A small line of ``(ts, value)`` points without axes, for the overview table."""
    return {"data": [{"type": "scatter", "mode": "lines", "x": [_utc(t) for t, _ in points],
                      "y": [v for _, v in points], "line": {"color": _BLUE, "width": 1.5}, "hoverinfo": "skip"}],
            "layout": {"width": 160, "height": 36, "margin": {"l": 2, "r": 2, "t": 2, "b": 2}, "showlegend": False,
                       "xaxis": {"visible": False}, "yaxis": {"visible": False,
                                                             "range": _y_range([v for _, v in points])},
                       "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"},
            "config": {"staticPlot": True}}


def index_chart(entity: str, points: Sequence[tuple[float, float]], marks: Sequence[dict[str, Any]],
                colours: dict[str, str], height: int = 360) -> dict[str, Any]:
    """The entity's risk index over time with its alerts as markers coloured by rule.

    ``marks``: dicts with ``ts``, ``rule``, ``value`` (the index at the alert) and ``hover`` (text).
    """
    data: list[dict[str, Any]] = [{"type": "scatter", "mode": "lines", "name": "risk index",
                                   "x": [_utc(t) for t, _ in points], "y": [v for _, v in points],
                                   "line": {"color": _BLUE, "width": 1.6},
                                   "hovertemplate": "%{x|%Y-%m-%d %H:%M} UTC<br>index %{y:.3f}<extra></extra>"}]
    for rule in sorted({m["rule"] for m in marks}):
        own = [m for m in marks if m["rule"] == rule]
        data.append({"type": "scatter", "mode": "markers", "name": rule, "x": [_utc(m["ts"]) for m in own],
                     "y": [m["value"] for m in own], "text": [m["hover"] for m in own],
                     "customdata": [m.get("anchor", "") for m in own],
                     "marker": {"color": colours.get(rule, _RED), "size": 9, "line": {"color": "white", "width": 1},
                                "symbol": "diamond"},
                     "hovertemplate": "%{text}<extra></extra>"})
    values = [v for _, v in points] + [m["value"] for m in marks]
    layout = {"height": height, "margin": {"l": 60, "r": 10, "t": 40, "b": 50},
              "title": {"text": f"{entity}: risk index", "font": {"size": 14}, "x": 0.01, "xanchor": "left"},
              "xaxis": {"title": {"text": "time (UTC)"}, "type": "date", "nticks": 10, "showgrid": True},
              "yaxis": {"title": {"text": "EW risk index (0-1)"}, "range": _y_range(values), "nticks": 8,
                        "tickformat": ".2f", "showgrid": True, "zeroline": False},
              "hovermode": "closest",
              "plot_bgcolor": "white", "paper_bgcolor": "white"}
    for axis in ("xaxis", "yaxis"):
        layout[axis].update(gridcolor="#e5e5e5", linecolor="#999", showline=True)
    return {"data": data, "layout": layout, "config": _CONFIG}


def drift_chart(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The latest drift check: one bar per feature (PSI or JS distance), red where it drifted, with the threshold
    in the hover text."""
    names = [f"{r['feature']} ({'JS' if r['test'] == 'js' else 'PSI'})" for r in rows]
    hover = [f"{n}: {r['statistic']:.3f}" + (f", KS p = {r['p_value']:.2g}" if r.get("p_value") is not None else "")
             + (" - drift" if r["drift"] else "") for n, r in zip(names, rows)]
    data = [{"type": "bar", "orientation": "h", "y": names, "x": [r["statistic"] for r in rows],
             "text": hover, "textposition": "none",
             "hovertemplate": "%{text}<extra></extra>",
             "marker": {"color": [_RED if r["drift"] else _GREY for r in rows]}}]
    layout = {"height": 60 + 26 * len(rows), "margin": {"l": 190, "r": 20, "t": 10, "b": 40},
              "xaxis": {"title": {"text": "statistic (PSI or JS distance)"}, "gridcolor": "#e5e5e5"},
              "yaxis": {"autorange": "reversed"}, "plot_bgcolor": "white", "showlegend": False}
    return {"data": data, "layout": layout, "config": _CONFIG}


def embed(element_id: str, figure: dict[str, Any], css_class: str = "chart") -> str:
    """A ``<div>`` and the script that draws ``figure`` into it (the JSON cannot close the script: ``<`` is
    escaped)."""
    payload = json.dumps(figure, allow_nan=False).replace("<", "\\u003c").replace(">", "\\u003e")
    return (f'<div class="{css_class}" id="{element_id}"></div><script>(function(){{var f={payload};'
            f'Plotly.newPlot("{element_id}",f.data,f.layout,f.config);}})();</script>')
