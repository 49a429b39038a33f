"""The sentiment-recipe results table (benchmarks/sentiment.md) from finished training runs.

    HF_HUB_OFFLINE=1 python benchmarks/sentiment_table.py runs/lora_fast runs/full_ft ... \
        [--ensemble teachers=runs/full_ft,runs/lora_r64] [--out benchmarks/sentiment_results.json]

For each run folder it reads ``training_results.json`` (FPB test and TFNS valid metrics computed once at the end
of training, dev metrics on the held-out training rows) and adds what needs the model: accuracy on the FPB test
rows that are also in the AllAgree file, accuracy per agreement level, and scoring speed: the merged model on
the FPB test sentences, timed round-robin in this one process beside today's embedded default (the baseline of
the speed ratio; best of ``--rounds`` per model). ``--ensemble NAME=RUN,RUN`` adds the mean of those runs'
calibrated probabilities as a row (the distillation teacher; dev rows recomputed from the first run's config).
The markdown table replaces the block between the ``sentiment-table`` markers of benchmarks/sentiment.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
import torch

from textrisk.data.datasets import find_data_dir, load_benchmark
from textrisk.metrics import load_metric
from textrisk.metrics.reports import classification_report
from textrisk.models.head.model import TextRiskModel
from textrisk.training.config import TrainConfig
from textrisk.training.data import training_data
from textrisk.utils.atomic import atomic_write_json, atomic_write_text
from textrisk.utils.calibration import softmax

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "textrisk" / "default_model"
MARK_START, MARK_END = "<!-- sentiment-table:start -->", "<!-- sentiment-table:end -->"
LEVELS = ("allagree", "75agree", "66agree", "50agree")  # nested: a row's level is the strictest file holding it


def agreement_levels(data_dir: Path) -> dict[str, str]:
    """FPB text -> the strictest agreement level whose file contains it."""
    level: dict[str, str] = {}
    for name in reversed(LEVELS):  # 50agree first, overwritten by stricter levels
        with (data_dir / "financial_phrasebank" / f"sentences_{name}.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                level[row["text"]] = name
    return level


def _probabilities(model: TextRiskModel, texts: list[str]) -> np.ndarray:
    logits, _ = model.predict(texts, progress=False)
    return softmax(logits, model.config.temperature)


def _metrics(probs: np.ndarray, labels: list[int], names: list[str]) -> dict[str, float]:
    report = classification_report(labels, probs.argmax(axis=1).tolist(), names)
    return {"weighted_f1": report["weighted_f1"], "macro_f1": report["macro_f1"], "accuracy": report["accuracy"]}


def _by_level(predicted: np.ndarray, gold: np.ndarray, levels: np.ndarray) -> dict[str, float]:
    return {name: float((predicted[levels == name] == gold[levels == name]).mean()) for name in LEVELS}


def _load(folder: Path) -> TextRiskModel:
    model = TextRiskModel.from_pretrained(folder)
    model.merge_adapter()
    return model


def _time(models: dict[str, TextRiskModel], texts: list[str], rounds: int) -> dict[str, float]:
    """Sentences per second of each model (best of ``rounds``), timed round-robin."""
    best = {name: float("inf") for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            started = time.perf_counter()
            model.predict(texts, progress=False)
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: len(texts) / seconds for name, seconds in best.items()}


def _row(name: str, folder: Path, results: dict, fpb_probs: np.ndarray, gold: np.ndarray, levels: np.ndarray,
         config: str) -> dict:
    fpb, tfns = results["eval"]["fpb"], results["eval"]["tfns"]
    predicted = fpb_probs.argmax(axis=1)
    return {
        "recipe": name, "config": config, "folder": str(folder),
        "fpb_weighted_f1": fpb["weighted_f1"], "fpb_macro_f1": fpb["macro_f1"], "fpb_accuracy": fpb["accuracy"],
        "tfns_weighted_f1": tfns["weighted_f1"], "tfns_macro_f1": tfns["macro_f1"],
        "fpb_allagree_accuracy": float((predicted[levels == "allagree"] == gold[levels == "allagree"]).mean()),
        "fpb_accuracy_by_level": _by_level(predicted, gold, levels),
        "fpb_ece_calibrated": fpb["ece_calibrated"], "tfns_ece_calibrated": tfns["ece_calibrated"],
        "dev_weighted_f1": results["dev"]["weighted_f1"], "train_minutes": results["seconds"] / 60,
    }


def _ensemble_row(name: str, members: list[Path], models: dict[str, TextRiskModel], fpb_texts: list[str],
                  gold: np.ndarray, levels: np.ndarray, data_dir: Path) -> dict:
    ece = load_metric("calibration_error")

    def calibration_error(probs: np.ndarray, references: list[int]) -> float:
        return ece.compute(predictions=probs.tolist(), references=references)["ece"]

    saved = json.loads((members[0] / "train_config.json").read_text(encoding="utf-8"))
    config = TrainConfig.from_dict(saved, source=str(members[0] / "train_config.json"))
    _, dev, _ = training_data(config)
    labels = list(config.labels)
    tfns = load_benchmark("tfns", "test", data_dir, labels)
    sets = {"dev": (list(dev["text"]), list(dev["label"])), "fpb": (fpb_texts, gold.tolist()),
            "tfns": (list(tfns["text"]), list(tfns["label"]))}
    keys = ["default" if m.resolve() == DEFAULT_MODEL.resolve() else m.name for m in members]
    probs = {key: np.mean([_probabilities(models[k], texts) for k in keys], axis=0)
             for key, (texts, _) in sets.items()}
    scores = {key: _metrics(probs[key], sets[key][1], labels) for key in sets}
    predicted = probs["fpb"].argmax(axis=1)
    return {
        "recipe": name, "config": " + ".join(m.name for m in members), "folder": None,
        "fpb_weighted_f1": scores["fpb"]["weighted_f1"], "fpb_macro_f1": scores["fpb"]["macro_f1"],
        "fpb_accuracy": scores["fpb"]["accuracy"], "tfns_weighted_f1": scores["tfns"]["weighted_f1"],
        "tfns_macro_f1": scores["tfns"]["macro_f1"],
        "fpb_allagree_accuracy": float((predicted[levels == "allagree"] == gold[levels == "allagree"]).mean()),
        "fpb_accuracy_by_level": _by_level(predicted, gold, levels),
        "fpb_ece_calibrated": calibration_error(probs["fpb"], gold.tolist()),
        "tfns_ece_calibrated": calibration_error(probs["tfns"], sets["tfns"][1]),
        "dev_weighted_f1": scores["dev"]["weighted_f1"], "train_minutes": None,
        "sentences_per_second": None, "speed_vs_default": 1 / len(members),
    }


def markdown(rows: list[dict], baseline: dict) -> str:
    """The results table and the per-agreement-level accuracy table."""
    def f(x, digits=4):
        return "" if x is None else f"{x:.{digits}f}"

    best_dev = max((r for r in rows if r["folder"] is not None), key=lambda r: r["dev_weighted_f1"])
    lines = ["| recipe | FPB wF1 | FPB mF1 | FPB acc | FPB all-agree acc | TFNS wF1 | TFNS mF1 | ECE cal. FPB / TFNS | "
             "dev wF1 | train min | sentences/s (x default) | ship rule (+1 pt both, >= 0.9x) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        gain_fpb = r["fpb_weighted_f1"] - baseline["fpb_weighted_f1"]
        gain_tfns = r["tfns_weighted_f1"] - baseline["tfns_weighted_f1"]
        ships = gain_fpb >= 0.01 and gain_tfns >= 0.01 and (r["speed_vs_default"] or 0) >= 0.9
        speed = (f"{r['sentences_per_second']:.0f} ({r['speed_vs_default']:.2f}x)" if r["sentences_per_second"]
                 else f"({r['speed_vs_default']:.2f}x: {round(1 / r['speed_vs_default'])} models)")
        rule = "baseline" if r is baseline else f"{gain_fpb * 100:+.2f} / {gain_tfns * 100:+.2f} pt: " + (
            "**clears**" if ships else "no")
        name = f"**{r['recipe']}** (best dev)" if r is best_dev else r["recipe"]
        lines.append(f"| {name} | {f(r['fpb_weighted_f1'])} | {f(r['fpb_macro_f1'])} | {f(r['fpb_accuracy'])} | "
                     f"{f(r['fpb_allagree_accuracy'])} | {f(r['tfns_weighted_f1'])} | {f(r['tfns_macro_f1'])} | "
                     f"{f(r['fpb_ece_calibrated'], 3)} / {f(r['tfns_ece_calibrated'], 3)} | "
                     f"{f(r['dev_weighted_f1'])} | {f(r['train_minutes'], 1)} | {speed} | {rule} |")
    lines += ["", "FPB test accuracy by annotator agreement (a row's level is the strictest file that holds it):", "",
              "| recipe | " + " | ".join(LEVELS) + " |", "|---|" + "---|" * len(LEVELS)]
    for r in rows:
        lines.append(f"| {r['recipe']} | " + " | ".join(f(r["fpb_accuracy_by_level"][k]) for k in LEVELS) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Build the rows, write the JSON and the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="*", type=Path, help="training run folders (default: runs/*)")
    parser.add_argument("--ensemble", action="append", default=[], help="NAME=RUN,RUN: mean of calibrated probs")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "sentiment_results.json")
    parser.add_argument("--markdown", type=Path, default=ROOT / "benchmarks" / "sentiment.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data_dir = find_data_dir()
    runs = args.runs or sorted(p.parent for p in (ROOT / "runs").glob("*/training_results.json"))
    runs = [r for r in runs if (r / "training_results.json").is_file()]
    fpb = load_benchmark("fpb", "test", data_dir)
    texts, gold = list(fpb["text"]), np.asarray(fpb["label"])
    level_of = agreement_levels(data_dir)
    levels = np.asarray([level_of[t] for t in texts])

    models = {"default": _load(DEFAULT_MODEL), **{run.name: _load(run) for run in runs}}
    speed = _time(models, texts, args.rounds)
    rows = []
    for name, folder in [("default", DEFAULT_MODEL), *[(run.name, run) for run in runs]]:
        results = json.loads((folder / "training_results.json").read_text(encoding="utf-8"))
        config = "finetune/configs/default.yaml" if name == "default" else f"finetune/configs/sentiment/{name}.yaml"
        row = _row(name, folder, results, _probabilities(models[name], texts), gold, levels, config)
        row["sentences_per_second"] = speed[name]
        row["speed_vs_default"] = speed[name] / speed["default"]
        rows.append(row)
    for spec in args.ensemble:
        name, members = spec.split("=", 1)
        rows.append(_ensemble_row(name, [Path(m) for m in members.split(",")], models, texts, gold, levels, data_dir))
    atomic_write_json(args.out, {"rows": rows, "threads": args.threads, "rounds": args.rounds})
    table = markdown(rows, rows[0])
    print(table)
    if args.markdown.is_file():
        page = args.markdown.read_text(encoding="utf-8")
        if MARK_START in page and MARK_END in page:
            head, rest = page.split(MARK_START, 1)
            atomic_write_text(args.markdown, head + MARK_START + "\n" + table + MARK_END + rest.split(MARK_END, 1)[1])


if __name__ == "__main__":
    main()
