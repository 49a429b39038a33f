"""Choose the default model's risk head on dev data only: which training sources, how the silver set is weighted.

The head is a linear layer or a small MLP over the frozen sentiment model's pooled features (the sentiment outputs
stay exactly those of the shipped sentiment model), so each candidate trains in seconds to minutes on cached features
(:mod:`finetune.risk_data.features`). Training pool: the mapped SENTiVENT train part (human labels, 5 labels
defined), gold dev (human labels, all 12) and the silver set (the rules' labels on unlabelled text) at a weight.

Dev, never trained on by the candidate it scores:
- **gold dev**, out of fold: 5 folds; each fold's head trains on the pool plus the other 4/5 of gold dev;
- **SENTiVENT dev** (article-disjoint from its train part), scored by the head trained on the whole pool.

The selection metric is the macro average precision over the labels with dev positives (threshold-free); macro F1
at thresholds tuned on the same dev is printed beside it. Writes every candidate's numbers to ``--out``.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.select_head --out runs/risk_head_selection.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from finetune.risk_data.build_gold import DEV_FILE
from finetune.risk_data.features import cache_path, embed, read_set
from textrisk.evaluation.risk import RiskSet
from textrisk.labels.taxonomy import RISK_LABELS
from textrisk.utils.atomic import atomic_write_json

FOLDS = 5


def fit_head(features: np.ndarray, targets: np.ndarray, known: np.ndarray, weights: np.ndarray, hidden: int = 0,
             l2: float = 1e-3, epochs: int = 40, seed: int = 0):
    """A risk head (:func:`textrisk.models.head.model.risk_head`) fitted on frozen features with the masked,
    row-weighted binary cross-entropy, positives up-weighted per label by
    :func:`textrisk.training.data.risk_pos_weight`.

    ``hidden == 0``: the linear head, logistic regression per label fitted jointly by full-batch L-BFGS with an
    ``l2`` penalty on the weights. ``hidden > 0``: the GELU MLP, ``epochs`` of AdamW (lr 2e-3, weight decay 0.01,
    batches of 512, dropout 0.1 on the inputs and 0.2 on the hidden layer). Returns the head in eval mode.
    """
    import torch

    from textrisk.models.head.model import risk_head
    from textrisk.training.data import risk_pos_weight
    from textrisk.utils.runtime import torch_threads

    torch.manual_seed(seed)
    x = torch.tensor(features, dtype=torch.float32)
    y = torch.tensor(targets, dtype=torch.float32)
    mask = torch.tensor(known, dtype=torch.float32) * torch.tensor(weights, dtype=torch.float32)[:, None]
    pos_weight = risk_pos_weight(np.where(known, targets, -1))
    head = risk_head(x.shape[1], y.shape[1], hidden)

    def loss_of(rows) -> torch.Tensor:
        inputs = x[rows]
        if hidden:
            inputs = torch.nn.functional.dropout(inputs, 0.1)
            hidden_out = torch.nn.functional.dropout(head[1](head[0](inputs)), 0.2)
            logits = head[2](hidden_out)
        else:
            logits = head(inputs)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y[rows], pos_weight=pos_weight,
                                                                    reduction="none")
        return (loss * mask[rows]).sum(dim=0) / mask[rows].sum(dim=0).clamp(min=1)

    with torch_threads(1):  # small problems: one thread beats two contending ones
        if hidden == 0:
            optimizer = torch.optim.LBFGS(head.parameters(), max_iter=150, line_search_fn="strong_wolfe")

            def closure():
                optimizer.zero_grad()
                total = loss_of(slice(None)).sum() + l2 * (head.weight ** 2).sum()
                total.backward()
                return total

            optimizer.step(closure)
        else:
            optimizer = torch.optim.AdamW(head.parameters(), lr=2e-3, weight_decay=1e-2)
            generator = torch.Generator().manual_seed(seed)
            head.train()
            for _ in range(epochs):
                for rows in torch.randperm(len(x), generator=generator).split(512):
                    optimizer.zero_grad()
                    loss_of(rows).sum().backward()
                    optimizer.step()
    return head.eval()


def logits_of(head, features: np.ndarray) -> np.ndarray:
    """The head's logits for ``features`` (float64)."""
    import torch

    with torch.no_grad():
        return head(torch.tensor(features, dtype=torch.float32)).numpy().astype(np.float64)


def fold_of(groups: list[str], folds: int = FOLDS, seed: int = 0) -> np.ndarray:
    """Fold number per row; rows of one group share a fold."""
    unique = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(unique))
    fold = {unique[i]: k % folds for k, i in enumerate(order)}
    return np.array([fold[g] for g in groups])


def macro_ap(targets: np.ndarray, known: np.ndarray, scores: np.ndarray) -> tuple[float, dict[str, float]]:
    """Mean over labels with positives of the average precision on the rows where the label is defined."""
    from sklearn.metrics import average_precision_score

    per = {}
    for k, label in enumerate(RISK_LABELS):
        rows = known[:, k]
        if targets[rows, k].sum() > 0:
            per[label] = float(average_precision_score(targets[rows, k], scores[rows, k]))
    return float(np.mean(list(per.values()))), per


def tuned_macro_f1(targets: np.ndarray, known: np.ndarray, scores: np.ndarray) -> float:
    """Macro F1 over labels with positives, each at its best threshold on these rows (an optimistic figure)."""
    from sklearn.metrics import precision_recall_curve

    f1s = []
    for k in range(len(RISK_LABELS)):
        rows = known[:, k]
        if targets[rows, k].sum() == 0:
            continue
        precision, recall, _ = precision_recall_curve(targets[rows, k], scores[rows, k])
        f1s.append(float(np.max(2 * precision * recall / np.maximum(precision + recall, 1e-12))))
    return float(np.mean(f1s))


def dev_scores(pool: list[tuple[RiskSet, np.ndarray, float]], gold_dev: tuple[RiskSet, np.ndarray],
               sentivent_dev: tuple[RiskSet, np.ndarray], gold_weight: float, **fit: float):
    """For one candidate: out-of-fold logits on gold dev, logits on SENTiVENT dev from the head trained on the whole
    pool plus all of gold dev, and that head. ``pool`` is ``(set, features, row weight)`` per training source."""
    gold, gold_x = gold_dev
    folds = fold_of(gold.groups)

    def stack(extra: np.ndarray):
        parts = [(s.targets, s.known, x, np.full(len(s), w)) for s, x, w in pool if w > 0]
        parts.append((gold.targets[extra], gold.known[extra], gold_x[extra], np.full(int(extra.sum()), gold_weight)))
        return (np.concatenate([p[2] for p in parts]), np.concatenate([p[0] for p in parts]),
                np.concatenate([p[1] for p in parts]), np.concatenate([p[3] for p in parts]))

    oof = np.zeros((len(gold), len(RISK_LABELS)))
    for k in range(FOLDS):
        oof[folds == k] = logits_of(fit_head(*stack(folds != k), **fit), gold_x[folds == k])
    head = fit_head(*stack(np.ones(len(gold), dtype=bool)), **fit)
    return oof, logits_of(head, sentivent_dev[1]), head


#: Candidates: (silver weight, SENTiVENT weight, gold dev weight, l2 (linear heads), MLP width (0: linear),
#: backbone layers whose pooled states the head reads (empty: the pooled embedding)), in the order they were run.
GRID = [(0.0, 1.0, 5.0, 1e-3, 0, ()), (0.1, 1.0, 5.0, 1e-3, 0, ()), (0.3, 1.0, 5.0, 1e-3, 0, ()),
        (1.0, 1.0, 5.0, 1e-3, 0, ()), (0.3, 0.0, 5.0, 1e-3, 0, ()), (0.3, 1.0, 1.0, 1e-3, 0, ()),
        (0.3, 1.0, 5.0, 1e-2, 0, ()), (0.3, 1.0, 5.0, 1e-4, 0, ()),
        (0.3, 1.0, 1.0, 0.0, 512, ()), (1.0, 1.0, 1.0, 0.0, 512, ()), (0.3, 1.0, 5.0, 0.0, 512, ()),
        (0.3, 1.0, 1.0, 0.0, 512, (4, 6)), (0.3, 1.0, 1.0, 0.0, 512, (2, 4, 6))]


def main(argv: list[str] | None = None) -> None:
    """Score every candidate of ``GRID`` on dev (skipping those already in ``--out``) and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="where the derived data sets are")
    parser.add_argument("--model", default=None, help="sentiment model whose features the head reads")
    parser.add_argument("--out", type=Path, default=Path("runs/risk_head_selection.json"))
    parser.add_argument("--all", action="store_true", help="re-run every candidate, not only missing ones")
    args = parser.parse_args(argv)

    files = {"silver": args.runs / "risk_silver.jsonl", "sentivent_train": args.runs / "sentivent_train.jsonl",
             "sentivent_dev": args.runs / "sentivent_dev.jsonl", "gold_dev": DEV_FILE}
    sets = {name: read_set(path, name) for name, path in files.items()}
    cached: dict[tuple[int, ...], dict[str, np.ndarray]] = {}

    def features(layers: tuple[int, ...]) -> dict[str, np.ndarray]:
        if layers not in cached:
            cached[layers] = {name: embed(s.texts, args.model, cache_path(args.runs, name, layers), layers=layers)
                              for name, s in sets.items()}
        return cached[layers]

    dev_targets = np.concatenate([sets["gold_dev"].targets, sets["sentivent_dev"].targets])
    dev_known = np.concatenate([sets["gold_dev"].known, sets["sentivent_dev"].known])
    previous = json.loads(args.out.read_text(encoding="utf-8"))["candidates"] if args.out.is_file() else []
    results = [] if args.all else previous
    done = {candidate_key(r) for r in results}
    for silver_w, sentivent_w, gold_w, l2, hidden, layers in GRID:
        key = (silver_w, sentivent_w, gold_w, l2, hidden, tuple(layers))
        if key in done:
            continue
        feats = features(tuple(layers))
        pool = [(sets["silver"], feats["silver"], silver_w), (sets["sentivent_train"], feats["sentivent_train"],
                                                              sentivent_w)]
        oof, sv, _ = dev_scores(pool, (sets["gold_dev"], feats["gold_dev"]),
                                (sets["sentivent_dev"], feats["sentivent_dev"]), gold_w, l2=l2, hidden=hidden)
        scores = np.concatenate([oof, sv])
        ap, per_label = macro_ap(dev_targets, dev_known, scores)
        gold_ap, _ = macro_ap(sets["gold_dev"].targets, sets["gold_dev"].known, oof)
        row = {"silver_weight": silver_w, "sentivent_weight": sentivent_w, "gold_weight": gold_w, "l2": l2,
               "hidden": hidden, "layers": list(layers), "dev_macro_ap": ap, "gold_dev_macro_ap": gold_ap,
               "dev_tuned_macro_f1": tuned_macro_f1(dev_targets, dev_known, scores), "per_label_ap": per_label}
        results.append(row)
        atomic_write_json(args.out, {"candidates": results, "best": max(results, key=lambda r: r["dev_macro_ap"])})
        print(f"silver {silver_w:<4} sentivent {sentivent_w:<4} gold {gold_w:<4} l2 {l2:<6} hidden {hidden:<4} "
              f"layers {list(layers) or 'pooled'}: dev AP {ap:.3f}  gold-dev AP {gold_ap:.3f}  "
              f"tuned F1 {row['dev_tuned_macro_f1']:.3f}", flush=True)
    best = max(results, key=lambda r: r["dev_macro_ap"])
    print(f"best: {best}\nwrote {args.out}")


def candidate_key(row: dict) -> tuple:
    """What identifies a candidate in the results file."""
    return (row["silver_weight"], row["sentivent_weight"], row["gold_weight"], row["l2"], row.get("hidden", 0),
            tuple(row.get("layers", ())))


if __name__ == "__main__":
    main()
