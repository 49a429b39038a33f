"""Fine-tune a textrisk model from a YAML config (same as ``textrisk finetune``).

    python -m finetune.train --config finetune/configs/default.yaml [--output-dir DIR] [--max-train-samples N]

Re-running the same command resumes from the last checkpoint in the output folder.
"""

from __future__ import annotations

import sys

from textrisk.cli import main

if __name__ == "__main__":
    sys.exit(main(["finetune", *sys.argv[1:]]))
