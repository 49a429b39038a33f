"""One forward pass over many passages: calibrated sentiment, risk signals and pooled embeddings.

Filings repeat themselves (boilerplate paragraphs, the same sentence in several items) and two years of one
filer's filings share most of their passages, so each distinct passage text is scored once and its outputs are
copied to every position it occurs at (3% of the passages of Boeing's 2004 10-K; about half of a year-over-year pair).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..scoring import RiskAnalyzer
from ..utils.calibration import softmax
from ..utils.runtime import torch_threads

__all__ = ["PassageOutputs", "run_passages"]


@dataclass
class PassageOutputs:
    """Per-passage arrays, rows in input order."""

    probs: np.ndarray  # (n, labels) temperature-calibrated sentiment distribution
    risk: np.ndarray | None  # (n, signals) sigmoid of the risk head, the analyzer's signal labels; None: no head
    embeddings: np.ndarray | None  # (n, hidden) pooled embeddings, L2-normalised; None unless asked for

    def rows(self, index: slice | np.ndarray) -> PassageOutputs:
        """The outputs of the passages ``index`` selects."""
        return PassageOutputs(self.probs[index], None if self.risk is None else self.risk[index],
                              None if self.embeddings is None else self.embeddings[index])


def run_passages(analyzer: RiskAnalyzer, texts: Sequence[str], embeddings: bool = False,
                 progress: bool | None = None) -> PassageOutputs:
    """Score ``texts`` with ``analyzer``'s model (through its backend) in one length-sorted, batched pass over
    the distinct texts."""
    model = analyzer.model
    first: dict[str, int] = {}
    where = np.array([first.setdefault(text, len(first)) for text in texts], dtype=np.int64)
    with torch_threads(analyzer.num_threads):
        out = analyzer.backend.predict_outputs(list(first), risk=analyzer.has_risk_head, embeddings=embeddings,
                                               batch_size=analyzer.batch_size, progress=progress)
    probs = softmax(out.logits, model.temperature)[where]
    risk = None
    if analyzer.has_risk_head:
        columns = [model.risk_labels.index(label) for label in analyzer.signal_labels]
        risk = out.risk[:, columns][where]
    vectors = None
    if embeddings:
        vectors = out.embeddings.astype(np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        vectors = vectors[where]
    return PassageOutputs(probs, risk, vectors)
