"""compare an analyst can act on: word diffs, ranking by change in adverse risk, significance of section deltas."""

from __future__ import annotations

import numpy as np
import pytest

from textrisk import RiskAnalyzer
from textrisk.filings import FilingAnalyzer
from textrisk.filings.compare import word_diff
from textrisk.scoring.report import adverse_risk

OLD = """Item 1A. Risk Factors
We may become subject to litigation that could be costly and divert management attention from the business.
Our lenders may accelerate our debt if we breach the covenants of our credit agreement.
Competition in our markets is intense and could reduce our margins over time.
Item 7. Management's Discussion and Analysis
Sales rose 4% to $3.1 billion in 2003 from $3.0 billion in 2002 on steady demand.
"""
NEW = """Item 1A. Risk Factors
We may become subject to litigation that could be costly and divert management attention from the business.
We were not in compliance with the leverage covenant of our credit agreement and obtained a waiver in March.
Competition in our markets is intense and could reduce our margins over time.
The SEC opened a formal investigation into our revenue recognition practices.
Item 7. Management's Discussion and Analysis
Sales fell 14% to $2.7 billion in 2004 from $3.1 billion in 2003 on weak demand.
"""


def test_word_diff_marks_removed_and_added_words():
    assert word_diff("Sales rose 4% on steady demand.", "Sales fell 14% on weak demand.") == (
        "Sales [-rose 4%-] {+fell 14%+} on [-steady-] {+weak+} demand.")
    assert word_diff("same text", "same text") == "same text"


@pytest.fixture(scope="module")
def comparison(judgement_model_dir):
    return FilingAnalyzer(RiskAnalyzer.from_pretrained(judgement_model_dir, chunk_tokens=32)).compare(OLD, NEW)


def test_items_carry_and_are_ranked_by_their_change_in_adverse_risk(comparison, judgement_model_dir):
    analyzer = RiskAnalyzer.from_pretrained(judgement_model_dir, chunk_tokens=32)
    assert comparison.new and all(item.kind and item.risk_score is not None for item in comparison.new)
    for item in comparison.new:
        out = analyzer.forward([item.text])
        assert item.risk_change == pytest.approx(float(adverse_risk(out.adverse, out.severity)[0]), abs=1e-6)
    assert [i.risk_change for i in comparison.new] == sorted((i.risk_change for i in comparison.new), reverse=True)
    assert [i.risk_change for i in comparison.removed] == sorted(i.risk_change for i in comparison.removed)
    assert all(i.risk_change <= 0 for i in comparison.removed)
    for item in comparison.changed:
        assert item.diff == word_diff(item.old_text, item.text) and item.old_risk_score is not None


def test_section_deltas_carry_bootstrap_intervals(comparison):
    section = next(s for s in comparison.sections if s.key == "1A")
    assert {"negative_share", "risk_score"} <= set(section.intervals)
    for name, (low, high) in section.intervals.items():
        assert low <= high
        assert (name in section.significant) == (low > 0 or high < 0)
    assert section.risk_score_delta is not None


def test_the_table_shows_full_passages_and_diffs(comparison):
    table = comparison.table(width=80)
    body = [line for line in table.splitlines() if line.startswith("    ") and not line.startswith("     ")]
    assert body and all(len(line) <= 80 for line in body)  # passage text is wrapped, not cut
    for item in comparison.new[:3]:
        assert " ".join(item.text.split()[-3:]) in " ".join(table.split())  # the end of the passage is shown
    if comparison.changed:
        assert "{+" in table or "[-" in table
    assert "bootstrap over passages" in table


def test_a_model_without_judgement_ranks_by_p_negative(tiny_model_dir):
    result = FilingAnalyzer(RiskAnalyzer.from_pretrained(tiny_model_dir, chunk_tokens=32)).compare(OLD, NEW)
    assert all(item.kind is None for item in result.new)
    p_negative = [item.scores["negative"] for item in result.new]
    assert [item.risk_change for item in result.new] == pytest.approx(p_negative)
    assert p_negative == sorted(p_negative, reverse=True)
    np.testing.assert_array_equal([i.risk_change <= 0 for i in result.removed], True)
