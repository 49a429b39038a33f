"""``--engine ray`` honours every option local scoring honours, or refuses it (no Ray needed here; the Ray runs
themselves are in test_ray.py, slow)."""

import json

import pytest

from textrisk.cli import main
from textrisk.errors import DataError


@pytest.mark.parametrize(("flags", "message"), [
    (["--ray-concurrency", "0"], "argument --ray-concurrency: must be >= 1, got 0"),
    (["--ray-concurrency", "-3"], "argument --ray-concurrency: must be >= 1, got -3"),
    (["--ray-batch-size", "0"], "argument --ray-batch-size: must be >= 1, got 0"),
])
def test_ray_numbers_are_checked_before_ray_starts(tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit):
        main(["score", "--engine", "ray", "--input", "x.jsonl", "--output", str(tmp_path / "o"), *flags])
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--files", "a.txt"], "--files and --input-dir score files as filings with --engine local only"),
    (["--input", "x.jsonl", "--resume"], "--resume and --force are not supported with --engine ray"),
])
def test_options_ray_cannot_honour_are_refused(tmp_path, capsys, flags, message):
    args = ["score", "--engine", "ray", "--output", str(tmp_path / "o"), *flags]
    if "--files" in flags:
        args += ["--input", "x.jsonl"]
    assert main(args) == 2 and message in capsys.readouterr().err


def test_backend_encoding_and_fields_reach_ray(monkeypatch, tmp_path):
    from textrisk.batch import ray as ray_batch

    seen = {}

    def fake_score_files(inputs, output, model, **options):
        seen.update(options)
        return ray_batch.Written("jsonl", 1, 0)

    monkeypatch.setattr(ray_batch, "score_files", fake_score_files)
    assert main(["score", "--engine", "ray", "--input", "x.jsonl", "--output", str(tmp_path / "o"), "--backend",
                 "onnx", "--encoding", "latin-1", "--text-field", "body", "--threshold", "0.4"]) == 0
    assert seen["backend"] == "onnx" and seen["encoding"] == "latin-1" and seen["text_field"] == "body"
    assert seen["threshold"] == 0.4


def test_read_shard_keeps_the_other_fields_and_decodes_by_the_policy(tmp_path):
    from textrisk.batch.ray import _read_shard

    (tmp_path / "a.jsonl").write_text(json.dumps({"id": "n1", "text": "Profit rose.", "ticker": "NOK",
                                                  "meta": {"n": 1}}) + "\n")
    (row,) = _read_shard({"path": str(tmp_path / "a.jsonl")}, "text", "id")
    assert row["id"] == "n1" and json.loads(row["input"]) == {"id": "n1", "ticker": "NOK", "meta": {"n": 1}}
    (tmp_path / "b.txt").write_bytes("Résultat en baisse.\n".encode("latin-1"))
    with pytest.raises(DataError, match="b.txt line 1: byte 0xe9 at column 2 is not valid utf-8"):
        _read_shard({"path": str(tmp_path / "b.txt")}, "text", "id")
    (row,) = _read_shard({"path": str(tmp_path / "b.txt")}, "text", "id", "latin-1")
    assert row["text"] == "Résultat en baisse." and row["input"] is None
