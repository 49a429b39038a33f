"""Panel HAR and HAR-X on Parkinson variance: a planted text effect is found and helps, levels per ticker."""

from __future__ import annotations

import numpy as np
import pandas as pd

from textrisk.forecast.dataset import ForecastDataset
from textrisk.forecast.har import har_design, har_forecast
from textrisk.forecast.losses import qlike


def _panel(n_tickers=4, n=900, effect=0.8, seed=0):
    """A synthetic dataset: log variance follows a HAR-like AR(1) per ticker (different levels), plus ``effect``
    times a text count of the day before; ranges and returns drawn from that variance."""
    rng = np.random.default_rng(seed)
    sessions = pd.bdate_range("2012-01-02", periods=n + 1)
    price = np.full((n_tickers, n + 1, 2), np.nan, np.float32)
    returns = np.full((n_tickers, n + 1), np.nan)
    signals = np.zeros((n_tickers, n + 1, 1), np.float32)
    for i in range(n_tickers):
        count = rng.poisson(0.3, n + 1).astype(float)
        level = -8.5 + 0.5 * i
        logv = np.full(n + 1, level)
        for t in range(1, n + 1):
            logv[t] = level + 0.6 * (logv[t - 1] - level) + effect * count[t - 1] + rng.normal(0, 0.3)
        sd = np.exp(logv / 2)
        returns[i, 1:] = sd[1:] * rng.standard_normal(n)
        price[i, :, 1] = sd * np.sqrt(4 * np.log(2)) * np.exp(rng.normal(0, 0.2, n + 1))  # log range
        price[i, 0, 1] = np.nan
        signals[i, :, 0] = np.log1p(count)
    return ForecastDataset(tickers=[f"T{i}" for i in range(n_tickers)], sessions=sessions, price=price,
                           text=np.zeros((n_tickers, n + 1, 1), np.float32),
                           text_count=np.ones((n_tickers, n + 1), np.int32), returns=returns,
                           has_price=np.isfinite(price[..., 1]), price_feature_names=["ret_1", "range"],
                           signals=signals, signal_names=["text_count"])


def test_har_x_finds_a_planted_text_effect():
    ds = _panel()
    start = ds.sessions[500]
    har = har_forecast(ds, start=start, refit_every=20)
    har_x = har_forecast(ds, exog=True, start=start, refit_every=20)
    assert len(har) == len(har_x) > 1000
    losses = {}
    for name, frame in (("har", har), ("har_x", har_x)):
        losses[name] = qlike(frame["realised_return"] ** 2, frame["volatility"] ** 2).mean()
    assert losses["har_x"] < losses["har"] - 0.05
    breaches = (har_x["realised_return"] < -har_x["var_95"]).mean()
    assert 0.03 < breaches < 0.07  # filtered historical simulation keeps the VaR calibrated


def test_har_forecasts_keep_each_tickers_level():
    ds = _panel(effect=0.0)
    frame = har_forecast(ds, start=ds.sessions[500], refit_every=50)
    level = frame.groupby("ticker")["volatility"].median()
    assert level.is_monotonic_increasing  # ticker i's log variance is 0.5 i higher


def test_har_design_uses_only_earlier_observations():
    ds = _panel(n=60)
    si, y, x, names = har_design(ds, 0, exog=True)
    assert names == ["log_rv_1", "log_rv_5", "log_rv_22", "text_coverage", "text_count"]
    k = 30
    rv = np.exp(y)
    np.testing.assert_allclose(x[k, :3], [np.log(rv[k - 1]), np.log(rv[k - 5:k].mean()), np.log(rv[k - 22:k].mean())])
    assert x[k, 4] == ds.signals[0, si[k] - 1, 0]  # the text count of the session before the target
