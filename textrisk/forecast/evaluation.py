"""``textrisk forecast evaluate``: risk scores of forecasts in CSV files -- a forecaster's ``forecast predict`` output
or a user's own -- against realised returns.

A predictions CSV has ``ticker`` and ``date`` (YYYY-MM-DD, the forecast session) and any of ``volatility``,
``var_95``, ``var_99`` (one-day VaR as a positive loss fraction, e.g. 0.031), plus ``realised_return`` unless
prices are given (then the realised close-to-close return and the Parkinson range come from the prices).
Scores (``scores.risk_scores``): VaR breach rate with Kupiec, Christoffersen and dynamic-quantile p-values,
pinball loss, QLIKE against squared returns (and Parkinson's range with prices). With several files, every file
is scored on the (ticker, date) pairs all of them forecast, each later file is compared with the first by the
pooled Diebold-Mariano test, and the model confidence set (90%) is given per loss.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .constants import VAR_LEVELS
from .csv_files import parse_dates, read_table
from .dataset import ForecastDataset
from .dm import panel_diebold_mariano
from .mcs import model_confidence_set
from .scores import add_proxies, loss_frame, risk_scores

__all__ = ["FORECAST_COLUMNS", "evaluate_predictions", "format_evaluation", "predictions_names",
           "read_predictions_csv"]

FORECAST_COLUMNS = ("volatility", *(f"var_{round(level * 100)}" for level in VAR_LEVELS))
_LOSSES = ("qlike", "qlike_parkinson", *(f"pinball_{round(level * 100)}" for level in VAR_LEVELS))


def read_predictions_csv(path: str | os.PathLike, need_realised: bool) -> pd.DataFrame:
    """One predictions file, checked; errors name the file, line and field.

    Raises:
        InputError: unreadable file, no forecast column, a missing ``ticker`` / ``date`` / ``realised_return``
            column, an unparseable date or number, a negative volatility, or a duplicate (ticker, date).
    """
    needed = ["ticker", "date"] + (["realised_return"] if need_realised else [])
    frame = read_table(path, "predictions", needed,
                       hint=" (or pass --prices to take realised returns from prices)" if need_realised else "")
    forecasts = [c for c in FORECAST_COLUMNS if c in frame.columns]
    if not forecasts:
        raise InputError(f"{path}: no forecast column; expected one of {', '.join(FORECAST_COLUMNS)}")
    dates = parse_dates(frame, path)
    out = pd.DataFrame({"ticker": frame["ticker"].str.strip(), "date": dates})
    for i in np.flatnonzero(out["ticker"] == "")[:1]:
        raise InputError(f"{path} line {i + 2}: field 'ticker' is empty")
    numeric = forecasts + (["realised_return"] if "realised_return" in frame.columns else [])
    for column in numeric:
        text = frame[column].str.strip()
        values = pd.to_numeric(text.where(text != "", "nan"), errors="coerce")
        bad = np.flatnonzero(values.isna() & ~text.str.lower().isin(("", "nan")))
        bad = np.union1d(bad, np.flatnonzero(np.isinf(values.to_numpy(float))))
        for i in bad[:1]:
            raise InputError(f"{path} line {i + 2}: field {column!r} is {frame[column].iloc[i]!r}, not a finite "
                             "number (leave it empty for no value)")
        out[column] = values.to_numpy(float)
    if "volatility" in out.columns:
        for i in np.flatnonzero(out["volatility"] < 0)[:1]:
            raise InputError(f"{path} line {i + 2}: field 'volatility' is negative ({out['volatility'].iloc[i]})")
    duplicated = out.duplicated(["ticker", "date"])
    for i in np.flatnonzero(duplicated)[:1]:
        raise InputError(f"{path} line {i + 2}: a second prediction for {out['ticker'].iloc[i]} on "
                         f"{out['date'].iloc[i].date()}; keep one row per ticker and date")
    return out


def _with_realised(frame: pd.DataFrame, ds: ForecastDataset | None) -> pd.DataFrame:
    if ds is None:
        return add_proxies(frame, None)
    ti = pd.Index(ds.tickers).get_indexer(frame["ticker"])
    si = ds.sessions.get_indexer(pd.DatetimeIndex(frame["date"]))
    realised = np.full(len(frame), np.nan)
    known = (ti >= 0) & (si >= 0)
    realised[known] = ds.returns[ti[known], si[known]]
    return add_proxies(frame.assign(realised_return=realised), ds)


def evaluate_predictions(frames: dict[str, pd.DataFrame], ds: ForecastDataset | None = None,
                         start: Any = None, end: Any = None) -> dict[str, Any]:
    """Scores of each ``name -> predictions`` frame (see the module docstring); ``ds``: prices for the realised
    returns and the Parkinson proxy (None: the frames' ``realised_return``)."""
    scored = {}
    for name, frame in frames.items():
        data = _with_realised(frame, ds)
        dates = pd.DatetimeIndex(data["date"])
        keep = np.isfinite(data["realised_return"].to_numpy(float))
        keep &= (dates >= pd.Timestamp(start)) if start is not None else True
        keep &= (dates < pd.Timestamp(end)) if end is not None else True
        scored[name] = data[keep]
    keys = None
    for data in scored.values():
        index = pd.MultiIndex.from_arrays([data["ticker"], pd.DatetimeIndex(data["date"])])
        keys = index if keys is None else keys.intersection(index)
    common = {name: data[pd.MultiIndex.from_arrays([data["ticker"], pd.DatetimeIndex(data["date"])]).isin(keys)]
              for name, data in scored.items()}
    report: dict[str, Any] = {"rows": {name: int(len(f)) for name, f in frames.items()},
                              "scored_pairs": int(len(keys)) if keys is not None else 0, "forecasts": {}}
    if not report["scored_pairs"]:
        return report
    report["forecasts"] = {name: risk_scores(data, movement=False) for name, data in common.items()}
    if len(common) > 1:
        names = list(common)
        losses = {loss: {n: loss_frame(common[n], loss) for n in names if _has_loss(common[n], loss)}
                  for loss in _LOSSES}
        report["dm"] = [{"pair": [other, names[0]], "loss": loss,
                         **panel_diebold_mariano(by_name[other], by_name[names[0]])}
                        for loss, by_name in losses.items() if names[0] in by_name
                        for other in names[1:] if other in by_name]
        report["mcs"] = {loss: model_confidence_set(by_name) for loss, by_name in losses.items() if len(by_name) > 1}
    return report


def _has_loss(frame: pd.DataFrame, loss: str) -> bool:
    if loss.startswith("pinball_"):
        return f"var_{loss.split('_')[1]}" in frame.columns
    proxy = "parkinson" if loss == "qlike_parkinson" else "squared_return"
    return "volatility" in frame.columns and bool(np.isfinite(frame[proxy]).any())


def format_evaluation(report: dict[str, Any]) -> str:
    """The report as aligned text tables for the terminal."""
    def cell(value: Any, fmt: str) -> str:
        return "-" if value is None or (isinstance(value, float) and not np.isfinite(value)) else format(value, fmt)

    header = ["forecasts", "n"]
    for level in VAR_LEVELS:
        pct = round(level * 100)
        header += [f"VaR{pct} breach", "Kupiec p", "Christoffersen p", "DQ p", f"pinball {100 - pct}%"]
    header += ["QLIKE r^2", "QLIKE Parkinson"]
    rows = []
    for name, s in report["forecasts"].items():
        row = [name, str(s["n"])]
        for level in VAR_LEVELS:
            v = s.get(f"var{round(level * 100)}", {})
            row += [cell(v.get("breach_rate"), ".2%"), cell(v.get("kupiec_p"), ".3f"),
                    cell(v.get("christoffersen_cc_p"), ".3f"), cell(v.get("dq_p"), ".3f"),
                    cell(v.get("pinball"), ".4f")]
        row += [cell(s.get("qlike", {}).get(p), ".3f") for p in ("squared_return", "parkinson")]
        rows.append(row)
    lines = [_aligned(header, rows)]
    if report.get("dm"):
        dm_rows = [[f"{t['pair'][0]} vs {t['pair'][1]}", t["loss"], cell(t["mean_diff"], "+.4f"),
                    cell(t["statistic"], ".2f"), cell(t["p_value"], ".3f"), str(t["days"])] for t in report["dm"]]
        lines += ["", "Diebold-Mariano (pooled by day; negative: the first has the lower loss)",
                  _aligned(["pair", "loss", "mean diff", "DM stat", "p", "days"], dm_rows)]
    if report.get("mcs"):
        mcs_rows = [[loss, ", ".join(m["included"]), ", ".join(m["excluded"]) or "-"]
                    for loss, m in report["mcs"].items()]
        lines += ["", "Model confidence set (90%)", _aligned(["loss", "in the set", "eliminated"], mcs_rows)]
    return "\n".join(lines)


def _aligned(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip() for r in [header, *rows])


def predictions_names(paths: list[str]) -> dict[str, Path]:
    """A short distinct name per file: its stem, or its path where stems repeat."""
    stems = [Path(p).stem for p in paths]
    return {(stem if stems.count(stem) == 1 else str(p)): Path(p) for stem, p in zip(stems, paths)}
