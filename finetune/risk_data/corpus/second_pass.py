"""Draw the blind second-pass sample: a seeded 10 % of the named first-pass batches, cut into ``P`` batches.

The second pass is made by annotator sessions that never see the first pass: they get rendered ``P`` batches
(``render.py``: text and context only) and write ``labels_pass2/P<nnn>.tsv``. ``agreement.py`` then compares the
two passes field by field. Each call appends new ``P`` batches for batches not sampled before, so the sample
can grow with the corpus (the random part and the filings test first, the active part later).

    python -m finetune.risk_data.corpus.second_pass --batches C001-C065 T001-T009
"""

from __future__ import annotations

import argparse
import random

from finetune.risk_data.corpus.draw import BATCH_SIZE, read_jsonl, write_jsonl
from finetune.risk_data.corpus.pools import HERE

SAMPLE = HERE / "second_pass_sample.jsonl"
SHARE = 0.10
SEED = 2026


def expand(spec: list[str]) -> list[str]:
    """``["C001-C003", "T001"]`` -> ``["C001", "C002", "C003", "T001"]``."""
    out = []
    for item in spec:
        first, _, last = item.partition("-")
        if not last:
            out.append(first)
            continue
        prefix = first[0]
        out += [f"{prefix}{n:03d}" for n in range(int(first[1:]), int(last[1:]) + 1)]
    return out


def main(argv: list[str] | None = None) -> None:
    """Append a 10 % sample of the named batches' passages to the second-pass sample, as new P batches."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", nargs="+", required=True)
    args = parser.parse_args(argv)
    wanted = set(expand(args.batches))
    existing = read_jsonl(SAMPLE) if SAMPLE.is_file() else []
    done = {row["from_batch"] for row in existing}
    if wanted & done:
        raise SystemExit(f"already sampled: {sorted(wanted & done)}")
    rows = [r for path in (HERE / "sample.jsonl", HERE / "filings_test_sample.jsonl") for r in read_jsonl(path)
            if r["batch"] in wanted]
    rng = random.Random(f"{SEED}:{','.join(sorted(wanted))}")
    picked = rng.sample(rows, round(SHARE * len(rows)))
    rng.shuffle(picked)
    first = int(existing[-1]["batch"][1:]) + 1 if existing else 1
    new = []
    for k, row in enumerate(picked):
        new.append({**row, "from_batch": row["batch"], "batch": f"P{k // BATCH_SIZE + first:03d}"})
    write_jsonl(SAMPLE, [*existing, *new])
    print(f"{len(new)} passages from {len(wanted)} batches -> P{first:03d}-{new[-1]['batch']}")


if __name__ == "__main__":
    main()
