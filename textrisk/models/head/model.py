"""``TextRiskModel``: a transformer backbone with LoRA, a pooling rule and classification heads.

A saved model is a plain folder of Hugging Face formats::

    textrisk_config.json        labels, pooling, temperature, base model id and fingerprint
    adapter_config.json         } a peft LoRA adapter (loadable with ``peft.PeftModel`` without textrisk)
    adapter_model.safetensors   } -- or config.json + model.safetensors when saved ``merged=True``
    heads.safetensors           classification heads ("<head>.weight", "<head>.bias")
    tokenizer files, README.md  model card

The heads live outside the peft wrapper on purpose: merging or unloading the adapter can then never drop
or re-initialise them (the classic peft pitfall with ``modules_to_save`` classifiers).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ...errors import ConfigError, ModelLoadError
from ...labels.taxonomy import SENTIMENT_LABELS, validate_label_set
from ..backbone import (
    ADAPTER_CONFIG_NAME,
    ADAPTER_WEIGHTS_NAME,
    DEFAULT_BASE_MODEL,
    FULL_WEIGHTS_NAME,
    base_fingerprint,
    check_base_fingerprint,
    check_window,
    default_lora_targets,
    load_backbone,
    load_tokenizer,
)
from ..batching import length_sorted_batches
from ..cards import render_card
from ..contract import ModelOutputs, ScoringMixin
from ..hub import CONFIG_NAME, PretrainedModel, config_from_saved, load_safetensors
from .config import ModelConfig
from .ensemble import outputs_from_forward
from .layout import head_width, judgement_loss, target_width, validate_outputs

__all__ = ["HEADS_NAME", "TextRiskModel", "risk_head"]

HEADS_NAME = "heads.safetensors"


def risk_head(inputs: int, labels: int, hidden: int = 0) -> nn.Module:
    """The risk head: ``Linear(inputs, labels)``, or with ``hidden > 0`` ``Linear, GELU, Linear`` (saved as
    ``risk.0.*`` / ``risk.2.*``)."""
    if hidden == 0:
        return nn.Linear(inputs, labels)
    return nn.Sequential(nn.Linear(inputs, hidden), nn.GELU(), nn.Linear(hidden, labels))


class TextRiskModel(nn.Module, ScoringMixin, PretrainedModel):
    """Backbone (optionally LoRA-wrapped) + pooling + one linear head per task (``model_kind = "head"``).

    Use :meth:`from_base` to start fine-tuning and :meth:`from_pretrained` to load a saved model.
    """

    model_kind = "head"

    def __init__(self, backbone: nn.Module, tokenizer: Any, config: ModelConfig, head_dropout: float = 0.1):
        super().__init__()
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.config = config
        hidden = backbone.config.hidden_size
        self.dropout = nn.Dropout(head_dropout)
        self.heads = nn.ModuleDict({"sentiment": nn.Linear(hidden, len(config.labels))})
        if config.risk_labels:
            self.heads["risk"] = risk_head(hidden * max(1, len(config.risk_layers)),
                                           head_width(len(config.risk_labels), config.risk_outputs),
                                           config.risk_hidden)
        self.source_dir: Path | None = None  # folder loaded from, for its model card

    # ----------------------------------------------------------------------------------------- contract
    @property
    def risk_labels(self) -> list[str]:
        """Risk-signal labels (empty: no risk head)."""
        return list(self.config.risk_labels)

    @property
    def risk_thresholds(self) -> dict[str, float]:
        """Tuned flag threshold per risk label."""
        return dict(self.config.risk_thresholds)

    @property
    def embedding_size(self) -> int:
        """Width of the pooled embeddings (the backbone's hidden size)."""
        return int(self.backbone.config.hidden_size)

    # ----------------------------------------------------------------------------------------- building
    @classmethod
    def from_base(
        cls,
        base_model: str = DEFAULT_BASE_MODEL,
        labels: list[str] | tuple[str, ...] = SENTIMENT_LABELS,
        *,
        max_length: int = 128,
        lora_r: int = 8,
        lora_alpha: int = 16,
        lora_dropout: float = 0.1,
        lora_target_modules: list[str] | None = None,
        risk_labels: list[str] | tuple[str, ...] = (),
        trust_remote_code: bool = False,
    ) -> TextRiskModel:
        """A new model: ``base_model`` wrapped with a fresh LoRA adapter (``lora_r=0``: no adapter) and heads.

        ``risk_labels`` adds a multi-label risk head (one sigmoid output per label).
        """
        from peft import LoraConfig, get_peft_model

        loaded = load_backbone(base_model, trust_remote_code=trust_remote_code)
        check_window(max_length, loaded.model.config, f"base model {str(base_model)!r}")
        config = ModelConfig(
            base_model=str(base_model), labels=list(labels), pooling=loaded.pooling, max_length=max_length,
            adapter=lora_r > 0, base_fingerprint=base_fingerprint(loaded.model), risk_labels=list(risk_labels),
        )
        body = loaded.model
        if lora_r > 0:
            targets = lora_target_modules or default_lora_targets(loaded.model_type)
            has_pooler = any(".pooler" in f".{name}" for name, _ in body.named_modules())
            lora = LoraConfig(
                r=lora_r, lora_alpha=lora_alpha, lora_dropout=lora_dropout, target_modules=targets,
                # the BERT pooler is never used (we mean-pool), so an adapter there would be dead weight
                exclude_modules=r".*pooler.*" if has_pooler else None,
                fan_in_fan_out=loaded.model_type == "gpt2",  # GPT-2 stores its linears as transposed Conv1D
            )
            body = get_peft_model(body, lora)
        return cls(body, loaded.tokenizer, config)

    # ----------------------------------------------------------------------------------------- forward
    def encode(self, texts: list[str], max_length: int | None = None) -> dict[str, torch.Tensor]:
        """Tokenise ``texts`` with dynamic padding (to the longest text, at most ``max_length`` tokens)."""
        return self.tokenizer(
            texts, truncation=True, max_length=max_length or self.config.max_length,
            padding=True, return_tensors="pt", return_token_type_ids=False,
        )

    def pool(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Pooled text embedding, shape ``(batch, hidden)``."""
        return self.pool_features(input_ids, attention_mask)[0]

    def pool_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(pooled embedding, risk-head input)`` from one backbone pass: the risk input is the concatenation of
        the pooled states of ``config.risk_layers`` (None when the risk head reads the pooled embedding)."""
        layers = self.config.risk_layers if "risk" in self.heads else []
        out = self.backbone(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=bool(layers))
        pooled = self._pool_states(out.last_hidden_state, attention_mask)
        if not layers:
            return pooled, None
        return pooled, torch.cat([self._pool_states(out.hidden_states[layer], attention_mask) for layer in layers],
                                 dim=1)

    def _pool_states(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.config.pooling == "last":
            last = attention_mask.sum(dim=1).clamp(min=1) - 1
            return hidden[torch.arange(hidden.size(0), device=hidden.device), last]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor | None = None,
        risk_targets: torch.Tensor | None = None, risk_weight: float = 1.0,
        risk_pos_weight: torch.Tensor | None = None, risk_row_weight: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Return ``{"logits", "embeddings"}`` (+ ``"risk_logits"`` with a risk head) and, given targets, ``"loss"``.

        ``labels`` = -100 marks rows without a sentiment label; ``risk_targets`` are packed per row as in
        :mod:`textrisk.models.head.layout` (signals, topics, kind, severity, adverse; a row of only the signal
        columns is accepted), -1 where a row is not annotated, so one batch can mix sentiment-only,
        signals-only and fully judged rows (joint training). ``risk_pos_weight`` (one per risk label) up-weights
        positives of rare labels; ``risk_row_weight`` weighs rows in the risk loss.
        """
        pooled, risk_input = self.pool_features(input_ids, attention_mask)
        return self.forward_features(pooled, risk_input, labels, risk_targets, risk_weight, risk_pos_weight,
                                     risk_row_weight)

    def forward_features(
        self, pooled: torch.Tensor, risk_input: torch.Tensor | None, labels: torch.Tensor | None = None,
        risk_targets: torch.Tensor | None = None, risk_weight: float = 1.0,
        risk_pos_weight: torch.Tensor | None = None, risk_row_weight: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """:meth:`forward` from the encoder's outputs (:meth:`pool_features` or :meth:`encode_features`): the
        heads, their dropout and the losses."""
        features = self.dropout(pooled)
        logits = self.heads["sentiment"](features)
        out = {"logits": logits, "embeddings": pooled}
        if "risk" in self.heads:
            out["risk_logits"] = self.heads["risk"](features if risk_input is None else self.dropout(risk_input))
        losses = []
        if labels is not None and bool((labels != -100).any()):
            losses.append(nn.functional.cross_entropy(logits, labels, ignore_index=-100))
        if risk_targets is not None and "risk_logits" in out:
            risk_loss = self.risk_loss(out["risk_logits"], risk_targets, risk_pos_weight, risk_row_weight)
            if risk_loss is not None:
                losses.append(risk_weight * risk_loss)
        if losses:
            out["loss"] = sum(losses)
        return out

    def risk_loss(self, risk_logits: torch.Tensor, risk_targets: torch.Tensor,
                  pos_weight: torch.Tensor | None = None, row_weight: torch.Tensor | None = None
                  ) -> torch.Tensor | None:
        """The risk head's loss over its groups (:func:`~textrisk.models.head.layout.judgement_loss`); targets of
        only the signal columns are accepted; None when no row of the batch carries a risk target."""
        n_labels = len(self.config.risk_labels)
        width = target_width(n_labels)
        if risk_targets.shape[1] < width:  # signal columns only
            pad = risk_targets.new_full((risk_targets.shape[0], width - risk_targets.shape[1]), -1)
            risk_targets = torch.cat([risk_targets, pad], dim=1)
        if not bool((risk_targets >= 0).any()):
            return None
        return judgement_loss(risk_logits, risk_targets, n_labels, self.config.risk_outputs, pos_weight, row_weight)

    @torch.no_grad()
    def encode_features(self, input_ids: Sequence[Sequence[int]], batch_size: int = 64,
                        progress: bool | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """:meth:`pool_features` of tokenised texts, in input order, computed once in eval mode: when only the heads
        train, the encoder's outputs do not change, so training feeds these to :meth:`forward_features` instead of
        running the encoder at every step."""
        from tqdm.auto import tqdm

        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        pooled: torch.Tensor | None = None
        risk: torch.Tensor | None = None
        bar = tqdm(total=len(input_ids), desc="encoding (frozen encoder)", unit="text",
                   disable=(not progress) if progress is not None else None)
        try:
            for index in length_sorted_batches(input_ids, batch_size):
                batch = self.tokenizer.pad({"input_ids": [input_ids[i] for i in index]}, return_tensors="pt")
                values = self.pool_features(batch["input_ids"].to(device), batch["attention_mask"].to(device))
                if pooled is None:
                    pooled = torch.zeros((len(input_ids), values[0].shape[1]), device=device)
                    if values[1] is not None:
                        risk = torch.zeros((len(input_ids), values[1].shape[1]), device=device)
                rows = torch.as_tensor(index, device=device)
                pooled[rows] = values[0].float()
                if risk is not None:
                    risk[rows] = values[1].float()
                bar.update(len(index))
        finally:
            bar.close()
            self.train(was_training)
        return pooled, risk

    def predict_outputs(self, texts: Sequence[str], *, risk: bool = False, embeddings: bool = False,
                        batch_size: int = 32, progress: bool | None = None, desc: str = "scoring") -> ModelOutputs:
        """Sentiment logits, and risk-signal probabilities / pooled embeddings if asked, in one pass."""
        return outputs_from_forward(functools.partial(self.forward_outputs, desc=desc), texts, risk, embeddings,
                                    batch_size, progress, config=self.config)

    @torch.inference_mode()
    def forward_outputs(
        self, texts: Sequence[str], keys: tuple[str, ...] = ("logits",), batch_size: int = 32,
        progress: bool | None = None, desc: str = "scoring",
    ) -> dict[str, np.ndarray]:
        """Raw forward outputs (``logits``, ``risk_logits``, ``embeddings``) for ``texts``, in input order.

        Texts are tokenised once, sorted by length and padded per batch, so a batch of short texts pays for
        no padding. ``progress=None`` shows a tqdm bar only on a terminal.
        """
        from tqdm.auto import tqdm

        if "risk_logits" in keys and "risk" not in self.heads:
            raise ModelLoadError("this model has no risk head (it was trained for sentiment only)")
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        encoded = self.tokenizer(list(texts), truncation=True, max_length=self.config.max_length)["input_ids"]
        widths = {"logits": len(self.config.labels), "embeddings": self.backbone.config.hidden_size,
                  "risk_logits": head_width(len(self.config.risk_labels), self.config.risk_outputs)}
        results = {key: np.zeros((len(encoded), widths[key]), dtype=np.float32) for key in keys}
        bar = tqdm(total=len(encoded), desc=desc, unit="text", disable=(not progress) if progress is not None else None)
        try:
            for index in length_sorted_batches(encoded, batch_size):
                batch = self.tokenizer.pad({"input_ids": [encoded[i] for i in index]}, return_tensors="pt")
                out = self(batch["input_ids"].to(device), batch["attention_mask"].to(device))
                for key in keys:
                    results[key][index] = out[key].float().cpu().numpy()
                bar.update(len(index))
        finally:
            bar.close()
            self.train(was_training)
        return results

    def merge_adapter(self) -> None:
        """Fold the LoRA weights into the backbone (faster inference; heads are untouched)."""
        if self.config.adapter:
            self.backbone = self.backbone.merge_and_unload()
            self.config = dataclasses.replace(self.config, adapter=False)

    def add_risk_head(self, risk_labels: list[str] | tuple[str, ...], hidden: int = 0,
                      layers: Sequence[int] = (), outputs: Sequence[str] = ("signals",)) -> None:
        """Attach a fresh multi-label risk head (replacing any existing one): linear, or an MLP with a ``hidden``
        wide GELU layer, reading the pooled embedding or the concatenated pooled states of ``layers``; ``outputs``
        are its groups (:mod:`textrisk.models.head.layout`: the signals, or a judgement model's groups)."""
        n_layers = int(self.backbone.config.num_hidden_layers)
        if any(not 0 <= layer <= n_layers for layer in layers):
            raise ConfigError(f"layers {list(layers)} must be in [0, {n_layers}] for this backbone")
        self.config.risk_labels = list(validate_label_set(risk_labels, "risk_labels", minimum=1))
        self.config.risk_thresholds = {}
        self.config.risk_ensemble = {}
        self.config.risk_hidden = hidden
        self.config.risk_layers = list(layers)
        self.config.risk_outputs = validate_outputs(outputs)
        head = risk_head(self.backbone.config.hidden_size * max(1, len(layers)),
                         head_width(len(self.config.risk_labels), self.config.risk_outputs), hidden)
        self.heads["risk"] = head.to(self.heads["sentiment"].weight.device)

    # ----------------------------------------------------------------------------------------- persistence
    def save_pretrained(self, save_directory: str | os.PathLike, merged: bool = False,  # noqa: D417
                        model_card: str | None = None) -> Path:
        """Write the model folder (see :meth:`textrisk.models.hub.PretrainedModel.save_pretrained`).

        Args:
            merged: save full merged backbone weights instead of the (much smaller) LoRA adapter.
        """
        return super().save_pretrained(save_directory, model_card=model_card, merged=merged)

    def _save_weights(self, staging: Path, merged: bool = False) -> dict[str, Any]:
        from safetensors.torch import save_file

        config = dataclasses.replace(self.config)
        if self.config.adapter and not merged:
            peft_config = self.backbone.peft_config["default"]
            peft_config.base_model_name_or_path = self.config.base_model
            self.backbone.save_pretrained(staging, save_embedding_layers=False)
        else:
            body = self.backbone
            if self.config.adapter:  # merge a copy so this model keeps training as it was
                import copy

                body = copy.deepcopy(self.backbone).merge_and_unload()
            body.save_pretrained(staging, safe_serialization=True)
            config.adapter = False
        heads = {f"{name}.{key}": value.detach().cpu().contiguous()
                 for name, head in self.heads.items() for key, value in head.state_dict().items()}
        save_file(heads, staging / HEADS_NAME, metadata={"format": "pt"})
        self.tokenizer.save_pretrained(staging)
        return dataclasses.asdict(config)

    def _stale_files(self, config: dict[str, Any]) -> tuple[str, ...]:
        return (FULL_WEIGHTS_NAME,) if config["adapter"] else (ADAPTER_WEIGHTS_NAME, ADAPTER_CONFIG_NAME)

    def _render_card(self, config: dict[str, Any]) -> str:
        return render_card("head", {"config": config})

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, base_model: str | None = None,  # noqa: D417
                        trust_remote_code: bool = False, trainable: bool = False) -> TextRiskModel:
        """Load a folder (or Hub repo) written by :meth:`save_pretrained`.

        Args:
            base_model: load the adapter onto this backbone instead of the one recorded in the config;
                it must match the recorded fingerprint (architecture, sizes, vocabulary, sampled weights).
            trainable: keep the LoRA weights trainable (to continue fine-tuning).
        """
        return super().from_pretrained(name_or_path, base_model=base_model, trust_remote_code=trust_remote_code,
                                       trainable=trainable)

    @classmethod
    def _load(cls, folder: Path, config_data: dict[str, Any], base_model: str | None = None,
              trust_remote_code: bool = False, trainable: bool = False) -> TextRiskModel:
        config = config_from_saved(ModelConfig, config_data, folder / CONFIG_NAME)
        heads = load_safetensors(folder / HEADS_NAME)
        if config.adapter:
            for name in (ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME):
                if not (folder / name).is_file():
                    raise ModelLoadError(f"model folder {str(folder)!r} is missing {name!r}")
            load_safetensors(folder / ADAPTER_WEIGHTS_NAME)  # fail early, with the file's name, if corrupt
            base = base_model or config.base_model
        else:
            load_safetensors(folder / FULL_WEIGHTS_NAME)
            base = str(folder)
        loaded = load_backbone(base, trust_remote_code=trust_remote_code)
        if config.adapter:
            check_base_fingerprint(config.base_fingerprint, loaded.model, base, str(folder), config.base_model)
        try:
            check_window(config.max_length, loaded.model.config, str(folder / CONFIG_NAME))
        except ConfigError as exc:
            raise ModelLoadError(str(exc)) from exc
        if config.risk_layers and max(config.risk_layers) > loaded.model.config.num_hidden_layers:
            raise ModelLoadError(f"{str(folder / CONFIG_NAME)!r}: risk_layers {config.risk_layers} exceed the "
                                 f"backbone's {loaded.model.config.num_hidden_layers} layers")
        body = loaded.model
        if config.adapter:
            from peft import PeftModel

            try:
                body = PeftModel.from_pretrained(body, folder, is_trainable=trainable)
            except Exception as exc:
                raise ModelLoadError(f"cannot apply adapter in {str(folder)!r} to {base!r}: {exc}") from exc
        tokenizer = loaded.tokenizer
        if (folder / "tokenizer_config.json").is_file():
            tokenizer = load_tokenizer(folder, trust_remote_code)
        model = cls(body, tokenizer, config)
        state = {}
        for name, head in model.heads.items():
            for key, value in head.state_dict().items():
                saved = heads.get(f"{name}.{key}")
                if saved is None or saved.shape != value.shape:
                    raise ModelLoadError(
                        f"{HEADS_NAME} in {str(folder)!r} lacks a {name}.{key} of shape {tuple(value.shape)} "
                        f"(labels: {config.labels})"
                    )
                state[f"{name}.{key}"] = saved
        model.heads.load_state_dict(state)
        model.eval()
        return model
