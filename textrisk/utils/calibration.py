"""Probabilities from scores: ``softmax`` with temperature scaling (Guo et al., 2017: one scalar T so that
softmax(logits / T) is calibrated, fitted by :func:`fit_temperature`) and the one ``sigmoid`` of the package."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["TEMPERATURE_RANGE", "fit_temperature", "sigmoid", "softmax"]

#: The temperatures :func:`fit_temperature` returns, and the ones a saved model may carry: outside them a model's
#: probabilities are all 0/1 or all equal, which no fit on real data produces (a damaged or hand-edited config).
TEMPERATURE_RANGE = (0.05, 20.0)


def fit_temperature(logits: np.ndarray, labels: np.ndarray, max_iter: int = 200) -> float:
    """Temperature minimising the negative log-likelihood of ``labels`` on held-out ``logits``.

    Optimised over log T so T stays positive; clamped to :data:`TEMPERATURE_RANGE` to survive degenerate inputs.
    """
    import torch

    logits_t = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    labels_t = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    if logits_t.ndim != 2 or len(logits_t) != len(labels_t) or len(labels_t) == 0:
        raise ValueError(f"need (n, classes) logits and n labels, got {tuple(logits_t.shape)} and {len(labels_t)}")
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits_t / log_t.exp(), labels_t)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(np.clip(log_t.exp().item(), *TEMPERATURE_RANGE))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` (numerically stable)."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


def sigmoid(logits: Any) -> np.ndarray:
    """Element-wise logistic function in float64 (the one sigmoid of the package)."""
    with np.errstate(over="ignore"):  # exp(-z) overflows to inf for z << 0, giving exactly 0.0
        return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))
