"""Training rows for every trainer: sources loaded and mixed, subsampled, split into train and held-out dev rows
(seeded; with ``init_from`` the earlier run's held-out rows stay held out), risk targets joined on, and the
unlabelled texts of distillation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.datasets import load_benchmark, load_risk_file, load_training_source
from ..data.unlabelled import sample_unlabelled
from ..errors import ConfigError
from .config import TrainConfig

__all__ = ["distill_texts", "risk_pos_weight", "training_data"]


def training_data(config: Any, labels: Sequence[str] | None = None, min_train_rows: int | None = None
                  ) -> tuple[Any, Any, dict[str, int]]:
    """The run's ``(train rows, held-out dev rows, {source: rows})``: sources concatenated, shuffled with the seed,
    subsampled, and split (seeded; with ``init_from``, the dev rows are the texts that run held out).

    ``config`` is any run config (:class:`TrainConfig`, :class:`PromptTrainConfig`); ``labels`` default to
    ``config.labels`` (a prompt model's come from its template); at least ``min_train_rows`` training rows
    (default ``batch_size // 4 + 1``) and 2 dev rows are required. Head-mode options (``source_weights``,
    ``risk_labels``, ``init_from``) apply when the config has them.

    Raises:
        ConfigError: too little data for ``calibration_fraction`` and ``batch_size``.
    """
    from datasets import concatenate_datasets

    labels = list(config.labels if labels is None else labels)
    parts, counts = [], {}
    for number, source in enumerate(config.train_data):
        part = load_training_source(source, labels, config.data_dir, config.text_column, config.label_column)
        if getattr(config, "source_weights", None):  # a row's source sets its loss weight (the mixing ratio)
            part = part.add_column("source", [number] * len(part))
        parts.append(part)
        counts[source] = len(part)
    data = concatenate_datasets(parts).shuffle(seed=config.seed)
    if config.max_train_samples is not None and config.max_train_samples < len(data):
        data = data.select(range(config.max_train_samples))
    if getattr(config, "risk_labels", None):
        data = _with_risk_targets(data, config, counts)
    init_from = getattr(config, "init_from", None)
    held_out = _held_out_texts(init_from) if init_from else None
    if held_out is not None and sum(text in held_out for text in data["text"]) < 2:
        held_out = None  # the earlier run held out none of these rows (other data): split them afresh
    if held_out is None:
        split = data.train_test_split(test_size=config.calibration_fraction, seed=config.seed)
        train_rows, dev_rows = split["train"], split["test"]
    else:  # rows the init model never trained on are the only honest ones for its temperature and dev metrics
        is_dev = [text in held_out for text in data["text"]]
        dev_rows = data.select([i for i, dev in enumerate(is_dev) if dev])
        train_rows = data.select([i for i, dev in enumerate(is_dev) if not dev])
    if min_train_rows is None:
        min_train_rows = config.batch_size // 4 + 1
    if len(dev_rows) < 2 or len(train_rows) < min_train_rows:
        raise ConfigError(f"too little data ({len(data)} rows) for calibration_fraction and batch_size")
    return train_rows, dev_rows, counts


def init_model_path(init_from: str) -> Path:
    """The folder ``init_from`` names: an embedded model's name (``"default"``, ``"commercial"``), a model or run
    folder, or a Hub id (downloaded unless offline).

    Raises:
        ConfigError: nothing loadable by that name (the message says why).
    """
    from ..errors import ModelLoadError
    from ..models.backbone import resolve_model_path

    try:
        return resolve_model_path(init_from)
    except ModelLoadError as exc:
        raise ConfigError(f"init_from: {exc}") from exc


def _held_out_texts(init_from: str) -> set[str] | None:
    """Texts the run behind ``init_from`` held out, recomputed from the ``train_config.json`` saved with it (the split
    is deterministic); None when the folder has none (then this run splits its own rows, seeded)."""
    saved = init_model_path(init_from) / "train_config.json"
    if not saved.is_file():
        return None
    data = json.loads(saved.read_text(encoding="utf-8"))
    data["output_dir"] = data.get("output_dir") or str(saved.parent)
    previous = TrainConfig.from_dict(data, source=str(saved))
    return set(training_data(previous)[1]["text"])


def risk_pos_weight(targets: np.ndarray) -> torch.Tensor:
    """Per-label positive-class weight for the risk loss: ``sqrt(negatives / positives)`` clipped to [1, 20].

    ``targets`` is ``(rows, labels)`` with 1 / 0 for known labels and -1 for unknown (not counted).
    """
    known = np.asarray(targets)
    positives, negatives = (known == 1).sum(axis=0), (known == 0).sum(axis=0)
    return torch.tensor(np.clip(np.sqrt(negatives / np.maximum(positives, 1)), 1.0, 20.0), dtype=torch.float32)


def _with_risk_targets(data, config: TrainConfig, counts: dict[str, int]):
    """Join risk targets onto the sentiment rows by text; risk-only texts become rows with sentiment -100.

    Targets are packed as :mod:`textrisk.models.head.layout` says (signals, then a judgement model's topics, kind,
    severity, adverse), -1 where a row is not annotated, so one model learns every head from mixed rows; a row's
    ``risk_weight`` is its file's ``risk_source_weights`` entry (1 by default). A text in several files keeps the
    first file's targets. Texts of ``risk_dev_data`` and ``risk_eval_data`` never get risk targets (they are what
    calibration, thresholds and the reports are fitted and measured on), whichever training file also holds them.
    """
    from datasets import Dataset

    from ..models.head.layout import target_width

    judged = config.risk_outputs != ["signals"]
    width = target_width(len(config.risk_labels)) if judged else len(config.risk_labels)
    weights = config.risk_source_weights or [1.0] * len(config.risk_train_data)
    held_out = {text for path in [*config.risk_dev_data, *([config.risk_eval_data] if config.risk_eval_data else [])]
                for text in load_risk_file(path, config.risk_labels, config.text_column)["text"]}
    risk_by_text: dict[str, tuple[list[int], float]] = {}
    for source, weight in zip(config.risk_train_data, weights):
        part = load_risk_file(source, config.risk_labels, config.text_column, judgement=judged)
        extra = part["judgement"] if judged else [[]] * len(part)
        kept = 0
        for text, targets, known, more in zip(part["text"], part["risk"], part["known"], extra):
            if text in held_out:
                continue
            row = [t if k else -1 for t, k in zip(targets, known)] + list(more)  # -1: not annotated
            kept += text not in risk_by_text
            risk_by_text.setdefault(text, (row, float(weight)))
        counts[source] = kept
    unknown = ([-1] * width, 1.0)
    texts, labels = list(data["text"]), list(data["label"])
    risks = [risk_by_text.pop(text, unknown) for text in texts]
    for text, risk in risk_by_text.items():  # texts that only carry risk labels, in file order
        texts.append(text)
        labels.append(-100)
        risks.append(risk)
    return Dataset.from_dict({"text": texts, "label": labels, "risk": [r for r, _ in risks],
                              "risk_weight": [w for _, w in risks]}).shuffle(seed=config.seed)


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
