"""Rows written by ``textrisk score --input``: one record per input row, in input order, as JSONL, CSV or a table.

A record is ``{"id", "line", "error", <predictions>..., "input": {<the row's other fields>}}``. ``error`` is
present in every record: ``None`` when the row was scored, else why not (naming its line). The input row's own
fields live under ``input`` (``input.<name>`` columns in CSV), so a user column called ``sentiment`` or
``error`` can never be mistaken for, or overwrite, a prediction.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..utils.atomic import atomic_write_text
from ..utils.outputs import guard_output

__all__ = ["OUTPUT_SUFFIXES", "check_output_path", "dumps_json", "format_table", "make_record", "write_records"]

OUTPUT_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED = re.compile("[\ud800-\udfff\u2028\u2029\x85]")  # + characters str.splitlines() would break on


def dumps_json(obj: Any) -> str:
    """One-line JSON, non-ASCII kept readable; a lone surrogate (not encodable as UTF-8) and the line separators
    U+2028, U+2029 and U+0085 become ``\\uXXXX`` escapes, so the line is valid UTF-8, ``str.splitlines`` keeps
    it whole and ``json.loads`` gives back the exact string."""
    return _ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(obj, ensure_ascii=False))


def _printable(value: Any) -> str:
    """``value`` as text that any UTF-8 stream can take (lone surrogates become U+FFFD)."""
    return _SURROGATE.sub("\ufffd", value if isinstance(value, str) else str(value))


def check_output_path(output: Path, inputs: Mapping[str, Any] | None = None) -> None:
    """Refuse an output that has an unknown suffix, or that :func:`textrisk.utils.outputs.guard_output` refuses
    (an input, a folder...); create its folder.

    Called before any work, so a bad ``--output`` costs nothing.
    """
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise DataError(f"--output {str(output)!r}: unsupported suffix {output.suffix!r}; use .jsonl or .csv")
    guard_output(output, "--output", inputs=inputs)


def make_record(doc: Any, report: Any = None, error: str | None = None) -> dict[str, Any]:
    """The output record of ``doc`` (a :class:`textrisk.data.documents.Document`) and its report, or its error."""
    record: dict[str, Any] = {"id": doc.id, "line": doc.line, "error": error}
    if report is not None:
        record.update(report.to_dict())
    if doc.extra is not None:
        record["input"] = doc.extra
    return record


def _input_columns(records: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for record in records:
        seen.update(dict.fromkeys(map(str, record.get("input") or {})))
    return list(seen)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def _csv_row(record: dict[str, Any], labels: list[str], signals: list[str], inputs: list[str]) -> dict[str, str]:
    scores = record.get("sentiment_scores") or {}
    row = {"id": record["id"], "line": record.get("line") or "", "sentiment": record.get("sentiment") or ""}
    row.update({f"p_{label}": _number(scores.get(label)) for label in labels})
    if signals:
        row["risk_score"] = _number(record.get("risk_score"))
        row["flags"] = ";".join(record.get("flags") or [])
        row.update({f"signal_{label}": _number((record.get("risk_signals") or {}).get(label)) for label in signals})
    evidence = record.get("evidence") or []
    row["num_chunks"] = record.get("num_chunks", "")
    row["top_evidence"] = evidence[0]["text"] if evidence else ""
    row["warnings"] = "; ".join(record.get("warnings") or [])
    row["error"] = record["error"] or ""
    given = record.get("input") or {}
    for name in inputs:
        value = given.get(name, "")
        row[f"input.{name}"] = value if isinstance(value, str) else dumps_json(value)
    return {_column_name(key): _printable(value) for key, value in row.items()}


def _column_name(name: str) -> str:
    """A CSV column name any UTF-8 file can hold: lone surrogates of an input field's name become ``\\uXXXX``
    (escaped, not replaced, so two such fields keep two columns)."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", name)


def write_records(path: Path, records: list[dict[str, Any]], labels: list[str], signals: list[str]) -> None:
    """Write ``records`` atomically as CSV (``.csv``) or JSONL (any other suffix)."""
    if path.suffix.lower() == ".csv":
        inputs = _input_columns(records)
        buffer = io.StringIO()
        header = list(_csv_row({"id": "", "error": None}, labels, signals, inputs))
        writer = csv.DictWriter(buffer, fieldnames=header)
        writer.writeheader()
        writer.writerows(_csv_row(record, labels, signals, inputs) for record in records)
        atomic_write_text(path, buffer.getvalue())
    else:
        atomic_write_text(path, "".join(dumps_json(record) + "\n" for record in records))


def format_table(records: list[dict[str, Any]], labels: list[str], texts: list[str], signals: bool) -> str:
    """A readable table of ``records`` (``texts`` aligned with them) with evidence and warnings below."""
    extra = ["risk", "flags"] if signals else []
    header = ["id", "sentiment", *[f"p_{label[:3]}" for label in labels], *extra, "chunks", "text"]
    lines = [header]
    for record, text in zip(records, texts):
        text = " ".join((text or "").split())
        preview = text if len(text) <= 60 else text[:57] + "..."
        if record["error"] is not None:
            lines.append([record["id"], "ERROR", *[""] * (len(labels) + len(extra)), "", record["error"]])
            continue
        scores = record["sentiment_scores"]
        risk = [f"{record['risk_score']:.3f}", ",".join(record["flags"]) or "-"] if signals else []
        lines.append([record["id"], record["sentiment"], *[f"{scores[label]:.3f}" for label in labels], *risk,
                      str(record["num_chunks"]), preview])
    lines = [[_printable(cell) for cell in row] for row in lines]
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in lines]
    for record in records:
        name = _printable(record["id"])
        for label, items in (record.get("signal_evidence") or {}).items():
            for evidence in items[:1]:
                snippet = _printable(" ".join(evidence["text"].split())[:100])
                out.append(f"  {label} {name}: [{evidence['weight']:.2f}] {snippet}")
        for evidence in (record.get("evidence") or [])[:3]:
            snippet = _printable(" ".join(evidence["text"].split())[:100])
            out.append(f"  evidence {name}: [{evidence['label']} {evidence['weight']:.2f}] {snippet}")
        if record.get("sections"):  # filing reports (--files / --input-dir)
            parts = [f"{sec['key']} {sec['sentiment_scores'].get('negative', 0):.2f}" for sec in record["sections"]
                     if sec["num_passages"]]
            out.append(f"  sections {name} (P(neg)): " + ", ".join(parts))
        for evidence in (record.get("negative_evidence") or [])[:3]:
            snippet = _printable(" ".join(evidence["text"].split())[:100])
            out.append(f"  negative {name}: [{evidence['section'] or '-'} {evidence['weight']:.2f}] {snippet}")
        for warning in record.get("warnings") or []:
            out.append(f"  warning {name}: {warning}")
    return "\n".join(out) + "\n"
