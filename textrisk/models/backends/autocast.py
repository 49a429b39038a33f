"""bf16 autocast backend: the torch model's forward pass under ``torch.autocast("cpu", torch.bfloat16)``.

Matrix products run in bfloat16 (AVX512_BF16 / AMX on CPUs that have them), reductions and the outputs stay
fp32. See the README's Speed section for its speed and FPB weighted-F1 cost on this project's machine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .base import Backend

__all__ = ["AutocastBackend"]


class AutocastBackend(Backend):
    """Runs ``model.forward_outputs`` under CPU autocast to ``dtype`` (default bfloat16)."""

    def __init__(self, model: Any, dtype: torch.dtype = torch.bfloat16):
        self.model = model
        self.config = model.config
        self.tokenizer = model.tokenizer
        self.dtype = dtype

    def forward_outputs(self, texts: list[str], keys: tuple[str, ...] = ("logits",), batch_size: int = 32,
                        progress: bool | None = None, desc: str = "scoring") -> dict[str, np.ndarray]:
        """Same as :meth:`textrisk.TextRiskModel.forward_outputs`, in ``dtype`` (outputs as float32)."""
        with torch.autocast("cpu", dtype=self.dtype):
            return self.model.forward_outputs(texts, keys, batch_size=batch_size, progress=progress, desc=desc)
