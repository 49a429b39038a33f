"""``PromptConfig``: what a saved prompt-mode model records besides its weights (in ``textrisk_config.json``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ...errors import ConfigError
from ...utils.calibration import TEMPERATURE_RANGE
from ...utils.validation import check, validate_fields

__all__ = ["WEIGHTS", "PromptConfig"]

#: The kinds of weights a prompt-mode folder can hold (``PromptConfig.weights``).
WEIGHTS = ("adapter", "merged", "base")


@dataclass
class PromptConfig:
    """What a saved prompt-mode model needs besides its weights (``model_kind: "prompt"``)."""

    base_model: str = field(metadata=check("Local folder, Hub id or '<folder>::<file.gguf>' of the causal LM.",
                                           nonempty=True))
    labels: list[str] = field(metadata=check("Sentiment labels in output order (from the sentiment template).",
                                             nonempty=True))
    templates: dict[str, str] = field(metadata=check("task -> template file name under prompts/ (must include "
                                                     "'sentiment')."))
    window: int = field(default=256, metadata=check("Most tokens of prompt + text + answer the model reads.", ge=16))
    max_length: int = field(default=128, metadata=check(
        "Text tokens the sentiment prompt holds (window minus template and answer); derived at load.", ge=8))
    temperature: float = field(default=1.0, metadata=check("Softmax temperature fitted on held-out data.",
                                                           ge=TEMPERATURE_RANGE[0], le=TEMPERATURE_RANGE[1]))
    weights: str = field(default="adapter", metadata=check(
        "'adapter' (LoRA over base_model), 'merged' (full weights here) or 'base' (base_model as is).",
        choices=WEIGHTS))
    template_versions: dict[str, str] = field(default_factory=dict,
                                              metadata=check("task -> template version, for the record."))
    base_fingerprint: dict[str, Any] = field(default_factory=dict,
                                             metadata=check("Base config facts checked at load time."))
    label_bias: list[float] = field(default_factory=list, metadata=check(
        "Contextual calibration: log P(label | content-free input) per label, subtracted from the answer "
        "log-likelihoods (PromptModel.fit_label_bias); empty: none."))

    def __post_init__(self) -> None:
        validate_fields(self)
        if "sentiment" not in self.templates:
            raise ConfigError(f"templates must include 'sentiment', got {sorted(self.templates)}")
        if self.label_bias and (len(self.label_bias) != len(self.labels)
                                or not all(math.isfinite(v) for v in self.label_bias)):
            raise ConfigError(f"label_bias must hold one finite number per label {self.labels}, "
                              f"got {self.label_bias!r}")
