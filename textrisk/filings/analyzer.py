"""``FilingAnalyzer``: score filings as documents with sections, prose-only aggregation and negative evidence.

    from textrisk import RiskAnalyzer
    from textrisk.filings import FilingAnalyzer

    filings = FilingAnalyzer(RiskAnalyzer.from_pretrained())
    report = filings.score_filing(open("10k.txt").read(), form="10-K")
    report.section("1A").negative_share, report.negative_evidence[0].text
    change = filings.compare(old_text, new_text)
    changes = filings.compare_series([text_2016, text_2017, text_2018])  # consecutive pairs, passages scored once

It builds on :class:`~textrisk.scoring.analyzer.RiskAnalyzer` (its model, calibration, batch size, chunk size, threads,
signal labels and thresholds) and returns :class:`~textrisk.filings.report.FilingReport` objects, which are
``RiskReport`` objects with more fields, so anything that reads a ``RiskReport`` reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from ..scoring.analyzer import RiskAnalyzer
from ..scoring.engine import PassageOutputs
from .passages import Layout, layout_filing
from .report import FilingReport, build_report

if TYPE_CHECKING:
    from .compare import Comparison

__all__ = ["FilingAnalyzer"]


class FilingAnalyzer:
    """Score filings (any long text) section by section.

    Args:
        analyzer: the :class:`RiskAnalyzer` whose model and settings are used.
        max_negative_evidence: passages kept in ``negative_evidence``.
    """

    def __init__(self, analyzer: RiskAnalyzer, max_negative_evidence: int = 5):
        if max_negative_evidence < 0:
            raise ValueError(f"max_negative_evidence must be >= 0, got {max_negative_evidence}")
        self.analyzer = analyzer
        self.max_negative_evidence = max_negative_evidence

    @classmethod
    def from_pretrained(cls, name_or_path: str | None = None, max_negative_evidence: int = 5, **kwargs: Any
                        ) -> FilingAnalyzer:
        """``FilingAnalyzer(RiskAnalyzer.from_pretrained(name_or_path, **kwargs))``."""
        return cls(RiskAnalyzer.from_pretrained(name_or_path, **kwargs), max_negative_evidence)

    @property
    def labels(self) -> list[str]:
        """Sentiment labels, in score order."""
        return self.analyzer.labels

    @property
    def signal_labels(self) -> list[str]:
        """Reported risk signals (empty without a risk head)."""
        return self.analyzer.signal_labels

    @property
    def has_risk_head(self) -> bool:
        """Whether the model predicts risk signals."""
        return self.analyzer.has_risk_head

    def layout(self, text: str, form: str | None = None) -> Layout:
        """Sections, line kinds and passages of ``text`` (no model call)."""
        model = self.analyzer.model
        return layout_filing(text, model.tokenizer, self.analyzer.chunk_tokens, model.window, form)

    def score(self, texts: Sequence[str], progress: bool | None = None, forms: Sequence[str | None] | None = None
              ) -> list[FilingReport]:
        """One :class:`FilingReport` per text, in order (drop-in for ``RiskAnalyzer.score``).

        Documents are scored one at a time (memory stays that of one filing); ``progress`` shows a bar over
        documents and one over each document's passages (None: on a terminal only, and not for a handful).
        """
        _check(texts)
        forms = list(forms) if forms is not None else [None] * len(texts)
        if len(forms) != len(texts):
            raise InputError(f"forms has {len(forms)} entries for {len(texts)} texts")
        from tqdm.auto import tqdm

        reports = []
        show_docs = progress if progress is not None else (None if len(texts) > 1 else False)
        for text, form in tqdm(list(zip(texts, forms)), desc="documents", unit="doc",
                               disable=True if show_docs is False else None):
            reports.append(self._score_one(text, form, progress))
        return reports

    def score_filing(self, text: str, form: str | None = None, progress: bool | None = None) -> FilingReport:
        """The :class:`FilingReport` of one filing; ``form`` ("10-K", "10-Q", "8-K"...) or read from its cover."""
        return self.score([text], progress=progress, forms=[form])[0]

    def _score_one(self, text: str, form: str | None, progress: bool | None) -> FilingReport:
        layout = self.layout(text, form)
        if not layout.passages:
            raise InputError("the text contains no tokens the model can read (binary or control characters only?)")
        out = self.analyzer.forward([p.text for p in layout.passages],
                                    progress=False if len(layout.passages) <= 64 and progress is None else progress)
        return self._report(layout, out)

    def _report(self, layout: Layout, out: PassageOutputs) -> FilingReport:
        analyzer = self.analyzer
        return build_report(analyzer.labels, analyzer.signal_labels, analyzer.thresholds(), layout, out,
                            analyzer.max_evidence, self.max_negative_evidence)

    def compare(self, old_text: str, new_text: str, old_form: str | None = None, new_form: str | None = None,
                progress: bool | None = None) -> Comparison:
        """Year-over-year change from ``old_text`` to ``new_text`` (see :mod:`textrisk.filings.compare`)."""
        return self.compare_series([old_text, new_text], [old_form, new_form], progress)[0]

    def compare_series(self, texts: Sequence[str], forms: Sequence[str | None] | None = None,
                       progress: bool | None = None) -> list[Comparison]:
        """``compare(texts[i], texts[i + 1])`` for each consecutive pair (one filer's years, oldest first).

        All passages of all the texts go through the model in one pass, each distinct passage once, so a
        passage that recurs year after year is scored once rather than once per pair it is in.
        """
        from .compare import compare_layouts

        _check(texts)
        if len(texts) < 2:
            raise InputError(f"compare_series needs at least two texts, got {len(texts)}")
        forms = list(forms) if forms is not None else [None] * len(texts)
        if len(forms) != len(texts):
            raise InputError(f"forms has {len(forms)} entries for {len(texts)} texts")
        layouts = [self.layout(text, form) for text, form in zip(texts, forms)]
        for i, layout in enumerate(layouts):
            if not layout.passages:
                raise InputError(f"texts[{i}] contains no passage the model can read (binary, symbols or control "
                                 "characters only?)")
        out = self.analyzer.forward([p.text for layout in layouts for p in layout.passages], embeddings=True,
                                    progress=progress)
        bounds = np.cumsum([0] + [len(layout.passages) for layout in layouts])
        comparisons = []
        for i in range(len(texts) - 1):
            pair = out.rows(slice(bounds[i], bounds[i + 2]))
            reports = [self._report(layouts[i], pair.rows(slice(0, len(layouts[i].passages)))),
                       self._report(layouts[i + 1], pair.rows(slice(len(layouts[i].passages), None)))]
            comparisons.append(compare_layouts(layouts[i], layouts[i + 1], pair, reports, self.analyzer.labels,
                                               self.analyzer.signal_labels, self.analyzer.thresholds()))
        return comparisons


def _check(texts: Sequence[str]) -> None:
    if isinstance(texts, (str, bytes)):
        raise InputError("score() takes a list of texts, got a single string; wrap it: score([text])")
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
    if bad:
        raise InputError(f"texts{bad[:5]} are not non-empty strings")

