"""The monitor's record validator: every line becomes a record, a dead letter naming the problem, or nothing."""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textrisk.data.timestamps import EARLIEST, LATEST
from textrisk.monitor.records import MAX_ENTITY_CHARS, MAX_ID_CHARS, DeadLetter, Record, parse_line

GOOD = {"id": "n1", "timestamp": "2024-01-01T10:00:00Z", "entity": "NOK", "text": "Nokia cuts its outlook."}


def line(**changes):
    return (json.dumps({**GOOD, **changes}) + "\n").encode()


@pytest.mark.parametrize(("data", "message"), [
    (line(timestamp=math.nan), "line 7: field 'timestamp' must be a finite number of seconds, got nan"),
    (b'{"id": "n1", "timestamp": NaN, "entity": "E", "text": "t"}\n', "must be a finite number of seconds, got nan"),
    (b'{"id": "n1", "timestamp": Infinity, "entity": "E", "text": "t"}\n', "finite number of seconds, got inf"),
    (line(timestamp=1e20), "field 'timestamp' is 1e\\+20, outside 1900-01-01 .. 2100-01-01 UTC"),
    (line(timestamp=1704103200000), "which looks like milliseconds"),
    (line(timestamp="2024-01-01T10:00:00"), "with no UTC offset"),
    (line(text="bad \ud800 text"), "field 'text' holds a lone surrogate \\(U\\+D800\\) at character 4"),
    (line(id="n\ud800"), "field 'id' holds a lone surrogate"),
    (line(entity="N\udc00K"), "field 'entity' holds a lone surrogate"),
    (line(extra={"k\ud800": 1}), "field 'extra key' holds a lone surrogate"),
    (line(text="   "), "field 'text' is empty or whitespace only"),
    (line(text="\u200b\x00"), "field 'text' has no readable characters"),
    (line(text=5), "field 'text' is int, not a string"),
    (line(entity=""), "field 'entity' must be a non-empty string"),
    (line(entity="A\nB"), "field 'entity' holds control characters"),
    (line(entity="E" * (MAX_ENTITY_CHARS + 1)), f"field 'entity' has {MAX_ENTITY_CHARS + 1} characters"),
    (line(id="x" * (MAX_ID_CHARS + 1)), f"field 'id' has {MAX_ID_CHARS + 1} characters; the limit is {MAX_ID_CHARS}"),
    (line(id=True), "field 'id' must be a string or an integer, got True"),
    (line(id=""), "field 'id' must be a non-empty string"),
    (b'{"id": "n1", "entity": "E", "text": "t"}\n', "missing field\\(s\\) \\['timestamp'\\]"),
    (b'{"id": "n1",\n', "not valid JSON"),
    (b"[1, 2]\n", "expected a JSON object, got list"),
    (b'{"id": "n1", "timestamp": 1, "entity": "E", "text": "bad \xff\xfe bytes"}\n',
     "line 7: byte 0xff at column 58 is not valid utf-8"),
    (b'{"id": "n1", "timestamp": 1, "entity": "E", "text": "nul \x00 byte"}\n', "line 7 is binary"),
    (b"\x1f\x8b\x08\x00 gzip\n", "line 7 is gzip-compressed"),
])
def test_bad_lines_are_dead_letters_naming_file_line_and_field(data, message):
    item = parse_line(data, "in.jsonl", 7)
    assert isinstance(item, DeadLetter) and item.where == "in.jsonl line 7" and item.raw == data
    assert item.error.startswith("in.jsonl line 7") and __import__("re").search(message, item.error), item.error
    row = item.to_row()
    row["raw"].encode("utf-8")  # storable: undecodable bytes are escaped, never a lone surrogate


@pytest.mark.parametrize(("data", "expected"), [
    (line(), Record("n1", 1704103200.0, "NOK", GOOD["text"])),
    (line(id=42, timestamp=1704103200, entity="  NOK "), Record("42", 1704103200.0, "NOK", GOOD["text"])),
    (line(timestamp="2024-01-01T11:00:00+01:00", other=[1, {"a": None}]), Record("n1", 1704103200.0, "NOK",
                                                                                  GOOD["text"])),
    ("\ufeff".encode() + line(), Record("n1", 1704103200.0, "NOK", GOOD["text"])),
    (line()[:-1] + b"\r\n", Record("n1", 1704103200.0, "NOK", GOOD["text"])),
    (b"   \n", None),
])
def test_good_lines(data, expected):
    item = parse_line(data, "in.jsonl", 1)
    assert item == expected
    if expected is not None:
        assert item.where == "in.jsonl line 1"


def test_latin1_records_with_encoding():
    data = '{"id": "r", "timestamp": 1, "entity": "SG", "text": "Société Générale"}\n'.encode("latin-1")
    assert isinstance(parse_line(data, "f", 1), DeadLetter)
    assert parse_line(data, "f", 1, "latin-1").text == "Société Générale"


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                 max_size=3), max_leaves=8)
_field = st.one_of(_json, st.text(), st.integers(min_value=-10**20, max_value=10**20),
                   st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(
                       ["2024-01-01T10:00:00Z", "2024-01-01T10:00:00", "9999-01-01T00:00:00+00:00", "\ud800"]))
_record = st.fixed_dictionaries({}, optional={"id": _field, "timestamp": _field, "entity": _field, "text": _field,
                                              "x": _json})


def _check(item, data):
    assert item is None or isinstance(item, (Record, DeadLetter))
    if isinstance(item, DeadLetter):
        assert item.where == "f.jsonl line 3" and item.error.startswith("f.jsonl line 3") and item.raw == data
        for value in item.to_row().values():
            value.encode("utf-8")
    elif isinstance(item, Record):
        for value in (item.id, item.entity, item.text):
            value.encode("utf-8")  # nothing a database, a file or an HTTP answer cannot hold
        assert item.id and item.entity.strip() == item.entity and item.text.strip()
        assert len(item.id) <= MAX_ID_CHARS and len(item.entity) <= MAX_ENTITY_CHARS
        assert math.isfinite(item.timestamp) and EARLIEST <= item.timestamp < LATEST


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_record)
def test_property_any_json_object_is_a_record_or_a_dead_letter(raw):
    data = (json.dumps(raw, ensure_ascii=True) + "\n").encode()
    _check(parse_line(data, "f.jsonl", 3), data)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=200).map(lambda b: b.replace(b"\n", b"")), st.booleans())
def test_property_any_line_of_bytes_is_a_record_a_dead_letter_or_blank(data, newline):
    data += b"\n" if newline else b""  # a line as the tail reads it: no newline but at its end
    _check(parse_line(data, "f.jsonl", 3), data)
