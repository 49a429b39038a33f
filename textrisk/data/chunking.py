"""Sentence-aligned chunking of long documents, with character offsets back into the original text.

Chunks never cut a sentence unless the sentence alone exceeds the token budget; then it is split on token
boundaries. Offsets let evidence point at the exact span of the filing it came from.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Chunk", "chunk_document", "split_sentences"]

# Abbreviations whose trailing period does not end a sentence (common in filings and news).
_ABBREVIATIONS = frozenset(
    "inc corp co ltd llc plc mr mrs ms dr st no nos vs etc e.g i.e u.s u.k jan feb mar apr jun jul aug sep sept "
    "oct nov dec approx est fig dept div gov jr sr ave".split()
)
# A boundary is end punctuation (optionally closed by quotes/brackets) followed by whitespace, or a blank line.
_BOUNDARY = re.compile(r"(?<=[.!?])([\"')\]\u201d\u2019]*)\s+|\n\s*\n+|\n(?=\s*(?:[-*\u2022]|\d+[.)]\s))")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.[\"')\]]*$")


@dataclass(frozen=True)
class Chunk:
    """A span ``text[start:end]`` of a document and its token count (special tokens excluded)."""

    start: int
    end: int
    text: str
    n_tokens: int


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of ``text``, stripped of surrounding whitespace."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        before = _WORD_BEFORE.search(text, max(0, match.start() - 12), match.start())
        if before and before.group(1).lower().rstrip(".") in _ABBREVIATIONS and "\n" not in match.group():
            continue
        spans.append((start, match.start() + len(match.group(1) or "")))
        start = match.end()
    spans.append((start, len(text)))
    result = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            result.append((a, b))
    return result


def chunk_document(text: str, tokenizer: Any, max_tokens: int,
                   offsets: Sequence[tuple[int, int]] | None = None) -> list[Chunk]:
    """Pack whole sentences greedily into chunks of at most ``max_tokens`` tokens (special tokens excluded).

    The document is tokenised once with character offsets (or ``offsets`` are the character spans of its tokens,
    special tokens excluded, from an earlier call of the same tokenizer, e.g.
    :func:`textrisk.data.inputs.inspect_texts`); sentence token counts come from those offsets.
    """
    budget = max(1, max_tokens - tokenizer.num_special_tokens_to_add())
    if offsets is None:
        offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False,
                            verbose=False)["offset_mapping"]
    token_starts = [a for a, _ in offsets]
    sentences = split_sentences(text)
    if not sentences:
        return []

    def tokens_in(a: int, b: int) -> tuple[int, int]:
        return bisect.bisect_left(token_starts, a), bisect.bisect_left(token_starts, b)

    chunks: list[Chunk] = []
    current: list[tuple[int, int]] = []
    current_tokens = 0

    def flush() -> None:
        nonlocal current, current_tokens
        if current:
            a, b = current[0][0], current[-1][1]
            chunks.append(Chunk(a, b, text[a:b], current_tokens))
        current, current_tokens = [], 0

    for a, b in sentences:
        first, last = tokens_in(a, b)
        n = last - first
        if n > budget:  # a sentence longer than the window: cut it on token boundaries
            flush()
            for t in range(first, last, budget):
                piece_start = offsets[t][0]
                piece_end = offsets[min(t + budget, last) - 1][1]
                chunks.append(Chunk(piece_start, piece_end, text[piece_start:piece_end],
                                    min(t + budget, last) - t))
            continue
        if current and current_tokens + n > budget:
            flush()
        current.append((a, b))
        current_tokens += n
    flush()
    return chunks
