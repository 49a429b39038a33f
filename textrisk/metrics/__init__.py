"""Offline ``evaluate`` metric modules shipped with textrisk, one ``evaluate.Metric`` per file.

``evaluate.load("accuracy")`` fetches its script from the Hub; these load from the package by path, so
evaluation works with ``HF_HUB_OFFLINE=1``. The reports built on them (classification and multi-label reports,
threshold tuning, ECE) are :mod:`textrisk.metrics.reports`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["METRIC_NAMES", "load_metric"]

METRIC_NAMES = ("accuracy", "calibration_error", "f1")
_HERE = Path(__file__).resolve().parent


def load_metric(name: str) -> Any:
    """Load one of :data:`METRIC_NAMES` as an ``evaluate.EvaluationModule``."""
    import evaluate

    if name not in METRIC_NAMES:
        raise ValueError(f"unknown metric {name!r}; textrisk ships {list(METRIC_NAMES)}")
    return evaluate.load(str(_HERE / f"{name}.py"))
