"""The benchmark's LSTM forecasters, trained on a rolling origin over the text period and averaged over seeds.

Each origin ``o`` (a quarter start, :data:`ORIGINS`) trains on targets from 2014-01-01 (the first tweets) to two
months before ``o``, picks the epoch on those two months (dev, on the validation loss: a risk model, not a
movement model) and forecasts the quarter from ``o``; the last origin is StockNet's own split (train to
2015-08-01, dev to 2015-10-01, test quarter 2015Q4), and for specs without text its models also forecast
2016-01-01 .. 2017-09-01 (prices only there). Nothing a model forecasts is before its own origin.

A spec's forecast is the **seed ensemble**: the mean over seeds of the variance (volatility = its square root),
of each VaR, of the expected return and P(rise); every seed's own scores are kept to show the spread.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from textrisk.forecast.constants import OOS_END, STOCKNET_TEST_END, STOCKNET_TRAIN_START, VAR_LEVELS
from textrisk.forecast.dataset import ForecastDataset
from textrisk.forecast.forecaster import Forecaster
from textrisk.forecast.model import ForecastConfig
from textrisk.forecast.scores import add_proxies, risk_scores

__all__ = ["LSTM_SPECS", "ORIGINS", "TRAINING", "ensemble", "origin_config", "run_lstms"]

logger = logging.getLogger(__name__)
#: Quarter starts of the rolling origin; the last is StockNet's test quarter.
ORIGINS = ("2014-10-01", "2015-01-01", "2015-04-01", "2015-07-01", "2015-10-01")
#: Named LSTM forecasters: ForecastConfig fields.
LSTM_SPECS = {
    "lstm_price": {"variant": "price_only"},
    "lstm_market": {"variant": "price_only", "market": True},
    "lstm_text": {"variant": "fused", "text_input": "signals", "market": True},
    "lstm_text_emb": {"variant": "fused", "text_input": "both", "market": True},
}
#: Training settings shared by every spec (the library defaults, with the epoch picked on the dev loss).
TRAINING = {"select_on": "loss", "patience": 4}


def origin_config(origin: str, spec: dict[str, Any], seed: int, epochs: int) -> ForecastConfig:
    """The config of one origin: train from 2014-01-01 to two months before ``origin``, dev to ``origin``."""
    o = pd.Timestamp(origin)
    later = [pd.Timestamp(x) for x in ORIGINS if pd.Timestamp(x) > o]
    return ForecastConfig(**spec, **TRAINING, seed=seed, epochs=epochs, train_start=STOCKNET_TRAIN_START,
                          train_end=str((o - pd.DateOffset(months=2)).date()), dev_end=origin,
                          test_end=str(later[0].date()) if later else STOCKNET_TEST_END)


def ensemble(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The seed ensemble of forecast frames of the same (ticker, date) rows (see the module docstring)."""
    first = frames[0]
    out = first[["ticker", "date", "realised_return"] + (["label"] if "label" in first.columns else [])].copy()
    out["volatility"] = np.sqrt(np.mean([f["volatility"].to_numpy() ** 2 for f in frames], axis=0))
    for column in ("expected_return", "p_rise", *(f"var_{round(level * 100)}" for level in VAR_LEVELS)):
        out[column] = np.mean([f[column].to_numpy() for f in frames], axis=0)
    return out


def _seed_scores(frame: pd.DataFrame, ds: ForecastDataset) -> dict[str, float]:
    scores = risk_scores(add_proxies(frame, ds), n_boot=0)
    return {"qlike": scores["qlike"]["squared_return"], "qlike_parkinson": scores["qlike"]["parkinson"],
            **{f"{k}_breach": scores[k]["breach_rate"] for k in ("var95", "var99")},
            "acc": scores["acc"]["value"], "mcc": scores["mcc"]["value"]}


def run_lstms(ds: ForecastDataset, specs: list[str], seeds: int, epochs: int, test_start: str
              ) -> tuple[dict[str, pd.DataFrame], dict[str, Any], dict[str, Forecaster]]:
    """Train every spec x origin x seed; returns ``(ensemble forecasts, per-seed record, seed-0 models of the
    last origin)``."""
    forecasts: dict[str, pd.DataFrame] = {}
    record: dict[str, Any] = {}
    last: dict[str, Forecaster] = {}
    for name in specs:
        spec = LSTM_SPECS[name]
        per_seed: list[list[pd.DataFrame]] = [[] for _ in range(seeds)]
        runs = []
        for origin in ORIGINS:
            for seed in range(seeds):
                started = time.time()
                config = origin_config(origin, spec, seed, epochs)
                model = Forecaster.train(ds, config)
                end = OOS_END if origin == ORIGINS[-1] and not config.uses_text else config.test_end
                per_seed[seed].append(model.predict(ds, origin, end))
                runs.append({"origin": origin, "seed": seed, "best_epoch": model.meta["best_epoch"],
                             "epochs_run": len(model.meta["history"]), "dev_loss": model.meta["dev"]["dev_loss"],
                             "seconds": round(time.time() - started, 1)})
                if origin == ORIGINS[-1] and seed == 0:
                    last[name] = model
                logger.info("%s origin %s seed %d: epoch %d, %.1f s", name, origin, seed,
                            model.meta["best_epoch"], runs[-1]["seconds"])
        frames = [pd.concat(parts, ignore_index=True) for parts in per_seed]
        forecasts[name] = ensemble(frames)
        text_period = [f[pd.DatetimeIndex(f["date"]) < pd.Timestamp(STOCKNET_TEST_END)] for f in frames]
        test = [f[pd.DatetimeIndex(f["date"]) >= pd.Timestamp(test_start)] for f in text_period]
        record[name] = {"config": {**spec, **TRAINING, "epochs": epochs}, "runs": runs,
                        "seeds_rolling": [_seed_scores(f, ds) for f in text_period],
                        "seeds_test": [_seed_scores(f, ds) for f in test],
                        "seconds": round(sum(r["seconds"] for r in runs), 1)}
    return forecasts, record, last
