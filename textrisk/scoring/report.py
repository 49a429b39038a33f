"""Reports and THE aggregation of chunk scores into a document's scores (documents and filings alike).

The document distribution is the **token-weighted mean of the chunks' calibrated distributions**: itself a
probability distribution (the label of a randomly drawn token's chunk), calibrated when the chunks are, and no
chunk moves it by more than its share of the tokens. Evidence = the chunks contributing most to the winning
label's mass.

Risk signals: a document signals a risk type as strongly as its strongest chunk does (max over chunks), each
flagged signal lists the chunks with the highest probability for it, and ``signal_share`` gives each signal's share
of the document's tokens in chunks at or over its threshold.

Judgement (a model with ``kind`` / ``severity`` / ``adverse`` outputs, :mod:`textrisk.models.head.layout`): a
chunk's ``risk_score`` is the calibrated probability that it reports an adverse risk event or a specific adverse
outlook (event or outlook with severity >= 1), whatever its tone; its **adverse risk** is ``risk_score *
E[severity | adverse] / 3`` (in [0, 1]; severity 3 is a threat to survival, solvency or integrity). A document's
``risk_score`` is the token-weighted mean of its chunks' (the expected share of its text that reports adverse
events: a one-chunk text keeps its own probability), ``severity`` is the expected severity of its most adverse
chunk, ``kind_scores`` the token-weighted mean kind distribution, and ``mentions`` the token share of chunks that
are about a risk type (topic probability >= 0.5) without reporting it (signal under its threshold: boilerplate).
Every evidence list (overall and per signal) is ranked by adverse risk. Signals come from the signal head, trained
to fire on events and outlooks only, so generic risk language raises mentions, not flags.

Without a judgement, ``risk_score = P(negative) * P(at least one risk signal)`` (the latter
``1 - prod(1 - p_label)``, treating them as independent); a judgement model reports that number as ``tone_risk``.

Which chunks may be shown as evidence is an :class:`EvidencePolicy`: :data:`CHUNKS` (``RiskAnalyzer``: any chunk,
signal evidence only for multi-chunk documents) or :data:`PASSAGES` (filings: no passage under
``MIN_EVIDENCE_TOKENS`` tokens, no passage twice).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..labels.taxonomy import ADVERSE_KINDS

__all__ = ["CHUNKS", "MIN_EVIDENCE_TOKENS", "PASSAGES", "Evidence", "EvidencePolicy", "RiskReport", "add_judgement",
           "add_signals", "adverse_risk", "evidence_of", "pick_top", "reported_risk", "risk_score", "sentiment_report",
           "signal_scores", "token_weights"]

#: filings: passages shorter than this (a stray "DFI." or "capital;") are never shown as evidence
MIN_EVIDENCE_TOKENS = 8


@dataclass
class Evidence:
    """A chunk of the document and how much of the document's winning label it accounts for."""

    text: str
    start: int  # character offsets into the scored text
    end: int
    label: str  # the chunk's own most likely label
    weight: float  # share of the document's mass for its predicted label that this chunk contributes
    scores: dict[str, float]
    kind: str | None = None  # a judgement model's kind of the chunk (event, outlook, boilerplate, other)
    risk_score: float | None = None  # a judgement model's P(the chunk reports an adverse event or outlook)


@dataclass
class RiskReport:
    """Scores of one document."""

    sentiment: str
    sentiment_scores: dict[str, float]
    evidence: list[Evidence] = field(default_factory=list)
    risk_signals: dict[str, float] | None = None  # None: the model has no risk head
    flags: list[str] = field(default_factory=list)  # signals at or over their threshold
    risk_score: float | None = None
    signal_evidence: dict[str, list[Evidence]] = field(default_factory=dict)  # flagged signal -> top chunks
    signal_share: dict[str, float] = field(default_factory=dict)  # signal -> token share of chunks over threshold
    tone_risk: float | None = None  # P(negative) * P(any signal) (the risk_score of models without a judgement)
    kind: str | None = None  # most likely kind (for a document: of the token-weighted mean distribution)
    kind_scores: dict[str, float] | None = None
    severity: float | None = None  # expected severity (0-3) of the most adverse chunk
    mentions: dict[str, float] = field(default_factory=dict)  # risk type -> token share of chunks only mentioning it
    num_chunks: int = 1
    num_tokens: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class EvidencePolicy:
    """Which chunks may be shown as evidence."""

    min_tokens: int = 0  # shorter chunks are never shown
    distinct: bool = False  # a chunk whose text (white space folded) was already shown is skipped
    single_chunk_signals: bool = False  # signal evidence for a one-chunk document too


#: ``RiskAnalyzer``: every chunk may be evidence; a one-chunk document has none (it is its own evidence).
CHUNKS = EvidencePolicy()
#: Filings: no passage under ``MIN_EVIDENCE_TOKENS`` tokens, no passage twice, signal evidence always.
PASSAGES = EvidencePolicy(min_tokens=MIN_EVIDENCE_TOKENS, distinct=True, single_chunk_signals=True)

#: ``make(span, label=, weight=, scores=)``: the evidence object of one chunk (``span`` has text, start, end).
MakeEvidence = Callable[..., Evidence]


def _evidence(span: Any, **fields: Any) -> Evidence:
    return Evidence(text=span.text, start=span.start, end=span.end, **fields)


def token_weights(spans: Sequence[Any]) -> np.ndarray:
    """Each chunk's weight in the document: its token count (at least 1), float64."""
    return np.array([max(span.n_tokens, 1) for span in spans], dtype=np.float64)


def pick_top(order: np.ndarray, spans: Sequence[Any], k: int, policy: EvidencePolicy = CHUNKS) -> list[int]:
    """The first ``k`` chunks of ``order`` the policy lets be shown."""
    chosen: list[int] = []
    seen: set[str] = set()
    for i in order:
        if len(chosen) >= k:
            break
        key = " ".join(spans[i].text.split()) if policy.distinct else None
        if spans[i].n_tokens >= policy.min_tokens and key not in seen:
            chosen.append(int(i))
            if key is not None:
                seen.add(key)
    return chosen


def evidence_of(span: Any, scores: np.ndarray, labels: Sequence[str], weight: float, label: str | None = None,
                make: MakeEvidence = _evidence) -> Evidence:
    """The evidence object of one chunk: its scores, its own label (or ``label``) and ``weight``."""
    return make(span, label=label or labels[int(scores.argmax())], weight=float(weight),
                scores=dict(zip(labels, map(float, scores))))


def sentiment_report(labels: Sequence[str], spans: Sequence[Any], probs: np.ndarray, max_evidence: int,
                     policy: EvidencePolicy = CHUNKS, make: MakeEvidence = _evidence,
                     report: type[RiskReport] = RiskReport, **fields: Any) -> RiskReport:
    """The document's sentiment from its chunks' calibrated ``probs``: the token-weighted mean, the winning label and
    the chunks carrying most of its mass (``report`` is the class built, ``fields`` its other fields)."""
    labels = list(labels)
    weights = token_weights(spans)
    doc = (weights[:, None] * probs).sum(axis=0) / weights.sum()
    winner = int(doc.argmax())
    evidence = []
    if len(spans) > 1:
        mass = weights * probs[:, winner]
        share = mass / mass.sum()
        evidence = [evidence_of(spans[i], probs[i], labels, share[i], make=make)
                    for i in pick_top(np.argsort(-share, kind="stable"), spans, max_evidence, policy)]
    return report(sentiment=labels[winner], sentiment_scores=dict(zip(labels, map(float, doc))), evidence=evidence,
                  num_chunks=len(spans), num_tokens=int(weights.sum()), **fields)


def signal_scores(signal_labels: Sequence[str], thresholds: dict[str, float], spans: Sequence[Any],
                  risk: np.ndarray, policy: EvidencePolicy = CHUNKS, make: MakeEvidence = _evidence
                  ) -> tuple[dict[str, float], dict[str, float], dict[str, list[Evidence]]]:
    """``(signals, share, evidence)`` of a document (or a section) from its chunks' ``risk`` probabilities:
    the max per signal, the token share of chunks at or over each threshold, and the top 3 chunks of each signal
    at or over its threshold."""
    labels = list(signal_labels)
    weights = token_weights(spans)
    peak = risk.max(axis=0)
    over = risk >= np.array([thresholds[label] for label in labels])
    share = (weights @ over) / weights.sum()
    evidence = {}
    if len(spans) > 1 or policy.single_chunk_signals:
        for column, label in enumerate(labels):
            if peak[column] >= thresholds[label]:
                top = pick_top(np.argsort(-risk[:, column], kind="stable"), spans, 3, policy)
                evidence[label] = [make(spans[i], label=label, weight=float(risk[i, column]),
                                        scores={label: float(risk[i, column])})
                                   for i in top if risk[i, column] >= thresholds[label]]
    return dict(zip(labels, map(float, peak))), dict(zip(labels, map(float, share))), evidence


def risk_score(sentiment_scores: dict[str, float], risk_signals: dict[str, float]) -> float:
    """``P(negative) * P(at least one signal)``, the latter ``1 - prod(1 - p)`` over the signals."""
    any_signal = 1.0 - float(np.prod(1.0 - np.array(list(risk_signals.values()), dtype=np.float64)))
    return sentiment_scores.get("negative", 0.0) * any_signal


def add_signals(report: RiskReport, signal_labels: Sequence[str], thresholds: dict[str, float], spans: Sequence[Any],
                risk: np.ndarray, policy: EvidencePolicy = CHUNKS, make: MakeEvidence = _evidence) -> None:
    """Fill ``report``'s risk fields from its chunks' ``risk`` probabilities (see the module docstring)."""
    report.risk_signals, report.signal_share, evidence = signal_scores(signal_labels, thresholds, spans, risk, policy,
                                                                       make)
    report.flags = [label for label, p in report.risk_signals.items() if p >= thresholds[label]]
    report.risk_score = risk_score(report.sentiment_scores, report.risk_signals)
    report.signal_evidence = {label: evidence[label] for label in report.flags if label in evidence}


def adverse_risk(adverse: np.ndarray, severity: np.ndarray) -> np.ndarray:
    """Per chunk ``P(adverse) * E[severity | adverse] / 3`` in [0, 1] (``severity``: (n, 4) distributions)."""
    levels = np.arange(severity.shape[1], dtype=np.float64)
    mass = severity[:, 1:].sum(axis=1)
    given = np.where(mass > 0, (severity[:, 1:] * levels[1:]).sum(axis=1) / np.maximum(mass, 1e-12), 1.0)
    return adverse * given / levels[-1]


def reported_risk(out: Any, kinds: Sequence[str], n_spans: int) -> np.ndarray:
    """The signal probabilities a document's flags come from: of a multi-passage document, only the passages read
    as reporting something (P(event) + P(outlook) >= 0.5) count, so risk-factor boilerplate never raises a flag
    (it is reported under ``mentions``); a one-passage text keeps its own probabilities. ``out``: a judged
    :class:`~textrisk.scoring.engine.PassageOutputs`."""
    if n_spans <= 1 or not out.judged:
        return out.risk
    reporting = out.kind[:, [list(kinds).index(k) for k in ADVERSE_KINDS]].sum(axis=1) >= 0.5
    return out.risk * reporting[:, None]


def add_judgement(report: RiskReport, kinds: Sequence[str], signal_labels: Sequence[str], thresholds: dict[str, float],
                  spans: Sequence[Any], out: Any, policy: EvidencePolicy = CHUNKS, make: MakeEvidence = _evidence,
                  max_evidence: int = 5) -> None:
    """Fill ``report``'s judgement fields from its chunks' outputs ``out`` (a
    :class:`~textrisk.scoring.engine.PassageOutputs` with ``topics``, ``kind``, ``severity``, ``adverse``); call after
    :func:`add_signals` (see the module docstring)."""
    kinds, labels = list(kinds), list(signal_labels)
    weights = token_weights(spans)
    levels = np.arange(out.severity.shape[1], dtype=np.float64)
    danger = adverse_risk(out.adverse, out.severity)
    report.tone_risk = report.risk_score
    report.risk_score = float(weights @ out.adverse / weights.sum())
    doc_kind = weights @ out.kind / weights.sum()
    report.kind, report.kind_scores = kinds[int(doc_kind.argmax())], dict(zip(kinds, map(float, doc_kind)))
    report.severity = float(out.severity[int(danger.argmax())] @ levels)
    over = reported_risk(out, kinds, len(spans)) >= np.array([thresholds[label] for label in labels])
    mentioned = (out.topics >= 0.5) & ~over
    report.mentions = {label: float(weights @ mentioned[:, k] / weights.sum()) for k, label in enumerate(labels)
                       if mentioned[:, k].any()}

    def judged(i: int, label: str, weight: float, scores: dict[str, float]) -> Evidence:
        return make(spans[i], label=label, weight=weight, scores=scores, kind=kinds[int(out.kind[i].argmax())],
                    risk_score=float(out.adverse[i]))

    order = np.lexsort((-out.adverse, -danger))  # by adverse risk, then P(adverse)
    sentiments = list(report.sentiment_scores)
    if len(spans) > 1:
        report.evidence = [judged(i, sentiments[int(out.probs[i].argmax())], float(danger[i]),
                                  dict(zip(sentiments, map(float, out.probs[i]))))
                           for i in pick_top(order, spans, max_evidence, policy)]
    for label in list(report.signal_evidence):
        column = labels.index(label)
        ranked = [i for i in order if over[i, column]]
        report.signal_evidence[label] = [judged(i, label, float(danger[i]), {label: float(out.risk[i, column])})
                                         for i in pick_top(np.array(ranked, dtype=np.int64), spans, 3, policy)]

