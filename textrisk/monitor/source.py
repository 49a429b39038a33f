"""Record sources: a JSONL file that keeps growing (tailed through rotation), a folder of JSONL files, or stdin.

A source yields ``(item, position)`` pairs: ``item`` is a :class:`~textrisk.monitor.records.Record` or, for a line
that cannot be processed, a :class:`~textrisk.monitor.records.DeadLetter` (:mod:`textrisk.monitor.records`);
``position`` is how far the line's file generation has been read (:class:`~textrisk.monitor.tail.Position`;
None for stdin), stored in the state in the same transaction as the item's batch, so a restart resumes there.
Files are followed through log rotation (:mod:`textrisk.monitor.tail`). Only complete lines (ending in a newline)
are consumed while following; ``--once`` also takes a final line without one.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..data.files import codec_name
from ..data.inputs import unicode_problem
from ..errors import DataError
from .records import DeadLetter, Record, parse_line
from .tail import Position, Tail

__all__ = ["Source", "open_source"]

Item = tuple["Record | DeadLetter", "Position | None"]


class Source:
    """Records from ``path`` (a JSONL file or a folder of ``*.jsonl`` files) or ``"-"`` (stdin).

    Args:
        rows: the state's ``offsets`` rows (see :meth:`textrisk.monitor.state.MonitorState.offsets`).
        encoding: the files' encoding (:func:`textrisk.data.files.decode`; UTF-16/32 cannot be tailed by line).
    """

    def __init__(self, path: str, rows: list[dict[str, Any]] | None = None, encoding: str = "utf-8",
                 clock: Callable[[], float] = time.time):
        self.path, self.encoding, self.clock = path, encoding, clock
        tailed = {row.get("path") for row in rows or []}
        if path != "-" and not Path(path).exists() and os.path.abspath(path) not in tailed:
            raise DataError(f"monitor input {path!r} does not exist")  # (a tailed file may be mid-rotation)
        if codec_name(encoding).startswith(("utf-16", "utf-32")):
            raise DataError(f"--encoding {encoding}: the monitor reads files line by line; UTF-16/32 files cannot "
                            "be split on newline bytes (convert them to UTF-8)")
        self._positions: dict[str, list[Position]] = {}
        self._legacy: dict[str, int] = {}
        for row in rows or []:
            position = Position.from_row(row)
            if position.path is None:
                self._legacy[position.source] = position.offset
            else:
                self._positions.setdefault(position.path, []).append(position)
        self._tails: dict[str, Tail] = {}
        self._skipped: set[Path] = set()

    def files(self) -> list[Path]:
        """The files to read, in name order (a folder's new files are picked up on every call); a file whose name
        is not valid Unicode (undecodable bytes) cannot be recorded in the state and is skipped with a warning."""
        target = Path(self.path)
        found = sorted(target.glob("*.jsonl")) if target.is_dir() else [target]
        readable = [file for file in found if unicode_problem(str(file)) is None]
        for file in set(found) - set(readable):
            if file not in self._skipped:
                self._skipped.add(file)
                print(f"textrisk monitor: skipped {str(file)!r}: its name is not valid Unicode; rename it",
                      file=sys.stderr)
        return readable

    def _tail(self, file: Path) -> Tail:
        key = os.path.abspath(file)
        if key not in self._tails:
            self._tails[key] = Tail(key, self._positions.get(key, []), self._legacy.get(str(file.resolve())),
                                    self.clock)
        return self._tails[key]

    def poll(self, final: bool = False) -> Iterator[Item]:
        """Items not yet consumed; ``final`` also takes a last line that has no newline yet."""
        if self.path == "-":
            yield from self._stdin()
            return
        for file in self.files():
            for raw, name, line, position in self._tail(file).read(final):
                item = parse_line(raw, name, line, self.encoding)
                if item is not None:
                    yield item, position

    def _stdin(self) -> Iterator[Item]:
        for number, raw in enumerate(sys.stdin.buffer, start=1):
            item = parse_line(raw, "stdin", number, self.encoding)
            if item is not None:
                yield item, None


def open_source(path: str, rows: list[dict[str, Any]] | None = None, encoding: str = "utf-8") -> Source:
    """A :class:`Source` for ``path`` resuming at the state's ``offsets`` rows."""
    return Source(path, rows, encoding)
