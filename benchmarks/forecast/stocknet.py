"""Loader for the StockNet dataset (Xu & Cohen, 2018) as laid out in ``shared/data/stocknet``."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd

from textrisk.data.datasets import find_data_dir, read_jsonl_rows
from textrisk.errors import DataError

__all__ = ["find_stocknet", "load_stocknet"]

_TWEET_TIME = "%a %b %d %H:%M:%S %z %Y"  # e.g. "Wed Jan 01 03:59:03 +0000 2014"


def find_stocknet(path: str | os.PathLike | None = None) -> Path:
    """The StockNet folder: ``path``, else ``<shared data>/stocknet`` (see
    :func:`textrisk.data.datasets.find_data_dir`).

    Raises:
        DataError: not found, or the folder lacks ``price/raw``.
    """
    candidates = [Path(path)] if path is not None else []
    if path is None:
        shared = find_data_dir()
        if shared is not None:
            candidates.append(shared / "stocknet")
        candidates.append(Path.cwd().parent / "shared" / "data" / "stocknet")
    for candidate in candidates:
        if (candidate / "price" / "raw").is_dir():
            return candidate
    where = str(path) if path is not None else "../shared/data/stocknet"
    raise DataError(f"StockNet data not found at {where!r} (expected price/raw/ and tweet/preprocessed/ in it)")


def load_stocknet(path: str | os.PathLike | None = None, tickers: list[str] | None = None
                  ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Read StockNet prices and tweets.

    Returns:
        ``(prices, texts)``: ticker -> OHLCV frame (raw Yahoo columns), and a DataFrame with ``ticker``,
        ``timestamp`` (tz-aware UTC, from ``created_at``) and ``text`` (the token list joined by spaces).

    Yahoo's all-``null`` placeholder rows (PTR, REX, SNP on 2016-06-29) are dropped with a warning: they
    become missing sessions, which the dataset skips.
    """
    root = find_stocknet(path)
    available = sorted(p.stem for p in (root / "price" / "raw").glob("*.csv"))
    if tickers is None:
        tickers = available
    unknown = sorted(set(tickers) - set(available))
    if unknown:
        raise DataError(f"no StockNet prices for ticker(s) {unknown}; available: {available}")
    prices, dropped = {}, {}
    for ticker in tickers:
        frame = pd.read_csv(root / "price" / "raw" / f"{ticker}.csv", na_values=["null"])
        placeholder = frame.drop(columns=["Date"]).isna().all(axis=1)
        if placeholder.any():
            dropped[ticker] = frame.loc[placeholder, "Date"].tolist()
        prices[ticker] = frame.loc[~placeholder].reset_index(drop=True)
    if dropped:
        warnings.warn(f"dropped all-null price rows (now missing sessions): {dropped}", stacklevel=2)
    rows = []
    for ticker in tickers:
        folder = root / "tweet" / "preprocessed" / ticker
        if not folder.is_dir():
            continue
        for day in sorted(folder.iterdir()):
            for number, tweet in read_jsonl_rows(day):  # malformed JSON is named by file and line there
                try:
                    rows.append((ticker, tweet["created_at"], " ".join(tweet["text"])))
                except (KeyError, TypeError) as exc:
                    raise DataError(f"{day} line {number}: not a StockNet tweet ({exc!r})") from exc
    texts = pd.DataFrame(rows, columns=["ticker", "timestamp", "text"])
    texts["timestamp"] = pd.to_datetime(texts["timestamp"], format=_TWEET_TIME, utc=True)
    return prices, texts
