"""The model shipped inside the package: present, small, documented, loads offline, and actually works."""

import json

import pytest

from textrisk import RiskAnalyzer
from textrisk.models.hub import DEFAULT_MODEL_DIR

from ..helpers import DATA_DIR, needs_data


@pytest.fixture(scope="module")
def analyzer() -> RiskAnalyzer:
    return RiskAnalyzer.from_pretrained()


def test_default_model_is_small_and_complete():
    files = {p.name: p.stat().st_size for p in DEFAULT_MODEL_DIR.iterdir() if p.is_file()}
    assert {"textrisk_config.json", "adapter_config.json", "adapter_model.safetensors", "heads.safetensors",
            "README.md"} <= set(files)
    assert sum(files.values()) < 10_000_000
    adapter = json.loads((DEFAULT_MODEL_DIR / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == "sentence-transformers/all-MiniLM-L6-v2"


def test_model_card_states_data_licence_and_metrics():
    card = (DEFAULT_MODEL_DIR / "README.md").read_text()
    for needle in ("license: cc-by-nc-sa-3.0", "CC BY-NC-SA 3.0", "Financial PhraseBank", "Twitter Financial News",
                   "| fpb |", "| tfns |", "temperature"):
        assert needle in card, needle
    results = json.loads((DEFAULT_MODEL_DIR / "training_results.json").read_text())
    assert set(results["sources"]) == {"fpb", "tfns"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Operating profit fell to EUR 3.2 mn from EUR 5.1 mn in the corresponding period a year earlier.",
         "negative"),
        ("Net sales rose 25% to a record EUR 120 mn and operating profit more than doubled.", "positive"),
        ("The annual general meeting will be held in Helsinki on 12 March.", "neutral"),
        ("$AAPL shares tumble after iPhone sales miss estimates", "negative"),
        ("Stocks rally as earnings beat expectations", "positive"),
    ],
)
def test_clear_cases(analyzer, text, expected):
    assert analyzer.score([text])[0].sentiment == expected


@needs_data
def test_quality_floor_on_fpb_test_subset(analyzer):
    """A guard against shipping a broken model; the full numbers are in the README (textrisk evaluate)."""
    from textrisk.evaluation.sentiment import evaluate_model

    report = evaluate_model(analyzer.model, ["fpb"], data_dir=DATA_DIR, limit=300, progress=False)
    assert report["datasets"]["fpb"]["weighted_f1"] > 0.8


@needs_data
def test_whole_filing_scores_with_evidence(analyzer):
    filing = DATA_DIR / "sec_filings" / "1002022_10-K_2000-06-01_full.txt"  # states going-concern doubt
    text = filing.read_text(encoding="utf-8")
    report = analyzer.score([text], progress=False)[0]
    assert report.num_chunks > 50 and report.evidence
    assert all(text[e.start:e.end] == e.text for e in report.evidence)


def test_default_model_scores_risk_signals_for_every_text(analyzer):
    from textrisk.labels.taxonomy import RISK_LABELS

    assert analyzer.has_risk_head and analyzer.model.config.risk_ensemble  # the stacker with the rules ships
    texts = ["The board cut the quarterly dividend in half to preserve cash.",
             "The annual general meeting will be held in Helsinki on 12 March."]
    reports = analyzer.score(texts)
    for report in reports:
        assert list(report.risk_signals) == list(RISK_LABELS) and isinstance(report.risk_score, float)
    assert "dividend" in reports[0].flags
    assert reports[1].flags == []


def test_model_card_lists_risk_metrics_and_every_licence():
    card = (DEFAULT_MODEL_DIR / "README.md").read_text()
    for needle in ("## Risk signals", "SENTiVENT", "research / non-commercial use only", "| gold_test (535) |",
                   "| random_gold (640) |", "| sentivent_test (727) |", "| ensemble |", "ECE"):
        assert needle in card, needle
    results = json.loads((DEFAULT_MODEL_DIR / "training_results.json").read_text())
    assert set(results["risk_head"]["sources"]) == {"silver", "sentivent", "gold_dev"}
