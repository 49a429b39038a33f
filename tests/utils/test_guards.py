"""The shared guards: the finite-number check, option types, the output-path guard and the Host allow-list."""

import argparse
import math
import sqlite3

import pytest

from textrisk.errors import ConfigError, DataError
from textrisk.utils.args import config_field_type, day, integer, number
from textrisk.utils.hosts import allowed_hosts, host_allowed
from textrisk.utils.outputs import guard_output
from textrisk.utils.validation import check_number


@pytest.mark.parametrize(("value", "bounds", "message"), [
    (math.nan, {}, "x must be a finite number, got nan"),
    (math.inf, {"gt": 0}, "x must be a finite number, got inf"),
    (-math.inf, {}, "x must be a finite number, got -inf"),
    (True, {}, "x must be a number, got True"),
    ("1", {}, "x must be a number, got '1'"),
    (None, {}, "x must be a number, got None"),
    (0, {"gt": 0}, "x must be > 0, got 0"),
    (-1, {"ge": 0}, "x must be >= 0, got -1"),
    (2, {"lt": 1}, "x must be < 1, got 2"),
    (1e300, {"le": 3600}, "x must be <= 3600, got 1e+300"),
])
def test_check_number_refuses_with_the_name(value, bounds, message):
    with pytest.raises(ConfigError, match=f"^{message}$".replace("+", r"\+")):
        check_number(value, "x", **bounds)


@pytest.mark.parametrize(("value", "message"), [(1.5, "x must be an integer, got 1.5"),
                                                (True, "x must be an integer, got True")])
def test_check_number_integers(value, message):
    with pytest.raises(ConfigError, match=f"^{message}$"):
        check_number(value, "x", integer=True)
    assert check_number(3, "x", integer=True, ge=1) == 3 and check_number(0.5, "x", gt=0, le=1) == 0.5


@pytest.mark.parametrize(("parse", "text", "message"), [
    (number(ge=0), "nan", "must be a finite number, got nan"),
    (number(ge=0), "inf", "must be a finite number, got inf"),
    (number(ge=0), "-1", "must be >= 0, got -1.0"),
    (number(), "fast", "expected a number, got 'fast'"),
    (integer(ge=1), "0", "must be >= 1, got 0"),
    (integer(ge=1), "1.5", "expected an integer, got '1.5'"),
    (day, "notadate", "expected a date YYYY-MM-DD, got 'notadate'"),
    (day, "2024-02-30", "expected a date YYYY-MM-DD, got '2024-02-30'"),
    (day, "20240201", "expected a date YYYY-MM-DD, got '20240201'"),
])
def test_option_types_refuse_in_one_line(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=f"^{message}$"):
        parse(text)


def test_config_field_type_follows_the_fields_metadata():
    from textrisk.serving.config import ServeConfig

    assert config_field_type(ServeConfig, "max_wait_ms")("2.5") == 2.5
    with pytest.raises(argparse.ArgumentTypeError, match="must be <= 10000"):
        config_field_type(ServeConfig, "max_wait_ms")("1e300")
    assert config_field_type(ServeConfig, "threads")("2") == 2
    assert config_field_type(ServeConfig, "model")("x") == "x"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"text": "a"}\n')
    (tmp_path / "folder").mkdir()
    (tmp_path / "watched").mkdir()
    (tmp_path / "notes.txt").write_text("my notes\n")
    return tmp_path


@pytest.mark.parametrize(("name", "kwargs", "message"), [
    ("in.jsonl", {"inputs": {"--input": "in.jsonl"}}, "--out 'in.jsonl' is the --input file; writing it would destroy"),
    ("./sub/../in.jsonl", {"inputs": {"--input": "in.jsonl"}}, "is the --input file"),
    ("in.jsonl", {"inputs": {"--files": ["x.txt", "in.jsonl"]}}, "is the --files file"),
    ("watched/a.jsonl", {"inputs": {"--input": ("watched", "*.jsonl")}}, "lies in the --input folder"),
    ("folder", {}, "is a folder; give a file name"),
    ("in.jsonl", {"folder": True}, "is a file; give a folder"),
    ("in.jsonl/x", {}, "cannot create its folder"),
    ("notes.txt", {"owned": lambda p: "is not ours"}, "--out 'notes.txt' is not ours"),
])
def test_guard_output_refuses(files, monkeypatch, name, kwargs, message):
    monkeypatch.chdir(files)
    with pytest.raises(DataError, match=message):
        guard_output(name, "--out", **kwargs)
    assert (files / "notes.txt").read_text() == "my notes\n" and (files / "in.jsonl").read_text() == '{"text": "a"}\n'


def test_guard_output_accepts(files, monkeypatch):
    monkeypatch.chdir(files)
    assert guard_output("new/out.jsonl", "--out", inputs={"--input": "in.jsonl"}).parent.is_dir()
    assert guard_output("watched/a.csv", "--out", inputs={"--input": ("watched", "*.jsonl")})
    assert guard_output("notes.txt", "--out", owned=lambda p: None)
    assert guard_output("folder", "--out", folder=True, owned=lambda p: "never asked: the folder is empty")


def test_guard_output_sees_links_to_the_same_file(files):
    (files / "link.jsonl").symlink_to(files / "in.jsonl")
    with pytest.raises(DataError, match="is the --input file"):
        guard_output(files / "link.jsonl", "--out", inputs={"--input": files / "in.jsonl"})
    db = sqlite3.connect(files / "s.db")
    db.close()


@pytest.mark.parametrize(("header", "bind", "extra", "allowed"), [
    ("localhost:8765", "127.0.0.1", None, True),
    ("127.0.0.1:8000", "127.0.0.1", None, True),
    ("[::1]:8000", "127.0.0.1", None, True),
    ("LOCALHOST.", "127.0.0.1", None, True),
    ("evil.example.com", "127.0.0.1", None, False),
    ("evil.example.com:8765", "127.0.0.1", None, False),
    ("localhost.evil.example.com", "127.0.0.1", None, False),
    ("", "127.0.0.1", None, False),
    (None, "127.0.0.1", None, False),
    ("10.0.0.5:8000", "10.0.0.5", None, True),
    ("10.0.0.5:8000", "0.0.0.0", None, False),
    ("dash.internal:8000", "0.0.0.0", "dash.internal", True),
    ("a.corp.example", "0.0.0.0", "*.corp.example, other", True),
    ("corp.example", "0.0.0.0", "*.corp.example", False),
    ("anything", "0.0.0.0", "*", True),
])
def test_host_allow_list(header, bind, extra, allowed):
    assert host_allowed(header, allowed_hosts(bind, extra)) is allowed


def test_allowed_hosts_refuses_an_empty_name():
    with pytest.raises(ConfigError, match="empty host name"):
        allowed_hosts("127.0.0.1", "a,,b")
