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

#: An example per subcommand, shown at the end of its ``--help``.
EXAMPLES = {
    "score": ['textrisk score "Nokia cuts its 2024 outlook as network sales slump."',
              "textrisk score 10k.txt                      # a file argument is scored as that file (= --files)",
              "textrisk score --input news.jsonl --output scored.jsonl --resume"],
    "evaluate": ["textrisk evaluate --data fpb tfns --out report.json",
                 "textrisk evaluate models/mine --data labelled.csv --risk-data gold_test"],
    "finetune": ["textrisk finetune --config finetune/configs/default.yaml --output-dir models/mine"],
    "causal-bench": ["textrisk causal-bench --help               # the benchmark's own options (source checkout)"],
    "compare": ["textrisk compare FB_10-K_2017.txt FB_10-K_2018.txt --out fb_change.json"],
    "serve": ["textrisk serve --port 8000 --max-batch-size 64   # then open http://127.0.0.1:8000/docs"],
    "monitor": ["textrisk monitor --input news.jsonl --state desk.db --alerts alerts.jsonl --rules rules.yaml"],
    "dashboard": ["textrisk dashboard --state desk.db             # http://127.0.0.1:8765/",
                  "textrisk dashboard --state desk.db --export report.html"],
    "forecast": ["textrisk forecast train --prices prices.csv --texts texts.jsonl --out fc/",
                 "textrisk forecast predict --prices prices.csv --texts texts.jsonl --model fc/ --out pred.csv"],
    "forecast-bench": ["textrisk forecast-bench --help             # the benchmark's own options (source checkout)"],
}


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
        sub_parser = sub.add_parser(name, help=help_text, description=help_text, epilog=_examples(name),
                                    formatter_class=argparse.RawDescriptionHelpFormatter, **extra)
        getattr(command, add)(sub_parser)
        if name not in _UNPARSED:
            _add_verbose(sub_parser)
        sub_parser.set_defaults(func=getattr(command, run))
    return parser


def _add_verbose(parser: argparse.ArgumentParser) -> None:
    """``--verbose`` on ``parser``, or on each of its subcommands when it has some (``forecast train``)."""
    nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if nested:
        for child in nested[0].choices.values():
            _add_verbose(child)
        return
    parser.add_argument("--verbose", action="store_true", help="show the libraries' own warnings, logs and progress "
                                                               "bars (transformers, peft, torch, ONNX Runtime), "
                                                               "silenced by default")


def _examples(name: str) -> str:
    return "example:\n" + "\n".join(f"  {line}" for line in EXAMPLES[name])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``textrisk`` command; returns the exit status."""
    import os

    from .utils.runtime import VERBOSE_ENV, quiet_libraries

    args = build_parser().parse_args(argv)
    if getattr(args, "verbose", False):
        os.environ[VERBOSE_ENV] = "1"
    quiet_libraries()
    try:
        return args.func(args)
    except (TextRiskError, OSError) as exc:  # user errors (bad option, file, model, kind): one line, status 2
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"textrisk {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
