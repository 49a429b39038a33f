"""The fusion forecaster: a price LSTM tower and a text LSTM tower, fused before the output heads.

Heads: a movement logit (P(rise)) and a Student-t distribution of the target day's return (location, scale;
one learned degrees-of-freedom), from which the expected return, the volatility and the value at risk follow.
Ablations (``ForecastConfig.variant``): ``fused``, ``price_only``, ``text_only``. The text tower reads the daily
mean of the per-text features (``text_input="embedding"``), the daily text signals of ``signals.py``
(``"signals"``) or both; an optional market tower (``market=True``) reads the market-wide features of
``market.py``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..utils.runtime import torch_threads
from ..utils.validation import check, validate_fields
from .constants import (
    STOCKNET_DEV_END,
    STOCKNET_FALL_THRESHOLD,
    STOCKNET_LAG,
    STOCKNET_RISE_THRESHOLD,
    STOCKNET_TEST_END,
    STOCKNET_TRAIN_END,
    STOCKNET_TRAIN_START,
)

__all__ = ["MEAN_MODELS", "TEXT_INPUTS", "VARIANTS", "ForecastConfig", "FusionNet"]

VARIANTS = ("fused", "price_only", "text_only")
TEXT_INPUTS = ("embedding", "signals", "both")
MEAN_MODELS = ("constant", "conditional")
_SELECT = ("mcc", "acc", "loss")


@dataclass
class ForecastConfig:
    """Hyper-parameters, protocol and split dates of one forecaster; defaults follow StockNet."""

    variant: str = field(default="fused", metadata=check("'fused', 'price_only' or 'text_only'.", choices=VARIANTS))
    window: int = field(default=STOCKNET_LAG, metadata=check("Lag window: trading days before the target.", gt=0))
    hidden_size: int = field(default=32, metadata=check("LSTM state size of each tower.", gt=0))
    text_size: int = field(default=32, metadata=check("Per-day projection of the text features.", gt=0))
    text_input: str = field(default="embedding", metadata=check(
        "What the text tower reads per day: 'embedding' (mean per-text features), 'signals' (daily text signals: "
        "counts, abnormal volume, novelty, negative share, risk and event counts) or 'both'.", choices=TEXT_INPUTS))
    market: bool = field(default=False, metadata=check(
        "Add a market tower over market-wide features of all the dataset's tickers (equal-weight return, range "
        "variance, dispersion)."))
    dropout: float = field(default=0.3, metadata=check("Dropout on inputs of the text projection and the fusion.",
                                                       ge=0, lt=1))
    epochs: int = field(default=30, metadata=check("Maximum passes over the training windows.", gt=0))
    patience: int = field(default=6, metadata=check("Stop after this many epochs without a better dev score.", gt=0))
    batch_size: int = field(default=128, metadata=check("Windows per optimisation step.", gt=0))
    learning_rate: float = field(default=1e-3, metadata=check("AdamW learning rate.", gt=0))
    weight_decay: float = field(default=1e-3, metadata=check("AdamW weight decay.", ge=0))
    volatility_weight: float = field(default=0.5, metadata=check("Weight of the return-distribution NLL.", ge=0))
    mean_model: str = field(default="constant", metadata=check(
        "Location of the return distribution: 'constant' (one learned value: the expected return is the "
        "training period's typical daily return) or 'conditional' (a function of the inputs; on StockNet it has "
        "no skill out of sample and drifts, e.g. +0.15%/day).", choices=MEAN_MODELS))
    select_on: str = field(default="mcc", metadata=check("Dev score picking the epoch: 'mcc', 'acc', 'loss'.",
                                                         choices=_SELECT))
    seed: int = field(default=0, metadata=check("Seed for initialisation, dropout and batch order."))
    train_start: str = field(default=STOCKNET_TRAIN_START, metadata=check("First target date of train."))
    train_end: str = field(default=STOCKNET_TRAIN_END, metadata=check("Train/dev boundary (target date)."))
    dev_end: str = field(default=STOCKNET_DEV_END, metadata=check("Dev/test boundary (target date)."))
    test_end: str = field(default=STOCKNET_TEST_END, metadata=check("End of test (exclusive)."))
    rise_threshold: float = field(default=STOCKNET_RISE_THRESHOLD, metadata=check("Return > this: rise."))
    fall_threshold: float = field(default=STOCKNET_FALL_THRESHOLD, metadata=check("Return <= this: fall."))
    num_threads: int | None = field(default=1, metadata=check(
        "torch CPU threads while training/predicting (None: leave torch's setting); a small LSTM is fastest on one, "
        "extra threads only contend.", gt=0))

    def __post_init__(self) -> None:
        validate_fields(self)
        if not self.fall_threshold < self.rise_threshold:
            raise ConfigError(f"fall_threshold ({self.fall_threshold}) must be < rise_threshold "
                              f"({self.rise_threshold})")
        import pandas as pd

        dates = {}
        for name in ("train_start", "train_end", "dev_end", "test_end"):
            try:
                dates[name] = pd.Timestamp(getattr(self, name))
            except ValueError as exc:
                raise ConfigError(f"{name} must be a date 'YYYY-MM-DD', got {getattr(self, name)!r}") from exc
        names = list(dates)
        for before, after in zip(names, names[1:]):
            if not dates[before] < dates[after]:
                raise ConfigError(f"{after} ({getattr(self, after)}) must be after {before} ({getattr(self, before)})")

    @property
    def uses_price(self) -> bool:
        """The variant reads the price tower."""
        return self.variant in ("fused", "price_only")

    @property
    def uses_text(self) -> bool:
        """The variant reads the text tower."""
        return self.variant in ("fused", "text_only")

    @property
    def uses_embedding(self) -> bool:
        """The text tower reads the mean per-text features."""
        return self.uses_text and self.text_input in ("embedding", "both")

    @property
    def uses_signals(self) -> bool:
        """The text tower reads the daily text signals."""
        return self.uses_text and self.text_input in ("signals", "both")

    def splits(self) -> dict[str, tuple[str, str]]:
        """``{"train": (start, end), "dev": ..., "test": ...}``, end exclusive."""
        return {"train": (self.train_start, self.train_end), "dev": (self.train_end, self.dev_end),
                "test": (self.dev_end, self.test_end)}

    def threads(self):
        """Run the block with ``num_threads`` torch threads, restoring the previous setting after."""
        return torch_threads(self.num_threads)

    def to_dict(self) -> dict:
        """Plain dict of all fields (JSON ready)."""
        return dataclasses.asdict(self)


class FusionNet(nn.Module):
    """Price tower (LSTM) + text tower (per-day projections, learned no-text vector, LSTM) + optional market tower
    (LSTM), fused by an MLP.

    Inputs are normalised features, ``price`` [B, W, P], ``text`` [B, W, D], ``has_text`` [B, W] bool,
    ``signals`` [B, W, K], ``market`` [B, W, M] (width 0 where unused).
    Returns movement ``logit`` [B], and Student-t ``loc`` [B], ``scale`` [B] (in percent) and ``df`` (scalar).
    """

    def __init__(self, n_price: int, n_text: int, config: ForecastConfig, n_signals: int = 0, n_market: int = 0):
        super().__init__()
        self.uses_price, self.uses_text = config.uses_price, config.uses_text
        self.uses_embedding, self.uses_signals, self.uses_market = (config.uses_embedding, config.uses_signals,
                                                                    config.market)
        h = config.hidden_size
        if self.uses_price:
            self.price_rnn = nn.LSTM(n_price, h, batch_first=True)
        if self.uses_text:
            width = 0
            if self.uses_embedding:
                self.text_proj = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(n_text, config.text_size),
                                               nn.GELU())
                # stands in for the projection on days without any text: absence of news is its own state
                self.no_text = nn.Parameter(torch.zeros(config.text_size))
                width += config.text_size
            if self.uses_signals:  # signals are defined on silent days too (count 0, low abnormal volume)
                self.signal_proj = nn.Sequential(nn.Linear(n_signals, config.text_size), nn.GELU())
                width += config.text_size
            self.text_rnn = nn.LSTM(width, h, batch_first=True)
        if self.uses_market:
            self.market_rnn = nn.LSTM(n_market, h, batch_first=True)
        fused = h * (int(self.uses_price) + int(self.uses_text) + int(self.uses_market))
        self.fusion = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(fused, h), nn.GELU(),
                                    nn.Dropout(config.dropout))
        self.movement = nn.Linear(h, 1)
        self.distribution = nn.Linear(h, 2)
        with torch.no_grad():  # start near a typical daily stock return: loc 0, scale ~1.5%
            self.distribution.bias.copy_(torch.tensor([0.0, math.log(math.expm1(1.5))]))
        self.raw_df = nn.Parameter(torch.tensor(math.log(math.expm1(3.0))))  # df = 2 + softplus: finite variance
        if config.mean_model == "constant":  # one location for every window (the head's loc output is unused)
            self.mean_loc = nn.Parameter(torch.zeros(()))

    def forward(self, price: torch.Tensor, text: torch.Tensor, has_text: torch.Tensor,
                signals: torch.Tensor | None = None, market: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Heads for a batch of windows."""
        parts = []
        if self.uses_price:
            parts.append(self.price_rnn(price)[0][:, -1])
        if self.uses_text:
            days = []
            if self.uses_embedding:
                projected = self.text_proj(text)
                days.append(torch.where(has_text.unsqueeze(-1), projected, self.no_text.expand_as(projected)))
            if self.uses_signals:
                days.append(self.signal_proj(signals))
            parts.append(self.text_rnn(torch.cat(days, dim=-1))[0][:, -1])
        if self.uses_market:
            parts.append(self.market_rnn(market)[0][:, -1])
        body = self.fusion(torch.cat(parts, dim=-1))
        loc, raw_scale = self.distribution(body).unbind(-1)
        if hasattr(self, "mean_loc"):
            loc = self.mean_loc.expand_as(raw_scale)
        return {"logit": self.movement(body).squeeze(-1), "loc": loc,
                "scale": nn.functional.softplus(raw_scale) + 1e-3, "df": 2.0 + nn.functional.softplus(self.raw_df)}

    def degrees_of_freedom(self) -> float:
        """The learned Student-t degrees of freedom (> 2)."""
        return float(2.0 + nn.functional.softplus(self.raw_df.detach()))

    def loss(self, out: dict[str, torch.Tensor], label: torch.Tensor, ret_pct: torch.Tensor,
             volatility_weight: float) -> torch.Tensor:
        """BCE on labelled windows (label 0/1; -1 = dropped) + weighted Student-t NLL of the return (percent)."""
        labelled = label >= 0
        loss = out["logit"].new_zeros(())
        if labelled.any():
            loss = nn.functional.binary_cross_entropy_with_logits(out["logit"][labelled], label[labelled].float())
        if volatility_weight > 0:
            dist = torch.distributions.StudentT(out["df"], out["loc"], out["scale"])
            loss = loss - volatility_weight * dist.log_prob(ret_pct).mean()
        return loss


def student_t_quantile(p: float, df: float) -> float:
    """Quantile of the standard Student-t (scipy)."""
    from scipy.stats import t

    return float(t.ppf(p, df))


def var_from_distribution(loc: np.ndarray, scale: np.ndarray, df: float, level: float) -> np.ndarray:
    """One-day value at risk at ``level`` (e.g. 0.95), as a positive loss fraction, from percent-unit params."""
    return -(loc + scale * student_t_quantile(1.0 - level, df)) / 100.0
