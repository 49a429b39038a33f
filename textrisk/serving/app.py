"""The FastAPI application of ``textrisk serve``.

``POST /v1/score`` scores texts or documents through the micro-batcher (:mod:`textrisk.serving.batcher`);
``POST /v1/filings`` scores one filing by sections (:mod:`textrisk.serving.filings`); ``GET /v1/model`` describes
the model; ``GET /v1/stats`` shows the batcher's counters; ``GET /healthz`` answers while the process runs,
``GET /readyz`` while requests are accepted (503 while shutting down). ``/docs`` (Swagger UI) and ``/redoc`` are
served from the assets that ``fastapi-offline`` bundles, so they work offline; ``/openapi.json`` types every
result (:mod:`textrisk.serving.schemas`). Every response carries the model's content hash and the textrisk version
as ``X-Textrisk-Model-Sha256`` and ``X-Textrisk-Version`` headers, and every API body its ``model`` identity.
Errors are JSON ``{"detail": "..."}`` naming the field, index or limit. Requests whose ``Host`` header is not on
the server's allow-list get 400 (:mod:`textrisk.utils.hosts`).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any

import yaml
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import InputError, ModelLoadError, TextRiskError
from ..models.identity import model_identity
from ..scoring.analyzer import RiskAnalyzer
from ..utils.hosts import host_allowed, refusal
from ..version import __version__
from .batcher import MicroBatcher
from .config import ServeConfig
from .filings import add_filing_route
from .schemas import ErrorResponse, ModelInfo, ScoreRequest, ScoreResponse

__all__ = ["create_app"]

logger = logging.getLogger("textrisk.serving")

_ERRORS = {code: {"model": ErrorResponse} for code in (413, 422, 503)}


class RequestError(Exception):
    """A request the server refuses: answered ``status`` with ``{"detail": message}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class BodyLimit:
    """ASGI middleware: 413 for a request whose Content-Length exceeds its path's limit, before it is read.

    ``limits``: path -> (bytes, the setting it comes from); other paths get ``limits[""]``. (A chunked body without
    Content-Length is read; the character limits still apply to it after parsing.)
    """

    def __init__(self, app, limits: dict[str, tuple[int, str]]):
        self.app, self.limits = app, limits

    async def __call__(self, scope, receive, send) -> None:
        """Refuse an oversized body, pass everything else through."""
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length", b"")
            limit, setting = self.limits.get(scope.get("path", ""), self.limits[""])
            if length.isdigit() and int(length) > limit:
                response = _error(413, f"request body has {int(length)} bytes; the limit is {limit} "
                                       f"(6 x {setting} + 64 KiB)")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class IdentityHeaders:
    """ASGI middleware: every response carries ``X-Textrisk-Version`` and ``X-Textrisk-Model-Sha256``."""

    def __init__(self, app, identity: dict[str, str]):
        self.app = app
        self.headers = [(b"x-textrisk-version", identity["textrisk_version"].encode("latin-1")),
                        (b"x-textrisk-model-sha256", identity["sha256"].encode("latin-1"))]

    async def __call__(self, scope, receive, send) -> None:
        """Add the headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HostCheck:
    """ASGI middleware: 400 for a request whose ``Host`` header is not on ``allowed`` (DNS rebinding)."""

    def __init__(self, app, allowed: tuple[str, ...]):
        self.app, self.allowed = app, allowed

    async def __call__(self, scope, receive, send) -> None:
        """Refuse a request for a name the server does not answer to, pass everything else through."""
        if scope["type"] in ("http", "websocket"):
            raw = dict(scope["headers"]).get(b"host")
            host = raw.decode("latin-1") if raw is not None else None
            if not host_allowed(host, self.allowed):
                await _error(400, refusal(host))(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if part == "body":
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            problems.append(f"request body is not valid JSON ({err.get('ctx', {}).get('error', 'parse error')})")
        else:
            message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append(f"{_location(tuple(err.get('loc', ())))}: {message}")
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return "invalid request: " + "; ".join(problems[:5]) + more


def _card_metadata(analyzer: RiskAnalyzer) -> dict[str, Any]:
    """The YAML front matter of the model card (licence, base model, tags), if there is one."""
    card = analyzer.model_card()
    if not card or not card.startswith("---"):
        return {}
    try:
        meta = yaml.safe_load(card.split("---", 2)[1])
    except (yaml.YAMLError, IndexError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _check_limits(texts: list[str], name: str, config: ServeConfig) -> None:
    if len(texts) > config.max_documents:
        raise RequestError(413, f"request has {len(texts)} documents; the limit is max_documents="
                                f"{config.max_documents} per request")
    total = 0
    for i, text in enumerate(texts):
        if len(text) > config.max_document_chars:
            raise RequestError(413, f"{name.format(i)} has {len(text)} characters; the limit is "
                                    f"max_document_chars={config.max_document_chars} (a filing: POST it to "
                                    "/v1/filings, up to max_filing_chars)")
        total += len(text)
    if total > config.max_request_chars:
        raise RequestError(413, f"request has {total} characters in all; the limit is max_request_chars="
                                f"{config.max_request_chars}")
    empty = [name.format(i) for i, text in enumerate(texts) if not text.strip()]
    if empty:
        raise RequestError(422, f"{', '.join(empty[:5])} {'is' if len(empty) == 1 else 'are'} empty or "
                                "whitespace only")


def _shape(result: dict[str, Any], request: ScoreRequest) -> dict[str, Any]:
    result = dict(result)
    if request.options.signals is False:
        result.update(risk_signals=None, flags=[], risk_score=None, signal_evidence={},  # = signals=False
                      signal_share={})
    if not request.options.evidence:
        result.update(evidence=[], signal_evidence={})
    return result


def create_app(analyzer: RiskAnalyzer, config: ServeConfig | None = None) -> FastAPI:
    """A FastAPI app serving ``analyzer`` with the batching and limits of ``config``."""
    config = config or ServeConfig()
    identity = {"sha256": model_identity(analyzer.model), "name": config.model or "embedded default",
                "textrisk_version": __version__}
    backend = analyzer.backend_choice.name  # what runs (--backend auto: what it resolved to)

    def score_fn(texts: list[str]) -> list[dict[str, Any]]:
        return [report.to_dict() for report in analyzer.score(texts, progress=False)]

    batcher: MicroBatcher[dict[str, Any]] = MicroBatcher(score_fn, config.max_batch_size, config.max_wait_ms)
    limits = {"": (6 * config.max_request_chars + 65536, f"max_request_chars={config.max_request_chars}"),
              # a character is at most 6 bytes of JSON (\uXXXX)
              "/v1/filings": (6 * config.max_filing_chars + 65536, f"max_filing_chars={config.max_filing_chars}")}
    filing_worker = None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await batcher.start()
        logger.info("textrisk serve: ready (max_batch_size=%d, max_wait_ms=%s)", config.max_batch_size,
                    config.max_wait_ms)
        try:
            yield
        finally:
            await batcher.stop()  # uvicorn calls this after in-flight requests finished
            filing_worker.shutdown(wait=False, cancel_futures=True)
            logger.info("textrisk serve: stopped after %d requests in %d batches", batcher.stats.requests,
                        batcher.stats.batches)

    app = FastAPIOffline(title="textrisk", version=__version__, lifespan=lifespan,
                         description="Financial text risk scoring: calibrated sentiment, risk signals and evidence; "
                                     "filings by section.")
    app.state.batcher = batcher

    @app.exception_handler(RequestError)
    async def _request_error(request: Request, exc: RequestError) -> JSONResponse:
        return _error(exc.status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_message(exc))

    @app.exception_handler(TextRiskError)
    async def _textrisk_error(request: Request, exc: TextRiskError) -> JSONResponse:
        return _error(422, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("textrisk serve: unexpected error on %s %s", request.method, request.url.path)
        return _error(500, f"internal error ({type(exc).__name__}); the server log has the details")

    app.add_middleware(BodyLimit, limits=limits)
    app.add_middleware(HostCheck, allowed=config.hosts())
    app.add_middleware(IdentityHeaders, identity=identity)  # added last: runs first (refusals carry it too)
    filing_worker = add_filing_route(app, analyzer, config.max_filing_chars, identity, RequestError)

    @app.post("/v1/score", response_model=ScoreResponse, responses=_ERRORS)
    async def score(body: ScoreRequest) -> JSONResponse:
        """Score texts or documents; one result per input, in input order (documents keep their ``id``)."""
        texts, name = body.text_list()
        _check_limits(texts, name, config)
        if body.options.signals and not analyzer.has_risk_head:
            raise RequestError(422, "options.signals is true, but this model has no risk head (sentiment only)")
        if not texts:
            return JSONResponse({"results": [], "model": identity})
        if not batcher.running:
            raise RequestError(503, "the server is shutting down")
        try:
            results = await batcher.submit(texts)
        except ModelLoadError as exc:
            raise RequestError(500, f"model error: {exc}") from exc
        except InputError as exc:  # its indices are this request's own (the batcher rescored it alone)
            message = str(exc) if body.texts is not None else str(exc).replace("texts[", "documents[")
            raise RequestError(422, message) from exc
        shaped = [_shape(result, body) for result in results]
        if body.documents is not None:
            shaped = [{"id": doc.id, **result} for doc, result in zip(body.documents, shaped)]
        return JSONResponse({"results": shaped, "model": identity})

    @app.get("/v1/model", response_model=ModelInfo)
    async def model() -> dict[str, Any]:
        """The model's identity and scoring backend, labels, risk labels and flag thresholds, card metadata and the
        server's limits."""
        return {
            "model": identity,
            "backend": backend,
            "textrisk_version": __version__,
            "labels": analyzer.labels,
            "risk_labels": analyzer.signal_labels if analyzer.has_risk_head else [],
            "thresholds": analyzer.thresholds() if analyzer.has_risk_head else {},
            "temperature": float(analyzer.model.temperature),
            "max_length": int(analyzer.model.window),
            "chunk_tokens": analyzer.chunk_tokens,
            "judgement": "adverse" in (getattr(analyzer.model, "risk_outputs", None) or []),
            "card": _card_metadata(analyzer),
            "limits": {"max_documents": config.max_documents, "max_document_chars": config.max_document_chars,
                       "max_request_chars": config.max_request_chars, "max_filing_chars": config.max_filing_chars},
            "batching": {"max_batch_size": config.max_batch_size, "max_wait_ms": config.max_wait_ms},
        }

    @app.get("/v1/stats")
    async def stats() -> dict[str, Any]:
        """The micro-batcher's counters since start (requests, batches, largest batch, queue)."""
        return batcher.stats.to_dict()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """200 while the process serves HTTP."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"model": ErrorResponse}})
    async def readyz() -> JSONResponse:
        """200 while scoring requests are accepted; 503 while shutting down."""
        if not batcher.running:
            return _error(503, "not ready: the scoring worker is not running")
        return JSONResponse({"status": "ready"})

    return app
