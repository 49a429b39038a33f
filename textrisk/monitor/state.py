"""The monitor's state: scored documents, per-entity indices, alert history, the webhook outbox, drift results
and the source offsets, in a SQLite file (standard library ``sqlite3``, WAL) or a PostgreSQL database; the
tables are :mod:`textrisk.monitor.schema`, the location :mod:`textrisk.monitor.database`, and every query is
SQLAlchemy Core, one code path for both.

Each batch is one transaction (``BEGIN IMMEDIATE`` on SQLite; on PostgreSQL a transaction holding an advisory
lock, so two monitors on one database take turns) that writes the documents, the entity rows, the alerts with
their outbox rows and the source offsets together; a kill at any moment leaves either the whole batch or none
of it, and documents are keyed by ``id`` so a replayed record is skipped, never counted twice. Reads outside a
batch are short transactions of their own.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import DataError
from .database import open_database
from .indices import EntityIndex
from .schema import (
    DOCUMENT_COLUMNS,
    ENTITY_COLUMNS,
    alerts,
    documents,
    drift,
    entities,
    meta,
    metadata,
    offsets,
    outbox,
)

__all__ = ["DOCUMENT_COLUMNS", "MonitorState"]

_LOCK_KEY = 0x74657874726973  # pg_advisory_xact_lock key of the batch transactions ("textris")
_DRIFT_FEATURES = ("n_tokens", "unknown_share", "p_negative", "p_positive", "script", "sentiment", "signals",
                   "flags")


class MonitorState:
    """The state at ``location``: a SQLite file path or a SQLAlchemy URL (created with its schema if new;
    ``readonly`` for the dashboard, which needs an existing state).

    Attributes:
        label: the path, or the URL without its password (for messages).
        dialect: ``"sqlite"`` or ``"postgresql"``.
        db: the DB-API connection underneath (a ``sqlite3.Connection`` with ``sqlite3.Row`` rows for a SQLite
            state), for ad-hoc SQL outside a batch.
    """

    def __init__(self, location: str | Path, readonly: bool = False):
        database = open_database(location, readonly)
        self.engine, self.conn, self.dialect, self.label = (database.engine, database.connection, database.dialect,
                                                            database.label)
        self.path = database.path
        self._insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        self._in_batch = False
        try:
            if not readonly:
                with self.conn.begin():
                    metadata.create_all(self.conn)
            self.scalar(sa.select(sa.func.count()).select_from(documents))
        except sa.exc.DBAPIError as exc:
            self.close()
            reason = str(exc.orig).strip().splitlines()[0]
            if readonly and self.path is None:
                raise DataError(f"{self.label} holds no textrisk monitor state (run textrisk monitor first; "
                                f"{reason})") from None
            raise DataError(f"{self.label} is not a textrisk monitor state ({reason})") from None
        self.db = self.conn.connection.dbapi_connection

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()
        self.engine.dispose()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[MonitorState]:
        """One atomic batch: everything written inside commits together or not at all."""
        with self.conn.begin():
            if self.dialect == "postgresql":
                self.conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
            self._in_batch = True
            try:
                yield self
            finally:
                self._in_batch = False

    @contextlib.contextmanager
    def _session(self) -> Iterator[sa.engine.Connection]:
        """The batch's connection inside a batch, else one short transaction of its own."""
        if self._in_batch:
            yield self.conn
        else:
            with self.conn.begin():
                yield self.conn

    def rows(self, statement: sa.Executable) -> list[dict[str, Any]]:
        """Run a query; its rows as dicts (used by the dashboard too)."""
        with self._session() as conn:
            return [dict(row._mapping) for row in conn.execute(statement)]

    def scalar(self, statement: sa.Executable) -> Any:
        """Run a query; the first column of its first row."""
        with self._session() as conn:
            return conn.execute(statement).scalar()

    def _write(self, statement: sa.Executable, params: Any = None) -> int:
        with self._session() as conn:
            return conn.execute(statement, params).rowcount

    def _upsert(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows``, replacing those whose primary key exists."""
        if not rows:
            return
        statement = self._insert(table)
        keys = [column.name for column in table.primary_key]
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={c.name: statement.excluded[c.name] for c in table.c if c.name not in keys})
        self._write(statement, rows)

    # --- reads -------------------------------------------------------------------------------------------------
    def offsets(self) -> dict[str, int]:
        """Source file -> bytes already consumed."""
        return {row["source"]: row["offset"] for row in self.rows(sa.select(offsets))}

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        """The ids among ``ids`` already stored."""
        ids = list(ids)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            query = sa.select(documents.c.id).where(documents.c.id.in_(ids[start:start + 500]))
            found.update(row["id"] for row in self.rows(query))
        return found

    def entity(self, name: str) -> EntityIndex:
        """The entity's index state (a fresh one if the entity is new)."""
        rows = self.rows(sa.select(entities).where(entities.c.entity == name))
        return EntityIndex(**rows[0]) if rows else EntityIndex(entity=name)

    def document_count(self) -> int:
        """Documents stored (the last ``seq``)."""
        return self.scalar(sa.select(sa.func.coalesce(sa.func.max(documents.c.seq), 0)))

    def _signal_probability(self, signal: str) -> sa.ColumnElement:
        """The probability of ``signal`` inside a document's ``signals`` JSON text."""
        if self.dialect == "postgresql":
            return sa.cast(documents.c.signals, postgresql.JSONB)[signal].astext.cast(sa.Float)
        return sa.func.json_extract(documents.c.signals, f'$."{signal}"')

    def count_window(self, entity: str, start: float, end: float, signal: str | None = None,
                     probability: float = 0.0) -> int:
        """Documents of ``entity`` with ``start < ts <= end`` (only those with ``signal`` >= ``probability``)."""
        d = documents.c
        query = sa.select(sa.func.count()).where(d.entity == entity, d.ts > start, d.ts <= end, d.error.is_(None))
        if signal is not None:
            query = query.where(self._signal_probability(signal) >= probability)
        return self.scalar(query)

    def last_alert_ts(self, rule: str, entity: str) -> float | None:
        """Event time of the latest alert of ``rule`` for ``entity``."""
        return self.scalar(sa.select(sa.func.max(alerts.c.ts)).where(alerts.c.rule == rule,
                                                                       alerts.c.entity == entity))

    def last_alert_seq(self, rule: str) -> int | None:
        """Document seq of the latest alert of ``rule`` (drift cooldowns count documents)."""
        return self.scalar(sa.select(sa.func.max(alerts.c.doc_seq)).where(alerts.c.rule == rule))

    def window_features(self, first: int, last: int) -> dict[str, list]:
        """Drift features of documents ``first <= seq <= last`` (scored ones only)."""
        rows = self.rows(sa.select(*(documents.c[name] for name in _DRIFT_FEATURES))
                         .where(documents.c.seq.between(first, last), documents.c.error.is_(None))
                         .order_by(documents.c.seq))
        features: dict[str, list] = {"length": [r["n_tokens"] for r in rows]}
        for name in ("unknown_share", "p_negative", "p_positive", "script", "sentiment"):
            features[name] = [r[name] for r in rows]
        if rows and rows[0]["signals"] is not None:
            features["flagged"] = ["yes" if json.loads(r["flags"]) else "no" for r in rows]
        return features

    def alerts_after(self, seq: int) -> list[dict[str, Any]]:
        """Alert payloads with ``seq`` above the given one, oldest first (each with its ``seq``)."""
        rows = self.rows(sa.select(alerts.c.seq, alerts.c.payload).where(alerts.c.seq > seq).order_by(alerts.c.seq))
        return [{**json.loads(r["payload"]), "seq": r["seq"]} for r in rows]

    def due_outbox(self, now: float, limit: int = 100) -> list[dict[str, Any]]:
        """Pending deliveries whose next attempt is due, oldest alert first (alert_id, url, attempts, payload)."""
        o = outbox.c
        return self.rows(sa.select(o.alert_id, o.url, o.attempts, alerts.c.payload)
                         .join_from(outbox, alerts, alerts.c.id == o.alert_id)
                         .where(o.status == "pending", o.next_attempt <= now).order_by(alerts.c.seq).limit(limit))

    def pending_outbox(self) -> int:
        """Deliveries not yet made (pending, due or not)."""
        return self.scalar(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status == "pending"))

    # --- writes inside a transaction ---------------------------------------------------------------------------
    def put_document(self, row: dict[str, Any]) -> None:
        """Insert one scored document (``row`` keyed by :data:`DOCUMENT_COLUMNS`)."""
        self._write(sa.insert(documents), {c: row.get(c) for c in DOCUMENT_COLUMNS})

    def put_entity(self, index: EntityIndex) -> None:
        """Insert or replace an entity's index state."""
        row = index.to_row()
        self._upsert(entities, [{c: row[c] for c in ENTITY_COLUMNS}])

    def put_alert(self, alert: dict[str, Any], urls: Iterable[str]) -> bool:
        """Insert an alert (ignored if its id exists) and one outbox row per webhook URL; True if new."""
        row = {key: alert.get(key) for key in ("id", "rule", "entity", "ts", "doc_id", "doc_seq", "arrived",
                                               "created")}
        inserted = self._write(self._insert(alerts).on_conflict_do_nothing(),
                               {**row, "payload": json.dumps(alert, sort_keys=True)})
        if inserted == 0:
            return False
        deliveries = [{"alert_id": alert["id"], "url": url} for url in urls]
        if deliveries:
            self._write(self._insert(outbox).on_conflict_do_nothing(), deliveries)
        return True

    def put_drift(self, seq_end: int, results: list[dict[str, Any]]) -> None:
        """Store one drift check."""
        self._upsert(drift, [{"seq_end": seq_end, "feature": r["feature"], "test": r["test"],
                              "statistic": r["statistic"], "ks": r["ks"], "p_value": r["p_value"],
                              "drift": int(r["drift"])} for r in results])

    def put_offsets(self, positions: dict[str, int]) -> None:
        """Record how far each source file has been consumed."""
        self._upsert(offsets, [{"source": source, "offset": offset} for source, offset in positions.items()])

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting (e.g. the model the documents were scored with)."""
        self._upsert(meta, [{"key": key, "value": value}])

    def meta(self, key: str) -> str | None:
        """A stored setting."""
        return self.scalar(sa.select(meta.c.value).where(meta.c.key == key))

    # --- outbox bookkeeping (own transactions) -----------------------------------------------------------------
    def mark_delivery(self, alert_id: str, url: str, error: str | None, now: float, next_attempt: float,
                      dead: bool) -> None:
        """Record one delivery attempt."""
        update = sa.update(outbox).where(outbox.c.alert_id == alert_id, outbox.c.url == url)
        if error is None:
            values = {"status": "delivered", "delivered_at": now, "last_error": None}
        else:
            values = {"status": "dead" if dead else "pending", "next_attempt": next_attempt, "last_error": error}
        self._write(update.values(attempts=outbox.c.attempts + 1, **values))
