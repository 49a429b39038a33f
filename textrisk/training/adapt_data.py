"""The rows of an adaptation run (:mod:`textrisk.training.adaptation`): the label set, the user's rows de-duplicated and
split into training and held-out rows, the guards' warnings, and the recipe the training-row count picks.

Guards (each a :class:`UserWarning`, also listed in the run's report): tiny data (under :data:`TINY_ROWS` training
rows), label imbalance (a class with under a fifth of the largest class's rows), duplicated rows (dropped; a text
with conflicting labels keeps its first label), training texts that are also held-out texts (dropped from
training), and, through :func:`textrisk.evaluation.sentiment.metric_warnings`, few held-out rows or labels that
never occur in them.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..data.datasets import load_labeled_file, table_rows
from ..errors import DataError
from ..evaluation.sentiment import metric_warnings
from ..labels.taxonomy import normalize_label
from .config import AdaptConfig

__all__ = ["HEAD_ONLY_BELOW", "IMBALANCE_RATIO", "LORA_BELOW", "RECIPES", "TINY_ROWS", "AdaptRows", "Recipe",
           "adapt_rows", "choose_recipe", "data_labels"]

#: Fewer training rows than this: the head-only recipe (the encoder, its adapter and the risk head stay frozen).
HEAD_ONLY_BELOW = 100
#: Fewer training rows than this (and at least HEAD_ONLY_BELOW): LoRA with early stopping; more: the full recipe.
LORA_BELOW = 2000
#: Fewer training rows than this get the tiny-data warning.
TINY_ROWS = 50
#: A class with fewer rows than the largest class divided by this gets the imbalance warning.
IMBALANCE_RATIO = 5


@dataclass(frozen=True)
class Recipe:
    """How an adaptation run trains: what is trained, for how long, and whether the temperature may be refitted."""

    name: str
    summary: str
    train_encoder: bool
    epochs: float
    learning_rate: float
    head_learning_rate: float
    early_stopping: bool
    refit_temperature: bool


#: The recipes by name (``AdaptConfig.recipe``); ``auto`` picks one with :func:`choose_recipe`.
RECIPES: dict[str, Recipe] = {
    "head": Recipe("head", "head only on the frozen encoder (L2 pull towards the parent's head, strength chosen by "
                   "cross-validation); the parent's temperature is kept", False, 1.0, 0.0, 0.0, False, False),
    "lora": Recipe("lora", "the parent's LoRA adapter and sentiment head continue, early stopping on a validation "
                   "split of the training rows (patience 2 epochs)", True, 10.0, 2e-4, 1e-3, True, True),
    "full": Recipe("full", "the standard recipe (3 epochs, learning rate 5e-4) continuing the parent's adapter and "
                   "sentiment head", True, 3.0, 5e-4, 5e-4, False, True),
}


def choose_recipe(train_rows: int, requested: str = "auto") -> Recipe:
    """The recipe for ``train_rows`` rows: ``head`` below :data:`HEAD_ONLY_BELOW`, ``lora`` below
    :data:`LORA_BELOW`, else ``full``; ``requested`` other than ``auto`` wins."""
    if requested != "auto":
        return RECIPES[requested]
    if train_rows < HEAD_ONLY_BELOW:
        return RECIPES["head"]
    return RECIPES["lora"] if train_rows < LORA_BELOW else RECIPES["full"]


def data_labels(files: list[str], parent_labels: list[str], label_column: str = "label") -> list[str]:
    """The label set of the user's files: the parent's labels when every cell names one of them (aliases such as
    ``pos`` included), else the files' own labels in order of first appearance (case-insensitive).

    Raises:
        DataError: a missing file or label column, or fewer than two distinct labels (file and line named).
    """
    seen: dict[str, str] = {}
    for name in files:
        path = Path(name)
        if not path.is_file():
            raise DataError(f"training file not found: {str(path)!r}")
        for number, row in table_rows(path):
            if label_column not in row:
                raise DataError(f"{path} line {number}: no {label_column!r} column (found {sorted(row)})")
            raw = row[label_column]
            if not isinstance(raw, str) or not raw.strip():
                raise DataError(f"{path} line {number}: {label_column!r} is empty or not a string")
            seen.setdefault(raw.strip().lower(), raw.strip())
    try:
        for raw in seen.values():
            normalize_label(raw, parent_labels)
        return list(parent_labels)
    except DataError:
        pass
    if len(seen) < 2:
        raise DataError(f"{files}: the {label_column!r} column needs >= 2 distinct labels, found {list(seen.values())}")
    return list(seen.values())


@dataclass
class AdaptRows:
    """Training and held-out rows (texts and class indices into ``labels``) and the guards' warnings."""

    labels: list[str]
    train_texts: list[str]
    train_labels: list[int]
    held_texts: list[str]
    held_labels: list[int]
    warnings: list[str] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)  # training file -> rows read


def _key(text: str) -> str:
    return " ".join(text.split()).lower()


def _load(files: list[str], labels: list[str], config: AdaptConfig, sources: dict[str, int] | None = None
          ) -> tuple[list[str], list[int], list[str]]:
    """Rows of ``files``, duplicates dropped (first label kept), and the warnings about them; ``sources`` gets the
    rows read per file."""
    texts, ids = [], []
    for name in files:
        part = load_labeled_file(name, labels, config.text_column, config.label_column)
        texts += part["text"]
        ids += part["label"]
        if sources is not None:
            sources[name] = len(part)
    kept: dict[str, int] = {}
    out_texts, out_ids, repeated, conflicting = [], [], 0, 0
    for text, label in zip(texts, ids):
        key = _key(text)
        if key in kept:
            repeated += 1
            conflicting += kept[key] != label
            continue
        kept[key] = label
        out_texts.append(text)
        out_ids.append(label)
    found = []
    if repeated:
        found.append(f"{repeated} duplicated row(s) dropped (same text up to case and spaces)"
                     + (f"; {conflicting} of them carried another label than the first copy" if conflicting else ""))
    return out_texts, out_ids, found


def _split(texts: list[str], ids: list[int], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices of training and held-out rows: stratified by label when every label has 2 rows, seeded."""
    from sklearn.model_selection import train_test_split

    counts = Counter(ids)
    held = max(2, math.ceil(fraction * len(texts)))
    if len(texts) - held < 2:
        raise DataError(f"too few rows ({len(texts)}) to hold out {held} and train on the rest")
    stratify = ids if min(counts.values()) >= 2 and held >= len(counts) else None
    train, test = train_test_split(list(range(len(texts))), test_size=held, random_state=seed, stratify=stratify)
    return sorted(train), sorted(test)


def adapt_rows(config: AdaptConfig, labels: list[str]) -> AdaptRows:
    """The run's rows (see the module docstring); each guard's message is also issued with :func:`warnings.warn`.

    Raises:
        DataError: unreadable files, unknown labels (file and line named), or too few rows to split.
    """
    sources: dict[str, int] = {}
    texts, ids, found = _load(config.train_data, labels, config, sources)
    if config.eval_data:
        held_texts, held_ids, extra = _load([config.eval_data], labels, config)
        found += [f"{config.eval_data}: {message}" for message in extra]
        held_keys = {_key(text) for text in held_texts}
        overlap = [i for i, text in enumerate(texts) if _key(text) in held_keys]
        if overlap:
            found.append(f"{len(overlap)} training text(s) also in the held-out file {config.eval_data!r}; dropped "
                         "from training")
            texts = [t for i, t in enumerate(texts) if i not in set(overlap)]
            ids = [y for i, y in enumerate(ids) if i not in set(overlap)]
        train_texts, train_ids = texts, ids
    else:
        train, held = _split(texts, ids, config.holdout_fraction, config.seed)
        train_texts, train_ids = [texts[i] for i in train], [ids[i] for i in train]
        held_texts, held_ids = [texts[i] for i in held], [ids[i] for i in held]
    if len(train_texts) < 2:
        raise DataError(f"{config.train_data}: only {len(train_texts)} training row(s) left")
    found += _train_warnings(train_ids, labels)
    for message in found:
        warnings.warn(message, UserWarning, stacklevel=2)
    found += metric_warnings(held_ids, labels, "held-out rows")
    return AdaptRows(labels, train_texts, train_ids, held_texts, held_ids, found, sources)


def _train_warnings(ids: list[int], labels: list[str]) -> list[str]:
    """Tiny data, labels absent from training, and label imbalance."""
    found = []
    if len(ids) < TINY_ROWS:
        found.append(f"only {len(ids)} training rows: the held-out metrics vary a lot from split to split; label "
                     f"{TINY_ROWS}+ rows (a few per desk convention you care about) for a dependable model")
    counts = Counter(ids)
    absent = [label for i, label in enumerate(labels) if counts[i] == 0]
    if absent:
        found.append(f"label(s) {absent} have no training row; the model cannot learn them from this data")
    present = {labels[i]: n for i, n in counts.items()}
    largest = max(present.values())
    rare = sorted(label for label, n in present.items() if n * IMBALANCE_RATIO < largest)
    if rare:
        found.append(f"label imbalance: {rare} have under 1/{IMBALANCE_RATIO} of the rows of the largest class "
                     f"({dict(sorted(present.items()))}); the model will favour the frequent labels")
    return found
