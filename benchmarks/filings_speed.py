"""Speed and peak memory of scoring one long 10-K end to end: FilingAnalyzer (sections, prose only) versus the
old path, ``RiskAnalyzer.score([whole_text])``, in the same run.

    nice -n 10 python benchmarks/filings_speed.py [--file BA_10-K_2004-03-05_full.txt] [--words 20000]

Each path runs in a fresh child process (model load included, so the peak RSS is that path's own) with
``--threads`` torch threads (default 2). ``--words N`` scores only the first N words (for a bounded run on a
busy machine); the report says so. Target on 2 free cores: the 63.5k-word Boeing 10-K in <= 8 s and <= 1 GB.
A whole folder in one command, with a progress bar over documents and passages:
``textrisk score --input-dir ../shared/data/sec_filings --output scored.jsonl --resume``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import torch
torch.set_num_threads({threads})
from textrisk import RiskAnalyzer
from textrisk.filings import FilingAnalyzer
text = open({path!r}, encoding="utf-8").read()
if {words}:
    text = " ".join(text.split(" ")[:{words}])
start = time.perf_counter()
analyzer = RiskAnalyzer.from_pretrained(num_threads={threads})
loaded = time.perf_counter()
if {mode!r} == "filing":
    report = FilingAnalyzer(analyzer).score_filing(text, form="10-K", progress=False)
else:
    report = analyzer.score([text], progress=False)[0]
done = time.perf_counter()
print(json.dumps({{"load_s": loaded - start, "score_s": done - loaded, "total_s": done - start,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "chunks": report.num_chunks, "tokens": report.num_tokens,
                  "p_negative": report.sentiment_scores["negative"]}}))
"""


def main(argv: list[str] | None = None) -> int:
    """Run both paths and print a markdown table (and JSON with --out)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="shared data folder (default: TEXTRISK_DATA_DIR or ../shared/data)")
    parser.add_argument("--file", default="BA_10-K_2004-03-05_full.txt")
    parser.add_argument("--words", type=int, default=0, help="score only the first N words (0 = all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", help="write the results as JSON")
    args = parser.parse_args(argv)
    from textrisk.data import find_data_dir

    data = find_data_dir(args.data_dir)
    if data is None or not (data / "sec_filings" / args.file).is_file():
        print(f"sec_filings/{args.file} not found: set TEXTRISK_DATA_DIR or pass --data-dir", file=sys.stderr)
        return 2
    path = data / "sec_filings" / args.file
    words = len(path.read_text(encoding="utf-8").split())
    results = {"file": args.file, "words": min(words, args.words) if args.words else words, "threads": args.threads}
    for mode in ("old", "filing"):
        code = CHILD.format(threads=args.threads, path=str(path), words=args.words, mode=mode)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    old, new = results["old"], results["filing"]
    print(f"{args.file}: {results['words']} words, {args.threads} torch threads")
    print("| path | chunks scored | tokens scored | total s (load + score) | peak RSS MB | P(negative) |")
    print("|---|---|---|---|---|---|")
    for name, r in (("RiskAnalyzer.score(whole text)", old), ("FilingAnalyzer (prose only)", new)):
        print(f"| {name} | {r['chunks']} | {r['tokens']} | {r['total_s']:.1f} ({r['load_s']:.1f} + "
              f"{r['score_s']:.1f}) | {r['peak_rss_mb']:.0f} | {r['p_negative']:.3f} |")
    print(f"speed-up (total time) {old['total_s'] / new['total_s']:.2f}x; "
          f"peak memory ratio {new['peak_rss_mb'] / old['peak_rss_mb']:.2f}")
    if args.out:
        from textrisk._io import atomic_write_json

        atomic_write_json(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
