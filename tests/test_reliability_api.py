"""Issue 11, classes 3, 5, 6, 7, 9 and 10 at the API: the one text validator, option ranges, readers'
encodings, forecast text and price checks, degenerate-metric warnings, fine-tuning output/data checks."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from textrisk import cli
from textrisk.data.documents import read_documents
from textrisk.errors import ConfigError, DataError, InputError
from textrisk.evaluation.sentiment import metric_warnings
from textrisk.forecast.features import validate_prices
from textrisk.forecast.text import TextFeaturizer, validate_texts
from textrisk.scoring.analyzer import RiskAnalyzer


@pytest.fixture(scope="module")
def analyzer(tiny_model_dir) -> RiskAnalyzer:
    return RiskAnalyzer.from_pretrained(tiny_model_dir, num_threads=1)


# ------------------------------------------------------------------ classes 3 and 7: what score() refuses or warns
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\ud800", r"texts\[1\] holds a lone surrogate \(U\+D800\) at character 0"),
        ("\x00" * 8, r"texts\[1\] has no readable characters"),
        ("\u202e\u200f", r"texts\[1\] has no readable characters"),  # RTL override and mark only
        ("\U0001f680\U0001f4c8\U0001f4b0", r"texts\[1\] has no tokens the model can read \(all 1 token\(s\) are"),
        ("a" * 2_000_000, r"texts\[1\] has no tokens the model can read \(all 1 token\(s\) are the unknown token\)"),
        (b"bytes", r"texts\[1\] is bytes, not a string"),
    ],
)
def test_score_refuses_unreadable_text_naming_the_index(analyzer, text, message):
    with pytest.raises(InputError, match=message):
        analyzer.score(["Profit rose.", text])
    assert analyzer.check(["Profit rose.", text])[0] is None


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("Profit rose \U0001f680 \U0001f680 \U0001f680", "60% of the text's tokens are unknown to the model"),
        ("Profit rose sharply in the quarter \U0001f680", None),  # 1 of 7 tokens unknown: under the 20% rule
        ("\u05d4\u05e8\u05d5\u05d5\u05d7 \u05e9\u05dc \u05d4\u05d7\u05d1\u05e8\u05d4 \u05e2\u05dc\u05d4 Profit",
         "non-Latin script"),  # Hebrew (right-to-left) with one English word
    ],
)
def test_mostly_unknown_tokens_give_a_warning(analyzer, text, warning):
    report = analyzer.score([text])[0]
    assert sum(report.sentiment_scores.values()) == pytest.approx(1.0)
    assert (warning is None and report.warnings == []) or any(warning in w for w in report.warnings)


# ------------------------------------------------------------------ class 5: scoring options are range-checked
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": -1}, r"batch_size must be an integer >= 1, got -1"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
        ({"batch_size": 2.5}, r"batch_size must be an integer >= 1, got 2.5"),
        ({"batch_size": True}, r"batch_size must be an integer >= 1, got True"),
        ({"max_evidence": -1}, r"max_evidence must be an integer >= 0, got -1"),
        ({"num_threads": 0}, r"num_threads must be an integer >= 1, got 0"),
        ({"chunk_tokens": 10**6}, r"chunk_tokens must be an integer \[8, \d+\], got 1000000"),
        ({"threshold": math.nan}, r"threshold must be in \(0, 1\) \(a number\), got nan"),
        ({"threshold": 1.0}, r"threshold must be in \(0, 1\) \(a number\), got 1.0"),
        ({"threshold": "0.5"}, r"threshold must be in \(0, 1\) \(a number\), got '0.5'"),
    ],
)
def test_analyzer_options_are_range_checked(analyzer, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        RiskAnalyzer(analyzer.model, **kwargs)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--batch-size", "-1", "argument --batch-size: must be >= 1, got -1"),
        ("--batch-size", "0", "argument --batch-size: must be >= 1, got 0"),
        ("--evidence", "-1", "argument --evidence: must be >= 0, got -1"),
        ("--chunk-tokens", "4", "argument --chunk-tokens: must be >= 8, got 4"),
        ("--threads", "many", "argument --threads: expected an integer, got 'many'"),
        ("--threshold", "nan", "argument --threshold: must be in (0, 1), got nan"),
        ("--flush-every", "0", "argument --flush-every: must be >= 1, got 0"),
    ],
)
def test_cli_numeric_options_are_range_checked(capsys, option, value, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["score", option, value, "some text"])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_max_evidence_is_respected(analyzer):
    document = " ".join(["Operating profit fell sharply and the company cut its outlook."] * 60)
    assert [len(RiskAnalyzer(analyzer.model, max_evidence=n).score([document])[0].evidence) for n in (0, 1, 3)] == \
        [0, 1, 3]


def test_long_document_score_depends_on_chunk_tokens(analyzer):
    """README: the result depends on chunk_tokens (it is the token-weighted mean of different chunks)."""
    from .conftest import SENTENCES

    document = " ".join(SENTENCES * 10)
    reports = {n: RiskAnalyzer(analyzer.model, chunk_tokens=n, num_threads=1).score([document])[0] for n in (16, 64)}
    assert reports[16].num_chunks > reports[64].num_chunks > 1
    assert reports[16].sentiment_scores != pytest.approx(reports[64].sentiment_scores, abs=1e-4)
    again = RiskAnalyzer(analyzer.model, chunk_tokens=16, batch_size=3, num_threads=1).score([document])[0]
    assert again.sentiment_scores == pytest.approx(reports[16].sentiment_scores, abs=1e-6)  # batching: no effect


# ------------------------------------------------------------------ class 6: readers and encodings
def test_readers_decode_what_they_are_told_and_take_long_cells(tmp_path):
    latin = tmp_path / "news.txt"
    latin.write_bytes("R\xe9sultat en hausse.\r\nSecond line.\r\n".encode("latin-1"))
    assert [d.text for d in read_documents(latin, encoding="latin-1")] == ["R\xe9sultat en hausse.", "Second line."]
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufefftext,id\n\u2028Profit rose.,a\n".encode())
    assert [(d.id, d.text) for d in read_documents(bom)] == [("a", "\u2028Profit rose.")]
    long = tmp_path / "long.csv"
    long.write_text("id,text\n1,\"" + "Profit rose. " * 20_000 + "\"\n")
    assert len(read_documents(long)[0].text) == 13 * 20_000
    separators = tmp_path / "seps.jsonl"  # U+2028 inside a JSON string is not a line break
    separators.write_text(json.dumps({"text": "a\u2028b\x0cc"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert [d.text for d in read_documents(separators)] == ["a\u2028b\x0cc"]


# ------------------------------------------------------------------ class 9: forecast inputs
_ROW = ("NOK", "2015-03-02T15:04:00+00:00")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\ud83d oops", r"texts row 1: text holds a lone surrogate \(U\+D83D\) at character 0"),
        ("\x00\x00", r"texts row 1: text has no readable characters"),
        ("", r"texts row 1: text is empty or whitespace only"),
        (None, r"texts row 1: text is None, not a string"),
    ],
)
def test_forecast_texts_get_the_scoring_checks(text, message):
    with pytest.raises(DataError, match=message):
        validate_texts([(*_ROW, "Profit rose."), (*_ROW, text)])


def test_featurizer_refuses_exactly_what_score_refuses(analyzer, tmp_path):
    texts = ["Profit rose.", "\U0001f680\U0001f680"]
    with pytest.raises(InputError) as from_score:
        analyzer.score(texts)
    with pytest.raises(InputError) as from_features:
        TextFeaturizer(analyzer, cache_dir=tmp_path)(texts)
    assert str(from_features.value) == str(from_score.value)


def _bars(**changes):
    frame = pd.DataFrame({"Date": pd.Series(["2015-03-02", "2015-03-03", "2015-03-04"], dtype=object),
                          "Open": [10.0, 10.5, 10.2], "High": [11.0, 10.9, 10.6], "Low": [9.8, 10.1, 9.9],
                          "Close": [10.4, 10.3, 10.5], "Volume": [1000.0, 1200.0, 900.0]})
    for column, (row, value) in changes.items():
        frame.loc[row, column] = value
    return frame


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"High": (1, 10.2)}, r"bar of 2015-03-03 is inconsistent: high < max\(open, close\)"),
        ({"Low": (2, 10.3)}, r"bar of 2015-03-04 is inconsistent: low > min\(open, close\)"),
        ({"Close": (0, math.inf)}, r"bar of 2015-03-02 is inconsistent: a price is infinite"),
        ({"Close": (0, -1.0)}, r"column 'close' is NaN or <= 0 on 2015-03-02"),
        ({"Open": (1, 0.0)}, r"column 'open' is NaN or <= 0 on 2015-03-03"),
        ({"Volume": (2, -5)}, r"volume is negative, NaN or infinite on 2015-03-04"),
        ({"Volume": (0, math.inf)}, r"volume is negative, NaN or infinite on 2015-03-02"),
        ({"Date": (2, "2015-03-03")}, r"has duplicate date\(s\) \['2015-03-03'\]"),
    ],
)
def test_price_rows_get_vendor_consistency_checks(changes, message):
    with pytest.raises(DataError, match=r"prices\['NOK'\] " + message):
        validate_prices(_bars(**changes), "NOK")


def test_consistent_bars_pass():
    assert len(validate_prices(_bars(), "NOK")) == 3


# ------------------------------------------------------------------ class 10: degenerate metrics are flagged
@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        ([0] * 40, ["every row has the label 'negative'"]),
        ([0, 2] * 20, ["label(s) ['neutral'] never occur"]),
        ([0, 1, 2] * 3, ["only 9 rows; every metric has a sampling error of about +-0.33"]),
        ([0, 1, 2] * 20, []),
        (np.array([[1, 0], [0, 0]] * 20), ["risk label(s) ['liquidity'] have no positive row"]),
    ],
)
def test_metric_warnings(targets, expected):
    labels = ["credit", "liquidity"] if isinstance(targets, np.ndarray) else ["negative", "neutral", "positive"]
    with pytest.warns(UserWarning) if expected else _no_warning():
        found = metric_warnings(targets, labels, "gold")
    assert len(found) == len(expected) and all(e in f and f.startswith("gold: ") for e, f in zip(expected, found))


def _no_warning():
    import contextlib
    import warnings

    @contextlib.contextmanager
    def check():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            yield
    return check()


def test_evaluate_prints_degenerate_warnings(tiny_model_dir, tmp_path, capsys):
    data = tmp_path / "one_class.csv"
    data.write_text("text,label\n" + "".join(f"Profit rose {i}%,positive\n" for i in range(5)))
    assert cli.main(["evaluate", str(tiny_model_dir), "--data", str(data), "--out", str(tmp_path / "r.json")]) == 0
    err = capsys.readouterr().err
    assert f"warning: {data}: only 5 rows" in err and "every row has the label 'positive'" in err
    assert json.loads((tmp_path / "r.json").read_text())["datasets"][str(data)]["warnings"]


# ------------------------------------------------------------------ classes 1 and 2 in fine-tuning
def _train_config(base, out, data, **changes):
    from textrisk.training.config import TrainConfig

    return TrainConfig(output_dir=str(out), base_model=str(base), train_data=[str(data)], max_length=32, lora_r=4,
                       lora_alpha=8, epochs=1.0, batch_size=8, save_every_steps=2, seed=1, **changes)


def _labelled(path, word="rose"):
    path.write_text("".join(json.dumps({"text": f"Shares {word if i % 2 else 'fell'} {i}%", "label":
                                        "positive" if i % 2 else "negative"}) + "\n" for i in range(40)))
    return path


def test_finetuning_refuses_a_folder_it_did_not_create(tiny_bert, tmp_path, monkeypatch):
    from textrisk.training.head import train

    data = _labelled(tmp_path / "train.jsonl")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "README.md").write_text("my notes")
    with pytest.raises(ConfigError, match=r"output_dir '.*work' holds files this run did not create \(README.md"):
        train(_train_config(tiny_bert, tmp_path / "work", data), progress=False)
    monkeypatch.chdir(tmp_path / "work")
    with pytest.raises(ConfigError, match=r"output_dir must not be empty"):  # '' would be the current folder
        train(_train_config(tiny_bert, "", data), progress=False)
    with pytest.raises(ConfigError, match=r"output_dir '\.' holds files this run did not create \(README.md"):
        train(_train_config(tiny_bert, ".", data), progress=False)
    assert (tmp_path / "work" / "README.md").read_text() == "my notes"


def test_finetuning_resume_refuses_changed_training_data(tiny_bert, tmp_path, crash_at_step):
    from textrisk.training.head import train

    data = _labelled(tmp_path / "train.jsonl")
    restore = crash_at_step(2)
    with pytest.raises(KeyboardInterrupt):
        train(_train_config(tiny_bert, tmp_path / "run", data), progress=False)
    restore()
    _labelled(data, word="soared")  # same file, same size of rows, other contents
    with pytest.raises(ConfigError, match=r"holds checkpoints trained on different data"):
        train(_train_config(tiny_bert, tmp_path / "run", data), progress=False)
