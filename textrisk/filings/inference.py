"""One forward pass over many passages: calibrated sentiment, risk signals and pooled embeddings."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..calibration import softmax
from ..errors import ModelLoadError
from ..scoring import RiskAnalyzer

__all__ = ["PassageOutputs", "run_passages"]


@dataclass
class PassageOutputs:
    """Per-passage arrays, rows in input order."""

    probs: np.ndarray  # (n, labels) temperature-calibrated sentiment distribution
    risk: np.ndarray | None  # (n, signals) sigmoid of the risk head, the analyzer's signal labels; None: no head
    embeddings: np.ndarray | None  # (n, hidden) pooled embeddings, L2-normalised; None unless asked for


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    import torch

    previous = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def run_passages(analyzer: RiskAnalyzer, texts: Sequence[str], embeddings: bool = False,
                 progress: bool | None = None) -> PassageOutputs:
    """Score ``texts`` with ``analyzer``'s model in one length-sorted, batched pass."""
    model = analyzer.model
    keys = ["logits"]
    if analyzer.has_risk_head:
        keys.append("risk_logits")
    if embeddings:
        keys.append("embeddings")
    texts = list(texts)
    with _threads(analyzer.num_threads):
        if len(keys) > 1:
            if not hasattr(model, "predict_outputs"):
                raise ModelLoadError("this model cannot return embeddings or risk signals for passages")
            out = model.predict_outputs(texts, tuple(keys), batch_size=analyzer.batch_size, progress=progress,
                                        desc="passages")
        else:  # the only call a duck-typed model (prompt mode) must support
            out = {"logits": model.predict(texts, batch_size=analyzer.batch_size, progress=progress)[0]}
    probs = softmax(out["logits"], model.config.temperature)
    risk = None
    if analyzer.has_risk_head:
        columns = [model.config.risk_labels.index(label) for label in analyzer.signal_labels]
        risk = 1.0 / (1.0 + np.exp(-out["risk_logits"][:, columns].astype(np.float64)))
    vectors = None
    if embeddings:
        vectors = out["embeddings"].astype(np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return PassageOutputs(probs, risk, vectors)
