"""``textrisk score``'s numeric options are range-checked with one-line errors (issue 11, class 5)."""


import pytest

from textrisk import cli


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--batch-size", "-1", "argument --batch-size: must be >= 1, got -1"),
        ("--batch-size", "0", "argument --batch-size: must be >= 1, got 0"),
        ("--evidence", "-1", "argument --evidence: must be >= 0, got -1"),
        ("--chunk-tokens", "4", "argument --chunk-tokens: must be >= 8, got 4"),
        ("--threads", "many", "argument --threads: expected an integer, got 'many'"),
        ("--threshold", "nan", "argument --threshold: must be a finite number, got nan"),
        ("--flush-every", "0", "argument --flush-every: must be >= 1, got 0"),
    ],
)
def test_cli_numeric_options_are_range_checked(capsys, option, value, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["score", option, value, "some text"])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
