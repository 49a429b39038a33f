"""Scoring: :class:`~.analyzer.RiskAnalyzer` (texts of any length in, reports out) on top of the one forward engine
(:mod:`.engine`) and the one aggregation of chunk scores into a document report (:mod:`.report`). Filings build on
this package, never the reverse."""
