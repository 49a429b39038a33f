"""Does text move risk? An event study over the text period: for each ticker, the days whose text signal is in
the top decile of that ticker's own days with text, against its other days with text, on the next session's
absolute return and high-low range -- and on the fused model's loss minus the price-only model's.

The decile is cut per ticker over the whole study period (so the study describes association, it is not a
trading rule). Outcomes are divided by the ticker's mean over its study days before pooling, so a volatile
stock does not dominate; 1.10 means 10% above that ticker's usual. Intervals are percentile bootstraps of the
top-minus-others difference, resampling event days within each group.

Signals (``text_signals``): every daily text signal of the dataset (``signals.py``: ``text_count``,
``abnormal_count``, ``novelty``, ``negative_share``, ``risk_count``, ``event_count``, those the text model
supports), ``net_negative`` (P(negative) - P(positive)) and ``risk_score`` (mean of the risk-head probabilities)
when the text model has a risk head.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .dataset import ForecastDataset

__all__ = ["decile_contrast", "model_gain_study", "next_day_study", "text_signals"]


def text_signals(ds: ForecastDataset) -> dict[str, np.ndarray]:
    """Per (ticker, session) signals, NaN on days without texts (see the module docstring)."""
    names = list(ds.text_feature_names)
    if not names:
        return {}
    mask = np.where(ds.has_text, 1.0, np.nan)
    out: dict[str, np.ndarray] = {name: ds.signals[..., k].astype(float) * mask
                                  for k, name in enumerate(ds.signal_names)}
    if "p_negative" in names and "p_positive" in names:
        out["net_negative"] = (ds.text[..., names.index("p_negative")]
                               - ds.text[..., names.index("p_positive")]).astype(float) * mask
    risk = [i for i, name in enumerate(names) if name.startswith("risk_")]
    if risk:
        out["risk_score"] = ds.text[..., risk].astype(float).mean(axis=2) * mask
    return out


def decile_contrast(events: pd.DataFrame, quantile: float = 0.9, n_boot: int = 1000, seed: int = 0,
                    normalise: bool = True, min_days: int = 20) -> dict[str, Any]:
    """Top-``quantile`` signal days vs the others, per ticker, pooled: ``events`` has ``ticker``, ``signal``,
    ``outcome``. Tickers with fewer than ``min_days`` events are left out."""
    data = events[np.isfinite(events["signal"]) & np.isfinite(events["outcome"])]
    data = data[data.groupby("ticker")["signal"].transform("size") >= min_days]
    if data.empty:
        return {"n_top": 0, "n_other": 0, "tickers": 0}
    cut = data.groupby("ticker")["signal"].transform(lambda s: s.quantile(quantile))
    top = data["signal"] > cut
    outcome = data["outcome"]
    if normalise:
        outcome = outcome / data.groupby("ticker")["outcome"].transform("mean")
    a, b = outcome[top].to_numpy(float), outcome[~top].to_numpy(float)
    if len(a) == 0 or len(b) == 0:  # a signal without a top decile (constant, e.g. no event on any day)
        return {"n_top": int(len(a)), "n_other": int(len(b)), "tickers": int(data["ticker"].nunique())}
    rng = np.random.default_rng(seed)
    diffs = [rng.choice(a, len(a)).mean() - rng.choice(b, len(b)).mean() for _ in range(n_boot)]
    return {"tickers": int(data["ticker"].nunique()), "n_top": int(len(a)), "n_other": int(len(b)),
            "top_mean": float(a.mean()), "other_mean": float(b.mean()), "difference": float(a.mean() - b.mean()),
            "ci95": [float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))],
            "normalised": normalise}


def next_day_study(ds: ForecastDataset, signal: np.ndarray, start: Any, end: Any, **options: Any
                   ) -> dict[str, Any]:
    """Signal of session ``s`` (texts before its close) vs the next session's |return| and high-low range."""
    range_ = ds.price[..., ds.price_feature_names.index("range")].astype(float)
    keep = np.flatnonzero((ds.sessions >= pd.Timestamp(start)) & (ds.sessions < pd.Timestamp(end)))
    keep = keep[keep + 1 < len(ds.sessions)]
    ti, si = np.meshgrid(np.arange(len(ds.tickers)), keep, indexing="ij")
    ti, si = ti.ravel(), si.ravel()
    base = pd.DataFrame({"ticker": np.asarray(ds.tickers, dtype=object)[ti], "signal": signal[ti, si]})
    outcomes = {"abs_return": np.abs(ds.returns[ti, si + 1]), "range": range_[ti, si + 1]}
    return {name: decile_contrast(base.assign(outcome=value), **options) for name, value in outcomes.items()}


def model_gain_study(loss_a: pd.DataFrame, loss_b: pd.DataFrame, ds: ForecastDataset, signal: np.ndarray,
                     **options: Any) -> dict[str, Any]:
    """Loss of model a minus model b on forecast day ``d``, split by the signal of ``d - 1`` (the last text
    day the forecast read); not normalised (the difference is already in loss units; negative: a is better)."""
    joined = loss_a.merge(loss_b, on=["ticker", "date"], suffixes=("_a", "_b"))
    ti = pd.Index(ds.tickers).get_indexer(joined["ticker"])
    si = ds.sessions.get_indexer(pd.DatetimeIndex(joined["date"])) - 1
    events = pd.DataFrame({"ticker": joined["ticker"], "signal": signal[ti, si],
                           "outcome": joined["loss_a"] - joined["loss_b"]})
    return decile_contrast(events, normalise=False, **options)
