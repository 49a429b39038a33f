"""The models shipped inside the package: present, small, documented, load offline, and actually work.

Every test that says what a shipped model must do runs on both embedded models (``default`` and ``commercial``)."""

import json

import pytest

from textrisk import RiskAnalyzer
from textrisk.models.backbone import EMBEDDED_MODELS
from textrisk.models.hub import DEFAULT_MODEL_DIR

from ..helpers import DATA_DIR, needs_data

MODELS = sorted(EMBEDDED_MODELS)


@pytest.fixture(scope="module", params=MODELS)
def analyzer(request) -> RiskAnalyzer:
    return RiskAnalyzer.from_pretrained(request.param)


@pytest.mark.parametrize("name", MODELS)
def test_embedded_model_is_small_and_complete(name):
    folder = EMBEDDED_MODELS[name]
    files = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
    assert {"textrisk_config.json", "adapter_config.json", "adapter_model.safetensors", "heads.safetensors",
            "README.md", "training_manifest.json"} <= set(files)
    assert sum(files.values()) < 10_000_000
    adapter = json.loads((folder / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == "sentence-transformers/all-MiniLM-L6-v2"


def test_model_card_states_data_licence_and_metrics():
    card = (DEFAULT_MODEL_DIR / "README.md").read_text()
    for needle in ("license: cc-by-nc-sa-3.0", "CC BY-NC-SA 3.0", "Financial PhraseBank", "Twitter Financial News",
                   "| fpb |", "| tfns |", "temperature"):
        assert needle in card, needle
    results = json.loads((DEFAULT_MODEL_DIR / "training_results.json").read_text())
    assert {"fpb", "tfns"} <= set(results["sources"])


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
    """A guard against shipping a broken model; the full numbers are in the docs (textrisk evaluate). The
    commercial model never saw FPB (a non-commercial set), so its floor is lower."""
    from textrisk.evaluation.sentiment import evaluate_model

    report = evaluate_model(analyzer.model, ["fpb"], data_dir=DATA_DIR, limit=300, progress=False)
    floor = 0.8 if analyzer.model.source_dir == DEFAULT_MODEL_DIR else 0.55
    assert report["datasets"]["fpb"]["weighted_f1"] > floor


@needs_data
def test_whole_filing_scores_with_evidence(analyzer):
    filing = DATA_DIR / "sec_filings" / "1002022_10-K_2000-06-01_full.txt"  # states going-concern doubt
    text = filing.read_text(encoding="utf-8")
    report = analyzer.score([text], progress=False)[0]
    assert report.num_chunks > 50 and report.evidence
    assert all(text[e.start:e.end] == e.text for e in report.evidence)
    assert report.kind is not None and 0 <= report.risk_score <= 1


def test_embedded_model_judges_events_not_boilerplate(analyzer):
    from textrisk.labels.taxonomy import RISK_LABELS

    assert analyzer.has_risk_head
    texts = ["The board cut the quarterly dividend in half to preserve cash.",
             "The annual general meeting will be held in Helsinki on 12 March.",
             "We may become subject to litigation that could harm our business."]
    reports = analyzer.score(texts)
    for report in reports:
        assert list(report.risk_signals) == list(RISK_LABELS) and isinstance(report.risk_score, float)
    assert "dividend" in reports[0].flags and reports[0].kind == "event" and reports[0].risk_score > 0.5
    assert reports[1].flags == [] and reports[1].risk_score < 0.1
    assert reports[2].kind == "boilerplate" and reports[2].flags == [] and reports[2].risk_score < 0.1


def test_model_card_lists_risk_metrics_and_every_licence():
    card = (DEFAULT_MODEL_DIR / "README.md").read_text()
    for needle in ("## Risk signals", "SENTiVENT", "research / non-commercial use only", "judgement corpus",
                   "| gold_test (535) |", "| random_gold (640) |", "| sentivent_test (727) |", "ECE"):
        assert needle in card, needle
    manifest = json.loads((DEFAULT_MODEL_DIR / "training_manifest.json").read_text())["runs"]
    assert manifest[-1]["risk_outputs"] == ["signals", "topics", "kind", "severity", "adverse"]
