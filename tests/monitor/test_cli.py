"""``textrisk monitor`` / ``textrisk dashboard`` end to end with tiny real models (with and without a risk head)."""

import json
import sqlite3

from textrisk.cli import main
from textrisk.labels.taxonomy import RISK_LABELS

from .fake_monitor import stream


def test_signal_rules_with_a_risk_head_model(risk_model_dir, tmp_path):
    stream(tmp_path / "in.jsonl")
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - {name: any-credit, type: signal, signal: credit, probability: 0.0, cooldown_hours: 0}\n"
        "  - {name: lvl, type: level, above: 0.0, cooldown_hours: 0}\nalerts: {burst_hours: 0}\n")
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
    assert "Plotly.newPlot" in (tmp_path / "r.html").read_text()


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


def test_the_state_is_bound_to_the_models_content_not_its_name(tiny_model_dir, risk_model_dir, tmp_path, capsys):
    import shutil

    from textrisk.models.identity import model_identity
    from textrisk.monitor.state import MonitorState
    from textrisk.scoring.analyzer import RiskAnalyzer

    stream(tmp_path / "in.jsonl", 4)
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    args = ["monitor", "--input", str(tmp_path / "in.jsonl"), "--state", str(tmp_path / "s.db"), "--alerts",
            str(tmp_path / "a.jsonl"), "--model", str(folder), "--once", "--quiet"]
    assert main(args) == 0
    state = MonitorState(tmp_path / "s.db", readonly=True)
    assert state.meta("model_sha256") == model_identity(RiskAnalyzer.from_pretrained(folder).model)
    state.close()
    shutil.rmtree(folder)
    shutil.copytree(risk_model_dir, folder)  # a new model under the same name
    assert main(args) == 2
    assert "holds documents scored with model" in capsys.readouterr().err


def test_a_state_of_textrisk_0_1_is_adopted_under_its_name_only(tiny_model_dir, tmp_path, capsys):
    from textrisk.monitor.state import MonitorState

    stream(tmp_path / "in.jsonl", 4)
    for name, recorded in (("same", str(tiny_model_dir)), ("other", "embedded default")):
        state = MonitorState(tmp_path / f"{name}.db")
        with state.transaction():
            state.set_meta("model", recorded)  # what 0.1 wrote: the --model string
        state.close()
    base = ["--input", str(tmp_path / "in.jsonl"), "--alerts", str(tmp_path / "a.jsonl"), "--model",
            str(tiny_model_dir), "--once", "--quiet"]
    assert main(["monitor", "--state", str(tmp_path / "same.db"), *base]) == 0
    assert "written by textrisk 0.1, which recorded the model by name only" in capsys.readouterr().err
    assert MonitorState(tmp_path / "same.db", readonly=True).meta("model_sha256")
    assert main(["monitor", "--state", str(tmp_path / "other.db"), *base]) == 2
    assert "holds documents scored with model 'embedded default'" in capsys.readouterr().err
