"""``textrisk monitor`` and ``textrisk dashboard`` (argument parsing; heavy imports happen inside ``run``)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

from ..utils.args import integer, number

__all__ = ["add_arguments", "add_dashboard_arguments", "bind_model", "check_paths", "default_dead_letter", "run",
           "run_dashboard"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``monitor`` options to ``parser``."""
    parser.add_argument("--input", required=True, help="JSONL file (tailed as it grows), a folder of *.jsonl "
                                                        "files, or - for stdin; records: id, timestamp, entity, text")
    parser.add_argument("--state", required=True, help="SQLite state file (created if new) or a database URL: "
                                                        "postgresql+psycopg://USER@HOST/DB (pip install "
                                                        "'textrisk[postgres]'), sqlite:///PATH")
    parser.add_argument("--alerts", required=True, help="alerts JSONL file (appended; an existing file must be one "
                                                         "textrisk monitor wrote)")
    parser.add_argument("--dead-letter", help="JSONL file of the records that could not be processed, with the "
                                              "reason (appended; default: the --alerts name with .dead-letter.jsonl)")
    parser.add_argument("--encoding", default="utf-8", help="encoding of the input files (default utf-8)")
    parser.add_argument("--rules", help="rules YAML (default: level, jump and volume rules; signal rules too "
                                        "when the model has a risk head)")
    parser.add_argument("--model", help="model folder, Hub id or embedded model name: "
                        "default, commercial (default: default)")
    parser.add_argument("--once", action="store_true", help="process what is there and exit")
    parser.add_argument("--batch-size", type=integer(ge=1, le=100_000), default=64,
                        help="documents per scored, committed batch")
    parser.add_argument("--poll-seconds", type=number(ge=0.01, le=3600), default=1.0,
                        help="wait between polls when following (0.01 .. 3600)")
    parser.add_argument("--threads", type=integer(ge=1), help="torch CPU threads")
    parser.add_argument("--quiet", action="store_true", help="no per-batch progress on stderr")


def add_dashboard_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``dashboard`` options to ``parser``."""
    parser.add_argument("--state", required=True, help="state written by textrisk monitor (SQLite file or "
                                                        "database URL)")
    parser.add_argument("--export", metavar="REPORT.html", help="write a static HTML report and exit")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=integer(ge=0, le=65535), default=8765, help="TCP port (default 8765; 0: "
                                                                                   "any free port)")
    parser.add_argument("--allowed-hosts", help="extra names the page may be requested under (comma-separated; "
                                                "default: localhost, 127.0.0.1, ::1 and --host)")
    parser.add_argument("--entities", type=integer(ge=1, le=100), default=6,
                        help="entities charted (most alerts, then documents)")


def run(args: argparse.Namespace) -> int:
    """Run ``textrisk monitor``."""
    from ..models.identity import model_identity
    from ..scoring.analyzer import RiskAnalyzer
    from .alerts_file import AlertsFile, DeadLetterFile
    from .engine import Monitor
    from .rules import default_rules, load_rules
    from .source import open_source
    from .state import MonitorState

    dead_letter = args.dead_letter or default_dead_letter(args.alerts)
    check_paths(args.input, args.state, args.alerts, dead_letter, args.rules)
    source = open_source(args.input, encoding=args.encoding)  # a missing input or a bad encoding: before the model
    rules = load_rules(args.rules) if args.rules else None
    analyzer = RiskAnalyzer.from_pretrained(args.model, num_threads=args.threads)
    rules = rules or default_rules(analyzer.has_risk_head)
    alerts, dead = AlertsFile(args.alerts), DeadLetterFile(dead_letter)
    state = MonitorState(args.state)
    bind_model(state, model_identity(analyzer.model), str(args.model or "embedded default"))
    monitor = Monitor(analyzer, state, rules, alerts, batch_size=args.batch_size, dead_letters=dead)
    monitor.sync_files()  # alerts and dead letters committed before a kill but not yet written
    stop = {"flag": False}

    def request_stop(signum, frame):  # finish the current batch, then exit
        stop["flag"] = True

    signal.signal(signal.SIGTERM, request_stop)
    start, done = time.time(), {"n": 0}

    def report(result) -> None:
        done["n"] += result.scored
        if not args.quiet:
            rate = done["n"] / max(time.time() - start, 1e-9)
            dead = f", +{result.dead} dead-lettered" if result.dead else ""
            print(f"monitor: +{result.scored} scored ({result.skipped} already seen){dead}, +{result.alerts} alerts, "
                  f"{rate:.1f} docs/s", file=sys.stderr)

    try:
        source = open_source(args.input, state.offsets(), encoding=args.encoding)
        total = monitor.run(source, once=args.once, poll_seconds=args.poll_seconds, on_batch=report,
                            should_stop=lambda: stop["flag"])
    except KeyboardInterrupt:
        return 0
    finally:
        state.close()
    dead = f", {total.dead} dead-lettered (see {dead_letter})" if total.dead else ""
    print(f"monitor: {total.scored} documents scored, {total.skipped} skipped as already seen{dead}, "
          f"{total.alerts} alerts", file=sys.stderr)
    return 0


def default_dead_letter(alerts: str) -> str:
    """The dead-letter file beside ``--alerts``: ``alerts.jsonl`` -> ``alerts.dead-letter.jsonl``."""
    path = Path(alerts)
    return str(path.with_name(f"{path.name.removesuffix(path.suffix) or path.name}.dead-letter.jsonl"))


def check_paths(source: str, state: str, alerts: str, dead_letter: str, rules: str | None) -> None:
    """The path guard of ``textrisk monitor`` (:func:`textrisk.utils.outputs.guard_output`), before any work:
    the state, the alerts and the dead-letter file must be distinct from each other and from the input (a file,
    or a folder whose ``*.jsonl`` files are read) and the rules; an existing alerts or dead-letter file must be
    one the monitor wrote (the state database is checked when it is opened)."""
    from ..utils.outputs import guard_output
    from .alerts_file import AlertsFile, DeadLetterFile
    from .database import state_file

    read = {"--input": (source, "*.jsonl") if Path(source).is_dir() else (None if source == "-" else source),
            "--rules": rules}
    state_path = state_file(state)
    guard_output(alerts, "--alerts", inputs={**read, "--state": state_path, "--dead-letter": dead_letter},
                 owned=AlertsFile.check)
    guard_output(dead_letter, "--dead-letter", inputs={**read, "--state": state_path}, owned=DeadLetterFile.check)
    if state_path is not None:
        guard_output(state_path, "--state", inputs=read)


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
    from ..utils.hosts import allowed_hosts
    from .dashboard import export_html, serve

    if args.export:
        export_html(args.state, args.export, entities=args.entities)
        print(f"wrote {args.export}", file=sys.stderr)
        return 0
    serve(args.state, args.host, args.port, entities=args.entities,
          allowed=allowed_hosts(args.host, args.allowed_hosts))
    return 0
