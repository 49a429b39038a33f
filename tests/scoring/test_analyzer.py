import json

import numpy as np
import pytest

from textrisk import InputError, RiskAnalyzer
from textrisk.utils.calibration import softmax

from ..helpers import SENTENCES


@pytest.fixture(scope="module")
def analyzer(tiny_model_dir) -> RiskAnalyzer:
    return RiskAnalyzer.from_pretrained(tiny_model_dir)


def test_reports_are_aligned_calibrated_and_json_ready(analyzer):
    reports = analyzer.score(SENTENCES)
    assert len(reports) == len(SENTENCES)
    logits, _ = analyzer.model.predict(SENTENCES)
    expected = softmax(logits, 1.5)
    for report, probs in zip(reports, expected):
        assert report.sentiment in analyzer.labels
        assert sum(report.sentiment_scores.values()) == pytest.approx(1.0)
        np.testing.assert_allclose(list(report.sentiment_scores.values()), probs, rtol=1e-5)
        assert report.sentiment == max(report.sentiment_scores, key=report.sentiment_scores.get)
        assert report.num_chunks == 1 and report.evidence == []
        json.dumps(report.to_dict())


def test_order_and_batching_do_not_change_scores(analyzer):
    one_by_one = [analyzer.score([s])[0].sentiment_scores for s in SENTENCES]
    reversed_batch = analyzer.score(SENTENCES[::-1])[::-1]
    for a, b in zip(one_by_one, reversed_batch):
        assert a == pytest.approx(b.sentiment_scores, abs=1e-6)


def test_empty_list_gives_empty_result(analyzer):
    assert analyzer.score([]) == []


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["fine", ""], r"texts\[1\] is empty"),
        (["   \n\t"], r"texts\[0\] is empty or whitespace"),
        (["fine", None], r"texts\[1\] is None"),
        ([3.5], r"texts\[0\] is float"),
        ("a single string", "wrap it"),
        (42, "got int"),
        (["\x00\x01\x02\x03"], r"texts\[0\] has no readable characters"),
    ],
)
def test_bad_inputs_are_named(analyzer, texts, message):
    with pytest.raises(InputError, match=message):
        analyzer.score(texts)


def test_long_document_is_chunked_with_evidence(analyzer):
    negative = "Operating profit fell sharply and the company cut its outlook."
    filler = "The annual meeting will be held in Helsinki. "
    document = (filler * 40 + negative + " ") * 3
    document = (document * 40)[:200_000]
    report = analyzer.score([document])[0]
    assert report.num_chunks > 100
    assert 0 < len(report.evidence) <= 5
    for evidence in report.evidence:
        assert document[evidence.start:evidence.end] == evidence.text
        assert 0 < evidence.weight <= 1
    weights = [e.weight for e in report.evidence]
    assert weights == sorted(weights, reverse=True)
    assert sum(report.sentiment_scores.values()) == pytest.approx(1.0)


def test_document_score_is_token_weighted_mean_of_chunks(analyzer):
    """The aggregation rule, checked against an independent computation."""
    document = " ".join(SENTENCES * 12)
    report = analyzer.score([document])[0]
    chunks = [e for e in analyzer._chunks(document)]
    logits, _ = analyzer.model.predict([c.text for c in chunks])
    probs = softmax(logits, analyzer.model.config.temperature)
    weights = np.array([c.n_tokens for c in chunks], dtype=float)
    expected = (weights[:, None] * probs).sum(0) / weights.sum()
    np.testing.assert_allclose(list(report.sentiment_scores.values()), expected, rtol=1e-5)


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("Die Gewinne sind stark gesunken.", None),
        ("利润大幅下降，公司下调了全年预期。", "non-Latin script"),
        ("Выручка компании упала на 20 процентов.", "non-Latin script"),
        ("ab\x00\x01\x02\x03\x04\x05\x06\x07cd\x0b\x0c\x0e\x0f" * 10, "looks binary"),
    ],
)
def test_unusual_text_gets_a_result_and_a_warning(analyzer, text, warning):
    report = analyzer.score([text])[0]
    assert sum(report.sentiment_scores.values()) == pytest.approx(1.0)
    if warning is None:
        assert report.warnings == []
    else:
        assert any(warning in w for w in report.warnings)


def test_threads_are_restored(analyzer):
    import torch

    before = torch.get_num_threads()
    RiskAnalyzer(analyzer.model, num_threads=1).score(["Profit rose."])
    assert torch.get_num_threads() == before


def test_bad_chunk_tokens(analyzer):
    with pytest.raises(ValueError, match=r"chunk_tokens must be an integer \[8, "):
        RiskAnalyzer(analyzer.model, chunk_tokens=4)


def test_merged_analyzer_gives_the_same_scores(tiny_model_dir):
    plain = RiskAnalyzer.from_pretrained(tiny_model_dir, merge=False).score(SENTENCES)
    merged_analyzer = RiskAnalyzer.from_pretrained(tiny_model_dir)  # merge=True is the default
    assert merged_analyzer.model.config.adapter is True  # merged in memory, still an adapter model
    for a, b in zip(plain, merged_analyzer.score(SENTENCES)):
        assert a.sentiment_scores == pytest.approx(b.sentiment_scores, abs=1e-5)
