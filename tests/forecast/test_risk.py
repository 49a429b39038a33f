"""Risk forecasting: baselines (GARCH recovery, no look-ahead), VaR tests against hand-computed values, losses,
Diebold-Mariano, risk levels, the portfolio overlay (constraints, budget, no look-ahead) and the event study."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from textrisk.errors import ConfigError
from textrisk.forecast import ForecastConfig, Forecaster, build_dataset
from textrisk.forecast.backtest import buy_and_hold, performance, run_overlay
from textrisk.forecast.baselines import baseline_forecast
from textrisk.forecast.dm import diebold_mariano, dm_power, panel_diebold_mariano, qlike_equivalent_error
from textrisk.forecast.event_study import decile_contrast
from textrisk.forecast.garch import fit_garch
from textrisk.forecast.losses import parkinson_variance, pinball_loss, qlike
from textrisk.forecast.portfolio import (
    PortfolioConfig,
    book_scale,
    forecast_covariance,
    min_variance_weights,
    risk_parity_weights,
    shrunk_correlation,
)
from textrisk.forecast.risk_level import LEVELS, assign_risk_levels, fit_risk_cuts
from textrisk.forecast.var_tests import breach_transitions, christoffersen_test, dq_test, var_coverage

from ..helpers import make_prices

TICKERS = ("AAA", "BBB", "CCC", "DDD")
CUTOFF = "2015-09-15"


@pytest.fixture(scope="module")
def prices():
    return make_prices(TICKERS, start="2013-01-01", end="2015-12-31")


def perturbed(prices, after=CUTOFF, seed=1):
    """Every price row dated on or after ``after`` rescaled by a random factor (future prices rewritten)."""
    rng = np.random.default_rng(seed)
    out = {}
    for ticker, frame in prices.items():
        frame = frame.copy()
        late = pd.to_datetime(frame["Date"]) >= pd.Timestamp(after)
        factor = np.exp(rng.normal(0, 0.05, late.sum()))
        for column in ("Open", "High", "Low", "Close", "Adj Close"):
            frame.loc[late, column] = frame.loc[late, column] * factor
        out[ticker] = frame
    return out


# ----------------------------------------------------------------------------------------------- GARCH
def test_garch_fit_recovers_simulated_parameters():
    from arch import arch_model
    from arch.univariate import StudentsT

    truth = {"mu": 0.05, "omega": 0.05, "alpha[1]": 0.10, "beta[1]": 0.85, "nu": 7.0}
    model = arch_model(None, mean="Constant", vol="GARCH", p=1, q=1)
    model.distribution = StudentsT(seed=np.random.RandomState(0))  # its own generator: no dependence on test order
    sim = model.simulate(list(truth.values()), 4000)
    params = fit_garch(sim["data"].to_numpy() / 100)
    assert params["alpha[1]"] == pytest.approx(truth["alpha[1]"], abs=0.04)
    assert params["beta[1]"] == pytest.approx(truth["beta[1]"], abs=0.05)
    assert params["alpha[1]"] + params["beta[1]"] == pytest.approx(0.95, abs=0.03)
    assert params["nu"] == pytest.approx(truth["nu"], abs=2.5)


def test_ewma_matches_the_riskmetrics_recursion(prices):
    ds = build_dataset(prices)
    frame = baseline_forecast("ewma", ds, None)
    r = ds.returns[0][np.isfinite(ds.returns[0])]
    variance = r[0] ** 2
    for value in r[1:30]:
        variance = 0.94 * variance + 0.06 * value ** 2  # after 30 returns: the forecast for the 31st
    first = frame[frame["ticker"] == "AAA"].reset_index(drop=True)
    assert first.loc[30 - 20, "volatility"] == pytest.approx(math.sqrt(variance), rel=1e-9)


# ----------------------------------------------------------------------------------------------- VaR tests
HITS = [0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0]


def test_christoffersen_matches_a_hand_computed_example():
    from scipy.stats import chi2

    result = christoffersen_test(np.array(HITS), 0.95)
    assert (result["n00"], result["n01"], result["n10"], result["n11"]) == (8, 2, 2, 3)
    # pi = 5/15, pi01 = 2/10, pi11 = 3/5:
    # LR_ind = -2 [10 ln(2/3) + 5 ln(1/3) - (8 ln .8 + 2 ln .2 + 2 ln .4 + 3 ln .6)] = 2.357260
    assert result["lr_ind"] == pytest.approx(2.357260, abs=1e-5)
    assert result["ind_p_value"] == pytest.approx(chi2.sf(2.357260, 1), abs=1e-6)
    # Kupiec: 5 breaches in 16 at p = .05: -2 [5 ln .05 + 11 ln .95 - 5 ln(5/16) - 11 ln(11/16)] = 11.21101
    assert result["lr_cc"] == pytest.approx(11.21101 + 2.357260, abs=1e-4)
    assert result["cc_p_value"] == pytest.approx(math.exp(-(11.21101 + 2.357260) / 2), rel=1e-4)


def test_transitions_never_cross_tickers():
    counts = breach_transitions(np.array([0, 1, 1, 0]), np.array(["A", "A", "B", "B"]))
    assert counts == {"n00": 0, "n01": 1, "n10": 1, "n11": 0}  # the A->B step (1 -> 1) is not counted


def test_var_coverage_on_a_panel():
    frame = pd.DataFrame({"ticker": ["A"] * 16 + ["B"] * 4,
                          "date": list(pd.bdate_range("2015-01-01", periods=16)) * 1 + list(
                              pd.bdate_range("2015-01-01", periods=4)),
                          "realised_return": [-0.05 if h else 0.0 for h in HITS] + [0.0] * 4,
                          "var_95": 0.02})
    result = var_coverage(frame.sample(frac=1, random_state=0), 0.95)  # order is restored per ticker
    assert result["n"] == 20 and result["breaches"] == 5 and result["breach_rate"] == 0.25
    single = christoffersen_test(np.array(HITS + [0, 0, 0, 0]), 0.95, np.array(["A"] * 16 + ["B"] * 4))
    assert result["christoffersen_ind_p"] == pytest.approx(single["ind_p_value"])


def test_dynamic_quantile_test_matches_a_hand_computed_case():
    from scipy.stats import chi2

    # no lags, VaR 1 on ten days (one breach) and 2 on ten days (none): regressing Hit - 0.05 on [1, VaR] is
    # regressing on the two groups' dummies, so DQ = sum_g n_g mean_g(Hit - p)^2 / (p (1 - p))
    # = (10 * 0.05^2 + 10 * 0.05^2) / (0.05 * 0.95) = 1.0526316, chi2(2): p = exp(-DQ / 2) = 0.5907775
    hits = np.array([1] + [0] * 19)
    var = np.array([1.0] * 10 + [2.0] * 10)
    result = dq_test(hits, var, 0.95, lags=0)
    assert result["dq"] == pytest.approx(0.05 / 0.0475) and result["df"] == 2
    assert result["p_value"] == pytest.approx(0.5907775, abs=1e-6)
    # one lag, constant VaR: the groups are "yesterday a breach" or not. HITS has 15 transitions: after a
    # non-breach 2 of 10 breach, after a breach 3 of 5: DQ = (10 (0.2 - .05)^2 + 5 (0.6 - .05)^2) / .0475
    result = dq_test(np.array(HITS), np.full(len(HITS), 0.02), 0.95, lags=1)
    expected = (10 * 0.15 ** 2 + 5 * 0.55 ** 2) / 0.0475
    assert result["dq"] == pytest.approx(expected) and result["df"] == 2
    assert result["p_value"] == pytest.approx(chi2.sf(expected, 2))


def test_dynamic_quantile_lags_stay_within_a_ticker():
    hits, var = np.array([0, 1, 1, 0]), np.full(4, 0.02)
    pooled = dq_test(hits, var, 0.95, lags=1, groups=np.array(["A", "A", "B", "B"]))
    # rows: A's second day (lag 0 -> hit 1) and B's second day (lag 1 -> hit 0); the A->B step is not a lag
    alone = dq_test(np.array([0, 1]), np.full(2, 0.02), 0.95, lags=1)
    assert pooled["df"] == 2 and alone["df"] == 1
    assert np.isnan(dq_test(np.array([1]), np.array([0.02]), 0.95)["p_value"])


# ----------------------------------------------------------------------------------------------- losses, DM
def test_pinball_and_qlike_values():
    # quantile forecast -2% at q = 5%: a -3% day costs (0.05 - 1)(-3 + 2) = 0.95; a +1% day 0.05 * 3 = 0.15
    np.testing.assert_allclose(pinball_loss(np.array([-0.03, 0.01]), np.array([0.02, 0.02]), 0.95), [0.95, 0.15])
    assert qlike(np.array([1e-4]), np.array([1e-4]))[0] == pytest.approx(1.0)  # log(1) + 1/1, in %^2
    assert qlike(np.array([1e-4]), np.array([2e-4]))[0] > qlike(np.array([1e-4]), np.array([1e-4]))[0]
    assert parkinson_variance(np.array([math.sqrt(4 * math.log(2))]))[0] == pytest.approx(1.0)


def test_diebold_mariano_with_hln_correction():
    rng = np.random.default_rng(0)
    d = rng.normal(0.3, 1.0, 200)
    result = diebold_mariano(d)
    n = len(d)
    manual = d.mean() / math.sqrt(d.var() / n) * math.sqrt((n - 1) / n)
    assert result["statistic"] == pytest.approx(manual)
    assert result["p_value"] < 0.01
    assert diebold_mariano(rng.normal(0, 1, 200))["p_value"] > 0.01


def test_dm_power_is_eighty_percent_at_the_minimum_detectable_difference():
    rng = np.random.default_rng(0)
    mde = dm_power(rng.normal(0, 1, 64))["mde"]
    # t(63) quantiles: 1.9983 + 0.8474 = 2.8457, times sd / sqrt(64) with the HLN factor sqrt(63/64)
    assert mde == pytest.approx(2.8457 * 1.0 / 8 / math.sqrt(63 / 64), rel=0.1)
    rejected = [diebold_mariano(rng.normal(mde, 1, 64))["p_value"] < 0.05 for _ in range(400)]
    assert np.mean(rejected) == pytest.approx(0.8, abs=0.07)
    result = dm_power(np.full(10, 0.5) + rng.normal(0, 0.01, 10))
    assert result["ci95"][0] < 0.5 < result["ci95"][1]


def test_qlike_equivalent_error():
    c = qlike_equivalent_error(0.01)
    assert c - 1 - math.log(c) == pytest.approx(0.01) and 1.1 < c < 1.2
    assert qlike_equivalent_error(0.0) == 1.0


def test_panel_dm_averages_across_tickers_per_day():
    dates = pd.bdate_range("2015-01-01", periods=50)
    a = pd.DataFrame({"ticker": ["X"] * 50 + ["Y"] * 50, "date": list(dates) * 2, "loss": 1.0})
    b = a.assign(loss=np.r_[np.linspace(1, 2, 50), np.linspace(1.5, 2.5, 50)])
    result = panel_diebold_mariano(a, b)
    assert result["days"] == 50 and result["pairs"] == 100 and result["statistic"] < 0


# ----------------------------------------------------------------------------------------------- risk level
def test_risk_level_cut_points():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"ticker": ["A"] * 1000 + ["B"] * 1000,
                          "var_99": np.r_[rng.uniform(0, 1, 1000), rng.uniform(10, 11, 1000)]})
    cuts = fit_risk_cuts(train)
    levels = assign_risk_levels(train, cuts)
    share = levels.value_counts(normalize=True)
    assert share["high"] == pytest.approx(0.1, abs=0.01) and share["low"] == pytest.approx(0.5, abs=0.01)
    new = pd.DataFrame({"ticker": ["A", "B", "NEW", "A"], "var_99": [2.0, 10.05, 20.0, np.nan]})
    levels = assign_risk_levels(new, cuts)
    assert levels[:3].tolist() == ["high", "low", "high"] and pd.isna(levels[3])


def test_forecaster_predicts_a_risk_level(prices, tmp_path):
    ds = build_dataset(prices)
    config = ForecastConfig(variant="price_only", epochs=1, hidden_size=8, train_start="2014-01-01")
    model = Forecaster.train(ds, config)
    pred = model.predict(ds, "2015-10-01")
    assert set(pred["risk_level"]) <= set(LEVELS) and pred["risk_level"].notna().all()
    model.save_pretrained(tmp_path / "m")
    again = Forecaster.from_pretrained(tmp_path / "m").predict(ds, "2015-10-01")
    assert again["risk_level"].tolist() == pred["risk_level"].tolist()


# ----------------------------------------------------------------------------------------------- portfolio
def _cov(n=12, seed=0):
    rng = np.random.default_rng(seed)
    corr = shrunk_correlation(rng.normal(size=(300, n)) @ rng.normal(size=(n, n)) * 0.01)
    return forecast_covariance(rng.uniform(0.01, 0.03, n), corr)


def test_min_variance_respects_its_constraints():
    cov = _cov()
    long_only = min_variance_weights(cov, PortfolioConfig(strategy="min_variance", max_weight=0.2))
    assert long_only.sum() == pytest.approx(1) and (long_only >= -1e-12).all() and (long_only <= 0.2 + 1e-9).all()
    long_short = min_variance_weights(cov, PortfolioConfig(strategy="min_variance", mode="long_short", max_weight=0.4))
    assert long_short.sum() == pytest.approx(1) and (np.abs(long_short) <= 0.4 + 1e-9).all()
    assert long_short @ cov @ long_short <= long_only @ cov @ long_only + 1e-12
    equal = np.full(len(cov), 1 / len(cov))
    assert long_only @ cov @ long_only < equal @ cov @ equal


def test_risk_parity_equalises_risk_contributions():
    cov = _cov()
    w = risk_parity_weights(cov)
    contributions = w * (cov @ w)
    assert (w > 0).all() and w.sum() == pytest.approx(1)
    np.testing.assert_allclose(contributions / contributions.sum(), 1 / len(w), rtol=1e-3)


def test_book_scale_hits_the_target_within_leverage_and_var_budget():
    from scipy.stats import norm

    cov = _cov()
    w = np.full(len(cov), 1 / len(cov))
    config = PortfolioConfig(target_vol=0.10, max_leverage=10)
    scale = book_scale(w, cov, config)
    assert scale * math.sqrt(w @ cov @ w) == pytest.approx(config.daily_target)
    assert book_scale(w, cov, PortfolioConfig(target_vol=5.0, max_leverage=1.5)) == pytest.approx(1.5)
    budget = PortfolioConfig(target_vol=0.5, max_leverage=10, var_budget=0.01)
    scale = book_scale(w, cov, budget)
    assert norm.ppf(0.99) * scale * math.sqrt(w @ cov @ w) == pytest.approx(0.01)


@pytest.mark.parametrize("field, value", [("strategy", "kelly"), ("mode", "short"), ("target_vol", 0.0),
                                          ("cost_bp", -1.0), ("var_budget", -0.1)])
def test_portfolio_config_errors_name_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        PortfolioConfig(**{field: value})


@pytest.mark.parametrize("strategy", ["vol_target", "min_variance", "risk_parity"])
def test_overlay_does_not_look_ahead(prices, strategy):
    config = PortfolioConfig(strategy=strategy, corr_window=60, rebalance_every=3, max_weight=0.5)
    results = []
    for data in (prices, perturbed(prices)):
        ds = build_dataset(data)
        results.append(run_overlay(baseline_forecast("ewma", ds, None), ds, "2015-08-03", "2015-12-31", config))
    early = results[0].weights.index <= pd.Timestamp(CUTOFF)
    np.testing.assert_allclose(results[0].weights[early], results[1].weights[early], rtol=1e-9, atol=1e-15)
    assert not np.allclose(results[0].weights[~early], results[1].weights[~early])
    weights = results[0].weights
    assert (weights.to_numpy() >= -1e-12).all() and (weights.abs().sum(axis=1) <= config.max_leverage + 1e-9).all()


def test_overlay_tracks_its_volatility_target_and_charges_costs(prices):
    ds = build_dataset(prices)
    forecast = baseline_forecast("ewma", ds, None)
    free = run_overlay(forecast, ds, "2014-06-01", "2015-12-31", PortfolioConfig(target_vol=0.08, cost_bp=0))
    costly = run_overlay(forecast, ds, "2014-06-01", "2015-12-31", PortfolioConfig(target_vol=0.08, cost_bp=50))
    summary = free.summary()
    assert summary["realised_over_target"] == pytest.approx(1.0, abs=0.25)
    assert costly.returns.sum() < free.returns.sum() and summary["turnover"] > 0
    hold = buy_and_hold(ds, "2014-06-01", "2015-12-31", cost_bp=0)
    assert hold.weights.iloc[0].sum() == pytest.approx(1) and hold.summary()["turnover"] > 0


def test_performance_numbers():
    returns = pd.Series([0.1, -0.5, 0.2])
    result = performance(returns, pd.Series([1.0, 0.0, 0.0]))
    assert result["max_drawdown"] == pytest.approx(-0.5)
    assert result["total_return"] == pytest.approx(1.1 * 0.5 * 1.2 - 1)


# ----------------------------------------------------------------------------------------------- event study
def test_event_study_finds_a_planted_effect_and_not_a_missing_one():
    rng = np.random.default_rng(0)
    n = 400
    signal = rng.uniform(size=n)
    outcome = rng.exponential(1.0, n) * np.where(signal > 0.9, 2.0, 1.0)
    events = pd.DataFrame({"ticker": np.repeat(["A", "B"], n // 2), "signal": signal, "outcome": outcome})
    result = decile_contrast(events, n_boot=300)
    assert result["n_top"] == pytest.approx(40, abs=4) and result["ci95"][0] > 0
    null = decile_contrast(events.assign(outcome=rng.exponential(1.0, n)), n_boot=300)
    assert null["ci95"][0] < 0 < null["ci95"][1]
