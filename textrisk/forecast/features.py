"""Daily price features: validation of per-ticker OHLCV frames and the ``PRICE_FEATURES`` matrix.

Every feature of session ``t`` is a function of rows ``<= t`` only (differences and backward rolling windows).
Missing sessions stay NaN, and NaN propagates through every feature whose window touches them, so a sample
built over a gap is dropped rather than silently bridged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .constants import PRICE_FEATURES

__all__ = ["price_features", "validate_prices"]

_ALIASES = {"date": "date", "open": "open", "high": "high", "low": "low", "close": "close", "adj close": "adj_close",
            "adj_close": "adj_close", "adjclose": "adj_close", "volume": "volume"}
_PRICE_COLUMNS = ("open", "high", "low", "close", "adj_close")


def validate_prices(frame: pd.DataFrame, ticker: str, sessions: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """Check one ticker's OHLCV frame and return it indexed by date with lower-case columns.

    Accepts a ``Date`` column or a DatetimeIndex and the columns Open, High, Low, Close, Volume and optionally
    ``Adj Close`` (default: Close; used to adjust the other prices for splits and dividends). Unsorted dates are
    sorted (harmless). Everything else that is wrong raises.

    Raises:
        DataError: missing column, duplicate date, NaN, infinite or non-positive price, NaN or negative volume,
            an inconsistent bar (high below open/close, low above them), or (given
            ``sessions``) a date that is not a trading session -- each naming the ticker and the date.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"prices[{ticker!r}] must be a pandas DataFrame, got {type(frame).__name__}")
    data = frame.rename(columns={c: _ALIASES.get(str(c).strip().lower(), c) for c in frame.columns})
    if "date" in data.columns:
        data = data.set_index("date")
    try:
        index = pd.DatetimeIndex(pd.to_datetime(data.index))
    except (ValueError, TypeError) as exc:
        raise DataError(f"prices[{ticker!r}]: dates cannot be parsed: {exc}") from exc
    if index.tz is not None:
        raise DataError(f"prices[{ticker!r}]: dates must be calendar dates (tz-naive), got time zone {index.tz}")
    data.index = index.normalize()
    if "adj_close" not in data.columns and "close" in data.columns:
        data["adj_close"] = data["close"]
    missing = [c for c in (*_PRICE_COLUMNS, "volume") if c not in data.columns]
    if missing:
        raise DataError(f"prices[{ticker!r}] lacks column(s) {missing}; found {list(frame.columns)}")
    data = data[[*_PRICE_COLUMNS, "volume"]].apply(pd.to_numeric, errors="coerce").astype(np.float64)
    if len(data) == 0:
        raise DataError(f"prices[{ticker!r}] has no rows")
    data = data.sort_index(kind="stable")
    duplicated = data.index[data.index.duplicated()]
    if len(duplicated):
        raise DataError(f"prices[{ticker!r}] has duplicate date(s) {[str(d.date()) for d in duplicated[:5]]}; "
                        "keep one row per session")
    for column in _PRICE_COLUMNS:
        bad = data.index[~(data[column] > 0)]  # catches NaN too
        if len(bad):
            raise DataError(f"prices[{ticker!r}] column {column!r} is NaN or <= 0 on {str(bad[0].date())} "
                            f"({len(bad)} row(s)); drop such rows (they become missing sessions) or fix them")
    bad = data.index[~((data["volume"] >= 0) & np.isfinite(data["volume"]))]
    if len(bad):
        raise DataError(f"prices[{ticker!r}] volume is negative, NaN or infinite on {str(bad[0].date())} "
                        f"({len(bad)} row(s))")
    _check_bars(data, ticker)
    if sessions is not None:
        off = data.index.difference(sessions)
        if len(off):
            raise DataError(f"prices[{ticker!r}] has {len(off)} date(s) that are not trading sessions, first "
                            f"{str(off[0].date())}; prices must be stamped with their session date")
    return data


def _check_bars(data: pd.DataFrame, ticker: str) -> None:
    """The consistency a market-data vendor checks: finite prices, low <= open, close <= high."""
    o, h, lo, c = (data[column] for column in ("open", "high", "low", "close"))
    tolerance = 1e-9 * h.abs()  # float round-off in stored decimals, not a real violation
    rules = {"a price is infinite": ~np.isfinite(data[list(_PRICE_COLUMNS)]).all(axis=1),
             "high < max(open, close)": h + tolerance < np.maximum(o, c),
             "low > min(open, close)": lo - tolerance > np.minimum(o, c)}
    for rule, broken in rules.items():
        if broken.any():
            first = data.index[broken.to_numpy()][0]
            raise DataError(f"prices[{ticker!r}] bar of {str(first.date())} is inconsistent: {rule} "
                            f"({int(broken.sum())} row(s)); fix or drop such rows")


def price_features(prices: pd.DataFrame, sessions: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """``PRICE_FEATURES`` for every session in ``sessions`` and each session's close-to-close simple return.

    ``prices`` is a frame from :func:`validate_prices`. Sessions without a price row are NaN, as is every
    feature whose window reaches one.

    Returns:
        ``(features [len(sessions), len(PRICE_FEATURES)], returns [len(sessions)])``.
    """
    p = prices.reindex(sessions)
    factor = p["adj_close"] / p["close"]  # split/dividend adjustment applied to the whole bar
    o, h, lo, c = (p[col] * factor for col in ("open", "high", "low", "close"))
    log_c = np.log(c)
    ret_1 = log_c.diff()
    log_v = np.log1p(p["volume"])
    spread = h - lo
    columns = {
        "ret_1": ret_1,
        "gap": np.log(o) - log_c.shift(1),
        "intraday": np.log(c) - np.log(o),
        "range": np.log(h) - np.log(lo),
        # a bar with high == low (no trading) has its close mid-range by convention
        "close_loc": ((c - lo) / spread.where(spread > 0)).clip(0, 1).where(spread > 0, 0.5).where(c.notna()),
        "volume_change": log_v.diff(),
        "volume_ratio_20": log_v - log_v.rolling(20, min_periods=20).mean(),
        "ret_5": ret_1.rolling(5, min_periods=5).sum(),
        "ret_20": ret_1.rolling(20, min_periods=20).sum(),
        "volatility_5": ret_1.rolling(5, min_periods=5).std(),
        "volatility_20": ret_1.rolling(20, min_periods=20).std(),
    }
    if tuple(columns) != PRICE_FEATURES:  # one source of truth: constants.PRICE_FEATURES
        raise AssertionError("price_features out of sync with constants.PRICE_FEATURES")
    features = np.column_stack([columns[name].to_numpy(np.float64) for name in PRICE_FEATURES])
    returns = (c / c.shift(1) - 1.0).to_numpy(np.float64)
    return features.astype(np.float32), returns
