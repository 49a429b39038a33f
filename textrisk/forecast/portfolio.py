"""Risk-aware portfolio weights from risk forecasts: a forecast covariance (forecast volatilities with a
Ledoit-Wolf-shrunk correlation), volatility targeting per asset and for the book, minimum-variance and
risk-parity weights (scipy.optimize), and an optional portfolio-VaR budget.

All functions take the information of one decision date only; :mod:`textrisk.forecast.backtest` calls them
day by day with forecasts made before the day traded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from ..utils.validation import check_number

__all__ = ["PortfolioConfig", "STRATEGIES", "book_scale", "forecast_covariance", "min_variance_weights",
           "risk_parity_weights", "shrunk_correlation", "strategy_weights", "vol_target_weights"]

STRATEGIES = ("vol_target", "min_variance", "risk_parity")
MODES = ("long_only", "long_short")
TRADING_DAYS = 252


@dataclass
class PortfolioConfig:
    """How the overlay turns forecasts into weights; volatilities are annualised with 252 days."""

    strategy: str = field(default="vol_target", metadata={"help": f"One of {STRATEGIES}."})
    mode: str = field(default="long_only", metadata={
        "help": "'long_only' or 'long_short' (long/short applies to min_variance: weights in [-max_weight, "
                "max_weight] summing to 1; vol_target and risk_parity are long-only by construction)."})
    target_vol: float = field(default=0.10, metadata={"help": "Annualised volatility target of the book."})
    max_leverage: float = field(default=2.0, metadata={"help": "Cap on gross exposure sum |w|."})
    max_weight: float = field(default=0.10, metadata={
        "help": "min_variance: cap on |w| of one asset before book scaling (raised to 1/n if below it)."})
    var_budget: float | None = field(default=None, metadata={
        "help": "Optional cap on the book's one-day Gaussian 99% VaR (fraction of capital, e.g. 0.02)."})
    cost_bp: float = field(default=5.0, metadata={"help": "Transaction cost per unit of turnover, basis points."})
    rebalance_every: int = field(default=5, metadata={
        "help": "Sessions between re-optimisations of the weights' shape (and of the correlation); the book is "
                "rescaled to the volatility target every session."})
    corr_window: int = field(default=250, metadata={"help": "Past sessions for the Ledoit-Wolf correlation."})

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {MODES}, got {self.mode!r}")
        for name in ("target_vol", "max_leverage", "max_weight"):  # finite numbers (NaN, inf refused)
            check_number(getattr(self, name), name, gt=0)
        if self.var_budget is not None:
            check_number(self.var_budget, "var_budget", gt=0)
        check_number(self.cost_bp, "cost_bp", ge=0)
        if self.rebalance_every < 1 or self.corr_window < 20:
            raise ConfigError("rebalance_every must be >= 1 and corr_window >= 20")

    @property
    def daily_target(self) -> float:
        """The volatility target per session."""
        return self.target_vol / math.sqrt(TRADING_DAYS)


def shrunk_correlation(past_returns: np.ndarray) -> np.ndarray:
    """Ledoit-Wolf (scikit-learn) correlation of ``past_returns`` [days, assets]; NaN days count as 0 (demeaned)."""
    from sklearn.covariance import LedoitWolf

    x = np.asarray(past_returns, float)
    x = np.where(np.isfinite(x), x - np.nanmean(x, axis=0), 0.0)
    cov = LedoitWolf().fit(x).covariance_
    sd = np.sqrt(np.clip(np.diag(cov), 1e-18, None))
    corr = cov / np.outer(sd, sd)
    np.fill_diagonal(corr, 1.0)
    return corr


def forecast_covariance(vol: np.ndarray, corr: np.ndarray) -> np.ndarray:
    """``D R D`` with ``D = diag(vol)``."""
    vol = np.asarray(vol, float)
    return corr * np.outer(vol, vol)


def vol_target_weights(vol: np.ndarray) -> np.ndarray:
    """Each asset sized to the same volatility (inverse-volatility weights), summing to 1 before book scaling."""
    inverse = 1.0 / np.asarray(vol, float)
    return inverse / inverse.sum()


def min_variance_weights(cov: np.ndarray, config: PortfolioConfig) -> np.ndarray:
    """argmin w' S w subject to sum w = 1 and |w_i| <= max_weight (w >= 0 when long-only), by SLSQP."""
    from scipy.optimize import minimize

    n = len(cov)
    cap = max(config.max_weight, 1.0 / n)
    lower = 0.0 if config.mode == "long_only" else -cap
    scale = 1.0 / np.mean(np.diag(cov))  # a well-scaled objective for the optimiser
    result = minimize(lambda w: scale * w @ cov @ w, np.full(n, 1.0 / n), jac=lambda w: 2 * scale * cov @ w,
                      method="SLSQP", bounds=[(lower, cap)] * n,
                      constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones(n)}],
                      options={"maxiter": 200, "ftol": 1e-12})
    w = np.clip(result.x, lower, cap)
    return w / w.sum()


def risk_parity_weights(cov: np.ndarray) -> np.ndarray:
    """Equal risk contributions, long-only: minimise ``0.5 y'Sy - mean(log y)`` over y > 0 (L-BFGS-B), w = y/sum(y).

    The first-order condition ``y_i (S y)_i = 1/n`` is exactly equal contributions (Spinu, 2013).
    """
    from scipy.optimize import minimize

    n = len(cov)
    scale = 1.0 / np.mean(np.diag(cov))
    s = cov * scale
    y0 = 1.0 / np.sqrt(np.diag(s)) / n
    result = minimize(lambda y: 0.5 * y @ s @ y - np.log(y).mean(), y0, jac=lambda y: s @ y - 1.0 / (n * y),
                      method="L-BFGS-B", bounds=[(1e-10, None)] * n, options={"maxiter": 500})
    return result.x / result.x.sum()


def strategy_weights(vol: np.ndarray, corr: np.ndarray, config: PortfolioConfig) -> np.ndarray:
    """The unscaled weight shape of ``config.strategy`` (sums to 1)."""
    if config.strategy == "vol_target":
        return vol_target_weights(vol)
    cov = forecast_covariance(vol, corr)
    if config.strategy == "min_variance":
        return min_variance_weights(cov, config)
    return risk_parity_weights(cov)


def book_scale(weights: np.ndarray, cov: np.ndarray, config: PortfolioConfig) -> float:
    """Multiplier taking the book to the volatility target, capped by ``max_leverage`` and the VaR budget."""
    from scipy.stats import norm

    sigma = float(math.sqrt(max(weights @ cov @ weights, 1e-18)))
    scale = config.daily_target / sigma
    gross = float(np.abs(weights).sum())
    scale = min(scale, config.max_leverage / gross) if gross > 0 else 0.0
    if config.var_budget is not None:
        scale = min(scale, config.var_budget / (norm.ppf(0.99) * sigma))
    return scale
