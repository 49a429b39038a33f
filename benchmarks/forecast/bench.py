"""The StockNet benchmark, end to end: ``python -m benchmarks.forecast.bench --data ../shared/data/stocknet --out
stocknet.json [--seeds N] [--tickers ...]`` (also ``textrisk forecast-bench``).

Trains the three ablations (``price_only``, ``text_only``, ``fused``) for each seed on the StockNet splits and
forecasts with the risk baselines (``garch``, ``ewma``, ``historical``); scores movement (with bootstrap
intervals), VaR coverage (Kupiec, Christoffersen), pinball loss, QLIKE and MSE per variant on the test quarter
and, for price-only models and baselines, on 2016-01-01 .. 2017-09-01; runs Diebold-Mariano tests, the
portfolio overlay per driver and the text event study (``risk_bench.py``); writes the JSON report, its tables
as Markdown (``<out>.md``) and PNG plots.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from textrisk.forecast.baselines import BASELINES, baseline_forecast
from textrisk.forecast.constants import OOS_END, OOS_START, PRICE_FEATURES, VAR_LEVELS
from textrisk.forecast.dataset import ForecastDataset, build_dataset
from textrisk.forecast.forecaster import Forecaster
from textrisk.forecast.metrics import movement_scores, var_backtest
from textrisk.forecast.model import VARIANTS, ForecastConfig
from textrisk.forecast.text import load_text_model
from textrisk.utils.atomic import atomic_write_json, atomic_write_text

from .bench_tables import markdown_tables
from .risk_bench import risk_report
from .risk_scores import add_proxies, risk_scores
from .stocknet import load_stocknet

__all__ = ["add_arguments", "main", "run", "run_benchmark"]

logger = logging.getLogger(__name__)
OOS_PERIOD = "oos_2016_2017"
PLOT_NAMES = {"calibration": "forecast_calibration.png", "strategy": "forecast_strategy.png",
              "var_band": "forecast_var_band.png"}


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the benchmark's options to ``parser`` (reused by the ``textrisk forecast-bench`` sub-command)."""
    parser.add_argument("--data", default=None, help="StockNet folder (default: ../shared/data/stocknet).")
    parser.add_argument("--out", required=True, help="JSON report to write.")
    parser.add_argument("--seeds", type=int, default=5, help="Seeds per variant (default 5).")
    parser.add_argument("--tickers", nargs="+", default=None, help="Subset of tickers (default: all 88).")
    parser.add_argument("--model", default=None,
                        help="Text model folder (default: the embedded default model, else the untuned base).")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS, help="Ablations to run.")
    parser.add_argument("--epochs", type=int, default=ForecastConfig.epochs, help="Max epochs per model.")
    parser.add_argument("--cache-dir", default=None, help="Embedding cache (default ~/.cache/textrisk/embeddings).")
    parser.add_argument("--plots", default=None, help="Folder for the PNG plots (default: next to --out).")
    parser.add_argument("--save-model", default=None, help="Also save the first seed's fused forecaster here.")
    parser.add_argument("--baselines", nargs="*", default=list(BASELINES), choices=BASELINES,
                        help="Risk baselines to forecast with (default: all).")
    parser.add_argument("--garch-refit", type=int, default=63, help="Sessions between GARCH refits (default 63).")
    parser.add_argument("--n-boot", type=int, default=1000, help="Bootstrap resamples for intervals (default 1000).")
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


def _seed_scores(model: Forecaster, ds: ForecastDataset) -> dict[str, Any]:
    """One seed's test scores on all its own test days (movement, VaR coverage, QLIKE)."""
    start, end = model.config.splits()["test"]
    scores = risk_scores(add_proxies(model.predict(ds, start, end), ds), n_boot=0)
    return {"acc": scores["acc"]["value"], "mcc": scores["mcc"]["value"], "qlike": scores["qlike"]["squared_return"],
            **{f"{k}_{m}": scores[k][m] for k in ("var95", "var99")
               for m in ("breach_rate", "kupiec_p", "christoffersen_cc_p")}}


def run_benchmark(ds: ForecastDataset, seeds: int = 5, variants: list[str] | tuple[str, ...] = VARIANTS,
                  epochs: int = ForecastConfig.epochs, plots: str | Path | None = None,
                  save_model: str | Path | None = None, baselines: tuple[str, ...] = BASELINES,
                  garch_refit: int = 63, n_boot: int = 1000, overlay: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train ``variants`` x ``seeds`` on ``ds``, forecast with the ``baselines``, score everything on the test
    quarter and (price-only models and baselines) on 2016-01-01 .. 2017-09-01; optionally plot.

    Risk metrics, DM tests, the overlay and the event study use seed 0 of each LSTM variant (the model a user
    gets with the defaults); ``seeds`` holds every seed's test scores to show the spread.
    """
    config = ForecastConfig()
    splits = config.splits()
    periods = {"test": splits["test"], OOS_PERIOD: (OOS_START, OOS_END)}
    forecasts: dict[str, Any] = {}
    seed_runs: dict[str, list[dict[str, Any]]] = {}
    first: dict[str, Forecaster] = {}
    for variant in variants:
        seed_runs[variant] = []
        for seed in range(seeds):
            started = time.time()
            model = Forecaster.train(ds, ForecastConfig(variant=variant, seed=seed, epochs=epochs))
            scores = _seed_scores(model, ds)
            seed_runs[variant].append({"seed": seed, **scores, "dev": model.meta["dev"],
                                       "best_epoch": model.meta["best_epoch"],
                                       "seconds": round(time.time() - started, 1)})
            logger.info("%s seed %d: %s", variant, seed, {k: round(v, 4) for k, v in scores.items()})
            if seed == 0:
                first[variant] = model
        end = OOS_END if variant == "price_only" else splits["test"][1]
        forecasts[variant] = first[variant].predict(ds, splits["test"][0], end)
    for name in baselines:
        started = time.time()
        options = {"refit_every": garch_refit} if name == "garch" else {}
        forecasts[name] = baseline_forecast(name, ds, config.train_end, start=splits["test"][0], end=OOS_END,
                                            **options)
        logger.info("%s forecasts: %.1f s", name, time.time() - started)
    applies = {"test": tuple(forecasts), OOS_PERIOD: tuple(n for n in forecasts if n in ("price_only", *baselines))}
    folder = Path(plots) if plots is not None else None
    risk = risk_report(ds, forecasts, periods, applies, (config.train_start, config.test_end), overlay, folder,
                       n_boot)
    report: dict[str, Any] = {"periods": {k: list(v) for k, v in periods.items()}, **risk}
    for variant, runs in seed_runs.items():
        report["variants"][variant]["seeds"] = runs
        report["variants"][variant]["over_seeds"] = {
            key: _summary([r[key] for r in runs]) for key in runs[0] if isinstance(runs[0][key], float)}
    report["variants"]["majority"] = _majority(ds, config)
    if folder is not None and first:
        report.setdefault("plots", {}).update(make_plots(ds, first, folder))
    if save_model is not None and "fused" in first:
        first["fused"].save_pretrained(save_model)
        report["saved_model"] = str(save_model)
    return report


def make_plots(ds: ForecastDataset, models: dict[str, Forecaster], folder: Path) -> dict[str, str]:
    """The three PNGs from the first seed's fused model (else whichever variant ran)."""
    from textrisk.forecast.plots import plot_calibration, plot_strategy, plot_var_band

    variant = "fused" if "fused" in models else next(iter(models))
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
    if any(ForecastConfig(variant=v).uses_text for v in args.variants):
        model, description = load_text_model(args.model)
        ds = build_dataset(prices, texts, model, cache_dir=args.cache_dir, progress=not args.no_progress)
    else:  # price-only runs need no text model and no encoding
        ds, description = build_dataset(prices), None
    encoded = time.time()
    out = Path(args.out)
    plots = Path(args.plots) if args.plots else out.with_name(out.stem + "_plots")
    overlay = {"target_vol": args.target_vol, "cost_bp": args.cost_bp}
    report = run_benchmark(ds, args.seeds, args.variants, args.epochs, plots, args.save_model,
                           tuple(args.baselines), args.garch_refit, args.n_boot, overlay)
    config = ForecastConfig()
    report = {
        "benchmark": "StockNet (Xu & Cohen, 2018) movement: rise > 0.55%, fall <= -0.5%, others dropped",
        "splits": config.splits(), "window": config.window, "seeds": args.seeds,
        "tickers": ds.tickers, "text_model": description, "text_model_key": ds.text_model_key,
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
        description="Reproduce the StockNet benchmark: fused / price-only / text-only forecasters over seeds, "
                    "test accuracy and MCC, VaR backtest, plots."))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
