"""Forecast inputs: calendar alignment without look-ahead, price features, and every bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from textrisk.errors import DataError
from textrisk.forecast import ForecastConfig, Forecaster, build_dataset
from textrisk.forecast.calendar import assign_sessions, session_closes
from textrisk.forecast.constants import PRICE_FEATURES
from textrisk.forecast.features import price_features, validate_prices
from textrisk.forecast.text import TextFeaturizer, validate_texts

from ..helpers import FakeModel, fake_risk_model, make_prices, make_texts


def dataset(prices=None, texts=None, **kwargs):
    prices = make_prices() if prices is None else prices
    texts = make_texts() if texts is None else texts
    return build_dataset(prices, texts, FakeModel(), cache_dir=False, **kwargs)


# ----------------------------------------------------------------------------------------------- calendar
@pytest.mark.parametrize("stamp, session", [
    ("2015-03-02 20:59:59+00:00", "2015-03-02"),  # Monday, before the 16:00 New York close (21:00 UTC in winter)
    ("2015-03-02 21:00:00+00:00", "2015-03-03"),  # exactly at the close: counts for the next day
    ("2015-03-02 23:30:00+00:00", "2015-03-03"),  # after the close
    ("2015-06-01 20:30:00+00:00", "2015-06-02"),  # summer time: the close is 20:00 UTC
    ("2015-06-01 15:59:00-04:00", "2015-06-01"),  # same instant rule in New York time
    ("2015-03-07 12:00:00+00:00", "2015-03-09"),  # Saturday rolls to Monday
    ("2015-03-06 22:00:00+00:00", "2015-03-09"),  # Friday after the close rolls to Monday
    ("2015-07-03 12:00:00+00:00", "2015-07-06"),  # Independence Day observed (Friday): next trading day
    ("2014-11-28 17:59:00+00:00", "2014-11-28"),  # Black Friday half day closes 13:00 New York = 18:00 UTC
    ("2014-11-28 18:00:00+00:00", "2014-12-01"),
    ("2014-12-24 19:00:00+00:00", "2014-12-26"),  # Christmas Eve half day, then the holiday
])
def test_text_counts_for_first_session_closing_after_it(stamp, session):
    closes = session_closes("2014-11-01", "2015-07-31")
    position = assign_sessions(pd.DatetimeIndex([pd.Timestamp(stamp)]), closes)
    assert closes.index[position[0]] == pd.Timestamp(session)


def test_naive_timestamps_are_rejected():
    closes = session_closes("2015-01-01", "2015-02-01")
    with pytest.raises(DataError, match="tz-aware"):
        assign_sessions(pd.DatetimeIndex(["2015-01-05 12:00"]), closes)


@pytest.mark.parametrize("stamp", ["2015-01-05 12:00:00", pd.Timestamp("2015-01-05 12:00"),
                                   pd.Timestamp("2015-01-05 12:00").to_pydatetime()])
def test_texts_without_time_zone_raise(stamp):
    with pytest.raises(DataError, match="time zone"):
        validate_texts([("AAA", stamp, "hello")])
    frame = pd.DataFrame({"ticker": ["AAA"], "timestamp": pd.to_datetime([stamp]), "text": ["x"]})
    with pytest.raises(DataError, match="time zone"):
        validate_texts(frame)


@pytest.mark.parametrize("row, match", [
    (("AAA", "2015-01-05T12:00:00+00:00", ""), "text is empty"),
    (("AAA", "2015-01-05T12:00:00+00:00", None), "text is None, not a string"),
    (("", "2015-01-05T12:00:00+00:00", "x"), "ticker"),
    (("AAA", "yesterday", "x"), "cannot parse"),
    (("AAA", "x"), "expected"),
])
def test_bad_text_rows_raise(row, match):
    with pytest.raises(DataError, match=match):
        validate_texts([row])


# ----------------------------------------------------------------------------------------------- look-ahead
def test_no_feature_of_day_t_uses_data_after_its_cutoff():
    prices, texts = make_prices(), make_texts(per_day=4)
    base = build_dataset(prices, texts, fake_risk_model(), cache_dir=False)
    t = base.sessions.get_loc(pd.Timestamp("2015-06-10"))
    cutoff = session_closes("2015-06-01", "2015-06-30").loc["2015-06-10"]
    # rewrite everything stamped after the cut-off: prices of later days, texts at or after the close
    late_prices = {k: v.copy() for k, v in prices.items()}
    for frame in late_prices.values():
        later = pd.to_datetime(frame["Date"]) > pd.Timestamp("2015-06-10")
        frame.loc[later, ["Open", "High", "Low", "Close", "Adj Close"]] *= 3.0
        frame.loc[later, "Volume"] *= 7
    late_texts = texts.copy()
    after = late_texts["timestamp"] >= cutoff
    late_texts.loc[after, "text"] = "completely different " + late_texts.loc[after, "text"]
    extra = pd.DataFrame({"ticker": ["AAA"] * 30, "timestamp": [cutoff + pd.Timedelta(minutes=m) for m in range(30)],
                          "text": [f"burst {i}" for i in range(30)]})
    changed = build_dataset(late_prices, pd.concat([late_texts, extra], ignore_index=True), fake_risk_model(),
                            cache_dir=False)
    for name in ("price", "text", "text_count", "signals"):  # signals: counts, abnormal count, novelty, events...
        np.testing.assert_array_equal(getattr(base, name)[:, : t + 1], getattr(changed, name)[:, : t + 1])
        assert not np.array_equal(getattr(base, name)[:, t + 1:], getattr(changed, name)[:, t + 1:])  # it landed
    np.testing.assert_array_equal(base.market[0][: t + 1], changed.market[0][: t + 1])
    # the sample forecasting day t+1 reads sessions t-4..t only, so it is unchanged too
    ti, si = np.array([0, 1]), np.array([t + 1, t + 1])
    for key, value in base.windows(ti, si, 5).items():
        np.testing.assert_array_equal(value, changed.windows(ti, si, 5)[key])


@pytest.mark.filterwarnings("ignore:tickers with prices but no texts")
def test_text_one_second_before_close_counts_today_at_close_tomorrow():
    prices = make_prices()
    close = session_closes("2015-06-01", "2015-06-30").loc["2015-06-10"]
    texts = pd.DataFrame({"ticker": ["AAA", "AAA", "AAA"], "text": ["before", "at", "after"],
                          "timestamp": [close - pd.Timedelta(seconds=1), close, close + pd.Timedelta(hours=3)]})
    ds = dataset(prices, texts)
    day = ds.sessions.get_loc(pd.Timestamp("2015-06-10"))
    assert ds.text_count[0, day] == 1 and ds.text_count[0, day + 1] == 2
    assert ds.text_count.sum() == 3


def test_window_never_includes_target_day():
    ds = dataset()
    ti, si = ds.targets(5, "2015-06-01", "2015-07-01", require_return=True)
    w = ds.windows(ti[:1], si[:1], 5)
    np.testing.assert_array_equal(w["price"][0], ds.price[ti[0], si[0] - 5: si[0]])


def test_normalisation_is_fitted_on_train_only():
    prices = make_prices()
    base = Forecaster.train(dataset(prices), ForecastConfig(variant="fused", epochs=1, train_start="2015-02-01",
                                                            train_end="2015-08-01"))
    shocked = {k: v.copy() for k, v in prices.items()}
    for frame in shocked.values():
        later = pd.to_datetime(frame["Date"]) >= pd.Timestamp("2015-08-01")
        frame.loc[later, "Volume"] *= 100
        frame.loc[later, ["Open", "High", "Low", "Close", "Adj Close"]] *= 5
    other = Forecaster.train(dataset(shocked), ForecastConfig(variant="fused", epochs=1, train_start="2015-02-01",
                                                              train_end="2015-08-01"))
    assert base.normalization == other.normalization


# ----------------------------------------------------------------------------------------------- features
def test_price_features_by_hand():
    sessions = session_closes("2015-01-02", "2015-02-27").index
    n = len(sessions)
    close = np.linspace(100, 110, n)
    frame = pd.DataFrame({"Open": close * 0.99, "High": close * 1.02, "Low": close * 0.98, "Close": close,
                          "Adj Close": close / 2, "Volume": np.full(n, 1000.0)}, index=sessions)
    features, returns = price_features(validate_prices(frame, "X"), sessions)
    col = {name: features[:, i] for i, name in enumerate(PRICE_FEATURES)}
    assert np.isnan(col["ret_1"][0]) and np.isnan(returns[0])
    np.testing.assert_allclose(col["ret_1"][1:], np.log(close[1:] / close[:-1]), rtol=1e-5)
    np.testing.assert_allclose(returns[1:], close[1:] / close[:-1] - 1)
    np.testing.assert_allclose(col["range"], np.log(1.02 / 0.98), rtol=1e-5)
    np.testing.assert_allclose(col["intraday"], np.log(1 / 0.99), rtol=1e-5)
    np.testing.assert_allclose(col["close_loc"], 0.5, atol=1e-6)
    np.testing.assert_allclose(col["volume_change"][1:], 0.0, atol=1e-7)
    assert np.isnan(col["volatility_20"][:20]).all() and np.isfinite(col["volatility_20"][20:]).all()


# ----------------------------------------------------------------------------------------------- bad inputs
def _edit(prices, ticker, fn):
    prices = {k: v.copy() for k, v in prices.items()}
    prices[ticker] = fn(prices[ticker])
    return prices


def _set(column, row, value):
    def fn(frame):
        frame.loc[frame.index[row], column] = value
        return frame
    return fn


@pytest.mark.parametrize("edit, match", [
    (lambda f: pd.concat([f, f.iloc[[10]]]), "duplicate date"),
    (_set("Close", 30, np.nan), "'close' is NaN or <= 0"),
    (_set("Open", 30, 0.0), "'open' is NaN or <= 0"),
    (_set("Adj Close", 30, -1.0), "'adj_close' is NaN or <= 0"),
    (_set("Volume", 30, -5.0), "volume is negative"),
    (_set("Date", 30, "2015-01-03"), "not trading sessions"),  # a Saturday
    (lambda f: f.drop(columns=["Volume"]), "lacks column"),
    (lambda f: f.iloc[:0], "no rows"),
])
def test_bad_prices_raise_naming_the_ticker(edit, match):
    with pytest.raises(DataError, match=match) as info:
        dataset(_edit(make_prices(), "BBB", edit))
    assert "BBB" in str(info.value)


def test_unsorted_dates_are_sorted():
    prices = make_prices()
    shuffled = _edit(prices, "AAA", lambda f: f.sample(frac=1.0, random_state=0))
    a, b = dataset(prices), dataset(shuffled)
    np.testing.assert_array_equal(a.price, b.price)
    np.testing.assert_array_equal(a.returns, b.returns)


def test_missing_days_are_skipped_not_bridged():
    prices = _edit(make_prices(), "AAA", lambda f: f[f["Date"] != "2015-06-10"])
    with pytest.warns(UserWarning, match="sessions missing"):
        ds = dataset(prices)
    assert ds.report["missing_sessions"] == {"AAA": 1}
    gap = ds.sessions.get_loc(pd.Timestamp("2015-06-10"))
    assert np.isnan(ds.price[0, gap]).all() and np.isnan(ds.returns[0, gap + 1])
    ti, si = ds.targets(5, require_return=True)
    aaa = si[ti == 0]
    assert not ((aaa >= gap) & (aaa <= gap + 5)).any()  # no window or target touches the gap
    assert ((si[ti == 1] >= gap) & (si[ti == 1] <= gap + 5)).sum() == 6  # the other ticker is unaffected


def test_ticker_with_prices_but_no_texts_gets_no_text_days():
    prices = make_prices(("AAA", "BBB", "CCC"))
    with pytest.warns(UserWarning, match="no texts.*CCC"):
        ds = dataset(prices, make_texts(("AAA", "BBB")))
    assert ds.report["tickers_without_texts"] == ["CCC"]
    assert not ds.has_text[2].any() and (ds.text[2] == 0).all()


def test_texts_for_ticker_without_prices_raise():
    with pytest.raises(DataError, match=r"without prices: \['ZZZ'\]"):
        dataset(make_prices(), make_texts(("AAA", "ZZZ")))


def test_texts_outside_the_price_range_are_counted():
    texts = pd.concat([make_texts(), pd.DataFrame({"ticker": ["AAA", "AAA"], "text": ["old", "future"],
                      "timestamp": pd.to_datetime(["2010-01-04 12:00+00:00", "2030-01-02 12:00+00:00"])})])
    ds = dataset(make_prices(), texts)
    assert ds.report["texts_before_grid"] == 1 and ds.report["texts_after_grid"] == 1
    assert ds.report["texts_used"] == len(texts) - 2


def test_window_longer_than_history_raises():
    ds = dataset(make_prices(start="2015-10-01", end="2015-11-20"), make_texts(start="2015-10-01", end="2015-11-20"))
    with pytest.raises(DataError, match="longer than the history"):
        ds.targets(40)
    with pytest.raises(DataError, match="longer than the history"):
        Forecaster.train(ds, ForecastConfig(window=40, train_start="2015-10-01", train_end="2015-11-01",
                                            dev_end="2015-11-15", test_end="2015-12-01"))


@pytest.mark.parametrize("dates, match", [
    ({"train_end": "2017-01-01", "dev_end": "2017-03-01", "test_end": "2017-06-01"}, "train_end=2017-01-01 is outside"),
    ({"train_start": "2010-01-01", "train_end": "2012-01-01", "dev_end": "2015-10-01"}, "outside the data"),
    # inside the data, but the 21-session warm-up of the rolling features leaves train without a full window
    ({"train_start": "2014-09-01", "train_end": "2014-09-20"}, "the train split .* no labelled"),
])
def test_split_dates_outside_the_data_raise(dates, match):
    with pytest.raises(DataError, match=match):
        Forecaster.train(dataset(), ForecastConfig(epochs=1, **dates))


def test_text_variant_without_texts_raises():
    ds = build_dataset(make_prices(), None)
    with pytest.raises(DataError, match="needs text features"):
        Forecaster.train(ds, ForecastConfig(variant="text_only", epochs=1, train_start="2015-01-01"))


def test_texts_need_an_analyzer():
    with pytest.raises(DataError, match="without an analyzer"):
        build_dataset(make_prices(), make_texts())


# ----------------------------------------------------------------------------------------------- aggregation
@pytest.mark.filterwarnings("ignore:tickers with prices but no texts")
def test_daily_text_features_are_the_mean_plus_log_count():
    prices = make_prices()
    close = session_closes("2015-06-01", "2015-06-30").loc["2015-06-10"]
    stamps = [close - pd.Timedelta(hours=h) for h in (1, 2, 3)]
    texts = pd.DataFrame({"ticker": ["AAA"] * 3, "timestamp": stamps, "text": ["one", "two", "two"]})
    model = FakeModel()
    ds = build_dataset(prices, texts, model, cache_dir=False)
    per_text = TextFeaturizer(model, cache_dir=False)(["one", "two", "two"])
    day = ds.sessions.get_loc(pd.Timestamp("2015-06-10"))
    np.testing.assert_allclose(ds.text[0, day, :-1], per_text.mean(axis=0), rtol=1e-6)
    assert ds.text[0, day, -1] == pytest.approx(np.log(4))
    assert ds.text_feature_names[-1] == "log_text_count" and ds.text_feature_names[-4:-1] == [
        "p_negative", "p_neutral", "p_positive"]
    probabilities = ds.text[0, day, -4:-1]
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_embedding_cache_is_read_on_second_run(tmp_path):
    texts = ["alpha", "beta", "gamma", "alpha"]
    first_model = FakeModel()
    first = TextFeaturizer(first_model, cache_dir=tmp_path)(texts)
    assert first_model.encoded == 3  # duplicates are encoded once
    second_model = FakeModel()
    featurizer = TextFeaturizer(second_model, cache_dir=tmp_path)
    second = featurizer(texts + ["delta"])
    assert second_model.encoded == 1 and featurizer.stats["cached"] == 3 and featurizer.stats["computed"] == 1
    np.testing.assert_array_equal(first, second[:4])
    shards = list((tmp_path / featurizer.model_key).glob("shard-*.safetensors"))
    assert len(shards) == 2 and not list(tmp_path.rglob("*.pkl"))
    # different weights, different key: the cache is never shared between models
    other = FakeModel()
    with torch.no_grad():
        other.heads["sentiment"].bias.add_(1.0)
    assert TextFeaturizer(other, cache_dir=tmp_path).model_key != featurizer.model_key


def test_corrupt_cache_shard_is_ignored(tmp_path):
    model = FakeModel()
    featurizer = TextFeaturizer(model, cache_dir=tmp_path)
    featurizer(["alpha"])
    (tmp_path / featurizer.model_key / "shard-broken.safetensors").write_bytes(b"garbage")
    again = TextFeaturizer(FakeModel(), cache_dir=tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again(["alpha"])
    assert again.stats["cached"] == 1 and any("unreadable" in str(w.message) for w in caught)


def test_risk_signal_probabilities_are_appended_when_the_model_has_a_risk_head():
    model = FakeModel()
    model.risk_labels = ["liquidity", "litigation"]
    model.heads["risk"] = torch.nn.Linear(6, 2)
    featurizer = TextFeaturizer(model, cache_dir=False)
    assert featurizer.feature_names[-5:] == ["p_negative", "p_neutral", "p_positive", "risk_liquidity",
                                             "risk_litigation"]
    rows = featurizer(["a", "b"])
    assert rows.shape == (2, 6 + 3 + 2) and ((rows[:, -2:] > 0) & (rows[:, -2:] < 1)).all()
    assert featurizer.model_key != TextFeaturizer(FakeModel(), cache_dir=False).model_key
