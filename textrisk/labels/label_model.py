"""The label model: labelling-function votes combined per label as accuracy-weighted log-odds.

Each LF's accuracy is estimated on hand-labelled data (the gold *dev* split); :func:`label_texts` gives silver
labels with it, or with the plain majority vote of :mod:`textrisk.labels.rules`.

    >>> label_texts(["The company will cut 300 jobs and close its plant."])
    [['restructuring']]
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..utils.calibration import sigmoid
from .rules import ABSTAIN, POS, VoteMatrix, lf_votes, majority_vote
from .taxonomy import RISK_LABELS

__all__ = ["LabelModel", "label_matrix_of_rules", "label_texts"]


@dataclass
class LabelModel:
    """Accuracy-weighted vote: each LF's vote counts with the log-odds of its accuracy, estimated on labelled data.

    For label ``l`` and text ``x``, ``score = sum_j sign_j * log(a_j / (1 - a_j))`` over the LFs of ``l`` that fire
    on ``x``, where ``sign_j`` is +1 for a POS vote and -1 for a NEG vote and ``a_j`` is the LF's accuracy when it
    fires (smoothed with ``prior_correct`` / ``prior_wrong`` pseudo-counts, so an LF that never fired keeps a
    modest positive weight). Abstentions carry no evidence. The posterior ``sigmoid(score)`` is compared with the
    label's threshold (0.5, i.e. ``score > 0``, unless tuned). This is the "weighted log-odds" combination of
    independent voters; with equal accuracies it reduces to the majority vote.
    """

    labels: tuple[str, ...]
    function_names: tuple[str, ...]
    weights: dict[str, float]  # LF name -> log-odds weight (>= 0 means the LF is more often right than wrong)
    thresholds: dict[str, float]
    label_of: dict[str, str] = field(default_factory=dict)  # LF name -> label
    sign_of: dict[str, int] = field(default_factory=dict)  # LF name -> +1 (POS) / -1 (NEG)

    @classmethod
    def fit(cls, matrix: VoteMatrix, gold: Sequence[Sequence[str]], labels: Sequence[str] = RISK_LABELS,
            prior_correct: float = 2.0, prior_wrong: float = 1.0) -> LabelModel:
        """Estimate each LF's accuracy on texts with known labels (e.g. the gold dev split)."""
        if len(gold) != matrix.votes.shape[0]:
            raise DataError(f"{len(gold)} gold rows for {matrix.votes.shape[0]} voted texts")
        weights, label_of, sign_of = {}, {}, {}
        for j, function in enumerate(matrix.functions):
            if function.label not in labels:
                continue
            y = np.array([function.label in row for row in gold])
            fired = matrix.votes[:, j] != ABSTAIN
            correct = int((fired & (y if function.vote == POS else ~y)).sum())
            wrong = int(fired.sum()) - correct
            weights[function.name] = math.log((correct + prior_correct) / (wrong + prior_wrong))
            label_of[function.name] = function.label
            sign_of[function.name] = 1 if function.vote == POS else -1
        return cls(tuple(labels), tuple(matrix.names), weights, dict.fromkeys(labels, 0.5), label_of, sign_of)

    def scores(self, matrix: VoteMatrix) -> np.ndarray:
        """Summed weighted votes, shape (texts, labels), columns in ``self.labels`` order."""
        if tuple(matrix.names) != self.function_names:
            raise DataError("the vote matrix was made with different labelling functions than the label model")
        out = np.zeros((matrix.votes.shape[0], len(self.labels)))
        column_of = {label: k for k, label in enumerate(self.labels)}
        for j, name in enumerate(matrix.names):
            if name not in self.weights:
                continue
            fired = matrix.votes[:, j] != ABSTAIN
            out[fired, column_of[self.label_of[name]]] += self.sign_of[name] * self.weights[name]
        return out

    def predict_proba(self, matrix: VoteMatrix) -> np.ndarray:
        """``sigmoid(score)`` per text and label; 0.5 where no LF of the label fired."""
        return sigmoid(self.scores(matrix))

    def predict(self, matrix: VoteMatrix) -> list[list[str]]:
        """Labels whose posterior is at or over their threshold (among labels some LF voted on)."""
        proba = self.predict_proba(matrix)
        fired_any = self.scores(matrix) != 0
        return [[label for k, label in enumerate(self.labels)
                 if fired_any[i, k] and proba[i, k] >= self.thresholds[label]] for i in range(proba.shape[0])]

    def tune_thresholds(self, matrix: VoteMatrix, gold: Sequence[Sequence[str]],
                        grid: Sequence[float] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)) -> dict[str, float]:
        """Per label, the threshold from ``grid`` with the best F1 on ``gold`` (the package's one tuner,
        :func:`textrisk.metrics.reports.tune_threshold`: ties go to the one nearest 0.5, then the higher)."""
        from ..metrics.reports import tune_threshold

        proba = self.predict_proba(matrix)
        fired_any = self.scores(matrix) != 0
        for k, label in enumerate(self.labels):
            y = np.array([label in row for row in gold])
            self.thresholds[label] = tune_threshold(y, proba[:, k], grid, mask=fired_any[:, k])
        return dict(self.thresholds)

    def to_dict(self) -> dict:
        """A JSON-serialisable form (see :meth:`from_dict`)."""
        return {"labels": list(self.labels), "function_names": list(self.function_names), "weights": self.weights,
                "thresholds": self.thresholds, "label_of": self.label_of, "sign_of": self.sign_of}

    @classmethod
    def from_dict(cls, data: dict) -> LabelModel:
        """Rebuild a label model written by :meth:`to_dict`."""
        try:
            return cls(tuple(data["labels"]), tuple(data["function_names"]), dict(data["weights"]),
                       dict(data["thresholds"]), dict(data["label_of"]), dict(data["sign_of"]))
        except (KeyError, TypeError) as exc:
            raise DataError(f"not a label-model file: {exc}") from exc

    def save(self, path: str | Path) -> None:
        """Write the model as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> LabelModel:
        """Read a model written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def label_texts(texts: Sequence[str], model: LabelModel | None = None) -> list[list[str]]:
    """Silver labels for ``texts``: the label model's predictions, or a majority vote when ``model`` is None."""
    matrix = lf_votes(texts)
    if model is None:
        return majority_vote(matrix)
    return model.predict(matrix)


def label_matrix_of_rules(texts: Sequence[str], labels: Sequence[str], label_model: dict | None = None
                          ) -> tuple[np.ndarray, str]:
    """The rules' predictions for ``texts`` as a 0/1 matrix with one column per label (labels the rules do not
    cover are 0), and the combiner's name: the label model ``label_model`` (a :meth:`LabelModel.to_dict`) if
    given, else the majority vote."""
    matrix = lf_votes(texts)
    if label_model:
        predicted, combiner = LabelModel.from_dict(label_model).predict(matrix), "label_model"
    else:
        predicted, combiner = majority_vote(matrix), "majority_vote"
    return np.array([[label in row for label in labels] for row in predicted], dtype=np.float64).reshape(
        len(texts), len(labels)), combiner
