"""Reports on the metric modules: classification reports (accuracy, weighted / macro F1, per class, ECE before and
after temperature scaling), multi-label reports, binary ECE, and the package's one threshold tuner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import load_metric

__all__ = ["DEFAULT_GRID", "binary_ece", "classification_report", "evaluate_logits", "label_matrix",
           "multilabel_report", "tune_threshold", "tune_thresholds"]

#: Thresholds searched by :func:`tune_threshold`: 0.05, 0.075, ..., 0.95.
DEFAULT_GRID = tuple(float(t) for t in np.round(np.arange(0.05, 0.951, 0.025), 3))


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
    from ..utils.calibration import softmax

    ece = load_metric("calibration_error")
    calibrated = softmax(logits, temperature)
    report = classification_report(references, calibrated.argmax(axis=1).tolist(), labels)
    report["ece_raw"] = ece.compute(predictions=softmax(logits).tolist(), references=references)["ece"]
    report["ece_calibrated"] = ece.compute(predictions=calibrated.tolist(), references=references)["ece"]
    report["temperature"] = temperature
    report["rows"] = len(references)
    return report


def multilabel_report(targets: np.ndarray, probs: np.ndarray, labels: Sequence[str],
                      thresholds: dict[str, float] | None = None, known: np.ndarray | None = None,
                      macro_labels: Sequence[str] | None = None) -> dict[str, Any]:
    """The one per-label report: precision/recall/F1/support/predicted per label, macro and micro F1.

    ``probs`` are scores in [0, 1] (or 0/1 predictions); a label is predicted when its score is **at or over** its
    threshold (default 0.5). ``known`` (same shape, 1 = annotated) restricts each label to the rows annotated for
    it (partially labelled test sets); ``macro_labels`` (default: all) are the labels the macro F1 averages over.
    Also reports ``flags_per_1000`` (predicted labels per 1,000 rows), ``flagged_rows_per_1000`` (rows with at
    least one predicted label), ``gold_rows_per_1000`` and ``flag_precision`` (share of predicted labels that
    are right; None when nothing is predicted).
    """
    targets, probs = np.asarray(targets, dtype=bool), np.asarray(probs, dtype=np.float64)
    mask = np.ones_like(targets) if known is None else np.asarray(known, dtype=bool)
    cut = np.array([(thresholds or {}).get(label, 0.5) for label in labels])
    predicted = (probs >= cut) & mask
    targets = targets & mask
    per_label, totals = {}, np.zeros(3, dtype=np.int64)  # tp, predicted, gold
    for k, label in enumerate(labels):
        tp, n_pred, n_gold = int((predicted[:, k] & targets[:, k]).sum()), int(predicted[:, k].sum()), int(
            targets[:, k].sum())
        totals += (tp, n_pred, n_gold)
        precision, recall = (tp / n_pred if n_pred else 0.0), (tp / n_gold if n_gold else 0.0)
        per_label[label] = {"precision": precision, "recall": recall, "f1": _f1(precision, recall),
                            "support": n_gold, "predicted": n_pred, "threshold": float(cut[k]),
                            "scored_rows": int(mask[:, k].sum())}
    micro_p = totals[0] / totals[1] if totals[1] else 0.0
    micro_r = totals[0] / totals[2] if totals[2] else 0.0
    rows = int(len(predicted))
    averaged = list(labels if macro_labels is None else macro_labels)
    per_1000 = 1000.0 / rows if rows else 0.0
    return {"macro_f1": float(np.mean([per_label[label]["f1"] for label in averaged])) if averaged else 0.0,
            "micro_f1": _f1(micro_p, micro_r), "macro_labels": averaged,
            "flags_per_1000": per_1000 * int(totals[1]),
            "flagged_rows_per_1000": per_1000 * int(predicted.any(axis=1).sum()),
            "gold_rows_per_1000": per_1000 * int(targets.any(axis=1).sum()),
            "flag_precision": float(micro_p) if totals[1] else None, "per_label": per_label, "rows": rows}


def binary_ece(targets: np.ndarray, probs: np.ndarray) -> float:
    """Expected calibration error of one label's probabilities (the package's ECE metric on ``[1 - p, p]``)."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.size == 0:
        return 0.0
    return float(load_metric("calibration_error").compute(
        predictions=np.column_stack([1.0 - probs, probs]).tolist(),
        references=np.asarray(targets, dtype=int).tolist())["ece"])


def label_matrix(rows: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    """Label lists (``[["credit"], [], ...]``) as a 0/1 matrix with one column per label."""
    return np.array([[label in row for label in labels] for row in rows], dtype=np.float64).reshape(len(rows),
                                                                                                    len(labels))


def tune_threshold(targets: np.ndarray, probs: np.ndarray, grid: Sequence[float] = DEFAULT_GRID,
                   mask: np.ndarray | None = None) -> float:
    """The threshold from ``grid`` with the best F1 of ``probs >= t`` (and ``mask``, if given) on ``targets``.

    Tie-break (documented, deterministic): among equal F1 the threshold nearest 0.5 wins, then the higher one
    (fewer flags).
    """
    targets = np.asarray(targets, dtype=bool)
    probs = np.asarray(probs, dtype=np.float64)
    allowed = np.ones_like(targets) if mask is None else np.asarray(mask, dtype=bool)
    best = (-1.0, 0.0, 0.5)
    for t in grid:
        predicted = allowed & (probs >= t)
        tp = int((predicted & targets).sum())
        f1 = 2 * tp / max(1, int(predicted.sum()) + int(targets.sum()))
        best = max(best, (f1, -abs(float(t) - 0.5), float(t)))
    return best[2]


def tune_thresholds(targets: np.ndarray, probs: np.ndarray, labels: Sequence[str],
                    grid: Sequence[float] = DEFAULT_GRID) -> dict[str, float]:
    """Per-label :func:`tune_threshold` on held-out data (columns of ``targets`` / ``probs`` in ``labels`` order)."""
    targets, probs = np.asarray(targets), np.asarray(probs)
    return {label: tune_threshold(targets[:, k], probs[:, k], grid) for k, label in enumerate(labels)}


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
