"""Drift detection (model health): a current window of scored documents against a reference window.

Statistics come from scipy: Kolmogorov-Smirnov (``scipy.stats.ks_2samp``) for numeric features and
Jensen-Shannon distance (``scipy.spatial.distance.jensenshannon``, base 2, in [0, 1]) for categorical ones;
the population stability index (PSI, reference-quantile bins) is a few lines of numpy on top of
``numpy.histogram``. evidently/nannyml/alibi-detect would add a heavy dependency tree for these same three
numbers, so they are not used.

Features: input length (tokens), share of unknown tokens, script (latin / cjk / cyrillic / arabic / other:
the script of most letters), and outputs: P(negative), P(positive), the sentiment label and, with a risk
head, the any-signal flag rate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..utils.validation import check_number

__all__ = ["NUMERIC", "CATEGORICAL", "DriftConfig", "compare", "js_distance", "ks", "psi"]

NUMERIC = ("length", "unknown_share", "p_negative", "p_positive")
CATEGORICAL = ("script", "sentiment", "flagged")
_EPS = 1e-4


@dataclass(frozen=True)
class DriftConfig:
    """When drift is checked and what counts as drift."""

    reference_size: int = field(default=500, metadata={"help": "first N scored documents form the reference"})
    window_size: int = field(default=500, metadata={"help": "documents in the current window"})
    every: int = field(default=500, metadata={"help": "check after every N documents"})
    psi: float = field(default=0.25, metadata={"help": "drift when a numeric feature's PSI is at or over this"})
    ks_pvalue: float = field(default=0.001, metadata={"help": "drift when the KS p-value is at or under this"})
    js: float = field(default=0.1, metadata={"help": "drift when a categorical JS distance is at or over this"})
    bins: int = field(default=10, metadata={"help": "PSI bins (reference quantiles)"})
    cooldown_docs: int = field(default=2000, metadata={"help": "no repeat drift alert per feature within N docs"})

    def __post_init__(self) -> None:
        for name in ("reference_size", "window_size", "every", "bins", "cooldown_docs"):
            check_number(getattr(self, name), f"drift.{name}", integer=True, ge=2)
        for name in ("psi", "ks_pvalue", "js"):
            check_number(getattr(self, name), f"drift.{name}", gt=0, le=1)


def psi(reference: Sequence[float], current: Sequence[float], bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference`` over reference-quantile bins."""
    ref, cur = np.asarray(reference, dtype=float), np.asarray(current, dtype=float)
    inner = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    p = np.histogram(ref, edges)[0] / len(ref)
    q = np.histogram(cur, edges)[0] / len(cur)
    p, q = np.clip(p, _EPS, None), np.clip(q, _EPS, None)
    return float(np.sum((q - p) * np.log(q / p)))


def ks(reference: Sequence[float], current: Sequence[float]) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov ``(statistic, p-value)``."""
    from scipy.stats import ks_2samp

    result = ks_2samp(reference, current)
    return float(result.statistic), float(result.pvalue)


def js_distance(reference: Sequence[str], current: Sequence[str]) -> float:
    """Jensen-Shannon distance (base 2) between the category frequencies of two samples."""
    from scipy.spatial.distance import jensenshannon

    categories = sorted(set(reference) | set(current))
    ref, cur = Counter(reference), Counter(current)
    p = np.array([ref[c] for c in categories], dtype=float)
    q = np.array([cur[c] for c in categories], dtype=float)
    return float(jensenshannon(p / p.sum(), q / q.sum(), base=2))


def compare(reference: dict[str, list], current: dict[str, list], config: DriftConfig) -> list[dict]:
    """One result per feature present in both windows: ``{feature, test, statistic, ks, p_value, drift}``.

    A numeric feature drifts when its PSI is at or over ``config.psi`` *and* the KS p-value is at or under
    ``config.ks_pvalue`` (PSI sizes the shift, KS guards against noise in small windows); a categorical one
    when its JS distance is at or over ``config.js``.
    """
    results = []
    for feature in NUMERIC:
        ref, cur = reference.get(feature), current.get(feature)
        if not ref or not cur:
            continue
        value = psi(ref, cur, config.bins)
        statistic, p_value = ks(ref, cur)
        results.append({"feature": feature, "test": "psi+ks", "statistic": value, "ks": statistic,
                        "p_value": p_value, "drift": bool(value >= config.psi and p_value <= config.ks_pvalue)})
    for feature in CATEGORICAL:
        ref, cur = reference.get(feature), current.get(feature)
        if not ref or not cur:
            continue
        value = js_distance(ref, cur)
        results.append({"feature": feature, "test": "js", "statistic": value, "ks": None, "p_value": None,
                        "drift": bool(value >= config.js)})
    return results
