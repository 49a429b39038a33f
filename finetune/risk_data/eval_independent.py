"""The labelling functions on the two independent tests: the random gold test and the SENTiVENT adjudicated test.

Both tests were labelled without the rules: the random gold test by reading sentences drawn at random (not by
keyword) against GUIDE.md, SENTiVENT by its own annotators with its own event types, mapped by
``sentivent.MAPPING``. The rules are the label model fitted on gold *dev* (as in ``compare.rules_on_gold_test``)
and the majority vote. For each test this prints and writes per-label precision / recall / F1, macro and micro
F1, flags per 1,000 sentences and flag precision:

- **random gold test**: all 12 labels; also per source (FPB, TFNS, StockNet, filings);
- **SENTiVENT test**: the informed labels that have positives in the test set; a sentence that the mapping leaves
  *unknown* for a label is left out of that label's counts; predictions for uninformed labels are ignored.

``--model DIR`` also scores a saved textrisk model with a risk head, through the public API
(``RiskAnalyzer.from_pretrained(DIR).score(texts)``): its predictions are each report's ``flags`` (the signals at or
over the model's stored per-label thresholds).

"Flags per 1,000" counts sentences with at least one predicted label (``flagged_rows``) and predicted labels
(``flags``); "flag precision" is the share of predicted (sentence, label) pairs that the test confirms.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.sentivent --out-dir runs     # writes runs/sentivent_test.jsonl
    HF_HUB_OFFLINE=1 python -m finetune.risk_data.eval_independent --out runs/risk_independent_eval.json \
        [--model runs/<model folder>]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from finetune.risk_data.build_gold import DEV_FILE, load_gold
from finetune.risk_data.build_random_gold import TEST_FILE as RANDOM_TEST_FILE
from finetune.risk_data.eval_rules import per_label_scores
from finetune.risk_data.sentivent import INFORMED_LABELS
from textrisk.errors import ModelLoadError
from textrisk.labels.label_model import LabelModel
from textrisk.labels.rules import lf_votes, majority_vote
from textrisk.labels.taxonomy import RISK_LABELS
from textrisk.utils.atomic import atomic_write_json

BOOTSTRAP_SAMPLES = 1000


def flag_rates(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], labels: Sequence[str]) -> dict:
    """Flags per 1,000 sentences and flag precision over ``labels`` (scored pairs only)."""
    n = len(gold)
    pairs = [(label in g, label in p) for g, p in zip(gold, pred) for label in labels]
    flags = sum(p for _, p in pairs)
    correct = sum(g and p for g, p in pairs)
    flagged_rows = sum(any(label in p for label in labels) for p in pred)
    gold_rows = sum(any(label in g for label in labels) for g in gold)
    return {"sentences": n, "flagged_rows": flagged_rows, "flags": flags,
            "flagged_rows_per_1000": 1000 * flagged_rows / n if n else 0.0,
            "flags_per_1000": 1000 * flags / n if n else 0.0,
            "gold_rows_per_1000": 1000 * gold_rows / n if n else 0.0,
            "flag_precision": correct / flags if flags else None}


def score_random(rows: Sequence[dict], pred: Sequence[Sequence[str]]) -> dict:
    """Scores on the random gold test: all labels, overall and per source."""
    gold = [row["labels"] for row in rows]
    out = {**per_label_scores(gold, pred), **flag_rates(gold, pred, RISK_LABELS), "by_source": {}}
    for source in sorted({row["source"] for row in rows}):
        idx = [i for i, row in enumerate(rows) if row["source"] == source]
        sub_gold, sub_pred = [gold[i] for i in idx], [pred[i] for i in idx]
        out["by_source"][source] = {**flag_rates(sub_gold, sub_pred, RISK_LABELS),
                                    "micro_f1": per_label_scores(sub_gold, sub_pred)["micro_f1"]}
    return out


def score_masked(rows: Sequence[dict], pred: Sequence[Sequence[str]], labels: Sequence[str]) -> dict:
    """Per-label scores where each label is scored only on the rows that do not list it as ``unknown``."""
    out: dict = {"per_label": {}}
    tp = n_pred = n_gold = 0
    for label in labels:
        idx = [i for i, row in enumerate(rows) if label not in row.get("unknown", [])]
        gold = [rows[i]["labels"] for i in idx]
        sub_pred = [pred[i] for i in idx]
        scores = per_label_scores(gold, sub_pred, [label])["per_label"][label]
        scores["scored_rows"] = len(idx)
        out["per_label"][label] = scores
        tp += sum(label in g and label in p for g, p in zip(gold, sub_pred))
        n_pred, n_gold = n_pred + scores["predicted"], n_gold + scores["support"]
    f1s = [s["f1"] for s in out["per_label"].values()]
    out["macro_f1"] = sum(f1s) / len(f1s) if f1s else 0.0
    micro_p, micro_r = (tp / n_pred if n_pred else 0.0), (tp / n_gold if n_gold else 0.0)
    out["micro_f1"] = 2 * micro_p * micro_r / (micro_p + micro_r) if micro_p + micro_r else 0.0
    out["flag_precision"] = micro_p if n_pred else None
    out["flags"] = n_pred
    out["flags_per_1000"] = 1000 * n_pred / len(rows) if rows else 0.0
    return out


def score_sentivent(rows: Sequence[dict], pred: Sequence[Sequence[str]]) -> dict:
    """Scores on the SENTiVENT test over the informed labels with test positives."""
    labels = [label for label in INFORMED_LABELS if any(label in row["labels"] for row in rows)]
    out = score_masked(rows, pred, labels)
    out["scored_labels"] = labels
    out["informed_without_test_positives"] = [label for label in INFORMED_LABELS if label not in labels]
    return out


def bootstrap(rows: Sequence[dict], pred: Sequence[Sequence[str]], scorer, group_key: str | None = None,
              n: int = BOOTSTRAP_SAMPLES, seed: int = 0) -> dict:
    """95 % percentile intervals of macro F1, micro F1 and flag precision under resampling.

    Rows are resampled with replacement, or whole groups (``row[group_key]``, e.g. SENTiVENT articles) when
    ``group_key`` is given, since sentences of one article are not independent.
    """
    rng = np.random.default_rng(seed)
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(str(row[group_key]) if group_key else str(i), []).append(i)
    members = list(groups.values())
    draws: dict[str, list[float]] = {"macro_f1": [], "micro_f1": [], "flag_precision": []}
    for _ in range(n):
        idx = [i for g in rng.integers(0, len(members), len(members)) for i in members[g]]
        result = scorer([rows[i] for i in idx], [pred[i] for i in idx])
        for key, values in draws.items():
            if result.get(key) is not None:
                values.append(result[key])
    return {key: [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] if v else None
            for key, v in draws.items()}


def rule_predictions(texts: Sequence[str], dev: Sequence[dict]) -> dict[str, list[list[str]]]:
    """Label-model (fitted on gold dev) and majority-vote predictions for ``texts``."""
    model = LabelModel.fit(lf_votes([row["text"] for row in dev]), [row["labels"] for row in dev])
    votes = lf_votes(list(texts))
    return {"label_model": model.predict(votes), "majority_vote": majority_vote(votes)}


def random_core_scores(rows: Sequence[dict], pred: Sequence[Sequence[str]]) -> dict:
    """Per-label scores and flag rates over all labels (the random test's scores without the per-source split)."""
    gold = [row["labels"] for row in rows]
    return {**per_label_scores(gold, pred), **flag_rates(gold, pred, RISK_LABELS)}


def sentivent_scorer(all_rows: Sequence[dict]):
    """A scorer over the labels scored on the full SENTiVENT test, so a resample without a label's positives still
    counts that label (F1 0) instead of dropping it from the macro average."""
    labels = [label for label in INFORMED_LABELS if any(label in row["labels"] for row in all_rows)]
    return lambda rows, pred: score_masked(rows, pred, labels)


def model_predictions(model_dir: str | Path, texts: Sequence[str], batch_size: int = 32) -> list[list[str]]:
    """The flags of a saved textrisk model with a risk head, one list per text.

    Raises:
        ModelLoadError: the model has no risk head.
    """
    from textrisk import RiskAnalyzer

    analyzer = RiskAnalyzer.from_pretrained(model_dir, batch_size=batch_size, backend="torch")  # fp32 reference
    reports = analyzer.score(list(texts))
    if reports and reports[0].risk_signals is None:
        raise ModelLoadError(f"{model_dir} has no risk head, so it gives no risk flags to score")
    return [list(report.flags) for report in reports]


def _table(title: str, result: dict) -> str:
    lines = [title, "| label | P | R | F1 | n | predicted |", "|---|---|---|---|---|---|"]
    for label, s in result["per_label"].items():
        lines.append(f"| {label} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} | "
                     f"{s['predicted']} |")
    precision = result.get("flag_precision")
    lines.append(f"| **macro F1** | | | **{result['macro_f1']:.3f}** | | |")
    lines.append(f"| micro F1 | | | {result['micro_f1']:.3f} | | |")
    lines.append(f"\nflags per 1,000 sentences: {result['flags_per_1000']:.1f}; flag precision: "
                 + ("n/a" if precision is None else f"{precision:.3f}"))
    ci = result.get("ci95") or {}
    if ci:
        lines.append("95 % bootstrap intervals: " + "; ".join(
            f"{key} {v[0]:.3f}-{v[1]:.3f}" for key, v in ci.items() if v is not None))
    if "flagged_rows_per_1000" in result:
        lines.append(f"flagged sentences per 1,000: {result['flagged_rows_per_1000']:.1f} "
                     f"(gold: {result['gold_rows_per_1000']:.1f})")
    for source, s in result.get("by_source", {}).items():
        p = "n/a" if s["flag_precision"] is None else f"{s['flag_precision']:.3f}"
        lines.append(f"  {source}: {s['sentences']} sentences, flagged {s['flagged_rows_per_1000']:.1f} / 1,000 "
                     f"(gold {s['gold_rows_per_1000']:.1f}), flags {s['flags_per_1000']:.1f} / 1,000, "
                     f"precision {p}, micro F1 {s['micro_f1']:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Score the rules on both independent tests; print Markdown tables and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--random-test", default=str(RANDOM_TEST_FILE))
    parser.add_argument("--sentivent-test", default="runs/sentivent_test.jsonl",
                        help="written by `python -m finetune.risk_data.sentivent --out-dir runs`")
    parser.add_argument("--out", default="runs/risk_independent_eval.json")
    parser.add_argument("--model", default=None, help="also score this saved model's risk flags")
    args = parser.parse_args(argv)
    if not Path(args.sentivent_test).is_file():
        raise SystemExit(f"{args.sentivent_test} not found: run `python -m finetune.risk_data.sentivent` first")
    dev = load_gold(DEV_FILE)
    random_rows = load_gold(Path(args.random_test))
    sentivent_rows = load_gold(Path(args.sentivent_test))
    result: dict = {"random_gold_test": {"file": args.random_test, "rows": len(random_rows)},
                    "sentivent_test": {"file": args.sentivent_test, "rows": len(sentivent_rows)}}
    random_pred = rule_predictions([row["text"] for row in random_rows], dev)
    sentivent_pred = rule_predictions([row["text"] for row in sentivent_rows], dev)
    if args.model:
        random_pred["model"] = model_predictions(args.model, [row["text"] for row in random_rows])
        sentivent_pred["model"] = model_predictions(args.model, [row["text"] for row in sentivent_rows])
        result["model"] = str(args.model)
    for combiner in random_pred:
        result["random_gold_test"][combiner] = score_random(random_rows, random_pred[combiner])
        result["random_gold_test"][combiner]["ci95"] = bootstrap(random_rows, random_pred[combiner], random_core_scores)
        result["sentivent_test"][combiner] = score_sentivent(sentivent_rows, sentivent_pred[combiner])
        result["sentivent_test"][combiner]["ci95"] = bootstrap(sentivent_rows, sentivent_pred[combiner],
                                                               sentivent_scorer(sentivent_rows), "article")
        name = "Model" if combiner == "model" else f"Rules ({combiner})"
        print(_table(f"\n## {name} on the random gold test ({len(random_rows)} sentences)",
                     result["random_gold_test"][combiner]))
        print(_table(f"\n## {name} on the SENTiVENT adjudicated test ({len(sentivent_rows)} sentences)",
                     result["sentivent_test"][combiner]))
    atomic_write_json(Path(args.out), result)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
