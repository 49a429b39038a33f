"""The monitor loop: read a batch of records, score it, and commit documents, indices, alerts, drift, dead letters
and source positions in one transaction; then append new alerts and dead letters to their files. Webhooks are
worked by a thread of their own (:class:`textrisk.monitor.outbox.Deliverer`), so a slow webhook never holds up
scoring.

No record stops the stream: a line the record validator refuses (:mod:`textrisk.monitor.records`), a record
dated ahead of the clock (:func:`textrisk.data.timestamps.check_not_future`), and a record whose processing
fails for any other reason (found by processing the failed batch record by record) become dead letters, stored
with the batch and written to the dead-letter file; failures of the database itself still stop the monitor.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from ..data.inputs import script_of, unknown_shares
from ..data.timestamps import check_not_future, format_timestamp
from ..errors import ConfigError, DataError, InputError
from .alerts import DocumentContext, evaluate
from .alerts_file import AlertsFile, DeadLetterFile
from .drift import compare
from .indices import EntityIndex, document_risk
from .outbox import Deliverer, deliver_due
from .records import DeadLetter, Record
from .rules import Rule, RuleSet
from .source import Source
from .state import MonitorState
from .tail import Position
from .triage import SEVERITY_LABELS, DocumentRisk, dashboard_link, document_view, rounded, severity, summary

__all__ = ["BatchResult", "Monitor", "alert_id"]

MODEL_ENTITY = "__model__"  # the entity drift alerts are filed under
Item = tuple[Record | DeadLetter, Any]


def alert_id(rule: str, entity: str, doc_id: str) -> str:
    """``rule|entity|document id``, each part percent-encoded (``|`` -> ``%7C``, non-ASCII as UTF-8), so two
    alerts never share an id and the id is plain ASCII (it travels as the webhook's ``Idempotency-Key``)."""
    return "|".join(quote(part, safe="") for part in (rule, entity, doc_id))


@dataclass
class BatchResult:
    """What one batch did."""

    read: int = 0
    scored: int = 0
    skipped: int = 0  # already in the state (replayed ids)
    alerts: int = 0
    dead: int = 0  # dead-lettered


class Monitor:
    """Scores records from a :class:`Source` into a :class:`MonitorState` under a :class:`RuleSet`.

    Args:
        analyzer: a :class:`textrisk.RiskAnalyzer` (any object with ``score``, ``has_risk_head`` and
            ``model.tokenizer`` works).
        alerts: the alerts JSONL file, or None.
        dead_letters: the dead-letter JSONL file, or None (dead letters are in the state either way).
        clock: wall-clock seconds (tests pass a fake one).
    """

    def __init__(self, analyzer: Any, state: MonitorState, rules: RuleSet, alerts: AlertsFile | None = None,
                 batch_size: int = 64, clock: Callable[[], float] = time.time,
                 dead_letters: DeadLetterFile | None = None):
        if rules.signal_rules() and not analyzer.has_risk_head:
            names = [rule.name for rule in rules.signal_rules()]
            raise ConfigError(f"rule(s) {names}: signal rules need a model with a risk head; this model is "
                              "sentiment-only (drop the rules or pass --model with a risk head)")
        self.analyzer, self.state, self.rules, self.alerts = analyzer, state, rules, alerts
        self.dead_letters = dead_letters
        self.batch_size, self.clock = batch_size, clock
        self.urls = [hook.url for hook in rules.webhooks]
        self._tokenizer = analyzer.model.tokenizer
        self._settings_recorded = False

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

    def process(self, batch: list[Item]) -> BatchResult:
        """Score and commit one batch of ``(record or dead letter, position)`` pairs (see the module docstring)."""
        try:
            result = self._commit(batch)
        except (DataError, sa.exc.OperationalError, MemoryError):  # the database or the machine: stop
            raise
        except Exception:
            result = BatchResult()
            for item in batch:  # find the record at fault: each on its own, in order
                self._add(result, self._commit_alone(item))
        self.sync_files()
        return result

    def _commit_alone(self, item: Item) -> BatchResult:
        try:
            return self._commit([item])
        except (DataError, sa.exc.OperationalError, MemoryError):
            raise
        except Exception as exc:  # this record cannot be processed: a dead letter, not a stopped stream
            record, position = item
            if not isinstance(record, Record):
                raise
            letter = DeadLetter(record.location, f"{record.location}: processing failed ({type(exc).__name__}: "
                                f"{str(exc)[:300]})", record.to_json())
            return self._commit([(letter, position)])

    def _commit(self, batch: list[Item]) -> BatchResult:
        result = BatchResult(read=len(batch))
        positions = {p.source: p.to_row() for _, p in batch if isinstance(p, Position)}
        arrived = self.clock()
        letters: list[DeadLetter] = []
        admitted: list[Record] = []
        for item, _ in batch:
            if isinstance(item, Record):
                try:
                    check_not_future(item.timestamp, arrived, item.location)
                    admitted.append(item)
                    continue
                except DataError as exc:
                    item = DeadLetter(item.location, str(exc), item.to_json())
            letters.append(item)
        known = self.state.known_ids(record.id for record in admitted)
        fresh: dict[str, Record] = {}
        for record in admitted:
            if record.id not in known and record.id not in fresh:
                fresh[record.id] = record
        records = list(fresh.values())
        result.skipped, result.dead = len(admitted) - len(records), len(letters)
        texts = [record.text for record in records]
        reports = self._score(texts) if records else []
        unknown = unknown_shares(texts, self._tokenizer) if records else []
        new_alerts: list[dict[str, Any]] = []
        with self.state.transaction():
            if not self._settings_recorded:  # what drift checking needs, for the dashboard
                self.state.set_meta("drift", json.dumps(asdict(self.rules.drift), sort_keys=True))
                self._settings_recorded = True
            for letter in letters:
                self.state.put_dead_letter({**letter.to_row(), "arrived": arrived})
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
                new_alerts += self._document(record, report, unk, row, index, seq, arrived)
            self.state.put_entities(entities.values())  # the batch reads indices from ``entities``, not the table
            self.state.put_offsets(positions.values())
        result.scored, result.alerts = len(records), len(new_alerts)
        return result

    def _document(self, record: Record, report: Any, unk: float, row: dict[str, Any], index: EntityIndex, seq: int,
                  arrived: float) -> list[dict[str, Any]]:
        """Store one scored document and its alerts (inside the batch transaction); the new alerts."""
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
                   script=script_of(record.text), risk_index=value, neg_index=index.negative_share, zscore=z,
                   url=record.url, severity=report.severity, kind=report.kind)
        self.state.put_document(row)
        context = DocumentContext(doc_id=record.id, seq=seq, entity=record.entity, ts=record.timestamp, index=index,
                                  zscore=z, signals=report.risk_signals)
        fired = [(rule, detail) for rule in self.rules.rules
                 if (detail := evaluate(rule, context, self.state, self.rules.index)) is not None]
        new_alerts = []
        for alert in self._alerts(fired, record, report, seq, arrived):
            if self.state.put_alert(alert, self.urls) and not alert.get("burst_of"):
                new_alerts.append(alert)
        return new_alerts + self._drift(seq, record, arrived)

    def _alerts(self, fired: list[tuple[Rule, dict[str, Any]]], record: Record, report: Any, seq: int,
                arrived: float) -> list[dict[str, Any]]:
        """The alert rows of one document's fired rules: the most severe leads (or, inside a burst of its entity,
        all are folded into the burst's alert); with ``burst_hours: 0`` every rule's alert stands alone (see
        :mod:`textrisk.monitor.triage`)."""
        if not fired:
            return []
        config = self.rules.alerts
        doc = DocumentRisk.of(report)
        rated = [(rule, detail, *severity(rule, detail, doc)) for rule, detail in fired]
        rated.sort(key=lambda item: -item[2])  # stable: ties keep the rules file's order
        width = config.burst_hours * 3600.0
        lead = self.state.burst_lead(record.entity, record.timestamp - width, record.timestamp + width) \
            if width > 0 else None
        top = rated[0][2]
        folded_into = lead["id"] if lead is not None and top <= (lead["severity"] or 0) else None
        document = document_view(record, report, config)
        created = self.clock()
        rows = []
        for position, (rule, detail, level, reasons) in enumerate(rated):
            alert_key = alert_id(rule.name, record.entity, record.id)
            alert = {"id": alert_key, "rule": rule.name, "type": rule.type, "entity": record.entity,
                     "ts": record.timestamp, "time": format_timestamp(record.timestamp), "doc_id": record.id,
                     "doc_seq": seq, "arrived": arrived, "created": created, "severity": level,
                     "severity_label": SEVERITY_LABELS[level], "severity_reasons": reasons,
                     "summary": summary(rule.type, detail), "detail": rounded(detail), "text": record.text[:500],
                     "document": document, "link": dashboard_link(config, record.entity, record.id),
                     "burst_of": folded_into if position == 0 else folded_into or rows[0]["id"]}
            if width == 0:
                alert["burst_of"] = None
            elif position == 0 and folded_into is None:
                alert["also"] = [{"rule": r.name, "type": r.type, "severity": lv, "summary": summary(r.type, d)}
                                 for r, d, lv, _ in rated[1:]]
                if lead is not None:
                    alert["escalates"] = lead["id"]
            rows.append(alert)
        return rows

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
            alert = {"id": alert_id(name, MODEL_ENTITY, record.id), "rule": name, "type": "drift",
                     "entity": MODEL_ENTITY, "ts": record.timestamp, "time": format_timestamp(record.timestamp),
                     "doc_id": record.id, "doc_seq": seq, "arrived": arrived, "created": self.clock(),
                     "severity": 2, "severity_label": SEVERITY_LABELS[2], "summary": summary("drift", item),
                     "detail": rounded(item)}
            if self.state.put_alert(alert, self.urls):
                alerts.append(alert)
        return alerts

    def sync_files(self) -> None:
        """Append committed alerts and dead letters not yet in their files."""
        for mirror in (self.alerts, self.dead_letters):
            if mirror is not None:
                mirror.sync(self.state, self.clock)

    def deliver(self) -> int:
        """Work the webhook outbox once, in this thread; returns deliveries made."""
        return deliver_due(self.state, self.rules.webhooks, self.clock)

    @staticmethod
    def _add(total: BatchResult, result: BatchResult) -> None:
        for name in ("read", "scored", "skipped", "alerts", "dead"):
            setattr(total, name, getattr(total, name) + getattr(result, name))

    def run(self, source: Source, once: bool, poll_seconds: float = 1.0,
            on_batch: Callable[[BatchResult], None] | None = None, should_stop: Callable[[], bool] = lambda: False
            ) -> BatchResult:
        """Follow ``source`` (``once``: until it is exhausted), one transaction per batch; totals returned.

        Webhooks are worked meanwhile by a :class:`Deliverer` thread; with ``once`` a last pass runs before the
        return (alerts still failing stay in the outbox for the next run).
        """
        total = BatchResult()
        deliverer = Deliverer(self.state.location, self.rules.webhooks, self.clock) if self.rules.webhooks else None
        if deliverer is not None:
            deliverer.start()
        try:
            while not should_stop():
                batch: list[Item] = []
                for item in source.poll(final=once):
                    batch.append(item)
                    if len(batch) >= self.batch_size:
                        break
                if batch:
                    result = self.process(batch)
                    self._add(total, result)
                    if deliverer is not None and result.alerts:
                        deliverer.wake()
                    if on_batch is not None:
                        on_batch(result)
                if deliverer is not None:
                    deliverer.check()
                if not batch:
                    if once:
                        break
                    time.sleep(poll_seconds)
        finally:
            if deliverer is not None:
                deliverer.stop()
        if once:
            self.deliver()
        return total

