"""``textrisk evaluate [MODEL] --data fpb tfns [--risk-data gold_test ...]``: metrics of a model, printed and saved.

The module top imports only the standard library; the model and the data load inside :func:`run`.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``evaluate`` sub-command."""
    parser.add_argument("model", nargs="?", help="model folder, Hub id or embedded model name: "
                        "default, commercial (default: default)")
    parser.add_argument("--data", nargs="+", default=["fpb", "tfns"], help="fpb, tfns or labelled CSV/JSONL")
    parser.add_argument("--out", default="report.json", help="JSON report (PNG written beside it)")
    parser.add_argument("--data-dir", help="shared data folder (default ../shared/data)")
    parser.add_argument("--risk-data", nargs="+", metavar="SET",
                        help="risk tests: gold_test, random_gold, sentivent_test, filings_test, contrast (also "
                             "gold_dev, sentivent_dev) or labelled risk files; prints model / rules / ensemble "
                             "per-label scores, a judgement model's kind and adverse scores, contrast-pair order")
    parser.add_argument("--risk-dir", help="folder of the named hand-labelled risk sets (default "
                                           "finetune/risk_data of the checkout)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")


def run(args: argparse.Namespace) -> int:
    """Evaluate, print the summary (and the risk table), write the report; returns the exit status."""
    import warnings

    from ..scoring.analyzer import RiskAnalyzer
    from .sentiment import evaluate_model

    analyzer = RiskAnalyzer.from_pretrained(args.model, backend="torch")  # evaluates the fp32 model itself
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
        from .risk import risk_table

        print(risk_table(report["risk"]))
    return 0
