"""Alert webhooks: one HTTP POST of the alert's JSON per (alert, url), through the state's outbox.

Delivery is at-least-once: a row leaves the outbox only after a 2xx answer, so an alert survives a webhook
outage and a restart; failures are retried with exponential backoff (``backoff_seconds * 2**(attempt-1)``,
capped at ``max_backoff_seconds``) up to ``max_attempts``, then the row is marked dead. A kill between the
answer and the commit can repeat a POST, so each carries the alert id in an ``Idempotency-Key`` header for
the receiver to drop repeats. Redirects are not followed: a 3xx answer is a failed attempt naming the new
location (following a 301/302 would turn the POST into a GET without the alert and count it delivered), so a
moved endpoint shows up as failed deliveries until the rules file names its new URL. Deliveries run in their own
thread (:class:`textrisk.monitor.outbox.Deliverer`), so a slow or hanging webhook never holds up scoring; each
request gives up after ``timeout_seconds``. Uses the standard library's urllib (no extra dependency).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..utils.validation import check_number

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
        check_number(self.max_attempts, f"webhook {self.url}: field 'max_attempts'", integer=True, ge=1)
        for name, most in (("backoff_seconds", 86400), ("max_backoff_seconds", 7 * 86400), ("timeout_seconds", 300)):
            check_number(getattr(self, name), f"webhook {self.url}: field {name!r}", gt=0, le=most)


def backoff_delay(config: WebhookConfig, attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt."""
    return min(config.backoff_seconds * 2 ** (attempts - 1), config.max_backoff_seconds)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Turn every redirect into an HTTPError (urllib would re-send a POST answered 301/302 as a body-less GET)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - urllib's hook
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post_json(url: str, payload: dict[str, Any], key: str, timeout: float) -> str | None:
    """POST ``payload``; None on a 2xx answer, else a short description of the failure (redirects included)."""
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json", "Idempotency-Key": key})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            return (f"HTTP {exc.code} redirect to {exc.headers.get('Location')!r} (not followed: update the webhook "
                    "URL in the rules file)")
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
