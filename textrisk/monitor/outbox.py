"""Working the webhook outbox: POST each due alert, record the outcome, back off on failure.

:func:`deliver_due` is one pass; :class:`Deliverer` runs passes in a thread of its own, with its own connection
to the state, so the monitor's batches never wait for a webhook (a slow or hanging endpoint costs at most its
``timeout_seconds`` per attempt, in that thread).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence

from .state import MonitorState
from .webhook import WebhookConfig, backoff_delay, post_json

__all__ = ["Deliverer", "deliver_due"]


def deliver_due(state: MonitorState, hooks: Sequence[WebhookConfig], clock: Callable[[], float],
                limit: int = 100) -> int:
    """One pass over due outbox rows (a URL that fails is not tried again in this pass); deliveries made."""
    if not hooks:
        return 0
    configs = {hook.url: hook for hook in hooks}
    failed: set[str] = set()
    delivered = 0
    for row in state.due_outbox(clock(), limit):
        url = row["url"]
        config = configs.get(url)
        if config is None or url in failed:  # a URL no longer in the rules file is left pending
            continue
        error = post_json(url, json.loads(row["payload"]), row["alert_id"], config.timeout_seconds)
        now = clock()
        attempts = row["attempts"] + 1
        if error is None:
            delivered += 1
        else:
            failed.add(url)
        state.mark_delivery(row["alert_id"], url, error, now, now + backoff_delay(config, attempts),
                            dead=error is not None and attempts >= config.max_attempts)
    return delivered


class Deliverer:
    """Passes of :func:`deliver_due` in a daemon thread over its own :class:`MonitorState` at ``location``:
    one when woken (new alerts were committed) and one every ``interval`` seconds (retries that came due).

    An error of the thread (the state cannot be read or written) is raised again by :meth:`check`.
    """

    def __init__(self, location: str, hooks: Sequence[WebhookConfig], clock: Callable[[], float] = time.time,
                 interval: float = 0.5):
        self.location, self.hooks, self.clock, self.interval = location, list(hooks), clock, interval
        self.error: BaseException | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="textrisk-webhooks", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def wake(self) -> None:
        """Run a pass now (new alerts are in the outbox)."""
        self._wake.set()

    def check(self) -> None:
        """Raise the thread's error, if it stopped on one."""
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """Finish the pass under way (at most one request's timeout) and end the thread."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=max((hook.timeout_seconds for hook in self.hooks), default=0) + 30)

    def _run(self) -> None:
        try:
            state = MonitorState(self.location)
        except BaseException as exc:  # noqa: BLE001 - handed to the monitor's thread by check()
            self.error = exc
            return
        try:
            while not self._stop.is_set():
                deliver_due(state, self.hooks, self.clock)
                self._wake.wait(self.interval)
                self._wake.clear()
        except BaseException as exc:  # noqa: BLE001
            self.error = exc
        finally:
            state.close()
