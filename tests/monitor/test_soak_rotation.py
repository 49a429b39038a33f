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
from .fake_monitor import alert_lines, documents, record_lines, snapshot, write_rules
from .webhook_server import Receiver, free_port

N = 600
KILLS = 10


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
    lines, poison = record_lines(N, poison_every=41)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with Receiver() as reference:  # the uninterrupted run: one file, a webhook that always answers
        (tmp_path / "ref_in.jsonl").write_bytes(b"".join(lines))
        write_rules(tmp_path / "ref_rules.yaml", reference.server.server_address[1], timeout_seconds=0.3)
        subprocess.run(_monitor(tmp_path, "ref"), cwd=REPO, env=env, check=True, timeout=300)
        reference_posts = {key for key, _ in reference.posts}

    port = free_port()
    write_rules(tmp_path / "run_rules.yaml", port, timeout_seconds=0.3)
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
    delivered = {a["id"] for a in run["alerts"] if not a.get("burst_of")}  # a burst's folded alerts are not sent
    assert {key for key, _ in server.posts} == reference_posts == delivered
    assert all(row["status"] == "delivered" for row in run["outbox"])
    assert server.attempts > len(reference_posts)  # it misbehaved, then answered
    rotated = sum(not d["location"].startswith(f"{path} ") for d in dead)
    print(f"soak: {kills} kills, {len(run['documents'])} documents, {poison} dead letters ({rotated} read from "
          f"rotated files), {len(reference_posts)} alerts, {server.attempts} webhook attempts")
