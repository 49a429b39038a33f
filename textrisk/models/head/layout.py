"""The risk head's output groups: risk signals and, for a judgement model, topics, kind, severity and adverse.

One MLP reads the pooled layers (``ModelConfig.risk_layers``) and emits every group side by side, so the whole
judgement of a passage costs one extra matrix product on top of the shared encoder pass:

=========  =============  ===================================================================================
group      width          meaning (finetune/risk_data/corpus/GUIDE_FIELDS.md)
=========  =============  ===================================================================================
signals    risk labels    sigmoid: P(the passage *reports* this kind of risk: an event or a specific outlook)
topics     risk labels    sigmoid: P(the passage is *about* it, boilerplate included; a signal is a topic of an
                          event or outlook, a topic of boilerplate is a *mention*)
kind       4 (``KINDS``)  softmax: event, outlook, boilerplate, other
severity   4              softmax: P(severity 0..3); 0 for anything not adverse
adverse    1              sigmoid: P(an event or outlook with severity >= 1): the passage ``risk_score``
=========  =============  ===================================================================================

Training targets are packed per row as ``signals (L) | topics (L) | kind | severity | adverse`` (``TARGET``
order), with -1 for "not annotated": rows of a sentiment-only or signals-only set train only what they carry.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...errors import ConfigError
from ...labels.taxonomy import KINDS, SEVERITY_LEVELS
from ...utils.calibration import sigmoid, softmax

__all__ = ["GROUPS", "JUDGEMENT", "group_slices", "head_width", "judgement_loss", "probabilities", "target_width",
           "validate_outputs"]

#: Every output group, in head order.
GROUPS = ("signals", "topics", "kind", "severity", "adverse")
#: The groups of a judgement model.
JUDGEMENT = GROUPS
_SOFTMAX = {"kind": len(KINDS), "severity": len(SEVERITY_LEVELS)}


def validate_outputs(outputs: Sequence[str], field: str = "risk_outputs") -> list[str]:
    """``outputs`` as a list, checked: known groups, ``signals`` first, no duplicates, in ``GROUPS`` order."""
    outputs = list(outputs)
    unknown = [name for name in outputs if name not in GROUPS]
    if unknown:
        raise ConfigError(f"{field}: unknown output group(s) {unknown}; expected some of {list(GROUPS)}")
    if outputs and outputs[0] != "signals":
        raise ConfigError(f"{field} must start with 'signals', got {outputs}")
    if outputs != [name for name in GROUPS if name in outputs]:
        raise ConfigError(f"{field} must list groups once each in the order {list(GROUPS)}, got {outputs}")
    return outputs


def _widths(n_labels: int) -> dict[str, int]:
    return {"signals": n_labels, "topics": n_labels, "kind": len(KINDS), "severity": len(SEVERITY_LEVELS),
            "adverse": 1}


def group_slices(n_labels: int, outputs: Sequence[str]) -> dict[str, slice]:
    """Column slice of each group in the head's output."""
    widths, out, start = _widths(n_labels), {}, 0
    for name in outputs:
        out[name] = slice(start, start + widths[name])
        start += widths[name]
    return out


def head_width(n_labels: int, outputs: Sequence[str]) -> int:
    """Output width of a risk head with these groups."""
    return sum(_widths(n_labels)[name] for name in outputs)


def target_width(n_labels: int) -> int:
    """Width of a packed target row: signals, topics, kind, severity, adverse."""
    return 2 * n_labels + 3


def probabilities(logits: np.ndarray, n_labels: int, outputs: Sequence[str]) -> dict[str, np.ndarray]:
    """Each group's probabilities from the head's raw output (signals by sigmoid; the caller may replace them with
    an ensemble's): ``kind`` / ``severity`` rows sum to 1, ``adverse`` is a vector."""
    out = {}
    for name, columns in group_slices(n_labels, outputs).items():
        block = np.asarray(logits[:, columns], dtype=np.float64)
        out[name] = softmax(block) if name in _SOFTMAX else sigmoid(block)
    if "adverse" in out:
        out["adverse"] = out["adverse"][:, 0]
    return out


def judgement_loss(logits, targets, n_labels: int, outputs: Sequence[str], pos_weight=None, row_weight=None,
                   weights: dict[str, float] | None = None):
    """The risk head's loss over every group it has, each masked to the rows annotated for it.

    ``targets`` ``(batch, target_width)`` packed as in the module docstring (-1: not annotated); ``pos_weight``
    up-weights the positives of rare signal labels; ``row_weight`` ``(batch,)`` weighs rows (e.g. rule-labelled
    silver rows less); ``weights`` per group (default 1, topics 0.5). Returns a scalar tensor (0 when no row is
    annotated for anything).
    """
    import torch
    from torch.nn import functional

    weights = {"topics": 0.5, **(weights or {})}
    slices = group_slices(n_labels, outputs)
    rows = torch.ones(logits.shape[0], dtype=logits.dtype, device=logits.device) if row_weight is None else (
        row_weight.to(logits.dtype))
    total = logits.new_zeros(())

    def binary(block, target, pw=None):
        known = (target >= 0).to(logits.dtype) * rows[:, None]
        if not bool(known.any()):
            return logits.new_zeros(())
        per = functional.binary_cross_entropy_with_logits(block, target.clamp(min=0).to(logits.dtype),
                                                          pos_weight=pw, reduction="none")
        return (per * known).sum() / known.sum()

    def categorical(block, target):
        known = target >= 0
        if not bool(known.any()):
            return logits.new_zeros(())
        per = functional.cross_entropy(block[known], target[known].long(), reduction="none")
        return (per * rows[known]).sum() / rows[known].sum()

    columns = {"signals": slice(0, n_labels), "topics": slice(n_labels, 2 * n_labels), "kind": 2 * n_labels,
               "severity": 2 * n_labels + 1, "adverse": 2 * n_labels + 2}
    for name, block in slices.items():
        target = targets[:, columns[name]]
        if name in _SOFTMAX:
            loss = categorical(logits[:, block], target)
        elif name == "adverse":
            loss = binary(logits[:, block], target[:, None])
        else:
            loss = binary(logits[:, block], target, pos_weight if name == "signals" else None)
        total = total + weights.get(name, 1.0) * loss
    return total
