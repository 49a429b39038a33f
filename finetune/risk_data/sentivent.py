"""Write the mapped SENTiVENT splits (``runs/sentivent_{train,dev,test}.jsonl``) and print label counts.

The mapping, the split and the readers live in :mod:`textrisk.data.sentivent` (the package's evaluation builds the test
set from them); this script writes the derived rows for training and the checkout's own tools. The derived rows are
not committed (SENTiVENT has no licence file and is for research use only): they go to ``runs/``.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.sentivent --out-dir runs
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from finetune.risk_data.sources import require_data_dir
from textrisk.data.sentivent import (  # noqa: F401  (re-exported for the checkout's scripts and tests)
    DEV_SHARE,
    INFORMED_LABELS,
    MAPPING,
    SPLIT_FILE,
    SPLIT_SEED,
    SPLITS,
    SentiventRow,
    map_subtypes,
    read_sentivent,
    read_split,
    rows_by_split,
    split_articles,
)
from textrisk.utils.atomic import atomic_write_json, atomic_write_text


def main(argv: list[str] | None = None) -> None:
    """Write runs/sentivent_{train,dev,test}.jsonl and print label counts per split."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", default="runs")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--write-split", action="store_true",
                        help="(re)create sentivent_split.json from the seed instead of reading it")
    args = parser.parse_args(argv)
    data_dir = require_data_dir(args.data_dir)
    rows = read_sentivent(data_dir)
    if args.write_split:
        atomic_write_json(SPLIT_FILE, split_articles(rows))
    parts = rows_by_split(rows, read_split())
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"informed labels: {', '.join(INFORMED_LABELS)}")
    for name, part in parts.items():
        path = out_dir / f"sentivent_{name}.jsonl"
        atomic_write_text(path, "".join(json.dumps(row.as_json(name), ensure_ascii=False) + "\n" for row in part))
        counts = ", ".join(f"{label} {sum(label in row.labels for row in part)}"
                           f" (+{sum(label in row.unknown for row in part)} unknown)" for label in INFORMED_LABELS)
        print(f"{name}: {len(part)} sentences, {len({row.article for row in part})} articles; {counts} -> {path}")


if __name__ == "__main__":
    main()
