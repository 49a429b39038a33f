"""The monitor state's tables, defined once (SQLAlchemy Core) for every database it runs on (SQLite, PostgreSQL).

JSON-valued columns (``signals``, ``flags``, ``evidence``, ``payload``) hold JSON text, so the rows read the same
on every backend and a SQLite state written before this module existed opens unchanged (same table, column and
index names; ``create_all`` creates only missing tables). Floats are double precision everywhere (``Float`` is
``REAL`` in SQLite, ``double precision`` in PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["ADDED_COLUMNS", "DEAD_LETTER_COLUMNS", "DOCUMENT_COLUMNS", "ENTITY_COLUMNS", "OFFSET_COLUMNS", "alerts",
           "dead_letters", "documents", "drift", "entities", "meta", "metadata", "offsets", "outbox"]

metadata = sa.MetaData()
# 64-bit sequence numbers on servers; SQLite keeps its INTEGER rowid alias (the spelling of states made before).
_Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

documents = sa.Table(
    "documents", metadata,
    sa.Column("seq", _Seq, primary_key=True, autoincrement=False),
    sa.Column("id", sa.Text, nullable=False, unique=True),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("arrived", sa.Float, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("sentiment", sa.Text),
    sa.Column("p_negative", sa.Float),
    sa.Column("p_positive", sa.Float),
    sa.Column("risk_score", sa.Float),
    sa.Column("risk_value", sa.Float),
    sa.Column("signals", sa.Text),
    sa.Column("flags", sa.Text, nullable=False, server_default="[]"),
    sa.Column("evidence", sa.Text),
    sa.Column("n_tokens", sa.Integer),
    sa.Column("unknown_share", sa.Float),
    sa.Column("script", sa.Text),
    sa.Column("risk_index", sa.Float),
    sa.Column("neg_index", sa.Float),
    sa.Column("zscore", sa.Float),
    sa.Column("url", sa.Text),  # added in textrisk 0.2.1 (the record's link), like the columns below
    sa.Column("severity", sa.Float),  # a judgement model's expected severity (0-3)
    sa.Column("kind", sa.Text),  # a judgement model's kind (event, outlook, boilerplate, other)
    sa.Index("documents_entity_ts", "entity", "ts"),
)
entities = sa.Table(
    "entities", metadata,
    sa.Column("entity", sa.Text, primary_key=True),
    *(sa.Column(name, sa.Float) for name in ("first_ts", "last_ts", "risk_sum", "neg_sum", "weight")),
    sa.Column("n_docs", sa.Integer),
    sa.Column("hist_n", sa.Integer),
    sa.Column("hist_mean", sa.Float),
    sa.Column("hist_m2", sa.Float),
)
alerts = sa.Table(
    "alerts", metadata,
    # numbered by the insert (max + 1 inside the batch transaction), not by a server sequence: a sequence keeps the
    # numbers a rolled-back batch drew, so a killed run would number its alerts differently from an uninterrupted one
    sa.Column("seq", _Seq, primary_key=True, autoincrement=False),
    sa.Column("id", sa.Text, nullable=False, unique=True),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("doc_id", sa.Text),
    sa.Column("doc_seq", sa.BigInteger),
    sa.Column("arrived", sa.Float),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("severity", sa.Integer),  # added in textrisk 0.2.1: 1 low, 2 medium, 3 high (textrisk.monitor.triage)
    sa.Column("burst_of", sa.Text),  # the alert this one is folded into (not delivered); NULL: delivered
    sa.Index("alerts_rule_entity", "rule", "entity", "ts"),
)
outbox = sa.Table(
    "outbox", metadata,
    sa.Column("alert_id", sa.Text, primary_key=True),
    sa.Column("url", sa.Text, primary_key=True),
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt", sa.Float, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", sa.Float),
)
drift = sa.Table(
    "drift", metadata,
    sa.Column("seq_end", sa.BigInteger, primary_key=True),
    sa.Column("feature", sa.Text, primary_key=True),
    sa.Column("test", sa.Text, nullable=False),
    sa.Column("statistic", sa.Float),
    sa.Column("ks", sa.Float),
    sa.Column("p_value", sa.Float),
    sa.Column("drift", sa.Integer, nullable=False),
)
offsets = sa.Table(  # one row per generation of a tailed file (textrisk.monitor.tail.Position)
    "offsets", metadata,
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("offset", sa.BigInteger, nullable=False),  # a reserved word in PostgreSQL: SQLAlchemy quotes it
    sa.Column("path", sa.Text),  # added in textrisk 0.2.1 (rotation-aware tailing), like the columns below
    sa.Column("head", sa.Text),
    sa.Column("line", sa.BigInteger),
    sa.Column("mark", sa.Text),
    sa.Column("rank", sa.BigInteger),
    sa.Column("first_read", sa.Float),
)
dead_letters = sa.Table(  # records that could not be processed (textrisk.monitor.records.DeadLetter)
    "dead_letters", metadata,
    sa.Column("seq", _Seq, primary_key=True, autoincrement=False),
    sa.Column("location", sa.Text, nullable=False),  # "file line N"
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("arrived", sa.Float),
)
meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

DOCUMENT_COLUMNS = tuple(documents.c.keys())
ENTITY_COLUMNS = tuple(entities.c.keys())
OFFSET_COLUMNS = tuple(offsets.c.keys())
DEAD_LETTER_COLUMNS = tuple(dead_letters.c.keys())
#: Columns added to existing tables since the first release: (table, column), added to an older state on open.
ADDED_COLUMNS = (tuple((offsets, offsets.c[name]) for name in ("path", "head", "line", "mark", "rank", "first_read"))
                 + tuple((documents, documents.c[name]) for name in ("url", "severity", "kind"))
                 + tuple((alerts, alerts.c[name]) for name in ("severity", "burst_of")))
