"""Batch scoring on Ray Data: ``score_dataset``, ``score_files`` and ``textrisk score --engine ray``.

``score_dataset(ds, model=...)`` maps a Ray Dataset with a ``text`` column through :class:`DocumentScorer`, a
callable class run by a pool of actors: each actor loads one :class:`~textrisk.RiskAnalyzer` once and scores
batches of rows. The output keeps every input column except the text and adds flat score columns (``sentiment``,
``p_<label>``, ``risk_score``, ``flags``, ``signal_<label>``, ``num_chunks``, ``num_tokens``, ``warnings``,
``error``) and ``report``, the full ``RiskReport.to_dict()`` as JSON -- the same record local scoring writes.

``textrisk score --engine ray --input 'shards/*.jsonl' --output DIR`` reads JSONL/CSV/text or Parquet shards
(one read task per file, decoded by the package's decoding policy with ``--encoding``; each row carries
``source`` = its file and ``position`` = its row in that file, so sorting by ``(source, position)`` restores
input order; ``id`` is the input's id field, else ``line N`` as in local scoring; ``input`` holds the row's
other fields as JSON text, as the ``input`` object of local scoring), scores them on the Ray cluster of
``RAY_ADDRESS`` (default: a local one) with the options of local scoring (``--backend`` included) and writes
JSONL or Parquet shards to DIR (written to a temporary sibling folder, renamed into place when complete).

The module top imports only the standard library; ray and pyarrow load inside the functions (``[ray]`` extra).
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError, InputError, TextRiskError
from ..utils.validation import check_number

__all__ = ["DocumentScorer", "Written", "read_documents_dataset", "score_dataset", "score_files"]

_PARQUET = (".parquet", ".pq")


class DocumentScorer:
    """Ray Data callable class: one :class:`~textrisk.RiskAnalyzer` per actor, loaded once, scoring batches.

    Args:
        model: model folder or Hub id (None: the embedded default model); must be readable on every node.
        text_column: column holding the texts; rows with a non-string or empty text get ``error`` instead.
        error_column: an input column of errors found while reading (kept, and those rows are not scored).
        **analyzer_kwargs: passed to ``RiskAnalyzer.from_pretrained`` (batch_size, chunk_tokens, threshold, ...).
    """

    def __init__(self, model: str | None = None, text_column: str = "text", error_column: str = "error",
                 **analyzer_kwargs: Any):
        from ..scoring.analyzer import RiskAnalyzer

        self.analyzer = RiskAnalyzer.from_pretrained(model, **analyzer_kwargs)
        self.text_column = text_column
        self.error_column = error_column

    def schema(self):
        """The pyarrow schema of the columns this scorer adds (fixed per model, so shards always agree)."""
        import pyarrow as pa

        columns = [("error", pa.string()), ("sentiment", pa.string())]
        columns += [(f"p_{label}", pa.float64()) for label in self.analyzer.labels]
        columns += [("risk_score", pa.float64()), ("flags", pa.list_(pa.string()))]
        columns += [(f"signal_{label}", pa.float64()) for label in self.analyzer.signal_labels]
        columns += [("num_chunks", pa.int64()), ("num_tokens", pa.int64()), ("warnings", pa.list_(pa.string())),
                    ("report", pa.string())]
        return pa.schema(columns)

    def _reports(self, texts: list[Any], errors: list[str | None]) -> list[dict[str, Any] | str]:
        """A report dict or an error message per row; a text the model cannot read fails alone."""
        out: list[dict[str, Any] | str] = []
        for text, error in zip(texts, errors):
            if error:
                out.append(error)
            elif not isinstance(text, str):
                out.append(f"{self.text_column!r} is {type(text).__name__}, not a string")
            elif not text.strip():
                out.append(f"{self.text_column!r} is empty")
            else:
                out.append({})
        todo = [i for i, item in enumerate(out) if item == {}]
        try:
            reports = self.analyzer.score([texts[i] for i in todo], progress=False)
        except InputError:
            reports = []
            for i in todo:  # one row at fault: score the rows one by one
                try:
                    reports.extend(self.analyzer.score([texts[i]], progress=False))
                except InputError as exc:
                    reports.append(str(exc).replace("texts[0] contain", "text contains"))
        for i, report in zip(todo, reports):
            out[i] = report if isinstance(report, str) else report.to_dict()
        return out

    def __call__(self, batch):
        """Score one ``pyarrow.Table`` batch: its columns but the text, plus the score columns."""
        import pyarrow as pa

        texts = batch.column(self.text_column).to_pylist()
        errors = (batch.column(self.error_column).to_pylist() if self.error_column in batch.column_names
                  else [None] * len(texts))
        rows = []
        for item in self._reports(texts, errors):
            if isinstance(item, str):
                rows.append({"error": item})
                continue
            row = {"error": None, "sentiment": item["sentiment"], "risk_score": item["risk_score"],
                   "flags": item["flags"], "num_chunks": item["num_chunks"], "num_tokens": item["num_tokens"],
                   "warnings": item["warnings"], "report": json.dumps(item, ensure_ascii=False)}
            row.update({f"p_{label}": p for label, p in item["sentiment_scores"].items()})
            row.update({f"signal_{label}": p for label, p in (item["risk_signals"] or {}).items()})
            rows.append(row)
        scores = pa.Table.from_pylist(rows, schema=self.schema())
        kept = batch.drop_columns([c for c in (self.text_column, self.error_column) if c in batch.column_names])
        for name, column in zip(scores.column_names, scores.columns):
            kept = kept.append_column(name, column)
        return kept


def score_dataset(ds, model: str | None = None, *, batch_size: int = 256, concurrency: int | tuple[int, int] = 1,
                  num_cpus: float = 1, text_column: str = "text", forward_batch_size: int = 32,
                  **analyzer_kwargs: Any):
    """Score a Ray Dataset's ``text_column`` with ``concurrency`` actors, each holding one model.

    Args:
        ds: a ``ray.data.Dataset``; every column but the text is carried over (``id``, ``source``, ...).
        model: model folder (on a cluster: a path every node can read) or Hub id; None = the embedded model.
        batch_size: rows per ``map_batches`` batch (one ``RiskAnalyzer.score`` call each).
        concurrency: actors (or a ``(min, max)`` autoscaling range).
        num_cpus: CPUs reserved per actor; torch threads per actor default to the same number.
        forward_batch_size: chunks per forward pass (``RiskAnalyzer``'s ``batch_size``).
        **analyzer_kwargs: ``RiskAnalyzer.from_pretrained`` options (chunk_tokens, threshold, num_threads, ...).

    Returns:
        A lazy Dataset: the input columns but the text, plus the :meth:`DocumentScorer.schema` columns.
    """
    check_number(batch_size, "batch_size", integer=True, ge=1)
    for n in concurrency if isinstance(concurrency, tuple) else (concurrency,):
        check_number(n, "concurrency", integer=True, ge=1)
    check_number(num_cpus, "num_cpus", gt=0)
    if analyzer_kwargs.get("num_threads") is None:  # torch's default (every core) per actor oversubscribes
        analyzer_kwargs["num_threads"] = max(1, int(num_cpus))
    if model is not None and Path(model).exists():  # workers do not share the driver's working directory
        model = str(Path(model).resolve())
    kwargs = {"model": model, "text_column": text_column, "batch_size": forward_batch_size, **analyzer_kwargs}
    return ds.map_batches(DocumentScorer, fn_constructor_kwargs=kwargs,
                          batch_size=batch_size, batch_format="pyarrow", concurrency=concurrency,
                          num_cpus=num_cpus)


def _expand(patterns: list[str]) -> list[str]:
    paths: list[str] = []
    for pattern in patterns:
        found = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        for path in found:
            if Path(path).is_dir():
                paths.extend(sorted(str(p) for p in Path(path).iterdir() if p.is_file() and not p.name.startswith(".")))
            else:
                paths.append(path)
    if not paths:
        raise DataError(f"no input files match {' '.join(patterns)!r}")
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise DataError(f"input file not found: {missing[0]!r}")
    return [str(Path(p).resolve()) for p in paths]  # read by workers with another working directory


def _input_json(extra: dict[str, Any] | None) -> str | None:
    """The row's other fields as JSON text (None for plain-text input, which has none)."""
    from .output import dumps_json

    return None if extra is None else dumps_json({str(k): v for k, v in extra.items()})


def _read_shard(item: dict[str, Any], text_field: str, id_field: str, encoding: str = "utf-8"
                ) -> list[dict[str, Any]]:
    """Rows of one input file: id, text, source, position, error (as :func:`textrisk.data.documents.read_documents`)
    and ``input``, the row's other fields as JSON text."""
    path = item["path"]
    if path.lower().endswith(_PARQUET):
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        if text_field not in table.column_names:
            raise DataError(f"{path}: no {text_field!r} column (found {table.column_names}); choose one with "
                            "--text-field")
        texts = table.column(text_field).to_pylist()
        ids = table.column(id_field).to_pylist() if id_field in table.column_names else [None] * len(texts)
        others = table.drop_columns([text_field]).to_pylist()
        rows = []
        for position, (text, doc_id, extra) in enumerate(zip(texts, ids, others)):
            error = None
            if not isinstance(text, str):
                error, text = f"{text_field!r} is {type(text).__name__}, not a string", None
            elif not text.strip():
                error, text = f"{text_field!r} is empty", None
            rows.append({"id": str(doc_id) if doc_id not in (None, "") else f"row {position + 1}", "text": text,
                         "source": path, "position": position, "error": error,
                         "input": json.dumps(extra, ensure_ascii=False, default=str)})
        return rows
    from ..data.documents import read_documents

    documents = read_documents(path, text_field=text_field, id_field=id_field, encoding=encoding)
    return [{"id": doc.id, "text": doc.text, "source": path, "position": position, "error": doc.error,
             "input": _input_json(doc.extra)} for position, doc in enumerate(documents)]


def read_documents_dataset(paths: list[str], text_field: str = "text", id_field: str = "id",
                           encoding: str = "utf-8"):
    """A Ray Dataset of the documents in ``paths`` (files, folders or globs), one read task per file."""
    import ray.data

    from ..data.files import codec_name

    codec_name(encoding)  # an unknown encoding is named here, not in a Ray task
    files = _expand(paths)
    return ray.data.from_items([{"path": path} for path in files], override_num_blocks=len(files)).flat_map(
        _read_shard, fn_kwargs={"text_field": text_field, "id_field": id_field, "encoding": encoding})


def _publish(tmp: Path, output: Path) -> None:
    if output.exists():
        if any(output.iterdir()):
            raise ConfigError(f"--output {output} is not empty; choose a new folder")
        output.rmdir()
    os.replace(tmp, output)


def _user_error(exc: BaseException) -> BaseException:
    """The TextRiskError a Ray task raised, else ``exc`` itself.

    Ray Data re-raises a task's error as ``RayTaskError(UserCodeException)`` whose text holds the remote
    traceback; the original exception object does not always survive, so its last ``textrisk.errors.X: message``
    line is turned back into that error (a one-line message for ``main()``).
    """
    from .. import errors

    found = re.findall(r"textrisk\.errors\.(\w+): (.+)", str(exc))
    if found:
        name, message = found[-1]
        error_class = getattr(errors, name, None)
        if isinstance(error_class, type) and issubclass(error_class, TextRiskError):
            return error_class(message.strip())
    return exc


@dataclass
class Written:
    """What :func:`score_files` wrote: the shard format, how many input files, how many rows carry an error."""

    format: str
    files: int
    errors: int


def score_files(inputs: str | list[str], output: str | os.PathLike, model: str | None = None, *,
                output_format: str | None = None, concurrency: int | tuple[int, int] = 1, batch_size: int = 256,
                text_field: str = "text", id_field: str = "id", encoding: str = "utf-8",
                **scorer_options: Any) -> Written:
    """Score the documents of ``inputs`` (files, folders or globs; JSONL/CSV/text or Parquet) on Ray into the
    new or empty folder ``output`` as JSONL or Parquet shards (written to a temporary sibling folder, renamed into
    place when complete). ``scorer_options`` go to :func:`score_dataset` (``forward_batch_size``, ``chunk_tokens``,
    ``num_threads``, ...). Ray is the cluster of ``$RAY_ADDRESS``, else a local one.
    """
    output = Path(output)
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ConfigError(f"--output {output} must be a new or empty folder with --engine ray")
    files = _expand([inputs] if isinstance(inputs, str) else list(inputs))
    fmt = output_format or ("parquet" if all(f.lower().endswith(_PARQUET) for f in files) else "jsonl")
    try:
        import pyarrow  # noqa: F401
        import ray
    except ImportError as exc:
        raise ConfigError(f"--engine ray needs the [ray] extra ({exc.name} is missing): pip install 'textrisk[ray]'"
                          ) from exc

    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS") or None, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    ds = read_documents_dataset(files, text_field=text_field, id_field=id_field, encoding=encoding)
    scored = score_dataset(ds, model, batch_size=batch_size, concurrency=concurrency, **scorer_options)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output.name}.partial-", dir=output.parent))
    try:
        (scored.write_parquet if fmt == "parquet" else scored.write_json)(str(tmp))
        _publish(tmp, output)
    except Exception as exc:
        raise _user_error(exc) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = ray.data.read_parquet(str(output)) if fmt == "parquet" else ray.data.read_json(str(output))
    errors = rows.select_columns(["error"]).filter(lambda row: row["error"] is not None).count()
    return Written(fmt, len(files), errors)
