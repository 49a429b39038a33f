"""The risk baselines a risk desk would use instead of the LSTM, behind one dispatch (:func:`baseline_forecast`).

Every baseline forecasts session ``s`` of a ticker from that ticker's data before ``s`` only (missing sessions
are skipped, not bridged; -X models also read the text signals of the session before ``s``). Output is a frame in
the layout of :meth:`Forecaster.predict`: ``ticker``, ``date``, ``expected_return``, ``volatility``, ``var_95``,
``var_99``, ``realised_return``.

* ``historical``: the empirical 5% / 1% quantile and the standard deviation of the last ``window`` (250)
  returns; expected return 0.
* ``ewma``: RiskMetrics, ``sigma2_s = lam * sigma2_(s-1) + (1 - lam) * r_(s-1)^2`` with ``lam = 0.94``
  (pandas' exponentially weighted mean, ``adjust=False``), zero mean, Gaussian VaR.
* ``garch``, ``gjr_garch``, ``egarch``: GARCH(1,1), GJR-GARCH(1,1) and EGARCH(1,1), constant mean, standardised
  Student-t, by ``arch``, refitted every ``refit_every`` sessions (63) on the expanding window (``garch.py``).
* ``garch_x``: GJR-GARCH-X(1,1)-t with the text signals in the variance equation (``garch.py``).
* ``har``, ``har_x``: panel HAR on log Parkinson variance, without and with the text signals, refitted every
  session, filtered-historical-simulation VaR (``har.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .constants import VAR_LEVELS
from .dataset import ForecastDataset
from .garch import arch_forecast, garch_x_forecast
from .har import har_forecast
from .series import forecast_frame, in_period, return_series

__all__ = ["BASELINES", "TEXT_BASELINES", "baseline_forecast", "ewma_forecast", "historical_forecast"]

BASELINES = ("garch", "gjr_garch", "egarch", "har", "har_x", "garch_x", "ewma", "historical")
#: Baselines that read the text signals (they need a dataset built with texts).
TEXT_BASELINES = ("har_x", "garch_x")

def historical_forecast(ds: ForecastDataset, window: int = 250, start: Any = None, end: Any = None) -> pd.DataFrame:
    """Historical simulation over the last ``window`` returns before each session."""
    if window < 20:
        raise ConfigError(f"window must be >= 20 returns, got {window}")
    frames = []
    for ti in range(len(ds.tickers)):
        si, r = return_series(ds, ti)
        past = pd.Series(r).rolling(window, min_periods=window)
        var = {level: -past.quantile(1 - level).shift(1).to_numpy() for level in VAR_LEVELS}
        vol = past.std().shift(1).to_numpy()
        frames.append(in_period(forecast_frame(ds, ti, si, np.zeros(len(si)), vol, var), start, end))
    return pd.concat(frames, ignore_index=True)


def ewma_forecast(ds: ForecastDataset, lam: float = 0.94, start: Any = None, end: Any = None) -> pd.DataFrame:
    """RiskMetrics EWMA variance (zero mean, Gaussian quantiles); the first 20 returns are a warm-up."""
    from scipy.stats import norm

    if not 0 < lam < 1:
        raise ConfigError(f"lam must be in (0, 1), got {lam}")
    frames = []
    for ti in range(len(ds.tickers)):
        si, r = return_series(ds, ti)
        variance = pd.Series(r ** 2).ewm(alpha=1 - lam, adjust=False).mean().shift(1).to_numpy(copy=True)
        variance[:20] = np.nan
        vol = np.sqrt(variance)
        var = {level: -norm.ppf(1 - level) * vol for level in VAR_LEVELS}
        frames.append(in_period(forecast_frame(ds, ti, si, np.zeros(len(si)), vol, var), start, end))
    return pd.concat(frames, ignore_index=True)


def baseline_forecast(name: str, ds: ForecastDataset, fit_start: Any, start: Any = None, end: Any = None,
                      **options: Any) -> pd.DataFrame:
    """Dispatch on ``name`` in :data:`BASELINES`; ``fit_start`` (first refit) matters for the GARCH family only.

    ``options``: ``refit_every`` (GARCH family, HAR), ``window`` (historical), ``lam`` (ewma).
    """
    if name in ("garch", "gjr_garch", "egarch"):
        return arch_forecast(ds, fit_start, name, start=start, end=end, **options)
    if name == "garch_x":
        return garch_x_forecast(ds, fit_start, start=start, end=end, **options)
    if name in ("har", "har_x"):
        return har_forecast(ds, exog=name == "har_x", start=start, end=end, **options)
    if name == "ewma":
        return ewma_forecast(ds, start=start, end=end, **options)
    if name == "historical":
        return historical_forecast(ds, start=start, end=end, **options)
    raise ConfigError(f"baseline must be one of {BASELINES}, got {name!r}")
