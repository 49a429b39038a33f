"""Reports of a judgement model: risk_score as P(adverse), kind, severity, mentions, evidence ranked by adverse risk."""

from __future__ import annotations

import numpy as np
import pytest

from textrisk import RiskAnalyzer
from textrisk.labels.taxonomy import KINDS
from textrisk.scoring.report import adverse_risk
from textrisk.utils.calibration import softmax

from ..helpers import SENTENCES


@pytest.fixture(scope="module")
def judge(judgement_model_dir):
    return RiskAnalyzer.from_pretrained(judgement_model_dir, num_threads=1, chunk_tokens=8)


def test_a_short_text_reports_its_own_judgement(judge):
    reports = judge.score(SENTENCES[:4])
    out = judge.model.predict_outputs(SENTENCES[:4], risk=True)
    levels = np.arange(4)
    for k, report in enumerate(reports):
        assert report.num_chunks == 1
        assert report.risk_score == pytest.approx(out.adverse[k], abs=1e-6)
        negative = softmax(out.logits[k:k + 1], judge.model.temperature)[0, 0]
        assert report.tone_risk == pytest.approx(negative * (1 - np.prod(1 - out.risk[k])), abs=1e-6)
        assert report.kind == KINDS[int(out.kind[k].argmax())]
        assert report.kind_scores == pytest.approx(dict(zip(KINDS, out.kind[k])), abs=1e-6)
        assert report.severity == pytest.approx(out.severity[k] @ levels, abs=1e-6)
        thresholds = judge.thresholds()
        mentioned = {label for j, label in enumerate(judge.signal_labels)
                     if out.topics[k, j] >= 0.5 and out.risk[k, j] < thresholds[label]}
        assert set(report.mentions) == mentioned
        assert report.evidence == []  # a one-chunk text is its own evidence


def test_a_long_document_averages_and_ranks_by_adverse_risk(judge):
    text = " ".join(SENTENCES * 3)
    [report] = judge.score([text])
    assert report.num_chunks > 3
    chunks = judge._chunks(text)
    out = judge.forward([c.text for c in chunks])
    weights = np.array([c.n_tokens for c in chunks], dtype=float)
    assert report.risk_score == pytest.approx(float(weights @ out.adverse / weights.sum()), abs=1e-6)
    danger = adverse_risk(out.adverse, out.severity)
    shown = [e.weight for e in report.evidence]
    assert shown == sorted(shown, reverse=True) and shown[0] == pytest.approx(danger.max(), abs=1e-6)
    assert all(e.kind in KINDS and 0 <= e.risk_score <= 1 for e in report.evidence)
    for items in report.signal_evidence.values():
        ranks = [e.weight for e in items]
        assert ranks == sorted(ranks, reverse=True)
    worst = int(danger.argmax())
    assert report.severity == pytest.approx(out.severity[worst] @ np.arange(4), abs=1e-6)


def test_adverse_risk_weighs_probability_by_expected_severity():
    adverse = np.array([0.9, 0.9, 0.2])
    severity = np.array([[0.1, 0.9, 0.0, 0.0], [0.1, 0.0, 0.0, 0.9], [0.0, 0.0, 0.0, 1.0]])
    np.testing.assert_allclose(adverse_risk(adverse, severity), [0.9 / 3, 0.9, 0.2])


def test_json_output_carries_the_judgement(judge):
    row = judge.score([SENTENCES[0]])[0].to_dict()
    for key in ("risk_score", "tone_risk", "kind", "kind_scores", "severity", "mentions"):
        assert key in row


def test_a_document_flags_only_from_passages_that_report():
    """Boilerplate passages never raise a document's flags (they count as mentions); a one-passage text keeps its
    own signal probabilities."""
    from textrisk.labels.taxonomy import KINDS
    from textrisk.scoring.engine import PassageOutputs
    from textrisk.scoring.report import reported_risk

    risk = np.array([[0.9, 0.1], [0.8, 0.7]])
    kind = np.array([[0.1, 0.1, 0.7, 0.1], [0.5, 0.1, 0.2, 0.2]])  # boilerplate; event + outlook = 0.6
    out = PassageOutputs(np.full((2, 3), 1 / 3), risk, None, topics=risk, kind=kind,
                         severity=np.full((2, 4), 0.25), adverse=np.array([0.1, 0.6]))
    np.testing.assert_allclose(reported_risk(out, KINDS, 2), [[0.0, 0.0], [0.8, 0.7]])
    np.testing.assert_allclose(reported_risk(out.rows(slice(0, 1)), KINDS, 1), [[0.9, 0.1]])
