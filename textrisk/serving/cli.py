"""``textrisk serve``: load a model, then serve it with uvicorn until SIGINT/SIGTERM.

    textrisk serve --model DIR --backend onnx --port 8000 --max-batch-size 64 --max-wait-ms 5

The module top imports only the standard library; FastAPI, uvicorn and torch load inside :func:`run`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields

__all__ = ["add_arguments", "run"]

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``serve`` options to ``parser`` (one per :class:`ServeConfig` field, typed and range-checked as the
    field is: :func:`textrisk.utils.args.config_field_type`)."""
    from ..utils.args import config_field_type
    from .config import ServeConfig

    for f in fields(ServeConfig):
        flag = "--" + f.name.replace("_", "-")
        text = f.metadata["help"]
        if f.default is not None and "default" not in text:
            text += f" (default: {f.default})"
        parser.add_argument(flag, dest=f.name, type=config_field_type(ServeConfig, f.name), default=f.default,
                            choices=f.metadata.get("choices"), help=text)
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                        help="uvicorn's and the server's log level (default info)")


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; returns 0 after a graceful shutdown."""
    from ..errors import ConfigError
    from .config import ServeConfig

    try:
        import uvicorn

        from .app import create_app
    except ImportError as exc:
        raise ConfigError(f"textrisk serve needs the [serve] extra ({exc.name} is missing): "
                          "pip install 'textrisk[serve]'") from exc
    from ..scoring.analyzer import RiskAnalyzer

    config = ServeConfig(**{f.name: getattr(args, f.name) for f in fields(ServeConfig)})
    analyzer = RiskAnalyzer.from_pretrained(config.model, batch_size=config.batch_size, num_threads=config.threads,
                                            backend=config.backend)
    app = create_app(analyzer, config)
    print(f"textrisk serve: model loaded; listening on http://{config.host}:{config.port} (docs at /docs); "
          f"answering Host {', '.join(config.hosts())}", file=sys.stderr)
    uvicorn.run(app, host=config.host, port=config.port, log_level=args.log_level,
                timeout_graceful_shutdown=config.graceful_timeout_s, access_log=False)
    return 0
