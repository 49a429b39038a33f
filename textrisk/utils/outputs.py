"""The one output-path guard: every command that writes a file or a folder checks its path here, before any work.

:func:`guard_output` refuses, with an error naming the option and the path:

- an output that is one of the command's inputs or another of its outputs (the same file by path or by inode,
  e.g. ``--alerts`` pointed at ``--input``, ``--export`` at ``--state``), or that lies in an input folder the
  command reads files from (a ``(folder, pattern)`` input, e.g. the ``*.jsonl`` folder the monitor tails);
- a file output that is a folder, a folder output that is a file, a folder that cannot be created or written;
- an existing output that the command did not write: the caller's ``owned`` check looks at what is there
  (an alerts file whose lines are not alerts, a folder holding another model) and names the problem, so a typo
  never truncates a notes file, corrupts a database or overwrites a model.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from ..errors import DataError

__all__ = ["guard_output", "same_path"]


def same_path(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether ``a`` and ``b`` name the same file (resolved path, or same inode for links and mounts)."""
    a, b = Path(a), Path(b)
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _within(path: Path, folder: Path, pattern: str) -> bool:
    return path.resolve().parent == folder.resolve() and fnmatch.fnmatch(path.name, pattern)


def guard_output(path: str | os.PathLike, option: str, *, inputs: Mapping[str, object] | None = None,
                 folder: bool = False, owned: Callable[[Path], str | None] | None = None) -> Path:
    """Check that ``path`` may be written by a command whose option ``option`` names it (see the module docstring).

    Args:
        inputs: the command's inputs and its other outputs, by option name (``{"--input": path}``): each a path,
            a list of paths, or a ``(folder, pattern)`` pair for the files read from a folder (None is skipped).
        folder: the output is a folder (else a file).
        owned: given an existing output, None if the command may replace or extend it, else why not.

    Returns:
        ``path`` as a :class:`Path`, its parent folder created.

    Raises:
        DataError: naming ``option``, the path and the problem.
    """
    path = Path(path)
    where = f"{option} {str(path)!r}"
    pairs = [(other, item) for other, value in (inputs or {}).items()
             for item in (value if isinstance(value, list) else [value])]
    for other, item in pairs:
        if isinstance(item, tuple):
            source, pattern = Path(item[0]), item[1]
            if source.is_dir() and _within(path, source, pattern):
                raise DataError(f"{where} lies in the {other} folder {str(source)!r}, whose {pattern} files are "
                                "read as input; choose a path outside it")
        elif item is not None and same_path(path, item):
            raise DataError(f"{where} is the {other} file; writing it would destroy it")
    if folder and path.exists() and not path.is_dir():
        raise DataError(f"{where} is a file; give a folder")
    if not folder and path.is_dir():
        raise DataError(f"{where} is a folder; give a file name")
    if owned is not None and path.exists() and not (folder and not any(path.iterdir())):
        problem = owned(path)
        if problem:
            raise DataError(f"{where} {problem}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{where}: cannot create its folder ({exc.strerror})") from None
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise DataError(f"{where}: {'it' if path.exists() else 'its folder'} is not writable")
    return path

