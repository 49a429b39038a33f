"""The GARCH family: arch's GJR-GARCH and EGARCH fits, and GJR-GARCH-X (our likelihood) against arch and a
planted text effect."""

from __future__ import annotations

import numpy as np
import pytest

from textrisk.forecast.garch import fit_arch, fit_garch_x, garch_x_variance


def _simulate_gjr(n=2000, seed=0):
    from arch import arch_model
    from arch.univariate import StudentsT

    model = arch_model(None, mean="Constant", vol="GARCH", p=1, o=1, q=1, dist="t")
    model.distribution = StudentsT(seed=np.random.RandomState(seed))
    return model.simulate([0.05, 0.05, 0.05, 0.08, 0.85, 7.0], n)["data"].to_numpy() / 100


def test_gjr_and_egarch_fits_by_arch():
    r = _simulate_gjr()
    gjr = fit_arch(r, "gjr_garch")
    assert gjr["gamma[1]"] == pytest.approx(0.08, abs=0.05) and gjr["beta[1]"] == pytest.approx(0.85, abs=0.06)
    egarch = fit_arch(r, "egarch")
    assert {"omega", "alpha[1]", "gamma[1]", "beta[1]", "nu"} <= set(egarch.index)
    assert egarch["gamma[1]"] < 0  # leverage: bad news raises variance more


def test_garch_x_without_regressors_is_arch_gjr():
    from arch import arch_model

    r = _simulate_gjr()
    p = fit_arch(r, "gjr_garch")
    fixed = arch_model(r * 100, mean="Constant", vol="GARCH", p=1, o=1, q=1, dist="t", rescale=False).fix(p.to_numpy())
    params = np.r_[p["mu"], p["omega"], p["omega"], p["alpha[1]"], p["gamma[1]"], p["beta[1]"], p["nu"]]
    h = garch_x_variance(params, r * 100 - p["mu"], np.zeros((len(r), 0)), np.zeros(len(r)))
    np.testing.assert_allclose(h[100:], fixed.conditional_volatility[100:] ** 2, rtol=1e-6)  # after the backcast


def test_garch_x_recovers_a_planted_text_effect_and_ignores_noise():
    rng = np.random.default_rng(3)
    n = 1500
    x = (rng.random(n) < 0.1).astype(float)  # a news day one day in ten
    cover = np.ones(n)
    e = np.zeros(n)
    h = np.zeros(n)
    z = rng.standard_t(8, n) * np.sqrt(6 / 8)
    h_prev, e_prev = 1.0, 0.0
    for k in range(n):
        # omega 0.05, alpha 0.05, gamma 0.05, beta 0.85, and news adds 1.5 %^2 of variance
        h[k] = 0.05 + (0.05 + 0.05 * (e_prev < 0)) * e_prev ** 2 + 0.85 * h_prev + 1.5 * x[k]
        e[k] = np.sqrt(h[k]) * z[k]
        h_prev, e_prev = h[k], e[k]
    both = np.column_stack([x, rng.random(n)])  # the second regressor is noise
    params = fit_garch_x(e / 100, both, cover)
    assert params[7] == pytest.approx(1.5, rel=0.5) and params[8] < 0.3
    assert params[3] + 0.5 * params[4] + params[5] < 1
    fitted = garch_x_variance(params, e - params[0], both, cover)
    assert np.corrcoef(fitted, h)[0, 1] > 0.9
