"""Unlabelled in-domain texts for knowledge distillation: StockNet tweets, SEC filing sentences, SENTiVENT news.

Each source yields short texts (4-80 words); :func:`sample_unlabelled` takes a seeded, bounded sample of them,
split evenly over the sources and deduplicated against texts that must stay unseen (dev and test rows).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..errors import DataError
from .chunking import split_sentences
from .datasets import find_data_dir, read_jsonl_rows
from .files import read_text

__all__ = ["UNLABELLED_SOURCES", "load_unlabelled", "sample_unlabelled"]

UNLABELLED_SOURCES = ("stocknet", "sec_filings", "sentivent")
_MIN_WORDS, _MAX_WORDS = 4, 80
_LETTERS = re.compile(r"[A-Za-z]")


def _usable(text: str) -> bool:
    words = text.split()
    # filing tables and headings are mostly digits and symbols: keep prose only
    return _MIN_WORDS <= len(words) <= _MAX_WORDS and len(_LETTERS.findall(text)) >= 0.6 * len(text.replace(" ", ""))


def _stocknet(folder: Path) -> Iterable[str]:
    root = folder / "stocknet" / "tweet" / "preprocessed"
    if not root.is_dir():
        raise DataError(f"StockNet tweets not found at {root}")
    for path in sorted(root.glob("*/*")):
        for _, row in read_jsonl_rows(path):
            tokens = row.get("text")
            if isinstance(tokens, list):
                yield " ".join(str(t) for t in tokens)


def _sec_filings(folder: Path) -> Iterable[str]:
    root = folder / "sec_filings"
    paths = sorted(root.glob("*.txt"))
    if not paths:
        raise DataError(f"no SEC filing .txt files in {root}")
    for path in paths:
        text = read_text(path)
        for start, end in split_sentences(text):
            yield " ".join(text[start:end].split())


def _sentivent(folder: Path) -> Iterable[str]:
    path = folder / "sentivent" / "events_sentences.tsv"
    if not path.is_file():
        raise DataError(f"SENTiVENT sentences not found at {path}")
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            yield row["text"]


def _text_file(path: Path) -> Iterable[str]:
    if not path.is_file():
        raise DataError(f"distill_texts: {str(path)!r} is neither a file nor one of {list(UNLABELLED_SOURCES)}")
    return (line.strip() for line in read_text(path).splitlines())


_READERS = {"stocknet": _stocknet, "sec_filings": _sec_filings, "sentivent": _sentivent}


def load_unlabelled(source: str, data_dir: str | os.PathLike | None = None) -> list[str]:
    """Distinct usable texts of ``source`` (a name in :data:`UNLABELLED_SOURCES` or a .txt file), first-seen order."""
    if source in _READERS:
        folder = find_data_dir(data_dir)
        if folder is None:
            raise DataError(f"distill_texts {source!r}: shared data not found (pass data_dir or set TEXTRISK_DATA_DIR)")
        texts = _READERS[source](folder)
    else:
        texts = _text_file(Path(source))
    return list(dict.fromkeys(t for t in texts if _usable(t)))


def sample_unlabelled(sources: Sequence[str], limit: int, seed: int, exclude: Iterable[str] = (),
                      data_dir: str | os.PathLike | None = None) -> list[str]:
    """At most ``limit`` texts: up to ``limit // len(sources)`` per source (the remainder to the first ones), a
    seeded sample of each, none of them in ``exclude`` and none twice."""
    excluded = set(exclude)
    chosen: list[str] = []
    for number, source in enumerate(sources):
        share = limit // len(sources) + (1 if number < limit % len(sources) else 0)
        pool = [t for t in load_unlabelled(source, data_dir) if t not in excluded]
        picked = np.random.default_rng(seed + number).permutation(len(pool))[:share]
        for index in sorted(picked):
            excluded.add(pool[index])
            chosen.append(pool[index])
    return chosen
