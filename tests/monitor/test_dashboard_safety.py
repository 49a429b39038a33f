"""The dashboard's Host allow-list (no DNS rebinding) and crash safety (bad rows, a state gone while serving)."""

import http.client
import re
import threading

import pytest

from textrisk.monitor.dashboard import make_server, render_page
from textrisk.monitor.engine import Monitor
from textrisk.monitor.records import Record
from textrisk.monitor.rules import parse_rules
from textrisk.monitor.state import MonitorState
from textrisk.monitor.views import Filters

from ..helpers import FakeAnalyzer


@pytest.fixture
def state(tmp_path):
    path = tmp_path / "s.db"
    rules = parse_rules({"rules": [{"name": "hi", "type": "level", "above": 0.5, "cooldown_hours": 0}]})
    mon = Monitor(FakeAnalyzer(), MonitorState(path), rules)
    mon.process([(Record(str(i), 1.42e9 + 3600 * i, "AAPL", "neg=0.9"), None) for i in range(5)])
    # rows an older textrisk let in: a time far out of range, an infinite one
    mon.state.db.execute("UPDATE documents SET ts = 1e20 WHERE id = '3'")
    mon.state.db.execute("UPDATE documents SET ts = 9e999 WHERE id = '4'")
    mon.state.db.execute("UPDATE alerts SET ts = 1e20 WHERE doc_id = '3'")
    mon.state.close()
    return path


def test_rows_out_of_range_never_break_the_page(state):
    page = render_page(state, filters=Filters(window="all"))
    assert re.search(r">AAPL</a></td><td class=num>[0-9.]+</td><td class=num>.*?</td><td class=num>3</td>", page)
    assert "out of range" not in page and "1e+20" not in page  # left out, not shown as times


def _get(server, host):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    connection.putrequest("GET", "/", skip_host=True)
    if host is not None:
        connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response.status, body


@pytest.mark.parametrize(("host", "status"), [
    ("127.0.0.1:{port}", 200), ("localhost:{port}", 200), ("[::1]:{port}", 200), ("dash.internal", 200),
    ("attacker.example:{port}", 400), ("127.0.0.1.attacker.example", 400), (None, 400),
])
def test_only_allowed_host_names_are_answered(state, host, status):
    server = make_server(state, "127.0.0.1", 0, allowed=("localhost", "127.0.0.1", "::1", "dash.internal"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        got, body = _get(server, host.format(port=server.server_address[1]) if host else None)
        assert got == status
        if status == 400:
            assert "is not allowed" in body and "AAPL" not in body
        else:
            assert "textrisk monitor" in body
    finally:
        server.shutdown()
        server.server_close()


def test_a_state_gone_while_serving_gives_an_error_page_and_the_server_goes_on(state):
    server = make_server(state, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        moved = state.with_name("elsewhere.db")
        state.rename(moved)
        status, body = _get(server, "127.0.0.1")
        assert status == 503 and "cannot be read now" in body and "does not exist" in body
        moved.rename(state)
        assert _get(server, "127.0.0.1")[0] == 200
    finally:
        server.shutdown()
        server.server_close()
