"""The alerts and dead-letter JSONL files: every alert (dead letter) in the state, once, in order.

After each committed batch the new rows are appended (and fsynced). On start the file is reconciled with the
state: a torn last line (a kill mid-write) is cut off and rows committed but not yet written are appended, so
the file never loses or repeats a row across kills and restarts.

A file that exists must be one the monitor wrote: every complete line a JSON object with the file's key fields
(alerts: ``id`` and ``rule``; dead letters: ``seq``, ``location`` and ``error``). Anything else (a notes file,
the input, the state database) is refused before it is touched, naming the file and line
(:meth:`JsonlMirror.check`, the ``owned`` check of :func:`textrisk.utils.outputs.guard_output`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from ..errors import DataError
from .state import MonitorState

__all__ = ["AlertsFile", "DeadLetterFile", "JsonlMirror"]


class JsonlMirror:
    """Append-only JSONL file at ``path`` kept in step with a table of a :class:`MonitorState` (see the module
    docstring); subclasses name the rows' key and fields and how to fetch them."""

    key: ClassVar[str]
    fields: ClassVar[tuple[str, ...]]
    what: ClassVar[str]  # "an alerts" (file)
    row_what: ClassVar[str]  # "an alert"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.written: set[Any] = set()
        self.last_seq = 0
        if self.path.exists():
            data = self.path.read_bytes()
            problem = self._problem(data)
            if problem:
                raise DataError(f"{self.path} {problem}")
            cut = data.rfind(b"\n") + 1
            if cut != len(data):  # a torn last line
                with self.path.open("r+b") as handle:
                    handle.truncate(cut)
            self.written = {json.loads(line)[self.key] for line in data[:cut].decode("utf-8").splitlines()
                            if line.strip()}

    @classmethod
    def check(cls, path: Path) -> str | None:
        """Why ``path`` is not a file of this kind the monitor wrote, or None (see the module docstring)."""
        try:
            return cls._problem(path.read_bytes())
        except OSError as exc:
            return f"cannot be read ({exc.strerror})"

    @classmethod
    def _problem(cls, data: bytes) -> str | None:
        cut = data.rfind(b"\n") + 1
        try:
            text = data[:cut].decode("utf-8")
        except UnicodeDecodeError:
            return f"is not {cls.what} file written by textrisk monitor (it is not UTF-8 text); choose a new file"
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                row = None
            if not isinstance(row, dict) or any(field not in row for field in cls.fields):
                return (f"line {number} is not {cls.row_what} (expected a JSON object with {list(cls.fields)}): it is "
                        "not a file textrisk monitor wrote; choose a new file")
        if data[cut:].strip() and not data[cut:].lstrip().startswith(b"{"):
            return f"is not {cls.what} file written by textrisk monitor (its last line is not JSON); choose a new file"
        return None

    def _fetch(self, state: MonitorState, seq: int) -> list[dict[str, Any]]:
        raise NotImplementedError

    def sync(self, state: MonitorState, clock: Callable[[], float]) -> int:
        """Append the state's rows not yet in the file; returns how many were written."""
        rows = self._fetch(state, self.last_seq)
        if rows:
            self.last_seq = rows[-1]["seq"]
        pending = [row for row in rows if row[self.key] not in self.written]
        if not pending:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        now = clock()
        with self.path.open("a", encoding="utf-8") as handle:
            for row in pending:
                handle.write(json.dumps(self._line(row, now), ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.written.update(row[self.key] for row in pending)
        return len(pending)

    def _line(self, row: dict[str, Any], now: float) -> dict[str, Any]:
        return row


class AlertsFile(JsonlMirror):
    """The alerts file (``--alerts``): each alert's payload plus ``emitted``, the time it was written."""

    key, fields, what, row_what = "id", ("id", "rule"), "an alerts", "an alert"

    def _fetch(self, state: MonitorState, seq: int) -> list[dict[str, Any]]:
        return state.alerts_after(seq)

    def _line(self, row: dict[str, Any], now: float) -> dict[str, Any]:
        return {**{k: v for k, v in row.items() if k != "seq"}, "emitted": now}


class DeadLetterFile(JsonlMirror):
    """The dead-letter file (``--dead-letter``): ``seq``, ``location`` (file and line), ``error``, ``raw`` (the
    line as text; bytes that are not UTF-8 as ``\\xNN``) and ``arrived`` per record that could not be processed."""

    key, fields, what, row_what = "seq", ("seq", "location", "error"), "a dead-letter", "a dead letter"

    def _fetch(self, state: MonitorState, seq: int) -> list[dict[str, Any]]:
        return state.dead_letters_after(seq)
