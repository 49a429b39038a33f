"""Webhook delivery: redirects are failures (never a body-less GET counted as delivered), and a slow webhook never
holds up scoring (deliveries run in their own thread)."""

import threading
import time

import pytest

from textrisk.monitor.engine import Monitor
from textrisk.monitor.records import Record
from textrisk.monitor.rules import parse_rules
from textrisk.monitor.source import Source
from textrisk.monitor.state import MonitorState

from ..helpers import FakeAnalyzer
from .webhook_server import Receiver


def _rules(url, timeout=5):
    return parse_rules({"rules": [{"name": "hi", "type": "level", "above": 0.5, "cooldown_hours": 0}],
                        "alerts": {"burst_hours": 0},
                        "webhooks": [{"url": url, "backoff_seconds": 0.01, "max_backoff_seconds": 0.01,
                                      "timeout_seconds": timeout}]})


def _outbox(state):
    return [tuple(row) for row in state.db.execute("SELECT alert_id, status, last_error FROM outbox")]


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failed_attempt_not_a_delivery(tmp_path, code):
    with Receiver(fail_first=1, redirect=code) as server:
        mon = Monitor(FakeAnalyzer(), MonitorState(tmp_path / "s.db"), _rules(server.url), clock=time.time)
        mon.process([(Record("d0", 1.0, "X", "neg=0.9"), None)])
        assert mon.deliver() == 0
        (alert, status, error), = _outbox(mon.state)
        assert status == "pending" and error.startswith(f"HTTP {code} redirect to '/moved' (not followed")
        assert server.gets == 0  # the redirect was not followed as a GET
        time.sleep(0.05)
        assert mon.deliver() == 1 and _outbox(mon.state) == [(alert, "delivered", None)]
        assert [key for key, _ in server.posts] == ["hi|X|d0"] and server.posts[0][1]["rule"] == "hi"


class _Listed(Source):
    """A source over records in memory, in batches (no file)."""

    def __init__(self, records):
        self.items = [(record, None) for record in records]

    def poll(self, final=False):
        while self.items:
            yield self.items.pop(0)


def test_a_webhook_that_does_not_answer_does_not_hold_up_scoring(tmp_path):
    release = threading.Event()
    records = [Record(f"d{i}", float(i), "X", "neg=0.9") for i in range(10)]
    with Receiver(hold=release) as server:
        def monitor():  # in a thread of its own (a SQLite connection stays in the thread that opened it)
            state = MonitorState(tmp_path / "s.db")
            Monitor(FakeAnalyzer(), state, _rules(server.url, timeout=60), batch_size=2,
                    clock=time.time).run(_Listed(records), once=True)
            state.close()

        runner = threading.Thread(target=monitor)
        runner.start()
        assert server.waiting.wait(60)  # the first POST arrived and hangs
        deadline = time.monotonic() + 120
        while _count(tmp_path / "s.db") < 10:  # every batch commits while the webhook still hangs
            assert time.monotonic() < deadline and runner.is_alive()
            time.sleep(0.05)
        assert not release.is_set() and server.posts == []
        release.set()
        runner.join(120)
        assert not runner.is_alive()
    assert {key for key, _ in server.posts} == {f"hi|X|d{i}" for i in range(10)}
    state = MonitorState(tmp_path / "s.db", readonly=True)
    assert all(status == "delivered" for _, status, _ in _outbox(state))
    state.close()


def _count(path):
    state = MonitorState(path, readonly=True)
    try:
        return state.document_count()
    finally:
        state.close()
