"""Working the webhook outbox: POST each due alert, record the outcome, back off on failure."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from .state import MonitorState
from .webhook import WebhookConfig, backoff_delay, post_json

__all__ = ["deliver_due"]


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
