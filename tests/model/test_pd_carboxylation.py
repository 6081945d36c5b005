"""Carboxylation dose-response against published trials (each test names its source)."""

from __future__ import annotations

import pytest

from kbone.model import calibration as cal
from kbone.model.api import estimate_status, steady_state_carboxylation
from kbone.model.library import targets


def target(tid):
    return next(t for t in targets() if t["id"] == tid)


def test_dalmeijer_mk7_180_360():
    # Dalmeijer 2012: ucOC/cOC -60 % and -74 %, dp-ucMGP -31 % and -46 % (12 weeks). The ucOC/cOC fit is
    # pulled towards smaller effects by Inaba 2015 (50 ug/day not significant): a reported tension.
    ratio = {d: cal.predict(target(f"dalmeijer_ucoc_coc_{d}")) for d in (180, 360)}
    mgp = {d: cal.predict(target(f"dalmeijer_dpucmgp_{d}")) for d in (180, 360)}
    assert 1 - ratio[180] == pytest.approx(0.60, abs=0.15)
    assert 1 - ratio[360] == pytest.approx(0.74, abs=0.15)
    assert 1 - ratio[360] > 1 - ratio[180]
    assert 1 - mgp[180] == pytest.approx(0.31, abs=0.10)
    assert 1 - mgp[360] == pytest.approx(0.46, abs=0.10)


def test_k1_ucoc_falls_at_300_not_100_under_vka():
    # Schurgers 2004: ucOC did not fall until 300 ug/day K1 (anticoagulated volunteers)
    assert cal.predict(target("schurgers2004_k1_100_no_fall")) < cal.predict(target("schurgers2004_k1_300_fall"))
    assert cal.predict(target("schurgers2004_k1_300_fall")) >= 0.15
    assert cal.predict(target("schurgers2004_k1_100_no_fall")) < 0.2


def test_mk4_high_doses():
    # Nakamura 2014: ucOC falls at >= 600 ug/day, not at 300; Jiang 2014: 45 mg/day %ucOC about -71 %
    assert cal.predict(target("nakamura_mk4_600_fall")) > cal.predict(target("nakamura_mk4_300_no_fall"))
    assert cal.predict(target("jiang_mk4_45mg_ucoc_percent")) == pytest.approx(0.289, abs=0.15)


def test_dose_response_ordering_and_mk7_more_complete_than_k1():
    # Schurgers 2007: MK-7 induced more complete carboxylation of osteocalcin than K1 at equal intake
    base = {"K1": 100, "MK-7": 1.4, "MK-4": 0}
    r = {(f, d): steady_state_carboxylation(f, d, baseline_intake=base, n=1).ucoc_relative_change.median
         for f in ("K1", "MK-7") for d in (50, 100, 200, 400)}
    for f in ("K1", "MK-7"):
        assert r[(f, 50)] > r[(f, 100)] > r[(f, 200)] > r[(f, 400)]          # more vitamin K, less ucOC
    assert r[("MK-7", 100)] < r[("K1", 100)]
    assert cal.predict(target("schurgers2007_mk7_more_complete_carboxylation")) > 0


def test_population_result_has_bands_and_mbma_scale():
    res = steady_state_carboxylation("MK-7", 180, n=120, seed=2)
    b = res.ucoc_relative_change
    assert b.p5 < b.median < b.p95 < 0
    assert res.ucoc_fraction_fall == pytest.approx(-b.median)
    assert res.exposure_k1eq_nmol_l.median > 0 and res.dp_ucmgp_relative_change.median < 0


def test_status_from_diet():
    low = estimate_status({"K1": 40}, n=1)
    high = estimate_status({"K1": 300, "MK-7": 30}, n=1)
    assert high.ucoc_percent.median < low.ucoc_percent.median
    assert high.plasma_nmol_l["K1"].median > low.plasma_nmol_l["K1"].median
    assert low.ucoc_ng_ml.median > 0 and high.dp_ucmgp_pmol_l.median < low.dp_ucmgp_pmol_l.median


def test_conflicting_bone_marker_trials_are_reported():
    # CLARIFICATIONS.md: fit the data and report the tension - Inaba's non-significant 50 ug/day and
    # Dalmeijer's large effects cannot both be met by one monotone dose-response
    import yaml

    from kbone.model.library import model_dir

    doc = yaml.safe_load((model_dir() / "fitted.yaml").read_text(encoding="utf-8"))
    flagged = {t.split(":")[0] for t in doc["tensions"]}
    assert "inaba_mk7_50_no_fall" in flagged or "dalmeijer_ucoc_coc_360" in flagged
