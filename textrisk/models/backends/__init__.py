"""Scoring backends: objects that run a loaded model's forward pass for :class:`textrisk.RiskAnalyzer`.

A backend implements the scoring calls of the model contract (:mod:`textrisk.models.contract`: ``predict_outputs``,
``predict``, ``predict_risk``) for a head-mode model, with the same outputs. The torch model itself is one of them.

- ``"auto"`` (the default): ``TEXTRISK_BACKEND`` if set; else ``"onnx"`` (int8) for head-mode models, the fastest
  backend measured at every batch size (as fast as bf16 on large batches on a CPU with native bfloat16, about 3x
  faster one text at a time) within 0.3 pt FPB weighted F1 and 99% label agreement of fp32; ``"torch"`` for
  prompt-mode models. If the ONNX backend cannot be built (ONNX Runtime missing, an export that fails), scoring
  goes on with ``"bf16"`` on a CPU with native bfloat16 (AVX512-BF16, AMX, ARM BF16) or ``"torch"`` elsewhere, and
  a warning says why.
- ``"torch"``: the model in fp32 (LoRA merged into the in-memory weights unless ``merge=False``).
- ``"bf16"``: the same model under ``torch.autocast("cpu", torch.bfloat16)`` (slow on a CPU without native BF16).
- ``"onnx"``: ONNX Runtime on an int8-quantised export (:mod:`textrisk.models.backends.onnx`; exported once per
  model and cached).
- ``"onnx-fp32"``: ONNX Runtime on the fp32 export (for comparison).
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass
from typing import Any

from ...errors import ConfigError

__all__ = ["BACKENDS", "BACKEND_ENV", "BACKEND_HELP", "BackendChoice", "build_backend", "choose_backend",
           "make_backend", "merge_lora"]

BACKENDS = ("auto", "torch", "bf16", "onnx", "onnx-fp32")
#: Environment variable that pins what ``"auto"`` means (one of :data:`BACKENDS` other than ``"auto"``).
BACKEND_ENV = "TEXTRISK_BACKEND"
#: ``--backend``'s help, for every command that scores.
BACKEND_HELP = (f"scoring backend: auto (default: ONNX Runtime int8; torch for prompt-mode models; ${BACKEND_ENV} "
                "pins it), torch (fp32), bf16, onnx (int8) or onnx-fp32")


@dataclass(frozen=True)
class BackendChoice:
    """The backend a model scores with, and why (``RiskAnalyzer.backend_choice``)."""

    name: str
    reason: str


def choose_backend(model: Any, name: str = "auto") -> BackendChoice:
    """What ``name`` means for ``model`` on this machine: ``"auto"`` resolved as the module docstring says; any
    other name is taken as asked."""
    if name not in BACKENDS:
        raise ConfigError(f"backend must be one of {list(BACKENDS)}, got {name!r}")
    if name != "auto":
        return BackendChoice(name, "asked for")
    pinned = os.environ.get(BACKEND_ENV, "").strip()
    if pinned:
        if pinned not in BACKENDS or pinned == "auto":
            raise ConfigError(f"{BACKEND_ENV}={pinned!r}: must be one of {list(BACKENDS[1:])}")
        return BackendChoice(pinned, f"{BACKEND_ENV}={pinned}")
    if getattr(model, "model_kind", "head") != "head":
        return BackendChoice("torch", "prompt-mode models score with torch")
    from ...utils.cpu import cpu_info

    cpu = cpu_info()
    dot = "with" if cpu.int8_dot else "without"
    return BackendChoice("onnx", f"int8 through ONNX Runtime, the fastest backend within the accuracy bars "
                                 f"({cpu.model}, {dot} VNNI)")


def _fallback() -> str:
    """What ``"auto"`` runs when the ONNX backend cannot be built: bf16 on a CPU with native bfloat16, else torch."""
    from ...utils.cpu import cpu_info

    return "bf16" if cpu_info().native_bf16 else "torch"


def build_backend(model: Any, name: str = "auto", num_threads: int | None = None,
                  cache_dir: str | None = None) -> tuple[Any, BackendChoice]:
    """The forward-pass object for ``model`` and the :class:`BackendChoice` it came from.

    A backend asked for by name that cannot be built raises; one chosen by ``"auto"`` falls back (bf16 or torch, see
    the module docstring) with a warning naming the reason.
    """
    choice = choose_backend(model, name)
    try:
        runner = make_backend(model, choice.name, num_threads=num_threads, cache_dir=cache_dir)
    except Exception as exc:
        if name != "auto" or choice.name == "torch":
            raise
        instead = _fallback() if choice.name != "bf16" else "torch"
        why = f"backend {choice.name!r} could not be built ({type(exc).__name__}: {exc})"
        warnings.warn(f"textrisk: {why}; scoring with {instead!r} instead (slower)", RuntimeWarning, stacklevel=2)
        runner, choice = make_backend(model, instead), BackendChoice(instead, why)
    from ...utils.runtime import verbose

    if verbose():  # --verbose / TEXTRISK_VERBOSE=1: say which backend runs and why
        print(f"textrisk: scoring with backend {choice.name!r} ({choice.reason})", file=sys.stderr)
    return runner, choice


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
    """The forward-pass object for ``model`` (a :class:`textrisk.TextRiskModel`) under backend ``name`` (any of
    :data:`BACKENDS` but ``"auto"``: see :func:`build_backend`)."""
    if name not in BACKENDS or name == "auto":
        raise ConfigError(f"backend must be one of {list(BACKENDS[1:])}, got {name!r}")
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
