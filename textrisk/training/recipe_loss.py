"""The sentiment loss of the training recipes: weighted / smoothed cross-entropy, R-Drop and distillation.

``loss = alpha * T^2 * KL(teacher || student at T) + (1 - alpha) * CE(labelled rows) [+ R-Drop term]``.
Rows labelled -100 (unlabelled distillation texts) count only in the distillation and R-Drop terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = ["RecipeLoss", "class_weights"]


def class_weights(targets: np.ndarray | list[int], n_classes: int, rule: str) -> torch.Tensor | None:
    """Per-class cross-entropy weights from the labelled ``targets`` (-100 ignored): ``rule`` 'balanced' gives
    ``rows / (classes * class rows)``, 'sqrt' its square root, 'none' ``None``; absent classes get weight 1."""
    if rule == "none":
        return None
    known = np.asarray(targets)
    counts = np.bincount(known[known >= 0], minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1)), 1.0)
    return torch.tensor(np.sqrt(weights) if rule == "sqrt" else weights, dtype=torch.float32)


def _kl(target_log: torch.Tensor, student_log: torch.Tensor) -> torch.Tensor:
    """Per-row KL(target || student) from log-probabilities."""
    return (target_log.exp() * (target_log - student_log)).sum(dim=-1)


@dataclass
class RecipeLoss:
    """The recipe's loss over one batch's sentiment logits; see the module docstring."""

    label_smoothing: float = 0.0
    class_weight: torch.Tensor | None = None
    rdrop_alpha: float = 0.0
    distill_alpha: float = 0.0
    temperature: float = 1.0

    def cross_entropy(self, logits: torch.Tensor, labels: torch.Tensor, row_weights: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of the labelled rows, each weighted by its row weight and class weight."""
        labelled = labels != -100
        if not bool(labelled.any()):
            return logits.sum() * 0.0
        per_row = nn.functional.cross_entropy(logits, labels, weight=self.class_weight, ignore_index=-100,
                                              label_smoothing=self.label_smoothing, reduction="none")
        scale = row_weights * labelled.to(logits.dtype)
        if self.class_weight is not None:
            scale = scale * self.class_weight[labels.clamp(min=0)]
        return (per_row * row_weights).sum() / scale.sum()

    def distillation(self, logits: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """``T^2 * KL(teacher || softmax(logits / T))``, mean over all rows (``teacher`` holds probabilities)."""
        student = nn.functional.log_softmax(logits / self.temperature, dim=-1)
        return self.temperature ** 2 * _kl(teacher.clamp(min=1e-8).log(), student).mean()

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor, row_weights: torch.Tensor | None = None,
                 teacher: torch.Tensor | None = None, second: torch.Tensor | None = None) -> torch.Tensor:
        """The loss of ``logits`` (float32), plus ``second``: the logits of a second dropout pass for R-Drop."""
        weights = torch.ones(len(labels), dtype=logits.dtype) if row_weights is None else row_weights
        passes = [logits] if second is None else [logits, second]
        total = logits.new_zeros(())
        for out in passes:
            supervised = self.cross_entropy(out, labels, weights)
            if teacher is not None:
                supervised = self.distill_alpha * self.distillation(out, teacher) + (
                    1 - self.distill_alpha) * supervised
            total = total + supervised / len(passes)
        if second is not None and self.rdrop_alpha:
            a, b = nn.functional.log_softmax(logits, dim=-1), nn.functional.log_softmax(second, dim=-1)
            total = total + self.rdrop_alpha * 0.5 * (_kl(a, b) + _kl(b, a)).mean()
        return total
