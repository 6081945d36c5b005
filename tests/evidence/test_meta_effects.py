"""Effect sizes and pooling against hand computations and published formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.meta_analysis import combine_effects

from kbone.errors import KboneInputError
from kbone.evidence.meta.effects import (
    binary_effects,
    change_effects,
    change_sd,
    continuous_effects,
    from_ci,
    hedges_correction,
    sd_from_ci,
    sd_from_se,
)
from kbone.evidence.meta.estimators import rma
from kbone.evidence.meta.mh import rma_mh, rma_peto


def test_log_odds_ratio_by_hand():
    es = binary_effects("OR", [10], [90], [20], [80])
    assert es.yi[0] == pytest.approx(math.log(10 * 80 / (90 * 20)), abs=1e-15)
    assert es.vi[0] == pytest.approx(1 / 10 + 1 / 90 + 1 / 20 + 1 / 80, abs=1e-15)
    assert not es.corrected[0]


def test_zero_cell_gets_one_half_in_every_cell():
    es = binary_effects("RR", [0], [50], [5], [45])
    a, b, c, d = 0.5, 50.5, 5.5, 45.5
    assert es.corrected[0]
    assert es.yi[0] == pytest.approx(math.log((a / (a + b)) / (c / (c + d))), abs=1e-15)
    assert es.vi[0] == pytest.approx(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d), abs=1e-15)


def test_double_zero_kept_by_default_dropped_with_drop00():
    kept = binary_effects("OR", [0, 3], [20, 17], [0, 6], [20, 14])
    assert np.isfinite(kept.yi[0]) and kept.yi[0] == pytest.approx(0.0)
    dropped = binary_effects("OR", [0, 3], [20, 17], [0, 6], [20, 14], drop00=True)
    assert np.isnan(dropped.yi[0]) and 0 in dropped.dropped and np.isfinite(dropped.yi[1])


def test_hedges_g_exact_correction():
    # the exact factor is close to Hedges' approximation 1 - 3/(4m - 1) and equals it in the limit
    for m in (5, 20, 200):
        assert hedges_correction(m)[0] == pytest.approx(1 - 3 / (4 * m - 1), rel=2e-3 if m == 5 else 1e-4)
    # m = 2: c = Γ(1) / (√1 Γ(1/2)) = 1/√π
    assert hedges_correction(2)[0] == pytest.approx(1 / math.sqrt(math.pi), abs=1e-15)
    es = continuous_effects("SMD", [10], [2], [10], [8], [2], [10])
    g = hedges_correction(18)[0] * 1.0
    assert es.yi[0] == pytest.approx(g, abs=1e-15)
    assert es.vi[0] == pytest.approx(0.2 + g**2 / 40, abs=1e-15)


def test_mean_difference_variance():
    es = continuous_effects("MD", [1.5], [2.0], [40], [0.5], [3.0], [50])
    assert es.yi[0] == 1.0
    assert es.vi[0] == pytest.approx(4 / 40 + 9 / 50)


def test_effect_from_reported_ci():
    yi, vi = from_ci(0.40, 0.25, 0.64, ratio=True)      # symmetric on the log scale
    assert yi[0] == pytest.approx(math.log(0.40))
    assert math.sqrt(vi[0]) == pytest.approx((math.log(0.64) - math.log(0.25)) / (2 * 1.959963984540054))
    yi, vi = from_ci(1.0, 0.2, 1.8, ratio=False)
    assert math.sqrt(vi[0]) == pytest.approx(0.8 / 1.959963984540054)


def test_sd_helpers_and_change_scores():
    assert sd_from_se(0.5, 100)[0] == pytest.approx(5.0)
    # Cochrane Handbook 6.5.2.2 example: n=25, CI 3.01-5.01 ... t(24) = 2.0639
    assert sd_from_ci(3.01, 5.01, 25)[0] == pytest.approx(5 * 2.0 / (2 * 2.0638985616280205), rel=1e-9)
    assert change_sd(4.0, 3.0, 0.5)[0] == pytest.approx(math.sqrt(16 + 9 - 12))
    assert change_sd(4.0, 3.0, 0.0)[0] == pytest.approx(5.0)
    with pytest.raises(ValueError):
        change_sd(1, 1, 1.5)
    es = change_effects("MD", 10, 12, 4, 3, 30, 10, 10.5, 4, 3, 30, 0.5)
    assert es.yi[0] == pytest.approx(1.5)
    assert es.vi[0] == pytest.approx(2 * 13 / 30)


def test_dersimonian_laird_matches_statsmodels():
    rng = np.random.default_rng(1)
    y = rng.normal(0.3, 0.8, 15)
    v = rng.uniform(0.02, 0.2, 15)
    sm = combine_effects(y, v, method_re="chi2")
    r = rma(y, v, method="DL")
    assert sm.tau2 > 0
    assert r.tau2 == pytest.approx(sm.tau2, rel=1e-10)
    assert r.estimate == pytest.approx(sm.mean_effect_re, rel=1e-10)
    assert r.se[0] == pytest.approx(sm.sd_eff_w_re, rel=1e-10)
    fe = rma(y, v, method="FE")
    assert fe.estimate == pytest.approx(sm.mean_effect_fe, rel=1e-12)
    assert fe.QE == pytest.approx(sm.q, rel=1e-12)
    pm = rma(y, v, method="PM", control={"exact": True})
    sm_pm = combine_effects(y, v, method_re="iterated")
    assert pm.tau2 == pytest.approx(sm_pm.tau2, rel=1e-6)


def test_knapp_hartung_by_hand():
    y = np.array([0.1, 0.5, -0.2, 0.8])
    v = np.array([0.04, 0.09, 0.05, 0.1])
    r = rma(y, v, method="DL", test="knha")
    w = 1 / (v + r.tau2)
    mu = np.sum(w * y) / w.sum()
    q = np.sum(w * (y - mu) ** 2) / 3
    assert r.se[0] == pytest.approx(math.sqrt(q / w.sum()), rel=1e-12)
    assert r.df == 3
    from scipy import stats

    assert r.ci_ub[0] == pytest.approx(mu + stats.t.ppf(0.975, 3) * r.se[0], rel=1e-12)
    p = r.predict()
    assert p.pi_ub == pytest.approx(mu + stats.t.ppf(0.975, 3) * math.sqrt(r.se[0] ** 2 + r.tau2), rel=1e-12)


def test_mh_odds_ratio_single_table_is_the_crude_or():
    r = rma_mh([10, 10], [90, 90], [20, 20], [80, 80], measure="OR")
    assert math.exp(r.estimate) == pytest.approx(10 * 80 / (90 * 20))
    # RBG variance for identical tables halves the Woolf variance of one table
    assert r.se[0] ** 2 == pytest.approx((1 / 10 + 1 / 90 + 1 / 20 + 1 / 80) / 2, rel=1e-12)


def test_peto_by_hand():
    a, b, c, d = 12, 88, 20, 80
    n1, n2, n = 100, 100, 200
    e = n1 * (a + c) / n
    v = n1 * n2 * (a + c) * (b + d) / (n * n * (n - 1))
    r = rma_peto([a, 5], [b, 45], [c, 9], [d, 41])
    e2 = 50 * 14 / 100
    v2 = 50 * 50 * 14 * 86 / (100 * 100 * 99)
    assert r.estimate == pytest.approx(((a - e) + (5 - e2)) / (v + v2), rel=1e-12)
    assert r.se[0] == pytest.approx(1 / math.sqrt(v + v2), rel=1e-12)


@pytest.mark.parametrize("bad", [
    dict(yi=[0.1], vi=[0.1]),                       # k = 1
    dict(yi=[0.1, 0.2], vi=[0.1, -0.2]),            # negative variance
    dict(yi=[0.1, float("nan")], vi=[0.1, 0.1]),    # missing effect
])
def test_rma_refuses_bad_input(bad):
    with pytest.raises(KboneInputError):
        rma(bad["yi"], bad["vi"])


def test_mh_refuses_all_double_zero():
    with pytest.raises(KboneInputError, match="0 or infinite"):
        rma_mh([0, 0], [10, 12], [0, 0], [11, 9], measure="OR")
    with pytest.raises(KboneInputError, match="no information"):
        rma_peto([0, 0], [10, 12], [0, 0], [11, 9])
