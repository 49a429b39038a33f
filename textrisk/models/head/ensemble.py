"""The risk-signal ensemble: per label, a logistic regression (a stacker) over the risk head's logit and the
labelling functions' evidence for the label, fitted on dev data and stored with the model.

Features of text ``x`` for label ``l``:

- ``z``: the risk head's (calibrated) logit;
- ``s``: the rules' label-model score (:meth:`textrisk.labels.label_model.LabelModel.scores`: summed log-odds of the LFs
  of ``l`` that fire on ``x``; 0 when none fires);
- ``f``: 1 when some LF of ``l`` votes for ``l`` on ``x``.

``P(l | x) = sigmoid(a_l z + b_l s + c_l f + d_l)``, so the output is itself a calibrated probability (Platt
scaling with the rules as extra inputs). The rules run at scoring time, on each scored chunk. A model folder keeps
the stacker in ``textrisk_config.json`` (``risk_ensemble``) as plain JSON: coefficients, per-label thresholds and
the label model's weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import ConfigError
from ...labels.label_model import LabelModel
from ...labels.rules import LABELING_FUNCTIONS, POS, lf_votes
from ...utils.calibration import sigmoid
from ..contract import ModelOutputs
from .layout import group_slices, probabilities

__all__ = ["FEATURES", "RiskEnsemble", "outputs_from_forward"]

#: Stacker inputs, in coefficient order (the last coefficient is the intercept).
FEATURES = ("head_logit", "rules_score", "rules_fired")


@dataclass
class RiskEnsemble:
    """Stacker coefficients per label (``FEATURES`` order, then the intercept), the label model, and the head's own
    per-label thresholds (to compare the head alone with the ensemble; the model's ``risk_thresholds`` apply to the
    ensemble's probabilities)."""

    labels: list[str]
    coefficients: dict[str, list[float]]
    head_thresholds: dict[str, float]
    label_model: LabelModel

    def __post_init__(self) -> None:
        missing = sorted(set(self.labels) - set(self.coefficients))
        if missing:
            raise ConfigError(f"risk_ensemble.coefficients lacks labels {missing}")
        for label, values in self.coefficients.items():
            if len(values) != len(FEATURES) + 1 or not all(np.isfinite(values)):
                raise ConfigError(f"risk_ensemble.coefficients[{label!r}] must be {len(FEATURES) + 1} finite "
                                  f"numbers ({', '.join(FEATURES)}, intercept), got {values!r}")
        for label, value in self.head_thresholds.items():
            if label not in self.labels or not 0 < value < 1:
                raise ConfigError(f"risk_ensemble.head_thresholds[{label!r}] must be a label's threshold in (0, 1), "
                                  f"got {value!r}")
        unknown = sorted(set(self.label_model.function_names) - {f.name for f in LABELING_FUNCTIONS})
        if unknown:
            raise ConfigError(f"risk_ensemble.label_model names labelling functions this textrisk lacks: "
                              f"{unknown[:5]} (saved by another version?)")

    def rule_features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, fired)``, each ``(len(texts), len(labels))``: the label model's score and whether some LF of
        the label voted for it."""
        by_name = {f.name: f for f in LABELING_FUNCTIONS}
        matrix = lf_votes(list(texts), [by_name[name] for name in self.label_model.function_names])
        scores = self.label_model.scores(matrix)
        fired = np.zeros_like(scores)
        for j, name in enumerate(matrix.names):
            label = self.label_model.label_of.get(name)
            if label is not None:
                fired[:, self.label_model.labels.index(label)] += matrix.votes[:, j] == POS
        columns = [self.label_model.labels.index(label) for label in self.labels]
        return scores[:, columns], (fired[:, columns] > 0).astype(np.float64)

    def probabilities(self, texts: Sequence[str], head_logits: np.ndarray) -> np.ndarray:
        """Ensemble probabilities ``(len(texts), len(labels))`` from the texts and the head's logits."""
        return self.combine(head_logits, *self.rule_features(texts))

    def combine(self, head_logits: np.ndarray, scores: np.ndarray, fired: np.ndarray) -> np.ndarray:
        """Ensemble probabilities from the head's logits and precomputed :meth:`rule_features`."""
        weights = np.array([self.coefficients[label] for label in self.labels])  # (labels, 4)
        z = (weights[:, 0] * np.asarray(head_logits, dtype=np.float64) + weights[:, 1] * scores
             + weights[:, 2] * fired + weights[:, 3])
        return sigmoid(z)

    @classmethod
    def fit(cls, head_logits: np.ndarray, rule_scores: np.ndarray, rules_fired: np.ndarray, targets: np.ndarray,
            known: np.ndarray, label_model: LabelModel, labels: Sequence[str], regularisation: float = 1.0
            ) -> RiskEnsemble:
        """Fit one L2-regularised logistic regression per label on the rows where the label is known.

        ``rule_scores`` / ``rules_fired`` are :meth:`rule_features` of the rows, computed by the caller (so dev rows
        can be scored by a label model that was not fitted on them: cross-fitting); a label whose known rows are
        all negative (or all positive) keeps the head's logit unchanged.
        """
        from sklearn.linear_model import LogisticRegression

        coefficients = {}
        for k, label in enumerate(labels):
            rows = np.asarray(known[:, k], dtype=bool)
            y = np.asarray(targets[rows, k], dtype=int)
            if y.size == 0 or y.min() == y.max():
                coefficients[label] = [1.0, 0.0, 0.0, 0.0]
                continue
            x = np.column_stack([head_logits[rows, k], rule_scores[rows, k], rules_fired[rows, k]])
            fitted = LogisticRegression(C=regularisation, max_iter=1000).fit(x, y)
            coefficients[label] = [*map(float, fitted.coef_[0]), float(fitted.intercept_[0])]
        return cls(list(labels), coefficients, {}, label_model)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (see :meth:`from_dict`); a copy, never a view of this object's fields."""
        return {"features": list(FEATURES), "labels": list(self.labels),
                "coefficients": {k: list(v) for k, v in self.coefficients.items()},
                "head_thresholds": dict(self.head_thresholds), "label_model": self.label_model.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RiskEnsemble:
        """Rebuild from :meth:`to_dict`; a malformed dict raises :class:`~textrisk.errors.ConfigError`."""
        try:
            features = list(data["features"])
            labels = list(data["labels"])
            coefficients = {k: [float(v) for v in vs] for k, vs in data["coefficients"].items()}
            thresholds = {k: float(v) for k, v in data["head_thresholds"].items()}
            label_model = data["label_model"]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"risk_ensemble is malformed: {exc!r}") from exc
        if features != list(FEATURES):
            raise ConfigError(f"risk_ensemble.features {features!r} differ from {list(FEATURES)}")
        return cls(labels, coefficients, thresholds, LabelModel.from_dict(label_model))


def outputs_from_forward(forward_outputs: Any, texts: Sequence[str], risk: bool, embeddings: bool, batch_size: int,
                         progress: bool | None, config: Any = None) -> ModelOutputs:
    """:class:`ModelOutputs` from a raw ``forward_outputs(texts, keys, batch_size=, progress=)`` that returns a dict
    of ``logits`` / ``risk_logits`` / ``embeddings`` arrays (head-mode models and their backends).

    ``config`` is the model's :class:`~textrisk.models.head.config.ModelConfig`: ``risk_outputs`` says how the risk
    head's columns split into groups (:mod:`textrisk.models.head.layout`); with a ``risk_ensemble`` (see
    :class:`RiskEnsemble`) the signal probabilities are the stacker's over the head's signal logits and the
    labelling functions run on ``texts``, else the head's sigmoid.
    """
    keys = ("logits", *(("risk_logits",) if risk else ()), *(("embeddings",) if embeddings else ()))
    out = forward_outputs(texts, keys, batch_size=batch_size, progress=progress)
    result = ModelOutputs(logits=out["logits"], embeddings=out.get("embeddings"))
    if not risk:
        return result
    n_labels = len(config.risk_labels)
    groups = probabilities(out["risk_logits"], n_labels, getattr(config, "risk_outputs", None) or ["signals"])
    ensemble = getattr(config, "risk_ensemble", None)
    if ensemble:
        signal_logits = out["risk_logits"][:, group_slices(n_labels, ["signals"])["signals"]]
        groups["signals"] = RiskEnsemble.from_dict(ensemble).probabilities(texts, signal_logits)
    result.risk = groups.pop("signals")
    for name, value in groups.items():
        setattr(result, name, value)
    return result
