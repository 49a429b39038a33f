import pytest

from textrisk.errors import ConfigError
from textrisk.monitor.rules import default_rules, load_rules, parse_rules

GOOD = """
index: {half_life_hours: 12, window_hours: 6}
rules:
  - {name: high, type: level, above: 0.6, min_docs: 3, cooldown_hours: 1}
  - {name: jump, type: jump, index: negative, z: 2.5, min_history: 5}
  - {name: credit, type: signal, signal: credit, probability: 0.8, entities: [AAPL]}
  - {name: chatter, type: volume, factor: 3, min_count: 4, lookback_windows: 3}
drift: {reference_size: 100, window_size: 50, every: 25, psi: 0.2}
webhooks: [{url: "http://127.0.0.1:9/x", max_attempts: 3, backoff_seconds: 0.5}]
"""


def test_good_rules_file(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD)
    rules = load_rules(path)
    assert [r.name for r in rules.rules] == ["high", "jump", "credit", "chatter"]
    assert rules.index.half_life_hours == 12 and rules.drift.every == 25
    assert rules.rules[2].entities == ("AAPL",) and rules.rules[2].applies_to("AAPL")
    assert not rules.rules[2].applies_to("MSFT")
    assert rules.webhooks[0].max_attempts == 3
    assert [r.name for r in rules.signal_rules()] == ["credit"]


def test_default_rules_add_signal_rules_only_with_a_risk_head():
    assert not default_rules(False).signal_rules()
    assert {r.signal for r in default_rules(True).signal_rules()} == {"credit", "legal_regulatory",
                                                                      "fraud_accounting"}


@pytest.mark.parametrize(("rules", "message"), [
    ([{"name": "a", "type": "level"}], "rule 'a': field 'above' is required for a level rule"),
    ([{"name": "a", "type": "level", "above": 1.5}], "rule 'a': field 'above' must be <= 1, got 1.5"),
    ([{"name": "a", "type": "level", "above": "high"}], "rule 'a': field 'above' must be a number, got 'high'"),
    ([{"name": "a", "type": "level", "above": float("nan")}], "rule 'a': field 'above' must be a finite number"),
    ([{"name": "a", "type": "level", "above": 0.5, "cooldown_hours": float("nan")}],
     "rule 'a': field 'cooldown_hours' must be a finite number, got nan"),
    ([{"name": "a", "type": "volume", "factor": float("nan")}], "rule 'a': field 'factor' must be a finite number"),
    ([{"name": "a", "type": "jump", "z": float("inf")}], "rule 'a': field 'z' must be a finite number, got inf"),
    ([{"name": "a", "type": "level", "above": True}], "rule 'a': field 'above' must be a number, got True"),
    ([{"name": "a", "type": "volume", "factor": 2, "min_count": 2.5}], "field 'min_count' must be an integer, got 2.5"),
    ([{"name": "a", "type": "spike"}], "rule 'a': field 'type' must be one of"),
    ([{"name": "a", "type": "jump", "z": -1}], "rule 'a': field 'z' must be >= 0, got -1"),
    ([{"name": "a", "type": "jump", "z": 2, "min_history": 0}], "rule 'a': field 'min_history' must be >= 1, got 0"),
    ([{"name": "a", "type": "signal", "signal": "weather", "probability": 0.5}], "rule 'a': field 'signal' must "
                                                                                  "be one of"),
    ([{"name": "a", "type": "signal", "signal": "credit"}], "rule 'a': field 'probability' is required"),
    ([{"name": "a", "type": "volume", "factor": 2, "above": 0.5}], "rule 'a': field 'above' applies to level"),
    ([{"name": "a", "type": "level", "above": 0.5, "colour": "red"}], r"rule 'a': unknown field\(s\) \['colour'\]"),
    ([{"name": "a", "type": "level", "above": 0.5, "index": "vol"}], "rule 'a': field 'index' must be"),
    ([{"name": "a", "type": "level", "above": 0.5, "entities": "AAPL"}], "rule 'a': field 'entities' must be"),
    ([{"name": "a", "type": "level", "above": 0.5, "entities": 5}], "rule 'a': field 'entities' must be a list"),
    ([{"name": "a", "type": "level", "above": 0.5, "entities": {"AAPL": 1}}], "field 'entities' must be a list"),
    ([{"type": "level", "above": 0.5}], "rule #1: field 'name' is required"),
    ([{"name": "a", "type": "level", "above": 0.5}, {"name": "a", "type": "jump", "z": 1}],
     r"rule name\(s\) \['a'\] are used more than once"),
    (["not a mapping"], "rule #1: expected a mapping"),
])
def test_bad_rules_name_the_rule_and_field(rules, message):
    with pytest.raises(ConfigError, match=message):
        parse_rules({"rules": rules}, "r.yaml")


@pytest.mark.parametrize(("raw", "message"), [
    ({"rules": [], "alert": 1}, r"unknown top-level field\(s\) \['alert'\]"),
    ({"rules": [], "alerts": 1}, r"alerts: expected a mapping"),
    ({"rules": [], "alerts": {"burst_hours": -1}}, r"alerts.burst_hours must be >= 0"),
    ({"rules": [], "alerts": {"dashboard_url": "javascript:x"}}, r"alerts.dashboard_url must be an http"),
    ({"index": {"half_life_hours": 0}}, r"index.half_life_hours \(hours\) must be >= 0.001, got 0"),
    ({"drift": {"psi": 2}}, "drift.psi must be <= 1, got 2"),
    ({"drift": {"window": 5}}, r"drift: unknown field\(s\) \['window'\]"),
    ({"webhooks": [{"url": "ftp://x"}]}, "webhook field 'url' must be an http"),
    ({"webhooks": [{"url": "http://x", "max_attempts": 0}]}, "field 'max_attempts' must be >= 1, got 0"),
    ({"webhooks": [{"url": "http://x", "timeout_seconds": float("nan")}]},
     "r.yaml: webhook http://x: field 'timeout_seconds' must be a finite number, got nan"),
    ({"webhooks": [{"url": "http://x", "backoff_seconds": float("inf")}]}, "'backoff_seconds' must be a finite"),
    ({"webhooks": [{"url": "http://x", "timeout_seconds": 1e9}]}, "'timeout_seconds' must be <= 300"),
    ({"index": {"window_hours": float("nan")}}, r"index.window_hours \(hours\) must be a finite number"),
    ({"drift": {"every": 1.5}}, "drift.every must be an integer, got 1.5"),
])
def test_bad_sections(raw, message):
    with pytest.raises(ConfigError, match=message):
        parse_rules(raw, "r.yaml")


def test_unreadable_yaml_names_the_file(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("rules: [unclosed")
    with pytest.raises(ConfigError, match="r.yaml: not valid YAML"):
        load_rules(path)
    with pytest.raises(ConfigError, match="cannot read rules file"):
        load_rules(tmp_path / "missing.yaml")
