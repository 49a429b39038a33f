"""CPU scoring throughput, as ratios against a naive baseline measured in the same process.

    python benchmarks/speed.py [--model PATH] [--n 600] [--threads 2] [--repeats 3]

Baseline: what a plain ``transformers`` loop does (pad every batch to the model window, input order,
``torch.no_grad``). Variants add what textrisk's scorer does: dynamic padding, length-sorted batches and
``torch.inference_mode`` (``TextRiskModel.predict``), then the LoRA adapter merged into the weights, then int8
dynamic quantisation of the linear layers. Agreement = share of argmax labels equal to the baseline's.
Texts: the FPB test part (standard split) when ../shared/data is present, else repeated sample sentences.
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import numpy as np
import torch

from textrisk import RiskAnalyzer
from textrisk.data import find_data_dir, load_benchmark


def _baseline(model, texts: list[str], batch_size: int = 32) -> np.ndarray:
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = model.tokenizer(texts[start:start + batch_size], truncation=True, padding="max_length",
                                    max_length=model.config.max_length, return_tensors="pt",
                                    return_token_type_ids=False)
            out.append(model(**batch)["logits"].numpy())
    return np.concatenate(out)


def _dynamic_unsorted(model, texts: list[str], batch_size: int = 32) -> np.ndarray:
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            out.append(model(**model.encode(texts[start:start + batch_size]))["logits"].numpy())
    return np.concatenate(out)


def _time(fn, texts, repeats: int) -> tuple[float, np.ndarray]:
    fn(texts[:32])  # warm-up
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn(texts)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best, result


def main() -> None:
    """Run the variants and print a table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the embedded model)")
    parser.add_argument("--n", type=int, default=600, help="sentences to score")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    data_dir = find_data_dir()
    if data_dir is not None:
        texts = load_benchmark("fpb", "test", data_dir)["text"][: args.n]
        source = "FPB test part"
    else:
        texts = (["Operating profit fell to EUR 3.2 mn from EUR 5.1 mn.", "The contract is valued at USD 10 mn."]
                 * args.n)[: args.n]
        source = "sample sentences"
    model = RiskAnalyzer.from_pretrained(args.model).model
    merged = copy.deepcopy(model)
    merged.merge_adapter()
    quantized = torch.ao.quantization.quantize_dynamic(copy.deepcopy(merged), {torch.nn.Linear}, dtype=torch.qint8)

    variants = {
        "baseline: pad to window, input order": lambda t: _baseline(model, t),
        "dynamic padding": lambda t: _dynamic_unsorted(model, t),
        "textrisk predict (dynamic + length-sorted)": lambda t: model.predict(t, progress=False)[0],
        "+ LoRA merged": lambda t: merged.predict(t, progress=False)[0],
        "+ int8 dynamic quantisation": lambda t: quantized.predict(t, progress=False)[0],
    }
    rows, base_speed, base_labels = [], None, None
    for name, fn in variants.items():
        speed, logits = _time(fn, texts, args.repeats)
        labels = logits.argmax(axis=1)
        if base_speed is None:
            base_speed, base_labels = speed, labels
        rows.append({"variant": name, "sentences_per_s": round(speed, 1), "ratio": round(speed / base_speed, 2),
                     "agreement": round(float((labels == base_labels).mean()), 4)})
    print(f"{len(texts)} sentences ({source}), {args.threads} threads, best of {args.repeats}")
    print(f"{'variant':<46}{'sent/s':>9}{'ratio':>8}{'agree':>8}")
    for row in rows:
        print(f"{row['variant']:<46}{row['sentences_per_s']:>9}{row['ratio']:>8}{row['agreement']:>8}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"n": len(texts), "source": source, "threads": args.threads, "rows": rows}, handle, indent=2)


if __name__ == "__main__":
    main()
