"""The ``textrisk`` command line: the command table, nothing else.

    textrisk score "Nokia cuts its outlook."            # readable table
    textrisk score --input news.jsonl --output scored.jsonl
    textrisk evaluate [MODEL] --data fpb tfns --out report.json
    textrisk finetune --config finetune/configs/default.yaml

Each subcommand lives in the module of the wing it belongs to, as ``add_arguments(parser)`` (standard library
only, so ``textrisk --help`` imports no torch) and ``run(args) -> exit status`` (heavy imports inside).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from .errors import TextRiskError

__all__ = ["COMMANDS", "build_parser", "main"]

#: (name, module, add-arguments function, run function, help); the benchmark doors take every argument unparsed.
COMMANDS = (
    ("score", ".batch.cli", "add_arguments", "run", "score texts or a file of documents"),
    ("evaluate", ".evaluation.cli", "add_arguments", "run", "evaluate a model on benchmarks or a labelled file"),
    ("finetune", ".training.cli", "add_arguments", "run", "LoRA fine-tuning from a YAML config (resumes if "
                                                          "interrupted)"),
    ("causal-bench", ".checkout", "add_arguments", "run_causal", "causal LM: zero-shot / LoRA prompt vs head mode "
                                                                "(a source checkout's benchmarks/causal/)"),
    ("compare", ".filings.cli", "add_arguments", "run", "year-over-year change between two filings"),
    ("serve", ".serving.cli", "add_arguments", "run", "HTTP scoring server (FastAPI, micro-batched; extra [serve])"),
    ("monitor", ".monitor.cli", "add_arguments", "run", "score a stream per entity into a state DB, with alerts"),
    ("dashboard", ".monitor.cli", "add_dashboard_arguments", "run_dashboard", "dashboard of a monitor state DB"),
    ("forecast", ".forecast.cli", "add_arguments", "run", "forecaster on your prices CSV / texts JSONL: "
                                                          "train | predict | backtest"),
    ("forecast-bench", ".checkout", "add_arguments", "run_forecast", "StockNet benchmark of the text + price LSTM "
                                                                    "forecaster (a source checkout's "
                                                                    "benchmarks/forecast/)"),
)
_UNPARSED = ("causal-bench", "forecast-bench")  # options parsed by the benchmark's own parser when it runs


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``textrisk score: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: error: <message>`` (and where to get help) on one line, exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``textrisk`` argument parser (sub-commands: score, evaluate, finetune, ...)."""
    from .version import __version__

    parser = _Parser(prog="textrisk", description="Financial text risk scoring.")
    parser.add_argument("--version", action="version", version=f"textrisk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module, add, run, help_text in COMMANDS:  # each module's top level is standard library only
        command = importlib.import_module(module, __package__)
        extra = {"add_help": False, "prefix_chars": "\0"} if name in _UNPARSED else {}
        sub_parser = sub.add_parser(name, help=help_text, **extra)
        getattr(command, add)(sub_parser)
        sub_parser.set_defaults(func=getattr(command, run))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``textrisk`` command; returns the exit status."""
    from .utils.runtime import quiet_libraries

    args = build_parser().parse_args(argv)
    quiet_libraries()
    try:
        return args.func(args)
    except (TextRiskError, OSError) as exc:  # user errors (bad option, file, model, kind): one line, status 2
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"textrisk {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
