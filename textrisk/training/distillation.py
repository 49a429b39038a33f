"""Teacher soft labels for knowledge distillation: the mean of saved models' temperature-scaled probabilities.

Each teacher's probabilities are ``softmax(logits / (t_cal * T))``: its own calibration temperature ``t_cal``
(fitted on its held-out rows) times the distillation temperature ``T``. They are computed once per run and
cached in the output folder (``teacher_probs.safetensors``, keyed by a digest of teachers, ``T`` and texts), so a
resumed run reuses them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError
from ..utils.atomic import atomic_write_bytes

__all__ = ["TEACHER_CACHE", "teacher_probabilities"]

TEACHER_CACHE = "teacher_probs.safetensors"


def _digest(teachers: Sequence[str], temperature: float, texts: Sequence[str]) -> str:
    identity = []
    for teacher in teachers:
        config = Path(teacher) / "textrisk_config.json"
        identity.append([str(Path(teacher).resolve()), config.read_text(encoding="utf-8") if config.is_file() else ""])
    return hashlib.sha256(json.dumps([identity, temperature, list(texts)]).encode()).hexdigest()


def _teacher_model(path: str, labels: Sequence[str]):
    from ..models.head.model import TextRiskModel

    if not (Path(path) / "textrisk_config.json").is_file():
        raise ConfigError(f"distill_teachers: {path!r} is not a saved textrisk model folder (no textrisk_config.json)")
    model = TextRiskModel.from_pretrained(path)
    if list(model.config.labels) != list(labels):
        raise ConfigError(f"distill_teachers: {path!r} predicts {model.config.labels}, the student {list(labels)}")
    return model


def teacher_probabilities(teachers: Sequence[str], texts: Sequence[str], labels: Sequence[str], temperature: float,
                          output: Path, progress: bool | None = None) -> np.ndarray:
    """``(len(texts), len(labels))`` teacher probabilities at ``temperature``, read from or written to the cache."""
    from safetensors.numpy import load_file, save

    digest = _digest(teachers, temperature, texts)
    cache = output / TEACHER_CACHE
    if cache.is_file():
        from safetensors import safe_open

        with safe_open(str(cache), "np") as handle:
            if (handle.metadata() or {}).get("digest") == digest:
                return load_file(str(cache))["probs"]
    total = np.zeros((len(texts), len(labels)), dtype=np.float64)
    for path in teachers:
        model = _teacher_model(path, labels)
        logits, _ = model.predict(list(texts), progress=progress)
        scaled = torch.from_numpy(np.asarray(logits, dtype=np.float64)) / (model.config.temperature * temperature)
        total += torch.softmax(scaled, dim=-1).numpy()
        del model
    probs = (total / len(teachers)).astype(np.float32)
    atomic_write_bytes(cache, save({"probs": probs}, metadata={"digest": digest}))
    return probs
