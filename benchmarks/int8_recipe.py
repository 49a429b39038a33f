"""What each fp32 layer of the int8 ONNX recipe buys: speed and agreement with fp32 torch per variant.

    HF_HUB_OFFLINE=1 python -m benchmarks.int8_recipe [--model PATH] [--rounds 3] [--threads 2]
        [--variants first_last none first last last2 first_last2] [--json FILE]

Each variant is the shipped recipe (:data:`textrisk.models.backends.onnx.QUANTIZATION`) with another
``keep_fp32_layers``: ``first_last`` (shipped), ``none`` (every transformer layer int8), ``first`` (only the first
layer fp32), ``last`` (only the last), ``last2`` (the last two), ``first_last2`` (the first and the last two).
Every variant is exported into a fresh cache folder before timing; then, per round, fp32 torch and each variant run
``RiskAnalyzer.score()`` with risk signals on the whole FPB test part, one after the other, and rows report the
median sentences/s, the median per-round ratio to fp32 torch, FPB weighted F1, and agreement with fp32 torch:
sentiment labels, (sentence, signal) flags, kinds and the largest risk_score difference. The CPU is printed;
compare within one run only.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np
import torch

from benchmarks.speed import _judgement_agreement, _quality, fpb_test_part, print_cpu

VARIANTS = {"first_last": "first_last", "none": "none", "first": [0], "last": [-1], "last2": [-2, -1],
            "first_last2": [0, -2, -1]}


def main() -> None:
    """Export every variant, time them against fp32 torch in interleaved rounds, print one table."""
    import statistics
    import time

    from textrisk import RiskAnalyzer
    from textrisk.models.backends import onnx as onnx_backend

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the embedded model)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    texts, gold = fpb_test_part("benchmarks/int8_recipe.py")
    cpu = print_cpu()

    reference = "torch fp32"
    analyzers = {reference: RiskAnalyzer.from_pretrained(args.model, backend="torch", num_threads=args.threads)}
    shipped = dict(onnx_backend.QUANTIZATION)
    cache = tempfile.mkdtemp(prefix="textrisk-int8-")
    try:
        for name in args.variants:
            onnx_backend.QUANTIZATION["keep_fp32_layers"] = VARIANTS[name]
            started = time.perf_counter()
            analyzers[f"int8, fp32 layers: {name}"] = RiskAnalyzer.from_pretrained(
                args.model, backend="onnx", cache_dir=cache, num_threads=args.threads)
            print(f"exported {name} in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        onnx_backend.QUANTIZATION.clear()
        onnx_backend.QUANTIZATION.update(shipped)
    for analyzer in analyzers.values():
        analyzer.score(texts[:64], progress=False)

    rates: dict[str, list[float]] = {name: [] for name in analyzers}
    last: dict[str, list] = {}
    for round_ in range(args.rounds):
        for name, analyzer in analyzers.items():
            started = time.perf_counter()
            last[name] = analyzer.score(texts, progress=False)
            rates[name].append(len(texts) / (time.perf_counter() - started))
            print(f"  round {round_ + 1}: {name}: {rates[name][-1]:.1f}/s", flush=True)
    rows = {name: {"sentences_per_s": round(statistics.median(rates[name]), 1),
                   "ratio": round(statistics.median(r / t for r, t in zip(rates[name], rates[reference])), 2),
                   "result": last[name]} for name in analyzers}
    _judgement_agreement(rows, {name: row["result"] for name, row in rows.items()}, reference)
    label_index = {label: i for i, label in enumerate(analyzers[reference].labels)}
    _quality(rows, lambda reports: np.array([label_index[r.sentiment] for r in reports]), gold, reference)

    print(f"\n{len(texts)} FPB test sentences, {args.threads} threads, {args.rounds} rounds; load average "
          f"{os.getloadavg()}")
    print("| variant | score() sentences/s | x fp32 torch | FPB weighted F1 | same labels | same flags | same kind | "
          "max risk_score diff |")
    print("|---|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['sentences_per_s']} | {row['ratio']}x | {row['weighted_f1']:.2f} | "
              f"{100 * row['agreement']:.1f}% | {100 * row.get('flag_agreement', 1):.2f}% | "
              f"{100 * row.get('kind_agreement', 1):.1f}% | {row.get('risk_score_max_abs_diff', 0):.3f} |")
    if args.json:
        from textrisk.utils.atomic import atomic_write_json

        atomic_write_json(args.json, {"cpu": cpu, "threads": args.threads, "rounds": args.rounds, "rows": rows})


if __name__ == "__main__":
    main()
