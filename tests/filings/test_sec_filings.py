"""textrisk.filings on the real filings of ../shared/data/sec_filings (skipped when the data is absent)."""

import csv
import json
import re

import pytest

from textrisk import RiskAnalyzer, cli
from textrisk.batch import local
from textrisk.filings import FilingAnalyzer, classify_lines, detect_sections

from ..helpers import DATA_DIR, FIXTURES

FILINGS = DATA_DIR / "sec_filings" if DATA_DIR else None
pytestmark = pytest.mark.skipif(FILINGS is None or not (FILINGS / "index.csv").is_file(),
                                reason="sec_filings not found under the shared data (set TEXTRISK_DATA_DIR)")
EXPECTED = json.loads((FIXTURES / "filing_sections_expected.json").read_text(encoding="utf-8"))
LABELLED = [json.loads(line) for line in (FIXTURES / "filing_lines_labelled.jsonl")
            .read_text(encoding="utf-8").splitlines()]


def _text(name):
    return (FILINGS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(EXPECTED["documents"]))
def test_sections_match_the_hand_checked_offsets(name):
    expected = EXPECTED["documents"][name]
    text = _text(name)
    found = {s.key: s for s in detect_sections(text, expected["form"])}
    for key, item in expected["items"].items():
        assert key in found, f"{name}: item {key} not found"
        assert found[key].start == item["start"], f"{name}: item {key}"
        assert text[found[key].start:].startswith(item["heading"])
    assert not set(expected.get("absent", [])) & set(found)


def test_prose_rule_agrees_with_240_hand_labelled_lines():
    assert len(LABELLED) >= 200
    lines, agree, prose_right, prose_total = {}, 0, 0, 0
    for row in LABELLED:
        if row["file"] not in lines:
            lines[row["file"]] = classify_lines(_text(row["file"]))
        line = lines[row["file"]][row["line"]]
        assert _text(row["file"])[line.start:line.end] == row["text"]
        gold, predicted = row["label"] == "prose", line.kind == "prose"
        agree += gold == predicted
        prose_total += gold
        prose_right += gold and predicted
    assert agree / len(LABELLED) >= 0.93  # measured: 229 of 240 (95.4%)
    assert prose_right / prose_total >= 0.97  # prose kept: 118 of 120


def _paragraphs(text):
    return [p for p in re.split(r"\n\s*\n", text) if len(p.split()) >= 25]


@pytest.mark.slow
def test_compare_finds_exactly_the_added_and_removed_passages():
    base = _paragraphs(_text("NVDA_10-K_2015-03-12_item1A.txt"))[:10]
    added = [p for p in _paragraphs(_text("1002682_10-K_2009-06-15_full.txt")) if "Cease and Desist" in p
             or "cease and desist" in p][:2]
    assert len(added) == 2
    removed = [base[3], base[7]]
    old = "\n\n".join(base)
    new = "\n\n".join([p for p in base if p not in removed][:5] + [added[0]]
                      + [p for p in base if p not in removed][5:] + [added[1]])
    analyzer = RiskAnalyzer.from_pretrained()
    comparison = FilingAnalyzer(analyzer).compare(old, new, "10-K", "10-K")
    filings = FilingAnalyzer(analyzer)
    layout_old, layout_new = filings.layout(old, "10-K"), filings.layout(new, "10-K")

    def inside(passages, paragraphs, text):
        spans = [(text.index(p), text.index(p) + len(p)) for p in paragraphs]
        return {(q.start, q.end) for q in passages if any(a <= q.start and q.end <= b for a, b in spans)}

    assert {(c.start, c.end) for c in comparison.removed} == inside(layout_old.passages, removed, old)
    assert {(c.start, c.end) for c in comparison.new} == inside(layout_new.passages, added, new)
    assert comparison.changed == []
    assert 0 < comparison.similarity < 1


def test_cli_scores_a_sample_of_files_and_resumes(tmp_path, capsys, tiny_model_dir, monkeypatch):
    names = ["1002682_8-K_2009-03-02_0000939057-09-000079.txt", "FB_10-K_2015-01-29_item1A.txt",
             "1001136_8-K_2001-10-01_0000950137-01-503821.txt"]
    sample = tmp_path / "filings"
    sample.mkdir()
    for name in names:
        (sample / name).write_text(_text(name), encoding="utf-8")
    out = tmp_path / "scored.jsonl"
    argv = ["score", "--model", str(tiny_model_dir), "--input-dir", str(sample), "--output", str(out),
            "--no-progress"]
    assert cli.main(argv) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == sorted(names)
    by_id = {r["id"]: r for r in records}
    assert [s["key"] for s in by_id[names[0]]["sections"]] == ["front", "1.01"]
    assert [s["key"] for s in by_id[names[2]]["sections"]] == ["front", "3"]
    assert by_id[names[1]]["form"] == "10-K" and by_id[names[1]]["negative_evidence"]
    # resume over the folder: a run interrupted after its first file continues with the other two only
    out.unlink()
    real_block, calls, crash = local.score_block, [], [True]

    def interrupted(analyzer, scorer, docs, text_field, **options):
        calls.append([doc.id for doc in docs])
        if len(calls) == 2 and crash and crash.pop():
            raise KeyboardInterrupt
        return real_block(analyzer, scorer, docs, text_field, **options)

    monkeypatch.setattr(local, "score_block", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cli.main(argv)
    calls.clear()
    assert cli.main(argv + ["--resume"]) == 0
    assert calls == [[sorted(names)[1]], [sorted(names)[2]]]  # one file per flush; the first was not redone
    assert [json.loads(line) for line in out.read_text().splitlines()] == records
    csv_out = tmp_path / "scored.csv"
    assert cli.main(["score", "--model", str(tiny_model_dir), "--files", str(sample / names[0]), "--output",
                     str(csv_out), "--no-progress"]) == 0
    rows = list(csv.DictReader(csv_out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == [names[0]] and float(rows[0]["p_negative"]) > 0


def test_cli_compare_writes_json(tmp_path, capsys, tiny_model_dir):
    old, new = "1002682_8-K_2009-11-10_0000939057-09-000303.txt", "1002682_8-K_2009-12-28_0000939057-09-000381.txt"
    out = tmp_path / "change.json"
    code = cli.main(["compare", str(FILINGS / old), str(FILINGS / new), "--model", str(tiny_model_dir), "--out",
                     str(out), "--no-progress", "--backend", "bf16"])
    assert code == 0
    assert "similarity" in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert {"similarity", "cosine_tf", "counts", "new", "removed", "changed", "sections"} <= set(result)
    assert cli.main(["compare", str(tmp_path / "missing.txt"), str(FILINGS / new)]) == 2
    with pytest.raises(SystemExit) as usage:  # argparse names the backends (as for score), not a traceback
        cli.main(["compare", str(FILINGS / old), str(FILINGS / new), "--model", str(tiny_model_dir),
                  "--backend", "gpu"])
    assert usage.value.code == 2 and "invalid choice: 'gpu'" in capsys.readouterr().err
