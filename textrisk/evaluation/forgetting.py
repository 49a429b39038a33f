"""The forgetting check: what specialising a model cost on the standard benchmarks.

After an adaptation run, a seeded sample of the FPB and TFNS test sets is scored by the parent and by the new
model: sentiment accuracy and F1 of each and their change (when both models predict the benchmark's labels), and
how far the risk signals moved (mean absolute change of their probabilities, share of flags that changed).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ..data.datasets import BENCHMARKS, find_data_dir, load_benchmark
from ..metrics.reports import evaluate_logits
from ..models.contract import ScoringModel

__all__ = ["forgetting_check"]

_METRICS = ("accuracy", "weighted_f1", "macro_f1")


def _flags(probs: np.ndarray, labels: list[str], thresholds: dict[str, float]) -> np.ndarray:
    return probs >= np.array([thresholds.get(label, 0.5) for label in labels])


def forgetting_check(parent: ScoringModel, child: ScoringModel, rows: int = 300,
                     data_dir: str | os.PathLike | None = None, seed: int = 42,
                     child_logits_of: Callable[[np.ndarray], np.ndarray] | None = None,
                     progress: bool | None = None) -> dict[str, Any]:
    """Re-score ``rows`` seeded rows of each benchmark test set with ``parent`` and ``child``.

    ``child_logits_of(embeddings)``, when given, says the child shares the parent's encoder: its sentiment logits
    are computed from the parent's pooled embeddings (one encoder pass) and its risk signals are the parent's.
    Returns ``{"rows_per_set", "sets": {name: {"parent", "new", "change", "risk_mean_abs_change",
    "risk_flags_changed"}}}``, or ``{"skipped": reason}`` without shared data or with ``rows`` 0.
    """
    if rows == 0:
        return {"skipped": "forgetting_rows is 0"}
    folder = find_data_dir(data_dir)
    if folder is None:
        return {"skipped": "shared data not found (pass data_dir, set TEXTRISK_DATA_DIR, or place it at "
                           "../shared/data)"}
    labels = list(parent.labels)
    same_labels = list(child.labels) == labels
    risk = bool(parent.risk_labels) and list(child.risk_labels) == list(parent.risk_labels)
    report: dict[str, Any] = {"rows_per_set": rows, "sets": {}}
    if not same_labels:
        report["sentiment"] = f"not compared: the new model's labels {list(child.labels)} are not {labels}"
    for name in BENCHMARKS:
        test = load_benchmark(name, "test", folder, labels)
        pick = np.sort(np.random.default_rng(seed).choice(len(test), min(rows, len(test)), replace=False))
        texts = [test["text"][i] for i in pick]
        gold = [test["label"][i] for i in pick]
        shared = child_logits_of is not None
        before = parent.predict_outputs(texts, risk=risk and not shared, embeddings=shared, progress=progress)
        if shared:
            after_logits, after_risk = child_logits_of(before.embeddings), None
        else:
            after = child.predict_outputs(texts, risk=risk, progress=progress)
            after_logits, after_risk = after.logits, after.risk
        old = evaluate_logits(before.logits, gold, labels, parent.temperature)
        entry: dict[str, Any] = {"rows": len(texts), "parent": {k: old[k] for k in _METRICS}}
        if same_labels:
            new = evaluate_logits(after_logits, gold, labels, child.temperature)
            entry["new"] = {k: new[k] for k in _METRICS}
            entry["change"] = {k: new[k] - old[k] for k in _METRICS}
        if risk and not shared:
            entry["risk_mean_abs_change"] = float(np.abs(after_risk - before.risk).mean())
            entry["risk_flags_changed"] = float(
                (_flags(after_risk, child.risk_labels, child.risk_thresholds)
                 != _flags(before.risk, parent.risk_labels, parent.risk_thresholds)).mean())
        elif risk:
            entry["risk_mean_abs_change"] = entry["risk_flags_changed"] = 0.0  # same encoder, same risk head
        report["sets"][name] = entry
    return report
