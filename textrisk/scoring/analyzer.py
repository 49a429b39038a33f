"""Document scoring: ``RiskAnalyzer`` turns texts of any length into calibrated ``RiskReport`` objects.

Long documents: a text that fits the model window is read whole. A longer one is cut into sentence-aligned
chunks of at most ``chunk_tokens`` tokens (short, like the sentences the model was trained on), each chunk is
scored by the one forward engine (:mod:`textrisk.scoring.engine`), and the chunks are aggregated into the document's
report by :mod:`textrisk.scoring.report` (token-weighted mean of the calibrated distributions, evidence, risk
signals, a judgement model's kind, severity and ``risk_score``). The result depends on ``chunk_tokens`` (the model
reads short and long chunks differently; docs/results.md measures how much).

Filings (sections, prose only, negative evidence, year-over-year comparison) build on this class:
:class:`textrisk.filings.analyzer.FilingAnalyzer`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.chunking import Chunk, chunk_document
from ..data.inputs import check_texts, validated_checks
from ..errors import ConfigError, InputError, ModelLoadError
from ..labels.taxonomy import KINDS
from ..models.backbone import resolve_model_path
from ..models.backends import BackendChoice
from ..models.contract import ScoringModel, as_scoring_model
from ..models.hub import SCORING_KINDS, load_model, model_kind_of
from ..utils.runtime import quiet_third_party
from .engine import PassageOutputs, run_forward
from .report import CHUNKS, RiskReport, add_judgement, add_signals, reported_risk, sentiment_report

__all__ = ["RiskAnalyzer"]



def _check_int(name: str, value: Any, low: int, high: int | None = None) -> None:
    """ConfigError naming ``name`` unless ``value`` is an int in ``[low, high]``."""
    span = f"[{low}, {high}]" if high is not None else f">= {low}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or \
            (high is not None and value > high):
        raise ConfigError(f"{name} must be an integer {span}, got {value!r}")


class RiskAnalyzer:
    """Score financial texts with a textrisk model.

    Args:
        model: a loaded scoring model (:class:`~textrisk.models.contract.ScoringModel`: head or prompt mode).
        batch_size: chunks per forward pass.
        chunk_tokens: token budget of a chunk when a document is longer than the model window
            (default: 64, about two sentences of the kind the model was trained on).
        max_evidence: evidence chunks kept per multi-chunk document.
        num_threads: torch CPU threads while scoring (default: torch's setting).
        threshold: flag every risk signal at or over this probability (default: the model's tuned thresholds).
        signal_labels: report only these risk signals (default: all the model has).
        backend: what runs the forward passes (an object from :func:`textrisk.models.backends.make_backend`);
            default: ``model`` itself.
    """

    def __init__(self, model: ScoringModel, batch_size: int = 32, chunk_tokens: int | None = None,
                 max_evidence: int = 5, num_threads: int | None = None, threshold: float | None = None,
                 signal_labels: Sequence[str] | None = None, backend: Any = None):
        model = as_scoring_model(model)
        if chunk_tokens is None:
            chunk_tokens = min(64, model.window)
        _check_int("chunk_tokens", chunk_tokens, 8, model.window)
        _check_int("batch_size", batch_size, 1)
        _check_int("max_evidence", max_evidence, 0)
        if num_threads is not None:
            _check_int("num_threads", num_threads, 1)
        risk_labels = list(model.risk_labels)
        if signal_labels is not None:
            if not risk_labels:
                raise ModelLoadError("signal_labels given, but this model has no risk head")
            unknown = sorted(set(signal_labels) - set(risk_labels))
            if unknown:
                raise ConfigError(f"unknown signal label(s) {unknown}; this model has {risk_labels}")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                      or not 0 < threshold < 1):
            raise ConfigError(f"threshold must be in (0, 1) (a number), got {threshold!r}")
        self.signal_labels = list(signal_labels) if signal_labels is not None else risk_labels
        self.threshold = threshold
        self.model = model.eval()
        self.batch_size = batch_size
        self.chunk_tokens = chunk_tokens
        self.max_evidence = max_evidence
        self.num_threads = num_threads
        self.backend = model if backend is None else backend
        #: which backend runs the forward passes and why (set by :meth:`from_pretrained`; "torch" otherwise)
        self.backend_choice = BackendChoice("torch", "the model itself") if backend is None else \
            BackendChoice(type(backend).__name__, "given")

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike | None = None, *, base_model: str | None = None,
                        trust_remote_code: bool = False, merge: bool = True, backend: str = "auto",
                        cache_dir: str | os.PathLike | None = None, **kwargs: Any) -> RiskAnalyzer:
        """Load a model folder or Hub id saved by textrisk, or an embedded model by name: no argument or
        ``"default"`` loads the embedded default model, ``"commercial"`` the embedded commercial-use model.

        ``merge`` (default) folds the LoRA adapter into the in-memory weights: faster scoring (see
        benchmarks/speed.py), the same scores to float rounding; the adapter is kept, so ``save_pretrained``
        still writes the small adapter. ``merge=False`` scores through the unmerged adapter.
        ``backend``: ``"auto"`` (default: the fastest backend that stays close to fp32 on this CPU, bf16 or
        ONNX int8, or ``$TEXTRISK_BACKEND``; torch when that cannot be built, with a warning saying why),
        ``"torch"`` (fp32), ``"bf16"`` (torch under bfloat16 autocast), ``"onnx"`` (ONNX Runtime, int8; exported
        once and cached in the user cache folder, :func:`textrisk.utils.cache.cache_dir`, or under ``cache_dir``)
        or ``"onnx-fp32"``; see :mod:`textrisk.models.backends`. The choice and its reason:
        :attr:`backend_choice`.
        """
        if name_or_path is None:
            name_or_path = "default"
        folder = resolve_model_path(name_or_path)
        kind = model_kind_of(folder)
        if kind not in SCORING_KINDS:
            raise ModelLoadError(f"{str(name_or_path)!r} holds a {kind!r} model, which does not score texts; "
                                 f"RiskAnalyzer needs one of {list(SCORING_KINDS)}")
        from ..models.backends import build_backend, merge_lora

        with quiet_third_party():  # transformers' bar and warnings, peft's, the ONNX export's (TEXTRISK_VERBOSE=1)
            model = load_model(folder, base_model=base_model, trust_remote_code=trust_remote_code)
            if merge:
                merge_lora(model)
            runner, choice = build_backend(model, backend, num_threads=kwargs.get("num_threads"),
                                           cache_dir=cache_dir)
        analyzer = cls(model, backend=runner, **kwargs)
        analyzer.backend_choice = choice
        return analyzer

    @property
    def labels(self) -> list[str]:
        """Sentiment labels, in score order."""
        return list(self.model.labels)

    @property
    def has_risk_head(self) -> bool:
        """Whether the model predicts risk signals."""
        return bool(self.model.risk_labels)

    def thresholds(self) -> dict[str, float]:
        """Flag threshold per reported signal: ``threshold`` if given, else the model's tuned one, else 0.5."""
        tuned = self.model.risk_thresholds
        return {label: self.threshold or tuned.get(label, 0.5) for label in self.signal_labels}

    def _chunks(self, text: str, offsets: Sequence[tuple[int, int]] | None = None) -> list[Chunk]:
        """The chunks of ``text``; ``offsets``: its tokens' character spans if already known (not tokenised again)."""
        tokenizer, window = self.model.tokenizer, self.model.window
        if offsets is None:
            n_tokens = len(tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"])
        else:
            n_tokens = len(offsets)
        if n_tokens == 0:
            return []
        if n_tokens + tokenizer.num_special_tokens_to_add() <= window:
            return [Chunk(0, len(text), text, n_tokens)]
        return chunk_document(text, tokenizer, self.chunk_tokens, offsets=offsets)

    def check(self, texts: Sequence[Any]) -> list[str | None]:
        """Why each text cannot be scored (None: it can), by the rules of :mod:`textrisk.data.inputs`."""
        return [problem for problem, _ in check_texts(texts, self.model.tokenizer)]

    def score(self, texts: Sequence[str], progress: bool | None = None, signals: bool | None = None
              ) -> list[RiskReport]:
        """One :class:`RiskReport` per text, in input order.

        Args:
            signals: risk signals too; None = when the model has a risk head, True = required.

        Raises:
            InputError: ``texts`` is not a list of texts, or a text cannot be scored by the rules of
                :mod:`textrisk.data.inputs` (empty, lone surrogate, no readable tokens...); the message names
                every bad index (up to five).
            ModelLoadError: ``signals=True`` and the model has no risk head.
        """
        if signals and not self.has_risk_head:
            raise ModelLoadError("risk signals requested, but this model has no risk head (sentiment only)")
        with_signals = self.has_risk_head if signals is None else signals
        checks = validated_checks(texts, self.model.tokenizer)  # one batched tokenizer call, offsets kept
        if not texts:
            return []
        per_doc = [self._chunks(text, check.offsets) for text, check in zip(texts, checks)]
        unreadable = [i for i, chunks in enumerate(per_doc) if not chunks]
        if unreadable:
            raise InputError(f"texts{unreadable[:5]} contain no tokens the model can read (binary or control "
                             "characters only?)")
        flat = [chunk.text for chunks in per_doc for chunk in chunks]
        if progress is None and len(flat) <= 64:
            progress = False  # a bar for a handful of sentences is noise; None = auto (terminal only)
        out = self.forward(flat, risk=with_signals, progress=progress)
        reports, offset = [], 0
        thresholds = self.thresholds()
        for chunks, check in zip(per_doc, checks):
            span = slice(offset, offset + len(chunks))
            report = sentiment_report(self.labels, chunks, out.probs[span], self.max_evidence, CHUNKS,
                                      warnings=check.warnings)
            if out.risk is not None:  # a document flags a signal only from passages that report it
                add_signals(report, self.signal_labels, thresholds, chunks,
                            reported_risk(out.rows(span), KINDS, len(chunks)), CHUNKS)
            if out.judged:
                add_judgement(report, KINDS, self.signal_labels, thresholds, chunks, out.rows(span), CHUNKS,
                              max_evidence=self.max_evidence)
            reports.append(report)
            offset += len(chunks)
        return reports

    def forward(self, texts: Sequence[str], risk: bool | None = None, embeddings: bool = False,
                progress: bool | None = None) -> PassageOutputs:
        """One pass of this analyzer's model (through its backend, batch size and threads) over the distinct
        ``texts``: calibrated sentiment, the reported signals (``risk``: None = when the model has a risk head)
        and, if asked, L2-normalised embeddings (see :func:`textrisk.scoring.engine.run_forward`)."""
        with_risk = self.has_risk_head if risk is None else risk
        columns = [self.model.risk_labels.index(label) for label in self.signal_labels] if with_risk else None
        return run_forward(self.backend, texts, temperature=self.model.temperature, risk_columns=columns,
                           embeddings=embeddings, batch_size=self.batch_size, num_threads=self.num_threads,
                           progress=progress)

    def save_pretrained(self, save_directory: str | os.PathLike, **options: Any) -> Path:
        """Save the underlying model folder (see :meth:`textrisk.models.hub.PretrainedModel.save_pretrained`)."""
        return self.model.save_pretrained(save_directory, **options)

    def push_to_hub(self, repo_id: str, **options: Any) -> str:
        """Upload the model to the Hub repo ``repo_id`` (see
        :meth:`textrisk.models.hub.PretrainedModel.push_to_hub`)."""
        return self.model.push_to_hub(repo_id, **options)

    def model_card(self) -> str | None:
        """The README.md of the folder this model was loaded from, if any."""
        source = self.model.source_dir
        card = Path(source) / "README.md" if source else None
        return card.read_text(encoding="utf-8") if card and card.is_file() else None
