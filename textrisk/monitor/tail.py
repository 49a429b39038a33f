"""Rotation-aware tailing: read a growing file by byte offset and follow it through log rotation.

A tailed path (``news.jsonl``) holds a sequence of **generations**: the file as written from empty until it is
rotated away. Each generation is known by its *head* (the sha256 of its first line, or of its first 4 KiB) and
its progress is a :class:`Position` (byte offset, lines read, and a *mark*: the sha256 of the 256 bytes before the
offset), stored in the state with the batch that read up to it. On every poll the path and its rotated siblings
(files in the same folder whose name starts with ``news.jsonl.`` or ``news.jsonl-``, e.g. ``news.jsonl.1`` or
``news.jsonl-20240301``; compressed ones are skipped) are matched to the known generations by head, size and mark,
whatever their name or inode:

- **rename and recreate** (logrotate's default): the old generation is found under its new name and read to
  its end, then the new file is read from its start;
- **copytruncate**: the copy holds the old generation (same head, mark at the offset) and is read to its end;
  the truncated file starts a new generation (a file shorter than a generation's offset, or whose bytes before
  the offset changed, is never taken for it);
- a restart in between (kills included) resumes every generation where its committed position says.

Generations are read oldest first: known ones in the order they were first read, then new ones by modification
time. A rotated sibling older than the first read of the path (history that was there before monitoring
began) is not read. Records written by a copytruncate rotation between its copy and its truncation are lost by
copytruncate itself (use rename-and-recreate to avoid that), and a sibling compressed before it was read (use
``delaycompress``) cannot be read.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..data.inputs import unicode_problem

__all__ = ["HEAD_BYTES", "MARK_BYTES", "Position", "Tail"]

HEAD_BYTES = 4096
MARK_BYTES = 256
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip", ".lz4", ".z", ".7z")


@dataclass(frozen=True)
class Position:
    """How far one generation of a tailed path has been read: a row of the state's ``offsets`` table."""

    source: str  # "<path>#<head[:16]>" (".<n>" appended when generations share a first line)
    path: str | None  # the tailed path (None: a row of textrisk 0.2 or older, keyed by the path alone)
    head: str | None  # sha256 of the generation's first line
    offset: int  # bytes read
    line: int  # lines read
    mark: str | None  # sha256 of the bytes (up to MARK_BYTES) before ``offset``
    rank: int  # order in which the path's generations were first read
    first_read: float  # wall-clock time of that first read

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Position:
        """A position from a state row (the columns textrisk 0.2 lacked default to None / 0)."""
        return cls(**{f.name: row.get(f.name) for f in fields(cls)} | {
            "offset": int(row["offset"]), "line": int(row.get("line") or 0), "rank": int(row.get("rank") or 0),
            "first_read": float(row.get("first_read") or 0.0)})

    def to_row(self) -> dict[str, Any]:
        """The state row."""
        return asdict(self)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rotation_number(name: str, base: str) -> int:
    """``news.jsonl.3`` -> 3 (an older file); other suffixes 0; the tailed file itself -1 (the newest)."""
    if name == base:
        return -1
    found = re.fullmatch(r"[.-](\d{1,6})", name[len(base):])
    return int(found.group(1)) if found else 0


class Tail:
    """The generations of one tailed ``path``, resumed from ``positions`` (its rows in the state).

    Args:
        legacy: the byte offset a textrisk 0.2 state stored for this path (a row keyed by the path), adopted as
            the progress of the file now at ``path`` when no row of this format exists.
        clock: wall-clock seconds (first reads are stamped with it).
    """

    def __init__(self, path: str | os.PathLike, positions: list[Position], legacy: int | None = None,
                 clock: Callable[[], float] = time.time):
        self.path = Path(os.path.abspath(path))
        self.clock = clock
        self.positions = {p.source: p for p in positions}
        self._warned: set[str] = set()
        if not self.positions and legacy is not None:
            self._adopt(legacy)

    # ------------------------------------------------------------------------------------------------ matching
    def _adopt(self, offset: int) -> None:
        try:
            st = self.path.stat()
            head = self._head(self.path, final=True)
        except OSError:
            return
        if head is None or st.st_size < offset:
            return
        with self.path.open("rb") as handle:
            lines = handle.read(offset).count(b"\n")
        position = Position(f"{self.path}#{head[:16]}", str(self.path), head, offset, lines,
                            self._mark(self.path, offset), 0, self.clock())
        self.positions[position.source] = position

    @staticmethod
    def _head(file: Path, final: bool) -> str | None:
        """The sha256 of the file's first line (or first HEAD_BYTES); None while that line is incomplete.

        Read on every poll (a few KiB per file): a file truncated and written again under the same inode, even to
        the same size, is never taken for what it held before."""
        with file.open("rb") as handle:
            data = handle.read(HEAD_BYTES)
        end = data.find(b"\n")
        if end >= 0:
            data = data[:end + 1]
        elif len(data) < HEAD_BYTES:  # the first line is still being written
            return _digest(data) if final and data.strip() else None
        return _digest(data)

    @staticmethod
    def _mark(file: Path, offset: int) -> str | None:
        start = max(0, offset - MARK_BYTES)
        with file.open("rb") as handle:
            handle.seek(start)
            data = handle.read(offset - start)
        return _digest(data) if len(data) == offset - start else None

    def _files(self) -> list[Path]:
        """The tailed path and its rotated siblings (see the module docstring)."""
        name, found = self.path.name, [self.path]
        try:
            entries = sorted(os.scandir(self.path.parent), key=lambda e: e.name)
        except OSError:
            return found
        for entry in entries:
            if entry.name.startswith((f"{name}.", f"{name}-")):
                if entry.name.lower().endswith(_COMPRESSED) or unicode_problem(entry.name):
                    continue  # compressed, or a name the state cannot record
                found.append(Path(entry.path))
        return found

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            print(f"textrisk monitor: {message}", file=sys.stderr)

    def plan(self, final: bool = False) -> list[tuple[Position, Path]]:
        """The generations with lines to read, oldest first: ``(position to resume from, file holding it)``."""
        epoch = min((p.first_read for p in self.positions.values()), default=None)
        by_head: dict[str | None, list[Position]] = {}
        for p in self.positions.values():
            by_head.setdefault(p.head, []).append(p)
        known: dict[str, tuple[Path, int]] = {}
        new: dict[str, tuple[Path, os.stat_result]] = {}
        for file in self._files():
            try:
                st = file.stat()
                if not stat.S_ISREG(st.st_mode):
                    continue
                head = self._head(file, final)
            except FileNotFoundError:  # rotated away between the listing and now
                continue
            except OSError as exc:
                self._warn_once(str(file), f"cannot read {file} ({exc.strerror}); its records are not read")
                continue
            if head is None:
                continue
            matches = [p for p in by_head.get(head, [])
                       if st.st_size >= p.offset and self._mark(file, p.offset) == p.mark]
            if matches:
                best = max(matches, key=lambda p: p.offset)
                if best.source not in known or st.st_size > known[best.source][1]:
                    known[best.source] = (file, st.st_size)
            elif file == self.path or (epoch is not None and st.st_mtime >= epoch):
                if head not in new or st.st_size > new[head][1].st_size:  # a copy of a file not read yet
                    new[head] = (file, st)
        plan = [(self.positions[source], file) for source, (file, size) in
                sorted(known.items(), key=lambda item: self.positions[item[0]].rank)
                if size > self.positions[source].offset]
        rank = max((p.rank for p in self.positions.values()), default=-1) + 1
        order = sorted(new.items(), key=lambda item: (item[1][1].st_mtime_ns,
                                                     -_rotation_number(item[1][0].name, self.path.name)))
        for head, (file, _) in order:
            twins = len(by_head.get(head, []))
            source = f"{self.path}#{head[:16]}" + (f".{twins}" if twins else "")
            plan.append((Position(source, str(self.path), head, 0, 0, None, rank, 0.0), file))
            rank += 1
        return plan

    # ------------------------------------------------------------------------------------------------ reading
    def read(self, final: bool = False) -> Iterator[tuple[bytes, str, int, Position]]:
        """``(line bytes, file, line number, position after the line)`` of every complete line not read yet
        (``final``: a last line without a newline too), generation by generation."""
        for position, file in self.plan(final):
            yield from self._read(position, file, final)

    def _read(self, position: Position, file: Path, final: bool) -> Iterator[tuple[bytes, str, int, Position]]:
        try:
            handle = file.open("rb")
        except OSError:
            return  # rotated away since the plan: the next poll finds it under its new name
        with handle:
            start = max(0, position.offset - MARK_BYTES)
            handle.seek(start)
            window = handle.read(position.offset - start)
            if position.offset and _digest(window) != position.mark:
                return  # rewritten since the plan was made: the next poll matches it afresh
            for raw in handle:
                if not raw.endswith(b"\n") and not final:
                    break  # a writer is still appending this line
                window = (window + raw)[-MARK_BYTES:]
                position = replace(position, offset=position.offset + len(raw), line=position.line + 1,
                                   mark=_digest(window), first_read=position.first_read or self.clock())
                self.positions[position.source] = position
                yield raw, str(file), position.line, position
