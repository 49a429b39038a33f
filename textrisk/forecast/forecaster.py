"""``Forecaster``: trains a :class:`FusionNet` on a :class:`ForecastDataset`, predicts, saves and loads.

A saved forecaster is a folder of plain formats::

    textrisk_config.json     model_kind "forecaster", ForecastConfig, feature names, text-model key, dev scores
    model.safetensors        network weights
    normalization.json       per-feature mean/std fitted on sessions before ``train_end`` only
    README.md                model card
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import DataError, ModelLoadError
from ..models.cards import render_card
from ..models.hub import CONFIG_NAME, PretrainedModel, load_safetensors
from ..utils.atomic import atomic_write_json
from ..utils.calibration import sigmoid
from .constants import VAR_LEVELS
from .dataset import ForecastDataset
from .metrics import movement_scores, var_backtest
from .model import ForecastConfig, FusionNet, var_from_distribution
from .risk_level import assign_risk_levels, fit_risk_cuts

__all__ = ["Forecaster"]

logger = logging.getLogger(__name__)
WEIGHTS_FILE, NORM_FILE = "model.safetensors", "normalization.json"
_CLIP = 5.0  # standardised features are clipped to +-5 std: a split-day volume spike must not dominate a batch
_CHUNK = 4096


def _fit_stats(rows: np.ndarray, names: list[str]) -> dict[str, Any]:
    if len(rows) == 0:
        raise DataError("no training rows to fit the feature normalisation on (is train_end before the data?)")
    mean = rows.mean(axis=0, dtype=np.float64)
    std = rows.std(axis=0, dtype=np.float64)
    return {"names": list(names), "mean": mean.tolist(), "std": np.where(std > 1e-8, std, 1.0).tolist()}


def _apply(values: np.ndarray, stats: dict[str, Any]) -> np.ndarray:
    mean, std = np.asarray(stats["mean"], np.float32), np.asarray(stats["std"], np.float32)
    return np.clip((values - mean) / std, -_CLIP, _CLIP).astype(np.float32)


def _labels(returns: np.ndarray, config: ForecastConfig) -> np.ndarray:
    """1 rise, 0 fall, -1 dropped (between the thresholds, or unknown)."""
    label = np.full(len(returns), -1, dtype=np.int64)
    label[returns > config.rise_threshold] = 1
    label[returns <= config.fall_threshold] = 0
    return label


def _split(ds: ForecastDataset, config: ForecastConfig, name: str):
    """Targets of split ``name`` with known returns: ``(ticker_idx, session_idx, label, return)``."""
    start, end = config.splits()[name]
    ti, si = ds.targets(config.window, start, end, require_return=True)
    returns = ds.returns[ti, si]
    label = _labels(returns, config)
    if not (label >= 0).any():
        raise DataError(f"the {name} split [{start}, {end}) has no labelled target days in the data "
                        f"({ds.sessions[0].date()} .. {ds.sessions[-1].date()}, window {config.window})")
    return ti, si, label, returns


class Forecaster(PretrainedModel):
    """A trained fusion forecaster with its normalisation; see :meth:`train` and :meth:`from_pretrained`.

    Saving, loading (folders or Hub ids) and ``push_to_hub`` come from :class:`textrisk.models.hub.PretrainedModel`.
    """

    model_kind = "forecaster"

    def __init__(self, config: ForecastConfig, net: FusionNet, normalization: dict[str, Any], meta: dict[str, Any]):
        self.config, self.net, self.normalization, self.meta = config, net, normalization, meta
        self.net.eval()

    # ------------------------------------------------------------------------------------------ inputs
    def _check_dataset(self, ds: ForecastDataset) -> None:
        if list(ds.price_feature_names) != self.meta["price_features"]:
            raise DataError(f"dataset price features {ds.price_feature_names} differ from the forecaster's "
                            f"{self.meta['price_features']}")
        if self.config.uses_text:
            if ds.text.shape[2] == 0:
                raise DataError(f"variant {self.config.variant!r} needs text features; build the dataset with texts")
            if ds.text_model_key != self.meta["text_model_key"] or ds.text_feature_names != self.meta["text_features"]:
                raise DataError(f"dataset text features come from model {ds.text_model_key!r}, but this forecaster "
                                f"was trained on {self.meta['text_model_key']!r}; encode with the same model")
        if self.config.uses_signals and list(ds.signal_names) != self.meta.get("signal_features"):
            raise DataError(f"dataset text signals {list(ds.signal_names)} differ from the forecaster's "
                            f"{self.meta.get('signal_features')}; encode with the same text model")
        if ds.calendar != self.meta["calendar"]:
            raise DataError(f"dataset calendar {ds.calendar!r} differs from the forecaster's {self.meta['calendar']!r}")

    def _inputs(self, ds: ForecastDataset) -> dict[str, np.ndarray]:
        """Normalised day arrays: windows are gathered from them batch by batch (no copy per window)."""
        empty = np.zeros(ds.price.shape[:2] + (0,), np.float32)
        out = {"price": empty, "text": empty, "has_text": ds.has_text, "signals": empty, "market": empty}
        if self.config.uses_price:
            out["price"] = np.nan_to_num(_apply(ds.price, self.normalization["price"]))
        if self.config.uses_embedding:
            out["text"] = np.where(ds.has_text[..., None], _apply(ds.text, self.normalization["text"]), 0.0
                                   ).astype(np.float32)
        if self.config.uses_signals:
            out["signals"] = np.nan_to_num(_apply(ds.signals, self.normalization["signals"]))
        if self.config.market:
            market = np.nan_to_num(_apply(ds.market[0], self.normalization["market"]))
            out["market"] = np.broadcast_to(market[None], ds.price.shape[:2] + market.shape[1:])
        return out

    def _batch(self, inputs: dict[str, np.ndarray], ti: np.ndarray, si: np.ndarray) -> dict[str, torch.Tensor]:
        rows = si[:, None] + np.arange(-self.config.window, 0)[None, :]  # s-window .. s-1: never the target day
        return {key: torch.from_numpy(np.ascontiguousarray(value[ti[:, None], rows])) for key, value in inputs.items()}

    def _labels(self, returns: np.ndarray) -> np.ndarray:
        return _labels(returns, self.config)

    # ------------------------------------------------------------------------------------------ training
    @classmethod
    def train(cls, ds: ForecastDataset, config: ForecastConfig | None = None, *, log: bool = False) -> Forecaster:
        """Fit on the train split of ``ds``, picking the epoch by ``config.select_on`` on the dev split.

        Normalisation statistics come from sessions before ``train_end`` only.

        Raises:
            DataError: a split date outside the data, an empty split, a window longer than the history, or a
                text variant on a dataset without texts.
        """
        config = config or ForecastConfig()
        first, last = ds.sessions[0], ds.sessions[-1]
        for name in ("train_end", "dev_end"):
            date = pd.Timestamp(getattr(config, name))
            if not first < date <= last:
                raise DataError(f"split date {name}={getattr(config, name)} is outside the data "
                                f"({first.date()} .. {last.date()})")
        splits = {name: _split(ds, config, name) for name in ("train", "dev")}
        before = ds.sessions < pd.Timestamp(config.train_end)
        price_rows = ds.price[:, before].reshape(-1, ds.price.shape[2])
        normalization = {"price": _fit_stats(price_rows[np.isfinite(price_rows).all(axis=1)], ds.price_feature_names)}
        if config.uses_text and ds.text.shape[2] == 0:
            raise DataError(f"variant {config.variant!r} needs text features; build the dataset with texts")
        if config.uses_embedding:
            normalization["text"] = _fit_stats(ds.text[:, before][ds.has_text[:, before]], ds.text_feature_names)
        if config.uses_signals:  # over the sessions the text feed covers (before it, zeros mean no data)
            covered = before & ds.text_coverage & (ds.sessions >= pd.Timestamp(config.train_start))
            normalization["signals"] = _fit_stats(ds.signals[:, covered].reshape(-1, ds.signals.shape[2]),
                                                  ds.signal_names)
        market, market_names = ds.market
        if config.market:
            rows = market[before]
            normalization["market"] = _fit_stats(rows[np.isfinite(rows).all(axis=1)], market_names)
        meta = {"price_features": list(ds.price_feature_names), "text_features": list(ds.text_feature_names),
                "text_model_key": ds.text_model_key, "calendar": ds.calendar,
                "signal_features": list(ds.signal_names) if config.uses_signals else [],
                "market_features": market_names if config.market else []}
        torch.manual_seed(config.seed)
        net = FusionNet(ds.price.shape[2], ds.text.shape[2], config, len(meta["signal_features"]),
                        len(meta["market_features"]))
        model = cls(config, net, normalization, meta)
        with config.threads():
            model._fit(ds, splits, log)
        # risk-level cut points from this model's own training-period VaR99 (see risk_level.py)
        model.meta["risk_cuts"] = fit_risk_cuts(model.predict(ds, config.train_start, config.train_end))
        return model

    def _fit(self, ds: ForecastDataset, splits: dict[str, tuple], log: bool) -> None:
        cfg = self.config
        inputs = self._inputs(ds)
        ti, si, label, returns = splits["train"]
        dev = splits["dev"]
        optimizer = torch.optim.AdamW(self.net.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        generator = np.random.default_rng(cfg.seed)
        label_t, ret_t = torch.from_numpy(label), torch.from_numpy((returns * 100).astype(np.float32))
        best, best_state, best_epoch, stale, history = -math.inf, None, 0, 0, []
        for epoch in range(1, cfg.epochs + 1):
            self.net.train()
            order = generator.permutation(len(ti))
            total = 0.0
            for start in range(0, len(order), cfg.batch_size):
                idx = order[start:start + cfg.batch_size]
                out = self.net(**self._batch(inputs, ti[idx], si[idx]))
                loss = self.net.loss(out, label_t[idx], ret_t[idx], cfg.volatility_weight)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
                optimizer.step()
                total += float(loss.detach()) * len(idx)
            scores = self._score(inputs, *dev)
            history.append({"epoch": epoch, "train_loss": total / len(order),
                            **{f"dev_{k}": v for k, v in scores.items()}})
            if log:
                logger.info("epoch %d %s", epoch, history[-1])
            value = -scores["loss"] if cfg.select_on == "loss" else scores[cfg.select_on]
            if value > best + 1e-9:
                best, best_epoch, stale = value, epoch, 0
                best_state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
            else:
                stale += 1
                if stale >= cfg.patience:
                    break
        self.net.load_state_dict(best_state)
        self.net.eval()
        self.meta.update({"best_epoch": best_epoch, "history": history, "train_windows": int(len(ti)),
                          "train_labelled": int((label >= 0).sum())})
        self.meta["dev"] = history[best_epoch - 1]

    @torch.inference_mode()
    def _heads(self, inputs: dict[str, np.ndarray], ti: np.ndarray, si: np.ndarray) -> dict[str, np.ndarray]:
        was = self.net.training
        self.net.eval()
        parts: dict[str, list[np.ndarray]] = {"logit": [], "loc": [], "scale": []}
        df = self.net.degrees_of_freedom()
        for start in range(0, len(ti), _CHUNK):
            out = self.net(**self._batch(inputs, ti[start:start + _CHUNK], si[start:start + _CHUNK]))
            for key in parts:
                parts[key].append(out[key].double().numpy())
        self.net.train(was)
        result = {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}
        result["df"] = df
        return result

    def _score(self, inputs: dict[str, np.ndarray], ti, si, label, returns) -> dict[str, float]:
        heads = self._heads(inputs, ti, si)
        labelled = label >= 0
        p = sigmoid(heads["logit"])
        scores = movement_scores(label[labelled], p[labelled])
        with torch.no_grad():
            out = {"logit": torch.from_numpy(heads["logit"]), "loc": torch.from_numpy(heads["loc"]),
                   "scale": torch.from_numpy(heads["scale"]), "df": torch.tensor(heads["df"], dtype=torch.float64)}
            scores["loss"] = float(self.net.loss(out, torch.from_numpy(label), torch.from_numpy(returns * 100),
                                                 self.config.volatility_weight))
        return scores

    # ------------------------------------------------------------------------------------------ inference
    def predict(self, ds: ForecastDataset, start: str | None = None, end: str | None = None,
                text_effect: bool = False) -> pd.DataFrame:
        """Forecasts for every target day in ``[start, end)`` (default: all) that has a full lag window.

        Columns: ``ticker``, ``date`` (target session), ``p_rise``, ``expected_return``, ``volatility`` (std of
        the return), ``var_95`` / ``var_99`` (one-day value at risk, a positive loss fraction),
        ``risk_level`` (low / medium / high: VaR99 against the ticker's training-period VaR99, see
        ``risk_level.py``; missing for a forecaster saved without cut points), ``realised_return`` and ``label``
        (1 rise, 0 fall, NaN dropped or unknown). The day after the last price row is included with NaN
        realised values: the live forecast.

        ``text_effect`` (text-reading forecasters): also ``text_effect_<column>`` for ``expected_return``,
        ``volatility``, ``var_95`` and ``var_99``: the forecast minus the same model's forecast with the text
        tower's input neutral on every day of the window (the learned "no text" state for the mean features,
        the training period's average for the daily signals) -- what the texts added to this prediction.
        """
        self._check_dataset(ds)
        ti, si = ds.targets(self.config.window, start, end)
        inputs = self._inputs(ds)
        with self.config.threads():
            frame = self._frame(self._heads(inputs, ti, si))
            if text_effect and self.config.uses_text:
                neutral = self._frame(self._heads(_without_text(inputs), ti, si))
                for column in _EFFECT_COLUMNS:
                    frame[f"text_effect_{column}"] = frame[column] - neutral[column]
        frame.insert(0, "ticker", np.asarray(ds.tickers, dtype=object)[ti])
        frame.insert(1, "date", ds.sessions[si])
        frame.insert(frame.columns.get_loc("var_99") + 1, "risk_level",
                     assign_risk_levels(frame, self.meta.get("risk_cuts", {})))
        realised = ds.returns[ti, si]
        label = self._labels(realised).astype(float)
        label[~np.isfinite(realised) | (label < 0)] = np.nan
        frame.insert(frame.columns.get_loc("risk_level") + 1, "realised_return", realised)
        frame.insert(frame.columns.get_loc("realised_return") + 1, "label", label)
        return frame

    def _frame(self, heads: dict[str, Any]) -> pd.DataFrame:
        """p_rise, expected_return, volatility and VaR columns from the heads' outputs."""
        df = heads["df"]
        frame = pd.DataFrame({
            "p_rise": sigmoid(heads["logit"]),
            "expected_return": heads["loc"] / 100.0,
            "volatility": heads["scale"] * math.sqrt(df / (df - 2.0)) / 100.0,
        })
        for level in VAR_LEVELS:
            frame[f"var_{round(level * 100)}"] = var_from_distribution(heads["loc"], heads["scale"], df, level)
        return frame

    def evaluate(self, ds: ForecastDataset, split: str = "test") -> dict[str, Any]:
        """Movement accuracy/MCC on the labelled days of ``split`` and VaR breach rates on all its days."""
        start, end = self.config.splits()[split]
        pred = self.predict(ds, start, end)
        pred = pred[np.isfinite(pred["realised_return"])]
        labelled = pred[pred["label"].notna()]
        result: dict[str, Any] = movement_scores(labelled["label"].to_numpy(), labelled["p_rise"].to_numpy())
        result["var"] = {f"{round(level * 100)}": var_backtest(pred["realised_return"].to_numpy(),
                                                               pred[f"var_{round(level * 100)}"].to_numpy(), level)
                         for level in VAR_LEVELS}
        return result

    # ------------------------------------------------------------------------------------------ saving
    def _save_weights(self, staging: Path) -> dict[str, Any]:
        from safetensors.torch import save_file

        state = {k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}
        save_file(state, staging / WEIGHTS_FILE, metadata={"format": "pt"})
        atomic_write_json(staging / NORM_FILE, self.normalization)
        return {"config": self.config.to_dict(), **self.meta}

    def _render_card(self, config: dict[str, Any]) -> str:
        dev = self.meta.get("dev", {})
        return render_card("forecaster", {
            "config": self.config.to_dict(), "uses_text": self.config.uses_text,
            "price_features": self.meta["price_features"], "text_model_key": self.meta.get("text_model_key"),
            "best_epoch": self.meta.get("best_epoch"), "dev_acc": dev.get("dev_acc", float("nan")),
            "dev_mcc": dev.get("dev_mcc", float("nan"))})

    @classmethod
    def _load(cls, folder: Path, saved: dict[str, Any]) -> Forecaster:
        where = str(folder / CONFIG_NAME)
        missing = sorted({"config", *_META_KEYS} - set(saved))
        if missing:
            raise ModelLoadError(f"forecaster config {where!r} lacks {missing}")
        fields = saved.pop("config")
        if isinstance(fields, dict):
            fields.setdefault("mean_model", "conditional")  # saved before textrisk 0.3: a conditional location
        try:
            config = ForecastConfig(**fields)
        except (TypeError, ValueError) as exc:  # ConfigError is a ValueError
            raise ModelLoadError(f"invalid forecaster config {where!r}: {exc}") from exc
        state = load_safetensors(folder / WEIGHTS_FILE)
        normalization = _read_normalization(folder / NORM_FILE, saved, config)
        net = FusionNet(len(saved["price_features"]), len(saved["text_features"]), config,
                        len(saved.get("signal_features", [])), len(saved.get("market_features", [])))
        try:
            net.load_state_dict(state)
        except RuntimeError as exc:
            raise ModelLoadError(f"{WEIGHTS_FILE} in {str(folder)!r} does not fit its config: {exc}") from exc
        return cls(config, net, normalization, saved)


_META_KEYS = ("price_features", "text_features", "text_model_key", "calendar")
_EFFECT_COLUMNS = ("expected_return", "volatility", "var_95", "var_99")


def _without_text(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The model inputs with the text tower neutral: no texts on any day (the learned no-text vector) and the
    daily signals at their normalised training mean (0)."""
    return {**inputs, "has_text": np.zeros_like(inputs["has_text"]), "text": np.zeros_like(inputs["text"]),
            "signals": np.zeros_like(inputs["signals"])}


def _read_normalization(path: Path, meta: dict[str, Any], config: ForecastConfig) -> dict[str, Any]:
    """``normalization.json``, checked against the feature lists it must standardise."""
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"cannot read forecaster normalisation {str(path)!r}: {exc}") from exc
    parts = {"price": meta["price_features"]} if config.uses_price else {}
    if config.uses_embedding:
        parts["text"] = meta["text_features"]
    if config.uses_signals:
        parts["signals"] = meta.get("signal_features", [])
    if config.market:
        parts["market"] = meta.get("market_features", [])
    for part, names in parts.items():
        entry = stats.get(part) if isinstance(stats, dict) else None
        if not isinstance(entry, dict):
            raise ModelLoadError(f"{str(path)!r} has no {part!r} statistics")
        for key in ("mean", "std"):
            values = entry.get(key)
            if not isinstance(values, list) or len(values) != len(names):
                raise ModelLoadError(f"{str(path)!r}: {part}.{key} must list {len(names)} numbers (one per feature "
                                     f"{names[:3]}...), got {type(values).__name__} of length "
                                     f"{len(values) if isinstance(values, list) else '-'}")
            if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values) or (
                    key == "std" and min(values) <= 0):
                raise ModelLoadError(f"{str(path)!r}: {part}.{key} has non-finite or non-positive values")
    return stats
