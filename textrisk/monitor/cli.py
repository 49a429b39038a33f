"""``textrisk monitor`` and ``textrisk dashboard`` (argument parsing; heavy imports happen inside ``run``)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

__all__ = ["add_arguments", "add_dashboard_arguments", "bind_model", "run", "run_dashboard"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``monitor`` options to ``parser``."""
    parser.add_argument("--input", required=True, help="JSONL file (tailed as it grows), a folder of *.jsonl "
                                                        "files, or - for stdin; records: id, timestamp, entity, text")
    parser.add_argument("--state", required=True, help="SQLite state file (created if new) or a database URL: "
                                                        "postgresql+psycopg://USER@HOST/DB (pip install "
                                                        "'textrisk[postgres]'), sqlite:///PATH")
    parser.add_argument("--alerts", required=True, help="alerts JSONL file (appended)")
    parser.add_argument("--rules", help="rules YAML (default: level, jump and volume rules; signal rules too "
                                        "when the model has a risk head)")
    parser.add_argument("--model", help="model folder or Hub id (default: the embedded model)")
    parser.add_argument("--once", action="store_true", help="process what is there and exit")
    parser.add_argument("--batch-size", type=int, default=64, help="documents per scored, committed batch")
    parser.add_argument("--poll-seconds", type=float, default=1.0, help="wait between polls when following")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--quiet", action="store_true", help="no per-batch progress on stderr")


def add_dashboard_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``dashboard`` options to ``parser``."""
    parser.add_argument("--state", required=True, help="state written by textrisk monitor (SQLite file or "
                                                        "database URL)")
    parser.add_argument("--export", metavar="REPORT.html", help="write a static HTML report and exit")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--entities", type=int, default=6, help="entities charted (most alerts, then documents)")


def run(args: argparse.Namespace) -> int:
    """Run ``textrisk monitor``."""
    from ..errors import ConfigError
    from ..models.identity import model_identity
    from ..scoring.analyzer import RiskAnalyzer
    from .alerts_file import AlertsFile
    from .engine import Monitor
    from .rules import default_rules, load_rules
    from .source import open_source
    from .state import MonitorState

    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be >= 1, got {args.batch_size}")
    analyzer = RiskAnalyzer.from_pretrained(args.model, num_threads=args.threads)
    rules = load_rules(args.rules) if args.rules else default_rules(analyzer.has_risk_head)
    state = MonitorState(args.state)
    bind_model(state, model_identity(analyzer.model), str(args.model or "embedded default"))
    monitor = Monitor(analyzer, state, rules, AlertsFile(args.alerts), batch_size=args.batch_size)
    monitor.alerts.sync(state, time.time)  # alerts committed before a kill but not yet written
    stop = {"flag": False}

    def request_stop(signum, frame):  # finish the current batch, then exit
        stop["flag"] = True

    signal.signal(signal.SIGTERM, request_stop)
    start, done = time.time(), {"n": 0}

    def report(result) -> None:
        done["n"] += result.scored
        if not args.quiet:
            rate = done["n"] / max(time.time() - start, 1e-9)
            print(f"monitor: +{result.scored} scored ({result.skipped} already seen), +{result.alerts} alerts, "
                  f"{rate:.1f} docs/s", file=sys.stderr)

    try:
        total = monitor.run(open_source(args.input, state.offsets()), once=args.once,
                            poll_seconds=args.poll_seconds, on_batch=report, should_stop=lambda: stop["flag"])
    except KeyboardInterrupt:
        return 0
    finally:
        state.close()
    print(f"monitor: {total.scored} documents scored, {total.skipped} skipped as already seen, "
          f"{total.alerts} alerts", file=sys.stderr)
    return 0


def bind_model(state: Any, identity: str, name: str) -> None:
    """Refuse a state scored by another model; record ``identity`` (the model's content hash) in a new one.

    The state keeps the content hash under ``model_sha256`` (and the ``--model`` name under ``model``, for
    people), so a new default model shipped under the same name is told apart. A state of textrisk 0.1 recorded
    only the name: when it is this run's ``--model`` (the check 0.1 made), the state is bound to this model's
    hash from now on, with a note; another name is refused as before.

    Raises:
        ConfigError: the state holds documents scored with another model (indices must not mix models).
    """
    from ..errors import ConfigError

    stored, stored_name = state.meta("model_sha256"), state.meta("model")
    if stored is not None and stored != identity:
        raise ConfigError(f"{state.label} holds documents scored with model {stored_name!r} (sha256 {stored[:12]}...), "
                          f"not {name!r} (sha256 {identity[:12]}...); use a new --state (indices must not mix models)")
    if stored is None and stored_name is not None:
        if stored_name != name:
            raise ConfigError(f"{state.label} holds documents scored with model {stored_name!r}; use a new --state "
                              f"for {name!r} (indices must not mix models)")
        print(f"monitor: {state.label} was written by textrisk 0.1, which recorded the model by name only; it is "
              f"bound to this model's content hash (sha256 {identity[:12]}...) from now on", file=sys.stderr)
    if stored is None:
        with state.transaction():
            state.set_meta("model_sha256", identity)
            state.set_meta("model", name)


def run_dashboard(args: argparse.Namespace) -> int:
    """Run ``textrisk dashboard``."""
    from .dashboard import export_html, serve

    if args.export:
        export_html(args.state, args.export, entities=args.entities)
        print(f"wrote {args.export}", file=sys.stderr)
        return 0
    serve(args.state, args.host, args.port, entities=args.entities)
    return 0
