import json

import pytest

from textrisk.data.datasets import load_benchmark, load_labeled_file
from textrisk.data.documents import read_documents
from textrisk.errors import DataError
from textrisk.labels.taxonomy import SENTIMENT_LABELS, normalize_label

from ..helpers import DATA_DIR, needs_data


@needs_data
def test_fpb_standard_split_is_reproducible_and_disjoint():
    train = load_benchmark("fpb", "train", DATA_DIR)
    test = load_benchmark("fpb", "test", DATA_DIR)
    assert len(test) == 1212  # 25% of 4846, as in FinGPT's protocol
    assert not set(train["text"]) & set(test["text"])
    assert 3620 <= len(train) <= 3634
    assert test["text"][:3] == load_benchmark("fpb", "test", DATA_DIR)["text"][:3]


@needs_data
def test_tfns_train_and_valid():
    train = load_benchmark("tfns", "train", DATA_DIR)
    test = load_benchmark("tfns", "test", DATA_DIR)
    assert (len(train), len(test)) == (9543, 2388)
    # Bearish -> negative, Bullish -> positive
    assert sorted(set(test["label"])) == [0, 1, 2]


def test_unknown_benchmark():
    with pytest.raises(DataError, match="unknown benchmark 'imdb'"):
        load_benchmark("imdb", "test")


@pytest.mark.parametrize(("raw", "expected"), [("negative", 0), ("Neutral", 1), (" POSITIVE ", 2), ("Bearish", 0),
                                               ("bullish", 2)])
def test_label_aliases(raw, expected):
    assert normalize_label(raw, SENTIMENT_LABELS) == expected


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.csv", "text,label\nfine,positive\nbad,great\n", r"a.csv line 3: unknown label 'great'"),
        ("b.csv", "body,label\nfine,positive\n", r"b.csv line 2: no 'text' column"),
        ("c.csv", "text,label\n,positive\n", r"c.csv line 2: 'text' is empty"),
        ("d.jsonl", '{"text": "ok", "label": "neutral"}\n{oops\n', r"d.jsonl line 2: not valid JSON"),
        ("e.jsonl", '{"text": "ok", "label": "neutral"}\n[1, 2]\n', r"e.jsonl line 2: expected a JSON object"),
        ("f.jsonl", '{"text": "ok", "label": 7}\n', r"f.jsonl line 1: unknown label 7"),
        ("g.txt", "hello\n", r"unsupported file type '.txt'"),
        ("h.csv", "", r"empty CSV file"),
        ("i.csv", b"text,label\nok,positive\nbad,positive,extra,cells\n",
         r"i.csv line 3: 4 fields, but the header has 2"),
        ("j.csv", "text,label\nr\xe9sultat,positive\n".encode("latin-1"),
         r"j.csv line 2: byte 0xe9 at column 2 is not valid utf-8"),
        ("k.jsonl", b'{"text": "ok", "label": "positive"}\n' + b"[" * 100_000 + b"\n",
         r"k.jsonl line 2: (JSON nested too deeply|not valid JSON)"),
    ],
)
def test_bad_training_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DataError, match=message):
        load_labeled_file(path)


def test_custom_label_set(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(json.dumps({"text": t, "label": lab}) for t, lab in [("a", "up"), ("b", "down")]))
    data = load_labeled_file(path, labels=["down", "up"])
    assert data["label"] == [1, 0]


def test_read_documents_keeps_alignment(tmp_path):
    path = tmp_path / "docs.jsonl"
    rows = [{"id": "a", "text": "fine"}, {"id": "b", "text": ""}, {"id": "c", "text": None}, {"text": "x"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    docs = read_documents(path)
    assert [d.id for d in docs] == ["a", "b", "c", "line 4"]
    assert [d.error is None for d in docs] == [True, False, False, True]
    assert docs[2].error == "'text' is null or missing"


def test_read_documents_structural_errors(tmp_path):
    csv_path = tmp_path / "docs.csv"
    csv_path.write_text("body\nhello\n")
    with pytest.raises(DataError, match=r"line 2: no 'text' field \(found \['body'\]\)"):
        read_documents(csv_path)
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text('{"text": "a"}\nnot json\n')
    with pytest.raises(DataError, match="line 2: not valid JSON"):
        read_documents(jsonl)


def test_plain_text_lines(tmp_path):
    path = tmp_path / "news.txt"
    path.write_text("first\n\nthird\n")
    assert [(d.id, d.text) for d in read_documents(path)] == [("line 1", "first"), ("line 3", "third")]


def test_data_dir_lookup_order(tmp_path, monkeypatch):
    from textrisk.data.datasets import find_data_dir

    def data_folder(path):
        (path / "financial_phrasebank").mkdir(parents=True)
        return path

    explicit, env = data_folder(tmp_path / "explicit"), data_folder(tmp_path / "env")
    data_folder(tmp_path / "shared" / "data")  # ../shared/data seen from tmp_path/work
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("TEXTRISK_DATA_DIR", str(env))
    assert find_data_dir(explicit) == explicit
    assert find_data_dir() == env
    monkeypatch.delenv("TEXTRISK_DATA_DIR")
    assert find_data_dir() == tmp_path / "shared" / "data"
    with pytest.raises(DataError, match="does not hold financial_phrasebank"):
        find_data_dir(tmp_path / "work")


def test_risk_files_carry_judgement_cells(tmp_path):
    from textrisk.data.datasets import load_risk_file

    path = tmp_path / "judged.jsonl"
    rows = [{"text": "The bank missed a coupon.", "labels": ["credit"], "topics": ["credit"], "kind": "event",
             "severity": 3},
            {"text": "We may face lawsuits.", "labels": [], "topics": ["legal_regulatory"], "kind": "boilerplate",
             "severity": 0},
            {"text": "Signals only.", "labels": ["macro"]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = load_risk_file(path, ["credit", "legal_regulatory", "macro"], judgement=True)
    assert data["judgement"] == [[1, 0, 0, 0, 3, 1], [0, 1, 0, 2, 0, 0], [-1, -1, -1, -1, -1, -1]]
    assert "judgement" not in load_risk_file(path, ["credit", "legal_regulatory", "macro"]).column_names


@pytest.mark.parametrize("row, message", [
    ({"kind": "rumour"}, "kind 'rumour' is not one of"),
    ({"kind": "event", "severity": 5}, "severity 5 is not one of"),
    ({"kind": "boilerplate", "severity": 2}, "severity 2 on a 'boilerplate' row"),
    ({"topics": ["weather"]}, "unknown label 'weather'"),
])
def test_bad_judgement_cells_are_named_with_the_line(tmp_path, row, message):
    from textrisk.data.datasets import load_risk_file
    from textrisk.errors import DataError

    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"text": "ok", "labels": [], **row}) + "\n")
    with pytest.raises(DataError, match=f"line 1.*{message}|{message}"):
        load_risk_file(path, ["credit"], judgement=True)
