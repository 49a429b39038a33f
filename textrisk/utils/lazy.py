"""Lazy package exports (PEP 562): a package's public names imported from their modules on first access.

Keeps ``import textrisk`` and the CLI's ``--help`` free of torch: a package lists ``name -> submodule`` and
gets a module ``__getattr__`` / ``__dir__`` pair from :func:`lazy_exports`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, names: Mapping[str, str], public: Iterable[str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` for ``names`` (public name -> submodule, relative).

    A name is imported from ``package.<submodule>`` when first read and then cached on the package.
    """
    listed = set(public)

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{names[name]}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | listed)

    return __getattr__, __dir__
