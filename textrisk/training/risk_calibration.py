"""After training a risk head: per-label Platt scaling folded into the head, flag thresholds, dev and eval reports.

Everything here is fitted on ``risk_dev_data`` (files never trained on) and only reported on ``risk_eval_data``:

1. **Calibration**: per signal label, and for ``adverse``, Platt scaling ``sigmoid(a * z + c)`` fitted by maximum
   likelihood on the dev rows annotated for it (Platt 1999), then folded into the head's last linear layer, so every
   backend (ONNX included) outputs calibrated probabilities. A label without dev positives keeps its logits.
2. **Thresholds** per signal label: the F1-best on dev of the calibrated probabilities (0.5 without dev positives).
3. **Reports**: :func:`textrisk.evaluation.judgement.judgement_report` on dev and eval rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..evaluation.judgement import DevRows
from ..metrics.reports import binary_ece, tune_threshold
from ..models.head.layout import group_slices
from ..utils.calibration import sigmoid

__all__ = ["calibrate_risk", "platt", "tune_risk_thresholds"]


def platt(logits: np.ndarray, targets: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column ``(a, c)`` of ``sigmoid(a * z + c)`` fitted by maximum likelihood on the ``known`` rows (a column
    whose known rows are all one class keeps ``a = 1, c = 0``)."""
    from sklearn.linear_model import LogisticRegression

    a, c = np.ones(logits.shape[1]), np.zeros(logits.shape[1])
    for k in range(logits.shape[1]):
        rows = np.asarray(known[:, k], dtype=bool)
        y = np.asarray(targets[rows, k], dtype=int)
        if y.size and 0 < y.sum() < y.size:
            fitted = LogisticRegression(C=1e4, max_iter=1000).fit(logits[rows, k:k + 1], y)
            a[k], c[k] = fitted.coef_[0, 0], fitted.intercept_[0]
    return a, c


def _last_linear(head: torch.nn.Module) -> torch.nn.Linear:
    return head if isinstance(head, torch.nn.Linear) else [m for m in head if isinstance(m, torch.nn.Linear)][-1]


@torch.no_grad()
def _fold(head: torch.nn.Module, columns: Sequence[int], a: np.ndarray, c: np.ndarray) -> None:
    """Make the head output ``a * z + c`` instead of ``z`` in ``columns``."""
    layer = _last_linear(head)
    index = torch.as_tensor(list(columns))
    scale = torch.as_tensor(a, dtype=layer.weight.dtype)
    layer.weight[index] *= scale[:, None]
    layer.bias[index] = layer.bias[index] * scale + torch.as_tensor(c, dtype=layer.bias.dtype)


def calibrate_risk(model: Any, dev: DevRows, progress: bool | None = None) -> dict[str, Any]:
    """Fit and fold Platt scaling of the signals and (for a judgement model) of ``adverse`` on ``dev``; returns the
    per-label ECE before and after."""
    n_labels = len(model.config.risk_labels)
    slices = group_slices(n_labels, model.config.risk_outputs)
    logits = model.forward_outputs(dev.texts, ("risk_logits",), progress=progress)["risk_logits"]
    signal_columns = list(range(slices["signals"].start, slices["signals"].stop))
    z = logits[:, signal_columns]
    a, c = platt(z, dev.risk, dev.known)
    report = {"ece_before": {}, "ece_after": {}}
    for k, label in enumerate(model.config.risk_labels):
        rows = dev.known[:, k]
        if dev.risk[rows, k].any():
            report["ece_before"][label] = binary_ece(dev.risk[rows, k], sigmoid(z[rows, k]))
            report["ece_after"][label] = binary_ece(dev.risk[rows, k], sigmoid(a[k] * z[rows, k] + c[k]))
    _fold(model.heads["risk"], signal_columns, a, c)
    if "adverse" in slices and dev.judgement is not None:
        target = dev.judgement[:, -1]
        rows = target >= 0
        column = slices["adverse"].start
        if rows.any() and 0 < target[rows].sum() < rows.sum():
            za = logits[:, column:column + 1]
            aa, ca = platt(za, target[:, None].clip(min=0), rows[:, None])
            report["ece_before"]["adverse"] = binary_ece(target[rows], sigmoid(za[rows, 0]))
            report["ece_after"]["adverse"] = binary_ece(target[rows], sigmoid(aa[0] * za[rows, 0] + ca[0]))
            _fold(model.heads["risk"], [column], aa, ca)
    return report


def tune_risk_thresholds(model: Any, dev: DevRows, progress: bool | None = None) -> dict[str, float]:
    """Per-label F1-best thresholds of the model's (calibrated, shipped) signal probabilities on ``dev``."""
    probs = model.predict_risk(dev.texts, progress=progress)
    return {label: tune_threshold(dev.risk[:, k] & dev.known[:, k], probs[:, k], mask=dev.known[:, k])
            for k, label in enumerate(model.config.risk_labels)}
