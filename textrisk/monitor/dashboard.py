"""``textrisk dashboard``: one HTML page built from the monitor state (a SQLite file or a PostgreSQL URL),
served by the standard library's http.server (127.0.0.1 by default) or exported as a static file. Charts are
inline SVG drawn on the server and the page has no scripts or external assets, so it works offline and the
export is self-contained.

Panels: each charted entity's EW risk index over time with its alerts as red dots, the latest alerts, the
latest flagged documents (with a risk head: flagged signals; without: negative documents) with their
evidence, and drift (the latest check per feature, PSI or JS distance against the threshold).

The server answers only requests whose ``Host`` header is on its allow-list (:mod:`textrisk.utils.hosts`: the
local names and the bind address by default), so a web page cannot read the dashboard through DNS rebinding. A
request that fails (the state is locked, unreachable or damaged) gets an error page and the server keeps
serving; times outside 1900..2100 (written before textrisk checked them) are left out of the charts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import sqlalchemy as sa

from ..data.timestamps import EARLIEST, LATEST, format_timestamp
from ..errors import TextRiskError
from ..utils.atomic import atomic_write_text
from ..utils.hosts import allowed_hosts, host_allowed, refusal
from ..utils.outputs import guard_output
from .database import state_file
from .schema import alerts, documents, drift
from .state import MonitorState
from .svg import bar_chart, line_chart

__all__ = ["export_html", "make_server", "render_page", "serve"]

_STYLE = """body{font-family:sans-serif;margin:16px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:24px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;
vertical-align:top}.charts{display:flex;flex-wrap:wrap;gap:8px}.muted{color:#777}"""
_MAX_POINTS = 400


def _time(ts: float) -> str:
    text = format_timestamp(ts)
    return text[:16].replace("T", " ") if text.endswith("Z") else text


def _charted_entities(store: MonitorState, limit: int) -> list[str]:
    d = documents.c
    alert_count = (sa.select(sa.func.count()).select_from(alerts).where(alerts.c.entity == d.entity)
                   .scalar_subquery())
    query = (sa.select(d.entity, sa.func.count().label("n"), alert_count.label("k")).where(d.error.is_(None))
             .group_by(d.entity).order_by(sa.desc("k"), sa.desc("n"), d.entity).limit(limit))
    return [row["entity"] for row in store.rows(query)]


def _entity_chart(store: MonitorState, entity: str) -> str:
    d = documents.c
    rows = store.rows(sa.select(d.ts, d.risk_index).where(d.entity == entity, d.error.is_(None),
                                                          d.ts.between(EARLIEST, LATEST), d.risk_index.is_not(None))
                      .order_by(d.ts, d.seq))
    step = max(1, len(rows) // _MAX_POINTS)
    points = [(r["ts"], r["risk_index"]) for r in rows[::step]]
    if rows and points[-1][0] != rows[-1]["ts"]:
        points.append((rows[-1]["ts"], rows[-1]["risk_index"]))
    marks = [(r["ts"], r["rule"]) for r in store.rows(sa.select(alerts.c.ts, alerts.c.rule)
                                                      .where(alerts.c.entity == entity,
                                                             alerts.c.ts.between(EARLIEST, LATEST))
                                                      .order_by(alerts.c.ts, alerts.c.seq))]
    return line_chart(points, marks, title=f"{entity}: EW risk index ({len(rows)} docs, {len(marks)} alerts)")


def _alerts_table(store: MonitorState) -> str:
    a = alerts.c
    rows = store.rows(sa.select(a.ts, a.rule, a.entity, a.payload).order_by(a.ts.desc(), a.seq.desc()).limit(25))
    if not rows:
        return '<p class="muted">no alerts yet</p>'
    body = "".join(f"<tr><td>{_time(r['ts'])}</td><td>{escape(r['rule'])}</td><td>{escape(r['entity'])}</td>"
                   f"<td>{escape(json.dumps(json.loads(r['payload'])['detail'], default=str)[:160])}</td></tr>"
                   for r in rows)
    return f"<table><tr><th>time</th><th>rule</th><th>entity</th><th>detail</th></tr>{body}</table>"


def _flagged_table(store: MonitorState) -> str:
    d = documents.c
    flagged = sa.or_(d.flags != "[]", sa.and_(d.signals.is_(None), d.sentiment == "negative"))
    rows = store.rows(sa.select(d.ts, d.entity, d.id, d.text, d.sentiment, d.risk_value, d.flags, d.evidence)
                      .where(d.error.is_(None), flagged).order_by(d.ts.desc(), d.seq.desc()).limit(15))
    if not rows:
        return '<p class="muted">no flagged documents</p>'
    body = []
    for r in rows:
        flags = ", ".join(json.loads(r["flags"])) or r["sentiment"]
        evidence = json.loads(r["evidence"] or "[]")
        shown = "; ".join(f"[{e['label']} {e['weight']:.2f}] {e['text'][:120]}" for e in evidence[:2]) \
            or r["text"][:200]
        body.append(f"<tr><td>{_time(r['ts'])}</td><td>{escape(r['entity'])}</td><td>{escape(flags)}</td>"
                    f"<td>{r['risk_value'] or 0:.3f}</td><td>{escape(shown)}</td></tr>")
    return ("<table><tr><th>time</th><th>entity</th><th>flags</th><th>risk</th><th>evidence</th></tr>"
            + "".join(body) + "</table>")


def _drift_panel(store: MonitorState) -> str:
    c = drift.c
    last = store.scalar(sa.select(sa.func.max(c.seq_end)))
    if last is None:
        return '<p class="muted">no drift check yet (needs reference + window documents)</p>'
    rows = store.rows(sa.select(c.feature, c.test, c.statistic, c.p_value, c.drift).where(c.seq_end == last)
                      .order_by(c.test, c.feature))
    bars = [(f"{r['feature']} ({'PSI' if r['test'] != 'js' else 'JS'})", r["statistic"], bool(r["drift"]))
            for r in rows]
    checks = store.scalar(sa.select(sa.func.count(sa.distinct(c.seq_end))))
    return (f"<p>latest of {checks} checks, after document {last}; red = drift</p>"
            + bar_chart(bars, title="drift against the reference window"))


def render_page(state: str | Path, entities: int = 6, refresh: int | None = None) -> str:
    """The dashboard HTML for the state ``state`` (a path or URL; ``refresh``: seconds between reloads)."""
    store = MonitorState(state, readonly=True)
    try:
        n_docs = store.scalar(sa.select(sa.func.count()).select_from(documents))
        n_alerts = store.scalar(sa.select(sa.func.count()).select_from(alerts))
        pending = store.pending_outbox()
        charts = "".join(_entity_chart(store, e) for e in _charted_entities(store, entities))
        sections = [f"<h1>textrisk monitor</h1><p>{n_docs} documents, {n_alerts} alerts, {pending} webhook "
                    f"deliveries pending; state {escape(store.label)}</p>",
                    f"<h2>Risk index per entity</h2><div class=\"charts\">{charts or 'no documents yet'}</div>",
                    f"<h2>Latest alerts</h2>{_alerts_table(store)}",
                    f"<h2>Latest flagged documents</h2>{_flagged_table(store)}",
                    f"<h2>Drift</h2>{_drift_panel(store)}"]
    finally:
        store.close()
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{meta}<title>textrisk monitor</title>'
            f'<link rel="icon" href="data:,"><style>{_STYLE}</style></head><body>{"".join(sections)}</body></html>')


def _our_export(path: Path) -> str | None:
    with path.open("rb") as handle:
        start = handle.read(4096)
    if start.startswith(b"<!DOCTYPE html>") and b"<title>textrisk monitor</title>" in start:
        return None
    return "exists and is not a dashboard export (an HTML file textrisk wrote); choose a new file"


def export_html(state: str | Path, out: str | Path, entities: int = 6) -> None:
    """Write a self-contained static report of the state (atomically); ``out`` must not be the state, and an
    existing ``out`` must be an earlier export."""
    out = guard_output(out, "--export", inputs={"--state": state_file(state)}, owned=_our_export)
    atomic_write_text(out, render_page(state, entities))


def make_server(state: str | Path, host: str = "127.0.0.1", port: int = 8765, entities: int = 6,
                refresh: int = 30, allowed: Iterable[str] | None = None) -> ThreadingHTTPServer:
    """An HTTP server (not yet serving) whose ``/`` is the dashboard, rebuilt from the state on every request.

    ``allowed``: the Host allow-list (default :func:`textrisk.utils.hosts.allowed_hosts` of ``host``).
    """
    MonitorState(state, readonly=True).close()  # fail now, with a clear error, if the state is missing
    allowed = tuple(allowed) if allowed is not None else allowed_hosts(host)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, kind: str = "text/html; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            host = self.headers.get("Host")
            if not host_allowed(host, allowed):
                self._answer(400, (refusal(host) + "\n").encode("utf-8"), "text/plain; charset=utf-8")
                return
            if self.path.split("?")[0] not in ("/", "/index.html"):
                self.send_error(404)
                return
            try:
                body = render_page(state, entities, refresh).encode("utf-8")
            except (TextRiskError, sa.exc.SQLAlchemyError) as exc:  # the state is busy, gone or damaged: say so
                message = f"the monitor state cannot be read now: {str(exc).splitlines()[0]}"
                self._answer(503, f"<!DOCTYPE html><p>{escape(message)}</p>".encode(), "text/html; charset=utf-8")
                return
            except Exception as exc:  # noqa: BLE001 - one page failed; the server keeps serving
                print(f"textrisk dashboard: error building the page: {type(exc).__name__}: {exc}", file=sys.stderr)
                self._answer(500, b"<!DOCTYPE html><p>internal error; the server log has the details</p>")
                return
            self._answer(200, body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass

    return ThreadingHTTPServer((host, port), Handler)


def serve(state: str | Path, host: str = "127.0.0.1", port: int = 8765, entities: int = 6,
          refresh: int = 30, allowed: Iterable[str] | None = None) -> None:
    """Serve the dashboard until interrupted (``allowed``: the Host allow-list, see :func:`make_server`)."""
    server = make_server(state, host, port, entities, refresh, allowed)
    print(f"dashboard on http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
