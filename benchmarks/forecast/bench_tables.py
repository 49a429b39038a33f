"""Markdown tables of a ``forecast-bench`` JSON report (what the README and benchmarks/forecast.md show)."""

from __future__ import annotations

from typing import Any

__all__ = ["markdown_tables"]


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


def markdown_tables(report: dict[str, Any]) -> str:
    """Risk metrics, movement, Diebold-Mariano, portfolio and event-study tables."""
    variants = report.get("variants", {})
    parts = []
    rows = []
    for period in report.get("periods", {}):
        for name, entry in variants.items():
            block = entry.get(period)
            if not isinstance(block, dict) or "var95" not in block:
                continue
            row = [period, name, str(block["n"])]
            for key in ("var95", "var99"):
                v = block[key]
                row += [f"{v['breach_rate']:.2%}", _f(v["kupiec_p"]), _f(v["christoffersen_ind_p"]),
                        _f(v["christoffersen_cc_p"]), _f(v["pinball"], 4)]
            row += [_f(block["qlike"]["squared_return"]), _f(block["qlike"]["parkinson"]),
                    _f(block["mse_var"]["squared_return"], 2), _f(block["mse_var"]["parkinson"], 2)]
            rows.append(row)
    title = "**Risk forecasts** (common (ticker, day) pairs per period; pinball in %, variance in %²)"
    parts.append(title + "\n\n" + _table(
        ["period", "variant", "n", "VaR95 breach", "Kupiec p", "Chr. ind p", "Chr. cc p", "pinball 5%",
         "VaR99 breach", "Kupiec p", "Chr. ind p", "Chr. cc p", "pinball 1%", "QLIKE r²", "QLIKE Parkinson",
         "MSE r²", "MSE Parkinson"], rows))
    rows = []
    for period in report.get("periods", {}):
        for name, entry in variants.items():
            block = entry.get(period)
            if isinstance(block, dict) and "acc" in block:
                seeds = entry.get("over_seeds", {}) if period == "test" else {}
                spread = (f"{seeds['acc']['mean']:.2%} ± {seeds['acc']['std']:.2%} / "
                          f"{seeds['mcc']['mean']:.3f} ± {seeds['mcc']['std']:.3f}") if "acc" in seeds else ""
                rows.append([period, name, str(block["n_labelled"]), _ci(block["acc"], 2, 100), _ci(block["mcc"]),
                             spread])
    majority = variants.get("majority")
    if majority:
        rows.append(["test", "majority (rise)", str(majority.get("n_test", "")), f"{majority['acc']['mean']:.2%}",
                     f"{majority['mcc']['mean']:.3f}", ""])
    published = report.get("published", {}).get("stocknet")
    if published:
        rows.append(["test", "*StockNet (published)*", "3720", f"*{published['acc']:.2%}*",
                     f"*{published['mcc']:.3f}*", ""])
    parts.append("**Movement** (seed 0, 95% bootstrap interval over labelled days; last column: mean ± std over "
                 "seeds)\n\n" + _table(["period", "variant", "labelled days", "acc (%)", "MCC",
                                        "acc / MCC over seeds"], rows))
    rows = [[t["period"], f"{t['pair'][0]} vs {t['pair'][1]}", t["loss"], _f(t["mean_diff"], 4), _f(t["statistic"]),
             _f(t["p_value"]), str(t["days"])] for t in report.get("dm", [])]
    parts.append("**Diebold-Mariano** (HLN-corrected, loss differential averaged across tickers per day; negative "
                 "statistic: the first model's loss is lower)\n\n" + _table(
                     ["period", "pair", "loss", "mean diff", "DM stat", "p", "days"], rows))
    rows = []
    for period, block in report.get("portfolio", {}).items():
        for strategy, drivers in block.items():
            for driver, perf in drivers.items():
                rows.append([period, strategy, driver, f"{perf['ann_return']:.2%}", f"{perf['ann_vol']:.2%}",
                             "" if perf["target_vol"] is None else f"{perf['target_vol']:.0%}", _f(perf["sharpe"], 2),
                             f"{perf['max_drawdown']:.2%}", _f(perf["turnover"], 1)])
    parts.append("**Portfolio overlay** (net of costs; turnover: one-way, per year)\n\n" + _table(
        ["period", "strategy", "driver", "ann. return", "ann. vol", "target vol", "Sharpe", "max drawdown",
         "turnover"], rows))
    study = report.get("event_study", {})
    rows = []
    for signal, outcomes in study.get("signals", {}).items():
        for outcome, r in outcomes.items():
            if r.get("n_top"):
                rows.append([signal, f"next-day {outcome}", str(r["tickers"]), str(r["n_top"]), str(r["n_other"]),
                             _f(r["top_mean"]), _f(r["other_mean"]),
                             f"{r['difference']:+.3f} [{r['ci95'][0]:+.3f}, {r['ci95'][1]:+.3f}]"])
    for loss, r in study.get("fused_vs_price_only", {}).items():
        if r.get("n_top"):
            rows.append(["negative_share (day before)", f"{loss}: fused - price_only (test)", str(r["tickers"]),
                         str(r["n_top"]), str(r["n_other"]), _f(r["top_mean"], 4), _f(r["other_mean"], 4),
                         f"{r['difference']:+.4f} [{r['ci95'][0]:+.4f}, {r['ci95'][1]:+.4f}]"])
    parts.append("**Event study** (top decile of the ticker's own text days vs its other text days; outcomes "
                 "relative to the ticker's mean, except the loss differences)\n\n" + _table(
                     ["signal", "outcome", "tickers", "top days", "other days", "top mean", "others mean",
                      "difference [95% CI]"], rows))
    return "\n\n".join(parts) + "\n"
