"""Offline ``evaluate`` metric modules shipped with textrisk, one ``evaluate.Metric`` per file.

``evaluate.load("accuracy")`` fetches its script from the Hub; these load from the package by path, so
evaluation works with ``HF_HUB_OFFLINE=1``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["METRIC_NAMES", "classification_report", "evaluate_logits", "load_metric", "multilabel_report",
           "tune_thresholds"]

METRIC_NAMES = ("accuracy", "calibration_error", "f1")
_HERE = Path(__file__).resolve().parent


def load_metric(name: str) -> Any:
    """Load one of :data:`METRIC_NAMES` as an ``evaluate.EvaluationModule``."""
    import evaluate

    if name not in METRIC_NAMES:
        raise ValueError(f"unknown metric {name!r}; textrisk ships {list(METRIC_NAMES)}")
    return evaluate.load(str(_HERE / f"{name}.py"))


def classification_report(references: list[int], predictions: list[int], labels: list[str]) -> dict[str, Any]:
    """Accuracy, weighted F1, macro F1, and per-class precision/recall/F1/support."""
    from sklearn.metrics import precision_recall_fscore_support

    f1 = load_metric("f1")
    report: dict[str, Any] = {
        "accuracy": load_metric("accuracy").compute(predictions=predictions, references=references)["accuracy"],
        "weighted_f1": f1.compute(predictions=predictions, references=references, average="weighted")["f1"],
        "macro_f1": f1.compute(predictions=predictions, references=references, average="macro",
                               labels=list(range(len(labels))))["f1"],
    }
    precision, recall, f1s, support = precision_recall_fscore_support(
        references, predictions, labels=list(range(len(labels))), zero_division=0
    )
    report["per_class"] = {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1s, support)
    }
    return report


def evaluate_logits(logits: np.ndarray, references: list[int], labels: list[str], temperature: float) -> dict:
    """Classification metrics of calibrated predictions, plus ECE before and after temperature scaling."""
    from ..calibration import softmax

    ece = load_metric("calibration_error")
    calibrated = softmax(logits, temperature)
    report = classification_report(references, calibrated.argmax(axis=1).tolist(), labels)
    report["ece_raw"] = ece.compute(predictions=softmax(logits).tolist(), references=references)["ece"]
    report["ece_calibrated"] = ece.compute(predictions=calibrated.tolist(), references=references)["ece"]
    report["temperature"] = temperature
    report["rows"] = len(references)
    return report


def multilabel_report(targets: np.ndarray, probs: np.ndarray, labels: list[str],
                      thresholds: dict[str, float] | None = None) -> dict[str, Any]:
    """Per-label precision/recall/F1/support and macro F1 of ``probs >= threshold`` (default 0.5)."""
    from sklearn.metrics import precision_recall_fscore_support

    thresholds = thresholds or {}
    cut = np.array([thresholds.get(label, 0.5) for label in labels])
    predicted = (np.asarray(probs) >= cut).astype(int)
    precision, recall, f1s, support = precision_recall_fscore_support(np.asarray(targets), predicted,
                                                                      average=None, zero_division=0)
    per_label = {label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(n),
                         "threshold": float(t)}
                 for label, p, r, f, n, t in zip(labels, precision, recall, f1s, support, cut)}
    return {"macro_f1": float(np.mean(f1s)), "per_label": per_label, "rows": int(len(predicted))}


def tune_thresholds(targets: np.ndarray, probs: np.ndarray, labels: list[str]) -> dict[str, float]:
    """Per-label threshold maximising F1 on held-out data (grid 0.05..0.95; ties go to the one nearest 0.5)."""
    from sklearn.metrics import f1_score

    targets, probs = np.asarray(targets), np.asarray(probs)
    grid = sorted(np.round(np.arange(0.05, 0.951, 0.025), 3), key=lambda t: abs(t - 0.5))
    tuned = {}
    for column, label in enumerate(labels):
        scores = [(f1_score(targets[:, column], probs[:, column] >= t, zero_division=0), t) for t in grid]
        tuned[label] = float(max(scores, key=lambda pair: pair[0])[1])  # max keeps the first (nearest 0.5) tie
    return tuned

