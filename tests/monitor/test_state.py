import json

import pytest

from textrisk.errors import DataError
from textrisk.monitor.alerts_file import AlertsFile
from textrisk.monitor.engine import Monitor
from textrisk.monitor.records import DeadLetter, Record, parse_record
from textrisk.monitor.rules import parse_rules
from textrisk.monitor.source import open_source
from textrisk.monitor.state import MonitorState

from ..helpers import FakeAnalyzer

RULES = {"rules": [{"name": "hi", "type": "level", "above": 0.5, "cooldown_hours": 0}], "alerts": {"burst_hours": 0}}


def batch(*ids, text="neg=0.9"):
    return [(Record(id=i, timestamp=float(n), entity="X", text=text), None) for n, i in enumerate(ids)]


def counts(state):
    db = state.db
    return (db.execute("SELECT count(*) FROM documents").fetchone()[0],
            db.execute("SELECT n_docs FROM entities WHERE entity='X'").fetchone()[0],
            db.execute("SELECT count(*) FROM alerts").fetchone()[0])


def test_replayed_and_repeated_ids_count_once(tmp_path):
    analyzer = FakeAnalyzer()
    mon = Monitor(analyzer, MonitorState(tmp_path / "s.db"), parse_rules(RULES), AlertsFile(tmp_path / "a.jsonl"))
    first = mon.process(batch("a", "b", "a"))  # "a" twice in one batch
    assert (first.scored, first.skipped, first.alerts) == (2, 1, 2)
    again = mon.process(batch("b", "a", "c"))
    assert (again.scored, again.skipped, again.alerts) == (1, 2, 1)
    assert counts(mon.state) == (3, 3, 3)
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["hi|X|a", "hi|X|b", "hi|X|c"]


def test_a_record_that_fails_is_dead_lettered_and_the_batch_never_half_committed(tmp_path):
    class Boom(FakeAnalyzer):
        def score(self, texts, progress=None):
            reports = super().score(texts)
            for text, report in zip(texts, reports):
                if "boom" in text:
                    report.sentiment_scores = None  # the engine fails half way through the transaction
            return reports

    mon = Monitor(Boom(), MonitorState(tmp_path / "s.db"), parse_rules(RULES))
    records = batch("a", "b", "c")
    records[1] = (Record(id="b", timestamp=1.0, entity="X", text="neg=0.9 boom", where="in.jsonl line 2"), None)
    result = mon.process(records)  # fails as a batch; retried record by record, in order
    assert (result.scored, result.dead, result.alerts) == (2, 1, 2)
    assert [r[0] for r in mon.state.db.execute("SELECT id FROM documents ORDER BY seq")] == ["a", "c"]
    (where, error), = mon.state.db.execute("SELECT location, error FROM dead_letters").fetchall()
    assert where == "in.jsonl line 2" and "processing failed (AttributeError" in error


def test_alerts_file_reconciles_a_torn_line_and_missing_alerts(tmp_path):
    mon = Monitor(FakeAnalyzer(), MonitorState(tmp_path / "s.db"), parse_rules(RULES))
    mon.process(batch("a", "b", "c"))  # committed, but no alerts file attached: a kill before writing
    path = tmp_path / "a.jsonl"
    first = json.dumps({"id": "hi|X|a", "rule": "hi"})
    path.write_text(first + "\n" + '{"id": "hi|X|b", "tru')  # a torn second line
    written = AlertsFile(path).sync(mon.state, lambda: 0.0)
    assert written == 2
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["hi|X|a", "hi|X|b", "hi|X|c"]
    assert AlertsFile(path).sync(mon.state, lambda: 0.0) == 0


def test_growing_file_is_tailed_by_offset(tmp_path):
    path = tmp_path / "in.jsonl"
    line = json.dumps({"id": 1, "timestamp": "2015-01-02T10:00:00Z", "entity": "AAPL", "text": "up"}) + "\n"
    second = line.replace('"id": 1', '"id": 2')
    path.write_text(line + second[:20])  # a writer is half way through the second line
    source = open_source(str(path))
    got = list(source.poll())
    assert [r.id for r, _ in got] == ["1"] and got[0][0].timestamp == 1420192800.0
    assert (got[0][1].offset, got[0][1].line) == (len(line), 1)
    with path.open("a") as handle:
        handle.write(second[20:])
    assert [r.id for r, _ in source.poll()] == ["2"]  # read once complete, from where the first one ended
    assert list(source.poll()) == []
    resumed = open_source(str(path), [got[0][1].to_row()])  # a restart from the stored position
    assert [r.id for r, _ in resumed.poll()] == ["2"]
    legacy = open_source(str(path), [{"source": str(path.resolve()), "offset": len(line)}])  # a 0.2.0 state
    assert [r.id for r, _ in legacy.poll()] == ["2"]


def test_folder_source_and_bad_lines(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text(json.dumps({"id": "x", "timestamp": 1, "entity": "E", "text": "t"}) + "\n"
                                    + "not json\n" + json.dumps({"id": "y", "timestamp": 2, "entity": "E"}) + "\n")
    source = open_source(str(folder))
    items = [item for item, _ in source.poll()]
    assert items[0].id == "x" and all(isinstance(item, DeadLetter) for item in items[1:])
    assert [item.where for item in items[1:]] == [f"{folder / 'a.jsonl'} line 2", f"{folder / 'a.jsonl'} line 3"]
    assert "not valid JSON" in items[1].error and "missing field(s) ['text']" in items[2].error
    (folder / "b.jsonl").write_text(json.dumps({"id": "z", "timestamp": 3, "entity": "E", "text": "t"}) + "\n")
    assert [r.id for r, _ in source.poll()] == ["z"]


@pytest.mark.parametrize(("line", "message"), [
    ('{"id": 1, "timestamp": "yesterday", "entity": "A", "text": "x"}', "'timestamp' is not an ISO 8601"),
    ('{"id": 1, "timestamp": 1, "entity": "", "text": "x"}', "'entity' must be a non-empty string"),
    ('{"id": [1], "timestamp": 1, "entity": "A", "text": "x"}', "'id' must be a string or an integer"),
    ("[1]", "expected a JSON object"),
])
def test_bad_records_name_the_problem(line, message):
    with pytest.raises(DataError, match=f"f.jsonl line 3: .*{message}"):
        parse_record(line, "f.jsonl line 3")


def test_state_refuses_a_foreign_file(tmp_path):
    bad = tmp_path / "x.db"
    bad.write_text("not sqlite at all, just text" * 100)
    with pytest.raises(DataError, match="is not a textrisk monitor state"):
        MonitorState(bad)
    with pytest.raises(DataError, match="does not exist"):
        MonitorState(tmp_path / "none.db", readonly=True)
