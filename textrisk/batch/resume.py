"""The resumable partial file of a batch scoring run (``<output>.partial.jsonl``) and what it is checked against.

Line 1 is a header, ``{"textrisk_partial": 1, "run": {...}}``: the model's identity (its content hash,
:func:`textrisk.models.identity.model_identity`) and every option the scores depend on. Each further line is ``{"pos",
"sha256", "record"}``: a scored row's position, the sha256 of the input row it was computed from (id, text and other
fields) and its output record. On resume the header must match the new run exactly (else :class:`DataError` naming
what changed), a row is kept only if the input row at its position still has the same hash (changed rows are
re-scored), and unreadable lines -- the torn last line of a killed run -- are dropped and re-done. The file is then
rewritten atomically with the rows kept, and new rows are appended.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..utils.atomic import atomic_write_text
from .output import dumps_json

__all__ = ["PartialRun", "row_digest"]

_FORMAT = 1


def row_digest(doc: Any) -> str:
    """sha256 of everything in an input row that its output record depends on."""
    payload = dumps_json({"id": doc.id, "text": doc.text, "error": doc.error, "extra": doc.extra})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _say(message: str) -> None:
    print(message, file=sys.stderr)


class PartialRun:
    """The partial file at ``path`` for a run described by ``run`` (a JSON-ready dict)."""

    def __init__(self, path: Path, run: dict[str, Any]):
        self.path = path
        self.run = json.loads(json.dumps(run))  # normalised as it will read back

    def _read(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]], int]:
        lines = self.path.read_text(encoding="utf-8", errors="replace").split("\n")
        try:
            header = json.loads(lines[0])
            if header.get("textrisk_partial") != _FORMAT:
                header = None
        except (json.JSONDecodeError, AttributeError):
            header = None
        rows, bad = [], 0
        for line in lines[1:]:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if isinstance(row, dict) and {"pos", "sha256", "record"} <= set(row):
                    rows.append(row)
                    continue
            except json.JSONDecodeError:
                pass
            bad += 1
        return header, rows, bad

    def start(self, documents: list[Any], digests: list[str], resume: bool, force: bool) -> dict[int, dict]:
        """Records already computed for this run, by position; (re)writes the partial file's header.

        Raises:
            DataError: a partial file exists and neither ``resume`` nor ``force`` was given, or it belongs to
                a run with another model or other options.
        """
        kept: dict[int, dict[str, Any]] = {}
        if self.path.exists():
            header, rows, bad = self._read()
            if force:
                _say(f"discarding {self.path} ({len(rows)} scored rows of an earlier run): --force")
            elif not resume:
                raise DataError(f"{self.path} holds {len(rows)} scored rows of an interrupted run; add --resume "
                                "to continue it or --force to discard it")
            elif header is None:
                raise DataError(f"{self.path} is not a textrisk partial file (or its header is torn); "
                                "use --force to discard it")
            elif header.get("run") != self.run:
                before = header.get("run") or {}
                changed = sorted(k for k in set(before) | set(self.run) if before.get(k) != self.run.get(k))
                raise DataError(f"{self.path} was written with a different {', '.join(changed)}; resuming would "
                                "mix scores of two runs: use --force to discard it, or rerun with the old settings")
            else:
                stale = 0
                for row in rows:
                    pos = row["pos"]
                    if isinstance(pos, int) and 0 <= pos < len(documents) and digests[pos] == row["sha256"]:
                        kept.setdefault(pos, row["record"])
                    else:
                        stale += 1
                notes = [f"{stale} changed in the input" if stale else "", f"{bad} unreadable (torn)" if bad else ""]
                notes = [note for note in notes if note]
                _say(f"resuming: {len(kept)} of {len(documents)} rows already scored"
                     + (f"; re-scoring {' and '.join(notes)}" if notes else ""))
        elif resume:
            _say(f"nothing to resume at {self.path}; starting from the first row")
        body = "".join(dumps_json({"pos": pos, "sha256": digests[pos], "record": record}) + "\n"
                       for pos, record in sorted(kept.items()))
        atomic_write_text(self.path, dumps_json({"textrisk_partial": _FORMAT, "run": self.run}) + "\n" + body)
        return kept

    def append(self, positions: list[int], digests: list[str], records: list[dict[str, Any]]) -> None:
        """Add scored rows (flushed, so a killed run loses at most the block being scored)."""
        with self.path.open("a", encoding="utf-8") as handle:
            handle.writelines(dumps_json({"pos": pos, "sha256": digests[pos], "record": record}) + "\n"
                              for pos, record in zip(positions, records))
            handle.flush()

    def remove(self) -> None:
        """Delete the partial file (the final output is in place)."""
        self.path.unlink(missing_ok=True)
