"""Per-forecast losses for risk forecasts: pinball (quantile) loss of the VaR, and QLIKE / squared error of the
variance forecast against a realised-variance proxy (squared return, or Parkinson's high-low estimator).

Variances are in percent squared (returns x 100), so the squared errors are readable numbers. QLIKE is
Patton's (2011) robust form ``log(h) + proxy / h``: it ranks variance forecasts consistently with an unbiased
but noisy proxy, and is defined for a zero proxy (a day with no move).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["mse_variance", "parkinson_variance", "pinball_loss", "qlike"]

_PCT2 = 1e4  # fraction^2 -> percent^2


def pinball_loss(realised: np.ndarray, var: np.ndarray, level: float) -> np.ndarray:
    """Quantile loss of the ``1 - level`` quantile forecast ``-var`` for returns ``realised`` (per day, in %)."""
    q = 1.0 - level
    quantile = -np.asarray(var, float) * 100
    r = np.asarray(realised, float) * 100
    return (q - (r < quantile)) * (r - quantile)


def parkinson_variance(log_range: np.ndarray) -> np.ndarray:
    """Parkinson (1980) one-day variance from ``log(high / low)`` (a fraction^2, like a squared return)."""
    return np.asarray(log_range, float) ** 2 / (4.0 * math.log(2.0))


def qlike(proxy: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Patton's QLIKE, ``log(h) + proxy / h``, both in percent squared (inputs as fraction^2)."""
    h = np.asarray(variance, float) * _PCT2
    return np.log(h) + np.asarray(proxy, float) * _PCT2 / h


def mse_variance(proxy: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Squared error of the variance forecast against the proxy, in (percent squared)^2."""
    return ((np.asarray(proxy, float) - np.asarray(variance, float)) * _PCT2) ** 2
