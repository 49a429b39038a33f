"""Market-wide features per session, from every ticker of a dataset: the forecaster's market tower reads them (they
stand in for macro inputs: a market-wide volatility shock moves every stock's risk).

* ``market_return``: equal-weight mean of the tickers' log returns;
* ``market_range_variance``: log of the equal-weight mean Parkinson variance (``range^2 / (4 ln 2)``);
* ``market_dispersion``: cross-sectional standard deviation of the tickers' log returns.

Each session's values use that session's bars only, so a window of sessions ``s-W .. s-1`` never sees ``s``.
Sessions no ticker traded are NaN. The features depend on which tickers the dataset holds: a forecaster with a
market tower should predict on a dataset of the same tickers as it was trained on.
"""

from __future__ import annotations

import warnings

import numpy as np

from .losses import parkinson_variance

__all__ = ["MARKET_FEATURES", "market_features"]

MARKET_FEATURES = ("market_return", "market_range_variance", "market_dispersion")
_FLOOR = 1e-10  # log of a zero variance (a day every bar was flat)


def market_features(price: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """``(features [sessions, 3], names)`` from a dataset's ``price`` array [tickers, sessions, features]."""
    ret = price[..., names.index("ret_1")].astype(np.float64)
    rng = price[..., names.index("range")].astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN sessions stay NaN
        columns = [np.nanmean(ret, axis=0),
                   np.log(np.maximum(np.nanmean(parkinson_variance(rng), axis=0), _FLOOR)),
                   np.nanstd(ret, axis=0)]
    return np.column_stack(columns).astype(np.float32), list(MARKET_FEATURES)
