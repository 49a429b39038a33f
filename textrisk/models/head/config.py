"""``ModelConfig``: what a saved head-mode model needs besides its weights (``textrisk_config.json``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import ConfigError
from ...labels.taxonomy import SENTIMENT_LABELS, validate_label_set
from ...utils.calibration import TEMPERATURE_RANGE
from ...utils.validation import check, validate_fields
from ..backbone import DEFAULT_BASE_MODEL
from .layout import validate_outputs

__all__ = ["ModelConfig"]


@dataclass
class ModelConfig:
    """What a saved head-mode model needs besides its weights (stored in ``textrisk_config.json``)."""

    base_model: str = field(default=DEFAULT_BASE_MODEL, metadata=check("Local folder or Hub id of the backbone.",
                                                                       nonempty=True))
    labels: list[str] = field(default_factory=lambda: list(SENTIMENT_LABELS),
                              metadata=check("Sentiment head classes, in output order."))
    pooling: str = field(default="mean", metadata=check("'mean' (encoders) or 'last' (decoder-only models).",
                                                        choices=("mean", "last")))
    max_length: int = field(default=128, metadata=check("Tokens per chunk the model reads (at most the backbone's "
                                                        "position limit).", ge=8))
    temperature: float = field(default=1.0, metadata=check("Softmax temperature fitted on held-out data.",
                                                           ge=TEMPERATURE_RANGE[0], le=TEMPERATURE_RANGE[1]))
    adapter: bool = field(default=True, metadata=check("True: LoRA adapter over base_model; False: merged."))
    base_fingerprint: dict[str, Any] = field(default_factory=dict, metadata=check(
        "Base model facts checked at load time: architecture sizes and a hash of sampled weights."))
    risk_labels: list[str] = field(default_factory=list,
                                   metadata=check("Labels of the multi-label risk head; empty: no risk head."))
    risk_thresholds: dict[str, float] = field(default_factory=dict, metadata=check(
        "Per-label flag thresholds in (0, 1) of the model's risk probabilities (default 0.5)."))
    risk_layers: list[int] = field(default_factory=list, metadata=check(
        "Backbone layers (0 = embeddings, num_hidden_layers = last) whose pooled states, concatenated, the risk "
        "head reads; empty: the pooled embedding the sentiment head reads."))
    risk_hidden: int = field(default=0, metadata=check(
        "Width of the risk head's hidden layer (a GELU MLP: Linear, GELU, Linear); 0: one linear layer.", ge=0))
    risk_outputs: list[str] = field(default_factory=lambda: ["signals"], metadata=check(
        "Output groups of the risk head (textrisk.models.head.layout): 'signals' alone, or with 'topics', 'kind', "
        "'severity' and 'adverse' for a judgement model."))
    risk_ensemble: dict[str, Any] = field(default_factory=dict, metadata=check(
        "Stacker over the risk head and the labelling functions (textrisk.models.head.ensemble.RiskEnsemble.to_dict); "
        "empty: the risk probabilities are the head's own."))

    def __post_init__(self) -> None:
        validate_fields(self)
        self.labels = list(validate_label_set(self.labels, "labels"))
        if self.risk_labels:
            self.risk_labels = list(validate_label_set(self.risk_labels, "risk_labels", minimum=1))
        unknown = sorted(set(self.risk_thresholds) - set(self.risk_labels))
        if unknown:
            raise ConfigError(f"risk_thresholds names labels the model lacks: {unknown} "
                              f"(risk labels: {self.risk_labels})")
        for label, value in self.risk_thresholds.items():
            if not 0 < value < 1:
                raise ConfigError(f"risk_thresholds[{label!r}] must be in (0, 1), got {value!r}")
        self.risk_outputs = validate_outputs(self.risk_outputs)
        if any(isinstance(layer, bool) or not isinstance(layer, int) or layer < 0 for layer in self.risk_layers):
            raise ConfigError(f"risk_layers must be layer numbers >= 0, got {self.risk_layers!r}")
        if self.risk_ensemble:
            from .ensemble import RiskEnsemble

            if RiskEnsemble.from_dict(self.risk_ensemble).labels != self.risk_labels:
                raise ConfigError(f"risk_ensemble is for labels {self.risk_ensemble.get('labels')}, the risk head "
                                  f"has {self.risk_labels}")
