"""The training loop both trainers share: seeded, checkpointed atomically every N steps, resumable to the exact step.

A short explicit loop (not ``Trainer``) because exact resume needs control of the data order: epoch ``e``
visits rows in ``default_rng(seed + e).permutation(n)``, so a resumed run slices that permutation and
continues with the same batches, optimiser state and dropout RNG as an uninterrupted one. Also here: the output
folder guard, the training-data digest, DDP sharding for ``accelerate launch``, and calibration + evaluation of
the trained model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.datasets import load_benchmark
from ..errors import ConfigError
from ..metrics.reports import evaluate_logits
from ..utils.atomic import atomic_write_json, atomic_write_text
from ..utils.calibration import fit_temperature

__all__ = ["TrainResult", "calibrate_and_evaluate", "check_training_data", "distributed_model", "main_process_result",
           "optimise", "prepare_output", "save_checkpoint", "shard_batch"]

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


def _trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
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
            after_epoch: Callable[[int], bool] | None = None) -> tuple[int, list[float], int | None]:
    """The loop both trainers (head and prompt mode) share: AdamW + linear warm-up/decay over ``config.epochs``
    passes of ``rows`` rows, with gradient clipping at 1.0 and a :func:`save_checkpoint` every
    ``config.save_every_steps`` steps.

    ``loss_of(index)`` returns the loss of the rows ``index``. Epoch ``e`` visits rows in
    ``default_rng(seed + e).permutation(rows)``; resumes from the latest checkpoint in ``output``.
    With an ``accelerate.Accelerator`` over several processes, see :func:`shard_batch` (each process takes its
    share of every batch, the model is DDP-wrapped by the caller) and only the main process writes checkpoints.
    ``arrange(order, epoch)``, if given, reorders each epoch's permutation (deterministically, so resume is exact),
    e.g. :func:`length_grouped_order`. ``after_epoch(epochs done)``, if given, runs after each full epoch; True
    stops training there (early stopping). Returns ``(steps, losses, step resumed from or None)``.
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
        if after_epoch is not None and step % steps_per_epoch == 0 and after_epoch(step // steps_per_epoch):
            break
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


def distributed_model(model: torch.nn.Module, accelerator: Any, find_unused: bool) -> torch.nn.Module:
    """``model`` DDP-wrapped when several processes train, else ``model`` itself."""
    if accelerator.num_processes == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, find_unused_parameters=find_unused)


def main_process_result(output: Path, resumed: int | None) -> TrainResult:
    """The main process's :class:`TrainResult`, read back from the ``training_results.json`` it wrote."""
    done = json.loads((output / "training_results.json").read_text(encoding="utf-8"))
    return TrainResult(output_dir=output, steps=done["steps"], temperature=done["temperature"],
                       dev_metrics=done["dev"], eval_metrics=done["eval"], resumed_from_step=resumed,
                       losses=done["losses"], risk_metrics=done["risk"])


def calibrate_and_evaluate(model: Any, dev_texts: list[str], dev_labels: list[int], labels: list[str],
                            eval_data: list[str], data_dir: str | None, progress: bool | None
                            ) -> tuple[float, dict[str, Any], dict[str, dict[str, Any]]]:
    """Fit the temperature on the held-out rows (stored in ``model.config``); metrics on them and ``eval_data``.

    ``model`` is a scoring model (:mod:`textrisk.models.contract`) with a ``config.temperature`` to set.
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
