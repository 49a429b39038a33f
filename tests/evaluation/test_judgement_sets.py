"""The judgement tests of ``textrisk evaluate --risk-data``: a file with judgement cells and the contrast set."""

from __future__ import annotations

import json

import numpy as np
import pytest

from textrisk.evaluation.risk import evaluate_contrast, evaluate_risk_sets, risk_scores, risk_table
from textrisk.models.head.model import TextRiskModel

from ..helpers import REPO

PAIRS = [
    {"pair": "X1", "category": "guidance", "higher": "b",
     "a": {"text": "Acme reaffirms its full-year guidance.", "topics": [], "kind": "event", "severity": 0},
     "b": {"text": "Acme cuts its full-year guidance.", "topics": ["earnings_guidance"], "kind": "event",
           "severity": 2}},
    {"pair": "X2", "category": "dividend", "higher": "a",
     "a": {"text": "The board suspended the dividend.", "topics": ["dividend"], "kind": "event", "severity": 3},
     "b": {"text": "The board raised the dividend.", "topics": ["dividend"], "kind": "event", "severity": 0}},
]


def _contrast(folder):
    path = folder / "corpus" / "contrast_set.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(p) + "\n" for p in PAIRS))
    return path


def test_contrast_counts_pairs_ordered_by_risk_score(judgement_model_dir, tmp_path):
    model = TextRiskModel.from_pretrained(judgement_model_dir)
    result = evaluate_contrast(model, _contrast(tmp_path))
    scores = risk_scores(model, model.predict_outputs([s[k]["text"] for s in PAIRS for k in ("a", "b")], risk=True))
    expected = [scores[1] > scores[0], scores[2] > scores[3]]
    assert result["pairs"] == 2 and result["ordered"] == pytest.approx(np.mean(expected))
    assert set(result["per_category"]) == {"guidance", "dividend"} and result["score"] == "adverse probability"
    named = evaluate_risk_sets(model, ["contrast"], risk_dir=tmp_path)
    assert named["contrast"]["ordered"] == result["ordered"]
    assert "pairs ordered by risk_score" in risk_table(named)


def test_a_signals_only_model_is_ordered_by_its_tone_risk(risk_model_dir, tmp_path):
    model = TextRiskModel.from_pretrained(risk_model_dir)
    result = evaluate_contrast(model, _contrast(tmp_path))
    assert result["score"] == "P(negative) * P(any signal)"


def test_a_set_with_judgement_cells_reports_kind_and_adverse(judgement_model_dir, tmp_path):
    rows = [{"text": f"{t} ({i})", "labels": labels, "topics": labels, "kind": kind, "severity": sev}
            for i in range(3) for t, labels, kind, sev in [
                ("The lender defaulted on its bonds.", ["credit"], "event", 3),
                ("We may not be able to repay our debt.", [], "boilerplate", 0),
                ("We operate 40 branches.", [], "other", 0)]]
    path = tmp_path / "judged.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    model = TextRiskModel.from_pretrained(judgement_model_dir)
    result = evaluate_risk_sets(model, [str(path)])[str(path)]
    judged = result["judgement"]
    assert 0 <= judged["kind_accuracy"] <= 1 and 0 <= judged["adverse_auc"] <= 1
    assert sum(sum(row.values()) for row in judged["kind_confusion"].values()) == len(rows)
    assert "judgement: kind_accuracy" in risk_table({str(path): result})


def test_a_judgement_model_with_a_stacker_reports_head_rules_and_ensemble(judgement_model_dir, tmp_path):
    """The head's own column is its signal group (not the whole judgement output) when a stacker ships."""
    from textrisk.labels.label_model import LabelModel
    from textrisk.labels.rules import lf_votes
    from textrisk.labels.taxonomy import RISK_LABELS
    from textrisk.models.head.ensemble import RiskEnsemble

    texts = ["The lender defaulted on its bonds.", "The board cut the dividend.", "We operate 40 branches."]
    gold = [["credit"], ["dividend"], []]
    ensemble = RiskEnsemble(list(RISK_LABELS), {label: [1.0, 0.5, 0.5, 0.0] for label in RISK_LABELS},
                            {label: 0.5 for label in RISK_LABELS}, LabelModel.fit(lf_votes(texts * 3), gold * 3))
    model = TextRiskModel.from_pretrained(judgement_model_dir)
    model.config.risk_ensemble = ensemble.to_dict()
    path = tmp_path / "signals.jsonl"
    path.write_text("".join(json.dumps({"text": t, "labels": g}) + "\n" for t, g in zip(texts, gold)))
    result = evaluate_risk_sets(model, [str(path)])[str(path)]
    assert set(result["systems"]) == {"model", "rules", "ensemble"}
    assert all(0 <= m["macro_f1"] <= 1 for m in result["systems"].values())


@pytest.mark.skipif(not (REPO / "finetune/risk_data/corpus/filings_test.jsonl").is_file(), reason="no checkout")
def test_the_shipped_filings_test_and_contrast_set_are_well_formed():
    from textrisk.data.datasets import load_risk_file

    data = load_risk_file(REPO / "finetune/risk_data/corpus/filings_test.jsonl", judgement=True)
    assert len(data) >= 400 and all(row[-3] >= 0 for row in data["judgement"])
    pairs = [json.loads(line) for line in (REPO / "finetune/risk_data/corpus/contrast_set.jsonl").open()]
    assert len(pairs) >= 120 and {p["higher"] for p in pairs} == {"a", "b"}
    for pair in pairs:
        riskier, other = pair[pair["higher"]], pair["b" if pair["higher"] == "a" else "a"]
        assert riskier["severity"] >= 1 and riskier["kind"] in ("event", "outlook")
        assert riskier["severity"] > other["severity"] or other["kind"] == "boilerplate"
