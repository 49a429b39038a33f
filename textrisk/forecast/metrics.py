"""Scores for the forecaster: movement accuracy and MCC, and the Kupiec value-at-risk backtest."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["kupiec_test", "movement_scores", "var_backtest"]


def movement_scores(label: np.ndarray, p_rise: np.ndarray) -> dict[str, float]:
    """Accuracy and Matthews correlation of ``p_rise > 0.5`` against 0/1 ``label`` (a constant prediction has MCC 0)."""
    from sklearn.metrics import matthews_corrcoef

    label = np.asarray(label).astype(int)
    pred = (np.asarray(p_rise) > 0.5).astype(int)
    if len(label) == 0:
        return {"acc": float("nan"), "mcc": float("nan"), "n": 0}
    return {"acc": float((pred == label).mean()), "mcc": float(matthews_corrcoef(label, pred)), "n": int(len(label))}


def kupiec_test(breaches: int, n: int, level: float) -> dict[str, float]:
    """Kupiec's proportion-of-failures test: LR statistic and chi-square(1) p-value for ``breaches`` in ``n`` days.

    The null hypothesis is a breach probability of ``1 - level``; a small p-value rejects the VaR model.
    """
    from scipy.stats import chi2

    p = 1.0 - level
    if n == 0:
        return {"lr": float("nan"), "p_value": float("nan")}
    x, rate = breaches, breaches / n

    def loglik(q: float) -> float:
        # x*log(q) + (n-x)*log(1-q), with 0*log(0) = 0
        return (x * math.log(q) if x else 0.0) + ((n - x) * math.log(1 - q) if n - x else 0.0)

    lr = max(0.0, -2.0 * (loglik(p) - loglik(rate)))
    return {"lr": lr, "p_value": float(chi2.sf(lr, 1))}


def var_backtest(realised: np.ndarray, var: np.ndarray, level: float) -> dict[str, float]:
    """Breach rate of ``realised`` returns below ``-var`` against the nominal ``1 - level``, with Kupiec's test."""
    realised, var = np.asarray(realised, float), np.asarray(var, float)
    keep = np.isfinite(realised) & np.isfinite(var)
    breaches = int((realised[keep] < -var[keep]).sum())
    n = int(keep.sum())
    return {"level": level, "nominal_rate": round(1 - level, 6), "breach_rate": breaches / n if n else float("nan"),
            "breaches": breaches, "n": n, **{f"kupiec_{k}": v for k, v in kupiec_test(breaches, n, level).items()}}
