"""F1 (macro, weighted or per class) as an offline ``evaluate`` metric module."""

import datasets
import evaluate
from sklearn.metrics import f1_score


class F1(evaluate.Metric):
    """F1 score; ``average`` is "weighted", "macro", "micro" or None (one score per class)."""

    def _info(self):
        return evaluate.MetricInfo(
            description="F1 = harmonic mean of precision and recall, averaged as asked.",
            citation="",
            inputs_description="predictions, references: int class ids; average: sklearn's average argument.",
            features=datasets.Features({"predictions": datasets.Value("int64"),
                                        "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references, average="weighted", labels=None):
        score = f1_score(references, predictions, average=average, labels=labels, zero_division=0)
        return {"f1": score.tolist() if average is None else float(score)}
