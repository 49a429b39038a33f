"""``textrisk forecast train|predict|backtest`` on tiny CSV / JSONL files, and its input errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from textrisk.cli import main

from ..helpers import make_prices, make_texts

TICKERS = ("AAA", "BBB", "CCC")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forecast_cli")
    rows = []
    for ticker, frame in make_prices(TICKERS, start="2014-01-01", end="2015-12-31").items():
        rows.append(frame.rename(columns=str.lower).rename(columns={"adj close": "adj_close"}).assign(ticker=ticker))
    prices = pd.concat(rows)[["ticker", "date", "open", "high", "low", "close", "adj_close", "volume"]]
    prices.to_csv(folder / "prices.csv", index=False)
    texts = make_texts(TICKERS, start="2015-01-01")
    with open(folder / "texts.jsonl", "w", encoding="utf-8") as handle:
        for ticker, stamp, text in texts.itertuples(index=False):
            handle.write(json.dumps({"ticker": ticker, "timestamp": stamp.isoformat(), "text": text}) + "\n")
    return folder


def run_cli(*argv):
    return main(["forecast", *[str(a) for a in argv]])


def test_train_predict_backtest_price_only(files, tmp_path, capsys):
    model = tmp_path / "model"
    assert run_cli("train", "--prices", files / "prices.csv", "--out", model, "--epochs", "2") == 0
    printed = capsys.readouterr().out
    assert "trained price_only" in printed and "VaR95 breaches" in printed and "VaR99 breaches" in printed
    out = tmp_path / "pred.csv"
    assert run_cli("predict", "--model", model, "--prices", files / "prices.csv", "--out", out,
                   "--start", "2015-11-01") == 0
    pred = pd.read_csv(out)
    assert list(pred.columns) == ["ticker", "date", "p_rise", "expected_return", "volatility", "var_95", "var_99",
                                  "risk_level", "realised_return"]
    assert set(pred["ticker"]) == set(TICKERS) and set(pred["risk_level"]) <= {"low", "medium", "high"}
    assert pred["date"].min() >= "2015-11-01" and pred["realised_return"].isna().sum() == len(TICKERS)  # live day
    assert (pred["var_99"] > pred["var_95"]).all() and pred["p_rise"].between(0, 1).all()
    report = tmp_path / "bt.json"
    assert run_cli("backtest", "--model", model, "--prices", files / "prices.csv", "--start", "2015-09-01",
                   "--out", report, "--plot", tmp_path / "bt.png") == 0
    summary = json.loads(report.read_text())
    assert {"sharpe", "max_drawdown", "ann_return", "ann_vol", "target_vol", "turnover"} <= set(summary["overlay"])
    assert (tmp_path / "bt.png").read_bytes()[:4] == b"\x89PNG"
    assert run_cli("backtest", "--driver", "ewma", "--prices", files / "prices.csv", "--start", "2015-03-01",
                   "--strategy", "risk_parity", "--out", report) == 0
    assert json.loads(report.read_text())["driver"] == "ewma"


def test_train_and_predict_with_texts(files, tmp_path, tiny_model_dir):
    model = tmp_path / "fused"
    common = ["--prices", files / "prices.csv", "--texts", files / "texts.jsonl", "--text-model", tiny_model_dir,
              "--cache-dir", tmp_path / "cache"]
    assert run_cli("train", *common, "--out", model, "--epochs", "1", "--train-end", "2015-07-01",
                   "--dev-end", "2015-10-01", "--text-input", "both", "--market", "--select-on", "loss") == 0
    config = json.loads((model / "textrisk_config.json").read_text())["config"]
    assert (config["variant"], config["text_input"], config["market"], config["select_on"]) == (
        "fused", "both", True, "loss")
    assert run_cli("predict", "--model", model, *common, "--out", tmp_path / "p.csv") == 0
    pred = pd.read_csv(tmp_path / "p.csv")
    assert len(pred) > 100 and {"text_effect_volatility", "text_effect_var_99"} <= set(pred.columns)
    # a text forecaster without texts is a user error
    assert run_cli("predict", "--model", model, "--prices", files / "prices.csv", "--out", tmp_path / "q.csv") == 2


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("content, message", [
    ("ticker,date,open,high,low,close\nA,2015-01-02,1,1,1,1\n", "missing column(s) ['volume']"),
    ("ticker,date,open,high,low,close,volume\nA,2015-01-02,1,1,1,1,5\nA,02/01/2015,1,1,1,1,5\n",
     "line 3: field 'date'"),
    ("ticker,date,open,high,low,close,volume\nA,2015-01-02,1,x,1,1,5\n", "line 2: field 'high'"),
    ("ticker,date,open,high,low,close,volume\nA,2015-01-02,1,1,1,-1,5\n", "'close' is NaN or <= 0"),
])
def test_bad_prices_are_named(tmp_path, capsys, content, message):
    path = _write(tmp_path / "bad.csv", content)
    assert run_cli("train", "--prices", path, "--out", tmp_path / "m") == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("content, message", [
    ('{"ticker": "AAA", "timestamp": "2015-03-02T15:00:00+00:00", "text": "ok"}\n{not json}\n',
     "line 2: not valid JSON"),
    ('{"ticker": "AAA", "text": "no time"}\n', "line 1: field 'timestamp'"),
    ('["AAA", "2015-03-02T15:00:00+00:00", "x"]\n', "line 1: expected a JSON object"),
    ('{"ticker": "AAA", "timestamp": "2015-03-02 15:00", "text": "naive"}\n',
     "line 1: field 'timestamp' is '2015-03-02 15:00' with no UTC offset"),
    ('{"ticker": "ZZZ", "timestamp": "2015-03-02T15:00:00+00:00", "text": "x"}\n', "without prices"),
])
def test_bad_texts_are_named(files, tmp_path, capsys, tiny_model_dir, content, message):
    path = _write(tmp_path / "bad.jsonl", content)
    assert run_cli("train", "--prices", files / "prices.csv", "--texts", path, "--text-model", tiny_model_dir,
                   "--cache-dir", tmp_path / "cache", "--out", tmp_path / "m") == 2
    assert message in capsys.readouterr().err


def test_backtest_dates_outside_the_data(files, tmp_path, capsys):
    assert run_cli("backtest", "--driver", "historical", "--prices", files / "prices.csv", "--start", "2019-01-01",
                   "--out", tmp_path / "x.json") == 2
    assert "no forecasts" in capsys.readouterr().err
