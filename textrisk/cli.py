"""The ``textrisk`` command line: score, evaluate, finetune.

    textrisk score "Nokia cuts its outlook."            # readable table
    textrisk score --input news.jsonl --output scored.jsonl
    textrisk evaluate [MODEL] --data fpb tfns --out report.json
    textrisk finetune --config finetune/configs/default.yaml
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import TextRiskError

__all__ = ["main"]

_BLOCK = 256  # documents scored between two flushes of the partial output (resume granularity)
_FILE_BLOCK = 1  # --files / --input-dir: every file is flushed (a folder of filings resumes file by file)


def _quiet_libraries() -> None:
    import warnings

    import transformers

    warnings.filterwarnings("ignore", category=FutureWarning)

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    import datasets

    datasets.disable_progress_bars()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _record(doc, report) -> dict[str, Any]:
    record: dict[str, Any] = {"id": doc.id}
    if doc.extra:
        record.update({k: v for k, v in doc.extra.items() if k != "id"})
    if report is None:
        record["error"] = doc.error
        return record
    record.update(report.to_dict())
    return record


def _csv_row(record: dict[str, Any], labels: list[str], signals: list[str]) -> dict[str, Any]:
    row = {"id": record["id"], "sentiment": record.get("sentiment", "")}
    for label in labels:
        score = record.get("sentiment_scores", {}).get(label)
        row[f"p_{label}"] = "" if score is None else f"{score:.6f}"
    if signals:
        risk = record.get("risk_score")
        row["risk_score"] = "" if risk is None else f"{risk:.6f}"
        row["flags"] = ";".join(record.get("flags", []))
        for label in signals:
            p = (record.get("risk_signals") or {}).get(label)
            row[f"signal_{label}"] = "" if p is None else f"{p:.6f}"
    evidence = record.get("evidence") or []
    row["num_chunks"] = record.get("num_chunks", "")
    row["top_evidence"] = evidence[0]["text"] if evidence else ""
    row["warnings"] = "; ".join(record.get("warnings", []))
    row["error"] = record.get("error", "")
    return row


def _table(records: list[dict[str, Any]], labels: list[str], texts: dict[str, str], signals: bool) -> str:
    extra = ["risk", "flags"] if signals else []
    header = ["id", "sentiment", *[f"p_{label[:3]}" for label in labels], *extra, "chunks", "text"]
    lines = [header]
    for record in records:
        text = " ".join(texts.get(record["id"], "").split())
        preview = text if len(text) <= 60 else text[:57] + "..."
        if "error" in record and "sentiment" not in record:
            lines.append([record["id"], "ERROR", *[""] * (len(labels) + len(extra)), "", record["error"]])
            continue
        scores = record["sentiment_scores"]
        risk = [f"{record['risk_score']:.3f}", ",".join(record["flags"]) or "-"] if signals else []
        lines.append([record["id"], record["sentiment"], *[f"{scores[label]:.3f}" for label in labels], *risk,
                      str(record["num_chunks"]), preview])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in lines]
    for record in records:
        for label, items in (record.get("signal_evidence") or {}).items():
            for evidence in items[:1]:
                snippet = " ".join(evidence["text"].split())[:100]
                out.append(f"  {label} {record['id']}: [{evidence['weight']:.2f}] {snippet}")
        for evidence in (record.get("evidence") or [])[:3]:
            snippet = " ".join(evidence["text"].split())[:100]
            out.append(f"  evidence {record['id']}: [{evidence['label']} {evidence['weight']:.2f}] {snippet}")
        if record.get("sections"):  # filing reports (--files / --input-dir)
            parts = [f"{sec['key']} {sec['sentiment_scores'].get('negative', 0):.2f}" for sec in record["sections"]
                     if sec["num_passages"]]
            out.append(f"  sections {record['id']} (P(neg)): " + ", ".join(parts))
        for evidence in (record.get("negative_evidence") or [])[:3]:
            snippet = " ".join(evidence["text"].split())[:100]
            out.append(f"  negative {record['id']}: [{evidence['section'] or '-'} {evidence['weight']:.2f}] {snippet}")
        for warning in record.get("warnings", []):
            out.append(f"  warning {record['id']}: {warning}")
    return "\n".join(out) + "\n"


def _write_output(path: Path, records: list[dict[str, Any]], labels: list[str], signals: list[str]) -> None:
    from ._io import atomic_write_text

    if path.suffix.lower() == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(_csv_row({"id": ""}, labels, signals)))
        writer.writeheader()
        writer.writerows(_csv_row(record, labels, signals) for record in records)
        atomic_write_text(path, buffer.getvalue())
    else:
        atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def _cmd_score(args: argparse.Namespace) -> int:
    from .data import Document, read_documents
    from .scoring import RiskAnalyzer

    from_files = bool(args.files or args.input_dir)
    if sum(map(bool, (args.texts, args.input, from_files))) != 1:
        raise SystemExit("textrisk score: give TEXT arguments, --input FILE, or --files/--input-dir (one of them)")
    if from_files:  # each file is one document (textrisk.filings): sections, prose only, negative evidence
        from .filings.documents import documents_from_args

        documents = documents_from_args(args.files, args.input_dir, args.glob)
    elif args.input:
        documents = read_documents(args.input, text_field=args.text_field, id_field=args.id_field)
    else:
        documents = [Document(id=str(i), text=t) for i, t in enumerate(args.texts, start=1)]
        for doc in documents:
            if not doc.text.strip():
                doc.error, doc.text = "text is empty", None
    analyzer = RiskAnalyzer.from_pretrained(args.model, chunk_tokens=args.chunk_tokens, batch_size=args.batch_size,
                                            num_threads=args.threads, max_evidence=args.evidence,
                                            threshold=args.threshold, signal_labels=args.labels)
    if from_files:
        from .filings import FilingAnalyzer

        analyzer = FilingAnalyzer(analyzer)
    block = _FILE_BLOCK if from_files else _BLOCK
    labels = analyzer.labels
    signals = analyzer.signal_labels if analyzer.has_risk_head else []
    output = Path(args.output) if args.output else None
    partial = output.with_name(output.name + ".partial.jsonl") if output else None
    records: list[dict[str, Any]] = []
    if partial and partial.exists():
        if args.resume:
            records = [json.loads(line) for line in partial.read_text(encoding="utf-8").splitlines() if line]
            print(f"resuming: {len(records)} of {len(documents)} documents already scored", file=sys.stderr)
        else:
            partial.unlink()
    if records and [r["id"] for r in records] != [d.id for d in documents[:len(records)]]:
        raise SystemExit(f"textrisk score: {partial} does not belong to this input; delete it or drop --resume")
    progress = False if args.no_progress else None
    from tqdm.auto import tqdm

    bar = tqdm(total=len(documents), initial=len(records), unit="doc", desc="documents",
               disable=True if progress is False or len(documents) <= block else None)
    for start in range(len(records), len(documents), block):
        batch = documents[start:start + block]
        valid = [doc for doc in batch if doc.error is None]
        reports = iter(analyzer.score([doc.text for doc in valid], progress=False if len(documents) > block
                                      and not from_files else progress))
        block_records = [_record(doc, None if doc.error else next(reports)) for doc in batch]
        records.extend(block_records)
        if partial:
            with partial.open("a", encoding="utf-8") as handle:
                handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in block_records)
        bar.update(len(batch))
    bar.close()
    errors = sum(1 for r in records if "error" in r and "sentiment" not in r)
    if errors:
        print(f"warning: {errors} row(s) could not be scored; they carry an 'error' field", file=sys.stderr)
    if output is None:
        texts = {doc.id: doc.text or "" for doc in documents}
        sys.stdout.write(_table(records, labels, texts, bool(signals)))
    else:
        _write_output(output, records, labels, signals)
        if partial:
            partial.unlink(missing_ok=True)
        print(f"wrote {len(records)} rows to {output}", file=sys.stderr)
    return 1 if errors and args.strict else 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluation import evaluate_model
    from .scoring import RiskAnalyzer

    analyzer = RiskAnalyzer.from_pretrained(args.model)
    report = evaluate_model(analyzer.model, args.data, out=args.out, data_dir=args.data_dir,
                            progress=False if args.no_progress else None, risk_data=args.risk_data)
    summary = {name: {k: round(m[k], 4) for k in ("accuracy", "weighted_f1", "macro_f1", "ece_raw",
                                                   "ece_calibrated")}
               for name, m in report["datasets"].items()}
    if "risk" in report:
        summary["risk"] = {k: round(report["risk"][k]["macro_f1"], 4) for k in ("threshold_0.5", "tuned")}
    print(json.dumps(summary, indent=2))
    return 0


def _cmd_finetune(args: argparse.Namespace) -> int:
    from .config import TrainConfig, read_yaml
    from .errors import ConfigError
    from .training import train

    overrides = {k: v for k, v in {"output_dir": args.output_dir, "max_train_samples": args.max_train_samples,
                                   "epochs": args.epochs, "data_dir": args.data_dir}.items() if v is not None}
    progress = False if args.no_progress else None
    mode = read_yaml(args.config).get("mode", "head")
    if mode == "prompt":  # a causal LM fine-tuned to answer prompts/ templates (textrisk.causal)
        from .causal import PromptTrainConfig, train_prompt_model

        result = train_prompt_model(PromptTrainConfig.from_yaml(args.config, **overrides), progress=progress)
    elif mode == "head":
        result = train(TrainConfig.from_yaml(args.config, **overrides), progress=progress)
    else:
        raise ConfigError(f"{args.config}: mode must be 'head' (classification heads) or 'prompt', got {mode!r}")
    summary = {"output_dir": str(result.output_dir), "steps": result.steps, "temperature": result.temperature,
               "resumed_from_step": result.resumed_from_step,
               "dev": {k: round(result.dev_metrics[k], 4) for k in ("accuracy", "weighted_f1", "macro_f1")},
               "eval": {name: {k: round(m[k], 4) for k in ("accuracy", "weighted_f1", "macro_f1")}
                        for name, m in result.eval_metrics.items()}}
    print(json.dumps(summary, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``textrisk`` argument parser (sub-commands: score, evaluate, finetune)."""
    parser = argparse.ArgumentParser(prog="textrisk", description="Financial text risk scoring.")
    sub = parser.add_subparsers(dest="command", required=True)

    score = sub.add_parser("score", help="score texts or a file of documents")
    score.add_argument("texts", nargs="*", metavar="TEXT", help="texts to score")
    score.add_argument("--input", help="plain text (one document per line), .jsonl or .csv file")
    score.add_argument("--files", nargs="+", metavar="FILE", help="score each .txt/.htm/.html file as one document "
                                                                  "(id = file name; sections, prose only)")
    score.add_argument("--input-dir", help="score every file of this folder matching --glob as one document")
    score.add_argument("--glob", default="*.txt", help="file pattern for --input-dir (default *.txt)")
    score.add_argument("--output", help="write .jsonl or .csv (default: a table on stdout)")
    score.add_argument("--model", help="model folder or Hub id (default: the embedded model)")
    score.add_argument("--text-field", default="text", help="text column/field of JSONL/CSV input")
    score.add_argument("--id-field", default="id", help="id column/field (default: line numbers)")
    score.add_argument("--batch-size", type=int, default=32)
    score.add_argument("--chunk-tokens", type=int, help="chunk size for long documents (default 64)")
    score.add_argument("--evidence", type=int, default=5, help="evidence chunks per long document")
    score.add_argument("--threads", type=int, help="torch CPU threads")
    score.add_argument("--threshold", type=float, help="flag risk signals at or over this probability "
                                                       "(default: the model's tuned per-label thresholds)")
    score.add_argument("--labels", nargs="+", metavar="LABEL", help="report only these risk signals")
    score.add_argument("--resume", action="store_true", help="continue an interrupted --output run")
    score.add_argument("--strict", action="store_true", help="exit 1 if any row could not be scored")
    score.add_argument("--no-progress", action="store_true")
    score.set_defaults(func=_cmd_score)

    evaluate = sub.add_parser("evaluate", help="evaluate a model on benchmarks or a labelled file")
    evaluate.add_argument("model", nargs="?", help="model folder or Hub id (default: the embedded model)")
    evaluate.add_argument("--data", nargs="+", default=["fpb", "tfns"], help="fpb, tfns or labelled CSV/JSONL")
    evaluate.add_argument("--out", default="report.json", help="JSON report (PNG written beside it)")
    evaluate.add_argument("--data-dir", help="shared data folder (default ../shared/data)")
    evaluate.add_argument("--risk-data", help="labelled risk file (e.g. finetune/risk_data/gold_test.jsonl)")
    evaluate.add_argument("--no-progress", action="store_true")
    evaluate.set_defaults(func=_cmd_evaluate)

    finetune = sub.add_parser("finetune", help="LoRA fine-tuning from a YAML config (resumes if interrupted)")
    finetune.add_argument("--config", required=True)
    finetune.add_argument("--output-dir")
    finetune.add_argument("--max-train-samples", type=int)
    finetune.add_argument("--epochs", type=float)
    finetune.add_argument("--data-dir")
    finetune.add_argument("--no-progress", action="store_true")
    finetune.set_defaults(func=_cmd_finetune)

    from . import causal_bench

    bench = sub.add_parser("causal-bench", help="causal LM: zero-shot / LoRA prompt mode vs head mode (SmolLM2)")
    causal_bench.add_arguments(bench)
    bench.set_defaults(func=causal_bench.run)

    from .filings import compare_command

    compare = sub.add_parser("compare", help="year-over-year change between two filings (text or HTML files)")
    compare_command.add_arguments(compare)
    compare.set_defaults(func=compare_command.run)

    from .forecast import bench as forecast_bench

    forecast = sub.add_parser("forecast-bench", help="StockNet benchmark of the text + price LSTM forecaster")
    forecast_bench.add_arguments(forecast)
    forecast.set_defaults(func=forecast_bench.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``textrisk`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    _quiet_libraries()
    try:
        return args.func(args)
    except TextRiskError as exc:
        print(f"textrisk {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
