"""Build the commercial model's training files from the judgement corpus, keeping only commercially usable text.

Which sources may train the commercial model (:data:`COMMERCIAL_SOURCES`) and why:

- ``sec``: SEC EDGAR filings, US government records with no copyright restriction on the text;
- ``stocknet``: the StockNet dataset (MIT); tweet text under Twitter's terms;
- ``tfns-train``: Twitter Financial News Sentiment (MIT); tweet text under Twitter's terms.

The labels on these rows are the project's own annotations (MIT, like the code). Financial PhraseBank
(CC BY-NC-SA 3.0) and SENTiVENT (research use only) rows are dropped; so are the rule-labelled silver rows and the
rule-retrieved gold files, whose texts include Financial PhraseBank sentences.

Writes, under ``--out-dir`` (default ``runs/commercial_data``):

- ``sentiment_train.jsonl``: ``text``, ``label`` (the corpus's sentiment) of the corpus's training rows from ``sec``
  and ``stocknet`` (TFNS rows are left out: TFNS itself is a training source, with its own labels);
- ``risk_train.jsonl`` / ``risk_dev.jsonl``: the corpus's training / dev rows from the three sources, every column.

Usage (after ``python -m finetune.risk_data.corpus.build --out-dir runs/corpus``)::

    python -m finetune.commercial.data --corpus-dir runs/corpus --out-dir runs/commercial_data
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from textrisk.data.datasets import read_jsonl_rows
from textrisk.utils.atomic import atomic_write_text

#: Corpus sources whose text may train a model for commercial use (see the module docstring).
COMMERCIAL_SOURCES = ("sec", "stocknet", "tfns-train")


def commercial(rows: list[dict]) -> list[dict]:
    """The rows whose source allows commercial use and that carry their text."""
    return [row for row in rows if row.get("source") in COMMERCIAL_SOURCES and row.get("text")]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write ``rows`` as JSON lines, atomically."""
    atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def main(argv: list[str] | None = None) -> None:
    """Write the three files and print their row counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus-dir", type=Path, default=Path("runs/corpus"),
                        help="folder with corpus_train.jsonl and corpus_dev.jsonl (from corpus.build)")
    parser.add_argument("--out-dir", type=Path, default=Path("runs/commercial_data"))
    args = parser.parse_args(argv)
    train = commercial([row for _, row in read_jsonl_rows(args.corpus_dir / "corpus_train.jsonl")])
    dev = commercial([row for _, row in read_jsonl_rows(args.corpus_dir / "corpus_dev.jsonl")])
    sentiment = [{"text": row["text"], "label": row["sentiment"]} for row in train
                 if row["source"] != "tfns-train" and row.get("sentiment")]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(args.out_dir / "sentiment_train.jsonl", sentiment)
    write_jsonl(args.out_dir / "risk_train.jsonl", train)
    write_jsonl(args.out_dir / "risk_dev.jsonl", dev)
    print(f"sentiment_train: {len(sentiment)} rows {dict(Counter(r['label'] for r in sentiment))}")
    print(f"risk_train: {len(train)} rows {dict(Counter(r['source'] for r in train))}")
    print(f"risk_dev: {len(dev)} rows {dict(Counter(r['source'] for r in dev))}")


if __name__ == "__main__":
    main()
