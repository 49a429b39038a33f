"""``textrisk monitor`` / ``dashboard`` against hostile input: poison records, paths that are not theirs, absurd
options, a read-only or foreign state. Each gives a dead letter or a one-line error naming the problem; nothing
is lost, nothing stuck, no file touched that the command does not own."""

import json
import math
import sqlite3
import time

import pytest

from textrisk.cli import main
from textrisk.errors import DataError
from textrisk.monitor.engine import Monitor, alert_id
from textrisk.monitor.records import Record
from textrisk.monitor.rules import parse_rules
from textrisk.monitor.state import MonitorState

from ..helpers import FakeAnalyzer

GOOD = {"timestamp": "2024-01-01T10:00:00Z", "entity": "NOK", "text": "Nokia cuts its outlook."}
POISON = [  # (line, the problem its dead letter names)
    (json.dumps({**GOOD, "id": "p1", "timestamp": math.nan}), "'timestamp' must be a finite number"),
    (json.dumps({**GOOD, "id": "p2", "text": "bad \ud800"}), "'text' holds a lone surrogate"),
    (json.dumps({**GOOD, "id": "p3\ud800"}), "'id' holds a lone surrogate"),
    (json.dumps({**GOOD, "id": "p4", "entity": "N\udc00"}), "'entity' holds a lone surrogate"),
    (json.dumps({**GOOD, "id": "p5", "timestamp": 1e20}), "outside 1900-01-01 .. 2100-01-01"),
    (json.dumps({**GOOD, "id": "p6", "timestamp": 1704103200000}), "looks like milliseconds"),
    (json.dumps({**GOOD, "id": "p7", "timestamp": "2024-01-01T10:00:00"}), "with no UTC offset"),
    (json.dumps({**GOOD, "id": "p8", "timestamp": "2099-01-01T00:00:00Z"}), "in the future"),
    (b'{"id": "p9", "timestamp": 1, "entity": "E", "text": "bytes \xff"}', "is not valid utf-8"),
    ('{"id": "p10", "timestamp": 1', "not valid JSON"),
]


def _stream(path):
    data = b""
    for n, (line, _) in enumerate(POISON):
        data += json.dumps({**GOOD, "id": f"g{n}"}).encode() + b"\n"
        data += (line if isinstance(line, bytes) else line.encode()) + b"\n"
    path.write_bytes(data)


def test_poison_records_are_dead_lettered_once_and_the_stream_goes_on(tiny_model_dir, tmp_path, capsys):
    _stream(tmp_path / "in.jsonl")
    args = ["monitor", "--input", str(tmp_path / "in.jsonl"), "--state", str(tmp_path / "s.db"), "--alerts",
            str(tmp_path / "a.jsonl"), "--model", str(tiny_model_dir), "--once", "--quiet", "--batch-size", "4"]
    assert main(args) == 0
    assert "10 dead-lettered (see" in capsys.readouterr().err
    db = sqlite3.connect(tmp_path / "s.db")
    assert [r[0] for r in db.execute("SELECT id FROM documents ORDER BY seq")] == [f"g{n}" for n in range(10)]
    letters = [json.loads(line) for line in (tmp_path / "a.dead-letter.jsonl").read_text().splitlines()]
    assert [d["seq"] for d in letters] == list(range(1, 11))
    for letter, (_, problem), n in zip(letters, POISON, range(2, 21, 2)):
        assert letter["location"].endswith(f"in.jsonl line {n}") and problem in letter["error"], letter
    assert main(args) == 0  # a restart: nothing again, nothing stuck
    assert len((tmp_path / "a.dead-letter.jsonl").read_text().splitlines()) == 10
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 10


@pytest.fixture
def files(tmp_path):
    (tmp_path / "in.jsonl").write_text(json.dumps({**GOOD, "id": "a"}) + "\n")
    (tmp_path / "notes.txt").write_text("my notes\nline two without a newline")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "x.jsonl").write_text(json.dumps({**GOOD, "id": "b"}) + "\n")
    app = sqlite3.connect(tmp_path / "app.db")
    app.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    app.commit()
    app.close()
    return tmp_path


def _contents(folder):
    return {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("options", "message"), [
    (["--alerts", "notes.txt"], "--alerts 'notes.txt' line 1 is not an alert"),
    (["--alerts", "in.jsonl"], "--alerts 'in.jsonl' is the --input file"),
    (["--alerts", "s.db"], "--alerts 's.db' is the --state file"),
    (["--alerts", "a.jsonl", "--dead-letter", "in.jsonl"], "--dead-letter 'in.jsonl' is the --input file"),
    (["--alerts", "a.jsonl", "--dead-letter", "notes.txt"], "--dead-letter 'notes.txt' line 1 is not a dead letter"),
    (["--alerts", "a.jsonl", "--dead-letter", "a.jsonl"], "--alerts 'a.jsonl' is the --dead-letter file"),
    (["--alerts", "a.jsonl", "--state", "in.jsonl"], "--state 'in.jsonl' is the --input file"),
    (["--alerts", "a.jsonl", "--state", "app.db"], "app.db is not a textrisk monitor state: it holds other tables "
                                                   "(users)"),
    (["--alerts", "a.jsonl", "--state", "notes.txt"], "notes.txt is not a textrisk monitor state"),
    (["--alerts", "folder/alerts.jsonl", "--input", "folder"], "lies in the --input folder"),
    (["--alerts", "a.jsonl", "--poll-seconds", "-1"], "argument --poll-seconds: must be >= 0.01, got -1.0"),
    (["--alerts", "a.jsonl", "--poll-seconds", "nan"], "argument --poll-seconds: must be a finite number, got nan"),
    (["--alerts", "a.jsonl", "--batch-size", "0"], "argument --batch-size: must be >= 1, got 0"),
    (["--alerts", "a.jsonl", "--encoding", "utf-16"], "UTF-16/32 files cannot be split on newline bytes"),
    (["--alerts", "a.jsonl", "--encoding", "klingon"], "unknown encoding 'klingon'"),
])
def test_paths_and_options_that_are_not_the_monitors_are_refused(files, tiny_model_dir, monkeypatch, capsys,
                                                                  options, message):
    monkeypatch.chdir(files)
    before = _contents(files)
    args = ["monitor", "--input", "in.jsonl", "--state", "s.db", *options, "--model", str(tiny_model_dir), "--once"]
    with pytest.raises(SystemExit) if "argument" in message else _no_raise():
        assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert _contents(files) == {k: v for k, v in _contents(files).items() if k in before} == before


class _no_raise:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize(("options", "message"), [
    (["--export", "s.db"], "--export 's.db' is the --state file"),
    (["--export", "notes.txt"], "--export 'notes.txt' exists and is not a dashboard export"),
    (["--export", "folder"], "--export 'folder' is a folder"),
])
def test_dashboard_export_never_overwrites_what_it_did_not_write(files, monkeypatch, capsys, options, message):
    monkeypatch.chdir(files)
    MonitorState("s.db").close()
    before = _contents(files)
    assert main(["dashboard", "--state", "s.db", *options]) == 2
    assert message in capsys.readouterr().err and _contents(files) == before
    assert main(["dashboard", "--state", "s.db", "--export", "r.html"]) == 0
    assert main(["dashboard", "--state", "s.db", "--export", "r.html"]) == 0  # its own export: replaced


def test_a_read_only_state_is_named(tmp_path, monkeypatch):
    import textrisk.monitor.database as database

    MonitorState(tmp_path / "s.db").close()
    real = database.sqlite3.connect

    def read_only(path, *args, **kwargs):  # what a file the user cannot write gives (tests may run as root)
        if str(path).startswith("file:"):
            return real(path, *args, **kwargs)
        return real(f"file:{path}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(database.sqlite3, "connect", read_only)
    with pytest.raises(DataError, match=r"s.db is read-only \(attempt to write a readonly database\)"):
        MonitorState(tmp_path / "s.db")


def test_a_state_of_an_older_textrisk_gets_the_new_columns(tmp_path):
    db = sqlite3.connect(tmp_path / "s.db")
    db.execute('CREATE TABLE offsets (source TEXT PRIMARY KEY, "offset" BIGINT NOT NULL)')
    db.execute("INSERT INTO offsets VALUES ('/x/in.jsonl', 10)")
    db.commit()
    db.close()
    state = MonitorState(tmp_path / "s.db")
    assert state.offsets() == [{"source": "/x/in.jsonl", "offset": 10, "path": None, "head": None, "line": None,
                                "mark": None, "rank": None, "first_read": None}]
    assert state.meta("format") == "textrisk-monitor-1"
    state.close()


def test_alert_ids_cannot_collide_and_are_ascii(tmp_path):
    assert alert_id("hi", "A|B", "c") != alert_id("hi", "A", "B|c")
    assert alert_id("hi", "Société", "n1") == "hi|Soci%C3%A9t%C3%A9|n1" and alert_id("hi", "X", "d0") == "hi|X|d0"
    rules = parse_rules({"rules": [{"name": "hi", "type": "level", "above": 0.5, "cooldown_hours": 0}]})
    mon = Monitor(FakeAnalyzer(), MonitorState(tmp_path / "s.db"), rules, clock=time.time)
    mon.process([(Record("c", 1.0, "A|B", "neg=0.9"), None), (Record("B|c", 2.0, "A", "neg=0.9"), None)])
    assert mon.state.db.execute("SELECT count(*) FROM alerts").fetchone()[0] == 2


def test_the_same_model_spelled_another_way_is_the_same_model(tiny_model_dir, tmp_path, monkeypatch, capsys):
    """Identity is the model's content hash (textrisk.models.identity), not its --model string."""
    (tmp_path / "in.jsonl").write_text(json.dumps({**GOOD, "id": "a"}) + "\n")
    base = ["monitor", "--input", str(tmp_path / "in.jsonl"), "--state", str(tmp_path / "s.db"), "--alerts",
            str(tmp_path / "a.jsonl"), "--once", "--quiet", "--model"]
    assert main([*base, str(tiny_model_dir)]) == 0
    monkeypatch.chdir(tiny_model_dir.parent)
    assert main([*base, f"./{tiny_model_dir.name}/"]) == 0
    assert "holds documents scored with model" not in capsys.readouterr().err
