"""CPU scoring throughput of every textrisk backend, as ratios against a FinBERT-size anchor in the same process.

    python benchmarks/speed.py [--model PATH] [--n 0] [--anchor-n 200] [--threads 2] [--repeats 1] [--json FILE]

Anchor: what a user of FinBERT would run, a bert-base-sized ``BertForSequenceClassification`` (12 layers,
768 wide, random weights from a config: the real weights cannot be downloaded here and do not change the
speed) through ``transformers.pipeline("text-classification")`` at the same batch size. Rows: the analyzer's
forward passes (``RiskAnalyzer.from_pretrained(..., backend=...)``; LoRA unmerged, merged = the default,
bf16 autocast, ONNX Runtime fp32 and int8). Each row scores the FPB test part (standard split; ``--n 0`` = all
of it) and reports sentences/s, the ratio to the anchor, FPB weighted F1 and the share of labels equal to
fp32 torch's. The anchor reads the first ``--anchor-n`` sentences (it is slow; its F1 is meaningless).

Two more rows time the whole ``RiskAnalyzer.score`` path (checks, chunking, reports) of the default backend on the
same sentences: sentiment only (``signals=False``) and sentiment + risk signals (the risk head and, when the model
has one, the stacker with the labelling functions run on every text); their ratio is printed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np
import torch


def _anchor_speed(texts: list[str], batch_size: int) -> float:
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, pipeline

    from textrisk.models.backbone import DEFAULT_BASE_MODEL, resolve_model_path

    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(num_labels=3)).eval()  # bert-base sizes by default
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(DEFAULT_BASE_MODEL))  # same BERT uncased vocab
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
    classify(texts[:8], batch_size=batch_size)  # warm-up
    started = time.perf_counter()
    classify(texts, batch_size=batch_size, truncation=True, max_length=128)
    return len(texts) / (time.perf_counter() - started)


def _speed(backend, texts: list[str], batch_size: int, repeats: int) -> tuple[float, np.ndarray]:
    backend.predict(texts[:64], batch_size=batch_size, progress=False)  # warm-up
    best, logits = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        logits = backend.predict(texts, batch_size=batch_size, progress=False)[0]
        best = min(best, time.perf_counter() - started)
    return len(texts) / best, logits


def _score_speed(analyzer, texts: list[str], signals: bool, repeats: int) -> float:
    analyzer.score(texts[:64], signals=signals, progress=False)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        analyzer.score(texts, signals=signals, progress=False)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def main() -> None:
    """Measure the anchor and every backend; print a table (and JSON with --json)."""
    from sklearn.metrics import f1_score

    from textrisk import RiskAnalyzer
    from textrisk.data.datasets import find_data_dir, load_benchmark

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the embedded model)")
    parser.add_argument("--n", type=int, default=0, help="FPB test sentences to score (0 = the whole test part)")
    parser.add_argument("--anchor-n", type=int, default=200, help="sentences for the slow FinBERT-size anchor")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    data_dir = find_data_dir()
    if data_dir is None:
        raise SystemExit("benchmarks/speed.py needs the FPB data (../shared/data or TEXTRISK_DATA_DIR)")
    test = load_benchmark("fpb", "test", data_dir)
    n = args.n or len(test)
    texts, gold = list(test["text"][:n]), np.asarray(test["label"][:n])

    anchor = _anchor_speed(texts[:args.anchor_n], args.batch_size)
    rows = [{"variant": "anchor: bert-base via transformers.pipeline", "sentences_per_s": round(anchor, 1),
             "ratio": 1.0, "weighted_f1": None, "agreement": None}]
    print(rows[0], flush=True)
    cache = tempfile.mkdtemp(prefix="textrisk-speed-")  # a fresh export, not timed
    variants = {"torch, LoRA unmerged (merge=False)": {"merge": False},
                "torch, LoRA merged (default)": {},
                "bf16 autocast (backend='bf16')": {"backend": "bf16"},
                "ONNX Runtime fp32 (backend='onnx-fp32')": {"backend": "onnx-fp32"},
                "ONNX Runtime int8 (backend='onnx')": {"backend": "onnx"}}
    reference = None
    for name, options in variants.items():
        analyzer = RiskAnalyzer.from_pretrained(args.model, cache_dir=cache, num_threads=args.threads, **options)
        speed, logits = _speed(analyzer.backend, texts, args.batch_size, args.repeats)
        labels = logits.argmax(axis=1)
        reference = labels if reference is None else reference
        rows.append({"variant": name, "sentences_per_s": round(speed, 1), "ratio": round(speed / anchor, 1),
                     "weighted_f1": round(100 * f1_score(gold, labels, average="weighted"), 2),
                     "agreement": round(float((labels == reference).mean()), 4)})
        print(rows[-1], flush=True)
    analyzer = RiskAnalyzer.from_pretrained(args.model, num_threads=args.threads)
    scored = {}
    for signals in ((False, True) if analyzer.has_risk_head else (False,)):
        name = "score(): sentiment + risk signals" if signals else "score(): sentiment only"
        scored[signals] = _score_speed(analyzer, texts, signals, args.repeats)
        rows.append({"variant": name, "sentences_per_s": round(scored[signals], 1),
                     "ratio": round(scored[signals] / anchor, 1), "weighted_f1": None, "agreement": None})
        print(rows[-1], flush=True)
    print(f"{len(texts)} FPB test sentences (anchor: {min(args.anchor_n, len(texts))}), {args.threads} threads, "
          f"batch {args.batch_size}, best of {args.repeats}")
    print(f"{'variant':<44}{'sent/s':>9}{'ratio':>8}{'w-F1':>8}{'agree':>8}")
    for row in rows:
        f1 = "" if row["weighted_f1"] is None else row["weighted_f1"]
        agree = "" if row["agreement"] is None else row["agreement"]
        print(f"{row['variant']:<44}{row['sentences_per_s']:>9}{row['ratio']:>8}{f1:>8}{agree:>8}")
    signals_ratio = round(scored[True] / scored[False], 3) if True in scored else None
    if signals_ratio is not None:
        print(f"sentiment + risk signals / sentiment only, through score(): {signals_ratio:.3f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"n": len(texts), "anchor_n": args.anchor_n, "threads": args.threads, "rows": rows,
                       "signals_over_sentiment_only": signals_ratio}, handle, indent=2)


if __name__ == "__main__":
    main()
