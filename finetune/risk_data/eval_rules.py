"""Evaluate the risk labelling functions on the gold set: each LF alone, the majority vote and the label model.

The label model's parameters (and, with ``--tune-thresholds``, its per-label thresholds) are fitted on gold *dev*,
so its dev scores are in-sample; gold *test* is never used for fitting. ``--show-errors`` lists the dev rows that
a combiner gets wrong, for refining the rules; it refuses to list test rows.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.eval_rules --out runs/risk_rules_eval.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from finetune.risk_data.build_gold import DEV_FILE, TEST_FILE, load_gold, read_drawn
from textrisk.labels.label_model import LabelModel
from textrisk.labels.rules import POS, VoteMatrix, lf_votes, majority_vote
from textrisk.labels.taxonomy import RISK_LABELS
from textrisk.metrics.reports import label_matrix, multilabel_report


def per_label_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]],
                     labels: Sequence[str] = RISK_LABELS) -> dict:
    """:func:`textrisk.metrics.reports.multilabel_report` of predicted label lists against gold label lists."""
    return multilabel_report(label_matrix(gold, labels), label_matrix(pred, labels), labels)


def per_lf_scores(matrix: VoteMatrix, gold: Sequence[Sequence[str]]) -> dict:
    """For each LF: how often it fires, its precision (agreement with gold when it fires) and, for POS LFs, recall."""
    out = {}
    for j, lf in enumerate(matrix.functions):
        y = np.array([lf.label in row for row in gold])
        fired = matrix.votes[:, j] != -1
        n_fired = int(fired.sum())
        if lf.vote == POS:
            correct = int((fired & y).sum())
            recall = correct / int(y.sum()) if y.sum() else 0.0
        else:
            correct = int((fired & ~y).sum())
            recall = None
        out[lf.name] = {"label": lf.label, "vote": "POS" if lf.vote == POS else "NEG", "fires": n_fired,
                        "coverage": n_fired / len(gold), "precision": correct / n_fired if n_fired else None,
                        "recall": recall}
    return out


def label_model_cross_validation(matrix: VoteMatrix, gold: Sequence[Sequence[str]], folds: int = 5,
                                 seed: int = 0) -> dict:
    """Out-of-fold scores of the label model on ``gold`` (k-fold), to compare it fairly with the majority vote."""
    order = np.random.default_rng(seed).permutation(len(gold))
    pred: list[list[str]] = [[] for _ in gold]
    for part in np.array_split(order, folds):
        train = np.setdiff1d(order, part)
        model = LabelModel.fit(VoteMatrix(matrix.votes[train], matrix.functions), [gold[i] for i in train])
        for i, labels in zip(part, model.predict(VoteMatrix(matrix.votes[part], matrix.functions))):
            pred[i] = labels
    return per_label_scores(gold, pred)


def _table(title: str, scores: dict) -> str:
    lines = [f"{title}", f"{'label':<20}{'P':>7}{'R':>7}{'F1':>7}{'n':>6}"]
    for label, s in scores["per_label"].items():
        lines.append(f"{label:<20}{s['precision']:>7.3f}{s['recall']:>7.3f}{s['f1']:>7.3f}{s['support']:>6}")
    lines.append(f"{'macro F1':<20}{'':>14}{scores['macro_f1']:>7.3f}")
    lines.append(f"{'micro F1':<20}{'':>14}{scores['micro_f1']:>7.3f}")
    return "\n".join(lines)


def _lf_table(title: str, scores: dict) -> str:
    lines = [title, f"{'labelling function':<34}{'vote':>5}{'fires':>7}{'P':>7}{'R':>7}"]
    for name, s in scores.items():
        precision = "-" if s["precision"] is None else f"{s['precision']:.3f}"
        recall = "-" if s["recall"] is None else f"{s['recall']:.3f}"
        lines.append(f"{name:<34}{s['vote']:>5}{s['fires']:>7}{precision:>7}{recall:>7}")
    return "\n".join(lines)


def evaluate(dev_path: Path = DEV_FILE, test_path: Path = TEST_FILE, tune_thresholds: bool = False) -> dict:
    """Score the LFs, the majority vote and the dev-fitted label model on gold dev and test."""
    dev, test = load_gold(dev_path), load_gold(test_path)
    dev_m, test_m = lf_votes([r["text"] for r in dev]), lf_votes([r["text"] for r in test])
    dev_y, test_y = [r["labels"] for r in dev], [r["labels"] for r in test]
    model = LabelModel.fit(dev_m, dev_y)
    if tune_thresholds:
        model.tune_thresholds(dev_m, dev_y)
    # Rows drawn at random were not chosen by a keyword query, so they show the retrieval step's bias.
    drawn = read_drawn()
    test_pred = model.predict(test_m)
    by_draw = {}
    for name, keep in (("random", lambda i: drawn.get(i, "").endswith(":random")),
                       ("retrieved", lambda i: not drawn.get(i, "").endswith(":random"))):
        idx = [k for k, row in enumerate(test) if keep(row["id"])]
        scores = per_label_scores([test_y[k] for k in idx], [test_pred[k] for k in idx])
        by_draw[name] = {"rows": len(idx), "positives": sum(s["support"] for s in scores["per_label"].values()),
                         "micro_f1": scores["micro_f1"]}
    return {
        "rows": {"dev": len(dev), "test": len(test)},
        "label_model": model.to_dict(),
        "dev": {"majority_vote": per_label_scores(dev_y, majority_vote(dev_m)),
                "label_model_in_sample": per_label_scores(dev_y, model.predict(dev_m)),
                "label_model_5fold": label_model_cross_validation(dev_m, dev_y),
                "functions": per_lf_scores(dev_m, dev_y)},
        "test": {"majority_vote": per_label_scores(test_y, majority_vote(test_m)),
                 "label_model": per_label_scores(test_y, test_pred),
                 "label_model_by_draw": by_draw,
                 "functions": per_lf_scores(test_m, test_y)},
    }


def show_dev_errors(combiner: str, tune_thresholds: bool = False) -> None:
    """Print the false positives and false negatives of a combiner on gold dev, per label."""
    dev = load_gold(DEV_FILE)
    matrix = lf_votes([r["text"] for r in dev])
    gold = [r["labels"] for r in dev]
    if combiner == "majority":
        pred = majority_vote(matrix)
    else:
        model = LabelModel.fit(matrix, gold)
        if tune_thresholds:
            model.tune_thresholds(matrix, gold)
        pred = model.predict(matrix)
    for label in RISK_LABELS:
        cols = matrix.columns(label)
        for i, (row, g, p) in enumerate(zip(dev, gold, pred)):
            kind = "FP" if label in p and label not in g else "FN" if label in g and label not in p else None
            if kind:
                fired = [matrix.functions[j].name for j in cols if matrix.votes[i, j] != -1]
                print(f"{label} {kind} {row['id']} gold={g} fired={fired} | {row['text'][:200]!r}")


def main(argv: list[str] | None = None) -> None:
    """Print the tables and optionally write everything as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="write the scores as JSON here")
    parser.add_argument("--tune-thresholds", action="store_true", help="tune label-model thresholds on dev")
    parser.add_argument("--show-errors", choices=("majority", "label_model"), default=None,
                        help="list gold-dev errors of a combiner (dev only)")
    args = parser.parse_args(argv)
    if args.show_errors:
        show_dev_errors(args.show_errors, args.tune_thresholds)
        return
    result = evaluate(tune_thresholds=args.tune_thresholds)
    print(f"gold dev {result['rows']['dev']} rows, gold test {result['rows']['test']} rows")
    print(_table("== test: majority vote", result["test"]["majority_vote"]))
    print(_table("== test: label model (fitted on dev)", result["test"]["label_model"]))
    print(_table("== dev: majority vote", result["dev"]["majority_vote"]))
    print(_table("== dev: label model (in-sample)", result["dev"]["label_model_in_sample"]))
    print(f"== dev: label model, 5-fold out-of-fold macro F1 {result['dev']['label_model_5fold']['macro_f1']:.3f}")
    for name, part in result["test"]["label_model_by_draw"].items():
        print(f"== test, label model, rows drawn {name}: {part['rows']} rows, {part['positives']} label positives, "
              f"micro F1 {part['micro_f1']:.3f}")
    print(_lf_table("== test: each labelling function", result["test"]["functions"]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
