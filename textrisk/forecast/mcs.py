"""The model confidence set (Hansen, Lunde and Nason, 2011) over many forecasters, by ``arch.bootstrap.MCS``.

Pooled like the Diebold-Mariano test (``dm.py``): each forecaster's loss is averaged across tickers per day over
the (ticker, day) pairs every forecaster has, and the MCS runs on those daily series (stationary bootstrap,
``block_size`` days, the range statistic ``R``). The set holds, at confidence ``1 - size``, the forecasters not
significantly worse than the best; a forecaster's MCS p-value is the largest ``size`` at which it stays in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["daily_losses", "model_confidence_set"]


def daily_losses(losses: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Days x forecasters: the per-day mean loss over the (ticker, date) pairs all ``losses`` frames share."""
    keyed = {name: frame.set_index(["ticker", "date"])["loss"] for name, frame in losses.items()}
    joined = pd.concat(keyed, axis=1, join="inner").dropna()
    joined = joined[np.isfinite(joined.to_numpy()).all(axis=1)]
    return joined.groupby(level="date").mean().sort_index()


def model_confidence_set(losses: dict[str, pd.DataFrame], size: float = 0.10, reps: int = 1000,
                         block_size: int = 5, seed: int = 0) -> dict[str, Any]:
    """The MCS at confidence ``1 - size`` of forecasters ``name -> loss frame`` (``ticker``, ``date``, ``loss``).

    Returns ``included`` / ``excluded`` names, each one's ``p_values`` and mean daily ``loss``, ``days`` and
    the settings.
    """
    from arch.bootstrap import MCS

    daily = daily_losses(losses)
    result: dict[str, Any] = {"size": size, "reps": reps, "block_size": block_size, "days": int(len(daily)),
                              "loss": {name: float(daily[name].mean()) for name in daily.columns}}
    # forecasters with identical losses are one forecaster to the MCS (their difference has no variance)
    twin = {name: next(other for other in daily.columns if np.array_equal(daily[other], daily[name]))
            for name in daily.columns}
    distinct = daily[sorted(set(twin.values()), key=list(daily.columns).index)]
    if len(daily) < 2 * block_size or distinct.shape[1] < 2:
        return {**result, "included": list(daily.columns), "excluded": [], "p_values": {}}
    mcs = MCS(distinct, size=size, reps=reps, block_size=block_size, method="R", bootstrap="stationary", seed=seed)
    mcs.compute()
    pvalues = {str(name): float(p) for name, p in mcs.pvalues["Pvalue"].items()}
    included = {str(n) for n in mcs.included}
    return {**result, "included": [n for n in daily.columns if twin[n] in included],
            "excluded": [n for n in daily.columns if twin[n] not in included],
            "p_values": {n: pvalues[twin[n]] for n in daily.columns}}
