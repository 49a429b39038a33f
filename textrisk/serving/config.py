"""``ServeConfig``: what ``textrisk serve`` loads, where it listens, how it batches and what it refuses."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError
from ..models.backends import BACKENDS
from ..utils.validation import check, validate_fields

__all__ = ["ServeConfig"]


@dataclass
class ServeConfig:
    """Settings of the scoring server (each one is a ``textrisk serve`` flag of the same name).

    Every number is checked when the config is made (finite, within the range its help names), so a flag such as
    ``--max-wait-ms nan`` is refused at start instead of hanging every request.
    """

    model: str | None = field(default=None, metadata=check("model folder, Hub id or embedded model name: default, "
                                                            "commercial (default: default)"))
    backend: str = field(default="auto", metadata=check(
        "scoring backend, as for textrisk score: " + ", ".join(BACKENDS), choices=BACKENDS))
    host: str = field(default="127.0.0.1", metadata=check("interface to listen on (0.0.0.0: all of them)",
                                                          nonempty=True))
    port: int = field(default=8000, metadata=check("TCP port", ge=0, le=65535))
    max_batch_size: int = field(default=64, metadata=check(
        "texts per micro-batch: concurrent requests are scored together up to this many texts", ge=1, le=100_000))
    max_wait_ms: float = field(default=5.0, metadata=check(
        "how long the first request of a micro-batch waits for others to join it (0 .. 10000 ms)", ge=0,
        le=10_000))
    batch_size: int = field(default=8, metadata=check(
        "chunks per forward pass inside a micro-batch (sorted by length first: small passes pad short sentences "
        "less)", ge=1, le=100_000))
    threads: int | None = field(default=None, metadata=check("torch CPU threads (default: torch's setting)", ge=1,
                                                             le=4096))
    max_documents: int = field(default=256, metadata=check("documents (texts) per request; more: 413", ge=1))
    max_document_chars: int = field(default=200_000, metadata=check("characters per document; more: 413", ge=1))
    max_request_chars: int = field(default=2_000_000, metadata=check(
        "characters of all documents of a request together; more: 413", ge=1, le=1_000_000_000))
    max_filing_chars: int = field(default=3_000_000, metadata=check(
        "characters of a filing sent to POST /v1/filings (a 10-K is 100,000-500,000); more: 413", ge=1,
        le=1_000_000_000))
    graceful_timeout_s: float = field(default=30.0, metadata=check(
        "on SIGTERM/SIGINT, how long in-flight requests may still run before they are cut (0 < s <= 3600)", gt=0,
        le=3600))
    allowed_hosts: str | None = field(default=None, metadata=check(
        "extra names requests may be addressed to, comma-separated (default: localhost, 127.0.0.1, ::1 and "
        "--host; '*' accepts any Host header)"))

    def __post_init__(self) -> None:
        validate_fields(self)
        if self.max_document_chars > self.max_request_chars:
            raise ConfigError(f"max_document_chars ({self.max_document_chars}) must not exceed max_request_chars "
                              f"({self.max_request_chars})")

    def hosts(self) -> tuple[str, ...]:
        """The Host allow-list (:func:`textrisk.utils.hosts.allowed_hosts` of ``host`` and ``allowed_hosts``)."""
        from ..utils.hosts import allowed_hosts

        return allowed_hosts(self.host, self.allowed_hosts)
