"""Read the shared real-text sources with stable row ids, and re-find a text from its id.

Row ids (all 0-based):

- ``fpb50:<row>``: data row of ``financial_phrasebank/sentences_50agree.csv`` (header excluded).
- ``tfns-train:<row>`` / ``tfns-valid:<row>``: data row of ``twitter_financial_news_sentiment/{train,valid}.csv``.
- ``stocknet:<TICKER>/<YYYY-MM-DD>:<line>``: line of ``stocknet/tweet/preprocessed/<TICKER>/<date>``; the text is
  the tweet's token list joined with single spaces.
- ``sec:<file>:<start>-<end>``: a sentence of ``sec_filings/<file>``; ``start``/``end`` are Python string (code
  point) offsets into the file read as UTF-8, as given by ``textrisk.data.chunking.split_sentences``; the text is
  ``file_text[start:end]`` with every whitespace run collapsed to one space (filings wrap lines inside sentences).
- ``sentivent:<document_id>:<sentence_idx>``: a sentence of ``sentivent/events_sentences.tsv``; the text is its
  tokenised ``text`` column, unchanged.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from textrisk.data.sentivent import sentence_records
from textrisk.errors import DataError

__all__ = ["FILING_SOURCE", "ID_PREFIXES", "SENTIVENT_SOURCE", "SOURCES", "dedup_key", "find_text", "is_usable",
           "iter_filing_sentences", "iter_sentivent", "iter_source", "normalize_text", "source_of"]

#: Source name -> the id prefix it uses (the short-text sources; filings are split into sentences separately).
SOURCES = ("fpb50", "tfns-train", "tfns-valid", "stocknet")
#: Id prefix of sentences split out of ``sec_filings/`` texts.
FILING_SOURCE = "sec"
#: Id prefix of SENTiVENT sentences (human event annotation; research use only).
SENTIVENT_SOURCE = "sentivent"
#: Every id prefix ``find_text`` understands.
ID_PREFIXES = (*SOURCES, FILING_SOURCE, SENTIVENT_SOURCE)

_CSV_FILES = {
    "fpb50": ("financial_phrasebank", "sentences_50agree.csv"),
    "tfns-train": ("twitter_financial_news_sentiment", "train.csv"),
    "tfns-valid": ("twitter_financial_news_sentiment", "valid.csv"),
}


def normalize_text(text: str) -> str:
    """The key used to match texts across sources and sets: whitespace collapsed, case folded."""
    return " ".join(text.split()).casefold()


def dedup_key(text: str) -> str:
    """An aggressive near-duplicate key: no URLs, retweet prefixes, mentions or punctuation, case folded."""
    text = re.sub(r"https?://\S+|\bURL\b|\bAT_USER\b|^rt\b", " ", text, flags=re.IGNORECASE)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def is_usable(text: str) -> bool:
    """Whether a text has at least six non-numeric words (shorter texts and cashtag lists carry no event)."""
    words = [w for w in dedup_key(text).split() if not w.isdigit()]
    return len(words) >= 6


def source_of(row_id: str) -> str:
    """The source name of a row id (``"fpb50:12"`` -> ``"fpb50"``)."""
    prefix = row_id.split(":", 1)[0]
    if prefix not in ID_PREFIXES:
        raise DataError(f"row id {row_id!r} has unknown source {prefix!r}; expected one of {list(ID_PREFIXES)}")
    return prefix


@lru_cache(maxsize=8)
def _csv_texts(data_dir: Path, source: str) -> tuple[str, ...]:
    folder, name = _CSV_FILES[source]
    with (data_dir / folder / name).open(encoding="utf-8-sig", newline="") as handle:
        return tuple(row["text"] for row in csv.DictReader(handle))


def _stocknet_file(data_dir: Path, ticker: str, date: str) -> list[str]:
    path = data_dir / "stocknet" / "tweet" / "preprocessed" / ticker / date
    with path.open(encoding="utf-8") as handle:
        return [" ".join(json.loads(line)["text"]) for line in handle if line.strip()]


def iter_source(source: str, data_dir: Path) -> Iterator[tuple[str, str]]:
    """Yield ``(row_id, text)`` for every row of one source, in file order."""
    if source in _CSV_FILES:
        for row, text in enumerate(_csv_texts(data_dir, source)):
            yield f"{source}:{row}", text
    elif source == "stocknet":
        root = data_dir / "stocknet" / "tweet" / "preprocessed"
        for ticker_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            for day in sorted(ticker_dir.iterdir()):
                for line, text in enumerate(_stocknet_file(data_dir, ticker_dir.name, day.name)):
                    yield f"stocknet:{ticker_dir.name}/{day.name}:{line}", text
    else:
        raise DataError(f"unknown source {source!r}; expected one of {list(SOURCES)}")


@lru_cache(maxsize=4)
def _filing_text(data_dir: Path, name: str) -> str:
    return (data_dir / "sec_filings" / name).read_text(encoding="utf-8")


def iter_filing_sentences(data_dir: Path) -> Iterator[tuple[str, str]]:
    """Yield ``(row_id, text)`` for every sentence of every ``sec_filings/*.txt`` file, files in name order.

    Sentences are the spans of ``textrisk.data.chunking.split_sentences`` (the splitter the scorer chunks filings
    with); no filter is applied here.
    """
    from textrisk.data.chunking import split_sentences

    for path in sorted((data_dir / "sec_filings").glob("*.txt")):
        raw = _filing_text(data_dir, path.name)
        for start, end in split_sentences(raw):
            yield f"{FILING_SOURCE}:{path.name}:{start}-{end}", " ".join(raw[start:end].split())


def iter_sentivent(data_dir: Path) -> Iterator[tuple[str, dict]]:
    """Yield ``(row_id, record)`` for every SENTiVENT sentence in file order; ``record`` has ``article``,
    ``dataset`` (``gold`` = adjudicated, ``silver``), ``text`` and ``subtypes`` (unique event subtypes)."""
    yield from sentence_records(data_dir).items()


_FILING_ID = re.compile(r"^sec:([^/:]+\.txt):(\d+)-(\d+)$")
_STOCKNET_ID = re.compile(r"^stocknet:([A-Z0-9.\-]+)/(\d{4}-\d{2}-\d{2}):(\d+)$")


def find_text(row_id: str, data_dir: Path) -> str:
    """Re-find the text of ``row_id`` in the shared data.

    Raises:
        DataError: malformed id, or no such row.
    """
    source = source_of(row_id)
    if source == SENTIVENT_SOURCE:
        try:
            return sentence_records(data_dir)[row_id]["text"]
        except KeyError as exc:
            raise DataError(f"row id {row_id!r}: no such sentence in sentivent/events_sentences.tsv") from exc
    if source == FILING_SOURCE:
        match = _FILING_ID.match(row_id)
        if not match:
            raise DataError(f"malformed filing id {row_id!r}; expected sec:<file>.txt:<start>-<end>")
        name, start, end = match.group(1), int(match.group(2)), int(match.group(3))
        try:
            raw = _filing_text(data_dir, name)
        except OSError as exc:
            raise DataError(f"row id {row_id!r}: no file {name!r} in sec_filings/") from exc
        if not start < end <= len(raw):
            raise DataError(f"row id {row_id!r}: span {start}-{end} is outside {name} ({len(raw)} characters)")
        return " ".join(raw[start:end].split())
    if source == "stocknet":
        match = _STOCKNET_ID.match(row_id)
        if not match:
            raise DataError(f"malformed StockNet id {row_id!r}; expected stocknet:<TICKER>/<YYYY-MM-DD>:<line>")
        ticker, date, line = match.group(1), match.group(2), int(match.group(3))
        try:
            return _stocknet_file(data_dir, ticker, date)[line]
        except (OSError, IndexError) as exc:
            raise DataError(f"row id {row_id!r}: no such tweet in the StockNet data") from exc
    try:
        row = int(row_id.split(":", 1)[1])
        if row < 0:
            raise ValueError(row)
        return _csv_texts(data_dir, source)[row]
    except (ValueError, IndexError) as exc:
        raise DataError(f"row id {row_id!r}: no such row in {'/'.join(_CSV_FILES[source])}") from exc


def require_data_dir(explicit: str | None) -> Path:
    """The shared data folder (``explicit``, else ``$TEXTRISK_DATA_DIR``, else ``../shared/data``); exits with a
    one-line message when there is none (the scripts here cannot run without it)."""
    from textrisk.data.datasets import find_data_dir

    data_dir = find_data_dir(explicit)
    if data_dir is None:
        raise SystemExit("shared data not found: pass --data-dir or set TEXTRISK_DATA_DIR")
    return data_dir
