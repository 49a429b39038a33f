"""How much a long document's score depends on ``chunk_tokens`` (issue 11, class 10).

Scores Item 1A (Risk Factors) sections from ``shared/data/sec_filings`` with the embedded default model at
several chunk sizes and prints, per size, P(negative) per document, the mean, and how many documents change
label against the default (64). Usage:

    nice -n 10 python benchmarks/chunk_sensitivity.py --docs 8 --sizes 16 32 64 128 --threads 1
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    """Score the Item 1A sections at each chunk size and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=8, help="number of Item 1A files (sorted by name, every k-th)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-dir", help="shared data folder (default ../shared/data)")
    args = parser.parse_args(argv)

    from textrisk import RiskAnalyzer
    from textrisk.data.datasets import find_data_dir

    root = find_data_dir(args.data_dir)
    if root is None:
        print("shared data not found", file=sys.stderr)
        return 2
    files = sorted((root / "sec_filings").glob("*_item1A.txt"))
    files = files[:: max(1, len(files) // args.docs)][: args.docs]
    texts = [Path(f).read_text(encoding="utf-8") for f in files]
    results: dict[int, list] = {}
    for size in args.sizes:
        analyzer = RiskAnalyzer.from_pretrained(None, chunk_tokens=size, num_threads=args.threads, backend="torch")
        started = time.perf_counter()
        results[size] = analyzer.score(texts, progress=False)
        print(f"chunk_tokens {size}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print("| document | words | " + " | ".join(f"P(neg) @{s}" for s in args.sizes) + " |")
    print("|---|---|" + "---|" * len(args.sizes))
    for i, (path, text) in enumerate(zip(files, texts)):
        cells = [f"{results[s][i].sentiment_scores['negative']:.2f} ({results[s][i].sentiment[:3]}, "
                 f"{results[s][i].num_chunks} ch)" for s in args.sizes]
        print(f"| {path.name} | {len(text.split())} | " + " | ".join(cells) + " |")
    reference = 64 if 64 in args.sizes else args.sizes[0]
    means = [sum(r.sentiment_scores["negative"] for r in results[s]) / len(texts) for s in args.sizes]
    flips = [sum(a.sentiment != b.sentiment for a, b in zip(results[s], results[reference])) for s in args.sizes]
    print("| mean P(negative) | | " + " | ".join(f"{m:.3f}" for m in means) + " |")
    print(f"| label differs from @{reference} | | " + " | ".join(f"{f}/{len(texts)}" for f in flips) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
