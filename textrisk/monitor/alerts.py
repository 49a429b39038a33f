"""Rule evaluation: does one rule fire for one newly scored document?

Event time drives everything (cooldowns, windows), so a replay gives the same alerts as the live run. An
alert's id is ``rule|entity|document id``: re-processing a document can never create a second alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .indices import EntityIndex, IndexConfig
from .rules import Rule
from .state import MonitorState

__all__ = ["DocumentContext", "evaluate"]


@dataclass
class DocumentContext:
    """What the rules see about one document after its entity's indices were updated."""

    doc_id: str
    seq: int
    entity: str
    ts: float
    index: EntityIndex
    zscore: float | None
    signals: dict[str, float] | None


def _window(rule: Rule, doc: DocumentContext, state: MonitorState, config: IndexConfig) -> dict[str, Any] | None:
    width = config.window_hours * 3600.0
    count = state.count_window(doc.entity, doc.ts - width, doc.ts)
    if count < rule.min_count:
        return None
    history = doc.ts - width - (doc.index.first_ts or doc.ts)
    windows = min(rule.lookback_windows, history / width)
    if windows < 1:  # less than one full past window: no baseline yet
        return None
    past = state.count_window(doc.entity, doc.ts - width * (1 + windows), doc.ts - width)
    baseline = past / windows
    if count <= rule.factor * baseline:
        return None
    return {"count": count, "baseline": round(baseline, 4), "factor": rule.factor}


def _jump(rule: Rule, doc: DocumentContext, value: float) -> dict[str, Any] | None:
    """A jump of the risk index over its own past mean: z (with the standard deviation floored at ``min_std``) at or
    over ``z`` and the change at or over ``min_change``, after ``min_history`` past values."""
    index = doc.index
    if index.hist_n < rule.min_history:
        return None
    change = index.risk - index.hist_mean
    spread = max(index.hist_std, rule.min_std)
    if spread <= 0:
        return None
    z = change / spread
    if z < rule.z or change < rule.min_change:
        return None
    return {"index": rule.index, "value": value, "change": change, "mean": index.hist_mean, "std": index.hist_std,
            "zscore": z, "z": rule.z, "min_change": rule.min_change}


def evaluate(rule: Rule, doc: DocumentContext, state: MonitorState, config: IndexConfig) -> dict[str, Any] | None:
    """The alert's ``detail`` if ``rule`` fires for ``doc``, else None (cooldown and filters included)."""
    if not rule.applies_to(doc.entity) or doc.index.n_docs < rule.min_docs:
        return None
    value = doc.index.risk if rule.index == "risk" else doc.index.negative_share
    if rule.type == "level":
        detail = {"index": rule.index, "value": value, "above": rule.above} if value >= rule.above else None
    elif rule.type == "jump":
        detail = _jump(rule, doc, value)
    elif rule.type == "signal":
        p = (doc.signals or {}).get(rule.signal)
        detail = None
        if p is not None and p >= rule.probability:
            width = config.window_hours * 3600.0
            flagged = state.count_window(doc.entity, doc.ts - width, doc.ts, rule.signal, rule.probability)
            if flagged >= rule.min_count:
                detail = {"signal": rule.signal, "probability": p, "over_in_window": flagged}
    else:
        detail = _window(rule, doc, state, config)
    if detail is None:
        return None
    last = state.last_alert_ts(rule.name, doc.entity)
    if last is not None and abs(doc.ts - last) < rule.cooldown_hours * 3600.0:  # also out-of-order documents
        return None
    return detail
