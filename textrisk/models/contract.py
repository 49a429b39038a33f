"""The scoring-model contract: what ``RiskAnalyzer``, evaluation, serving and the forecaster may rely on.

Every model kind that scores text (head-mode :class:`~textrisk.models.head.model.TextRiskModel`, prompt-mode
:class:`~textrisk.models.prompt.PromptModel`) implements :class:`ScoringModel`; callers use nothing else, so a new
kind plugs in by implementing it (and registering in :data:`textrisk.models.hub.MODEL_KINDS`). Shapes:

- ``predict_outputs(texts, risk=..., embeddings=...)`` -> :class:`ModelOutputs` with raw sentiment ``logits``
  ``(n, len(labels))`` (divide by ``temperature`` before the softmax), risk-signal probabilities ``risk``
  ``(n, len(risk_labels))`` when asked, pooled ``embeddings`` ``(n, hidden)`` when asked; one pass for all;
- ``predict(texts)`` -> ``(logits, embeddings or None)`` and ``predict_risk(texts)`` -> ``risk``: the two most
  common calls, defined through ``predict_outputs`` (:class:`ScoringMixin`).

A model without risk signals has ``risk_labels == []`` and raises :class:`~textrisk.errors.ModelLoadError` when
asked for them; a model without embeddings (prompt mode) raises it when asked for those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import ModelLoadError

__all__ = ["ModelOutputs", "ScoringMixin", "ScoringModel", "as_scoring_model"]


@dataclass
class ModelOutputs:
    """What one pass of a scoring model returns (``None`` where not asked for, or the model has no such output).

    A judgement model (``risk_outputs`` beyond ``signals``, :mod:`textrisk.models.head.layout`) also returns, with
    ``risk``: ``topics`` ``(n, len(risk_labels))`` (what each text is about, boilerplate included), ``kind``
    ``(n, len(KINDS))`` and ``severity`` ``(n, 4)`` distributions, and ``adverse`` ``(n,)``: the calibrated
    probability that the text reports an adverse event or a specific adverse outlook.
    """

    logits: np.ndarray
    risk: np.ndarray | None = None
    embeddings: np.ndarray | None = None
    topics: np.ndarray | None = None
    kind: np.ndarray | None = None
    severity: np.ndarray | None = None
    adverse: np.ndarray | None = None


@runtime_checkable
class ScoringModel(Protocol):
    """A model that scores texts: sentiment logits, optionally risk-signal probabilities and embeddings."""

    model_kind: str
    tokenizer: Any
    source_dir: Path | None

    @property
    def labels(self) -> list[str]:
        """Sentiment labels, in logit order."""

    @property
    def risk_labels(self) -> list[str]:
        """Risk-signal labels, in column order of ``risk`` (empty: the model has no risk signals)."""

    @property
    def risk_thresholds(self) -> dict[str, float]:
        """Tuned flag threshold per risk label (labels not listed: 0.5)."""

    @property
    def risk_outputs(self) -> list[str]:
        """Output groups of the risk head (``[]`` without risk signals; ``["signals"]``, or a judgement model's
        ``signals, topics, kind, severity, adverse``)."""

    @property
    def temperature(self) -> float:
        """Softmax temperature fitted on held-out data."""

    @property
    def window(self) -> int:
        """Most text tokens one input may have (longer documents are chunked to fit)."""

    @property
    def embedding_size(self) -> int:
        """Width of the pooled embeddings (0: the model has none)."""

    def predict_outputs(self, texts: Sequence[str], *, risk: bool = False, embeddings: bool = False,
                        batch_size: int = 32, progress: bool | None = None) -> ModelOutputs:
        """Outputs for ``texts`` in input order (see the module docstring for shapes)."""

    def predict(self, texts: Sequence[str], batch_size: int = 32, progress: bool | None = None,
                return_embeddings: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Raw sentiment logits ``(len(texts), len(labels))`` and, if asked, pooled embeddings."""

    def predict_risk(self, texts: Sequence[str], batch_size: int = 32, progress: bool | None = None
                     ) -> np.ndarray:
        """Risk-signal probabilities ``(len(texts), len(risk_labels))``."""

    def merge_adapter(self) -> None:
        """Fold LoRA weights into the base weights for faster inference (outputs unchanged)."""

    def identity(self) -> str:
        """Hex digest of the model's config and every weight: equal digests mean equal outputs."""


def as_scoring_model(model: Any) -> ScoringModel:
    """``model`` itself, or the model inside a ``RiskAnalyzer``; refuses anything that is not a scoring model."""
    inner = model.model if not isinstance(model, ScoringModel) and isinstance(
        getattr(model, "model", None), ScoringModel) else model
    if not isinstance(inner, ScoringModel):
        kind = getattr(inner, "model_kind", type(inner).__name__)
        raise ModelLoadError(f"expected a text-scoring model (head or prompt mode), got a {kind!r} model")
    return inner


class ScoringMixin:
    """What the scoring model kinds share: ``labels`` / ``temperature`` / ``window`` read from ``self.config``
    (``labels``, ``temperature``, ``max_length``), and ``predict`` / ``predict_risk`` through ``predict_outputs``."""

    @property
    def labels(self) -> list[str]:
        """Sentiment labels, in logit order."""
        return list(self.config.labels)

    @property
    def temperature(self) -> float:
        """Softmax temperature fitted on held-out data."""
        return float(self.config.temperature)

    @property
    def window(self) -> int:
        """Most text tokens of one input."""
        return int(self.config.max_length)

    @property
    def risk_outputs(self) -> list[str]:
        """Output groups of the risk head (``config.risk_outputs``; ``["signals"]`` for a model without them)."""
        if not self.risk_labels:
            return []
        return list(getattr(self.config, "risk_outputs", None) or ["signals"])

    def predict(self, texts: Sequence[str], batch_size: int = 32, progress: bool | None = None,
                return_embeddings: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Raw sentiment logits ``(len(texts), len(labels))`` and, if asked, pooled embeddings."""
        out = self.predict_outputs(texts, embeddings=return_embeddings, batch_size=batch_size, progress=progress)
        return out.logits, out.embeddings

    def predict_risk(self, texts: Sequence[str], batch_size: int = 32, progress: bool | None = False
                     ) -> np.ndarray:
        """Risk-signal probabilities ``(len(texts), len(risk_labels))``."""
        return self.predict_outputs(texts, risk=True, batch_size=batch_size, progress=progress).risk

    def identity(self) -> str:
        """The model's content hash (:func:`textrisk.models.identity.model_identity`)."""
        from .identity import model_identity

        return model_identity(self)
