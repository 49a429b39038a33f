"""HAR (Corsi, 2009) on a range-based variance proxy, and HAR-X with lagged text signals, as a panel.

Proxy: Parkinson's high-low variance of each session (``losses.parkinson_variance``). Regression, per
observation ``k`` of ticker ``i`` (its sessions with a price; ``y = log(proxy)``)::

    y_ik = a_i + b_d log RV_(k-1) + b_w log mean(RV_(k-5..k-1)) + b_m log mean(RV_(k-22..k-1))
                [+ c_cov cover_k + c' x_k]                                               (HAR-X)

with ticker intercepts ``a_i`` and slopes shared by all tickers (a panel HAR: pooled slopes forecast better than
per-series ones, Bollerslev, Hood, Huss and Pedersen, 2018), ``x_k`` the text signals of the session before the
target and ``cover_k`` 1 inside the text feed's coverage (``ds.text_coverage``). Ordinary least squares on an
expanding window, refitted every ``refit_every`` sessions (default 1: every session) on all observations whose
target session is before the refit session.

From log proxy to a return forecast: the Parkinson range misses the overnight move and ``exp`` of a mean log
is below the mean, so the return variance is ``h = c_i exp(y_hat)`` with ``c_i`` the ticker's mean of
``r^2 / exp(y_hat)`` over its fitting rows; VaR by filtered historical simulation: ``VaR_a = -q_(1-a)(z) sqrt(h)``
with ``q`` the empirical quantile of the pooled standardised returns ``z = r / sqrt(h)`` of the fitting rows.
Expected return 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .constants import VAR_LEVELS
from .dataset import ForecastDataset
from .losses import parkinson_variance
from .series import coverage_dummy, forecast_frame, in_period, lagged_signals

__all__ = ["HAR_LAGS", "har_design", "har_forecast"]

HAR_LAGS = (1, 5, 22)
_FLOOR = 1e-8  # a session with high == low: log of a tiny variance, not of zero


def _log_means(rv: np.ndarray, lags: tuple[int, ...]) -> np.ndarray:
    """``[n, len(lags)]``: log of the mean of the previous ``lag`` values of ``rv`` (NaN until defined)."""
    series = pd.Series(rv)
    return np.column_stack([np.log(series.rolling(lag, min_periods=lag).mean().shift(1).to_numpy())
                            for lag in lags])


def har_design(ds: ForecastDataset, ti: int, exog: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """``(si, y, X, names)`` of ticker ``ti``: its observation sessions, ``log`` proxy and HAR(-X) regressors
    (without intercept; rows with an undefined regressor or proxy are NaN)."""
    si = np.flatnonzero(ds.has_price[ti] & np.isfinite(ds.returns[ti]))
    rng = ds.price[ti, si, ds.price_feature_names.index("range")].astype(np.float64)
    rv = np.maximum(parkinson_variance(rng), _FLOOR)
    columns, names = [_log_means(rv, HAR_LAGS)], [f"log_rv_{lag}" for lag in HAR_LAGS]
    if exog:
        x, signal = lagged_signals(ds, ti, si)
        columns += [coverage_dummy(ds, si)[:, None], x]
        names += ["text_coverage", *signal]
    return si, np.log(rv), np.column_stack(columns), names


def har_forecast(ds: ForecastDataset, exog: bool = False, refit_every: int = 1, start: Any = None, end: Any = None,
                 min_rows: int = 250) -> pd.DataFrame:
    """HAR (``exog=False``) or HAR-X one-step forecasts for every session in ``[start, end)`` (module docstring).

    No forecast until the panel has ``min_rows`` fitting rows (and 10 per coefficient).
    """
    if refit_every < 1:
        raise ConfigError(f"refit_every must be >= 1, got {refit_every}")
    if exog and not ds.signal_names:
        raise ConfigError("har_x needs text signals: build the dataset with texts")
    parts = [har_design(ds, ti, exog) for ti in range(len(ds.tickers))]
    ticker = np.concatenate([np.full(len(p[0]), ti) for ti, p in enumerate(parts)])
    si = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    X = np.concatenate([p[2] for p in parts])
    r = ds.returns[ticker, si]
    ok = np.isfinite(y) & np.isfinite(X).all(axis=1) & np.isfinite(r)
    ticker, si, y, X, r = ticker[ok], si[ok], y[ok], X[ok], r[ok]
    n_t = len(ds.tickers)
    first = np.searchsorted(ds.sessions, pd.Timestamp(start)) if start is not None else 0
    last = np.searchsorted(ds.sessions, pd.Timestamp(end)) if end is not None else len(ds.sessions)
    h = np.full(len(y), np.nan)
    var = {level: np.full(len(y), np.nan) for level in VAR_LEVELS}
    for refit in range(int(first), int(last), refit_every):
        fit = si < refit
        target = (si >= refit) & (si < refit + refit_every)
        if not target.any() or fit.sum() < max(min_rows, 10 * (X.shape[1] + 1)):
            continue
        coef, intercept = _within_ols(y[fit], X[fit], ticker[fit], n_t)
        fitted = intercept[ticker[fit]] + X[fit] @ coef
        scale = np.bincount(ticker[fit], r[fit] ** 2 / np.exp(fitted), n_t) / np.maximum(
            np.bincount(ticker[fit], minlength=n_t), 1)
        z = r[fit] / np.sqrt(scale[ticker[fit]] * np.exp(fitted))
        quantile = {level: float(np.quantile(z, 1 - level)) for level in VAR_LEVELS}
        seen = np.bincount(ticker[fit], minlength=n_t) > 0
        rows = target & seen[ticker]
        h[rows] = scale[ticker[rows]] * np.exp(intercept[ticker[rows]] + X[rows] @ coef)
        for level in VAR_LEVELS:
            var[level][rows] = -quantile[level] * np.sqrt(h[rows])
    frames = []
    for ti in range(n_t):
        mine = ticker == ti
        frames.append(in_period(forecast_frame(ds, ti, si[mine], np.zeros(int(mine.sum())), np.sqrt(h[mine]),
                                               {level: v[mine] for level, v in var.items()}), start, end))
    return pd.concat(frames, ignore_index=True)


def _within_ols(y: np.ndarray, X: np.ndarray, ticker: np.ndarray, n_t: int) -> tuple[np.ndarray, np.ndarray]:
    """Pooled slopes with ticker intercepts (the within estimator): ``(coef, intercept per ticker)``."""
    count = np.maximum(np.bincount(ticker, minlength=n_t), 1)
    mean_y = np.bincount(ticker, y, n_t) / count
    mean_x = np.column_stack([np.bincount(ticker, X[:, j], n_t) for j in range(X.shape[1])]) / count[:, None]
    xc = X - mean_x[ticker]
    # normal equations, pseudo-inverse: a regressor constant over the window (the coverage dummy before the
    # text feed starts) gets coefficient 0 instead of a singular fit
    coef = np.linalg.pinv(xc.T @ xc) @ (xc.T @ (y - mean_y[ticker]))
    return coef, mean_y - mean_x @ coef
