"""Fine-tuning never overwrites a folder it did not create and never resumes on changed data
(issue 11, classes 1 and 2)."""


import json

import pytest

from textrisk.errors import ConfigError


# ------------------------------------------------------------------ classes 1 and 2 in fine-tuning
def _train_config(base, out, data, **changes):
    from textrisk.training.config import TrainConfig

    return TrainConfig(output_dir=str(out), base_model=str(base), train_data=[str(data)], max_length=32, lora_r=4,
                       lora_alpha=8, epochs=1.0, batch_size=8, save_every_steps=2, seed=1, **changes)


def _labelled(path, word="rose"):
    path.write_text("".join(json.dumps({"text": f"Shares {word if i % 2 else 'fell'} {i}%", "label":
                                        "positive" if i % 2 else "negative"}) + "\n" for i in range(40)))
    return path


def test_finetuning_refuses_a_folder_it_did_not_create(tiny_bert, tmp_path, monkeypatch):
    from textrisk.training.head import train

    data = _labelled(tmp_path / "train.jsonl")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "README.md").write_text("my notes")
    with pytest.raises(ConfigError, match=r"output_dir '.*work' holds files this run did not create \(README.md"):
        train(_train_config(tiny_bert, tmp_path / "work", data), progress=False)
    monkeypatch.chdir(tmp_path / "work")
    with pytest.raises(ConfigError, match=r"output_dir must not be empty"):  # '' would be the current folder
        train(_train_config(tiny_bert, "", data), progress=False)
    with pytest.raises(ConfigError, match=r"output_dir '\.' holds files this run did not create \(README.md"):
        train(_train_config(tiny_bert, ".", data), progress=False)
    assert (tmp_path / "work" / "README.md").read_text() == "my notes"


def test_finetuning_resume_refuses_changed_training_data(tiny_bert, tmp_path, crash_at_step):
    from textrisk.training.head import train

    data = _labelled(tmp_path / "train.jsonl")
    restore = crash_at_step(2)
    with pytest.raises(KeyboardInterrupt):
        train(_train_config(tiny_bert, tmp_path / "run", data), progress=False)
    restore()
    _labelled(data, word="soared")  # same file, same size of rows, other contents
    with pytest.raises(ConfigError, match=r"holds checkpoints trained on different data"):
        train(_train_config(tiny_bert, tmp_path / "run", data), progress=False)
