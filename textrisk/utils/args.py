"""argparse value types shared by the subcommands: errors are one line naming the bad value.

Every number an option takes goes through :func:`textrisk.utils.validation.check_number` (NaN, infinities and
values out of the option's range are refused before any work); argparse prefixes the message with the option,
e.g. ``argument --max-wait-ms: must be a finite number, got nan``.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Callable
from datetime import date
from typing import Any

from ..errors import ConfigError
from .validation import check_number

__all__ = ["config_field_type", "day", "int_at_least", "integer", "number", "probability"]


def _checked(convert: Callable[[str], Any], what: str, bounds: dict[str, Any], integer: bool) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        try:
            parsed = convert(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value!r}") from None
        try:
            return check_number(parsed, "value", integer=integer, **bounds)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix("value ")) from None
    parse.__name__ = what.replace(" ", "_")  # argparse names the type in some messages
    return parse


def number(**bounds: float) -> Callable[[str], float]:
    """argparse type: a finite number within ``bounds`` (``gt``, ``ge``, ``lt``, ``le``)."""
    return _checked(float, "a number", bounds, integer=False)


def integer(**bounds: int) -> Callable[[str], int]:
    """argparse type: an integer within ``bounds`` (``gt``, ``ge``, ``lt``, ``le``)."""
    return _checked(int, "an integer", bounds, integer=True)


def int_at_least(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``minimum``."""
    return integer(ge=minimum)


#: argparse type: a number strictly between 0 and 1.
probability = number(gt=0, lt=1)


def day(value: str) -> str:
    """argparse type: a calendar date written ``YYYY-MM-DD`` (returned as given)."""
    try:
        date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {value!r}") from None
    if len(value) != 10:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {value!r}")
    return value


def config_field_type(cls: type, name: str) -> Callable[[str], Any]:
    """argparse type of the config dataclass field ``name``: its annotation's type (``int``, ``float``, ``str``)
    and the bounds its metadata declares (:func:`textrisk.utils.validation.check`), so an option refuses what the
    config would refuse, naming the option."""
    hint = typing.get_type_hints(cls)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    bounds = {key: field.metadata[key] for key in ("gt", "ge", "lt", "le") if key in field.metadata}
    if args[0] is int:
        return integer(**bounds)
    if args[0] is float:
        return number(**bounds)
    return str
