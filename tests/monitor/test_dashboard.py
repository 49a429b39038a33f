"""The dashboard in a real headless browser (Debian's chromium; .ci/run installs it)."""

import re
import shutil
import subprocess
import threading

import numpy as np
import pytest

from textrisk.monitor.dashboard import export_html, make_server, render_page
from textrisk.monitor.engine import Monitor
from textrisk.monitor.records import Record
from textrisk.monitor.rules import parse_rules
from textrisk.monitor.state import MonitorState

from ..helpers import FakeAnalyzer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def state_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("dash") / "state.db"
    rules = parse_rules({"rules": [{"name": "hi", "type": "level", "above": 0.6, "cooldown_hours": 12},
                                   {"name": "credit", "type": "signal", "signal": "credit", "probability": 0.8}],
                         "drift": {"reference_size": 60, "window_size": 40, "every": 20}})
    mon = Monitor(FakeAnalyzer(signals=True), MonitorState(path), rules)
    rng = np.random.default_rng(0)
    batch = []
    for i in range(200):
        neg = rng.uniform(0, 0.4) if i < 120 else rng.uniform(0.4, 1.0)
        credit = 0.9 if rng.uniform() < 0.1 else 0.0
        batch.append((Record(id=str(i), timestamp=1.42e9 + 3600 * i, entity=["AAPL", "XOM"][i % 2],
                             text=f"neg={neg:.2f} credit={credit} <b>bank</b> & co missed a coupon"), None))
    mon.process(batch)
    mon.state.close()
    return path


def chromium(profile, *args):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def console_messages(stderr):
    return re.findall(r":CONSOLE[^\]]*\] (.*)", stderr)


def test_page_html_escapes_and_has_every_panel(state_file):
    page = render_page(state_file)
    for title in ("Risk index per entity", "Latest alerts", "Latest flagged documents", "Drift"):
        assert title in page
    assert "<b>bank</b>" not in page and "&lt;b&gt;bank&lt;/b&gt;" in page
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


@needs_chromium
def test_console_detection_sees_an_error(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<html><body><script>console.error("planted-error")</script></body></html>')
    result = chromium(tmp_path / "profile", "--dump-dom", page.as_uri())
    assert any("planted-error" in m for m in console_messages(result.stderr))


@needs_chromium
def test_dashboard_in_headless_chromium(state_file, tmp_path):
    from PIL import Image

    server = make_server(state_file, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        dom = chromium(tmp_path / "p1", "--dump-dom", url)
        shot = tmp_path / "dashboard.png"
        picture = chromium(tmp_path / "p2", f"--screenshot={shot}", "--window-size=1200,1400",
                           "--hide-scrollbars", url)
    finally:
        server.shutdown()
        server.server_close()
    assert dom.returncode == 0 and "<h1>textrisk monitor</h1>" in dom.stdout
    charts = re.findall(r'<svg class="chart".*?</svg>', dom.stdout, flags=re.S)
    assert len(charts) == 3  # two entities + the drift bars
    series = re.findall(r'<path class="series" d="([^"]+)"', dom.stdout)
    assert len(series) == 2 and all(d.count("L") >= 50 for d in series)
    assert dom.stdout.count('<circle class="alert"') >= 2
    assert "<rect" in charts[-1]
    assert console_messages(dom.stderr + picture.stderr) == []
    assert picture.returncode == 0 and shot.is_file()
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[0] >= 1000 and image.shape[1] >= 1000
    colours = {tuple(c) for c in image.reshape(-1, 3)[::97]}
    assert len(colours) > 10  # not blank
    blue = np.all(np.abs(image.astype(int) - (31, 119, 180)) < 30, axis=-1).sum()
    red = np.all(np.abs(image.astype(int) - (214, 39, 40)) < 30, axis=-1).sum()
    assert blue > 200 and red > 20  # the series lines and the alert dots were painted


def test_static_export_matches_the_served_page(state_file, tmp_path):
    out = tmp_path / "report.html"
    export_html(state_file, out)
    assert out.read_text() == render_page(state_file)
