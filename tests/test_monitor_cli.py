"""``textrisk monitor`` / ``textrisk dashboard`` end to end with tiny real models (with and without a risk head)."""

import json
import sqlite3

from textrisk.cli import main
from textrisk.labels.taxonomy import RISK_LABELS

from .conftest import SENTENCES


def stream(path, n=24):
    with path.open("w") as handle:
        for i in range(n):
            handle.write(json.dumps({"id": f"n{i}", "timestamp": f"2015-03-0{1 + i % 5}T1{i % 10}:00:00Z",
                                     "entity": ["NOK", "AAPL"][i % 2], "text": SENTENCES[i % len(SENTENCES)]})
                         + "\n")


def test_signal_rules_with_a_risk_head_model(risk_model_dir, tmp_path):
    stream(tmp_path / "in.jsonl")
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - {name: any-credit, type: signal, signal: credit, probability: 0.0, cooldown_hours: 0}\n"
        "  - {name: lvl, type: level, above: 0.0, cooldown_hours: 0}\n")
    args = ["monitor", "--input", str(tmp_path / "in.jsonl"), "--state", str(tmp_path / "s.db"),
            "--alerts", str(tmp_path / "a.jsonl"), "--rules", str(tmp_path / "rules.yaml"),
            "--model", str(risk_model_dir), "--once", "--batch-size", "5"]
    assert main(args) == 0
    db = sqlite3.connect(tmp_path / "s.db")
    rows = db.execute("SELECT risk_score, risk_value, p_negative, signals FROM documents").fetchall()
    assert len(rows) == 24
    for risk_score, risk_value, p_negative, signals in rows:
        assert risk_score is not None and risk_value == risk_score and risk_score <= p_negative
        assert set(json.loads(signals)) == set(RISK_LABELS)
    alerts = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert sum(a["rule"] == "any-credit" for a in alerts) == 24 and sum(a["rule"] == "lvl" for a in alerts) == 24
    assert main(args) == 0  # a rerun adds nothing
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 48
    assert main(["dashboard", "--state", str(tmp_path / "s.db"), "--export", str(tmp_path / "r.html")]) == 0
    assert "<svg" in (tmp_path / "r.html").read_text()


def test_user_errors_exit_2_with_one_line(tiny_model_dir, risk_model_dir, tmp_path, capsys):
    stream(tmp_path / "in.jsonl", 4)
    (tmp_path / "rules.yaml").write_text("rules:\n  - {name: cr, type: signal, signal: credit, probability: 0.5}\n")
    base = ["monitor", "--input", str(tmp_path / "in.jsonl"), "--state", str(tmp_path / "s.db"),
            "--alerts", str(tmp_path / "a.jsonl"), "--model", str(tiny_model_dir), "--once"]
    assert main([*base, "--rules", str(tmp_path / "rules.yaml")]) == 2
    assert "rule(s) ['cr']: signal rules need a model with a risk head" in capsys.readouterr().err
    (tmp_path / "rules.yaml").write_text("rules:\n  - {name: x, type: level}\n")
    assert main([*base, "--rules", str(tmp_path / "rules.yaml")]) == 2
    assert "rule 'x': field 'above' is required" in capsys.readouterr().err
    assert main([*base[:2], str(tmp_path / "nope.jsonl"), *base[3:]]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["dashboard", "--state", str(tmp_path / "missing.db"), "--export", str(tmp_path / "r.html")]) == 2
    assert "run textrisk monitor first" in capsys.readouterr().err
    assert main(base) == 0  # sentiment-only model, default rules: P(negative) feeds the index
    db = sqlite3.connect(tmp_path / "s.db")
    assert db.execute("SELECT count(*) FROM documents WHERE risk_score IS NULL AND risk_value = p_negative"
                      ).fetchone()[0] == 4
    other = [*base[:-2], str(risk_model_dir), "--once"]
    assert main(other) == 2  # indices must not mix models
    assert "holds documents scored with model" in capsys.readouterr().err
