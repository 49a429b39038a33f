"""Load test of ``textrisk serve`` on loopback, against in-process scoring measured in the same run.

    python benchmarks/load_test.py [--model DIR] [--n 600] [--clients 1 4 16] [--requests 600] [--threads 2]

Starts a real uvicorn server (``textrisk serve``) in a subprocess on 127.0.0.1 (a free port), then for each
client count runs N concurrent httpx/asyncio clients, each sending single-sentence requests back to back, until
``--requests`` requests were answered or ``--max-seconds`` passed (both bounds hold). Reports requests/s and
p50/p95/p99 latency per client count, the mean micro-batch size (from ``GET /v1/stats``), and the ratio to
``RiskAnalyzer.score`` on the same sentences as one in-process batch (same model, same thread count).
Sentences: the FPB test part (standard split) when ../shared/data is present, else repeated sample sentences.
Clients and server share the machine's CPUs, as they would on one host.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import numpy as np

from textrisk import RiskAnalyzer
from textrisk.data.datasets import find_data_dir, load_benchmark


def _texts(n: int) -> tuple[list[str], str]:
    data_dir = find_data_dir()
    if data_dir is not None:
        return list(load_benchmark("fpb", "test", data_dir)["text"][:n]), "FPB test part"
    sample = ["Operating profit fell to EUR 3.2 mn from EUR 5.1 mn.", "The contract is valued at USD 10 mn."]
    return (sample * n)[:n], "sample sentences"


def _in_process(model: str | None, texts: list[str], threads: int, batch_size: int, repeats: int) -> float:
    analyzer = RiskAnalyzer.from_pretrained(model, num_threads=threads, batch_size=batch_size)
    analyzer.score(texts[:32], progress=False)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        analyzer.score(texts, progress=False)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(args: argparse.Namespace, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "textrisk.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--threads", str(args.threads), "--batch-size", str(args.batch_size), "--max-batch-size",
               str(args.max_batch_size), "--max-wait-ms", str(args.max_wait_ms), "--log-level", "warning"]
    if args.model:
        command += ["--model", args.model]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with status {proc.returncode}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not become ready within 300 s")


async def _load(url: str, texts: list[str], clients: int, requests: int, max_seconds: float) -> dict:
    latencies: list[float] = []
    counter = iter(range(requests))
    deadline = time.perf_counter() + max_seconds

    async def client(http: httpx.AsyncClient) -> None:
        for i in counter:
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            response = await http.post("/v1/score", json={"texts": [texts[i % len(texts)]],
                                                          "options": {"evidence": False}})
            response.raise_for_status()
            latencies.append(time.perf_counter() - started)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        before = (await http.get("/v1/stats")).json()
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
        after = (await http.get("/v1/stats")).json()
    ms = np.array(latencies) * 1000
    batches = after["batches"] - before["batches"]
    return {"clients": clients, "requests": len(latencies), "seconds": round(elapsed, 2),
            "requests_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "mean_batch": round((after["texts"] - before["texts"]) / batches, 1) if batches else 0.0}


def main() -> None:
    """Run the in-process baseline and the load levels; print a table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the embedded model)")
    parser.add_argument("--n", type=int, default=600, help="distinct sentences (requests cycle through them)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--requests", type=int, default=600, help="requests per client count (upper bound)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time bound per client count")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (server and in-process)")
    parser.add_argument("--batch-size", type=int, default=32, help="chunks per forward pass (both)")
    parser.add_argument("--max-batch-size", type=int, default=64)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=2, help="in-process: best of this many runs")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    texts, source = _texts(args.n)
    baseline = _in_process(args.model, texts, args.threads, args.batch_size, args.repeats)
    proc = _start_server(args, _free_port())
    url = f"http://127.0.0.1:{proc.args[proc.args.index('--port') + 1]}"
    try:
        asyncio.run(_load(url, texts, 4, 32, 30))  # warm-up
        rows = [asyncio.run(_load(url, texts, c, args.requests, args.max_seconds)) for c in args.clients]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    for row in rows:
        row["ratio_to_in_process"] = round(row["requests_per_s"] / baseline, 3)
    print(f"{len(texts)} sentences ({source}); in-process RiskAnalyzer.score: {baseline:.1f} sentences/s "
          f"({args.threads} threads); server: max_batch_size={args.max_batch_size}, max_wait_ms={args.max_wait_ms}")
    print(f"{'clients':>7}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'batch':>7}{'ratio':>8}")
    for r in rows:
        print(f"{r['clients']:>7}{r['requests']:>10}{r['requests_per_s']:>9}{r['p50_ms']:>9}{r['p95_ms']:>9}"
              f"{r['p99_ms']:>9}{r['mean_batch']:>7}{r['ratio_to_in_process']:>8}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"n": len(texts), "source": source, "threads": args.threads, "in_process_per_s": baseline,
                       "max_batch_size": args.max_batch_size, "max_wait_ms": args.max_wait_ms, "rows": rows},
                      handle, indent=2)


if __name__ == "__main__":
    main()
