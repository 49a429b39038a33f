"""Load test of ``textrisk serve`` on loopback, against in-process scoring measured in the same run.

    python benchmarks/load_test.py [--model DIR] [--backend auto] [--generator wrk|httpx] [--pin] [--n 600]
        [--clients 1 4 16] [--requests 600] [--max-seconds 60] [--threads N] [--json FILE]

Starts a real uvicorn server (``textrisk serve``) in a subprocess on 127.0.0.1 (a free port), then for each
client count runs N concurrent clients, each sending single-sentence requests back to back (one keep-alive
connection each), until ``--requests`` requests were answered or ``--max-seconds`` passed (both bounds hold).
Reports requests/s and p50/p95/p99 latency per client count, the mean micro-batch size (from ``GET /v1/stats``),
and the ratio to in-process ``RiskAnalyzer.score`` of the same sentences as one batch (same model, backend and
thread count, in a fresh process with the server's environment and CPU allocation).

Load generators: ``wrk`` (default when installed: Debian's C client, ``-t1``, a generated Lua script cycling
through the sentences and stopping after ``--requests`` answers; latency percentiles from wrk's own per-request
record), or ``httpx`` (Python asyncio clients in this process: they compete with the server for the CPU).

``--pin`` (needs 2 CPUs and ``taskset``): the server runs on CPU 0, the load generator on CPU 1, and the
in-process baseline on CPU 0 too, so the ratio compares the same CPU allocation; ``--threads`` then defaults to 1.
Without ``--pin`` the server and the baseline may use every CPU and the generator runs alongside
(``--threads`` defaults to 2).
Sentences: the FPB test part (standard split) when ../shared/data is present, else repeated sample sentences.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the checkout's benchmarks package
from benchmarks.speed import print_cpu  # noqa: E402
from textrisk import RiskAnalyzer  # noqa: E402
from textrisk.data.datasets import find_data_dir, load_benchmark  # noqa: E402
from textrisk.models.backends import BACKENDS  # noqa: E402
from textrisk.serving import ServeConfig  # noqa: E402

WRK = shutil.which("wrk")
LIBRARY_BATCH_SIZE = inspect.signature(RiskAnalyzer).parameters["batch_size"].default
SERVER_CPU, CLIENT_CPU = "0", "1"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
       "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

BASELINE = """
import json, sys, time
from textrisk import RiskAnalyzer
model, backend, threads, batch_sizes, repeats, path = json.loads(sys.argv[1])
texts = json.load(open(path, encoding="utf-8"))
analyzer = RiskAnalyzer.from_pretrained(model, num_threads=threads, batch_size=batch_sizes[0], backend=backend)
analyzer.score(texts[:32], progress=False)  # warm-up
speeds = {}
for batch_size in batch_sizes:
    analyzer.batch_size = batch_size
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        analyzer.score(texts, progress=False)
        best = min(best, time.perf_counter() - started)
    speeds[batch_size] = len(texts) / best
print(json.dumps(speeds))
"""


def _texts(n: int) -> tuple[list[str], str]:
    data_dir = find_data_dir()
    if data_dir is not None:
        return list(load_benchmark("fpb", "test", data_dir)["text"][:n]), "FPB test part"
    sample = ["Operating profit fell to EUR 3.2 mn from EUR 5.1 mn.", "The contract is valued at USD 10 mn."]
    return (sample * n)[:n], "sample sentences"


def _pinned(cpu: str | None, command: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *command] if cpu is not None else command


def _in_process(args: argparse.Namespace, texts_file: str) -> dict[str, float]:
    """Sentences/s of ``RiskAnalyzer.score`` over all the texts, best of ``--repeats``, in a fresh process that
    gets the server's environment and CPUs: at the server's ``--batch-size`` and at the library's default."""
    sizes = sorted({args.batch_size, LIBRARY_BATCH_SIZE})
    spec = json.dumps([args.model, args.backend, args.threads, sizes, args.repeats, texts_file])
    command = _pinned(args.server_cpu, [sys.executable, "-c", BASELINE, spec])
    out = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=900, check=False)
    if out.returncode != 0:
        raise SystemExit(f"the in-process baseline failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(args: argparse.Namespace, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "textrisk.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--backend", args.backend, "--threads", str(args.threads), "--batch-size", str(args.batch_size),
               "--max-batch-size", str(args.max_batch_size), "--max-wait-ms", str(args.max_wait_ms),
               "--log-level", "warning"]
    if args.model:
        command += ["--model", args.model]
    proc = subprocess.Popen(_pinned(args.server_cpu, command), env=ENV)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600  # a first --backend onnx exports the model
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
    raise SystemExit("the server did not become ready within 600 s")


def _row(clients: int, requests: int, seconds: float, percentiles_ms: list[float], before: dict,
         after: dict) -> dict:
    """One table row; ``percentiles_ms``: p50, p95, p99; ``before``/``after``: ``GET /v1/stats``."""
    batches = after["batches"] - before["batches"]
    p50, p95, p99 = (round(float(ms), 1) for ms in percentiles_ms)
    return {"clients": clients, "requests": requests, "seconds": round(seconds, 2),
            "requests_per_s": round(requests / seconds, 1), "p50_ms": p50, "p95_ms": p95, "p99_ms": p99,
            "mean_batch": round((after["texts"] - before["texts"]) / batches, 1) if batches else 0.0}


async def _load_httpx(url: str, texts: list[str], clients: int, requests: int, max_seconds: float) -> dict:
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
    return _row(clients, len(latencies), elapsed, np.percentile(np.array(latencies) * 1000, [50, 95, 99]), before,
                after)


def _lua_script(texts: list[str], requests: int) -> str:
    """wrk script: POST one sentence per request, cycling through ``texts``; stop after ``requests`` answers; print
    wrk's latency record as one JSON line."""
    bodies = ",\n".join(json.dumps(json.dumps({"texts": [t], "options": {"evidence": False}})) for t in texts)
    return f"""local ffi = require("ffi")
ffi.cdef[[int kill(int pid, int sig); int getpid(void);]]
local bodies = {{
{bodies}
}}
local headers = {{["Content-Type"] = "application/json"}}
local i, answered, limit = 0, 0, {requests}
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/v1/score", headers, bodies[i])
end
response = function(status, hdrs, body)
  answered = answered + 1
  if answered == limit then
    wrk.thread:stop()
    ffi.C.kill(ffi.C.getpid(), 2)  -- SIGINT: wrk ends its -d sleep, then reports
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_RESULT {{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "errors": %d}}\\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def _settled_stats(url: str, timeout: float = 60.0) -> dict:
    """``GET /v1/stats`` once nothing is in flight (a stopped wrk leaves its last requests to be scored)."""
    deadline = time.monotonic() + timeout
    while (stats := httpx.get(url + "/v1/stats", timeout=60).json())["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.05)
    return stats


def _load_wrk(url: str, script: str, clients: int, max_seconds: float, client_cpu: str | None) -> dict:
    seconds = max(1, round(max_seconds))
    command = _pinned(client_cpu, [WRK, "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "60s", "-s", script,
                                   url])
    before = _settled_stats(url)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=False)
    after = _settled_stats(url)
    found = re.search(r"^WRK_RESULT (.+)$", out.stdout, re.M)
    if out.returncode != 0 or not found:
        raise SystemExit(f"wrk failed (status {out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    result = json.loads(found.group(1))
    if result["errors"]:
        raise SystemExit(f"wrk saw {result['errors']} errors (connect, read, write, non-2xx status or timeout):\n"
                         f"{out.stdout[-2000:]}")
    return _row(clients, result["requests"], result["duration_us"] / 1e6,
                [result[f"p{q}_us"] / 1000 for q in (50, 95, 99)], before, after)


def _run_levels(args: argparse.Namespace, url: str, texts: list[str]) -> list[dict]:
    if args.generator == "httpx":
        if args.pin:
            os.sched_setaffinity(0, {int(CLIENT_CPU)})  # this process is the load generator
        asyncio.run(_load_httpx(url, texts, 4, 32, 30))  # warm-up
        return [asyncio.run(_load_httpx(url, texts, c, args.requests, args.max_seconds)) for c in args.clients]
    client_cpu = CLIENT_CPU if args.pin else None
    with tempfile.TemporaryDirectory() as tmp:
        warm, script = Path(tmp, "warm.lua"), Path(tmp, "load.lua")
        warm.write_text(_lua_script(texts, 32), encoding="utf-8")
        script.write_text(_lua_script(texts, args.requests), encoding="utf-8")
        _load_wrk(url, str(warm), 4, 30, client_cpu)
        return [_load_wrk(url, str(script), c, args.max_seconds, client_cpu) for c in args.clients]


def main() -> None:
    """Run the in-process baseline and the load levels; print a table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the embedded model)")
    parser.add_argument("--backend", choices=BACKENDS, default=ServeConfig.backend,
                        help="scoring backend, server and in-process (default: textrisk serve's)")
    parser.add_argument("--generator", choices=["wrk", "httpx"], default="wrk" if WRK else "httpx",
                        help="load generator (default: wrk when installed, else httpx)")
    parser.add_argument("--pin", action="store_true",
                        help="server and baseline on CPU 0, load generator on CPU 1 (taskset)")
    parser.add_argument("--n", type=int, default=600, help="distinct sentences (requests cycle through them)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--requests", type=int, default=600, help="requests per client count (upper bound)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time bound per client count")
    parser.add_argument("--threads", type=int, help="torch threads, server and in-process (default: 1 with --pin, "
                                                    "else 2)")
    parser.add_argument("--batch-size", type=int, default=ServeConfig.batch_size,
                        help="chunks per forward pass, server and in-process (default: textrisk serve's)")
    parser.add_argument("--max-batch-size", type=int, default=64)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=2, help="in-process: best of this many runs")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.generator == "wrk" and not WRK:
        parser.error("--generator wrk: wrk is not installed (apt-get install wrk)")
    if args.pin and (not shutil.which("taskset") or len(os.sched_getaffinity(0)) < 2):
        parser.error("--pin needs taskset and 2 CPUs")
    args.threads = args.threads or (1 if args.pin else 2)
    args.server_cpu = SERVER_CPU if args.pin else None

    texts, source = _texts(args.n)
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as texts_file:
        json.dump(texts, texts_file)
        texts_file.flush()
        speeds = _in_process(args, texts_file.name)
    baseline = max(speeds.values())  # the ratio is to the faster of the two batch sizes
    proc = _start_server(args, _free_port())
    url = f"http://127.0.0.1:{proc.args[proc.args.index('--port') + 1]}"
    try:
        rows = _run_levels(args, url, texts)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    for row in rows:
        row["ratio_to_in_process"] = round(row["requests_per_s"] / baseline, 3)
    cpu = print_cpu()
    placement = (f"pinned: server and baseline on CPU {SERVER_CPU}, {args.generator} on CPU {CLIENT_CPU}" if args.pin
                 else f"unpinned: server, baseline and {args.generator} share the {cpu['cpus']} CPUs")
    print(f"{placement}; load generator: {args.generator}")
    at = ", ".join(f"batch size {size}: {speed:.1f}" for size, speed in speeds.items())
    print(f"{len(texts)} sentences ({source}); backend {args.backend}, {args.threads} threads; in-process "
          f"RiskAnalyzer.score: {baseline:.1f} sentences/s (the faster of {at}); server: batch_size="
          f"{args.batch_size}, max_batch_size={args.max_batch_size}, max_wait_ms={args.max_wait_ms}")
    print(f"{'clients':>7}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'batch':>7}{'ratio':>8}")
    for r in rows:
        print(f"{r['clients']:>7}{r['requests']:>10}{r['requests_per_s']:>9}{r['p50_ms']:>9}{r['p95_ms']:>9}"
              f"{r['p99_ms']:>9}{r['mean_batch']:>7}{r['ratio_to_in_process']:>8}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"cpu": cpu["model"], "cpus": cpu["cpus"], "generator": args.generator, "pin": args.pin,
                       "backend": args.backend, "n": len(texts), "source": source, "threads": args.threads,
                       "batch_size": args.batch_size, "in_process_per_s": baseline,
                       "in_process_per_s_by_batch_size": speeds,
                       "max_batch_size": args.max_batch_size, "max_wait_ms": args.max_wait_ms, "rows": rows},
                      handle, indent=2)


if __name__ == "__main__":
    main()
