"""The labelling functions' prefilter: the strings read off each pattern are required, and skipping the rules a text
cannot trigger leaves every vote unchanged."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textrisk.data.datasets import find_data_dir, load_benchmark
from textrisk.labels.prefilter import Prefilter, required_literals
from textrisk.labels.rules import ABSTAIN, LABELING_FUNCTIONS, lf_votes, normalize_for_rules

_DATA = find_data_dir()


def _every_rule(texts: list[str]) -> np.ndarray:
    """The reference: every labelling function on every text, no prefilter."""
    votes = np.full((len(texts), len(LABELING_FUNCTIONS)), ABSTAIN, dtype=np.int8)
    for i, text in enumerate(texts):
        normalized = normalize_for_rules(text)
        for j, function in enumerate(LABELING_FUNCTIONS):
            votes[i, j] = function(normalized)
    return votes


@pytest.mark.parametrize("pattern, expected", [
    (r"\b(?:sued|suit)\b", {"sued", "suit"}),  # the parser factors out "su": the alternatives are put back
    (r"\blaw(?:suits?)?\b", {"law"}),
    (r"(?<!no )\bdefault(?:ed|s)?", {"default"}),
    (r"[+-]\d+%", {"%"}),
    (r"(?:fall|fell)\w*|decline", {"fall", "fell", "decline"}),
    (r"x+y", {"y"}),
])
def test_required_literals_reads_the_pattern(pattern, expected):
    assert required_literals(re.compile(pattern)) == expected


@pytest.mark.parametrize("pattern", [r"x*", r"(?i)lawsuit", r"(?:a|)", r"\w+\d+", r"(?:lawsuit|\d+)"])
def test_required_literals_unknown_is_none(pattern):
    assert required_literals(re.compile(pattern)) is None


def test_every_pattern_rule_has_a_requirement():
    # a rule without one would run on every text: each rule's pattern (or its func's `needs`) must give strings
    missing = [f.name for f in LABELING_FUNCTIONS if f.required_strings() is None]
    assert missing == []


def test_prefilter_candidates_and_always():
    prefilter = Prefilter([{"loss"}, None, {"lawsuit", "sued"}, {"suit"}])
    assert prefilter.candidates("the company sued its supplier") == [1, 2]
    assert prefilter.candidates("a lawsuit over losses") == [0, 1, 2, 3]  # overlapping strings all count
    assert prefilter.candidates("nothing here") == [1]
    with pytest.raises(ValueError, match="empty required string"):
        Prefilter([{""}])


_WORDS = sorted({s.strip() for f in LABELING_FUNCTIONS for s in (f.required_strings() or ()) if s.strip()})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_WORDS), st.sampled_from(["shares", "fell", "12%", "by", "the", "dow",
                                                                     "400 points", "sales", "rose", "not", ","]),
                          st.text(alphabet="abcdefs %-.,0123456789", max_size=8)), max_size=14))
def test_votes_equal_every_rule_on_generated_texts(words):
    text = " ".join(words) or "x"
    assert (lf_votes([text]).votes == _every_rule([text])).all()


@pytest.mark.skipif(_DATA is None, reason="shared data not found (../shared/data or $TEXTRISK_DATA_DIR)")
def test_votes_equal_every_rule_on_benchmark_texts():
    texts = list(load_benchmark("fpb", "test", _DATA)["text"]) + list(load_benchmark("tfns", "test", _DATA)["text"])
    votes = lf_votes(texts).votes
    assert (votes != ABSTAIN).sum() > 500  # the rules do fire on these texts: the comparison means something
    assert (votes == _every_rule(texts)).all()
