"""Soak: the monitor follows a file that is rotated (rename-and-recreate, then copytruncate, then rename again)
during a replay, while it is SIGKILLed at random 10 times and its webhook redirects, hangs past its timeout and
fails. The end state equals an uninterrupted run over the same records; every record is processed or
dead-lettered exactly once; every alert is delivered."""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from ..helpers import REPO
from .fake_monitor import alert_lines, documents, snapshot
from .webhook_server import Receiver, free_port

N = 600
KILLS = 10


def _lines():
    rng = random.Random(7)
    lines, poison = [], 0
    for i in range(N):
        if i % 41 == 40:  # a poison record now and then, of every kind
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


def _rules(path, port):
    rules = {"index": {"half_life_hours": 6, "window_hours": 12},
             "rules": [{"name": "hi", "type": "level", "above": 0.5, "cooldown_hours": 6},
                       {"name": "jump", "type": "jump", "z": 2, "min_history": 5, "cooldown_hours": 6},
                       {"name": "credit", "type": "signal", "signal": "credit", "probability": 0.8,
                        "cooldown_hours": 3},
                       {"name": "vol", "type": "volume", "factor": 1.5, "min_count": 3, "lookback_windows": 2}],
             "drift": {"reference_size": 40, "window_size": 30, "every": 20},
             "webhooks": [{"url": f"http://127.0.0.1:{port}/alerts", "backoff_seconds": 0.05,
                           "max_backoff_seconds": 0.2, "max_attempts": 10000, "timeout_seconds": 0.3}]}
    path.write_text(json.dumps(rules))


def _monitor(tmp_path, name, *mode):
    return [sys.executable, "-m", "tests.monitor.fake_monitor", str(tmp_path / f"{name}_in.jsonl"),
            str(tmp_path / f"{name}.db"), str(tmp_path / f"{name}.jsonl"), str(tmp_path / f"{name}_rules.yaml"),
            "7", "0.01", *mode]


def _shift(path):
    for n in range(9, 0, -1):
        if os.path.exists(f"{path}.{n}"):
            os.replace(f"{path}.{n}", f"{path}.{n + 1}")


def _rename(path):
    _shift(path)
    os.replace(path, f"{path}.1")
    open(path, "wb").close()


def _copytruncate(path):
    _shift(path)
    shutil.copyfile(path, f"{path}.1")
    os.truncate(path, 0)


ROTATIONS = {150: _rename, 300: _copytruncate, 450: _rename}


def _behaviour(attempt):
    """The webhook: redirects, then hangs past the timeout, then fails, then answers."""
    return "redirect" if attempt <= 6 else "hang" if attempt <= 9 else "fail" if attempt <= 14 else "ok"


@pytest.mark.slow
def test_soak_rotation_kills_and_a_misbehaving_webhook(tmp_path):
    lines, poison = _lines()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with Receiver() as reference:  # the uninterrupted run: one file, a webhook that always answers
        (tmp_path / "ref_in.jsonl").write_bytes(b"".join(lines))
        _rules(tmp_path / "ref_rules.yaml", reference.server.server_address[1])
        subprocess.run(_monitor(tmp_path, "ref"), cwd=REPO, env=env, check=True, timeout=300)
        reference_posts = {key for key, _ in reference.posts}

    port = free_port()
    _rules(tmp_path / "run_rules.yaml", port)
    path = tmp_path / "run_in.jsonl"
    path.write_bytes(b"")

    def writer():  # the replay: about 20 s of appends, rotated three times on the way
        for n, line in enumerate(lines):
            if n in ROTATIONS:
                time.sleep(0.05)
                ROTATIONS[n](path)
                time.sleep(0.05)
            with open(path, "ab") as handle:
                handle.write(line)
            time.sleep(0.03)

    rng = random.Random(11)
    with Receiver(port=port, behaviour=_behaviour, hang_seconds=1.0) as server:
        replay = threading.Thread(target=writer)
        replay.start()
        kills = 0
        for _ in range(KILLS):  # follow the file; SIGKILL at a random moment after some progress
            before = documents(tmp_path / "run.db")
            process = subprocess.Popen(_monitor(tmp_path, "run", "follow"), cwd=REPO, env=env)
            deadline = time.monotonic() + 120
            while documents(tmp_path / "run.db") <= before and time.monotonic() < deadline:
                assert process.poll() is None, f"the monitor exited with {process.returncode}"
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.3))
            assert process.poll() is None, f"the monitor exited with {process.returncode}"
            process.send_signal(signal.SIGKILL)
            assert process.wait(timeout=30) == -signal.SIGKILL
            kills += 1
        replay.join(timeout=300)
        assert not replay.is_alive()
        subprocess.run(_monitor(tmp_path, "run"), cwd=REPO, env=env, check=True, timeout=300)  # the rest, once

    assert kills == KILLS and sorted(p.name for p in tmp_path.glob("run_in.jsonl*"))[-1] == "run_in.jsonl.3"
    ref, run = snapshot(tmp_path / "ref.db"), snapshot(tmp_path / "run.db")
    assert len(run["documents"]) == N - poison and len(run["dead_letters"]) == poison
    assert len({d["id"] for d in run["documents"]}) == N - poison  # each record once
    assert ref == run  # documents, indices, alerts, drift, outbox and dead letters, bar wall clock and location
    assert alert_lines(tmp_path / "run.jsonl") == alert_lines(tmp_path / "ref.jsonl")  # none lost, none twice
    dead = [json.loads(line) for line in (tmp_path / "run.dead.jsonl").read_text().splitlines()]
    assert [d["seq"] for d in dead] == list(range(1, poison + 1))
    assert all(d["location"].startswith(str(path)) for d in dead)
    assert {key for key, _ in server.posts} == reference_posts == {a["id"] for a in run["alerts"]}
    assert all(row["status"] == "delivered" for row in run["outbox"])
    assert server.attempts > len(reference_posts)  # it misbehaved, then answered
    rotated = sum(not d["location"].startswith(f"{path} ") for d in dead)
    print(f"soak: {kills} kills, {len(run['documents'])} documents, {poison} dead letters ({rotated} read from "
          f"rotated files), {len(reference_posts)} alerts, {server.attempts} webhook attempts")
