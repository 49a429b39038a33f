import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from textrisk.metrics import load_metric
from textrisk.metrics.reports import classification_report, evaluate_logits
from textrisk.utils.calibration import fit_temperature, softmax

RNG = np.random.default_rng(0)
REFS = RNG.integers(0, 3, 200).tolist()
PREDS = [r if RNG.random() < 0.7 else int(RNG.integers(0, 3)) for r in REFS]


@pytest.mark.parametrize(
    ("name", "kwargs", "key", "expected"),
    [
        ("accuracy", {}, "accuracy", accuracy_score(REFS, PREDS)),
        ("f1", {"average": "weighted"}, "f1", f1_score(REFS, PREDS, average="weighted")),
        ("f1", {"average": "macro"}, "f1", f1_score(REFS, PREDS, average="macro")),
    ],
)
def test_metric_modules_load_offline_and_match_sklearn(name, kwargs, key, expected):
    metric = load_metric(name)
    assert metric.compute(predictions=PREDS, references=REFS, **kwargs)[key] == pytest.approx(expected)


def test_unknown_metric():
    with pytest.raises(ValueError, match="unknown metric 'bleu'"):
        load_metric("bleu")


@pytest.mark.parametrize(
    ("probs", "refs", "ece"),
    [
        ([[1.0, 0.0], [0.0, 1.0]], [0, 1], 0.0),  # confident and right
        ([[1.0, 0.0], [1.0, 0.0]], [1, 1], 1.0),  # confident and wrong
        ([[0.6, 0.4]] * 10, [0] * 6 + [1] * 4, 0.0),  # 60% confident, 60% right
    ],
)
def test_calibration_error(probs, refs, ece):
    assert load_metric("calibration_error").compute(predictions=probs, references=refs)["ece"] == pytest.approx(ece)


def test_temperature_scaling_recovers_overconfidence():
    """Labels drawn from softmax(z); the model reports 3 * z: the fitted temperature should be about 3."""
    logits = RNG.normal(size=(4000, 3)) * 2
    labels = np.array([RNG.choice(3, p=p) for p in softmax(logits)])
    temperature = fit_temperature(logits * 3, labels)
    assert temperature == pytest.approx(3.0, rel=0.1)
    report = evaluate_logits(logits * 3, labels.tolist(), ["a", "b", "c"], temperature)
    assert report["ece_calibrated"] < report["ece_raw"]


def test_classification_report_per_class():
    report = classification_report([0, 0, 1, 2], [0, 1, 1, 2], ["n", "u", "p"])
    assert report["per_class"]["n"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert report["accuracy"] == 0.75
