"""Year-over-year change of Item 1A Risk Factors: ``RiskAnalyzer.compare`` on every consecutive pair of one
ticker's Item 1A excerpts in ``sec_filings/`` (34 tickers, 2015-2018; the 32 with two or more years give the pairs).

    nice -n 10 python benchmarks/filings_compare.py [--max-pairs 5] [--model DIR]

Each ticker's years go through ``FilingAnalyzer.compare_series`` (the same comparisons as ``RiskAnalyzer.compare``
on each pair, each distinct passage scored once). Per pair: the document similarity (token-weighted best-match
cosine of passage embeddings, both directions) and the Lazy Prices term-frequency cosine, the counts of unchanged /
changed / new / removed passages, and the change in the prose's negative share (new minus old; with a risk head
also each signal's share in Item 1A). Each finished ticker's pairs are appended to ``--cache`` (JSONL, keyed by
the two files and the model's identity), so an interrupted run resumes; ``--out`` gets the JSON table and
``--markdown`` the same table as markdown.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

from textrisk.filings.compare import signal_moves, signal_share_delta

REPO = Path(__file__).resolve().parents[1]


def item_1a_series(folder: Path) -> dict[str, list[dict]]:
    """Index rows of each ticker's Item 1A excerpts, oldest first (tickers with two or more years)."""
    by_ticker: dict[str, list[dict]] = {}
    for row in csv.DictReader((folder / "index.csv").open(encoding="utf-8")):
        if row["section"].startswith("Item 1A"):
            by_ticker.setdefault(row["cik_or_ticker"], []).append(row)
    return {t: sorted(rows, key=lambda r: r["date"]) for t, rows in sorted(by_ticker.items()) if len(rows) > 1}


def _record(old: dict, new: dict, comparison, identity: str, seconds: float) -> dict:
    one_a = next((s for s in comparison.sections if s.key == "1A"), None)
    return {
        "ticker": old["cik_or_ticker"], "old_file": old["file"], "new_file": new["file"], "old_date": old["date"],
        "new_date": new["date"], "model": identity, "seconds": round(seconds, 2),  # the series' time / its pairs
        "similarity": comparison.similarity, "cosine_tf": comparison.cosine_tf, **comparison.counts,
        "passages_old": comparison.old.num_chunks, "passages_new": comparison.new_report.num_chunks,
        "negative_share_old": comparison.old.negative_share, "negative_share_new": comparison.new_report.negative_share,
        "negative_share_delta": comparison.new_report.negative_share - comparison.old.negative_share,
        "signal_share_delta": one_a.signal_share_delta if one_a else _document_signal_delta(comparison),
        "most_negative_new": comparison.new[0].text[:300] if comparison.new else None,
    }


def _document_signal_delta(comparison) -> dict[str, float] | None:
    # an excerpt without its "Item 1A" heading: the whole document is the section
    old, new = comparison.old.signal_share, comparison.new_report.signal_share
    return signal_share_delta(old, new) if old and new else None


def markdown(rows: list[dict]) -> str:
    """The table of ``rows`` as markdown."""
    signals = any(r.get("signal_share_delta") for r in rows)
    lines = ["| ticker | years | similarity | cosine_tf | unchanged | changed | new | removed | negative share "
             "old -> new (delta) |" + (" largest signal-share moves in Item 1A |" if signals else ""),
             "|---|---|---|---|---|---|---|---|---|" + ("---|" if signals else "")]
    for r in rows:
        line = (f"| {r['ticker']} | {r['old_date'][:4]}-{r['new_date'][:4]} | {r['similarity']:.3f} | "
                f"{r['cosine_tf']:.3f} | {r['unchanged']} | {r['changed']} | {r['new']} | {r['removed']} | "
                f"{r['negative_share_old']:.3f} -> {r['negative_share_new']:.3f} "
                f"({r['negative_share_delta']:+.3f}) |")
        if signals:
            line += f" {signal_moves(r.get('signal_share_delta'))} |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def summary(rows: list[dict]) -> dict:
    """Medians and ranges over the pairs."""
    out = {"pairs": len(rows), "tickers": len({r["ticker"] for r in rows})}
    for key in ("similarity", "cosine_tf", "new", "removed", "changed", "negative_share_delta", "seconds"):
        values = [r[key] for r in rows]
        out[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    return out


def main(argv: list[str] | None = None) -> int:
    """Compare every pair (resuming from the cache), then write the JSON and markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="shared data folder (default: TEXTRISK_DATA_DIR or ../shared/data)")
    parser.add_argument("--model", help="model folder (default: the embedded model)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "filings_compare.json"))
    parser.add_argument("--markdown", default=str(REPO / "benchmarks" / "filings_compare.md"))
    parser.add_argument("--cache", default=str(REPO / "benchmarks" / "filings_compare_pairs.jsonl"))
    parser.add_argument("--max-pairs", type=int, help="compare at most this many pairs (in ticker order)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    from tqdm.auto import tqdm

    from textrisk import RiskAnalyzer
    from textrisk.data.datasets import find_data_dir
    from textrisk.filings import FilingAnalyzer
    from textrisk.utils.atomic import atomic_write_json, atomic_write_text

    data = find_data_dir(args.data_dir)
    if data is None or not (data / "sec_filings" / "index.csv").is_file():
        print("sec_filings/ not found: set TEXTRISK_DATA_DIR or pass --data-dir", file=sys.stderr)
        return 2
    folder = data / "sec_filings"
    series = item_1a_series(folder)
    n_pairs = sum(len(rows) - 1 for rows in series.values())
    if args.max_pairs:
        n_pairs = min(n_pairs, args.max_pairs)
    filings = FilingAnalyzer(RiskAnalyzer.from_pretrained(args.model, num_threads=args.threads,
                                                          backend="torch"))
    identity = filings.analyzer.model.identity()
    cache_path = Path(args.cache)
    cache = {}
    if cache_path.is_file():
        for line in cache_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                cache[(r["old_file"], r["new_file"], r["model"])] = r
    rows = []
    bar = tqdm(total=n_pairs, desc="Item 1A pairs", unit="pair")
    for files in series.values():  # one ticker's years in one pass: a recurring passage is scored once
        files = files[:n_pairs - len(rows) + 1]
        if len(files) < 2:
            break
        keys = [(old["file"], new["file"], identity) for old, new in zip(files, files[1:])]
        if not all(key in cache for key in keys):
            start = time.perf_counter()
            comparisons = filings.compare_series([(folder / r["file"]).read_text(encoding="utf-8") for r in files],
                                                 ["10-K"] * len(files), progress=False)
            seconds = (time.perf_counter() - start) / len(comparisons)
            with cache_path.open("a", encoding="utf-8") as handle:
                for key, old, new, comparison in zip(keys, files, files[1:], comparisons):
                    cache[key] = _record(old, new, comparison, identity, seconds)
                    handle.write(json.dumps(cache[key]) + "\n")
        rows += [cache[key] for key in keys]
        bar.update(len(keys))
    bar.close()
    result = {"model": args.model or "default", "summary": summary(rows), "pairs": rows}
    atomic_write_json(args.out, result)
    atomic_write_text(args.markdown, markdown(rows))
    s = result["summary"]
    print(f"{s['pairs']} pairs of {s['tickers']} tickers; median similarity {s['similarity']['median']:.3f} "
          f"(min {s['similarity']['min']:.3f}), median cosine_tf {s['cosine_tf']['median']:.3f}, median new "
          f"{s['new']['median']} / removed {s['removed']['median']} / changed {s['changed']['median']} passages, "
          f"median negative-share delta {s['negative_share_delta']['median']:+.3f}; {s['seconds']['median']:.1f} s "
          "per pair (median)")
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
