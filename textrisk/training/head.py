"""The head-mode trainer: LoRA (or full) fine-tuning of a backbone with a sentiment head and, optionally, a risk
head, then calibration, evaluation, the model card and the saved folder.

Entered through :func:`textrisk.training.run` (``mode: head``); the loop, checkpoints and exact resume are
:mod:`textrisk.training.loop`, the rows :mod:`textrisk.training.data`.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError
from ..evaluation.judgement import judgement_report, load_dev_rows
from ..models.cards import ModelCardData, ece_by_label, render_model_card
from ..models.head.model import TextRiskModel
from ..utils.atomic import atomic_write_json
from ..version import __version__
from .config import TrainConfig
from .data import distill_texts, init_model_path, risk_pos_weight, training_data
from .distillation import teacher_probabilities
from .length_batching import length_grouped_order
from .loop import (
    TrainResult,
    calibrate_and_evaluate,
    check_training_data,
    distributed_model,
    main_process_result,
    optimise,
    prepare_output,
)
from .recipe_loss import RecipeLoss, class_weights
from .risk_calibration import calibrate_risk, tune_risk_thresholds

__all__ = ["recipe_of", "train"]


def _check_init_from(config: TrainConfig) -> None:
    from ..models.head.config import ModelConfig
    from ..models.hub import CONFIG_NAME, config_from_saved, read_model_config

    folder = init_model_path(config.init_from)
    kind, saved = read_model_config(folder)
    if kind != "head":
        raise ConfigError(f"init_from {config.init_from!r} holds a {kind!r} model; head-mode training needs a "
                          "head-mode run folder")
    previous = config_from_saved(ModelConfig, saved, folder / CONFIG_NAME)
    if previous.labels != list(config.labels) or previous.base_model != config.base_model:
        raise ConfigError(f"init_from {config.init_from!r} has labels {previous.labels} over "
                          f"{previous.base_model!r}; the config says {config.labels} over {config.base_model!r}")


def _new_model(config: TrainConfig) -> TextRiskModel:
    if config.init_from is None:
        model = TextRiskModel.from_base(
            config.base_model, config.labels, max_length=config.max_length, lora_r=config.lora_r,
            lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
            lora_target_modules=config.lora_target_modules,
        )
    else:
        model = TextRiskModel.from_pretrained(init_model_path(config.init_from), trainable=True)
    if config.risk_labels:
        model.add_risk_head(config.risk_labels, config.risk_hidden, config.risk_layers, config.risk_outputs)
    model.train()
    return model


def _calibrate_and_evaluate_risk(model: TextRiskModel, config: TrainConfig, progress: bool | None
                                 ) -> dict[str, Any]:
    """On ``risk_dev_data``: Platt scaling folded into the head (``risk_calibrate``), then per-label thresholds, and
    the dev report; ``risk_eval_data`` reported at the tuned thresholds and at 0.5 (see
    :mod:`textrisk.training.risk_calibration`)."""
    results: dict[str, Any] = {}
    labels = list(config.risk_labels)
    judged = config.risk_outputs != ["signals"]
    if config.risk_dev_data:
        dev = load_dev_rows(config.risk_dev_data, labels, config.text_column, judgement=judged)
        if config.risk_calibrate:
            results["calibration"] = calibrate_risk(model, dev, progress)
        model.config.risk_thresholds = tune_risk_thresholds(model, dev, progress)
        results["dev"] = judgement_report(model, dev, progress=progress)
    if config.risk_eval_data:
        rows = load_dev_rows([config.risk_eval_data], labels, config.text_column, judgement=judged)
        results["test_threshold_0.5"] = judgement_report(model, rows, {label: 0.5 for label in labels}, progress)
        results["test_tuned"] = judgement_report(model, rows, progress=progress)
    return results


def recipe_of(config: TrainConfig, targets: list[int]) -> RecipeLoss | None:
    """The sentiment loss the config's recipe options ask for; ``None``: the model's plain cross-entropy."""
    if not (config.label_smoothing or config.rdrop_alpha or config.class_weighting != "none"
            or config.source_weights or config.distill_teachers):
        return None
    return RecipeLoss(label_smoothing=config.label_smoothing,
                      class_weight=class_weights(targets, len(config.labels), config.class_weighting),
                      rdrop_alpha=config.rdrop_alpha,
                      distill_alpha=config.distill_alpha if config.distill_teachers else 0.0,
                      temperature=config.distill_temperature)


def train(config: TrainConfig, progress: bool | None = None) -> TrainResult:
    """Fine-tune ``config.base_model`` with LoRA and a sentiment head; save the model to ``config.output_dir``.

    Re-running with the same ``output_dir`` resumes from its latest checkpoint.
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    started = time.time()
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    output = prepare_output(config)

    if config.init_from:
        _check_init_from(config)
    set_seed(config.seed)
    train_rows, dev_rows, counts = training_data(config)
    model = _new_model(config)
    if config.lora_r == 0 and not config.full_finetune and config.init_from is None:
        model.backbone.requires_grad_(False)  # lora_r 0 without full_finetune: the heads alone train
    heads = set(config.trainable_heads or model.heads.keys())
    if "sentiment" not in heads:  # rows that only carry targets for frozen heads would teach nothing
        train_rows = train_rows.filter(lambda row: max(row["risk"]) >= 0)
    if "risk" not in heads and "risk" in train_rows.column_names:
        train_rows = train_rows.filter(lambda row: row["label"] != -100)
    tokenizer = model.tokenizer
    encoded = train_rows.map(lambda b: tokenizer(b["text"], truncation=True, max_length=config.max_length),
                             batched=True, remove_columns=["text"])
    input_ids, targets = encoded["input_ids"], encoded["label"]
    risk_targets = encoded["risk"] if config.risk_labels else None
    risk_rows = list(encoded["risk_weight"]) if config.risk_labels else None
    recipe = recipe_of(config, targets)
    row_weights = teacher = None
    if config.source_weights:
        row_weights = torch.tensor(config.source_weights, dtype=torch.float32)[torch.tensor(encoded["source"])]
    if config.distill_teachers:
        texts = list(train_rows["text"])
        extra = distill_texts(config, dev_rows["text"], texts)
        input_ids = list(input_ids) + (
            tokenizer(extra, truncation=True, max_length=config.max_length)["input_ids"] if extra else [])
        targets = list(targets) + [-100] * len(extra)
        if risk_targets:
            risk_targets = list(risk_targets) + [[-1] * len(risk_targets[0])] * len(extra)
            risk_rows = risk_rows + [1.0] * len(extra)
        if row_weights is not None:
            row_weights = torch.cat([row_weights, torch.ones(len(extra))])
        teacher = torch.from_numpy(teacher_probabilities(config.distill_teachers, texts + extra, config.labels,
                                                         config.distill_temperature, output, progress))
        counts["distill_texts"] = len(extra)
    pos_weight = None
    if risk_targets and config.risk_balance:  # rare labels would otherwise barely move the loss
        pos_weight = risk_pos_weight(np.asarray(risk_targets)[:, :len(config.risk_labels)])

    if config.trainable_heads:
        prefixes = tuple(f"heads.{head}." for head in config.trainable_heads)
        for name, param in model.named_parameters():
            param.requires_grad = name.startswith(prefixes)
    accelerator = Accelerator(cpu=not torch.cuda.is_available())  # cpu=True: processes of a CPU launch use gloo
    model.to(accelerator.device)
    forward = distributed_model(model, accelerator, find_unused=bool(config.risk_labels))
    head_params = [p for p in model.heads.parameters() if p.requires_grad]
    body_params = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("heads.")]
    groups = [{"params": head_params, "lr": config.head_learning_rate or config.learning_rate}]
    if body_params:
        groups.append({"params": body_params, "lr": config.learning_rate})

    autocast = (lambda: torch.autocast(accelerator.device.type, dtype=torch.bfloat16)) if config.bf16 else (
        contextlib.nullcontext)

    frozen = None  # only heads train: the encoder's outputs are fixed, so they are computed once, not at every step

    def loss_of(index: np.ndarray) -> torch.Tensor:
        batch = None if frozen is not None else tokenizer.pad({"input_ids": [input_ids[i] for i in index]},
                                                              return_tensors="pt")
        labels = torch.tensor([targets[i] for i in index])
        risk = torch.tensor([risk_targets[i] for i in index]).to(accelerator.device) if risk_targets else None
        risk_weight = torch.tensor([risk_rows[i] for i in index]).to(accelerator.device) if risk_targets else None

        def run(with_labels: bool) -> dict[str, torch.Tensor]:
            targets_of = {"labels": labels.to(accelerator.device) if with_labels and "sentiment" in heads else None,
                          "risk_targets": risk if "risk" in heads else None, "risk_weight": config.risk_loss_weight,
                          "risk_pos_weight": None if pos_weight is None else pos_weight.to(accelerator.device),
                          "risk_row_weight": risk_weight}
            if frozen is not None:
                rows = torch.as_tensor(index)
                return model.forward_features(frozen[0][rows], None if frozen[1] is None else frozen[1][rows],
                                              **targets_of)
            with autocast():
                return forward(batch["input_ids"].to(accelerator.device),
                               batch["attention_mask"].to(accelerator.device), **targets_of)

        if recipe is None or "sentiment" not in heads:
            return run(True)["loss"]
        out = run(False)  # its "loss" (if any) is the risk head's
        second = run(False)["logits"].float() if config.rdrop_alpha else None
        device = out["logits"].device
        loss = recipe(out["logits"].float(), labels.to(device),
                      None if row_weights is None else row_weights[index].to(device),
                      None if teacher is None else teacher[index].to(device), second)
        return loss + out["loss"] if "loss" in out else loss

    check_training_data(output, input_ids, targets, risk_targets)
    if not body_params and accelerator.num_processes == 1 and not config.bf16:
        frozen = model.encode_features(input_ids, batch_size=max(config.batch_size, 64), progress=progress)
    lengths = [len(ids) for ids in input_ids]
    arrange = (lambda order, epoch: length_grouped_order(order, lengths, config.batch_size, config.seed + epoch)
               ) if config.length_grouped else None
    step, losses, resumed = optimise(model, groups, len(input_ids), loss_of, config, output, progress,
                                      "fine-tuning", backward=accelerator.backward,
                                      accelerator=accelerator if accelerator.num_processes > 1 else None,
                                      arrange=arrange)
    if not accelerator.is_main_process:  # calibration, evaluation and the saved model: the main process's job
        accelerator.wait_for_everyone()
        return main_process_result(output, resumed)

    dev_rows = dev_rows.filter(lambda row: row["label"] != -100)  # risk-only rows have no sentiment
    temperature, dev_metrics, eval_metrics = calibrate_and_evaluate(
        model, dev_rows["text"], dev_rows["label"], config.labels, config.eval_data, config.data_dir, progress)
    risk_metrics = _calibrate_and_evaluate_risk(model, config, progress) if config.risk_labels else {}

    card = ModelCardData(
        base_model=config.base_model, labels=list(config.labels),
        train_sources={k: v for k, v in counts.items()}, dev_rows=len(dev_rows), config=config.to_dict(),
        dev_metrics={k: v for k, v in dev_metrics.items() if isinstance(v, float)}, temperature=temperature,
        eval_metrics=eval_metrics, train_seconds=time.time() - started, textrisk_version=__version__,
        risk_labels=list(config.risk_labels), risk_metrics=risk_metrics,
        risk_outputs=list(config.risk_outputs) if config.risk_labels else [],
        risk_calibration=ece_by_label(risk_metrics.get("calibration")),
    )
    model.save_pretrained(output, model_card=render_model_card(card, pooling=model.config.pooling))
    atomic_write_json(output / "training_results.json", {
        "steps": step, "train_rows": len(input_ids), "dev_rows": len(dev_rows), "sources": counts,
        "temperature": temperature, "dev": dev_metrics, "eval": eval_metrics, "risk": risk_metrics,
        "losses": losses,
        "seconds": time.time() - started,
    })
    if accelerator.num_processes > 1:
        accelerator.wait_for_everyone()  # the other processes now read training_results.json
    return TrainResult(output_dir=output, steps=step, temperature=temperature, dev_metrics=dev_metrics,
                       eval_metrics=eval_metrics, resumed_from_step=resumed, losses=losses,
                       risk_metrics=risk_metrics)
