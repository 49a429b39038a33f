"""Training recipe options: full fine-tuning, loss options, bf16, length-grouped batches, distillation."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from textrisk import RiskAnalyzer
from textrisk.errors import ConfigError, DataError
from textrisk.training.config import TrainConfig
from textrisk.training.distillation import TEACHER_CACHE
from textrisk.training.head import train
from textrisk.training.length_batching import length_grouped_order
from textrisk.training.recipe_loss import RecipeLoss, class_weights

from ..helpers import DATA_DIR, needs_data, small_train_config


def _config(base, out, **changes) -> TrainConfig:
    return small_train_config(base, out, **{"max_train_samples": 64, "max_length": 32, "epochs": 1.0,
                                            "save_every_steps": 2, **changes})


@pytest.mark.parametrize("changes, message", [
    (dict(full_finetune=True), "lora_r must be 0"),
    (dict(source_weights=[1.0, 2.0]), "2 weights for 1"),
    (dict(source_weights=[0.0]), "source_weights must be > 0"),
    (dict(distill_texts=["sentivent"]), "distill_texts needs distill_teachers"),
    (dict(class_weighting="inverse"), "class_weighting"),
    (dict(label_smoothing=0.7), "label_smoothing must be < 0.5"),
    (dict(distill_alpha=1.5), "distill_alpha must be <= 1"),
])
def test_recipe_options_are_validated(tmp_path, changes, message):
    with pytest.raises(ConfigError, match=message):
        _config("base", tmp_path, **changes)


def test_length_grouped_order_is_a_seeded_permutation_with_little_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 120, size=1000)
    order = rng.permutation(1000)
    grouped = length_grouped_order(order, lengths, 16, seed=3)
    assert sorted(grouped) == list(range(1000))
    assert np.array_equal(grouped, length_grouped_order(order, lengths, 16, seed=3))
    assert not np.array_equal(grouped, length_grouped_order(order, lengths, 16, seed=4))

    def padding(rows):
        batches = [lengths[rows[i:i + 16]] for i in range(0, len(rows), 16)]
        return sum(int(b.max() * len(b) - b.sum()) for b in batches)

    assert padding(grouped) < padding(order) / 4


def test_recipe_loss_terms():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0], [0.5, 0.5, 3.0]])
    labels = torch.tensor([0, 1, -100])
    plain = RecipeLoss()(logits, labels)
    assert plain.item() == pytest.approx(torch.nn.functional.cross_entropy(logits[:2], labels[:2]).item(), rel=1e-6)
    # doubling one row's weight is the same as repeating that row
    weighted = RecipeLoss()(logits, labels, row_weights=torch.tensor([2.0, 1.0, 1.0]))
    repeated = torch.nn.functional.cross_entropy(logits[[0, 0, 1]], labels[[0, 0, 1]])
    assert weighted.item() == pytest.approx(repeated.item(), rel=1e-6)
    # a teacher equal to the student at T leaves only (1 - alpha) * CE
    teacher = torch.softmax(logits / 2.0, dim=-1)
    distilled = RecipeLoss(distill_alpha=0.5, temperature=2.0)(logits, labels, teacher=teacher)
    assert distilled.item() == pytest.approx(0.5 * plain.item(), rel=1e-5)
    # R-Drop adds nothing for identical passes, something for different ones
    rdrop = RecipeLoss(rdrop_alpha=1.0)
    assert rdrop(logits, labels, second=logits.clone()).item() == pytest.approx(plain.item(), rel=1e-6)
    assert rdrop(logits, labels, second=logits.flip(1)).item() > plain.item()
    assert RecipeLoss(label_smoothing=0.1)(logits, labels).item() != pytest.approx(plain.item())


def test_class_weights():
    targets = [0, 1, 1, 1, -100, 2, 2]
    balanced = class_weights(targets, 3, "balanced")
    assert balanced.tolist() == pytest.approx([2.0, 2 / 3, 1.0])
    assert class_weights(targets, 3, "sqrt").tolist() == pytest.approx(np.sqrt([2.0, 2 / 3, 1.0]).tolist())
    assert class_weights(targets, 3, "none") is None


@needs_data
def test_full_finetuning_saves_full_weights_and_head_only_leaves_the_backbone(tiny_bert, tmp_path):
    train(_config(tiny_bert, tmp_path / "full", lora_r=0, full_finetune=True, bf16=True, length_grouped=True,
                  label_smoothing=0.1, class_weighting="sqrt", rdrop_alpha=0.5), progress=False)
    full = load_file(tmp_path / "full" / "model.safetensors")
    base = load_file(tiny_bert / "model.safetensors")
    changed = [k for k in base if k in full and not torch.equal(base[k], full[k])]
    assert any("encoder.layer.0.attention" in k for k in changed)
    assert RiskAnalyzer.from_pretrained(tmp_path / "full").score(["Profit rose."])[0].sentiment in (
        "negative", "neutral", "positive")

    train(_config(tiny_bert, tmp_path / "head", lora_r=0), progress=False)
    head_only = load_file(tmp_path / "head" / "model.safetensors")
    assert all(torch.equal(base[k], head_only[k]) for k in base if k in head_only)


@needs_data
def test_distillation_caches_teacher_labels_and_keeps_dev_rows_unseen(tiny_bert, tmp_path):
    texts = tmp_path / "unlabelled.txt"
    texts.write_text("\n".join(f"Quarterly revenue of unit {i} rose sharply from a year earlier" for i in range(30)))
    teacher = tmp_path / "teacher"
    train(_config(tiny_bert, teacher), progress=False)
    student = _config(tiny_bert, tmp_path / "student", distill_teachers=[str(teacher)],
                      distill_texts=[str(texts)], distill_max_texts=20, distill_alpha=0.7)
    result = train(student, progress=False)
    saved = json.loads((tmp_path / "student" / "training_results.json").read_text())
    assert saved["sources"]["distill_texts"] == 20
    assert saved["train_rows"] == 57 + 20  # 64 rows - 7 dev rows, plus the unlabelled texts
    assert result.steps == 5
    cache = load_file(tmp_path / "student" / TEACHER_CACHE)["probs"]
    assert cache.shape == (77, 3) and torch.allclose(cache.sum(1), torch.ones(77), atol=1e-5)
    before = (tmp_path / "student" / TEACHER_CACHE).stat().st_mtime_ns
    train(student, progress=False)  # finished run: nothing recomputed
    assert (tmp_path / "student" / TEACHER_CACHE).stat().st_mtime_ns == before

    # a larger dev share: the student's dev rows include rows the teacher trained on
    other_split = _config(tiny_bert, tmp_path / "leaky", calibration_fraction=0.2, distill_teachers=[str(teacher)])
    with pytest.raises(ConfigError, match="trained on .* held-out dev rows"):
        train(other_split, progress=False)


def test_sample_unlabelled_is_seeded_bounded_and_excludes(tmp_path):
    from textrisk.data.unlabelled import sample_unlabelled

    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("\n".join(f"Sales of product line {i} rose this quarter" for i in range(20)) + "\nshort\n")
    second.write_text("\n".join(f"The bank cut its outlook for region {i} again" for i in range(5)))
    excluded = "Sales of product line 3 rose this quarter"
    texts = sample_unlabelled([str(first), str(second)], 9, seed=1, exclude=[excluded])
    assert len(texts) == 9 and len(set(texts)) == 9 and excluded not in texts and "short" not in texts
    assert sum(t.startswith("Sales") for t in texts) == 5  # 9 split 5 + 4 over the two sources
    assert texts == sample_unlabelled([str(first), str(second)], 9, seed=1, exclude=[excluded])
    assert texts != sample_unlabelled([str(first), str(second)], 9, seed=2, exclude=[excluded])
    with pytest.raises(DataError, match="neither a file nor one of"):
        sample_unlabelled([str(tmp_path / "missing.txt")], 3, seed=1)


@needs_data
def test_sentivent_sentences_are_usable_texts():
    from textrisk.data.unlabelled import load_unlabelled

    texts = load_unlabelled("sentivent", DATA_DIR)
    assert 5000 < len(texts) <= 6883 and len(set(texts)) == len(texts)
    assert all(4 <= len(t.split()) <= 80 for t in texts)
