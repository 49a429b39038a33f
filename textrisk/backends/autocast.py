"""bf16 autocast backend: the torch model's forward pass under ``torch.autocast("cpu", torch.bfloat16)``.

Matrix products run in bfloat16 (AVX512_BF16 / AMX on CPUs that have them), reductions and the outputs stay
fp32. See the README's Speed section for its speed and FPB weighted-F1 cost on this project's machine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["AutocastBackend"]


class AutocastBackend:
    """Runs ``model.predict_outputs`` under CPU autocast to ``dtype`` (default bfloat16)."""

    def __init__(self, model: Any, dtype: torch.dtype = torch.bfloat16):
        self.model = model
        self.config = model.config
        self.tokenizer = model.tokenizer
        self.dtype = dtype

    def predict_outputs(self, texts: list[str], keys: tuple[str, ...] = ("logits",), batch_size: int = 32,
                        progress: bool | None = None, desc: str = "scoring") -> dict[str, np.ndarray]:
        """Same as :meth:`textrisk.TextRiskModel.predict_outputs`, in ``dtype`` (outputs as float32)."""
        with torch.autocast("cpu", dtype=self.dtype):
            return self.model.predict_outputs(texts, keys, batch_size=batch_size, progress=progress, desc=desc)

    def predict(self, texts: list[str], batch_size: int = 32, progress: bool | None = None, desc: str = "scoring",
                return_embeddings: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Sentiment logits (and pooled embeddings), like :meth:`textrisk.TextRiskModel.predict`."""
        keys = ("logits", "embeddings") if return_embeddings else ("logits",)
        out = self.predict_outputs(texts, keys, batch_size=batch_size, progress=progress, desc=desc)
        return out["logits"], out.get("embeddings")
