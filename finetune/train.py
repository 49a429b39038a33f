"""Fine-tune a textrisk model from a YAML config: :func:`textrisk.training.run` (the same as ``textrisk finetune``).

    python -m finetune.train --config finetune/configs/default.yaml [--output-dir DIR] [--max-train-samples N]
    python -m finetune.train finetune/configs/sentiment/full_ft.yaml     # the same: a bare path is the config

Re-running the same command resumes from the last checkpoint in the output folder.
"""

from __future__ import annotations

import argparse
import json
import sys

from textrisk.errors import TextRiskError
from textrisk.training import run
from textrisk.training.cli import add_arguments, overrides_of, summary
from textrisk.training.cli import run as run_command
from textrisk.utils.runtime import quiet_libraries


def main(argv: list[str] | None = None) -> int:
    """Parse the options, train, print the run's summary; user errors are one line and exit status 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-"):
        argv = ["--config", *argv]
    parser = argparse.ArgumentParser(prog="python -m finetune.train", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    quiet_libraries()
    try:
        if not args.config or args.data or args.init_from or args.output:  # --from/--data/--output: adapt a model
            return run_command(args)
        result = run(args.config, progress=False if args.no_progress else None, **overrides_of(args))
    except (TextRiskError, OSError) as exc:
        print(f"finetune.train: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 2
    print(json.dumps(summary(result), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
