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

from ..helpers import FakeModel, make_prices, make_texts

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
    ("volatility_weight", -0.1), ("seed", 1.5),
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
                   "--save-model", str(tmp_path / "fused"), "--n-boot", "20"])
    assert status == 0
    report = json.loads(out.read_text())
    assert set(report["variants"]) == {"fused", "price_only", "text_only", "garch", "ewma", "historical", "majority"}
    for name in ("fused", "price_only", "text_only", "garch", "ewma", "historical"):
        periods = {"test"} | ({"oos_2016_2017"} if name not in ("fused", "text_only") else set())
        for period in periods:
            entry = report["variants"][name][period]
            for level in ("var95", "var99"):
                assert {"breach_rate", "kupiec_p", "christoffersen_ind_p", "christoffersen_cc_p", "pinball"} <= set(
                    entry[level]), name
                assert 0 <= entry[level]["breach_rate"] <= 1
            assert set(entry["qlike"]) == set(entry["mse_var"]) == {"squared_return", "parkinson"}
            if name in ("fused", "price_only", "text_only"):
                assert len(entry["acc"]["ci95"]) == 2 and "value" in entry["mcc"]
        assert "oos_2016_2017" not in report["variants"]["fused"]
    assert {tuple(t["pair"]) for t in report["dm"]} >= {("fused", "price_only"), ("fused", "garch"),
                                                         ("price_only", "garch")}
    assert all({"loss", "statistic", "p_value"} <= set(t) for t in report["dm"])
    perf = report["portfolio"]["test"]["vol_target"]["ewma"]
    assert {"sharpe", "max_drawdown", "ann_return", "ann_vol", "target_vol", "turnover"} <= set(perf)
    assert "negative_share" in report["event_study"]["signals"]
    assert report["data"]["texts_used"] > 0 and report["splits"]["test"] == ["2015-10-01", "2016-01-01"]
    for path in report["plots"].values():
        assert Path(path).is_file() and Path(path).read_bytes()[:4] == b"\x89PNG"
    assert out.with_suffix(".md").read_text().count("| test |") > 5
    assert Forecaster.from_pretrained(tmp_path / "fused").config.variant == "fused"
