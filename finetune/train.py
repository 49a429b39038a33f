"""Fine-tune a textrisk model from a YAML config (same as ``textrisk finetune``).

    python -m finetune.train --config finetune/configs/default.yaml [--output-dir DIR] [--max-train-samples N]
    python -m finetune.train finetune/configs/sentiment/full_ft.yaml     # the same: a bare path is the config

Re-running the same command resumes from the last checkpoint in the output folder.
"""

from __future__ import annotations

import sys

from textrisk.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if args and not args[0].startswith("-"):
        args = ["--config", *args]
    sys.exit(main(["finetune", *args]))
