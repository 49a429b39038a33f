"""The one batching rule of every model's forward loop: token-id rows sorted by length, cut into batches.

Each batch is padded only to its own longest row, so a batch of short texts pays for no padding (head mode,
the ONNX backend and prompt mode all batch this way; their outputs go back to input order by the indices).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

__all__ = ["length_sorted_batches"]


def length_sorted_batches(rows: Sequence[Sequence[int]], batch_size: int) -> Iterator[list[int]]:
    """Indices of ``rows`` in batches of ``batch_size``, shortest rows first (ties in input order)."""
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]
