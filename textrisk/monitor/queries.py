"""The monitor state's statements (SQLAlchemy Core), built once per dialect with named bind parameters.

Building a Core statement costs more than running it on SQLite (the monitor runs several per document), so
:class:`MonitorState` executes these prebuilt ones with parameter dicts; SQLAlchemy's compiled cache then
turns each into SQL once. The only dialect differences are the upsert construct (both dialects spell it
``INSERT ... ON CONFLICT``) and reading a number out of the ``signals`` JSON text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .schema import alerts, dead_letters, documents, entities, meta, offsets, outbox
from .schema import drift as drift_table

__all__ = ["Queries", "queries"]


def _param(name: str, type_: sa.types.TypeEngine | None = None) -> sa.BindParameter:
    return sa.bindparam(name, type_=type_)


def _signal_probability(dialect: str) -> sa.ColumnElement:
    """``signals[:signal]`` as a number (the ``signals`` column holds JSON text)."""
    if dialect == "postgresql":
        return sa.cast(documents.c.signals, postgresql.JSONB)[_param("signal", sa.Text())].astext.cast(sa.Float)
    return sa.func.json_extract(documents.c.signals, sa.literal('$."') + _param("signal", sa.Text()) + '"')


@dataclass(frozen=True)
class Queries:
    """Every statement the monitor runs on its state; parameters are named in each comment."""

    offsets: sa.Select  # -
    known_ids: sa.Select  # ids (a list)
    entity: sa.Select  # entity
    document_count: sa.Select  # -
    count_window: sa.Select  # entity, start, end
    count_signal: sa.Select  # entity, start, end, signal, probability
    last_alert_ts: sa.Select  # rule, entity
    last_alert_seq: sa.Select  # rule
    burst_lead: sa.Select  # entity, start, end
    window: sa.Select  # first, last
    alerts_after: sa.Select  # seq
    dead_letters_after: sa.Select  # seq
    due_outbox: sa.Select  # now, limit
    pending_outbox: sa.Select  # -
    meta_value: sa.Select  # key
    insert_document: sa.Insert  # the document columns
    insert_alert: sa.Insert  # the alert columns but seq (the next one); does nothing if the id exists
    insert_outbox: sa.Insert  # alert_id, url; does nothing if the pair exists
    insert_dead_letter: sa.Insert  # the dead-letter columns but seq (the next one)
    upsert_entity: sa.Insert  # the entity columns
    upsert_drift: sa.Insert  # the drift columns
    upsert_offset: sa.Insert  # source, offset
    upsert_meta: sa.Insert  # key, value
    mark_delivery: sa.Update  # match_alert_id, match_url, and the outbox columns to set


def _upsert(insert, table: sa.Table) -> sa.Insert:
    """Insert, replacing the row whose primary key exists."""
    statement = insert(table)
    keys = [column.name for column in table.primary_key]
    return statement.on_conflict_do_update(
        index_elements=keys, set_={c.name: statement.excluded[c.name] for c in table.c if c.name not in keys})


@functools.cache
def queries(dialect: str) -> Queries:
    """The statements for ``dialect`` (``"sqlite"`` or ``"postgresql"``)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    d, a, o = documents.c, alerts.c, outbox.c
    count = sa.select(sa.func.count()).where(d.entity == _param("entity"), d.ts > _param("start"),
                                             d.ts <= _param("end"), d.error.is_(None))
    features = ("n_tokens", "unknown_share", "p_negative", "p_positive", "script", "sentiment", "signals", "flags")
    return Queries(
        offsets=sa.select(offsets),
        known_ids=sa.select(d.id).where(d.id.in_(sa.bindparam("ids", expanding=True))),
        entity=sa.select(entities).where(entities.c.entity == _param("entity")),
        document_count=sa.select(sa.func.coalesce(sa.func.max(d.seq), 0)),
        count_window=count,
        count_signal=count.where(_signal_probability(dialect) >= _param("probability")),
        last_alert_ts=sa.select(sa.func.max(a.ts)).where(a.rule == _param("rule"), a.entity == _param("entity")),
        last_alert_seq=sa.select(sa.func.max(a.doc_seq)).where(a.rule == _param("rule")),
        burst_lead=sa.select(a.id, a.ts, a.severity).where(a.entity == _param("entity"), a.burst_of.is_(None),
                                                           a.ts > _param("start"), a.ts < _param("end"))
        .order_by(a.ts.desc(), a.seq.desc()).limit(1),
        window=sa.select(*(d[name] for name in features)).where(d.seq.between(_param("first"), _param("last")),
                                                                d.error.is_(None)).order_by(d.seq),
        alerts_after=sa.select(a.seq, a.payload).where(a.seq > _param("seq"), a.burst_of.is_(None)).order_by(a.seq),
        dead_letters_after=sa.select(dead_letters).where(dead_letters.c.seq > _param("seq"))
        .order_by(dead_letters.c.seq),
        due_outbox=sa.select(o.alert_id, o.url, o.attempts, a.payload).join_from(outbox, alerts, a.id == o.alert_id)
        .where(o.status == "pending", o.next_attempt <= _param("now")).order_by(a.seq)
        .limit(_param("limit", sa.Integer())),
        pending_outbox=sa.select(sa.func.count()).select_from(outbox).where(o.status == "pending"),
        meta_value=sa.select(meta.c.value).where(meta.c.key == _param("key")),
        insert_document=sa.insert(documents),
        insert_alert=insert(alerts).values(seq=sa.select(sa.func.coalesce(sa.func.max(a.seq), 0) + 1)
                                           .scalar_subquery()).on_conflict_do_nothing(),
        insert_outbox=insert(outbox).on_conflict_do_nothing(),
        insert_dead_letter=sa.insert(dead_letters).values(
            seq=sa.select(sa.func.coalesce(sa.func.max(dead_letters.c.seq), 0) + 1).scalar_subquery()),
        upsert_entity=_upsert(insert, entities),
        upsert_drift=_upsert(insert, drift_table),
        upsert_offset=_upsert(insert, offsets),
        upsert_meta=_upsert(insert, meta),
        mark_delivery=sa.update(outbox).where(o.alert_id == _param("match_alert_id"), o.url == _param("match_url"))
        .values(attempts=o.attempts + 1),
    )
