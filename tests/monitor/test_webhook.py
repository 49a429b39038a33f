from textrisk.monitor.engine import Monitor
from textrisk.monitor.records import Record
from textrisk.monitor.rules import parse_rules
from textrisk.monitor.state import MonitorState
from textrisk.monitor.webhook import WebhookConfig, backoff_delay

from ..helpers import FakeAnalyzer
from .webhook_server import Receiver, free_port


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def make(tmp_path, url, clock, max_attempts=5):
    rules = parse_rules({"rules": [{"name": "hi", "type": "level", "above": 0.5, "cooldown_hours": 0}],
                         "alerts": {"burst_hours": 0},
                         "webhooks": [{"url": url, "max_attempts": max_attempts, "backoff_seconds": 1,
                                       "timeout_seconds": 2}]})
    mon = Monitor(FakeAnalyzer(), MonitorState(tmp_path / "s.db"), rules, clock=clock)
    mon.process([(Record(id=f"d{i}", timestamp=i, entity="X", text="neg=0.9"), None) for i in range(2)])
    return mon


def outbox(mon):
    return [tuple(r) for r in mon.state.db.execute("SELECT alert_id, status, attempts FROM outbox ORDER BY alert_id")]


def test_backoff_doubles_up_to_the_cap():
    hook = WebhookConfig(url="http://x", backoff_seconds=1, max_backoff_seconds=5)
    assert [backoff_delay(hook, n) for n in range(1, 6)] == [1, 2, 4, 5, 5]


def test_retries_with_backoff_until_delivered(tmp_path):
    clock = Clock()
    with Receiver(fail_first=2) as server:
        mon = make(tmp_path, server.url, clock)
        assert mon.deliver() == 0  # first alert fails (503); the URL is not retried in the same pass
        assert outbox(mon) == [("hi|X|d0", "pending", 1), ("hi|X|d1", "pending", 0)]
        clock.now = 0.5  # d0 waits 1 s; d1 is due: the server's second failure
        assert mon.deliver() == 0 and server.attempts == 2
        clock.now = 0.9
        assert mon.deliver() == 0 and server.attempts == 2  # nothing due yet
        clock.now = 3.0  # d0 (due at 1) and d1 (due at 0.5 + 1) both succeed now
        assert mon.deliver() == 2
        assert outbox(mon) == [("hi|X|d0", "delivered", 2), ("hi|X|d1", "delivered", 2)]
        assert sorted(key for key, _ in server.posts) == ["hi|X|d0", "hi|X|d1"]
        assert server.posts[0][1]["rule"] == "hi" and server.posts[0][1]["entity"] == "X"


def test_outage_survives_a_restart_and_gives_up_after_max_attempts(tmp_path):
    clock = Clock()
    port = free_port()
    mon = make(tmp_path, f"http://127.0.0.1:{port}/alerts", clock, max_attempts=3)
    mon.deliver()
    error = mon.state.db.execute("SELECT last_error FROM outbox WHERE alert_id='hi|X|d0'").fetchone()[0]
    assert "refused" in error.lower() or "error" in error.lower()
    mon.state.close()
    rules = mon.rules
    mon = Monitor(FakeAnalyzer(), MonitorState(tmp_path / "s.db"), rules, clock=clock)  # a restart
    with Receiver(port=port) as server:
        clock.now = 100.0
        assert mon.deliver() == 2
        assert {key for key, _ in server.posts} == {"hi|X|d0", "hi|X|d1"}
    port2 = free_port()
    rules = parse_rules({"rules": [{"name": "hi", "type": "level", "above": 0.5, "cooldown_hours": 0}],
                         "alerts": {"burst_hours": 0},
                         "webhooks": [{"url": f"http://127.0.0.1:{port2}/", "max_attempts": 2,
                                       "backoff_seconds": 1}]})
    mon = Monitor(FakeAnalyzer(), MonitorState(tmp_path / "t.db"), rules, clock=clock)
    mon.process([(Record(id="z", timestamp=0, entity="X", text="neg=0.9"), None)])
    for step in range(5):
        clock.now = 1000.0 + 10 * step
        mon.deliver()
    assert outbox(mon) == [("hi|X|z", "dead", 2)]
