"""Reading the forecast command line's CSV files (prices, predictions): every value read as text first, so a bad
row is named by file, line and field instead of becoming NaN."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["parse_dates", "read_table"]


def read_table(path: str | os.PathLike, what: str, required: Sequence[str], hint: str = "") -> pd.DataFrame:
    """The CSV at ``path`` as strings with lower-case column names.

    Raises:
        InputError: unreadable file, a ``required`` column missing (``hint`` appended), or no rows; ``what``
            names the file's role (``"prices"``, ``"predictions"``).
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: cannot read the {what} CSV: {exc}") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing}{hint}")
    if frame.empty:
        raise InputError(f"{path}: no {what} rows")
    return frame


def parse_dates(frame: pd.DataFrame, path: str | os.PathLike) -> pd.Series:
    """The ``date`` column as timestamps.

    Raises:
        InputError: a date that is not YYYY-MM-DD, naming its line.
    """
    dates = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
    for i in np.flatnonzero(dates.isna())[:1]:
        raise InputError(f"{path} line {i + 2}: field 'date' is {frame['date'].iloc[i]!r}, expected YYYY-MM-DD")
    return dates
