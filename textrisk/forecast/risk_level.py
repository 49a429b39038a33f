"""Risk level (low / medium / high) of a forecast day from its predicted 99% VaR, against the same ticker's
predicted 99% VaR over its training period.

Cut points (per ticker, from the training-period forecasts): ``low`` below the median, ``medium`` from the
median to the 90th percentile, ``high`` above the 90th percentile. So on its own training period a ticker is
``high`` on about 1 day in 10 and ``low`` on half its days; a calmer or riskier regime later shifts those
shares. A ticker without training forecasts uses the cut points of all tickers' training forecasts pooled
(key ``"*"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["LEVELS", "RISK_QUANTILES", "assign_risk_levels", "fit_risk_cuts"]

LEVELS = ("low", "medium", "high")
#: Quantiles of the training-period VaR99 distribution separating low|medium and medium|high.
RISK_QUANTILES = (0.5, 0.9)
POOLED = "*"


def fit_risk_cuts(frame: pd.DataFrame, column: str = "var_99") -> dict[str, list[float]]:
    """Per-ticker (and pooled, key ``"*"``) cut points of ``column`` at :data:`RISK_QUANTILES`."""
    data = frame[np.isfinite(frame[column])]
    cuts = {str(t): [float(v) for v in g[column].quantile(list(RISK_QUANTILES))] for t, g in data.groupby("ticker")}
    if len(data):
        cuts[POOLED] = [float(v) for v in data[column].quantile(list(RISK_QUANTILES))]
    return cuts


def assign_risk_levels(frame: pd.DataFrame, cuts: dict[str, list[float]], column: str = "var_99") -> pd.Series:
    """``low`` / ``medium`` / ``high`` per row of ``frame`` (rows without a VaR or cut points: missing)."""
    pooled = cuts.get(POOLED, [np.nan, np.nan])
    bounds = np.array([cuts.get(str(t), pooled) for t in frame["ticker"]], dtype=float).reshape(len(frame), 2)
    value = frame[column].to_numpy(float)
    level = np.where(value < bounds[:, 0], 0, np.where(value <= bounds[:, 1], 1, 2))
    out = np.asarray(LEVELS, dtype=object)[level]
    out[~np.isfinite(value) | ~np.isfinite(bounds).all(axis=1)] = None
    return pd.Series(out, index=frame.index, name="risk_level")
