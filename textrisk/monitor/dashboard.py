"""``textrisk dashboard``: the monitor state (a SQLite file or a PostgreSQL URL) as pages a desk reads, served by
the standard library's http.server (127.0.0.1 by default) or exported as one static file.

Pages (:mod:`textrisk.monitor.pages`): ``/`` is the overview (each entity's current risk index, its change over the
time window, its alerts in the window by rule and a sparkline; index charts of the first entities; latest alerts;
highest-risk documents; drift, or what drift checking still needs); ``/entity/<name>`` is one entity (its index
with readable axes, alerts coloured by rule with hover text, the documents behind them). Both take the filters
``?entity=&rule=&window=7d|30d|90d|1y|all``; a bad filter is a 400 naming it. Times are UTC and pages say so.
Charts are Plotly figures drawn by the plotly.js that the ``plotly`` package bundles, served at
``/assets/plotly.min.js`` (inlined in an export), so nothing is loaded from the internet.

The server answers only requests whose ``Host`` header is on its allow-list (:mod:`textrisk.utils.hosts`: the
local names and the bind address by default), so a web page cannot read the dashboard through DNS rebinding. A
request that fails (the state is locked, unreachable or damaged) gets an error page and the server keeps
serving; times outside 1900..2100 (written before textrisk checked them) are left out of the charts.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa

from ..errors import InputError, TextRiskError
from ..utils.atomic import atomic_write_text
from ..utils.hosts import allowed_hosts, host_allowed, refusal
from ..utils.outputs import guard_output
from .charts import PLOTLY_JS_URL, plotly_js
from .database import state_file
from .pages import entity_page, overview_page
from .state import MonitorState
from .views import Filters

__all__ = ["export_html", "make_server", "render_entity", "render_page", "serve"]


def render_page(state: str | Path, entities: int = 6, refresh: int | None = None, filters: Filters | None = None,
                static: bool = False) -> str:
    """The overview HTML for the state ``state`` (a path or URL; ``refresh``: seconds between reloads;
    ``static``: plotly.js inlined and no links to server pages, as in an export)."""
    store = MonitorState(state, readonly=True)
    try:
        return overview_page(store, filters or Filters(), entities, refresh, static)
    finally:
        store.close()


def render_entity(state: str | Path, entity: str, filters: Filters | None = None, refresh: int | None = None) -> str:
    """The page of one entity."""
    store = MonitorState(state, readonly=True)
    try:
        filters = filters or Filters()
        return entity_page(store, Filters(entity=entity, rule=filters.rule, window=filters.window), refresh)
    finally:
        store.close()


def _our_export(path: Path) -> str | None:
    with path.open("rb") as handle:
        start = handle.read(4096)
    if start.startswith(b"<!DOCTYPE html>") and b"<title>textrisk monitor</title>" in start:
        return None
    return "exists and is not a dashboard export (an HTML file textrisk wrote); choose a new file"


def export_html(state: str | Path, out: str | Path, entities: int = 6) -> None:
    """Write a self-contained static report of the state (atomically): the overview over the default window
    with plotly.js inlined; ``out`` must not be the state, and an existing ``out`` must be an earlier export."""
    out = guard_output(out, "--export", inputs={"--state": state_file(state)}, owned=_our_export)
    atomic_write_text(out, render_page(state, entities, static=True))


def make_server(state: str | Path, host: str = "127.0.0.1", port: int = 8765, entities: int = 6,
                refresh: int = 30, allowed: Iterable[str] | None = None) -> ThreadingHTTPServer:
    """An HTTP server (not yet serving) of the dashboard's pages, rebuilt from the state on every request.

    ``allowed``: the Host allow-list (default :func:`textrisk.utils.hosts.allowed_hosts` of ``host``).
    """
    MonitorState(state, readonly=True).close()  # fail now, with a clear error, if the state is missing
    allowed = tuple(allowed) if allowed is not None else allowed_hosts(host)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, kind: str = "text/html; charset=utf-8",
                    cache: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            if cache:
                self.send_header("Cache-Control", "max-age=86400")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            host = self.headers.get("Host")
            if not host_allowed(host, allowed):
                self._answer(400, (refusal(host) + "\n").encode("utf-8"), "text/plain; charset=utf-8")
                return
            url = urlsplit(self.path)
            if url.path == PLOTLY_JS_URL:
                self._answer(200, plotly_js(), "text/javascript; charset=utf-8", cache=True)
                return
            if url.path not in ("/", "/index.html") and not url.path.startswith("/entity/"):
                self.send_error(404)
                return
            try:
                if url.path.startswith("/entity/"):
                    entity = unquote(url.path[len("/entity/"):])
                    filters = Filters.from_query(url.query, entity=entity)
                    body = render_entity(state, entity, filters, refresh).encode("utf-8")
                else:
                    body = render_page(state, entities, refresh, Filters.from_query(url.query)).encode("utf-8")
            except InputError as exc:  # a bad filter: say which
                self._answer(400, f"<!DOCTYPE html><p>{escape(str(exc))}</p>".encode(), "text/html; charset=utf-8")
                return
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
