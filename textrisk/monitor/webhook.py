"""Alert webhooks: one HTTP POST of the alert's JSON per (alert, url), through the state's outbox.

Delivery is at-least-once: a row leaves the outbox only after a 2xx answer, so an alert survives a webhook
outage and a restart; failures are retried with exponential backoff (``backoff_seconds * 2**(attempt-1)``,
capped at ``max_backoff_seconds``) up to ``max_attempts``, then the row is marked dead. A kill between the
answer and the commit can repeat a POST, so each carries the alert id in an ``Idempotency-Key`` header for
the receiver to drop repeats. Uses the standard library's urllib (no extra dependency).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

__all__ = ["WebhookConfig", "backoff_delay", "post_json"]


@dataclass(frozen=True)
class WebhookConfig:
    """One webhook endpoint."""

    url: str = field(metadata={"help": "http(s) URL that receives each alert as a JSON POST"})
    max_attempts: int = field(default=8, metadata={"help": "attempts before an alert is marked dead"})
    backoff_seconds: float = field(default=1.0, metadata={"help": "delay after the first failure (doubles)"})
    max_backoff_seconds: float = field(default=300.0, metadata={"help": "cap on the retry delay"})
    timeout_seconds: float = field(default=5.0, metadata={"help": "per-request timeout"})

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"webhook field 'url' must be an http:// or https:// URL, got {self.url!r}")
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ConfigError(f"webhook {self.url}: field 'max_attempts' must be an integer >= 1")
        for name in ("backoff_seconds", "max_backoff_seconds", "timeout_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"webhook {self.url}: field {name!r} must be a positive number, got {value!r}")


def backoff_delay(config: WebhookConfig, attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt."""
    return min(config.backoff_seconds * 2 ** (attempts - 1), config.max_backoff_seconds)


def post_json(url: str, payload: dict[str, Any], key: str, timeout: float) -> str | None:
    """POST ``payload``; None on a 2xx answer, else a short description of the failure."""
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json", "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
