"""Documents to score: one input row (id, text, or why it cannot be scored) and the reader of ``--input`` files.

Plain text (one document per non-blank line), JSONL and CSV; every file is decoded by
:func:`textrisk.data.files.read_text` (strict, naming file, line and column; binary files refused; HTML
refused with a pointer to ``--files``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError
from .datasets import table_rows
from .files import read_text

__all__ = ["Document", "read_documents"]


@dataclass
class Document:
    """One input row for scoring: its id (given, or ``line N``), its text, or why it cannot be scored.

    ``line`` is the input line the row ends on; ``extra`` holds the row's other fields (``None`` for plain text).
    """

    id: str
    text: str | None
    error: str | None = None
    extra: dict[str, Any] | None = None
    line: int | None = None


def _document_id(value: Any, number: int) -> str:
    if value is None or value == "":
        return f"line {number}"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def read_documents(path: str | os.PathLike, text_field: str = "text", id_field: str = "id",
                   encoding: str = "utf-8") -> list[Document]:
    """Read documents to score from plain text (one per non-blank line), JSONL or CSV.

    Rows whose text is missing, empty or not a string become ``Document(error=...)`` so outputs stay aligned
    with inputs (texts a model cannot read are found later, by :mod:`textrisk.data.inputs`); structural problems
    (missing column, malformed JSON or CSV, undecodable bytes) raise :class:`DataError` with the line number.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"input file not found: {str(path)!r}")
    if path.suffix.lower() in (".htm", ".html"):
        raise DataError(f"{path} is HTML: score it as one document with --files (its text is extracted), or convert "
                        "it to text first")
    if path.suffix.lower() not in (".csv", ".jsonl", ".ndjson", ".json"):
        return [Document(id=f"line {n}", text=line, line=n)
                for n, line in enumerate(read_text(path, encoding).split("\n"), start=1) if line.strip()]
    documents = []
    for number, row in table_rows(path, encoding):
        if text_field not in row:
            raise DataError(f"{path} line {number}: no {text_field!r} field (found {sorted(row)}); "
                            f"choose one with --text-field")
        text = row[text_field]
        error = None
        if text is None:
            error = f"{text_field!r} is null or missing"
        elif not isinstance(text, str):
            error, text = f"{text_field!r} is {type(text).__name__}, not a string", None
        elif not text.strip():
            error, text = f"{text_field!r} is empty", None
        extra = {k: v for k, v in row.items() if k != text_field}
        documents.append(Document(id=_document_id(row.get(id_field), number), text=text, error=error, extra=extra,
                                  line=number))
    return documents
