"""Draw the random gold sample: sentences sampled uniformly at random from the unlabelled pools, not by keyword.

Each pool is de-duplicated and filtered, then a fixed number of sentences is drawn uniformly at random (seeded)
from it. Nothing in the draw looks at a sentence's words beyond the length and shape filters below, so the sample
follows each pool's real distribution (most sentences carry no risk label).

Pools and quotas (``QUOTAS``):

- ``fpb50``: Financial PhraseBank, all 4,846 rows of the 50%-agree file;
- ``tfns``: Twitter Financial News Sentiment ``train.csv`` and ``valid.csv`` pooled;
- ``stocknet``: StockNet tweets;
- ``sec``: sentences split out of every ``sec_filings/*.txt`` file by ``textrisk.data.chunking.split_sentences`` (the
  splitter the scorer chunks long documents with), text whitespace-collapsed (see ``sources.py``).

Filters: a text is dropped if it is not ``is_usable`` (fewer than six non-numeric words), if its near-duplicate key
(``dedup_key``) was seen earlier in its pool (the first occurrence in file order is kept), or if its id or key
belongs to a row of ``labels.tsv`` (the existing gold set, used and unused rows alike). Filing sentences must also
look like prose: 8 to 120 words, at least 60 % of the words containing a letter, and ending with ``.``, ``!`` or
``?`` (optionally closed by a quote or bracket); this drops flattened table rows, page numbers and
table-of-contents lines. The output has only ``id``, ``source`` and ``text``, in a seeded shuffled order.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.draw_random
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

from finetune.risk_data.sources import (
    dedup_key,
    find_text,
    is_usable,
    iter_filing_sentences,
    iter_source,
    require_data_dir,
)
from textrisk.errors import DataError
from textrisk.utils.atomic import atomic_write_text

HERE = Path(__file__).resolve().parent
SAMPLE_FILE = HERE / "random_gold_sample.jsonl"
LABELS_FILE = HERE / "labels.tsv"
SEED = 20261202
#: Sentences drawn per pool (640 in all; filings are 200 / 640 = 31 %).
QUOTAS = {"fpb50": 150, "tfns": 150, "stocknet": 140, "sec": 200}
_PROSE_END = re.compile(r"[.!?][\"')\]\u201d\u2019]*$")


def filing_sentence_ok(text: str) -> bool:
    """Whether a filing sentence looks like prose rather than a table row, heading or page number."""
    words = text.split()
    if not 8 <= len(words) <= 120:
        return False
    if sum(any(c.isalpha() for c in w) for w in words) < 0.6 * len(words):
        return False
    return bool(_PROSE_END.search(text))


def pool_rows(pool: str, data_dir: Path) -> Iterator[tuple[str, str]]:
    """``(row_id, text)`` of one pool, in file order, before filtering."""
    if pool == "tfns":
        yield from iter_source("tfns-train", data_dir)
        yield from iter_source("tfns-valid", data_dir)
    elif pool == "sec":
        yield from iter_filing_sentences(data_dir)
    else:
        yield from iter_source(pool, data_dir)


def gold_exclusions(labels_file: Path, data_dir: Path) -> tuple[set[str], set[str]]:
    """Ids and near-duplicate keys of every row of labels.tsv."""
    ids: set[str] = set()
    with labels_file.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip() or line.startswith("id\t"):
                continue
            ids.add(line.split("\t", 1)[0])
    return ids, {dedup_key(find_text(row_id, data_dir)) for row_id in ids}


def draw(data_dir: Path, seed: int = SEED, quotas: dict[str, int] | None = None,
         labels_file: Path = LABELS_FILE) -> tuple[list[dict], dict[str, int]]:
    """The sample rows and the size of each filtered pool."""
    quotas = dict(QUOTAS if quotas is None else quotas)
    excluded_ids, excluded_keys = gold_exclusions(labels_file, data_dir)
    rng = random.Random(seed)
    sample: list[dict] = []
    pool_sizes: dict[str, int] = {}
    for pool, want in quotas.items():
        seen: set[str] = set()
        rows: list[tuple[str, str]] = []
        for row_id, text in pool_rows(pool, data_dir):
            key = dedup_key(text)
            if key in seen or not is_usable(text) or (pool == "sec" and not filing_sentence_ok(text)):
                continue
            seen.add(key)
            if row_id not in excluded_ids and key not in excluded_keys:
                rows.append((row_id, text))
        if len(rows) < want:
            raise DataError(f"pool {pool!r} has only {len(rows)} usable sentences; {want} were asked for")
        pool_sizes[pool] = len(rows)
        sample.extend({"id": row_id, "source": pool, "text": text} for row_id, text in rng.sample(rows, want))
    rng.shuffle(sample)
    return sample, pool_sizes


def main(argv: list[str] | None = None) -> None:
    """Write the unlabelled random sample (id, source, text) and print the pool sizes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(SAMPLE_FILE))
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    data_dir = require_data_dir(args.data_dir)
    sample, pool_sizes = draw(data_dir, seed=args.seed)
    atomic_write_text(Path(args.out), "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in sample))
    for pool, size in pool_sizes.items():
        print(f"{pool}: drew {QUOTAS[pool]} of {size} usable sentences")
    print(f"wrote {len(sample)} rows to {args.out}")


if __name__ == "__main__":
    main()
