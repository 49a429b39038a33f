"""The one file-decoding policy: how every file textrisk reads becomes text.

Used by ``textrisk score --input``, ``--files`` and ``--input-dir``, ``textrisk compare``, the labelled files
of training and evaluation (:func:`read_text`, :func:`decode`) and each line ``textrisk monitor`` reads
(:func:`decode` with ``first_line``):

- **Strict decoding.** The bytes are decoded as ``encoding`` (``--encoding``; default UTF-8, whose byte-order
  mark is dropped). A byte that is not valid there raises :class:`~textrisk.errors.DataError` naming the file,
  line, column and byte and suggesting ``--encoding``; nothing is replaced silently. Universal newlines become
  ``\n``.
- **Binary files are refused**, never decoded into noise and scored (noise scores as a confident "neutral"): a
  file that starts like a gzip, zip, bzip2, xz or 7z archive or a PDF, or that has NUL bytes in its first
  8 KiB (for encodings other than UTF-16/32), raises :class:`~textrisk.errors.DataError` saying what it looks
  like and what to do (decompress it, convert it to text).
- **HTML** (``.htm``/``.html``) is decoded by the same rules, then turned into text by
  :func:`textrisk.filings.html.html_to_text`, only where a file is one document (``--files``, ``--input-dir``,
  ``compare``). ``--input`` reads rows (one per line, JSONL, CSV) and refuses an HTML file with a pointer to
  ``--files``.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from ..errors import DataError

__all__ = ["codec_name", "decode", "read_text", "sniff_binary"]

#: Leading bytes of formats that are never text, and what to tell the user.
_MAGIC = ((b"\x1f\x8b", "gzip-compressed: decompress it first (gunzip)"),
          (b"PK\x03\x04", "a zip archive: extract it first"),
          (b"BZh", "bzip2-compressed: decompress it first (bunzip2)"),
          (b"\xfd7zXZ\x00", "xz-compressed: decompress it first (unxz)"),
          (b"7z\xbc\xaf\x27\x1c", "a 7z archive: extract it first"),
          (b"%PDF-", "a PDF: convert it to text first (e.g. pdftotext)"))
_SNIFF_BYTES = 8192


def sniff_binary(data: bytes, codec: str = "utf-8", nul: bool = True) -> str | None:
    """What a file's bytes look like when they are not text (see the module docstring), else None; ``nul=False``
    checks the leading bytes only."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    if nul and not codec.startswith(("utf-16", "utf_16", "utf-32", "utf_32")) and b"\x00" in data[:_SNIFF_BYTES]:
        return "binary (it has NUL bytes): textrisk reads text files"
    return None


def codec_name(encoding: str) -> str:
    """The codec's canonical name (``"latin-1"`` -> ``"iso8859-1"``); an unknown encoding raises DataError."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r} (try utf-8, latin-1, cp1252)") from None


def decode(data: bytes, path: str | os.PathLike, encoding: str = "utf-8", first_line: int = 1) -> str:
    """``data`` (the bytes of the file ``path``, from its line ``first_line`` on) as text under the policy of the
    module docstring.

    Raises:
        DataError: unknown encoding, a binary file, or bytes that are not valid ``encoding`` -- naming the file
            (and line, column and byte), and suggesting ``--encoding``.
    """
    codec = codec_name(encoding)
    found = sniff_binary(data, codec, nul=False)  # archives and PDFs first: "not valid utf-8" would mislead
    if found:
        raise DataError(f"{path} is {found}")
    try:
        text = data.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + first_line
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError(f"{path} line {line}: byte 0x{data[exc.start]:02x} at column {column} is not valid "
                        f"{encoding} ({exc.reason}); give the file's encoding (e.g. --encoding latin-1 or cp1252) "
                        "or convert it to UTF-8") from None
    found = sniff_binary(data, codec)  # decodable, but NUL bytes: a binary file in a permissive encoding
    if found:
        raise DataError(f"{path} is {found}")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: str | os.PathLike, encoding: str = "utf-8") -> str:
    """The whole file decoded under the policy of the module docstring (see :func:`decode`)."""
    codec_name(encoding)  # an unknown encoding is named before the file is read
    path = Path(path)
    return decode(path.read_bytes(), path, encoding)
