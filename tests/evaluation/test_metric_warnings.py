"""Degenerate metrics are flagged (issue 11, class 10)."""

import json

import numpy as np
import pytest

from textrisk import cli
from textrisk.evaluation.sentiment import metric_warnings


def _no_warning():
    import contextlib
    import warnings

    @contextlib.contextmanager
    def check():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            yield
    return check()


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


def test_evaluate_prints_degenerate_warnings(tiny_model_dir, tmp_path, capsys):
    data = tmp_path / "one_class.csv"
    data.write_text("text,label\n" + "".join(f"Profit rose {i}%,positive\n" for i in range(5)))
    assert cli.main(["evaluate", str(tiny_model_dir), "--data", str(data), "--out", str(tmp_path / "r.json")]) == 0
    err = capsys.readouterr().err
    assert f"warning: {data}: only 5 rows" in err and "every row has the label 'positive'" in err
    assert json.loads((tmp_path / "r.json").read_text())["datasets"][str(data)]["warnings"]
