"""``POST /v1/filings``: one filing in, the report ``textrisk score --files`` gives for it out.

The filing is laid out by :class:`~textrisk.filings.analyzer.FilingAnalyzer` (form from the hint or the cover,
sections, prose passages only) and scored in a worker thread of its own, one filing at a time (a 10-K is a few
thousand passages: tens of seconds on a CPU); further filings wait their turn, while ``POST /v1/score`` keeps
being answered by the micro-batcher. Limits: ``max_filing_chars`` characters of text (default 3,000,000; the
largest of 213 real 10-K, 10-Q and 8-K filings in the test data has 417,993), checked before scoring, and the request
body (6 bytes per character plus 64 KiB) before it is read.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from ..errors import InputError
from .schemas import ErrorResponse, FilingRequest, FilingResponse

__all__ = ["add_filing_route"]

_EVIDENCE_FIELDS = ("evidence", "signal_evidence", "negative_evidence")


def _without_evidence(report: dict[str, Any]) -> dict[str, Any]:
    report = {**report, **{name: [] if name != "signal_evidence" else {} for name in _EVIDENCE_FIELDS}}
    report["sections"] = [{**section, "signal_evidence": {}} for section in report["sections"]]
    return report


def add_filing_route(app: FastAPI, analyzer: Any, max_filing_chars: int, identity: dict[str, str],
                     error: type[Exception]) -> ThreadPoolExecutor:
    """Add ``POST /v1/filings`` to ``app`` (``error(status, message)`` is the app's refusal); returns the worker
    (shut it down with the app)."""
    from ..filings.analyzer import FilingAnalyzer

    filings = FilingAnalyzer(analyzer)
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="textrisk-filings")

    def score(body: FilingRequest) -> dict[str, Any]:
        text = body.text
        if body.html:
            from ..filings.html import html_to_text

            text = html_to_text(text)
        report = filings.score([text], progress=False, forms=[body.form])[0].to_dict()
        return report if body.options.evidence else _without_evidence(report)

    @app.post("/v1/filings", response_model=FilingResponse, responses={code: {"model": ErrorResponse}
                                                                        for code in (413, 422)})
    async def filing(body: FilingRequest) -> JSONResponse:
        """Score one filing (10-K, 10-Q, 8-K; text or HTML): form and sections, prose-only scores, evidence,
        negative and per-signal evidence, per-section scores. The same report as ``textrisk score --files``."""
        if len(body.text) > max_filing_chars:
            raise error(413, f"text has {len(body.text)} characters; the limit is max_filing_chars={max_filing_chars}")
        if not body.text.strip():
            raise error(422, "text is empty or whitespace only")
        try:
            report = await asyncio.get_running_loop().run_in_executor(worker, score, body)
        except InputError as exc:
            raise error(422, str(exc).replace("texts[0]", "text")) from exc
        return JSONResponse({"id": body.id, "report": report, "model": identity})

    return worker
