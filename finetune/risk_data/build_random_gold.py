"""Build the random gold test (random_gold_test.jsonl) from the sample and its hand labels (random_labels.tsv).

``random_gold_sample.jsonl`` is the unlabelled random draw (``draw_random.py``). ``random_labels.tsv`` holds one
row per sampled sentence: ``id``, ``labels`` (``;``-separated, or ``none``) and ``text_sha1``. This script checks
that the two cover the same ids, re-finds every text in the shared data by its id, checks it against both the
sample and the recorded hash, and writes the test rows ``{"id", "source", "text", "labels"}`` (``source`` is the
sample's pool: ``fpb50``, ``tfns``, ``stocknet`` or ``sec``). Re-running it gives the same file.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.build_random_gold
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from finetune.risk_data.build_gold import iter_tsv, text_hash
from finetune.risk_data.sources import find_text, require_data_dir
from textrisk.errors import DataError
from textrisk.labels.taxonomy import RISK_LABELS, validate_risk_labels
from textrisk.utils.atomic import atomic_write_text

HERE = Path(__file__).resolve().parent
SAMPLE_FILE = HERE / "random_gold_sample.jsonl"
LABELS_FILE = HERE / "random_labels.tsv"
TEST_FILE = HERE / "random_gold_test.jsonl"
COLUMNS = ("id", "labels", "text_sha1")


def read_sample(path: Path = SAMPLE_FILE) -> list[dict]:
    """The sample rows ``{"id", "source", "text"}``, in file order."""
    rows = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise DataError(f"{Path(path).name} line {number}: not valid JSON ({exc.msg})") from exc
    return rows


def read_random_labels(path: Path = LABELS_FILE) -> dict[str, tuple[list[str], str]]:
    """Row id -> (labels, text_sha1), from random_labels.tsv (comments start with ``#``)."""
    out: dict[str, tuple[list[str], str]] = {}
    for where, cells in iter_tsv(Path(path), COLUMNS):
        row_id, raw_labels, sha = cells
        if row_id in out:
            raise DataError(f"{where}: duplicate id {row_id!r}")
        out[row_id] = (validate_risk_labels(raw_labels, RISK_LABELS, where), sha)
    return out


def build(data_dir: Path, sample_file: Path = SAMPLE_FILE, labels_file: Path = LABELS_FILE) -> list[dict]:
    """The test rows, in the sample's order, after every consistency check."""
    sample = read_sample(sample_file)
    labels = read_random_labels(labels_file)
    missing = [row["id"] for row in sample if row["id"] not in labels]
    extra = sorted(set(labels) - {row["id"] for row in sample})
    if missing or extra:
        raise DataError(f"{Path(labels_file).name} and {Path(sample_file).name} disagree: "
                        f"{len(missing)} sampled ids unlabelled (first {missing[:3]}), "
                        f"{len(extra)} labelled ids not sampled (first {extra[:3]})")
    out = []
    for row in sample:
        row_labels, sha = labels[row["id"]]
        text = find_text(row["id"], data_dir)
        if text != row["text"]:
            raise DataError(f"{row['id']!r}: the shared data's text differs from the sample's")
        if text_hash(text) != sha:
            raise DataError(f"{row['id']!r}: the text does not match the recorded hash {sha}")
        out.append({"id": row["id"], "source": row["source"], "text": text, "labels": row_labels})
    return out


def main(argv: list[str] | None = None) -> None:
    """Write random_gold_test.jsonl and print its label counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(TEST_FILE))
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    data_dir = require_data_dir(args.data_dir)
    rows = build(data_dir)
    atomic_write_text(Path(args.out), "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    for label in RISK_LABELS:
        print(f"{label}: {sum(label in row['labels'] for row in rows)}")
    print(f"(no label): {sum(not row['labels'] for row in rows)}; wrote {len(rows)} rows to {args.out}")


if __name__ == "__main__":
    main()
