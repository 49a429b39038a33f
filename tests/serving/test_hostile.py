"""``textrisk serve`` against hostile options and requests: absurd numbers refused at start, a Host allow-list,
and no request body (of any shape) that gets a 500."""

import json
import math

import pytest

pytest.importorskip("fastapi", reason="the [serve] extra is not installed")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from textrisk.cli import main  # noqa: E402
from textrisk.data.inputs import validate_texts  # noqa: E402
from textrisk.errors import ConfigError  # noqa: E402
from textrisk.serving.app import create_app  # noqa: E402
from textrisk.serving.config import ServeConfig  # noqa: E402

from ..helpers import FakeAnalyzer  # noqa: E402


class Analyzer(FakeAnalyzer):
    """The monitor tests' fake analyzer behind the real text check (what RiskAnalyzer.score refuses, it refuses)."""

    def score(self, texts, progress=None):
        validate_texts(texts)
        return super().score(texts, progress)


@pytest.mark.parametrize(("changes", "message"), [
    ({"max_wait_ms": math.nan}, "max_wait_ms must be a finite number, got nan"),
    ({"max_wait_ms": 1e300}, "max_wait_ms must be <= 10000"),
    ({"max_wait_ms": -1}, "max_wait_ms must be >= 0"),
    ({"graceful_timeout_s": 0}, "graceful_timeout_s must be > 0, got 0"),
    ({"graceful_timeout_s": math.inf}, "graceful_timeout_s must be a finite number"),
    ({"port": 70000}, "port must be <= 65535"),
    ({"port": True}, "port must be int, got bool True"),
    ({"threads": 0}, "threads must be >= 1"),
    ({"max_batch_size": 0}, "max_batch_size must be >= 1"),
    ({"max_documents": 1.5}, "max_documents must be int"),
    ({"host": ""}, "host must not be empty"),
    ({"max_document_chars": 10, "max_request_chars": 5}, "must not exceed max_request_chars"),
])
def test_config_refuses_absurd_values_naming_the_field(changes, message):
    with pytest.raises(ConfigError, match=message):
        ServeConfig(**changes)


@pytest.mark.parametrize(("flags", "message"), [
    (["--max-wait-ms", "nan"], "argument --max-wait-ms: must be a finite number, got nan"),
    (["--graceful-timeout-s", "0"], "argument --graceful-timeout-s: must be > 0, got 0.0"),
    (["--max-batch-size", "1.5"], "argument --max-batch-size: expected an integer, got '1.5'"),
    (["--port", "-1"], "argument --port: must be >= 0, got -1"),
    (["--backend", "tpu"], "argument --backend: invalid choice: 'tpu'"),
])
def test_cli_flags_are_refused_before_the_model_loads(flags, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", *flags])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


@pytest.fixture(scope="module")
def client():
    app = create_app(Analyzer(), ServeConfig(max_documents=8, max_document_chars=300, max_request_chars=1000,
                                             allowed_hosts="api.internal"))
    with TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(("host", "status"), [
    ("127.0.0.1:8000", 200), ("localhost", 200), ("[::1]:8000", 200), ("api.internal:8000", 200),
    ("attacker.example", 400), ("localhost.attacker.example:8000", 400),
])
def test_host_allow_list(client, host, status):
    response = client.get("/healthz", headers={"host": host})
    assert response.status_code == status
    if status == 400:
        assert "is not allowed" in response.json()["detail"]
    assert client.post("/v1/score", json={"texts": ["neg=0.9"]}, headers={"host": host}).status_code == status


@pytest.mark.parametrize(("body", "message"), [
    (b'{"documents": [{"id": "\\ud800", "text": "neg=0.9"}]}', "documents[0].id: the id holds a lone surrogate"),
    (json.dumps({"documents": [{"id": "x" * 1025, "text": "t"}]}).encode(), "the id has 1025 characters"),
    (b'{"texts": ["a \\ud800 b"]}', "texts[0] holds a lone surrogate"),
    (b'{"texts": [NaN]}', "texts[0]: Input should be a valid string"),
    (b'{"texts": ["a"], "options": {"evidence": "maybe"}}', "options.evidence"),
])
def test_bodies_that_cannot_be_answered_are_422_naming_the_field(client, body, message):
    response = client.post("/v1/score", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and message in response.json()["detail"]


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=4), max_leaves=12)
_text = st.one_of(st.text(max_size=40), st.sampled_from(["neg=0.9", "", "  ", "\ud800", "\x00", "🚀"]))
_body = st.one_of(
    _json,
    st.fixed_dictionaries({}, optional={"texts": st.one_of(st.lists(_text, max_size=10), _json),
                                        "documents": st.one_of(st.lists(st.fixed_dictionaries(
                                            {}, optional={"id": st.one_of(_text, st.integers(), _json),
                                                          "text": st.one_of(_text, _json)}), max_size=10), _json),
                                        "options": st.one_of(st.fixed_dictionaries(
                                            {}, optional={"signals": _json, "evidence": _json}), _json)}))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_body)
def test_property_no_request_body_gets_a_500(client, body):
    data = json.dumps(body, ensure_ascii=True).encode()  # lone surrogates travel as \\uXXXX escapes
    response = client.post("/v1/score", content=data, headers={"content-type": "application/json"})
    assert response.status_code in (200, 413, 422), (response.status_code, response.text)
    payload = response.json()
    if response.status_code == 200:
        assert len(payload["results"]) == len(body.get("texts") or body.get("documents") or [])
    else:
        assert isinstance(payload["detail"], str) and payload["detail"]
