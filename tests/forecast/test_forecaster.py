"""Forecaster: config checks, training and prediction, save/load round trip, VaR scoring, the benchmark CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from textrisk.data.datasets import find_data_dir
from textrisk.errors import ConfigError, DataError
from textrisk.forecast import VARIANTS, ForecastConfig, Forecaster, build_dataset
from textrisk.forecast.metrics import kupiec_test, movement_scores, var_backtest
from textrisk.forecast.model import FusionNet

from ..helpers import FakeModel, fake_risk_model, make_prices, make_texts

SMALL = {"train_start": "2015-01-01", "train_end": "2015-08-01", "dev_end": "2015-10-01", "test_end": "2016-01-01",
         "epochs": 2, "hidden_size": 8, "text_size": 8}
STOCKNET = (find_data_dir() or Path("../shared/data")) / "stocknet"  # honours TEXTRISK_DATA_DIR


@pytest.fixture(scope="module")
def ds():
    return build_dataset(make_prices(("AAA", "BBB", "CCC")), make_texts(("AAA", "BBB", "CCC"), start="2014-12-01"),
                         FakeModel(), cache_dir=False)


@pytest.fixture(scope="module")
def fused(ds):
    return Forecaster.train(ds, ForecastConfig(**SMALL))


# ----------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize("field, value", [
    ("variant", "both"), ("window", 0), ("window", "5"), ("dropout", 1.0), ("epochs", 0), ("learning_rate", -1.0),
    ("select_on", "f1"), ("rise_threshold", -0.01), ("train_end", "not a date"), ("dev_end", "2015-07-01"),
    ("volatility_weight", -0.1), ("seed", 1.5), ("text_input", "words"), ("mean_model", "zero"), ("market", 1),
])
def test_config_errors_name_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        ForecastConfig(**{field: value})


def test_config_fields_have_help():
    import dataclasses

    assert all(f.metadata.get("help") for f in dataclasses.fields(ForecastConfig))


# ----------------------------------------------------------------------------------------------- training
@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_trains_and_predicts(ds, variant):
    model = Forecaster.train(ds, ForecastConfig(variant=variant, **SMALL))
    pred = model.predict(ds, start="2015-10-01")
    assert list(pred.columns) == ["ticker", "date", "p_rise", "expected_return", "volatility", "var_95", "var_99",
                                  "risk_level", "realised_return", "label"]
    assert set(pred["risk_level"]) <= {"low", "medium", "high"}
    assert pred["p_rise"].between(0, 1).all() and (pred["volatility"] > 0).all()
    assert (pred["var_99"] > pred["var_95"]).all()
    assert set(pred["label"].dropna().unique()) <= {0.0, 1.0}
    # the grid's last column is the session after the last price: a live forecast with no realised return
    live = pred[pred["date"] == ds.sessions[-1]]
    assert len(live) == 3 and live["realised_return"].isna().all()
    scores = model.evaluate(ds, "test")
    assert 0 <= scores["acc"] <= 1 and scores["n"] > 0 and set(scores["var"]) == {"95", "99"}


def test_training_is_reproducible(ds):
    a = Forecaster.train(ds, ForecastConfig(seed=3, **SMALL)).predict(ds, start="2015-10-01")
    b = Forecaster.train(ds, ForecastConfig(seed=3, **SMALL)).predict(ds, start="2015-10-01")
    pd.testing.assert_frame_equal(a, b)


def test_no_text_days_use_the_learned_vector_not_zeros(ds):
    config = ForecastConfig(variant="text_only", dropout=0.0, **SMALL)
    torch.manual_seed(0)
    net = FusionNet(len(ds.price_feature_names), ds.text.shape[2], config).eval()
    text = torch.zeros(2, 5, ds.text.shape[2])
    has_text = torch.tensor([[True] * 5, [False] * 5])
    price = torch.zeros(2, 5, 0)
    out = net(price, text, has_text)
    assert out["logit"][0] != out["logit"][1]  # all-zero features with text != a day without text
    with torch.no_grad():
        net.no_text.add_(1.0)
    moved = net(price, text, has_text)
    assert moved["logit"][0] == out["logit"][0] and moved["logit"][1] != out["logit"][1]


def test_predicting_on_features_from_another_text_model_raises(fused):
    other = FakeModel(hidden=6)
    with torch.no_grad():
        other.heads["sentiment"].weight.mul_(2)
    ds_other = build_dataset(make_prices(("AAA",)), make_texts(("AAA",)), other, cache_dir=False)
    with pytest.raises(DataError, match="encode with the same model"):
        fused.predict(ds_other)


def test_price_only_model_predicts_on_a_dataset_without_texts(ds):
    model = Forecaster.train(ds, ForecastConfig(variant="price_only", **SMALL))
    plain = build_dataset(make_prices(("AAA", "BBB", "CCC")))
    pd.testing.assert_frame_equal(model.predict(plain), model.predict(ds))


# ----------------------------------------------------------------------------------------------- signals, market
@pytest.fixture(scope="module")
def risky_ds():
    tickers = ("AAA", "BBB", "CCC")
    return build_dataset(make_prices(tickers), make_texts(tickers, start="2014-12-01", per_day=4), fake_risk_model(),
                         cache_dir=False)


@pytest.mark.parametrize("fields", [{"text_input": "signals", "market": True}, {"text_input": "both"},
                                    {"variant": "price_only", "market": True}, {"variant": "text_only",
                                                                                "text_input": "signals"}])
def test_text_signal_and_market_towers_train_save_and_load(risky_ds, tmp_path, fields):
    model = Forecaster.train(risky_ds, ForecastConfig(**{**SMALL, **fields}))
    pred = model.predict(risky_ds, start="2015-10-01")
    assert (pred["volatility"] > 0).all() and (pred["var_99"] > pred["var_95"]).all()
    assert model.meta["signal_features"] == (risky_ds.signal_names if model.config.uses_signals else [])
    assert model.meta["market_features"] == (["market_return", "market_range_variance", "market_dispersion"]
                                             if model.config.market else [])
    model.save_pretrained(tmp_path / "m")
    pd.testing.assert_frame_equal(Forecaster.from_pretrained(tmp_path / "m").predict(risky_ds, start="2015-10-01"),
                                  pred)


def test_signal_model_refuses_a_dataset_with_other_signals(risky_ds):
    model = Forecaster.train(risky_ds, ForecastConfig(text_input="signals", **SMALL))
    model.meta["text_model_key"] = "x"
    plain = build_dataset(make_prices(("AAA",)), make_texts(("AAA",)), FakeModel(), cache_dir=False)
    model.meta["text_model_key"] = plain.text_model_key
    model.meta["text_features"] = plain.text_feature_names
    with pytest.raises(DataError, match="signals"):
        model.predict(plain)


def test_no_forecast_reads_future_texts_or_prices(risky_ds):
    from textrisk.forecast.calendar import session_closes

    tickers = ("AAA", "BBB", "CCC")
    prices, texts = make_prices(tickers), make_texts(tickers, start="2014-12-01", per_day=4)
    model = Forecaster.train(risky_ds, ForecastConfig(text_input="both", market=True, **SMALL))
    cutoff = pd.Timestamp("2015-11-02")
    close = session_closes(cutoff, cutoff + pd.Timedelta(days=1)).iloc[0]
    late_texts = texts.copy()
    after = late_texts["timestamp"] >= close
    late_texts.loc[after, "text"] = "turmoil " + late_texts.loc[after, "text"]
    late_prices = {k: v.copy() for k, v in prices.items()}
    for frame in late_prices.values():
        later = pd.to_datetime(frame["Date"]) > cutoff
        frame.loc[later, ["Open", "High", "Low", "Close", "Adj Close"]] *= 1.5
    changed = build_dataset(late_prices, late_texts, fake_risk_model(), cache_dir=False)
    before, moved = model.predict(risky_ds, start="2015-10-01"), model.predict(changed, start="2015-10-01")
    early = before["date"] <= cutoff + pd.Timedelta(days=1)  # forecast for the next session reads day <= cutoff
    columns = ["p_rise", "expected_return", "volatility", "var_95", "var_99"]
    pd.testing.assert_frame_equal(before.loc[early, columns], moved.loc[early, columns])
    assert not np.allclose(before.loc[~early, "volatility"], moved.loc[~early, "volatility"])


# ----------------------------------------------------------------------------------------------- mean, text effect
def test_constant_mean_model_has_one_expected_return(risky_ds):
    constant = Forecaster.train(risky_ds, ForecastConfig(**SMALL)).predict(risky_ds, start="2015-10-01")
    assert constant["expected_return"].nunique() == 1 and abs(constant["expected_return"].iloc[0]) < 0.01
    conditional = Forecaster.train(risky_ds, ForecastConfig(mean_model="conditional", **SMALL))
    assert conditional.predict(risky_ds, start="2015-10-01")["expected_return"].nunique() > 1


def test_a_forecaster_saved_without_a_mean_model_loads_as_conditional(risky_ds, tmp_path):
    model = Forecaster.train(risky_ds, ForecastConfig(mean_model="conditional", **SMALL))
    model.save_pretrained(tmp_path / "old")
    path = tmp_path / "old" / "textrisk_config.json"
    saved = json.loads(path.read_text())
    del saved["config"]["mean_model"], saved["config"]["text_input"], saved["config"]["market"]
    path.write_text(json.dumps(saved))
    again = Forecaster.from_pretrained(tmp_path / "old")
    assert again.config.mean_model == "conditional"
    pd.testing.assert_frame_equal(again.predict(risky_ds), model.predict(risky_ds))


def test_text_effect_is_the_forecast_minus_the_no_text_forecast(risky_ds):
    model = Forecaster.train(risky_ds, ForecastConfig(text_input="both", mean_model="conditional", **SMALL))
    pred = model.predict(risky_ds, start="2015-10-01", text_effect=True)
    effects = [f"text_effect_{c}" for c in ("expected_return", "volatility", "var_95", "var_99")]
    assert set(effects) <= set(pred.columns) and (pred[effects].abs().sum() > 0).all()
    with torch.no_grad():  # a text tower whose LSTM outputs zeros whatever it reads: the texts add nothing
        for weight in model.net.text_rnn.parameters():
            weight.zero_()
    silent = model.predict(risky_ds, start="2015-10-01", text_effect=True)
    np.testing.assert_allclose(silent[effects].to_numpy(), 0.0, atol=1e-12)
    price_only = Forecaster.train(risky_ds, ForecastConfig(variant="price_only", **SMALL))
    assert not any(c.startswith("text_effect") for c in price_only.predict(risky_ds, text_effect=True).columns)


# ----------------------------------------------------------------------------------------------- metrics
def test_movement_scores():
    scores = movement_scores(np.array([1, 0, 1, 0]), np.array([0.9, 0.2, 0.4, 0.6]))
    assert scores == {"acc": 0.5, "mcc": 0.0, "n": 4}
    assert movement_scores(np.array([1, 0, 1]), np.full(3, 0.7))["mcc"] == 0.0  # constant prediction


@pytest.mark.parametrize("breaches, n, level, expected_lr", [
    (5, 100, 0.95, 0.0),  # exactly nominal
    (0, 250, 0.99, -2 * 250 * np.log(0.99)),
    (10, 250, 0.99, -2 * (240 * np.log(0.99) + 10 * np.log(0.01)) + 2 * (240 * np.log(0.96) + 10 * np.log(0.04))),
])
def test_kupiec_statistic(breaches, n, level, expected_lr):
    result = kupiec_test(breaches, n, level)
    assert result["lr"] == pytest.approx(expected_lr, abs=1e-9)
    assert 0 <= result["p_value"] <= 1


def test_var_backtest_counts_breaches():
    realised = np.array([-0.05, 0.01, -0.01, np.nan, -0.03])
    result = var_backtest(realised, np.full(5, 0.02), 0.95)
    assert result["breaches"] == 2 and result["n"] == 4 and result["breach_rate"] == 0.5


# ----------------------------------------------------------------------------------------------- StockNet
@pytest.mark.filterwarnings("ignore:no fine-tuned default model")
@pytest.mark.skipif(not (STOCKNET / "price" / "raw").is_dir(), reason=f"StockNet data not found at {STOCKNET}")
def test_benchmark_cli_on_a_few_stocknet_tickers(tmp_path):
    from benchmarks.forecast.bench import main

    out = tmp_path / "bench.json"
    status = main(["--data", str(STOCKNET), "--out", str(out), "--seeds", "2", "--epochs", "2",
                   "--tickers", "BCH", "BSAC", "PICO", "CODI", "--cache-dir", str(tmp_path / "cache"), "--no-progress",
                   "--save-model", str(tmp_path / "text"), "--n-boot", "20", "--lstms", "lstm_market", "lstm_text",
                   "--overlay-drivers", "ewma", "lstm_text"])
    assert status == 0
    report = json.loads(out.read_text())
    baselines = {"garch", "gjr_garch", "egarch", "har", "har_x", "garch_x", "ewma", "historical"}
    assert set(report["variants"]) == baselines | {"lstm_market", "lstm_text", "majority"}
    with_text = {"lstm_text", "har_x", "garch_x"}
    for name in baselines | {"lstm_market", "lstm_text"}:
        periods = {"test", "rolling"} | ({"oos_2016_2017"} if name not in with_text else set())
        assert periods <= set(report["variants"][name]), name
        for period in periods:
            entry = report["variants"][name][period]
            for level in ("var95", "var99"):
                assert {"breach_rate", "kupiec_p", "christoffersen_cc_p", "dq_p", "pinball"} <= set(entry[level])
                assert 0 <= entry[level]["breach_rate"] <= 1
            assert set(entry["qlike"]) == set(entry["mse_var"]) == {"squared_return", "parkinson"}
        assert "oos_2016_2017" not in report["variants"][name] or name not in with_text
    seeds = report["variants"]["lstm_text"]["seeds"]
    assert len(seeds["runs"]) == 2 * len(report["origins"]) and len(seeds["seeds_rolling"]) == 2
    assert report["periods"]["rolling"] == ["2014-10-01", "2016-01-01"]
    pairs = {tuple(t["pair"]) for t in report["dm"]}
    assert {("lstm_text", "lstm_market"), ("har_x", "har"), ("garch_x", "gjr_garch"),
            ("lstm_text", "gjr_garch")} <= pairs
    mcs = report["mcs"]["rolling"]["qlike"]
    assert set(mcs["included"]) | set(mcs["excluded"]) == baselines | {"lstm_market", "lstm_text"}
    power = report["power"]
    assert any(t["pair"] == ["har_x", "har"] and t["mde"] > 0 for t in power["tests"])
    assert {y["signal"] for y in power["yardstick"]} >= {"text_count", "abnormal_count"}
    assert set(report["portfolio"]["test"]["vol_target"]) == {"ewma", "lstm_text"}
    assert "abnormal_count" in report["event_study"]["signals"]
    assert report["signal_names"][:2] == ["text_count", "abnormal_count"] and report["data"]["texts_used"] > 0
    for path in report["plots"].values():
        assert Path(path).is_file() and Path(path).read_bytes()[:4] == b"\x89PNG"
    tables = out.with_suffix(".md").read_text()
    assert tables.count("| rolling |") > 10 and "Model confidence set" in tables and "Power" in tables
    assert Forecaster.from_pretrained(tmp_path / "text").config.text_input == "signals"
