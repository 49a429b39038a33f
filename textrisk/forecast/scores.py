"""Scores of one set of risk forecasts over one period: VaR coverage tests (Kupiec, Christoffersen,
dynamic quantile) and pinball loss at 95% / 99%, QLIKE and MSE of the variance forecast (against squared returns
and, where the bars are known, Parkinson's high-low variance), movement accuracy / MCC with 95% bootstrap
intervals, and per-(ticker, day) loss frames for Diebold-Mariano and the model confidence set. Used by
``textrisk forecast evaluate`` and the StockNet benchmark.

A forecast frame has ``ticker``, ``date``, ``volatility``, ``var_95``, ``var_99``, ``realised_return`` (and
``p_rise`` / ``label`` for models with a movement head), as written by :meth:`Forecaster.predict` and
``baselines``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .constants import VAR_LEVELS
from .dataset import ForecastDataset
from .losses import mse_variance, parkinson_variance, pinball_loss, qlike
from .metrics import movement_scores
from .var_tests import var_coverage

__all__ = ["PROXIES", "add_proxies", "bootstrap_movement", "loss_frame", "risk_scores"]

PROXIES = ("squared_return", "parkinson")


def add_proxies(frame: pd.DataFrame, ds: ForecastDataset | None) -> pd.DataFrame:
    """``frame`` with realised-variance proxies of each target day: ``squared_return`` and ``parkinson`` (NaN
    without ``ds``, or for a (ticker, day) it has no bar of)."""
    out = frame.copy()
    out["squared_return"] = out["realised_return"].to_numpy(float) ** 2
    out["parkinson"] = np.nan
    if ds is not None:
        ti = pd.Index(ds.tickers).get_indexer(frame["ticker"])
        si = ds.sessions.get_indexer(pd.DatetimeIndex(frame["date"]))
        known = (ti >= 0) & (si >= 0)
        log_range = ds.price[ti[known], si[known], ds.price_feature_names.index("range")].astype(float)
        out.loc[known, "parkinson"] = parkinson_variance(log_range)
    return out


def _scorable(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with a realised return and (when the frame forecasts one) a positive volatility."""
    keep = np.isfinite(frame["realised_return"])
    if "volatility" in frame.columns:
        keep &= np.isfinite(frame["volatility"]) & (frame["volatility"] > 0)
    return frame[keep]


def loss_frame(frame: pd.DataFrame, loss: str) -> pd.DataFrame:
    """Per (ticker, date) ``loss``: ``qlike`` (vs squared return), ``qlike_parkinson``, ``pinball_95`` or
    ``pinball_99``."""
    data = _scorable(frame)
    if loss.startswith("pinball_"):
        level = int(loss.split("_")[1]) / 100
        values = pinball_loss(data["realised_return"], data[f"var_{loss.split('_')[1]}"], level)
    elif loss in ("qlike", "qlike_parkinson"):
        proxy = data["parkinson"] if loss == "qlike_parkinson" else data["squared_return"]
        values = qlike(proxy, data["volatility"].to_numpy(float) ** 2)
    else:
        raise ValueError(f"unknown loss {loss!r}")
    return pd.DataFrame({"ticker": data["ticker"].to_numpy(), "date": data["date"].to_numpy(),
                         "loss": np.asarray(values, float)})


def bootstrap_movement(label: np.ndarray, p_rise: np.ndarray, n_boot: int = 1000, seed: int = 0
                       ) -> dict[str, Any]:
    """Accuracy and MCC with percentile 95% intervals over ``n_boot`` resamples of the labelled days."""
    label, p_rise = np.asarray(label, int), np.asarray(p_rise, float)
    point = movement_scores(label, p_rise)
    if n_boot < 1 or len(label) == 0:
        return {key: {"value": point[key], "ci95": None} for key in ("acc", "mcc")} | {"n_labelled": point["n"]}
    rng = np.random.default_rng(seed)
    draws = {"acc": [], "mcc": []}
    for _ in range(n_boot):
        idx = rng.integers(0, len(label), len(label))
        scores = movement_scores(label[idx], p_rise[idx])
        for key in draws:
            draws[key].append(scores[key])
    return {key: {"value": point[key], "ci95": [float(np.nanpercentile(draws[key], 2.5)),
                                                float(np.nanpercentile(draws[key], 97.5))]}
            for key in draws} | {"n_labelled": point["n"]}


def risk_scores(frame: pd.DataFrame, movement: bool = True, n_boot: int = 1000) -> dict[str, Any]:
    """Every score of one forecast frame with proxies (see :func:`add_proxies`) over one period."""
    data = _scorable(frame)
    result: dict[str, Any] = {"n": int(len(data)), "tickers": int(data["ticker"].nunique())}
    for level in VAR_LEVELS:
        key = f"var{round(level * 100)}"
        if f"var_{round(level * 100)}" in data.columns:
            result[key] = var_coverage(data, level)
            result[key]["pinball"] = float(np.nanmean(loss_frame(data, f"pinball_{round(level * 100)}")["loss"]))
    if "volatility" not in data.columns:
        return result
    variance = data["volatility"].to_numpy(float) ** 2
    proxies = [p for p in PROXIES if p in data.columns and np.isfinite(data[p]).any()]
    result["qlike"] = {proxy: float(np.nanmean(qlike(data[proxy], variance))) for proxy in proxies}
    result["mse_var"] = {proxy: float(np.nanmean(mse_variance(data[proxy], variance))) for proxy in proxies}
    if movement and "label" in data.columns and "p_rise" in data.columns:
        labelled = data[data["label"].notna()]
        result |= bootstrap_movement(labelled["label"].to_numpy(), labelled["p_rise"].to_numpy(), n_boot)
    return result
