"""The dashboard's HTML: the overview (one row per entity: current index, change over the window, alerts in the
window, sparkline; alerts; highest-risk documents; drift) and the entity page (its index with alerts coloured by
rule, its alerts and the documents behind them). Every value from the state is escaped; charts come from
:mod:`textrisk.monitor.charts`; the data from :mod:`textrisk.monitor.views`. All times are UTC, and pages say so.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from ..data.timestamps import format_timestamp
from . import charts, views
from .engine import MODEL_ENTITY
from .state import MonitorState
from .triage import SEVERITY_LABELS
from .views import RISKY, WINDOWS, Filters

__all__ = ["entity_page", "overview_page"]

_STYLE = """body{font-family:system-ui,sans-serif;margin:16px 24px;color:#222;max-width:1400px}h1{font-size:20px}
h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}table{border-collapse:collapse;
font-size:13px}td,th{border-bottom:1px solid #e3e3e3;padding:4px 8px;text-align:left;vertical-align:middle}
th{background:#f5f5f5}.num{text-align:right;font-variant-numeric:tabular-nums}.up{color:#c62828}.down{color:#2e7d32}
.muted{color:#777}td:first-child{white-space:nowrap}.rule{white-space:nowrap;display:inline-block;padding:1px 6px;
border-radius:3px;color:white;font-size:12px;margin:1px}.sev3{font-weight:bold;color:#c62828}.sev2{color:#e65100}
.filters{background:#f7f7f7;padding:8px 10px;border-radius:4px;margin:8px 0}.filters label{margin-right:12px}
.doc{border:1px solid #ddd;border-radius:4px;padding:8px 10px;margin:8px 0}.doc p{margin:4px 0}
.doc:target{border-color:#1f77b4;box-shadow:0 0 0 2px #bbdefb}.charts{display:flex;flex-wrap:wrap;gap:12px}
.charts .chart{width:calc(50% - 8px);min-width:520px}.spark{width:160px;height:36px}
.tz{background:#fff3cd;padding:2px 6px;border-radius:3px}"""


def _time(ts: float | None) -> str:
    if ts is None:
        return ""
    text = format_timestamp(ts)
    return text[:16].replace("T", " ") if text.endswith("Z") else text


def _num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return '<span class="muted">-</span>'
    text = f"{value:+.3f}" if signed else f"{value:.3f}"
    css = ("up" if value > 0.0005 else "down" if value < -0.0005 else "") if signed else ""
    return f'<span class="{css}">{text}</span>' if css else text


def _rule_tag(rule: str, colours: dict[str, str], count: int | None = None) -> str:
    label = escape(rule) + (f" {count}" if count is not None else "")
    return f'<span class="rule" style="background:{colours.get(rule, "#d62728")}">{label}</span>'


def _entity_href(entity: str, filters: Filters) -> str:
    query = filters.query()
    return f"/entity/{quote(entity, safe='')}" + (f"?{escape(query)}" if query else "")


def _entity_link(entity: str, filters: Filters, static: bool) -> str:
    if entity == MODEL_ENTITY:
        return '<span class="muted">model (drift)</span>'
    if static:
        return escape(entity)
    return f'<a href="{_entity_href(entity, filters)}">{escape(entity)}</a>'


def _head(title: str, refresh: int | None, static: bool) -> str:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    script = (f"<script>{charts.plotly_js().decode('utf-8')}</script>" if static
              else f'<script src="{charts.PLOTLY_JS_URL}"></script>')
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{meta}<title>{escape(title)}</title>'
            f'<link rel="icon" href="data:,"><style>{_STYLE}</style>{script}</head><body>')


def _filter_form(filters: Filters, entities: list[str], rules: list[str], end: float | None, action: str) -> str:
    def options(values: list[str], chosen: str | None, blank: str | None) -> str:
        items = [f'<option value="">{blank}</option>'] if blank else []
        items += [f'<option value="{escape(v)}"{" selected" if v == chosen else ""}>{escape(v)}</option>'
                  for v in values]
        return "".join(items)

    entity = ("" if action != "/" else
              f'<label>entity <select name="entity">{options(entities, filters.entity, "all")}</select></label>')
    return (f'<form class="filters" method="get" action="{escape(action)}">{entity}'
            f'<label>rule <select name="rule">{options(rules, filters.rule, "all")}</select></label>'
            f'<label>window <select name="window">{options(list(WINDOWS), filters.window, None)}</select></label>'
            f'<button type="submit">show</button> <span class="muted">window ends at the latest document, '
            f'{_time(end)} <span class="tz">times in UTC</span></span></form>')


def _alerts_table(rows: list[dict[str, Any]], colours: dict[str, str], filters: Filters, static: bool,
                  with_entity: bool = True) -> str:
    if not rows:
        return '<p class="muted">no alerts in this window</p>'
    body = []
    for r in rows:
        p = r["payload"]
        severity = r["severity"] or p.get("severity") or 1
        summary = p.get("summary") or ""
        also = "; ".join(f"{a['rule']}: {a['summary']}" for a in p.get("also", []))
        doc = (p.get("document") or {}).get("text") or p.get("text") or ""
        anchor = f"#doc-{quote(r['doc_id'] or '', safe='')}"
        link = (escape(doc[:140]) if static or not r["doc_id"] else
                f'<a href="{_entity_href(r["entity"], filters)}{escape(anchor)}">{escape(doc[:140])}</a>')
        entity = f"<td>{_entity_link(r['entity'], filters, static)}</td>" if with_entity else ""
        body.append(f"<tr><td>{_time(r['ts'])}</td>{entity}<td>{_rule_tag(r['rule'], colours)}</td>"
                    f'<td class="sev{severity}">{SEVERITY_LABELS.get(severity, severity)}</td>'
                    f"<td>{escape(summary)}{'<br><span class=muted>also ' + escape(also) + '</span>' if also else ''}"
                    f"</td><td>{link}</td></tr>")
    head = "<th>entity</th>" if with_entity else ""
    return (f"<table><tr><th>time (UTC)</th>{head}<th>rule</th><th>severity</th><th>what</th><th>document</th></tr>"
            + "".join(body) + "</table>")


def _document_card(doc: dict[str, Any], alerts_of: list[dict[str, Any]], colours: dict[str, str],
                   entity: str = "") -> str:
    tags = "".join(_rule_tag(a["rule"], colours) for a in alerts_of) + (f"{entity} " if entity else "")
    url = doc.get("url") or ""
    link = (f' <a href="{escape(url)}" rel="noreferrer">source</a>'
            if url.startswith(("https://", "http://")) else "")
    facts = [f"risk {doc['risk_value']:.3f}" if doc.get("risk_value") is not None else "",
             f"index {doc['risk_index']:.3f}" if doc.get("risk_index") is not None else "",
             escape(doc.get("sentiment") or ""), escape(doc.get("kind") or ""),
             ("flags " + escape(", ".join(doc["flags"]))) if doc["flags"] else ""]
    evidence = "".join(f"<li>[{escape(str(e.get('label')))} {float(e.get('weight') or 0):.2f}] "
                       f"{escape(str(e.get('text'))[:300])}</li>" for e in doc["evidence"][:4])
    return (f'<div class="doc" id="doc-{escape(doc["id"])}"><p>{tags} <b>{_time(doc["ts"])} UTC</b> '
            f'<span class="muted">{escape(doc["id"])} - {" - ".join(f for f in facts if f)}</span>{link}</p>'
            f"<p>{escape(doc['text'][:1500])}</p>" + (f"<ul>{evidence}</ul>" if evidence else "") + "</div>")


def _drift_panel(store: MonitorState) -> str:
    status = views.drift_status(store)
    cfg = status["config"]
    source = "the monitor's settings" if status["recorded"] else "the default settings (this state does not record "\
                                                                 "the monitor's)"
    how = (f"Drift compares the first {cfg['reference_size']} documents (the reference) with the latest "
           f"{cfg['window_size']}, every {cfg['every']} documents ({source}): input length, unknown tokens, script, "
           f"P(negative), P(positive), sentiment labels and flags. Drift: PSI >= {cfg['psi']} with KS p <= "
           f"{cfg['ks_pvalue']}, or a JS distance >= {cfg['js']}.")
    if not status["rows"]:
        return (f"<p>{how}</p><p><b>No check yet</b>: the first needs {status['needed']} documents; "
                f"{status['scored']} are scored, {status['missing']} more to go.</p>")
    return (f"<p>{how}</p><p>Latest of {status['checks']} checks, after document {status['after']} "
            f"({status['scored']} scored; the next after document {status['after'] + cfg['every']}); red = drift, "
            "hover a bar for its statistic.</p>"
            + charts.embed("drift", charts.drift_chart(status["rows"])))


def overview_page(store: MonitorState, filters: Filters, entities: int = 6, refresh: int | None = None,
                  static: bool = False) -> str:
    """The overview: entity table with sparklines, index charts of the first ``entities``, alerts, highest-risk
    documents and drift (``static``: plotly.js inlined, no links to server pages)."""
    end = views.as_of(store)
    start = filters.start(end)
    rules = views.rule_names(store)
    colours = charts.rule_colours(rules)
    every_entity = [r["entity"] for r in views.overview_rows(store, Filters(window="all"), end)] if not static else []
    rows = views.overview_rows(store, filters, end)
    n_docs, n_alerts, pending = views.totals(store)
    table = []
    for i, r in enumerate(rows):
        tags = "".join(_rule_tag(rule, colours, n) for rule, n in sorted(r["alerts"].items())) or \
            '<span class="muted">none</span>'
        spark = charts.embed(f"s{i}", charts.sparkline(r["spark"]), "spark") if r["spark"] else ""
        table.append(f"<tr><td>{_entity_link(r['entity'], filters, static)}</td><td class=num>{_num(r['latest'])}"
                     f"</td><td class=num>{_num(r['change'], signed=True)}</td><td class=num>{r['docs']}</td>"
                     f"<td>{tags}</td><td>{spark}</td><td>{_time(r['latest_ts'])}</td></tr>")
    overview = ("<table><tr><th>entity</th><th>risk index</th><th>change in window</th><th>documents</th>"
                "<th>alerts in window (by rule)</th><th>index in window</th><th>latest document (UTC)</th></tr>"
                + "".join(table) + "</table>") if table else '<p class="muted">no documents yet</p>'
    figures = []
    for i, r in enumerate(rows[:entities]):
        marks = _marks(store, r["entity"], filters, start, colours)
        series = views.entity_series(store, r["entity"], start)
        figures.append(charts.embed(f"c{i}", charts.index_chart(r["entity"], series, marks, colours, height=300)))
    risky = views.risky_documents(store, filters, start)
    latest = views.alert_rows(store, filters, start, 25)
    flagged = "".join(_document_card(doc, [], colours, _entity_link(doc["entity"], filters, static))
                      for doc in risky) or \
        f'<p class="muted">no document with risk >= {RISKY} in this window</p>'
    form = "" if static else _filter_form(filters, every_entity, rules, end, "/")
    return (_head("textrisk monitor", refresh, static)
            + f"<h1>textrisk monitor</h1><p>{n_docs} documents, {n_alerts} alerts, {pending} webhook deliveries "
              f"pending; state {escape(store.label)}. <span class=\"tz\">All times are UTC.</span> Window: "
              f"{escape(filters.window)} up to {_time(end)} UTC.</p>{form}"
            + f"<h2>Entities</h2>{overview}"
            + f"<h2>Risk index per entity</h2><div class=\"charts\">{''.join(figures)}</div>"
            + f"<h2>Latest alerts</h2>{_alerts_table(latest, colours, filters, static)}"
            + f"<h2>Highest-risk documents (risk >= {RISKY})</h2>{flagged}"
            + f"<h2>Drift</h2>{_drift_panel(store)}</body></html>")


def _marks(store: MonitorState, entity: str, filters: Filters, start: float | None, colours: dict[str, str],
           limit: int = 500) -> list[dict[str, Any]]:
    """The entity's alerts as chart markers (at the index of their document, hover text and anchor)."""
    rows = views.alert_rows(store, Filters(entity=entity, rule=filters.rule, window=filters.window), start, limit)
    docs = views.documents_by_id(store, [r["doc_id"] for r in rows if r["doc_id"]])
    marks = []
    for r in rows:
        doc = docs.get(r["doc_id"] or "", {})
        p = r["payload"]
        excerpt = (doc.get("text") or "")[:120]
        hover = (f"<b>{escape(r['rule'])}</b> ({SEVERITY_LABELS.get(r['severity'], '')})<br>{_time(r['ts'])} UTC<br>"
                 f"{escape(p.get('summary') or '')}<br><i>{escape(excerpt)}</i>")
        marks.append({"ts": r["ts"], "rule": r["rule"], "value": doc.get("risk_index") or 0.0, "hover": hover,
                      "anchor": f"doc-{r['doc_id']}"})
    return marks


def entity_page(store: MonitorState, filters: Filters, refresh: int | None = None) -> str:
    """One entity: its index with alerts coloured by rule (hover text; a click shows the document), its alerts and
    the documents behind them, and its highest-risk documents."""
    entity = filters.entity or ""
    end = views.as_of(store)
    start = filters.start(end)
    rules = views.rule_names(store)
    colours = charts.rule_colours(rules)
    row = next(iter(views.overview_rows(store, filters, end)), None)
    title = f"{entity} - textrisk monitor"
    if row is None:
        return (_head(title, refresh, False) + f'<p><a href="/?{escape(filters.query())}">overview</a></p>'
                f"<h1>{escape(entity)}</h1><p>No documents for this entity in the state.</p></body></html>")
    marks = _marks(store, entity, filters, start, colours)
    chart = charts.embed("index", charts.index_chart(entity, views.entity_series(store, entity, start), marks, colours))
    click = ('<script>document.getElementById("index").on("plotly_click",function(e){var a=e.points[0].customdata;'
             'if(a){location.hash=a;}});</script>')
    rows = views.alert_rows(store, filters, start, 200)
    docs = views.documents_by_id(store, [r["doc_id"] for r in rows if r["doc_id"]])
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_doc.setdefault(r["doc_id"] or "", []).append(r)
    cards = "".join(_document_card(docs[i], by_doc[i], colours) for i in by_doc if i in docs) or \
        '<p class="muted">no alerts in this window</p>'
    shown = set(by_doc)
    risky = [d for d in views.risky_documents(store, filters, start, 10) if d["id"] not in shown]
    facts = (f"risk index {_num(row['latest'])} (change in window {_num(row['change'], signed=True)}), "
             f"{row['docs']} documents and {sum(row['alerts'].values())} alerts in the window")
    return (_head(title, refresh, False)
            + f'<p><a href="/?{escape(filters.query())}">&larr; overview</a></p>'
            + f"<h1>{escape(entity)}</h1><p>{facts}. <span class=\"tz\">All times are UTC.</span></p>"
            + _filter_form(filters, [], rules, end, f"/entity/{quote(entity, safe='')}")
            + chart + click
            + f"<h2>Alerts</h2>{_alerts_table(rows, colours, filters, False, with_entity=False)}"
            + f"<h2>Documents behind the alerts</h2>{cards}"
            + (f"<h2>Other high-risk documents (risk >= {RISKY})</h2>"
               + "".join(_document_card(d, [], colours) for d in risky) if risky else "")
            + "</body></html>")
