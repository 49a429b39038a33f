"""Agreement between two labellings of the random gold sample: per-label Cohen's kappa on the rows both labelled.

Both files use the ``random_labels.tsv`` format (``id``, ``labels``, ``text_sha1``; ``#`` comments). The second
pass may cover only part of the sample (the issue asks for at least 150 rows); only the common ids are compared,
and their text hashes must agree. Kappa is ``sklearn.metrics.cohen_kappa_score`` on the 0/1 decisions of one
label; it is undefined (``null``) for a label that neither annotator used on the common rows.

    python -m finetune.risk_data.agreement --second finetune/risk_data/random_labels_second.tsv \
        --out runs/risk_random_agreement.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from finetune.risk_data.build_random_gold import LABELS_FILE, read_random_labels
from textrisk.errors import DataError
from textrisk.labels.taxonomy import RISK_LABELS
from textrisk.utils.atomic import atomic_write_json


def agreement(first: dict[str, tuple[list[str], str]], second: dict[str, tuple[list[str], str]]) -> dict:
    """Per-label kappa, positives per annotator and raw agreement on the common ids; exact-match share of rows."""
    from sklearn.metrics import cohen_kappa_score

    common = [row_id for row_id in first if row_id in second]
    if not common:
        raise DataError("the two labellings have no row id in common")
    mismatched = [row_id for row_id in common if first[row_id][1] != second[row_id][1]]
    if mismatched:
        raise DataError(f"{len(mismatched)} common rows have different text hashes (first: {mismatched[0]!r})")
    out: dict = {"rows": len(common), "labels": {}}
    for label in RISK_LABELS:
        a = [int(label in first[row_id][0]) for row_id in common]
        b = [int(label in second[row_id][0]) for row_id in common]
        used = any(a) or any(b)
        out["labels"][label] = {"kappa": float(cohen_kappa_score(a, b)) if used else None,
                                "first_positives": sum(a), "second_positives": sum(b),
                                "both_positive": sum(x and y for x, y in zip(a, b)),
                                "agreement": sum(x == y for x, y in zip(a, b)) / len(common)}
    kappas = [s["kappa"] for s in out["labels"].values() if s["kappa"] is not None]
    out["mean_kappa"] = sum(kappas) / len(kappas) if kappas else None
    out["exact_match"] = sum(first[r][0] == second[r][0] for r in common) / len(common)
    out["any_label_kappa"] = float(cohen_kappa_score([int(bool(first[r][0])) for r in common],
                                                     [int(bool(second[r][0])) for r in common]))
    return out


def main(argv: list[str] | None = None) -> None:
    """Print the agreement table and write it as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--first", type=Path, default=LABELS_FILE)
    parser.add_argument("--second", type=Path, required=True)
    parser.add_argument("--out", default="runs/risk_random_agreement.json")
    args = parser.parse_args(argv)
    result = agreement(read_random_labels(args.first), read_random_labels(args.second))
    print(f"{result['rows']} common rows; exact match {result['exact_match']:.3f}; "
          f"kappa of 'any label' {result['any_label_kappa']:.3f}")
    print("| label | kappa | first + | second + | both + |\n|---|---|---|---|---|")
    for label, s in result["labels"].items():
        kappa = "n/a" if s["kappa"] is None else f"{s['kappa']:.3f}"
        print(f"| {label} | {kappa} | {s['first_positives']} | {s['second_positives']} | {s['both_positive']} |")
    mean = "n/a" if result["mean_kappa"] is None else f"{result['mean_kappa']:.3f}"
    print(f"| **mean over labels used** | {mean} | | | |")
    atomic_write_json(Path(args.out), result)


if __name__ == "__main__":
    main()
