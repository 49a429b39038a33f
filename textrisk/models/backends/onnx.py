"""ONNX Runtime backend: the merged model exported once to ONNX, int8-quantised, cached, run by ONNX Runtime.

Export: ``torch.onnx.export`` of backbone + pooling + heads (inputs ``input_ids``, ``attention_mask``; outputs
``logits``, ``embeddings`` and ``risk_logits`` when the model has a risk head; batch and length dynamic).
``optimum``'s exporter knows Hugging Face task heads, not textrisk's pooling and heads, and its quantiser wraps
the same ONNX Runtime call, so textrisk calls ONNX Runtime directly.

Quantisation recipe (:data:`QUANTIZATION`): dynamic int8 (``onnxruntime.quantization.quantize_dynamic``) of the
``MatMul`` nodes whose second input is a weight, per output channel (per-tensor weights cost about 1 pt FPB
weighted F1), signed int8 weights; the embeddings (``Gather``), the classification heads and the first and last
transformer layers stay fp32 (``keep_fp32_layers``: ``"first_last"``, ``"none"`` or layer indices). What each
fp32 layer buys on the default model (``python -m benchmarks.int8_recipe``; ``score()`` on the FPB test part,
agreement with fp32 torch): every layer int8 is about 1.2x faster than the recipe but agrees on 97.8% of sentiment
labels (largest risk_score difference 0.34); the first layer alone fp32 agrees on 98.8%; the first and last
(the recipe) on 99.1%, FPB weighted F1 81.71 against 81.88, 99.92% of risk flags, 97.2% of kinds, largest
risk_score difference 0.14.

Cache: ``<user cache>/onnx/<key>/`` (:func:`textrisk.utils.cache.cache_dir`: ``$TEXTRISK_CACHE_DIR/onnx`` or the
platform's user cache folder, ``~/.cache/textrisk/onnx`` on Linux), never the model folder or the installed
package. ``key`` hashes the merged model's content hash, the recipe and the torch/onnxruntime versions, so a changed
model or recipe exports again and a stale entry is never used; when a model folder's weights change, the entries
exported from that folder's earlier weights are removed. Each entry is written to a temporary folder and renamed
into place, so a reader sees a complete entry or none; its ``recipe.json`` records the sha256 and size of the
``.onnx`` file, checked on every load: an entry whose file was edited, truncated or removed is rebuilt (with a
warning), never run.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ...errors import ModelLoadError
from ...utils.cache import CACHE_ENV
from ...utils.cache import cache_dir as user_cache_dir
from ..batching import length_sorted_batches
from ..head.layout import head_width
from ..identity import model_identity
from .base import Backend

__all__ = ["CACHE_ENV", "QUANTIZATION", "OnnxBackend", "cache_key"]

#: What is quantised, and how (recorded in each cache entry and part of its key).
QUANTIZATION: dict[str, Any] = {
    "op_types": ["MatMul"],
    "per_channel": True,
    "reduce_range": False,
    "weight_type": "QInt8",
    "matmul_const_b_only": True,
    "exclude_weight_patterns": ["heads."],
    "keep_fp32_layers": "first_last",
}
_FORMAT = 2  # 2: recipe.json records the model file's sha256
_FP32_NAME = "model.fp32.onnx"
_INT8_NAME = "model.int8.onnx"


class _Exportable(nn.Module):
    """Backbone + pooling + heads as a plain tensor-in, tuple-out module for the exporter."""

    def __init__(self, model: nn.Module, names: list[str]):
        super().__init__()
        self.model = model
        self.names = names

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(input_ids, attention_mask)
        return tuple(out[name] for name in self.names)


def _output_names(model: Any) -> list[str]:
    return ["logits", "embeddings"] + (["risk_logits"] if "risk" in model.heads else [])


def _merged_copy(model: Any) -> Any:
    """A merged, eval-mode copy: the graph then holds one weight per linear layer, no LoRA branch."""
    merged = copy.deepcopy(model).eval()
    merged.merge_adapter()
    return merged


def cache_key(model: Any, quantize: bool) -> str:
    """Hex digest of the (merged) model's content hash (:func:`textrisk.models.identity.model_identity`), the
    export recipe and the torch / onnxruntime versions."""
    import onnxruntime

    facts = {"format": _FORMAT, "quantize": quantize, "recipe": QUANTIZATION if quantize else None,
             "torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "model": model_identity(model)}
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _cache_root(cache_dir: str | os.PathLike | None) -> Path:
    return Path(cache_dir) if cache_dir is not None else user_cache_dir("onnx")


def _source_of(model: Any) -> str | None:
    source = getattr(model, "source_dir", None)
    return str(Path(source).resolve()) if source is not None else None


def _export(merged: Any, path: Path) -> None:
    names = _output_names(merged)
    sample = merged.encode(["A short sentence.", "A somewhat longer second sentence for the example batch."])
    axes = {"input_ids": {0: "batch", 1: "length"}, "attention_mask": {0: "batch", 1: "length"}}
    axes.update({name: {0: "batch"} for name in names})
    with torch.no_grad():
        torch.onnx.export(_Exportable(merged, names), (sample["input_ids"], sample["attention_mask"]), str(path),
                          input_names=["input_ids", "attention_mask"], output_names=names,
                          dynamic_axes=axes, opset_version=17, dynamo=False)


def _quantize(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source)).graph
    weights = {init.name for init in graph.initializer}
    patterns = QUANTIZATION["exclude_weight_patterns"]
    # the heads: every node that reads a weight whose name matches a pattern (e.g. "heads.sentiment.weight")
    excluded = [node.name for node in graph.node
                if any(name in weights and any(p in name for p in patterns) for name in node.input)]
    excluded += _fp32_layer_nodes([node.name for node in graph.node], QUANTIZATION["keep_fp32_layers"])
    quantize_dynamic(str(source), str(target), op_types_to_quantize=QUANTIZATION["op_types"],
                     per_channel=QUANTIZATION["per_channel"], reduce_range=QUANTIZATION["reduce_range"],
                     weight_type=getattr(QuantType, QUANTIZATION["weight_type"]), nodes_to_exclude=excluded,
                     extra_options={"MatMulConstBOnly": QUANTIZATION["matmul_const_b_only"]})


def _fp32_layer_nodes(names: list[str], keep: str | list[int]) -> list[str]:
    """Nodes of the transformer layers kept in fp32 (exporter names like ``/encoder/layer.3/...``, ``/h.3/``):
    ``keep`` is ``"first_last"``, ``"none"`` or a list of layer indices (negative: from the last)."""
    layer_of = {}
    for name in names:
        found = re.search(r"/(?:layer|layers|h)\.(\d+)/", name)
        if found:
            layer_of[name] = int(found.group(1))
    if not layer_of or keep == "none":
        return []
    count = max(layer_of.values()) + 1
    if keep == "first_last":
        kept = {min(layer_of.values()), count - 1}
    elif isinstance(keep, (list, tuple)) and all(isinstance(i, int) for i in keep):
        kept = {i % count for i in keep}
    else:
        raise ValueError(f"keep_fp32_layers must be 'first_last', 'none' or a list of layer indices, got {keep!r}")
    return [name for name, layer in layer_of.items() if layer in kept]


def _build_entry(merged: Any, entry: Path, quantize: bool, source: str | None) -> None:
    """Export (and quantise) into a temporary sibling folder, then rename it to ``entry``."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{entry.name}-"))
    try:
        _export(merged, staging / _FP32_NAME)
        if quantize:
            _quantize(staging / _FP32_NAME, staging / _INT8_NAME)
            (staging / _FP32_NAME).unlink()
        model_file = staging / (_INT8_NAME if quantize else _FP32_NAME)
        (staging / "recipe.json").write_text(json.dumps(
            {"quantize": quantize, "recipe": QUANTIZATION if quantize else None, "outputs": _output_names(merged),
             "file": model_file.name, "bytes": model_file.stat().st_size, "sha256": _sha256(model_file),
             "source": source},
            indent=2), encoding="utf-8")
        try:
            staging.rename(entry)
        except OSError:  # another process finished the same entry first: theirs is as good
            if not (entry / "recipe.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _recorded_source(entry: Path) -> str | None:
    """The model folder an entry was exported from (None: unknown or unreadable)."""
    try:
        return json.loads((entry / "recipe.json").read_text(encoding="utf-8")).get("source")
    except (OSError, ValueError, AttributeError):
        return None


def _entry_problem(entry: Path) -> str | None:
    """Why the cache entry cannot be used (None: complete, and its model file is the one exported)."""
    try:
        recipe = json.loads((entry / "recipe.json").read_text(encoding="utf-8"))
        path = entry / recipe["file"]
        if not path.is_file():
            return f"{recipe['file']} is missing"
        if path.stat().st_size != recipe["bytes"] or _sha256(path) != recipe["sha256"]:
            return f"{recipe['file']} does not match the sha256 recorded when it was exported"
    except FileNotFoundError:
        return "it is incomplete"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"its recipe.json is unreadable ({type(exc).__name__})"
    return None


class OnnxBackend(Backend):
    """An ONNX Runtime session with the forward outputs :class:`textrisk.RiskAnalyzer` reads from a model.

    Build it with :meth:`from_model`; ``path`` is the cached ``.onnx`` file it runs.
    """

    def __init__(self, path: Path, config: Any, tokenizer: Any, widths: dict[str, int], num_threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = num_threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for unreadable models
            raise ModelLoadError(f"cannot load ONNX model {str(path)!r}: {exc}") from exc
        self.path = path
        self.config = config
        self.tokenizer = tokenizer
        self.widths = widths
        self.outputs = list(widths)

    @classmethod
    def from_model(cls, model: Any, quantize: bool = True, num_threads: int | None = None,
                   cache_dir: str | os.PathLike | None = None) -> OnnxBackend:
        """Export ``model`` (a :class:`textrisk.TextRiskModel`) unless its cache entry exists; load the session."""
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise ModelLoadError("the ONNX backends need ONNX Runtime and onnx: pip install onnxruntime onnx") from exc
        root = _cache_root(cache_dir)
        merged = _merged_copy(model)
        kind = "int8" if quantize else "fp32"
        entry = root / f"{kind}-{cache_key(merged, quantize)}"
        problem = _entry_problem(entry) if entry.exists() else "absent"
        if problem is not None:
            if problem != "absent":
                warnings.warn(f"ONNX cache entry {entry} is damaged ({problem}); exporting it again", stacklevel=2)
                shutil.rmtree(entry, ignore_errors=True)
            source = _source_of(model)
            _build_entry(merged, entry, quantize, source)
            if source is not None:
                for stale in root.glob(f"{kind}-*"):  # earlier exports of this folder's previous weights
                    if stale != entry and _recorded_source(stale) == source:
                        shutil.rmtree(stale, ignore_errors=True)
        widths = {"logits": len(model.config.labels), "embeddings": merged.backbone.config.hidden_size}
        if "risk" in merged.heads:
            widths["risk_logits"] = head_width(len(model.config.risk_labels), model.config.risk_outputs)
        return cls(entry / (_INT8_NAME if quantize else _FP32_NAME), model.config, model.tokenizer, widths,
                   num_threads)

    def forward_outputs(self, texts: list[str], keys: tuple[str, ...] = ("logits",), batch_size: int = 32,
                        progress: bool | None = None, desc: str = "scoring") -> dict[str, np.ndarray]:
        """Like :meth:`textrisk.TextRiskModel.forward_outputs`: length-sorted batches, padded per batch."""
        from tqdm.auto import tqdm

        missing = [key for key in keys if key not in self.outputs]
        if missing:
            raise ModelLoadError(f"this model has no {missing} output (outputs: {self.outputs})")
        encoded = self.tokenizer(list(texts), truncation=True, max_length=self.config.max_length)["input_ids"]
        wanted = [self.outputs.index(key) for key in keys]
        results = {key: np.zeros((len(encoded), self.widths[key]), dtype=np.float32) for key in keys}
        bar = tqdm(total=len(encoded), desc=desc, unit="text", disable=(not progress) if progress is not None else None)
        try:
            for index in length_sorted_batches(encoded, batch_size):
                batch = self.tokenizer.pad({"input_ids": [encoded[i] for i in index]}, return_tensors="np")
                out = self.session.run(None, {"input_ids": batch["input_ids"].astype(np.int64),
                                              "attention_mask": batch["attention_mask"].astype(np.int64)})
                for key, position in zip(keys, wanted):
                    results[key][index] = out[position]
                bar.update(len(index))
        finally:
            bar.close()
        return results
