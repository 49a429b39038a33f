"""What every per-ticker baseline shares: a ticker's return series, the forecast frame layout, the period cut and
the lagged exogenous regressors (text signals) of the -X models.

A baseline forecasts observation ``k`` of a ticker (its ``k``-th session with a known return; missing sessions
are skipped, not bridged) from observations before ``k`` and, for -X models, from the text signals of the grid
session right before the target session (texts stamped before that session's close).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .constants import VAR_LEVELS
from .dataset import ForecastDataset

__all__ = ["coverage_dummy", "forecast_frame", "in_period", "lagged_signals", "return_series"]


def return_series(ds: ForecastDataset, ti: int) -> tuple[np.ndarray, np.ndarray]:
    """Session indices with a known return, and those returns, of ticker ``ti`` (missing sessions dropped)."""
    si = np.flatnonzero(np.isfinite(ds.returns[ti]))
    return si, ds.returns[ti, si]


def forecast_frame(ds: ForecastDataset, ti: int, si: np.ndarray, mu: np.ndarray, vol: np.ndarray,
                   var: dict[float, np.ndarray]) -> pd.DataFrame:
    """The layout of :meth:`Forecaster.predict`: ``ticker, date, expected_return, volatility, var_95, var_99,
    realised_return`` for ticker ``ti``'s sessions ``si``."""
    frame = pd.DataFrame({"ticker": ds.tickers[ti], "date": ds.sessions[si], "expected_return": mu,
                          "volatility": vol})
    for level in VAR_LEVELS:
        frame[f"var_{round(level * 100)}"] = var[level]
    frame["realised_return"] = ds.returns[ti, si]
    return frame


def in_period(frame: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    """Rows with a forecast (finite volatility) dated in ``[start, end)`` (None: open)."""
    keep = frame["volatility"].notna()
    if start is not None:
        keep &= frame["date"] >= pd.Timestamp(start)
    if end is not None:
        keep &= frame["date"] < pd.Timestamp(end)
    return frame[keep]


def coverage_dummy(ds: ForecastDataset, si: np.ndarray) -> np.ndarray:
    """1.0 where the session before ``si`` is inside the text feed's coverage (``ds.text_coverage``), else 0."""
    prev = np.asarray(si) - 1
    return np.where(prev >= 0, ds.text_coverage[np.maximum(prev, 0)], False).astype(float)


def lagged_signals(ds: ForecastDataset, ti: int, si: np.ndarray, names: list[str] | None = None
                   ) -> tuple[np.ndarray, list[str]]:
    """``(x [len(si), k], names)``: the text signals of the session before each target session ``si`` of ticker
    ``ti`` (``names``: a subset of ``ds.signal_names``; default all)."""
    names = list(ds.signal_names) if names is None else list(names)
    unknown = sorted(set(names) - set(ds.signal_names))
    if unknown:
        raise KeyError(f"text signals {unknown} are not in the dataset ({ds.signal_names})")
    cols = [ds.signal_names.index(name) for name in names]
    prev = np.maximum(np.asarray(si) - 1, 0)
    x = ds.signals[ti][prev][:, cols].astype(np.float64)
    x[np.asarray(si) - 1 < 0] = 0.0
    return x, names
