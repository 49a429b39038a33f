"""textrisk serve: a real uvicorn on 127.0.0.1 (subprocess, free port) hit with a real HTTP client (httpx)."""

from __future__ import annotations

import asyncio
import signal
import threading
import time

import pytest

httpx = pytest.importorskip("httpx", reason="the [serve] extra is not installed")
pytest.importorskip("fastapi", reason="the [serve] extra is not installed")
pytest.importorskip("uvicorn", reason="the [serve] extra is not installed")

from textrisk import RiskAnalyzer  # noqa: E402

from ..helpers import SENTENCES, serve_process  # noqa: E402

LIMITS = ["--max-documents", "8", "--max-document-chars", "300", "--max-request-chars", "1000"]


@pytest.fixture(scope="module")
def server(risk_model_dir):
    with serve_process(risk_model_dir, "--max-wait-ms", "200", *LIMITS) as (url, _):
        yield url


@pytest.fixture(scope="module")
def local(risk_model_dir):
    return RiskAnalyzer.from_pretrained(risk_model_dir)


def _same(result: dict, report) -> None:
    expected = report.to_dict()
    assert result["sentiment"] == expected["sentiment"]
    assert result["flags"] == expected["flags"] and result["num_chunks"] == expected["num_chunks"]
    for key in ("sentiment_scores", "risk_signals"):
        assert result[key].keys() == expected[key].keys()
        assert all(abs(result[key][k] - expected[key][k]) < 1e-5 for k in expected[key])


def test_texts_come_back_in_input_order(server, local):
    response = httpx.post(server + "/v1/score", json={"texts": SENTENCES[::-1]}, timeout=60)
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == len(SENTENCES)
    for result, report in zip(results, local.score(SENTENCES[::-1])):
        _same(result, report)


def test_documents_keep_their_ids_and_options_shape_results(server, local):
    docs = [{"id": "a", "text": SENTENCES[0]}, {"id": 7, "text": SENTENCES[1]}]
    results = httpx.post(server + "/v1/score", json={"documents": docs}, timeout=60).json()["results"]
    assert [r["id"] for r in results] == ["a", 7]
    _same(results[1], local.score([SENTENCES[1]])[0])
    plain = httpx.post(server + "/v1/score", json={"documents": docs, "options": {"signals": False}},
                       timeout=60).json()["results"]
    expected = local.score([SENTENCES[0]], signals=False)[0].to_dict()
    assert {k: plain[0][k] for k in ("risk_signals", "flags", "risk_score", "signal_evidence")} == {
        k: expected[k] for k in ("risk_signals", "flags", "risk_score", "signal_evidence")}
    assert plain[0]["sentiment_scores"] == results[0]["sentiment_scores"]


@pytest.mark.parametrize(("body", "status", "names"), [
    ({"texts": ["Profit rose."] * 9}, 413, "max_documents=8"),
    ({"texts": ["ok", "x" * 301]}, 413, "texts[1] has 301 characters; the limit is max_document_chars=300"),
    ({"texts": ["y" * 300] * 4}, 413, "max_request_chars=1000"),
    ({"texts": ["Profit rose.", "  "]}, 422, "texts[1] is empty"),
    ({"documents": [{"id": "a", "text": "Sales fell."}, {"id": "b", "text": ""}]}, 422, "documents[1].text"),
    ({"texts": ["Profit rose.", "\x00\x01\x02"]}, 422, "texts[1] has no readable characters"),
    ({"texts": ["Profit rose.", 5]}, 422, "texts[1]: Input should be a valid string"),
    ({"texts": ["a"], "documents": []}, 422, "exactly one of 'texts'"),
    ({"texts": ["a"], "options": {"colour": "red"}}, 422, "options.colour"),
])
def test_bad_requests_name_the_problem(server, body, status, names):
    response = httpx.post(server + "/v1/score", json=body, timeout=60)
    assert response.status_code == status
    assert names in response.json()["detail"]
    assert "Traceback" not in response.text


def test_invalid_json_is_422_without_traceback(server):
    response = httpx.post(server + "/v1/score", content=b'{"texts": ["a",', timeout=60,
                          headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"] and "Traceback" not in response.text
    assert httpx.post(server + "/v1/score", content=b"x" * 72000, timeout=60).status_code == 413  # 6 x 1000 + 64 KiB
    assert httpx.get(server + "/v1/nothing", timeout=60).json() == {"detail": "Not Found"}


def test_model_health_ready_and_openapi(server, local):
    model = httpx.get(server + "/v1/model", timeout=60).json()
    assert model["labels"] == local.labels and model["risk_labels"] == local.signal_labels
    assert model["thresholds"]["credit"] == 0.3 and model["thresholds"]["macro"] == 0.7
    assert model["textrisk_version"] and model["limits"]["max_documents"] == 8
    assert model["backend"] == "torch"  # the default, auto, as the tests pin it (TEXTRISK_BACKEND=torch)
    assert model["card"]["library_name"] == "textrisk"  # the model card's YAML front matter
    assert httpx.get(server + "/healthz", timeout=60).json() == {"status": "ok"}
    assert httpx.get(server + "/readyz", timeout=60).status_code == 200
    schema = httpx.get(server + "/openapi.json", timeout=60).json()
    assert "/v1/score" in schema["paths"] and "ScoreRequest" in schema["components"]["schemas"]


def test_concurrent_requests_share_micro_batches(server, local):
    before = httpx.get(server + "/v1/stats", timeout=60).json()

    async def many():
        async with httpx.AsyncClient(base_url=server, timeout=60) as client:
            return await asyncio.gather(*(client.post("/v1/score", json={"texts": [text]}) for text in SENTENCES))

    responses = asyncio.run(many())
    stats = httpx.get(server + "/v1/stats", timeout=60).json()
    assert all(r.status_code == 200 for r in responses)
    for response, report in zip(responses, local.score(SENTENCES)):
        _same(response.json()["results"][0], report)
    assert stats["requests"] - before["requests"] == len(SENTENCES)
    assert stats["batches"] - before["batches"] < len(SENTENCES)  # some requests were scored together
    assert stats["max_batch_requests"] > 1


def test_sigterm_finishes_the_request_in_flight(risk_model_dir):
    with serve_process(risk_model_dir, "--max-wait-ms", "3000") as (url, proc):
        outcome = {}

        def request():
            outcome["response"] = httpx.post(url + "/v1/score", json={"texts": SENTENCES[:2]}, timeout=60)

        thread = threading.Thread(target=request)
        thread.start()
        for _ in range(300):  # the request waits up to 3 s in the batcher: wait until it is there
            if httpx.get(url + "/v1/stats", timeout=10).json()["in_flight"] == 1:
                break
            time.sleep(0.01)
        else:
            raise AssertionError("the request never reached the batcher")
        proc.send_signal(signal.SIGTERM)
        thread.join(timeout=60)
        # uvicorn re-raises the signal after its graceful shutdown, so the exit status says SIGTERM
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
        log = proc.stdout.read()
    response = outcome["response"]
    assert response.status_code == 200 and len(response.json()["results"]) == 2
    assert "Traceback" not in log


def test_model_names_the_backend_that_runs(risk_model_dir):
    from fastapi.testclient import TestClient

    from textrisk.models.backends import BackendChoice
    from textrisk.serving.app import create_app
    from textrisk.serving.config import ServeConfig

    analyzer = RiskAnalyzer.from_pretrained(risk_model_dir)
    analyzer.backend_choice = BackendChoice("onnx", "no native bfloat16")  # as if --backend auto resolved to onnx
    with TestClient(create_app(analyzer, ServeConfig(backend="auto")), base_url="http://127.0.0.1:8000") as client:
        assert client.get("/v1/model").json()["backend"] == "onnx"
