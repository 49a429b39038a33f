"""CPU scoring throughput of what users run, ``RiskAnalyzer.score()``, for every backend, as ratios against a
bert-base-size anchor timed in the same rounds.

    nice -n 5 python benchmarks/speed.py [--model PATH] [--n 0] [--anchor-n 100] [--rounds 3] [--threads 2]
        [--backends torch bf16 onnx-fp32 onnx] [--sentiment-only onnx] [--no-forward] [--json FILE]

Anchor: what a user of FinBERT would run, a bert-base-sized ``BertForSequenceClassification`` (12 layers, 768 wide,
random weights from a config: the real weights cannot be downloaded offline and do not change the speed) through
``transformers.pipeline("text-classification")`` at the same batch size, on the first ``--anchor-n`` sentences.

Protocol: every variant is loaded (and its ONNX export built) before any timing. Then, for each of ``--rounds``
rounds and each variant, the anchor is timed and the variant is timed right after it; the ratio of that round is
variant rate / anchor rate. A row reports the median sentences/s and the **median of the per-round ratios**, so
a change in machine load between rounds hits the anchor and the variant alike. Ratios are comparable within one
run only.

Table 1, the path users call: ``RiskAnalyzer.from_pretrained(backend=...).score(texts)`` with risk signals (the
model's risk head; the labelling functions too when the model has a ``risk_ensemble``) on the FPB test part
(``--n 0`` = all 1,212 sentences): checks, chunking, forward passes and reports. Its FPB weighted F1 and the share
of labels equal to fp32 torch's come from the reports' labels; for a model with risk signals, the share of
(sentence, signal) flags and of kinds equal to fp32 torch's and the largest risk_score difference too. Rows
"sentiment only" time ``score(signals=False)`` on the same analyzer: what the risk signals cost.

Table 3 (``--call-sizes``): ``score()`` called on k texts at a time (1, 4, 16 by default: a stream scored as it
arrives, a server's micro-batches) on the first ``--call-n`` sentences, per backend, no anchor.

Table 2 (unless ``--no-forward``): forward passes only (``backend.predict``: sentiment logits), the same protocol,
with torch's LoRA left unmerged as an extra row.

The header prints the CPU model and its relevant instruction sets (AVX-512, VNNI, BF16, AMX) and the load average
before and after: on a shared machine the absolute rates move with the load; the per-round ratios move less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

BACKENDS = {"torch": "torch fp32, LoRA merged", "bf16": "bf16 autocast (backend='bf16')",
            "onnx-fp32": "ONNX Runtime fp32 (backend='onnx-fp32')", "onnx": "ONNX Runtime int8 (backend='onnx')"}


def cpu_info() -> dict[str, Any]:
    """CPU model, logical CPUs and which instruction sets it reports (:func:`textrisk.utils.cpu.cpu_info`)."""
    from textrisk.utils.cpu import cpu_info as read_cpu

    info = read_cpu()
    return {"model": info.model, "cpus": info.cpus, "flags": dict(info.flags)}


def fpb_test_part(script: str) -> tuple[list[str], np.ndarray]:
    """The FPB test part (standard split): texts and gold label ids; exits naming ``script`` without the data."""
    from textrisk.data.datasets import find_data_dir, load_benchmark

    data_dir = find_data_dir()
    if data_dir is None:
        raise SystemExit(f"{script} needs the FPB data (../shared/data or TEXTRISK_DATA_DIR)")
    test = load_benchmark("fpb", "test", data_dir)
    return list(test["text"]), np.asarray(test["label"])


def print_cpu() -> dict[str, Any]:
    """Print the CPU line every benchmark starts with; returns :func:`cpu_info`."""
    cpu = cpu_info()
    print(f"CPU: {cpu['model']}, {cpu['cpus']} logical CPUs; "
          + ", ".join(f"{flag} {'yes' if on else 'no'}" for flag, on in cpu["flags"].items()), flush=True)
    return cpu


def _anchor(batch_size: int) -> Callable[[list[str]], Any]:
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, pipeline

    from textrisk.models.backbone import DEFAULT_BASE_MODEL, resolve_model_path

    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(num_labels=3)).eval()  # bert-base sizes by default
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(DEFAULT_BASE_MODEL))  # same BERT uncased vocab
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
    classify(["A warm-up sentence."] * 8, batch_size=batch_size)
    return lambda texts: classify(texts, batch_size=batch_size, truncation=True, max_length=128)


def _rate(run: Callable[[list[str]], Any], texts: list[str]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run(texts)
    return len(texts) / (time.perf_counter() - started), result


def interleaved(anchor: Callable, anchor_texts: list[str], variants: dict[str, Callable], texts: list[str],
                rounds: int) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Per variant: median sentences/s, median per-round ratio to the anchor timed just before it, the rounds'
    rates and ratios, and the last result; the anchor's median rate."""
    rates: dict[str, list[float]] = {name: [] for name in variants}
    ratios: dict[str, list[float]] = {name: [] for name in variants}
    anchors, last = [], {}
    for round_ in range(rounds):
        for name, run in variants.items():
            anchor_rate, _ = _rate(anchor, anchor_texts)
            rate, last[name] = _rate(run, texts)
            anchors.append(anchor_rate)
            rates[name].append(rate)
            ratios[name].append(rate / anchor_rate)
            print(f"  round {round_ + 1}: {name}: {rate:.1f}/s, anchor {anchor_rate:.1f}/s, "
                  f"ratio {rate / anchor_rate:.1f}", flush=True)
    rows = {name: {"sentences_per_s": round(statistics.median(rates[name]), 1),
                   "ratio": round(statistics.median(ratios[name]), 1),
                   "rounds": {"rates": [round(r, 1) for r in rates[name]],
                              "ratios": [round(r, 2) for r in ratios[name]]},
                   "result": last[name]} for name in variants}
    return rows, {"sentences_per_s": round(statistics.median(anchors), 1), "rounds": [round(a, 1) for a in anchors]}


def _quality(rows: dict[str, dict[str, Any]], labels_of: Callable[[Any], np.ndarray], gold: np.ndarray,
             reference: str) -> None:
    from sklearn.metrics import f1_score

    ref = labels_of(rows[reference]["result"])
    for row in rows.values():
        labels = labels_of(row.pop("result"))
        row["weighted_f1"] = round(100 * f1_score(gold, labels, average="weighted"), 2)
        row["agreement"] = round(float((labels == ref).mean()), 4)


def _judgement_agreement(rows: dict[str, dict[str, Any]], reports: dict[str, list[Any]], reference: str) -> None:
    """Per row of score(): the share of (sentence, signal) flags, of kinds and of texts with the same flag set as
    fp32 torch's, and the largest difference in risk_score."""
    ref = reports[reference]
    signals = sorted({s for r in ref for s in (r.risk_signals or {})})
    for name, row in rows.items():
        mine = reports[name]
        if not signals or mine[0].risk_signals is None:
            continue
        same = [(s in a.flags) == (s in b.flags) for a, b in zip(mine, ref) for s in signals]
        row["flag_agreement"] = round(float(np.mean(same)), 4)
        row["flag_set_agreement"] = round(float(np.mean([set(a.flags) == set(b.flags) for a, b in zip(mine, ref)])), 4)
        if ref[0].kind is not None:
            row["kind_agreement"] = round(float(np.mean([a.kind == b.kind for a, b in zip(mine, ref)])), 4)
            row["risk_score_max_abs_diff"] = round(max(abs(a.risk_score - b.risk_score) for a, b in zip(mine, ref)), 4)


def _table(title: str, anchor: dict[str, Any], rows: dict[str, dict[str, Any]]) -> None:
    print(f"\n{title}")
    judged = any("flag_agreement" in row for row in rows.values())
    extra = " same flags (sentence x signal) / same kind / max risk_score diff |" if judged else ""
    print("| variant | sentences/s (median) | x anchor (median of per-round ratios) | FPB weighted F1 | "
          "same labels as fp32 torch |" + extra)
    print("|---|---|---|---|---|" + ("---|" if judged else ""))
    print(f"| anchor: bert-base-size pipeline | {anchor['sentences_per_s']} | 1.0x | - | - |"
          + (" - |" if judged else ""))
    for name, row in rows.items():
        cells = ""
        if judged:
            cells = (f" {100 * row['flag_agreement']:.2f}% / {100 * row.get('kind_agreement', float('nan')):.1f}% / "
                     f"{row.get('risk_score_max_abs_diff', float('nan')):.3f} |" if "flag_agreement" in row else " - |")
        print(f"| {name} | {row['sentences_per_s']} | {row['ratio']}x | {row['weighted_f1']:.2f} | "
              f"{100 * row['agreement']:.1f}% |" + cells)


def _call_sizes(analyzers: dict[str, Any], texts: list[str], sizes: list[int], rounds: int
                ) -> dict[str, dict[str, float]]:
    """Sentences/s of ``score()`` called on ``k`` texts at a time (a stream, a server's micro-batches), per
    backend and ``k``: the median of ``rounds`` rounds, the backends taking turns within each round."""
    rates: dict[str, dict[str, list[float]]] = {name: {str(k): [] for k in sizes} for name in analyzers}
    for round_ in range(rounds):
        for k in sizes:
            for name, analyzer in analyzers.items():
                started = time.perf_counter()
                for i in range(0, len(texts), k):
                    analyzer.score(texts[i:i + k], progress=False)
                rates[name][str(k)].append(len(texts) / (time.perf_counter() - started))
        print(f"  round {round_ + 1} of the k-at-a-time table done", flush=True)
    return {name: {k: round(statistics.median(values), 1) for k, values in row.items()}
            for name, row in rates.items()}


def main() -> None:
    """Load every variant, time them interleaved with the anchor, print both tables (and JSON with --json)."""
    from textrisk import RiskAnalyzer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the embedded model)")
    parser.add_argument("--n", type=int, default=0, help="FPB test sentences to score (0 = the whole test part)")
    parser.add_argument("--anchor-n", type=int, default=100, help="sentences per anchor timing")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; rows are medians")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=list(BACKENDS))
    parser.add_argument("--sentiment-only", nargs="*", default=["onnx"], choices=list(BACKENDS),
                        help="also time score(signals=False) on these backends (default: onnx)")
    parser.add_argument("--call-sizes", nargs="*", type=int, default=[1, 4, 16],
                        help="table 3: score() called on k texts at a time, for each k (none: skip the table)")
    parser.add_argument("--call-n", type=int, default=240, help="sentences per timing of table 3")
    parser.add_argument("--no-forward", action="store_true", help="skip the forward-only table")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    texts, gold = fpb_test_part("benchmarks/speed.py")
    n = args.n or len(texts)
    texts, gold = texts[:n], gold[:n]
    anchor_texts = texts[:args.anchor_n]
    load_before = os.getloadavg()
    cpu = print_cpu()
    print(f"torch {torch.__version__}, {args.threads} threads; load average before {load_before}", flush=True)
    from textrisk.models.backends import choose_backend

    auto = choose_backend(RiskAnalyzer.from_pretrained(args.model, backend="torch").model, "auto")
    print(f"backend='auto' (the default) chooses {auto.name!r} here: {auto.reason}", flush=True)

    anchor = _anchor(args.batch_size)
    cache = tempfile.mkdtemp(prefix="textrisk-speed-")  # fresh exports, built here, not timed
    analyzers = {BACKENDS[b]: RiskAnalyzer.from_pretrained(args.model, backend=b, cache_dir=cache,
                                                           num_threads=args.threads, batch_size=args.batch_size)
                 for b in args.backends}
    for analyzer in analyzers.values():
        analyzer.score(texts[:64], progress=False)  # warm-up
    reference = BACKENDS["torch"] if "torch" in args.backends else next(iter(analyzers))
    label_index = {label: i for i, label in enumerate(next(iter(analyzers.values())).labels)}

    print("\nscore() with risk signals:", flush=True)
    variants = {name: (lambda t, a=a: a.score(t, progress=False)) for name, a in analyzers.items()}
    if args.sentiment_only:  # the same analyzer, score(signals=False): what the signals cost
        for backend in (b for b in args.sentiment_only if b in args.backends):
            analyzer = analyzers[BACKENDS[backend]]
            variants[f"{BACKENDS[backend]}, sentiment only (signals=False)"] = (
                lambda t, a=analyzer: a.score(t, progress=False, signals=False))
    scored, anchor_scored = interleaved(anchor, anchor_texts, variants, texts, args.rounds)
    _judgement_agreement(scored, {name: row["result"] for name, row in scored.items()}, reference)
    _quality(scored, lambda reports: np.array([label_index[r.sentiment] for r in reports]), gold, reference)
    _table("RiskAnalyzer.score() with risk signals (what users run)", anchor_scored, scored)

    def save() -> None:  # after each table, so that a run stopped during the second keeps the first
        if args.json:
            from textrisk.utils.atomic import atomic_write_json

            atomic_write_json(args.json, {
                "cpu": cpu, "torch": torch.__version__, "n": len(texts), "anchor_n": len(anchor_texts),
                "threads": args.threads, "batch_size": args.batch_size, "rounds": args.rounds,
                "load_average_before": load_before, "load_average_after": os.getloadavg(),
                "score": {"anchor": anchor_scored, "rows": scored},
                "forward": {"anchor": anchor_forward, "rows": forward} if forward else None,
                "calls": calls or None})

    forward, anchor_forward, calls = {}, None, {}
    save()
    if not args.no_forward:
        runners = {name: (lambda t, a=a: a.backend.predict(t, batch_size=args.batch_size, progress=False)[0])
                   for name, a in analyzers.items()}
        if "torch" in args.backends:
            unmerged = RiskAnalyzer.from_pretrained(args.model, merge=False, backend="torch", num_threads=args.threads)
            unmerged.backend.predict(texts[:64], progress=False)
            runners["torch fp32, LoRA unmerged (merge=False)"] = (
                lambda t: unmerged.backend.predict(t, batch_size=args.batch_size, progress=False)[0])
        print("\nforward passes only:", flush=True)
        forward, anchor_forward = interleaved(anchor, anchor_texts, runners, texts, args.rounds)
        _quality(forward, lambda logits: np.asarray(logits).argmax(axis=1), gold, reference)
    if args.call_sizes:
        calls = _call_sizes(analyzers, texts[:args.call_n], args.call_sizes, args.rounds)
        save()
    load_after = os.getloadavg()

    print(f"\n{len(texts)} FPB test sentences (anchor: {len(anchor_texts)} per timing), {args.threads} threads, "
          f"batch {args.batch_size}, {args.rounds} interleaved rounds; load average before {load_before}, "
          f"after {load_after}")
    _table("RiskAnalyzer.score() with risk signals (what users run)", anchor_scored, scored)
    if forward:
        _table("forward passes only (backend.predict)", anchor_forward, forward)
    if calls:
        print(f"\nscore() called with k texts at a time (the first {args.call_n} sentences; sentences/s, median of "
              f"{args.rounds} interleaved rounds)")
        print("| variant | " + " | ".join(f"k = {k}" for k in args.call_sizes) + " |")
        print("|---|" + "---|" * len(args.call_sizes))
        for name, row in calls.items():
            print(f"| {name} | " + " | ".join(str(row[str(k)]) for k in args.call_sizes) + " |")
    save()


if __name__ == "__main__":
    main()
