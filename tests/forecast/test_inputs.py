"""Forecast inputs get the scoring checks: texts refused as ``score`` refuses them, price rows checked
(issue 11, class 9)."""

import math

import pandas as pd
import pytest

from textrisk.errors import DataError, InputError
from textrisk.forecast.features import validate_prices
from textrisk.forecast.text import TextFeaturizer, validate_texts

# ------------------------------------------------------------------ class 9: forecast inputs
_ROW = ("NOK", "2015-03-02T15:04:00+00:00")


def _bars(**changes):
    frame = pd.DataFrame({"Date": pd.Series(["2015-03-02", "2015-03-03", "2015-03-04"], dtype=object),
                          "Open": [10.0, 10.5, 10.2], "High": [11.0, 10.9, 10.6], "Low": [9.8, 10.1, 9.9],
                          "Close": [10.4, 10.3, 10.5], "Volume": [1000.0, 1200.0, 900.0]})
    for column, (row, value) in changes.items():
        frame.loc[row, column] = value
    return frame


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
