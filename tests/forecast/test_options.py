"""``textrisk forecast`` against absurd options, paths that are not its own and too little history: a one-line
error naming the option, the path or the ticker, before any work (never a report of NaN, never a traceback)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from textrisk.cli import main
from textrisk.errors import ConfigError
from textrisk.forecast.portfolio import PortfolioConfig

from ..helpers import make_prices


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forecast_options")
    rows = []
    for ticker, frame in make_prices(("AAA", "BBB"), start="2014-06-01", end="2015-12-31").items():
        rows.append(frame.rename(columns=str.lower).rename(columns={"adj close": "adj_close"}).assign(ticker=ticker))
    short = make_prices(("NEW",), start="2015-12-01", end="2015-12-31")["NEW"]
    rows.append(short.rename(columns=str.lower).rename(columns={"adj close": "adj_close"}).assign(ticker="NEW"))
    prices = pd.concat(rows)[["ticker", "date", "open", "high", "low", "close", "adj_close", "volume"]]
    prices.to_csv(folder / "prices.csv", index=False)
    prices.head(1).to_csv(folder / "one_row.csv", index=False)
    (folder / "notes").mkdir()
    (folder / "notes" / "todo.txt").write_text("keep me\n")
    return folder


def run_cli(*argv):
    return main(["forecast", *[str(a) for a in argv]])


BACKTEST = ["backtest", "--prices", "{f}/prices.csv", "--driver", "ewma", "--start", "2015-09-01", "--out"]


@pytest.mark.parametrize(("argv", "message"), [
    ([*BACKTEST, "{t}/bt.json", "--cost-bp", "nan"], "argument --cost-bp: must be a finite number, got nan"),
    ([*BACKTEST, "{t}/bt.json", "--cost-bp", "-1"], "argument --cost-bp: must be >= 0, got -1.0"),
    ([*BACKTEST, "{t}/bt.json", "--target-vol", "inf"], "argument --target-vol: must be a finite number, got inf"),
    ([*BACKTEST, "{t}/bt.json", "--target-vol", "0"], "argument --target-vol: must be > 0, got 0.0"),
    ([*BACKTEST, "{t}/bt.json", "--var-budget", "nan"], "argument --var-budget: must be a finite number"),
    (["backtest", "--prices", "{f}/prices.csv", "--driver", "ewma", "--start", "notadate", "--out", "{t}/b.json"],
     "argument --start: expected a date YYYY-MM-DD, got 'notadate'"),
    (["predict", "--prices", "{f}/prices.csv", "--model", "{t}", "--out", "{t}/p.csv", "--end", "2015-13-01"],
     "argument --end: expected a date YYYY-MM-DD, got '2015-13-01'"),
    (["train", "--prices", "{f}/prices.csv", "--out", "{t}/m", "--epochs", "0"], "argument --epochs: must be >= 1"),
])
def test_options_are_refused_naming_the_option(files, tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(*[a.format(f=files, t=tmp_path) for a in argv])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["train", "--prices", "{f}/prices.csv", "--out", "{f}/notes"],
     "--out '{f}/notes' holds files that are not a forecaster (todo.txt...); training would overwrite it"),
    (["train", "--prices", "{f}/prices.csv", "--out", "{f}/prices.csv"], "is the --prices file"),
    (["train", "--prices", "{f}/one_row.csv", "--out", "{t}/m"], "too little price history to train: the longest "
                                                                  "ticker has 1 price row(s)"),
    ([*BACKTEST, "{f}/prices.csv"], "--out '{f}/prices.csv' is the --prices file; writing it would destroy it"),
    ([*BACKTEST, "{t}/bt.json", "--plot", "{t}/bt.json"], "--plot '{t}/bt.json' is the --out file"),
])
def test_outputs_and_inputs_are_guarded(files, tmp_path, capsys, argv, message):
    assert run_cli(*[a.format(f=files, t=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message.format(f=files, t=tmp_path) in err and "Traceback" not in err
    assert (files / "notes" / "todo.txt").read_text() == "keep me\n"


def test_a_model_folder_is_never_overwritten_by_training(files, tmp_path, tiny_model_dir, capsys):
    import shutil

    shutil.copytree(tiny_model_dir, tmp_path / "model")
    before = sorted(p.name for p in (tmp_path / "model").iterdir())
    assert run_cli("train", "--prices", files / "prices.csv", "--out", tmp_path / "model") == 2
    assert "holds a 'head' model; training would overwrite it" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == before


def test_tickers_with_too_little_history_are_named_and_the_report_is_valid_json(files, tmp_path, capsys):
    model = tmp_path / "m"
    assert run_cli("train", "--prices", files / "prices.csv", "--out", model, "--epochs", "1") == 0
    assert run_cli("train", "--prices", files / "prices.csv", "--out", model, "--epochs", "1") == 0  # its own folder
    capsys.readouterr()
    assert run_cli("predict", "--prices", files / "prices.csv", "--model", model, "--out", tmp_path / "p.csv") == 0
    assert "warning: no forecasts for NEW: it has 22 price row(s) (2 with complete features)" in capsys.readouterr().err
    assert set(pd.read_csv(tmp_path / "p.csv")["ticker"]) == {"AAA", "BBB"}
    report = tmp_path / "bt.json"
    assert run_cli("backtest", "--prices", files / "prices.csv", "--model", model, "--start", "2015-09-01",
                   "--out", report, "--cost-bp", "0") == 0
    json.loads(report.read_text(), parse_constant=lambda name: pytest.fail(f"{name} in the report"))


@pytest.mark.parametrize(("changes", "message"), [
    ({"cost_bp": math.nan}, "cost_bp must be a finite number, got nan"),
    ({"target_vol": math.inf}, "target_vol must be a finite number, got inf"),
    ({"var_budget": math.nan}, "var_budget must be a finite number"),
    ({"max_weight": 0}, "max_weight must be > 0"),
])
def test_portfolio_config_refuses_non_finite_numbers(changes, message):
    with pytest.raises(ConfigError, match=message):
        PortfolioConfig(**changes)
