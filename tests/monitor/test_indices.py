import math

import numpy as np
import pytest

from textrisk.errors import ConfigError
from textrisk.monitor.engine import Monitor
from textrisk.monitor.indices import EntityIndex, document_risk
from textrisk.monitor.records import Record
from textrisk.monitor.rules import parse_rules
from textrisk.monitor.state import MonitorState

from ..helpers import FakeAnalyzer

H = 3600.0


def records(*items):
    """(id, hours, entity, text) tuples -> batch of (record, position)."""
    return [(Record(id=i, timestamp=h * H, entity=e, text=t), None) for n, (i, h, e, t) in enumerate(items)]


def monitor(tmp_path, rules, signals=False):
    return Monitor(FakeAnalyzer(signals=signals), MonitorState(tmp_path / "s.db"), parse_rules(rules),
                   clock=lambda: 1e6)


def test_ew_index_by_hand():
    index = EntityIndex("A")
    assert index.update(0.0, 0.2, False, H) == (pytest.approx(0.2), None)
    value, _ = index.update(H, 0.8, True, H)  # one half-life later: old weight 0.5
    assert value == pytest.approx((0.5 * 0.2 + 0.8) / 1.5)
    assert index.negative_share == pytest.approx(1 / 1.5)
    value, _ = index.update(3 * H, 0.5, False, H)  # two half-lives later: old weights x 0.25
    assert value == pytest.approx((0.25 * (0.5 * 0.2 + 0.8) + 0.5) / (0.25 * 1.5 + 1))
    assert index.negative_share == pytest.approx(0.25 * 1 / (0.25 * 1.5 + 1))
    assert index.first_ts == 0 and index.last_ts == 3 * H and index.n_docs == 3


def test_zscore_against_the_history_before_the_document():
    rng = np.random.default_rng(0)
    index, seen = EntityIndex("A"), []
    for step, x in enumerate(rng.uniform(0, 1, 30)):
        before = index.risk if index.n_docs else None
        if before is not None:
            seen.append(before)
        value, z = index.update(step * H, float(x), False, 6 * H)
        if len(seen) >= 2:
            assert z == pytest.approx((value - np.mean(seen)) / np.std(seen, ddof=1))
        else:
            assert z is None


def test_document_risk_uses_risk_score_else_p_negative():
    assert document_risk(0.3, 0.9) == 0.3
    assert document_risk(None, 0.9) == 0.9


def test_monitor_index_columns_match_hand_computation(tmp_path):
    mon = monitor(tmp_path, {"index": {"half_life_hours": 2}})
    mon.process(records(("a", 0, "X", "neg=0.9"), ("b", 2, "X", "neg=0.3"), ("c", 1, "Y", "neg=0.2")))
    rows = {r["id"]: r for r in mon.state.db.execute("SELECT * FROM documents")}
    assert rows["a"]["risk_index"] == pytest.approx(0.9)  # sentiment-only model: P(negative)
    assert rows["b"]["risk_index"] == pytest.approx((0.5 * 0.9 + 0.3) / 1.5)
    assert rows["b"]["neg_index"] == pytest.approx(0.5 / 1.5)
    assert rows["c"]["risk_index"] == pytest.approx(0.2) and rows["a"]["risk_score"] is None


def test_risk_head_model_feeds_risk_score(tmp_path):
    mon = monitor(tmp_path, {}, signals=True)
    mon.process(records(("a", 0, "X", "neg=0.8 credit=0.5 macro=0.5")))
    row = mon.state.db.execute("SELECT risk_score, risk_index, flags FROM documents").fetchone()
    assert row["risk_score"] == pytest.approx(0.8 * (1 - 0.5 * 0.5))
    assert row["risk_index"] == pytest.approx(row["risk_score"])
    assert row["flags"] == '["credit", "macro"]'


def alert_ids(mon):
    return [r[0] for r in mon.state.db.execute("SELECT id FROM alerts ORDER BY seq")]


def test_level_rule_min_docs_and_cooldown(tmp_path):
    mon = monitor(tmp_path, {"index": {"half_life_hours": 1000},
                             "rules": [{"name": "hi", "type": "level", "above": 0.6, "min_docs": 2,
                                        "cooldown_hours": 10}]})
    mon.process(records(("a", 0, "X", "neg=0.9"), ("b", 1, "X", "neg=0.9"), ("c", 5, "X", "neg=0.9"),
                        ("d", 11.5, "X", "neg=0.9"), ("e", 12, "Y", "neg=0.1")))
    assert alert_ids(mon) == ["hi|X|b", "hi|X|d"]  # a: min_docs; c: cooldown; e: under the level


def test_jump_rule(tmp_path):
    mon = monitor(tmp_path, {"index": {"half_life_hours": 1},
                             "rules": [{"name": "j", "type": "jump", "z": 3, "min_history": 5}]})
    calm = [(f"d{i}", i * 10, "X", f"neg={0.1 + 0.01 * (i % 3)}") for i in range(8)]
    mon.process(records(*calm, ("spike", 81, "X", "neg=0.95")))
    assert alert_ids(mon) == ["j|X|spike"]
    z = mon.state.db.execute("SELECT zscore FROM documents WHERE id='spike'").fetchone()[0]
    assert z >= 3


def test_signal_rule_needs_probability_and_window_count(tmp_path):
    mon = monitor(tmp_path, {"index": {"window_hours": 10},
                             "rules": [{"name": "cr", "type": "signal", "signal": "credit", "probability": 0.8,
                                        "min_count": 2, "cooldown_hours": 0}]}, signals=True)
    mon.process(records(("a", 0, "X", "credit=0.9"), ("b", 1, "X", "credit=0.7"), ("c", 2, "X", "credit=0.85"),
                        ("d", 30, "X", "credit=0.95")))
    assert alert_ids(mon) == ["cr|X|c"]  # a: one flagged in window; b: under 0.8; d: alone


def test_signal_rules_refuse_a_sentiment_only_model(tmp_path):
    with pytest.raises(ConfigError, match=r"rule\(s\) \['cr'\]: signal rules need a model with a risk head"):
        monitor(tmp_path, {"rules": [{"name": "cr", "type": "signal", "signal": "credit", "probability": 0.8}]})


def test_volume_spike(tmp_path):
    mon = monitor(tmp_path, {"index": {"window_hours": 10},
                             "rules": [{"name": "v", "type": "volume", "factor": 3, "min_count": 4,
                                        "lookback_windows": 3}]})
    steady = [(f"s{i}", i * 10 + 1, "X", "neg=0.1") for i in range(4)]  # one per window
    burst = [(f"b{i}", 45 + i, "X", "neg=0.1") for i in range(5)]
    mon.process(records(*steady, *burst))
    # b3 (48h) is the 4th document in (38h, 48h]; (8h, 38h] holds 3 in 3 windows: baseline 1, 4 > 3 x 1
    assert alert_ids(mon) == ["v|X|b3"]  # b4: cooldown
    detail = mon.state.alerts_after(0)[0]["detail"]
    assert detail["count"] >= 4 and detail["count"] > 3 * detail["baseline"]
    assert math.isclose(detail["baseline"], 1.0)
