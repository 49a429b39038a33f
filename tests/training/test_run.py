"""``textrisk.training.run``: one entry point (YAML read once, ``mode`` picks the trainer) for the CLI,
``finetune/train.py`` and Python; the prompt trainer renders the prompt-mode card."""

from __future__ import annotations

import json

import pytest

from textrisk.errors import ConfigError
from textrisk.training import TrainConfig, dispatch, head, run

from ..helpers import REPO


def _labelled(path, n=40):
    path.write_text("".join(json.dumps({"text": f"Shares {'rose' if i % 2 else 'fell'} {i}% today.",
                                        "label": "positive" if i % 2 else "negative"}) + "\n" for i in range(n)))
    return path


def test_run_reads_the_yaml_once_and_dispatches_on_mode(tmp_path, monkeypatch):
    seen, reads = [], []
    real_read = dispatch.read_yaml
    monkeypatch.setattr(dispatch, "read_yaml", lambda path: reads.append(path) or real_read(path))
    monkeypatch.setattr(head, "train", lambda config, progress=None: seen.append(config) or "trained")
    config = tmp_path / "run.yaml"
    config.write_text(f"mode: head\noutput_dir: {tmp_path / 'out'}\ntrain_data: [fpb]\nepochs: 2\n")
    assert run(config, epochs=1.0, progress=False) == "trained"
    assert reads == [config] and isinstance(seen[0], TrainConfig) and seen[0].epochs == 1.0
    assert run(TrainConfig(output_dir=str(tmp_path / "o")), batch_size=4) == "trained"  # a config object
    assert seen[1].batch_size == 4
    config.write_text(f"mode: tree\noutput_dir: {tmp_path / 'out'}\n")
    with pytest.raises(ConfigError,
                       match=r"mode must be 'head' \(classification heads\), 'prompt' or 'adapt', got 'tree'"):
        run(config)
    with pytest.raises(ConfigError, match=r"run\(\) takes a YAML path or one of"):
        run({"output_dir": "x"})


def test_finetune_entry_point_calls_run(tmp_path, monkeypatch, capsys):
    import runpy
    import sys

    from textrisk.training.loop import TrainResult

    calls = []
    monkeypatch.setattr(head, "train", lambda config, progress=None: calls.append(config) or TrainResult(
        output_dir=tmp_path, steps=3, temperature=1.2, dev_metrics={"accuracy": 1, "weighted_f1": 1, "macro_f1": 1}))
    config = tmp_path / "run.yaml"
    config.write_text(f"output_dir: {tmp_path / 'out'}\n")
    monkeypatch.setattr(sys, "argv", ["finetune.train", str(config), "--epochs", "1"])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(REPO / "finetune" / "train.py"), run_name="__main__")
    assert done.value.code == 0 and calls[0].epochs == 1.0
    assert json.loads(capsys.readouterr().out)["steps"] == 3


def test_prompt_training_renders_the_prompt_card(tiny_lm, tmp_path):
    data = _labelled(tmp_path / "train.jsonl")
    config = tmp_path / "prompt.yaml"
    config.write_text(f"mode: prompt\noutput_dir: {tmp_path / 'model'}\nbase_model: {tiny_lm}\n"
                      f"train_data: [{data}]\nepochs: 1\nbatch_size: 8\nlora_r: 4\nlora_alpha: 8\n")
    result = run(config, progress=False)
    card = (result.output_dir / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "# textrisk prompt-mode model" in card
    assert "LoRA adapter and sentiment head" not in card and "## Prompt mode" not in card  # not the head card
    assert f"A causal LM (`{tiny_lm}`)" in card and "Labels: `negative`, `neutral`, `positive`." in card
    assert "Weights: a LoRA adapter over the base model." in card
    assert f"| user file `{data}` | 40 | as stated by its owner |" in card
    assert "4 of these rows were held out (seeded) to fit the softmax temperature" in card
    assert "causal-LM loss on the answer tokens only" in card
    assert "`prompts/sentiment.txt` (sentiment)" in card and "pipeline_tag: text-classification" in card
    assert '"mode"' not in card and f'"output_dir": "{tmp_path / "model"}"' in card  # the run's config
