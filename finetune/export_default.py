"""Copy a trained run's model files into ``textrisk/default_model`` (the model shipped in the package).

    python -m finetune.export_default --run runs/default

Only the model folder's files are copied (no checkpoints); the target is replaced file by file, atomically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from textrisk.models.head.model import TextRiskModel
from textrisk.models.hub import CONFIG_NAME, DEFAULT_MODEL_DIR
from textrisk.utils.atomic import atomic_write_bytes

MODEL_FILES = ("adapter_config.json", "adapter_model.safetensors", "heads.safetensors", "tokenizer.json",
               "tokenizer_config.json", "README.md", "training_results.json", CONFIG_NAME)


def main(argv: list[str] | None = None) -> int:
    """Validate that the run loads, then copy its files (config last, so a half copy never loads)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="output_dir of a finished training run")
    parser.add_argument("--target", default=str(DEFAULT_MODEL_DIR))
    args = parser.parse_args(argv)
    run, target = Path(args.run), Path(args.target)
    TextRiskModel.from_pretrained(run)  # refuses incomplete or corrupt runs
    for name in MODEL_FILES:
        if (run / name).is_file():
            atomic_write_bytes(target / name, (run / name).read_bytes())
    size = sum(p.stat().st_size for p in target.iterdir() if p.is_file())
    print(f"exported {run} -> {target} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
