"""Files as documents: each ``.txt``, ``.htm`` or ``.html`` file is one document whose id is its file name.

Every file is decoded by the one policy of :mod:`textrisk.data.files` (strict ``--encoding``, naming file, line
and column; binary and compressed files refused); ``.htm``/``.html`` then go through
:func:`textrisk.filings.html.html_to_text`. PDF is not read (no PDF filings were
available here to check a converter against); convert it to text first. A file that cannot be read becomes a
``Document`` with an ``error``, so one bad file does not stop a folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..data.documents import Document
from ..data.files import read_text
from ..errors import InputError, TextRiskError

__all__ = ["SUFFIXES", "documents_from_args", "documents_from_files", "files_in_dir", "form_from_name", "read_filing"]

SUFFIXES = (".txt", ".htm", ".html")
_FORM_IN_NAME = re.compile(r"(?:^|[_\-. ])(10-?K(?:405|SB|T)?|10-?Q|8-?K)(?=[_\-. ]|$)", re.IGNORECASE)


def form_from_name(name: str) -> str | None:
    """The form named in a file name such as ``AAPL_10-K_2025-10-31_full.txt``, or None."""
    match = _FORM_IN_NAME.search(Path(name).stem)
    return match.group(1).upper() if match else None


def read_filing(path: str | os.PathLike, encoding: str = "utf-8") -> str:
    """The text of one ``.txt``/``.htm``/``.html`` file (HTML converted to text), decoded by the one policy of
    :mod:`textrisk.data.files` (strict ``encoding``; binary files refused)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        raise InputError(f"{path}: PDF is not supported; convert it to text first (e.g. pdftotext)")
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: unsupported file type {suffix or '(none)'}; use {', '.join(SUFFIXES)}")
    text = read_text(path, encoding)
    if suffix in (".htm", ".html"):
        from .html import html_to_text

        return html_to_text(text)
    return text


def files_in_dir(folder: str | os.PathLike, pattern: str = "*.txt") -> list[Path]:
    """Files under ``folder`` matching ``pattern`` (``**/`` recurses), sorted; InputError if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"--input-dir {str(folder)!r} is not a folder")
    files = sorted(p for p in folder.glob(pattern) if p.is_file())
    if not files:
        raise InputError(f"no files match {pattern!r} in {str(folder)!r}")
    return files


def documents_from_files(paths: list[str | os.PathLike], root: str | os.PathLike | None = None,
                         encoding: str = "utf-8") -> list[Document]:
    """One :class:`Document` per file: id = path relative to ``root`` (default: the file name).

    ``extra`` holds the file's ``form`` when its name says it. Missing, empty, binary or undecodable files (see
    :func:`read_filing`) become documents with an ``error``; duplicate ids raise :class:`InputError`.
    """
    documents, seen = [], set()
    for raw in paths:
        path = Path(raw)
        doc_id = str(path.relative_to(root)) if root else path.name
        if doc_id in seen:
            raise InputError(f"two files have the id {doc_id!r}; pass --input-dir so ids are relative paths")
        seen.add(doc_id)
        form = form_from_name(path.name)
        extra = {"form": form} if form else None
        if not path.is_file():
            documents.append(Document(doc_id, None, error=f"file not found: {path}", extra=extra))
            continue
        try:
            text = read_filing(path, encoding)
        except (TextRiskError, OSError) as exc:
            documents.append(Document(doc_id, None, error=str(exc), extra=extra))
            continue
        if not text.strip():
            documents.append(Document(doc_id, None, error="file is empty", extra=extra))
        else:
            documents.append(Document(doc_id, text, extra=extra))
    return documents


def documents_from_args(files: list[str] | None, input_dir: str | None, pattern: str = "*.txt",
                        encoding: str = "utf-8") -> list[Document]:
    """Documents for ``textrisk score --files ...`` / ``--input-dir DIR --glob PATTERN`` (``--encoding``)."""
    if files and input_dir:
        raise InputError("give --files or --input-dir, not both")
    if input_dir:
        return documents_from_files(files_in_dir(input_dir, pattern), root=input_dir, encoding=encoding)
    return documents_from_files(list(files or []), encoding=encoding)
