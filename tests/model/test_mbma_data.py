"""Evidence records → MBMA observations: numbers checked by hand against the records' sources."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from kbone.evidence.loader import load_records
from kbone.model.mbma.data import extract


@pytest.fixture(scope="module")
def records():
    return load_records()


@pytest.fixture(scope="module")
def ext(records):
    return extract(records)


def _one(ext, record, site, t=None):
    obs = [o for o in ext.bmd if o.record == record and o.site == site and (t is None or o.t_weeks == t)]
    assert len(obs) == 1, obs
    return obs[0]


def test_cheung_mean_difference_and_se_from_its_ci(ext):
    o = _one(ext, "cheung2008", "lumbar_spine")
    assert o.y == pytest.approx(-0.06)
    # PLoS Med 2008 abstract: difference -0.06 % (95 % CI -0.67 to 0.54)
    assert o.se == pytest.approx((0.54 + 0.67) / (2 * stats.norm.ppf(0.975)), rel=1e-6)
    assert o.t_weeks == 104 and o.context.form == "K1" and o.context.dose_ug_per_day == 5000
    assert o.context.calcium_vitamin_d and not o.context.open_label


def test_shiraki_arm_means_and_standard_errors(ext):
    o = _one(ext, "shiraki2000", "lumbar_spine", 104.0)
    assert o.y == pytest.approx(-0.5 - (-3.3))
    assert o.se == pytest.approx(math.hypot(1.0, 0.8))   # SEs as recorded (flagged assumption in the record)
    assert o.context.open_label and o.context.region == "asian" and o.context.osteoporotic


def test_absolute_change_converted_with_baseline_uncertainty(ext):
    o = _one(ext, "je2011", "lumbar_spine")
    y = (0.01 - -0.008) / 0.90 * 100
    se = math.sqrt(0.03**2 / 38 + 0.04**2 / 40) / 0.90 * 100
    assert o.y == pytest.approx(y)
    assert o.se == pytest.approx(math.sqrt(se**2 + (0.10 * y) ** 2))
    assert any("assumed baseline" in f for f in o.flags)


def test_missing_sd_is_imputed_visibly(ext):
    o = _one(ext, "emaus2010", "total_hip")
    assert any(f.startswith("SD not reported: imputed") for f in o.flags)
    assert o.se == pytest.approx(o.sd_arm * math.sqrt(1 / o.n_t + 1 / o.n_c))


def test_exclusions_carry_reasons(ext):
    reasons = {(e.record, e.outcome): e.reason for e in ext.excluded}
    assert "active comparator" in reasons[("jiang2014", "ls_bmd_1y")]
    assert "confounded" in reasons[("braam2003", "fn_bmd_mdk_vs_placebo")]
    assert "retracted" in reasons[("sato2005", None)]
    assert "flagged" in reasons[("ishida2004", None)]
    # one analysis per comparison: the covariate-adjusted Forli estimate is reported, not double counted
    assert "another analysis" in reasons[("forli2010", "ls_bmd_1y_adjusted")]
    used = {o.record for o in ext.bmd}
    assert not used & {"sato1998", "sato2005", "sato2011", "ishida2004"}


def test_flagged_and_retracted_on_request(records):
    ext = extract(records, include_flagged=True, include_retracted=True)
    ish = [o for o in ext.fractures if o.record == "ishida2004"]
    assert ish and ish[0].y == pytest.approx(math.log(0.44))
    assert ish[0].se == pytest.approx((math.log(0.99) - math.log(0.2)) / (2 * stats.norm.ppf(0.975)))
    assert any(o.record == "sato2011" for o in ext.bmd)
    # once retracted trials are allowed, sato2005 is still excluded, now for its contrast
    why = {e.outcome: e.reason for e in ext.excluded if e.record == "sato2005"}
    assert "confounded" in why["metacarpal_bmd"]


def test_exclude_study(records):
    ext = extract(records, exclude=["cheung2008"])
    assert not any(o.record == "cheung2008" for o in ext.bmd)
    assert any(e.record == "cheung2008" and "on request" in e.reason for e in ext.excluded)
