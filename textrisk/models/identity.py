"""The one model identity: a content hash of a loaded model, whatever its kind or where it came from.

``model_identity(model)`` is the sha256 of the model's config (a dataclass, as JSON) and of every tensor of its
``state_dict()`` (names and bytes, in name order): equal digests mean equal outputs, and a retrained, re-merged or
replaced model gets another digest even under the same name or folder. It keys everything that must not mix the
outputs of two models: the resume header of ``textrisk score`` (:mod:`textrisk.batch.resume`), the ONNX export
cache (:mod:`textrisk.models.backends.onnx`), the forecaster's text-feature cache (:mod:`textrisk.forecast.text`)
and a monitor state (:mod:`textrisk.monitor.cli`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

__all__ = ["model_identity"]


def model_identity(model: Any) -> str:
    """Hex sha256 of ``model.config`` and every tensor of ``model.state_dict()`` (see the module docstring)."""
    import torch

    config = model.config
    facts = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
