"""Evaluation reports: metrics, calibration and a confusion-matrix figure for any saved model."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data.datasets import BENCHMARKS, load_benchmark, load_labeled_file
from ..metrics.reports import evaluate_logits
from ..models.contract import ScoringModel, as_scoring_model
from ..utils.atomic import atomic_write_bytes, atomic_write_json
from ..utils.outputs import guard_output

__all__ = ["MIN_ROWS", "evaluate_model", "metric_warnings", "plot_confusion_matrices"]

#: Fewer evaluation rows than this get a warning: the metrics' sampling error is then over about +-0.18.
MIN_ROWS = 30


def metric_warnings(targets: Sequence[int] | np.ndarray, labels: Sequence[str], name: str = "data") -> list[str]:
    """Why metrics on ``targets`` (class indices into ``labels``, or a multi-hot matrix) would mislead.

    Few rows (< :data:`MIN_ROWS`), a single class, or a class that never occurs (its F1 is 0 by convention and
    drags macro F1 down) each give one message; each is also issued with :func:`warnings.warn`.
    """
    targets = np.asarray(targets)
    found = []
    if len(targets) < MIN_ROWS:
        found.append(f"{name}: only {len(targets)} rows; every metric has a sampling error of about "
                     f"+-{1.96 * np.sqrt(0.25 / max(len(targets), 1)):.2f}")
    if targets.ndim == 1:
        present = sorted(set(targets.tolist()))
        if len(present) == 1:
            found.append(f"{name}: every row has the label {labels[present[0]]!r}; accuracy equals the share of "
                         "that label and macro F1 / calibration say little")
        absent = [label for i, label in enumerate(labels) if i not in present]
        if absent and len(present) > 1:
            found.append(f"{name}: label(s) {absent} never occur; their F1 is 0 by convention and lowers macro F1")
    else:
        absent = [label for label, column in zip(labels, targets.T) if not column.any()]
        if absent:
            found.append(f"{name}: risk label(s) {absent} have no positive row; their F1 is 0 by convention "
                         "and lowers macro F1")
    for message in found:
        warnings.warn(message, UserWarning, stacklevel=2)
    return found


def _dataset(name: str, labels: Sequence[str], data_dir: str | os.PathLike | None):
    if name in BENCHMARKS:
        return load_benchmark(name, "test", data_dir, labels)
    return load_labeled_file(name, labels)


def evaluate_model(
    model: ScoringModel,
    datasets: Sequence[str] = BENCHMARKS,
    out: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    batch_size: int = 64,
    progress: bool | None = None,
    limit: int | None = None,
    risk_data: Sequence[str] | None = None,
    risk_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Evaluate ``model`` on benchmark test parts (``"fpb"``, ``"tfns"``) or labelled files.

    Writes ``out`` (JSON) and ``<out stem>_confusion.png`` when ``out`` is given. Per dataset: accuracy,
    weighted/macro F1, per-class precision/recall, ECE with raw and temperature-scaled probabilities,
    confusion matrix (rows = true, columns = predicted) and sentences per second. ``limit`` evaluates only
    the first rows of each set (a quick check, not a comparable number). ``risk_data`` (named risk test sets such as
    ``gold_test``, ``random_gold``, ``sentivent_test``, or labelled risk files) adds per-label risk metrics of the
    model, the rules and the ensemble (:func:`textrisk.evaluation.risk.evaluate_risk_sets`).
    """
    from sklearn.metrics import confusion_matrix

    model = as_scoring_model(model)
    if out is not None:  # checked before the (long) evaluation, not after it
        out = guard_output(out, "out")
    labels = list(model.labels)
    report: dict[str, Any] = {"model": str(model.source_dir or model.model_kind), "labels": labels,
                              "temperature": model.temperature, "limit": limit, "datasets": {}}
    for name in datasets:
        data = _dataset(name, labels, data_dir)
        if limit is not None:
            data = data.select(range(min(limit, len(data))))
        started = time.perf_counter()
        logits = model.predict_outputs(data["text"], batch_size=batch_size, progress=progress).logits
        seconds = time.perf_counter() - started
        metrics = evaluate_logits(logits, data["label"], labels, model.temperature)
        predicted = (logits / model.temperature).argmax(axis=1)
        metrics["confusion_matrix"] = confusion_matrix(data["label"], predicted,
                                                       labels=list(range(len(labels)))).tolist()
        metrics["sentences_per_s"] = len(data) / seconds
        metrics["warnings"] = metric_warnings(data["label"], labels, name)
        report["datasets"][name] = metrics
    if risk_data:
        from .risk import evaluate_risk_sets

        report["risk"] = evaluate_risk_sets(model, [str(name) for name in risk_data], data_dir=data_dir,
                                            risk_dir=risk_dir, batch_size=batch_size, progress=progress)
    if out is not None:
        figure = out.with_name(f"{out.stem}_confusion.png")
        plot_confusion_matrices(report, figure)
        report["confusion_png"] = str(figure)
        atomic_write_json(out, report)
    return report


def plot_confusion_matrices(report: dict[str, Any], path: str | os.PathLike) -> None:
    """Save one confusion-matrix panel per dataset of ``report`` as a PNG."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report["datasets"])
    labels = report["labels"]
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        matrix = np.asarray(report["datasets"][name]["confusion_matrix"])
        ax.imshow(matrix, cmap="Blues")
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(j, i, str(value), ha="center", va="center",
                    color="white" if value > matrix.max() / 2 else "black")
        ax.set_xticks(range(len(labels)), labels, rotation=30)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        metrics = report["datasets"][name]
        ax.set_title(f"{name}: acc {metrics['accuracy']:.3f}, wF1 {metrics['weighted_f1']:.3f}")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
