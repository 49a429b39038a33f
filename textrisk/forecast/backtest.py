"""Day-by-day backtest of the portfolio overlay driven by one set of risk forecasts, against equal-weight
buy-and-hold.

On session ``d`` the book holds ``scale_d * shape``: the shape (``portfolio.strategy_weights``) is re-optimised
every ``rebalance_every`` sessions from that day's forecast volatilities and a Ledoit-Wolf correlation of the
``corr_window`` returns *before* ``d``; the scale takes the forecast book volatility to the target every
session. Forecasts for ``d`` are made before ``d`` (``Forecaster.predict`` / ``baselines``), so no weight reads
a return it is paid on. Costs: ``cost_bp`` per unit of one-way turnover against yesterday's drifted weights.
Cash earns nothing. Assets without a forecast on a day are not held; a missing return counts as 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .dataset import ForecastDataset
from .portfolio import (
    TRADING_DAYS,
    PortfolioConfig,
    book_scale,
    forecast_covariance,
    shrunk_correlation,
    strategy_weights,
)

__all__ = ["BacktestResult", "buy_and_hold", "performance", "run_overlay"]


class BacktestResult:
    """Daily ``returns``, ``weights`` [days x tickers], ``turnover`` and ``forecast_vol`` of one strategy."""

    def __init__(self, returns: pd.Series, weights: pd.DataFrame, turnover: pd.Series, forecast_vol: pd.Series,
                 target_vol: float | None):
        self.returns, self.weights, self.turnover = returns, weights, turnover
        self.forecast_vol, self.target_vol = forecast_vol, target_vol

    def summary(self) -> dict[str, Any]:
        """Annualised return / volatility, Sharpe, max drawdown, turnover, realised vs target volatility."""
        return performance(self.returns, self.turnover, self.target_vol)


def performance(returns: pd.Series, turnover: pd.Series, target_vol: float | None = None) -> dict[str, Any]:
    """Performance numbers of daily ``returns`` (simple, net of costs); zero risk-free rate."""
    r = returns.to_numpy(float)
    equity = np.cumprod(1 + r)
    drawdown = equity / np.maximum.accumulate(equity) - 1
    ann_return = float(equity[-1] ** (TRADING_DAYS / len(r)) - 1) if len(r) else float("nan")
    ann_vol = float(r.std(ddof=1) * math.sqrt(TRADING_DAYS)) if len(r) > 1 else float("nan")
    mean = float(r.mean() * TRADING_DAYS) if len(r) else float("nan")
    return {"days": int(len(r)), "ann_return": ann_return, "ann_vol": ann_vol,
            "sharpe": mean / ann_vol if ann_vol and ann_vol > 0 else float("nan"),
            "max_drawdown": float(drawdown.min()) if len(r) else float("nan"),
            "turnover": float(turnover.mean() * TRADING_DAYS) if len(turnover) else float("nan"),
            "target_vol": target_vol,
            "realised_over_target": ann_vol / target_vol if target_vol else None,
            "total_return": float(equity[-1] - 1) if len(r) else float("nan")}


def _grid(ds: ForecastDataset, start: Any, end: Any) -> np.ndarray:
    keep = (ds.sessions >= pd.Timestamp(start)) & (ds.sessions < pd.Timestamp(end)) & ds.has_price.any(axis=0)
    return np.flatnonzero(keep)


def run_overlay(forecast: pd.DataFrame, ds: ForecastDataset, start: Any, end: Any,
                config: PortfolioConfig | None = None) -> BacktestResult:
    """Backtest ``config``'s strategy over sessions ``[start, end)`` driven by ``forecast`` (``ticker``, ``date``,
    ``volatility``)."""
    config = config or PortfolioConfig()
    days = _grid(ds, start, end)
    vol = forecast.pivot_table(index="date", columns="ticker", values="volatility", aggfunc="first")
    vol = vol.reindex(index=ds.sessions[days], columns=ds.tickers).to_numpy(float)
    realised = np.nan_to_num(ds.returns[:, days].T)
    n = len(ds.tickers)
    held = np.zeros(n)
    shape = np.zeros(n)
    corr = np.eye(n)
    weights, out, turnover, sigma = np.zeros((len(days), n)), [], [], []
    for k, s in enumerate(days):
        ok = np.isfinite(vol[k]) & (vol[k] > 0)
        if k % config.rebalance_every == 0 or not (shape[ok] != 0).any():
            past = ds.returns[:, max(0, s - config.corr_window):s].T
            corr = shrunk_correlation(past[:, ok]) if ok.sum() > 1 else np.eye(int(ok.sum()))
            shape = np.zeros(n)
            if ok.any():
                shape[ok] = strategy_weights(vol[k, ok], corr, config)
            corr_assets = ok.copy()
        use = ok & corr_assets  # between rebalances, drop assets that lost their forecast
        target = np.zeros(n)
        if use.any() and np.abs(shape[use]).sum() > 0:
            w = shape[use] / shape[use].sum()
            sub = np.ix_(np.flatnonzero(use[corr_assets]), np.flatnonzero(use[corr_assets]))
            cov = forecast_covariance(vol[k, use], corr[sub])
            scale = book_scale(w, cov, config)
            target[use] = scale * w
            sigma.append(scale * math.sqrt(max(w @ cov @ w, 0.0)))
        else:
            sigma.append(0.0)
        trade = float(np.abs(target - held).sum())
        gross = float(target @ realised[k])
        net = gross - trade * config.cost_bp / 1e4
        weights[k], turnover, out = target, [*turnover, trade], [*out, net]
        held = target * (1 + realised[k]) / (1 + gross) if abs(1 + gross) > 1e-12 else target
    index = ds.sessions[days]
    return BacktestResult(pd.Series(out, index=index), pd.DataFrame(weights, index=index, columns=ds.tickers),
                          pd.Series(turnover, index=index), pd.Series(sigma, index=index) * math.sqrt(TRADING_DAYS),
                          config.target_vol)


def buy_and_hold(ds: ForecastDataset, start: Any, end: Any, cost_bp: float = 5.0,
                 tickers: list[str] | None = None) -> BacktestResult:
    """Equal weight on the first session's traded assets (``tickers``, default all), then left to drift."""
    days = _grid(ds, start, end)
    realised = np.nan_to_num(ds.returns[:, days].T)
    chosen = np.isin(ds.tickers, tickers) if tickers is not None else np.ones(len(ds.tickers), bool)
    held = np.where(chosen & ds.has_price[:, days[0]], 1.0, 0.0)
    held /= held.sum()
    out, turnover, weights = [], [], np.zeros((len(days), len(ds.tickers)))
    for k in range(len(days)):
        trade = 1.0 if k == 0 else 0.0
        gross = float(held @ realised[k])
        out.append(gross - trade * cost_bp / 1e4)
        turnover.append(trade)
        weights[k] = held
        held = held * (1 + realised[k]) / (1 + gross)
    index = ds.sessions[days]
    return BacktestResult(pd.Series(out, index=index), pd.DataFrame(weights, index=index, columns=ds.tickers),
                          pd.Series(turnover, index=index), pd.Series(np.nan, index=index), None)
