"""textrisk.filings without the shared data: line rule, sections, HTML, passages, reports, compare, CLI."""

import json

import numpy as np
import pytest

from textrisk import InputError, RiskAnalyzer
from textrisk.filings import FilingAnalyzer, classify_lines, detect_form, detect_sections
from textrisk.filings.documents import documents_from_args, form_from_name
from textrisk.filings.html import html_to_text
from textrisk.filings.prose import classify_line

from ..helpers import SENTENCES

FILING = """FORM 10-K
TABLE OF CONTENTS
Item 1. Business 3
Item 1A. Risk Factors 5
Item 7. Management's Discussion and Analysis 9

PART I
Item 1. Business
We make aircraft and sell them to airlines around the world.
Revenues 50,485 54,069 58,198
Item 1A. Risk Factors
Our lenders may accelerate our debt if we breach the covenants of our credit agreement.
We may not be able to continue as a going concern.
12
Item 7. Management's Discussion and Analysis
Sales fell 12% to $3.1 billion in 2003 from $3.5 billion in 2002 because of weak demand.
3.1 Articles of Incorporation (incorporated by reference to Exhibit 3.1 to Form 8-K)
"""


@pytest.fixture(scope="module")
def filings(tiny_model_dir):
    return FilingAnalyzer(RiskAnalyzer.from_pretrained(tiny_model_dir, chunk_tokens=16))


@pytest.mark.parametrize("line, kind", [
    ("Revenues 50,485 54,069 58,198", "table"),
    ("Sales fell 12% to $3.1 billion in 2003 from $3.5 billion in 2002 because of weak demand.", "prose"),
    ("- 12 -", "furniture"),
    ("Table of Contents", "furniture"),
    ("Item 7. Management's Discussion and Analysis ........ 15", "toc"),
    ("3.1 Articles of Incorporation (incorporated by reference to Exhibit 3.1 to Form 8-K)", "exhibit"),
    ("ITEM 1A. RISK FACTORS", "heading"),
    ("Net Earnings", "fragment"),
    ("(in thousands)", "fragment"),
    ("[[EX-13]]", "marker"),
    ("", "blank"),
])
def test_line_kinds(line, kind):
    assert classify_line(line) == kind


def test_repeated_short_lines_are_furniture_and_offsets_are_exact():
    text = "".join(f"Acme Corp annual report\nProfit rose in quarter {q} of the year.\n" for q in (1, 2, 3))
    lines = classify_lines(text)
    assert [line.kind for line in lines[:2]] == ["furniture", "prose"]
    assert all(text[line.start:line.end] == piece for line, piece in zip(lines, text.split("\n")))


def test_sections_pick_the_body_not_the_table_of_contents():
    sections = detect_sections(FILING)
    keys = [s.key for s in sections]
    assert keys == ["front", "1", "1A", "7"]
    assert FILING[sections[2].start:sections[2].heading_end] == "Item 1A. Risk Factors"
    assert sections[2].start > FILING.index("PART I")
    assert sections[-1].end == len(FILING)


def test_a_stray_markup_character_before_the_heading_is_tolerated():
    text = ">ITEM 1A. RISK FACTORS\n\nWe may lose money.\n>Item 2. Properties\nWe lease offices.\n"
    sections = detect_sections(text, "10-K")
    assert [(s.key, s.start) for s in sections] == [("1A", 0), ("2", text.index(">Item 2"))]
    assert classify_line(">ITEM 1A. RISK FACTORS") == "heading"


def test_cross_references_and_old_8k_items():
    text = ("FORM 8-K\nItem 5) which was held by the group.\nItem 7 of this report describes it.\n"
            "ITEM 3. Bankruptcy or Receivership\nThe company filed for Chapter 11.\n")
    assert [s.key for s in detect_sections(text)] == ["front", "3"]
    assert detect_form(text) == "8-K" and detect_form("", "10-K405") == "10-K"
    assert [s.key for s in detect_sections("Item 2.04 Triggering Events\nDebt accelerated.\n")] == ["2.04"]
    assert detect_sections("No headings here. Just prose.") == []


def test_ten_q_items_carry_their_part():
    text = ("FORM 10-Q\nPART I\nItem 2. MD&A\nSales fell.\nPART II\nItem 1A. Risk Factors\nRisks grew.\n")
    assert [s.key for s in detect_sections(text)] == ["front", "I-2", "II-1A"]


def test_html_to_text_keeps_rows_and_drops_hidden_parts():
    html = ("<html><head><title>t</title><style>p{}</style></head><body><div style='display: none'>hidden</div>"
            "<p>Item 1A. Risk&nbsp;Factors</p><table><tr><td>Revenue</td><td>1,234</td></tr></table></body></html>")
    text = html_to_text(html)
    assert "hidden" not in text and "Item 1A. Risk Factors" in text and "Revenue 1,234" in text


def test_report_scores_prose_only_with_sections_and_negative_evidence(filings):
    report = filings.score_filing(FILING)
    layout = filings.layout(FILING)
    assert report.form == "10-K"
    assert [s.key for s in report.sections] == ["front", "1", "1A", "7"]
    assert {"table", "exhibit", "toc", "heading"} <= set(report.excluded_chars)
    assert 0 < report.excluded_share < 1
    for passage in layout.passages:  # no passage contains an excluded line
        assert "50,485" not in passage.text and "incorporated by reference" not in passage.text
        assert FILING[passage.start:passage.end] == passage.text
    assert sum(s.num_passages for s in report.sections) == report.num_chunks
    assert report.negative_evidence
    p_neg = [e.scores["negative"] for e in report.negative_evidence]
    assert p_neg == sorted(p_neg, reverse=True)
    for evidence in report.negative_evidence:
        assert FILING[evidence.start:evidence.end] == evidence.text
        section = report.section(evidence.section)
        assert section.start <= evidence.start < section.end
    json.dumps(report.to_dict())


def test_a_plain_paragraph_scores_as_risk_analyzer_does(filings):
    text = " ".join(SENTENCES * 4)  # one prose paragraph, many chunks, no headings
    mine = filings.score([text, SENTENCES[0]])
    theirs = filings.analyzer.score([text, SENTENCES[0]])
    for a, b in zip(mine, theirs):
        assert a.num_chunks == b.num_chunks and a.sections == []
        np.testing.assert_allclose(list(a.sentiment_scores.values()), list(b.sentiment_scores.values()), rtol=1e-5)
    assert filings.score(["Net Earnings"])[0].warnings  # nothing prose-like: scored whole, with a warning


def test_bad_inputs(filings):
    with pytest.raises(InputError):
        filings.score("one string")
    with pytest.raises(InputError):
        filings.score(["ok", "  "])


def test_compare_of_identical_filings_is_unchanged(filings):
    comparison = filings.compare(FILING, FILING)
    assert comparison.similarity == pytest.approx(1.0) and comparison.cosine_tf == pytest.approx(1.0)
    assert comparison.counts["new"] == comparison.counts["removed"] == comparison.counts["changed"] == 0
    assert [d.key for d in comparison.sections] == ["1", "1A", "7"]  # front matter has no prose here
    assert all(d.negative_share_delta == 0 for d in comparison.sections)
    json.dumps(comparison.to_dict())


RISKS = [
    "Our lenders may accelerate the repayment of our debt if we breach the covenants of our credit agreement.",
    "Demand for commercial aircraft depends on airline profits, fuel prices and passenger traffic.",
    "A cyber attack on our networks could disrupt operations and expose confidential customer information.",
    "Changes in tax law in the countries where we operate could raise our effective tax rate.",
    "We depend on a small number of suppliers for titanium forgings and engine components.",
    "Litigation over product liability claims could require us to pay large damages.",
    "Fluctuations in foreign exchange rates affect the reported value of overseas revenues.",
    "Regulators could impose new environmental rules that increase compliance costs.",
]
ADDED = ["The bank entered into a cease and desist order with the FDIC requiring higher capital ratios.",
         "Auditors expressed substantial doubt about its ability to continue as a going concern."]


def test_compare_finds_exactly_the_added_and_removed_passages(tiny_model_dir):
    from textrisk.filings.compare import MIN_WORD_OVERLAP, word_overlap

    every = RISKS + ADDED  # no two share enough words to count as a changed version of each other
    assert max(word_overlap(a, b) for a in every for b in every if a != b) < MIN_WORD_OVERLAP
    removed = [RISKS[2], RISKS[5]]
    kept = [p for p in RISKS if p not in removed]
    old = "Item 1A. Risk Factors\n\n" + "\n\n".join(RISKS) + "\n"
    new = "Item 1A. Risk Factors\n\n" + "\n\n".join(kept[:3] + [ADDED[0]] + kept[3:] + [ADDED[1]]) + "\n"
    analyzer = RiskAnalyzer.from_pretrained(tiny_model_dir)
    comparison = FilingAnalyzer(analyzer).compare(old, new, "10-K", "10-K")
    assert sorted((c.start, c.end) for c in comparison.removed) == sorted(
        (old.index(p), old.index(p) + len(p)) for p in removed)
    assert sorted((c.start, c.end) for c in comparison.new) == sorted(
        (new.index(p), new.index(p) + len(p)) for p in ADDED)
    assert all(c.section == "1A" for c in comparison.new + comparison.removed)
    assert comparison.changed == [] and comparison.counts == {"unchanged": 6, "changed": 0, "new": 2, "removed": 2}
    assert 0 < comparison.similarity < 1 and [d.key for d in comparison.sections] == ["1A"]
    third = new.replace(RISKS[0], RISKS[2])
    series = FilingAnalyzer(analyzer).compare_series([old, new, third], ["10-K"] * 3)
    pairwise = [comparison, FilingAnalyzer(analyzer).compare(new, third, "10-K", "10-K")]
    for got, want in zip(series, pairwise):  # each passage scored once over the series: the same comparisons
        assert got.counts == want.counts and [c.text for c in got.new] == [c.text for c in want.new]
        assert got.similarity == pytest.approx(want.similarity, abs=1e-5)
    assert series[1].counts["new"] == series[1].counts["removed"] == 1
    with pytest.raises(InputError, match="at least two"):
        FilingAnalyzer(analyzer).compare_series([old])


def test_documents_from_files(tmp_path):
    (tmp_path / "ACME_10-K_2020-01-01_full.txt").write_text(FILING)
    (tmp_path / "b.htm").write_text("<p>Profit fell sharply.</p>")
    (tmp_path / "empty.txt").write_text("  ")
    docs = documents_from_args(None, str(tmp_path), "*")
    assert [d.id for d in docs] == ["ACME_10-K_2020-01-01_full.txt", "b.htm", "empty.txt"]
    assert docs[0].extra == {"form": "10-K"} and docs[1].text.strip() == "Profit fell sharply."
    assert docs[2].error == "file is empty"
    assert form_from_name("1002682_8-K_2009-03-02_0000939057-09-000079.txt") == "8-K"
    with pytest.raises(InputError, match="no files match"):
        documents_from_args(None, str(tmp_path), "*.pdf")
    with pytest.raises(InputError, match="PDF"):
        (tmp_path / "x.pdf").write_bytes(b"%PDF")
        from textrisk.filings.documents import read_filing
        read_filing(tmp_path / "x.pdf")


def test_risk_head_models_get_signals_per_section(risk_model_dir):
    from textrisk.labels.taxonomy import RISK_LABELS

    filings = FilingAnalyzer(RiskAnalyzer.from_pretrained(risk_model_dir, chunk_tokens=16, threshold=0.05))
    report = filings.score_filing(FILING)
    assert set(report.risk_signals) == set(RISK_LABELS) and report.flags and 0 <= report.risk_score <= 1
    risk_1a = report.section("1A")
    assert set(risk_1a.signal_share) == set(RISK_LABELS)
    assert all(0 <= v <= 1 for v in risk_1a.signal_share.values())
    assert max(risk_1a.risk_signals.values()) <= max(report.risk_signals.values()) + 1e-9
    for items in risk_1a.signal_evidence.values():
        assert all(e.section == "1A" and FILING[e.start:e.end] == e.text for e in items)
    assert set(report.signal_share) == set(RISK_LABELS)  # the document's token share over each threshold
    tokens = sum(s.prose_tokens for s in report.sections)
    for label in RISK_LABELS:  # the sections' shares, weighted by their prose tokens
        assert report.signal_share[label] == pytest.approx(sum(
            s.signal_share[label] * s.prose_tokens for s in report.sections if s.signal_share) / tokens)
    delta = filings.compare(FILING, FILING).sections[0]
    assert delta.signal_share_delta and all(v == 0 for v in delta.signal_share_delta.values())
    changed = FILING + "\n" + ADDED[1] + "\n"
    comparison = filings.compare(FILING, changed)
    thresholds = filings.analyzer.thresholds()
    items = comparison.new + comparison.removed + comparison.changed
    assert ADDED[1][:-1] in [c.text for c in comparison.new]  # 16-token passages: the full stop is one more
    for item in items:  # each passage carries its signals and the flags over the thresholds
        assert set(item.signals) == set(RISK_LABELS)
        assert item.flags == [k for k, v in item.signals.items() if v >= thresholds[k]]
    assert comparison.to_dict()["new"][0]["flags"] == comparison.new[0].flags
    first = comparison.new[0]
    assert f"risk {first.risk_change:+.2f}" in comparison.table()
    assert ",".join(first.flags) in comparison.table()


def test_judgement_models_rank_filing_evidence_by_adverse_risk(judgement_model_dir):
    from textrisk.scoring.report import adverse_risk

    filings = FilingAnalyzer(RiskAnalyzer.from_pretrained(judgement_model_dir, chunk_tokens=16))
    report = filings.score_filing(FILING)
    layout = filings.layout(FILING)
    out = filings.analyzer.forward([p.text for p in layout.passages])
    weights = np.array([p.n_tokens for p in layout.passages], dtype=float)
    assert report.risk_score == pytest.approx(float(weights @ out.adverse / weights.sum()), abs=1e-6)
    assert report.tone_risk is not None and report.kind in ("event", "outlook", "boilerplate", "other")
    danger = adverse_risk(out.adverse, out.severity)
    by_text = {p.text: danger[i] for i, p in enumerate(layout.passages)}
    negative = [by_text[e.text] for e in report.negative_evidence]
    assert negative == sorted(negative, reverse=True)
    assert all(e.kind is not None and e.risk_score is not None for e in report.negative_evidence)
    for section in report.sections:
        if section.num_passages:
            assert 0 <= section.risk_score <= 1 and 0 <= section.severity <= 3


def test_passages_with_no_readable_token_are_left_out_and_an_unreadable_filing_refused(tiny_model_dir, tmp_path,
                                                                                        capsys):
    """The one text policy in filings: what ``textrisk score`` refuses is not scored as a passage either."""
    from textrisk.cli import main

    (tmp_path / "emoji.txt").write_text("🚀🚀🚀 📉📉\n")
    (tmp_path / "mixed.txt").write_text("Net sales fell by 20% and the company issued a profit warning.\n\n"
                                        "🚀🚀🚀 📉📉\n")
    (tmp_path / "new.txt").write_text("Net sales rose by 20% and the outlook was raised.\n")
    base = ["compare", "--model", str(tiny_model_dir), "--no-progress"]
    assert main([*base, str(tmp_path / "emoji.txt"), str(tmp_path / "new.txt")]) == 2
    assert f"{tmp_path / 'emoji.txt'} contains no passage the model can read" in capsys.readouterr().err
    assert main([*base, str(tmp_path / "mixed.txt"), str(tmp_path / "new.txt"), "--out", str(tmp_path / "c.json")]) == 0
    removed = [p["text"] for p in json.loads((tmp_path / "c.json").read_text())["removed"]]
    assert removed and not any("🚀" in text for text in removed)
    assert main([*base, str(tmp_path / "mixed.txt"), str(tmp_path / "new.txt"), "--out", str(tmp_path / "new.txt")]
                ) == 2
    assert "--out" in capsys.readouterr().err and (tmp_path / "new.txt").read_text().startswith("Net sales rose")
