"""Adaptation runs end to end on a tiny parent: the recipes, new label sets, the keep-the-parent decision, the
temperature rule, the card and report, and the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from textrisk.models.head.model import TextRiskModel
from textrisk.training import AdaptConfig, adapt, run
from textrisk.training.adaptation import REPORT_NAME, fit_head, new_sentiment_head

from ..helpers import SENTENCES, needs_data, perturb, write_labelled_csv

LABELS = ["negative", "neutral", "positive"]


@pytest.fixture(scope="module")
def parent(tiny_bert, tmp_path_factory):
    """A tiny saved model with a risk head and thresholds, as the embedded default model has."""
    model = TextRiskModel.from_base(str(tiny_bert), LABELS, max_length=48, lora_r=4, lora_alpha=8)
    model.add_risk_head(["credit", "dividend"])
    model.config.risk_thresholds = {"credit": 0.3, "dividend": 0.6}
    model.config.temperature = 1.7
    perturb(model, seed=3)
    return model.save_pretrained(tmp_path_factory.mktemp("parent"))


def _data(tmp_path, n=60, labels=LABELS, name="desk.csv"):
    """Rows whose label is told by a word in the text, so even a tiny model can learn them."""
    words = {label: f"zz{label}zz" for label in labels}
    rows = [(f"{SENTENCES[i % len(SENTENCES)]} {words[labels[i % len(labels)]]} {i}", labels[i % len(labels)])
            for i in range(n)]
    return write_labelled_csv(tmp_path / name, rows)


def _adapt(parent, tmp_path, data, **changes):
    settings = {"output_dir": str(tmp_path / "out"), "train_data": [data], "init_from": str(parent),
                "forgetting_rows": 0, **changes}
    return adapt(AdaptConfig(**settings), progress=False)


def test_few_rows_train_the_head_only_and_keep_risk_and_temperature(parent, tmp_path):
    result = _adapt(parent, tmp_path, _data(tmp_path), recipe="head")
    assert result.recipe == "head" and result.labels == LABELS and result.train_rows == 48
    before, after = TextRiskModel.from_pretrained(parent), TextRiskModel.from_pretrained(tmp_path / "out")
    assert after.config.temperature == pytest.approx(1.7)  # no refit with a few dozen rows
    assert after.config.risk_thresholds == before.config.risk_thresholds
    texts = SENTENCES[:4]
    np.testing.assert_allclose(before.predict_risk(texts), after.predict_risk(texts), atol=1e-6)
    np.testing.assert_allclose(before.predict(texts, return_embeddings=True)[1],
                               after.predict(texts, return_embeddings=True)[1], atol=1e-5)  # encoder frozen
    report = json.loads((tmp_path / "out" / REPORT_NAME).read_text())
    assert report["recipe"] == "head" and report["before"] is not None and report["kept"] in ("new", "parent")
    card = (tmp_path / "out" / "README.md").read_text()
    assert f"Adapted from `{parent}`" in card and "desk.csv" in card and "**head** recipe" in card


def test_the_parent_is_kept_where_the_new_model_is_not_better(parent, tmp_path, monkeypatch):
    from textrisk.training import adaptation

    monkeypatch.setattr(adaptation, "fit_head", lambda *args: 0.0)  # the head stays the parent's: a tie
    result = _adapt(parent, tmp_path, _data(tmp_path), recipe="head")
    assert result.kept == "parent" and "not better" in result.decision
    assert result.forgetting == {"skipped": "the parent was kept: nothing changed"}
    saved, original = TextRiskModel.from_pretrained(tmp_path / "out"), TextRiskModel.from_pretrained(parent)
    np.testing.assert_allclose(saved.predict(SENTENCES)[0], original.predict(SENTENCES)[0], atol=1e-6)


def test_a_new_label_set_gets_a_new_head_with_matching_rows_from_the_parent(parent, tmp_path):
    model = TextRiskModel.from_pretrained(parent)
    old = model.heads["sentiment"].weight.detach().clone()
    origin = new_sentiment_head(model, ["hawkish", "Positive", "dovish"])
    assert model.config.labels == ["hawkish", "Positive", "dovish"] and model.heads["sentiment"].out_features == 3
    assert torch.equal(model.heads["sentiment"].weight[1], old[2])
    assert origin["Positive"] == "parent row 'positive'" and origin["hawkish"] == "label-name embedding"
    norms = model.heads["sentiment"].weight.detach().norm(dim=1)
    assert float(norms[0]) == pytest.approx(float(old.norm(dim=1).mean()), rel=1e-4)

    result = _adapt(parent, tmp_path, _data(tmp_path, labels=["hawkish", "dovish"]))
    assert result.labels == ["hawkish", "dovish"] and result.before is None and result.kept == "new"
    assert TextRiskModel.from_pretrained(tmp_path / "out").labels == ["hawkish", "dovish"]


def test_fit_head_learns_separable_features_and_picks_a_strength():
    head = torch.nn.Linear(4, 2)
    features = np.concatenate([np.eye(4)[[0]] * 3 + np.random.default_rng(0).normal(0, .1, (20, 4)),
                               np.eye(4)[[1]] * 3 + np.random.default_rng(1).normal(0, .1, (20, 4))]).astype("f4")
    targets = [0] * 20 + [1] * 20
    strength = fit_head(head, features, targets, 1.0, seed=0)
    assert strength > 0
    with torch.no_grad():
        assert (head(torch.from_numpy(features)).argmax(1).numpy() == targets).all()


def test_hundreds_of_rows_continue_the_adapter_with_early_stopping(parent, tmp_path):
    result = _adapt(parent, tmp_path, _data(tmp_path, n=150), epochs=3.0, batch_size=32)
    assert result.recipe == "lora" and result.train_rows == 120
    report = json.loads((tmp_path / "out" / REPORT_NAME).read_text())
    assert "validation loss after epoch" in report["adaptation"]["training"]
    # the temperature is refitted only on 30+ validation rows and kept only if it lowers the held-out ECE
    assert "no refit below 30 validation rows" in result.calibration
    if result.kept == "new":
        before = TextRiskModel.from_pretrained(parent)
        after = TextRiskModel.from_pretrained(tmp_path / "out")
        assert after.config.risk_thresholds == before.config.risk_thresholds
        assert not np.allclose(before.predict(SENTENCES)[0], after.predict(SENTENCES)[0])


def test_calibration_is_kept_only_if_it_lowers_the_held_out_ece(parent, tmp_path):
    result = _adapt(parent, tmp_path, _data(tmp_path, n=260), recipe="lora", epochs=1.0, batch_size=64)
    assert result.calibration.startswith(("refitted T", "kept the parent's temperature (a refit"))
    model = TextRiskModel.from_pretrained(tmp_path / "out") if result.kept == "new" else None
    if model is not None and result.calibration.startswith("kept"):
        assert model.config.temperature == pytest.approx(1.7)


def test_run_dispatches_adapt_configs_and_yaml(parent, tmp_path):
    data = _data(tmp_path)
    config = tmp_path / "adapt.yaml"
    config.write_text(f"mode: adapt\noutput_dir: {tmp_path / 'out'}\ntrain_data: [{data}]\ninit_from: {parent}\n"
                      "forgetting_rows: 0\nrecipe: head\n")
    result = run(config, progress=False)
    assert result.recipe == "head" and (tmp_path / "out" / REPORT_NAME).is_file()


def test_output_folder_holding_other_files_is_refused(parent, tmp_path):
    from textrisk.errors import DataError

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="did not write"):
        _adapt(parent, tmp_path, _data(tmp_path))
    with pytest.raises(DataError, match="init_from"):
        _adapt(parent, tmp_path, _data(tmp_path), output_dir=str(parent))


def test_forgetting_check_is_skipped_with_a_reason_without_data(parent, tmp_path, monkeypatch):
    from textrisk.evaluation import forgetting

    monkeypatch.setattr(forgetting, "find_data_dir", lambda explicit=None: None)
    result = _adapt(parent, tmp_path, _data(tmp_path, labels=["up", "down"]), forgetting_rows=5)
    assert "shared data not found" in result.forgetting["skipped"]


@needs_data
def test_forgetting_check_rescores_the_benchmarks(parent, tmp_path):
    result = _adapt(parent, tmp_path, _data(tmp_path, labels=["up", "down"]), forgetting_rows=12)
    sets = result.forgetting["sets"]
    assert set(sets) == {"fpb", "tfns"} and sets["fpb"]["rows"] == 12
    assert sets["fpb"]["risk_flags_changed"] == 0.0  # the head recipe leaves the encoder and the risk head alone
    assert "not compared" in result.forgetting["sentiment"]


@needs_data
def test_forgetting_check_compares_sentiment_after_continued_training(parent, tmp_path):
    result = _adapt(parent, tmp_path, _data(tmp_path, n=120), recipe="lora", forgetting_rows=10, epochs=1.0)
    if result.kept == "new":
        entry = result.forgetting["sets"]["tfns"]
        assert set(entry["change"]) == {"accuracy", "weighted_f1", "macro_f1"}
        assert 0.0 <= entry["risk_flags_changed"] <= 1.0


def test_finetune_command_adapts_from_a_model(parent, tmp_path, capsys):
    from textrisk.cli import main

    data = _data(tmp_path)
    code = main(["finetune", "--from", str(parent), "--data", data, "--output", str(tmp_path / "mine"),
                 "--recipe", "head", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["recipe"] == "head"
    assert "recipe head (48 training rows, 12 held out)" in err and "decision:" in err
    assert main(["finetune", "--data", data]) == 2
    assert "--output" in capsys.readouterr().err


def test_less_than_one_epoch_of_early_stopping_keeps_the_trained_weights(parent, tmp_path):
    result = _adapt(parent, tmp_path, _data(tmp_path, n=120), recipe="lora", epochs=0.5)
    report = json.loads((tmp_path / "out" / REPORT_NAME).read_text())
    assert result.recipe == "lora" and report["adaptation"]["training"] == "0.5 epochs"
