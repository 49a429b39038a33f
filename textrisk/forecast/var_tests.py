"""Value-at-risk backtests on a panel of tickers: breach rate, Kupiec POF, Christoffersen's independence and
conditional-coverage tests (likelihood ratios with chi-square p-values, on scipy) and Engle and Manganelli's
dynamic-quantile test.

A maintained single-series package (``vartests``) was considered; it takes one series, while the benchmark needs
the panel form: breaches are counted over all (ticker, day) pairs and Christoffersen's day-to-day transitions
are counted within each ticker's own date order (never from the last day of one ticker to the first of the
next), then summed. These few lines do that and are checked against hand-computed examples in the tests.

The dynamic-quantile test (Engle and Manganelli, 2004) regresses the demeaned hit ``Hit_t = 1[r_t < -VaR_t] -
(1 - level)`` on a constant, its own ``lags`` previous values and the VaR itself; under correct conditional
coverage no regressor explains it: ``DQ = Hit' X (X'X)^+ X' Hit / (p (1 - p))`` is chi-square with rank(X)
degrees of freedom. On a panel the lags are taken within each ticker and the rows stacked, as for Christoffersen.
Like every pooled test here it treats tickers as independent given the forecasts; breaches shared on one
market-wide day make it, like Kupiec's, somewhat liberal.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .metrics import kupiec_test

__all__ = ["DQ_LAGS", "breach_transitions", "christoffersen_test", "dq_test", "var_coverage"]

#: Lagged hits in the dynamic-quantile regression (Engle and Manganelli's choice).
DQ_LAGS = 4


def _xlogy(x: float, y: float) -> float:
    return x * math.log(y) if x else 0.0


def breach_transitions(hits: np.ndarray, groups: np.ndarray | None = None) -> dict[str, int]:
    """Counts ``n00, n01, n10, n11`` of consecutive (yesterday, today) breach pairs, within each group.

    ``hits`` must be in date order within each group (``groups``: e.g. the ticker of each row).
    """
    hits = np.asarray(hits, dtype=int)
    same = np.ones(max(len(hits) - 1, 0), bool) if groups is None else (
        np.asarray(groups)[1:] == np.asarray(groups)[:-1])
    prev, cur = hits[:-1][same], hits[1:][same]
    return {f"n{a}{b}": int(((prev == a) & (cur == b)).sum()) for a in (0, 1) for b in (0, 1)}


def christoffersen_test(hits: np.ndarray, level: float, groups: np.ndarray | None = None) -> dict[str, float]:
    """Christoffersen (1998): independence LR (chi2(1)) and conditional coverage LR = Kupiec LR + LR_ind (chi2(2)).

    Under independence the breach probability does not depend on whether yesterday was a breach:
    ``LR_ind = -2 [log L(pi) - log L(pi01, pi11)]`` with ``pi01 = n01 / (n00 + n01)``,
    ``pi11 = n11 / (n10 + n11)`` and ``pi = (n01 + n11) / n``.
    """
    from scipy.stats import chi2

    c = breach_transitions(hits, groups)
    n00, n01, n10, n11 = c["n00"], c["n01"], c["n10"], c["n11"]
    total = n00 + n01 + n10 + n11
    hits = np.asarray(hits, dtype=int)
    pof = kupiec_test(int(hits.sum()), len(hits), level)
    if total == 0:
        return {**c, "lr_ind": float("nan"), "ind_p_value": float("nan"), "lr_cc": float("nan"),
                "cc_p_value": float("nan")}
    pi = (n01 + n11) / total
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    restricted = _xlogy(n00 + n10, 1 - pi) + _xlogy(n01 + n11, pi)
    unrestricted = _xlogy(n00, 1 - pi01) + _xlogy(n01, pi01) + _xlogy(n10, 1 - pi11) + _xlogy(n11, pi11)
    lr_ind = max(0.0, -2.0 * (restricted - unrestricted))
    lr_cc = pof["lr"] + lr_ind
    return {**c, "lr_ind": lr_ind, "ind_p_value": float(chi2.sf(lr_ind, 1)), "lr_cc": lr_cc,
            "cc_p_value": float(chi2.sf(lr_cc, 2))}


def dq_test(hits: np.ndarray, var: np.ndarray, level: float, lags: int = DQ_LAGS,
            groups: np.ndarray | None = None) -> dict[str, float]:
    """Engle-Manganelli dynamic-quantile test of breach indicators ``hits`` (0/1) and the VaR forecasts ``var``,
    in date order within each of ``groups`` (see the module docstring).

    Returns ``dq`` (the statistic), ``df`` (rank of the regressors) and ``p_value`` (chi-square), NaN when no
    group has more than ``lags`` rows.
    """
    from scipy.stats import chi2

    p = 1.0 - level
    hit = np.asarray(hits, float) - p
    var = np.asarray(var, float)
    group = np.zeros(len(hit), int) if groups is None else pd.factorize(np.asarray(groups))[0]
    rows, design = [], []
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        if len(idx) <= lags:
            continue
        h = hit[idx]
        lagged = np.lib.stride_tricks.sliding_window_view(h[:-1], lags)[:, ::-1] if lags else np.zeros(
            (len(h), 0))  # row t: Hit_(t-1) .. Hit_(t-lags)
        rows.append(h[lags:])
        design.append(np.column_stack([np.ones(len(h) - lags), lagged, var[idx][lags:]]))
    if not rows:
        return {"dq": float("nan"), "df": 0, "p_value": float("nan")}
    y, x = np.concatenate(rows), np.concatenate(design)
    xty = x.T @ y
    dq = max(0.0, float(xty @ np.linalg.pinv(x.T @ x) @ xty) / (p * (1 - p)))
    df = int(np.linalg.matrix_rank(x))
    return {"dq": dq, "df": df, "p_value": float(chi2.sf(dq, df))}


def var_coverage(frame: pd.DataFrame, level: float) -> dict[str, float]:
    """All VaR coverage tests of ``frame`` (``ticker``, ``date``, ``realised_return``, ``var_<level>``).

    Rows without a realised return or a VaR are dropped; breach = realised return < -VaR.
    """
    column = f"var_{round(level * 100)}"
    data = frame[np.isfinite(frame["realised_return"]) & np.isfinite(frame[column])]
    data = data.sort_values(["ticker", "date"], kind="stable")
    hits = (data["realised_return"].to_numpy() < -data[column].to_numpy()).astype(int)
    n = len(hits)
    pof = kupiec_test(int(hits.sum()), n, level)
    ind = christoffersen_test(hits, level, data["ticker"].to_numpy())
    dq = dq_test(hits, data[column].to_numpy(), level, groups=data["ticker"].to_numpy())
    return {"n": n, "breaches": int(hits.sum()), "nominal_rate": round(1 - level, 6),
            "breach_rate": float(hits.mean()) if n else float("nan"), "kupiec_lr": pof["lr"],
            "kupiec_p": pof["p_value"], "christoffersen_ind_lr": ind["lr_ind"],
            "christoffersen_ind_p": ind["ind_p_value"],
            "christoffersen_cc_lr": ind["lr_cc"], "christoffersen_cc_p": ind["cc_p_value"], "dq": dq["dq"],
            "dq_df": dq["df"], "dq_p": dq["p_value"]}
