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

Power (:func:`dm_power`): with ``n`` days and the observed long-run variance of the differential, the smallest
true mean difference the two-sided test at ``alpha`` detects with probability ``power``:
``(t_(1-alpha/2) + t_power) * sqrt(LRV / n) / HLN`` (t with ``n - 1`` degrees of freedom). For QLIKE it is also
given as the variance error it equals: a forecast ``c`` times the true variance costs ``c - 1 - log c`` QLIKE
over a correct one, so a gain of ``mde`` is worth fixing a uniform variance error of ``c`` with
``c - 1 - log c = mde``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["daily_differential", "diebold_mariano", "dm_power", "panel_diebold_mariano", "qlike_equivalent_error"]


def _long_run_variance(d: np.ndarray, horizon: int, extra_lags: int) -> float:
    centred = d - d.mean()
    n = len(d)
    lags = horizon - 1 + extra_lags
    long_run = centred @ centred / n
    for k in range(1, lags + 1):
        weight = 1.0 - k / (lags + 1) if extra_lags else 1.0  # Bartlett weights only for the extra lags
        long_run += 2 * weight * (centred[k:] @ centred[:-k]) / n
    return float(long_run)


def _hln(n: int, horizon: int) -> float:
    return math.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)


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
    long_run = _long_run_variance(d, horizon, extra_lags)
    if long_run <= 0:
        return {"statistic": float("nan"), "p_value": float("nan"), "n": n, "mean_diff": float(d.mean())}
    stat = d.mean() / math.sqrt(long_run / n) * _hln(n, horizon)
    return {"statistic": float(stat), "p_value": float(2 * student_t.sf(abs(stat), n - 1)), "n": n,
            "mean_diff": float(d.mean())}


def dm_power(d: np.ndarray, alpha: float = 0.05, power: float = 0.8, horizon: int = 1) -> dict[str, float]:
    """Minimum detectable mean difference (see the module docstring) and the 95% interval of the observed one."""
    from scipy.stats import t as student_t

    d = np.asarray(d, float)
    d = d[np.isfinite(d)]
    n = len(d)
    if n < 3:
        return {"mde": float("nan"), "se": float("nan"), "n": n, "mean_diff": float("nan"), "ci95": None}
    se = math.sqrt(max(_long_run_variance(d, horizon, 0), 0.0) / n) / _hln(n, horizon)
    mde = (student_t.ppf(1 - alpha / 2, n - 1) + student_t.ppf(power, n - 1)) * se
    half = student_t.ppf(0.975, n - 1) * se
    return {"mde": float(mde), "se": float(se), "n": n, "mean_diff": float(d.mean()), "alpha": alpha,
            "power": power, "ci95": [float(d.mean() - half), float(d.mean() + half)]}


def qlike_equivalent_error(gain: float) -> float:
    """The uniform variance over-statement ``c > 1`` whose QLIKE cost ``c - 1 - log c`` equals ``gain``."""
    from scipy.optimize import brentq

    if not gain > 0:
        return 1.0
    return float(brentq(lambda c: c - 1 - math.log(c) - gain, 1.0, 1.0 + 10 * math.sqrt(2 * gain) + 10))


def daily_differential(loss_a: pd.DataFrame, loss_b: pd.DataFrame) -> tuple[pd.Series, int]:
    """``(per-date mean of loss_a - loss_b over the pairs both have, number of pairs)``."""
    joined = loss_a.merge(loss_b, on=["ticker", "date"], suffixes=("_a", "_b"))
    joined = joined[np.isfinite(joined["loss_a"]) & np.isfinite(joined["loss_b"])]
    return (joined["loss_a"] - joined["loss_b"]).groupby(joined["date"]).mean().sort_index(), int(len(joined))


def panel_diebold_mariano(loss_a: pd.DataFrame, loss_b: pd.DataFrame, horizon: int = 1) -> dict[str, float]:
    """Pooled DM on two loss frames (``ticker``, ``date``, ``loss``): inner-joined, averaged per date."""
    daily, pairs = daily_differential(loss_a, loss_b)
    result = diebold_mariano(daily.to_numpy(), horizon)
    return {**result, "days": int(len(daily)), "pairs": pairs}
