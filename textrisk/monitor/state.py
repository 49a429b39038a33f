"""The monitor's state: scored documents, per-entity indices, alert history, the webhook outbox, drift results,
the source positions and the dead letters, in a SQLite file (standard library ``sqlite3``, WAL) or a PostgreSQL
database; the tables are :mod:`textrisk.monitor.schema`, the location :mod:`textrisk.monitor.database`, and
every statement (:mod:`textrisk.monitor.queries`) is SQLAlchemy Core, one code path for both.

Each batch is one transaction (``BEGIN IMMEDIATE`` on SQLite; on PostgreSQL a transaction holding an advisory
lock, so batch transactions never interleave and seq numbers stay dense) that writes the documents, the entity
rows, the alerts with their outbox rows, the dead letters and the source positions together; a kill at any
moment leaves either the whole batch or none of it, and documents are keyed by ``id`` so a replayed record is
skipped, never counted twice. Reads outside a batch are short transactions of their own.

Opening a state for writing refuses a database that is not one (tables of another application, a table of
textrisk's name with other columns), a read-only one, and adds the columns a newer textrisk needs to a state of
an older one; the ``meta`` row ``format`` marks the database as a textrisk monitor state.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..errors import DataError
from .database import open_database
from .indices import EntityIndex
from .queries import queries
from .schema import ADDED_COLUMNS, DEAD_LETTER_COLUMNS, DOCUMENT_COLUMNS, ENTITY_COLUMNS, OFFSET_COLUMNS, metadata

__all__ = ["DOCUMENT_COLUMNS", "STATE_FORMAT", "MonitorState"]

#: The ``meta`` value ``format`` of a monitor state.
STATE_FORMAT = "textrisk-monitor-1"

_LOCK_KEY = 0x74657874726973  # pg_advisory_xact_lock key of the batch transactions ("textris")


class MonitorState:
    """The state at ``location``: a SQLite file path or a SQLAlchemy URL (created with its schema if new;
    ``readonly`` for the dashboard, which needs an existing state).

    Attributes:
        location: the path or URL it was opened with (another connection opens the same state).
        label: the path, or the URL without its password (for messages).
        dialect: ``"sqlite"`` or ``"postgresql"``.
        path: the SQLite file (None on a server).
        db: the DB-API connection underneath (a ``sqlite3.Connection`` with ``sqlite3.Row`` rows for a SQLite
            state), for ad-hoc SQL outside a batch.
    """

    def __init__(self, location: str | Path, readonly: bool = False):
        self.location = str(location)
        database = open_database(location, readonly)
        self.engine, self.conn, self.dialect, self.label = (database.engine, database.connection, database.dialect,
                                                            database.label)
        self.path = database.path
        self._q = queries(self.dialect)
        self._in_batch = False
        try:
            if not readonly:
                with self.conn.begin():
                    self._prepare()
            self.scalar(self._q.document_count)
        except DataError:
            self.close()
            raise
        except sa.exc.DBAPIError as exc:
            self.close()
            reason = _reason(exc)
            if readonly and self.path is None:
                raise DataError(f"{self.label} holds no textrisk monitor state (run textrisk monitor first; "
                                f"{reason})") from None
            if "readonly" in reason or "read-only" in reason:
                raise DataError(f"{self.label} is read-only ({reason}); textrisk monitor writes its state: check "
                                "the permissions of the file and its folder, or use another --state") from None
            raise DataError(f"{self.label} is not a textrisk monitor state ({reason})") from None
        self.db = self.conn.connection.dbapi_connection

    def _prepare(self) -> None:
        """Refuse a database that is not a monitor state; create the tables and columns it lacks; mark it."""
        inspector = sa.inspect(self.conn)  # (a SQLite file with other tables was refused by open_database)
        present = set(inspector.get_table_names())
        ours = set(metadata.tables)
        added = {(table.name, column.name) for table, column in ADDED_COLUMNS}
        for name in sorted(present & ours):
            columns = {c["name"] for c in inspector.get_columns(name)}
            lacking = [c.name for c in metadata.tables[name].c if c.name not in columns and (name, c.name) not in added]
            if lacking:
                raise DataError(f"{self.label} is not a textrisk monitor state: its table {name!r} lacks the "
                                f"column(s) {lacking}; use a new --state")
        metadata.create_all(self.conn)
        quote = self.conn.dialect.identifier_preparer.quote
        for table, column in ADDED_COLUMNS:
            if table.name in present and column.name not in {c["name"] for c in inspector.get_columns(table.name)}:
                kind = column.type.compile(dialect=self.conn.dialect)
                self.conn.exec_driver_sql(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {kind}")
        self.conn.execute(self._q.upsert_meta, {"key": "format", "value": STATE_FORMAT})

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()
        self.engine.dispose()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[MonitorState]:
        """One atomic batch: everything written inside commits together or not at all.

        Raises:
            DataError: the database refused the write (disk full, read-only, lost connection), naming it.
        """
        try:
            with self.conn.begin():
                if self.dialect == "postgresql":
                    self.conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
                self._in_batch = True
                try:
                    yield self
                finally:
                    self._in_batch = False
        except sa.exc.OperationalError as exc:
            raise DataError(f"cannot write the monitor state {self.label}: {_reason(exc)}") from None

    @contextlib.contextmanager
    def _session(self) -> Iterator[sa.engine.Connection]:
        """The batch's connection inside a batch, else one short transaction of its own."""
        if self._in_batch:
            yield self.conn
        else:
            with self.conn.begin():
                yield self.conn

    def rows(self, statement: sa.Executable, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a query; its rows as dicts (used by the dashboard too)."""
        with self._session() as conn:
            return [dict(row) for row in conn.execute(statement, params).mappings()]

    def scalar(self, statement: sa.Executable, params: dict[str, Any] | None = None) -> Any:
        """Run a query; the first column of its first row."""
        with self._session() as conn:
            return conn.execute(statement, params).scalar()

    def _write(self, statement: sa.Executable, params: Any = None) -> int:
        with self._session() as conn:
            return conn.execute(statement, params).rowcount

    # --- reads -------------------------------------------------------------------------------------------------
    def offsets(self) -> list[dict[str, Any]]:
        """How far each source file generation has been read (rows of :class:`textrisk.monitor.tail.Position`)."""
        return self.rows(self._q.offsets)

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        """The ids among ``ids`` already stored."""
        ids = list(ids)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            found.update(row["id"] for row in self.rows(self._q.known_ids, {"ids": ids[start:start + 500]}))
        return found

    def entity(self, name: str) -> EntityIndex:
        """The entity's index state (a fresh one if the entity is new)."""
        rows = self.rows(self._q.entity, {"entity": name})
        return EntityIndex(**rows[0]) if rows else EntityIndex(entity=name)

    def document_count(self) -> int:
        """Documents stored (the last ``seq``)."""
        return self.scalar(self._q.document_count)

    def count_window(self, entity: str, start: float, end: float, signal: str | None = None,
                     probability: float = 0.0) -> int:
        """Documents of ``entity`` with ``start < ts <= end`` (only those with ``signal`` >= ``probability``)."""
        params = {"entity": entity, "start": start, "end": end}
        if signal is None:
            return self.scalar(self._q.count_window, params)
        return self.scalar(self._q.count_signal, {**params, "signal": signal, "probability": probability})

    def last_alert_ts(self, rule: str, entity: str) -> float | None:
        """Event time of the latest alert of ``rule`` for ``entity``."""
        return self.scalar(self._q.last_alert_ts, {"rule": rule, "entity": entity})

    def burst_lead(self, entity: str, start: float, end: float) -> dict[str, Any] | None:
        """The latest delivered alert of ``entity`` with ``start < ts < end`` (id, ts, severity), or None."""
        rows = self.rows(self._q.burst_lead, {"entity": entity, "start": start, "end": end})
        return rows[0] if rows else None

    def last_alert_seq(self, rule: str) -> int | None:
        """Document seq of the latest alert of ``rule`` (drift cooldowns count documents)."""
        return self.scalar(self._q.last_alert_seq, {"rule": rule})

    def window_features(self, first: int, last: int) -> dict[str, list]:
        """Drift features of documents ``first <= seq <= last`` (scored ones only)."""
        rows = self.rows(self._q.window, {"first": first, "last": last})
        features: dict[str, list] = {"length": [r["n_tokens"] for r in rows]}
        for name in ("unknown_share", "p_negative", "p_positive", "script", "sentiment"):
            features[name] = [r[name] for r in rows]
        if rows and rows[0]["signals"] is not None:
            features["flagged"] = ["yes" if json.loads(r["flags"]) else "no" for r in rows]
        return features

    def alerts_after(self, seq: int) -> list[dict[str, Any]]:
        """Payloads of the delivered alerts (not folded into another) with ``seq`` above the given one, oldest
        first (each with its ``seq``)."""
        return [{**json.loads(r["payload"]), "seq": r["seq"]} for r in self.rows(self._q.alerts_after, {"seq": seq})]

    def dead_letters_after(self, seq: int) -> list[dict[str, Any]]:
        """Dead letters with ``seq`` above the given one, oldest first."""
        return self.rows(self._q.dead_letters_after, {"seq": seq})

    def due_outbox(self, now: float, limit: int = 100) -> list[dict[str, Any]]:
        """Pending deliveries whose next attempt is due, oldest alert first (alert_id, url, attempts, payload)."""
        return self.rows(self._q.due_outbox, {"now": now, "limit": limit})

    def pending_outbox(self) -> int:
        """Deliveries not yet made (pending, due or not)."""
        return self.scalar(self._q.pending_outbox)

    # --- writes inside a transaction ---------------------------------------------------------------------------
    def put_document(self, row: dict[str, Any]) -> None:
        """Insert one scored document (``row`` keyed by :data:`DOCUMENT_COLUMNS`)."""
        self._write(self._q.insert_document, {c: row.get(c) for c in DOCUMENT_COLUMNS})

    def put_entities(self, indices: Iterable[EntityIndex]) -> None:
        """Insert or replace entities' index states."""
        rows = [index.to_row() for index in indices]
        if rows:
            self._write(self._q.upsert_entity, [{c: row[c] for c in ENTITY_COLUMNS} for row in rows])

    def put_alert(self, alert: dict[str, Any], urls: Iterable[str]) -> bool:
        """Insert an alert (ignored if its id exists) and, unless it is folded into another (``burst_of``), one
        outbox row per webhook URL; True if new."""
        row = {key: alert.get(key) for key in ("id", "rule", "entity", "ts", "doc_id", "doc_seq", "arrived",
                                               "created", "severity", "burst_of")}
        if self._write(self._q.insert_alert, {**row, "payload": json.dumps(alert, sort_keys=True)}) == 0:
            return False
        deliveries = [] if alert.get("burst_of") else [{"alert_id": alert["id"], "url": url} for url in urls]
        if deliveries:
            self._write(self._q.insert_outbox, deliveries)
        return True

    def put_drift(self, seq_end: int, results: list[dict[str, Any]]) -> None:
        """Store one drift check."""
        if results:
            self._write(self._q.upsert_drift, [
                {"seq_end": seq_end, "feature": r["feature"], "test": r["test"], "statistic": r["statistic"],
                 "ks": r["ks"], "p_value": r["p_value"], "drift": int(r["drift"])} for r in results])

    def put_offsets(self, positions: Iterable[dict[str, Any]]) -> None:
        """Record how far each source file generation has been read (rows keyed by ``source``)."""
        rows = [{c: row.get(c) for c in OFFSET_COLUMNS} for row in positions]
        if rows:
            self._write(self._q.upsert_offset, rows)

    def put_dead_letter(self, row: dict[str, Any]) -> None:
        """Store a record that could not be processed (``row``: location, error, raw, arrived); numbered next."""
        self._write(self._q.insert_dead_letter, {c: row.get(c) for c in DEAD_LETTER_COLUMNS if c != "seq"})

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting (e.g. the model the documents were scored with)."""
        self._write(self._q.upsert_meta, {"key": key, "value": value})

    def meta(self, key: str) -> str | None:
        """A stored setting."""
        return self.scalar(self._q.meta_value, {"key": key})

    # --- outbox bookkeeping (own transactions) -----------------------------------------------------------------
    def mark_delivery(self, alert_id: str, url: str, error: str | None, now: float, next_attempt: float,
                      dead: bool) -> None:
        """Record one delivery attempt."""
        if error is None:
            values = {"status": "delivered", "delivered_at": now, "last_error": None}
        else:
            values = {"status": "dead" if dead else "pending", "next_attempt": next_attempt, "last_error": error}
        self._write(self._q.mark_delivery, {"match_alert_id": alert_id, "match_url": url, **values})


def _reason(exc: sa.exc.DBAPIError) -> str:
    """The first line of the driver's message."""
    return str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0]
