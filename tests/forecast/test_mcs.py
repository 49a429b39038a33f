"""The model confidence set over constructed losses: clearly worse forecasters leave, equal ones stay."""

from __future__ import annotations

import numpy as np
import pandas as pd

from textrisk.forecast.mcs import daily_losses, model_confidence_set


def _losses(means: dict[str, float], days: int = 250, noise: float = 0.3, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2015-01-01", periods=days)
    common = rng.normal(0, 1.0, days)  # a market-wide shock every forecaster shares
    out = {}
    for name, mean in means.items():
        out[name] = pd.concat([pd.DataFrame({"ticker": t, "date": dates,
                                             "loss": mean + common + rng.normal(0, noise, days)})
                               for t in ("A", "B", "C")], ignore_index=True)
    return out


def test_mcs_keeps_the_equals_and_drops_the_clearly_worse():
    result = model_confidence_set(_losses({"best": 1.0, "tie": 1.0, "worse": 1.3, "worst": 2.0}), reps=500)
    assert set(result["included"]) == {"best", "tie"} and set(result["excluded"]) == {"worse", "worst"}
    assert result["p_values"]["worst"] <= result["p_values"]["worse"] < 0.1 <= result["p_values"]["tie"]
    assert all(0 <= p <= 1 for p in result["p_values"].values()) and result["days"] == 250
    assert max(result["p_values"].values()) == 1.0


def test_mcs_keeps_everyone_when_nothing_differs():
    result = model_confidence_set(_losses({"a": 1.0, "b": 1.0, "c": 1.0}, seed=1), reps=500)
    assert set(result["included"]) == {"a", "b", "c"}


def test_daily_losses_use_pairs_every_forecaster_has():
    losses = _losses({"a": 1.0, "b": 2.0}, days=10)
    losses["b"] = losses["b"][losses["b"]["ticker"] != "C"]  # b does not forecast C
    daily = daily_losses(losses)
    assert list(daily.columns) == ["a", "b"] and len(daily) == 10
    pairs_a = losses["a"][losses["a"]["ticker"] != "C"].groupby("date")["loss"].mean()
    np.testing.assert_allclose(daily["a"].to_numpy(), pairs_a.to_numpy())


def test_identical_forecasters_share_their_fate():
    losses = _losses({"best": 1.0, "worst": 2.0})
    losses["copy"] = losses["best"].copy()
    result = model_confidence_set(losses, reps=200)
    assert set(result["included"]) == {"best", "copy"} and result["p_values"]["copy"] == result["p_values"]["best"]
