"""Readers decode what they are told (``--encoding``) and take long cells (issue 11, class 6)."""

import json

from textrisk.data.documents import read_documents


# ------------------------------------------------------------------ class 6: readers and encodings
def test_readers_decode_what_they_are_told_and_take_long_cells(tmp_path):
    latin = tmp_path / "news.txt"
    latin.write_bytes("R\xe9sultat en hausse.\r\nSecond line.\r\n".encode("latin-1"))
    assert [d.text for d in read_documents(latin, encoding="latin-1")] == ["R\xe9sultat en hausse.", "Second line."]
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufefftext,id\n\u2028Profit rose.,a\n".encode())
    assert [(d.id, d.text) for d in read_documents(bom)] == [("a", "\u2028Profit rose.")]
    long = tmp_path / "long.csv"
    long.write_text("id,text\n1,\"" + "Profit rose. " * 20_000 + "\"\n")
    assert len(read_documents(long)[0].text) == 13 * 20_000
    separators = tmp_path / "seps.jsonl"  # U+2028 inside a JSON string is not a line break
    separators.write_text(json.dumps({"text": "a\u2028b\x0cc"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert [d.text for d in read_documents(separators)] == ["a\u2028b\x0cc"]
