"""Issue 11, classes 3, 5, 6, 7, 9 and 10 at the API: the one text validator, option ranges, readers'
encodings, forecast text and price checks, degenerate-metric warnings, fine-tuning output/data checks."""

import math

import pytest

from textrisk.errors import ConfigError, InputError
from textrisk.scoring.analyzer import RiskAnalyzer


# ------------------------------------------------------------------ classes 3 and 7: what score() refuses or warns
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\ud800", r"texts\[1\] holds a lone surrogate \(U\+D800\) at character 0"),
        ("\x00" * 8, r"texts\[1\] has no readable characters"),
        ("\u202e\u200f", r"texts\[1\] has no readable characters"),  # RTL override and mark only
        ("\U0001f680\U0001f4c8\U0001f4b0", r"texts\[1\] has no tokens the model can read \(all 1 token\(s\) are"),
        ("a" * 2_000_000, r"texts\[1\] has no tokens the model can read \(all 1 token\(s\) are the unknown token\)"),
        (b"bytes", r"texts\[1\] is bytes, not a string"),
    ],
)
def test_score_refuses_unreadable_text_naming_the_index(analyzer, text, message):
    with pytest.raises(InputError, match=message):
        analyzer.score(["Profit rose.", text])
    assert analyzer.check(["Profit rose.", text])[0] is None


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("Profit rose \U0001f680 \U0001f680 \U0001f680", "60% of the text's tokens are unknown to the model"),
        ("Profit rose sharply in the quarter \U0001f680", None),  # 1 of 7 tokens unknown: under the 20% rule
        ("\u05d4\u05e8\u05d5\u05d5\u05d7 \u05e9\u05dc \u05d4\u05d7\u05d1\u05e8\u05d4 \u05e2\u05dc\u05d4 Profit",
         "non-Latin script"),  # Hebrew (right-to-left) with one English word
    ],
)
def test_mostly_unknown_tokens_give_a_warning(analyzer, text, warning):
    report = analyzer.score([text])[0]
    assert sum(report.sentiment_scores.values()) == pytest.approx(1.0)
    assert (warning is None and report.warnings == []) or any(warning in w for w in report.warnings)


# ------------------------------------------------------------------ class 5: scoring options are range-checked
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": -1}, r"batch_size must be an integer >= 1, got -1"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
        ({"batch_size": 2.5}, r"batch_size must be an integer >= 1, got 2.5"),
        ({"batch_size": True}, r"batch_size must be an integer >= 1, got True"),
        ({"max_evidence": -1}, r"max_evidence must be an integer >= 0, got -1"),
        ({"num_threads": 0}, r"num_threads must be an integer >= 1, got 0"),
        ({"chunk_tokens": 10**6}, r"chunk_tokens must be an integer \[8, \d+\], got 1000000"),
        ({"threshold": math.nan}, r"threshold must be in \(0, 1\) \(a number\), got nan"),
        ({"threshold": 1.0}, r"threshold must be in \(0, 1\) \(a number\), got 1.0"),
        ({"threshold": "0.5"}, r"threshold must be in \(0, 1\) \(a number\), got '0.5'"),
    ],
)
def test_analyzer_options_are_range_checked(analyzer, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        RiskAnalyzer(analyzer.model, **kwargs)


def test_max_evidence_is_respected(analyzer):
    document = " ".join(["Operating profit fell sharply and the company cut its outlook."] * 60)
    assert [len(RiskAnalyzer(analyzer.model, max_evidence=n).score([document])[0].evidence) for n in (0, 1, 3)] == \
        [0, 1, 3]


def test_long_document_score_depends_on_chunk_tokens(analyzer):
    """README: the result depends on chunk_tokens (it is the token-weighted mean of different chunks)."""
    from ..helpers import SENTENCES

    document = " ".join(SENTENCES * 10)
    reports = {n: RiskAnalyzer(analyzer.model, chunk_tokens=n, num_threads=1).score([document])[0] for n in (16, 64)}
    assert reports[16].num_chunks > reports[64].num_chunks > 1
    assert reports[16].sentiment_scores != pytest.approx(reports[64].sentiment_scores, abs=1e-4)
    again = RiskAnalyzer(analyzer.model, chunk_tokens=16, batch_size=3, num_threads=1).score([document])[0]
    assert again.sentiment_scores == pytest.approx(reports[16].sentiment_scores, abs=1e-6)  # batching: no effect


