"""The one forward engine: a scoring model's outputs for many texts, each distinct text run once.

Long documents and filings repeat themselves (boilerplate paragraphs, the same sentence in several items) and two
years of one filer's filings share most of their passages, so each distinct text is scored once and its outputs
are copied to every position it occurs at (3% of the passages of Boeing's 2004 10-K; about half of a year-over-year
pair). The texts go through the backend in length-sorted batches (:meth:`~textrisk.models.contract.ScoringModel.
predict_outputs`) under ``num_threads`` torch threads; sentiment comes back calibrated (softmax at the model's
temperature), risk signals as the columns asked for (with a judgement model's topics, kind, severity and adverse
probability), embeddings L2-normalised.

Used by :class:`~textrisk.scoring.analyzer.RiskAnalyzer` (chunks of documents) and, through it, by
:class:`~textrisk.filings.analyzer.FilingAnalyzer` (passages of filings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..utils.calibration import softmax
from ..utils.runtime import torch_threads

__all__ = ["PassageOutputs", "run_forward"]


@dataclass
class PassageOutputs:
    """Per-text arrays, rows in input order."""

    probs: np.ndarray  # (n, labels) temperature-calibrated sentiment distribution
    risk: np.ndarray | None  # (n, signals) risk-signal probabilities of the asked columns; None: not asked
    embeddings: np.ndarray | None  # (n, hidden) pooled embeddings, L2-normalised; None unless asked for
    # a judgement model's passage judgement (None otherwise): topics of the asked columns (n, signals), kind (n, 4)
    # and severity (n, 4) distributions, adverse probability (n,) -- see textrisk.models.head.layout
    topics: np.ndarray | None = None
    kind: np.ndarray | None = None
    severity: np.ndarray | None = None
    adverse: np.ndarray | None = None

    @property
    def judged(self) -> bool:
        """Whether the passages carry a judgement (kind, severity, adverse)."""
        return self.adverse is not None

    def rows(self, index: slice | np.ndarray) -> PassageOutputs:
        """The outputs of the texts ``index`` selects."""
        def pick(value: np.ndarray | None) -> np.ndarray | None:
            return None if value is None else value[index]

        return PassageOutputs(self.probs[index], pick(self.risk), pick(self.embeddings), pick(self.topics),
                              pick(self.kind), pick(self.severity), pick(self.adverse))


def run_forward(backend: Any, texts: Sequence[str], *, temperature: float, risk_columns: Sequence[int] | None = None,
                embeddings: bool = False, batch_size: int = 32, num_threads: int | None = None,
                progress: bool | None = None) -> PassageOutputs:
    """Score ``texts`` with ``backend`` (a scoring model or a backend over one) in one pass over the distinct texts.

    Args:
        temperature: the model's softmax temperature (sentiment comes back calibrated).
        risk_columns: columns of the model's risk labels to return (None: no risk signals).
        embeddings: return pooled embeddings too (head-mode models).
        batch_size / num_threads / progress: per forward pass; torch CPU threads; a tqdm bar (None: terminal only).
    """
    first: dict[str, int] = {}
    where = np.array([first.setdefault(text, len(first)) for text in texts], dtype=np.int64)
    with torch_threads(num_threads):
        out = backend.predict_outputs(list(first), risk=risk_columns is not None, embeddings=embeddings,
                                      batch_size=batch_size, progress=progress)
    probs = softmax(out.logits, temperature)[where]
    risk = None if risk_columns is None else out.risk[:, list(risk_columns)][where]
    vectors = None
    if embeddings:
        vectors = out.embeddings.astype(np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        vectors = vectors[where]
    result = PassageOutputs(probs, risk, vectors)
    if risk_columns is not None and out.adverse is not None:
        result.topics = out.topics[:, list(risk_columns)][where]
        result.kind, result.severity, result.adverse = out.kind[where], out.severity[where], out.adverse[where]
    return result
