"""argparse value types shared by the subcommands: errors are one line naming the bad value."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["int_at_least", "probability"]


def int_at_least(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``minimum``."""
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {number}")
        return number
    return parse


def probability(value: str) -> float:
    """argparse type: a number strictly between 0 and 1."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not 0 < number < 1:  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {value}")
    return number
