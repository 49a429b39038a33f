"""Risk-signal outputs of RiskAnalyzer (multi-label head), on a tiny random model."""

import json

import numpy as np
import pytest

from textrisk import ModelLoadError, RiskAnalyzer
from textrisk.labels.taxonomy import RISK_LABELS

from ..helpers import SENTENCES


def test_reports_carry_every_signal_flags_and_score(risk_model_dir):
    analyzer = RiskAnalyzer.from_pretrained(risk_model_dir)
    report = analyzer.score(SENTENCES[:2])[0]
    assert list(report.risk_signals) == list(RISK_LABELS)
    thresholds = analyzer.thresholds()
    assert thresholds["credit"] == 0.3 and thresholds["macro"] == 0.7 and thresholds["dividend"] == 0.5
    assert report.flags == [k for k, p in report.risk_signals.items() if p >= thresholds[k]]
    expected = report.sentiment_scores["negative"] * (1 - np.prod([1 - p for p in report.risk_signals.values()]))
    assert report.risk_score == pytest.approx(expected)
    assert 0 <= report.risk_score <= 1
    json.dumps(report.to_dict())


def test_signal_probabilities_match_the_head(risk_model_dir):
    analyzer = RiskAnalyzer.from_pretrained(risk_model_dir)
    out = analyzer.model.forward_outputs(SENTENCES, ("risk_logits",))
    for report, logits in zip(analyzer.score(SENTENCES), out["risk_logits"]):
        np.testing.assert_allclose(list(report.risk_signals.values()), 1 / (1 + np.exp(-logits)), rtol=1e-5)


def test_long_document_signals_are_max_over_chunks_with_evidence(risk_model_dir):
    analyzer = RiskAnalyzer.from_pretrained(risk_model_dir, threshold=0.05)
    document = " ".join(SENTENCES * 15)
    report = analyzer.score([document])[0]
    chunks = analyzer._chunks(document)
    out = analyzer.model.forward_outputs([c.text for c in chunks], ("risk_logits",))
    np.testing.assert_allclose(list(report.risk_signals.values()), (1 / (1 + np.exp(-out["risk_logits"]))).max(0),
                               rtol=1e-5)
    assert report.flags and set(report.signal_evidence) == set(report.flags)
    for label, evidence in report.signal_evidence.items():
        assert evidence and all(document[e.start:e.end] == e.text and e.label == label for e in evidence)


def test_label_filter_and_global_threshold(risk_model_dir):
    analyzer = RiskAnalyzer.from_pretrained(risk_model_dir, signal_labels=["credit", "liquidity"], threshold=0.99)
    report = analyzer.score(["Moody's downgraded the bank after it missed a coupon payment."])[0]
    assert list(report.risk_signals) == ["credit", "liquidity"]
    assert report.flags == [k for k, p in report.risk_signals.items() if p >= 0.99]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"signal_labels": ["weather"]}, r"unknown signal label\(s\) \['weather'\]"),
     ({"threshold": 1.5}, "threshold must be in")],
)
def test_bad_signal_options(risk_model_dir, kwargs, message):
    with pytest.raises(ValueError, match=message):
        RiskAnalyzer.from_pretrained(risk_model_dir, **kwargs)


def test_threshold_file_naming_unknown_labels(risk_model_dir, tmp_path):
    import shutil

    shutil.copytree(risk_model_dir, tmp_path / "m")
    config = json.loads((tmp_path / "m" / "textrisk_config.json").read_text())
    config["risk_thresholds"] = {"credit": 0.4, "weather": 0.5}
    (tmp_path / "m" / "textrisk_config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=r"risk_thresholds names labels the model lacks: \['weather'\]"):
        RiskAnalyzer.from_pretrained(tmp_path / "m")


def test_sentiment_only_model(tiny_model_dir):
    analyzer = RiskAnalyzer.from_pretrained(tiny_model_dir)
    report = analyzer.score(["Profit rose."])[0]
    assert report.risk_signals is None and report.flags == [] and report.risk_score is None
    with pytest.raises(ModelLoadError, match="no risk head"):
        analyzer.score(["Profit rose."], signals=True)
    with pytest.raises(ModelLoadError, match="no risk head"):
        RiskAnalyzer.from_pretrained(tiny_model_dir, signal_labels=["credit"])


def test_cli_prints_flags_and_filters(risk_model_dir, tmp_path, capsys):
    from textrisk import cli

    code = cli.main(["score", "--model", str(risk_model_dir), "--labels", "credit", "liquidity", "--threshold",
                     "0.01", "Moody's downgraded the bank."])
    out = capsys.readouterr().out
    assert code == 0
    header, row = out.splitlines()[:2]
    assert header.split()[:7] == ["id", "sentiment", "p_neg", "p_neu", "p_pos", "risk", "flags"]
    assert "credit,liquidity" in row  # both over a 0.01 threshold, nothing else reported
    out_csv = tmp_path / "s.csv"
    assert cli.main(["score", "--model", str(risk_model_dir), "--labels", "credit", "--output", str(out_csv),
                     "Moody's downgraded the bank."]) == 0
    header = out_csv.read_text().splitlines()[0].split(",")
    assert {"risk_score", "flags", "signal_credit"} <= set(header) and "signal_macro" not in header
