"""A tiny monitor process for the kill/restart tests (``python -m tests.monitor.fake_monitor ...``): the monitor
over the fake analyzer of tests/helpers.py (texts say their own scores), so it needs no model; with the inputs and
rules those tests replay, and the helper that kills it part way. Not a test module."""

from __future__ import annotations

import json
import random
import sys
import time


def stream(path, n=24):
    """``n`` monitor records (two entities) of the sample sentences, for the CLI tests."""
    from ..helpers import SENTENCES

    with path.open("w") as handle:
        for i in range(n):
            handle.write(json.dumps({"id": f"n{i}", "timestamp": f"2015-03-0{1 + i % 5}T1{i % 10}:00:00Z",
                                     "entity": ["NOK", "AAPL"][i % 2], "text": SENTENCES[i % len(SENTENCES)]})
                         + "\n")


WALL_CLOCK = {"arrived", "created", "emitted"}


def record_lines(n, poison_every=None):
    """``n`` JSONL lines (bytes) of records over entities A, B, C whose texts state their scores; with
    ``poison_every``, every such line is a record that cannot be processed (four kinds in turn) instead.
    Returns the lines and the number of poison lines."""
    rng = random.Random(7)
    lines, poison = [], 0
    for i in range(n):
        if poison_every and i % poison_every == poison_every - 1:
            poison += 1
            lines.append([b'{"id": "bad", "timestamp": NaN, "entity": "A", "text": "x"}',
                          b'{"id": "p\\ud800", "timestamp": 1, "entity": "A", "text": "x"}',
                          b'{"id": "b", "timestamp": 1, "entity": "A", "text": "\xff\xfe"}',
                          b'{"id": "torn", "time'][poison % 4] + f' {{"n": {i}}}'.encode() * (poison % 4 == 3)
                         + b"\n")
            continue
        neg, credit = rng.choice([0.1, 0.2, 0.3, 0.9]), rng.choice([0.0, 0.0, 0.0, 0.9])
        lines.append((json.dumps({"id": f"d{i}", "timestamp": 3600.0 * i / 3, "entity": rng.choice("ABC"),
                                  "text": f"neg={neg} credit={credit}"}) + "\n").encode())
    return lines, poison


def write_rules(path, port, timeout_seconds=2.0):
    """The rules of the kill/restart tests (every rule type, drift, a webhook on ``port``) as YAML at ``path``."""
    rules = {"index": {"half_life_hours": 6, "window_hours": 12},
             "rules": [{"name": "hi", "type": "level", "above": 0.5, "cooldown_hours": 6},
                       {"name": "jump", "type": "jump", "z": 2, "min_history": 5, "cooldown_hours": 6},
                       {"name": "credit", "type": "signal", "signal": "credit", "probability": 0.8,
                        "cooldown_hours": 3},
                       {"name": "vol", "type": "volume", "factor": 1.5, "min_count": 3, "lookback_windows": 2}],
             "drift": {"reference_size": 40, "window_size": 30, "every": 20},
             "webhooks": [{"url": f"http://127.0.0.1:{port}/alerts", "backoff_seconds": 0.05,
                           "max_backoff_seconds": 0.2, "max_attempts": 10000, "timeout_seconds": timeout_seconds}]}
    path.write_text(json.dumps(rules))  # JSON is YAML


def write_inputs(tmp_path, n, port):
    """``in.jsonl`` of ``n`` records and ``rules.yaml`` with a webhook on ``port``."""
    (tmp_path / "in.jsonl").write_bytes(b"".join(record_lines(n)[0]))
    write_rules(tmp_path / "rules.yaml", port)


def alert_lines(path):
    return [{k: v for k, v in json.loads(line).items() if k not in WALL_CLOCK}
            for line in path.read_text().splitlines()]


def documents(path) -> int:
    """Documents and dead letters committed in the SQLite state at ``path`` (0 while it has no schema)."""
    import sqlite3

    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            count = db.execute("SELECT count(*) FROM documents").fetchone()[0]
            try:
                count += db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
            except sqlite3.Error:
                pass
            return count
        finally:
            db.close()
    except sqlite3.Error:  # the schema is not there yet
        return 0


def snapshot(path) -> dict:
    """Every table of the SQLite state at ``path`` but the source positions, without wall-clock and delivery-timing
    columns; dead letters without their location (the file and line a record was read from)."""
    import sqlite3

    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    out = {}
    for table, order in (("documents", "seq"), ("entities", "entity"), ("alerts", "seq"),
                         ("drift", "seq_end, feature"), ("outbox", "alert_id"), ("dead_letters", "seq")):
        rows = []
        for row in db.execute(f"SELECT * FROM {table} ORDER BY {order}"):
            row = {k: row[k] for k in row.keys() if k not in WALL_CLOCK | {"attempts", "next_attempt",
                                                                         "last_error", "delivered_at", "url"}}
            if "payload" in row:
                row["payload"] = {k: v for k, v in json.loads(row["payload"]).items() if k not in WALL_CLOCK}
            if table == "dead_letters":
                location = row.pop("location")
                row["error"] = row["error"].removeprefix(location)
            rows.append(row)
        out[table] = rows
    db.close()
    return out


def kill_after_progress(process, documents, before: int, delay: float) -> bool:
    """Wait until ``documents()`` (the state's document count) passes ``before`` or ``process`` ends, then
    ``delay`` seconds; SIGKILL the process if it still runs. True if it was killed."""
    import signal

    deadline = time.monotonic() + 60
    while documents() <= before and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(delay)
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return killed


def main(argv: list[str]) -> int:
    """``INPUT STATE ALERTS RULES BATCH DELAY [follow]``: run a monitor with the fake analyzer over INPUT once (with
    ``follow``: tail it until killed); dead letters go to ALERTS with ``.dead.jsonl`` for ``.jsonl``."""
    from textrisk.monitor.alerts_file import AlertsFile, DeadLetterFile
    from textrisk.monitor.engine import Monitor
    from textrisk.monitor.rules import load_rules
    from textrisk.monitor.source import open_source
    from textrisk.monitor.state import MonitorState

    source, state_path, alerts, rules, batch, delay, *mode = argv
    state = MonitorState(state_path)
    from ..helpers import FakeAnalyzer

    monitor = Monitor(FakeAnalyzer(signals=True, delay=float(delay)), state, load_rules(rules),
                      AlertsFile(alerts), batch_size=int(batch),
                      dead_letters=DeadLetterFile(alerts.removesuffix(".jsonl") + ".dead.jsonl"))
    monitor.sync_files()
    follow = mode == ["follow"]
    monitor.run(open_source(source, state.offsets()), once=not follow, poll_seconds=0.02)
    while state.pending_outbox():  # keep retrying deliveries (the test kills us or the server comes up)
        monitor.deliver()
        time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
