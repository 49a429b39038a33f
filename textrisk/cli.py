"""The ``textrisk`` command line: score, evaluate, finetune.

    textrisk score "Nokia cuts its outlook."            # readable table
    textrisk score --input news.jsonl --output scored.jsonl
    textrisk evaluate [MODEL] --data fpb tfns --out report.json
    textrisk finetune --config finetune/configs/default.yaml
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from .errors import ConfigError, TextRiskError

__all__ = ["main"]



def _quiet_libraries() -> None:
    import warnings

    import transformers

    warnings.filterwarnings("ignore", category=FutureWarning)

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    import datasets

    datasets.disable_progress_bars()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _documents(args: argparse.Namespace) -> list:
    """The rows to score: ``--files`` / ``--input-dir`` (each file one document, see :mod:`textrisk.filings`),
    ``--input`` (see :func:`textrisk.data.documents.read_documents`) or the TEXT arguments."""
    from .data.documents import Document, read_documents

    if sum(map(bool, (args.texts, args.input, _from_files(args)))) != 1:
        raise ConfigError("give TEXT arguments, --input FILE, or --files / --input-dir (one of them)")
    if _from_files(args):
        from .filings.documents import documents_from_args

        return documents_from_args(args.files, args.input_dir, args.glob)
    if args.input:
        return read_documents(args.input, text_field=args.text_field, id_field=args.id_field,
                              encoding=args.encoding)
    return [Document(id=str(i), text=t) for i, t in enumerate(args.texts, start=1)]


def _from_files(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "files", None) or getattr(args, "input_dir", None))


def _score_block(analyzer, scorer, docs: list, text_field: str) -> list[dict[str, Any]]:
    """Records of ``docs``: rows the reader or :meth:`RiskAnalyzer.check` refuses get an ``error``, the others the
    reports of ``scorer`` (the analyzer itself, or a :class:`~textrisk.filings.FilingAnalyzer` over it)."""
    from .batch_output import make_record

    problems = [doc.error for doc in docs]
    readable = [i for i, problem in enumerate(problems) if problem is None]
    for i, problem in zip(readable, analyzer.check([docs[i].text for i in readable])):
        problems[i] = None if problem is None else f"{text_field!r} {problem}"
    valid = [doc.text for doc, problem in zip(docs, problems) if problem is None]
    reports = iter(scorer.score(valid, progress=False) if valid else [])
    return [make_record(doc, None, f"line {doc.line}: {problem}" if doc.line else problem) if problem
            else make_record(doc, next(reports)) for doc, problem in zip(docs, problems)]


def _run_options(args: argparse.Namespace, analyzer) -> dict[str, Any]:
    """Everything a row's scores depend on besides its own content (checked when resuming)."""
    from .resume import model_identity

    return {"model": model_identity(analyzer.model), "chunk_tokens": analyzer.chunk_tokens,
            "max_evidence": analyzer.max_evidence, "threshold": analyzer.threshold, "thresholds": analyzer.thresholds(),
            "signals": analyzer.signal_labels, "text_field": args.text_field, "id_field": args.id_field,
            "backend": args.backend}


def _score_all(analyzer, scorer, documents: list, partial, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Records of every document, in order: reused from ``partial`` where verified, the rest scored in blocks."""
    from tqdm.auto import tqdm

    from .resume import row_digest

    digests = [row_digest(doc) for doc in documents]
    done = partial.start(documents, digests, args.resume, args.force) if partial else {}
    todo = [i for i in range(len(documents)) if i not in done]
    bar = tqdm(total=len(documents), initial=len(done), unit="doc", desc="documents",
               disable=True if args.no_progress or len(todo) <= args.flush_every else None)
    for start in range(0, len(todo), args.flush_every):
        positions = todo[start:start + args.flush_every]
        block = _score_block(analyzer, scorer, [documents[i] for i in positions], args.text_field)
        done.update(zip(positions, block))
        if partial:
            partial.append(positions, digests, block)
        bar.update(len(block))
    bar.close()
    return [done[i] for i in range(len(documents))]


def _cmd_score(args: argparse.Namespace) -> int:
    if getattr(args, "engine", "local") == "ray":  # Ray Data on $RAY_ADDRESS or a local Ray (textrisk.distributed)
        from . import distributed

        return distributed.run(args)
    from .batch_output import check_output_path, format_table, write_records
    from .resume import PartialRun
    from .scoring import RiskAnalyzer
    from .utils.atomic import exclusive_lock

    output = Path(args.output) if args.output else None
    if output is None and (args.resume or args.force):
        raise ConfigError("--resume and --force need --output")
    with contextlib.ExitStack() as stack:
        if output is not None:  # before any work: a bad or busy --output must cost nothing
            check_output_path(output, [Path(p) for p in [*([args.input] if args.input else []), *(args.files or [])]])
            stack.enter_context(exclusive_lock(output.with_name(output.name + ".lock"), str(output)))
        documents = _documents(args)
        analyzer = RiskAnalyzer.from_pretrained(args.model, chunk_tokens=args.chunk_tokens,
                                                batch_size=args.batch_size, num_threads=args.threads,
                                                max_evidence=args.evidence, threshold=args.threshold,
                                                signal_labels=args.labels, backend=args.backend)
        if _from_files(args):  # each file is a filing: sections, prose only, negative evidence; flushed per file
            from .filings import FilingAnalyzer

            scorer = FilingAnalyzer(analyzer)
            args.flush_every = 1
        else:
            scorer = analyzer
        signals = analyzer.signal_labels if analyzer.has_risk_head else []
        partial = PartialRun(output.with_name(output.name + ".partial.jsonl"), _run_options(args, analyzer)) \
            if output else None
        records = _score_all(analyzer, scorer, documents, partial, args)
        errors = sum(1 for record in records if record["error"] is not None)
        if errors:
            print(f"warning: {errors} row(s) could not be scored; they carry an 'error' field", file=sys.stderr)
        if output is None:
            sys.stdout.write(format_table(records, analyzer.labels, [doc.text for doc in documents], bool(signals)))
        else:
            write_records(output, records, analyzer.labels, signals)
            partial.remove()
            print(f"wrote {len(records)} rows to {output}", file=sys.stderr)
    return 1 if errors and args.strict else 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import warnings

    from .evaluation import evaluate_model
    from .scoring import RiskAnalyzer

    analyzer = RiskAnalyzer.from_pretrained(args.model)
    with warnings.catch_warnings():  # printed below as one line each
        warnings.simplefilter("ignore", UserWarning)
        report = evaluate_model(analyzer.model, args.data, out=args.out, data_dir=args.data_dir,
                                progress=False if args.no_progress else None, risk_data=args.risk_data,
                                risk_dir=args.risk_dir)
    for message in (w for m in report["datasets"].values() for w in m["warnings"]):
        print(f"warning: {message}", file=sys.stderr)
    summary = {name: {k: round(m[k], 4) for k in ("accuracy", "weighted_f1", "macro_f1", "ece_raw",
                                                   "ece_calibrated")}
               for name, m in report["datasets"].items()}
    print(json.dumps(summary, indent=2))
    if "risk" in report:
        from .risk_evaluation import risk_table

        print(risk_table(report["risk"]))
    return 0


def _cmd_finetune(args: argparse.Namespace) -> int:
    from .config import TrainConfig, read_yaml
    from .training import train

    overrides = {k: v for k, v in {"output_dir": args.output_dir, "max_train_samples": args.max_train_samples,
                                   "epochs": args.epochs, "data_dir": args.data_dir}.items() if v is not None}
    progress = False if args.no_progress else None
    mode = read_yaml(args.config).get("mode", "head")
    if mode == "prompt":  # a causal LM fine-tuned to answer prompts/ templates (textrisk.prompt)
        from .prompt import PromptTrainConfig, train_prompt_model

        result = train_prompt_model(PromptTrainConfig.from_yaml(args.config, **overrides), progress=progress)
    elif mode == "head":
        result = train(TrainConfig.from_yaml(args.config, **overrides), progress=progress)
    else:
        raise ConfigError(f"{args.config}: mode must be 'head' (classification heads) or 'prompt', got {mode!r}")
    summary = {"output_dir": str(result.output_dir), "steps": result.steps, "temperature": result.temperature,
               "resumed_from_step": result.resumed_from_step,
               "dev": {k: round(result.dev_metrics[k], 4) for k in ("accuracy", "weighted_f1", "macro_f1")},
               "eval": {name: {k: round(m[k], 4) for k in ("accuracy", "weighted_f1", "macro_f1")}
                        for name, m in result.eval_metrics.items()}}
    print(json.dumps(summary, indent=2))
    return 0


#: Subcommands defined in their own modules: (name, module, add-arguments function, run function, help).
_SUBCOMMANDS = (
    ("causal-bench", ".prompt.bench", "add_arguments", "run", "causal LM: zero-shot / LoRA prompt vs head mode"),
    ("compare", ".filings.compare_command", "add_arguments", "run", "year-over-year change between two filings"),
    ("serve", ".serving.cli", "add_arguments", "run", "HTTP scoring server (FastAPI, micro-batched; extra [serve])"),
    ("monitor", ".monitor.cli", "add_arguments", "run", "score a stream per entity into a state DB, with alerts"),
    ("dashboard", ".monitor.cli", "add_dashboard_arguments", "run_dashboard", "dashboard of a monitor state DB"),
    ("forecast", ".forecast.command", "add_arguments", "run", "forecaster on your prices CSV / texts JSONL: "
                                                              "train | predict | backtest"),
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``textrisk score: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: error: <message>`` (and where to get help) on one line, exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int_at_least(minimum: int):
    """argparse type: an integer >= ``minimum``."""
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {number}")
        return number
    return parse


def _probability(value: str) -> float:
    """argparse type: a number strictly between 0 and 1."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not 0 < number < 1:  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {value}")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The ``textrisk`` argument parser (sub-commands: score, evaluate, finetune, ...)."""
    from .backends import BACKENDS
    from .version import __version__

    parser = _Parser(prog="textrisk", description="Financial text risk scoring.")
    parser.add_argument("--version", action="version", version=f"textrisk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    score = sub.add_parser("score", help="score texts or a file of documents")
    score.add_argument("texts", nargs="*", metavar="TEXT", help="texts to score")
    score.add_argument("--input", help="plain text (one document per line), .jsonl or .csv file")
    score.add_argument("--files", nargs="+", metavar="FILE", help="score each .txt/.htm/.html file as one document "
                                                                  "(id = file name; sections, prose only)")
    score.add_argument("--input-dir", help="score every file of this folder matching --glob as one document")
    score.add_argument("--glob", default="*.txt", help="file pattern for --input-dir (default *.txt)")
    score.add_argument("--output", help="write .jsonl or .csv (default: a table on stdout)")
    score.add_argument("--model", help="model folder or Hub id (default: the embedded model)")
    score.add_argument("--text-field", default="text", help="text column/field of JSONL/CSV input")
    score.add_argument("--id-field", default="id", help="id column/field (default: line numbers)")
    score.add_argument("--encoding", default="utf-8", help="input file encoding (default utf-8; e.g. latin-1)")
    score.add_argument("--batch-size", type=_int_at_least(1), default=32)
    score.add_argument("--chunk-tokens", type=_int_at_least(8),
                       help="chunk size for long documents (default 64; see README on its effect)")
    score.add_argument("--evidence", type=_int_at_least(0), default=5, help="evidence chunks per long document")
    score.add_argument("--threads", type=_int_at_least(1), help="torch CPU threads")
    score.add_argument("--backend", choices=BACKENDS, default="torch",
                       help="scoring backend (default torch; onnx = ONNX Runtime int8, extra [onnx]; see README Speed)")
    score.add_argument("--threshold", type=_probability, help="flag risk signals at or over this probability "
                                                              "(default: the model's tuned per-label thresholds)")
    score.add_argument("--labels", nargs="+", metavar="LABEL", help="report only these risk signals")
    score.add_argument("--resume", action="store_true", help="continue an interrupted --output run")
    score.add_argument("--force", action="store_true", help="discard the partial file of an interrupted run")
    score.add_argument("--flush-every", type=_int_at_least(1), default=256,
                       help="rows scored between two writes of the partial file (resume granularity)")
    score.add_argument("--strict", action="store_true", help="exit 1 if any row could not be scored")
    score.add_argument("--no-progress", action="store_true")
    from . import distributed

    distributed.add_arguments(score)  # --engine local|ray and the Ray options
    score.set_defaults(func=_cmd_score)

    evaluate = sub.add_parser("evaluate", help="evaluate a model on benchmarks or a labelled file")
    evaluate.add_argument("model", nargs="?", help="model folder or Hub id (default: the embedded model)")
    evaluate.add_argument("--data", nargs="+", default=["fpb", "tfns"], help="fpb, tfns or labelled CSV/JSONL")
    evaluate.add_argument("--out", default="report.json", help="JSON report (PNG written beside it)")
    evaluate.add_argument("--data-dir", help="shared data folder (default ../shared/data)")
    evaluate.add_argument("--risk-data", nargs="+", metavar="SET",
                          help="risk tests: gold_test, random_gold, sentivent_test (also gold_dev, sentivent_dev) or "
                               "labelled risk files; prints model / rules / ensemble per-label scores")
    evaluate.add_argument("--risk-dir", help="folder of the named hand-labelled risk sets (default "
                                             "finetune/risk_data of the checkout)")
    evaluate.add_argument("--no-progress", action="store_true")
    evaluate.set_defaults(func=_cmd_evaluate)

    finetune = sub.add_parser("finetune", help="LoRA fine-tuning from a YAML config (resumes if interrupted)")
    finetune.add_argument("--config", required=True)
    finetune.add_argument("--output-dir")
    finetune.add_argument("--max-train-samples", type=int)
    finetune.add_argument("--epochs", type=float)
    finetune.add_argument("--data-dir")
    finetune.add_argument("--no-progress", action="store_true")
    finetune.set_defaults(func=_cmd_finetune)

    import importlib

    for name, module, add, run, help_text in _SUBCOMMANDS:  # each module's top level is standard library only
        command = importlib.import_module(module, __package__)
        sub_parser = sub.add_parser(name, help=help_text)
        getattr(command, add)(sub_parser)
        sub_parser.set_defaults(func=getattr(command, run))

    # textrisk.forecast.bench imports torch and pandas at its top, so its options are parsed only when it runs
    forecast = sub.add_parser("forecast-bench", add_help=False, prefix_chars="\0",
                              help="StockNet benchmark of the text + price LSTM forecaster")
    forecast.add_argument("forecast_args", nargs=argparse.REMAINDER)
    forecast.set_defaults(func=_cmd_forecast_bench)
    return parser


def _cmd_forecast_bench(args: argparse.Namespace) -> int:
    """``textrisk forecast-bench ...``: parse the options with textrisk.forecast.bench's own definitions, run it."""
    from .forecast import bench as forecast_bench

    parser = argparse.ArgumentParser(prog="textrisk forecast-bench",
                                     description="StockNet benchmark of the text + price LSTM forecaster")
    forecast_bench.add_arguments(parser)
    return forecast_bench.run(parser.parse_args(args.forecast_args))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``textrisk`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    _quiet_libraries()
    try:
        return args.func(args)
    except (TextRiskError, OSError) as exc:  # user errors (bad option, file, model, kind): one line, status 2
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"textrisk {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
