"""The risk stacker (head logit + labelling functions), partial labels, masked metrics and the risk evaluation."""

import json

import numpy as np
import pytest

from textrisk import RiskAnalyzer
from textrisk.errors import ConfigError, DataError, ModelLoadError
from textrisk.labels.label_model import LabelModel
from textrisk.labels.rules import lf_votes
from textrisk.labels.taxonomy import RISK_LABELS
from textrisk.metrics.reports import binary_ece, multilabel_report
from textrisk.models.head.ensemble import RiskEnsemble
from textrisk.models.head.model import TextRiskModel
from textrisk.utils.calibration import sigmoid

from ..helpers import DATA_DIR, SENTENCES, needs_data

DIVIDEND = "The board cut the quarterly dividend by half and suspended the buyback."
PLAIN = "The company will publish its annual report on its website."


def _label_model() -> LabelModel:
    texts = [DIVIDEND, PLAIN, "Dividend raised to 40 cents per share.", "Shares were flat."]
    gold = [["dividend"], [], ["dividend"], []]
    return LabelModel.fit(lf_votes(texts), gold)


def _ensemble(coefficients=None) -> RiskEnsemble:
    coefficients = coefficients or {label: [1.0, 0.0, 0.0, 0.0] for label in RISK_LABELS}
    return RiskEnsemble(list(RISK_LABELS), coefficients, {}, _label_model())


def test_identity_coefficients_give_the_head_and_rules_move_the_probability():
    logits = np.zeros((2, len(RISK_LABELS)))
    np.testing.assert_allclose(_ensemble().probabilities([DIVIDEND, PLAIN], logits), 0.5)
    k = RISK_LABELS.index("dividend")
    rules_only = {label: [0.0, 0.0, 4.0, -2.0] for label in RISK_LABELS}  # only "an LF voted for it" counts
    probs = _ensemble(rules_only).probabilities([DIVIDEND, PLAIN], logits)
    assert probs[0, k] == pytest.approx(sigmoid(2.0)) and probs[1, k] == pytest.approx(sigmoid(-2.0))


def test_fit_learns_to_trust_the_informative_input():
    rng = np.random.default_rng(0)
    n = 400
    y = rng.random((n, len(RISK_LABELS))) < 0.3
    head = np.where(y, 2.0, -2.0) + rng.normal(0, 1.0, y.shape)  # informative
    scores, fired = rng.normal(0, 1, y.shape), (rng.random(y.shape) < 0.5).astype(float)  # noise
    fitted = RiskEnsemble.fit(head, scores, fired, y, np.ones_like(y), _label_model(), RISK_LABELS)
    for label in RISK_LABELS:
        a, b, c, _ = fitted.coefficients[label]
        assert a > 0.5 and abs(b) < 0.5 and abs(c) < 1.0
    unknown = np.ones_like(y)
    unknown[:, 0] = False  # no annotated rows for the first label: it keeps the head's logit
    assert RiskEnsemble.fit(head, scores, fired, y, unknown, _label_model(), RISK_LABELS).coefficients[
        RISK_LABELS[0]] == [1.0, 0.0, 0.0, 0.0]


def test_round_trip_and_malformed_ensembles_name_the_field():
    ensemble = _ensemble()
    again = RiskEnsemble.from_dict(json.loads(json.dumps(ensemble.to_dict())))
    assert again.to_dict() == ensemble.to_dict()
    bad = ensemble.to_dict()
    bad["coefficients"]["credit"] = [1.0, 2.0]
    with pytest.raises(ConfigError, match=r"coefficients\['credit'\] must be 4 finite numbers"):
        RiskEnsemble.from_dict(bad)
    bad = ensemble.to_dict()
    bad["head_thresholds"] = {"credit": 1.5}
    with pytest.raises(ConfigError, match=r"head_thresholds\['credit'\]"):
        RiskEnsemble.from_dict(bad)
    bad = ensemble.to_dict()
    del bad["label_model"]
    with pytest.raises(ConfigError, match="risk_ensemble is malformed"):
        RiskEnsemble.from_dict(bad)


def test_a_saved_model_with_a_stacker_scores_through_it(risk_model_dir, tmp_path):
    model = TextRiskModel.from_pretrained(risk_model_dir)
    assert model.risk_labels == list(RISK_LABELS)
    k = RISK_LABELS.index("dividend")
    coefficients = {label: [1.0, 0.0, 0.0, 0.0] for label in RISK_LABELS}
    coefficients["dividend"] = [0.0, 0.0, 6.0, -3.0]
    model.config.risk_ensemble = _ensemble(coefficients).to_dict()
    model.save_pretrained(tmp_path / "m")
    analyzer = RiskAnalyzer.from_pretrained(tmp_path / "m")
    reports = analyzer.score([DIVIDEND, PLAIN])
    assert reports[0].risk_signals["dividend"] == pytest.approx(sigmoid(3.0))
    assert reports[1].risk_signals["dividend"] == pytest.approx(sigmoid(-3.0))
    head = analyzer.model.forward_outputs([DIVIDEND], ("risk_logits",))["risk_logits"][0]
    other = [i for i in range(len(RISK_LABELS)) if i != k]
    np.testing.assert_allclose(np.array(list(reports[0].risk_signals.values()))[other], sigmoid(head)[other],
                               rtol=1e-5)
    config = json.loads((tmp_path / "m" / "textrisk_config.json").read_text())
    config["risk_ensemble"]["labels"] = ["credit"]
    (tmp_path / "m" / "textrisk_config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=r"textrisk_config.json.*risk_ensemble is for labels \['credit'\]"):
        RiskAnalyzer.from_pretrained(tmp_path / "m")


def test_long_documents_report_each_signal_share_of_tokens(risk_model_dir):
    analyzer = RiskAnalyzer.from_pretrained(risk_model_dir, threshold=0.05)
    report = analyzer.score([" ".join(SENTENCES * 15)])[0]
    assert set(report.signal_share) == set(RISK_LABELS) and report.num_chunks > 1
    assert all(0.0 <= v <= 1.0 for v in report.signal_share.values())
    for label in RISK_LABELS:  # a signal over threshold in some chunk is flagged, and only then has a share
        assert (report.signal_share[label] > 0) == (label in report.flags)


def test_partial_labels_load_as_a_known_mask(tmp_path):
    from textrisk.data.datasets import load_risk_file

    path = tmp_path / "partial.jsonl"
    path.write_text(json.dumps({"text": "a", "labels": ["credit"], "unknown": ["macro"]}) + "\n"
                    + json.dumps({"text": "b", "labels": []}) + "\n")
    data = load_risk_file(path)
    assert data["known"][0][RISK_LABELS.index("macro")] == 0 and sum(data["known"][0]) == len(RISK_LABELS) - 1
    assert sum(data["known"][1]) == len(RISK_LABELS)
    path.write_text(json.dumps({"text": "a", "labels": ["credit"], "unknown": ["credit"]}) + "\n")
    with pytest.raises(DataError, match="line 1.*both in 'labels' and 'unknown'"):
        load_risk_file(path)


def test_masked_report_ignores_unannotated_rows_and_counts_flags():
    targets = np.array([[1, 0], [0, 1], [0, 0], [1, 0]])
    probs = np.array([[0.9, 0.9], [0.1, 0.9], [0.9, 0.1], [0.2, 0.1]])
    known = np.array([[1, 0], [1, 1], [1, 1], [1, 1]])  # row 0 is not annotated for label b
    report = multilabel_report(targets, probs, ["a", "b"], known=known, macro_labels=["a"])
    assert report["per_label"]["a"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2, "predicted": 2, "threshold": 0.5, "scored_rows": 4})
    assert report["per_label"]["b"]["predicted"] == 1 and report["per_label"]["b"]["f1"] == 1.0
    assert report["macro_f1"] == 0.5 and report["flags_per_1000"] == 750.0 and report["flag_precision"] == 2 / 3
    assert report["flagged_rows_per_1000"] == 750.0 and report["gold_rows_per_1000"] == 750.0


def test_binary_ece_is_zero_for_calibrated_bins_and_large_for_confident_errors():
    assert binary_ece([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.0)
    assert binary_ece([0, 0, 0, 0], [0.95, 0.95, 0.95, 0.95]) == pytest.approx(0.95)


def test_risk_evaluation_reports_model_and_rules_and_refuses_unknown_sets(risk_model_dir, tmp_path):
    from textrisk.evaluation.risk import evaluate_risk_sets, risk_table

    path = tmp_path / "risk.jsonl"
    path.write_text("".join(json.dumps({"text": t, "labels": ["dividend"] if t == DIVIDEND else []}) + "\n"
                            for t in [DIVIDEND, PLAIN, *SENTENCES]))
    model = TextRiskModel.from_pretrained(risk_model_dir)
    result = evaluate_risk_sets(model, [str(path)])[str(path)]
    assert set(result["systems"]) == {"model", "rules"} and result["macro_labels"] == ["dividend"]
    assert result["systems"]["rules"]["combiner"] == "majority_vote"
    assert result["systems"]["rules"]["per_label"]["dividend"]["support"] == 1
    model.config.risk_ensemble = _ensemble().to_dict()
    with_stacker = evaluate_risk_sets(model, [str(path)])[str(path)]
    assert set(with_stacker["systems"]) == {"model", "rules", "ensemble"}
    assert with_stacker["systems"]["rules"]["combiner"] == "label_model"
    assert "| ensemble |" in risk_table({"x": with_stacker})
    with pytest.raises(DataError, match="neither a file nor a named set"):
        evaluate_risk_sets(model, ["no_such_set"])
    with pytest.raises(DataError, match="ship with the repository checkout"):
        evaluate_risk_sets(model, ["gold_test"], risk_dir=tmp_path)


@needs_data
def test_sentivent_test_is_built_from_the_shared_data():
    from textrisk.data.sentivent import INFORMED_LABELS
    from textrisk.evaluation.risk import load_risk_set

    if not (DATA_DIR / "sentivent").is_dir():
        pytest.skip("sentivent/ not in the shared data")
    data = load_risk_set("sentivent_test", list(RISK_LABELS), DATA_DIR)
    assert len(data.texts) == 727
    assert set(data.macro_labels()) <= set(INFORMED_LABELS)
    uninformed = [RISK_LABELS.index(label) for label in RISK_LABELS if label not in INFORMED_LABELS]
    assert data.known[:, uninformed].sum() == 0


@pytest.mark.parametrize(("hidden", "layers"), [(0, ()), (16, ()), (0, (1, 2)), (16, (0, 2))])
def test_risk_head_variants_train_save_and_load(tiny_bert, tmp_path, hidden, layers):
    import torch

    model = TextRiskModel.from_base(str(tiny_bert), lora_r=4)
    model.add_risk_head(["credit", "dividend"], hidden=hidden, layers=layers)
    batch = model.encode([DIVIDEND, PLAIN])
    out = model(batch["input_ids"], batch["attention_mask"], risk_targets=torch.tensor([[0, 1], [0, 0]]))
    out["loss"].backward()
    assert out["risk_logits"].shape == (2, 2)
    assert all(p.grad is not None for p in model.heads["risk"].parameters())
    model.save_pretrained(tmp_path / "m")
    again = TextRiskModel.from_pretrained(tmp_path / "m")
    assert again.config.risk_layers == list(layers) and again.config.risk_hidden == hidden
    np.testing.assert_allclose(again.predict_risk([DIVIDEND, PLAIN]), model.predict_risk([DIVIDEND, PLAIN]),
                               rtol=1e-5)
    with pytest.raises(ConfigError, match="layers"):
        model.add_risk_head(["credit"], layers=(9,))
