"""Cut a filing into the passages that get scored: prose paragraphs inside sections, with exact offsets.

A passage never crosses a section boundary, an excluded line (table, exhibit index, TOC, page furniture; see
:mod:`textrisk.filings.prose`) or a blank line: each prose paragraph is chunked on its own with
:func:`textrisk.data.chunking.chunk_document` (whole sentences, at most ``chunk_tokens`` tokens). Keeping passages
inside paragraphs makes them stable from one year's filing to the next, which :mod:`textrisk.filings.compare`
relies on. A text that fits the model window and has no excluded line is one passage, as in ``RiskAnalyzer.score``.
A text with no prose line at all (a bare heading, a table) is scored whole, with a warning. A passage the
package's text check refuses (:func:`textrisk.data.inputs.check_text` with the model's tokenizer: no token the
model can read, e.g. emoji only) is left out, with a warning, as ``textrisk score`` refuses such a text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..data.chunking import chunk_document
from ..data.inputs import check_texts
from .prose import EXCLUDED_KINDS, Line, classify_lines
from .sections import Section, detect_form, detect_sections

__all__ = ["Layout", "Passage", "layout_filing"]


@dataclass(frozen=True)
class Passage:
    """A scored span ``text[start:end]`` of the filing, the section it lies in and its token count."""

    start: int
    end: int
    text: str
    n_tokens: int
    section: str | None


@dataclass
class Layout:
    """How one filing is cut up: its form, sections, classified lines and the passages to score."""

    form: str | None
    sections: list[Section]
    lines: list[Line]
    passages: list[Passage]
    excluded_chars: dict[str, int] = field(default_factory=dict)  # kind -> characters left out
    prose_chars: int = 0
    warnings: list[str] = field(default_factory=list)


def _paragraphs(lines: list[Line]) -> list[tuple[int, int]]:
    """Spans of consecutive non-blank prose lines."""
    spans: list[tuple[int, int]] = []
    current: list[int] | None = None
    for line in lines:
        if line.kind == "prose":
            if current:
                current[1] = line.end
            else:
                current = [line.start, line.end]
        elif current:
            spans.append((current[0], current[1]))
            current = None
    if current:
        spans.append((current[0], current[1]))
    return spans


def _split_at(spans: list[tuple[int, int]], cuts: list[int]) -> list[tuple[int, int]]:
    """Cut spans at section starts (a heading inside a paragraph is rare but possible)."""
    out = []
    for a, b in spans:
        inner = [c for c in cuts if a < c < b]
        for x, y in zip([a, *inner], [*inner, b]):
            out.append((x, y))
    return out


def layout_filing(text: str, tokenizer: Any, chunk_tokens: int, window: int, form: str | None = None) -> Layout:
    """Sections, line kinds and passages of ``text`` (see the module docstring)."""
    family = detect_form(text, form)
    sections = detect_sections(text, family)
    lines = classify_lines(text)
    excluded = Counter()
    for line in lines:
        if line.kind in EXCLUDED_KINDS:
            excluded[line.kind] += line.end - line.start
    prose_chars = sum(line.end - line.start for line in lines if line.kind == "prose")
    layout = Layout(family, sections, lines, [], dict(excluded), prose_chars)
    starts = [s.start for s in sections]

    def section_of(offset: int) -> str | None:
        found = None
        for s in sections:
            if s.start <= offset < s.end:
                found = s.key
        return found

    if not excluded and not sections:
        n = len(tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"])
        if n and n + tokenizer.num_special_tokens_to_add() <= window:
            layout.passages = [Passage(0, len(text), text, n, None)]
            return _readable(layout, tokenizer)
    spans = _split_at(_paragraphs(lines), starts)
    if not spans:  # nothing looks like prose: score every non-blank line rather than nothing
        spans = [(line.start, line.end) for line in lines if line.kind != "blank"]
        layout.warnings.append("no prose lines found (tables, headings or fragments only); scored all the text")
    pieces = [text[a:b] for a, b in spans]
    token_spans = tokenizer(pieces, add_special_tokens=False, return_offsets_mapping=True, truncation=False,
                            verbose=False)["offset_mapping"] if pieces else []  # one batched call
    for (a, _), piece, offsets in zip(spans, pieces, token_spans):
        key = section_of(a)
        for chunk in chunk_document(piece, tokenizer, chunk_tokens, offsets=offsets):
            layout.passages.append(Passage(a + chunk.start, a + chunk.end, chunk.text, chunk.n_tokens, key))
    return _readable(layout, tokenizer)


def _readable(layout: Layout, tokenizer: Any) -> Layout:
    """Leave out the passages the text check refuses (see the module docstring), with a warning."""
    checks = check_texts([p.text for p in layout.passages], tokenizer)
    kept = [p for p, (problem, _) in zip(layout.passages, checks) if problem is None]
    if len(kept) < len(layout.passages):
        layout.warnings.append(f"{len(layout.passages) - len(kept)} passage(s) with no token the model can read "
                               "(emoji, symbols or control characters only) were left out")
        layout.passages = kept
    return layout
