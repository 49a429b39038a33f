"""The one timestamp policy (the monitor's records, the forecaster's texts)."""

import math

import pytest

from textrisk.data.timestamps import check_not_future, format_timestamp, parse_timestamp
from textrisk.errors import DataError


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-01-01T10:00:00Z", 1704103200.0),
    ("2024-01-01T10:00:00z", 1704103200.0),
    ("2024-01-01T11:00:00+01:00", 1704103200.0),
    ("2024-01-01 10:00:00+00:00", 1704103200.0),
    (" 2024-01-01T10:00:00.500Z ", 1704103200.5),
    (1704103200, 1704103200.0),
    (1704103200.25, 1704103200.25),
    (0, 0.0),
    (-2208988800, -2208988800.0),
])
def test_accepted(value, expected):
    assert parse_timestamp(value, "f line 1") == expected


@pytest.mark.parametrize(("value", "message"), [
    (math.nan, "field 'timestamp' must be a finite number of seconds, got nan"),
    (math.inf, "must be a finite number of seconds, got inf"),
    (-math.inf, "must be a finite number of seconds, got -inf"),
    (1e20, "field 'timestamp' is 1e\\+20, outside 1900-01-01 .. 2100-01-01 UTC"),
    (1704103200000, "is 1704103200000, which looks like milliseconds; give POSIX seconds \\(1704103200.000\\)"),
    (-3e9, "outside 1900-01-01"),
    ("2024-01-01T10:00:00", "is '2024-01-01T10:00:00' with no UTC offset; add one"),
    ("2024-01-01", "with no UTC offset"),
    ("yesterday", "is not an ISO 8601 time"),
    ("", "is not an ISO 8601 time"),
    ("9999-12-31T23:59:59Z", "outside 1900-01-01"),
    ("0001-01-01T00:00:00+14:00", "outside 1900-01-01"),
    (True, "must be an ISO 8601 time with an offset or POSIX seconds, got bool True"),
    (None, "got NoneType None"),
    ([1], "got list"),
])
def test_refused_naming_where_and_field(value, message):
    with pytest.raises(DataError, match=f"^in.jsonl line 4: .*{message}"):
        parse_timestamp(value, "in.jsonl line 4")


def test_future_times_are_refused_past_the_tolerance():
    assert check_not_future(1000.0 + 899, 1000.0, "w") == 1899.0
    with pytest.raises(DataError, match="w: field 'timestamp' is 2100-01-01T00:00:00Z, in the future"):
        check_not_future(4102444800.0, 1000.0, "w")


def test_format_never_raises():
    assert format_timestamp(0) == "1970-01-01T00:00:00Z"
    assert format_timestamp(1e20).endswith("(out of range)") and format_timestamp(math.nan).endswith("(out of range)")
