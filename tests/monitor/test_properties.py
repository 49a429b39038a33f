"""Property-based tests (hypothesis, 1,000 examples each) of the rules validation and the index update (the record
parser's are in test_records.py)."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from textrisk.data.timestamps import EARLIEST, LATEST
from textrisk.errors import ConfigError
from textrisk.monitor.indices import EntityIndex, IndexConfig
from textrisk.monitor.rules import RULE_TYPES, RuleSet, parse_rules

_junk = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10**30, max_value=10**30),
                  st.booleans(), st.none(), st.text(max_size=4), st.lists(st.integers(), max_size=2),
                  st.dictionaries(st.text(max_size=2), st.integers(), max_size=1))
# plausible values most of the time, so that rules get past their required fields and the rest is exercised
_number = st.one_of(st.floats(min_value=0, max_value=1), st.integers(min_value=1, max_value=30), _junk,
                    st.sampled_from(["risk", "negative", "credit", ["AAPL"], [1]]))
_rule = st.fixed_dictionaries(
    {"name": st.one_of(st.sampled_from(["a", "b"]), st.text(max_size=6), _junk),
     "type": st.one_of(st.sampled_from(RULE_TYPES), _junk)},
    optional={key: _number for key in ("above", "z", "probability", "factor", "cooldown_hours", "min_history",
                                      "lookback_windows", "min_count", "min_docs", "index", "signal", "entities")})
_section = st.dictionaries(st.sampled_from(["half_life_hours", "window_hours", "reference_size", "window_size",
                                            "every", "psi", "ks_pvalue", "js", "bins", "cooldown_docs"]), _number,
                           max_size=3)
_hook = st.fixed_dictionaries({"url": st.one_of(st.just("http://127.0.0.1:9/x"), st.text(max_size=5))},
                              optional={key: _number for key in ("max_attempts", "backoff_seconds",
                                                                "max_backoff_seconds", "timeout_seconds")})
_document = st.fixed_dictionaries({}, optional={"rules": st.one_of(st.lists(_rule, max_size=3), _number),
                                                "index": st.one_of(_section, _number),
                                                "drift": st.one_of(_section, _number),
                                                "webhooks": st.one_of(st.lists(_hook, max_size=2), _number)})


def _finite_numbers(obj):
    for value in vars(obj).values():
        if isinstance(value, float):
            assert math.isfinite(value)


@settings(max_examples=1000, deadline=None)
@given(_document)
def test_property_rules_are_valid_or_refused_with_a_config_error(raw):
    try:
        rules = parse_rules(raw, "r.yaml")
    except ConfigError as exc:  # never a TypeError, KeyError... and always naming the file
        assert str(exc).startswith("r.yaml") or "rule name(s)" in str(exc)
        return
    assert isinstance(rules, RuleSet)
    for rule in rules.rules:
        _finite_numbers(rule)
        for key in ("above", "probability"):
            assert getattr(rule, key) is None or 0 <= getattr(rule, key) <= 1
        assert all(isinstance(getattr(rule, k), int) and getattr(rule, k) >= 1
                   for k in ("min_history", "lookback_windows", "min_count", "min_docs"))
        assert rule.cooldown_hours >= 0
    for part in (rules.index, rules.drift, *rules.webhooks):
        _finite_numbers(part)
    assert 0.001 <= rules.index.half_life_hours <= 87600 and 0 < rules.drift.psi <= 1
    assert all(0 < hook.timeout_seconds <= 300 for hook in rules.webhooks)


_update = st.tuples(st.floats(min_value=EARLIEST, max_value=LATEST - 1), st.floats(min_value=0, max_value=1),
                    st.booleans())


@settings(max_examples=1000, deadline=None)
@given(st.lists(_update, min_size=1, max_size=40), st.floats(min_value=0.001, max_value=87600))
def test_property_index_update_stays_finite_and_bounded(updates, half_life_hours):
    config = IndexConfig(half_life_hours=half_life_hours)
    index = EntityIndex("E")
    for n, (ts, risk, negative) in enumerate(updates, start=1):
        value, z = index.update(ts, risk, negative, config.half_life_hours * 3600.0)
        assert math.isfinite(value) and -1e-9 <= value <= 1 + 1e-9
        assert -1e-9 <= index.negative_share <= 1 + 1e-9
        assert z is None or math.isfinite(z)
        assert index.weight >= 1 - 1e-9 and index.n_docs == n and index.hist_n == n - 1
        assert index.hist_m2 >= -1e-9 and math.isfinite(index.hist_mean)
    times = [ts for ts, _, _ in updates]
    assert index.first_ts == min(times) and index.last_ts == max(times)
