"""Markdown tables of a ``forecast-bench`` JSON report (what the docs and benchmarks/forecast.md show)."""

from __future__ import annotations

from typing import Any

__all__ = ["SECTIONS", "markdown_tables"]


def _f(value: Any, digits: int = 3) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return "nan"
        return f"{value:.2e}" if 0 < abs(value) < 10 ** -digits else f"{value:.{digits}f}"
    return str(value)


def _ci(entry: dict[str, Any] | None, digits: int = 3, scale: float = 1.0) -> str:
    if not entry:
        return ""
    text = f"{entry['value'] * scale:.{digits}f}"
    if entry.get("ci95"):
        lo, hi = entry["ci95"]
        text += f" [{lo * scale:.{digits}f}, {hi * scale:.{digits}f}]"
    return text


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _risk_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for period in report.get("periods", {}):
        for name, entry in report.get("variants", {}).items():
            block = entry.get(period)
            if not isinstance(block, dict) or "var95" not in block:
                continue
            row = [period, name, str(block["n"])]
            for key in ("var95", "var99"):
                v = block[key]
                row += [f"{v['breach_rate']:.2%}", _f(v["kupiec_p"]), _f(v["christoffersen_cc_p"]),
                        _f(v.get("dq_p")), _f(v["pinball"], 4)]
            row += [_f(block["qlike"]["squared_return"]), _f(block["qlike"]["parkinson"]),
                    _f(block["mse_var"]["squared_return"], 2), _f(block["mse_var"]["parkinson"], 2)]
            rows.append(row)
    return rows


def _movement_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for period in report.get("periods", {}):
        for name, entry in report.get("variants", {}).items():
            block = entry.get(period)
            if isinstance(block, dict) and "acc" in block:
                seeds = entry.get("over_seeds", {}).get(period, {})
                spread = (f"{seeds['acc']['mean']:.2%} ± {seeds['acc']['std']:.2%} / "
                          f"{seeds['mcc']['mean']:.3f} ± {seeds['mcc']['std']:.3f}") if "acc" in seeds else ""
                rows.append([period, name, str(block["n_labelled"]), _ci(block["acc"], 2, 100), _ci(block["mcc"]),
                             spread])
    majority = report.get("variants", {}).get("majority")
    if majority:
        rows.append(["test", "majority (rise)", str(majority.get("n_test", "")), f"{majority['acc']['mean']:.2%}",
                     f"{majority['mcc']['mean']:.3f}", ""])
    published = report.get("published", {}).get("stocknet")
    if published:
        rows.append(["test", "*StockNet (published)*", "3720", f"*{published['acc']:.2%}*",
                     f"*{published['mcc']:.3f}*", ""])
    return rows


def _seed_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, entry in report.get("variants", {}).items():
        for period, scores in entry.get("over_seeds", {}).items():
            if not isinstance(scores, dict) or "qlike" not in scores:
                continue
            cell = [f"{scores[k]['mean']:.3f} ± {scores[k]['std']:.3f}" for k in ("qlike", "qlike_parkinson")]
            cell += [f"{scores[k]['mean']:.2%} ± {scores[k]['std']:.2%}" for k in ("var95_breach", "var99_breach")]
            ensemble = entry.get(period, {})
            rows.append([period, name, str(len(scores["qlike"]["values"])), *cell,
                         _f(ensemble.get("qlike", {}).get("squared_return"))])
    return rows


def _mcs_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for period, losses in report.get("mcs", {}).items():
        for loss, result in losses.items():
            pvalues = result.get("p_values", {})
            ranked = sorted(result["loss"], key=result["loss"].get)
            members = ", ".join(f"{n} ({pvalues.get(n, 1.0):.2f})" for n in ranked if n in result["included"])
            out = ", ".join(f"{n} ({pvalues.get(n, 0.0):.3f})" for n in ranked if n in result["excluded"])
            rows.append([period, loss, str(result["days"]), members, out])
    return rows


def _power_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for t in report.get("power", {}).get("tests", []):
        ci = t.get("ci95") or [float("nan")] * 2
        equivalent = t.get("equivalent_variance_error")
        rows.append([t["period"], f"{t['pair'][0]} vs {t['pair'][1]}", t["loss"], str(t["n"]), _f(t["mean_diff"], 4),
                     f"[{ci[0]:+.4f}, {ci[1]:+.4f}]", _f(t["mde"], 4),
                     f"{equivalent - 1:.1%}" if equivalent is not None else ""])
    return rows


def _yardstick_rows(report: dict[str, Any]) -> list[list[str]]:
    return [[y["period"], y["base"], y["signal"], y["loss"], str(y["top_days"]), _f(y["top_scale"]), _f(y["gain"], 4)]
            for y in report.get("power", {}).get("yardstick", [])]


def _dm_rows(report: dict[str, Any]) -> list[list[str]]:
    return [[t["period"], f"{t['pair'][0]} vs {t['pair'][1]}", t["loss"], _f(t["mean_diff"], 4), _f(t["statistic"]),
             _f(t["p_value"]), str(t["days"])] for t in report.get("dm", [])]


def _portfolio_rows(report: dict[str, Any]) -> list[list[str]]:
    return [[period, strategy, driver, f"{perf['ann_return']:.2%}", f"{perf['ann_vol']:.2%}",
             "" if perf["target_vol"] is None else f"{perf['target_vol']:.0%}", _f(perf["sharpe"], 2),
             f"{perf['max_drawdown']:.2%}", _f(perf["turnover"], 1)]
            for period, block in report.get("portfolio", {}).items()
            for strategy, drivers in block.items() for driver, perf in drivers.items()]


def _event_rows(report: dict[str, Any]) -> list[list[str]]:
    study = report.get("event_study", {})
    rows = [[signal, f"next-day {outcome}", str(r["tickers"]), str(r["n_top"]), str(r["n_other"]), _f(r["top_mean"]),
             _f(r["other_mean"]), f"{r['difference']:+.3f} [{r['ci95'][0]:+.3f}, {r['ci95'][1]:+.3f}]"]
            for signal, outcomes in study.get("signals", {}).items() for outcome, r in outcomes.items()
            if "difference" in r]
    rows += [[f"{signal} (day before)", f"{loss}: lstm_text - lstm_market (rolling)", str(r["tickers"]),
              str(r["n_top"]), str(r["n_other"]), _f(r["top_mean"], 4), _f(r["other_mean"], 4),
              f"{r['difference']:+.4f} [{r['ci95'][0]:+.4f}, {r['ci95'][1]:+.4f}]"]
             for loss, by_signal in study.get("text_vs_no_text", {}).items() for signal, r in by_signal.items()
             if "difference" in r]
    return rows


def _timing_rows(report: dict[str, Any]) -> list[list[str]]:
    timing = {**report.get("seconds_by_forecaster", {}), **report.get("seconds", {})}
    return [[k, _f(float(v), 1)] for k, v in timing.items()]


#: (title, header, rows) of every table, in order.
SECTIONS = (
    ("**Risk forecasts** (common (ticker, day) pairs per period; LSTMs are seed ensembles; pinball in %, variance "
     "in %²; DQ: Engle-Manganelli dynamic quantile)",
     ["period", "forecaster", "n", "VaR95 breach", "Kupiec p", "Chr. cc p", "DQ p", "pinball 5%", "VaR99 breach",
      "Kupiec p", "Chr. cc p", "DQ p", "pinball 1%", "QLIKE r²", "QLIKE Parkinson", "MSE r²", "MSE Parkinson"],
     _risk_rows),
    ("**LSTM seeds** (each seed's own forecasts on its forecaster's days, mean ± std over seeds; last column: the "
     "seed ensemble on the common pairs)",
     ["period", "forecaster", "seeds", "QLIKE r²", "QLIKE Parkinson", "VaR95 breach", "VaR99 breach",
      "ensemble QLIKE r²"], _seed_rows),
    ("**Model confidence set** (90%: forecasters not significantly worse than the best, by daily mean loss; MCS "
     "p-values in brackets; `arch.bootstrap.MCS`, range statistic, stationary bootstrap)",
     ["period", "loss", "days", "in the set (best first)", "eliminated"], _mcs_rows),
    ("**Diebold-Mariano** (HLN-corrected, loss differential averaged across tickers per day; negative statistic: "
     "the first model's loss is lower)", ["period", "pair", "loss", "mean diff", "DM stat", "p", "days"], _dm_rows),
    ("**Power of the text comparisons** (smallest mean daily loss improvement the DM test detects at 80% power, "
     "alpha 0.05; for QLIKE also as the uniform variance error it is worth)",
     ["period", "pair", "loss", "days", "mean diff", "95% CI", "detectable at 80%", "= variance error"],
     _power_rows),
    ("**Yardstick: the most a text rule could gain** (in-sample oracle: HAR's variance rescaled on each ticker's "
     "top-decile days of the signal, against one rescaling for all days; QLIKE gain per day)",
     ["period", "base", "signal", "loss", "top days", "top-day scale", "QLIKE gain"], _yardstick_rows),
    ("**Movement** (LSTM seed ensembles, 95% bootstrap interval over labelled days; last column: mean ± std over "
     "seeds)", ["period", "forecaster", "labelled days", "acc (%)", "MCC", "acc / MCC over seeds"], _movement_rows),
    ("**Portfolio overlay** (net of costs; turnover: one-way, per year)",
     ["period", "strategy", "driver", "ann. return", "ann. vol", "target vol", "Sharpe", "max drawdown",
      "turnover"], _portfolio_rows),
    ("**Event study** (top decile of the ticker's own text days vs its other text days; outcomes relative to the "
     "ticker's mean, except the loss differences)",
     ["signal", "outcome", "tickers", "top days", "other days", "top mean", "others mean", "difference [95% CI]"],
     _event_rows),
    ("**Run time** (seconds)", ["step", "seconds"], _timing_rows),
)


def markdown_tables(report: dict[str, Any]) -> str:
    """Every table of :data:`SECTIONS` that has rows."""
    parts = [f"{title}\n\n{_table(header, rows)}" for title, header, build in SECTIONS if (rows := build(report))]
    return "\n\n".join(parts) + "\n"
