"""``textrisk forecast evaluate``: scores of predictions CSVs (ours or a user's), comparisons across files, and
input errors named by file, line and field."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from textrisk.cli import main
from textrisk.forecast import build_dataset
from textrisk.forecast.baselines import baseline_forecast

from ..helpers import make_prices

TICKERS = ("AAA", "BBB")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("evaluate")
    prices = make_prices(TICKERS, start="2014-01-01", end="2015-12-31")
    rows = [frame.rename(columns=str.lower).rename(columns={"adj close": "adj_close"}).assign(ticker=ticker)
            for ticker, frame in prices.items()]
    pd.concat(rows)[["ticker", "date", "open", "high", "low", "close", "adj_close", "volume"]].to_csv(
        folder / "prices.csv", index=False)
    ds = build_dataset(prices)
    for name in ("ewma", "historical"):
        frame = baseline_forecast(name, ds, None, start="2015-01-01")
        frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d")).to_csv(folder / f"{name}.csv", index=False)
    return folder


def run_cli(*argv):
    return main(["forecast", *[str(a) for a in argv]])


def test_evaluate_one_file_with_its_realised_returns(files, tmp_path, capsys):
    out = tmp_path / "report.json"
    assert run_cli("evaluate", "--predictions", files / "ewma.csv", "--out", out) == 0
    printed = capsys.readouterr().out
    assert "VaR95 breach" in printed and "Kupiec p" in printed and "DQ p" in printed and "ewma" in printed
    report = json.loads(out.read_text())
    scores = report["forecasts"]["ewma"]
    frame = pd.read_csv(files / "ewma.csv")
    assert scores["n"] == len(frame) == report["scored_pairs"]
    breaches = (frame["realised_return"] < -frame["var_95"]).mean()
    assert scores["var95"]["breach_rate"] == pytest.approx(breaches)
    assert {"kupiec_p", "christoffersen_cc_p", "dq_p", "pinball"} <= set(scores["var99"])
    assert set(scores["qlike"]) == {"squared_return"}  # no prices: no Parkinson range


def test_evaluate_several_files_against_prices(files, tmp_path, capsys):
    own = pd.read_csv(files / "ewma.csv")[["ticker", "date", "var_99"]]  # a user's file: VaR99 only
    own.to_csv(tmp_path / "mine.csv", index=False)
    out = tmp_path / "report.json"
    assert run_cli("evaluate", "--predictions", files / "ewma.csv", files / "historical.csv", tmp_path / "mine.csv",
                   "--prices", files / "prices.csv", "--start", "2015-06-01", "--out", out) == 0
    report = json.loads(out.read_text())
    assert set(report["forecasts"]) == {"ewma", "historical", "mine"}
    assert set(report["forecasts"]["ewma"]["qlike"]) == {"squared_return", "parkinson"}
    assert "var95" not in report["forecasts"]["mine"] and "qlike" not in report["forecasts"]["mine"]
    assert report["forecasts"]["mine"]["var99"] == report["forecasts"]["ewma"]["var99"]
    pairs = {(tuple(t["pair"]), t["loss"]) for t in report["dm"]}
    assert (("historical", "ewma"), "qlike") in pairs and (("mine", "ewma"), "pinball_99") in pairs
    assert (("mine", "ewma"), "qlike") not in pairs
    assert set(report["mcs"]["pinball_99"]["included"]) | set(report["mcs"]["pinball_99"]["excluded"]) == {
        "ewma", "historical", "mine"}
    assert "Diebold-Mariano" in capsys.readouterr().out


@pytest.mark.parametrize("content, message", [
    ("ticker,date,volatility\nAAA,2015-03-02,0.01\n", "missing column(s) ['realised_return']"),
    ("ticker,date,realised_return\nAAA,2015-03-02,0.01\n", "no forecast column"),
    ("ticker,date,var_95,realised_return\nAAA,2015-03-02,0.02,0.01\nAAA,03/03/2015,0.02,0.0\n", "line 3: field 'date'"),
    ("ticker,date,var_95,realised_return\nAAA,2015-03-02,abc,0.01\n", "line 2: field 'var_95'"),
    ("ticker,date,var_95,realised_return\nAAA,2015-03-02,inf,0.01\n", "line 2: field 'var_95'"),
    ("ticker,date,volatility,realised_return\nAAA,2015-03-02,-0.01,0.01\n", "'volatility' is negative"),
    ("ticker,date,var_95,realised_return\nAAA,2015-03-02,0.02,0.01\nAAA,2015-03-02,0.02,0.01\n",
     "line 3: a second prediction"),
])
def test_bad_predictions_are_named(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    assert run_cli("evaluate", "--predictions", path) == 2
    err = capsys.readouterr().err
    assert message in err and "bad.csv" in err


def test_evaluate_with_no_realised_return_is_a_user_error(files, tmp_path, capsys):
    frame = pd.read_csv(files / "ewma.csv").assign(realised_return=np.nan)
    frame.to_csv(tmp_path / "future.csv", index=False)
    assert run_cli("evaluate", "--predictions", tmp_path / "future.csv") == 2
    assert "no (ticker, date) forecast has a realised return" in capsys.readouterr().err


def test_evaluate_never_writes_over_an_input(files, tmp_path, capsys):
    copy = tmp_path / "ewma.csv"
    copy.write_text((files / "ewma.csv").read_text())
    assert run_cli("evaluate", "--predictions", copy, "--out", copy) == 2
    assert "--predictions" in capsys.readouterr().err
    assert copy.read_text() == (files / "ewma.csv").read_text()
