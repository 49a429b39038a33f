"""Batch scoring with verified resume from Python (textrisk.batch.local), the engine behind ``textrisk score``."""

from __future__ import annotations

import json

import pytest

from textrisk.batch.local import score_documents
from textrisk.data.documents import read_documents
from textrisk.errors import ConfigError, DataError

from ..helpers import SENTENCES


def test_score_documents_writes_the_output_and_resumes(analyzer, tmp_path):
    source = tmp_path / "news.jsonl"
    source.write_text("".join(json.dumps({"id": f"n{i}", "text": t}) + "\n" for i, t in enumerate(SENTENCES)))
    out = tmp_path / "scored.jsonl"
    records = score_documents(analyzer, read_documents(source), out, flush_every=3)
    assert [r["id"] for r in records] == [f"n{i}" for i in range(len(SENTENCES))]
    assert [json.loads(line) for line in out.read_text().splitlines()] == records
    assert not (tmp_path / "scored.jsonl.partial.jsonl").exists()
    assert score_documents(analyzer, read_documents(source)) == records  # no output: records only
    (tmp_path / "scored.jsonl.partial.jsonl").write_text('{"textrisk_partial": 1, "run": {}}\n')
    with pytest.raises(DataError, match="written with a different"):
        score_documents(analyzer, read_documents(source), out, resume=True)
    with pytest.raises(ConfigError, match="--resume and --force need --output"):
        score_documents(analyzer, read_documents(source), resume=True)
