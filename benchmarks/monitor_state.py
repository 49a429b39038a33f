"""What the monitor's state layer costs per document, without a model: ``Monitor.process`` over a synthetic
stream with the tests' fake analyzer (texts carry their own scores, so scoring is ~free) and the four rule
types, on a SQLite file and, with ``--postgres``, on a throwaway PostgreSQL server (tests/monitor/pg_cluster.py).

    python benchmarks/monitor_state.py --docs 3000 [--postgres]

Prints ms per document for each backend (checkout only: it imports the tests' helpers).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import FakeAnalyzer  # noqa: E402
from textrisk.monitor.engine import Monitor  # noqa: E402
from textrisk.monitor.records import Record  # noqa: E402
from textrisk.monitor.rules import parse_rules  # noqa: E402
from textrisk.monitor.state import MonitorState  # noqa: E402

RULES = {"rules": [{"name": "hi", "type": "level", "above": 0.5}, {"name": "j", "type": "jump", "z": 3},
                   {"name": "c", "type": "signal", "signal": "credit", "probability": 0.8},
                   {"name": "v", "type": "volume", "factor": 3, "min_count": 5}]}


def per_document_ms(location: str | Path, n: int, batch: int) -> float:
    """Milliseconds per document of ``Monitor.process`` on the state at ``location``."""
    rng = random.Random(1)
    records = [Record(id=f"d{i}", timestamp=600.0 * i, entity=rng.choice("ABCDEFGH"),
                      text=f"neg={rng.choice([0.1, 0.3, 0.9])} credit={rng.choice([0, 0, 0.9])}") for i in range(n)]
    monitor = Monitor(FakeAnalyzer(signals=True), MonitorState(location), parse_rules(RULES),
                      clock=lambda: 600.0 * n)  # the stream's times are not ahead of the clock
    try:
        start = time.perf_counter()
        for first in range(0, n, batch):
            monitor.process([(record, None) for record in records[first:first + batch]])
        return (time.perf_counter() - start) * 1e3 / n
    finally:
        monitor.state.close()


def main() -> None:
    """Run the benchmark and print one line per backend."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        ms = per_document_ms(Path(folder) / "state.db", args.docs, args.batch_size)
        print(f"sqlite: {ms:.2f} ms/doc over {args.docs} documents")
    if args.postgres:
        from tests.monitor.pg_cluster import Cluster, unavailable

        reason = unavailable()
        if reason:
            sys.exit(f"--postgres: {reason}")
        with Cluster() as cluster:
            ms = per_document_ms(cluster.create_database("bench"), args.docs, args.batch_size)
        print(f"postgresql: {ms:.2f} ms/doc over {args.docs} documents")


if __name__ == "__main__":
    main()
