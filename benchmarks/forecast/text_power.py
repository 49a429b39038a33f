"""Could the benchmark see text help if it did? The power of each text-vs-no-text Diebold-Mariano test, and a
yardstick of how large a text gain could plausibly be.

* **Power** (``textrisk.forecast.dm.dm_power``): per period, loss and text pair (a forecaster with the text
  signals against the same forecaster without them), the smallest mean daily loss improvement the pooled DM
  test detects at 80% power (alpha 0.05), the observed difference and its 95% interval; for QLIKE also the
  uniform variance error that gain equals.
* **Yardstick** (an oracle, in sample): on each ticker's top-decile days of a text signal of the previous
  session (the decile cut over the period itself), rescale the no-text forecaster's variance by the QLIKE-optimal
  factor of those days, and the other days by theirs, against one optimal factor for all days. The QLIKE gain is
  the most a rule "more variance after unusual text days" could win with perfect hindsight; a DM test whose
  minimum detectable gain is larger than this cannot tell text from no text, whatever the truth.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from textrisk.forecast.dataset import ForecastDataset
from textrisk.forecast.dm import daily_differential, dm_power, qlike_equivalent_error
from textrisk.forecast.losses import qlike

__all__ = ["TEXT_PAIRS", "YARDSTICK_SIGNALS", "oracle_gain", "power_study"]

#: (with text, the same without text).
TEXT_PAIRS = (("lstm_text", "lstm_market"), ("lstm_text_emb", "lstm_market"), ("har_x", "har"),
              ("garch_x", "gjr_garch"))
YARDSTICK_SIGNALS = ("text_count", "abnormal_count", "negative_share", "event_count")
_PROXY = {"qlike": "squared_return", "qlike_parkinson": "parkinson"}


def oracle_gain(ds: ForecastDataset, frame: pd.DataFrame, signal: str, proxy: str,
                quantile: float = 0.9) -> dict[str, Any]:
    """In-sample QLIKE gain of rescaling ``frame``'s variance on the top-``quantile`` days of ``signal`` (of the
    session before each target), per ticker, against one rescaling for all days (module docstring)."""
    ti = pd.Index(ds.tickers).get_indexer(frame["ticker"])
    si = ds.sessions.get_indexer(pd.DatetimeIndex(frame["date"])) - 1
    data = pd.DataFrame({"ticker": frame["ticker"].to_numpy(), "date": frame["date"].to_numpy(),
                         "signal": ds.signals[ti, si, ds.signal_names.index(signal)],
                         "h": frame["volatility"].to_numpy(float) ** 2, "proxy": frame[proxy].to_numpy(float)})
    data = data[np.isfinite(data["proxy"]) & (data["h"] > 0)]
    top = data["signal"] > data.groupby("ticker")["signal"].transform(lambda s: s.quantile(quantile))
    ratio = data["proxy"] / data["h"]
    if top.all() or not top.any():  # a signal without a top decile (constant over the period)
        return {"signal": signal, "top_days": int(top.sum()), "days": 0, "top_scale": float("nan"),
                "gain": float("nan")}
    one = qlike(data["proxy"], data["h"] * ratio.mean())
    scale = np.where(top, ratio[top].mean(), ratio[~top].mean())
    two = qlike(data["proxy"], data["h"] * scale)
    daily = pd.Series(np.asarray(one - two), index=data["date"]).groupby(level=0).mean()
    return {"signal": signal, "top_days": int(top.sum()), "days": int(len(daily)),
            "top_scale": float(ratio[top].mean() / ratio.mean()), "gain": float(daily.mean())}


def power_study(ds: ForecastDataset, cut: dict[str, dict[str, pd.DataFrame]],
                losses: dict[str, dict[str, dict[str, pd.DataFrame]]]) -> dict[str, Any]:
    """Power of every text pair's DM test per period and loss, and the oracle yardsticks (module docstring).

    ``cut``: period -> forecaster -> frame (common pairs, with proxies); ``losses``: period -> loss ->
    forecaster -> loss frame.
    """
    out: dict[str, Any] = {"tests": [], "yardstick": []}
    for period, frames in cut.items():
        for a, b in TEXT_PAIRS:
            if a not in frames or b not in frames:
                continue
            for loss, per_model in losses[period].items():
                daily, _ = daily_differential(per_model[a], per_model[b])
                power = dm_power(daily.to_numpy())
                entry = {"period": period, "pair": [a, b], "loss": loss, **power}
                if loss in _PROXY:
                    entry["equivalent_variance_error"] = qlike_equivalent_error(power["mde"])
                out["tests"].append(entry)
        base = "har" if "har" in frames and "har_x" in frames else None  # periods with texts only
        if base is None or not ds.signal_names:
            continue
        for signal in (s for s in YARDSTICK_SIGNALS if s in ds.signal_names):
            for loss, proxy in _PROXY.items():
                out["yardstick"].append({"period": period, "base": base, "loss": loss,
                                         **oracle_gain(ds, frames[base], signal, proxy)})
    return out
