"""Replay StockNet tweets (2014-2015) in timestamp order through ``textrisk monitor`` end to end.

Two phases, each a real ``textrisk monitor`` subprocess with the default model:

1. **batch**: the replay file is written up front and ``textrisk monitor --once`` drains it: sustained
   documents/s (from the state's per-batch arrival times, model loading excluded; total wall time also
   reported), alerts per entity per month, and how often an alert precedes a large next-day move compared
   with chance. A "large" move is a close-to-close return whose absolute value is in the top decile of that
   ticker's 2014-2015 daily moves; an alert on calendar day D (UTC) is matched with the first close after D
   against the last close on or before D. Chance is the same rate over every ticker-day with at least one
   tweet (and over every ticker-day); each rate comes with its lift over chance, a 95% Wilson interval and the
   one-sided binomial p-value against the tweet-day rate, per rule and per severity. Only delivered alerts count
   (those folded into a burst do not); a state written before bursts counts every alert.
2. **live** (``--live-docs``): a writer appends the next tweets to a growing file at ``--live-rate``
   documents/s while ``textrisk monitor`` follows it; latency is from the moment a line is written to the
   moment its alert is in the alerts file.

    nice -n 10 python benchmarks/monitor_replay.py --work-dir /tmp/replay --threads 2 [--sample-every 2]

3. **overhead** (``--overhead-docs``): in one process, the bare scorer and the monitor (scoring, state,
   rules) on the same tweets, so the ratio holds however busy the CPU is.

Prints one JSON object (also written to ``--work-dir``/results.json).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the checkout's benchmarks package
from benchmarks.forecast.stocknet import load_stocknet  # noqa: E402


def write_replay(texts: pd.DataFrame, path: Path) -> None:
    """Write the tweets as monitor records (JSONL)."""
    with path.open("w", encoding="utf-8") as handle:
        for row in texts.itertuples():
            handle.write(json.dumps({"id": row.id, "timestamp": row.timestamp.isoformat(), "entity": row.ticker,
                                     "text": row.text}) + "\n")


def monitor_command(args, name: str, once: bool) -> list[str]:
    """The ``textrisk monitor`` command line of one phase."""
    work = Path(args.work_dir)
    command = [sys.executable, "-m", "textrisk.cli", "monitor", "--input", str(work / f"{name}.jsonl"),
               "--state", str(work / f"{name}.db"), "--alerts", str(work / f"{name}_alerts.jsonl"),
               "--batch-size", str(args.batch_size), "--quiet", "--poll-seconds", "0.2"]
    if args.threads:
        command += ["--threads", str(args.threads)]
    if args.rules:
        command += ["--rules", args.rules]
    return command + (["--once"] if once else [])


def next_day_moves(prices: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Per ticker: close dates, close-to-close returns and the top-decile |return| threshold (2014-2015)."""
    out = {}
    for ticker, frame in prices.items():
        frame = frame[["Date", "Close"]].dropna().copy()
        frame["Date"] = pd.to_datetime(frame["Date"])
        frame = frame[(frame["Date"] >= "2013-12-01") & (frame["Date"] <= "2016-01-31")].reset_index(drop=True)
        frame["ret"] = frame["Close"].pct_change()
        span = frame[(frame["Date"] >= "2014-01-01") & (frame["Date"] <= "2015-12-31")]
        frame.attrs["large"] = float(span["ret"].abs().quantile(0.9))
        out[ticker] = frame
    return out


def move_after(moves: dict[str, pd.DataFrame], ticker: str, day: pd.Timestamp) -> float | None:
    """|return| from the last close on or before ``day`` to the first close after it, or None."""
    frame = moves.get(ticker)
    if frame is None:
        return None
    later = frame.index[frame["Date"] > day]
    if len(later) == 0 or later[0] == 0:
        return None
    return abs(float(frame["Close"][later[0]] / frame["Close"][later[0] - 1] - 1))


def hit_rate(moves, pairs) -> tuple[float, int]:
    """Share of ``(ticker, day)`` pairs followed by a large move, and how many had a next close."""
    flags = []
    for ticker, day in pairs:
        move = move_after(moves, ticker, day)
        if move is not None:
            flags.append(move >= moves[ticker].attrs["large"])
    return (float(np.mean(flags)) if flags else float("nan")), len(flags)


def against_chance(rate: float, n: int, chance: float) -> dict:
    """Lift over ``chance``, a 95% Wilson interval of ``rate`` and the one-sided binomial p-value (rate > chance)."""
    if not n:
        return {}
    from scipy.stats import binomtest

    test = binomtest(round(rate * n), n, chance, alternative="greater")
    low, high = test.proportion_ci(confidence_level=0.95, method="wilson")
    return {"lift": round(rate / chance, 2), "ci95": [round(low, 4), round(high, 4)],
            "p_value": float(f"{test.pvalue:.3g}")}


def batch_phase(args, texts, prices) -> dict:
    """Phase 1 (see the module docstring)."""
    work = Path(args.work_dir)
    wall = None
    if not args.reuse_batch:  # --reuse-batch: only recompute the numbers from an earlier run's state
        write_replay(texts, work / "batch.jsonl")
        for suffix in (".db", ".db-wal", ".db-shm", "_alerts.jsonl"):
            (work / f"batch{suffix}").unlink(missing_ok=True)
        start = time.time()
        subprocess.run(monitor_command(args, "batch", once=True), check=True)
        wall = round(time.time() - start, 1)
    import sqlite3

    db = sqlite3.connect(work / "batch.db")
    arrivals = [r[0] for r in db.execute("SELECT arrived, count(*) FROM documents GROUP BY arrived ORDER BY 1")]
    first_batch = db.execute("SELECT count(*) FROM documents WHERE arrived = ?", (arrivals[0],)).fetchone()[0]
    last_commit = max(json.loads(line)["emitted"] for line in (work / "batch_alerts.jsonl").open()) \
        if (work / "batch_alerts.jsonl").exists() else arrivals[-1]
    n_docs = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    sustained = (n_docs - first_batch) / max(max(last_commit, arrivals[-1]) - arrivals[0], 1e-9)
    columns = {row[1] for row in db.execute("PRAGMA table_info(alerts)")}
    delivered = " AND burst_of IS NULL" if "burst_of" in columns else ""  # states before bursts: every alert
    level = "severity" if "severity" in columns else "NULL AS severity"
    alerts = pd.read_sql(f"SELECT rule, entity, ts, {level} FROM alerts WHERE entity != '__model__'{delivered}", db)
    folded = db.execute("SELECT count(*) FROM alerts WHERE burst_of IS NOT NULL").fetchone()[0] if delivered else 0
    drift = db.execute("SELECT count(*) FROM alerts WHERE entity = '__model__'").fetchone()[0]
    entities = db.execute("SELECT count(DISTINCT entity) FROM documents").fetchone()[0]
    moves = next_day_moves(prices)
    alerts["day"] = pd.to_datetime(alerts["ts"], unit="s").dt.normalize()
    tweet_days = sorted(set(zip(texts["ticker"], texts["timestamp"].dt.tz_localize(None).dt.normalize())))
    chance_tweet, n_tweet = hit_rate(moves, tweet_days)
    groups = [("all", alerts), *alerts.groupby("rule"),
              *((f"severity {int(k)}", g) for k, g in alerts.dropna(subset=["severity"]).groupby("severity"))]
    by_rule = {}
    for rule, group in groups:
        pairs = sorted(set(zip(group["entity"], group["day"])))
        rate, n = hit_rate(moves, pairs)
        by_rule[rule] = {"alerts": len(group), "ticker_days": n, "large_next_day_move_rate": round(rate, 4),
                         **against_chance(rate, n, chance_tweet)}
    all_days = [(t, d) for t, f in moves.items() for d in f["Date"][(f["Date"] >= "2014-01-01")
                                                                    & (f["Date"] <= "2015-12-31")]]
    chance_all, n_all = hit_rate(moves, all_days)
    months = 24
    return {"documents": n_docs, "entities": entities, "wall_s_including_model_load": wall,
            "sustained_docs_per_s": round(sustained, 1), "alerts": len(alerts), "folded_into_bursts": folded,
            "drift_alerts": drift,
            "alerts_per_entity_per_month": round(len(alerts) / entities / months, 3),
            "alerts_per_entity_per_month_by_rule": {r: round(c / entities / months, 3)
                                                    for r, c in alerts["rule"].value_counts().items()},
            "precedes_large_move": by_rule,
            "chance_large_move_tweet_days": {"rate": round(chance_tweet, 4), "ticker_days": n_tweet},
            "chance_large_move_all_days": {"rate": round(chance_all, 4), "ticker_days": n_all}}


def live_phase(args, texts) -> dict:
    """Phase 2 (see the module docstring)."""
    work = Path(args.work_dir)
    path = work / "live.jsonl"
    for suffix in (".jsonl", ".db", ".db-wal", ".db-shm", "_alerts.jsonl"):
        (work / f"live{suffix}").unlink(missing_ok=True)
    path.touch()
    process = subprocess.Popen(monitor_command(args, "live", once=False))
    time.sleep(args.warmup)  # model loading
    written: dict[str, float] = {}
    rows = list(texts.itertuples())

    def writer() -> None:
        with path.open("a", encoding="utf-8") as handle:
            start = time.time()
            for i, row in enumerate(rows):
                delay = start + i / args.live_rate - time.time()
                if delay > 0:
                    time.sleep(delay)
                handle.write(json.dumps({"id": row.id, "timestamp": row.timestamp.isoformat(),
                                         "entity": row.ticker, "text": row.text}) + "\n")
                handle.flush()
                written[row.id] = time.time()

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join()
    import sqlite3

    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            db = sqlite3.connect(f"file:{work / 'live.db'}?mode=ro", uri=True)
            done = db.execute("SELECT count(*) FROM documents").fetchone()[0]
            db.close()
        except sqlite3.Error:
            done = 0
        if done >= len(rows):
            break
        time.sleep(0.5)
    process.terminate()
    process.wait(timeout=60)
    latencies = []
    alerts_file = work / "live_alerts.jsonl"
    for line in alerts_file.open() if alerts_file.exists() else []:
        alert = json.loads(line)
        if alert.get("doc_id") in written:
            latencies.append(alert["emitted"] - written[alert["doc_id"]])
    lat = np.array(latencies)
    return {"documents": len(rows), "rate_docs_per_s": args.live_rate, "alerts": len(latencies),
            "latency_s_median": round(float(np.median(lat)), 3) if len(lat) else None,
            "latency_s_p95": round(float(np.quantile(lat, 0.95)), 3) if len(lat) else None,
            "latency_s_max": round(float(lat.max()), 3) if len(lat) else None}


def overhead_phase(args, texts) -> dict:
    """In one process: the bare scorer vs the monitor (scoring + state + rules) on the same tweets."""
    import tempfile

    from textrisk import RiskAnalyzer
    from textrisk.monitor.engine import Monitor
    from textrisk.monitor.records import Record
    from textrisk.monitor.rules import default_rules
    from textrisk.monitor.state import MonitorState

    analyzer = RiskAnalyzer.from_pretrained(num_threads=args.threads)
    rows = list(texts.itertuples())
    analyzer.score([row.text for row in rows[:16]])  # warm-up
    start = time.perf_counter()
    for i in range(0, len(rows), args.batch_size):
        analyzer.score([row.text for row in rows[i:i + args.batch_size]])
    bare = len(rows) / (time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as tmp:
        monitor = Monitor(analyzer, MonitorState(Path(tmp) / "s.db"), default_rules(analyzer.has_risk_head),
                          batch_size=args.batch_size)
        batch = [(Record(id=row.id, timestamp=row.timestamp.timestamp(), entity=row.ticker, text=row.text), None)
                 for row in rows]
        start = time.perf_counter()
        for i in range(0, len(batch), args.batch_size):
            monitor.process(batch[i:i + args.batch_size])
        full = len(rows) / (time.perf_counter() - start)
        monitor.state.close()
    return {"documents": len(rows), "bare_scorer_docs_per_s": round(bare, 2), "monitor_docs_per_s": round(full, 2),
            "monitor_over_bare": round(full / bare, 3)}


def main() -> None:
    """Run the phases asked for and print the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work-dir", default="replay_work")
    parser.add_argument("--data", help="StockNet folder (default: <shared data>/stocknet)")
    parser.add_argument("--sample-every", type=int, default=1, help="keep every k-th tweet (1 = all)")
    parser.add_argument("--max-docs", type=int, help="stop after this many tweets (in time order)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--rules", help="rules YAML (default: textrisk monitor's defaults)")
    parser.add_argument("--live-docs", type=int, default=0, help="tweets replayed live after the batch phase")
    parser.add_argument("--live-rate", type=float, default=50.0, help="live phase: documents written per second")
    parser.add_argument("--warmup", type=float, default=20.0, help="live phase: seconds to let the model load")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--reuse-batch", action="store_true",
                        help="batch phase: recompute the numbers from the state an earlier run left in --work-dir")
    parser.add_argument("--overhead-docs", type=int, default=0,
                        help="in-process ratio of monitor vs bare-scorer throughput on this many tweets")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    Path(args.work_dir).mkdir(parents=True, exist_ok=True)
    prices, texts = load_stocknet(args.data)
    texts = texts.sort_values(["timestamp", "ticker"], kind="stable").reset_index(drop=True)
    texts["id"] = [f"{t}-{i}" for i, t in enumerate(texts["ticker"])]
    total = len(texts)
    texts = texts.iloc[::args.sample_every]
    if args.max_docs:
        texts = texts.iloc[:args.max_docs]
    results = {"tweets_available": total, "sample_every": args.sample_every, "tweets_replayed": len(texts),
               "batch_size": args.batch_size, "threads": args.threads, "cpu_count": os.cpu_count()}
    if not args.skip_batch:
        results["batch"] = batch_phase(args, texts, prices)
    if args.overhead_docs:
        results["overhead"] = overhead_phase(args, texts.iloc[:args.overhead_docs])
    if args.live_docs:
        results["live"] = live_phase(args, texts.iloc[:args.live_docs].assign(id=lambda f: "live-" + f["id"]))
    Path(args.work_dir, "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
