"""What every non-torch backend shares: the scoring contract on top of its own raw ``forward_outputs``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..contract import ModelOutputs, ScoringMixin
from ..head.ensemble import outputs_from_forward

__all__ = ["Backend"]


class Backend(ScoringMixin):
    """Base class: subclasses implement ``forward_outputs`` like :meth:`textrisk.TextRiskModel.forward_outputs`;
    ``predict_outputs`` / ``predict`` / ``predict_risk`` then follow the contract (:mod:`textrisk.models.contract`)."""

    def forward_outputs(self, texts: Sequence[str], keys: tuple[str, ...] = ("logits",), batch_size: int = 32,
                        progress: bool | None = None, desc: str = "scoring") -> dict[str, np.ndarray]:
        """Selected raw forward outputs for ``texts``, in input order."""
        raise NotImplementedError

    def predict_outputs(self, texts: Sequence[str], *, risk: bool = False, embeddings: bool = False,
                        batch_size: int = 32, progress: bool | None = None) -> ModelOutputs:
        """Sentiment logits, and risk-signal probabilities / embeddings if asked (see the contract)."""
        return outputs_from_forward(self.forward_outputs, texts, risk, embeddings, batch_size, progress,
                                    config=self.config)
