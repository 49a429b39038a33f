"""Datasets: the shared benchmarks under their standard protocols, and users' own labelled files.

Every row that cannot be used raises :class:`DataError` naming the file and line; nothing is dropped silently.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DataError
from .taxonomy import RISK_LABELS, SENTIMENT_LABELS, normalize_label, validate_risk_labels

__all__ = [
    "BENCHMARKS",
    "FPB_SPLIT_SEED",
    "FPB_TEST_SIZE",
    "Document",
    "find_data_dir",
    "iter_jsonl_rows",
    "load_benchmark",
    "load_labeled_file",
    "load_risk_file",
    "load_training_source",
    "read_documents",
]

#: The standard Financial PhraseBank protocol (as in FinGPT's benchmark): 50%-agreement sentences,
#: ``datasets.Dataset.train_test_split(test_size=0.25, seed=42)``.
FPB_TEST_SIZE = 0.25
FPB_SPLIT_SEED = 42
#: Held-out evaluation parts of the shared benchmarks: name -> (loader, split).
BENCHMARKS = ("fpb", "tfns")

_REPO_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def find_data_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """Locate the shared data folder: ``explicit``, ``$TEXTRISK_DATA_DIR``, ``../shared/data``; None if absent."""
    candidates = [explicit, os.environ.get("TEXTRISK_DATA_DIR"), Path.cwd().parent / "shared" / "data", _REPO_DATA]
    for candidate in candidates:
        if candidate and (Path(candidate) / "financial_phrasebank").is_dir():
            return Path(candidate)
    if explicit:
        raise DataError(f"data folder {str(explicit)!r} does not hold financial_phrasebank/ and the other sets")
    return None


def _require_data_dir(data_dir: str | os.PathLike | None) -> Path:
    found = find_data_dir(data_dir)
    if found is None:
        raise DataError("shared data not found: pass data_dir, set TEXTRISK_DATA_DIR, or place it at ../shared/data")
    return found


def _dataset(texts: list[str], labels: list[int]):
    from datasets import Dataset

    return Dataset.from_dict({"text": texts, "label": labels})


def _read_csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, row)``, the number of the line on which the record ends (header = line 1)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise DataError(f"{path}: empty CSV file (no header)")
        for row in reader:
            yield reader.line_num, row


def _read_jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path} line {number}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise DataError(f"{path} line {number}: expected a JSON object, got {type(row).__name__}")
            yield number, row


def iter_jsonl_rows(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of a JSONL file.

    Raises:
        DataError: a line that is not valid JSON or not a JSON object, naming the file and line.
    """
    return _read_jsonl_rows(Path(path))


def _table_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv_rows(path)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _read_jsonl_rows(path)
    raise DataError(f"{path}: unsupported file type {suffix!r}; use .csv or .jsonl")


def load_labeled_file(
    path: str | os.PathLike,
    labels: Sequence[str] = SENTIMENT_LABELS,
    text_column: str = "text",
    label_column: str = "label",
):
    """Load a labelled CSV or JSONL file as a ``datasets.Dataset`` with ``text`` and integer ``label``.

    Raises:
        DataError: missing file or column, malformed line, empty text or unknown label (with the line number).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"training file not found: {str(path)!r}")
    texts, ids = [], []
    for number, row in _table_rows(path):
        where = f"{path} line {number}"
        for column in (text_column, label_column):
            if column not in row:
                raise DataError(f"{where}: no {column!r} column (found {sorted(row)})")
        text = row[text_column]
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: {text_column!r} is empty or not a string")
        texts.append(text)
        ids.append(normalize_label(row[label_column], labels, where))
    if not texts:
        raise DataError(f"{path}: no rows")
    return _dataset(texts, ids)


def load_risk_file(path: str | os.PathLike, risk_labels: Sequence[str] = RISK_LABELS, text_column: str = "text",
                   labels_column: str = "labels"):
    """Load a multi-label risk file (CSV or JSONL) as a ``datasets.Dataset`` with ``text`` and multi-hot ``risk``.

    A row's labels cell is a list (or ``;``-separated names); ``[]``/``none`` means no risk label.

    Raises:
        DataError: missing file or column, empty text, a blank labels cell, or a label outside ``risk_labels``
            (with the line number).
    """
    from datasets import Dataset

    path = Path(path)
    if not path.is_file():
        raise DataError(f"risk training file not found: {str(path)!r}")
    texts, targets = [], []
    for number, row in _table_rows(path):
        where = f"{path} line {number}"
        for column in (text_column, labels_column):
            if column not in row:
                raise DataError(f"{where}: no {column!r} column (found {sorted(row)})")
        text = row[text_column]
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: {text_column!r} is empty or not a string")
        found = set(validate_risk_labels(row[labels_column], risk_labels, where))
        texts.append(text)
        targets.append([int(label in found) for label in risk_labels])
    if not texts:
        raise DataError(f"{path}: no rows")
    return Dataset.from_dict({"text": texts, "risk": targets})


def _load_fpb(data_dir: Path, labels: Sequence[str]):
    """FPB 50%-agree, standard split; training texts that also occur in the test part are removed."""
    full = load_labeled_file(data_dir / "financial_phrasebank" / "sentences_50agree.csv", labels)
    split = full.train_test_split(test_size=FPB_TEST_SIZE, seed=FPB_SPLIT_SEED)
    test_texts = set(split["test"]["text"])
    split["train"] = split["train"].filter(lambda row: row["text"] not in test_texts)
    return split


def _load_tfns(data_dir: Path, labels: Sequence[str]):
    folder = data_dir / "twitter_financial_news_sentiment"
    return {"train": load_labeled_file(folder / "train.csv", labels),
            "test": load_labeled_file(folder / "valid.csv", labels)}


_LOADERS = {"fpb": _load_fpb, "tfns": _load_tfns}


def load_benchmark(name: str, part: str, data_dir: str | os.PathLike | None = None,
                   labels: Sequence[str] = SENTIMENT_LABELS):
    """Load ``part`` ("train" or "test") of benchmark ``name`` ("fpb" or "tfns").

    ``fpb`` test is the standard 25% split of the 50%-agree file; ``tfns`` test is its ``valid.csv``.
    """
    if name not in _LOADERS:
        raise DataError(f"unknown benchmark {name!r}; expected one of {list(_LOADERS)}")
    if part not in ("train", "test"):
        raise DataError(f"benchmark part must be 'train' or 'test', got {part!r}")
    return _LOADERS[name](_require_data_dir(data_dir), labels)[part]


def load_training_source(source: str, labels: Sequence[str] = SENTIMENT_LABELS,
                         data_dir: str | os.PathLike | None = None, text_column: str = "text",
                         label_column: str = "label"):
    """A benchmark's training part (``"fpb"``, ``"tfns"``) or a labelled CSV/JSONL file."""
    if source in _LOADERS:
        return load_benchmark(source, "train", data_dir, labels)
    return load_labeled_file(source, labels, text_column, label_column)


@dataclass
class Document:
    """One input row for scoring: its id (given, or the line number), its text, or why it cannot be scored."""

    id: str
    text: str | None
    error: str | None = None
    extra: dict[str, Any] | None = None


def read_documents(path: str | os.PathLike, text_field: str = "text", id_field: str = "id") -> list[Document]:
    """Read documents to score from plain text (one per line), JSONL or CSV.

    Rows with an empty or non-string text become ``Document(error=...)`` so outputs stay aligned with inputs;
    structural problems (missing column, malformed JSON) raise :class:`DataError` with the line number.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"input file not found: {str(path)!r}")
    if path.suffix.lower() not in (".csv", ".jsonl", ".ndjson", ".json"):
        with path.open(encoding="utf-8", errors="replace") as handle:
            return [Document(id=f"line {n}", text=line.rstrip("\r\n"))
                    for n, line in enumerate(handle, start=1) if line.strip()]
    documents = []
    for number, row in _table_rows(path):
        if text_field not in row:
            raise DataError(f"{path} line {number}: no {text_field!r} field (found {sorted(row)}); "
                            f"choose one with --text-field")
        text = row[text_field]
        error = None
        if not isinstance(text, str):
            error, text = f"{text_field!r} is {type(text).__name__}, not a string", None
        elif not text.strip():
            error, text = f"{text_field!r} is empty", None
        doc_id = row.get(id_field)
        extra = {k: v for k, v in row.items() if k not in (text_field,)}
        documents.append(Document(id=str(doc_id) if doc_id not in (None, "") else f"line {number}",
                                  text=text, error=error, extra=extra))
    return documents
