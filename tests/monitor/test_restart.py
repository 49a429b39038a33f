"""Kill/restart: a monitor process SIGKILLed at random points during a replay, then restarted, ends with the
same state, the same alerts file and the same webhook deliveries as an uninterrupted run."""

import os
import random
import subprocess
import sys

import pytest

from ..helpers import REPO
from .fake_monitor import alert_lines, documents, kill_after_progress, snapshot, write_inputs
from .webhook_server import Receiver, free_port


def command(tmp_path, name, delay):
    return [sys.executable, "-m", "tests.monitor.fake_monitor", str(tmp_path / "in.jsonl"),
            str(tmp_path / f"{name}.db"), str(tmp_path / f"{name}.jsonl"), str(tmp_path / "rules.yaml"), "7",
            str(delay)]


def run_with_kills(tmp_path, cycles, n, down_cycles):
    port = free_port()
    write_inputs(tmp_path, n, port)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with Receiver(port=free_port()) as ref_server:  # the uninterrupted reference run, webhook always up
        rules = (tmp_path / "rules.yaml").read_text()
        (tmp_path / "rules.yaml").write_text(rules.replace(f":{port}/", f":{ref_server.server.server_address[1]}/"))
        subprocess.run(command(tmp_path, "ref", 0), cwd=REPO, env=env, check=True, timeout=300)
        (tmp_path / "rules.yaml").write_text(rules)
        reference_posts = {key for key, _ in ref_server.posts}
    rng = random.Random(11)
    server = None
    kills = 0
    try:
        for cycle in range(cycles + 1):
            if cycle == down_cycles:  # the webhook comes back up part way through
                server = Receiver(port=port).__enter__()
            before = documents(tmp_path / "run.db")
            process = subprocess.Popen(command(tmp_path, "run", 0.01), cwd=REPO, env=env)
            if cycle == cycles:  # the last start runs to the end
                assert process.wait(timeout=300) == 0
                break
            kills += kill_after_progress(process, lambda: documents(tmp_path / "run.db"), before,
                                         rng.uniform(0, 0.15))
    finally:
        if server is not None:
            server.__exit__(None, None, None)
    return server, reference_posts, kills


def check(tmp_path, server, reference_posts):
    ref, run = snapshot(tmp_path / "ref.db"), snapshot(tmp_path / "run.db")
    assert len(ref["documents"]) == len(run["documents"]) and ref["alerts"]
    assert ref == run  # documents, indices, alerts, drift and outbox, bar wall-clock columns
    ref_lines, run_lines = alert_lines(tmp_path / "ref.jsonl"), alert_lines(tmp_path / "run.jsonl")
    assert run_lines == ref_lines and len({a["id"] for a in run_lines}) == len(run_lines)  # none lost, none twice
    received = [key for key, _ in server.posts]
    assert set(received) == reference_posts == {a["id"] for a in ref_lines}
    return len(received) - len(set(received))  # at-least-once: repeats carry the same Idempotency-Key


def test_kill_restart_cycles(tmp_path):
    server, reference_posts, kills = run_with_kills(tmp_path, cycles=2, n=120, down_cycles=1)
    assert kills >= 1
    check(tmp_path, server, reference_posts)


@pytest.mark.slow
def test_soak_twenty_kills_with_webhook_down(tmp_path):
    server, reference_posts, kills = run_with_kills(tmp_path, cycles=20, n=600, down_cycles=10)
    assert kills >= 15
    repeats = check(tmp_path, server, reference_posts)
    print(f"soak: {kills} kills, {len(reference_posts)} alerts, {repeats} repeated webhook POSTs")
