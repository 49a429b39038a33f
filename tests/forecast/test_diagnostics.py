"""The calendar-day re-stamping used by benchmarks/forecast_diagnostics.py."""

import importlib.util

import pandas as pd
import pytest

from ..helpers import REPO

_PATH = REPO / "benchmarks" / "forecast_diagnostics.py"
_spec = importlib.util.spec_from_file_location("forecast_diagnostics", _PATH)
diagnostics = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(diagnostics)


@pytest.mark.parametrize(("utc", "expected_new_york"), [
    ("2015-01-05 23:30", "2015-01-05 12:00"),  # after the close of the 5th: StockNet's window keeps it on the 5th
    ("2015-01-06 02:00", "2015-01-06 12:00"),  # 21:00 New York on the 5th, but the 6th in UTC (StockNet's file)
    ("2015-01-10 15:00", "2015-01-10 12:00"),  # Saturday stays Saturday (rolled to Monday by the calendar later)
])
def test_calendar_day_stamps(utc, expected_new_york):
    texts = pd.DataFrame({"ticker": ["AAPL"], "text": ["x"], "timestamp": [pd.Timestamp(utc, tz="UTC")]})
    out = diagnostics.calendar_day_stamps(texts)
    assert out["timestamp"].iloc[0] == pd.Timestamp(expected_new_york, tz="America/New_York")
    assert texts["timestamp"].iloc[0] == pd.Timestamp(utc, tz="UTC")  # the input frame is not modified
