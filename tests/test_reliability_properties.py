"""Issue 11: property-based tests over arbitrary Unicode (lone surrogates, NUL, RTL marks, emoji) and arbitrary
row shapes, of ``RiskAnalyzer.score`` and of the ``textrisk score`` reader/writer round trip."""

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
from textrisk.errors import InputError
from textrisk.scoring.analyzer import RiskAnalyzer

_SPECIAL = ["\ud800", "\udfff", "\x00", "\x00" * 3, "\u202e", "\u200f", "\u200b", "\ufeff", "\U0001f680",
            "\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627", " ", "\n", "\r\n", "\u2028", "\t",
            "Profit rose.", "a" * 150, "\ufffd", "\x85"]
_CHARS = st.characters(exclude_categories=())  # every code point, lone surrogates included
TEXT = st.one_of(st.text(_CHARS, max_size=40),
                 st.lists(st.one_of(st.sampled_from(_SPECIAL), st.text(_CHARS, max_size=8)), max_size=6).map("".join))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False), TEXT)


@pytest.fixture(scope="module")
def analyzer(tiny_model_dir) -> RiskAnalyzer:
    return RiskAnalyzer.from_pretrained(tiny_model_dir, num_threads=1)  # 1 thread: 20x faster on a busy machine


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.one_of(TEXT, st.none(), st.integers()), max_size=4))
def test_score_never_crashes_and_keeps_one_report_per_text(analyzer, texts):
    problems = analyzer.check(texts)
    assert len(problems) == len(texts)
    bad = [i for i, problem in enumerate(problems) if problem]
    if bad:
        with pytest.raises(InputError, match=rf"texts\[{bad[0]}\] "):
            analyzer.score(texts)
    good = [text for text, problem in zip(texts, problems) if problem is None]
    reports = analyzer.score(good)
    assert len(reports) == len(good)
    for report in reports:
        assert sum(report.sentiment_scores.values()) == pytest.approx(1.0, abs=1e-5)
        json.dumps(report.to_dict())


ROW = st.dictionaries(st.sampled_from(["id", "text", "ticker", "sentiment", "error", "input", "line"]) | TEXT,
                      SCALAR | st.lists(SCALAR, max_size=2), max_size=5)


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
