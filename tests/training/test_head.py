import json

import numpy as np
import pytest
from safetensors.torch import load_file

from textrisk import RiskAnalyzer
from textrisk.errors import ConfigError, DataError
from textrisk.training.config import TrainConfig
from textrisk.training.head import train

from ..helpers import needs_data, small_train_config


def _config(base, out, **changes) -> TrainConfig:
    return small_train_config(base, out, **changes)


@needs_data
def test_training_lowers_loss_and_saves_a_loadable_model(tiny_backbone, tmp_path):
    result = train(_config(tiny_backbone, tmp_path / "run"), progress=False)
    assert result.steps == 12  # 86 train rows (96 - 10% dev) / 16 = 6 steps per epoch, 2 epochs
    first, last = np.mean(result.losses[:3]), np.mean(result.losses[-3:])
    assert last < first, f"loss did not fall: {result.losses}"
    assert result.temperature > 0
    analyzer = RiskAnalyzer.from_pretrained(tmp_path / "run")
    assert analyzer.model.config.temperature == pytest.approx(result.temperature)
    card = (tmp_path / "run" / "README.md").read_text()
    assert "CC BY-NC-SA 3.0" in card and "license: cc-by-nc-sa-3.0" in card
    saved = json.loads((tmp_path / "run" / "training_results.json").read_text())
    assert saved["steps"] == 12


@needs_data
def test_interrupted_run_resumes_to_the_same_weights(tiny_bert, tmp_path, crash_at_step):
    reference = train(_config(tiny_bert, tmp_path / "straight"), progress=False)

    restore = crash_at_step(6)
    with pytest.raises(KeyboardInterrupt):
        train(_config(tiny_bert, tmp_path / "resumed"), progress=False)
    restore()
    resumed = train(_config(tiny_bert, tmp_path / "resumed"), progress=False)
    assert resumed.resumed_from_step == 6
    assert resumed.losses == pytest.approx(reference.losses, abs=1e-4)
    a = load_file(tmp_path / "straight" / "adapter_model.safetensors")
    b = load_file(tmp_path / "resumed" / "adapter_model.safetensors")
    for key in a:
        np.testing.assert_allclose(a[key].numpy(), b[key].numpy(), atol=1e-5)
    checkpoints = sorted(p.name for p in (tmp_path / "resumed" / "checkpoints").iterdir())
    assert checkpoints == ["step-0000009", "step-0000012"]  # keep_checkpoints=2, no temporary folders


@needs_data
def test_resume_with_a_changed_config_is_refused(tiny_bert, tmp_path):
    train(_config(tiny_bert, tmp_path / "run", epochs=0.5), progress=False)
    with pytest.raises(ConfigError, match=r"different \['learning_rate'\]"):
        train(_config(tiny_bert, tmp_path / "run", epochs=0.5, learning_rate=1e-3), progress=False)


def test_unknown_label_in_training_file(tiny_bert, tmp_path):
    data = tmp_path / "mine.csv"
    data.write_text("text,label\nProfit rose,positive\nSales fell,catastrophic\n")
    with pytest.raises(DataError, match=r"mine.csv line 3: unknown label 'catastrophic'"):
        train(_config(tiny_bert, tmp_path / "run", train_data=[str(data)]), progress=False)


def test_training_on_a_user_file_with_custom_labels(tiny_bert, tmp_path):
    data = tmp_path / "mine.jsonl"
    rows = [{"text": f"Shares {'rose' if i % 2 else 'fell'} {i}% today", "label": "up" if i % 2 else "down"}
            for i in range(40)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    train(_config(tiny_bert, tmp_path / "run", train_data=[str(data)], labels=["down", "up"], max_train_samples=None,
                  epochs=1.0), progress=False)
    analyzer = RiskAnalyzer.from_pretrained(tmp_path / "run")
    assert analyzer.labels == ["down", "up"]
    assert set(analyzer.score(["Shares rose 3% today"])[0].sentiment_scores) == {"down", "up"}


RISK_ROWS = [
    ("Moody's downgraded the lender after it missed a coupon payment.", ["credit"]),
    ("The company warned that its full-year profit will fall short of guidance.", ["earnings_guidance"]),
    ("Regulators fined the bank EUR 5 mn for money-laundering failures.", ["legal_regulatory"]),
    ("The board proposes a dividend of EUR 0.50 per share.", ["dividend"]),
    ("The group will cut 300 jobs and close its Oulu plant.", ["restructuring"]),
    ("Nordea agreed to acquire the insurer for EUR 1.2 bn.", ["m_and_a"]),
    ("The annual general meeting will be held in Helsinki.", []),
    ("The new terminal opens in May.", []),
]


def _risk_file(path, rows=RISK_ROWS, repeat=4, tag=""):
    path.write_text("".join(json.dumps({"text": f"{t} ({tag}{i})", "labels": labels}) + "\n"
                            for i in range(repeat) for t, labels in rows))
    return str(path)


@needs_data
def test_joint_training_adds_a_risk_head_with_tuned_thresholds(tiny_bert, tmp_path):
    risk = _risk_file(tmp_path / "risk.jsonl")
    dev = _risk_file(tmp_path / "dev.jsonl", repeat=2, tag="dev ")
    labels = ["credit", "earnings_guidance", "legal_regulatory", "dividend", "restructuring", "m_and_a"]
    result = train(_config(tiny_bert, tmp_path / "run", risk_labels=labels, risk_train_data=[risk, dev],
                           risk_dev_data=dev, risk_eval_data=dev, epochs=1.0), progress=False)
    assert result.steps > 0
    assert set(result.risk_metrics) == {"calibration", "dev", "test_threshold_0.5", "test_tuned"}
    analyzer = RiskAnalyzer.from_pretrained(tmp_path / "run")
    assert analyzer.model.config.risk_labels == labels
    assert set(analyzer.model.config.risk_thresholds) == set(labels)
    report = analyzer.score(["Moody's downgraded the lender."])[0]
    assert list(report.risk_signals) == labels
    assert "## Risk signals" in (tmp_path / "run" / "README.md").read_text()


@needs_data
def test_init_from_keeps_labels_and_adds_risk(tiny_bert, tmp_path):
    train(_config(tiny_bert, tmp_path / "first", epochs=0.5), progress=False)
    credit_only = [(text, [x for x in labels if x == "credit"]) for text, labels in RISK_ROWS]
    risk = _risk_file(tmp_path / "risk.jsonl", rows=credit_only)
    result = train(_config(tiny_bert, tmp_path / "second", init_from=str(tmp_path / "first"), risk_labels=["credit"],
                           risk_train_data=[risk], epochs=0.5), progress=False)
    assert result.steps > 0
    assert RiskAnalyzer.from_pretrained(tmp_path / "second").model.config.risk_labels == ["credit"]
    updown = tmp_path / "updown.jsonl"
    updown.write_text("".join(json.dumps({"text": f"Shares moved {i}%", "label": ["down", "up"][i % 2]}) + "\n"
                              for i in range(40)))
    with pytest.raises(ConfigError, match="init_from"):
        train(_config(tiny_bert, tmp_path / "third", init_from=str(tmp_path / "first"), labels=["down", "up"],
                      train_data=[str(updown)]), progress=False)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "a", "labels": ["weather"]}\n', r"line 1: unknown label 'weather'"),
        ('{"text": "a", "labels": ""}\n', r"line 1: label cell is empty"),
        ('{"text": "a", "labels": ["dividend"]}\n', r"line 1: unknown label 'dividend'"),  # not in this taxonomy
        ('{"text": "a"}\n', r"line 1: no 'labels' column"),
    ],
)
def test_bad_risk_training_files(tiny_bert, tmp_path, content, message):
    path = tmp_path / "risk.jsonl"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        train(_config(tiny_bert, tmp_path / "run", risk_labels=["credit", "liquidity"], risk_train_data=[str(path)]),
              progress=False)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"risk_train_data": ["x.jsonl"]}, "need risk_labels"),
        ({"risk_labels": ["credit"]}, "risk_labels needs risk_train_data"),
        ({"risk_labels": ["credit", "credit"], "risk_train_data": ["x"]}, "duplicates"),
    ],
)
def test_risk_config_checks(changes, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(output_dir="x", **changes)


@needs_data
def test_init_from_keeps_the_first_runs_held_out_rows_held_out(tiny_bert, tmp_path):
    from textrisk.training.data import training_data

    first = _config(tiny_bert, tmp_path / "first", epochs=0.5)
    train(first, progress=False)
    first_train, first_dev, _ = training_data(first)
    second = _config(tiny_bert, tmp_path / "second", init_from=str(tmp_path / "first"), epochs=0.5)
    second_train, second_dev, _ = training_data(second)
    assert set(second_dev["text"]) == set(first_dev["text"])
    assert not set(second_dev["text"]) & set(first_train["text"])
    (tmp_path / "first" / "train_config.json").unlink()  # a plain model folder: this run splits its own rows
    third_train, third_dev, _ = training_data(second)
    assert len(third_dev) >= 2 and not set(third_dev["text"]) & set(third_train["text"])


def test_init_from_names_the_embedded_default_and_refuses_what_is_not_there(tmp_path):
    from textrisk.models.hub import DEFAULT_MODEL_DIR
    from textrisk.training.data import init_model_path

    assert init_model_path("default") == DEFAULT_MODEL_DIR
    with pytest.raises(ConfigError, match="init_from"):
        init_model_path(str(tmp_path / "missing"))


@needs_data
def test_training_only_the_risk_head_leaves_sentiment_untouched(tiny_bert, tmp_path):
    train(_config(tiny_bert, tmp_path / "first", epochs=0.5), progress=False)
    risk = _risk_file(tmp_path / "risk.jsonl")
    labels = ["credit", "earnings_guidance", "legal_regulatory", "dividend", "restructuring", "m_and_a"]
    train(_config(tiny_bert, tmp_path / "second", init_from=str(tmp_path / "first"), risk_labels=labels,
                  risk_train_data=[risk], trainable_heads=["risk"], epochs=1.0), progress=False)
    texts = [t for t, _ in RISK_ROWS]
    before = RiskAnalyzer.from_pretrained(tmp_path / "first").model.predict(texts)[0]
    after = RiskAnalyzer.from_pretrained(tmp_path / "second").model.predict(texts)[0]
    np.testing.assert_allclose(before, after, atol=1e-6)
    a = load_file(tmp_path / "first" / "adapter_model.safetensors")
    b = load_file(tmp_path / "second" / "adapter_model.safetensors")
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)


JUDGED_ROWS = [
    ("The bank missed a coupon payment and entered talks with creditors.", ["credit"], "event", 3),
    ("We may be unable to refinance our debt on acceptable terms.", ["credit"], "boilerplate", 0),
    ("The company raised its quarterly dividend by 10%.", ["dividend"], "event", 0),
    ("We expect revenue to fall about 15% next year.", ["earnings_guidance"], "outlook", 2),
    ("We operate 212 stores in 14 states.", [], "other", 0),
    ("The SEC opened a formal investigation into our revenue recognition.", ["legal_regulatory"], "event", 2),
]


def _judged_file(path, repeat=4, tag=""):
    from textrisk.labels.taxonomy import ADVERSE_KINDS

    path.write_text("".join(json.dumps({"text": f"{t} ({tag}{i})", "topics": topics, "kind": kind, "severity": sev,
                                        "labels": topics if kind in ADVERSE_KINDS else []}) + "\n"
                            for i in range(repeat) for t, topics, kind, sev in JUDGED_ROWS))
    return str(path)


@needs_data
def test_judgement_training_learns_every_group_calibrates_and_reports(tiny_bert, tmp_path):
    from textrisk.models.head.layout import JUDGEMENT

    judged = _judged_file(tmp_path / "judged.jsonl")
    dev = _judged_file(tmp_path / "dev.jsonl", repeat=2, tag="dev ")
    labels = ["credit", "earnings_guidance", "legal_regulatory", "dividend"]
    signals_only = _risk_file(tmp_path / "risk.jsonl", repeat=1,
                              rows=[(t, [x for x in found if x in labels]) for t, found in RISK_ROWS])
    result = train(_config(tiny_bert, tmp_path / "run", risk_labels=labels, risk_train_data=[judged, signals_only, dev],
                           risk_source_weights=[1.0, 0.3, 1.0], risk_outputs=list(JUDGEMENT), risk_layers=[1, 2],
                           risk_hidden=8, risk_dev_data=[dev], risk_eval_data=dev, epochs=1.0),
                   progress=False)
    assert result.steps > 0
    counts = json.loads((tmp_path / "run" / "training_results.json").read_text())["sources"]
    assert counts[dev] == 0 and counts[judged] == len(JUDGED_ROWS) * 4  # dev rows never get risk targets
    dev = result.risk_metrics["dev"]
    assert {"kind_accuracy", "severity_accuracy", "adverse_auc", "signals"} <= set(dev)
    assert set(result.risk_metrics["calibration"]["ece_after"]) >= {"adverse"}
    analyzer = RiskAnalyzer.from_pretrained(tmp_path / "run")
    assert analyzer.model.config.risk_outputs == list(JUDGEMENT) and set(analyzer.model.risk_thresholds) == set(labels)
    report = analyzer.score(["The bank missed a coupon payment."])[0]
    assert report.kind in ("event", "outlook", "boilerplate", "other") and 0 <= report.risk_score <= 1


def test_judgement_config_is_checked_by_name(tmp_path):
    with pytest.raises(ConfigError, match="risk_outputs"):
        TrainConfig(output_dir=str(tmp_path), risk_labels=["credit"], risk_train_data=["x.jsonl"],
                    risk_outputs=["kind"])
    with pytest.raises(ConfigError, match="risk_source_weights"):
        TrainConfig(output_dir=str(tmp_path), risk_labels=["credit"], risk_train_data=["x.jsonl"],
                    risk_source_weights=[1.0, 2.0])
    old_style = TrainConfig(output_dir=str(tmp_path), risk_labels=["credit"], risk_train_data=["x.jsonl"],
                            risk_dev_data="dev.jsonl")
    assert old_style.risk_dev_data == ["dev.jsonl"]
