"""The prompt-mode trainer: :func:`train_prompt_model` (``mode: prompt`` of :func:`textrisk.training.run`).

Causal-LM cross-entropy on the answer tokens only (prompt and padding are ignored, as ``labels = -100`` would),
with LoRA via peft, seeded, with atomic checkpoints and exact resume: the shared loop of
:mod:`textrisk.training.loop` (:func:`~textrisk.training.loop.optimise`,
:func:`~textrisk.training.loop.calibrate_and_evaluate`, :func:`~textrisk.training.loop.prepare_output`) and the
rows of :func:`textrisk.training.data.training_data`. The model card is rendered from the prompt kind's template.
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch

from ..models.cards import ModelCardData, render_model_card
from ..models.prompt.model import WEIGHTS_TEXT, PromptModel
from ..models.prompt.smollm2 import smollm2_base
from ..models.prompt.templates import PromptTemplate, TemplateError, template_path
from ..utils.atomic import atomic_write_json
from ..version import __version__
from .config import PromptTrainConfig
from .data import training_data
from .loop import TrainResult, calibrate_and_evaluate, optimise, prepare_output

__all__ = ["train_prompt_model"]


def train_prompt_model(config: PromptTrainConfig, progress: bool | None = None) -> TrainResult:
    """LoRA fine-tune ``config.base_model`` in prompt mode and save it to ``config.output_dir``.

    Re-running with the same ``output_dir`` resumes from its latest checkpoint (same data order, optimiser
    state and RNG), using the loop and checkpoints of :mod:`textrisk.training.loop`; the card is the prompt
    kind's (``card_templates/prompt.md``). Returns a :class:`textrisk.training.loop.TrainResult`.
    """
    from accelerate.utils import set_seed

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
    train_rows, dev_rows, counts = training_data(config, labels, min_train_rows=2)
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
    ), kind="prompt", weights_text=WEIGHTS_TEXT[model.config.weights],
        templates={task: f"{task}.txt" for task in model.templates})
    model.save_pretrained(output, model_card=card)
    atomic_write_json(output / "training_results.json", {
        "steps": step, "train_rows": len(text_ids), "dev_rows": len(dev_rows), "sources": counts,
        "temperature": temperature, "dev": dev_metrics, "eval": eval_metrics, "losses": losses,
        "seconds": time.time() - started,
    })
    return TrainResult(output_dir=output, steps=step, temperature=temperature, dev_metrics=dev_metrics,
                       eval_metrics=eval_metrics, resumed_from_step=resumed, losses=losses)
