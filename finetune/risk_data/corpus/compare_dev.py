"""Compare risk models on dev data only (never the tests): signals, kind, adverse; and whether rules still help.

Dev sets: the judgement corpus's dev split (every field; SENTiVENT text from ``runs/corpus``), gold dev and mapped
SENTiVENT dev (signals). For each model: macro average precision of the signals over the labels with dev positives
(threshold-free), macro F1 and flag precision at the model's own thresholds (note: fitted on these dev sets for the
new models, so optimistic), and with ``--gate`` the same when a signal only counts in passages the model reads as an
event or outlook (P(event) + P(outlook) >= 0.5); kind accuracy, adverse ROC AUC / average precision. With
``--stacker``, a per-label logistic stacker over the model's signal logit and the labelling functions' features is
fitted and scored out of fold on dev (5 folds, the label model cross-fitted on gold dev), against the head and the
rules alone, by macro average precision: the rules are kept as stacker inputs only if the stacker wins.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.corpus.compare_dev --models textrisk/default_model runs/x \\
        --stacker --gate --out runs/compare_dev.json
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textrisk.evaluation.judgement import DevRows, load_dev_rows
from textrisk.labels.taxonomy import ADVERSE_KINDS, KINDS, RISK_LABELS
from textrisk.metrics.reports import multilabel_report

DEV = {"corpus_dev": "runs/corpus/corpus_dev.jsonl", "gold_dev": "finetune/risk_data/gold_dev.jsonl",
       "sentivent_dev": "runs/sentivent_dev.jsonl"}


def macro_ap(targets: np.ndarray, known: np.ndarray, scores: np.ndarray) -> float:
    """Mean average precision over the labels with positives, on the rows where each is defined."""
    from sklearn.metrics import average_precision_score

    aps = [average_precision_score(targets[known[:, k], k], scores[known[:, k], k])
           for k in range(targets.shape[1]) if targets[known[:, k], k].any()]
    return float(np.mean(aps))


def score_model(folder: str, gate: bool) -> dict:
    """Dev figures of one model folder."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from textrisk import RiskAnalyzer

    model = RiskAnalyzer.from_pretrained(folder, backend="torch").model
    out_all = {}
    for name, path in DEV.items():
        rows = load_dev_rows([path], RISK_LABELS, judgement=True)
        out = model.predict_outputs(rows.texts, risk=True, progress=False)
        known = rows.known
        report = multilabel_report(rows.risk, out.risk, RISK_LABELS, model.risk_thresholds, known)
        result = {"rows": len(rows.texts), "signal_macro_ap": macro_ap(rows.risk, known, out.risk),
                  "macro_f1": report["macro_f1"], "flag_precision": report["flag_precision"],
                  "flags_per_1000": report["flags_per_1000"]}
        if gate and out.kind is not None:
            gated = out.risk * (out.kind[:, [KINDS.index(k) for k in ADVERSE_KINDS]].sum(axis=1) >= 0.5)[:, None]
            gated_report = multilabel_report(rows.risk, gated, RISK_LABELS, model.risk_thresholds, known)
            result["gated"] = {k: gated_report[k] for k in ("macro_f1", "flag_precision", "flags_per_1000")}
        judged = rows.judgement
        if out.adverse is not None and judged is not None and (judged[:, -3] >= 0).any():
            k = judged[:, -3] >= 0
            result["kind_accuracy"] = float((out.kind[k].argmax(1) == judged[k, -3]).mean())
            a = judged[:, -1] >= 0
            result["adverse_auc"] = float(roc_auc_score(judged[a, -1], out.adverse[a]))
            result["adverse_ap"] = float(average_precision_score(judged[a, -1], out.adverse[a]))
        out_all[name] = result
    return out_all


FOLDS = 5


@dataclass
class StackerInputs:
    """What the rules-as-stacker check and fit read: gold dev + corpus dev rows, the head's signal logits, each
    row's fold, and per fold the label model fitted on the other folds with its rule features of every row."""

    rows: DevRows
    logits: np.ndarray
    folds: np.ndarray
    label_models: list
    fold_features: list[tuple[np.ndarray, np.ndarray]]  # per fold: (scores, fired) of every row

    @classmethod
    def of(cls, model) -> StackerInputs:
        """Compute them for a head model (its forward pass, then one label model per fold)."""
        from textrisk.labels.label_model import LabelModel
        from textrisk.labels.rules import lf_votes
        from textrisk.models.head.ensemble import RiskEnsemble
        from textrisk.models.head.layout import group_slices

        rows = load_dev_rows([DEV["gold_dev"], DEV["corpus_dev"]], RISK_LABELS)
        columns = group_slices(len(RISK_LABELS), model.config.risk_outputs)["signals"]
        logits = model.forward_outputs(rows.texts, ("risk_logits",), progress=False)["risk_logits"][:, columns]
        folds = np.arange(len(rows.texts)) % FOLDS
        labels_of = label_lists(rows)
        unit = {label: [1.0, 0.0, 0.0, 0.0] for label in RISK_LABELS}
        label_models, fold_features = [], []
        for fold in range(FOLDS):
            train = np.flatnonzero(folds != fold)
            label_model = LabelModel.fit(lf_votes([rows.texts[i] for i in train]), [labels_of[i] for i in train])
            label_models.append(label_model)
            fold_features.append(RiskEnsemble(list(RISK_LABELS), unit, {}, label_model).rule_features(rows.texts))
        return cls(rows, logits, folds, label_models, fold_features)

    def cross_fitted(self) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, fired)`` of each row from the label model of its own fold (fitted without it)."""
        scores, fired = np.zeros(self.rows.risk.shape), np.zeros(self.rows.risk.shape)
        for fold, (s, f) in enumerate(self.fold_features):
            test = self.folds == fold
            scores[test], fired[test] = s[test], f[test]
        return scores, fired


def label_lists(rows: DevRows) -> list[list[str]]:
    """Each dev row's positive signal labels."""
    return [[label for k, label in enumerate(RISK_LABELS) if r[k]] for r in rows.risk]


def stacker_check(inputs: StackerInputs) -> dict:
    """Out-of-fold macro AP of head, rules and a head + rules stacker on gold dev + corpus dev (signals): each fold's
    stacker is fitted on the other folds' rows, with the rule features of that fold's label model."""
    from textrisk.models.head.ensemble import RiskEnsemble
    from textrisk.utils.calibration import sigmoid

    rows, logits, folds = inputs.rows, inputs.logits, inputs.folds
    stacked = np.zeros(rows.risk.shape)
    for fold, (s, f) in enumerate(inputs.fold_features):
        train, test = folds != fold, folds == fold
        fitted = RiskEnsemble.fit(logits[train], s[train], f[train], rows.risk[train], rows.known[train],
                                  inputs.label_models[fold], RISK_LABELS)
        stacked[test] = fitted.combine(logits[test], s[test], f[test])
    scores, _ = inputs.cross_fitted()
    result = {"head": macro_ap(rows.risk, rows.known, sigmoid(logits)),
              "rules": macro_ap(rows.risk, rows.known, sigmoid(scores)),
              "stacker": macro_ap(rows.risk, rows.known, stacked)}
    result["keep_rules"] = result["stacker"] > max(result["head"], result["rules"])
    return result


def main(argv: list[str] | None = None) -> None:
    """Score each model on dev; print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", required=True)
    parser.add_argument("--gate", action="store_true")
    parser.add_argument("--stacker", action="store_true", help="test the rules as stacker inputs (last model)")
    parser.add_argument("--out", default="runs/compare_dev.json")
    args = parser.parse_args(argv)
    results = {folder: score_model(folder, args.gate) for folder in args.models}
    if args.stacker:
        from textrisk import RiskAnalyzer

        results["stacker_check"] = stacker_check(StackerInputs.of(
            RiskAnalyzer.from_pretrained(args.models[-1], backend="torch").model))
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
