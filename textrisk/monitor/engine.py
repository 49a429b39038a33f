"""The monitor loop: read a batch of records, score it, and commit documents, indices, alerts, drift and
source offsets in one transaction; then append new alerts to the JSONL file and work the webhook outbox."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..data.inputs import script_of, unknown_shares
from ..errors import ConfigError, InputError
from .alerts import DocumentContext, evaluate
from .alerts_file import AlertsFile
from .drift import compare
from .indices import EntityIndex, document_risk
from .outbox import deliver_due
from .rules import RuleSet
from .source import Record, Source
from .state import MonitorState

__all__ = ["BatchResult", "Monitor"]

MODEL_ENTITY = "__model__"  # the entity drift alerts are filed under


@dataclass
class BatchResult:
    """What one batch did."""

    read: int = 0
    scored: int = 0
    skipped: int = 0  # already in the state (replayed ids)
    alerts: int = 0


class Monitor:
    """Scores records from a :class:`Source` into a :class:`MonitorState` under a :class:`RuleSet`.

    Args:
        analyzer: a :class:`textrisk.RiskAnalyzer` (any object with ``score``, ``has_risk_head`` and
            ``model.tokenizer`` works).
        alerts: the alerts JSONL file, or None.
        clock: wall-clock seconds (tests pass a fake one).
    """

    def __init__(self, analyzer: Any, state: MonitorState, rules: RuleSet, alerts: AlertsFile | None = None,
                 batch_size: int = 64, clock: Callable[[], float] = time.time):
        if rules.signal_rules() and not analyzer.has_risk_head:
            names = [rule.name for rule in rules.signal_rules()]
            raise ConfigError(f"rule(s) {names}: signal rules need a model with a risk head; this model is "
                              "sentiment-only (drop the rules or pass --model with a risk head)")
        self.analyzer, self.state, self.rules, self.alerts = analyzer, state, rules, alerts
        self.batch_size, self.clock = batch_size, clock
        self.urls = [hook.url for hook in rules.webhooks]
        self._tokenizer = analyzer.model.tokenizer

    def _score(self, texts: list[str]) -> list[Any]:
        """Reports in order; a text the model cannot read gets its error message instead of a report."""
        try:
            return list(self.analyzer.score(texts, progress=False))
        except InputError:
            out: list[Any] = []
            for text in texts:
                try:
                    out.append(self.analyzer.score([text], progress=False)[0])
                except InputError as exc:
                    out.append(str(exc))
            return out

    def process(self, batch: list[tuple[Record, tuple[str, int]]]) -> BatchResult:
        """Score and commit one batch of ``(record, position)`` pairs (see the module docstring)."""
        result = BatchResult(read=len(batch))
        offsets = {key: offset for _, (key, offset) in batch if key != "-"}
        known = self.state.known_ids(record.id for record, _ in batch)
        fresh: dict[str, Record] = {}
        for record, _ in batch:
            if record.id not in known and record.id not in fresh:
                fresh[record.id] = record
        records = list(fresh.values())
        result.skipped = len(batch) - len(records)
        arrived = self.clock()
        texts = [record.text for record in records]
        reports = self._score(texts) if records else []
        unknown = unknown_shares(texts, self._tokenizer) if records else []
        new_alerts: list[dict[str, Any]] = []
        with self.state.transaction():
            seq = self.state.document_count()
            entities: dict[str, EntityIndex] = {}
            for record, report, unk in zip(records, reports, unknown):
                seq += 1
                row = {"seq": seq, "id": record.id, "entity": record.entity, "ts": record.timestamp,
                       "arrived": arrived, "text": record.text}
                if isinstance(report, str):
                    row["error"] = report
                    self.state.put_document(row)
                    continue
                index = entities.get(record.entity) or self.state.entity(record.entity)
                entities[record.entity] = index
                p_neg = report.sentiment_scores.get("negative", 0.0)
                risk = document_risk(report.risk_score, p_neg)
                value, z = index.update(record.timestamp, risk, report.sentiment == "negative",
                                        self.rules.index.half_life_hours * 3600.0)
                evidence = [{"text": e.text, "label": e.label, "weight": e.weight} for e in report.evidence]
                for label, items in report.signal_evidence.items():
                    evidence += [{"text": e.text, "label": label, "weight": e.weight} for e in items]
                row.update(sentiment=report.sentiment, p_negative=p_neg,
                           p_positive=report.sentiment_scores.get("positive", 0.0), risk_score=report.risk_score,
                           risk_value=risk, flags=json.dumps(report.flags),
                           signals=None if report.risk_signals is None else json.dumps(report.risk_signals),
                           evidence=json.dumps(evidence), n_tokens=report.num_tokens, unknown_share=unk,
                           script=script_of(record.text), risk_index=value, neg_index=index.negative_share,
                           zscore=z)
                self.state.put_document(row)
                context = DocumentContext(doc_id=record.id, seq=seq, entity=record.entity, ts=record.timestamp,
                                          index=index, zscore=z, signals=report.risk_signals)
                for rule in self.rules.rules:
                    detail = evaluate(rule, context, self.state, self.rules.index)
                    if detail is not None:
                        alert = {"id": f"{rule.name}|{record.entity}|{record.id}", "rule": rule.name,
                                 "type": rule.type, "entity": record.entity, "ts": record.timestamp,
                                 "doc_id": record.id, "doc_seq": seq, "arrived": arrived, "created": self.clock(),
                                 "detail": detail, "text": record.text[:500]}
                        if self.state.put_alert(alert, self.urls):
                            new_alerts.append(alert)
                new_alerts += self._drift(seq, record, arrived)
            self.state.put_entities(entities.values())  # the batch reads indices from ``entities``, not the table
            self.state.put_offsets(offsets)
        result.scored, result.alerts = len(records), len(new_alerts)
        if self.alerts is not None:
            self.alerts.sync(self.state, self.clock)
        return result

    def _drift(self, seq: int, record: Record, arrived: float) -> list[dict[str, Any]]:
        config = self.rules.drift
        start = config.reference_size + config.window_size
        if seq < start or (seq - start) % config.every:
            return []
        results = compare(self.state.window_features(1, config.reference_size),
                          self.state.window_features(seq - config.window_size + 1, seq), config)
        self.state.put_drift(seq, results)
        alerts = []
        for item in results:
            name = f"drift-{item['feature']}"
            last = self.state.last_alert_seq(name)
            if not item["drift"] or (last is not None and seq - last < config.cooldown_docs):
                continue
            alert = {"id": f"{name}|{MODEL_ENTITY}|{record.id}", "rule": name, "type": "drift",
                     "entity": MODEL_ENTITY, "ts": record.timestamp, "doc_id": record.id, "doc_seq": seq,
                     "arrived": arrived, "created": self.clock(), "detail": item}
            if self.state.put_alert(alert, self.urls):
                alerts.append(alert)
        return alerts

    def deliver(self) -> int:
        """Work the webhook outbox once; returns deliveries made."""
        return deliver_due(self.state, self.rules.webhooks, self.clock)

    def run(self, source: Source, once: bool, poll_seconds: float = 1.0,
            on_batch: Callable[[BatchResult], None] | None = None, should_stop: Callable[[], bool] = lambda: False
            ) -> BatchResult:
        """Follow ``source`` (``once``: until it is exhausted), one transaction per batch; totals returned."""
        total = BatchResult()
        while not should_stop():
            batch: list[tuple[Record, tuple[str, int]]] = []
            for item in source.poll(final=once):
                batch.append(item)
                if len(batch) >= self.batch_size:
                    break
            if batch:
                result = self.process(batch)
                for name in ("read", "scored", "skipped", "alerts"):
                    setattr(total, name, getattr(total, name) + getattr(result, name))
                if on_batch is not None:
                    on_batch(result)
            self.deliver()
            if not batch:
                if once:
                    break
                time.sleep(poll_seconds)
        return total
