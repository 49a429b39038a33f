"""A fake analyzer for the monitor tests: texts say their own scores ("neg=0.8 credit=0.9 ..."), so index maths
and rules can be checked by hand; also a tiny monitor process (``python -m tests.monitor_fake ...``) for the
kill/restart tests, which needs no model, and the helper that kills it part way."""

from __future__ import annotations

import re
import sys
import time
from types import SimpleNamespace

from textrisk.labels.taxonomy import RISK_LABELS
from textrisk.scoring.report import RiskReport

_PAIR = re.compile(r"([a-z_]+)=([0-9.]+)")


class FakeAnalyzer:
    """Scores ``neg=P`` (P(negative), default 0.1) and, with ``signals``, ``LABEL=P`` risk probabilities."""

    def __init__(self, signals: bool = False, delay: float = 0.0):
        self.has_risk_head = signals
        self.delay = delay
        self.model = SimpleNamespace(tokenizer=None)
        self.calls = 0

    def score(self, texts, progress=None):
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        reports = []
        for text in texts:
            values = {k: float(v) for k, v in _PAIR.findall(text)}
            neg = values.get("neg", 0.1)
            rest = (1 - neg) / 2
            scores = {"negative": neg, "neutral": rest, "positive": rest}
            report = RiskReport(sentiment=max(scores, key=scores.get), sentiment_scores=scores,
                                num_tokens=len(text.split()))
            if self.has_risk_head:
                report.risk_signals = {label: values.get(label, 0.0) for label in RISK_LABELS}
                report.flags = [k for k, p in report.risk_signals.items() if p >= 0.5]
                any_signal = 1 - __import__("math").prod(1 - p for p in report.risk_signals.values())
                report.risk_score = neg * any_signal
            reports.append(report)
        return reports


def kill_after_progress(process, documents, before: int, delay: float) -> bool:
    """Wait until ``documents()`` (the state's document count) passes ``before`` or ``process`` ends, then
    ``delay`` seconds; SIGKILL the process if it still runs. True if it was killed."""
    import signal

    deadline = time.monotonic() + 60
    while documents() <= before and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(delay)
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return killed


def main(argv: list[str]) -> int:
    """``INPUT STATE ALERTS RULES BATCH DELAY``: run a monitor with the fake analyzer over INPUT once."""
    from textrisk.monitor.alerts_file import AlertsFile
    from textrisk.monitor.engine import Monitor
    from textrisk.monitor.rules import load_rules
    from textrisk.monitor.source import open_source
    from textrisk.monitor.state import MonitorState

    source, state_path, alerts, rules, batch, delay = argv
    state = MonitorState(state_path)
    monitor = Monitor(FakeAnalyzer(signals=True, delay=float(delay)), state, load_rules(rules),
                      AlertsFile(alerts), batch_size=int(batch))
    monitor.alerts.sync(state, time.time)
    monitor.run(open_source(source, state.offsets()), once=True)
    while state.pending_outbox():  # keep retrying deliveries (the test kills us or the server comes up)
        monitor.deliver()
        time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
