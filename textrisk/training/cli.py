"""``textrisk finetune --config CONFIG.yaml``: :func:`textrisk.training.run` from the command line; and
``textrisk finetune --from default --data my.csv --output my_model``: :func:`textrisk.training.adapt` (a saved model
continued on the user's labels).

The module top imports only the standard library; training loads inside :func:`run`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..utils.args import integer, number

__all__ = ["add_arguments", "overrides_of", "run", "summary"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``finetune`` sub-command (and of ``python -m finetune.train``)."""
    parser.add_argument("--config", help="training config YAML (e.g. finetune/configs/default.yaml of a checkout; "
                                          "mode head, prompt or adapt)")
    parser.add_argument("--from", dest="init_from", metavar="MODEL",
                        help="adapt this saved model ('default': the embedded one; a folder or a Hub id) to --data")
    parser.add_argument("--data", nargs="+", metavar="FILE", help="labelled CSV/JSONL files to adapt the model to")
    parser.add_argument("--output", help="folder the adapted model is saved to (with --data)")
    parser.add_argument("--eval-data", metavar="FILE", help="held-out labelled file (default: a split of --data)")
    parser.add_argument("--recipe", choices=("auto", "head", "lora", "full"), default="auto",
                        help="adaptation recipe (default: chosen by the number of training rows)")
    parser.add_argument("--holdout", type=number(gt=0, lt=0.9), help="share of --data held out (default 0.2)")
    parser.add_argument("--labels", nargs="+", help="class names in head order (default: from the data)")
    parser.add_argument("--output-dir", help="folder the model is written to (overrides the config's output_dir; "
                                             "an interrupted run in it is resumed)")
    parser.add_argument("--max-train-samples", type=integer(ge=1), help="train on at most this many rows (a quick "
                                                                         "trial; overrides the config)")
    parser.add_argument("--epochs", type=number(gt=0, le=10_000), help="training epochs (overrides the config; "
                                                                       "fractions allowed)")
    parser.add_argument("--data-dir", help="shared data folder with the training sets (default ../shared/data)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")


def overrides_of(args: argparse.Namespace) -> dict[str, Any]:
    """The config fields the options override (those given)."""
    return {k: v for k, v in {"output_dir": args.output_dir, "max_train_samples": args.max_train_samples,
                              "epochs": args.epochs, "data_dir": args.data_dir}.items() if v is not None}


def summary(result: Any) -> dict[str, Any]:
    """What a finished run prints: folder, steps, temperature, dev and benchmark metrics (4 decimals); an
    adaptation run's own summary (:meth:`textrisk.training.adaptation.AdaptResult.summary`)."""
    if hasattr(result, "summary"):
        return result.summary()
    return {"output_dir": str(result.output_dir), "steps": result.steps, "temperature": result.temperature,
            "resumed_from_step": result.resumed_from_step,
            "dev": {k: round(result.dev_metrics[k], 4) for k in ("accuracy", "weighted_f1", "macro_f1")},
            "eval": {name: {k: round(m[k], 4) for k in ("accuracy", "weighted_f1", "macro_f1")}
                     for name, m in result.eval_metrics.items()}}


def _adapt_config(args: argparse.Namespace) -> Any:
    """The :class:`AdaptConfig` of ``--from/--data/--output`` (the options not given keep their defaults)."""
    from ..errors import ConfigError
    from .config import AdaptConfig

    if args.config:
        raise ConfigError("give either --config or --from/--data, not both")
    output = args.output or args.output_dir
    if not args.data or not output:
        raise ConfigError("finetune needs --config CONFIG.yaml, or --data FILE and --output FOLDER (with --from)")
    given = {"init_from": args.init_from, "eval_data": args.eval_data, "holdout_fraction": args.holdout,
             "labels": args.labels, "epochs": args.epochs, "data_dir": args.data_dir}
    return AdaptConfig(output_dir=output, train_data=list(args.data), recipe=args.recipe,
                       **{k: v for k, v in given.items() if v is not None})


def run(args: argparse.Namespace) -> int:
    """Train (or resume) the run of ``args.config``, or adapt ``--from`` to ``--data``; print the summary as JSON;
    returns the exit status."""
    from .dispatch import run as train

    progress = False if args.no_progress else None
    if args.config and not (args.data or args.init_from or args.output):
        result = train(args.config, progress=progress, **overrides_of(args))
    else:
        import warnings

        from .adaptation import adapt

        with warnings.catch_warnings():  # the guards' warnings are printed once, as log lines
            warnings.simplefilter("ignore", UserWarning)
            result = adapt(_adapt_config(args), progress=progress, log=lambda line: print(line, file=sys.stderr))
    print(json.dumps(summary(result), indent=2))
    return 0
