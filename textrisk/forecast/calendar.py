"""Trading-day alignment without look-ahead, on a real exchange calendar (``exchange_calendars``).

The cut-off of trading day ``t`` is its session close (16:00 America/New_York, earlier on half days, as the
calendar says). A text counts for the first session whose close is strictly after its timestamp, so

* a text published before the close of ``t`` counts for ``t``;
* a text published at or after the close of ``t`` counts for the next session ``t+1``;
* weekends and holidays have no session, so their texts roll forward to the next trading day.

Price features of ``t`` use prices up to the close of ``t``; the sample that forecasts the move of day ``T``
reads features of sessions ``T-window .. T-1`` only.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ..errors import DataError
from .constants import CALENDAR

__all__ = ["assign_sessions", "session_closes"]


@functools.lru_cache(maxsize=8)
def _calendar(name: str, start: pd.Timestamp, end: pd.Timestamp):
    import exchange_calendars as xcals

    try:
        return xcals.get_calendar(name, start=start, end=end)
    except Exception as exc:  # unknown name, or a range the calendar does not cover
        raise DataError(f"cannot build exchange calendar {name!r} for {start.date()}..{end.date()}: {exc}") from exc


def session_closes(start: str | pd.Timestamp, end: str | pd.Timestamp, calendar: str = CALENDAR) -> pd.Series:
    """Close time (UTC) of every session of ``calendar`` from ``start`` to ``end`` (inclusive), indexed by session.

    The index holds tz-naive midnight dates (the session labels prices are stamped with).
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if start.tzinfo is not None or end.tzinfo is not None:
        raise DataError("session_closes takes calendar dates, not tz-aware timestamps")
    if end < start:
        raise DataError(f"session range is empty: end {end.date()} is before start {start.date()}")
    # pad by two weeks so the sessions just outside [start, end] exist for rolling texts forward
    cal = _calendar(calendar, start - pd.Timedelta(days=14), end + pd.Timedelta(days=14))
    closes = cal.closes.copy()  # a copy: the calendar object is cached and shared
    if closes.index.tz is not None:
        closes.index = closes.index.tz_localize(None)
    return closes.loc[start:end]


def assign_sessions(timestamps: pd.DatetimeIndex | pd.Series, closes: pd.Series) -> np.ndarray:
    """Position in ``closes`` of the session each timestamp counts for; -1 when after the last close.

    ``timestamps`` must be tz-aware (any zone). A timestamp exactly at a close counts for the next session:
    the close price is the last datum of day ``t``, so anything not strictly before it is treated as after.

    Raises:
        DataError: a timestamp without a time zone (it could be New York or UTC: a 4-5 hour ambiguity that
            straddles the close).
    """
    stamps = pd.DatetimeIndex(timestamps)
    if stamps.tz is None:
        raise DataError("text timestamps must be tz-aware (e.g. UTC); got naive timestamps, whose session is "
                        "ambiguous. Localize them first, e.g. Series.dt.tz_localize('UTC')")
    close_ns = closes.dt.tz_convert("UTC").to_numpy(dtype="datetime64[ns]").astype(np.int64)
    stamp_ns = stamps.tz_convert("UTC").to_numpy(dtype="datetime64[ns]").astype(np.int64)
    position = np.searchsorted(close_ns, stamp_ns, side="right")  # first close > timestamp
    position[position >= len(close_ns)] = -1
    return position
