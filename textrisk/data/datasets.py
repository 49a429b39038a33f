"""Datasets: the shared benchmarks under their standard protocols, and users' own labelled files.

Every row that cannot be used raises :class:`DataError` naming the file and line; nothing is dropped silently.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..labels.taxonomy import (
    ADVERSE_KINDS,
    KINDS,
    RISK_LABELS,
    SENTIMENT_LABELS,
    SEVERITY_LEVELS,
    normalize_label,
    validate_risk_labels,
)
from .files import read_text

__all__ = [
    "BENCHMARKS",
    "FPB_SPLIT_SEED",
    "FPB_TEST_SIZE",
    "find_data_dir",
    "load_benchmark",
    "load_labeled_file",
    "load_risk_file",
    "load_training_source",
    "parse_json_object",
    "read_jsonl_rows",
    "table_rows",
]

#: The standard Financial PhraseBank protocol (as in FinGPT's benchmark): 50%-agreement sentences,
#: ``datasets.Dataset.train_test_split(test_size=0.25, seed=42)``.
FPB_TEST_SIZE = 0.25
FPB_SPLIT_SEED = 42
#: Held-out evaluation parts of the shared benchmarks: name -> (loader, split).
BENCHMARKS = ("fpb", "tfns")

_ROOT = Path(__file__).resolve().parents[2]
#: ``../shared/data`` relative to the source checkout textrisk is imported from (editable install); None for an
#: installed wheel, whose package folder has no checkout around it.
_CHECKOUT_DATA = _ROOT.parent / "shared" / "data" if (_ROOT / "pyproject.toml").is_file() else None


def find_data_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """Locate the shared data folder; None if absent.

    Lookup order, first folder holding ``financial_phrasebank/`` wins:

    1. ``explicit`` (the ``data_dir`` argument / ``--data-dir``; if given, it must be a data folder);
    2. ``$TEXTRISK_DATA_DIR``;
    3. ``../shared/data`` relative to the current directory;
    4. ``../shared/data`` relative to the source checkout textrisk is imported from, only when textrisk runs
       from a checkout (editable install) and that folder exists.
    """
    if explicit:  # given, it must be the data folder: never fall through to another one silently
        if (Path(explicit) / "financial_phrasebank").is_dir():
            return Path(explicit)
        raise DataError(f"data folder {str(explicit)!r} does not hold financial_phrasebank/ and the other sets")
    for candidate in [os.environ.get("TEXTRISK_DATA_DIR"), Path.cwd().parent / "shared" / "data", _CHECKOUT_DATA]:
        if candidate and (Path(candidate) / "financial_phrasebank").is_dir():
            return Path(candidate)
    return None


def _require_data_dir(data_dir: str | os.PathLike | None) -> Path:
    found = find_data_dir(data_dir)
    if found is None:
        raise DataError("shared data not found: pass data_dir, set TEXTRISK_DATA_DIR, or place it at ../shared/data")
    return found


def _dataset(texts: list[str], labels: list[int]):
    from datasets import Dataset

    return Dataset.from_dict({"text": texts, "label": labels})


def _read_csv_rows(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, row)``, the number of the line on which the record ends (header = line 1)."""
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # a long filing in one cell is normal
    reader = csv.DictReader(io.StringIO(read_text(path, encoding), newline=""))
    try:
        if reader.fieldnames is None:
            raise DataError(f"{path}: empty CSV file (no header)")
        width = len(reader.fieldnames)
        for row in reader:
            if None in row:
                raise DataError(f"{path} line {reader.line_num}: {width + len(row[None])} fields, but the header "
                                f"has {width}; quote values that contain commas")
            yield reader.line_num, row
    except csv.Error as exc:
        raise DataError(f"{path} line {reader.line_num}: malformed CSV ({exc})") from None


def parse_json_object(line: str, where: str) -> dict[str, Any]:
    """One JSONL line as a dict; errors start with ``where`` (e.g. ``"file.jsonl line 3"``)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise DataError(f"{where}: JSON nested too deeply") from None
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
    return row


def read_jsonl_rows(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSONL file.

    Raises:
        DataError: a line is not valid JSON or not a JSON object (file and line named).
    """
    for number, line in enumerate(read_text(path, encoding).split("\n"), start=1):
        if line.strip():
            yield number, parse_json_object(line, f"{path} line {number}")


def table_rows(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line_number, row)`` of a labelled or input table: ``.csv`` or ``.jsonl`` (``.ndjson``, ``.json``)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv_rows(path, encoding)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return read_jsonl_rows(path, encoding)
    raise DataError(f"{path}: unsupported file type {suffix!r}; use .csv or .jsonl")


def _row_text(row: dict[str, Any], where: str, text_column: str, label_column: str) -> str:
    """The text of a labelled row; DataError (``where`` = file and line) if a column is missing or the text empty."""
    for column in (text_column, label_column):
        if column not in row:
            raise DataError(f"{where}: no {column!r} column (found {sorted(row)})")
    text = row[text_column]
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: {text_column!r} is empty or not a string")
    return text


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
    for number, row in table_rows(path):
        where = f"{path} line {number}"
        texts.append(_row_text(row, where, text_column, label_column))
        ids.append(normalize_label(row[label_column], labels, where))
    if not texts:
        raise DataError(f"{path}: no rows")
    return _dataset(texts, ids)


def load_risk_file(path: str | os.PathLike, risk_labels: Sequence[str] = RISK_LABELS, text_column: str = "text",
                   labels_column: str = "labels", unknown_column: str = "unknown", judgement: bool = False):
    """Load a multi-label risk file (CSV or JSONL) as a ``datasets.Dataset`` with ``text``, multi-hot ``risk`` and
    multi-hot ``known`` (1 where the row's label is defined).

    A row's labels cell is a list (or ``;``-separated names); ``[]``/``none`` means no risk label. An optional
    ``unknown`` cell lists labels the row is not annotated for (partially labelled data such as mapped SENTiVENT
    rows): they are neither positive nor negative there (``known`` 0). Labels of ``risk_labels`` that the file does
    not mention are negative.

    ``judgement=True`` also reads the judgement corpus's optional cells (finetune/risk_data/corpus): ``topics`` (a
    label list like ``labels``), ``kind`` (one of ``KINDS``) and ``severity`` (0-3; 0 unless kind is an event or
    outlook), into a ``judgement`` column packed as ``topics (len(risk_labels)) | kind index | severity |
    adverse``, -1 where a row lacks the cell (``adverse`` needs both kind and severity).

    Raises:
        DataError: missing file or column, empty text, a blank labels cell, or a label outside ``risk_labels``
            (with the line number); a label both in ``labels`` and ``unknown``; a bad kind or severity.
    """
    from datasets import Dataset

    path = Path(path)
    if not path.is_file():
        raise DataError(f"risk data file not found: {str(path)!r}")
    texts, targets, known, judged = [], [], [], []
    for number, row in table_rows(path):
        where = f"{path} line {number}"
        text = _row_text(row, where, text_column, labels_column)
        found = set(validate_risk_labels(row[labels_column], risk_labels, where))
        unknown: set[str] = set()
        if row.get(unknown_column) not in (None, "", []):
            unknown = set(validate_risk_labels(row[unknown_column], list(dict.fromkeys([*risk_labels, *RISK_LABELS])),
                                               f"{where} ({unknown_column})"))
        if found & unknown:
            raise DataError(f"{where}: {sorted(found & unknown)} both in {labels_column!r} and {unknown_column!r}")
        texts.append(text)
        targets.append([int(label in found) for label in risk_labels])
        known.append([int(label not in unknown) for label in risk_labels])
        if judgement:
            judged.append(_judgement_cells(row, risk_labels, where))
    if not texts:
        raise DataError(f"{path}: no rows")
    columns = {"text": texts, "risk": targets, "known": known}
    if judgement:
        columns["judgement"] = judged
    return Dataset.from_dict(columns)


def _judgement_cells(row: dict[str, Any], risk_labels: Sequence[str], where: str) -> list[int]:
    """``topics | kind | severity | adverse`` of one row (-1: cell absent)."""
    topics = [-1] * len(risk_labels)
    if row.get("topics") not in (None, ""):
        found = set(validate_risk_labels(row["topics"], risk_labels, f"{where} (topics)"))
        topics = [int(label in found) for label in risk_labels]
    kind = severity = adverse = -1
    if row.get("kind") not in (None, ""):
        if row["kind"] not in KINDS:
            raise DataError(f"{where}: kind {row['kind']!r} is not one of {list(KINDS)}")
        kind = KINDS.index(row["kind"])
    if row.get("severity") not in (None, ""):
        try:
            severity = int(row["severity"])
        except (TypeError, ValueError):
            severity = -1
        if severity not in SEVERITY_LEVELS or isinstance(row["severity"], bool):
            raise DataError(f"{where}: severity {row['severity']!r} is not one of {list(SEVERITY_LEVELS)}")
    if kind >= 0 and severity >= 0:
        if severity and KINDS[kind] not in ADVERSE_KINDS:
            raise DataError(f"{where}: severity {severity} on a {KINDS[kind]!r} row (only events and outlooks are "
                            "adverse)")
        adverse = int(severity >= 1)
    return [*topics, kind, severity, adverse]


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
