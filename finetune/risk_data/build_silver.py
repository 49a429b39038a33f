"""Build the silver risk training set: the labelling functions applied to unlabelled real text.

Text: the *train* part of Financial PhraseBank 50%-agree under the standard split
(``datasets.Dataset.train_test_split(test_size=0.25, seed=42)`` on the 4846 rows in file order, minus texts that
also occur in the test part, as ``textrisk.data`` does), TFNS ``train.csv``, and the StockNet tweets (near-duplicate
retweets collapsed). Never FPB test or TFNS valid (the sentiment benchmarks' test parts), and never a hand-labelled
text: every text of labels.tsv (gold dev, gold test and the unused labelled rows) and of random_labels.tsv (the
random gold test) is excluded by exact match after
whitespace normalisation and case folding, and by the stricter near-duplicate key.

The votes are combined by the label model fitted on gold dev (textrisk.labels.label_model.LabelModel), or by a
majority vote with ``--combiner majority``. All rows with a label are kept, plus a seeded sample of rows without one
(``--none-share`` of the output). Writes ``runs/risk_silver.jsonl`` (generated; not committed), the fitted label
model and a stats file beside it, and prints per-label counts.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.build_silver --out runs/risk_silver.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from finetune.risk_data.build_gold import DEV_FILE, LABELS_FILE, load_gold
from finetune.risk_data.build_random_gold import LABELS_FILE as RANDOM_LABELS_FILE
from finetune.risk_data.sources import dedup_key, find_text, iter_source, normalize_text, require_data_dir
from textrisk.data.datasets import FPB_SPLIT_SEED, FPB_TEST_SIZE
from textrisk.labels.label_model import LabelModel
from textrisk.labels.rules import lf_votes, majority_vote
from textrisk.labels.taxonomy import RISK_LABELS


def fpb_train_rows(data_dir: Path) -> list[tuple[str, str]]:
    """FPB 50%-agree rows of the standard train part, as ``(row_id, text)``."""
    from datasets import Dataset

    rows = list(iter_source("fpb50", data_dir))
    table = Dataset.from_dict({"id": [i for i, _ in rows], "text": [t for _, t in rows]})
    split = table.train_test_split(test_size=FPB_TEST_SIZE, seed=FPB_SPLIT_SEED)
    test_texts = set(split["test"]["text"])
    return [(i, t) for i, t in zip(split["train"]["id"], split["train"]["text"]) if t not in test_texts]


def labelled_keys(labels_files: Sequence[Path], data_dir: Path) -> tuple[set[str], set[str]]:
    """Normalised texts and near-duplicate keys of every hand-labelled row (gold, random gold and unused)."""
    exact, near = set(), set()
    for labels_file in labels_files:
        with labels_file.open(encoding="utf-8") as handle:
            for line in handle:
                cells = line.rstrip("\n").split("\t")
                if line.startswith("#") or cells[0] == "id" or len(cells) < 2:
                    continue
                text = find_text(cells[0], data_dir)
                exact.add(normalize_text(text))
                near.add(dedup_key(text))
    return exact, near


def unlabelled_pool(data_dir: Path, exact: set[str], near: set[str]) -> tuple[list[tuple[str, str]], Counter]:
    """All candidate ``(row_id, text)`` rows, de-duplicated, minus hand-labelled texts; plus what was dropped."""
    dropped: Counter = Counter()
    pool, seen = [], set()
    sources = [("fpb50", fpb_train_rows(data_dir)), ("tfns-train", list(iter_source("tfns-train", data_dir))),
               ("stocknet", list(iter_source("stocknet", data_dir)))]
    for name, rows in sources:
        for row_id, text in rows:
            key = dedup_key(text)
            if normalize_text(text) in exact or key in near:
                dropped[f"{name}: labelled text"] += 1
            elif not key or key in seen:
                dropped[f"{name}: duplicate"] += 1
            else:
                seen.add(key)
                pool.append((row_id, text))
    return pool, dropped


def main(argv: list[str] | None = None) -> None:
    """Label the pool, sample the no-label rows, write the silver file and print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/risk_silver.jsonl"))
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--combiner", choices=("label_model", "majority"), default="label_model")
    parser.add_argument("--none-share", type=float, default=0.35, help="share of no-label rows in the output")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--max-rows", type=int, default=None,
                        help="keep a seeded sample of this many output rows (label and no-label rows alike)")
    args = parser.parse_args(argv)
    data_dir = require_data_dir(args.data_dir)

    exact, near = labelled_keys((LABELS_FILE, RANDOM_LABELS_FILE), data_dir)
    pool, dropped = unlabelled_pool(data_dir, exact, near)
    matrix = lf_votes([text for _, text in pool])
    model = None
    if args.combiner == "label_model":
        dev = load_gold(DEV_FILE)
        model = LabelModel.fit(lf_votes([row["text"] for row in dev]), [row["labels"] for row in dev])
        labels = model.predict(matrix)
    else:
        labels = majority_vote(matrix)

    positives = [(row, found) for row, found in zip(pool, labels) if found]
    negatives = [row for row, found in zip(pool, labels) if not found]
    keep = min(len(negatives), round(args.none_share / (1.0 - args.none_share) * len(positives)))
    rng = random.Random(args.seed)
    sampled = rng.sample(negatives, keep)
    out_rows = [(row, found) for row, found in positives] + [(row, []) for row in sampled]
    if args.max_rows is not None and args.max_rows < len(out_rows):
        out_rows = rng.sample(out_rows, args.max_rows)
    out_rows.sort(key=lambda item: item[0][0])

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as handle:
        for (row_id, text), found in out_rows:
            handle.write(json.dumps({"id": row_id, "source": row_id.split(":", 1)[0], "text": text,
                                     "labels": found}, ensure_ascii=False) + "\n")
    if model is not None:
        model.save(args.out.with_suffix(".label_model.json"))

    per_label = Counter(label for _, found in out_rows for label in found)
    per_source = Counter(row[0].split(":", 1)[0] for row, _ in out_rows)
    label_by_source = {label: Counter(row[0].split(":", 1)[0] for row, found in out_rows if label in found)
                       for label in RISK_LABELS}
    stats = {"pool": len(pool), "dropped": dict(dropped), "positives": len(positives), "no_label_in_pool":
             len(negatives), "no_label_kept": keep, "rows": len(out_rows), "combiner": args.combiner,
             "per_label": {label: per_label[label] for label in RISK_LABELS}, "per_source": dict(per_source),
             "per_label_by_source": {k: dict(v) for k, v in label_by_source.items()}}
    args.out.with_suffix(".stats.json").write_text(json.dumps(stats, indent=1), encoding="utf-8")
    print(f"pool {len(pool)} texts ({dict(dropped)})")
    print(f"{len(positives)} with >= 1 label, {len(negatives)} without; kept {keep} of those -> {len(out_rows)} rows")
    print(f"{'label':<20}{'rows':>7}   by source")
    for label in RISK_LABELS:
        print(f"{label:<20}{per_label[label]:>7}   {dict(sorted(label_by_source[label].items()))}")
    print(f"{'(no label)':<20}{keep:>7}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
