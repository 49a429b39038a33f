"""The one forward engine (each distinct text run once) and the one aggregation's evidence policies."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from textrisk.scoring.analyzer import RiskAnalyzer
from textrisk.scoring.report import CHUNKS, PASSAGES, pick_top

from ..helpers import SENTENCES


class _Counting:
    """A backend that records what it is asked to run."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def predict_outputs(self, texts, **kwargs):
        self.calls.append(list(texts))
        return self.model.predict_outputs(texts, **kwargs)


def test_each_distinct_text_is_run_once_and_copied_to_every_position(tiny_model_dir):
    plain = RiskAnalyzer.from_pretrained(tiny_model_dir)
    backend = _Counting(plain.model)
    analyzer = RiskAnalyzer(plain.model, backend=backend)
    texts = [SENTENCES[0], SENTENCES[1], SENTENCES[0], SENTENCES[0]]
    out = analyzer.forward(texts, embeddings=True)
    assert backend.calls == [[SENTENCES[0], SENTENCES[1]]]
    np.testing.assert_array_equal(out.probs[0], out.probs[3])
    np.testing.assert_allclose(np.linalg.norm(out.embeddings, axis=1), 1.0, rtol=1e-5)
    reports = analyzer.score(texts)
    assert backend.calls[-1] == [SENTENCES[0], SENTENCES[1]]
    assert reports[0].to_dict() == reports[2].to_dict() == reports[3].to_dict()


def test_evidence_policies():
    spans = [SimpleNamespace(text=t, n_tokens=n) for t, n in (("a b", 2), ("long passage", 9), ("long\n passage", 9),
                                                               ("other text", 12))]
    order = np.array([0, 1, 2, 3])
    assert pick_top(order, spans, 2, CHUNKS) == [0, 1]
    assert pick_top(order, spans, 5, PASSAGES) == [1, 3]  # 0 is too short, 2 repeats 1 (white space folded)
    assert pick_top(order, spans, 0, PASSAGES) == [] == pick_top(order, spans, 0, CHUNKS)  # --evidence 0
