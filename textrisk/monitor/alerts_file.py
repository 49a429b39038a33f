"""The alerts JSONL file: every alert in the state, once, in order.

After each committed batch the new alerts are appended (and fsynced). On start the file is reconciled with
the state: a torn last line (a kill mid-write) is cut off and alerts committed but not yet written are
appended, so the file never loses or repeats an alert across kills and restarts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from .state import MonitorState

__all__ = ["AlertsFile"]


class AlertsFile:
    """Append-only alerts file at ``path``, kept in step with a :class:`MonitorState`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.written: set[str] = set()
        self.last_seq = 0
        if self.path.exists():
            data = self.path.read_bytes()
            cut = data.rfind(b"\n") + 1
            if cut != len(data):  # a torn last line
                with self.path.open("r+b") as handle:
                    handle.truncate(cut)
            for line in data[:cut].decode("utf-8").splitlines():
                if line.strip():
                    self.written.add(json.loads(line)["id"])

    def sync(self, state: MonitorState, clock: Callable[[], float]) -> int:
        """Append the state's alerts not yet in the file; returns how many were written."""
        alerts = state.alerts_after(self.last_seq)
        if alerts:
            self.last_seq = alerts[-1]["seq"]
        pending = [a for a in alerts if a["id"] not in self.written]
        if not pending:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        now = clock()
        with self.path.open("a", encoding="utf-8") as handle:
            for alert in pending:
                alert.pop("seq")
                handle.write(json.dumps({**alert, "emitted": now}, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.written.update(a["id"] for a in pending)
        return len(pending)
