"""The StockNet risk benchmark, end to end: ``python -m benchmarks.forecast.bench --data ../shared/data/stocknet
--out stocknet.json [--seeds N] [--tickers ...]`` (also ``textrisk forecast-bench``).

Builds the dataset once (per-text features from the embedding cache, daily text signals, market features);
forecasts with the risk baselines (GARCH(1,1), GJR-GARCH(1,1) and EGARCH(1,1) with Student-t errors by ``arch``,
GJR-GARCH-X with the text signals, panel HAR and HAR-X on Parkinson variance, EWMA, historical simulation), each
refitted on an expanding window; trains the LSTM specs on a rolling origin over the text period (quarterly
origins 2014-10-01 .. 2015-10-01, the last being StockNet's split) for every seed and averages the seeds; scores
VaR coverage (Kupiec, Christoffersen, dynamic quantile), pinball loss, QLIKE and MSE on the StockNet test
quarter, on the rolling window 2014-10-01 .. 2016-01-01 and (forecasters without text) on 2016-01-01 ..
2017-09-01; runs Diebold-Mariano tests, the model confidence set per loss and the power study of the text
comparisons, the portfolio overlay and the text event study (``risk_bench.py``); writes the JSON report, its
tables as Markdown (``<out>.md``) and PNG plots.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from textrisk.forecast.baselines import BASELINES, TEXT_BASELINES, baseline_forecast
from textrisk.forecast.constants import OOS_END, OOS_START, PRICE_FEATURES, VAR_LEVELS
from textrisk.forecast.dataset import ForecastDataset, build_dataset
from textrisk.forecast.forecaster import Forecaster
from textrisk.forecast.metrics import movement_scores, var_backtest
from textrisk.forecast.model import ForecastConfig
from textrisk.forecast.text import load_text_model
from textrisk.utils.atomic import atomic_write_json, atomic_write_text

from .bench_tables import markdown_tables
from .lstm_runs import LSTM_SPECS, ORIGINS, run_lstms
from .risk_bench import risk_report
from .stocknet import load_stocknet

__all__ = ["DEFAULT_LSTMS", "add_arguments", "main", "run", "run_benchmark"]

logger = logging.getLogger(__name__)
OOS_PERIOD = "oos_2016_2017"
ROLLING_PERIOD = "rolling"
DEFAULT_LSTMS = ("lstm_price", "lstm_market", "lstm_text", "lstm_text_emb")
OVERLAY_DRIVERS = ("lstm_text", "lstm_market", "gjr_garch", "har")
#: The overlay is backtested on the StockNet test quarter and 2016-17 (as before); not on the rolling window.
OVERLAY_PERIODS = ("test", "oos_2016_2017")
PLOT_NAMES = {"calibration": "forecast_calibration.png", "strategy": "forecast_strategy.png",
              "var_band": "forecast_var_band.png"}


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the benchmark's options to ``parser`` (reused by the ``textrisk forecast-bench`` sub-command)."""
    parser.add_argument("--data", default=None, help="StockNet folder (default: ../shared/data/stocknet).")
    parser.add_argument("--out", required=True, help="JSON report to write.")
    parser.add_argument("--seeds", type=int, default=5, help="Seeds per LSTM and origin (default 5).")
    parser.add_argument("--tickers", nargs="+", default=None, help="Subset of tickers (default: all 88).")
    parser.add_argument("--model", default=None,
                        help="Text model folder (default: the embedded default model, else the untuned base).")
    parser.add_argument("--lstms", nargs="*", default=list(DEFAULT_LSTMS), choices=tuple(LSTM_SPECS),
                        help="LSTM forecasters to train (default: all).")
    parser.add_argument("--epochs", type=int, default=ForecastConfig.epochs, help="Max epochs per model.")
    parser.add_argument("--cache-dir", default=None, help="Embedding cache (default ~/.cache/textrisk/embeddings).")
    parser.add_argument("--plots", default=None, help="Folder for the PNG plots (default: next to --out).")
    parser.add_argument("--save-model", default=None,
                        help="Also save seed 0 of lstm_text at the last origin (StockNet's split) here.")
    parser.add_argument("--baselines", nargs="*", default=list(BASELINES), choices=BASELINES,
                        help="Risk baselines to forecast with (default: all).")
    parser.add_argument("--garch-refit", type=int, default=63,
                        help="Sessions between refits of the GARCH family (default 63, a quarter).")
    parser.add_argument("--n-boot", type=int, default=1000, help="Bootstrap resamples for intervals (default 1000).")
    parser.add_argument("--mcs-size", type=float, default=0.10, help="Model confidence set size (0.10: a 90%% set).")
    parser.add_argument("--overlay-drivers", nargs="*", default=list(OVERLAY_DRIVERS),
                        help="Forecasters driving the portfolio overlay (default: %(default)s).")
    parser.add_argument("--target-vol", type=float, default=0.10, help="Overlay's annualised volatility target.")
    parser.add_argument("--cost-bp", type=float, default=5.0, help="Overlay's transaction cost per turnover, bp.")
    parser.add_argument("--no-progress", action="store_true", help="No progress bar while encoding texts.")
    return parser


def _summary(values: list[float]) -> dict[str, Any]:
    array = np.asarray(values, dtype=float)
    return {"mean": float(array.mean()), "std": float(array.std(ddof=1)) if len(array) > 1 else 0.0,
            "values": [float(v) for v in array]}


def _majority(ds: ForecastDataset, config: ForecastConfig) -> dict[str, Any]:
    """Majority class of train labels predicted on test; its VaR is a naive Gaussian on 20-day volatility."""
    from scipy.stats import norm

    result: dict[str, Any] = {}
    labels = {}
    for split in ("train", "test"):
        start, end = config.splits()[split]
        ti, si = ds.targets(config.window, start, end, require_return=True)
        r = ds.returns[ti, si]
        keep = (r > config.rise_threshold) | (r <= config.fall_threshold)
        labels[split] = (r[keep] > config.rise_threshold).astype(int)
        if split == "test":
            vol = ds.price[ti, si - 1, PRICE_FEATURES.index("volatility_20")].astype(float)
            result["var_baseline"] = "zero-mean Gaussian with the last 20-session volatility"
            for level in VAR_LEVELS:
                test = var_backtest(r, -norm.ppf(1 - level) * vol, level)
                result[f"var_{round(level * 100)}"] = {
                    "nominal_rate": test["nominal_rate"], "n": test["n"], "breaches": test["breaches"],
                    "breach_rate": _summary([test["breach_rate"]]),
                    "kupiec_p_value": _summary([test["kupiec_p_value"]])}
    majority = int(labels["train"].mean() > 0.5)
    scores = movement_scores(labels["test"], np.full(len(labels["test"]), float(majority)))
    result.update({"class": "rise" if majority else "fall", "acc": {"mean": scores["acc"], "std": 0.0},
                   "mcc": {"mean": scores["mcc"], "std": 0.0}, "n_test": scores["n"],
                   "train_rise_share": float(labels["train"].mean()), "test_rise_share": float(labels["test"].mean())})
    return result


def run_benchmark(ds: ForecastDataset, seeds: int = 5, lstms: list[str] | tuple[str, ...] = DEFAULT_LSTMS,
                  epochs: int = ForecastConfig.epochs, plots: str | Path | None = None,
                  save_model: str | Path | None = None, baselines: tuple[str, ...] = BASELINES,
                  garch_refit: int = 63, n_boot: int = 1000, overlay: dict[str, Any] | None = None,
                  overlay_drivers: tuple[str, ...] | None = OVERLAY_DRIVERS, mcs_size: float = 0.10
                  ) -> dict[str, Any]:
    """Forecast with the ``baselines`` and the rolling-origin ``lstms`` (seed ensembles) on ``ds`` and score
    everything per period (see the module docstring); optionally plot and save a model."""
    config = ForecastConfig()
    splits = config.splits()
    rolling = (ORIGINS[0], splits["test"][1])
    periods = {"test": splits["test"], ROLLING_PERIOD: rolling, OOS_PERIOD: (OOS_START, OOS_END)}
    timing: dict[str, float] = {}
    forecasts: dict[str, Any] = {}
    with_text = bool(ds.signal_names)
    for name in baselines:
        if name in TEXT_BASELINES and not with_text:
            continue
        started = time.time()
        options = {"refit_every": garch_refit} if name in ("garch", "gjr_garch", "egarch", "garch_x") else {}
        end = rolling[1] if name in TEXT_BASELINES else OOS_END
        forecasts[name] = baseline_forecast(name, ds, rolling[0], start=rolling[0], end=end, **options)
        timing[name] = round(time.time() - started, 1)
        logger.info("%s forecasts: %.1f s", name, timing[name])
    lstms = [n for n in lstms if with_text or LSTM_SPECS[n]["variant"] == "price_only"]
    lstm_forecasts, seed_record, last = run_lstms(ds, list(lstms), seeds, epochs, splits["test"][0])
    forecasts.update(lstm_forecasts)
    text_models = {n for n in lstm_forecasts if LSTM_SPECS[n]["variant"] != "price_only"} | set(TEXT_BASELINES)
    applies = {"test": tuple(forecasts), ROLLING_PERIOD: tuple(forecasts),
               OOS_PERIOD: tuple(n for n in forecasts if n not in text_models)}
    folder = Path(plots) if plots is not None else None
    started = time.time()
    risk = risk_report(ds, forecasts, periods, applies, (config.train_start, config.test_end), overlay, folder,
                       n_boot, overlay_drivers, mcs_size, OVERLAY_PERIODS)
    timing["scoring_overlay_event_study"] = round(time.time() - started, 1)
    report: dict[str, Any] = {"periods": {k: list(v) for k, v in periods.items()}, "origins": list(ORIGINS), **risk}
    for name, record in seed_record.items():
        report["variants"][name]["seeds"] = record
        timing[name] = record["seconds"]
        report["variants"][name]["over_seeds"] = {
            period: {key: _summary([r[key] for r in record[f"seeds_{period}"]])
                     for key in record[f"seeds_{period}"][0]} for period in ("test", "rolling")}
    report["variants"]["majority"] = _majority(ds, config)
    report["seconds_by_forecaster"] = timing
    if folder is not None and last:
        report.setdefault("plots", {}).update(make_plots(ds, last, folder))
    if save_model is not None and "lstm_text" in last:
        last["lstm_text"].save_pretrained(save_model)
        report["saved_model"] = str(save_model)
    return report


def make_plots(ds: ForecastDataset, models: dict[str, Forecaster], folder: Path) -> dict[str, str]:
    """The three PNGs from the first seed's fused model (else whichever variant ran)."""
    from textrisk.forecast.plots import plot_calibration, plot_strategy, plot_var_band

    variant = "lstm_text" if "lstm_text" in models else next(iter(models))
    model = models[variant]
    start, end = model.config.splits()["test"]
    pred = model.predict(ds, start, end)
    ticker = "AAPL" if "AAPL" in ds.tickers else ds.tickers[0]
    return {
        "calibration": str(plot_calibration(pred, folder / PLOT_NAMES["calibration"],
                                            title=f"{variant}: predicted P(rise) vs realised (test)")),
        "strategy": str(plot_strategy(pred, folder / PLOT_NAMES["strategy"],
                                      title=f"{variant}: long/short by signal vs buy and hold (test, no costs)")),
        "var_band": str(plot_var_band(pred, ticker, folder / PLOT_NAMES["var_band"],
                                      title=f"{variant}, {ticker}: one-day VaR vs realised returns (test)")),
    }


def run(args: argparse.Namespace) -> int:
    """Run the benchmark from parsed ``args``; returns the process exit status."""
    if args.seeds < 1:
        print("error: --seeds must be >= 1", file=sys.stderr)
        return 2
    started = time.time()
    prices, texts = load_stocknet(args.data, args.tickers)
    needs_text = any(LSTM_SPECS[n]["variant"] != "price_only" for n in args.lstms) or any(
        n in TEXT_BASELINES for n in args.baselines)
    if needs_text:
        model, description = load_text_model(args.model)
        ds = build_dataset(prices, texts, model, cache_dir=args.cache_dir, progress=not args.no_progress)
    else:  # price-only runs need no text model and no encoding
        ds, description = build_dataset(prices), None
    encoded = time.time()
    out = Path(args.out)
    plots = Path(args.plots) if args.plots else out.with_name(out.stem + "_plots")
    overlay = {"target_vol": args.target_vol, "cost_bp": args.cost_bp}
    report = run_benchmark(ds, args.seeds, args.lstms, args.epochs, plots, args.save_model, tuple(args.baselines),
                           args.garch_refit, args.n_boot, overlay, tuple(args.overlay_drivers), args.mcs_size)
    config = ForecastConfig()
    report = {
        "benchmark": "StockNet (Xu & Cohen, 2018), risk edition: VaR, volatility, text signals, rolling origin",
        "splits": config.splits(), "window": config.window, "seeds": args.seeds,
        "tickers": ds.tickers, "text_model": description, "text_model_key": ds.text_model_key,
        "signal_names": ds.signal_names,
        "data": {k: v for k, v in ds.report.items() if k != "missing_sessions"} | {
            "missing_sessions": ds.report.get("missing_sessions", {})},
        "published": {"stocknet": {"acc": 0.5823, "mcc": 0.08108}},
        **report,
        "seconds": {"data_and_encoding": round(encoded - started, 1), "total": round(time.time() - started, 1)},
        "args": {k: v for k, v in vars(args).items() if k != "func"},
    }
    atomic_write_json(out, report)
    tables = markdown_tables(report)
    atomic_write_text(out.with_suffix(".md"), tables)
    print(tables)
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    parser = add_arguments(argparse.ArgumentParser(
        prog="textrisk forecast-bench",
        description="Reproduce the StockNet risk benchmark: risk baselines, rolling-origin LSTMs with and without "
                    "text, VaR tests, DM, model confidence set, power, overlay, event study."))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
