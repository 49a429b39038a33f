"""Filing reports: document scores over prose only, per-section scores and the passages an analyst reads first.

The document distribution is the token-weighted mean of the prose passages' calibrated distributions (the one
aggregation of :mod:`textrisk.scoring.report`), so tables and page furniture no longer dilute it.
``negative_share`` is the share of prose tokens in passages whose most likely label is negative.
``negative_evidence`` lists the passages with the highest P(negative) (at least ``MIN_EVIDENCE_TOKENS`` tokens,
duplicates dropped), each with its section and offsets, next to the winning-label ``evidence``. With a risk head,
each section also carries its signals (max over its passages), the token share of passages at or over each
signal's threshold, and per-signal evidence. With a judgement model, the document and each section carry the
``risk_score`` and ``severity`` of :func:`textrisk.scoring.report.add_judgement`, and every evidence list (overall,
negative, per signal) is ranked by adverse risk: ``negative_evidence`` then lists the most adverse of the passages
read as negative.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..labels.taxonomy import KINDS
from ..scoring.engine import PassageOutputs
from ..scoring.report import (
    MIN_EVIDENCE_TOKENS,
    PASSAGES,
    Evidence,
    RiskReport,
    add_judgement,
    add_signals,
    adverse_risk,
    evidence_of,
    pick_top,
    reported_risk,
    sentiment_report,
    signal_scores,
    token_weights,
)
from .passages import Layout, Passage

__all__ = ["MIN_EVIDENCE_TOKENS", "FilingReport", "SectionEvidence", "SectionScore", "build_report"]



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
    risk_score: float | None = None  # a judgement model's token-weighted mean P(adverse) over the section
    severity: float | None = None  # expected severity of the section's most adverse passage


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


def _section_evidence(span: Passage, **fields: Any) -> SectionEvidence:
    return SectionEvidence(text=span.text, start=span.start, end=span.end, section=span.section, **fields)


def build_report(labels: list[str], signal_labels: list[str], thresholds: dict[str, float], layout: Layout,
                 out: PassageOutputs, max_evidence: int = 5, max_negative_evidence: int = 5,
                 warnings: list[str] | None = None) -> FilingReport:
    """Aggregate per-passage outputs into a :class:`FilingReport` (see the module docstring): the document and each
    section by :mod:`textrisk.scoring.report` (policy :data:`~textrisk.scoring.report.PASSAGES`), plus the
    negative evidence and share and what was left out."""
    passages = layout.passages
    probs = out.probs
    weights = token_weights(passages)
    negative = labels.index("negative") if "negative" in labels else None
    is_negative = probs.argmax(axis=1) == negative if negative is not None else np.zeros(len(passages), bool)
    non_blank = layout.prose_chars + sum(layout.excluded_chars.values())
    report = sentiment_report(
        labels, passages, probs, max_evidence, PASSAGES, _section_evidence, FilingReport,
        warnings=list(warnings or []) + layout.warnings, form=layout.form,
        negative_share=float((weights * is_negative).sum() / weights.sum()),
        excluded_chars=dict(layout.excluded_chars),
        excluded_share=float(sum(layout.excluded_chars.values()) / non_blank) if non_blank else 0.0)
    danger = adverse_risk(out.adverse, out.severity) if out.judged else None
    if negative is not None:
        order = np.argsort(-probs[:, negative], kind="stable")
        if danger is not None:  # the most adverse of the passages read as negative
            order = np.array([i for i in np.lexsort((-probs[:, negative], -danger)) if is_negative[i]], np.int64)
        chosen = pick_top(order, passages, max_negative_evidence, PASSAGES)
        report.negative_evidence = [
            evidence_of(passages[i], probs[i], labels, probs[i, negative], "negative", _section_evidence)
            for i in chosen]
        if danger is not None:
            for item, i in zip(report.negative_evidence, chosen):
                item.kind, item.risk_score = KINDS[int(out.kind[i].argmax())], float(out.adverse[i])
    risk = None if out.risk is None else reported_risk(out, KINDS, len(passages))  # flags: reporting passages only
    if risk is not None:
        add_signals(report, signal_labels, thresholds, passages, risk, PASSAGES, _section_evidence)
    if out.judged:
        add_judgement(report, KINDS, signal_labels, thresholds, passages, out, PASSAGES, _section_evidence,
                      max_evidence)
    keys = np.array([p.section or "" for p in passages])
    for s in layout.sections:
        rows = np.flatnonzero(keys == s.key)
        score = SectionScore(key=s.key, title=s.title, start=s.start, end=s.end, num_passages=len(rows),
                             prose_tokens=int(weights[rows].sum()), sentiment_scores={}, negative_share=0.0)
        if len(rows):
            w = weights[rows]
            score.sentiment_scores = dict(zip(labels, map(float, (w[:, None] * probs[rows]).sum(0) / w.sum())))
            score.negative_share = float((w * is_negative[rows]).sum() / w.sum())
            if risk is not None:
                score.risk_signals, score.signal_share, score.signal_evidence = signal_scores(
                    signal_labels, thresholds, [passages[i] for i in rows], risk[rows], PASSAGES,
                    _section_evidence)
            if danger is not None:
                score.risk_score = float(w @ out.adverse[rows] / w.sum())
                worst = rows[int(danger[rows].argmax())]
                score.severity = float(out.severity[worst] @ np.arange(out.severity.shape[1]))
        report.sections.append(score)
    return report
