"""Daily text signals and market features: values by hand and a model without risk signals (their look-ahead test
is the dataset's, in test_dataset.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from textrisk.forecast import build_dataset
from textrisk.forecast.losses import parkinson_variance
from textrisk.forecast.market import MARKET_FEATURES
from textrisk.forecast.signals import SIGNAL_FEATURES, daily_signals, signal_names
from textrisk.scoring.report import risk_score

from ..helpers import FakeModel, fake_risk_model, make_prices, make_texts

NAMES = ["emb_0", "emb_1", "p_negative", "p_neutral", "p_positive", "risk_liquidity", "risk_litigation"]


def _rows(*rows):
    return np.array(rows, dtype=np.float32)


def test_signals_by_hand():
    # ticker 0: session 0 one text; session 2 two texts (one a near copy of session 0's, one new)
    per_text = _rows([1, 0, 0.8, 0.1, 0.1, 0.9, 0.1],    # negative, flagged (liquidity 0.9 >= 0.5), an event
                     [1, 0.01, 0.2, 0.6, 0.2, 0.1, 0.1],  # near copy of the first, no flag
                     [0, 1, 0.1, 0.1, 0.8, 0.1, 0.7])     # new, flagged (litigation 0.7 >= 0.6), positive: no event
    out, names = daily_signals(per_text, NAMES, np.array([0, 0, 0]), np.array([0, 2, 2]), (1, 4),
                               {"litigation": 0.6}, min_history=1)
    assert names == list(SIGNAL_FEATURES)
    col = {name: out[0, :, k] for k, name in enumerate(names)}
    np.testing.assert_allclose(col["text_count"], np.log1p([1, 0, 2, 0]))
    np.testing.assert_allclose(col["negative_share"], [0.8, 0, 0.15, 0], rtol=1e-6)
    np.testing.assert_allclose(col["novelty"], [1.0, 0, 0.5, 0])  # no earlier text: new; a copy is not news
    np.testing.assert_allclose(col["risk_count"], np.log1p([1, 0, 1, 0]))
    event = risk_score({"negative": 0.8, "neutral": 0.1, "positive": 0.1}, {"liquidity": 0.9, "litigation": 0.1})
    assert event == pytest.approx(0.8 * (1 - 0.1 * 0.9)) and event >= 0.5
    np.testing.assert_allclose(col["event_count"], np.log1p([1, 0, 0, 0]))
    # abnormal: the count minus its mean over the previous sessions (coverage starts at session 0)
    expected = [0.0, 0 - math.log(2), math.log(3) - math.log(2) / 2, 0 - (math.log(2) + math.log(3)) / 3]
    np.testing.assert_allclose(col["abnormal_count"], expected, rtol=1e-6)


def test_a_model_without_risk_signals_or_embeddings_gets_the_signals_it_supports():
    assert signal_names(["emb_0", "p_negative", "p_neutral", "p_positive"]) == [
        "text_count", "abnormal_count", "novelty", "negative_share"]
    assert signal_names(["p_negative", "p_positive"]) == ["text_count", "abnormal_count", "negative_share"]
    ds = build_dataset(make_prices(), make_texts(), FakeModel(), cache_dir=False)
    assert ds.signal_names == ["text_count", "abnormal_count", "novelty", "negative_share"]
    assert ds.signals.shape == ds.text_count.shape + (4,)
    risky = build_dataset(make_prices(), make_texts(), fake_risk_model(), cache_dir=False)
    assert risky.signal_names == list(SIGNAL_FEATURES)
    prices_only = build_dataset(make_prices())
    assert prices_only.signal_names == [] and prices_only.signals.shape[2] == 0


def test_signals_before_the_text_feed_are_zero_and_coverage_says_so():
    ds = build_dataset(make_prices(start="2014-01-01"), make_texts(start="2015-01-01"), fake_risk_model(),
                       cache_dir=False)
    first = ds.sessions.get_loc(ds.sessions[ds.text_count.sum(axis=0) > 0][0])
    assert not ds.text_coverage[:first].any() and ds.text_coverage[first:].all()
    assert (ds.signals[:, :first] == 0).all()


def test_market_features_by_hand():
    ds = build_dataset(make_prices(("AAA", "BBB")))
    market, names = ds.market
    assert names == list(MARKET_FEATURES) and market.shape == (len(ds.sessions), 3)
    s = ds.sessions.get_loc(pd.Timestamp("2015-03-02"))
    ret = ds.price[:, s, ds.price_feature_names.index("ret_1")].astype(float)
    rng = ds.price[:, s, ds.price_feature_names.index("range")].astype(float)
    np.testing.assert_allclose(market[s], [ret.mean(), math.log(parkinson_variance(rng).mean()), ret.std()],
                               rtol=1e-5)
    assert np.isnan(market[-1]).all()  # the live session: no bar yet
