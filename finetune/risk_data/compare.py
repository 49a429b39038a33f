"""Risk signals on gold test: the labelling functions vs the trained head, and the cost of joint training.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.compare [--model textrisk/default_model]
        [--baseline runs/default/training_results.json] [--out runs/risk_compare.json]

Prints a Markdown table per label: the rules (label model fitted on gold dev), the head at threshold 0.5, the head
at its thresholds tuned on gold dev; macro F1 of each; and, given the sentiment-only run's results, the change in
sentiment weighted F1 that joint training caused on FPB test and TFNS valid.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from finetune.risk_data.build_gold import DEV_FILE, TEST_FILE, load_gold
from finetune.risk_data.eval_rules import per_label_scores
from textrisk.data.datasets import load_risk_file
from textrisk.labels.label_model import LabelModel
from textrisk.labels.rules import lf_votes
from textrisk.metrics.reports import multilabel_report
from textrisk.models.head.model import TextRiskModel
from textrisk.models.hub import DEFAULT_MODEL_DIR
from textrisk.utils.atomic import atomic_write_json


def rules_on_gold_test() -> dict:
    """The labelling functions' scores on gold test (label model fitted on gold dev): what a head must beat."""
    dev, test = load_gold(DEV_FILE), load_gold(TEST_FILE)
    rules_model = LabelModel.fit(lf_votes([r["text"] for r in dev]), [r["labels"] for r in dev])
    return per_label_scores([r["labels"] for r in test], rules_model.predict(lf_votes([r["text"] for r in test])))


def compare(model_dir: str | Path, baseline: str | Path | None) -> dict:
    """All numbers of the comparison as a dict."""
    test = load_gold(TEST_FILE)
    rules = rules_on_gold_test()
    model = TextRiskModel.from_pretrained(model_dir)
    data = load_risk_file(TEST_FILE, model.risk_labels)
    probs, targets = model.predict_risk(data["text"]), data["risk"]
    result = {"rows": len(test), "rules": {"macro_f1": rules["macro_f1"],
                                           "per_label": rules["per_label"]},
              "head_threshold_0.5": multilabel_report(targets, probs, model.risk_labels),
              "head_tuned": multilabel_report(targets, probs, model.risk_labels, model.risk_thresholds)}
    joint_path = Path(model_dir) / "training_results.json"
    if baseline and Path(baseline).is_file() and joint_path.is_file():
        before = json.loads(Path(baseline).read_text(encoding="utf-8"))["eval"]
        after = json.loads(joint_path.read_text(encoding="utf-8"))["eval"]
        result["sentiment_weighted_f1"] = {
            name: {"sentiment_only": before[name]["weighted_f1"], "joint": after[name]["weighted_f1"],
                   "change_points": 100 * (after[name]["weighted_f1"] - before[name]["weighted_f1"])}
            for name in after if name in before
        }
    return result


def markdown(result: dict) -> str:
    """The README table."""
    lines = ["| label | rules P | rules R | rules F1 | head F1 @0.5 | head P | head R | head F1 (tuned) | n |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, r in result["rules"]["per_label"].items():
        h5, ht = result["head_threshold_0.5"]["per_label"][label], result["head_tuned"]["per_label"][label]
        lines.append(f"| {label} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {h5['f1']:.3f} | "
                     f"{ht['precision']:.3f} | {ht['recall']:.3f} | {ht['f1']:.3f} | {r['support']} |")
    lines.append(f"| **macro F1** | | | **{result['rules']['macro_f1']:.3f}** | "
                 f"**{result['head_threshold_0.5']['macro_f1']:.3f}** | | | "
                 f"**{result['head_tuned']['macro_f1']:.3f}** | {result['rows']} rows |")
    for name, s in result.get("sentiment_weighted_f1", {}).items():
        lines.append(f"\nSentiment weighted F1 on {name}: {s['sentiment_only']:.4f} sentiment-only -> "
                     f"{s['joint']:.4f} with the risk head ({s['change_points']:+.2f} pt)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the comparison; write JSON with --out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL_DIR))
    parser.add_argument("--baseline", default="runs/default/training_results.json",
                        help="training_results.json of the sentiment-only run")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    result = compare(args.model, args.baseline)
    print(markdown(result))
    if args.out:
        atomic_write_json(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
