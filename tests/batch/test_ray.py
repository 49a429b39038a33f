"""Batch scoring on Ray Data: a real local Ray instance (``ray.init(num_cpus=2)``), results equal to local scoring."""

from __future__ import annotations

import json

import pytest

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")
pq = pytest.importorskip("pyarrow.parquet", reason="the [ray] extra is not installed")

from textrisk import RiskAnalyzer, cli  # noqa: E402
from textrisk.batch.ray import score_dataset  # noqa: E402

from ..helpers import SENTENCES  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=200 * 2**20)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def _assert_same(record: dict, expected: dict) -> None:
    assert record["sentiment"] == expected["sentiment"] and record["flags"] == expected["flags"]
    assert record.keys() == expected.keys()
    for key in ("sentiment_scores", "risk_signals"):
        assert all(abs(record[key][k] - expected[key][k]) < 1e-5 for k in expected[key])


def test_score_dataset_equals_local_scoring(local_ray, risk_model_dir):
    texts = SENTENCES * 3 + ["", "Revenue fell. " * 200]  # an empty row and a multi-chunk document
    ds = ray.data.from_items([{"id": f"d{i}", "text": t} for i, t in enumerate(texts)])
    rows = score_dataset(ds, str(risk_model_dir), batch_size=5, concurrency=2).take_all()
    assert sorted(r["id"] for r in rows) == sorted(f"d{i}" for i in range(len(texts)))
    by_id = {r["id"]: r for r in rows}
    assert "empty" in by_id[f"d{len(texts) - 2}"]["error"] and by_id[f"d{len(texts) - 2}"]["report"] is None
    local = RiskAnalyzer.from_pretrained(risk_model_dir)
    for i, report in enumerate(local.score([t for t in texts if t])):
        row = by_id[f"d{i if i < len(texts) - 2 else i + 1}"]
        _assert_same(json.loads(row["report"]), report.to_dict())
        assert row["sentiment"] == report.sentiment and row["error"] is None  # other batches: float noise only
        assert row["p_negative"] == pytest.approx(report.sentiment_scores["negative"], abs=1e-5)
        assert row["risk_score"] == pytest.approx(report.risk_score, abs=1e-5)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_cli_engine_ray_writes_shards_with_ids_and_order(local_ray, risk_model_dir, tmp_path, capsys, fmt):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shards = [SENTENCES[:5], SENTENCES[5:] + ["   "]]
    for n, shard in enumerate(shards):
        rows = [{"id": f"s{n}-{i}", "text": t} for i, t in enumerate(shard)]
        if fmt == "parquet":
            import pyarrow as pa

            pq.write_table(pa.Table.from_pylist(rows), inputs / f"part-{n}.parquet")
        else:
            (inputs / f"part-{n}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    code = cli.main(["score", "--engine", "ray", "--model", str(risk_model_dir), "--input",
                     str(inputs / f"part-*.{fmt}"), "--output", str(out), "--ray-batch-size", "3"])
    assert code == 0
    assert "1 row(s) could not be scored" in capsys.readouterr().err
    files = sorted(p for p in out.iterdir() if not p.name.startswith("."))
    assert files and all(p.suffix == (".parquet" if fmt == "parquet" else ".json") for p in files)
    if fmt == "parquet":
        records = [r for p in files for r in pq.read_table(p).to_pylist()]
    else:
        records = [json.loads(line) for p in files for line in p.read_text().splitlines()]
    records.sort(key=lambda r: (r["source"], r["position"]))  # input order, recovered
    assert [r["id"] for r in records] == [f"s{n}-{i}" for n, shard in enumerate(shards) for i in range(len(shard))]
    assert "empty" in records[-1]["error"]
    local = RiskAnalyzer.from_pretrained(risk_model_dir).score(SENTENCES)
    for record, report in zip(records, local):
        _assert_same(json.loads(record["report"]), report.to_dict())


def test_cli_engine_ray_refuses_a_non_empty_output(local_ray, risk_model_dir, tmp_path, capsys):
    (tmp_path / "in.jsonl").write_text('{"text": "Profit rose."}\n')
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.json").write_text("{}")
    code = cli.main(["score", "--engine", "ray", "--model", str(risk_model_dir), "--input",
                     str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out")])
    assert code == 2 and "must be a new or empty folder" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "Profit rose."}\n{"text": \n')
    code = cli.main(["score", "--engine", "ray", "--model", str(risk_model_dir), "--input", str(bad), "--output",
                     str(tmp_path / "new")])
    err = capsys.readouterr().err
    assert code == 2 and "bad.jsonl line 2: not valid JSON" in err and "Traceback" not in err


def test_cli_engine_ray_keeps_the_input_fields_and_honours_encoding_and_backend(local_ray, risk_model_dir, tmp_path):
    rows = [{"id": f"n{i}", "text": text, "ticker": "NOK", "n": i} for i, text in enumerate(SENTENCES[:3])]
    (tmp_path / "in.jsonl").write_bytes("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
                                        .replace("Nokia", "Nökia").encode("latin-1"))
    out = tmp_path / "out"
    assert cli.main(["score", "--engine", "ray", "--model", str(risk_model_dir), "--input", str(tmp_path / "in.jsonl"),
                     "--output", str(out), "--encoding", "latin-1", "--backend", "bf16"]) == 0
    records = sorted((json.loads(line) for p in out.glob("*.json") for line in p.read_text().splitlines()),
                     key=lambda r: r["position"])
    assert [json.loads(r["input"]) for r in records] == [{k: v for k, v in row.items() if k != "text"}
                                                         for row in rows]
    assert all(r["error"] is None for r in records)
    local = RiskAnalyzer.from_pretrained(risk_model_dir, backend="bf16").score(
        [row["text"].replace("Nokia", "Nökia") for row in rows])
    for record, report in zip(records, local):  # bf16 scores, not fp32 ones: the backend reached the actors
        assert json.loads(record["report"])["sentiment_scores"] == pytest.approx(report.sentiment_scores, abs=1e-6)
