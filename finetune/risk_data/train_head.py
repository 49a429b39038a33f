"""Give a sentiment model its risk signals: the risk head, per-label calibration and thresholds, and the stacker
with the labelling functions, all fitted on training and dev data only; writes a complete model folder.

The recipe of the embedded default model (sources and weights chosen by ``select_head`` on dev):

1. **Dev logits, out of fold**: gold dev in 5 folds, each scored by a head trained on the pool plus the other 4/5;
   SENTiVENT dev scored by the head trained on the whole pool (it is never trained on).
2. **Head**: the risk head (``RECIPE["hidden"]``: a GELU MLP, or 0 = logistic regression per label) on frozen
   features of the whole pool and all of gold dev: the pooled states of backbone layers ``RECIPE["layers"]``
   (4 and 6 of MiniLM's 6, read from the same forward pass as the sentiment head).
3. **Calibration**: per label, Platt scaling ``sigmoid(a * z + c)`` fitted on the dev logits, folded into the head's
   last layer (so every backend, ONNX included, outputs calibrated probabilities); ECE per label before and after.
4. **Stacker** (:class:`textrisk.models.head.ensemble.RiskEnsemble`): per label, logistic regression over the calibrated
   dev logit and the rules' label-model score / firing, the label model itself cross-fitted on gold dev folds. It
   ships if, and only if, its out-of-fold dev probabilities beat both the head's and the rules' (macro average
   precision, :func:`ensemble_choice`); the tests are not looked at for this.
5. **Thresholds** per label tuned on dev: the head's own (kept for comparison) and the shipped probabilities'
   (the stacker's, or the head's with ``--no-ensemble``).

The sentiment part of the model is copied unchanged (adapter, sentiment head, temperature): sentiment scores are
exactly those of ``--sentiment-model``.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.train_head --out runs/default_risk
    python -m finetune.export_default --run runs/default_risk          # into textrisk/default_model
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from finetune.risk_data.build_gold import DEV_FILE
from finetune.risk_data.features import cache_path, embed, read_set
from finetune.risk_data.select_head import FOLDS, dev_scores, fold_of
from textrisk.labels.label_model import LabelModel
from textrisk.labels.rules import lf_votes
from textrisk.labels.taxonomy import RISK_LABELS
from textrisk.metrics.reports import binary_ece, multilabel_report, tune_threshold
from textrisk.models.head.ensemble import RiskEnsemble
from textrisk.utils.atomic import atomic_write_json
from textrisk.utils.calibration import sigmoid

#: Training sources of the shipped head and their row weights (chosen on dev by ``select_head``).
RECIPE = {"silver_weight": 0.3, "sentivent_weight": 1.0, "gold_weight": 1.0, "l2": 0.0, "hidden": 512,
          "layers": (4, 6)}
#: Held-out tests run at the end (results go into the card): see textrisk.evaluation.risk.
TESTS = ("gold_test", "random_gold", "sentivent_test")


def platt(logits: np.ndarray, targets: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per label ``(a, c)`` of ``sigmoid(a * z + c)`` fitted by maximum likelihood on the known rows."""
    from sklearn.linear_model import LogisticRegression

    a, c = np.ones(logits.shape[1]), np.zeros(logits.shape[1])
    for k in range(logits.shape[1]):
        rows = known[:, k]
        y = targets[rows, k].astype(int)
        if y.size and 0 < y.sum() < y.size:
            fitted = LogisticRegression(C=1e4, max_iter=1000).fit(logits[rows, k:k + 1], y)
            a[k], c[k] = fitted.coef_[0, 0], fitted.intercept_[0]
    return a, c


def tuned(targets: np.ndarray, known: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """Per-label F1-best threshold on the known rows (0.5 for a label without dev positives)."""
    return {label: tune_threshold(targets[:, k], probs[:, k], mask=known[:, k]) for k, label in enumerate(RISK_LABELS)}


def rule_features_cross_fitted(gold, sentivent_dev, folds: np.ndarray) -> tuple[np.ndarray, np.ndarray, LabelModel]:
    """Rule scores / firing for gold dev (label model fitted on the other folds) and SENTiVENT dev (label model
    fitted on all of gold dev), plus the all-gold-dev label model that ships."""
    gold_labels = [[label for k, label in enumerate(RISK_LABELS) if row[k]] for row in gold.targets]
    votes = lf_votes(gold.texts)
    full = LabelModel.fit(votes, gold_labels)
    probe = RiskEnsemble(list(RISK_LABELS), {label: [1.0, 0.0, 0.0, 0.0] for label in RISK_LABELS}, {}, full)
    scores = np.zeros(gold.targets.shape)
    fired = np.zeros(gold.targets.shape)
    for k in range(FOLDS):
        train = np.flatnonzero(folds != k)
        fold_model = LabelModel.fit(lf_votes([gold.texts[i] for i in train]), [gold_labels[i] for i in train])
        fold_probe = RiskEnsemble(probe.labels, probe.coefficients, {}, fold_model)
        rows = np.flatnonzero(folds == k)
        scores[rows], fired[rows] = fold_probe.rule_features([gold.texts[i] for i in rows])
    sv_scores, sv_fired = probe.rule_features(sentivent_dev.texts)
    return np.concatenate([scores, sv_scores]), np.concatenate([fired, sv_fired]), full


def ensemble_choice(calibrated: np.ndarray, scores: np.ndarray, fired: np.ndarray, targets: np.ndarray,
                    known: np.ndarray, label_model: LabelModel, folds: np.ndarray) -> dict:
    """Whether the stacker ships, decided on dev only: out-of-fold stacker probabilities (fitted on the other
    folds) against the head's calibrated probabilities and the rules' (cross-fitted) label-model posterior, by
    macro average precision over the labels with dev positives. Ships if, and only if, it beats both."""
    from finetune.risk_data.select_head import macro_ap

    stacked = np.zeros(targets.shape)
    for k in np.unique(folds):
        train, test = folds != k, folds == k
        fitted = RiskEnsemble.fit(calibrated[train], scores[train], fired[train], targets[train], known[train],
                                  label_model, RISK_LABELS)
        stacked[test] = fitted.combine(calibrated[test], scores[test], fired[test])
    systems = {"head": sigmoid(calibrated), "rules": sigmoid(scores), "ensemble": stacked}
    aps = {name: macro_ap(targets, known, probs) for name, probs in systems.items()}
    result = {f"{name}_macro_ap": ap for name, (ap, _) in aps.items()}
    result["per_label"] = {name: per for name, (_, per) in aps.items()}
    result["ship"] = bool(result["ensemble_macro_ap"] > max(result["head_macro_ap"], result["rules_macro_ap"]))
    return result


def main(argv: list[str] | None = None) -> None:
    """Fit everything, write the model folder and its training results."""
    from textrisk.models.head.model import TextRiskModel

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="where the derived data sets are")
    parser.add_argument("--sentiment-model", default=None, help="model folder to add risk signals to "
                                                                "(default: the embedded default model)")
    parser.add_argument("--out", type=Path, default=Path("runs/default_risk"))
    parser.add_argument("--no-ensemble", action="store_true", help="ship the head alone (no stacker)")
    parser.add_argument("--no-tests", action="store_true", help="skip the held-out risk tests at the end")
    parser.add_argument("--sentiment-config", default="finetune/configs/default.yaml",
                        help="the sentiment model's training config, shown in the card")
    args = parser.parse_args(argv)
    started = time.time()

    files = {"silver": args.runs / "risk_silver.jsonl", "sentivent_train": args.runs / "sentivent_train.jsonl",
             "sentivent_dev": args.runs / "sentivent_dev.jsonl", "gold_dev": DEV_FILE}
    sets = {name: read_set(path, name) for name, path in files.items()}
    feats = {name: embed(s.texts, args.sentiment_model, cache_path(args.runs, name, RECIPE["layers"]),
                         layers=RECIPE["layers"]) for name, s in sets.items()}
    gold, sv = sets["gold_dev"], sets["sentivent_dev"]
    folds = fold_of(gold.groups)
    pool = [(sets["silver"], feats["silver"], RECIPE["silver_weight"]),
            (sets["sentivent_train"], feats["sentivent_train"], RECIPE["sentivent_weight"])]
    oof, sv_logits, head = dev_scores(pool, (gold, feats["gold_dev"]), (sv, feats["sentivent_dev"]),
                                      RECIPE["gold_weight"], l2=RECIPE["l2"], hidden=RECIPE["hidden"])
    dev_logits = np.concatenate([oof, sv_logits])
    dev_targets, dev_known = np.concatenate([gold.targets, sv.targets]), np.concatenate([gold.known, sv.known])

    a, c = platt(dev_logits, dev_targets, dev_known)
    calibrated = a * dev_logits + c
    last = head if isinstance(head, torch.nn.Linear) else head[-1]
    with torch.no_grad():  # folded into the last layer: the saved head outputs calibrated logits
        last.weight.mul_(torch.tensor(a, dtype=torch.float32)[:, None])
        last.bias.copy_(last.bias * torch.tensor(a, dtype=torch.float32) + torch.tensor(c, dtype=torch.float32))
    head_probs = sigmoid(calibrated)
    calibration = {label: {"a": float(a[k]), "c": float(c[k]),
                           "ece_before": binary_ece(dev_targets[dev_known[:, k], k],
                                                    sigmoid(dev_logits)[dev_known[:, k], k]),
                           "ece_after": binary_ece(dev_targets[dev_known[:, k], k], head_probs[dev_known[:, k], k])}
                   for k, label in enumerate(RISK_LABELS)}
    head_thresholds = tuned(dev_targets, dev_known, head_probs)
    results = {"recipe": RECIPE, "rows": {n: len(s) for n, s in sets.items()}, "calibration_dev": calibration,
               "dev_head": multilabel_report(dev_targets, head_probs, RISK_LABELS, head_thresholds, dev_known)}

    ensemble = None
    shipped_probs, thresholds = head_probs, head_thresholds
    scores, fired, label_model = rule_features_cross_fitted(gold, sv, folds)
    choice = ensemble_choice(calibrated, scores, fired, dev_targets, dev_known, label_model,
                             np.concatenate([folds, fold_of(sv.groups)]))
    results["ensemble_choice_dev"] = choice
    print(json.dumps({k: v for k, v in choice.items() if k != "per_label"}), flush=True)
    if choice["ship"] and not args.no_ensemble:
        ensemble = RiskEnsemble.fit(calibrated, scores, fired, dev_targets, dev_known, label_model, RISK_LABELS)
        shipped_probs = ensemble.combine(calibrated, scores, fired)
        thresholds = tuned(dev_targets, dev_known, shipped_probs)
        ensemble.head_thresholds = head_thresholds
        results["dev_ensemble"] = multilabel_report(dev_targets, shipped_probs, RISK_LABELS, thresholds, dev_known)
        results["ensemble_coefficients"] = ensemble.coefficients

    from textrisk.models.hub import DEFAULT_MODEL_DIR

    source = Path(args.sentiment_model) if args.sentiment_model else DEFAULT_MODEL_DIR
    model = TextRiskModel.from_pretrained(source)
    model.add_risk_head(list(RISK_LABELS), hidden=RECIPE["hidden"], layers=RECIPE["layers"])
    model.heads["risk"].load_state_dict(head.state_dict())
    model.config.risk_thresholds = thresholds
    model.config.risk_ensemble = ensemble.to_dict() if ensemble else {}
    model.config = type(model.config)(**vars(model.config))  # re-validated: ensemble labels, thresholds
    results["sources"] = {"silver": len(sets["silver"]), "sentivent": len(sets["sentivent_train"]),
                          "gold_dev": len(gold)}
    if not args.no_tests:
        from textrisk.evaluation.risk import evaluate_risk_sets

        results["tests"] = evaluate_risk_sets(model, list(TESTS), progress=True)
    results["seconds"] = time.time() - started
    save(model, source, args.out, results, args.sentiment_config)
    summary = {"dev_head_macro_f1": results["dev_head"]["macro_f1"],
               "dev_ensemble_macro_f1": results.get("dev_ensemble", {}).get("macro_f1"),
               "seconds": round(results["seconds"], 1)}
    for name, result in results.get("tests", {}).items():
        summary[name] = {system: round(m["macro_f1"], 4) for system, m in result["systems"].items()}
    print(json.dumps(summary, indent=1))
    print(f"wrote {args.out}")


def save(model, source: Path, out: Path, risk: dict, sentiment_config: str | None) -> None:
    """Save ``model`` to ``out``: the sentiment model's training results plus a ``risk_head`` section, and a card
    rendered from both (the package's one card renderer)."""
    from textrisk import __version__
    from textrisk.models.cards import ModelCardData, render_model_card
    from textrisk.training.config import TrainConfig

    results = json.loads((source / "training_results.json").read_text(encoding="utf-8"))
    results["risk_head"] = risk
    config = TrainConfig.from_yaml(sentiment_config).to_dict() if sentiment_config else {}
    card = ModelCardData(
        base_model=model.config.base_model, labels=list(model.config.labels), train_sources=results["sources"],
        dev_rows=results["dev_rows"], config=config,
        dev_metrics={k: v for k, v in results["dev"].items() if isinstance(v, float)},
        temperature=results["temperature"], eval_metrics=results["eval"], train_seconds=results.get("seconds", 0.0),
        textrisk_version=__version__, risk_labels=list(model.config.risk_labels), risk_sources=risk["sources"],
        risk_tests=risk.get("tests", {}), risk_ensemble=bool(model.config.risk_ensemble),
        risk_calibration={k: {"ece_before": v["ece_before"], "ece_after": v["ece_after"]}
                          for k, v in risk["calibration_dev"].items()},
    )
    model.save_pretrained(out, model_card=render_model_card(card, pooling=model.config.pooling,
                                                            risk_hidden=model.config.risk_hidden))
    atomic_write_json(out / "training_results.json", results)


if __name__ == "__main__":
    main()
