"""``POST /v1/filings``, model identity, typed OpenAPI and offline ``/docs``: a real uvicorn on 127.0.0.1 (subprocess,
free port), a real HTTP client, a real 10-K from the shared data and headless Chromium for ``/docs``."""

from __future__ import annotations

import json
import re

import pytest

httpx = pytest.importorskip("httpx", reason="the [serve] extra is not installed")
pytest.importorskip("fastapi_offline", reason="the [serve] extra is not installed")

from textrisk import cli  # noqa: E402
from textrisk.models.identity import model_identity  # noqa: E402
from textrisk.scoring.analyzer import RiskAnalyzer  # noqa: E402
from textrisk.version import __version__  # noqa: E402

from ..helpers import DATA_DIR, chromium, console_messages, needs_chromium, serve_process  # noqa: E402

FILINGS = DATA_DIR / "sec_filings" if DATA_DIR else None
TEN_K = "AXP_10-K_2009-02-27_full.txt"  # 353,273 characters: over /v1/score's default max_document_chars
needs_filings = pytest.mark.skipif(FILINGS is None or not (FILINGS / TEN_K).is_file(),
                                   reason="sec_filings not found under the shared data (set TEXTRISK_DATA_DIR)")
FILING = ("UNITED STATES SECURITIES AND EXCHANGE COMMISSION\nFORM 10-K\n\nITEM 1A. RISK FACTORS\n\n"
          "Our borrowers may default on their loans, and a downturn could reduce demand for our products and "
          "force us to record large impairments.\n\nITEM 7. MANAGEMENT'S DISCUSSION AND ANALYSIS\n\n"
          "Revenue rose 12% in the year as card spending grew, while credit losses fell.\n")


@pytest.fixture(scope="module")
def server(judgement_model_dir):
    with serve_process(judgement_model_dir, "--max-filing-chars", "400000") as (url, _):
        yield url


@pytest.fixture(scope="module")
def identity(judgement_model_dir):
    return model_identity(RiskAnalyzer.from_pretrained(judgement_model_dir).model)


def _close(got, expected, path="report"):
    """``got`` equals ``expected`` (JSON values), floats within 1e-5."""
    if isinstance(expected, float):
        assert got == pytest.approx(expected, abs=1e-5), path
    elif isinstance(expected, dict):
        assert got.keys() == expected.keys(), path
        for key in expected:
            _close(got[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(got) == len(expected), path
        for i, (a, b) in enumerate(zip(got, expected)):
            _close(a, b, f"{path}[{i}]")
    else:
        assert got == expected, path


@needs_filings
def test_a_real_10k_gets_the_report_of_score_files(server, judgement_model_dir, identity, tmp_path):
    text = (FILINGS / TEN_K).read_text(encoding="utf-8")
    assert len(text) == 353_273
    response = httpx.post(server + "/v1/filings", json={"text": text, "id": "axp-2008"}, timeout=600)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == "axp-2008"
    assert body["model"] == {"sha256": identity, "name": str(judgement_model_dir), "textrisk_version": __version__}
    out = tmp_path / "scored.jsonl"
    assert cli.main(["score", "--model", str(judgement_model_dir), "--files", str(FILINGS / TEN_K), "--output",
                     str(out), "--no-progress"]) == 0
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record.pop("id") == TEN_K and record.pop("error") is None
    record.pop("line"), record.pop("input", None)  # the batch record's own fields
    _close(body["report"], record)
    report = body["report"]
    assert report["form"] == "10-K" and {"1A", "7"} <= {s["key"] for s in report["sections"]}
    assert report["negative_evidence"] and all(e["section"] for e in report["negative_evidence"])
    assert report["excluded_share"] > 0  # tables and page furniture left out: prose only
    assert response.headers["x-textrisk-model-sha256"] == identity
    lean = httpx.post(server + "/v1/filings", json={"text": text, "form": "10-k", "options": {"evidence": False}},
                      timeout=600).json()["report"]
    assert lean["evidence"] == [] and lean["negative_evidence"] == [] and lean["signal_evidence"] == {}
    assert lean["sentiment_scores"] == report["sentiment_scores"]


@pytest.mark.parametrize(("body", "status", "names"), [
    ({"text": "x" * 400_001}, 413, "text has 400001 characters; the limit is max_filing_chars=400000"),
    ({"text": "  \n "}, 422, "text is empty or whitespace only"),
    ({"text": "\x00\x01\x02"}, 422, "text"),
    ({"text": FILING, "form": "S-1"}, 422, "form: must be one of"),
    ({"text": FILING, "colour": "red"}, 422, "colour"),
    ({"texts": [FILING]}, 422, "text"),
])
def test_bad_filings_name_the_problem(server, body, status, names):
    response = httpx.post(server + "/v1/filings", json=body, timeout=120)
    assert response.status_code == status, response.text
    assert names in response.json()["detail"] and "Traceback" not in response.text
    assert response.headers["x-textrisk-version"] == __version__  # refusals carry the identity too


def test_body_limit_of_filings_is_their_own(server):
    assert httpx.post(server + "/v1/filings", content=b"x" * (6 * 400_000 + 65_537),
                      headers={"content-type": "application/json"}, timeout=60).status_code == 413
    too_long_for_score = {"texts": ["Revenue rose. " * 20_000]}  # 280,000 characters
    response = httpx.post(server + "/v1/score", json=too_long_for_score, timeout=60)
    assert response.status_code == 413 and "POST it to /v1/filings" in response.json()["detail"]


def test_every_response_names_the_model_and_version(server, identity):
    score = httpx.post(server + "/v1/score", json={"texts": ["Credit losses rose sharply."]}, timeout=60)
    assert score.json()["model"]["sha256"] == identity
    filing = httpx.post(server + "/v1/filings", json={"text": FILING, "form": "10-K"}, timeout=120)
    assert filing.status_code == 200 and filing.json()["model"]["sha256"] == identity
    assert [s["key"] for s in filing.json()["report"]["sections"]][-2:] == ["1A", "7"]
    info = httpx.get(server + "/v1/model", timeout=60).json()
    assert info["model"]["sha256"] == identity and info["judgement"] is True
    assert info["limits"]["max_filing_chars"] == 400_000
    for path in ("/healthz", "/readyz", "/v1/stats", "/openapi.json", "/docs", "/nothing"):
        response = httpx.get(server + path, timeout=60)
        assert response.headers["x-textrisk-model-sha256"] == identity, path
        assert response.headers["x-textrisk-version"] == __version__, path


def test_openapi_types_every_result(server):
    schema = httpx.get(server + "/openapi.json", timeout=60).json()
    components = schema["components"]["schemas"]
    score = schema["paths"]["/v1/score"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert score["$ref"].endswith("/ScoreResponse")
    assert components["ScoreResponse"]["properties"]["results"]["items"]["$ref"].endswith("/ScoreResult")
    result = components["ScoreResult"]["properties"]
    assert {"sentiment_scores", "risk_score", "evidence", "kind", "severity", "id"} <= result.keys()
    assert result["risk_score"]["description"].startswith("a judgement model")
    filing = schema["paths"]["/v1/filings"]["post"]
    assert filing["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/FilingRequest")
    assert {"413", "422"} <= filing["responses"].keys()
    report = components["FilingResult"]["properties"]
    assert {"form", "sections", "negative_evidence", "excluded_share"} <= report.keys()
    assert components["ModelIdentity"]["required"] == ["sha256", "name", "textrisk_version"]
    assert '"type": "object"}' not in json.dumps(components["ScoreResponse"])  # no untyped results


def test_docs_assets_are_served_locally(server):
    for path, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        page = httpx.get(server + path, timeout=60).text
        urls = re.findall(r"""(?:src|href)=["']([^"']+)""", page) + re.findall(r"url: '([^']+)'", page)
        assert urls and all(url.startswith("/") for url in urls), urls  # nothing from a CDN
        assert any(url.endswith(asset) for url in urls)
        assert httpx.get(server + f"/static-offline-docs/{asset}", timeout=60).status_code == 200


@needs_chromium
def test_docs_render_in_a_browser_offline(server, tmp_path):
    result = chromium(tmp_path / "profile", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                      "--virtual-time-budget=15000", "--dump-dom", server + "/docs")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert 'class="swagger-ui' in dom and "/v1/filings" in dom and "/v1/score" in dom, dom[:2000]
    assert not [m for m in console_messages(result.stderr) if "rror" in m]
