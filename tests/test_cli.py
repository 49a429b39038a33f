import csv
import json

import pytest

from textrisk import cli
from textrisk.scoring.analyzer import RiskAnalyzer

from .helpers import DATA_DIR, needs_data, tiny_forecaster


def _run(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_score_texts_prints_a_table(tiny_model_dir, capsys):
    code, out, err = _run(["score", "--model", str(tiny_model_dir), "Profit rose 5%.", "Sales fell."], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["id", "sentiment"]
    assert lines[1].startswith("1 ") and "Profit rose 5%." in lines[1]
    assert lines[2].startswith("2 ")


def test_jsonl_to_jsonl_keeps_alignment_and_flags_bad_rows(tiny_model_dir, tmp_path, capsys):
    source = tmp_path / "news.jsonl"
    rows = [{"id": "n1", "text": "Profit rose.", "ticker": "NOK"}, {"id": "n2", "text": ""},
            {"id": "n3", "text": 5}, {"id": "n4", "text": "Sales fell sharply."}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "scored.jsonl"
    code, _, err = _run(["score", "--model", str(tiny_model_dir), "--input", str(source), "--output", str(out)],
                        capsys)
    assert code == 0 and "2 row(s) could not be scored" in err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["n1", "n2", "n3", "n4"]
    assert records[0]["input"] == {"id": "n1", "ticker": "NOK"} and "sentiment" in records[0]
    assert records[0]["error"] is None and records[0]["line"] == 1
    assert "empty" in records[1]["error"] and "int" in records[2]["error"]
    assert "sentiment" in records[3]
    assert _run(["score", "--model", str(tiny_model_dir), "--input", str(source), "--output", str(out), "--strict"],
                capsys)[0] == 1


def test_text_lines_to_csv(tiny_model_dir, tmp_path, capsys):
    source = tmp_path / "news.txt"
    source.write_text("Profit rose.\n\nSales fell.\n")
    out = tmp_path / "scored.csv"
    assert _run(["score", "--model", str(tiny_model_dir), "--input", str(source), "--output", str(out)], capsys)[0] == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == ["line 1", "line 3"]
    assert {"p_negative", "p_neutral", "p_positive", "sentiment"} <= set(rows[0])
    total = sum(float(rows[0][f"p_{label}"]) for label in ("negative", "neutral", "positive"))
    assert total == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("docs.csv", "body\nhello\n", "no 'text' field"),
        ("docs.jsonl", '{"text": "a"}\n{broken\n', "line 2: not valid JSON"),
    ],
)
def test_bad_input_files_exit_2_with_the_line(tiny_model_dir, tmp_path, capsys, name, content, message):
    source = tmp_path / name
    source.write_text(content)
    code, _, err = _run(["score", "--model", str(tiny_model_dir), "--input", str(source)], capsys)
    assert code == 2 and message in err


def test_missing_model_folder_is_reported(capsys, tmp_path):
    code, _, err = _run(["score", "--model", str(tmp_path / "nope"), "hello"], capsys)
    assert code == 2 and "model folder not found" in err


def test_interrupted_scoring_resumes(tiny_model_dir, tmp_path, capsys, monkeypatch):
    source = tmp_path / "news.txt"
    source.write_text("".join(f"Sentence number {i} about profit.\n" for i in range(6)))
    out = tmp_path / "scored.jsonl"
    real_score = RiskAnalyzer.score
    calls, power = [], {"cut": True}

    def failing_score(self, texts, progress=None):
        calls.append(list(texts))
        if len(calls) == 2 and power["cut"]:
            power["cut"] = False
            raise RuntimeError("power cut")
        return real_score(self, texts, progress)

    monkeypatch.setattr(RiskAnalyzer, "score", failing_score)
    argv = ["score", "--model", str(tiny_model_dir), "--input", str(source), "--output", str(out), "--flush-every", "2"]
    with pytest.raises(RuntimeError):
        cli.main(argv)
    assert not out.exists()
    calls.clear()
    assert _run([*argv, "--resume"], capsys)[0] == 0
    assert [t[0] for t in calls] == ["Sentence number 2 about profit.", "Sentence number 4 about profit."]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == [f"line {i}" for i in range(1, 7)]
    assert not list(tmp_path.glob("*.partial*"))


def test_evaluate_on_a_labelled_file_writes_json_and_png(tiny_model_dir, tmp_path, capsys):
    data = tmp_path / "labelled.csv"
    data.write_text("text,label\nProfit rose,positive\nSales fell,negative\nMeeting held,neutral\n")
    out = tmp_path / "report.json"
    code, stdout, _ = _run(["evaluate", str(tiny_model_dir), "--data", str(data), "--out", str(out)], capsys)
    assert code == 0
    report = json.loads(out.read_text())
    metrics = report["datasets"][str(data)]
    assert {"accuracy", "weighted_f1", "macro_f1", "per_class", "ece_raw", "ece_calibrated",
            "confusion_matrix"} <= set(metrics)
    assert sum(map(sum, metrics["confusion_matrix"])) == 3
    assert (tmp_path / "report_confusion.png").read_bytes()[:4] == b"\x89PNG"


@needs_data
def test_finetune_command(tiny_bert, tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(f"output_dir: {tmp_path / 'run'}\nbase_model: {tiny_bert}\ntrain_data: [tfns]\n"
                      f"data_dir: {DATA_DIR}\nmax_train_samples: 40\nepochs: 1\nbatch_size: 8\nmax_length: 32\n")
    code, out, _ = _run(["finetune", "--config", str(config), "--no-progress"], capsys)
    assert code == 0
    summary = json.loads(out)
    assert summary["steps"] == 5 and (tmp_path / "run" / "textrisk_config.json").is_file()


@needs_data
def test_finetune_command_in_prompt_mode(tiny_lm, tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(f"mode: prompt\noutput_dir: {tmp_path / 'run'}\nbase_model: {tiny_lm}\ntrain_data: [tfns]\n"
                      f"data_dir: {DATA_DIR}\nmax_train_samples: 40\nepochs: 1\nbatch_size: 8\nwindow: 128\n")
    code, out, _ = _run(["finetune", "--config", str(config), "--no-progress"], capsys)
    assert code == 0
    summary = json.loads(out)
    assert summary["steps"] == 5 and (tmp_path / "run" / "textrisk_config.json").is_file()
    code, out, err = _run(["score", "--model", str(tmp_path / "run"), "Shares plunged after the profit warning."],
                          capsys)
    assert code == 0 and any(label in out for label in ("negative", "neutral", "positive")), err


def test_finetune_unknown_mode_exit_2(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("mode: generate\noutput_dir: x\n")
    code, _, err = _run(["finetune", "--config", str(config)], capsys)
    assert code == 2 and "mode must be 'head' (classification heads) or 'prompt'" in err


def test_finetune_config_error_exit_2(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("output_dir: x\nbatch_size: many\n")
    code, _, err = _run(["finetune", "--config", str(config)], capsys)
    assert code == 2 and "batch_size must be int" in err


def test_help_and_version_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys\nfrom textrisk import cli\nparser = cli.build_parser()\n"
            "heavy = [m for m in ('torch', 'pandas', 'transformers',\n"
            "'textrisk.forecast.forecaster', 'textrisk.scoring.analyzer') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "try:\n    cli.main(['--version'])\nexcept SystemExit as exc:\n    assert exc.code == 0\n"
            "assert 'torch' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    from textrisk import __version__

    assert result.stdout.strip() == f"textrisk {__version__}"


def test_forecast_bench_options_come_from_its_module(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["forecast-bench", "--out", "x.json", "--seeds", "many"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: textrisk forecast-bench") and "--seeds: invalid int value: 'many'" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["score", "--batch-size", "x", "a"], "argument --batch-size: expected an integer"),
    (["score", "--model", "{missing}", "a"], "model folder not found"),
    (["evaluate", "{model}", "--data", "{labelled}", "--risk-data", "{risk}"], "no risk signals"),
    (["score", "--model", "{forecaster}", "a"], "does not score texts"),
    (["evaluate", "{forecaster}", "--data", "{labelled}"], "does not score texts"),
])
def test_user_errors_are_one_line_with_status_2(tiny_model_dir, tmp_path, capsys, argv, message):
    from textrisk.forecast import Forecaster

    paths = {"model": tiny_model_dir, "missing": tmp_path / "nope", "labelled": tmp_path / "l.csv",
             "risk": tmp_path / "r.jsonl", "forecaster": tmp_path / "fc"}
    (tmp_path / "l.csv").write_text("text,label\nProfits fell.,negative\nSales rose.,positive\n")
    (tmp_path / "r.jsonl").write_text('{"text": "The bank missed a coupon.", "labels": ["credit"]}\n')
    if "{forecaster}" in argv:
        tiny_forecaster().save_pretrained(paths["forecaster"])
        assert Forecaster.from_pretrained(paths["forecaster"])
    try:
        status = cli.main([a.format(**paths) for a in argv])
    except SystemExit as exc:  # argparse's usage errors exit through SystemExit
        status = exc.code
    err = capsys.readouterr().err.strip()
    assert status == 2 and message in err and len(err.splitlines()) == 1, err


def test_benchmark_doors_need_a_source_checkout(tmp_path, monkeypatch, capsys):
    from textrisk import checkout

    monkeypatch.setattr(checkout, "__file__", str(tmp_path / "site-packages" / "textrisk" / "checkout.py"))
    monkeypatch.chdir(tmp_path)  # a wheel install, run outside a checkout
    assert cli.main(["forecast-bench", "--out", "x.json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("textrisk forecast-bench: error: this command runs the benchmark code of a textrisk "
                          "source checkout (benchmarks/forecast/bench.py)") and len(err.splitlines()) == 1
    assert cli.main(["causal-bench", "--help"]) == 2
    assert "benchmarks/causal/bench.py" in capsys.readouterr().err


def _leaf_parsers():
    """(name, parser) of every subcommand the CLI parses itself, nested ones (``forecast train``) included."""
    import argparse

    def walk(parser, name):
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not nested:
            yield name, parser
        for action in nested:
            for child_name, child in action.choices.items():
                if child_name not in cli._UNPARSED:
                    yield from walk(child, f"{name} {child_name}".strip())

    return list(walk(cli.build_parser(), ""))


def test_every_option_has_help_and_every_subcommand_an_example():
    import argparse

    leaves = _leaf_parsers()
    assert {name.split()[0] for name, _ in leaves} == {c[0] for c in cli.COMMANDS} - set(cli._UNPARSED)
    # forecast's own options belong to textrisk.forecast.cli (its owner adds their help)
    missing = [f"{name} {a.option_strings or a.dest}" for name, parser in leaves if not name.startswith("forecast ")
               for a in parser._actions if not isinstance(a, argparse._HelpAction) and not (a.help or "").strip()]
    assert missing == [], f"options without help: {missing}"
    for name, *_ in cli.COMMANDS:
        assert cli.EXAMPLES[name] and all(line.startswith(f"textrisk {name}") for line in cli.EXAMPLES[name])
    assert all("--verbose" in parser.format_help() for _, parser in leaves)


def test_help_shows_the_example(capsys):
    with pytest.raises(SystemExit):
        cli.main(["score", "--help"])
    out = capsys.readouterr().out
    assert "example:\n  textrisk score " in out and "--verbose" in out
