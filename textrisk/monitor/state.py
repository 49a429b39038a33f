"""The monitor's state: one SQLite file (standard library, WAL mode) with the scored documents, per-entity
indices, alert history, the webhook outbox, drift results and the source offsets.

Each batch is one ``BEGIN IMMEDIATE ... COMMIT`` transaction that writes the documents, the entity rows,
the alerts with their outbox rows and the source offsets together; a kill at any moment leaves either the
whole batch or none of it, and documents are keyed by ``id`` so a replayed record is skipped, never
counted twice.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import DataError
from .indices import EntityIndex

__all__ = ["MonitorState", "SCHEMA"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, entity TEXT NOT NULL, ts REAL NOT NULL,
    arrived REAL NOT NULL, text TEXT NOT NULL, error TEXT, sentiment TEXT, p_negative REAL, p_positive REAL,
    risk_score REAL, risk_value REAL, signals TEXT, flags TEXT NOT NULL DEFAULT '[]', evidence TEXT,
    n_tokens INTEGER, unknown_share REAL, script TEXT, risk_index REAL, neg_index REAL, zscore REAL);
CREATE INDEX IF NOT EXISTS documents_entity_ts ON documents (entity, ts);
CREATE TABLE IF NOT EXISTS entities (
    entity TEXT PRIMARY KEY, first_ts REAL, last_ts REAL, risk_sum REAL, neg_sum REAL, weight REAL,
    n_docs INTEGER, hist_n INTEGER, hist_mean REAL, hist_m2 REAL);
CREATE TABLE IF NOT EXISTS alerts (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, rule TEXT NOT NULL, entity TEXT NOT NULL,
    ts REAL NOT NULL, doc_id TEXT, doc_seq INTEGER, arrived REAL, created REAL NOT NULL, payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alerts_rule_entity ON alerts (rule, entity, ts);
CREATE TABLE IF NOT EXISTS outbox (
    alert_id TEXT NOT NULL, url TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL
    DEFAULT 0, next_attempt REAL NOT NULL DEFAULT 0, last_error TEXT, delivered_at REAL,
    PRIMARY KEY (alert_id, url));
CREATE TABLE IF NOT EXISTS drift (
    seq_end INTEGER NOT NULL, feature TEXT NOT NULL, test TEXT NOT NULL, statistic REAL, ks REAL, p_value REAL,
    drift INTEGER NOT NULL, PRIMARY KEY (seq_end, feature));
CREATE TABLE IF NOT EXISTS offsets (source TEXT PRIMARY KEY, offset INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_ENTITY_COLUMNS = ("entity", "first_ts", "last_ts", "risk_sum", "neg_sum", "weight", "n_docs", "hist_n",
                   "hist_mean", "hist_m2")
DOCUMENT_COLUMNS = ("seq", "id", "entity", "ts", "arrived", "text", "error", "sentiment", "p_negative",
                    "p_positive", "risk_score", "risk_value", "signals", "flags", "evidence", "n_tokens",
                    "unknown_share", "script", "risk_index", "neg_index", "zscore")


class MonitorState:
    """The SQLite state file at ``path`` (created with its schema if new; ``readonly`` for the dashboard)."""

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        if readonly and not self.path.is_file():
            raise DataError(f"monitor state {self.path} does not exist (run textrisk monitor first)")
        try:
            if readonly:
                self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None,
                                          check_same_thread=False)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=FULL")
                self.db.executescript(SCHEMA)
            self.db.row_factory = sqlite3.Row
            self.db.execute("SELECT count(*) FROM documents").fetchone()
        except sqlite3.DatabaseError as exc:
            raise DataError(f"{self.path} is not a textrisk monitor state ({exc})") from None

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic batch: everything written inside commits together or not at all."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- reads -------------------------------------------------------------------------------------------------
    def offsets(self) -> dict[str, int]:
        """Source file -> bytes already consumed."""
        return {row["source"]: row["offset"] for row in self.db.execute("SELECT source, offset FROM offsets")}

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        """The ids among ``ids`` already stored."""
        ids = list(ids)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            found.update(r[0] for r in self.db.execute(f"SELECT id FROM documents WHERE id IN ({marks})", part))
        return found

    def entity(self, name: str) -> EntityIndex:
        """The entity's index state (a fresh one if the entity is new)."""
        row = self.db.execute("SELECT * FROM entities WHERE entity = ?", (name,)).fetchone()
        return EntityIndex(**dict(row)) if row else EntityIndex(entity=name)

    def document_count(self) -> int:
        """Documents stored (the last ``seq``)."""
        return self.db.execute("SELECT coalesce(max(seq), 0) FROM documents").fetchone()[0]

    def count_window(self, entity: str, start: float, end: float, signal: str | None = None,
                     probability: float = 0.0) -> int:
        """Documents of ``entity`` with ``start < ts <= end`` (only those with ``signal`` >= ``probability``)."""
        sql = "SELECT count(*) FROM documents WHERE entity = ? AND ts > ? AND ts <= ? AND error IS NULL"
        params: list[Any] = [entity, start, end]
        if signal is not None:
            sql += " AND json_extract(signals, ?) >= ?"
            params += [f'$."{signal}"', probability]
        return self.db.execute(sql, params).fetchone()[0]

    def last_alert_ts(self, rule: str, entity: str) -> float | None:
        """Event time of the latest alert of ``rule`` for ``entity``."""
        return self.db.execute("SELECT max(ts) FROM alerts WHERE rule = ? AND entity = ?",
                               (rule, entity)).fetchone()[0]

    def last_alert_seq(self, rule: str) -> int | None:
        """Document seq of the latest alert of ``rule`` (drift cooldowns count documents)."""
        return self.db.execute("SELECT max(doc_seq) FROM alerts WHERE rule = ?", (rule,)).fetchone()[0]

    def window_features(self, first: int, last: int) -> dict[str, list]:
        """Drift features of documents ``first <= seq <= last`` (scored ones only)."""
        rows = self.db.execute(
            "SELECT n_tokens, unknown_share, p_negative, p_positive, script, sentiment, signals, flags "
            "FROM documents WHERE seq BETWEEN ? AND ? AND error IS NULL ORDER BY seq", (first, last)).fetchall()
        features: dict[str, list] = {"length": [r[0] for r in rows], "unknown_share": [r[1] for r in rows],
                                     "p_negative": [r[2] for r in rows], "p_positive": [r[3] for r in rows],
                                     "script": [r[4] for r in rows], "sentiment": [r[5] for r in rows]}
        if rows and rows[0]["signals"] is not None:
            features["flagged"] = ["yes" if json.loads(r["flags"]) else "no" for r in rows]
        return features

    def alerts_after(self, seq: int) -> list[dict[str, Any]]:
        """Alert payloads with ``seq`` above the given one, oldest first (each with its ``seq``)."""
        rows = self.db.execute("SELECT seq, payload FROM alerts WHERE seq > ? ORDER BY seq", (seq,)).fetchall()
        return [{**json.loads(r["payload"]), "seq": r["seq"]} for r in rows]

    def due_outbox(self, now: float, limit: int = 100) -> list[sqlite3.Row]:
        """Pending deliveries whose next attempt is due, oldest alert first."""
        return self.db.execute(
            "SELECT o.alert_id, o.url, o.attempts, a.payload FROM outbox o JOIN alerts a ON a.id = o.alert_id "
            "WHERE o.status = 'pending' AND o.next_attempt <= ? ORDER BY a.seq LIMIT ?", (now, limit)).fetchall()

    def pending_outbox(self) -> int:
        """Deliveries not yet made (pending, due or not)."""
        return self.db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]

    # --- writes inside a transaction ---------------------------------------------------------------------------
    def put_document(self, row: dict[str, Any]) -> None:
        """Insert one scored document (``row`` keyed by :data:`DOCUMENT_COLUMNS`)."""
        marks = ",".join("?" * len(DOCUMENT_COLUMNS))
        self.db.execute(f"INSERT INTO documents ({','.join(DOCUMENT_COLUMNS)}) VALUES ({marks})",
                        [row.get(c) for c in DOCUMENT_COLUMNS])

    def put_entity(self, index: EntityIndex) -> None:
        """Insert or replace an entity's index state."""
        row = index.to_row()
        self.db.execute(f"INSERT OR REPLACE INTO entities ({','.join(_ENTITY_COLUMNS)}) VALUES "
                        f"({','.join('?' * len(_ENTITY_COLUMNS))})", [row[c] for c in _ENTITY_COLUMNS])

    def put_alert(self, alert: dict[str, Any], urls: Iterable[str]) -> bool:
        """Insert an alert (ignored if its id exists) and one outbox row per webhook URL; True if new."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO alerts (id, rule, entity, ts, doc_id, doc_seq, arrived, created, payload) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (alert["id"], alert["rule"], alert["entity"], alert["ts"], alert.get("doc_id"), alert.get("doc_seq"),
             alert.get("arrived"), alert["created"], json.dumps(alert, sort_keys=True)))
        if cursor.rowcount == 0:
            return False
        self.db.executemany("INSERT OR IGNORE INTO outbox (alert_id, url) VALUES (?, ?)",
                            [(alert["id"], url) for url in urls])
        return True

    def put_drift(self, seq_end: int, results: list[dict[str, Any]]) -> None:
        """Store one drift check."""
        self.db.executemany(
            "INSERT OR REPLACE INTO drift (seq_end, feature, test, statistic, ks, p_value, drift) "
            "VALUES (?,?,?,?,?,?,?)",
            [(seq_end, r["feature"], r["test"], r["statistic"], r["ks"], r["p_value"], int(r["drift"]))
             for r in results])

    def put_offsets(self, offsets: dict[str, int]) -> None:
        """Record how far each source file has been consumed."""
        self.db.executemany("INSERT OR REPLACE INTO offsets (source, offset) VALUES (?, ?)", offsets.items())

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting (e.g. the model the documents were scored with)."""
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def meta(self, key: str) -> str | None:
        """A stored setting."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # --- outbox bookkeeping (own transactions) -----------------------------------------------------------------
    def mark_delivery(self, alert_id: str, url: str, error: str | None, now: float, next_attempt: float,
                      dead: bool) -> None:
        """Record one delivery attempt."""
        if error is None:
            self.db.execute("UPDATE outbox SET status='delivered', attempts=attempts+1, delivered_at=?, "
                            "last_error=NULL WHERE alert_id=? AND url=?", (now, alert_id, url))
        else:
            self.db.execute("UPDATE outbox SET status=?, attempts=attempts+1, next_attempt=?, last_error=? "
                            "WHERE alert_id=? AND url=?", ("dead" if dead else "pending", next_attempt, error,
                                                          alert_id, url))
