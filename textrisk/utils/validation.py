"""One validation style for every config dataclass: types from the annotations, ranges from field metadata.

A config declares each field with ``metadata={"help": ..., <checks>}`` and calls :func:`validate_fields` first in
its ``__post_init__``; cross-field rules follow there. Every error is a :class:`~textrisk.errors.ConfigError`
that names the field (readers of saved JSON re-raise it naming the file). The checks a field can declare:

- ``"gt"`` / ``"ge"`` / ``"lt"`` / ``"le"``: bounds (numbers must also be finite: NaN and inf are refused);
- ``"choices"``: the allowed values (for a list field: allowed items);
- ``"nonempty"``: a string or list that must not be empty.

``None`` skips the range checks of an ``X | None`` field.

:func:`check_number` is the one finite-number check behind all of them: config fields, command-line options
(:mod:`textrisk.utils.args`) and the numbers of rules files. NaN, infinities and booleans are never numbers.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import Field
from typing import Any

from ..errors import ConfigError

__all__ = ["check", "check_number", "field_help", "validate_fields"]


def check(help: str, **checks: Any) -> dict[str, Any]:  # noqa: A002 - "help" is the metadata key argparse uses
    """Field metadata: ``field(default=..., metadata=check("What it is.", gt=0))``."""
    unknown = sorted(set(checks) - {"gt", "ge", "lt", "le", "choices", "nonempty"})
    if unknown:
        raise TypeError(f"unknown field checks {unknown}")
    return {"help": help, **checks}


def field_help(cls: type) -> dict[str, str]:
    """Field name -> help text of a config dataclass (for CLIs and docs)."""
    return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}


def validate_fields(config: Any) -> None:
    """Check every field of the dataclass instance ``config`` against its annotation and metadata."""
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        hint = hints[f.name]
        if not _matches(value, hint):
            expected = hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")
            raise ConfigError(f"{f.name} must be {expected}, got {type(value).__name__} {value!r}")
        if value is not None:
            _check_range(f, value)


_BOUNDS = (("gt", lambda a, b: a > b, ">"), ("ge", lambda a, b: a >= b, ">="), ("lt", lambda a, b: a < b, "<"),
           ("le", lambda a, b: a <= b, "<="))


def check_number(value: Any, name: str, *, integer: bool = False, gt: float | None = None, ge: float | None = None,
                 lt: float | None = None, le: float | None = None) -> Any:
    """``value`` if it is a finite number (an ``int`` when ``integer``) within the bounds given, else raise.

    Raises:
        ConfigError: ``"<name> must be a finite number, got nan"``, ``"<name> must be >= 1, got 0"``...
    """
    if integer:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name} must be an integer, got {value!r}")
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    elif not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    bounds = {"gt": gt, "ge": ge, "lt": lt, "le": le}
    for key, ok, word in _BOUNDS:
        if bounds[key] is not None and not ok(value, bounds[key]):
            raise ConfigError(f"{name} must be {word} {bounds[key]}, got {value!r}")
    return value


def _check_range(f: Field, value: Any) -> None:
    meta = f.metadata
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        check_number(value, f.name, **{key: meta[key] for key in ("gt", "ge", "lt", "le") if key in meta})
    if "choices" in meta:
        items = value if isinstance(value, list) else [value]
        bad = [item for item in items if item not in meta["choices"]]
        if bad:
            raise ConfigError(f"{f.name}: {bad[0]!r} is not one of {list(meta['choices'])}")
    if meta.get("nonempty") and len(value) == 0:
        raise ConfigError(f"{f.name} must not be empty")


def _matches(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(annotation)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict:
        key_type, value_type = typing.get_args(annotation)
        return isinstance(value, dict) and all(_matches(k, key_type) and _matches(v, value_type)
                                               for k, v in value.items())
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)
