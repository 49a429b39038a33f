"""Every risk baseline forecasts without look-ahead: rewriting future prices, or future texts for the -X models,
leaves every earlier forecast unchanged; and the dispatch checks its options."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from textrisk.errors import ConfigError
from textrisk.forecast import build_dataset
from textrisk.forecast.baselines import BASELINES, TEXT_BASELINES, baseline_forecast
from textrisk.forecast.calendar import session_closes

from ..helpers import fake_risk_model, make_prices, make_texts

TICKERS = ("AAA", "BBB", "CCC")
CUTOFF = "2015-09-15"
FIT_START = "2015-06-01"
COLUMNS = ["expected_return", "volatility", "var_95", "var_99"]


@pytest.fixture(scope="module")
def prices():
    return make_prices(TICKERS, start="2013-01-01", end="2015-12-31")


@pytest.fixture(scope="module")
def texts():
    return make_texts(TICKERS, start="2014-06-01", per_day=4)


def _dataset(prices, texts):
    return build_dataset(prices, texts, fake_risk_model(), cache_dir=False)


def _future_prices(prices, seed=1):
    rng = np.random.default_rng(seed)
    out = {}
    for ticker, frame in prices.items():
        frame = frame.copy()
        late = pd.to_datetime(frame["Date"]) >= pd.Timestamp(CUTOFF)
        frame.loc[late, ["Open", "High", "Low", "Close", "Adj Close"]] *= np.exp(
            rng.normal(0, 0.05, late.sum()))[:, None]
        frame.loc[late, "High"] *= 1.05
        out[ticker] = frame
    return out


def _future_texts(texts):
    close = session_closes(CUTOFF, "2015-09-30").iloc[0]  # texts at or after the cut-off day's close
    late = texts.copy()
    after = late["timestamp"] >= close
    late.loc[after, "text"] = "rumour " + late.loc[after, "text"]
    burst = pd.DataFrame({"ticker": "AAA", "timestamp": [close + pd.Timedelta(hours=h) for h in range(1, 60)],
                          "text": [f"breaking {i}" for i in range(59)]})
    return pd.concat([late, burst], ignore_index=True)


def _forecast(name, ds):
    options = {"refit_every": 40} if name in ("garch", "gjr_garch", "egarch", "garch_x") else {}
    return baseline_forecast(name, ds, FIT_START, start=FIT_START, **options).reset_index(drop=True)


def _assert_unchanged_before_cutoff(before, after, moved):
    early = before["date"] <= pd.Timestamp(CUTOFF)
    assert early.sum() > 100
    assert before[["ticker", "date"]].equals(after[["ticker", "date"]])
    np.testing.assert_allclose(before.loc[early, COLUMNS].to_numpy(), after.loc[early, COLUMNS].to_numpy(),
                               rtol=1e-9)
    if moved:  # the rewrite does reach the later forecasts
        assert not np.allclose(before.loc[~early, "volatility"], after.loc[~early, "volatility"])
    assert (before["var_99"] > before["var_95"]).all() and (before["volatility"] > 0).all()


@pytest.mark.parametrize("name", BASELINES)
def test_no_baseline_reads_future_prices(prices, texts, name):
    _assert_unchanged_before_cutoff(_forecast(name, _dataset(prices, texts)),
                                    _forecast(name, _dataset(_future_prices(prices), texts)), moved=True)


@pytest.mark.parametrize("name", BASELINES)
def test_no_baseline_reads_future_texts(prices, texts, name):
    before = _forecast(name, _dataset(prices, texts))
    after = _forecast(name, _dataset(prices, _future_texts(texts)))
    _assert_unchanged_before_cutoff(before, after, moved=name in TEXT_BASELINES)
    if name not in TEXT_BASELINES:  # a model without text reads none at all
        np.testing.assert_allclose(before[COLUMNS].to_numpy(), after[COLUMNS].to_numpy(), rtol=1e-12)


def test_text_baselines_need_texts_and_options_are_checked(prices):
    ds = build_dataset(prices)
    for name in TEXT_BASELINES:
        with pytest.raises(ConfigError, match="text signals"):
            baseline_forecast(name, ds, FIT_START)
    with pytest.raises(ConfigError, match="baseline"):
        baseline_forecast("arima", ds, None)
    with pytest.raises(ConfigError, match="refit_every"):
        baseline_forecast("har", ds, None, refit_every=0)
    with pytest.raises(ConfigError, match="refit_every"):
        baseline_forecast("egarch", ds, FIT_START, refit_every=0)


def test_the_clis_price_baselines_are_the_baselines_without_text():
    from textrisk.forecast.cli import PRICE_BASELINES

    assert set(PRICE_BASELINES) == set(BASELINES) - set(TEXT_BASELINES)
