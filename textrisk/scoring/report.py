"""Reports and THE aggregation of chunk scores into a document's scores (documents and filings alike).

The document distribution is the **token-weighted mean of the chunks' calibrated distributions**: itself a
probability distribution (the label of a randomly drawn token's chunk), calibrated when the chunks are, and no
chunk moves it by more than its share of the tokens. Evidence = the chunks contributing most to the winning
label's mass.

Risk signals: a document signals a risk type as strongly as its strongest chunk does (max over chunks), each
flagged signal lists the chunks with the highest probability for it, and ``signal_share`` gives each signal's share
of the document's tokens in chunks at or over its threshold. ``risk_score = P(negative) * P(at least one risk
signal)``, the latter ``1 - prod(1 - p_label)``, treating them as independent.

Which chunks may be shown as evidence is an :class:`EvidencePolicy`: :data:`CHUNKS` (``RiskAnalyzer``: any chunk,
signal evidence only for multi-chunk documents) or :data:`PASSAGES` (filings: no passage under
``MIN_EVIDENCE_TOKENS`` tokens, no passage twice).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["CHUNKS", "MIN_EVIDENCE_TOKENS", "PASSAGES", "Evidence", "EvidencePolicy", "RiskReport", "add_signals",
           "evidence_of", "pick_top", "risk_score", "sentiment_report", "signal_scores", "token_weights"]

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
