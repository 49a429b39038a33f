"""Prompt mode: a decoder-only causal LM that classifies by scoring the answer strings of prompt templates.

::

    from textrisk.prompt import PromptModel, smollm2_base

    model = PromptModel.from_base(smollm2_base(), lora_r=0)     # default templates: prompts/*.txt
    model.fit_label_bias()                                      # zero-shot: contextual calibration
    logits, _ = model.predict(["Nokia cuts its outlook."])      # per-label answer log-likelihoods

Modules: :mod:`~textrisk.prompt.templates` (template files), :mod:`~textrisk.prompt.smollm2` (the default model),
:mod:`~textrisk.prompt.config` (``PromptConfig``), :mod:`~textrisk.prompt.scorer` (the KV-cache answer scorer),
:mod:`~textrisk.prompt.model` (``PromptModel``), :mod:`~textrisk.prompt.generate` (the generate-and-parse
baseline), :mod:`~textrisk.prompt.training` (fine-tuning), :mod:`~textrisk.prompt.bench` (``textrisk causal-bench``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..utils.lazy import lazy_exports

if TYPE_CHECKING:
    from .config import PromptConfig
    from .generate import parse_generated
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
    from .training import PromptTrainConfig, train_prompt_model

#: Public name -> the submodule that defines it. Imported on first access (PEP 562), so that importing a light
#: submodule (``textrisk.prompt.bench`` for ``textrisk --help``) does not import torch.
_LAZY = {
    "PromptConfig": "config",
    "parse_generated": "generate", "CONTENT_FREE_TEXTS": "model", "PromptModel": "model", "load_causal_lm": "model",
    "SMOLLM2_FILE": "smollm2", "SMOLLM2_INSTALL": "smollm2", "smollm2_base": "smollm2", "smollm2_path": "smollm2",
    "CompiledTemplate": "templates", "PromptTemplate": "templates", "TemplateError": "templates",
    "compile_template": "templates", "load_template": "templates", "parse_template": "templates",
    "template_path": "templates", "PromptTrainConfig": "training", "train_prompt_model": "training",
}

__all__ = [
    "CONTENT_FREE_TEXTS",
    "SMOLLM2_FILE",
    "SMOLLM2_INSTALL",
    "CompiledTemplate",
    "PromptConfig",
    "PromptModel",
    "PromptTemplate",
    "PromptTrainConfig",
    "TemplateError",
    "compile_template",
    "load_causal_lm",
    "load_template",
    "parse_generated",
    "parse_template",
    "smollm2_base",
    "smollm2_path",
    "template_path",
    "train_prompt_model",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
