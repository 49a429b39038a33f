"""Property-based: ``textrisk score`` keeps every row of arbitrary Unicode input, in order (issue 11)."""

import contextlib
import csv
import io
import json
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textrisk import cli
from textrisk.scoring.analyzer import RiskAnalyzer

from ..helpers import ANY_SCALAR, ANY_TEXT

ROW = st.dictionaries(st.sampled_from(["id", "text", "ticker", "sentiment", "error", "input", "line"]) | ANY_TEXT,
                      ANY_SCALAR | st.lists(ANY_SCALAR, max_size=2), max_size=5)


def _expected_id(row, line):
    value = row.get("id")
    if value is None or value == "":
        return f"line {line}"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, max_size=5), suffix=st.sampled_from([".jsonl", ".csv"]))
def test_cli_round_trip_keeps_every_row_in_order(analyzer, rows, suffix):
    def load(*args, backend="torch", **kwargs):  # backend is a loader option; the constructor takes an object
        return RiskAnalyzer(analyzer.model, **kwargs)

    with tempfile.TemporaryDirectory() as folder, \
            mock.patch.object(RiskAnalyzer, "from_pretrained", load), \
            contextlib.redirect_stderr(io.StringIO()) as err:
        source, out = Path(folder) / "in.jsonl", Path(folder) / f"out{suffix}"
        source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")  # \\uXXXX escapes
        code = cli.main(["score", "--input", str(source), "--output", str(out), "--no-progress", "--threads", "1"])
        lacking = [line for line, row in enumerate(rows, start=1) if "text" not in row]
        if lacking:  # a structural problem: the whole file is refused, naming the first such line
            assert code == 2 and f"line {lacking[0]}: no 'text' field" in err.getvalue() and not out.exists()
            return
        assert code == 0
        ids = [_expected_id(row, line) for line, row in enumerate(rows, start=1)]
        if suffix == ".jsonl":
            records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
            assert [r["id"] for r in records] == ids and [r["line"] for r in records] == list(range(1, len(rows) + 1))
            assert [r["input"] for r in records] == [{k: v for k, v in row.items() if k != "text"} for row in rows]
            for record in records:
                assert (record["error"] is None) == ("sentiment" in record)
        else:
            with out.open(encoding="utf-8", newline="") as handle:
                got = [r["id"] for r in csv.DictReader(handle)]
            # CSV is UTF-8 text: a lone surrogate is written as U+FFFD (JSONL keeps it exactly)
            assert got == ["".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in i) for i in ids]
