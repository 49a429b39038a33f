"""``textrisk forecast train|predict|backtest|evaluate``: the forecaster on a user's own prices (CSV) and texts
(JSONL), and risk scores of any predictions CSV.

* prices CSV: a header with ``ticker,date,open,high,low,close,volume`` (optionally ``adj_close``), one row per
  ticker and session;
* texts JSONL: one object per line with ``ticker``, ``timestamp`` (ISO 8601 with an offset) and ``text``.

``train`` fits a forecaster and saves it; ``predict`` writes a CSV of ``ticker, date, p_rise, expected_return,
volatility, var_95, var_99, risk_level`` (plus ``realised_return`` where known, and for a text-reading forecaster
``text_effect_<column>``: what the texts added to each prediction); ``backtest`` runs the portfolio overlay
driven by a saved forecaster or a price-only baseline (``PRICE_BASELINES``) against equal-weight
buy-and-hold and writes a JSON summary (and a PNG of equity curves and drawdowns); ``evaluate`` scores
predictions CSVs (``evaluation.py``: VaR coverage with Kupiec, Christoffersen and dynamic-quantile tests,
pinball loss, QLIKE; Diebold-Mariano and the model confidence set across files).
The module top imports only the standard library; the work happens in :func:`run`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..utils.args import day, integer, number

__all__ = ["add_arguments", "read_prices_csv", "read_texts_jsonl", "run"]

PRICE_COLUMNS = ("ticker", "date", "open", "high", "low", "close", "volume")
PREDICTION_COLUMNS = ("ticker", "date", "p_rise", "expected_return", "volatility", "var_95", "var_99", "risk_level",
                      "realised_return")
#: The baselines that need prices only (``baselines.BASELINES`` less the text ones; kept here so that building the
#: parser imports nothing heavy).
PRICE_BASELINES = ("ewma", "garch", "gjr_garch", "egarch", "har", "historical")
TEXT_EFFECT_COLUMNS = tuple(f"text_effect_{c}" for c in ("expected_return", "volatility", "var_95", "var_99"))


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``train``, ``predict``, ``backtest`` and ``evaluate`` sub-commands."""
    sub = parser.add_subparsers(dest="forecast_command", required=True)

    def inputs(p: argparse.ArgumentParser, texts: bool = True) -> None:
        p.add_argument("--prices", required=True, help="CSV: ticker,date,open,high,low,close,volume[,adj_close].")
        if texts:
            p.add_argument("--texts", default=None, help="JSONL: one {ticker, timestamp, text} object per line.")
            p.add_argument("--text-model", default=None,
                           help="Text model folder (default: the embedded default model).")
            p.add_argument("--cache-dir", default=None, help="Embedding cache (default ~/.cache/textrisk/embeddings).")

    train = sub.add_parser("train", help="fit a forecaster on your prices (and texts) and save it")
    inputs(train)
    train.add_argument("--out", required=True, help="Folder to save the forecaster in.")
    train.add_argument("--variant", default=None, choices=("fused", "price_only", "text_only"),
                       help="Default: fused with --texts, else price_only.")
    train.add_argument("--train-end", type=day, default=None,
                       help="Train/dev boundary date (default: at 70%% of the dates).")
    train.add_argument("--dev-end", type=day, default=None,
                       help="Dev/test boundary date (default: at 85%% of the dates).")
    train.add_argument("--epochs", type=integer(ge=1, le=100_000), default=30, help="Maximum epochs (default 30).")
    train.add_argument("--seed", type=integer(ge=0), default=0, help="Seed (default 0).")
    train.add_argument("--text-input", default="embedding", choices=("embedding", "signals", "both"),
                       help="What the text tower reads per day: the mean text embedding and sentiment, the daily "
                            "text signals (counts, abnormal volume, novelty, negative share, risk and event counts) "
                            "or both (default embedding).")
    train.add_argument("--market", action="store_true",
                       help="Add a market tower over all the tickers in --prices (predict on the same tickers).")
    train.add_argument("--select-on", default="mcc", choices=("mcc", "acc", "loss"),
                       help="Dev score picking the epoch: movement MCC or accuracy, or the loss (the return "
                            "distribution's likelihood: for a VaR and volatility model). Default mcc.")

    predict = sub.add_parser("predict", help="write forecasts (p_rise, volatility, VaR, risk level) as CSV")
    inputs(predict)
    predict.add_argument("--model", required=True, help="Forecaster folder written by `forecast train`.")
    predict.add_argument("--out", required=True, help="Predictions CSV to write.")
    predict.add_argument("--start", type=day, default=None, help="First target date (default: all).")
    predict.add_argument("--end", type=day, default=None,
                         help="End target date, exclusive (default: through the next session).")

    backtest = sub.add_parser("backtest", help="portfolio overlay driven by a forecaster or a baseline")
    inputs(backtest)
    driver = backtest.add_mutually_exclusive_group(required=True)
    driver.add_argument("--model", help="Forecaster folder driving the overlay.")
    driver.add_argument("--driver", choices=PRICE_BASELINES, help="A baseline driving the overlay.")
    backtest.add_argument("--start", type=day, required=True, help="First session of the backtest.")
    backtest.add_argument("--end", type=day, default=None,
                          help="End session, exclusive (default: after the last price).")
    backtest.add_argument("--strategy", default="vol_target", choices=("vol_target", "min_variance", "risk_parity"))
    backtest.add_argument("--mode", default="long_only", choices=("long_only", "long_short"))
    backtest.add_argument("--target-vol", type=number(gt=0, le=5), default=0.10,
                          help="Annualised volatility target, 0 < v <= 5 (0.10).")
    backtest.add_argument("--cost-bp", type=number(ge=0, le=10_000), default=5.0,
                          help="Cost per unit of turnover in bp, 0 .. 10000 (5).")
    backtest.add_argument("--var-budget", type=number(gt=0, le=1), default=None,
                          help="Cap on the book's one-day 99%% VaR, a fraction of capital in (0, 1].")
    backtest.add_argument("--out", required=True, help="JSON summary to write.")
    backtest.add_argument("--plot", default=None, help="PNG of equity curves and drawdowns.")

    evaluate = sub.add_parser(
        "evaluate", help="VaR coverage (Kupiec, Christoffersen, DQ), pinball and QLIKE of predictions CSVs",
        description="Score predictions (`forecast predict` output or your own: ticker, date and any of volatility, "
                    "var_95, var_99) against realised returns; with several files also Diebold-Mariano against the "
                    "first and the model confidence set. Example: textrisk forecast evaluate --predictions "
                    "ours.csv garch.csv --prices prices.csv --start 2015-10-01")
    evaluate.add_argument("--predictions", nargs="+", required=True,
                          help="Predictions CSV(s): ticker, date and any of volatility, var_95, var_99 (VaR as a "
                               "positive loss fraction), plus realised_return unless --prices is given.")
    evaluate.add_argument("--prices", default=None,
                          help="Prices CSV (as for train): realised returns and the Parkinson range come from it.")
    evaluate.add_argument("--start", type=day, default=None, help="First forecast date scored (default: all).")
    evaluate.add_argument("--end", type=day, default=None, help="End forecast date, exclusive (default: all).")
    evaluate.add_argument("--out", default=None, help="Also write the full report as JSON here.")
    return parser


def read_prices_csv(path: str | os.PathLike) -> dict[str, Any]:
    """ticker -> OHLCV frame from a long CSV; errors name the file, line and field.

    Raises:
        InputError: unreadable file, missing column, or an unparseable date or number.
    """
    import numpy as np
    import pandas as pd

    from ..errors import InputError
    from .csv_files import parse_dates, read_table

    frame = read_table(path, "price", PRICE_COLUMNS, hint=f"; expected {','.join(PRICE_COLUMNS)}")
    dates = parse_dates(frame, path)
    numeric = [c for c in ("open", "high", "low", "close", "adj_close", "volume") if c in frame.columns]
    for column in numeric:
        values = pd.to_numeric(frame[column], errors="coerce")
        for i in np.flatnonzero(values.isna())[:1]:
            raise InputError(f"{path} line {i + 2}: field {column!r} is {frame[column].iloc[i]!r}, not a number")
        frame[column] = values
    for i in np.flatnonzero(frame["ticker"].str.strip() == "")[:1]:
        raise InputError(f"{path} line {i + 2}: field 'ticker' is empty")
    frame["date"] = dates
    return {ticker: group.drop(columns="ticker").reset_index(drop=True)
            for ticker, group in frame.groupby(frame["ticker"].str.strip(), sort=True)}


def read_texts_jsonl(path: str | os.PathLike) -> list[tuple[str, str, str]]:
    """``(ticker, timestamp, text)`` rows from a JSONL file; errors name the file, line and field.

    Raises:
        InputError: unreadable file, or a missing / non-string field.
        DataError: a line that is not valid JSON or not a JSON object.
    """
    from ..data.datasets import read_jsonl_rows
    from ..data.timestamps import parse_timestamp
    from ..errors import InputError

    rows = []
    try:
        for number, item in read_jsonl_rows(Path(path)):  # invalid JSON / non-objects: DataError naming file and line
            for field in ("ticker", "timestamp", "text"):
                if not isinstance(item.get(field), str) or not item[field].strip():
                    raise InputError(f"{path} line {number}: field {field!r} is missing or not a non-empty string")
            parse_timestamp(item["timestamp"], f"{path} line {number}")  # the timestamp policy, naming the line
            rows.append((item["ticker"].strip(), item["timestamp"], item["text"]))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the texts JSONL: {exc}") from exc
    if not rows:
        raise InputError(f"{path}: no text rows")
    return rows


def _dataset(args: argparse.Namespace, needs_text: bool):
    from .dataset import build_dataset
    from .text import load_text_model

    prices = read_prices_csv(args.prices)
    texts = read_texts_jsonl(args.texts) if getattr(args, "texts", None) else None
    if needs_text and texts is None:
        from ..errors import InputError

        raise InputError("this forecaster reads texts: pass --texts")
    if texts is None or not needs_text:
        return build_dataset(prices)
    model, _ = load_text_model(args.text_model)
    return build_dataset(prices, texts, model, cache_dir=args.cache_dir)


def _default_split(ds, share: float) -> str:
    dates = ds.sessions[ds.has_price.any(axis=0)]
    return str(dates[int(len(dates) * share)].date())


def _is_forecaster(folder: Path) -> str | None:
    """The ``owned`` check of ``forecast train --out``: None for a forecaster folder, else why it is refused."""
    from ..errors import ModelLoadError
    from ..models.hub import read_model_config

    try:
        kind, _ = read_model_config(folder)
    except ModelLoadError:
        kind = None
    if kind == "forecaster":
        return None
    names = ", ".join(sorted(p.name for p in folder.iterdir())[:3])
    what = f"a {kind!r} model" if kind else f"files that are not a forecaster ({names}...)"
    return f"holds {what}; training would overwrite it: use a new or empty folder, or one holding a forecaster"


def _guard(args: argparse.Namespace, option: str, folder: bool = False) -> Path:
    """The output path guard (:func:`textrisk.utils.outputs.guard_output`) for ``option``, before any work."""
    from ..utils.outputs import guard_output

    inputs = {"--prices": args.prices, "--texts": getattr(args, "texts", None), "--model": getattr(args, "model", None),
              "--predictions": getattr(args, "predictions", None)}
    if option == "--plot":
        inputs["--out"] = args.out
    return guard_output(getattr(args, option[2:]), option, inputs=inputs, folder=folder,
                        owned=_is_forecaster if folder else None)


def _history_check(ds: Any, window: int, forecast: Any | None = None) -> None:
    """Name the tickers with too little price history for a forecast (``forecast``: the tickers it lacks, on
    stderr; else the dataset itself must hold enough history to train on)."""
    import numpy as np

    from ..errors import InputError
    from .constants import PRICE_WARMUP

    usable = np.isfinite(ds.price).all(axis=2).sum(axis=1)
    rows = ds.has_price.sum(axis=1)
    need = f"{window} sessions of complete price features, i.e. at least {window + PRICE_WARMUP} price rows"
    if forecast is None:
        if usable.max(initial=0) < window + 3:
            raise InputError(f"too little price history to train: the longest ticker has {int(rows.max(initial=0))} "
                             f"price row(s); the forecaster needs {need} and a few more for train, dev and test")
        return
    missing = sorted(set(ds.tickers) - set(forecast["ticker"]))
    for ticker in missing:
        i = list(ds.tickers).index(ticker)
        print(f"warning: no forecasts for {ticker}: it has {int(rows[i])} price row(s) ({int(usable[i])} with "
              f"complete features) in the period; a forecast needs {need} before the target day", file=sys.stderr)


def _train(args: argparse.Namespace) -> int:
    import pandas as pd

    from .constants import VAR_LEVELS
    from .forecaster import Forecaster
    from .model import ForecastConfig
    from .var_tests import var_coverage

    _guard(args, "--out", folder=True)
    variant = args.variant or ("fused" if args.texts else "price_only")
    ds = _dataset(args, needs_text=variant != "price_only")
    _history_check(ds, ForecastConfig().window)
    first, last = ds.sessions[0], ds.sessions[-1]
    config = ForecastConfig(variant=variant, epochs=args.epochs, seed=args.seed, text_input=args.text_input,
                            market=args.market, select_on=args.select_on, train_start=str(first.date()),
                            train_end=args.train_end or _default_split(ds, 0.70),
                            dev_end=args.dev_end or _default_split(ds, 0.85),
                            test_end=str((last + pd.Timedelta(days=1)).date()))
    model = Forecaster.train(ds, config)
    model.save_pretrained(args.out)
    dev = model.meta["dev"]
    coverage = [var_coverage(model.predict(ds, config.train_end, config.dev_end), level) for level in VAR_LEVELS]
    var_text = ", ".join(f"VaR{round(level * 100)} breaches {c['breach_rate']:.2%} (nominal {1 - level:.0%}, Kupiec p "
                         f"{c['kupiec_p']:.3f})" for level, c in zip(VAR_LEVELS, coverage))
    print(f"trained {variant} on {len(ds.tickers)} ticker(s): best epoch {model.meta['best_epoch']}; dev "
          f"({config.train_end} .. {config.dev_end}): {var_text}, loss {dev['dev_loss']:.4f}, movement acc "
          f"{dev['dev_acc']:.4f}, MCC {dev['dev_mcc']:.4f}; saved to {args.out}")
    return 0


def _load(args: argparse.Namespace):
    from .forecaster import Forecaster

    model = Forecaster.from_pretrained(args.model)
    return model, _dataset(args, needs_text=model.config.uses_text)


def _predict(args: argparse.Namespace) -> int:
    from ..utils.atomic import atomic_write_text

    _guard(args, "--out")
    model, ds = _load(args)
    pred = model.predict(ds, args.start, args.end, text_effect=model.config.uses_text)
    _history_check(ds, model.config.window, pred)
    frame = pred[[c for c in (*PREDICTION_COLUMNS, *TEXT_EFFECT_COLUMNS) if c in pred.columns]].copy()
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
    atomic_write_text(args.out, frame.to_csv(index=False))
    print(f"wrote {len(frame)} forecasts for {frame['ticker'].nunique()} ticker(s) to {args.out}")
    return 0


def _backtest(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..errors import InputError
    from ..utils.atomic import atomic_write_json
    from .backtest import buy_and_hold, run_overlay
    from .baselines import baseline_forecast
    from .plots import plot_equity
    from .portfolio import PortfolioConfig

    _guard(args, "--out")
    if args.plot:
        _guard(args, "--plot")
    if args.model:
        model, ds = _load(args)
        forecast, driver = model.predict(ds, args.start, args.end), f"forecaster {args.model}"
        _history_check(ds, model.config.window, forecast)
    else:
        ds = _dataset(args, needs_text=False)
        forecast, driver = baseline_forecast(args.driver, ds, args.start, start=args.start, end=args.end), args.driver
    end = args.end or str((ds.sessions[-1] + pd.Timedelta(days=1)).date())
    if not (pd.Timestamp(args.start) < pd.Timestamp(end)) or forecast.empty:
        raise InputError(f"no forecasts between --start {args.start} and {end}; check the dates against the prices "
                         f"({ds.sessions[0].date()} .. {ds.sessions[-1].date()})")
    config = PortfolioConfig(strategy=args.strategy, mode=args.mode, target_vol=args.target_vol, cost_bp=args.cost_bp,
                             var_budget=args.var_budget)
    overlay = run_overlay(forecast, ds, args.start, end, config)
    hold = buy_and_hold(ds, args.start, end, cost_bp=args.cost_bp)
    report = {"driver": driver, "config": vars(config), "period": [args.start, end],
              "overlay": overlay.summary(), "buy_and_hold": hold.summary()}
    if args.plot:
        report["plot"] = str(plot_equity({f"{args.strategy} ({driver})": overlay.returns,
                                          "equal-weight buy and hold": hold.returns}, args.plot))
    atomic_write_json(Path(args.out), report)
    o, h = report["overlay"], report["buy_and_hold"]
    print(f"{args.strategy}: ann. return {o['ann_return']:.2%}, vol {o['ann_vol']:.2%} (target {args.target_vol:.0%}), "
          f"Sharpe {o['sharpe']:.2f}, max drawdown {o['max_drawdown']:.2%}; buy and hold: {h['ann_return']:.2%}, "
          f"vol {h['ann_vol']:.2%}, max drawdown {h['max_drawdown']:.2%}; wrote {args.out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from ..utils.atomic import atomic_write_json
    from .dataset import build_dataset
    from .evaluation import evaluate_predictions, format_evaluation, predictions_names, read_predictions_csv

    if args.out:
        _guard(args, "--out")
    ds = build_dataset(read_prices_csv(args.prices)) if args.prices else None
    frames = {name: read_predictions_csv(path, need_realised=ds is None)
              for name, path in predictions_names(args.predictions).items()}
    report = evaluate_predictions(frames, ds, args.start, args.end)
    if report["scored_pairs"] == 0:
        from ..errors import InputError

        raise InputError("no (ticker, date) forecast has a realised return" + (
            " in every file" if len(frames) > 1 else "") + "; check the dates, --start/--end and the prices")
    print(format_evaluation(report))
    if args.out:
        atomic_write_json(Path(args.out), report)
        print(f"wrote {args.out}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Dispatch ``train`` / ``predict`` / ``backtest`` / ``evaluate``; user errors raise ``TextRiskError``
    subclasses."""
    return {"train": _train, "predict": _predict, "backtest": _backtest,
            "evaluate": _evaluate}[args.forecast_command](args)
