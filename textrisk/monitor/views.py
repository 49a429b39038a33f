"""What the dashboard shows, read from the monitor state: the filters of a page (entity, rule, time window), the
entity overview, an entity's index and alerts, the documents behind the alerts, and what drift checking needs.

Time windows end at the latest document's time (a replay of 2015 tweets shows 2015), not at the wall clock.
Rows with times outside 1900..2100 (written before textrisk checked them) are left out.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs

import sqlalchemy as sa

from ..data.timestamps import EARLIEST, LATEST
from ..errors import InputError
from .drift import DriftConfig
from .schema import alerts, documents, drift
from .state import MonitorState

__all__ = ["DAY", "RISKY", "WINDOWS", "Filters", "alert_rows", "as_of", "documents_by_id", "drift_status",
           "entity_series", "overview_rows", "risky_documents", "rule_names", "totals"]

DAY = 86400.0
#: Time windows a page can show (days; None: everything).
WINDOWS = {"7d": 7, "30d": 30, "90d": 90, "1y": 365, "all": None}
#: The highest-risk documents panel lists documents whose risk (the value the index averages) is at least this.
RISKY = 0.5
_SPARK_POINTS, _CHART_POINTS = 80, 600


@dataclass(frozen=True)
class Filters:
    """A page's filters (query parameters ``entity``, ``rule``, ``window``)."""

    entity: str | None = None
    rule: str | None = None
    window: str = "30d"

    def __post_init__(self) -> None:
        if self.window not in WINDOWS:
            raise InputError(f"window must be one of {', '.join(WINDOWS)}, got {self.window!r}")

    @classmethod
    def from_query(cls, query: str, entity: str | None = None) -> Filters:
        """The filters of a URL's query string (``entity``: the entity of an /entity/ page)."""
        values = {key: items[-1] for key, items in parse_qs(query, keep_blank_values=True).items()}
        unknown = sorted(set(values) - {"entity", "rule", "window"})
        if unknown:
            raise InputError(f"unknown query parameter {unknown[0]!r} (entity, rule and window are known)")
        return cls(entity=entity or values.get("entity") or None, rule=values.get("rule") or None,
                   window=values.get("window") or "30d")

    def start(self, end: float | None) -> float | None:
        """The window's first second (None: no lower bound)."""
        days = WINDOWS[self.window]
        return None if end is None or days is None else end - days * DAY

    def query(self, **changes: str | None) -> str:
        """The query string of these filters with ``changes`` (no entity: pages name it in their path)."""
        values = {**asdict(self), "entity": None, **changes}
        return "&".join(f"{k}={v}" for k, v in values.items() if v)


def _in_range(column: sa.ColumnElement) -> sa.ColumnElement:
    return column.between(EARLIEST, LATEST)


def as_of(store: MonitorState) -> float | None:
    """The latest document's time (where windows end)."""
    d = documents.c
    return store.scalar(sa.select(sa.func.max(d.ts)).where(d.error.is_(None), _in_range(d.ts)))


def totals(store: MonitorState) -> tuple[int, int, int]:
    """Documents, alerts and webhook deliveries pending in the state."""
    n_docs = store.scalar(sa.select(sa.func.count()).select_from(documents))
    n_alerts = store.scalar(sa.select(sa.func.count()).select_from(alerts))
    return n_docs, n_alerts, store.pending_outbox()


def rule_names(store: MonitorState) -> list[str]:
    """Every rule that raised an alert, sorted."""
    return [r["rule"] for r in store.rows(sa.select(alerts.c.rule).distinct().order_by(alerts.c.rule))]


def _thin(rows: list[dict[str, Any]], most: int) -> list[tuple[float, float]]:
    step = max(1, len(rows) // most)
    points = [(r["ts"], r["risk_index"]) for r in rows[::step]]
    if rows and points[-1][0] != rows[-1]["ts"]:
        points.append((rows[-1]["ts"], rows[-1]["risk_index"]))
    return points


def entity_series(store: MonitorState, entity: str, start: float | None, most: int = _CHART_POINTS
                  ) -> list[tuple[float, float]]:
    """``(ts, risk index)`` of the entity's documents from ``start`` on, thinned to about ``most`` points."""
    d = documents.c
    where = [d.entity == entity, d.error.is_(None), _in_range(d.ts), d.risk_index.is_not(None)]
    if start is not None:
        where.append(d.ts >= start)
    return _thin(store.rows(sa.select(d.ts, d.risk_index).where(*where).order_by(d.ts, d.seq)), most)


def _alert_filter(filters: Filters, start: float | None) -> list[sa.ColumnElement]:
    a = alerts.c
    where = [_in_range(a.ts), a.burst_of.is_(None)]  # alerts folded into a burst are shown with their lead
    if start is not None:
        where.append(a.ts >= start)
    if filters.rule:
        where.append(a.rule == filters.rule)
    if filters.entity:
        where.append(a.entity == filters.entity)
    return where


def alert_rows(store: MonitorState, filters: Filters, start: float | None, limit: int = 50) -> list[dict[str, Any]]:
    """Delivered alerts under ``filters`` from ``start`` on, newest first, with their payload read."""
    a = alerts.c
    rows = store.rows(sa.select(a.ts, a.rule, a.entity, a.severity, a.doc_id, a.payload)
                      .where(*_alert_filter(filters, start)).order_by(a.ts.desc(), a.seq.desc()).limit(limit))
    for row in rows:
        row["payload"] = json.loads(row["payload"])
    return rows


def overview_rows(store: MonitorState, filters: Filters, end: float | None, limit: int = 500
                  ) -> list[dict[str, Any]]:
    """Per entity (most alerts in the window first): its latest index, the change over the window, documents and
    alerts (per rule) in the window, and sparkline points."""
    d, a = documents.c, alerts.c
    start = filters.start(end)
    where = [d.error.is_(None), _in_range(d.ts)]
    if filters.entity:
        where.append(d.entity == filters.entity)
    names = [r["entity"] for r in store.rows(sa.select(d.entity).where(*where).group_by(d.entity)
                                             .order_by(d.entity).limit(limit))]
    counts: dict[str, dict[str, int]] = {}
    for r in store.rows(sa.select(a.entity, a.rule, sa.func.count().label("n")).where(*_alert_filter(filters, start))
                        .group_by(a.entity, a.rule)):
        counts.setdefault(r["entity"], {})[r["rule"]] = r["n"]
    rows = []
    for name in names:
        series = entity_series(store, name, None if start is None else start - 30 * DAY, 10**9)
        inside = [(t, v) for t, v in series if start is None or t >= start]
        before = [v for t, v in series if start is not None and t < start]
        latest = series[-1][1] if series else None
        base = before[-1] if before else (inside[0][1] if inside else None)
        rows.append({"entity": name, "latest": latest, "latest_ts": series[-1][0] if series else None,
                     "change": None if latest is None or base is None or not inside else latest - base,
                     "docs": len(inside), "alerts": counts.get(name, {}),
                     "spark": _thin([{"ts": t, "risk_index": v} for t, v in inside], _SPARK_POINTS)})
    rows.sort(key=lambda r: (-sum(r["alerts"].values()), -r["docs"], r["entity"]))
    return rows


def documents_by_id(store: MonitorState, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The documents with these ids (evidence and flags read)."""
    d = documents.c
    rows = store.rows(sa.select(d.id, d.entity, d.ts, d.text, d.url, d.sentiment, d.risk_value, d.risk_index,
                                d.flags, d.evidence, d.kind, d.severity).where(d.id.in_(ids))) if ids else []
    for row in rows:
        row["flags"], row["evidence"] = json.loads(row["flags"] or "[]"), json.loads(row["evidence"] or "[]")
    return {row["id"]: row for row in rows}


def risky_documents(store: MonitorState, filters: Filters, start: float | None, limit: int = 15
                    ) -> list[dict[str, Any]]:
    """The highest-risk documents (risk >= :data:`RISKY`) from ``start`` on, highest first."""
    d = documents.c
    where = [d.error.is_(None), _in_range(d.ts), d.risk_value >= RISKY]
    if start is not None:
        where.append(d.ts >= start)
    if filters.entity:
        where.append(d.entity == filters.entity)
    ids = [r["id"] for r in store.rows(sa.select(d.id).where(*where)
                                       .order_by(d.risk_value.desc(), d.ts.desc()).limit(limit))]
    found = documents_by_id(store, ids)
    return [found[i] for i in ids]


def drift_status(store: MonitorState) -> dict[str, Any]:
    """The latest drift check (``rows``, ``checks``, ``after``) or, before the first, what it needs: the
    monitor's drift settings (recorded in the state; the defaults for a state written before that), the
    documents scored so far and how many more the first check needs."""
    c = drift.c
    recorded = store.meta("drift")
    config = json.loads(recorded) if recorded else asdict(DriftConfig())
    scored = store.scalar(sa.select(sa.func.count()).select_from(documents))  # the monitor counts every document
    needed = config["reference_size"] + config["window_size"]
    status = {"config": config, "recorded": recorded is not None, "scored": scored, "needed": needed,
              "missing": max(0, needed - scored), "rows": [], "checks": 0, "after": None}
    last = store.scalar(sa.select(sa.func.max(c.seq_end)))
    if last is not None:
        status["after"] = last
        status["checks"] = store.scalar(sa.select(sa.func.count(sa.distinct(c.seq_end))))
        status["rows"] = store.rows(sa.select(c.feature, c.test, c.statistic, c.p_value, c.drift)
                                    .where(c.seq_end == last).order_by(c.test, c.feature))
    return status
