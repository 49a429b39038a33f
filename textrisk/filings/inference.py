"""One forward pass over many passages: calibrated sentiment, risk signals and pooled embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..calibration import softmax
from ..runtime import torch_threads
from ..scoring import RiskAnalyzer

__all__ = ["PassageOutputs", "run_passages"]


@dataclass
class PassageOutputs:
    """Per-passage arrays, rows in input order."""

    probs: np.ndarray  # (n, labels) temperature-calibrated sentiment distribution
    risk: np.ndarray | None  # (n, signals) sigmoid of the risk head, the analyzer's signal labels; None: no head
    embeddings: np.ndarray | None  # (n, hidden) pooled embeddings, L2-normalised; None unless asked for


def run_passages(analyzer: RiskAnalyzer, texts: Sequence[str], embeddings: bool = False,
                 progress: bool | None = None) -> PassageOutputs:
    """Score ``texts`` with ``analyzer``'s model (through its backend) in one length-sorted, batched pass."""
    model = analyzer.model
    with torch_threads(analyzer.num_threads):
        out = analyzer.backend.predict_outputs(list(texts), risk=analyzer.has_risk_head, embeddings=embeddings,
                                               batch_size=analyzer.batch_size, progress=progress)
    probs = softmax(out.logits, model.temperature)
    risk = None
    if analyzer.has_risk_head:
        columns = [model.risk_labels.index(label) for label in analyzer.signal_labels]
        risk = out.risk[:, columns]
    vectors = None
    if embeddings:
        vectors = out.embeddings.astype(np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return PassageOutputs(probs, risk, vectors)
