"""Per-text features from a textrisk model, an on-disk cache for them, and input checks for text rows.

Per text, :func:`text_feature_names` lists the columns: the pooled encoder embedding (``emb_0..``), the
calibrated sentiment probabilities (``p_<label>``) and, when the model has heads beyond ``sentiment`` (the
multi-label risk head), one probability per risk signal (``risk_<label>``). Only the scoring-model contract
(:mod:`textrisk.models.contract`) is used.

The cache stores those rows as safetensors shards under ``<cache_dir>/<model key>/``, one row per distinct
text, keyed by sha256 of the text; the model key hashes the model's config and every weight, so a retrained
or different model never reads another's features.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.inputs import check_texts
from ..data.inputs import validate_texts as validate_for_model
from ..errors import DataError, ModelLoadError
from ..models.contract import ScoringModel, as_scoring_model
from ..models.hub import DEFAULT_MODEL_DIR, SCORING_KINDS, load_model, model_kind_of
from ..models.identity import model_identity
from ..utils.atomic import atomic_write_bytes, atomic_write_json
from .constants import FEATURE_VERSION

__all__ = ["TextFeaturizer", "default_cache_dir", "load_text_model", "validate_texts"]

_DIGEST = 32  # sha256 bytes


def default_cache_dir() -> Path:
    """``$TEXTRISK_EMBEDDING_CACHE``, else ``$XDG_CACHE_HOME/textrisk/embeddings`` (``~/.cache`` by default)."""
    explicit = os.environ.get("TEXTRISK_EMBEDDING_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "textrisk" / "embeddings"


def load_text_model(path: str | os.PathLike | None = None) -> tuple[ScoringModel, str]:
    """The text model to encode with, and a description: ``path`` (any saved scoring model, loaded through
    :func:`textrisk.models.hub.load_model`), else the embedded default model (LoRA merged in, as
    ``RiskAnalyzer.from_pretrained`` loads it), else the untuned base with a seeded random head.

    Raises:
        ModelLoadError: ``path`` holds a model that does not score texts (a forecaster).
    """
    if path:
        kind = model_kind_of(path)
        if kind not in SCORING_KINDS:
            raise ModelLoadError(f"--text-model {str(path)!r} holds a {kind!r} model; the forecaster reads texts "
                                 f"with a scoring model ({', '.join(SCORING_KINDS)})")
        return load_model(path), str(path)
    if (DEFAULT_MODEL_DIR / "textrisk_config.json").is_file():
        from ..models.backends import merge_lora

        model = load_model(DEFAULT_MODEL_DIR)
        merge_lora(model)
        return model.eval(), "textrisk default model (RiskAnalyzer)"
    import torch

    from ..models.head.model import TextRiskModel

    warnings.warn("no fine-tuned default model in textrisk/default_model: encoding with the untuned base model "
                  "(embeddings are MiniLM's; the sentiment probabilities come from an untrained head)", stacklevel=2)
    torch.manual_seed(0)  # a fixed head, so the cache key repeats across runs
    return TextRiskModel.from_base(lora_r=0), "untuned base model (seeded random sentiment head)"


def _model_key(model: ScoringModel) -> str:
    """Feature version + the model's identity (config and every weight): equal keys mean equal features."""
    digest = hashlib.sha256(f"textrisk-forecast-features-v{FEATURE_VERSION}".encode())
    digest.update(model_identity(model).encode())
    return digest.hexdigest()[:24]


def _digests(texts: list[str]) -> np.ndarray:
    return np.frombuffer(b"".join(hashlib.sha256(t.encode("utf-8")).digest() for t in texts),
                         dtype=np.uint8).reshape(len(texts), _DIGEST)


class TextFeaturizer:
    """Turns texts into per-text feature rows with a textrisk model, reading and filling the disk cache.

    Args:
        analyzer: a ``RiskAnalyzer`` (its ``.model`` is used) or a scoring model (:mod:`textrisk.models.contract`) with
            embeddings (head mode).
        cache_dir: cache root (default :func:`default_cache_dir`); ``False`` disables the cache.
        batch_size: texts per forward pass.
        progress: tqdm bar while encoding (None: only on a terminal).
        chunk_size: texts encoded between cache writes, so an interrupted run keeps its work.
    """

    def __init__(self, analyzer: Any, cache_dir: str | os.PathLike | bool | None = None, batch_size: int = 64,
                 progress: bool | None = None, chunk_size: int = 1024):
        self.model = as_scoring_model(analyzer)
        self.batch_size, self.progress, self.chunk_size = batch_size, progress, chunk_size
        self.model_key = _model_key(self.model)
        self.feature_names = self._names()
        self.cache_path = None if cache_dir is False else (
            Path(default_cache_dir() if cache_dir in (None, True) else cache_dir).expanduser() / self.model_key)
        self.stats = {"texts": 0, "unique": 0, "cached": 0, "computed": 0}

    def _names(self) -> list[str]:
        hidden = self.model.embedding_size
        if not hidden:
            raise ModelLoadError(f"the forecaster's text features need embeddings; a {self.model.model_kind!r} model "
                                 "has none (use a head-mode model)")
        return ([f"emb_{i}" for i in range(hidden)] + [f"p_{label}" for label in self.model.labels]
                + [f"risk_{label}" for label in self.model.risk_labels])

    def encode(self, texts: list[str]) -> np.ndarray:
        """Features of ``texts`` computed by the model (no cache): shape ``(len(texts), len(feature_names))``."""
        from ..utils.calibration import softmax

        with_risk = bool(self.model.risk_labels)
        out = self.model.predict_outputs(list(texts), risk=with_risk, embeddings=True, batch_size=self.batch_size,
                                         progress=False)
        columns = [out.embeddings, softmax(out.logits, self.model.temperature)]
        if with_risk:
            columns.append(out.risk)
        return np.concatenate(columns, axis=1).astype(np.float32)

    def __call__(self, texts: list[str]) -> np.ndarray:
        """Features of ``texts`` (in order), from the cache where present; new rows are computed and cached."""
        from tqdm.auto import tqdm

        texts = list(texts)
        validate_for_model(texts, getattr(self.model, "tokenizer", None))  # what RiskAnalyzer.score() accepts
        digests = _digests(texts)
        unique, inverse = np.unique(digests, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        first = np.zeros(len(unique), dtype=np.int64)
        first[inverse] = np.arange(len(texts))  # one occurrence of each distinct text (all are equal)
        out = np.zeros((len(unique), len(self.feature_names)), dtype=np.float32)
        found = np.zeros(len(unique), dtype=bool)
        if self.cache_path is not None:
            found = self._read_cache(unique, out)
        todo = np.flatnonzero(~found)
        self.stats = {"texts": len(texts), "unique": len(unique), "cached": int(found.sum()), "computed": len(todo)}
        if len(todo):
            bar = tqdm(total=len(todo), desc="encoding texts", unit="text",
                       disable=(not self.progress) if self.progress is not None else None)
            try:
                for start in range(0, len(todo), self.chunk_size):
                    rows = todo[start:start + self.chunk_size]
                    out[rows] = self.encode([texts[i] for i in first[rows]])
                    if self.cache_path is not None:
                        self._write_shard(unique[rows], out[rows])
                    bar.update(len(rows))
            finally:
                bar.close()
        return out[inverse]

    # ------------------------------------------------------------------------------------------ cache files
    def _read_cache(self, digests: np.ndarray, out: np.ndarray) -> np.ndarray:
        from safetensors.numpy import load_file

        found = np.zeros(len(digests), dtype=bool)
        if not self.cache_path.is_dir():
            return found
        wanted = {d.tobytes(): i for i, d in enumerate(digests)}
        for shard in sorted(self.cache_path.glob("shard-*.safetensors")):
            try:
                data = load_file(shard)
                keys, rows = data["sha256"], data["features"]
                if rows.shape != (len(keys), out.shape[1]):
                    raise ValueError(f"features shape {rows.shape} does not fit {len(keys)} keys x {out.shape[1]}")
            except Exception as exc:  # a torn or foreign file costs a recompute, never a wrong feature
                warnings.warn(f"ignoring unreadable embedding cache shard {shard}: {exc}", stacklevel=3)
                continue
            for j, key in enumerate(keys):
                i = wanted.get(key.tobytes())
                if i is not None:
                    out[i], found[i] = rows[j], True
        return found

    def _write_shard(self, digests: np.ndarray, rows: np.ndarray) -> None:
        from safetensors.numpy import save

        meta = self.cache_path / "meta.json"
        if not meta.is_file():
            atomic_write_json(meta, {"model_key": self.model_key, "base_model": self.model.config.base_model,
                                     "feature_version": FEATURE_VERSION, "feature_names": self.feature_names})
        blob = save({"sha256": np.ascontiguousarray(digests), "features": np.ascontiguousarray(rows)})
        atomic_write_bytes(self.cache_path / f"shard-{uuid.uuid4().hex[:16]}.safetensors", blob)


def _check_text_column(texts: list[Any]) -> None:
    bad = [(i, problem) for i, (problem, _) in enumerate(check_texts(texts)) if problem]
    if bad:
        raise DataError(f"texts row {bad[0][0]}: text {bad[0][1]} ({len(bad)} such row(s))")


def validate_texts(texts: Any) -> pd.DataFrame:
    """Check text rows and return a frame with ``ticker`` (str), ``timestamp`` (UTC) and ``text`` (str).

    ``texts`` is a DataFrame with those columns or an iterable of ``(ticker, timestamp, text)`` rows.
    Timestamps may be strings with an offset, datetimes or pandas Timestamps, in any zone.

    Raises:
        DataError: a missing column, a timestamp without time zone or unparseable, an empty or non-string
            text -- naming the row.
    """
    if isinstance(texts, pd.DataFrame):
        missing = [c for c in ("ticker", "timestamp", "text") if c not in texts.columns]
        if missing:
            raise DataError(f"texts lack column(s) {missing}; found {list(texts.columns)}")
        frame = texts[["ticker", "timestamp", "text"]].reset_index(drop=True)
    else:
        rows = list(texts)
        for i, row in enumerate(rows):
            if not isinstance(row, (tuple, list)) or len(row) != 3:
                raise DataError(f"texts row {i}: expected (ticker, timestamp, text), got {row!r:.80}")
        _check_text_column([row[2] for row in rows])  # before pandas: its string columns refuse surrogates
        frame = pd.DataFrame(rows, columns=["ticker", "timestamp", "text"])
    stamps = frame["timestamp"]
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        utc = stamps.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(stamps.dtype):
        raise DataError("texts row 0: timestamp has no time zone; localize it (e.g. .dt.tz_localize('UTC'))")
    else:
        parsed = []
        for i, value in enumerate(stamps):
            try:
                stamp = pd.Timestamp(value)
            except (ValueError, TypeError) as exc:
                raise DataError(f"texts row {i}: cannot parse timestamp {value!r}: {exc}") from exc
            if stamp is pd.NaT or stamp.tzinfo is None:
                raise DataError(f"texts row {i}: timestamp {value!r} has no time zone; give an offset "
                                "(e.g. '2015-03-02T15:04:00+00:00') or a tz-aware datetime")
            parsed.append(stamp.tz_convert("UTC"))
        utc = pd.Series(pd.DatetimeIndex(parsed, tz="UTC") if parsed else pd.DatetimeIndex([], tz="UTC"))
    if utc.isna().any():
        raise DataError(f"texts row {int(np.flatnonzero(utc.isna())[0])}: timestamp is missing")
    _check_text_column(list(frame["text"]))
    bad = [i for i, t in enumerate(frame["ticker"]) if not isinstance(t, str) or not t.strip()]
    if bad:
        raise DataError(f"texts row {bad[0]}: ticker is empty or not a string")
    return pd.DataFrame({"ticker": frame["ticker"].astype(str).str.strip().to_numpy(),
                         "timestamp": pd.DatetimeIndex(utc),
                         "text": frame["text"].to_numpy()})
