"""Speed and peak memory of scoring one long 10-K end to end: FilingAnalyzer (sections, prose only) versus the
old path, ``RiskAnalyzer.score([whole_text])``, in the same run, with the filing path's time per stage.

    nice -n 10 python benchmarks/filings_speed.py [--file BA_10-K_2004-03-05_full.txt] [--words 20000]
        [--backends torch bf16] [--repeat 3] [--out speed.json]

Each path runs in a fresh child process: its wall time is taken by the parent (interpreter start, imports, model
load and scoring), the peak RSS (``ru_maxrss``) is that path's own; ``--threads`` torch threads (default 2). Rows
are the median of ``--repeat`` runs, the paths taking turns so that a change in machine load hits them alike. The
old path runs with the torch backend, the filing path once per ``--backends`` entry (``auto``: the default,
ONNX Runtime int8; ``bf16``: torch under bfloat16 autocast; ``onnx``: ONNX Runtime int8, exported once
before timing). ``--words N``
scores only the first N words (a bounded run on a busy machine). The report prints the load average before and
after. A second table splits the filing path's time into stages: imports, read, model load, sections (form and
section detection), prose filter (the line classifier), passages (chunking and the text check), scoring (the
forward engine, with the risk head and any labelling-function ensemble) and report; the steps are the ones
``FilingAnalyzer.score_filing`` runs, wrapped in timers in place. Target on 2 free cores: the 63.5k-word Boeing
10-K in <= 8 s and <= 1 GB.
A whole folder in one command, with a progress bar over documents and passages:
``textrisk score --input-dir ../shared/data/sec_filings --output scored.jsonl --resume``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
started = time.perf_counter()
import torch
torch.set_num_threads({threads})
from textrisk import RiskAnalyzer
from textrisk.filings import FilingAnalyzer
from textrisk.filings import analyzer as filing_module, passages as passage_module
stages = dict.fromkeys(("read", "sections", "prose filter", "passages", "scoring", "report"), 0.0)

def timed(stage, function):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            stages[stage] += time.perf_counter() - t
    return wrapper

t = time.perf_counter()
text = open({path!r}, encoding="utf-8").read()
if {words}:
    text = " ".join(text.split(" ")[:{words}])
stages["read"] = time.perf_counter() - t
start = time.perf_counter()
analyzer = RiskAnalyzer.from_pretrained(num_threads={threads}, backend={backend!r})
loaded = time.perf_counter()
if {mode!r} == "filing":
    # the user path, FilingAnalyzer.score_filing, with its steps wrapped in timers (the same calls, in place)
    for name in ("detect_form", "detect_sections"):
        setattr(passage_module, name, timed("sections", getattr(passage_module, name)))
    passage_module.classify_lines = timed("prose filter", passage_module.classify_lines)
    filing_module.layout_filing = timed("passages", filing_module.layout_filing)
    filing_module.build_report = timed("report", filing_module.build_report)
    analyzer.forward = timed("scoring", analyzer.forward)
    report = FilingAnalyzer(analyzer).score_filing(text, form="10-K", progress=False)
    stages["passages"] -= stages["sections"] + stages["prose filter"]  # layout_filing less the steps inside it
else:
    report = analyzer.score([text], progress=False)[0]
done = time.perf_counter()
print(json.dumps({{"load_s": loaded - start, "score_s": done - loaded, "total_s": done - start,
                  "import_s": start - started - stages["read"], "stages": stages,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "chunks": report.num_chunks, "tokens": report.num_tokens,
                  "p_negative": report.sentiment_scores["negative"]}}))
"""
NAMES = {"auto": "auto (the default)", "torch": "torch fp32", "bf16": "bf16 autocast", "onnx": "ONNX Runtime int8",
         "onnx-fp32": "ONNX fp32"}


def _run(threads: int, path: str, words: int, mode: str, backend: str) -> dict:
    code = CHILD.format(threads=threads, path=path, words=words, mode=mode, backend=backend)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode:
        raise SystemExit(f"{mode}/{backend} child failed:\n{out.stderr[-2000:]}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "wall_s": wall}


def _median(runs: list[dict]) -> dict:
    row = {key: statistics.median(r[key] for r in runs)
           for key in ("wall_s", "load_s", "score_s", "total_s", "peak_rss_mb")}
    row["import_s"] = statistics.median(r.get("import_s", 0.0) for r in runs)
    row["stages"] = {stage: statistics.median(r["stages"][stage] for r in runs) for stage in runs[0]["stages"]}
    row.update({key: runs[0][key] for key in ("chunks", "tokens", "p_negative")}, runs=runs)
    return row


def main(argv: list[str] | None = None) -> int:
    """Run both paths and print a markdown table (and JSON with --out)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="shared data folder (default: TEXTRISK_DATA_DIR or ../shared/data)")
    parser.add_argument("--file", default="BA_10-K_2004-03-05_full.txt")
    parser.add_argument("--words", type=int, default=0, help="score only the first N words (0 = all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backends", nargs="+", default=["torch"], choices=sorted(NAMES),
                        help="backends of the filing path (default: torch)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per path; rows are medians")
    parser.add_argument("--out", help="write the results as JSON")
    args = parser.parse_args(argv)
    from textrisk.data.datasets import find_data_dir

    data = find_data_dir(args.data_dir)
    if data is None or not (data / "sec_filings" / args.file).is_file():
        print(f"sec_filings/{args.file} not found: set TEXTRISK_DATA_DIR or pass --data-dir", file=sys.stderr)
        return 2
    path = str(data / "sec_filings" / args.file)
    words = len((data / "sec_filings" / args.file).read_text(encoding="utf-8").split())
    paths = [("old", "torch")] + [("filing", backend) for backend in args.backends]
    for mode, backend in paths:
        if backend.startswith("onnx") or backend == "auto":  # an export (cached) is built outside the timed runs
            _run(args.threads, path, 50, mode, backend)
    results = {"file": args.file, "words": min(words, args.words) if args.words else words, "threads": args.threads,
               "repeat": args.repeat, "load_average_before": os.getloadavg()}
    runs: dict[tuple[str, str], list[dict]] = {p: [] for p in paths}
    for _ in range(args.repeat):
        for mode, backend in paths:
            runs[(mode, backend)].append(_run(args.threads, path, args.words, mode, backend))
    results["load_average_after"] = os.getloadavg()
    rows = {f"{mode}/{backend}": _median(r) for (mode, backend), r in runs.items()}
    results.update(rows)
    old = rows["old/torch"]
    print(f"{args.file}: {results['words']} words, {args.threads} torch threads, median of {args.repeat}; "
          f"load average (1, 5, 15 min) before {results['load_average_before']}, after "
          f"{results['load_average_after']}")
    print("| path | chunks scored | tokens scored | process wall s | load + score s | vs old path (wall) | "
          "peak RSS MB | P(negative) |")
    print("|---|---|---|---|---|---|---|---|")
    for (mode, backend), key in zip(paths, rows):
        r = rows[key]
        name = "RiskAnalyzer.score(whole text)" if mode == "old" else "FilingAnalyzer (prose only)"
        print(f"| {name}, {NAMES[backend]} | {r['chunks']} | {r['tokens']} | {r['wall_s']:.1f} | {r['load_s']:.1f} + "
              f"{r['score_s']:.1f} | {old['wall_s'] / r['wall_s']:.2f}x | {r['peak_rss_mb']:.0f} | "
              f"{r['p_negative']:.3f} |")
    print("\nper stage, seconds (median of the runs; filing path: the steps of FilingAnalyzer.score_filing timed in "
          "place; 'load' = RiskAnalyzer.from_pretrained, 'imports' = interpreter-side imports before it)")
    stage_names = ["imports", "read", "load", "sections", "prose filter", "passages", "scoring", "report"]
    print("| path | " + " | ".join(stage_names) + " | process wall |")
    print("|---" * (len(stage_names) + 2) + "|")
    for (mode, backend), key in zip(paths, rows):
        r = rows[key]
        if mode != "filing":
            continue
        values = [r["import_s"], r["stages"]["read"], r["load_s"]] + [r["stages"][s] for s in stage_names[3:]]
        print(f"| FilingAnalyzer, {NAMES[backend]} | " + " | ".join(f"{v:.2f}" for v in values)
              + f" | {r['wall_s']:.2f} |")
    if args.out:
        from textrisk.utils.atomic import atomic_write_json

        atomic_write_json(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
