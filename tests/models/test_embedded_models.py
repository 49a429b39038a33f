"""Both models shipped inside the package: loadable by name, and the commercial one trained only on data that
allows commercial use (read from its own card and training manifest, so a wrong source fails here)."""

import json
from pathlib import Path

import pytest

import textrisk
from textrisk import RiskAnalyzer
from textrisk.errors import ModelLoadError
from textrisk.models import backbone
from textrisk.models.backbone import EMBEDDED_MODELS, resolve_model_path
from textrisk.models.cards import commercial_problems, source_info

MODELS = sorted(EMBEDDED_MODELS)


def manifest(name: str) -> list[dict]:
    """The config of every training run behind an embedded model, oldest first."""
    return json.loads((EMBEDDED_MODELS[name] / "training_manifest.json").read_text(encoding="utf-8"))["runs"]


def problems(name: str) -> list[str]:
    return [problem for run in manifest(name) for problem in commercial_problems(run)]


@pytest.mark.parametrize("name", MODELS)
def test_embedded_model_loads_by_name(name):
    assert resolve_model_path(name) == EMBEDDED_MODELS[name]
    analyzer = RiskAnalyzer.from_pretrained(name)
    report = analyzer.score(["The board cut the quarterly dividend in half to preserve cash."])[0]
    assert analyzer.has_risk_head and report.kind in ("event", "outlook", "boilerplate", "other")
    assert 0 <= report.risk_score <= 1


def test_a_missing_embedded_model_is_named(monkeypatch, tmp_path):
    monkeypatch.setitem(backbone.EMBEDDED_MODELS, "commercial", tmp_path / "gone")
    with pytest.raises(ModelLoadError, match="embedded 'commercial' model is missing"):
        resolve_model_path("commercial")


def test_commercial_manifest_has_only_commercial_sources():
    assert problems("commercial") == []
    assert all(run["train_data"] and run["risk_train_data"] for run in manifest("commercial"))
    # the check is not vacuous: the default model's manifest fails it (FPB, SENTiVENT, the full corpus)
    found = problems("default")
    assert any("'fpb'" in p for p in found) and any("sentivent" in p.lower() for p in found)


def test_commercial_problems_names_each_kind_of_problem():
    problems = commercial_problems({"train_data": ["tfns", "fpb", "my.csv"],
                                    "risk_train_data": "runs/sentivent_train.jsonl",
                                    "distill_teachers": ["teacher"], "init_from": "default"})
    assert len(problems) == 5
    assert "no recorded licence" in problems[1] and "research use only" in problems[2]
    assert source_info("runs/commercial_data/risk_dev.jsonl")["license"] == "mit"


def test_commercial_card_lists_every_source_and_the_weights_licence():
    card = (EMBEDDED_MODELS["commercial"] / "README.md").read_text(encoding="utf-8")
    assert "license: mit" in card and "licensed **MIT**" in card
    training = card.split("## Held-out evaluation")[0]
    for source in manifest("commercial")[-1]["train_data"]:
        assert source_info(source)["license_text"] in training
    assert "Financial PhraseBank" not in training and "SENTiVENT" not in card.split("## Use")[0].replace(
        "no SENTiVENT", "")


def test_package_stays_small():
    package = Path(textrisk.__file__).parent
    size = sum(p.stat().st_size for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert size < 20_000_000, f"textrisk/ holds {size / 1e6:.1f} MB"
