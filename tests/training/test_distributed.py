"""Fine-tuning on 2 real processes (accelerate launch, gloo on CPU) against a single-process run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from textrisk import RiskAnalyzer
from textrisk.training.config import TrainConfig
from textrisk.training.head import train
from textrisk.training.loop import shard_batch

from ..helpers import DATA_DIR, REPO, SENTENCES, needs_data

TINY = REPO / "finetune" / "configs" / "tiny.yaml"


class _Rank:
    def __init__(self, index: int, count: int):
        self.process_index, self.num_processes = index, count


@pytest.mark.parametrize("batch, processes", [(16, 2), (5, 2), (1, 2), (7, 3)])
def test_every_row_of_a_batch_goes_to_exactly_one_process(batch, processes):
    rows = np.random.default_rng(0).permutation(100)[:batch]
    seen = []
    for rank in range(processes):
        def record(index):
            seen.append(list(index))
            return np.float64(1.0) * len(index)
        loss = shard_batch(rows, record, _Rank(rank, processes))
        if rank >= batch:  # an empty share: one row with weight 0, so the process still joins the sync
            assert loss == 0
            seen.pop()
    assert sorted(i for part in seen for i in part) == sorted(rows)


def _launch(output: Path) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TEXTRISK_DATA_DIR": str(DATA_DIR)}
    command = [str(Path(sys.executable).parent / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "-m", "finetune.train", "--config", str(TINY), "--output-dir", str(output), "--no-progress"]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((output / "training_results.json").read_text())


@pytest.mark.slow
@needs_data
def test_two_processes_match_one_and_resume(tmp_path):
    single = train(TrainConfig.from_yaml(str(TINY), output_dir=str(tmp_path / "one"), data_dir=str(DATA_DIR)),
                   progress=False)
    two = _launch(tmp_path / "two")
    one = json.loads((tmp_path / "one" / "training_results.json").read_text())
    assert two["steps"] == single.steps == 12 and two["train_rows"] == one["train_rows"]
    # same batches and schedule; only the per-process dropout masks differ
    np.testing.assert_allclose(two["losses"], single.losses, atol=0.05)
    one_logits = RiskAnalyzer.from_pretrained(tmp_path / "one").model.predict(SENTENCES)[0]
    two_logits = RiskAnalyzer.from_pretrained(tmp_path / "two").model.predict(SENTENCES)[0]
    np.testing.assert_allclose(two_logits, one_logits, atol=0.1)
    checkpoints = sorted(p.name for p in (tmp_path / "two" / "checkpoints").iterdir())
    assert checkpoints == ["step-0000010", "step-0000012"]  # written once, by the main process: no temp leftovers

    # resume: drop the last checkpoint and the final model, run the same command again
    shutil.rmtree(tmp_path / "two" / "checkpoints" / "step-0000012")
    (tmp_path / "two" / "training_results.json").unlink()
    resumed = _launch(tmp_path / "two")
    assert resumed["steps"] == two["steps"]
    assert resumed["losses"][:10] == two["losses"][:10]  # restored from the step-10 checkpoint
    np.testing.assert_allclose(resumed["losses"], two["losses"], atol=0.05)
    again = RiskAnalyzer.from_pretrained(tmp_path / "two").model.predict(SENTENCES)[0]
    np.testing.assert_allclose(again, two_logits, atol=0.1)
