"""The dashboard a desk reads: overview, entity pages, filters, drift panel, offline Plotly charts, and both pages in
a real headless browser (Debian's chromium; .ci/run installs it)."""

import http.client
import json
import re
import threading
from urllib.parse import quote

import numpy as np
import pytest

from textrisk.errors import InputError
from textrisk.monitor.charts import PLOTLY_JS_URL, plotly_js, rule_colours
from textrisk.monitor.dashboard import export_html, make_server, render_entity, render_page
from textrisk.monitor.engine import Monitor
from textrisk.monitor.records import Record
from textrisk.monitor.rules import parse_rules
from textrisk.monitor.state import MonitorState
from textrisk.monitor.views import Filters, rule_names

from ..helpers import FakeAnalyzer, chromium, console_messages, needs_chromium

DRIFT = {"reference_size": 60, "window_size": 40, "every": 20}
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"  # nothing but the dashboard can be reached


def _state(path, n, entities=("AAPL", "XOM")):
    rules = parse_rules({"rules": [{"name": "hi", "type": "level", "index": "negative", "above": 0.6,
                                    "cooldown_hours": 12},
                                   {"name": "credit", "type": "signal", "signal": "credit", "probability": 0.8}],
                         "drift": DRIFT, "alerts": {"burst_hours": 0}})
    mon = Monitor(FakeAnalyzer(signals=True), MonitorState(path), rules)
    rng = np.random.default_rng(0)
    batch = []
    for i in range(n):
        neg = rng.uniform(0, 0.4) if i < 120 else rng.uniform(0.4, 1.0)
        credit = 0.9 if rng.uniform() < 0.1 else 0.0
        batch.append((Record(id=f"d {i}", timestamp=1.42e9 + 3600 * i, entity=entities[i % len(entities)],
                             text=f"neg={neg:.2f} credit={credit} <b>bank</b> & co missed a coupon"), None))
    mon.process(batch)
    mon.state.close()
    return path


@pytest.fixture(scope="module")
def state_file(tmp_path_factory):
    return _state(tmp_path_factory.mktemp("dash") / "state.db", 200)


@pytest.fixture(scope="module")
def server(state_file):
    server = make_server(state_file, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _get(address, path):
    connection = http.client.HTTPConnection(address, timeout=60)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, response.getheader("Content-Type"), body


def _figures(page):
    """The Plotly figures of a page (the JSON each script draws)."""
    return {m.group(1): json.loads(m.group(2)) for m in
            re.finditer(r'<div class="[a-z]+" id="([^"]+)"></div><script>\(function\(\)\{var f=(.*?);Plotly', page)}


def test_overview_has_every_panel_escapes_and_loads_nothing_from_outside(state_file):
    page = render_page(state_file, filters=Filters(window="all"))
    for title in ("Entities", "Risk index per entity", "Latest alerts", "Highest-risk documents", "Drift",
                  "All times are UTC"):
        assert title in page
    assert "<b>bank</b>" not in page and "&lt;b&gt;bank&lt;/b&gt;" in page
    assert re.findall(r'<script src="([^"]+)"', page) == [PLOTLY_JS_URL]
    assert "http://" not in page and "https://" not in page
    figures = _figures(page)
    assert {"s0", "s1", "c0", "c1", "drift"} <= figures.keys()  # two sparklines, two index charts, drift bars
    chart = figures["c0"]
    assert chart["layout"]["xaxis"]["title"]["text"] == "time (UTC)"
    top = chart["layout"]["yaxis"]["range"][1]
    assert top <= 1.0 and top >= 1.1 * max(chart["data"][0]["y"]) - 1e-9  # the axis fits the series
    rules = {trace["name"]: trace["marker"]["color"] for trace in chart["data"][1:]}
    assert len(rules) == 2 and len(set(rules.values())) == 2  # alerts coloured by rule
    assert all(trace["text"] and "UTC" in trace["text"][0] for trace in chart["data"][1:])  # hover text


def test_overview_rows_say_index_change_alerts_and_link_the_entity(state_file):
    page = render_page(state_file, filters=Filters(window="all"))
    rows = re.findall(r"<tr><td><a href=\"/entity/(\w+)\?window=all\">\w+</a></td><td class=num>([0-9.]+)</td>"
                      r"<td class=num><span class=\"(up|down)\">([+-][0-9.]+)</span></td><td class=num>(\d+)</td>",
                      page)
    assert sorted(r[0] for r in rows) == ["AAPL", "XOM"] and all(int(r[4]) == 100 for r in rows)
    assert 'class="rule"' in page


def test_filters_narrow_every_panel(state_file):
    everything = render_page(state_file, filters=Filters(window="all"))
    only = render_page(state_file, filters=Filters(entity="XOM", rule="credit", window="all"))
    assert "/entity/AAPL" not in only and "/entity/AAPL" in everything
    alerts = only.split("<h2>Latest alerts</h2>")[1].split("<h2>")[0]
    assert ">credit</span>" in alerts and ">hi</span>" not in alerts
    week = render_page(state_file, filters=Filters(window="7d"))
    assert "Window: 7d up to" in week
    counts = [int(n) for n in re.findall(r"</span></td><td class=num>(\d+)</td>", week)]
    assert sorted(counts) == [84, 85]  # 7 days of hourly documents (both ends in), two entities
    with pytest.raises(InputError, match="window must be one of 7d, 30d, 90d, 1y, all, got '2w'"):
        Filters.from_query("window=2w")
    with pytest.raises(InputError, match="unknown query parameter 'colour'"):
        Filters.from_query("colour=red")


def test_entity_page_shows_alerts_and_the_documents_behind_them(state_file):
    page = render_entity(state_file, "XOM", Filters(window="all"))
    assert "<h1>XOM</h1>" in page and "All times are UTC" in page
    chart = _figures(page)["index"]
    markers = [trace for trace in chart["data"] if trace["mode"] == "markers"]
    anchors = [a for trace in markers for a in trace["customdata"]]
    assert anchors and all(f'id="{a}"' in page for a in anchors)  # every alert's document is on the page
    alerts = page.split("<h2>Alerts</h2>")[1].split("<h2>")[0]
    links = re.findall(r'href="/entity/XOM\?window=all#(doc-[^"]+)"', alerts)
    assert links and all(f'id="{quote(a[4:], safe="")}"' in page or f'id="{a}"' in page
                         for a in (link.replace("%20", " ") for link in links))
    assert "No documents" in render_entity(state_file, "MSFT")


def test_drift_panel_says_what_it_needs(tmp_path, state_file):
    early = render_page(_state(tmp_path / "early.db", 30), filters=Filters(window="all"))
    panel = early.split("<h2>Drift</h2>")[1]
    assert "the first 60 documents (the reference) with the latest 40, every 20 documents (the monitor's" in panel
    assert "No check yet</b>: the first needs 100 documents; 30 are scored, 70 more to go." in panel
    later = render_page(state_file).split("<h2>Drift</h2>")[1]
    assert "Latest of 6 checks, after document 200" in later and 'id="drift"' in later


def test_server_routes_assets_and_bad_filters(server):
    status, kind, body = _get(server, PLOTLY_JS_URL)
    assert status == 200 and kind.startswith("text/javascript") and body == plotly_js()
    assert _get(server, "/entity/XOM?window=90d")[0] == 200
    status, _, body = _get(server, "/?window=forever")
    assert status == 400 and b"window must be one of" in body
    assert _get(server, "/nothing")[0] == 404


@needs_chromium
def test_console_detection_sees_an_error(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<html><body><script>console.error("planted-error")</script></body></html>')
    result = chromium(tmp_path / "profile", "--dump-dom", page.as_uri())
    assert any("planted-error" in m for m in console_messages(result.stderr))


@needs_chromium
@pytest.mark.parametrize("path", ["/?window=all", "/entity/XOM?window=all"])
def test_pages_in_headless_chromium_offline(server, state_file, tmp_path, path):
    from PIL import Image

    url = f"http://{server}{path}"
    dom = chromium(tmp_path / "p1", OFFLINE, "--virtual-time-budget=10000", "--dump-dom", url)
    shot = tmp_path / "page.png"
    picture = chromium(tmp_path / "p2", OFFLINE, "--virtual-time-budget=10000", f"--screenshot={shot}",
                       "--window-size=1300,1500", "--hide-scrollbars", url)
    assert dom.returncode == 0 and "textrisk monitor" in dom.stdout
    assert dom.stdout.count('class="main-svg"') >= 2  # Plotly drew the charts
    assert len(re.findall(r'<path class="point', dom.stdout)) >= 2  # alert markers
    assert "2015" in dom.stdout and "time (UTC)" in dom.stdout  # readable date ticks and the zone
    assert console_messages(dom.stderr + picture.stderr) == []
    assert picture.returncode == 0 and shot.is_file()
    image = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert len({tuple(c) for c in image.reshape(-1, 3)[::97]}) > 10  # not blank
    store = MonitorState(state_file, readonly=True)
    colours = rule_colours(rule_names(store))
    store.close()

    def painted(hex_colour):
        rgb = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        return np.all(np.abs(image - rgb) < 30, axis=-1).sum()

    assert painted("#1f77b4") > 200  # the index line
    assert painted(colours["credit"]) > 20 and painted(colours["hi"]) > 20  # each rule in its own colour


def test_static_export_is_self_contained(state_file, tmp_path):
    out = tmp_path / "report.html"
    export_html(state_file, out)
    text = out.read_text()
    assert text == render_page(state_file, static=True)
    assert "<script src=" not in text and plotly_js().decode()[:200] in text and "/entity/" not in text
