"""score() tokenises each text once (the check keeps the token offsets chunking needs): the same chunks, labels,
probabilities, signals and warnings as the reference path, which tokenises again to chunk.

Tolerance: the two paths feed the forward pass the same chunk texts, so the scores are equal up to float noise
(absolute 1e-6)."""

import pytest

from textrisk import RiskAnalyzer
from textrisk.data.inputs import inspect_texts
from textrisk.scoring import analyzer as analyzer_module

from ..helpers import SENTENCES

LONG = " ".join(SENTENCES * 25)
HOSTILE = "\U0001F680 \U0001F680 \U0001F680 profit rose. " * 3  # scored with an unknown-token warning
TEXTS = [*SENTENCES[:4], LONG, HOSTILE, "Прибыль выросла на 5%. " + SENTENCES[0], SENTENCES[1], LONG[:700]]


def _reference_score(analyzer, texts, monkeypatch):
    """score() with the offsets dropped, so that chunking tokenises each text again (the path before)."""
    real = analyzer_module.validated_checks

    def without_offsets(*args, **kwargs):
        checks = real(*args, **kwargs)
        for check in checks:
            check.offsets = None
        return checks

    with monkeypatch.context() as patch:
        patch.setattr(analyzer_module, "validated_checks", without_offsets)
        return analyzer.score(texts)


def _assert_same(fast, slow):
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow):
        assert a.sentiment == b.sentiment and a.num_chunks == b.num_chunks and a.num_tokens == b.num_tokens
        assert a.sentiment_scores == pytest.approx(b.sentiment_scores, abs=1e-6)
        assert a.risk_signals == pytest.approx(b.risk_signals, abs=1e-6)
        assert a.flags == b.flags and a.warnings == b.warnings
        assert [(e.start, e.end) for e in a.evidence] == [(e.start, e.end) for e in b.evidence]


@pytest.mark.parametrize("fixture", ["risk_model_dir", "judgement_model_dir"])
@pytest.mark.parametrize("chunk_tokens", [16, 64])
def test_score_equals_the_reference_path(fixture, chunk_tokens, request, monkeypatch):
    analyzer = RiskAnalyzer.from_pretrained(request.getfixturevalue(fixture), num_threads=1, chunk_tokens=chunk_tokens)
    fast, slow = analyzer.score(TEXTS), _reference_score(analyzer, TEXTS, monkeypatch)
    _assert_same(fast, slow)
    assert fast[4].num_chunks > 1 and any("unknown" in w for w in fast[5].warnings)
    assert [r.risk_score for r in fast] == pytest.approx([r.risk_score for r in slow], abs=1e-6)


def test_chunks_from_the_check_offsets_equal_chunks_from_a_fresh_tokenisation(risk_model_dir):
    analyzer = RiskAnalyzer.from_pretrained(risk_model_dir, num_threads=1, chunk_tokens=24)
    for text, check in zip(TEXTS, inspect_texts(TEXTS, analyzer.model.tokenizer)):
        assert analyzer._chunks(text, check.offsets) == analyzer._chunks(text)
