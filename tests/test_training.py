import json

import numpy as np
import pytest
from safetensors.torch import load_file

from textrisk import RiskAnalyzer
from textrisk import training as training_module
from textrisk.config import TrainConfig
from textrisk.errors import ConfigError, DataError
from textrisk.training import train

from .conftest import DATA_DIR, needs_data


def _config(base, out, **changes) -> TrainConfig:
    settings = dict(output_dir=str(out), base_model=str(base), train_data=["fpb"], data_dir=str(DATA_DIR),
                    max_train_samples=96, max_length=48, lora_r=4, lora_alpha=8, epochs=2.0, batch_size=16,
                    learning_rate=5e-3, save_every_steps=3, seed=7)
    settings.update(changes)
    return TrainConfig(**settings)


@needs_data
def test_training_lowers_loss_and_saves_a_loadable_model(tiny_backbone, tmp_path):
    result = train(_config(tiny_backbone, tmp_path / "run"), progress=False)
    assert result.steps == 12  # 86 train rows (96 - 10% dev) / 16 = 6 steps per epoch, 2 epochs
    first, last = np.mean(result.losses[:3]), np.mean(result.losses[-3:])
    assert last < first, f"loss did not fall: {result.losses}"
    assert result.temperature > 0
    analyzer = RiskAnalyzer.from_pretrained(tmp_path / "run")
    assert analyzer.model.config.temperature == pytest.approx(result.temperature)
    card = (tmp_path / "run" / "README.md").read_text()
    assert "CC BY-NC-SA 3.0" in card and "license: cc-by-nc-sa-3.0" in card
    saved = json.loads((tmp_path / "run" / "training_results.json").read_text())
    assert saved["steps"] == 12


@needs_data
def test_interrupted_run_resumes_to_the_same_weights(tiny_bert, tmp_path, monkeypatch):
    reference = train(_config(tiny_bert, tmp_path / "straight"), progress=False)

    real_save = training_module._save_checkpoint

    def crash_after_step_6(folder, model, optimizer, scheduler, step, losses, keep):
        real_save(folder, model, optimizer, scheduler, step, losses, keep)
        if step == 6:
            raise KeyboardInterrupt

    monkeypatch.setattr(training_module, "_save_checkpoint", crash_after_step_6)
    with pytest.raises(KeyboardInterrupt):
        train(_config(tiny_bert, tmp_path / "resumed"), progress=False)
    monkeypatch.setattr(training_module, "_save_checkpoint", real_save)
    resumed = train(_config(tiny_bert, tmp_path / "resumed"), progress=False)
    assert resumed.resumed_from_step == 6
    assert resumed.losses == pytest.approx(reference.losses, abs=1e-4)
    a = load_file(tmp_path / "straight" / "adapter_model.safetensors")
    b = load_file(tmp_path / "resumed" / "adapter_model.safetensors")
    for key in a:
        np.testing.assert_allclose(a[key].numpy(), b[key].numpy(), atol=1e-5)
    checkpoints = sorted(p.name for p in (tmp_path / "resumed" / "checkpoints").iterdir())
    assert checkpoints == ["step-0000009", "step-0000012"]  # keep_checkpoints=2, no temporary folders


@needs_data
def test_resume_with_a_changed_config_is_refused(tiny_bert, tmp_path):
    train(_config(tiny_bert, tmp_path / "run", epochs=0.5), progress=False)
    with pytest.raises(ConfigError, match=r"different \['learning_rate'\]"):
        train(_config(tiny_bert, tmp_path / "run", epochs=0.5, learning_rate=1e-3), progress=False)


def test_unknown_label_in_training_file(tiny_bert, tmp_path):
    data = tmp_path / "mine.csv"
    data.write_text("text,label\nProfit rose,positive\nSales fell,catastrophic\n")
    with pytest.raises(DataError, match=r"mine.csv line 3: unknown label 'catastrophic'"):
        train(_config(tiny_bert, tmp_path / "run", train_data=[str(data)]), progress=False)


def test_training_on_a_user_file_with_custom_labels(tiny_bert, tmp_path):
    data = tmp_path / "mine.jsonl"
    rows = [{"text": f"Shares {'rose' if i % 2 else 'fell'} {i}% today", "label": "up" if i % 2 else "down"}
            for i in range(40)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    train(_config(tiny_bert, tmp_path / "run", train_data=[str(data)], labels=["down", "up"], max_train_samples=None,
                  epochs=1.0), progress=False)
    analyzer = RiskAnalyzer.from_pretrained(tmp_path / "run")
    assert analyzer.labels == ["down", "up"]
    assert set(analyzer.score(["Shares rose 3% today"])[0].sentiment_scores) == {"down", "up"}
