"""Prompt mode: a decoder-only causal LM that classifies by scoring the answer strings of prompt templates.

::

    from textrisk.models.prompt import PromptModel, smollm2_base

    model = PromptModel.from_base(smollm2_base(), lora_r=0)     # default templates: prompts/*.txt
    model.fit_label_bias()                                      # zero-shot: contextual calibration
    logits, _ = model.predict(["Nokia cuts its outlook."])      # per-label answer log-likelihoods

Modules: :mod:`~textrisk.models.prompt.templates` (template files), :mod:`~textrisk.models.prompt.smollm2` (the
default model), :mod:`~textrisk.models.prompt.config` (``PromptConfig``), :mod:`~textrisk.models.prompt.scorer` (the
KV-cache answer scorer), :mod:`~textrisk.models.prompt.model` (``PromptModel``). Fine-tuning is
:mod:`textrisk.training.prompt`; the generate-and-parse baseline and ``textrisk causal-bench`` live in the checkout's
``benchmarks/causal/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...utils.lazy import lazy_exports

if TYPE_CHECKING:
    from .config import PromptConfig
    from .model import CONTENT_FREE_TEXTS, PromptModel, load_causal_lm
    from .smollm2 import SMOLLM2_FILE, SMOLLM2_INSTALL, smollm2_base, smollm2_path
    from .templates import (
        CompiledTemplate,
        PromptTemplate,
        TemplateError,
        compile_template,
        load_template,
        parse_template,
        template_path,
    )

#: Public name -> the submodule that defines it. Imported on first access (PEP 562), so that importing a light
#: submodule (the templates, for a config check) does not import torch.
_LAZY = {
    "PromptConfig": "config",
    "CONTENT_FREE_TEXTS": "model", "PromptModel": "model", "load_causal_lm": "model",
    "SMOLLM2_FILE": "smollm2", "SMOLLM2_INSTALL": "smollm2", "smollm2_base": "smollm2", "smollm2_path": "smollm2",
    "CompiledTemplate": "templates", "PromptTemplate": "templates", "TemplateError": "templates",
    "compile_template": "templates", "load_template": "templates", "parse_template": "templates",
    "template_path": "templates",
}

__all__ = [
    "CONTENT_FREE_TEXTS",
    "SMOLLM2_FILE",
    "SMOLLM2_INSTALL",
    "CompiledTemplate",
    "PromptConfig",
    "PromptModel",
    "PromptTemplate",
    "TemplateError",
    "compile_template",
    "load_causal_lm",
    "load_template",
    "parse_template",
    "smollm2_base",
    "smollm2_path",
    "template_path",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
