"""Alerts worth reading: a severity per alert, one-line summaries, the triggering document, and bursts.

**Severity** (1 low, 2 medium, 3 high) comes from the rule's type and size and the document's own risk:

- every alert starts at 1;
- +1 when the rule fired by a wide margin: a level index at least halfway from its threshold to 1, a jump of at
  least twice its ``z`` or its ``min_change``, a signal probability at least halfway from its threshold to 1, a
  volume at least twice ``factor`` times the baseline;
- +1 when the triggering document is itself adverse: its adverse probability is >= 0.5 (a judgement model's
  ``risk_score``: the probability that the text reports an adverse event or outlook; otherwise P(negative)) and,
  for a judgement model, its expected severity is >= 1.5 (material or worse);
- an alert whose document is benign (adverse probability < 0.2: "bad loans are improving") stays at 1 whatever
  the rule's size, and says so.

**Bursts.** All rules that fire on one document make one alert, led by the most severe (the others are listed under
``also``). While an entity has an alert, later alerts of the entity within ``burst_hours`` (event time) are
folded into it (stored with ``burst_of`` = its id: the dashboard shows them, the alerts file and webhooks do not)
unless they are more severe: those escalate, as a new alert naming the one they escalate. ``burst_hours: 0`` turns
both off: every rule that fires is an alert of its own.

The alert record carries the document: its text (up to ``text_chars``), sentiment and risk, its top evidence
passages (text, kind, adverse probability), the record's ``url`` if it had one, and a ``link`` to the document on the
dashboard when ``dashboard_url`` is set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..utils.validation import check_number

__all__ = ["SEVERITY_LABELS", "AlertConfig", "DocumentRisk", "dashboard_link", "document_view", "rounded", "severity",
           "summary"]

SEVERITY_LABELS = {1: "low", 2: "medium", 3: "high"}
_BENIGN, _ADVERSE, _MATERIAL = 0.2, 0.5, 1.5


@dataclass(frozen=True)
class AlertConfig:
    """How alerts are grouped and what they carry (the rules file's ``alerts`` section)."""

    burst_hours: float = field(default=6.0, metadata={"help": "fold an entity's alerts within this many hours of "
                                                              "its last alert into it, unless more severe (0: off)"})
    text_chars: int = field(default=2000, metadata={"help": "characters of the document's text an alert carries"})
    evidence: int = field(default=3, metadata={"help": "evidence passages an alert carries"})
    dashboard_url: str | None = field(default=None, metadata={"help": "base URL of the dashboard, for each alert's "
                                                                      "link to its document"})

    def __post_init__(self) -> None:
        check_number(self.burst_hours, "alerts.burst_hours", ge=0, le=87600)
        check_number(self.text_chars, "alerts.text_chars", integer=True, ge=0, le=1_000_000)
        check_number(self.evidence, "alerts.evidence", integer=True, ge=0, le=50)
        if self.dashboard_url is not None and (not isinstance(self.dashboard_url, str)
                                               or not self.dashboard_url.startswith(("http://", "https://"))):
            from ..errors import ConfigError

            raise ConfigError(f"alerts.dashboard_url must be an http:// or https:// URL, got {self.dashboard_url!r}")


@dataclass(frozen=True)
class DocumentRisk:
    """What severity reads about the triggering document."""

    adverse: float  # a judgement model's risk_score, else P(negative)
    severity: float | None  # a judgement model's expected severity (0-3), else None
    judged: bool  # whether ``adverse`` is a judgement model's probability

    @classmethod
    def of(cls, report: Any) -> DocumentRisk:
        """From a :class:`~textrisk.scoring.report.RiskReport` (a model with or without judgement)."""
        judged = getattr(report, "severity", None) is not None and report.risk_score is not None
        adverse = report.risk_score if judged else report.sentiment_scores.get("negative", 0.0)
        return cls(adverse=float(adverse), severity=report.severity if judged else None, judged=judged)


def _strong(rule: Any, detail: dict[str, Any]) -> str | None:
    """Why the rule fired by a wide margin (see the module docstring), or None."""
    if rule.type == "level" and detail["value"] >= rule.above + (1 - rule.above) / 2:
        return f"index {detail['value']:.2f} is well over {rule.above:g}"
    if rule.type == "jump" and (detail["zscore"] >= 2 * rule.z
                                or (rule.min_change > 0 and detail["change"] >= 2 * rule.min_change)):
        return f"a jump of {detail['change']:+.2f} (z {detail['zscore']:.1f})"
    if rule.type == "signal" and detail["probability"] >= rule.probability + (1 - rule.probability) / 2:
        return f"{rule.signal} probability {detail['probability']:.2f}"
    if rule.type == "volume" and detail["count"] >= 2 * rule.factor * max(detail["baseline"], 1e-9):
        return f"{detail['count']} documents against {detail['baseline']:.1f} usually"
    return None


def severity(rule: Any, detail: dict[str, Any], doc: DocumentRisk) -> tuple[int, list[str]]:
    """``(severity 1-3, the reasons)`` of an alert of ``rule`` with ``detail`` on a document (module docstring)."""
    what = "adverse risk" if doc.judged else "P(negative)"
    if doc.adverse < _BENIGN:
        return 1, [f"the document reads as benign ({what} {doc.adverse:.2f})"]
    level, reasons = 1, []
    strong = _strong(rule, detail)
    if strong:
        level += 1
        reasons.append(strong)
    if doc.adverse >= _ADVERSE and (doc.severity is None or doc.severity >= _MATERIAL):
        level += 1
        extra = f", severity {doc.severity:.1f} of 3" if doc.severity is not None else ""
        reasons.append(f"the document is adverse ({what} {doc.adverse:.2f}{extra})")
    return level, reasons


def summary(rule_type: str, detail: dict[str, Any]) -> str:
    """One line a desk reads: what crossed what."""
    if rule_type == "level":
        return f"{detail['index']} index {detail['value']:.2f} at or over {detail['above']:g}"
    if rule_type == "jump":
        return (f"{detail['index']} index {detail['value']:.2f}, {detail['change']:+.2f} on its usual "
                f"{detail['mean']:.2f} (z {detail['zscore']:.1f})")
    if rule_type == "signal":
        return (f"{detail['signal']} signal p={detail['probability']:.2f} ({detail['over_in_window']} such document"
                f"{'s' if detail['over_in_window'] != 1 else ''} in the window)")
    if rule_type == "volume":
        return f"{detail['count']} documents in the window against {detail['baseline']:.1f} usually"
    if rule_type == "drift":
        return f"input drift: {detail.get('feature')} ({detail.get('test')} {detail.get('statistic', 0):.3f})"
    return rule_type


def rounded(value: Any, digits: int = 4) -> Any:
    """``value`` with every float rounded to ``digits`` significant digits (nested dicts and lists too)."""
    if isinstance(value, float):
        if not math.isfinite(value) or value == 0:
            return value
        return round(value, max(digits - 1 - int(math.floor(math.log10(abs(value)))), 0))
    if isinstance(value, dict):
        return {key: rounded(item, digits) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(item, digits) for item in value]
    return value


def document_view(record: Any, report: Any, config: AlertConfig) -> dict[str, Any]:
    """The triggering document as an alert carries it (see the module docstring)."""
    text = record.text
    evidence = list(report.evidence) + [e for items in report.signal_evidence.values() for e in items]
    ranked = sorted(evidence, key=lambda e: -(e.risk_score if e.risk_score is not None else e.weight))
    seen, top = set(), []
    for item in ranked:
        if item.text not in seen and len(top) < config.evidence:
            seen.add(item.text)
            top.append({"text": item.text, "label": item.label, "kind": item.kind,
                        "risk_score": item.risk_score, "weight": item.weight})
    view = {"id": record.id, "text": text[:config.text_chars], "truncated": len(text) > config.text_chars,
            "url": getattr(record, "url", None), "sentiment": report.sentiment,
            "p_negative": report.sentiment_scores.get("negative"), "risk_score": report.risk_score,
            "tone_risk": report.tone_risk, "severity": report.severity, "kind": report.kind,
            "flags": list(report.flags), "evidence": top}
    return rounded(view)


def dashboard_link(config: AlertConfig, entity: str, doc_id: str) -> str | None:
    """The dashboard URL of the document (None without ``dashboard_url``)."""
    if not config.dashboard_url:
        return None
    return f"{config.dashboard_url.rstrip('/')}/entity/{quote(entity, safe='')}#doc-{quote(doc_id, safe='')}"
