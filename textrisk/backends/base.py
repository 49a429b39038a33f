"""What every non-torch backend shares: ``predict`` on top of its own ``predict_outputs``."""

from __future__ import annotations

import numpy as np

__all__ = ["Backend"]


class Backend:
    """Base class: subclasses implement ``predict_outputs`` like :meth:`textrisk.TextRiskModel.predict_outputs`."""

    def predict_outputs(self, texts: list[str], keys: tuple[str, ...] = ("logits",), batch_size: int = 32,
                        progress: bool | None = None, desc: str = "scoring") -> dict[str, np.ndarray]:
        """Selected raw forward outputs for ``texts``, in input order."""
        raise NotImplementedError

    def predict(self, texts: list[str], batch_size: int = 32, progress: bool | None = None, desc: str = "scoring",
                return_embeddings: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Sentiment logits (and pooled embeddings), like :meth:`textrisk.TextRiskModel.predict`."""
        keys = ("logits", "embeddings") if return_embeddings else ("logits",)
        out = self.predict_outputs(texts, keys, batch_size=batch_size, progress=progress, desc=desc)
        return out["logits"], out.get("embeddings")
