"""Where textrisk keeps what it can rebuild: the user's cache folder, never the installed package.

:func:`cache_dir` is ``$TEXTRISK_CACHE_DIR/<kind>`` when that variable is set, else ``<user cache>/<kind>`` with the
platform's user cache folder from ``platformdirs`` (``~/.cache/textrisk`` on Linux, honouring ``$XDG_CACHE_HOME``;
``~/Library/Caches/textrisk`` on macOS; ``%LOCALAPPDATA%\\textrisk\\Cache`` on Windows). Everything in it is keyed
by content, so deleting the folder only costs the time to rebuild it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CACHE_ENV", "cache_dir"]

#: Environment variable naming the cache root (overrides the platform's user cache folder).
CACHE_ENV = "TEXTRISK_CACHE_DIR"


def cache_dir(kind: str) -> Path:
    """The cache folder for ``kind`` (``"onnx"``, ``"embeddings"``, ...); not created here."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser() / kind
    from platformdirs import user_cache_path

    return user_cache_path("textrisk", appauthor=False) / kind
