"""Build the risk gold set (gold_dev.jsonl, gold_test.jsonl) from the hand labels in labels.tsv.

Every row of ``labels.tsv`` names a row id of the shared data, its hand labels (read against GUIDE.md), a hash
of the text and the split the row belongs to (``dev``, ``test`` or ``unused``). This script re-finds each text by
id, checks the hash, rejects duplicate and near-duplicate texts, and writes the dev and test files. Re-running it
gives the same files.

The splits were assigned once, with ``--assign-splits``: keep every labelled row plus a deterministic sample of
the no-label rows (so they make up ``--none-share`` of the set; the rest are ``unused``), then split dev/test by
iterative stratification over the labels. They are frozen in labels.tsv so that correcting a label later does not
move rows between dev (used to refine the rules) and test.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.build_gold
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from finetune.risk_data.sources import dedup_key, find_text, normalize_text, require_data_dir, source_of
from textrisk.errors import DataError
from textrisk.labels.taxonomy import RISK_LABELS, validate_risk_labels

HERE = Path(__file__).resolve().parent
LABELS_FILE = HERE / "labels.tsv"
DEV_FILE = HERE / "gold_dev.jsonl"
TEST_FILE = HERE / "gold_test.jsonl"
DEV_SHARE = 0.4
COLUMNS = ("id", "labels", "drawn", "text_sha1", "split")
SPLITS = ("dev", "test", "unused")
MIN_DEV, MIN_TEST, MIN_TOTAL = 10, 15, 25  # positives per label


@dataclass
class GoldRow:
    """One labelled sentence."""

    id: str
    text: str
    labels: list[str]
    drawn: str
    split: str = ""

    def as_json(self) -> dict:
        """The JSONL form written to the gold files."""
        return {"id": self.id, "source": source_of(self.id), "text": self.text, "labels": self.labels}


def text_hash(text: str) -> str:
    """First 12 hex digits of the sha1 of the normalised text (the ``text_sha1`` column of labels.tsv)."""
    return hashlib.sha1(normalize_text(text).encode("utf-8")).hexdigest()[:12]


def _order_key(row_id: str, seed: str) -> str:
    # A seeded hash gives a deterministic order that does not depend on file order.
    return hashlib.sha1(f"{seed}:{row_id}".encode()).hexdigest()


def iter_tsv(path: Path, columns: Sequence[str]) -> Iterator[tuple[str, list[str]]]:
    """Yield ``(where, cells)`` for each data row of a labels TSV: ``#`` comments and blank lines skipped, the
    header checked against ``columns``, every row checked for the right number of cells (DataError otherwise)."""
    header_seen = False
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("#") or not line.strip():
                continue
            where = f"{Path(path).name} line {number}"
            cells = line.rstrip("\n").split("\t")
            if not header_seen:
                if cells != list(columns):
                    raise DataError(f"{where}: expected header {', '.join(columns)}; got {cells}")
                header_seen = True
                continue
            if len(cells) != len(columns):
                raise DataError(f"{where}: expected {len(columns)} tab-separated cells, got {len(cells)}")
            yield where, cells


def read_labels(path: Path, data_dir: Path) -> list[GoldRow]:
    """Read labels.tsv, re-find every text in the shared data and check its hash and uniqueness."""
    rows: list[GoldRow] = []
    seen_ids: set[str] = set()
    seen_keys: dict[str, str] = {}
    for where, cells in iter_tsv(path, COLUMNS):
        row_id, raw_labels, drawn, sha, split = cells
        if split not in SPLITS:
            raise DataError(f"{where}: split must be one of {list(SPLITS)}, got {split!r}")
        if row_id in seen_ids:
            raise DataError(f"{where}: duplicate id {row_id!r}")
        seen_ids.add(row_id)
        labels = validate_risk_labels(raw_labels, RISK_LABELS, where)
        text = find_text(row_id, data_dir)
        if text_hash(text) != sha:
            raise DataError(f"{where}: the text found for {row_id!r} does not match the recorded hash {sha}")
        key = dedup_key(text)
        if key in seen_keys:
            raise DataError(f"{where}: {row_id!r} duplicates the text of {seen_keys[key]!r}")
        seen_keys[key] = row_id
        rows.append(GoldRow(row_id, text, labels, drawn, split))
    return rows


def read_drawn(path: Path = LABELS_FILE) -> dict[str, str]:
    """Row id -> how the row was drawn (``r1:random``, ``r2:liquidity``...), from labels.tsv without the data."""
    out = {}
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            cells = line.rstrip("\n").split("\t")
            if not line.startswith("#") and len(cells) == len(COLUMNS) and cells[0] != "id":
                out[cells[0]] = cells[2]
    return out


def assign_splits(rows: list[GoldRow], none_share: float, seed: str) -> None:
    """Set ``row.split``: sample the no-label rows, then split dev/test by iterative stratification."""
    kept = sample_negatives(rows, none_share, seed)
    dev, _ = stratified_split(kept, DEV_SHARE, seed)
    dev_ids, kept_ids = {row.id for row in dev}, {row.id for row in kept}
    for row in rows:
        row.split = "dev" if row.id in dev_ids else "test" if row.id in kept_ids else "unused"


def write_splits(path: Path, rows: Sequence[GoldRow]) -> None:
    """Rewrite the split column of labels.tsv in place, keeping comments, order and every other cell."""
    split_of = {row.id: row.split for row in rows}
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    out = []
    for line in lines:
        cells = line.rstrip("\n").split("\t")
        if not line.startswith("#") and len(cells) == len(COLUMNS) and cells[0] in split_of:
            cells[-1] = split_of[cells[0]]
            line = "\t".join(cells) + "\n"
        out.append(line)
    path.write_text("".join(out), encoding="utf-8")


def sample_negatives(rows: list[GoldRow], none_share: float, seed: str) -> list[GoldRow]:
    """Keep every labelled row and a deterministic sample of no-label rows making up ``none_share`` of the set."""
    positives = [row for row in rows if row.labels]
    negatives = sorted((row for row in rows if not row.labels), key=lambda row: _order_key(row.id, seed))
    keep = min(len(negatives), round(none_share / (1.0 - none_share) * len(positives)))
    return positives + negatives[:keep]


def stratified_split(rows: Sequence[GoldRow], dev_share: float, seed: str) -> tuple[list[GoldRow], list[GoldRow]]:
    """Split multi-label rows into (dev, test) by iterative stratification (Sechidis et al., 2011).

    The rarest label's rows are placed first, each in the split that still needs most of that label; rows without
    labels fill the splits up to their target sizes. Ties break towards the split with more room, then towards test.
    """
    shares = {"dev": dev_share, "test": 1.0 - dev_share}
    counts = Counter(label for row in rows for label in row.labels)
    need = {split: {label: share * counts[label] for label in counts} for split, share in shares.items()}
    room = {split: share * len(rows) for split, share in shares.items()}
    remaining = sorted(rows, key=lambda row: _order_key(row.id, seed))
    out: dict[str, list[GoldRow]] = {"dev": [], "test": []}

    def place(row: GoldRow, label: str | None) -> None:
        split = max(("test", "dev"), key=lambda s: ((need[s][label] if label else 0.0), room[s]))
        out[split].append(row)
        room[split] -= 1
        for lab in row.labels:
            need[split][lab] -= 1

    while remaining:
        left = Counter(label for row in remaining for label in row.labels)
        if not left:
            for row in remaining:
                place(row, None)
            break
        rarest = min(left, key=lambda label: (left[label], RISK_LABELS.index(label)))
        for row in [row for row in remaining if rarest in row.labels]:
            place(row, rarest)
        remaining = [row for row in remaining if rarest not in row.labels]
    return out["dev"], out["test"]


def label_table(dev: Sequence[GoldRow], test: Sequence[GoldRow]) -> str:
    """A markdown table of positives per label per split, plus the no-label rows."""
    lines = ["| label | dev | test | total |", "|---|---|---|---|"]
    dev_counts = Counter(label for row in dev for label in row.labels)
    test_counts = Counter(label for row in test for label in row.labels)
    for label in RISK_LABELS:
        d, t = dev_counts[label], test_counts[label]
        lines.append(f"| {label} | {d} | {t} | {d + t} |")
    dev_none = sum(not row.labels for row in dev)
    test_none = sum(not row.labels for row in test)
    lines.append(f"| (no label) | {dev_none} | {test_none} | {dev_none + test_none} |")
    lines.append(f"| **rows** | {len(dev)} | {len(test)} | {len(dev) + len(test)} |")
    return "\n".join(lines)


def check_minimums(dev: Sequence[GoldRow], test: Sequence[GoldRow]) -> None:
    """Raise DataError unless every label has enough positives in each split."""
    dev_counts = Counter(label for row in dev for label in row.labels)
    test_counts = Counter(label for row in test for label in row.labels)
    for label in RISK_LABELS:
        d, t = dev_counts[label], test_counts[label]
        if d < MIN_DEV or t < MIN_TEST or d + t < MIN_TOTAL:
            raise DataError(f"label {label!r} has {d} dev / {t} test positives; need >= {MIN_DEV} / {MIN_TEST} "
                            f"and >= {MIN_TOTAL} in all")


def write_jsonl(path: Path, rows: Sequence[GoldRow]) -> None:
    """Write rows sorted by id, one JSON object per line."""
    with path.open("w", encoding="utf-8") as handle:
        for row in sorted(rows, key=lambda r: r.id):
            handle.write(json.dumps(row.as_json(), ensure_ascii=False) + "\n")


def load_gold(path: Path, labels: Sequence[str] = RISK_LABELS) -> list[dict]:
    """Read a gold JSONL file, checking every row's fields and labels (DataError names the file and line)."""
    rows = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path} line {number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{where}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict) or not {"id", "source", "text", "labels"} <= set(row):
                raise DataError(f"{where}: expected an object with id, source, text and labels")
            if not isinstance(row["text"], str) or not row["text"].strip():
                raise DataError(f"{where}: empty text")
            row["labels"] = validate_risk_labels(row["labels"], labels, where)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Build and write the gold files, then print the per-label table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, default=LABELS_FILE)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--none-share", type=float, default=0.30, help="share of no-label rows to keep")
    parser.add_argument("--seed", default="textrisk-risk-gold-v1")
    parser.add_argument("--out-dir", type=Path, default=HERE)
    parser.add_argument("--assign-splits", action="store_true",
                        help="(re)assign the frozen split column of labels.tsv; done once when the set was made")
    args = parser.parse_args(argv)
    data_dir = require_data_dir(args.data_dir)
    rows = read_labels(args.labels, data_dir)
    if args.assign_splits:
        assign_splits(rows, args.none_share, args.seed)
        write_splits(args.labels, rows)
    dev = [row for row in rows if row.split == "dev"]
    test = [row for row in rows if row.split == "test"]
    kept = dev + test
    check_minimums(dev, test)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(args.out_dir / DEV_FILE.name, dev)
    write_jsonl(args.out_dir / TEST_FILE.name, test)
    print(f"{len(rows)} labelled rows read; {len(kept)} kept ({len(rows) - len(kept)} no-label rows left out)")
    print(label_table(dev, test))
    by_source = Counter(source_of(row.id) for row in kept)
    drawn = Counter("random" if row.drawn.endswith(":random") else "retrieved" for row in kept)
    print("sources:", dict(sorted(by_source.items())), "| drawn:", dict(drawn))


if __name__ == "__main__":
    main()
