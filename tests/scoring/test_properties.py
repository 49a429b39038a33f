"""Issue 11: property-based tests over arbitrary Unicode (lone surrogates, NUL, RTL marks, emoji) of
``RiskAnalyzer.score``."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textrisk.errors import InputError

from ..helpers import ANY_TEXT


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.one_of(ANY_TEXT, st.none(), st.integers()), max_size=4))
def test_score_never_crashes_and_keeps_one_report_per_text(analyzer, texts):
    problems = analyzer.check(texts)
    assert len(problems) == len(texts)
    bad = [i for i, problem in enumerate(problems) if problem]
    if bad:
        with pytest.raises(InputError, match=rf"texts\[{bad[0]}\] "):
            analyzer.score(texts)
    good = [text for text, problem in zip(texts, problems) if problem is None]
    reports = analyzer.score(good)
    assert len(reports) == len(good)
    for report in reports:
        assert sum(report.sentiment_scores.values()) == pytest.approx(1.0, abs=1e-5)
        json.dumps(report.to_dict())




