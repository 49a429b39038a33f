"""``PromptModel``: a causal LM (GPT-2 family, Llama-architecture models...) that scores label strings.

Instead of generating an answer and parsing it, :class:`PromptModel` scores every allowed answer of a template
(``prompts/*.txt``, see :mod:`textrisk.models.prompt.templates`) by its **total log-likelihood** given the prompt,
including the template's end marker, and returns those log-likelihoods as logits. With an end marker the answers
are disjoint complete sequences, so ``softmax(logits)`` is exactly the model's distribution over the allowed labels
given that it answers with one of them: a valid label for every input, with probabilities. No length
normalisation: a per-token mean would no longer be a likelihood of the answer (and labels here are 1-3 tokens).

Scoring is batched and reuses every shared prefix through the KV cache (:mod:`textrisk.models.prompt.scorer`). Risk
signals ask one yes/no question per risk label, reusing the text's cache for all labels, with
``P(yes) = softmax(LL(" yes"), LL(" no"))``. :meth:`PromptModel.reference_scores` is the slow reference (one full
forward per label) the tests compare against. Training: :mod:`textrisk.training.prompt`.

A saved prompt model is a folder::

    textrisk_config.json          model_kind "prompt", labels, window, temperature, base model + fingerprint
    prompts/<task>.txt            the templates it was trained/evaluated with
    adapter_config.json, adapter_model.safetensors     peft LoRA adapter   (weights "adapter")
    config.json, model.safetensors                     merged full weights (weights "merged")
    (nothing: the base model as is)                                         (weights "base")
    tokenizer files, README.md
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ...errors import ModelLoadError
from ...labels.taxonomy import RISK_LABEL_INFO, RISK_LABELS
from ..backbone import (
    ADAPTER_CONFIG_NAME,
    ADAPTER_WEIGHTS_NAME,
    FULL_WEIGHTS_NAME,
    base_fingerprint,
    check_base_fingerprint,
    default_lora_targets,
    is_decoder_only,
    load_pretrained,
    load_tokenizer,
)
from ..batching import length_sorted_batches
from ..cards import render_card
from ..contract import ModelOutputs, ScoringMixin
from ..hub import CONFIG_NAME, PretrainedModel, config_from_saved, load_safetensors
from .config import PromptConfig
from .scorer import CachedScorer
from .smollm2 import relocate_smollm2
from .templates import (
    CompiledTemplate,
    PromptTemplate,
    TemplateError,
    compile_template,
    load_template,
    template_path,
)

__all__ = ["CONTENT_FREE_TEXTS", "TEMPLATES_SUBDIR", "WEIGHTS_TEXT", "PromptModel", "load_causal_lm"]

TEMPLATES_SUBDIR = "prompts"
ADAPTER_FILES = (ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME)
#: Content-free inputs for contextual calibration (the three of Zhao et al., 2021).
CONTENT_FREE_TEXTS = ("N/A", "", "[MASK]")
#: How a card describes each ``PromptConfig.weights`` value.
WEIGHTS_TEXT = {"adapter": "a LoRA adapter over the base model", "merged": "full weights (LoRA merged in)",
                "base": "the base model as is"}


def load_causal_lm(name_or_path: str | os.PathLike, trust_remote_code: bool = False) -> tuple[Any, Any]:
    """Load a decoder-only causal LM and its tokenizer (folder, Hub id or ``"<folder>::<file.gguf>"``).

    Raises:
        ModelLoadError: the model cannot be loaded, or it is not a decoder-only causal LM.
    """
    def decoder_only(config: Any) -> None:
        if not is_decoder_only(config):
            raise ModelLoadError(f"prompt mode needs a decoder-only causal LM; {str(name_or_path)!r} is a "
                                 f"{config.model_type!r} model (use head mode: TextRiskModel)")

    lm, tokenizer, _ = load_pretrained(relocate_smollm2(str(name_or_path)), "AutoModelForCausalLM", trust_remote_code,
                                       check_config=decoder_only)
    return lm, tokenizer


def _risk_variants(template: PromptTemplate) -> list[dict[str, str]]:
    """Placeholder values per risk label: the taxonomy's labels and definitions, else the template's own."""
    try:
        definitions = {label: RISK_LABEL_INFO[label].definition for label in RISK_LABELS}
    except KeyError:  # a taxonomy label without a definition: fall back to the template's
        definitions = dict(template.definitions)
    if not definitions:
        raise TemplateError(f"{template.source}: field 'definitions': textrisk.labels.taxonomy has no risk labels "
                            "and the template defines none")
    return [{"label": label.replace("_", " "), "definition": definition.rstrip(".")}
            for label, definition in definitions.items()]


def _risk_label_names(template: PromptTemplate) -> list[str]:
    return list(RISK_LABELS) or [label for label, _ in template.definitions]


def _load_templates(templates: dict[str, str | os.PathLike | PromptTemplate] | None) -> dict[str, PromptTemplate]:
    if templates is None:
        templates = {"sentiment": template_path("sentiment")}
        try:
            templates["risk_signals"] = template_path("risk_signals")
        except TemplateError:
            pass  # risk signals are optional; sentiment is what RiskAnalyzer needs
    return {task: t if isinstance(t, PromptTemplate) else load_template(t) for task, t in templates.items()}


class PromptModel(nn.Module, ScoringMixin, PretrainedModel):
    """A causal LM (optionally LoRA-wrapped) that classifies by scoring label strings of prompt templates.

    Implements the scoring-model contract (:mod:`textrisk.models.contract`), so ``RiskAnalyzer(prompt_model)``,
    evaluation and serving use it like a head-mode model; risk signals come from the ``risk_signals`` template (one
    yes/no question per label); there are no embeddings. ``model_kind = "prompt"``.
    """

    model_kind = "prompt"

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
            weights="adapter" if lora_r > 0 else "base",
            base_fingerprint=base_fingerprint(lm),
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

    def scorer(self) -> CachedScorer:
        """The KV-cache answer scorer over this model's current LM (a merged adapter included)."""
        return CachedScorer(self.hf_model, self.tokenizer.pad_token_id)

    @property
    def _device(self) -> torch.device:
        return next(self.lm.parameters()).device

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
        k, c = len(compiled.before), len(compiled.answers)
        out = torch.zeros(len(encoded), k, c, dtype=torch.float64)
        was_training = self.training
        self.eval()
        bar = tqdm(total=len(encoded), desc=desc, unit="text", disable=(not progress) if progress is not None else None)
        try:
            with torch.inference_mode():
                scorer = self.scorer()
                prefix = scorer.prefix_state(compiled)
                for index in length_sorted_batches(encoded, batch_size):
                    state = scorer.prompt_state(compiled, [encoded[i] for i in index], prefix)
                    scores = scorer.answer_log_likelihoods(state, compiled.answers)
                    out[index] = scores.view(len(index), k, c).double().cpu()
                    bar.update(len(index))
        finally:
            bar.close()
            self.train(was_training)
        return out

    # ----------------------------------------------------------------------------------------- contract
    @property
    def risk_labels(self) -> list[str]:
        """Risk labels of the ``risk_signals`` template; empty without one, or when that template leaves no room
        for a text in this model's window (``predict_risk`` then names the problem)."""
        if "risk_signals" not in self.templates:
            return []
        try:
            return _risk_label_names(self.compiled("risk_signals").template)
        except TemplateError:
            return []

    @property
    def risk_thresholds(self) -> dict[str, float]:
        """No tuned thresholds in prompt mode (0.5 for every label)."""
        return {}

    @property
    def embedding_size(self) -> int:
        """0: prompt mode has no pooled embeddings."""
        return 0

    def predict_outputs(self, texts: Sequence[str], *, risk: bool = False, embeddings: bool = False,
                        batch_size: int = 16, progress: bool | None = None) -> ModelOutputs:
        """Sentiment answer log-likelihoods and, if asked, P(yes) per risk label (see the contract)."""
        if embeddings:
            raise ModelLoadError("prompt-mode models have no embeddings (use a head-mode model)")
        logits, _ = self.predict(texts, batch_size=batch_size, progress=progress)
        return ModelOutputs(logits=logits, risk=self.predict_risk(texts, progress=progress) if risk else None)

    # ---------------------------------------------------------------------------------------------- API
    def predict(self, texts: Sequence[str], batch_size: int = 16, progress: bool | None = None,
                return_embeddings: bool = False, desc: str = "scoring") -> tuple[np.ndarray, None]:
        """Per-label total log-likelihoods of the sentiment answers, ``(len(texts), len(labels))``.

        ``softmax(logits / config.temperature)`` is the label distribution. The second element is None
        (no embeddings in prompt mode; ``return_embeddings=True`` is refused).
        """
        if return_embeddings:
            raise ModelLoadError("prompt-mode models have no embeddings (use a head-mode model)")
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

    def predict_risk(self, texts: Sequence[str], batch_size: int = 4, progress: bool | None = None) -> np.ndarray:
        """``P(yes)`` per text and risk label, ``(len(texts), len(risk_labels))``, one yes/no question per label.

        ``P(yes) = softmax(LL(yes answer), LL(no answer))``: each label is an independent binary question, so
        the probabilities need not sum to 1 (texts may carry several risks or none). Not temperature-scaled.
        """
        if "risk_signals" not in self.templates:
            raise ModelLoadError("this prompt model has no risk_signals template")
        compiled = self.compiled("risk_signals")
        scores = self._scores("risk_signals", texts, batch_size, progress, "risk signals")
        yes, no = compiled.template.labels.index("yes"), compiled.template.labels.index("no")
        return torch.softmax(scores[:, :, [yes, no]].double(), dim=-1)[..., 0].numpy()

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
        scorer = self.scorer()
        state = scorer.prompt_state(compiled, text_ids, scorer.prefix_state(compiled))
        answers = [compiled.answers[t] for t in targets]
        rows = torch.arange(len(answers), device=self._device)
        first = torch.tensor([a[0] for a in answers], device=self._device)
        rest, rest_tokens = scorer.continuation_log_probs(state, answers)
        total = scorer.log_probs(state.last)[rows, first].sum() + rest.sum()
        return -total / (len(answers) + int(rest_tokens.sum()))

    def merge_adapter(self) -> None:
        """Fold the LoRA weights into the LM, in place (faster scoring; saving then writes merged weights)."""
        if self.config.weights == "adapter":
            self.lm = self.lm.merge_and_unload()
            self.config.weights = "merged"

    # ================================================================================== persistence (save/load)
    # The shared work (staging, config last, card, format versions, Hub ids, push_to_hub) is in
    # textrisk.models.hub.PretrainedModel; this block writes and reads only what a prompt-mode folder holds.
    def save_pretrained(self, save_directory: str | os.PathLike, merged: bool = False,  # noqa: D417
                        model_card: str | None = None) -> Path:
        """Write the model folder (see :meth:`textrisk.models.hub.PretrainedModel.save_pretrained`).

        Args:
            merged: save full weights (LoRA merged in) instead of the adapter, or of no weights at all for a
                model without an adapter (which otherwise records only its base model).
        """
        return super().save_pretrained(save_directory, model_card=model_card, merged=merged)

    def _save_weights(self, staging: Path, merged: bool = False) -> dict[str, Any]:
        config = dataclasses.replace(self.config, labels=list(self.config.labels),
                                     templates={task: f"{task}.txt" for task in self.templates},
                                     template_versions={task: t.version for task, t in self.templates.items()})
        has_adapter = self.config.weights == "adapter"
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
        return dataclasses.asdict(config)

    def _stale_files(self, config: dict[str, Any]) -> tuple[str, ...]:
        return {"adapter": (FULL_WEIGHTS_NAME,), "merged": ADAPTER_FILES,
                "base": (FULL_WEIGHTS_NAME, *ADAPTER_FILES)}[config["weights"]]

    def _render_card(self, config: dict[str, Any]) -> str:
        return render_card("prompt", {"config": config, "weights_text": WEIGHTS_TEXT[config["weights"]]})

    @classmethod
    def migrate_config(cls, config: dict[str, Any], version: int) -> dict[str, Any]:
        """Format 1 (``prompt_config.json``) marked the kind with ``mode: "prompt"``; the envelope does now."""
        return {k: v for k, v in config.items() if k != "mode"}

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, base_model: str | None = None,  # noqa: D417
                        trust_remote_code: bool = False) -> PromptModel:
        """Load a folder or Hub repo written by :meth:`save_pretrained` (every file checked, errors name the file).

        Args:
            base_model: load onto this causal LM instead of the recorded one; it must match the fingerprint.
        """
        return super().from_pretrained(name_or_path, base_model=base_model, trust_remote_code=trust_remote_code)

    @classmethod
    def _load(cls, folder: Path, config_data: dict[str, Any], base_model: str | None = None,
              trust_remote_code: bool = False) -> PromptModel:
        config = config_from_saved(PromptConfig, config_data, folder / CONFIG_NAME)
        templates = {}
        for task, name in config.templates.items():
            path = folder / TEMPLATES_SUBDIR / name
            if not path.is_file():
                raise ModelLoadError(f"model folder {str(folder)!r} is missing {TEMPLATES_SUBDIR}/{name}")
            try:
                templates[task] = load_template(path)
            except TemplateError as exc:  # a damaged template in a saved folder is a load error, named
                raise ModelLoadError(f"model folder {str(folder)!r} has a bad template: {exc}") from exc
        needed = {"adapter": ADAPTER_FILES, "merged": (FULL_WEIGHTS_NAME,), "base": ()}[config.weights]
        for name in needed:
            if name.endswith(".safetensors"):
                load_safetensors(folder / name)  # missing or corrupt: named
            elif not (folder / name).is_file():
                raise ModelLoadError(f"model folder {str(folder)!r} is missing {name!r}")
        base = str(folder) if config.weights == "merged" else (base_model or config.base_model)
        lm, tokenizer = load_causal_lm(base, trust_remote_code=trust_remote_code)
        if config.weights != "merged":
            check_base_fingerprint(config.base_fingerprint, lm, base, str(folder), config.base_model)
        if config.weights == "adapter":
            from peft import PeftModel

            try:
                lm = PeftModel.from_pretrained(lm, folder)
            except Exception as exc:
                raise ModelLoadError(f"cannot apply adapter in {str(folder)!r} to {base!r}: {exc}") from exc
        if (folder / "tokenizer_config.json").is_file():
            tokenizer = load_tokenizer(folder, trust_remote_code)
        return cls(lm, tokenizer, config, templates).eval()
