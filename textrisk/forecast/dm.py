"""Diebold-Mariano test of equal predictive accuracy with the Harvey-Leybourne-Newbold (1997) correction, for a
panel of tickers.

Pooled, not per ticker: the loss differential ``d = L_a - L_b`` of every (ticker, day) pair both models
forecast is averaged across tickers per day, and the DM test runs on that daily series. Averaging per day is
clustering by date: on one day all stocks share the market's volatility shock, so their loss differentials
are strongly correlated, and treating 88 tickers x 63 days as independent would overstate the evidence
~88-fold. One pooled test answers the question asked ("does model a beat model b on this book?") with one
p-value; 88 per-ticker tests of ~63 days each would have little power and need a multiple-testing summary.
Serial dependence is handled by a Newey-West long-run variance with ``h - 1`` lags (DM's choice for
``h``-step forecasts, here ``h = 1``) plus ``extra_lags`` more if wanted.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["diebold_mariano", "panel_diebold_mariano"]


def diebold_mariano(d: np.ndarray, horizon: int = 1, extra_lags: int = 0) -> dict[str, float]:
    """DM statistic with the HLN small-sample factor and Student-t(T-1) p-value (two-sided) for differential ``d``.

    A negative statistic means the first model's loss is lower.
    """
    from scipy.stats import t as student_t

    d = np.asarray(d, float)
    d = d[np.isfinite(d)]
    n = len(d)
    if n < 3:
        return {"statistic": float("nan"), "p_value": float("nan"), "n": n, "mean_diff": float("nan")}
    centred = d - d.mean()
    lags = horizon - 1 + extra_lags
    long_run = centred @ centred / n
    for k in range(1, lags + 1):
        weight = 1.0 - k / (lags + 1) if extra_lags else 1.0  # Bartlett weights only for the extra lags
        long_run += 2 * weight * (centred[k:] @ centred[:-k]) / n
    if long_run <= 0:
        return {"statistic": float("nan"), "p_value": float("nan"), "n": n, "mean_diff": float(d.mean())}
    dm = d.mean() / math.sqrt(long_run / n)
    hln = math.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    stat = dm * hln
    return {"statistic": float(stat), "p_value": float(2 * student_t.sf(abs(stat), n - 1)), "n": n,
            "mean_diff": float(d.mean())}


def panel_diebold_mariano(loss_a: pd.DataFrame, loss_b: pd.DataFrame, horizon: int = 1) -> dict[str, float]:
    """Pooled DM on two loss frames (``ticker``, ``date``, ``loss``): inner-joined, averaged per date."""
    joined = loss_a.merge(loss_b, on=["ticker", "date"], suffixes=("_a", "_b"))
    joined = joined[np.isfinite(joined["loss_a"]) & np.isfinite(joined["loss_b"])]
    daily = (joined["loss_a"] - joined["loss_b"]).groupby(joined["date"]).mean().sort_index()
    result = diebold_mariano(daily.to_numpy(), horizon)
    return {**result, "days": int(len(daily)), "pairs": int(len(joined))}
