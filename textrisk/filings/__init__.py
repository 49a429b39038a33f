"""Filings as documents: HTML to text, 10-K/10-Q/8-K sections, prose-only scoring, negative evidence, and
year-over-year comparison. Start with :class:`FilingAnalyzer`.

Public names are imported on first access (PEP 562), so the CLI can register ``textrisk compare`` without
importing torch.
"""

from typing import TYPE_CHECKING

from ..utils.lazy import lazy_exports

if TYPE_CHECKING:
    from .analyzer import FilingAnalyzer
    from .compare import Comparison, PassageChange, SectionDelta
    from .prose import Line, classify_lines
    from .report import FilingReport, SectionEvidence, SectionScore
    from .sections import Section, detect_form, detect_sections

_LAZY = {"FilingAnalyzer": "analyzer", "Comparison": "compare", "PassageChange": "compare", "SectionDelta": "compare",
         "Line": "prose", "classify_lines": "prose", "FilingReport": "report", "SectionEvidence": "report",
         "SectionScore": "report", "Section": "sections", "detect_form": "sections", "detect_sections": "sections"}

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

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
