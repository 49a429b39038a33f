"""``textrisk finetune --config CONFIG.yaml``: :func:`textrisk.training.run` from the command line.

The module top imports only the standard library; training loads inside :func:`run`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..utils.args import integer, number

__all__ = ["add_arguments", "overrides_of", "run", "summary"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``finetune`` sub-command (and of ``python -m finetune.train``)."""
    parser.add_argument("--config", required=True, help="training config YAML (e.g. finetune/configs/default.yaml "
                                                        "of a checkout)")
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
    """What a finished run prints: folder, steps, temperature, dev and benchmark metrics (4 decimals)."""
    return {"output_dir": str(result.output_dir), "steps": result.steps, "temperature": result.temperature,
            "resumed_from_step": result.resumed_from_step,
            "dev": {k: round(result.dev_metrics[k], 4) for k in ("accuracy", "weighted_f1", "macro_f1")},
            "eval": {name: {k: round(m[k], 4) for k in ("accuracy", "weighted_f1", "macro_f1")}
                     for name, m in result.eval_metrics.items()}}


def run(args: argparse.Namespace) -> int:
    """Train (or resume) the run of ``args.config``, print its summary as JSON; returns the exit status."""
    from .dispatch import run as train

    result = train(args.config, progress=False if args.no_progress else None, **overrides_of(args))
    print(json.dumps(summary(result), indent=2))
    return 0
