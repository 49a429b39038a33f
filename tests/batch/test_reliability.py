"""Issue 11, classes 1-4 and 6: `textrisk score` never destroys input or work, verifies what it resumes, gives
each bad row its own error, keeps input fields apart from predictions and names encoding problems."""

import csv
import json

import pytest

from textrisk import cli
from textrisk.batch import local
from textrisk.scoring.analyzer import RiskAnalyzer
from textrisk.utils.atomic import exclusive_lock


def _run(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


_MODELS = {}


@pytest.fixture(autouse=True)
def loaded_once(monkeypatch):
    """Each model folder is loaded once per module (the commands build their analyzer from it): fast tests."""
    real = RiskAnalyzer.from_pretrained.__func__

    def cached(cls, name_or_path=None, **kwargs):
        key = str(name_or_path)
        if key not in _MODELS:
            _MODELS[key] = real(cls, name_or_path).model
        # a loader option (the constructor takes a backend object); the tests pin "auto" to torch (conftest)
        assert kwargs.pop("backend", "auto") in ("auto", "torch")
        return cls(_MODELS[key], **kwargs)

    monkeypatch.setattr(RiskAnalyzer, "from_pretrained", classmethod(cached))


@pytest.fixture
def no_model(monkeypatch):
    """Loading a model fails the test: the command must stop before any work."""
    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the bad option was refused")
    monkeypatch.setattr(RiskAnalyzer, "from_pretrained", refuse)


ROWS = [{"id": f"r{i}", "text": f"Operating profit rose {i}% in the quarter."} for i in range(6)]


# ------------------------------------------------------------------ class 1: outputs never destroy input or work
@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("docs.jsonl", "is the --input file; writing it would destroy it"),
        ("sub/../docs.jsonl", "is the --input file"),
        ("folder.jsonl", "is a folder; give a file name"),
        ("afile/out.jsonl", "cannot create its folder"),
        ("out.txt", "unsupported suffix '.txt'; use .jsonl or .csv"),
    ],
)
def test_bad_outputs_are_refused_before_any_work(tmp_path, capsys, no_model, output, message):
    source = _jsonl(tmp_path / "docs.jsonl", ROWS)
    before = source.read_bytes()
    (tmp_path / "sub").mkdir()
    (tmp_path / "folder.jsonl").mkdir()
    (tmp_path / "afile").write_text("not a folder")
    code, _, err = _run(["score", "--input", str(source), "--output", str(tmp_path / output)], capsys)
    assert code == 2 and message in err
    assert source.read_bytes() == before


def test_output_folder_is_created_first(tiny_model_dir, tmp_path, capsys):
    source = _jsonl(tmp_path / "docs.jsonl", ROWS)
    out = tmp_path / "new" / "deeper" / "scored.jsonl"
    assert _run(["score", "--model", str(tiny_model_dir), "--input", str(source), "--output", str(out)], capsys)[0] == 0
    assert [r["id"] for r in _read(out)] == [r["id"] for r in ROWS]


def _interrupt(monkeypatch, after_blocks):
    """Make the scoring loop die (like a kill) after ``after_blocks`` blocks were written."""
    real = local.score_block
    calls = []

    def dying(*args, **kwargs):
        if len(calls) == after_blocks:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(local, "score_block", dying)
    return lambda: monkeypatch.setattr(local, "score_block", real)


def _argv(model, source, out, *more):
    return ["score", "--model", str(model), "--input", str(source), "--output", str(out), "--flush-every", "2",
            "--no-progress", "--threads", "1", *more]


def _killed_run(monkeypatch, model, tmp_path, blocks, rows=ROWS):
    """Input file, output path and partial file of a run killed after ``blocks`` blocks."""
    source, out = _jsonl(tmp_path / "docs.jsonl", rows), tmp_path / "scored.jsonl"
    restore = _interrupt(monkeypatch, blocks)
    with pytest.raises(KeyboardInterrupt):
        cli.main(_argv(model, source, out))
    restore()
    return source, out, tmp_path / "scored.jsonl.partial.jsonl"


def test_a_partial_result_is_never_deleted_silently(tiny_model_dir, tmp_path, capsys, monkeypatch):
    source, out, partial = _killed_run(monkeypatch, tiny_model_dir, tmp_path, 1)
    saved = partial.read_bytes()
    code, _, err = _run(_argv(tiny_model_dir, source, out), capsys)
    assert code == 2 and "holds 2 scored rows of an interrupted run; add --resume" in err
    assert partial.read_bytes() == saved and not out.exists()
    code, _, err = _run(_argv(tiny_model_dir, source, out, "--force"), capsys)
    assert code == 0 and "discarding" in err and "--force" in err
    assert not partial.exists() and len(_read(out)) == len(ROWS)


def test_a_locked_output_is_refused(tiny_model_dir, tmp_path, capsys):
    source, out = _jsonl(tmp_path / "docs.jsonl", ROWS), tmp_path / "scored.jsonl"
    with exclusive_lock(tmp_path / "scored.jsonl.lock", str(out)):
        code, _, err = _run(_argv(tiny_model_dir, source, out), capsys)
    assert code == 2 and f"another process is writing {out}" in err and not out.exists()
    assert _run(_argv(tiny_model_dir, source, out), capsys)[0] == 0  # released: the next run goes ahead
    assert not (tmp_path / "scored.jsonl.lock").exists()


def test_evaluate_out_is_checked_before_the_evaluation(tiny_model_dir, tmp_path, capsys, monkeypatch):
    from textrisk.models.head.model import TextRiskModel

    monkeypatch.setattr(TextRiskModel, "predict", lambda *a, **k: pytest.fail("evaluated before --out was checked"))
    data = tmp_path / "labelled.csv"
    data.write_text("text,label\nProfit rose,positive\n")
    (tmp_path / "report").mkdir()
    code, _, err = _run(["evaluate", str(tiny_model_dir), "--data", str(data), "--out", str(tmp_path / "report")],
                        capsys)
    assert code == 2 and "is a folder; give a file name" in err


# ------------------------------------------------------------------ class 2: resume verifies what it reuses
def _straight(model, source, tmp_path, capsys, *more):
    out = tmp_path / "straight.jsonl"
    assert _run(_argv(model, source, out, *more), capsys)[0] == 0
    return _read(out)


def _same(records, expected):
    assert [r["id"] for r in records] == [r["id"] for r in expected]
    for a, b in zip(records, expected):
        assert a["sentiment_scores"] == pytest.approx(b["sentiment_scores"], abs=1e-5)
        assert a["input"] == b["input"] and a["error"] == b["error"]


def _change_row_2(source, partial):
    rows = ROWS.copy()
    rows[1] = {"id": "r1", "text": "Shares plunged after the profit warning."}
    _jsonl(source, rows)


def _shorten(source, partial):
    _jsonl(source, ROWS[1:])


def _tear_last_line(source, partial):
    data = partial.read_bytes()
    partial.write_bytes(data[:-25])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_change_row_2, "resuming: 3 of 6 rows already scored; re-scoring 1 changed in the input"),
        (_shorten, "resuming: 0 of 5 rows already scored; re-scoring 4 changed in the input"),
        (_tear_last_line, "resuming: 3 of 6 rows already scored; re-scoring 1 unreadable (torn)"),
    ],
)
def test_resume_redoes_changed_and_torn_rows(tiny_model_dir, tmp_path, capsys, monkeypatch, change, message):
    source, out, partial = _killed_run(monkeypatch, tiny_model_dir, tmp_path, 2)
    change(source, partial)
    code, _, err = _run(_argv(tiny_model_dir, source, out, "--resume"), capsys)
    assert code == 0 and message in err
    _same(_read(out), _straight(tiny_model_dir, source, tmp_path, capsys))


@pytest.mark.parametrize(
    ("more", "message"),
    [
        (["--chunk-tokens", "16"], "was written with a different chunk_tokens"),
        (["--threshold", "0.3"], "was written with a different threshold;"),
        (["--evidence", "1"], "was written with a different max_evidence"),
        (["--model", "OTHER"], "was written with a different model"),
        (["--text-field", "body"], "was written with a different text_field"),
    ],
)
def test_resume_under_another_model_or_options_is_refused(tiny_model_dir, tmp_path, capsys, monkeypatch, more,
                                                          message):
    import shutil

    source, out, _ = _killed_run(monkeypatch, tiny_model_dir, tmp_path, 1, [{**r, "body": r["text"]} for r in ROWS])
    if "OTHER" in more:  # same architecture, other head weights
        from safetensors.torch import load_file, save_file

        other = tmp_path / "other_model"
        shutil.copytree(tiny_model_dir, other)
        heads = load_file(other / "heads.safetensors")
        save_file({k: v + 0.5 for k, v in heads.items()}, other / "heads.safetensors")
        more = ["--model", str(other)]
    code, _, err = _run([*_argv(tiny_model_dir, source, out, "--resume"), *more], capsys)
    assert code == 2 and message in err and not out.exists()


def test_a_partial_file_with_a_torn_header_is_refused(tiny_model_dir, tmp_path, capsys):
    source, out = _jsonl(tmp_path / "docs.jsonl", ROWS), tmp_path / "scored.jsonl"
    (tmp_path / "scored.jsonl.partial.jsonl").write_text('{"textrisk_par')
    code, _, err = _run(_argv(tiny_model_dir, source, out, "--resume"), capsys)
    assert code == 2 and "is not a textrisk partial file (or its header is torn); use --force" in err


# ------------------------------------------------------------------ class 3: one bad row never ends a run
BAD_ROWS = [
    ({"text": "\ud800"}, "'text' holds a lone surrogate (U+D800) at character 0: not valid Unicode text"),
    ({"text": "Profit \udfff rose"}, "'text' holds a lone surrogate (U+DFFF) at character 7: not valid Unicode text"),
    ({"text": "\x00\x00\x00"}, "'text' has no readable characters (control or format characters only)"),
    ({"text": "\u200b\u200d\ufeff"}, "'text' has no readable characters (control or format characters only)"),
    ({"text": "   "}, "'text' is empty"),
    ({"text": 12}, "'text' is int, not a string"),
    ({"text": None}, "'text' is null or missing"),
    ({"text": ["a", "b"]}, "'text' is list, not a string"),
    ({"text": "\U0001f680\U0001f680 \U0001f4c9"}, "'text' has no tokens the model can read (all 2 token(s) are the "
                                                  "unknown token)"),
    ({"text": "a" * 5000}, "'text' has no tokens the model can read (all 1 token(s) are the unknown token)"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS)
def test_each_bad_row_gets_its_error_and_the_rest_are_scored(tiny_model_dir, tmp_path, capsys, row, message):
    rows = [{"id": "a", "text": "Profit rose."}, {"id": "bad", **row}, {"id": "c", "text": "Sales fell."}]
    source, out = _jsonl(tmp_path / "docs.jsonl", rows), tmp_path / "scored.jsonl"
    code, _, err = _run(_argv(tiny_model_dir, source, out), capsys)
    assert code == 0 and "1 row(s) could not be scored" in err
    records = _read(out)
    assert [r["id"] for r in records] == ["a", "bad", "c"]
    assert records[1]["error"] == f"line 2: {message}" and records[1]["line"] == 2 and "sentiment" not in records[1]
    assert records[0]["error"] is None and records[2]["error"] is None and "sentiment" in records[2]
    assert _run(_argv(tiny_model_dir, source, out, "--strict"), capsys)[0] == 1


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_ids_with_lone_surrogates_survive_the_writers(tiny_model_dir, tmp_path, capsys, suffix):
    rows = [{"id": "x\ud800y", "text": "Profit rose."}, {"id": "\U0001f680", "text": "Sales fell."}]
    source, out = _jsonl(tmp_path / "docs.jsonl", rows), tmp_path / f"scored{suffix}"
    assert _run(_argv(tiny_model_dir, source, out), capsys)[0] == 0
    if suffix == ".jsonl":
        assert [r["id"] for r in _read(out)] == ["x\ud800y", "\U0001f680"]  # exact, via the \\ud800 escape
    else:
        with out.open(encoding="utf-8", newline="") as handle:
            assert [r["id"] for r in csv.DictReader(handle)] == ["x\ufffdy", "\U0001f680"]
    code, table, _ = _run(["score", "--model", str(tiny_model_dir), "--input", str(source)], capsys)
    assert code == 0 and "x\ufffdy" in table


# ------------------------------------------------------------------ class 4: input fields never mix with predictions
def test_input_columns_never_pass_for_predictions(tiny_model_dir, tmp_path, capsys):
    source = tmp_path / "docs.csv"
    source.write_text("id,text,sentiment,error,risk_score\n1,Profit rose.,negative,none,0.9\n2,,positive,,0.1\n")
    out = tmp_path / "scored.jsonl"
    code, _, err = _run(_argv(tiny_model_dir, source, out, "--strict"), capsys)
    assert code == 1 and "1 row(s) could not be scored" in err
    scored, failed = _read(out)
    assert scored["error"] is None and scored["sentiment"] in ("negative", "neutral", "positive")
    assert scored["input"] == {"id": "1", "sentiment": "negative", "error": "none", "risk_score": "0.9"}
    assert "sentiment" not in failed and failed["error"] == "line 3: 'text' is empty"
    assert failed["input"]["sentiment"] == "positive"
    code, table, _ = _run(["score", "--model", str(tiny_model_dir), "--input", str(source)], capsys)
    assert code == 0 and "ERROR" in table.splitlines()[2]
    out_csv = tmp_path / "scored.csv"
    assert _run(_argv(tiny_model_dir, source, out_csv), capsys)[0] == 0
    with out_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[1]["sentiment"] == "" and rows[1]["input.sentiment"] == "positive"
    assert rows[0]["error"] == "" and rows[0]["input.error"] == "none"


# ------------------------------------------------------------------ class 6: encodings
@pytest.mark.parametrize(
    ("name", "data", "more", "message"),
    [
        ("docs.csv", "text\nok\ncaf\xe9 profits\n".encode("latin-1"), [],
         "docs.csv line 3: byte 0xe9 at column 4 is not valid utf-8 (invalid continuation byte); give the file's "
         "encoding (e.g. --encoding latin-1"),
        ("news.txt", "Profit rose.\nR\xe9sultat en baisse.\n".encode("latin-1"), [],
         "news.txt line 2: byte 0xe9 at column 2 is not valid utf-8"),
        ("docs.jsonl", '{"text": "ok"}\n'.encode("utf-16"), [], "docs.jsonl line 1: byte 0xff at column 1"),
        ("docs.csv", b"text\nok\n", ["--encoding", "klingon"], "unknown encoding 'klingon'"),
    ],
)
def test_encoding_problems_name_file_line_and_byte(tmp_path, capsys, no_model, name, data, more, message):
    source = tmp_path / name
    source.write_bytes(data)
    code, _, err = _run(["score", "--input", str(source), *more], capsys)
    assert code == 2 and message in err


def test_encoding_option_reads_latin1(tiny_model_dir, tmp_path, capsys):
    source = tmp_path / "news.txt"
    source.write_bytes("R\xe9sultat: profit rose.\n".encode("latin-1"))
    out = tmp_path / "scored.jsonl"
    assert _run([*_argv(tiny_model_dir, source, out), "--encoding", "latin-1"], capsys)[0] == 0
    assert _read(out)[0]["error"] is None
