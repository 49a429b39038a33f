"""``ForecastDataset``: daily price and text features per (ticker, trading session), and its lag windows.

Text features of a day are the per-text feature rows (see ``text.TextFeaturizer``) of the texts that count
for that session (``calendar.assign_sessions``), aggregated by their **mean**, plus ``log_text_count``
(``log(1 + number of texts)``). Mean, because days carry 1 to several hundred tweets: a mean is order- and
volume-invariant and needs no extra parameters (an attention pool over single tweets would have to be trained
end to end from ~20k noisy labels, and StockNet's many retweets would dominate it); the count keeps the
volume signal. Days without texts are all-zero rows flagged by ``has_text == False``; the model replaces
them by a learned "no text" vector, so absence of news is never read as neutral news.

Besides the mean features, each (ticker, day) gets the daily text signals of :mod:`.signals` (counts, abnormal
volume, novelty, negative share, risk and event counts), computed from the same per-text rows; and the dataset
derives market-wide features per session from all its tickers' prices (:mod:`.market`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .calendar import assign_sessions, session_closes
from .constants import CALENDAR, PRICE_FEATURES, PRICE_WARMUP
from .features import price_features, validate_prices
from .market import market_features
from .signals import daily_signals
from .text import TextFeaturizer, validate_texts

__all__ = ["ForecastDataset", "build_dataset"]


@dataclass
class ForecastDataset:
    """Features on a grid of tickers x trading sessions; build it with :func:`build_dataset`.

    The grid ends one session after the last price date, so a trained forecaster also forecasts the next,
    not yet traded, session.
    """

    tickers: list[str] = field(metadata={"help": "Ticker of each grid row."})
    sessions: pd.DatetimeIndex = field(metadata={"help": "Session dates (tz-naive) of the grid columns."})
    price: np.ndarray = field(metadata={"help": "[tickers, sessions, PRICE_FEATURES] float32, NaN if undefined."})
    text: np.ndarray = field(metadata={"help": "[tickers, sessions, text features] float32, 0 on no-text days."})
    text_count: np.ndarray = field(metadata={"help": "[tickers, sessions] number of texts counted for the day."})
    returns: np.ndarray = field(metadata={"help": "[tickers, sessions] close-to-close simple return, NaN unknown."})
    has_price: np.ndarray = field(metadata={"help": "[tickers, sessions] True where a price row exists."})
    text_feature_names: list[str] = field(default_factory=list, metadata={"help": "Columns of ``text``."})
    text_model_key: str | None = field(default=None, metadata={"help": "Identity of the text model (cache key)."})
    calendar: str = field(default=CALENDAR, metadata={"help": "Exchange calendar of the sessions."})
    report: dict[str, Any] = field(default_factory=dict, metadata={"help": "What was dropped or missing, counted."})
    price_feature_names: list[str] = field(default_factory=lambda: list(PRICE_FEATURES),
                                           metadata={"help": "Columns of ``price``."})
    signals: np.ndarray | None = field(default=None, metadata={
        "help": "[tickers, sessions, signals] daily text signals (see ``signals.py``); width 0 without texts."})
    signal_names: list[str] = field(default_factory=list, metadata={"help": "Columns of ``signals``."})

    def __post_init__(self) -> None:
        if self.signals is None:
            self.signals = np.zeros(self.price.shape[:2] + (0,), dtype=np.float32)

    @property
    def market(self) -> tuple[np.ndarray, list[str]]:
        """``(features [sessions, k], names)``: market-wide features of each session over all the dataset's
        tickers (see :func:`~textrisk.forecast.market.market_features`)."""
        return market_features(self.price, self.price_feature_names)

    @property
    def text_coverage(self) -> np.ndarray:
        """[sessions] True from the first session with any text on: before it the text feed did not exist, so
        a zero count there means no data, not a quiet day."""
        seen = self.text_count.sum(axis=0) > 0
        return np.cumsum(seen) > 0

    @property
    def has_text(self) -> np.ndarray:
        """[tickers, sessions] True where at least one text counts for the day."""
        return self.text_count > 0

    def targets(self, window: int, start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None,
                require_return: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``(ticker_index, session_index)`` of every forecastable target day in ``[start, end)``.

        A target session ``s`` needs finite price features on sessions ``s-window .. s-1`` and must be a traded
        session of the ticker or the one right after its last price row (the live forecast); with
        ``require_return`` its realised return must be known (training and evaluation).

        Raises:
            DataError: ``window`` is longer than every ticker's usable history.
        """
        if window < 1:
            raise DataError(f"window must be >= 1, got {window}")
        usable = np.isfinite(self.price).all(axis=2)  # [T, S]
        history = usable.sum(axis=1)
        if len(history) == 0 or history.max() < window:
            raise DataError(f"window of {window} sessions is longer than the history: the longest ticker has "
                            f"{int(history.max()) if len(history) else 0} sessions with complete price features "
                            f"(after the {PRICE_WARMUP}-session warm-up of the rolling features)")
        n_sessions = len(self.sessions)
        # ok[t, s]: all of s-window .. s-1 usable (cumulative sum over a sliding window)
        csum = np.concatenate([np.zeros((len(self.tickers), 1), int), np.cumsum(usable, axis=1)], axis=1)
        s_idx = np.arange(n_sessions)
        full = np.zeros_like(usable)
        full[:, window:] = (csum[:, window:n_sessions] - csum[:, 0:n_sessions - window]) == window
        last_row = np.where(self.has_price.any(axis=1), n_sessions - 1 - np.argmax(self.has_price[:, ::-1], axis=1), -1)
        live = s_idx[None, :] == (last_row[:, None] + 1)
        ok = full & (self.has_price | live)
        if require_return:
            ok &= np.isfinite(self.returns)
        if start is not None:
            ok &= (self.sessions >= pd.Timestamp(start))[None, :]
        if end is not None:
            ok &= (self.sessions < pd.Timestamp(end))[None, :]
        ti, si = np.nonzero(ok)
        return ti, si

    def windows(self, ti: np.ndarray, si: np.ndarray, window: int) -> dict[str, np.ndarray]:
        """Input arrays for targets ``(ti, si)``: ``price`` [N, window, P], ``text`` [N, window, D],
        ``has_text`` [N, window] -- rows ``s-window .. s-1``, never ``s`` itself."""
        offsets = np.arange(-window, 0)
        rows = si[:, None] + offsets[None, :]
        if len(rows) and rows.min() < 0:
            raise DataError("a target's window reaches before the first session")
        return {"price": self.price[ti[:, None], rows], "text": self.text[ti[:, None], rows],
                "has_text": self.text_count[ti[:, None], rows] > 0}


def _session_grid(prices: dict[str, pd.DataFrame], calendar: str) -> tuple[pd.DatetimeIndex, pd.Series]:
    first = min(frame.index[0] for frame in prices.values())
    last = max(frame.index[-1] for frame in prices.values())
    closes = session_closes(first - pd.Timedelta(days=10), last + pd.Timedelta(days=10), calendar)
    after = closes.index[closes.index > last]
    if len(after) == 0:
        raise DataError(f"calendar {calendar!r} has no session after {last.date()}")
    grid = closes.index[(closes.index >= first) & (closes.index <= after[0])]
    return pd.DatetimeIndex(grid), closes


def build_dataset(
    prices: Mapping[str, pd.DataFrame],
    texts: Any = None,
    analyzer: Any = None,
    *,
    calendar: str = CALENDAR,
    cache_dir: Any = None,
    progress: bool | None = None,
    batch_size: int = 64,
) -> ForecastDataset:
    """Align prices and texts on trading sessions and compute daily features.

    Args:
        prices: ticker -> OHLCV frame (see :func:`~textrisk.forecast.features.validate_prices`).
        texts: ``(ticker, timestamp, text)`` rows or a DataFrame with those columns; None for prices only.
        analyzer: a ``RiskAnalyzer``, a ``TextRiskModel`` or a :class:`TextFeaturizer`; required with texts.
        calendar: exchange calendar code (``exchange_calendars``).
        cache_dir: embedding cache root (default ``~/.cache/textrisk/embeddings``); False disables it.
        progress: show a progress bar while encoding (None: only on a terminal).

    Handling of imperfect input (each also counted in ``report``):
        * unsorted price dates are sorted; duplicate dates, NaN/<=0 prices, negative volume raise DataError;
        * sessions missing from a ticker's prices stay NaN: windows touching them (and, for 20 sessions, the
          rolling features) are skipped, with a warning naming the ticker;
        * tickers with prices but no texts get "no text" days throughout (warning); texts whose ticker has no
          prices raise DataError (a ticker typo would otherwise drop them silently);
        * texts before the first or after the last session of the grid are counted and ignored.
    """
    if not isinstance(prices, Mapping) or not prices:
        raise DataError("prices must be a non-empty mapping of ticker -> OHLCV DataFrame")
    checked = {str(t): validate_prices(f, str(t)) for t, f in sorted(prices.items())}
    sessions, closes = _session_grid(checked, calendar)
    tickers = list(checked)
    report: dict[str, Any] = {"missing_sessions": {}}
    n_t, n_s = len(tickers), len(sessions)
    price = np.full((n_t, n_s, len(PRICE_FEATURES)), np.nan, dtype=np.float32)
    returns = np.full((n_t, n_s), np.nan)
    has_price = np.zeros((n_t, n_s), dtype=bool)
    for i, ticker in enumerate(tickers):
        frame = validate_prices(checked[ticker], ticker, sessions=pd.DatetimeIndex(closes.index))
        price[i], returns[i] = price_features(frame, sessions)
        has_price[i] = sessions.isin(frame.index)
        own = (sessions >= frame.index[0]) & (sessions <= frame.index[-1])
        missing = int((own & ~has_price[i]).sum())
        if missing:
            report["missing_sessions"][ticker] = missing
    if report["missing_sessions"]:
        warnings.warn(f"sessions missing from prices (windows over them are skipped): {report['missing_sessions']}",
                      stacklevel=2)

    text = np.zeros((n_t, n_s, 0), dtype=np.float32)
    signals = np.zeros((n_t, n_s, 0), dtype=np.float32)
    count = np.zeros((n_t, n_s), dtype=np.int32)
    names: list[str] = []
    signal_names: list[str] = []
    model_key = None
    if texts is not None:
        if analyzer is None:
            raise DataError("texts were given without an analyzer to encode them")
        rows = validate_texts(texts)
        unknown = sorted(set(rows["ticker"]) - set(tickers))
        if unknown:
            raise DataError(f"texts for ticker(s) without prices: {unknown[:10]}{'...' if len(unknown) > 10 else ''}"
                            "; pass their prices or drop those texts")
        featurizer = analyzer if isinstance(analyzer, TextFeaturizer) else TextFeaturizer(
            analyzer, cache_dir=cache_dir, progress=progress, batch_size=batch_size)
        text, count, (signals, signal_names), report_text = _daily_text(rows, tickers, sessions, closes,
                                                                        featurizer)
        report.update(report_text)
        names, model_key = [*featurizer.feature_names, "log_text_count"], featurizer.model_key
        silent = report["tickers_without_texts"]
        if silent:
            warnings.warn(f"tickers with prices but no texts (all their days are 'no text'): {silent}", stacklevel=2)
    return ForecastDataset(tickers=tickers, sessions=sessions, price=price, text=text, text_count=count,
                           returns=returns, has_price=has_price, text_feature_names=names, text_model_key=model_key,
                           calendar=calendar, report=report, signals=signals, signal_names=signal_names)


def _daily_text(rows: pd.DataFrame, tickers: list[str], sessions: pd.DatetimeIndex, closes: pd.Series,
                featurizer: TextFeaturizer) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, list[str]],
                                                     dict[str, Any]]:
    position = assign_sessions(pd.DatetimeIndex(rows["timestamp"]), closes)
    offset = closes.index.get_loc(sessions[0])  # the grid is a contiguous run of the calendar's sessions
    col = np.where(position >= 0, position - offset, len(sessions))
    before, after = col < 0, col >= len(sessions)
    report = {"texts": len(rows), "texts_before_grid": int(before.sum()), "texts_after_grid": int(after.sum())}
    keep = ~(before | after)
    row_idx = pd.Index(tickers).get_indexer(rows["ticker"].to_numpy())[keep]
    col = col[keep]
    features = featurizer(rows["text"].to_numpy()[keep].tolist())
    report["texts_used"], report["encoder"] = int(keep.sum()), dict(featurizer.stats)
    n_t, n_s, dim = len(tickers), len(sessions), features.shape[1] + 1
    text = np.zeros((n_t, n_s, dim), dtype=np.float32)
    count = np.zeros((n_t, n_s), dtype=np.int32)
    if len(col):
        group = row_idx * n_s + col
        order = np.argsort(group, kind="stable")
        group_sorted = group[order]
        starts = np.flatnonzero(np.r_[True, group_sorted[1:] != group_sorted[:-1]])
        sums = np.add.reduceat(features[order].astype(np.float64), starts, axis=0)
        sizes = np.diff(np.r_[starts, len(order)])
        keys = group_sorted[starts]
        t_idx, s_idx = keys // n_s, keys % n_s
        text[t_idx, s_idx, :-1] = sums / sizes[:, None]
        text[t_idx, s_idx, -1] = np.log1p(sizes)
        count[t_idx, s_idx] = sizes
    report["tickers_without_texts"] = [t for i, t in enumerate(tickers) if count[i].sum() == 0]
    signals = daily_signals(features, featurizer.feature_names, row_idx, col, (n_t, n_s),
                            featurizer.model.risk_thresholds)
    return text, count, signals, report
