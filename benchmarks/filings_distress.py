"""Does the filing risk score rise before bad outcomes? 10-Ks of filers with a confirmed later adverse event in
``sec_filings/outcomes.csv`` versus the other full 10-Ks of ``sec_filings/``.

    nice -n 10 python benchmarks/filings_distress.py --out benchmarks/filings_distress.json [--max-docs 40]

Positives: rows of outcomes.csv whose ``evidence`` cites filings in this set (Horizon Financial's C&D order and
listing notices, Stockwalk's net-capital violation, PhyMatrix's going-concern doubt and Chapter 11 8-Ks). Rows
whose only evidence is outside the set are dropped from both groups: Facebook and NVIDIA (marked "verify") and
Symantec ("not verified here"); they are Item 1A excerpts anyway. Controls: every other full 10-K (Item 1A-only
excerpts are a different kind of document and are left out). Scores per document (prose only, FilingAnalyzer):
``risk_score`` (the model's risk score when it has a risk head, else P(negative) of the prose), ``negative_share``
of the prose, each signal's share (risk head only), and the year-over-year similarity to the same filer's previous
10-K in the set (Lazy Prices term-frequency cosine of the prose; lower = more change, so 1 - similarity is the
score). ROC AUC with a stratified bootstrap 95% interval. n is small: read it as a sanity check, not evidence.
With a judgement model the document ``risk_score`` is the expected share of its prose that reports adverse events
or specific adverse outlooks (``tone_risk`` keeps the older P(negative) x P(any signal)); the benchmark also reports
the flags per 10-K (their median is the noise a desk would see), the AUC within banks only (the set's positives are
mostly banks, so industry confounds the whole-set figure; banks are the filers whose name says bank, bancorp,
bancshares, savings, thrift or financial corp, listed in the JSON) and each positive's top evidence passages.
Per-document scores are cached in ``--cache`` (JSONL, each record stamped with the model's identity, a digest of
its config and weights; records of another model are not reused), so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: Filers counted as banks for the within-banks AUC (by name; the shared data has no SIC codes).
BANK = re.compile(r"\b(?:bank|bancorp|bancshares|savings|thrift|financial corp)\b", re.IGNORECASE)


def _groups(folder: Path) -> tuple[list[dict], set[str], set[str]]:
    index = list(csv.DictReader((folder / "index.csv").open(encoding="utf-8")))
    outcomes = list(csv.DictReader((folder / "outcomes.csv").open(encoding="utf-8")))
    dropped = {r["file"] for r in outcomes if "none in this set" in r["evidence"].lower()}
    positive = {r["file"] for r in outcomes} - dropped
    tenk = [r for r in index
            if r["form"].startswith("10-K") and r["section"].startswith("full") and r["file"] not in dropped]
    return tenk, positive, dropped


def _auc(y: np.ndarray, score: np.ndarray, rounds: int, seed: int) -> tuple[float, float, float]:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    point = roc_auc_score(y, score)
    draws = []
    for _ in range(rounds):
        rows = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        draws.append(roc_auc_score(y[rows], score[rows]))
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(point), float(low), float(high)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints a markdown table and writes JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="shared data folder (default: TEXTRISK_DATA_DIR or ../shared/data)")
    parser.add_argument("--model", help="model folder (default: the embedded model)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "filings_distress.json"))
    parser.add_argument("--cache", default=str(REPO / "benchmarks" / "filings_distress_scores.jsonl"))
    parser.add_argument("--max-docs", type=int, help="score at most this many documents (positives first, then "
                                                     "controls in a seeded random order)")
    parser.add_argument("--smallest-first", action="store_true", help="score short documents first (a bounded "
                                                                      "run then covers both groups)")
    parser.add_argument("--report-only", action="store_true", help="score nothing: report the cached documents")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)

    import torch

    from textrisk import RiskAnalyzer
    from textrisk.data.datasets import find_data_dir
    from textrisk.filings import FilingAnalyzer
    from textrisk.filings.compare import tf_cosine

    torch.set_num_threads(args.threads)
    data = find_data_dir(args.data_dir)
    if data is None or not (data / "sec_filings" / "index.csv").is_file():
        print("sec_filings/ not found: set TEXTRISK_DATA_DIR or pass --data-dir", file=sys.stderr)
        return 2
    folder = data / "sec_filings"
    tenk, positive, dropped = _groups(folder)
    order = [r for r in tenk if r["file"] in positive]
    controls = [r for r in tenk if r["file"] not in positive]
    random.Random(args.seed).shuffle(controls)
    order += controls
    if args.smallest_first:
        order.sort(key=lambda r: int(r["words"]))
    if args.max_docs:
        order = order[:args.max_docs]
    filings = FilingAnalyzer(RiskAnalyzer.from_pretrained(args.model, num_threads=args.threads,
                                                          backend="torch"))
    identity = filings.analyzer.model.identity()
    cache_path = Path(args.cache)
    cache = {}
    if cache_path.is_file():
        cache = {r["file"]: r for r in map(json.loads, filter(str.strip, cache_path.read_text(
            encoding="utf-8").splitlines())) if r.get("model") == identity}
    prose = {}

    def prose_text(row: dict) -> str:
        if row["file"] not in prose:
            text = (folder / row["file"]).read_text(encoding="utf-8")
            prose[row["file"]] = " ".join(p.text for p in filings.layout(text, row["form"]).passages)
        return prose[row["file"]]

    by_filer: dict[str, list[dict]] = {}
    for row in tenk:
        by_filer.setdefault(row["cik_or_ticker"], []).append(row)
    from tqdm.auto import tqdm

    for row in tqdm(order, desc="10-Ks", unit="doc"):
        if row["file"] in cache or args.report_only:
            continue
        text = (folder / row["file"]).read_text(encoding="utf-8")
        start = time.perf_counter()
        report = filings.score_filing(text, form=row["form"], progress=False)
        earlier = sorted((r for r in by_filer[row["cik_or_ticker"]] if r["date"] < row["date"]),
                         key=lambda r: r["date"])
        record = {
            "file": row["file"], "company": row["company"], "date": row["date"], "words": int(row["words"]),
            "model": identity, "bank": bool(BANK.search(row["company"])),
            "tone_risk": report.tone_risk, "severity": report.severity, "flags": list(report.flags),
            "mentions": sorted(report.mentions), "evidence": [
                {"text": e.text[:300], "section": e.section, "risk_score": e.risk_score, "kind": e.kind,
                 "weight": e.weight} for e in report.evidence],
            "positive": row["file"] in positive, "seconds": round(time.perf_counter() - start, 2),
            "risk_score": report.risk_score if report.risk_score is not None
            else report.sentiment_scores["negative"],
            "p_negative": report.sentiment_scores["negative"], "negative_share": report.negative_share,
            "excluded_share": report.excluded_share,
            "signal_share": report.signal_share or None,  # None without a risk head
            "previous": earlier[-1]["file"] if earlier else None,
            "similarity": tf_cosine(prose_text(earlier[-1]), prose_text(row)) if earlier else None,
        }
        cache[row["file"]] = record
        with cache_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    rows = [cache[r["file"]] for r in order if r["file"] in cache]
    y = np.array([r["positive"] for r in rows], dtype=int)
    results = {"model": args.model or "default", "model_identity": identity, "has_risk_head": filings.has_risk_head,
               "n_positive": int(y.sum()), "n_control": int(len(y) - y.sum()), "n_eligible": len(tenk),
               "dropped": sorted(dropped), "metrics": {}, "documents": rows}
    judged = all(r.get("tone_risk") is not None for r in rows) and bool(rows)
    columns = [("risk_score", "document risk score (adverse share of prose)" if judged else
                "document risk score (P(negative) x P(any signal))" if filings.has_risk_head
                else "document risk score (P(negative) of prose; no risk head)"),
               ("negative_share", "negative share of prose")]
    if judged:
        columns.append(("tone_risk", "tone risk (P(negative) x P(any signal))"))
    if 0 < y.sum() < len(y):
        for key, name in columns:
            results["metrics"][key] = dict(zip(("auc", "low", "high"), _auc(
                y, np.array([r[key] for r in rows]), args.bootstrap, args.seed)), name=name)
        banks = [r for r in rows if r.get("bank")]
        y_bank = np.array([r["positive"] for r in banks], dtype=int)
        results["banks"] = sorted({r["company"] for r in banks})
        if 0 < y_bank.sum() < len(y_bank):
            results["metrics"]["risk_score/banks"] = dict(zip(("auc", "low", "high"), _auc(
                y_bank, np.array([r["risk_score"] for r in banks]), args.bootstrap, args.seed)),
                name="document risk score, banks only", n_positive=int(y_bank.sum()),
                n_control=int(len(y_bank) - y_bank.sum()))
    if rows and "flags" in rows[0]:
        counts = [len(r["flags"]) for r in rows]
        results["flags_per_10k"] = {"median": float(np.median(counts)), "mean": float(np.mean(counts)),
                                    "max": int(max(counts)), "min": int(min(counts))}
        shares = [r for r in rows if r["signal_share"] is not None]
        y_share = np.array([r["positive"] for r in shares], dtype=int)
        for label in filings.signal_labels if 0 < y_share.sum() < len(y_share) else []:
            results["metrics"][f"signal_share/{label}"] = dict(zip(("auc", "low", "high"), _auc(
                y_share, np.array([r["signal_share"][label] for r in shares]), args.bootstrap, args.seed)),
                name=f"{label} share of prose", n_positive=int(y_share.sum()),
                n_control=int(len(y_share) - y_share.sum()))
    with_prev = [r for r in rows if r["similarity"] is not None]
    y_prev = np.array([r["positive"] for r in with_prev], dtype=int)
    if 0 < y_prev.sum() < len(y_prev):
        results["metrics"]["change"] = dict(zip(("auc", "low", "high"), _auc(
            y_prev, 1 - np.array([r["similarity"] for r in with_prev]), args.bootstrap, args.seed)),
            name="1 - year-over-year similarity", n_positive=int(y_prev.sum()),
            n_control=int(len(y_prev) - y_prev.sum()))
    from textrisk.utils.atomic import atomic_write_json

    atomic_write_json(args.out, results)
    print(f"{results['n_positive']} positive and {results['n_control']} control 10-Ks")
    if "flags_per_10k" in results:
        print(f"flags per 10-K: median {results['flags_per_10k']['median']:.1f}, mean "
              f"{results['flags_per_10k']['mean']:.1f}, max {results['flags_per_10k']['max']}")
    print("| score | ROC AUC | 95% bootstrap interval |\n|---|---|---|")
    for metric in results["metrics"].values():
        print(f"| {metric['name']} | {metric['auc']:.3f} | {metric['low']:.3f} - {metric['high']:.3f} |")
    print("\n| document | positive | risk score | negative share | similarity to previous |\n|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: -r["risk_score"]):
        sim = "" if r["similarity"] is None else f"{r['similarity']:.3f}"
        print(f"| {r['file']} | {'yes' if r['positive'] else ''} | {r['risk_score']:.3f} | "
              f"{r['negative_share']:.3f} | {sim} |")
    for r in rows:
        if r["positive"] and r.get("evidence"):
            print(f"\n{r['file']}: top evidence by adverse risk")
            for e in r["evidence"]:
                print(f"- [{e['section']}, {e['kind']}, P(adverse) {e['risk_score'] or 0:.2f}] {e['text'][:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
