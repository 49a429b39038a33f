"""The GARCH family with Student-t innovations, refitted on an expanding window: GARCH(1,1), GJR-GARCH(1,1) and
EGARCH(1,1) through ``arch`` (maximum likelihood), and GJR-GARCH-X, whose variance equation adds lagged text
signals (``arch`` has exogenous regressors in the mean only, so GARCH-X is fitted here, started from ``arch``'s
GJR fit of the same window).

Protocol of every model: returns in percent; first fit on a ticker's returns before ``fit_start``, then refitted
every ``refit_every`` observations (default 63, a quarter) on the expanding window of all returns before the
refit; between refits the parameters stay fixed and the one-step variance runs on the new data. A ticker with
fewer than ``min_history`` returns before a refit gets no forecast until it has them. A refit that does not
converge to a model with persistence at most 1 and a plausible mean (``fit_arch``) keeps the previous
parameters; a ticker whose first fit fails gets no forecast until one succeeds. VaR from the fitted
standardised Student-t: ``VaR_a = -(mu + sigma * t_nu^-1(1 - a) * sqrt((nu - 2) / nu))``.

GJR-GARCH-X(1,1)-t (percent units; ``x_k`` the text signals of the session before observation ``k``, each
made non-negative and divided by its mean over the fitting window's covered days)::

    h_k = omega_k + (alpha + gamma [e_(k-1) < 0]) e_(k-1)^2 + beta h_(k-1) + delta' x_k,  delta >= 0
    omega_k = omega_pre before the text feed exists, omega_cov after (the feed's start is not news)

``x``: ``text_count``, the positive part of ``abnormal_count``, and every other signal the dataset has.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .constants import VAR_LEVELS
from .dataset import ForecastDataset
from .series import coverage_dummy, forecast_frame, in_period, lagged_signals, return_series

__all__ = ["ARCH_MODELS", "arch_forecast", "fit_arch", "fit_garch", "fit_garch_x", "garch_x_forecast",
           "garch_x_variance"]

#: name -> ``arch_model`` volatility arguments.
ARCH_MODELS = {"garch": {"vol": "GARCH", "p": 1, "o": 0, "q": 1},
               "gjr_garch": {"vol": "GARCH", "p": 1, "o": 1, "q": 1},
               "egarch": {"vol": "EGARCH", "p": 1, "o": 1, "q": 1}}
_PCT = 100.0  # arch fits returns in percent (well scaled for its optimiser)


def _bounded_egarch():
    """arch's EGARCH(1,1,1) with the size effect ``alpha`` in [0, 1] and the sign effect ``gamma`` in [-1, 1] (arch
    leaves both unbounded, and on some StockNet series its optimiser then runs off: alpha 1,300 or -0.08, a
    variance that explodes out of sample)."""
    from arch.univariate import EGARCH

    class BoundedEGARCH(EGARCH):
        def bounds(self, resids):  # noqa: D102 - arch's method, two bounds tightened
            omega, _, _, beta = super().bounds(resids)
            return [omega, (0.0, 1.0), (-1.0, 1.0), beta]

    return BoundedEGARCH(p=1, o=1, q=1)


def _arch_model(returns_pct: np.ndarray, model: str):
    from arch import arch_model

    built = arch_model(returns_pct, mean="Constant", dist="t", rescale=False, **ARCH_MODELS[model])
    if model == "egarch":
        built.volatility = _bounded_egarch()
    return built


def _sane(result: Any, model: str, x: np.ndarray) -> bool:
    """A fit to use: converged, persistence at most 1 (arch's own constraint; an integrated fit, like EWMA, still
    forecasts one step), finite-variance errors off their bound and a plausible daily mean."""
    params = result.params
    if model == "egarch":
        persistence = params["beta[1]"]
    else:
        persistence = params["alpha[1]"] + 0.5 * params.get("gamma[1]", 0.0) + params["beta[1]"]
    return bool(result.convergence_flag == 0 and np.isfinite(result.loglikelihood) and persistence <= 1 + 1e-8
                and params["nu"] > 2.1 and abs(params["mu"]) < 0.5 * x.std())


def fit_arch(returns: np.ndarray, model: str = "garch", starting_values: np.ndarray | None = None) -> pd.Series:
    """Maximum-likelihood parameters of ``model`` (:data:`ARCH_MODELS`; EGARCH with alpha in [0, 1], gamma in
    [-1, 1]) with a constant mean and Student-t errors on ``returns`` (fractions; the parameters are for returns in
    percent).

    Fits from ``starting_values`` (e.g. the previous refit's) if given, else or if that fit is not usable
    (:func:`_sane`) from arch's default start.

    Raises:
        ValueError: neither start gives a usable fit.
    """
    x = np.asarray(returns, float) * _PCT
    for start in [v for v in (starting_values,) if v is not None] + [None]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # arch's convergence chatter; bad fits are checked here
            result = _arch_model(x, model).fit(disp="off", starting_values=start, show_warning=False,
                                               options={"maxiter": 500})
        if _sane(result, model, x):
            return result.params
    raise ValueError(f"no {model} fit of {len(x)} returns converged to a stationary, plausible model")


def fit_garch(returns: np.ndarray, starting_values: np.ndarray | None = None) -> pd.Series:
    """GARCH(1,1)-t parameters (``mu, omega, alpha[1], beta[1], nu``; returns in percent)."""
    return fit_arch(returns, "garch", starting_values)


def _std_t_quantiles(nu: float) -> dict[float, float]:
    from scipy.stats import t as student_t

    return {level: float(student_t.ppf(1 - level, nu) * math.sqrt((nu - 2) / nu)) for level in VAR_LEVELS}


def _blocks(ds: ForecastDataset, fit_start: Any, refit_every: int, min_history: int, ti: int):
    """``(si, r, [(block, stop), ...])``: ticker ``ti``'s observations and its refit blocks."""
    if refit_every < 1:
        raise ConfigError(f"refit_every must be >= 1, got {refit_every}")
    si, r = return_series(ds, ti)
    begin = int(np.searchsorted(si, np.searchsorted(ds.sessions, pd.Timestamp(fit_start))))
    blocks = [(b, min(b + refit_every, len(si))) for b in range(begin, len(si), refit_every) if b >= min_history]
    return si, r, blocks


def _frame_from(ds: ForecastDataset, ti: int, si: np.ndarray, mu: np.ndarray, variance_pct: np.ndarray,
                nu: np.ndarray, start: Any, end: Any) -> pd.DataFrame:
    sigma = np.sqrt(variance_pct) / _PCT
    var = {level: np.full(len(si), np.nan) for level in VAR_LEVELS}
    for value in np.unique(nu[np.isfinite(nu)]):  # one nu per refit block
        rows = nu == value
        for level, q in _std_t_quantiles(float(value)).items():
            var[level][rows] = -(mu[rows] + sigma[rows] * q)
    return in_period(forecast_frame(ds, ti, si, mu, sigma, var), start, end)


def arch_forecast(ds: ForecastDataset, fit_start: Any, model: str = "garch", refit_every: int = 63,
                  start: Any = None, end: Any = None, min_history: int = 250) -> pd.DataFrame:
    """One-step forecasts of ``model`` (:data:`ARCH_MODELS`) for sessions from ``fit_start`` on (module docstring)."""
    if model not in ARCH_MODELS:
        raise ConfigError(f"model must be one of {tuple(ARCH_MODELS)}, got {model!r}")
    frames, failed = [], []
    for ti in range(len(ds.tickers)):
        si, r, blocks = _blocks(ds, fit_start, refit_every, min_history, ti)
        mu, variance, nu = (np.full(len(si), np.nan) for _ in range(3))
        params = None
        for block, stop in blocks:
            try:
                params = fit_arch(r[:block], model, None if params is None else params.to_numpy())
            except ValueError:  # no usable fit on this window: keep the last one, or no forecast yet
                failed.append(f"{ds.tickers[ti]} {ds.sessions[si[block]].date()}")
                if params is None:
                    continue
            # parameters fixed; the forecast made after observation k-1 is for observation k (k in block..stop-1)
            fixed = _arch_model(r[:stop] * _PCT, model).fix(params.to_numpy())
            variance[block:stop] = fixed.forecast(horizon=1, start=block - 1, reindex=False
                                                  ).variance.to_numpy()[:stop - block, 0]
            mu[block:stop], nu[block:stop] = params["mu"] / _PCT, params["nu"]
        frames.append(_frame_from(ds, ti, si, mu, variance, nu, start, end))
    if failed:
        warnings.warn(f"{model}: {len(failed)} refit(s) found no fit with persistence <= 1 and a plausible mean and "
                      "kept the previous parameters (none yet: no forecast until a fit succeeds): "
                      f"{', '.join(failed[:10])}"
                      f"{' ...' if len(failed) > 10 else ''}", stacklevel=2)
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------------------------ GARCH-X
def garch_x_variance(params: np.ndarray, e: np.ndarray, x: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """Conditional variances ``h_k`` (percent^2) of GJR-GARCH-X for residuals ``e`` (percent), regressors ``x``
    [n, m] and the coverage dummy ``cover`` [n]; ``params = (mu, omega_pre, omega_cov, alpha, gamma, beta, nu,
    delta...)`` (``mu`` and ``nu`` unused here). ``h_0`` starts from arch's backcast (exponentially weighted mean
    of the first 75 squared residuals)."""
    from scipy.signal import lfilter

    _, omega_pre, omega_cov, alpha, gamma, beta, _, *delta = params
    weights = 0.94 ** np.arange(min(75, len(e)))
    backcast = float(weights @ e[:len(weights)] ** 2 / weights.sum())
    prev_e2 = np.r_[backcast, e[:-1] ** 2]
    prev_neg = np.r_[0.5, (e[:-1] < 0).astype(float)]
    u = (omega_pre + (omega_cov - omega_pre) * cover + (alpha + gamma * prev_neg) * prev_e2
         + x @ np.asarray(delta, float))
    h, _ = lfilter([1.0], [1.0, -beta], u, zi=[beta * backcast])
    return h


def _neg_loglik(params: np.ndarray, r: np.ndarray, x: np.ndarray, cover: np.ndarray) -> float:
    from scipy.special import gammaln

    mu, nu = params[0], params[6]
    e = r - mu
    h = garch_x_variance(params, e, x, cover)
    if not np.all(h > 0) or not np.all(np.isfinite(h)):
        return 1e10
    const = gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * math.log(math.pi * (nu - 2))
    ll = const - 0.5 * np.log(h) - (nu + 1) / 2 * np.log1p(e ** 2 / (h * (nu - 2)))
    return float(-ll.sum())


def fit_garch_x(returns: np.ndarray, x: np.ndarray, cover: np.ndarray, start_gjr: pd.Series | None = None
                ) -> np.ndarray:
    """Maximum-likelihood GJR-GARCH-X-t parameters (see :func:`garch_x_variance`) for ``returns`` (fractions),
    started from the GJR-GARCH-t fit ``start_gjr`` (``arch``; fitted here if None) with ``delta = 0``."""
    from scipy.optimize import minimize

    r = np.asarray(returns, float) * _PCT
    gjr = fit_arch(returns, "gjr_garch") if start_gjr is None else start_gjr
    m = x.shape[1]
    x0 = np.r_[gjr["mu"], gjr["omega"], gjr["omega"], gjr["alpha[1]"], max(gjr["gamma[1]"], 0.0),
               gjr["beta[1]"], gjr["nu"], np.zeros(m)]
    bounds = ([(-5 * r.std(), 5 * r.std()), (1e-6, 10 * r.var()), (1e-6, 10 * r.var()), (0.0, 1.0), (0.0, 1.0),
               (0.0, 1.0), (2.05, 100.0)] + [(0.0, 10 * r.var())] * m)
    stationary = {"type": "ineq", "fun": lambda p: 0.99999 - p[3] - 0.5 * p[4] - p[5]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = minimize(_neg_loglik, x0, args=(r, x, cover), method="SLSQP", bounds=bounds,
                          constraints=[stationary], options={"maxiter": 200, "ftol": 1e-8})
    best = result.x if result.fun <= _neg_loglik(x0, r, x, cover) else x0
    return np.asarray(best, float)


def garch_x_regressors(ds: ForecastDataset, ti: int, si: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The non-negative text regressors of ticker ``ti``'s observations ``si`` (see the module docstring)."""
    x, names = lagged_signals(ds, ti, si)
    if "abnormal_count" in names:
        x[:, names.index("abnormal_count")] = np.maximum(x[:, names.index("abnormal_count")], 0.0)
    return np.maximum(x, 0.0), names


def garch_x_forecast(ds: ForecastDataset, fit_start: Any, refit_every: int = 63, start: Any = None,
                     end: Any = None, min_history: int = 250) -> pd.DataFrame:
    """One-step GJR-GARCH-X-t forecasts (module docstring); a dataset without text signals raises ConfigError."""
    if not ds.signal_names:
        raise ConfigError("garch_x needs text signals: build the dataset with texts")
    frames = []
    for ti in range(len(ds.tickers)):
        si, r, blocks = _blocks(ds, fit_start, refit_every, min_history, ti)
        raw, _ = garch_x_regressors(ds, ti, si)
        cover = coverage_dummy(ds, si)
        mu, variance, nu = (np.full(len(si), np.nan) for _ in range(3))
        gjr = None
        for block, stop in blocks:
            seen = cover[:block] > 0
            scale = raw[:block][seen].mean(axis=0) if seen.any() else np.ones(raw.shape[1])
            x = raw / np.where(scale > 0, scale, 1.0)
            try:
                gjr = fit_arch(r[:block], "gjr_garch", None if gjr is None else gjr.to_numpy())
            except ValueError:  # no usable GJR start on this window: keep the last one, or no forecast yet
                if gjr is None:
                    continue
            params = fit_garch_x(r[:block], x[:block], cover[:block], gjr)
            h = garch_x_variance(params, r[:stop] * _PCT - params[0], x[:stop], cover[:stop])
            variance[block:stop] = h[block:stop]
            mu[block:stop], nu[block:stop] = params[0] / _PCT, params[6]
        frames.append(_frame_from(ds, ti, si, mu, variance, nu, start, end))
    return pd.concat(frames, ignore_index=True)
