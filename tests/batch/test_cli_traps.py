"""``textrisk score`` without traps: a file named as TEXT is scored as that file or refused with the option to use,
never scored as the words of its name; a long single document shows its progress over passages."""

import json

import pytest

from textrisk import cli
from textrisk.batch.local import score_documents
from textrisk.data.documents import Document
from textrisk.scoring.analyzer import RiskAnalyzer


def _run(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_text_argument_naming_a_file_scores_the_file(tiny_model_dir, tmp_path, capsys):
    filing = tmp_path / "report.txt"
    filing.write_text("ITEM 1A. RISK FACTORS\n\nOur lenders may call the loans if sales keep falling this year.\n")
    code, out, err = _run(["score", "--model", str(tiny_model_dir), str(filing)], capsys)
    assert code == 0
    assert f"scoring {filing} as a file" in err
    assert "report.txt" in out.splitlines()[1]  # the file's name is its id: scored as a file, like --files
    as_files = _run(["score", "--model", str(tiny_model_dir), "--files", str(filing)], capsys)[1]
    assert out == as_files


@pytest.mark.parametrize(("name", "extra", "message"), [
    ("news.jsonl", [], "is a file of rows: score it with --input"),
    ("table.csv", [], "is a file of rows: score it with --input"),
    ("deck.pdf", [], "is a file textrisk does not read"),
    ("report.txt", ["Sales fell."], "is a file, and other arguments are not"),
])
def test_files_that_cannot_be_read_as_text_arguments_are_refused_with_the_hint(tiny_model_dir, tmp_path, capsys,
                                                                                 monkeypatch, name, extra, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(json.dumps({"text": "Profit rose."}) + "\n")
    code, out, err = _run(["score", "--model", str(tiny_model_dir), name, *extra], capsys)
    assert code == 2 and message in err and out == ""
    assert len(err.strip().splitlines()) == 1


def test_a_missing_file_name_is_scored_as_text_with_a_warning(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(["score", "--model", str(tiny_model_dir), "report.txt", "Sales fell sharply."], capsys)
    assert code == 0 and "looks like a file name, but no such file exists" in err
    assert "Sales fell sharply" not in err  # plain sentences get no warning
    assert len(out.splitlines()) == 3


def test_a_long_single_document_shows_progress_over_its_passages(tiny_model_dir, capfd):
    analyzer = RiskAnalyzer.from_pretrained(tiny_model_dir, chunk_tokens=16)
    long_text = " ".join(f"Sentence {i} says sales fell and the lenders worry." for i in range(120))
    score_documents(analyzer, [Document(id="1", text=long_text)], progress=True)
    err = capfd.readouterr().err
    assert "scoring" in err and "100%" in err  # the passage bar, although there is one document
    score_documents(analyzer, [Document(id="1", text=long_text)], progress=False)
    assert "100%" not in capfd.readouterr().err
