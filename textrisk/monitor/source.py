"""Record sources: a JSONL file that keeps growing (tailed by byte offset), a folder of JSONL files, or stdin.

A source yields ``(record, position)`` pairs; ``position`` is ``(key, byte_offset)``, the point just after the
record, stored in the state in the same transaction as the record's batch so a restart resumes there.
Only complete lines (ending in a newline) are consumed while following; ``--once`` also takes a final line
without one. A malformed line is reported on stderr (file and byte offset, the problem) and skipped.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..data.datasets import parse_json_object
from ..errors import DataError

__all__ = ["Record", "Source", "open_source", "parse_record", "parse_timestamp"]

Position = tuple[str, int]


@dataclass(frozen=True)
class Record:
    """One monitored document."""

    id: str
    timestamp: float  # POSIX seconds, UTC
    entity: str
    text: str


def parse_timestamp(value: object, where: str) -> float:
    """POSIX seconds from a number or an ISO 8601 string (naive times are taken as UTC)."""
    if isinstance(value, bool):
        raise DataError(f"{where}: field 'timestamp' must be a number or an ISO 8601 string, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise DataError(f"{where}: field 'timestamp' is not an ISO 8601 time: {value!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    raise DataError(f"{where}: field 'timestamp' must be a number or an ISO 8601 string, got {value!r}")


def parse_record(line: str, where: str) -> Record:
    """A :class:`Record` from one JSONL line; ``where`` ("file line N") prefixes every error."""
    raw = parse_json_object(line, where)
    missing = [key for key in ("id", "timestamp", "entity", "text") if key not in raw]
    if missing:
        raise DataError(f"{where}: missing field(s) {missing}")
    for key in ("entity", "text"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise DataError(f"{where}: field {key!r} must be a non-empty string")
    if not isinstance(raw["id"], (str, int)) or isinstance(raw["id"], bool):
        raise DataError(f"{where}: field 'id' must be a string or an integer")
    return Record(id=str(raw["id"]), timestamp=parse_timestamp(raw["timestamp"], where),
                  entity=raw["entity"].strip(), text=raw["text"])


class Source:
    """Records from ``path`` (a JSONL file or a folder of ``*.jsonl`` files) or ``"-"`` (stdin).

    Args:
        offsets: byte offset per file key already consumed (from the state).
    """

    def __init__(self, path: str, offsets: dict[str, int] | None = None):
        self.path = path
        self.offsets = dict(offsets or {})
        if path != "-" and not Path(path).exists():
            raise DataError(f"monitor input {path!r} does not exist")

    def files(self) -> list[Path]:
        """The files to read, in name order (a folder's new files are picked up on every call)."""
        target = Path(self.path)
        return sorted(target.glob("*.jsonl")) if target.is_dir() else [target]

    def poll(self, final: bool = False) -> Iterator[tuple[Record, Position]]:
        """Records not yet consumed; ``final`` also takes a last line that has no newline yet."""
        if self.path == "-":
            yield from self._stdin()
            return
        for file in self.files():
            yield from self._file(file, final)

    def _file(self, file: Path, final: bool) -> Iterator[tuple[Record, Position]]:
        key = str(file.resolve())
        offset = self.offsets.get(key, 0)
        with file.open("rb") as handle:
            handle.seek(offset)
            for raw in handle:
                if not raw.endswith(b"\n") and not final:
                    break  # a writer is still appending this line
                offset += len(raw)
                self.offsets[key] = offset
                text = raw.decode("utf-8", errors="replace").strip()
                if not text:
                    continue
                try:
                    record = parse_record(text, f"{file} byte {offset - len(raw)}")
                except DataError as exc:  # one bad line must not stop a live monitor: say so and go on
                    print(f"textrisk monitor: skipped a record: {exc}", file=sys.stderr)
                    continue
                yield record, (key, offset)

    def _stdin(self) -> Iterator[tuple[Record, Position]]:
        for number, line in enumerate(sys.stdin, start=1):
            if line.strip():
                try:
                    yield parse_record(line, f"stdin line {number}"), ("-", number)
                except DataError as exc:
                    print(f"textrisk monitor: skipped a record: {exc}", file=sys.stderr)


def open_source(path: str, offsets: dict[str, int] | None = None) -> Source:
    """A :class:`Source` for ``path`` resuming at ``offsets``."""
    return Source(path, offsets)
