"""``textrisk score``: texts, a file of documents or files as documents in; a table, JSONL or CSV out.

    textrisk score "some text" "another text"                 # readable table
    textrisk score --input news.jsonl --output scored.jsonl   # resumable (--resume), see textrisk.batch.local
    textrisk score --files 10k.txt 10k.htm                    # each file one filing (textrisk.filings)
    textrisk score --engine ray --input 'shards/*.jsonl' --output DIR    # Ray Data (textrisk.batch.ray)

The module top imports only the standard library; the model loads inside :func:`run`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from ..errors import ConfigError
from ..models.backends import BACKEND_HELP, BACKENDS
from ..utils.args import int_at_least, probability

__all__ = ["add_arguments", "documents_of", "resolve_file_arguments", "run"]

_ROW_FILES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")  # files of rows: --input
_LOOKS_LIKE = (".txt", ".htm", ".html", ".pdf", ".md", ".doc", ".docx") + _ROW_FILES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``score`` sub-command (local and Ray engines)."""
    parser.add_argument("texts", nargs="*", metavar="TEXT",
                        help="texts to score; an argument naming an existing .txt/.htm/.html file is scored as that "
                             "file (as --files does), a .jsonl/.csv file is refused with the --input hint")
    parser.add_argument("--input", help="plain text (one document per line), .jsonl or .csv file")
    parser.add_argument("--files", nargs="+", metavar="FILE", help="score each .txt/.htm/.html file as one document "
                                                                   "(id = file name; sections, prose only)")
    parser.add_argument("--input-dir", help="score every file of this folder matching --glob as one document")
    parser.add_argument("--glob", default="*.txt", help="file pattern for --input-dir (default *.txt)")
    parser.add_argument("--output", help="write .jsonl or .csv (default: a table on stdout)")
    parser.add_argument("--model", help="model folder, Hub id or embedded model name: "
                        "default, commercial (default: default)")
    parser.add_argument("--text-field", default="text", help="text column/field of JSONL/CSV input")
    parser.add_argument("--id-field", default="id", help="id column/field (default: line numbers)")
    parser.add_argument("--encoding", default="utf-8", help="input file encoding (default utf-8; e.g. latin-1)")
    parser.add_argument("--batch-size", type=int_at_least(1), default=32,
                        help="chunks per forward pass (default 32; larger is faster up to memory)")
    parser.add_argument("--chunk-tokens", type=int_at_least(8),
                        help="chunk size for long documents (default 64; see README on its effect)")
    parser.add_argument("--evidence", type=int_at_least(0), default=5, help="evidence chunks per long document")
    parser.add_argument("--threads", type=int_at_least(1), help="torch CPU threads")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help=BACKEND_HELP)
    parser.add_argument("--threshold", type=probability, help="flag risk signals at or over this probability "
                                                              "(default: the model's tuned per-label thresholds)")
    parser.add_argument("--labels", nargs="+", metavar="LABEL", help="report only these risk signals")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted --output run")
    parser.add_argument("--force", action="store_true", help="discard the partial file of an interrupted run")
    parser.add_argument("--flush-every", type=int_at_least(1), default=256,
                        help="rows scored between two writes of the partial file (resume granularity)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any row could not be scored")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bars on stderr (by default shown on a terminal: documents for large "
                             "inputs, passages for a long single document)")
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="local: this process; ray: Ray Data on $RAY_ADDRESS (default: a local Ray)")
    parser.add_argument("--ray-concurrency", type=int_at_least(1), default=1, help="--engine ray: scoring actors")
    parser.add_argument("--ray-batch-size", type=int_at_least(1), default=256,
                        help="--engine ray: rows per actor batch")
    parser.add_argument("--output-format", choices=["jsonl", "parquet"],
                        help="--engine ray: shard format in --output DIR (default: parquet for parquet input, "
                             "else jsonl)")


def resolve_file_arguments(args: argparse.Namespace) -> None:
    """Never score a file's name as text: TEXT arguments that all name existing filing files become ``--files``
    (with a note); a file of rows, or files mixed with texts, is refused with the option to use; a TEXT that looks
    like a file name but names no file gets a warning (and is scored as text)."""
    from ..filings.documents import SUFFIXES

    def is_file(text: str) -> bool:
        return len(text) < 4096 and "\n" not in text and "\0" not in text and Path(text).is_file()

    named = [text for text in args.texts if is_file(text)]
    for text in args.texts:
        if text in named or any(ch.isspace() for ch in text) or not text.lower().endswith(_LOOKS_LIKE):
            continue
        print(f"textrisk score: warning: TEXT {text!r} looks like a file name, but no such file exists; it is "
              "scored as text (use --files or --input for files)", file=sys.stderr)
    if not named:
        return
    rows = [text for text in named if Path(text).suffix.lower() in _ROW_FILES]
    if rows:
        raise ConfigError(f"TEXT argument {rows[0]!r} is a file of rows: score it with --input {rows[0]} (one "
                          "document per line or row)")
    others = [text for text in named if Path(text).suffix.lower() not in SUFFIXES]
    if others:
        raise ConfigError(f"TEXT argument {others[0]!r} is a file textrisk does not read ({', '.join(SUFFIXES)} "
                          "are read with --files; JSONL/CSV with --input)")
    if len(named) != len(args.texts) or args.input or _from_files(args):
        raise ConfigError(f"TEXT argument {named[0]!r} is a file, and other arguments are not: score files with "
                          "--files FILE..., texts as TEXT arguments, in separate runs")
    print(f"textrisk score: scoring {', '.join(named)} as {'a file' if len(named) == 1 else 'files'} (each file one "
          "document, as --files does)", file=sys.stderr)
    args.files, args.texts = named, []


def _from_files(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "files", None) or getattr(args, "input_dir", None))


def documents_of(args: argparse.Namespace) -> list:
    """The rows to score: ``--files`` / ``--input-dir`` (each file one document, see
    :mod:`textrisk.filings.documents`), ``--input`` (see :func:`textrisk.data.documents.read_documents`) or the
    TEXT arguments."""
    from ..data.documents import Document, read_documents

    if sum(map(bool, (args.texts, args.input, _from_files(args)))) != 1:
        raise ConfigError("give TEXT arguments, --input FILE, or --files / --input-dir (one of them)")
    if _from_files(args):
        from ..filings.documents import documents_from_args

        return documents_from_args(args.files, args.input_dir, args.glob, encoding=args.encoding)
    if args.input:
        return read_documents(args.input, text_field=args.text_field, id_field=args.id_field,
                              encoding=args.encoding)
    return [Document(id=str(i), text=t) for i, t in enumerate(args.texts, start=1)]


def run(args: argparse.Namespace) -> int:
    """Run ``textrisk score``; returns the exit status (1 with ``--strict`` when a row could not be scored)."""
    if args.engine == "ray":
        return _run_ray(args)
    resolve_file_arguments(args)
    from ..scoring.analyzer import RiskAnalyzer
    from .local import output_lock, score_documents
    from .output import format_table

    output = Path(args.output) if args.output else None
    if output is None and (args.resume or args.force):
        raise ConfigError("--resume and --force need --output")
    with contextlib.ExitStack() as stack:
        if output is not None:  # before any work: a bad or busy --output must cost nothing
            folder = (args.input_dir, args.glob) if args.input_dir else None
            stack.enter_context(output_lock(output, {"--input": args.input, "--files": list(args.files or []),
                                                     "--input-dir": folder}))
        documents = documents_of(args)
        analyzer = RiskAnalyzer.from_pretrained(args.model, chunk_tokens=args.chunk_tokens,
                                                batch_size=args.batch_size, num_threads=args.threads,
                                                max_evidence=args.evidence, threshold=args.threshold,
                                                signal_labels=args.labels, backend=args.backend)
        records = score_documents(analyzer, documents, output, filings=_from_files(args), resume=args.resume,
                                  force=args.force, flush_every=args.flush_every, text_field=args.text_field,
                                  id_field=args.id_field,
                                  progress=False if args.no_progress else None, lock=False)
    errors = sum(1 for record in records if record["error"] is not None)
    if errors:
        print(f"warning: {errors} row(s) could not be scored; they carry an 'error' field", file=sys.stderr)
    if output is None:
        sys.stdout.write(format_table(records, analyzer.labels, [doc.text for doc in documents],
                                      analyzer.has_risk_head))
    else:
        print(f"wrote {len(records)} rows to {output}", file=sys.stderr)
    return 1 if errors and args.strict else 0


def _run_ray(args: argparse.Namespace) -> int:
    """``--engine ray``: score --input shards into --output DIR on Ray (:func:`textrisk.batch.ray.score_files`)."""
    from .ray import score_files

    if args.texts or not args.input or not args.output:
        raise ConfigError("--engine ray needs --input PATH_OR_GLOB and --output DIR (no TEXT arguments)")
    if args.resume or args.force:
        raise ConfigError("--resume and --force are not supported with --engine ray (Ray retries failed tasks "
                          "itself; --output must be a new or empty folder)")
    if args.files or args.input_dir:
        raise ConfigError("--files and --input-dir score files as filings with --engine local only; --engine ray "
                          "reads rows (--input)")
    written = score_files(args.input, args.output, args.model, output_format=args.output_format,
                          concurrency=args.ray_concurrency, batch_size=args.ray_batch_size,
                          text_field=args.text_field, id_field=args.id_field, encoding=args.encoding,
                          forward_batch_size=args.batch_size, chunk_tokens=args.chunk_tokens,
                          num_threads=args.threads, max_evidence=args.evidence, threshold=args.threshold,
                          signal_labels=args.labels, backend=args.backend)
    print(f"wrote {written.format} shards of {written.files} input file(s) to {args.output}", file=sys.stderr)
    if written.errors:
        print(f"warning: {written.errors} row(s) could not be scored; they carry an 'error' field", file=sys.stderr)
    return 1 if written.errors and args.strict else 0
