"""``ServeConfig``: what ``textrisk serve`` loads, where it listens, how it batches and what it refuses."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError

__all__ = ["ServeConfig"]


@dataclass
class ServeConfig:
    """Settings of the scoring server (each one is a ``textrisk serve`` flag of the same name)."""

    model: str | None = field(default=None, metadata={"help": "model folder or Hub id (default: the embedded model)"})
    host: str = field(default="127.0.0.1", metadata={"help": "interface to listen on (0.0.0.0: all of them)"})
    port: int = field(default=8000, metadata={"help": "TCP port"})
    max_batch_size: int = field(default=64, metadata={
        "help": "texts per micro-batch: concurrent requests are scored together up to this many texts"})
    max_wait_ms: float = field(default=5.0, metadata={
        "help": "how long the first request of a micro-batch waits for others to join it"})
    batch_size: int = field(default=32, metadata={"help": "chunks per forward pass inside a micro-batch"})
    threads: int | None = field(default=None, metadata={"help": "torch CPU threads (default: torch's setting)"})
    max_documents: int = field(default=256, metadata={"help": "documents (texts) per request; more: 413"})
    max_document_chars: int = field(default=200_000, metadata={"help": "characters per document; more: 413"})
    max_request_chars: int = field(default=2_000_000, metadata={
        "help": "characters of all documents of a request together; more: 413"})
    graceful_timeout_s: float = field(default=30.0, metadata={
        "help": "on SIGTERM/SIGINT, how long in-flight requests may still run before they are cut"})

    def __post_init__(self) -> None:
        for name in ("max_batch_size", "batch_size", "max_documents", "max_document_chars", "max_request_chars"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise ConfigError(f"threads must be a positive integer or None, got {self.threads!r}")
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be an integer in [0, 65535], got {self.port!r}")
        for name in ("max_wait_ms", "graceful_timeout_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
        if self.max_document_chars > self.max_request_chars:
            raise ConfigError(f"max_document_chars ({self.max_document_chars}) must not exceed max_request_chars "
                              f"({self.max_request_chars})")

