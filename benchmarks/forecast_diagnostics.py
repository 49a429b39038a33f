"""Why the StockNet forecaster sits at chance: two diagnostics on the benchmark's own data and features.

    HF_HUB_OFFLINE=1 python benchmarks/forecast_diagnostics.py --data ../shared/data/stocknet --out diag.json

1. **Looser alignment.** StockNet ships tweets per UTC calendar day, and the paper's window for target day T
   reads the calendar days before T, so tweets posted after the close of T-1 feed the forecast of T. textrisk
   counts them for T itself (the issue's no-look-ahead rule). Here every tweet is re-stamped to 12:00 New York
   time on its UTC date, which reproduces the calendar-day window, and the text variants are retrained over
   the same seeds. This is a diagnostic only: that information could not be traded at the close of T-1.
2. **Other model classes.** Logistic regression and gradient-boosted trees on the flattened 5-session window
   (price features, sentiment probabilities, text count and has-text flags; logistic regression also with the
   384 pooled embedding dimensions), fitted on train and scored on the test split. If none of them beats the
   majority class either, the LSTM is not what is missing.

Both use the default text model and the embedding cache, so after one ``textrisk forecast-bench`` run they
take minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def calendar_day_stamps(texts: pd.DataFrame) -> pd.DataFrame:
    """Texts re-stamped to 12:00 New York time on their UTC calendar date (StockNet's per-day files)."""
    day = texts["timestamp"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d")
    return texts.assign(timestamp=pd.to_datetime(day + " 12:00").dt.tz_localize("America/New_York"))


def flat_windows(ds, split: str, columns: list[int] | None) -> tuple[np.ndarray, np.ndarray]:
    """Flattened lag windows of the labelled target days of ``split``; ``columns`` of the text features
    (None: no text)."""
    from textrisk.forecast.model import ForecastConfig

    config = ForecastConfig()
    start, end = config.splits()[split]
    ti, si = ds.targets(config.window, start, end, require_return=True)
    returns = ds.returns[ti, si]
    keep = (returns > config.rise_threshold) | (returns <= config.fall_threshold)
    ti, si, returns = ti[keep], si[keep], returns[keep]
    parts = []
    for lag in range(1, config.window + 1):
        parts.append(ds.price[ti, si - lag])
        if columns is not None:
            parts.append(ds.text[ti, si - lag][:, columns])
            parts.append(ds.has_text[ti, si - lag][:, None].astype(np.float32))
    features = np.nan_to_num(np.concatenate(parts, axis=1))
    return features, (returns > config.rise_threshold).astype(int)


def other_models(ds) -> dict[str, dict[str, float]]:
    """Test accuracy and MCC of logistic regression and gradient-boosted trees on flattened windows."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, matthews_corrcoef

    small = [i for i, name in enumerate(ds.text_feature_names) if not name.startswith("emb_")]
    feature_sets = {"price": None, "price+sentiment": small, "price+sentiment+embedding": None}
    results = {}
    for name, columns in feature_sets.items():
        if name == "price+sentiment+embedding":
            columns = list(range(len(ds.text_feature_names)))
        x_train, y_train = flat_windows(ds, "train", columns)
        x_test, y_test = flat_windows(ds, "test", columns)
        mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-6
        models = {"logistic_regression": LogisticRegression(C=0.1, max_iter=2000)}
        if "embedding" not in name:  # trees on 1,900 dense embedding columns add minutes and nothing else
            models["gradient_boosting"] = HistGradientBoostingClassifier(
                max_iter=200, learning_rate=0.05, max_leaf_nodes=15, random_state=0)
        for model_name, model in models.items():
            model.fit((x_train - mean) / std, y_train)
            predicted = model.predict((x_test - mean) / std)
            results[f"{name}/{model_name}"] = {"acc": float(accuracy_score(y_test, predicted)),
                                                "mcc": float(matthews_corrcoef(y_test, predicted)), "n": len(y_test)}
            print(f"{name:<28}{model_name:<22}acc {results[f'{name}/{model_name}']['acc']:.4f}  "
                  f"mcc {results[f'{name}/{model_name}']['mcc']:+.4f}", flush=True)
    return results


def main(argv: list[str] | None = None) -> None:
    """Run both diagnostics and write their JSON."""
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the checkout's benchmarks
    from benchmarks.forecast.bench import run_benchmark
    from benchmarks.forecast.stocknet import load_stocknet
    from textrisk.forecast import build_dataset, load_text_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=None, help="StockNet folder (default: ../shared/data/stocknet).")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's).")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.time()
    prices, texts = load_stocknet(args.data)
    text_model, description = load_text_model(None)
    report: dict = {"text_model": description}

    strict = build_dataset(prices, texts, text_model, progress=False)
    report["other_models_strict_alignment"] = other_models(strict)

    loose = build_dataset(prices, calendar_day_stamps(texts), text_model, progress=False)
    runs = run_benchmark(loose, seeds=args.seeds, variants=("fused", "text_only"))["variants"]
    report["calendar_day_alignment"] = {
        name: {"acc": entry["acc"], "mcc": entry["mcc"]} for name, entry in runs.items()}
    for name, entry in runs.items():
        print(f"calendar-day alignment {name:<10} acc {entry['acc']['mean']:.4f} ± {entry['acc']['std']:.4f}  "
              f"mcc {entry['mcc']['mean']:+.4f} ± {entry['mcc']['std']:.4f}", flush=True)
    report["seconds"] = round(time.time() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
