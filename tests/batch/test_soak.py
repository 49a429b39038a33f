"""Issue 11: kill-and-resume soak. A 2,000-row ``textrisk score`` run is killed with SIGKILL at 10 random points
and resumed each time; the input changes between two of the resumes. The final output must equal an
uninterrupted run's on the final input, with every row exactly once, in order."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from textrisk import cli

ROWS = 2000
FLUSH = 40


def _rows(changed=False):
    words = ["profit rose", "sales fell", "the board met", "shares plunged", "guidance was raised"]
    rows = [{"id": f"doc-{i}", "text": f"In quarter {i} {words[i % 5]} by {i % 17}%.", "n": i} for i in range(ROWS)]
    rows[7]["text"] = "\ud800"  # rows that cannot be scored keep their place
    rows[1234]["text"] = ""
    if changed:  # rows before and after the kill point of the run that follows the change
        for i in (*range(20, 40), *range(1900, 1920)):
            rows[i]["text"] = f"Revised: item {i} shares plunged after the profit warning."
    return rows


def _write(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def _partial_rows(path):
    try:
        return max(path.read_bytes().count(b"\n") - 1, 0)
    except FileNotFoundError:
        return 0


@pytest.mark.slow
def test_killed_ten_times_and_resumed_equals_an_uninterrupted_run(tiny_model_dir, tmp_path, capsys):
    source, out = tmp_path / "news.jsonl", tmp_path / "scored.jsonl"
    partial = tmp_path / "scored.jsonl.partial.jsonl"
    _write(source, _rows())
    command = [sys.executable, "-m", "textrisk.cli", "score", "--model", str(tiny_model_dir), "--input", str(source),
               "--output", str(out), "--flush-every", str(FLUSH), "--threads", "1", "--no-progress", "--resume"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    rng = random.Random(11)
    targets = sorted(rng.sample(range(60, ROWS - 100, 2 * FLUSH), 10))  # 10 different points, >= 2 blocks apart
    kills = 0
    for number, target in enumerate(targets):
        if number == 5:
            _write(source, _rows(changed=True))
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 300
        while process.poll() is None and _partial_rows(partial) < target and time.monotonic() < deadline:
            time.sleep(0.02)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        assert process.returncode in (0, -signal.SIGKILL), process.stderr.read().decode()
        process.stderr.close()
    assert kills == 10 and not out.exists()
    finish = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert finish.returncode == 0, finish.stderr
    assert "resuming:" in finish.stderr and not partial.exists()

    reference = tmp_path / "reference.jsonl"
    assert cli.main(["score", "--model", str(tiny_model_dir), "--input", str(source), "--output", str(reference),
                     "--threads", "1", "--no-progress"]) == 0
    capsys.readouterr()
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    want = [json.loads(line) for line in reference.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in got] == [f"doc-{i}" for i in range(ROWS)]  # every row exactly once, in order
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a["input"] == b["input"] and a["error"] == b["error"] and a.get("sentiment") == b.get("sentiment")
        if b["error"] is None:
            assert a["sentiment_scores"] == pytest.approx(b["sentiment_scores"], abs=1e-5)
    assert got[7]["error"].startswith("line 8: 'text' holds a lone surrogate")
    assert got[1234]["error"] == "line 1235: 'text' is empty"
