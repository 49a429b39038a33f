"""The risk-head data sets as arrays: texts, multi-hot targets with a known-mask, and the default model's pooled
features, cached in ``runs/`` (``.npz`` without pickles) so head selection runs in seconds.

A data set is a JSONL file of rows ``{"text", "labels", ...}``. Rows of SENTiVENT (``source == "sentivent"``) are
defined only for :data:`finetune.risk_data.sentivent.INFORMED_LABELS` and not for the labels the mapping left
``unknown`` on that row; every other row is defined for all twelve labels.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from finetune.risk_data.sentivent import INFORMED_LABELS
from textrisk.evaluation.risk import RiskSet
from textrisk.labels.taxonomy import RISK_LABELS
from textrisk.utils.atomic import atomic_write_bytes


def read_set(path: str | Path, name: str | None = None) -> RiskSet:
    """Read a risk JSONL file (gold, random gold, silver or mapped SENTiVENT rows)."""
    texts, targets, known, groups = [], [], [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            labels = set(row["labels"])
            texts.append(row["text"])
            targets.append([label in labels for label in RISK_LABELS])
            if row.get("source") == "sentivent":
                unknown = set(row.get("unknown", []))
                known.append([label in INFORMED_LABELS and label not in unknown for label in RISK_LABELS])
            else:
                known.append([True] * len(RISK_LABELS))
            groups.append(row.get("article") or row.get("id") or str(len(groups)))
    return RiskSet(name or Path(path).stem, texts, np.array(targets, dtype=bool), np.array(known, dtype=bool),
                   list(RISK_LABELS), groups)


def cache_path(runs: Path, name: str, layers: tuple[int, ...] = ()) -> Path:
    """Where :func:`embed` caches the features of data set ``name`` for ``layers``."""
    suffix = "" if not layers else "_layers" + "-".join(map(str, layers))
    return Path(runs) / "risk_features" / f"{name}{suffix}.npz"


def embed(texts: list[str], model_dir: str | Path | None, cache: Path, batch_size: int = 64,
          layers: tuple[int, ...] = ()) -> np.ndarray:
    """Frozen features of ``texts`` from the model in ``model_dir`` (None: the embedded default): the pooled
    embedding, or with ``layers`` the concatenated pooled states of those backbone layers (what a risk head with
    ``risk_layers = layers`` reads, computed by the model's own :meth:`~textrisk.TextRiskModel.pool_features`).
    Cached in ``cache`` under a key of the model folder's files, the layers and the texts (a stale cache is
    recomputed, never reused)."""
    import io

    import torch
    from tqdm.auto import tqdm

    from textrisk import RiskAnalyzer
    from textrisk.models.hub import DEFAULT_MODEL_DIR

    folder = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    digest = hashlib.sha256(repr(tuple(layers)).encode())
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update("\0".join(texts).encode())
    key = digest.hexdigest()
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as saved:
            if str(saved["key"]) == key:
                return saved["features"]
    model = RiskAnalyzer.from_pretrained(folder, backend="torch").model.eval()
    if not layers:
        features = model.predict_outputs(texts, embeddings=True, batch_size=batch_size, progress=True).embeddings
    else:
        model.add_risk_head(list(RISK_LABELS), layers=layers)  # only to make pool_features return those layers
        encoded = model.tokenizer(list(texts), truncation=True, max_length=model.config.max_length)["input_ids"]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        features = np.zeros((len(texts), model.embedding_size * len(layers)), dtype=np.float32)
        with torch.inference_mode():
            for start in tqdm(range(0, len(order), batch_size), desc=f"layers {list(layers)}", unit="batch"):
                index = order[start:start + batch_size]
                batch = model.tokenizer.pad({"input_ids": [encoded[i] for i in index]}, return_tensors="pt")
                features[index] = model.pool_features(batch["input_ids"], batch["attention_mask"])[1].numpy()
    buffer = io.BytesIO()
    np.savez(buffer, key=np.array(key), features=features)
    atomic_write_bytes(cache, buffer.getvalue())
    return features
