"""Which lines of a filing are prose: a line-level rule that keeps tables, indexes and page furniture out of scoring.

Filings converted to text keep their tables (flattened into rows of numbers, or one cell per line), their tables
of contents, exhibit indexes, page numbers and running headers. Scored like prose they dilute a document's
distribution and fill its evidence with "3.1 Articles of Incorporation (incorporated by reference...)".

:func:`classify_lines` gives every line of a text one kind, tested in this order (the first rule that matches):

``blank``      whitespace only.
``marker``     an exhibit marker line such as ``[[EX-13]]``.
``toc``        a table-of-contents entry: three or more "Item N" references in one line, or a short line
               (at most 15 words, no sentence end before it) that ends in a page number after dot leaders or
               after an "Item N"/"Part N"/"Note N" title.
``heading``    an item or part heading ("ITEM 1A. RISK FACTORS", "Part II", "Item 7.") of at most 20 words.
``furniture``  page furniture: a rule of ``-=_*`` characters; a page number ("12", "- 12 -", "Page 12 of 80",
               "F-3"); "Table of Contents"/"Index" alone; or a short line (at most 80 characters) repeated 3 or
               more times in the document (running headers and footers, "See accompanying notes..."), or a
               line ending in "(Continued)".
``exhibit``    an exhibit index entry: "incorporated ... by reference" or "filed herewith" together with an
               exhibit number (``10.3``, ``(10)(i)``) at the start of the line or two or more of them in it;
               or "by reference to Exhibit N".
``table``      number-dense: at least 2 numeric tokens (digits, ``$``, ``%``, ``(1,234)``, dashes, ``====``) making up
               more than half of the tokens; or at least 30% numeric with fewer than 2 function words ("the",
               "of", "to", ...); or a line not ending a sentence that ends in two numeric tokens and has fewer than 3
               function words.
``fragment``   no sentence end and either fewer than 4 words, or fewer than 8 words in under 50 characters
               (headings, table labels, single cells), or wholly in parentheses ("(in thousands)").
``prose``      everything else.

Only ``prose`` lines are scored. Offsets are exact: each :class:`Line` is ``text[start:end]`` of the original.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

__all__ = ["EXCLUDED_KINDS", "KINDS", "Line", "classify_line", "classify_lines", "prose_runs"]

KINDS = ("blank", "marker", "heading", "furniture", "exhibit", "toc", "table", "fragment", "prose")
#: kinds left out of scoring and evidence (blank lines are neither prose nor excluded text)
EXCLUDED_KINDS = ("marker", "heading", "furniture", "exhibit", "toc", "table", "fragment")

_HEADING = re.compile(r"^(?:>\s*)?(?:part\s+[ivx]+\b[.,:\s\u2014\u2013-]*)?"
                      r"(?:item\s+\d{1,2}(?:\.\d{2})?[a-c]?\b[.:)]?|part\s+[ivx]+\b)",
                      re.IGNORECASE)
_RULE = re.compile(r"^[\s\-=_*~.\u2014\u2013]+$")
_PAGE = re.compile(r"^(?:page\s+)?[-\u2013\u2014\s]*(?:[a-z]{1,2}-)?\d{1,4}[-\u2013\u2014\s]*(?:of\s+\d{1,4})?$"
                   r"|^[ivxlc]{1,6}$", re.IGNORECASE)
_TOC_TITLE = re.compile(r"^(?:table\s+of\s+contents|index|contents)\.?$", re.IGNORECASE)
_EXHIBIT_WORDS = re.compile(r"incorporated\s+(?:herein\s+)?by\s+reference|filed\s+herewith|furnished\s+herewith",
                            re.IGNORECASE)
_EXHIBIT_REFERENCE = re.compile(r"by\s+reference\s+to\s+exhibit\s+\d", re.IGNORECASE)
_CONTINUED = re.compile(r"\(continued\)$", re.IGNORECASE)
_EXHIBIT_NUMBER = re.compile(r"(?:^|\s)(?:\(?\d{1,3}\)?(?:\.\d{1,3})+[a-z]?|\(\d{1,3}\)\([a-z]{1,4}\))(?=\s)")
_EXHIBIT_START = re.compile(r"^\s*(?:exhibit\s+)?(?:\(?\d{1,3}\)?(?:\.\d{1,3})+[a-z]?|\(\d{1,3}\)\([a-z]{1,4}\))\s",
                            re.IGNORECASE)
_ITEM_REF = re.compile(r"\bitem\s+\d{1,2}[a-c]?\b", re.IGNORECASE)
_TOC_END = re.compile(r"(?:\.{3,}|\u2026+|\s)\s*(?:[a-z]-)?\d{1,3}$", re.IGNORECASE)
_TOC_LEADERS = re.compile(r"\.{3,}|\u2026")
_TOC_START = re.compile(r"^(?:item|part|note|schedule)\s+[\divx]", re.IGNORECASE)
_NUMERIC = re.compile(r"^[(\[$%\u2014\u2013-]*[$]?[(]?[\d.,]*\d[\d.,]*[)%]*[.,;:]?$|^[$%)(=\u2014\u2013-]+$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*")
_SENTENCE_END = re.compile(r"[.!?:;][\"')\]\u201d\u2019]*$")
_FUNCTION_WORDS = frozenset(
    "the a an of to in on for by with from and or but that which is are was were be been has have had will would "
    "may can could should our we its it their this these those as at not than such any".split()
)


@dataclass(frozen=True)
class Line:
    """One line ``text[start:end]`` (without its newline) and its kind (see the module docstring)."""

    start: int
    end: int
    kind: str


def classify_line(line: str, repeated: bool = False) -> str:
    """The kind of one line; ``repeated``: the stripped line occurs 3+ times in its document."""
    s = line.strip()
    if not s:
        return "blank"
    if s.startswith("[[") and s.endswith("]]"):
        return "marker"
    ends_sentence = bool(_SENTENCE_END.search(s))
    if len(_ITEM_REF.findall(s)) >= 3 or (
            len(s.split()) <= 15 and _TOC_END.search(s) and not _SENTENCE_END.search(s[:-1].rstrip(" .0123456789-"))
            and (_TOC_LEADERS.search(s) or _TOC_START.match(s))):
        return "toc"
    if _HEADING.match(s) and len(s.split()) <= 20 and not _ITEM_REF.search(s[_HEADING.match(s).end():]):
        return "heading"
    if _RULE.match(s) or _PAGE.match(s) or _TOC_TITLE.match(s) or _CONTINUED.search(s) or (repeated and len(s) <= 80):
        return "furniture"
    if _EXHIBIT_REFERENCE.search(s) or (
            _EXHIBIT_WORDS.search(s) and (_EXHIBIT_START.match(s) or len(_EXHIBIT_NUMBER.findall(s)) >= 2)):
        return "exhibit"
    tokens = s.split()
    numeric = sum(1 for t in tokens if _NUMERIC.match(t))
    function = sum(1 for t in tokens if t.lower().strip(",.;:()") in _FUNCTION_WORDS)
    if numeric >= 2 and (numeric > 0.5 * len(tokens) or (numeric >= 0.3 * len(tokens) and function < 2)):
        return "table"
    if (not ends_sentence and len(tokens) >= 3 and function < 3 and _NUMERIC.match(tokens[-1])
            and _NUMERIC.match(tokens[-2])):
        return "table"
    words = len(_WORD.findall(s))
    if not ends_sentence and (words < 4 or (words < 8 and len(s) < 50) or (s.startswith("(") and s.endswith(")"))):
        return "fragment"
    return "prose"


def classify_lines(text: str) -> list[Line]:
    """Every line of ``text`` (split on ``\\n``) with its kind; offsets index ``text`` exactly."""
    spans, start = [], 0
    for piece in text.split("\n"):
        spans.append((start, start + len(piece)))
        start += len(piece) + 1
    counts = Counter(text[a:b].strip() for a, b in spans)
    lines = []
    for a, b in spans:
        stripped = text[a:b].strip()
        lines.append(Line(a, b, classify_line(text[a:b], repeated=bool(stripped) and counts[stripped] >= 3)))
    return lines


def prose_runs(lines: list[Line], start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Maximal spans of consecutive prose lines (blank lines inside a run are kept) within ``[start, end)``."""
    runs: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for line in lines:
        if line.end <= start or (end is not None and line.start >= end):
            continue
        if line.kind == "prose":
            a, b = max(line.start, start), line.end if end is None else min(line.end, end)
            current = (current[0], b) if current else (a, b)
        elif line.kind != "blank" and current:
            runs.append(current)
            current = None
    if current:
        runs.append(current)
    return runs
