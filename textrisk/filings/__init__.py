"""Filings as documents: HTML to text, 10-K/10-Q/8-K sections, prose-only scoring, negative evidence, and
year-over-year comparison. Start with :class:`FilingAnalyzer`."""

from .analyzer import FilingAnalyzer
from .compare import Comparison, PassageChange, SectionDelta
from .prose import Line, classify_lines
from .report import FilingReport, SectionEvidence, SectionScore
from .sections import Section, detect_form, detect_sections

__all__ = [
    "Comparison",
    "FilingAnalyzer",
    "FilingReport",
    "Line",
    "PassageChange",
    "Section",
    "SectionDelta",
    "SectionEvidence",
    "SectionScore",
    "classify_lines",
    "detect_form",
    "detect_sections",
]
