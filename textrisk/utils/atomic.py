"""Atomic file writes: a reader never sees a half-written file, a crash never destroys the old one."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import DataError

__all__ = ["atomic_write_bytes", "atomic_write_json", "atomic_write_text", "exclusive_lock", "replace_file"]


def _default_mode() -> int:
    """rw for everyone the umask allows (mkstemp and some writers create 0600 files)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def replace_file(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Move a finished file into place atomically (both paths must be on one filesystem)."""
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    os.chmod(src, _default_mode())
    os.replace(src, dst)


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike, what: str = "this file") -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on the lock file ``path`` (created, and removed on exit).

    Raises:
        DataError: another process holds the lock (naming ``what`` and the lock file).
    """
    import fcntl

    path = Path(path)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataError(f"another process is writing {what} (lock {path} is held); wait for it to finish "
                            "or choose another output") from None
        try:  # the previous holder removes the file on exit: if it did after we opened it, lock the new one
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)

