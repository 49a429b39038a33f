"""Experiment: a risk-only LoRA adapter (separate from the sentiment adapter) trained on the silver set.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.separate_adapter --silver runs/risk_silver.jsonl \
        --out runs/risk_separate_adapter.json [--epochs 5] [--learning-rate 1e-3] [--rank 16]

The third way to train the risk head, after the head on the frozen sentiment model (``default_risk.yaml``) and
joint training (``risk_joint.yaml``): a fresh LoRA adapter (rank ``--rank`` on query/key/value/dense) on the
MiniLM base plus a risk head, trained on silver only, so sentiment cannot change. Loss: per-label BCE with
positives weighted by ``sqrt(negatives / positives)``. After every epoch the thresholds are tuned on gold dev
and gold test is scored, next to the rules (label model fitted on gold dev). Nothing is saved but the JSON:
this measures whether the approach can beat the rules before the package grows a second adapter. It is an
experiment, not a training entry point: it keeps no checkpoints (``python -m finetune.train`` does) and takes
about 40 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch

from finetune.risk_data.build_gold import DEV_FILE, TEST_FILE
from finetune.risk_data.compare import rules_on_gold_test
from textrisk.data.datasets import load_risk_file
from textrisk.labels.taxonomy import RISK_LABELS
from textrisk.metrics.reports import multilabel_report, tune_thresholds
from textrisk.models.backbone import DEFAULT_BASE_MODEL
from textrisk.models.head.model import TextRiskModel
from textrisk.training.data import risk_pos_weight
from textrisk.utils.atomic import atomic_write_json


def main(argv: list[str] | None = None) -> None:
    """Train, evaluate after every epoch, write the JSON and print the last epoch against the rules."""
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--silver", default="runs/risk_silver.jsonl")
    parser.add_argument("--out", type=Path, default=Path("runs/risk_separate_adapter.json"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="adapter; the head gets 4x")
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    labels = list(RISK_LABELS)
    silver = load_risk_file(args.silver, labels)
    dev, test = load_risk_file(DEV_FILE, labels), load_risk_file(TEST_FILE, labels)
    rules = rules_on_gold_test()

    model = TextRiskModel.from_base(DEFAULT_BASE_MODEL, max_length=args.max_length, lora_r=args.rank,
                                    lora_alpha=2 * args.rank, lora_target_modules=["query", "key", "value", "dense"],
                                    risk_labels=labels)
    texts = silver["text"]
    targets = torch.tensor(silver["risk"], dtype=torch.float32)
    pos_weight = risk_pos_weight(silver["risk"])  # the package's weighting (the 0.757 run used it unclipped)
    adapter = [p for n, p in model.named_parameters() if p.requires_grad and "heads" not in n]
    head = list(model.heads["risk"].parameters())
    optimizer = torch.optim.AdamW([{"params": adapter, "lr": args.learning_rate},
                                   {"params": head, "lr": 4 * args.learning_rate}], weight_decay=0.01)
    steps_per_epoch = math.ceil(len(texts) / args.batch_size)
    total = args.epochs * steps_per_epoch
    scheduler = get_linear_schedule_with_warmup(optimizer, int(0.06 * total), total)
    trainable = [p for p in model.parameters() if p.requires_grad]

    started, epochs = time.time(), []
    bar = tqdm(total=total, desc="risk adapter", unit="step")
    for epoch in range(args.epochs):
        model.train()
        order = np.random.default_rng(args.seed + epoch).permutation(len(texts))
        for step in range(steps_per_epoch):
            index = order[step * args.batch_size:(step + 1) * args.batch_size]
            batch = model.encode([texts[i] for i in index])
            loss = model(batch["input_ids"], batch["attention_mask"], risk_targets=targets[index],
                         risk_pos_weight=pos_weight)["loss"]
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            bar.update()
        dev_probs, test_probs = model.predict_risk(dev["text"]), model.predict_risk(test["text"])
        thresholds = tune_thresholds(np.asarray(dev["risk"]), dev_probs, labels)
        epochs.append({"epoch": epoch + 1, "seconds": round(time.time() - started, 1), "thresholds": thresholds,
                       "test_threshold_0.5": multilabel_report(np.asarray(test["risk"]), test_probs, labels),
                       "test_tuned": multilabel_report(np.asarray(test["risk"]), test_probs, labels, thresholds)})
        bar.write(f"epoch {epoch + 1}: gold test macro F1 {epochs[-1]['test_tuned']['macro_f1']:.3f} (tuned), "
                  f"{epochs[-1]['test_threshold_0.5']['macro_f1']:.3f} (0.5); {epochs[-1]['seconds']:.0f} s")
        atomic_write_json(args.out, {"args": {k: str(v) for k, v in vars(args).items()}, "silver_rows": len(texts),
                                     "rules": {"macro_f1": rules["macro_f1"], "per_label": rules["per_label"]},
                                     "epochs": epochs})

    bar.close()
    last = epochs[-1]["test_tuned"]
    print("\n| label | rules F1 | adapter F1 (tuned) | beats rules |\n|---|---|---|---|")
    for label in labels:
        ours, theirs = last["per_label"][label]["f1"], rules["per_label"][label]["f1"]
        print(f"| {label} | {theirs:.3f} | {ours:.3f} | {'yes' if ours > theirs else 'no'} |")
    print(f"| **macro F1** | **{rules['macro_f1']:.3f}** | **{last['macro_f1']:.3f}** | "
          f"{'yes' if last['macro_f1'] > rules['macro_f1'] else 'no'} |")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
