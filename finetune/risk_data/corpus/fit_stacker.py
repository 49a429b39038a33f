"""Attach the rules-as-stacker ensemble to a judgement model, when dev data says the rules help.

The judgement head's signal logits (calibrated: Platt is folded into the head) and the labelling functions' features
are combined per label by :class:`textrisk.models.head.ensemble.RiskEnsemble`. Everything is fitted on dev only
(gold dev and the corpus's dev split): the rule features of each dev row come from a label model fitted on the
other folds (cross-fitting, 5 folds), the stacker is fitted on those, and the label model that ships is fitted on
all of gold dev + corpus dev. The out-of-fold check (:func:`finetune.risk_data.corpus.compare_dev.stacker_check`)
decides: the ensemble is attached only if its out-of-fold macro average precision beats the head's. Flag thresholds
are re-tuned on the ensemble's dev probabilities; the head's own thresholds are kept in the ensemble.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.corpus.fit_stacker --model runs/default_judgement \\
        --out runs/default_judgement_stacked
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from finetune.risk_data.corpus.compare_dev import StackerInputs, label_lists, stacker_check
from textrisk.labels.label_model import LabelModel
from textrisk.labels.rules import lf_votes
from textrisk.labels.taxonomy import RISK_LABELS
from textrisk.metrics.reports import tune_threshold
from textrisk.models.head.ensemble import RiskEnsemble
from textrisk.models.head.model import TextRiskModel
from textrisk.utils.atomic import atomic_write_json


def main(argv: list[str] | None = None) -> None:
    """Check out of fold, then fit and attach the ensemble (or say why not)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a judgement model folder (a finished training run)")
    parser.add_argument("--out", required=True, help="folder to write the model with the ensemble to")
    args = parser.parse_args(argv)
    model = TextRiskModel.from_pretrained(args.model)  # unmerged: saved again as a small adapter
    inputs = StackerInputs.of(model)
    check = stacker_check(inputs)
    print(json.dumps(check))
    if not check["keep_rules"]:
        print("the stacker does not beat the head out of fold on dev: no ensemble attached")
        return
    rows, (scores, fired) = inputs.rows, inputs.cross_fitted()
    shipped_model = LabelModel.fit(lf_votes(rows.texts), label_lists(rows))
    ensemble = RiskEnsemble.fit(inputs.logits, scores, fired, rows.risk, rows.known, shipped_model, RISK_LABELS)
    probs = ensemble.combine(inputs.logits, scores, fired)
    ensemble.head_thresholds = dict(model.config.risk_thresholds)
    model.config.risk_thresholds = {label: tune_threshold(rows.risk[:, k], probs[:, k], mask=rows.known[:, k])
                                    for k, label in enumerate(RISK_LABELS)}
    model.config.risk_ensemble = ensemble.to_dict()
    model.config = type(model.config)(**vars(model.config))  # re-validated: ensemble labels, thresholds
    out = Path(args.out)
    model.save_pretrained(out, model_card=(Path(args.model) / "README.md").read_text(encoding="utf-8"))
    for name in ("train_config.json", "training_results.json"):
        shutil.copyfile(Path(args.model) / name, out / name)
    results = json.loads((out / "training_results.json").read_text(encoding="utf-8"))
    results.setdefault("risk", {})["stacker"] = {"check": check, "coefficients": ensemble.coefficients,
                                                 "dev_rows": len(rows.texts)}
    atomic_write_json(out / "training_results.json", results)
    print(f"wrote {out} (ensemble attached; thresholds re-tuned on dev)")


if __name__ == "__main__":
    main()
