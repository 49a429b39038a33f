"""Benchmark plots (PNG, matplotlib's Agg backend): calibration, long/short strategy, VaR band, overlay equity
curves with drawdowns."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["plot_calibration", "plot_equity", "plot_strategy", "plot_var_band", "strategy_returns"]


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(figsize=(7, 4.2), dpi=100)


def _save(plt, fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_calibration(pred: pd.DataFrame, path: str | os.PathLike, bins: int = 10, title: str = "") -> Path:
    """Predicted P(rise) (binned) against the realised share of rises, on labelled days."""
    plt, fig, ax = _figure()
    labelled = pred[pred["label"].notna()]
    edges = np.quantile(labelled["p_rise"], np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, labelled["p_rise"], side="right") - 1, 0, bins - 1)
    grouped = labelled.assign(bin=which).groupby("bin").agg(p=("p_rise", "mean"), rise=("label", "mean"),
                                                            n=("label", "size"))
    ax.plot([0.3, 0.7], [0.3, 0.7], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    ax.plot(grouped["p"], grouped["rise"], marker="o", label=f"model (equal-count bins of ~{len(labelled) // bins})")
    ax.set_xlabel("predicted P(rise)")
    ax.set_ylabel("realised share of rises")
    ax.set_title(title or "Predicted P(rise) vs realised (test)")
    ax.legend()
    return _save(plt, fig, path)


def strategy_returns(pred: pd.DataFrame) -> pd.DataFrame:
    """Daily equal-weight returns of long/short-by-signal (long if P(rise) > 0.5, else short) and buy-and-hold."""
    known = pred[np.isfinite(pred["realised_return"])]
    position = np.where(known["p_rise"] > 0.5, 1.0, -1.0)
    daily = known.assign(signal=position * known["realised_return"]).groupby("date").agg(
        strategy=("signal", "mean"), buy_and_hold=("realised_return", "mean"))
    return daily.sort_index()


def plot_strategy(pred: pd.DataFrame, path: str | os.PathLike, title: str = "") -> Path:
    """Cumulative return of the long/short strategy vs buy-and-hold, equal weight over tickers, no costs."""
    plt, fig, ax = _figure()
    daily = strategy_returns(pred)
    for column, label in (("strategy", "long/short by P(rise)"), ("buy_and_hold", "buy and hold")):
        ax.plot(daily.index, (1 + daily[column]).cumprod() - 1, label=label)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel("cumulative return")
    ax.set_title(title or "Test period, equal weight, no transaction costs")
    ax.legend()
    fig.autofmt_xdate()
    return _save(plt, fig, path)


def plot_var_band(pred: pd.DataFrame, ticker: str, path: str | os.PathLike, title: str = "") -> Path:
    """One ticker's realised daily returns against its predicted -VaR 95% and 99% lines; breaches marked."""
    plt, fig, ax = _figure()
    one = pred[(pred["ticker"] == ticker) & np.isfinite(pred["realised_return"])].sort_values("date")
    ax.bar(one["date"], one["realised_return"], color="steelblue", width=0.8, label="realised return")
    for column, color in (("var_95", "orange"), ("var_99", "red")):
        ax.plot(one["date"], -one[column], color=color, label=f"-VaR {column[-2:]}%")
        breach = one[one["realised_return"] < -one[column]]
        ax.scatter(breach["date"], breach["realised_return"], color=color, zorder=3, s=18)
    ax.set_ylabel("daily return")
    ax.set_title(title or f"{ticker}: one-day VaR band vs realised returns (test)")
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    return _save(plt, fig, path)


def plot_equity(returns: dict[str, pd.Series], path: str | os.PathLike, title: str = "") -> Path:
    """Equity curves (top) and drawdowns (bottom) of daily net ``returns`` per strategy name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5.5), dpi=100, sharex=True,
                                      gridspec_kw={"height_ratios": [2, 1]})
    for name, series in returns.items():
        equity = (1 + series).cumprod()
        top.plot(equity.index, equity.to_numpy(), linewidth=1.2, label=name)
        bottom.plot(equity.index, (equity / equity.cummax() - 1).to_numpy() * 100, linewidth=1)
    top.set_ylabel("growth of 1")
    top.legend(fontsize=7, ncol=2)
    top.set_title(title, fontsize=10)
    bottom.set_ylabel("drawdown (%)")
    fig.autofmt_xdate()
    return _save(plt, fig, path)
