"""``PromptConfig``: what a saved prompt-mode model records besides its weights (``prompt_config.json``)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ModelLoadError
from ..modeling import read_config_json

__all__ = ["PROMPT_CONFIG_NAME", "WEIGHTS", "PromptConfig", "is_prompt_model_dir"]

PROMPT_CONFIG_NAME = "prompt_config.json"
#: The kinds of weights a prompt-mode folder can hold (``PromptConfig.weights``).
WEIGHTS = ("adapter", "merged", "base")


@dataclass
class PromptConfig:
    """What a saved prompt-mode model needs besides its weights (stored as ``prompt_config.json``)."""

    base_model: str = field(metadata={"help": "Local folder, Hub id or '<folder>::<file.gguf>' of the causal LM."})
    labels: list[str] = field(metadata={"help": "Sentiment labels in output order (from the sentiment template)."})
    templates: dict[str, str] = field(metadata={"help": "task -> template file name under prompts/."})
    mode: str = field(default="prompt", metadata={"help": "Marks the folder as a prompt-mode model."})
    window: int = field(default=256, metadata={"help": "Most tokens of prompt + text + answer the model reads."})
    max_length: int = field(default=128, metadata={
        "help": "Text tokens the sentiment prompt holds (window minus template and answer); derived at load."})
    temperature: float = field(default=1.0, metadata={"help": "Softmax temperature fitted on held-out data."})
    weights: str = field(default="adapter", metadata={
        "help": "'adapter' (LoRA over base_model), 'merged' (full weights here) or 'base' (base_model as is)."})
    template_versions: dict[str, str] = field(default_factory=dict,
                                              metadata={"help": "task -> template version, for the record."})
    base_fingerprint: dict[str, Any] = field(default_factory=dict,
                                             metadata={"help": "Base config facts checked at load time."})
    label_bias: list[float] = field(default_factory=list, metadata={
        "help": "Contextual calibration: log P(label | content-free input) per label, subtracted from the answer "
                "log-likelihoods (PromptModel.fit_label_bias); empty: none."})
    textrisk_version: str = __version__
    format_version: int = 1

    def __post_init__(self) -> None:
        kinds = {"base_model": str, "labels": list, "templates": dict, "mode": str, "window": int, "max_length": int,
                 "temperature": (int, float), "weights": str, "template_versions": dict, "base_fingerprint": dict,
                 "label_bias": list}
        for name, kind in kinds.items():
            value = getattr(self, name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ModelLoadError(f"prompt config: {name} has the wrong type ({type(value).__name__} {value!r})")
        if self.mode != "prompt":
            raise ModelLoadError(f"prompt config: mode must be 'prompt', got {self.mode!r}")
        if self.weights not in WEIGHTS:
            raise ModelLoadError(f"prompt config: weights must be one of {list(WEIGHTS)}, got {self.weights!r}")
        if self.window < 16:
            raise ModelLoadError(f"prompt config: window must be >= 16, got {self.window!r}")
        if self.max_length < 8:
            raise ModelLoadError(f"prompt config: max_length must be >= 8, got {self.max_length!r}")
        if not self.temperature > 0:
            raise ModelLoadError(f"prompt config: temperature must be > 0, got {self.temperature!r}")
        if "sentiment" not in self.templates:
            raise ModelLoadError(f"prompt config: templates must include 'sentiment', got {sorted(self.templates)}")
        if self.label_bias and (len(self.label_bias) != len(self.labels) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in self.label_bias)):
            raise ModelLoadError(f"prompt config: label_bias must hold one finite number per label "
                                 f"{self.labels}, got {self.label_bias!r}")

    @classmethod
    def from_json(cls, path: Path) -> PromptConfig:
        """Read and validate ``prompt_config.json`` (unknown keys are rejected by name)."""
        return read_config_json(cls, path, "prompt config")


def is_prompt_model_dir(name_or_path: str | os.PathLike) -> bool:
    """True when ``name_or_path`` is a local folder holding a prompt-mode model (``prompt_config.json``)."""
    path = Path(str(name_or_path)).expanduser()
    return path.is_dir() and (path / PROMPT_CONFIG_NAME).is_file()
