"""Copy a trained run's model files into ``textrisk/default_model`` (or ``--target``: an embedded model's folder).

    python -m finetune.export_default --run runs/default_judgement
    python -m finetune.export_default --run runs/commercial --target textrisk/commercial_model

Only the model folder's files are copied (no checkpoints); the target is replaced file by file, atomically.

``train_config.json`` in a model folder is the config whose split held out the rows the model's temperature was
fitted on (``init_from`` reads it to keep them held out). A run that continued from another model (``init_from``)
kept that model's held-out rows, so the exported folder gets that model's ``train_config.json``; a run from scratch
gets its own. The run's full config is in the model card and ``training_results.json``.

The model card is rendered again from the run's ``train_config.json`` and ``training_results.json`` with the
current template, with the held-out risk tests of ``--risk-report`` (the ``--out`` file of ``textrisk evaluate
MODEL --risk-data ...``) when given.

``training_manifest.json`` lists the config of every run behind the model, oldest first (the parent's manifest, or
its ``train_config.json``, then this run's): every training source the weights have seen, which the licence check of
the embedded models reads (:func:`textrisk.models.cards.commercial_problems`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from textrisk import __version__
from textrisk.models.cards import ModelCardData, ece_by_label, render_model_card
from textrisk.models.head.model import TextRiskModel
from textrisk.models.hub import CONFIG_NAME, DEFAULT_MODEL_DIR
from textrisk.training.data import init_model_path
from textrisk.utils.atomic import atomic_write_bytes, atomic_write_json

MANIFEST = "training_manifest.json"
MODEL_FILES = ("adapter_config.json", "adapter_model.safetensors", "heads.safetensors", "tokenizer.json",
               "tokenizer_config.json", "README.md", "training_results.json", CONFIG_NAME)


def render_card_of(run: Path, risk_report: dict | None = None) -> str:
    """The model card of a finished run, rendered with the current template (and held-out risk tests, if given)."""
    config = json.loads((run / "train_config.json").read_text(encoding="utf-8"))
    results = json.loads((run / "training_results.json").read_text(encoding="utf-8"))
    model_config = json.loads((run / CONFIG_NAME).read_text(encoding="utf-8"))
    risk = results.get("risk") or {}
    card = ModelCardData(
        base_model=config["base_model"], labels=list(config.get("labels") or model_config["labels"]),
        train_sources=results["sources"], dev_rows=results["dev_rows"], config=config,
        dev_metrics={k: v for k, v in results["dev"].items() if isinstance(v, float)},
        temperature=results["temperature"], eval_metrics=results["eval"], train_seconds=results["seconds"],
        textrisk_version=__version__, risk_labels=list(config.get("risk_labels") or []), risk_metrics=risk,
        risk_outputs=list(config.get("risk_outputs") or []) if config.get("risk_labels") else [],
        risk_calibration=ece_by_label(risk.get("calibration")),
        risk_tests=(risk_report or {}).get("risk", {}), risk_ensemble=bool(model_config.get("risk_ensemble")))
    return render_model_card(card, pooling=model_config.get("pooling", "mean"))


def main(argv: list[str] | None = None) -> int:
    """Validate that the run loads, then copy its files (config last, so a half copy never loads)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="output_dir of a finished training run")
    parser.add_argument("--target", default=str(DEFAULT_MODEL_DIR))
    parser.add_argument("--risk-report", help="`textrisk evaluate --out` JSON whose risk tests go in the card")
    args = parser.parse_args(argv)
    run, target = Path(args.run), Path(args.target)
    TextRiskModel.from_pretrained(run)  # refuses incomplete or corrupt runs
    config = json.loads((run / "train_config.json").read_text(encoding="utf-8"))
    split_config = run / "train_config.json"
    if config.get("init_from"):
        split_config = init_model_path(config["init_from"]) / "train_config.json"
    split_bytes = split_config.read_bytes() if split_config.is_file() else None
    manifest = [config]
    if config.get("init_from"):
        parent = init_model_path(config["init_from"])
        if (parent / MANIFEST).is_file():
            manifest = json.loads((parent / MANIFEST).read_text(encoding="utf-8"))["runs"] + manifest
        elif split_bytes is not None:
            manifest = [json.loads(split_bytes)] + manifest
    target.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        if (run / name).is_file():
            atomic_write_bytes(target / name, (run / name).read_bytes())
    report = json.loads(Path(args.risk_report).read_text(encoding="utf-8")) if args.risk_report else None
    atomic_write_bytes(target / "README.md", render_card_of(run, report).encode("utf-8"))
    if split_bytes is not None:
        atomic_write_bytes(target / "train_config.json", split_bytes)
    atomic_write_json(target / MANIFEST, {"runs": manifest})
    size = sum(p.stat().st_size for p in target.iterdir() if p.is_file())
    print(f"exported {run} -> {target} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
