"""Judgement evaluation: signals, kind, severity and the adverse probability of a model on labelled rows.

Rows come from labelled risk files read with their judgement cells (``topics``, ``kind``, ``severity``:
:func:`textrisk.data.datasets.load_risk_file`), e.g. the judgement corpus's dev split or the random filings test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data.datasets import load_risk_file
from ..labels.taxonomy import KINDS
from ..metrics.reports import binary_ece, multilabel_report

__all__ = ["DevRows", "judgement_metrics", "judgement_report", "load_dev_rows"]


class DevRows:
    """Texts and targets of labelled risk files: ``risk`` / ``known`` ``(n, labels)``, ``judgement`` ``(n, labels +
    3)`` (topics, kind, severity, adverse; -1 where absent) when the files were read with ``judgement=True``."""

    def __init__(self, texts: list[str], risk: np.ndarray, known: np.ndarray, judgement: np.ndarray | None):
        self.texts, self.risk, self.known, self.judgement = texts, risk, known, judgement


def load_dev_rows(paths: Sequence[str], labels: Sequence[str], text_column: str = "text",
                  judgement: bool = False) -> DevRows:
    """The rows of ``paths`` concatenated (a text in several files counts once: its first file)."""
    texts, risk, known, judged, seen = [], [], [], [], set()
    for path in paths:
        part = load_risk_file(path, labels, text_column, judgement=judgement)
        extra = part["judgement"] if judgement else [None] * len(part)
        for text, r, k, j in zip(part["text"], part["risk"], part["known"], extra):
            if text not in seen:
                seen.add(text)
                texts.append(text)
                risk.append(r)
                known.append(k)
                judged.append(j)
    return DevRows(texts, np.asarray(risk, dtype=bool), np.asarray(known, dtype=bool),
                   np.asarray(judged, dtype=np.int64) if judgement else None)


def judgement_report(model: Any, rows: DevRows, thresholds: dict[str, float] | None = None,
                     progress: bool | None = None) -> dict[str, Any]:
    """Signals at ``thresholds`` (default the model's) and, for a judgement model scored on judged rows,
    :func:`judgement_metrics`."""
    labels = list(model.risk_labels)
    out = model.predict_outputs(rows.texts, risk=True, progress=progress)
    report: dict[str, Any] = {"rows": len(rows.texts), "signals": multilabel_report(
        rows.risk, out.risk, labels, thresholds or model.risk_thresholds, rows.known)}
    if out.adverse is not None and rows.judgement is not None:
        report.update(judgement_metrics(out, rows.judgement))
    return report


def judgement_metrics(out: Any, judgement: np.ndarray) -> dict[str, Any]:
    """Kind accuracy and confusion, severity accuracy, adverse ROC AUC / average precision / ECE of a judgement
    model's outputs ``out`` (:class:`~textrisk.models.contract.ModelOutputs`) against packed ``judgement`` rows
    (``topics | kind | severity | adverse``, -1 where absent)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    report: dict[str, Any] = {}
    kind, severity, adverse = judgement[:, -3], judgement[:, -2], judgement[:, -1]
    judged = kind >= 0
    if judged.any():
        predicted = out.kind[judged].argmax(axis=1)
        report["kind_accuracy"] = float((predicted == kind[judged]).mean())
        report["kind_confusion"] = {KINDS[t]: {KINDS[p]: int(((kind[judged] == t) & (predicted == p)).sum())
                                               for p in range(len(KINDS))} for t in range(len(KINDS))}
    if (severity >= 0).any():
        rows = severity >= 0
        report["severity_accuracy"] = float((out.severity[rows].argmax(axis=1) == severity[rows]).mean())
    rows = adverse >= 0
    if rows.any() and 0 < adverse[rows].sum() < rows.sum():
        report["adverse_auc"] = float(roc_auc_score(adverse[rows], out.adverse[rows]))
        report["adverse_ap"] = float(average_precision_score(adverse[rows], out.adverse[rows]))
        report["adverse_ece"] = binary_ece(adverse[rows], out.adverse[rows])
        report["adverse_rate"] = float(adverse[rows].mean())
    return report
