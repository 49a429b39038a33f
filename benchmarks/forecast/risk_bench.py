"""The risk half of the StockNet benchmark: given each forecaster's forecasts, score them per period on common
(ticker, day) pairs, run the Diebold-Mariano tests, the model confidence set per loss, the power study of the
text comparisons, backtest the portfolio overlay per driver and run the text event study. ``bench.py`` trains
the LSTMs, forecasts with the baselines and calls :func:`risk_report`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from textrisk.forecast.backtest import buy_and_hold, run_overlay
from textrisk.forecast.dataset import ForecastDataset
from textrisk.forecast.dm import panel_diebold_mariano
from textrisk.forecast.event_study import model_gain_study, next_day_study, text_signals
from textrisk.forecast.mcs import model_confidence_set
from textrisk.forecast.portfolio import PortfolioConfig
from textrisk.forecast.scores import add_proxies, loss_frame, risk_scores

from .text_power import TEXT_PAIRS, power_study

__all__ = ["DM_LOSSES", "DM_PAIRS", "OVERLAYS", "common_pairs", "risk_report"]

logger = logging.getLogger(__name__)
#: (a, b): does a beat b? Text against the same model without text first, then against the desk's models.
DM_PAIRS = (*TEXT_PAIRS, ("lstm_text", "lstm_price"), ("lstm_text", "gjr_garch"), ("lstm_text", "har"),
            ("lstm_text_emb", "gjr_garch"), ("lstm_market", "gjr_garch"), ("lstm_market", "har"),
            ("lstm_price", "gjr_garch"), ("har", "gjr_garch"), ("egarch", "gjr_garch"), ("gjr_garch", "garch"))
DM_LOSSES = ("qlike", "qlike_parkinson", "pinball_95", "pinball_99")
#: Overlay strategies of the benchmark: name -> PortfolioConfig fields.
OVERLAYS = {"vol_target": {"strategy": "vol_target"},
            "min_variance": {"strategy": "min_variance"},
            "min_variance_long_short": {"strategy": "min_variance", "mode": "long_short"},
            "risk_parity": {"strategy": "risk_parity"}}


def common_pairs(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Each frame cut to the (ticker, date) pairs every frame forecasts with a known return."""
    keys = None
    for frame in frames.values():
        ok = frame[np.isfinite(frame["realised_return"]) & np.isfinite(frame["volatility"])]
        index = pd.MultiIndex.from_arrays([ok["ticker"], pd.DatetimeIndex(ok["date"])])
        keys = index if keys is None else keys.intersection(index)
    out = {}
    for name, frame in frames.items():
        index = pd.MultiIndex.from_arrays([frame["ticker"], pd.DatetimeIndex(frame["date"])])
        out[name] = frame[index.isin(keys)].reset_index(drop=True)
    return out


def _period(frame: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    dates = pd.DatetimeIndex(frame["date"])
    return frame[(dates >= pd.Timestamp(start)) & (dates < pd.Timestamp(end))]


def risk_report(ds: ForecastDataset, forecasts: dict[str, pd.DataFrame], periods: dict[str, tuple[str, str]],
                applies: dict[str, tuple[str, ...]], text_period: tuple[str, str],
                overlay: dict[str, Any] | None = None, plots: Path | None = None, n_boot: int = 1000,
                overlay_drivers: tuple[str, ...] | None = None, mcs_size: float = 0.10,
                overlay_periods: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Scores, DM tests, model confidence sets, power, overlay backtests and the event study.

    Args:
        forecasts: forecaster -> forecast frame (``Forecaster.predict`` or ``baselines`` layout) covering the
            periods.
        periods: period name -> ``(start, end)``.
        applies: period name -> forecasters scored there.
        text_period: ``(start, end)`` of the event study (the days with texts).
        overlay: extra ``PortfolioConfig`` fields for every overlay (e.g. ``target_vol``, ``cost_bp``).
        overlay_drivers: forecasters driving the overlay (default all; each costs a backtest per strategy).
        overlay_periods: periods the overlay is backtested on (default all).
        mcs_size: the model confidence set's size (0.10: a 90% set).
    """
    from textrisk.forecast.plots import plot_equity

    frames = {name: add_proxies(frame, ds) for name, frame in forecasts.items()}
    report: dict[str, Any] = {"variants": {name: {} for name in frames}, "dm": [], "portfolio": {},
                              "common_pairs": {}}
    cut: dict[str, dict[str, pd.DataFrame]] = {}
    for period, (start, end) in periods.items():
        names = [n for n in applies[period] if n in frames]
        cut[period] = common_pairs({n: _period(frames[n], start, end) for n in names})
        report["common_pairs"][period] = int(len(next(iter(cut[period].values())))) if names else 0
        for name in names:
            report["variants"][name][period] = risk_scores(cut[period][name], movement=True, n_boot=n_boot)
            logger.info("%s %s: %s", name, period, {k: report["variants"][name][period][k]["breach_rate"]
                                                     for k in ("var95", "var99")})
    losses = {period: {loss: {name: loss_frame(frame, loss) for name, frame in cut[period].items()}
                       for loss in DM_LOSSES} for period in periods}
    for period in periods:
        for a, b in DM_PAIRS:
            if a in cut[period] and b in cut[period]:
                for loss in DM_LOSSES:
                    test = panel_diebold_mariano(losses[period][loss][a], losses[period][loss][b])
                    report["dm"].append({"period": period, "pair": [a, b], "loss": loss, **test})
    report["mcs"] = {period: {loss: model_confidence_set(losses[period][loss], size=mcs_size)
                              for loss in DM_LOSSES} for period in periods if len(cut[period]) > 1}
    report["power"] = power_study(ds, cut, losses)
    base = overlay or {}
    for period, (start, end) in periods.items():
        if overlay_periods is not None and period not in overlay_periods:
            continue
        block: dict[str, Any] = {}
        curves: dict[str, pd.Series] = {}
        hold = buy_and_hold(ds, start, end, cost_bp=PortfolioConfig(**base).cost_bp,
                            tickers=sorted(set(next(iter(cut[period].values()))["ticker"])))
        block["buy_and_hold"] = {"equal_weight": hold.summary()}
        curves["buy and hold"] = hold.returns
        for strategy, fields in OVERLAYS.items():
            block[strategy] = {}
            for name in [n for n in cut[period] if overlay_drivers is None or n in overlay_drivers]:
                result = run_overlay(cut[period][name], ds, start, end, PortfolioConfig(**{**base, **fields}))
                block[strategy][name] = result.summary()
                if strategy == "vol_target":
                    curves[f"vol target: {name}"] = result.returns
        report["portfolio"][period] = block
        if plots is not None:
            report.setdefault("plots", {})[f"equity_{period}"] = str(plot_equity(
                curves, plots / f"forecast_overlay_{period}.png",
                title=f"vol-target overlay ({base.get('target_vol', PortfolioConfig.target_vol):.0%}) vs "
                      f"equal-weight buy and hold, {period}"))
    report["event_study"] = _event_study(ds, cut, text_period, n_boot)
    return report


def _event_study(ds: ForecastDataset, cut: dict[str, dict[str, pd.DataFrame]], text_period: tuple[str, str],
                 n_boot: int) -> dict[str, Any]:
    signals = text_signals(ds)
    out: dict[str, Any] = {"period": list(text_period), "signals": {}, "text_vs_no_text": {}}
    for name, signal in signals.items():
        out["signals"][name] = next_day_study(ds, signal, *text_period, n_boot=n_boot)
    rolling = cut.get("rolling", {})
    if "lstm_text" in rolling and "lstm_market" in rolling and "negative_share" in signals:
        for loss in ("qlike", "pinball_99"):
            out["text_vs_no_text"][loss] = {
                name: model_gain_study(loss_frame(rolling["lstm_text"], loss), loss_frame(rolling["lstm_market"], loss),
                                       ds, signals[name], n_boot=n_boot)
                for name in ("negative_share", "text_count") if name in signals}
    return out
