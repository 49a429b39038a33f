"""Local batch scoring with verified resume: documents in, one record per document out, in input order.

    from textrisk import RiskAnalyzer
    from textrisk.batch.local import score_documents
    from textrisk.data.documents import read_documents

    records = score_documents(RiskAnalyzer.from_pretrained(), read_documents("news.jsonl"),
                              output="scored.jsonl", resume=True)

Documents are scored in blocks of ``flush_every``. With an ``output``, each scored block is appended to the
partial file ``<output>.partial.jsonl`` (:mod:`textrisk.batch.resume`), so an interrupted run resumed with the
same model and options re-scores only what is missing (and what changed in the input); the output itself is
written atomically once every row is done. A row the reader or the text check
(:meth:`~textrisk.scoring.analyzer.RiskAnalyzer.check`) refuses gets an ``error`` and no scores; the others are
scored in one call per block. ``textrisk score`` is this module behind its options (:mod:`textrisk.batch.cli`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..models.identity import model_identity
from .output import check_output_path, make_record, write_records
from .resume import PartialRun, row_digest

__all__ = ["output_lock", "run_options", "score_all", "score_block", "score_documents"]


def output_lock(output: str | os.PathLike, inputs: Mapping[str, Any] | None = None
                ) -> contextlib.AbstractContextManager:
    """Check ``output`` (a .jsonl/.csv path that is none of ``inputs``, option name -> path or list of paths) and
    hold its lock file while scoring.

    Taken before any work, so a bad or busy output costs nothing; a second run on the same output is refused.
    """
    from ..utils.atomic import exclusive_lock

    output = Path(output)
    check_output_path(output, inputs)
    return exclusive_lock(output.with_name(output.name + ".lock"), str(output))


def score_block(analyzer: Any, scorer: Any, docs: list, text_field: str, progress: bool | None = False
                ) -> list[dict[str, Any]]:
    """Records of ``docs``: rows the reader or :meth:`RiskAnalyzer.check` refuses get an ``error``, the others the
    reports of ``scorer`` (the analyzer itself, or a :class:`~textrisk.filings.analyzer.FilingAnalyzer` over it);
    ``progress``: the scorer's bar over passages (None: on a terminal, for many passages)."""
    problems = [doc.error for doc in docs]
    readable = [i for i, problem in enumerate(problems) if problem is None]
    for i, problem in zip(readable, analyzer.check([docs[i].text for i in readable])):
        problems[i] = None if problem is None else f"{text_field!r} {problem}"
    valid = [doc.text for doc, problem in zip(docs, problems) if problem is None]
    reports = iter(scorer.score(valid, progress=progress) if valid else [])
    return [make_record(doc, None, f"line {doc.line}: {problem}" if doc.line else problem) if problem
            else make_record(doc, next(reports)) for doc, problem in zip(docs, problems)]


def run_options(analyzer: Any, text_field: str = "text", id_field: str = "id", backend: str | None = None
                ) -> dict[str, Any]:
    """Everything a row's scores depend on besides its own content (checked when resuming); ``backend``: default
    the one ``analyzer`` runs."""
    if backend is None:
        backend = analyzer.backend_choice.name
    return {"model": model_identity(analyzer.model), "chunk_tokens": analyzer.chunk_tokens,
            "max_evidence": analyzer.max_evidence, "threshold": analyzer.threshold, "thresholds": analyzer.thresholds(),
            "signals": analyzer.signal_labels, "text_field": text_field, "id_field": id_field, "backend": backend}


def score_all(analyzer: Any, scorer: Any, documents: list, partial: PartialRun | None, *, resume: bool = False,
              force: bool = False, flush_every: int = 256, text_field: str = "text", progress: bool | None = None
              ) -> list[dict[str, Any]]:
    """Records of every document, in order: reused from ``partial`` where verified, the rest scored in blocks.

    ``progress`` (None: on a terminal): a bar over documents when there are more than one block of them, else the
    scorer's bar over passages, so a long single document shows its progress too.
    """
    from tqdm.auto import tqdm

    digests = [row_digest(doc) for doc in documents]
    done = partial.start(documents, digests, resume, force) if partial else {}
    todo = [i for i in range(len(documents)) if i not in done]
    per_document = progress is not False and len(todo) > flush_every
    bar = tqdm(total=len(documents), initial=len(done), unit="doc", desc="documents",
               disable=None if per_document else True)
    for start in range(0, len(todo), flush_every):
        positions = todo[start:start + flush_every]
        block = score_block(analyzer, scorer, [documents[i] for i in positions], text_field,
                            progress=False if per_document else progress)
        done.update(zip(positions, block))
        if partial:
            partial.append(positions, digests, block)
        bar.update(len(block))
    bar.close()
    return [done[i] for i in range(len(documents))]


def score_documents(analyzer: Any, documents: list, output: str | os.PathLike | None = None, *,
                    filings: bool = False, resume: bool = False, force: bool = False, flush_every: int = 256,
                    text_field: str = "text", id_field: str = "id", backend: str | None = None,
                    progress: bool | None = None, lock: bool = True) -> list[dict[str, Any]]:
    """Score ``documents`` (:class:`~textrisk.data.documents.Document` rows) with ``analyzer``; one record each.

    Args:
        output: write the records there (.jsonl or .csv), resumably (see the module docstring).
        filings: each document is a filing: scored by a :class:`~textrisk.filings.analyzer.FilingAnalyzer` over
            ``analyzer`` (sections, prose only, negative evidence), one document per block.
        resume / force: continue / discard the partial file of an interrupted run on ``output``.
        flush_every: rows scored between two writes of the partial file.
        text_field / id_field / backend: recorded with the run's options (a resume must match them; ``backend``
            default: the one the analyzer runs).
        lock: take :func:`output_lock` here (pass False when the caller already holds it).

    Raises:
        DataError: a partial file of another run (or none of ``resume`` / ``force`` given for one), a bad output.
    """
    if output is None and (resume or force):
        from ..errors import ConfigError

        raise ConfigError("--resume and --force need --output")
    scorer = analyzer
    if filings:
        from ..filings.analyzer import FilingAnalyzer

        scorer, flush_every = FilingAnalyzer(analyzer), 1
    with (output_lock(output) if output is not None and lock else contextlib.nullcontext()):
        partial = None
        if output is not None:
            output = Path(output)
            partial = PartialRun(output.with_name(output.name + ".partial.jsonl"),
                                 run_options(analyzer, text_field, id_field, backend))
        records = score_all(analyzer, scorer, documents, partial, resume=resume, force=force,
                            flush_every=flush_every, text_field=text_field, progress=progress)
        if output is not None:
            write_records(output, records, analyzer.labels, analyzer.signal_labels if analyzer.has_risk_head else [])
            partial.remove()
    return records
