"""The rows of an adaptation run: label set, de-duplication, the split, each guard's warning, recipe selection."""

from __future__ import annotations

import pytest

from textrisk.errors import ConfigError, DataError
from textrisk.training.adapt_data import (
    HEAD_ONLY_BELOW,
    LORA_BELOW,
    adapt_rows,
    choose_recipe,
    data_labels,
)
from textrisk.training.config import AdaptConfig

from ..helpers import write_labelled_csv

PARENT = ["negative", "neutral", "positive"]


def _rows(n, labels=("negative", "neutral", "positive"), tag="row"):
    return [(f"{tag} number {i} about the company", labels[i % len(labels)]) for i in range(n)]


def _config(tmp_path, files, **changes):
    return AdaptConfig(output_dir=str(tmp_path / "out"), train_data=files, **changes)


@pytest.mark.parametrize(("rows", "requested", "expected"), [
    (10, "auto", "head"), (HEAD_ONLY_BELOW - 1, "auto", "head"), (HEAD_ONLY_BELOW, "auto", "lora"),
    (LORA_BELOW - 1, "auto", "lora"), (LORA_BELOW, "auto", "full"), (10, "full", "full"), (5000, "head", "head")])
def test_recipe_by_training_rows(rows, requested, expected):
    recipe = choose_recipe(rows, requested)
    assert recipe.name == expected
    assert recipe.train_encoder == (expected != "head")
    assert recipe.early_stopping == (expected == "lora")
    assert recipe.refit_temperature == (expected != "head")  # few dozen rows: the parent's temperature stays


def test_labels_are_the_parents_when_every_cell_names_one_of_them(tmp_path):
    path = write_labelled_csv(tmp_path / "a.csv", [("x", "Bearish"), ("y", "neutral"), ("z", "POS")])
    assert data_labels([path], PARENT) == PARENT
    other = write_labelled_csv(tmp_path / "b.csv",
                               [("x", "hawkish"), ("y", "Dovish"), ("z", "hawkish"), ("w", "dovish")])
    assert data_labels([other], PARENT) == ["hawkish", "Dovish"]
    one = write_labelled_csv(tmp_path / "c.csv", [("x", "hawkish"), ("y", "hawkish")])
    with pytest.raises(DataError, match="2 distinct labels"):
        data_labels([one], PARENT)
    with pytest.raises(DataError, match="not found"):
        data_labels([str(tmp_path / "missing.csv")], PARENT)


def test_split_is_seeded_stratified_and_disjoint(tmp_path):
    path = write_labelled_csv(tmp_path / "a.csv", _rows(90))
    rows = adapt_rows(_config(tmp_path, [path]), PARENT)
    again = adapt_rows(_config(tmp_path, [path]), PARENT)
    assert rows.held_texts == again.held_texts and len(rows.held_texts) == 18 and len(rows.train_texts) == 72
    assert not set(rows.held_texts) & set(rows.train_texts)
    assert sorted(rows.held_labels.count(i) for i in range(3)) == [6, 6, 6]
    assert rows.sources == {path: 90}


def test_tiny_data_warns(tmp_path):
    path = write_labelled_csv(tmp_path / "a.csv", _rows(30))
    with pytest.warns(UserWarning, match="only 24 training rows"):
        rows = adapt_rows(_config(tmp_path, [path]), PARENT)
    assert any("only 24 training rows" in message for message in rows.warnings)


def test_label_imbalance_warns(tmp_path):
    path = write_labelled_csv(tmp_path / "a.csv", _rows(80, ("neutral",)) + _rows(10, ("negative",), "neg") + _rows(
        10, ("positive",), "pos"))
    with pytest.warns(UserWarning, match="label imbalance"):
        rows = adapt_rows(_config(tmp_path, [path]), PARENT)
    assert any("['negative', 'positive']" in message for message in rows.warnings if "imbalance" in message)


def test_duplicated_rows_are_dropped_and_conflicts_named(tmp_path):
    base = _rows(60)
    path = write_labelled_csv(tmp_path / "a.csv", base + [base[0], (base[1][0].upper() + "  ", base[1][1]),
                                            (base[2][0], "positive" if base[2][1] != "positive" else "negative")])
    with pytest.warns(UserWarning, match="3 duplicated row"):
        rows = adapt_rows(_config(tmp_path, [path]), PARENT)
    assert len(rows.train_texts) + len(rows.held_texts) == 60
    assert any("1 of them carried another label" in message for message in rows.warnings)


def test_training_texts_also_in_the_held_out_file_are_dropped(tmp_path):
    train = write_labelled_csv(tmp_path / "train.csv", _rows(60))
    held = write_labelled_csv(tmp_path / "held.csv", _rows(60)[:5] + _rows(25, tag="other"))
    with pytest.warns(UserWarning, match="5 training text"):
        rows = adapt_rows(_config(tmp_path, [train], eval_data=held), PARENT)
    assert len(rows.train_texts) == 55 and len(rows.held_texts) == 30
    assert not set(rows.train_texts) & set(rows.held_texts)


def test_labels_unseen_in_the_held_out_rows_warn(tmp_path):
    train = write_labelled_csv(tmp_path / "train.csv", _rows(60))
    held = write_labelled_csv(tmp_path / "held.csv", _rows(40, ("negative", "neutral"), "held"))
    with pytest.warns(UserWarning, match=r"\['positive'\] never occur"):
        rows = adapt_rows(_config(tmp_path, [train], eval_data=held), PARENT)
    assert any("never occur" in message for message in rows.warnings)


def test_labels_outside_the_set_name_the_line(tmp_path):
    path = write_labelled_csv(tmp_path / "a.csv", _rows(20) + [("odd one", "sideways")])
    with pytest.raises(DataError, match="line 22: unknown label 'sideways'"):
        adapt_rows(_config(tmp_path, [path]), PARENT)


@pytest.mark.parametrize(("changes", "message"), [
    ({"holdout_fraction": 0.95}, "holdout_fraction"), ({"recipe": "big"}, "recipe"),
    ({"labels": ["a"]}, "labels"), ({"forgetting_rows": -1}, "forgetting_rows")])
def test_config_errors_name_the_field(tmp_path, changes, message):
    with pytest.raises(ConfigError, match=message):
        AdaptConfig(output_dir=str(tmp_path), train_data=["x.csv"], **changes)
