"""The risk baselines a risk desk would use instead of the LSTM: historical simulation, RiskMetrics EWMA and
GARCH(1,1) with Student-t innovations (``arch``).

Every baseline forecasts session ``s`` of a ticker from that ticker's realised returns on sessions before
``s`` only (missing sessions are skipped, not bridged). Output is a frame in the layout of
:meth:`Forecaster.predict`: ``ticker``, ``date``, ``expected_return``, ``volatility``, ``var_95``, ``var_99``,
``realised_return``.

* ``historical``: the empirical 5% / 1% quantile and the standard deviation of the last ``window`` (250)
  returns; expected return 0.
* ``ewma``: RiskMetrics, ``sigma2_s = lam * sigma2_(s-1) + (1 - lam) * r_(s-1)^2`` with ``lam = 0.94``
  (pandas' exponentially weighted mean, ``adjust=False``), zero mean, Gaussian VaR.
* ``garch``: GARCH(1,1), constant mean, standardised Student-t, fitted by ``arch`` by maximum likelihood on
  the returns before ``fit_start`` (the train period) and refitted every ``refit_every`` sessions on the
  expanding window of all returns before the refit date (default 63 sessions, one quarter: one fit per
  ticker and quarter keeps the 88-ticker benchmark within minutes). Between refits the parameters are fixed
  and ``arch``'s one-step forecast runs on new data. Forecasts start at ``fit_start``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .constants import VAR_LEVELS
from .dataset import ForecastDataset

__all__ = ["BASELINES", "baseline_forecast", "ewma_forecast", "garch_forecast", "historical_forecast"]

BASELINES = ("garch", "ewma", "historical")
_PCT = 100.0  # arch fits returns in percent (well scaled for its optimiser)


def _frame(ds: ForecastDataset, ti: int, si: np.ndarray, mu: np.ndarray, vol: np.ndarray,
           var: dict[float, np.ndarray]) -> pd.DataFrame:
    frame = pd.DataFrame({"ticker": ds.tickers[ti], "date": ds.sessions[si], "expected_return": mu,
                          "volatility": vol})
    for level in VAR_LEVELS:
        frame[f"var_{round(level * 100)}"] = var[level]
    frame["realised_return"] = ds.returns[ti, si]
    return frame


def _series(ds: ForecastDataset, ti: int) -> tuple[np.ndarray, np.ndarray]:
    """Session indices with a known return, and those returns, of ticker ``ti`` (missing sessions dropped)."""
    si = np.flatnonzero(np.isfinite(ds.returns[ti]))
    return si, ds.returns[ti, si]


def _keep(frame: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    keep = frame["volatility"].notna()
    if start is not None:
        keep &= frame["date"] >= pd.Timestamp(start)
    if end is not None:
        keep &= frame["date"] < pd.Timestamp(end)
    return frame[keep]


def historical_forecast(ds: ForecastDataset, window: int = 250, start: Any = None, end: Any = None) -> pd.DataFrame:
    """Historical simulation over the last ``window`` returns before each session."""
    if window < 20:
        raise ConfigError(f"window must be >= 20 returns, got {window}")
    frames = []
    for ti in range(len(ds.tickers)):
        si, r = _series(ds, ti)
        past = pd.Series(r).rolling(window, min_periods=window)
        var = {level: -past.quantile(1 - level).shift(1).to_numpy() for level in VAR_LEVELS}
        vol = past.std().shift(1).to_numpy()
        frames.append(_keep(_frame(ds, ti, si, np.zeros(len(si)), vol, var), start, end))
    return pd.concat(frames, ignore_index=True)


def ewma_forecast(ds: ForecastDataset, lam: float = 0.94, start: Any = None, end: Any = None) -> pd.DataFrame:
    """RiskMetrics EWMA variance (zero mean, Gaussian quantiles); the first 20 returns are a warm-up."""
    from scipy.stats import norm

    if not 0 < lam < 1:
        raise ConfigError(f"lam must be in (0, 1), got {lam}")
    frames = []
    for ti in range(len(ds.tickers)):
        si, r = _series(ds, ti)
        variance = pd.Series(r ** 2).ewm(alpha=1 - lam, adjust=False).mean().shift(1).to_numpy(copy=True)
        variance[:20] = np.nan
        vol = np.sqrt(variance)
        var = {level: -norm.ppf(1 - level) * vol for level in VAR_LEVELS}
        frames.append(_keep(_frame(ds, ti, si, np.zeros(len(si)), vol, var), start, end))
    return pd.concat(frames, ignore_index=True)


def _garch_model(returns_pct: np.ndarray):
    from arch import arch_model

    return arch_model(returns_pct, mean="Constant", vol="GARCH", p=1, q=1, dist="t", rescale=False)


def fit_garch(returns: np.ndarray, starting_values: np.ndarray | None = None) -> pd.Series:
    """Maximum-likelihood GARCH(1,1)-t parameters (``mu, omega, alpha[1], beta[1], nu``; returns in percent)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arch's convergence chatter; a failed fit is checked below
        result = _garch_model(np.asarray(returns, float) * _PCT).fit(
            disp="off", starting_values=starting_values, show_warning=False)
    return result.params


def garch_forecast(ds: ForecastDataset, fit_start: Any, refit_every: int = 63, start: Any = None, end: Any = None,
                   min_history: int = 250) -> pd.DataFrame:
    """GARCH(1,1)-t one-step forecasts for sessions from ``fit_start`` on (see the module docstring).

    Tickers with fewer than ``min_history`` returns before a refit date get no forecast until they have them.
    """
    from scipy.stats import t as student_t

    if refit_every < 1:
        raise ConfigError(f"refit_every must be >= 1, got {refit_every}")
    first = np.searchsorted(ds.sessions, pd.Timestamp(fit_start))
    frames = []
    for ti in range(len(ds.tickers)):
        si, r = _series(ds, ti)
        begin = int(np.searchsorted(si, first))  # first observation index to forecast
        mu, vol = np.full(len(si), np.nan), np.full(len(si), np.nan)
        var = {level: np.full(len(si), np.nan) for level in VAR_LEVELS}
        params = None
        for block in range(begin, len(si), refit_every):
            if block < min_history:
                continue
            stop = min(block + refit_every, len(si))
            params = fit_garch(r[:block], None if params is None else params.to_numpy())
            # parameters fixed; the forecast made after observation k-1 is for observation k (k in block..stop-1)
            fixed = _garch_model(r[:stop] * _PCT).fix(params.to_numpy())
            variance = fixed.forecast(horizon=1, start=block - 1, reindex=False).variance.to_numpy()[:stop - block, 0]
            nu = float(params["nu"])
            std_q = {level: student_t.ppf(1 - level, nu) * np.sqrt((nu - 2) / nu) for level in VAR_LEVELS}
            sigma = np.sqrt(variance) / _PCT
            mu[block:stop], vol[block:stop] = params["mu"] / _PCT, sigma
            for level in VAR_LEVELS:
                var[level][block:stop] = -(params["mu"] / _PCT + sigma * std_q[level])
        frames.append(_keep(_frame(ds, ti, si, mu, vol, var), start, end))
    return pd.concat(frames, ignore_index=True)


def baseline_forecast(name: str, ds: ForecastDataset, fit_start: Any, start: Any = None, end: Any = None,
                      **options: Any) -> pd.DataFrame:
    """Dispatch on ``name`` in :data:`BASELINES`; ``fit_start`` matters for ``garch`` only."""
    if name == "garch":
        return garch_forecast(ds, fit_start, start=start, end=end, **options)
    if name == "ewma":
        return ewma_forecast(ds, start=start, end=end, **options)
    if name == "historical":
        return historical_forecast(ds, start=start, end=end, **options)
    raise ConfigError(f"baseline must be one of {BASELINES}, got {name!r}")
