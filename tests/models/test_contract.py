"""One contract suite over every saved model kind (head mode on BERT and GPT-2, prompt mode, forecaster).

Each kind is built tiny, saved and reloaded through the shared base (:mod:`textrisk.models.hub`); the same checks run
for all: identical outputs after a round trip, dispatch by ``model_kind``, every damaged or missing file refused
naming the file, a newer ``format_version`` refused, format-1 folders migrated, the wrong kind refused,
``push_to_hub`` uploading a complete folder. Scoring kinds also go through ``RiskAnalyzer`` and evaluation.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from textrisk import RiskAnalyzer
from textrisk.errors import ModelLoadError
from textrisk.models.contract import ScoringModel
from textrisk.models.hub import CONFIG_NAME, FORMAT_VERSION, load_model, read_model_config

from ..helpers import FIXTURES, SENTENCES, perturb, tiny_forecaster


def _head(backbone: Path, risk: bool = False):
    from textrisk.models.head.model import TextRiskModel

    model = TextRiskModel.from_base(str(backbone), lora_r=4, risk_labels=["credit", "liquidity"] if risk else ())
    model.config.temperature = 1.5
    return perturb(model, 0.1, seed=3)


def _prompt(tiny_lm: Path):
    from textrisk.models.prompt import PromptModel

    model = PromptModel.from_base(str(tiny_lm), lora_r=4, window=512)
    return perturb(model, 0.1, seed=3)


@dataclass
class Kind:
    """How to build one model kind, compare its outputs, and which files its folder must hold."""

    name: str
    build: Callable[[pytest.FixtureRequest], Any]
    outputs: Callable[[Any], Any]
    files: tuple[str, ...]  # every file the loader needs (each is damaged in turn)
    legacy_config: str = CONFIG_NAME  # format-1 config file name


def _scores(model) -> np.ndarray:
    return model.predict(SENTENCES)[0]


KINDS = {
    "head-bert": Kind("head", lambda r: _head(r.getfixturevalue("tiny_bert")), _scores,
                      ("heads.safetensors", "adapter_model.safetensors", "adapter_config.json")),
    "head-gpt2": Kind("head", lambda r: _head(r.getfixturevalue("tiny_gpt2")), _scores,
                      ("heads.safetensors", "adapter_model.safetensors", "adapter_config.json")),
    "prompt": Kind("prompt", lambda r: _prompt(r.getfixturevalue("tiny_lm")), _scores,
                   ("adapter_model.safetensors", "adapter_config.json", "prompts/sentiment.txt"),
                   legacy_config="prompt_config.json"),
    "forecaster": Kind("forecaster", lambda r: tiny_forecaster(), None, ("model.safetensors", "normalization.json"),
                       legacy_config="forecaster_config.json"),
}
SCORING = [name for name, kind in KINDS.items() if kind.name != "forecaster"]


def _compare(kind_id: str, a, b) -> None:
    if KINDS[kind_id].name == "forecaster":
        pd.testing.assert_frame_equal(a.predict(a.dataset), b.predict(a.dataset))
    else:
        np.testing.assert_allclose(_scores(a), _scores(b), atol=1e-5, rtol=1e-5)


@pytest.fixture(params=list(KINDS))
def saved(request, tmp_path):
    """``(kind id, model, folder)`` for each kind: the model and the folder it was saved to."""
    model = KINDS[request.param].build(request)
    folder = model.save_pretrained(tmp_path / "model")
    return request.param, model, folder


def test_round_trip_gives_identical_outputs_and_dispatches_by_kind(saved):
    kind_id, model, folder = saved
    loaded = load_model(folder)
    assert type(loaded) is type(model) and loaded.model_kind == KINDS[kind_id].name
    assert type(model).from_pretrained(folder).source_dir == folder
    _compare(kind_id, model, loaded)
    config = json.loads((folder / CONFIG_NAME).read_text())
    assert config["model_kind"] == KINDS[kind_id].name and config["format_version"] == FORMAT_VERSION
    assert (folder / "README.md").read_text().startswith("---\n")


@pytest.mark.parametrize("kind_id", SCORING)
def test_scoring_kinds_implement_the_contract(kind_id, request):
    model = KINDS[kind_id].build(request)
    assert isinstance(model, ScoringModel)
    out = model.predict_outputs(SENTENCES, risk=bool(model.risk_labels))
    assert out.logits.shape == (len(SENTENCES), len(model.labels))
    reports = RiskAnalyzer(model).score(SENTENCES)
    assert [r.sentiment for r in reports] == [model.labels[i] for i in (out.logits / model.temperature).argmax(1)]


def test_every_needed_file_is_checked(saved):
    kind_id, _, folder = saved
    cls = type(saved[1])
    for name in (CONFIG_NAME, *KINDS[kind_id].files):
        for damage in ("missing", "garbage"):
            copy = folder.parent / f"{name.replace('/', '_')}-{damage}"
            shutil.copytree(folder, copy)
            if damage == "missing":
                (copy / name).unlink()
            else:
                (copy / name).write_bytes(b"\x00garbage{")
            with pytest.raises(ModelLoadError, match=Path(name).name if name != CONFIG_NAME or damage == "garbage"
                               else "not a textrisk model folder") as info:
                cls.from_pretrained(copy)
            assert str(copy) in str(info.value) or name in str(info.value), (name, damage, info.value)


def test_newer_format_version_is_refused(saved):
    _, model, folder = saved
    config = json.loads((folder / CONFIG_NAME).read_text())
    (folder / CONFIG_NAME).write_text(json.dumps({**config, "format_version": FORMAT_VERSION + 1}))
    with pytest.raises(ModelLoadError, match=f"format_version {FORMAT_VERSION + 1}, newer than"):
        type(model).from_pretrained(folder)


def test_format_1_folder_is_migrated(saved):
    kind_id, model, folder = saved
    config = json.loads((folder / CONFIG_NAME).read_text())
    legacy = {k: v for k, v in config.items() if k != "model_kind"}
    legacy["format_version"] = 1
    if KINDS[kind_id].name == "prompt":
        legacy["mode"] = "prompt"  # format 1 marked prompt folders by this key
    (folder / CONFIG_NAME).unlink()
    (folder / KINDS[kind_id].legacy_config).write_text(json.dumps(legacy))
    assert read_model_config(folder)[0] == KINDS[kind_id].name
    _compare(kind_id, model, load_model(folder))
    model.save_pretrained(folder)  # re-saving writes format 2 and drops the format-1 file
    assert not (folder / KINDS[kind_id].legacy_config).exists() or KINDS[kind_id].legacy_config == CONFIG_NAME
    assert read_model_config(folder)[0] == KINDS[kind_id].name


def test_wrong_kind_is_refused_by_name(saved):
    kind_id, model, folder = saved
    from textrisk.forecast import Forecaster
    from textrisk.models.head.model import TextRiskModel

    wrong = Forecaster if KINDS[kind_id].name != "forecaster" else TextRiskModel
    with pytest.raises(ModelLoadError, match=f"holds a {KINDS[kind_id].name!r} model"):
        wrong.from_pretrained(folder)
    if KINDS[kind_id].name == "forecaster":
        with pytest.raises(ModelLoadError, match="does not score texts"):
            RiskAnalyzer.from_pretrained(folder)


def test_push_to_hub_uploads_a_complete_folder(saved, monkeypatch):
    kind_id, model, folder = saved
    uploaded = {}

    class FakeApi:
        def __init__(self, token=None):
            pass

        def create_repo(self, repo_id, private=None, exist_ok=False):
            uploaded["repo"] = repo_id

        def upload_folder(self, repo_id, folder_path, commit_message):
            uploaded["files"] = sorted(str(p.relative_to(folder_path)) for p in Path(folder_path).rglob("*")
                                       if p.is_file())
            uploaded["loads"] = type(model).from_pretrained(folder_path) is not None

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    url = load_model(folder).push_to_hub("me/model")
    assert url.endswith("me/model") and uploaded["repo"] == "me/model" and uploaded["loads"]
    assert {CONFIG_NAME, "README.md", *KINDS[kind_id].files} <= set(uploaded["files"])


def test_a_backbone_with_other_weights_is_refused(tiny_bert, tmp_path):
    from transformers import AutoModel

    from textrisk.models.head.model import TextRiskModel

    _head(tiny_bert).save_pretrained(tmp_path / "m")
    torch.manual_seed(99)  # same architecture and sizes, different (random) weights
    other = AutoModel.from_config(AutoModel.from_pretrained(tiny_bert).config)
    other.save_pretrained(tmp_path / "other")
    shutil.copy(tiny_bert / "tokenizer.json", tmp_path / "other")
    shutil.copy(tiny_bert / "tokenizer_config.json", tmp_path / "other")
    with pytest.raises(ModelLoadError, match="weights: saved for"):
        TextRiskModel.from_pretrained(tmp_path / "m", base_model=str(tmp_path / "other"))


@pytest.mark.parametrize("kind_id", SCORING)
def test_evaluate_with_and_without_risk_data(kind_id, request, tmp_path):
    from textrisk.evaluation.risk import evaluate_risk_sets
    from textrisk.evaluation.sentiment import evaluate_model

    model = KINDS[kind_id].build(request)
    labelled = tmp_path / "sent.csv"
    pd.DataFrame({"text": SENTENCES, "label": ["negative", "positive", "negative", "neutral", "negative",
                                                "neutral", "positive", "negative"]}).to_csv(labelled, index=False)
    report = evaluate_model(model, [str(labelled)])
    assert set(report["datasets"][str(labelled)]) >= {"accuracy", "weighted_f1", "ece_calibrated"}
    risk = tmp_path / "risk.jsonl"
    risk.write_text("".join(json.dumps({"text": t, "labels": ["credit"] if "coupon" in t else []}) + "\n"
                            for t in SENTENCES))
    if model.risk_labels:
        result = evaluate_risk_sets(model, [str(risk)])[str(risk)]["systems"]
        assert set(result) == {"model", "rules"}  # no stacker stored: no ensemble row
        assert set(result["model"]["per_label"]) == set(model.risk_labels)
    else:
        with pytest.raises(ModelLoadError, match="no risk signals"):
            evaluate_risk_sets(model, [str(risk)])


def test_evaluate_risk_on_a_head_with_risk_signals(tiny_bert, tmp_path):
    from textrisk.evaluation.risk import evaluate_risk_sets

    model = _head(tiny_bert, risk=True)
    risk = tmp_path / "risk.jsonl"
    risk.write_text("".join(json.dumps({"text": t, "labels": ["credit"] if "coupon" in t else []}) + "\n"
                            for t in SENTENCES))
    result = evaluate_risk_sets(model, [str(risk)])[str(risk)]
    assert set(result["systems"]["model"]["per_label"]) == {"credit", "liquidity"}
    assert result["systems"]["model"]["per_label"]["credit"]["support"] == 1
    assert result["macro_labels"] == ["credit"]  # liquidity has no positives here


def test_pickled_base_weights_are_refused_by_name(tiny_bert, tmp_path):
    from textrisk.models.head.model import TextRiskModel

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_bert, folder)
    (folder / "model.safetensors").unlink()
    torch.save({"weights": torch.zeros(1)}, folder / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match=r"only as pickles \(pytorch_model.bin\); textrisk never unpickles"):
        TextRiskModel.from_base(str(folder))


@pytest.mark.parametrize("kind", ["head", "prompt", "forecaster"])
def test_model_card_renders_the_whole_template(kind):
    """Each kind's card, rendered from fixed facts, equals the committed expected text (tests/data/cards/)."""
    from textrisk.models.cards import render_card

    facts = {
        "head": {"config": {"base_model": "sentence-transformers/all-MiniLM-L6-v2", "labels": ["negative", "positive"],
                            "pooling": "mean", "temperature": 1.5, "risk_labels": ["credit"]},
                 "license": "mit"},
        "prompt": {"config": {"base_model": "you/tiny-lm", "labels": ["negative", "positive"], "weights": "adapter",
                              "templates": {"sentiment": "sentiment.txt"}},
                   "weights_text": "a LoRA adapter over the base model"},
        "forecaster": {"config": {"variant": "fused", "window": 5, "train_start": "2014-01-01",
                                  "train_end": "2015-08-01", "dev_end": "2015-10-01", "rise_threshold": 0.0055,
                                  "fall_threshold": -0.005},
                       "uses_text": True, "price_features": ["ret_1", "hl_range"], "text_model_key": "abc",
                       "best_epoch": 3, "dev_acc": 0.52, "dev_mcc": 0.04},
    }[kind]
    expected = (FIXTURES / "cards" / f"{kind}.md").read_text(encoding="utf-8")
    assert render_card(kind, facts) == expected
