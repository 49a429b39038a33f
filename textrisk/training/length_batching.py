"""Length-grouped batch order: batches of similar token length carry little padding (cheaper CPU steps)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["WINDOW_BATCHES", "length_grouped_order"]

#: Batches per sorting window: wide enough to cut most padding, narrow enough to keep the order random.
WINDOW_BATCHES = 50


def length_grouped_order(order: np.ndarray, lengths: Sequence[int], batch_size: int, seed: int) -> np.ndarray:
    """``order`` regrouped: cut into windows of ``WINDOW_BATCHES * batch_size`` rows, each sorted by length and cut
    into batches, then all full batches shuffled with ``seed`` (the short last batch stays last, so every other
    batch is full). The same rows, each once."""
    sizes = np.asarray(lengths)[order]
    window = WINDOW_BATCHES * batch_size
    grouped = np.concatenate([order[start:start + window][np.argsort(sizes[start:start + window], kind="stable")]
                              for start in range(0, len(order), window)]) if len(order) else order
    full = len(grouped) // batch_size
    batches = grouped[:full * batch_size].reshape(full, batch_size) if full else grouped[:0].reshape(0, batch_size)
    shuffled = batches[np.random.default_rng(seed).permutation(full)].reshape(-1)
    return np.concatenate([shuffled, grouped[full * batch_size:]])
