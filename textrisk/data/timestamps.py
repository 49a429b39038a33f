"""The one timestamp policy: how a record's time is read (the monitor's records, the forecaster's texts).

- an ISO 8601 string **with a UTC offset** (``2024-03-01T14:30:00Z``, ``2024-03-01T15:30:00+01:00``); a time
  without an offset is refused, never taken as UTC silently (whose local time would it be?);
- or a number of POSIX **seconds** (UTC); NaN, infinities and booleans are refused;
- within 1900-01-01 .. 2100-01-01 UTC: a number past the end that would be in range divided by 1,000 is named
  as milliseconds, anything else out of range is refused;
- :func:`check_not_future`: not later than the reader's clock plus :data:`FUTURE_TOLERANCE_S` (the monitor's
  indices decay in event time; a record from the future would freeze its entity's decay until that time).

Every error is a :class:`~textrisk.errors.DataError` that names where the value came from and the field.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from ..errors import DataError

__all__ = ["EARLIEST", "FUTURE_TOLERANCE_S", "LATEST", "check_not_future", "format_timestamp", "parse_timestamp"]

#: The range of accepted times, POSIX seconds: [1900-01-01, 2100-01-01) UTC.
EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc).timestamp()
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc).timestamp()
#: How far past the reader's clock a record's time may be (clock skew between the producer and the reader).
FUTURE_TOLERANCE_S = 900.0


def format_timestamp(ts: float) -> str:
    """``ts`` (POSIX seconds) as ISO 8601 UTC, or ``'<ts> (out of range)'``: never raises, for messages and pages."""
    try:
        return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError, TypeError):
        return f"{ts!r} (out of range)"


def _in_range(ts: float, where: str, field: str, raw: object) -> float:
    if EARLIEST <= ts < LATEST:
        return ts
    if not isinstance(raw, str) and ts >= LATEST and ts / 1000 < LATEST:
        raise DataError(f"{where}: field {field!r} is {raw!r}, which looks like milliseconds; give POSIX seconds "
                        f"({ts / 1000:.3f}) or an ISO 8601 time with an offset")
    raise DataError(f"{where}: field {field!r} is {raw!r}, outside 1900-01-01 .. 2100-01-01 UTC")


def parse_timestamp(value: object, where: str, field: str = "timestamp") -> float:
    """POSIX seconds (UTC) of ``value`` under the policy of the module docstring; ``where`` prefixes errors."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise DataError(f"{where}: field {field!r} must be an ISO 8601 time with an offset or POSIX seconds, got "
                        f"{type(value).__name__} {value!r:.60}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise DataError(f"{where}: field {field!r} must be a finite number of seconds, got {value!r}")
        return _in_range(float(value), where, field, value)
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
    except ValueError:
        raise DataError(f"{where}: field {field!r} is not an ISO 8601 time: {value!r:.60}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise DataError(f"{where}: field {field!r} is {value!r} with no UTC offset; add one (e.g. "
                        f"{text}Z for UTC or {text}+01:00)")
    try:
        ts = parsed.timestamp()
    except (OverflowError, OSError, ValueError):
        raise DataError(f"{where}: field {field!r} is {value!r}, outside 1900-01-01 .. 2100-01-01 UTC") from None
    return _in_range(ts, where, field, value)


def check_not_future(ts: float, now: float, where: str, field: str = "timestamp",
                     tolerance: float = FUTURE_TOLERANCE_S) -> float:
    """``ts`` unless it is more than ``tolerance`` seconds after ``now`` (the reader's clock)."""
    if ts > now + tolerance:
        raise DataError(f"{where}: field {field!r} is {format_timestamp(ts)}, in the future (the clock says "
                        f"{format_timestamp(now)}); records must not be dated ahead of the time they are read")
    return ts
