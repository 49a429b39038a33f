"""Quiet by default: loading a model through the Python API or the CLI prints none of the libraries' own chatter,
``TEXTRISK_VERBOSE=1`` / ``--verbose`` brings it back, and textrisk's own warnings always show."""

import logging
import warnings

from textrisk import cli
from textrisk.scoring.analyzer import RiskAnalyzer
from textrisk.utils.runtime import VERBOSE_ENV, quiet_third_party


def _chatter():
    """What the libraries do while a model loads: a transformers-module warning, a root-logger warning, a bar."""
    from transformers.utils import logging as hf_logging

    exec(compile("import warnings\nwarnings.warn('third-party deprecation', FutureWarning)", "x.py", "exec"),
         {"__name__": "transformers.modeling_utils"})
    logging.warning("Please consider to run pre-processing before quantization.")
    return hf_logging.is_progress_bar_enabled()


def test_third_party_chatter_is_silenced_and_ours_is_not(monkeypatch, capfd):
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    handlers, filters = list(logging.getLogger().handlers), list(logging.getLogger().filters)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_third_party():
            bars = _chatter()
            warnings.warn("textrisk's own warning", UserWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == ["textrisk's own warning"]
    assert bars is False and "pre-processing" not in capfd.readouterr().err
    assert logging.getLogger().handlers == handlers and logging.getLogger().filters == filters  # restored


def test_verbose_brings_the_chatter_back(monkeypatch, capfd):
    monkeypatch.setenv(VERBOSE_ENV, "1")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_third_party():
            _chatter()
    assert [str(w.message) for w in seen] == ["third-party deprecation"]


def test_loading_a_model_prints_nothing(tiny_model_dir, monkeypatch, capfd):
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        RiskAnalyzer.from_pretrained(tiny_model_dir).score(["Sales fell."])
    assert [str(w.message) for w in seen] == []
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "Warning" not in err


def test_the_cli_verbose_option_sets_the_environment(tiny_model_dir, monkeypatch, capsys):
    monkeypatch.setenv(VERBOSE_ENV, "0")
    assert cli.main(["score", "--model", str(tiny_model_dir), "--verbose", "Sales fell."]) == 0
    import os

    assert os.environ[VERBOSE_ENV] == "1"
