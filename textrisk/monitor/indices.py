"""Per-entity risk indices: exponentially weighted (EW) risk and negative share with a half-life in event
time, and each entity's own history of its risk index for z-scores.

The value fed to the risk index is the model's ``risk_score`` (P(negative) x P(any risk signal)) when the model
has a risk head, and P(negative) otherwise (the embedded default model is sentiment-only).

EW mean over irregular times: with decay ``d = 0.5 ** (dt / half_life)`` since the entity's previous document,
``S <- d*S + x`` and ``W <- d*W + 1``; the index is ``S / W`` (so one document gives its own value and a
document ``half_life`` ago weighs half as much as one now). The history used for z-scores is the running
mean and variance (Welford) of the index values *before* the current document.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from ..utils.validation import check_number

__all__ = ["EntityIndex", "IndexConfig", "document_risk"]


@dataclass(frozen=True)
class IndexConfig:
    """How the per-entity indices are computed."""

    half_life_hours: float = field(default=24.0, metadata={"help": "half-life of the EW indices, hours"})
    window_hours: float = field(default=24.0, metadata={"help": "window for signal counts and volume, hours"})

    def __post_init__(self) -> None:
        for name in ("half_life_hours", "window_hours"):  # 3.6 seconds .. 10 years
            check_number(getattr(self, name), f"index.{name} (hours)", ge=0.001, le=87600)


def document_risk(risk_score: float | None, p_negative: float) -> float:
    """The value a document contributes to its entity's risk index (see the module docstring)."""
    return float(risk_score) if risk_score is not None else float(p_negative)


@dataclass
class EntityIndex:
    """Running state of one entity's indices (one row of the ``entities`` table)."""

    entity: str
    first_ts: float | None = None
    last_ts: float | None = None
    risk_sum: float = 0.0
    neg_sum: float = 0.0
    weight: float = 0.0
    n_docs: int = 0
    hist_n: int = 0
    hist_mean: float = 0.0
    hist_m2: float = 0.0

    @property
    def risk(self) -> float:
        """EW risk index (0 before the first document)."""
        return self.risk_sum / self.weight if self.weight else 0.0

    @property
    def negative_share(self) -> float:
        """EW share of negative documents."""
        return self.neg_sum / self.weight if self.weight else 0.0

    @property
    def hist_std(self) -> float:
        """Sample standard deviation of the entity's past risk index values."""
        return math.sqrt(self.hist_m2 / (self.hist_n - 1)) if self.hist_n > 1 else 0.0

    def zscore(self, value: float) -> float | None:
        """``value`` against the history; None while there are fewer than two points or no spread."""
        std = self.hist_std
        return (value - self.hist_mean) / std if std > 0 else None

    def update(self, timestamp: float, risk: float, negative: bool, half_life_s: float) -> tuple[float, float | None]:
        """Add one document; returns ``(new risk index, its z-score against the history before it)``.

        Out-of-order documents (older than the last one) decay nothing: ``dt`` is clamped at 0.
        """
        previous = self.risk if self.n_docs else None
        decay = 1.0 if self.last_ts is None else 0.5 ** (max(timestamp - self.last_ts, 0.0) / half_life_s)
        self.risk_sum = decay * self.risk_sum + risk
        self.neg_sum = decay * self.neg_sum + (1.0 if negative else 0.0)
        self.weight = decay * self.weight + 1.0
        self.first_ts = timestamp if self.first_ts is None else min(self.first_ts, timestamp)
        self.last_ts = timestamp if self.last_ts is None else max(self.last_ts, timestamp)
        self.n_docs += 1
        if previous is not None:  # the history is the index as it stood before each document
            self.hist_n += 1
            delta = previous - self.hist_mean
            self.hist_mean += delta / self.hist_n
            self.hist_m2 += delta * (previous - self.hist_mean)
        value = self.risk
        return value, self.zscore(value)

    def to_row(self) -> dict:
        """Column -> value for the state's ``entities`` table."""
        return asdict(self)
