"""The benchmark's scores of one set of risk forecasts over one period: VaR coverage tests and pinball loss at
95% / 99%, QLIKE and MSE of the variance forecast (against squared returns and Parkinson's high-low
variance), movement accuracy / MCC with 95% bootstrap intervals, and per-day loss frames for Diebold-Mariano.

A forecast frame has ``ticker``, ``date``, ``volatility``, ``var_95``, ``var_99``, ``realised_return`` (and
``p_rise`` / ``label`` for models with a movement head), as written by :meth:`Forecaster.predict` and
``baselines``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from textrisk.forecast.constants import VAR_LEVELS
from textrisk.forecast.dataset import ForecastDataset
from textrisk.forecast.losses import mse_variance, parkinson_variance, pinball_loss, qlike
from textrisk.forecast.metrics import movement_scores
from textrisk.forecast.var_tests import var_coverage

__all__ = ["PROXIES", "add_proxies", "bootstrap_movement", "loss_frame", "risk_scores"]

PROXIES = ("squared_return", "parkinson")


def add_proxies(frame: pd.DataFrame, ds: ForecastDataset) -> pd.DataFrame:
    """``frame`` with realised-variance proxies of each target day: ``squared_return`` and ``parkinson``."""
    ti = pd.Index(ds.tickers).get_indexer(frame["ticker"])
    si = ds.sessions.get_indexer(pd.DatetimeIndex(frame["date"]))
    log_range = ds.price[ti, si, ds.price_feature_names.index("range")].astype(float)
    out = frame.copy()
    out["squared_return"] = out["realised_return"].to_numpy(float) ** 2
    out["parkinson"] = parkinson_variance(log_range)
    return out


def _scorable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[np.isfinite(frame["realised_return"]) & np.isfinite(frame["volatility"])
                 & (frame["volatility"] > 0)]


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
        result[key] = var_coverage(data, level)
        result[key]["pinball"] = float(loss_frame(data, f"pinball_{round(level * 100)}")["loss"].mean())
    variance = data["volatility"].to_numpy(float) ** 2
    result["qlike"] = {proxy: float(np.nanmean(qlike(data[proxy], variance))) for proxy in PROXIES}
    result["mse_var"] = {proxy: float(np.nanmean(mse_variance(data[proxy], variance))) for proxy in PROXIES}
    if movement and "label" in data.columns:
        labelled = data[data["label"].notna()]
        result |= bootstrap_movement(labelled["label"].to_numpy(), labelled["p_rise"].to_numpy(), n_boot)
    return result
