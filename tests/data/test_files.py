"""The one file-decoding policy (textrisk.data.files): strict, names file/line/column, honours --encoding, refuses
binary, compressed and HTML-as-rows input with a clear error; the same for --input, --files, --input-dir and
compare."""

from __future__ import annotations

import gzip

import pytest

from textrisk import cli
from textrisk.data.documents import read_documents
from textrisk.data.files import read_text
from textrisk.errors import DataError
from textrisk.filings.documents import documents_from_args, read_filing

LATIN = "Profit rose.\nR\xe9sultat en baisse.\n".encode("latin-1")


@pytest.mark.parametrize(("data", "message"), [
    (gzip.compress(b"Profit rose.\n"), "is gzip-compressed: decompress it first"),
    (b"PK\x03\x04rest", "is a zip archive"),
    (b"%PDF-1.7\n...", "is a PDF: convert it to text first"),
    (b"Profit\x00rose.\n", r"is binary \(it has NUL bytes\)"),
    (LATIN, "line 2: byte 0xe9 at column 2 is not valid utf-8"),
])
def test_binary_and_undecodable_files_are_refused_naming_the_file(tmp_path, data, message):
    path = tmp_path / "news.txt"
    path.write_bytes(data)
    with pytest.raises(DataError, match=message) as refused:
        read_text(path)
    assert str(path) in str(refused.value)


def test_the_encoding_is_honoured_and_utf16_may_hold_nul_bytes(tmp_path):
    (tmp_path / "a.txt").write_bytes(LATIN)
    assert read_text(tmp_path / "a.txt", "latin-1") == "Profit rose.\nR\xe9sultat en baisse.\n"
    (tmp_path / "b.txt").write_bytes("Profit rose.\r\n".encode("utf-16"))
    assert read_text(tmp_path / "b.txt", "utf-16") == "Profit rose.\n"
    with pytest.raises(DataError, match="unknown encoding 'klingon'"):
        read_text(tmp_path / "missing.txt", "klingon")  # named before the file is read


def test_input_refuses_html_rows_with_a_pointer_to_files(tmp_path):
    (tmp_path / "page.html").write_text("<p>Profit fell sharply.</p>\n")
    with pytest.raises(DataError, match="is HTML: score it as one document with --files"):
        read_documents(tmp_path / "page.html")


def test_files_and_input_dir_decode_like_input(tmp_path):
    (tmp_path / "latin.txt").write_bytes(LATIN)
    (tmp_path / "packed.txt").write_bytes(gzip.compress(b"Profit rose.\n"))
    (tmp_path / "page.htm").write_bytes("<p>R\xe9sultat en baisse.</p>".encode("latin-1"))
    docs = {d.id: d for d in documents_from_args(None, str(tmp_path), "*")}
    assert "line 2: byte 0xe9 at column 2 is not valid utf-8" in docs["latin.txt"].error  # never replaced
    assert "is gzip-compressed" in docs["packed.txt"].error and docs["packed.txt"].text is None
    assert "not valid utf-8" in docs["page.htm"].error
    docs = {d.id: d for d in documents_from_args(None, str(tmp_path), "*", encoding="latin-1")}
    assert docs["latin.txt"].text == "Profit rose.\nR\xe9sultat en baisse.\n"
    assert docs["page.htm"].text.strip() == "R\xe9sultat en baisse."
    assert read_filing(tmp_path / "page.htm", "latin-1") == docs["page.htm"].text


def test_compare_reads_files_by_the_same_policy(tmp_path, capsys):
    (tmp_path / "old.txt").write_bytes(b"Item 1A. Risk Factors\n\x00\x01binary")
    (tmp_path / "new.txt").write_text("Item 1A. Risk Factors\n\nProfit fell.\n")
    assert cli.main(["compare", str(tmp_path / "old.txt"), str(tmp_path / "new.txt")]) == 2
    err = capsys.readouterr().err
    assert "old.txt is binary (it has NUL bytes)" in err and len(err.strip().splitlines()) == 1
