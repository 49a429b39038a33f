"""Training-speed levers on this CPU: seconds per optimisation step of the real MiniLM-L6 backbone with LoRA
r=16 (today's recipe) and with full fine-tuning, float32 vs bfloat16 autocast, random vs length-grouped batches.

    python benchmarks/sentiment_levers.py [--steps 12] [--threads 2]

All settings run in one process, interleaved round by round on the same rows (FPB + TFNS training texts), so
a busy machine slows them alike; the table reports each setting's median step time and its speed-up over
LoRA / float32 / random batches.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np
import torch

from textrisk.data.datasets import load_benchmark
from textrisk.models.head.model import TextRiskModel
from textrisk.training.length_batching import length_grouped_order


def _model(full: bool) -> TextRiskModel:
    model = TextRiskModel.from_base(lora_r=0 if full else 16, lora_alpha=32)
    model.train()
    return model


def main() -> None:
    """Time every lever setting round-robin and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    texts, labels = [], []
    for name in ("fpb", "tfns"):
        part = load_benchmark(name, "train")
        texts += list(part["text"])
        labels += list(part["label"])
    models = {"lora": _model(False), "full": _model(True)}
    tokenizer = models["lora"].tokenizer
    ids = tokenizer(texts, truncation=True, max_length=128)["input_ids"]
    lengths = [len(i) for i in ids]
    rows = args.steps * args.batch_size
    order = np.random.default_rng(0).permutation(len(ids))
    orders = {"random": order[:rows], "grouped": length_grouped_order(order, lengths, args.batch_size, 0)[:rows]}
    settings = [(m, p, o) for m in ("lora", "full") for p in ("fp32", "bf16") for o in ("random", "grouped")]
    times: dict[tuple[str, str, str], list[float]] = {s: [] for s in settings}
    padded: dict[str, float] = {}
    for step in range(args.steps):
        for setting in settings:
            name, precision, arrangement = setting
            model = models[name]
            index = orders[arrangement][step * args.batch_size:(step + 1) * args.batch_size]
            batch = tokenizer.pad({"input_ids": [ids[i] for i in index]}, return_tensors="pt")
            padded.setdefault(arrangement, 0.0)
            padded[arrangement] += batch["input_ids"].numel() / sum(lengths[i] for i in index) / args.steps / 4
            target = torch.tensor([labels[i] for i in index])
            autocast = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()
            started = time.perf_counter()
            with autocast:
                out = model(batch["input_ids"], batch["attention_mask"], labels=target)
            out["loss"].backward()
            model.zero_grad(set_to_none=True)
            times[setting].append(time.perf_counter() - started)
    base = float(np.median(times[("lora", "fp32", "random")]))
    print(f"{args.steps} steps of batch {args.batch_size}, {args.threads} threads; tokens per real token: "
          f"random {padded['random']:.2f}, grouped {padded['grouped']:.2f}")
    print("| backbone | precision | batches | s/step (median) | speed-up |")
    print("|---|---|---|---|---|")
    for setting in settings:
        median = float(np.median(times[setting]))
        print(f"| {' | '.join(setting)} | {median:.3f} | {base / median:.2f}x |")


if __name__ == "__main__":
    main()
