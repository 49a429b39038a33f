"""Scoring backends: objects that run a loaded model's forward pass for :class:`textrisk.RiskAnalyzer`.

A backend implements the scoring calls of the model contract (:mod:`textrisk.models.contract`: ``predict_outputs``,
``predict``, ``predict_risk``) for a head-mode model, with the same outputs. The torch model itself is the
default backend.

- ``"torch"``: the model in fp32 (LoRA merged into the in-memory weights unless ``merge=False``).
- ``"bf16"``: the same model under ``torch.autocast("cpu", torch.bfloat16)``.
- ``"onnx"``: ONNX Runtime on an int8-quantised export (:mod:`textrisk.models.backends.onnx`, extra ``[onnx]``).
- ``"onnx-fp32"``: ONNX Runtime on the fp32 export (for comparison).
"""

from __future__ import annotations

from typing import Any

from ...errors import ConfigError

__all__ = ["BACKENDS", "make_backend", "merge_lora"]

BACKENDS = ("torch", "bf16", "onnx", "onnx-fp32")


def merge_lora(model: Any) -> bool:
    """Fold every LoRA adapter of ``model`` into its in-memory weights, keeping the adapter weights.

    Uses peft's ``merge_adapter`` (not ``merge_and_unload``): the forward pass then skips the LoRA branch,
    while the model's config still says "adapter" and ``save_pretrained`` still writes the small adapter
    (peft saves only the LoRA matrices). Meant for scoring: do not train a merged model further.
    Returns whether anything was merged.
    """
    from peft import PeftModel

    merged = False
    for module in model.modules():
        if isinstance(module, PeftModel) and module.peft_config:
            module.merge_adapter()
            merged = True
    return merged


def make_backend(model: Any, name: str = "torch", num_threads: int | None = None,
                 cache_dir: str | None = None) -> Any:
    """The forward-pass object for ``model`` (a :class:`textrisk.TextRiskModel`) under backend ``name``."""
    if name not in BACKENDS:
        raise ConfigError(f"backend must be one of {list(BACKENDS)}, got {name!r}")
    if name == "torch":
        return model
    if model.model_kind != "head":
        raise ConfigError(f"backend {name!r} needs a head-mode model (TextRiskModel); prompt-mode models "
                          "score with backend='torch'")
    if name == "bf16":
        from .autocast import AutocastBackend

        return AutocastBackend(model)
    from .onnx import OnnxBackend

    return OnnxBackend.from_model(model, quantize=name == "onnx", num_threads=num_threads, cache_dir=cache_dir)
