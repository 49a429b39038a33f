"""Filing reports: document scores over prose only, per-section scores and the passages an analyst reads first.

The document distribution is the token-weighted mean of the prose passages' calibrated distributions (the rule
of ``RiskAnalyzer``), so tables and page furniture no longer dilute it. ``negative_share`` is the share of prose
tokens in passages whose most likely label is negative. ``negative_evidence`` lists the passages with the highest
P(negative) (at least ``MIN_EVIDENCE_TOKENS`` tokens, duplicates dropped), each with its section and offsets, next
to the winning-label ``evidence``. With a risk head, each section also carries its signals (max over its
passages), the token share of passages at or over each signal's threshold, and per-signal evidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..scoring import Evidence, RiskAnalyzer, RiskReport
from .inference import PassageOutputs
from .passages import Layout, Passage

__all__ = ["MIN_EVIDENCE_TOKENS", "FilingReport", "SectionEvidence", "SectionScore", "build_report"]

#: passages shorter than this (a stray "DFI." or "capital;") are never shown as evidence
MIN_EVIDENCE_TOKENS = 8


@dataclass
class SectionEvidence(Evidence):
    """Evidence that also says which section of the filing it comes from."""

    section: str | None = None


@dataclass
class SectionScore:
    """Scores of one section over its prose passages (empty scores when it has no prose)."""

    key: str
    title: str
    start: int
    end: int
    num_passages: int
    prose_tokens: int
    sentiment_scores: dict[str, float]
    negative_share: float
    risk_signals: dict[str, float] | None = None
    signal_share: dict[str, float] | None = None
    signal_evidence: dict[str, list[SectionEvidence]] = field(default_factory=dict)


@dataclass
class FilingReport(RiskReport):
    """A :class:`RiskReport` over prose only, with sections, negative evidence and what was left out."""

    form: str | None = None
    sections: list[SectionScore] = field(default_factory=list)
    negative_evidence: list[SectionEvidence] = field(default_factory=list)
    negative_share: float = 0.0
    excluded_chars: dict[str, int] = field(default_factory=dict)  # line kind -> characters left out
    excluded_share: float = 0.0  # left-out characters / non-blank characters

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)

    def section(self, key: str) -> SectionScore | None:
        """The section with this key ("1A", "7", "I-2", "1.03"), or None."""
        return next((s for s in self.sections if s.key == key), None)


def _evidence(p: Passage, scores: np.ndarray, labels: list[str], weight: float, label: str | None = None
              ) -> SectionEvidence:
    return SectionEvidence(text=p.text, start=p.start, end=p.end, label=label or labels[int(scores.argmax())],
                           weight=float(weight), scores=dict(zip(labels, map(float, scores))), section=p.section)


def _top(order: np.ndarray, passages: list[Passage], k: int) -> list[int]:
    chosen, seen = [], set()
    for i in order:
        key = " ".join(passages[i].text.split())
        if passages[i].n_tokens >= MIN_EVIDENCE_TOKENS and key not in seen:
            chosen.append(int(i))
            seen.add(key)
        if len(chosen) == k:
            break
    return chosen


def _signals(analyzer: RiskAnalyzer, passages: list[Passage], risk: np.ndarray, weights: np.ndarray
             ) -> tuple[dict[str, float], dict[str, float], dict[str, list[SectionEvidence]]]:
    thresholds = analyzer.thresholds()
    labels = analyzer.signal_labels
    peak = risk.max(axis=0)
    over = risk >= np.array([thresholds[label] for label in labels])
    share = (weights[:, None] * over).sum(axis=0) / weights.sum()
    evidence = {}
    for column, label in enumerate(labels):
        if peak[column] >= thresholds[label]:
            top = _top(np.argsort(-risk[:, column], kind="stable"), passages, 3)
            evidence[label] = [
                SectionEvidence(text=passages[i].text, start=passages[i].start, end=passages[i].end, label=label,
                                weight=float(risk[i, column]), scores={label: float(risk[i, column])},
                                section=passages[i].section)
                for i in top if risk[i, column] >= thresholds[label]]
    return dict(zip(labels, map(float, peak))), dict(zip(labels, map(float, share))), evidence


def build_report(analyzer: RiskAnalyzer, text: str, layout: Layout, out: PassageOutputs,
                 max_negative_evidence: int = 5, warnings: list[str] | None = None) -> FilingReport:
    """Aggregate per-passage outputs into a :class:`FilingReport` (see the module docstring)."""
    labels = analyzer.labels
    passages = layout.passages
    probs = out.probs
    weights = np.array([max(p.n_tokens, 1) for p in passages], dtype=np.float64)
    negative = labels.index("negative") if "negative" in labels else None
    doc = (weights[:, None] * probs).sum(axis=0) / weights.sum()
    winner = int(doc.argmax())
    is_negative = probs.argmax(axis=1) == negative if negative is not None else np.zeros(len(passages), bool)
    evidence = []
    if len(passages) > 1:
        mass = weights * probs[:, winner]
        share = mass / mass.sum()
        evidence = [_evidence(passages[i], probs[i], labels, share[i])
                    for i in _top(np.argsort(-share, kind="stable"), passages, analyzer.max_evidence)]
    negative_evidence = []
    if negative is not None:
        negative_evidence = [_evidence(passages[i], probs[i], labels, probs[i, negative], "negative")
                             for i in _top(np.argsort(-probs[:, negative], kind="stable"), passages,
                                           max_negative_evidence)]
    non_blank = layout.prose_chars + sum(layout.excluded_chars.values())
    report = FilingReport(
        sentiment=labels[winner], sentiment_scores=dict(zip(labels, map(float, doc))), evidence=evidence,
        num_chunks=len(passages), num_tokens=int(weights.sum()), warnings=list(warnings or []) + layout.warnings,
        form=layout.form, negative_evidence=negative_evidence,
        negative_share=float((weights * is_negative).sum() / weights.sum()),
        excluded_chars=dict(layout.excluded_chars),
        excluded_share=float(sum(layout.excluded_chars.values()) / non_blank) if non_blank else 0.0,
    )
    if out.risk is not None:
        signals = _signals(analyzer, passages, out.risk, weights)
        report.risk_signals, report.signal_share, signal_evidence = signals
        thresholds = analyzer.thresholds()
        report.flags = [k for k, p in report.risk_signals.items() if p >= thresholds[k]]
        report.risk_score = report.sentiment_scores.get("negative", 0.0) * (
            1.0 - float(np.prod([1.0 - p for p in report.risk_signals.values()])))
        report.signal_evidence = {k: v for k, v in signal_evidence.items() if k in report.flags}
    keys = np.array([p.section or "" for p in passages])
    for s in layout.sections:
        rows = np.flatnonzero(keys == s.key)
        score = SectionScore(key=s.key, title=s.title, start=s.start, end=s.end, num_passages=len(rows),
                             prose_tokens=int(weights[rows].sum()), sentiment_scores={}, negative_share=0.0)
        if len(rows):
            w = weights[rows]
            score.sentiment_scores = dict(zip(labels, map(float, (w[:, None] * probs[rows]).sum(0) / w.sum())))
            score.negative_share = float((w * is_negative[rows]).sum() / w.sum())
            if out.risk is not None:
                score.risk_signals, score.signal_share, score.signal_evidence = _signals(
                    analyzer, [passages[i] for i in rows], out.risk[rows], w)
        report.sections.append(score)
    return report
