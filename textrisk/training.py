"""LoRA fine-tuning loop: seeded, checkpointed atomically every N steps, resumable to the exact step.

A short explicit loop (not ``Trainer``) because exact resume needs control of the data order: epoch ``e``
visits rows in ``default_rng(seed + e).permutation(n)``, so a resumed run slices that permutation and
continues with the same batches, optimiser state and dropout RNG as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import TrainConfig
from .data.datasets import load_benchmark, load_risk_file, load_training_source
from .data.unlabelled import sample_unlabelled
from .distillation import teacher_probabilities
from .errors import ConfigError
from .length_batching import length_grouped_order
from .metrics import evaluate_logits, multilabel_report, tune_thresholds
from .modelcard import ModelCardData, render_model_card
from .modeling import TextRiskModel
from .recipe_loss import RecipeLoss, class_weights
from .utils.atomic import atomic_write_json, atomic_write_text
from .utils.calibration import fit_temperature
from .version import __version__

__all__ = [
    "TrainResult",
    "calibrate_and_evaluate",
    "check_training_data",
    "distill_texts",
    "optimise",
    "prepare_output",
    "recipe_of",
    "risk_pos_weight",
    "save_checkpoint",
    "train",
    "training_data",
]

_CHECKPOINTS = "checkpoints"
_STATE = "trainer_state.json"


@dataclass
class TrainResult:
    """What a finished run produced."""

    output_dir: Path
    steps: int
    temperature: float
    dev_metrics: dict[str, Any]
    eval_metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    resumed_from_step: int | None = None
    losses: list[float] = field(default_factory=list)
    risk_metrics: dict[str, Any] = field(default_factory=dict)


def training_data(config: TrainConfig):
    """The run's ``(train rows, held-out dev rows, {source: rows})``: sources concatenated, shuffled with the seed,
    subsampled, and split (seeded; with ``init_from``, the dev rows are the texts that run held out).

    Raises:
        ConfigError: too little data for ``calibration_fraction`` and ``batch_size``.
    """
    from datasets import concatenate_datasets

    parts, counts = [], {}
    for number, source in enumerate(config.train_data):
        part = load_training_source(source, config.labels, config.data_dir, config.text_column, config.label_column)
        if getattr(config, "source_weights", None):  # a row's source sets its loss weight (the mixing ratio)
            part = part.add_column("source", [number] * len(part))
        parts.append(part)
        counts[source] = len(part)
    data = concatenate_datasets(parts).shuffle(seed=config.seed)
    if config.max_train_samples is not None and config.max_train_samples < len(data):
        data = data.select(range(config.max_train_samples))
    if config.risk_labels:
        data = _with_risk_targets(data, config, counts)
    held_out = _held_out_texts(config.init_from) if config.init_from else None
    if held_out is None:
        split = data.train_test_split(test_size=config.calibration_fraction, seed=config.seed)
        train_rows, dev_rows = split["train"], split["test"]
    else:  # rows the init model never trained on are the only honest ones for its temperature and dev metrics
        is_dev = [text in held_out for text in data["text"]]
        dev_rows = data.select([i for i, dev in enumerate(is_dev) if dev])
        train_rows = data.select([i for i, dev in enumerate(is_dev) if not dev])
    if len(dev_rows) < 2 or len(train_rows) < config.batch_size // 4 + 1:
        raise ConfigError(f"too little data ({len(data)} rows) for calibration_fraction and batch_size")
    return train_rows, dev_rows, counts


def _held_out_texts(init_from: str) -> set[str]:
    """Texts the run in ``init_from`` held out, recomputed from its saved config (the split is deterministic)."""
    saved = Path(init_from) / "train_config.json"
    if not saved.is_file():
        raise ConfigError(f"init_from must be a training run folder with train_config.json ({saved} is missing), "
                          "so the rows its temperature was fitted on stay held out")
    previous = TrainConfig.from_dict(json.loads(saved.read_text(encoding="utf-8")), source=str(saved))
    return set(training_data(previous)[1]["text"])


def risk_pos_weight(targets: np.ndarray) -> torch.Tensor:
    """Per-label positive-class weight for the risk loss: ``sqrt(negatives / positives)`` clipped to [1, 20].

    ``targets`` is ``(rows, labels)`` with 1 / 0 for known labels and -1 for unknown (not counted).
    """
    known = np.asarray(targets)
    positives, negatives = (known == 1).sum(axis=0), (known == 0).sum(axis=0)
    return torch.tensor(np.clip(np.sqrt(negatives / np.maximum(positives, 1)), 1.0, 20.0), dtype=torch.float32)


def _check_init_from(config: TrainConfig) -> None:
    from .hub import CONFIG_NAME, config_from_saved, read_model_config
    from .modeling import ModelConfig

    kind, saved = read_model_config(Path(config.init_from))
    if kind != "head":
        raise ConfigError(f"init_from {config.init_from!r} holds a {kind!r} model; head-mode training needs a "
                          "head-mode run folder")
    previous = config_from_saved(ModelConfig, saved, Path(config.init_from) / CONFIG_NAME)
    if previous.labels != list(config.labels) or previous.base_model != config.base_model:
        raise ConfigError(f"init_from {config.init_from!r} has labels {previous.labels} over "
                          f"{previous.base_model!r}; the config says {config.labels} over {config.base_model!r}")


def _with_risk_targets(data, config: TrainConfig, counts: dict[str, int]):
    """Join risk labels onto the sentiment rows by text; risk-only texts become rows with sentiment -100.

    Rows without risk labels get -1 targets (masked out of the risk loss), so one model learns both heads.
    """
    from datasets import Dataset

    risk_by_text: dict[str, list[int]] = {}
    for source in config.risk_train_data:
        part = load_risk_file(source, config.risk_labels, config.text_column)
        counts[source] = len(part)
        risk_by_text.update((text, [t if k else -1 for t, k in zip(targets, known)])  # -1: not annotated
                            for text, targets, known in zip(part["text"], part["risk"], part["known"]))
    unknown = [-1] * len(config.risk_labels)
    texts, labels = list(data["text"]), list(data["label"])
    risks = [risk_by_text.pop(text, unknown) for text in texts]
    for text, risk in risk_by_text.items():  # texts that only carry risk labels, in file order
        texts.append(text)
        labels.append(-100)
        risks.append(risk)
    return Dataset.from_dict({"text": texts, "label": labels, "risk": risks}).shuffle(seed=config.seed)


def _new_model(config: TrainConfig) -> TextRiskModel:
    if config.init_from is None:
        return TextRiskModel.from_base(
            config.base_model, config.labels, max_length=config.max_length, lora_r=config.lora_r,
            lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
            lora_target_modules=config.lora_target_modules, risk_labels=config.risk_labels,
        )
    model = TextRiskModel.from_pretrained(config.init_from, trainable=True)
    if config.risk_labels:
        model.add_risk_head(config.risk_labels)
    model.train()
    return model


def _tune_and_evaluate_risk(model: TextRiskModel, config: TrainConfig, progress: bool | None) -> dict[str, Any]:
    """Tune per-label thresholds on ``risk_dev_data``; report ``risk_eval_data`` at 0.5 and tuned thresholds."""
    results: dict[str, Any] = {}
    labels = list(config.risk_labels)

    def probabilities(path: str):
        data = load_risk_file(path, labels, config.text_column)
        return np.asarray(data["risk"]), model.predict_risk(data["text"], progress=progress)

    if config.risk_dev_data:
        targets, probs = probabilities(config.risk_dev_data)
        model.config.risk_thresholds = tune_thresholds(targets, probs, labels)
        results["dev"] = multilabel_report(targets, probs, labels, model.config.risk_thresholds)
    if config.risk_eval_data:
        targets, probs = probabilities(config.risk_eval_data)
        results["test_threshold_0.5"] = multilabel_report(targets, probs, labels)
        results["test_tuned"] = multilabel_report(targets, probs, labels, model.config.risk_thresholds)
    return results


def _trainable_state(model: TextRiskModel) -> dict[str, torch.Tensor]:
    return {name: p.detach().cpu().contiguous() for name, p in model.named_parameters() if p.requires_grad}


def save_checkpoint(folder: Path, model, optimizer, scheduler, step: int, losses: list[float], keep: int) -> None:
    """Write checkpoint ``step-N`` of a run into ``folder/checkpoints`` and keep only the newest ``keep``.

    The trainable weights, the optimiser tensors and torch's RNG state go to safetensors files, the rest to JSON
    (nothing pickled). The folder is written under a temporary name and renamed, so a checkpoint is complete or
    absent; :func:`optimise` resumes from the newest complete one.
    """
    from safetensors.torch import save_file

    root = folder / _CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:07d}"
    staging = root / f".step-{step:07d}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    save_file(_trainable_state(model), staging / "trainable.safetensors")
    # optimizer tensors as safetensors, its scalars as JSON: nothing pickled, nothing to unpickle on resume
    opt_state = optimizer.state_dict()
    tensors = {f"{pid}.{key}": value for pid, state in opt_state["state"].items()
               for key, value in state.items() if torch.is_tensor(value)}
    tensors["torch_rng"] = torch.get_rng_state()
    save_file({k: v.contiguous() for k, v in tensors.items()}, staging / "optimizer.safetensors")
    meta = {"step": step, "param_groups": opt_state["param_groups"], "scheduler": scheduler.state_dict(),
            "losses": losses}
    (staging / _STATE).write_text(json.dumps(meta), encoding="utf-8")
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    for old in sorted(root.glob("step-*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def _latest_checkpoint(folder: Path) -> Path | None:
    done = sorted(p for p in (folder / _CHECKPOINTS).glob("step-*") if (p / _STATE).is_file())
    return done[-1] if done else None


def _load_checkpoint(path: Path, model, optimizer, scheduler) -> tuple[int, list[float]]:
    from safetensors.torch import load_file

    meta = json.loads((path / _STATE).read_text(encoding="utf-8"))
    trainable = load_file(path / "trainable.safetensors")
    expected = set(_trainable_state(model))
    if set(trainable) != expected:
        raise ConfigError(f"checkpoint {str(path)!r} does not match this config's model "
                          f"({len(set(trainable) ^ expected)} parameters differ); use a new output_dir")
    model.load_state_dict(trainable, strict=False)
    tensors = load_file(path / "optimizer.safetensors")
    torch.set_rng_state(tensors.pop("torch_rng"))
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    scheduler.load_state_dict(meta["scheduler"])
    return meta["step"], meta["losses"]


def prepare_output(config: Any) -> Path:
    """Create ``config.output_dir``; refuse to resume its checkpoints under a changed config; record the config.

    ``config`` is any run config with ``output_dir`` and ``to_dict()`` (:class:`TrainConfig`,
    ``PromptTrainConfig``). Returns the output folder. A folder that already holds files but no
    ``train_config.json`` is not a textrisk run: refused, so a typo (or the current folder) never overwrites the
    user's files.

    Raises:
        ConfigError: the folder holds checkpoints of a run whose config differs (fields named).
    """
    output = Path(config.output_dir)
    saved_config = output / "train_config.json"
    if output.is_dir() and not saved_config.is_file() and any(output.iterdir()):
        raise ConfigError(f"output_dir {str(output)!r} holds files this run did not create "
                          f"({', '.join(sorted(p.name for p in output.iterdir())[:3])}...); use a new or empty folder")
    output.mkdir(parents=True, exist_ok=True)
    if saved_config.is_file() and _latest_checkpoint(output) is not None:
        previous = json.loads(saved_config.read_text(encoding="utf-8"))
        defaults = {f.name: f.default for f in dataclasses.fields(config) if f.default is not dataclasses.MISSING}
        # a key the saved config lacks (written before that option existed) had the option's default
        changed = sorted(k for k, v in config.to_dict().items()
                         if previous.get(k, defaults.get(k)) != v
                         and k not in ("num_threads", "eval_data", "save_every_steps"))
        if changed:
            raise ConfigError(f"{output} holds checkpoints of a run with different {changed}; "
                              f"use another output_dir or delete {output / _CHECKPOINTS}")
    atomic_write_json(saved_config, config.to_dict())
    return output


def check_training_data(output: Path, *columns: Any) -> None:
    """Record a sha256 of the encoded training rows; refuse to resume checkpoints made from other contents."""
    digest = hashlib.sha256(json.dumps([None if c is None else list(c) for c in columns]).encode()).hexdigest()
    record = output / "train_data.sha256"
    if _latest_checkpoint(output) is not None and record.is_file() and record.read_text().strip() != digest:
        raise ConfigError(f"{output} holds checkpoints trained on different data (the training rows' contents "
                          f"changed); use another output_dir or delete {output / _CHECKPOINTS}")
    atomic_write_text(record, digest + "\n")


def optimise(model: torch.nn.Module, groups: list[dict[str, Any]], rows: int,
              loss_of: Callable[[np.ndarray], torch.Tensor], config: Any, output: Path, progress: bool | None,
              desc: str, backward: Callable[[torch.Tensor], None] | None = None,
            accelerator: Any = None, arrange: Callable[[np.ndarray, int], np.ndarray] | None = None,
            ) -> tuple[int, list[float], int | None]:
    """The loop both trainers (head and prompt mode) share: AdamW + linear warm-up/decay over ``config.epochs``
    passes of ``rows`` rows, with gradient clipping at 1.0 and a :func:`save_checkpoint` every
    ``config.save_every_steps`` steps.

    ``loss_of(index)`` returns the loss of the rows ``index``. Epoch ``e`` visits rows in
    ``default_rng(seed + e).permutation(rows)``; resumes from the latest checkpoint in ``output``.
    With an ``accelerate.Accelerator`` over several processes, see :func:`shard_batch` (each process takes its
    share of every batch, the model is DDP-wrapped by the caller) and only the main process writes checkpoints.
    ``arrange(order, epoch)``, if given, reorders each epoch's permutation (deterministically, so resume is exact),
    e.g. :func:`length_grouped_order`. Returns ``(steps, losses, step resumed from or None)``.
    """
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    optimizer = torch.optim.AdamW(groups, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(rows / config.batch_size)
    total_steps = math.ceil(config.epochs * steps_per_epoch)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total_steps), total_steps)
    step, losses, resumed = 0, [], None
    checkpoint = _latest_checkpoint(output)
    if checkpoint is not None:
        step, losses = _load_checkpoint(checkpoint, model, optimizer, scheduler)
        resumed = step

    params = [p for group in groups for p in group["params"]]
    model.train()
    is_main = accelerator is None or accelerator.is_main_process
    bar = tqdm(total=total_steps, initial=step, desc=desc, unit="step",
               disable=not is_main or ((not progress) if progress is not None else None))
    order: np.ndarray | None = None
    while step < total_steps:
        epoch, position = divmod(step, steps_per_epoch)
        if position == 0 or order is None:
            order = np.random.default_rng(config.seed + epoch).permutation(rows)
            if arrange is not None:
                order = arrange(order, epoch)
        batch = order[position * config.batch_size:(position + 1) * config.batch_size]
        loss = loss_of(batch) if accelerator is None else shard_batch(batch, loss_of, accelerator)
        (backward or torch.Tensor.backward)(loss)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        shown = loss if accelerator is None else accelerator.reduce(loss.detach(), "mean")
        losses.append(round(shown.item(), 5))
        bar.update(1)
        bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}", epoch=f"{step / steps_per_epoch:.2f}")
        if (step % config.save_every_steps == 0 or step == total_steps) and is_main:
            save_checkpoint(output, model, optimizer, scheduler, step, losses, config.keep_checkpoints)
        if accelerator is not None and step % config.save_every_steps == 0:
            accelerator.wait_for_everyone()  # nobody runs ahead of a checkpoint being written
    bar.close()
    return step, losses, resumed


# ------------------------------------------------------------ multi-process training (accelerate launch)
def shard_batch(batch: np.ndarray, loss_of: Callable[[np.ndarray], torch.Tensor], accelerator: Any) -> torch.Tensor:
    """This process's share of a global batch: rows ``rank, rank + P, ...`` of it (P = number of processes).

    Every row of an epoch is thus seen exactly once across processes, with the same batches, step count and
    learning-rate schedule as one process; DDP averages the processes' gradients. A process whose share is
    empty (a last batch smaller than P) runs one row with weight 0, so every process joins the gradient sync.
    """
    mine = batch[accelerator.process_index::accelerator.num_processes]
    if len(mine) == 0:
        return loss_of(batch[:1]) * 0.0
    return loss_of(mine)


def _distributed_model(model: torch.nn.Module, accelerator: Any, find_unused: bool) -> torch.nn.Module:
    """``model`` DDP-wrapped when several processes train, else ``model`` itself."""
    if accelerator.num_processes == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, find_unused_parameters=find_unused)


def _main_process_result(output: Path, resumed: int | None) -> TrainResult:
    """The main process's :class:`TrainResult`, read back from the ``training_results.json`` it wrote."""
    done = json.loads((output / "training_results.json").read_text(encoding="utf-8"))
    return TrainResult(output_dir=output, steps=done["steps"], temperature=done["temperature"],
                       dev_metrics=done["dev"], eval_metrics=done["eval"], resumed_from_step=resumed,
                       losses=done["losses"], risk_metrics=done["risk"])


def calibrate_and_evaluate(model: Any, dev_texts: list[str], dev_labels: list[int], labels: list[str],
                            eval_data: list[str], data_dir: str | None, progress: bool | None
                            ) -> tuple[float, dict[str, Any], dict[str, dict[str, Any]]]:
    """Fit the temperature on the held-out rows (stored in ``model.config``); metrics on them and ``eval_data``.

    ``model`` is a scoring model (:mod:`textrisk.contract`) with a ``config.temperature`` to set.
    Returns ``(temperature, dev metrics, {benchmark: metrics})``.
    """
    dev_logits, _ = model.predict(dev_texts, progress=progress)
    temperature = fit_temperature(dev_logits, np.asarray(dev_labels))
    model.config.temperature = temperature
    dev_metrics = evaluate_logits(dev_logits, dev_labels, labels, temperature)
    eval_metrics = {}
    for name in eval_data:
        test = load_benchmark(name, "test", data_dir, labels)
        logits, _ = model.predict(test["text"], progress=progress)
        eval_metrics[name] = evaluate_logits(logits, test["label"], labels, temperature)
    return temperature, dev_metrics, eval_metrics


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


def distill_texts(config: TrainConfig, dev_texts: list[str], train_texts: list[str]) -> list[str]:
    """The run's unlabelled distillation texts (:func:`textrisk.data.unlabelled.sample_unlabelled`): none of them a
    training, held-out dev or benchmark test text. Checks first that no teacher trained on this run's dev rows
    (a teacher that saw them would make the student's dev score, used for selection, a leak)."""
    for teacher in config.distill_teachers:
        saved = Path(teacher) / "train_config.json"
        if saved.is_file():
            previous = TrainConfig.from_dict(json.loads(saved.read_text(encoding="utf-8")), source=str(saved))
            seen = set(training_data(previous)[0]["text"])
            leaked = [text for text in dev_texts if text in seen]
            if leaked:
                raise ConfigError(f"distill_teachers: {teacher!r} trained on {len(leaked)} of this run's held-out "
                                  "dev rows; use teachers trained with the same data, seed and calibration_fraction")
    if not config.distill_texts:
        return []
    exclude = set(dev_texts) | set(train_texts)
    for name in config.eval_data:
        exclude.update(load_benchmark(name, "test", config.data_dir, config.labels)["text"])
    return sample_unlabelled(config.distill_texts, config.distill_max_texts, config.seed, exclude, config.data_dir)


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
        train_rows = train_rows.filter(lambda row: row["risk"][0] >= 0)
    if "risk" not in heads and "risk" in train_rows.column_names:
        train_rows = train_rows.filter(lambda row: row["label"] != -100)
    tokenizer = model.tokenizer
    encoded = train_rows.map(lambda b: tokenizer(b["text"], truncation=True, max_length=config.max_length),
                             batched=True, remove_columns=["text"])
    input_ids, targets = encoded["input_ids"], encoded["label"]
    risk_targets = encoded["risk"] if config.risk_labels else None
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
            risk_targets = list(risk_targets) + [[-1] * len(config.risk_labels)] * len(extra)
        if row_weights is not None:
            row_weights = torch.cat([row_weights, torch.ones(len(extra))])
        teacher = torch.from_numpy(teacher_probabilities(config.distill_teachers, texts + extra, config.labels,
                                                         config.distill_temperature, output, progress))
        counts["distill_texts"] = len(extra)
    pos_weight = None
    if risk_targets and config.risk_balance:  # rare labels would otherwise barely move the loss
        pos_weight = risk_pos_weight(np.asarray(risk_targets))

    if config.trainable_heads:
        prefixes = tuple(f"heads.{head}." for head in config.trainable_heads)
        for name, param in model.named_parameters():
            param.requires_grad = name.startswith(prefixes)
    accelerator = Accelerator(cpu=not torch.cuda.is_available())  # cpu=True: processes of a CPU launch use gloo
    model.to(accelerator.device)
    forward = _distributed_model(model, accelerator, find_unused=bool(config.risk_labels))
    head_params = [p for p in model.heads.parameters() if p.requires_grad]
    body_params = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("heads.")]
    groups = [{"params": head_params, "lr": config.head_learning_rate or config.learning_rate}]
    if body_params:
        groups.append({"params": body_params, "lr": config.learning_rate})

    autocast = (lambda: torch.autocast(accelerator.device.type, dtype=torch.bfloat16)) if config.bf16 else (
        contextlib.nullcontext)

    def loss_of(index: np.ndarray) -> torch.Tensor:
        batch = tokenizer.pad({"input_ids": [input_ids[i] for i in index]}, return_tensors="pt")
        labels = torch.tensor([targets[i] for i in index])
        risk = torch.tensor([risk_targets[i] for i in index]).to(accelerator.device) if risk_targets else None

        def run(with_labels: bool) -> dict[str, torch.Tensor]:
            with autocast():
                return forward(batch["input_ids"].to(accelerator.device),
                               batch["attention_mask"].to(accelerator.device),
                               labels=labels.to(accelerator.device) if with_labels and "sentiment" in heads else None,
                               risk_targets=risk if "risk" in heads else None, risk_weight=config.risk_loss_weight,
                               risk_pos_weight=None if pos_weight is None else pos_weight.to(accelerator.device))

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
    lengths = [len(ids) for ids in input_ids]
    arrange = (lambda order, epoch: length_grouped_order(order, lengths, config.batch_size, config.seed + epoch)
               ) if config.length_grouped else None
    step, losses, resumed = optimise(model, groups, len(input_ids), loss_of, config, output, progress,
                                      "fine-tuning", backward=accelerator.backward,
                                      accelerator=accelerator if accelerator.num_processes > 1 else None,
                                      arrange=arrange)
    if not accelerator.is_main_process:  # calibration, evaluation and the saved model: the main process's job
        accelerator.wait_for_everyone()
        return _main_process_result(output, resumed)

    dev_rows = dev_rows.filter(lambda row: row["label"] != -100)  # risk-only rows have no sentiment
    temperature, dev_metrics, eval_metrics = calibrate_and_evaluate(
        model, dev_rows["text"], dev_rows["label"], config.labels, config.eval_data, config.data_dir, progress)
    risk_metrics = _tune_and_evaluate_risk(model, config, progress) if config.risk_labels else {}

    card = ModelCardData(
        base_model=config.base_model, labels=list(config.labels),
        train_sources={k: v for k, v in counts.items()}, dev_rows=len(dev_rows), config=config.to_dict(),
        dev_metrics={k: v for k, v in dev_metrics.items() if isinstance(v, float)}, temperature=temperature,
        eval_metrics=eval_metrics, train_seconds=time.time() - started, textrisk_version=__version__,
        risk_labels=list(config.risk_labels), risk_metrics=risk_metrics,
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
