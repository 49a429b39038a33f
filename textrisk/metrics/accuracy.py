"""Accuracy as an offline ``evaluate`` metric module (``evaluate.load("accuracy")`` needs the Hub)."""

import datasets
import evaluate
from sklearn.metrics import accuracy_score


class Accuracy(evaluate.Metric):
    """Share of predictions equal to the reference label."""

    def _info(self):
        return evaluate.MetricInfo(
            description="Accuracy: correct predictions / all predictions.",
            citation="",
            inputs_description="predictions: list of int class ids; references: list of int class ids.",
            features=datasets.Features({"predictions": datasets.Value("int64"),
                                        "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references):
        return {"accuracy": float(accuracy_score(references, predictions))}
