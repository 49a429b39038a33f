"""Fine-tuning configuration: one dataclass, loadable from YAML, validated field by field."""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .backbone import DEFAULT_BASE_MODEL
from .errors import ConfigError
from .taxonomy import SENTIMENT_LABELS

__all__ = ["TrainConfig", "check_run_fields", "check_types", "config_from_dict", "config_from_yaml", "read_yaml"]

_Config = TypeVar("_Config")


@dataclass
class TrainConfig:
    """Everything a fine-tuning run depends on; the same config and seed give the same model."""

    output_dir: str = field(metadata={"help": "Folder for checkpoints and the final model."})
    base_model: str = field(default=DEFAULT_BASE_MODEL, metadata={"help": "Backbone: local folder or Hub id."})
    train_data: list[str] = field(
        default_factory=lambda: ["fpb", "tfns"],
        metadata={"help": "Training sources: 'fpb' (FPB 50%-agree train part), 'tfns' (TFNS train), or "
                          "paths of labelled CSV/JSONL files."},
    )
    eval_data: list[str] = field(
        default_factory=list,
        metadata={"help": "Held-out benchmarks ('fpb', 'tfns') evaluated after training for the model card; "
                          "never used for model selection."},
    )
    labels: list[str] = field(default_factory=lambda: list(SENTIMENT_LABELS),
                              metadata={"help": "Class names in head order."})
    risk_labels: list[str] = field(
        default_factory=list, metadata={"help": "Risk-signal labels of a multi-label head trained jointly with "
                                                "sentiment; empty: sentiment only."})
    risk_train_data: list[str] = field(
        default_factory=list, metadata={"help": "CSV/JSONL files with text and labels (a list of risk labels)."})
    risk_dev_data: str | None = field(
        default=None, metadata={"help": "Labelled risk file used to tune per-label flag thresholds (gold dev)."})
    risk_eval_data: str | None = field(
        default=None, metadata={"help": "Labelled risk file evaluated after training for the card (gold test)."})
    risk_loss_weight: float = field(default=1.0, metadata={"help": "Weight of the risk loss in the joint loss."})
    risk_balance: bool = field(
        default=True, metadata={"help": "Weight each risk label's positives by sqrt(negatives/positives), "
                                        "clipped to [1, 20], so rare labels are learned."})
    init_from: str | None = field(
        default=None, metadata={"help": "Continue from a training run folder (adapter + sentiment head); its "
                                        "held-out rows stay held out; a risk head is added if risk_labels is set."})
    trainable_heads: list[str] | None = field(
        default=None, metadata={"help": "Train only these heads (e.g. [risk]); the backbone, the adapter and the "
                                        "other heads stay frozen, so adding risk signals cannot change sentiment."})
    text_column: str = field(default="text", metadata={"help": "Text column of training files."})
    label_column: str = field(default="label", metadata={"help": "Label column of training files."})
    data_dir: str | None = field(default=None, metadata={"help": "Shared data folder (default ../shared/data)."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Subsample training rows (seeded)."})
    calibration_fraction: float = field(
        default=0.1, metadata={"help": "Share of training rows held out to fit the temperature and report dev "
                                        "metrics."})
    max_length: int = field(default=128, metadata={"help": "Max tokens per text."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank; 0 trains the head only."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA scaling numerator."})
    lora_dropout: float = field(default=0.1, metadata={"help": "Dropout on the LoRA path."})
    lora_target_modules: list[str] | None = field(
        default=None, metadata={"help": "Module names to adapt; default chosen per architecture."})
    epochs: float = field(default=3.0, metadata={"help": "Passes over the training data."})
    batch_size: int = field(default=32, metadata={"help": "Examples per optimisation step."})
    learning_rate: float = field(default=5e-4, metadata={"help": "Peak AdamW learning rate."})
    head_learning_rate: float | None = field(default=None, metadata={"help": "Head LR (default: learning_rate)."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    warmup_ratio: float = field(default=0.06, metadata={"help": "Share of steps with linear warm-up."})
    seed: int = field(default=42, metadata={"help": "Seed for data order, splits, dropout and init."})
    save_every_steps: int = field(default=200, metadata={"help": "Checkpoint interval (steps)."})
    keep_checkpoints: int = field(default=2, metadata={"help": "Checkpoints kept on disk."})
    num_threads: int | None = field(default=None, metadata={"help": "torch CPU threads (default: torch's)."})

    def __post_init__(self) -> None:
        check_run_fields(self, positive=("max_length", "batch_size", "save_every_steps", "keep_checkpoints", "epochs",
                                         "learning_rate"), non_negative=("lora_r", "lora_alpha"))
        if len(set(self.labels)) != len(self.labels) or len(self.labels) < 2:
            raise ConfigError(f"labels must be >= 2 distinct names, got {self.labels!r}")
        if len(set(self.risk_labels)) != len(self.risk_labels):
            raise ConfigError(f"risk_labels has duplicates: {self.risk_labels!r}")
        if not self.risk_labels and (self.risk_train_data or self.risk_dev_data or self.risk_eval_data):
            raise ConfigError("risk_train_data/risk_dev_data/risk_eval_data need risk_labels")
        if self.risk_labels and not self.risk_train_data:
            raise ConfigError("risk_labels needs risk_train_data (files with text and labels columns)")
        for head in self.trainable_heads or []:
            if head not in ("sentiment", "risk"):
                raise ConfigError(f"trainable_heads entries must be 'sentiment' or 'risk', got {head!r}")
        if self.trainable_heads is not None and not self.trainable_heads:
            raise ConfigError("trainable_heads must name at least one head (or be omitted)")
        if self.trainable_heads and "risk" in self.trainable_heads and not self.risk_labels:
            raise ConfigError("trainable_heads names 'risk' but risk_labels is empty")
        if self.risk_loss_weight <= 0:
            raise ConfigError(f"risk_loss_weight must be > 0, got {self.risk_loss_weight!r}")

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, **overrides: Any) -> TrainConfig:
        """Read a YAML file (keys = field names; a ``mode: head`` line is allowed); ``overrides`` win."""
        return config_from_yaml(cls, path, "head", overrides)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> TrainConfig:
        """Build from a mapping, rejecting unknown keys by name."""
        return config_from_dict(cls, data, source)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all fields (JSON/YAML ready)."""
        return dataclasses.asdict(self)


def read_yaml(path: str | os.PathLike) -> dict[str, Any]:
    """The mapping in a YAML config file; unreadable files, bad YAML and non-mappings raise ConfigError."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read config {str(path)!r}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {str(path)!r} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config {str(path)!r} must be a mapping of field names to values")
    return data


def config_from_yaml(cls: type[_Config], path: str | os.PathLike, mode: str, overrides: dict[str, Any]) -> _Config:
    """Build ``cls`` from a YAML file whose optional ``mode`` key must equal ``mode``; ``overrides`` win."""
    data = {**read_yaml(path), **overrides}
    if data.pop("mode", mode) != mode:
        raise ConfigError(f"{path}: mode must be {mode!r} for a {cls.__name__} (head mode: TrainConfig, prompt mode: "
                          "textrisk.prompt.PromptTrainConfig)")
    return config_from_dict(cls, data, source=str(path))


def config_from_dict(cls: type[_Config], data: dict[str, Any], source: str = "config") -> _Config:
    """Build the training-config dataclass ``cls`` from a mapping; unknown keys and a missing output_dir are named."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {unknown}; valid keys: {sorted(known)}")
    if "output_dir" not in data:
        raise ConfigError(f"{source}: output_dir is required")
    return cls(**data)


def check_run_fields(config: Any, positive: Sequence[str], non_negative: Sequence[str] = (),
                     fractions: Sequence[str] = ("lora_dropout", "warmup_ratio")) -> None:
    """Checks every training config shares: field types, signs and ranges, data sources; errors name the field."""
    check_types(config)
    for name in positive:
        if getattr(config, name) <= 0:
            raise ConfigError(f"{name} must be > 0, got {getattr(config, name)!r}")
    for name in non_negative:
        if getattr(config, name) < 0:
            raise ConfigError(f"{name} must be >= 0, got {getattr(config, name)!r}")
    for name in fractions:
        if not 0 <= getattr(config, name) < 1:
            raise ConfigError(f"{name} must be in [0, 1), got {getattr(config, name)!r}")
    if not 0 < config.calibration_fraction < 0.5:
        raise ConfigError(f"calibration_fraction must be in (0, 0.5), got {config.calibration_fraction!r}")
    if not config.train_data:
        raise ConfigError("train_data must name at least one source")
    if config.max_train_samples is not None and config.max_train_samples < 10:
        raise ConfigError(f"max_train_samples must be >= 10, got {config.max_train_samples!r}")
    for name in config.eval_data:
        if name not in ("fpb", "tfns"):
            raise ConfigError(f"eval_data entries must be 'fpb' or 'tfns', got {name!r}")


def _matches(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(annotation)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def check_types(config: Any) -> None:
    """Check every field of dataclass ``config`` against its type hint.

    Raises:
        ConfigError: a field holds a value of the wrong type (the field is named).
    """
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if not _matches(value, hints[f.name]):
            hint = hints[f.name]
            expected = hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")
            raise ConfigError(f"{f.name} must be {expected}, got {type(value).__name__} {value!r}")
