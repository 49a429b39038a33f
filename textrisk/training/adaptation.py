"""Adapt a saved model to a user's labels: ``textrisk finetune --from default --data my.csv --output my_model``.

    from textrisk.training import AdaptConfig, adapt

    result = adapt(AdaptConfig(output_dir="my_model", train_data=["my.csv"]))   # init_from="default"
    print(result.summary())

The parent (the embedded default model, a model folder or a Hub id) is loaded whole; its LoRA adapter and sentiment
head continue on the user's rows with the recipe the training-row count picks
(:func:`textrisk.training.adapt_data.choose_recipe`): the head alone on the frozen encoder for a few dozen rows,
the adapter and head with early stopping for hundreds, the standard recipe for thousands. A label set that is not
the parent's gets a new sentiment head: rows of labels the parent has (by name or alias) start from the parent's
rows, other rows from the label name's own embedding (centred over the labels, scaled to the parent's row norm).
The risk head, its calibration, thresholds and ensemble are the parent's and are never trained here.

Both models are scored on the held-out rows. Where the new model is not better (weighted F1) than the parent, the
parent is what gets saved, and the result says so. The temperature is refitted (lora and full recipes, 30+
validation rows) and kept only if it lowers the held-out ECE; otherwise the parent's stays. Then the forgetting
check (:func:`textrisk.evaluation.forgetting.forgetting_check`) re-scores FPB and TFNS test rows with both models.
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import DataError
from ..evaluation.forgetting import forgetting_check
from ..evaluation.sentiment import MIN_ROWS
from ..labels.taxonomy import normalize_label
from ..metrics.reports import evaluate_logits
from ..models.cards import ModelCardData, render_model_card
from ..models.head.model import TextRiskModel
from ..utils.atomic import atomic_write_json
from ..utils.calibration import fit_temperature
from ..utils.outputs import guard_output
from ..version import __version__
from .adapt_data import AdaptRows, Recipe, adapt_rows, choose_recipe, data_labels
from .config import AdaptConfig
from .data import init_model_path
from .loop import optimise

__all__ = ["REPORT_NAME", "AdaptResult", "adapt", "fit_head", "new_sentiment_head"]

#: The run's report in the output folder (recipe, before/after, decisions, warnings, forgetting check).
REPORT_NAME = "adapt_report.json"
_METRICS = ("accuracy", "weighted_f1", "macro_f1", "ece_calibrated")
#: L2 strengths (pull of the head towards its starting rows) the head-only recipe cross-validates.
HEAD_L2_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


@dataclass
class AdaptResult:
    """What an adaptation run did and measured (also saved as ``adapt_report.json``)."""

    output_dir: Path
    parent: str
    recipe: str
    labels: list[str]
    train_rows: int
    held_out_rows: int
    before: dict[str, float] | None
    after: dict[str, float]
    kept: str  # "new" or "parent"
    decision: str
    temperature: float
    calibration: str
    forgetting: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The report as printed by the command line (metrics to 4 decimals)."""
        data = asdict(self)
        data["output_dir"] = str(self.output_dir)
        return json.loads(json.dumps(data), parse_float=lambda x: round(float(x), 4))


def _log(log: Callable[[str], None] | None, message: str) -> None:
    if log is not None:
        log(message)


def new_sentiment_head(model: TextRiskModel, labels: list[str]) -> dict[str, str]:
    """Give ``model`` a sentiment head for ``labels``: a label the model has (by name or alias) keeps its row, a new
    label's row is its name's pooled embedding, centred over all the labels' names and scaled to the mean norm of
    the old rows (bias: the mean old bias). Returns ``label -> where its row came from``."""
    old = model.heads["sentiment"]
    weight, bias = old.weight.detach().clone(), old.bias.detach().clone()
    names = model.predict_outputs(list(labels), embeddings=True).embeddings
    names = torch.from_numpy(names - names.mean(axis=0, keepdims=True)).to(weight.dtype)
    scale = weight.norm(dim=1).mean()
    head = nn.Linear(weight.shape[1], len(labels)).to(weight.device)
    origin = {}
    with torch.no_grad():
        for row, label in enumerate(labels):
            try:
                index = normalize_label(label, model.config.labels)
                head.weight[row], head.bias[row] = weight[index], bias[index]
                origin[label] = f"parent row {model.config.labels[index]!r}"
            except DataError:
                head.weight[row] = names[row] / names[row].norm().clamp(min=1e-8) * scale
                head.bias[row] = bias.mean()
                origin[label] = "label-name embedding"
    model.heads["sentiment"] = head
    model.config.labels = list(labels)
    return origin


def _fit_linear(weight0: np.ndarray, bias0: np.ndarray, x: np.ndarray, y: np.ndarray, l2: float,
                temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression at ``temperature`` from ``(weight0, bias0)``, with an L2 pull towards them
    (scipy's L-BFGS-B on the exact gradient)."""
    from scipy.optimize import minimize

    classes, width = weight0.shape
    onehot = np.eye(classes)[y]
    start = np.concatenate([weight0.ravel(), bias0])

    def loss_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        weight, bias = theta[:-classes].reshape(classes, width), theta[-classes:]
        logits = (x @ weight.T + bias) / temperature
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        delta = (np.exp(log_p) - onehot) / (len(y) * temperature)
        pull = theta - start
        loss = -(onehot * log_p).sum() / len(y) + l2 * float(pull @ pull)
        grad = np.concatenate([(delta.T @ x).ravel(), delta.sum(axis=0)]) + 2 * l2 * pull
        return loss, grad

    theta = minimize(loss_and_grad, start, jac=True, method="L-BFGS-B", options={"maxiter": 200}).x
    return theta[:-classes].reshape(classes, width), theta[-classes:]


def _log_loss(weight: np.ndarray, bias: np.ndarray, x: np.ndarray, y: np.ndarray, temperature: float) -> float:
    logits = (x @ weight.T + bias) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].sum())


def fit_head(head: nn.Linear, features: np.ndarray, targets: list[int], temperature: float, seed: int) -> float:
    """Train ``head`` in place on frozen ``features``: cross-entropy at ``temperature`` plus an L2 pull towards the
    head's starting weights, its strength picked from :data:`HEAD_L2_GRID` by (stratified) k-fold cross-validation
    on these rows. Returns the strength chosen."""
    from sklearn.model_selection import KFold, StratifiedKFold

    x, y = np.asarray(features, dtype=np.float64), np.asarray(targets)
    weight0 = head.weight.detach().cpu().double().numpy()
    bias0 = head.bias.detach().cpu().double().numpy()
    smallest = int(np.bincount(y).min()) if len(set(targets)) > 1 else 1
    folds = (StratifiedKFold(min(5, smallest), shuffle=True, random_state=seed) if smallest >= 2
             else KFold(min(5, len(y)), shuffle=True, random_state=seed))
    losses = [sum(_log_loss(*_fit_linear(weight0, bias0, x[train], y[train], l2, temperature), x[test], y[test],
                            temperature) for train, test in folds.split(x, y)) for l2 in HEAD_L2_GRID]
    l2 = HEAD_L2_GRID[int(np.argmin(losses))]
    weight, bias = _fit_linear(weight0, bias0, x, y, l2, temperature)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(weight).to(head.weight.dtype))
        head.bias.copy_(torch.from_numpy(bias).to(head.bias.dtype))
    return l2


def _validation_split(rows: AdaptRows, seed: int) -> tuple[list[int], list[int]]:
    """Training rows split 85/15 (stratified when possible) for early stopping and the temperature."""
    from sklearn.model_selection import train_test_split

    ids = rows.train_labels
    size = max(4, math.ceil(0.15 * len(ids)))
    stratify = ids if min(np.bincount(ids)[sorted(set(ids))]) >= 2 and size >= len(set(ids)) else None
    train, val = train_test_split(list(range(len(ids))), test_size=size, random_state=seed, stratify=stratify)
    return sorted(train), sorted(val)


def _train_encoder(model: TextRiskModel, rows: AdaptRows, recipe: Recipe, config: AdaptConfig,
                   progress: bool | None) -> tuple[list[int], str]:
    """Continue the adapter and the sentiment head (the risk head frozen); returns the validation rows' indices
    and a note on early stopping."""
    train, val = _validation_split(rows, config.seed)
    for name, param in model.named_parameters():
        param.requires_grad = (name.startswith("heads.sentiment.") or "lora_" in name)
    tokenizer = model.tokenizer
    ids = tokenizer([rows.train_texts[i] for i in train], truncation=True, max_length=model.config.max_length
                    )["input_ids"]
    targets = [rows.train_labels[i] for i in train]
    val_texts, val_targets = [rows.train_texts[i] for i in val], torch.tensor([rows.train_labels[i] for i in val])

    def loss_of(index: np.ndarray) -> torch.Tensor:
        batch = tokenizer.pad({"input_ids": [ids[i] for i in index]}, return_tensors="pt")
        return model(batch["input_ids"], batch["attention_mask"], labels=torch.tensor([targets[i] for i in index])
                     )["loss"]

    state = {"best": math.inf, "epoch": 0, "weights": None, "history": []}

    def after_epoch(epoch: int) -> bool:
        logits = torch.from_numpy(model.predict(val_texts)[0])
        loss = float(nn.functional.cross_entropy(logits, val_targets))
        state["history"].append(round(loss, 4))
        if loss < state["best"]:
            state.update(best=loss, epoch=epoch, weights={n: p.detach().clone() for n, p in
                                                          model.named_parameters() if p.requires_grad})
        model.train()
        return epoch - state["epoch"] >= 2

    heads = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("heads.")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("heads.")]
    groups = [{"params": heads, "lr": recipe.head_learning_rate}] + (
        [{"params": body, "lr": recipe.learning_rate}] if body else [])
    settings = SimpleNamespace(epochs=config.epochs or recipe.epochs, batch_size=config.batch_size, seed=config.seed,
                               warmup_ratio=0.06, weight_decay=0.01, save_every_steps=10**9, keep_checkpoints=1)
    model.train()
    with tempfile.TemporaryDirectory(prefix="textrisk-adapt-") as scratch:
        optimise(model, groups, len(ids), loss_of, settings, Path(scratch), progress, "adapting",
                 after_epoch=after_epoch if recipe.early_stopping else None)
    model.eval()
    if not recipe.early_stopping or state["weights"] is None:  # no full epoch: nothing to choose between
        return val, f"{settings.epochs:g} epochs"
    model.load_state_dict(state["weights"], strict=False)
    return val, (f"best validation loss after epoch {state['epoch']} of {len(state['history'])} "
                 f"(losses {state['history']})")


def _scores(logits: np.ndarray, labels: list[int], names: list[str], temperature: float) -> dict[str, float]:
    report = evaluate_logits(logits, labels, names, temperature)
    return {k: float(report[k]) for k in _METRICS}


def _parent_columns(parent: TextRiskModel, labels: list[str]) -> list[int] | None:
    """The parent's logit column of each label, or None when the parent lacks one of them."""
    try:
        return [normalize_label(label, parent.config.labels) for label in labels]
    except DataError:
        return None


def _parent_sources(folder: Path) -> dict[str, int]:
    """The parent's training sources (sentiment and risk head) from its ``training_results.json``, for the card's
    licence: an adapted model inherits its parent's terms."""
    saved = folder / "training_results.json"
    if not saved.is_file():
        return {}
    results = json.loads(saved.read_text(encoding="utf-8"))
    return {**results.get("sources", {}), **(results.get("risk_head") or {}).get("sources", {})}


def adapt(config: AdaptConfig, progress: bool | None = None, log: Callable[[str], None] | None = None
          ) -> AdaptResult:
    """Adapt ``config.init_from`` to ``config.train_data`` and save the result (see the module docstring).

    ``log``, if given, receives one line per stage (the recipe chosen, the before/after scores, the decisions).

    Raises:
        ConfigError: an unknown parent model. DataError: unreadable data or output folder problems (named).
    """
    started = time.time()
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    torch.manual_seed(config.seed)
    parent_dir = init_model_path(config.init_from)
    output = guard_output(config.output_dir, "output_dir", folder=True,
                          inputs={"train_data": list(config.train_data), "eval_data": config.eval_data,
                                  "init_from": str(parent_dir)},
                          owned=lambda p: None if (p / REPORT_NAME).is_file() else
                          "holds files this command did not write; use a new or empty folder")
    parent = TextRiskModel.from_pretrained(parent_dir)
    labels = config.labels or data_labels(config.train_data, parent.labels, config.label_column)
    rows = adapt_rows(config, labels)
    recipe = choose_recipe(len(rows.train_texts), config.recipe)
    if recipe.train_encoder and not parent.config.adapter:
        raise DataError(f"init_from {config.init_from!r} has merged weights (no LoRA adapter); use recipe 'head'")
    _log(log, f"recipe {recipe.name} ({len(rows.train_texts)} training rows, {len(rows.held_texts)} held out): "
              f"{recipe.summary}")
    for message in rows.warnings:
        _log(log, f"warning: {message}")

    held_parent = parent.predict_outputs(rows.held_texts, embeddings=True, progress=progress)
    columns = _parent_columns(parent, labels)
    before = None if columns is None else _scores(held_parent.logits[:, columns], rows.held_labels, labels,
                                                  parent.temperature)
    child = copy.deepcopy(parent) if not recipe.train_encoder else TextRiskModel.from_pretrained(
        parent_dir, trainable=True)
    origin = new_sentiment_head(child, labels) if labels != parent.labels else {}
    child_logits_of = None
    if recipe.train_encoder:
        val, note = _train_encoder(child, rows, recipe, config, progress)
        held_logits = child.predict(rows.held_texts, progress=progress)[0]
    else:
        features = parent.predict_outputs(rows.train_texts, embeddings=True, progress=progress).embeddings
        head = child.heads["sentiment"]
        note = f"L2 strength {fit_head(head, features, rows.train_labels, parent.temperature, config.seed):g}"

        def child_logits_of(embeddings: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return head(torch.from_numpy(embeddings)).numpy()
        held_logits = child_logits_of(held_parent.embeddings)
        val = []
    _log(log, f"trained: {note}")

    temperature, calibration = parent.temperature, "kept the parent's temperature"
    if not recipe.refit_temperature:
        calibration += f" (no refit with the {recipe.name} recipe)"
    elif len(val) < MIN_ROWS:
        calibration += f" (no refit below {MIN_ROWS} validation rows; {len(val)} here)"
    else:
        val_logits = child.predict([rows.train_texts[i] for i in val], progress=progress)[0]
        fitted = fit_temperature(val_logits, np.asarray([rows.train_labels[i] for i in val]))
        old = _scores(held_logits, rows.held_labels, labels, temperature)["ece_calibrated"]
        new = _scores(held_logits, rows.held_labels, labels, fitted)["ece_calibrated"]
        if new < old:
            temperature, calibration = fitted, f"refitted T = {fitted:.3f} (held-out ECE {old:.4f} -> {new:.4f})"
        else:
            calibration += f" (a refit, T = {fitted:.3f}, did not lower the held-out ECE: {old:.4f} -> {new:.4f})"
    child.config.temperature = temperature
    after = _scores(held_logits, rows.held_labels, labels, temperature)
    _log(log, f"calibration: {calibration}")

    if before is None:
        kept, decision = "new", "the parent cannot predict these labels, so the new model is saved"
    elif after["weighted_f1"] > before["weighted_f1"]:
        kept, decision = "new", (f"the new model is better on the held-out rows (weighted F1 "
                                 f"{before['weighted_f1']:.4f} -> {after['weighted_f1']:.4f}) and is saved")
    else:
        kept, decision = "parent", (f"the new model is not better on the held-out rows (weighted F1 "
                                    f"{before['weighted_f1']:.4f} -> {after['weighted_f1']:.4f}): the parent "
                                    "model is saved unchanged")
    _log(log, f"decision: {decision}")
    final = child if kept == "new" else parent
    forgetting = ({"skipped": "the parent was kept: nothing changed"} if kept == "parent" else
                  forgetting_check(parent, child, config.forgetting_rows, config.data_dir, config.seed,
                                   child_logits_of, progress))
    for name, entry in forgetting.get("sets", {}).items():
        change = entry.get("change", {}).get("weighted_f1")
        _log(log, f"forgetting check, {name} ({entry['rows']} test rows): weighted F1 "
                  f"{entry['parent']['weighted_f1']:.4f} (parent)"
                  + ("" if change is None else f" -> {entry['new']['weighted_f1']:.4f} ({change:+.4f})")
                  + (f", risk flags changed {entry['risk_flags_changed']:.2%}" if "risk_flags_changed" in entry
                     else ""))
    if "skipped" in forgetting:
        _log(log, f"forgetting check skipped: {forgetting['skipped']}")

    result = AdaptResult(output_dir=output, parent=config.init_from, recipe=recipe.name, labels=list(labels),
                         train_rows=len(rows.train_texts), held_out_rows=len(rows.held_texts), before=before,
                         after=after, kept=kept, decision=decision, temperature=final.temperature,
                         calibration=calibration, forgetting=forgetting, warnings=rows.warnings)
    result.seconds = time.time() - started
    adaptation = {"recipe": recipe.name, "recipe_summary": recipe.summary, "training": note, "head_rows": origin,
                  **{k: v for k, v in asdict(result).items() if k in ("before", "after", "kept", "decision",
                                                                      "calibration", "forgetting", "warnings")}}
    card = ModelCardData(
        base_model=final.config.base_model, labels=list(final.labels),
        train_sources=dict(rows.sources), dev_rows=len(rows.held_texts),
        config=config.to_dict(), temperature=final.temperature,
        train_seconds=result.seconds, textrisk_version=__version__, risk_labels=list(final.risk_labels),
        parent_model=config.init_from, parent_sources=_parent_sources(parent_dir), adaptation=adaptation)
    final.save_pretrained(output, model_card=render_model_card(card, pooling=final.config.pooling))
    atomic_write_json(output / REPORT_NAME, {**result.summary(), "adaptation": adaptation})
    return result
