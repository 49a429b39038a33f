"""Alerts worth reading: jump floors, severity, burst de-duplication, and an alert record a desk can act on."""

import json
import math

import pytest

from textrisk.monitor.alerts_file import AlertsFile
from textrisk.monitor.engine import Monitor
from textrisk.monitor.records import DeadLetter, Record, parse_line
from textrisk.monitor.rules import Rule, parse_rules
from textrisk.monitor.state import MonitorState
from textrisk.monitor.triage import DocumentRisk, rounded, severity

from ..helpers import FakeAnalyzer

HOUR = 3600.0


def _monitor(tmp_path, rules, signals=False):
    return Monitor(FakeAnalyzer(signals=signals), MonitorState(tmp_path / "s.db"), parse_rules(rules),
                   AlertsFile(tmp_path / "a.jsonl"))


def _records(texts, entity="XOM", start=1.42e9, step=HOUR):
    return [(Record(id=f"d{i}", timestamp=start + step * i, entity=entity, text=text), None)
            for i, text in enumerate(texts)]


def _written(tmp_path):
    path = tmp_path / "a.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _stored(mon):
    return mon.state.db.execute("SELECT rule, severity, burst_of FROM alerts ORDER BY seq").fetchall()


@pytest.mark.parametrize(("floors", "fires"), [({}, False), ({"min_change": 0, "min_std": 0}, True)])
def test_a_jump_on_a_near_constant_index_needs_the_floors_to_be_turned_off(tmp_path, floors, fires):
    # the index sits at ~0.0126 with a spread of ~1e-4, then moves by 0.01: z ~ 50, but nothing happened
    texts = [f"neg={0.0126 + 0.0001 * (i % 3):.4f}" for i in range(30)] + ["neg=0.05"]
    rule = {"name": "jump", "type": "jump", "z": 3.0, "min_history": 20, **floors}
    mon = _monitor(tmp_path, {"rules": [rule], "index": {"half_life_hours": 1}})
    mon.process(_records(texts))
    alerts = _written(tmp_path)
    assert bool(alerts) is fires
    if fires:
        assert alerts[0]["detail"]["zscore"] > 20 and alerts[0]["detail"]["change"] < 0.05


def test_a_real_jump_fires_with_the_default_floors(tmp_path):
    texts = [f"neg={0.1 + 0.02 * (i % 3):.2f}" for i in range(30)] + ["neg=0.9"]
    mon = _monitor(tmp_path, {"rules": [{"name": "jump", "type": "jump", "z": 3.0}],
                              "index": {"half_life_hours": 1}})
    mon.process(_records(texts))
    (alert,) = _written(tmp_path)
    detail = alert["detail"]
    assert detail["change"] >= 0.1 and detail["zscore"] >= 3 and detail["min_change"] == 0.1
    assert alert["summary"].startswith("risk index 0.") and "z " in alert["summary"]


@pytest.mark.parametrize(("rule", "detail", "doc", "level", "words"), [
    (Rule(name="l", type="level", above=0.6), {"value": 0.65}, DocumentRisk(0.55, None, False), 2, "adverse"),
    (Rule(name="l", type="level", above=0.6), {"value": 0.85}, DocumentRisk(0.55, None, False), 3, "well over"),
    (Rule(name="l", type="level", above=0.6), {"value": 0.65}, DocumentRisk(0.3, None, False), 1, ""),
    (Rule(name="s", type="signal", signal="credit", probability=0.8), {"probability": 0.996},
     DocumentRisk(0.05, 0.4, True), 1, "benign"),  # "bad loans are improving": the judgement says benign
    (Rule(name="s", type="signal", signal="credit", probability=0.8), {"probability": 0.996},
     DocumentRisk(0.9, 2.6, True), 3, "severity 2.6"),
    (Rule(name="s", type="signal", signal="credit", probability=0.8), {"probability": 0.85},
     DocumentRisk(0.9, 1.0, True), 1, ""),  # adverse but minor: no extra point
    (Rule(name="j", type="jump", z=3), {"zscore": 3.5, "change": 0.25}, DocumentRisk(0.4, None, False), 2, "jump"),
    (Rule(name="v", type="volume", factor=3), {"count": 30, "baseline": 2.0}, DocumentRisk(0.3, None, False), 2,
     "30 documents"),
])
def test_severity_reads_the_rule_size_and_the_document(rule, detail, doc, level, words):
    got, reasons = severity(rule, detail, doc)
    assert got == level
    assert words in " ".join(reasons)


def test_all_rules_of_one_document_make_one_alert_and_a_burst_folds_into_it(tmp_path):
    rules = {"rules": [{"name": "hi", "type": "level", "above": 0.5, "cooldown_hours": 0},
                       {"name": "credit", "type": "signal", "signal": "credit", "probability": 0.8,
                        "cooldown_hours": 0}]}
    mon = _monitor(tmp_path, rules, signals=True)
    mon.process(_records(["neg=0.9 credit=0.95 first", "neg=0.9 credit=0.95 second", "neg=0.9 credit=0.95 third"]))
    alerts = _written(tmp_path)
    assert len(alerts) == 1  # three documents within 6 hours, two rules on the first: one alert
    lead = alerts[0]
    assert lead["also"] and lead["also"][0]["rule"] in ("hi", "credit") and lead["burst_of"] is None
    stored = _stored(mon)
    assert len(stored) == 6 and sum(row[2] is None for row in stored) == 1
    assert all(row[2] == lead["id"] for row in stored if row[2] is not None)
    # seven hours later: a new burst, a new alert
    mon.process([(Record("d9", 1.42e9 + 9 * HOUR, "XOM", "neg=0.9 credit=0.95 later"), None)])
    assert len(_written(tmp_path)) == 2


def test_a_more_severe_alert_escalates_out_of_a_burst(tmp_path):
    rules = {"rules": [{"name": "hi", "type": "level", "above": 0.5, "cooldown_hours": 0}]}
    mon = _monitor(tmp_path, rules)
    # the index crosses 0.5 on negative documents (medium), then a very adverse one arrives (high)
    mon.process(_records(["neg=0.7", "neg=0.7", "adverse=0.95 sev=2.8 neg=0.99"], step=HOUR / 4))
    alerts = _written(tmp_path)
    assert [a["severity"] for a in alerts] == [2, 3]
    assert alerts[1]["escalates"] == alerts[0]["id"]


def test_burst_hours_0_keeps_every_rule_alert(tmp_path):
    rules = {"rules": [{"name": "hi", "type": "level", "above": 0.5, "cooldown_hours": 0}],
             "alerts": {"burst_hours": 0}}
    mon = _monitor(tmp_path, rules)
    mon.process(_records(["neg=0.9"] * 4))
    assert len(_written(tmp_path)) == 4


def test_the_alert_record_carries_the_document_its_evidence_and_links(tmp_path):
    rules = {"rules": [{"name": "hi", "type": "level", "above": 0.5}],
             "alerts": {"dashboard_url": "http://desk.internal:8765/", "text_chars": 40}}
    mon = _monitor(tmp_path, rules)
    text = "adverse=0.8333333333333 sev=2.2 neg=0.9123456789 " + "The bank missed a coupon payment. " * 5
    mon.process([(Record("n/1", 1.42e9, "BANK A", text, url="https://news.example/n1"), None)])
    (alert,) = _written(tmp_path)
    document = alert["document"]
    assert document["text"] == text[:40] and document["truncated"] is True
    assert document["url"] == "https://news.example/n1"
    assert document["risk_score"] == 0.8333 and document["severity"] == 2.2 and document["kind"] == "event"
    assert alert["link"] == "http://desk.internal:8765/entity/BANK%20A#doc-n%2F1"
    assert alert["time"] == "2014-12-31T04:26:40Z" and alert["severity_label"] in ("medium", "high")
    assert alert["severity_reasons"] and "adverse risk 0.83" in " ".join(alert["severity_reasons"])

    def digits(value):
        return [v for v in (value.values() if isinstance(value, dict) else value)
                if isinstance(v, float) and len(repr(v).split(".")[-1]) > 6]

    assert not digits(alert["detail"]) and not digits(document)


def test_rounded_keeps_four_significant_digits():
    assert rounded({"a": 0.012634567, "b": [123.456789, 0.0], "c": "x", "d": math.inf}) == \
        {"a": 0.01263, "b": [123.5, 0.0], "c": "x", "d": math.inf}


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://x", "https://a b", 5, "https://" + "x" * 3000])
def test_a_bad_url_is_a_dead_letter_naming_the_field(url):
    line = json.dumps({"id": 1, "timestamp": 1.42e9, "entity": "X", "text": "t", "url": url}).encode()
    letter = parse_line(line, "in.jsonl", 3)
    assert isinstance(letter, DeadLetter) and "in.jsonl line 3: field 'url'" in letter.error


def test_a_good_url_is_kept():
    line = json.dumps({"id": 1, "timestamp": 1.42e9, "entity": "X", "text": "t", "url": "https://a.example/b"})
    assert parse_line(line.encode(), "in.jsonl", 1).url == "https://a.example/b"
