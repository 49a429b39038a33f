import numpy as np
import pytest

from textrisk.data.inputs import script_of
from textrisk.monitor.drift import DriftConfig, compare, js_distance, ks, psi
from textrisk.monitor.engine import MODEL_ENTITY, Monitor
from textrisk.monitor.records import Record
from textrisk.monitor.rules import parse_rules
from textrisk.monitor.state import MonitorState

from ..helpers import FakeAnalyzer


def test_psi_by_hand_and_on_shifts():
    reference = np.arange(100, dtype=float)  # 10 reference-decile bins of 10 each
    current = np.concatenate([np.full(50, 5.0), np.full(50, 95.0)])  # half in the first bin, half in the last
    p = np.full(10, 0.1)
    q = np.full(10, 1e-4)
    q[0] = q[-1] = 0.5
    assert psi(reference, current) == pytest.approx(float(np.sum((q - p) * np.log(q / p))))
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, 2000)
    assert psi(base, rng.normal(0, 1, 2000)) < 0.05
    assert psi(base, rng.normal(1, 1, 2000)) > 0.5


def test_ks_and_js_on_constructed_shifts():
    rng = np.random.default_rng(1)
    base = rng.normal(0, 1, 1000)
    stat, p_same = ks(base, rng.normal(0, 1, 1000))
    assert p_same > 0.01
    stat, p_moved = ks(base, rng.normal(0.5, 1, 1000))
    assert p_moved < 1e-10 and stat > 0.15
    assert js_distance(["a"] * 50 + ["b"] * 50, ["b"] * 50 + ["a"] * 50) == pytest.approx(0.0)
    assert js_distance(["a"] * 100, ["b"] * 100) == pytest.approx(1.0)
    # JS distance base 2 of (0.5, 0.5) vs (0.9, 0.1) by hand
    p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    m = (p + q) / 2
    kl = lambda a, b: float(np.sum(a * np.log2(a / b)))  # noqa: E731
    assert js_distance(["a", "b"] * 50, ["a"] * 90 + ["b"] * 10) == pytest.approx(np.sqrt((kl(p, m) + kl(q, m)) / 2))


def test_script_detection():
    assert script_of("Nokia cuts jobs") == "latin"
    assert script_of("腾讯 股价 下跌 and") == "cjk"
    assert script_of("Газпром снизил прогноз") == "cyrillic"
    assert script_of("1234 !!") == "none"


def test_compare_flags_only_the_shifted_features():
    rng = np.random.default_rng(2)
    reference = {"length": list(rng.integers(10, 30, 400)), "p_negative": list(rng.uniform(0, 0.3, 400)),
                 "script": ["latin"] * 400, "sentiment": ["neutral"] * 300 + ["negative"] * 100}
    current = {"length": list(rng.integers(10, 30, 400)), "p_negative": list(rng.uniform(0.5, 1.0, 400)),
               "script": ["latin"] * 200 + ["cjk"] * 200, "sentiment": ["neutral"] * 300 + ["negative"] * 100}
    results = {r["feature"]: r for r in compare(reference, current, DriftConfig())}
    assert results["p_negative"]["drift"] and results["script"]["drift"]
    assert not results["length"]["drift"] and not results["sentiment"]["drift"]


def test_monitor_raises_drift_alerts_when_the_stream_changes(tmp_path):
    rules = parse_rules({"drift": {"reference_size": 60, "window_size": 40, "every": 20, "cooldown_docs": 1000}})
    mon = Monitor(FakeAnalyzer(), MonitorState(tmp_path / "s.db"), rules)
    rng = np.random.default_rng(3)
    calm = [f"neg={rng.uniform(0, 0.3):.3f} quarterly results in line" for _ in range(100)]
    stormy = [f"neg={rng.uniform(0.6, 1):.3f} 利润 警告 暴跌 公司 股价 大幅 下跌" for _ in range(60)]
    batch = [(Record(id=str(i), timestamp=float(i), entity="E", text=t), None)
             for i, t in enumerate(calm + stormy)]
    mon.process(batch)
    db = mon.state.db
    checks = [r[0] for r in db.execute("SELECT DISTINCT seq_end FROM drift ORDER BY seq_end")]
    assert checks == [100, 120, 140, 160]
    first = {r["feature"]: r["drift"] for r in db.execute("SELECT * FROM drift WHERE seq_end = 100")}
    assert not any(first.values())  # the window still looks like the reference
    fired = {r["rule"] for r in db.execute("SELECT rule FROM alerts WHERE entity = ?", (MODEL_ENTITY,))}
    assert {"drift-p_negative", "drift-script", "drift-sentiment"} <= fired
    per_rule = db.execute("SELECT rule, count(*) FROM alerts GROUP BY rule HAVING count(*) > 1").fetchall()
    assert per_rule == []  # the cooldown holds repeats back
