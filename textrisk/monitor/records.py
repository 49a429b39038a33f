"""The one record validator of the monitor: a line of bytes in, a :class:`Record` or a :class:`DeadLetter` out.

A line is decoded by the package's decoding policy (:func:`textrisk.data.files.decode`: strict, ``--encoding``,
binary refused), parsed as one JSON object and checked field by field:

- ``id``: a non-empty string or an integer, at most :data:`MAX_ID_CHARS` characters;
- ``entity``: a non-empty string, at most :data:`MAX_ENTITY_CHARS` characters, no control characters;
- ``text``: passes the package's text check (:func:`textrisk.data.inputs.check_text`: a string, not blank, no
  lone surrogate, not only control characters);
- ``url`` (optional): an ``http://`` or ``https://`` link to the document, at most :data:`MAX_URL_CHARS`
  characters, no spaces or control characters (alerts carry it);
- ``timestamp``: the package's timestamp policy (:mod:`textrisk.data.timestamps`: ISO 8601 with an offset or
  POSIX seconds, finite, 1900..2100; the engine also refuses times ahead of its clock);
- no string may hold a lone surrogate (``"\\ud800"`` is valid JSON but not Unicode text: no database, file or HTTP
  answer can hold it).

A line that fails becomes a :class:`DeadLetter` (where it is, why, its bytes), stored by the engine in the same
transaction as its batch and appended to the dead-letter file; it never stops the stream.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..data.datasets import parse_json_object
from ..data.files import decode
from ..data.inputs import check_text, name_problem, unicode_problem
from ..data.timestamps import parse_timestamp
from ..errors import DataError

__all__ = ["MAX_ENTITY_CHARS", "MAX_ID_CHARS", "MAX_URL_CHARS", "DeadLetter", "Record", "parse_line", "parse_record"]

#: Longest ``id`` accepted (characters).
MAX_ID_CHARS = 1024
#: Longest ``entity`` accepted (characters).
MAX_ENTITY_CHARS = 256
#: Longest ``url`` accepted (characters).
MAX_URL_CHARS = 2048
_FIELDS = ("id", "timestamp", "entity", "text")


@dataclass(frozen=True)
class Record:
    """One monitored document."""

    id: str
    timestamp: float  # POSIX seconds, UTC
    entity: str
    text: str
    where: str = field(default="", compare=False)  # "file line N", for messages
    url: str | None = None  # a link to the document (http or https)

    @property
    def location(self) -> str:
        """Where the record came from (``"file line N"``), or its id."""
        return self.where or f"record {self.id!r}"

    def to_json(self) -> bytes:
        """The record's fields as one JSON line (the ``raw`` of its dead letter once it was parsed)."""
        fields = {"id": self.id, "timestamp": self.timestamp, "entity": self.entity, "text": self.text}
        if self.url is not None:
            fields["url"] = self.url
        return json.dumps(fields, ensure_ascii=False).encode("utf-8", errors="backslashreplace")


@dataclass(frozen=True)
class DeadLetter:
    """A line that cannot be processed: ``where`` it is (``"file line N"``), ``error`` (why), ``raw`` (its bytes)."""

    where: str
    error: str
    raw: bytes

    def to_row(self) -> dict[str, Any]:
        """Columns of the state's ``dead_letters`` table (``raw`` as text; undecodable bytes as ``\\xNN``)."""
        return {"location": self.where, "error": self.error,
                "raw": self.raw.decode("utf-8", errors="backslashreplace").rstrip("\r\n")}


def _string(raw: dict[str, Any], key: str, where: str, limit: int) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"{where}: field {key!r} must be a non-empty string, got {value!r:.60}")
    problem = name_problem(value, limit)
    if problem:
        raise DataError(f"{where}: field {key!r} {problem}")
    return value


def _strings(value: Any, where: str, path: str) -> None:
    """Refuse a lone surrogate anywhere in ``value`` (extra fields too: the raw line is stored)."""
    if isinstance(value, str):
        problem = unicode_problem(value)
        if problem:
            raise DataError(f"{where}: field {path!r} {problem}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _strings(key, where, f"{path} key")
            _strings(item, where, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _strings(item, where, f"{path}[{i}]")


def parse_record(line: str, where: str) -> Record:
    """A :class:`Record` from one JSON line (already decoded); ``where`` ("file line N") prefixes every error.

    Raises:
        DataError: naming ``where`` and the field (see the module docstring).
    """
    raw = parse_json_object(line, where)
    missing = [key for key in _FIELDS if key not in raw]
    if missing:
        raise DataError(f"{where}: missing field(s) {missing}")
    _strings(raw, where, "")
    if isinstance(raw["id"], int) and not isinstance(raw["id"], bool):
        doc_id = str(raw["id"])
    elif isinstance(raw["id"], str):
        doc_id = _string(raw, "id", where, MAX_ID_CHARS)
    else:
        raise DataError(f"{where}: field 'id' must be a string or an integer, got {raw['id']!r:.60}")
    entity = _string(raw, "entity", where, MAX_ENTITY_CHARS).strip()
    if any(unicodedata.category(ch) == "Cc" for ch in entity):
        raise DataError(f"{where}: field 'entity' holds control characters: {entity!r:.60}")
    problem, _ = check_text(raw["text"])
    if problem:
        raise DataError(f"{where}: field 'text' {problem}")
    return Record(id=doc_id, timestamp=parse_timestamp(raw["timestamp"], where), entity=entity, text=raw["text"],
                  where=where, url=_url(raw.get("url"), where))


def _url(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if (not isinstance(value, str) or not value.startswith(("http://", "https://")) or len(value) > MAX_URL_CHARS
            or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value)):
        raise DataError(f"{where}: field 'url' must be an http:// or https:// link of at most {MAX_URL_CHARS} "
                        f"characters without spaces, got {value!r:.80}")
    return value


def parse_line(data: bytes, file: str, line: int, encoding: str = "utf-8") -> Record | DeadLetter | None:
    """The record of the line ``data`` (line ``line`` of ``file``), its dead letter, or None for a blank line."""
    where = f"{file} line {line}"
    try:
        text = decode(data, file, encoding, first_line=line)
        if not text.strip():
            return None
        return parse_record(text, where)
    except DataError as exc:  # decode names a binary line as the file ("f is binary"): name the line
        message = str(exc)
        return DeadLetter(where, f"{where}{message[len(file):]}" if message.startswith(f"{file} is ") else message,
                          data)
