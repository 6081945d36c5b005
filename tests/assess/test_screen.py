"""Screening: OSTA and WHO classes against hand computations; the Garvan nomogram against worked examples."""

from __future__ import annotations

import pytest

from kbone.assess.profile import parse_profile
from kbone.assess.screen import (
    fracture_risk,
    garvan_points,
    garvan_risk10,
    osta,
    osta_risk,
    screen,
    who_class,
)


def prof(**kw):
    base = {"age": 70, "sex": "female", "weight": 55, "menopause": "post"}
    return parse_profile({**base, **kw})


@pytest.mark.parametrize("weight, age, index, risk", [
    (45, 75, -6.0, "high"),      # (45 - 75) x 0.2
    (60, 65, -1.0, "medium"),    # exactly -1 is medium ("-1 to -4")
    (50, 70, -4.0, "medium"),    # exactly -4 is medium
    (49, 70, -4.2, "high"),
    (66, 70, -0.8, "low"),
    (80, 50, 6.0, "low"),
])
def test_osta(weight, age, index, risk):
    o = osta(prof(weight=weight, age=age))
    assert o.index == pytest.approx(index)
    assert o.risk == risk == osta_risk(index)
    assert o.bmd_test_indicated == (index <= -1)
    assert o.applicable and o.sources


def test_osta_for_men_is_marked_indicative():
    o = osta(parse_profile({"age": 70, "sex": "male", "weight": 60}))
    assert not o.applicable and o.note is not None


@pytest.mark.parametrize("t, cls", [(-2.5, "osteoporosis"), (-3.4, "osteoporosis"), (-2.4, "low_bone_mass"),
                                    (-1.1, "low_bone_mass"), (-1.0, "normal"), (0.5, "normal")])
def test_who_classes(t, cls):
    assert who_class(t) == cls


def test_lowest_site_and_severe_osteoporosis():
    s = screen(prof(labs={"t_scores": {"lumbar_spine": -3.1, "femoral_neck": -2.7}}))
    assert s.t_score.lowest_site == "lumbar_spine" and s.t_score.category == "osteoporosis"
    s2 = screen(prof(labs={"t_scores": {"lumbar_spine": -3.1}}, conditions=["prior fragility fracture"]))
    assert s2.t_score.category == "severe_osteoporosis"
    assert any(r.id == "prior_fracture" for r in s2.risk_factors)


def test_risk_factors_listed():
    p = prof(height=160, weight=45, menopause={"status": "post", "age_at": 42}, conditions=["rheumatoid arthritis"],
             medicines=[{"name": "prednisone", "duration_days": 200}],
             risk_factors={"current_smoker": True, "falls_past_year": 2, "parental_hip_fracture": True})
    got = {r.id for r in screen(p).risk_factors}
    assert {"age", "postmenopausal", "early_menopause", "low_bmi", "rheumatoid_arthritis", "glucocorticoids",
            "smoking", "falls", "parental_hip_fracture"} <= got
    assert screen(p).assumptions  # the BMI and early-menopause thresholds are assumptions and say so


def test_garvan_worked_example():
    # points: age 0.8*68-44 = 10.4; T -2.0: -10*-2+40 = 60; no fracture, no fall -> 70.4
    assert garvan_points(68, -2.0, 0, 0) == pytest.approx(70.4)
    # 10-year risk: 0.009526*70.4^2 - 0.6715*70.4 + 16.86 = 47.212 - 47.274 + 16.86 = 16.80 %
    pct, bound = garvan_risk10(70.4)
    assert pct == pytest.approx(16.80, abs=0.01) and bound is None
    # caps: fractures max 42 points (3 x 14), falls max 15 points (3 x 5)
    assert garvan_points(68, -2.0, 5, 9) == pytest.approx(70.4 + 42 + 15)


def test_garvan_curve_bounds_and_continuity():
    assert garvan_risk10(20) == (5.0, "<")
    assert garvan_risk10(160) == (99.0, ">")
    left, _ = garvan_risk10(103.7 - 1e-9)
    right, _ = garvan_risk10(103.7 + 1e-9)
    assert abs(left - right) < 1.0
    # the published curve rises with points; the secondary page's two fitted pieces meet with a 0.6-point step
    for lo, hi in ((395, 1038), (1038, 1512)):
        grid = [garvan_risk10(x / 10)[0] for x in range(lo, hi)]
        assert all(b >= a for a, b in zip(grid, grid[1:], strict=False)), "risk must not fall as points rise"


def test_fracture_risk_only_where_the_method_applies():
    fr = fracture_risk(prof(age=68, labs={"t_scores": {"femoral_neck": -2.0}}))
    assert fr.available and fr.percent == pytest.approx(16.8, abs=0.05) and fr.coefficients_secondary
    assert fr.public_equations and fr.sources
    man = fracture_risk(parse_profile({"age": 68, "sex": "male", "weight": 70, "labs": {"t_scores": {"femoral_neck": -2.0}}}))
    assert not man.available and any("women only" in n.en for n in man.notes)
    no_fn = fracture_risk(prof(labs={"t_scores": {"lumbar_spine": -2.0}}))
    assert not no_fn.available and any("femoral-neck" in n.en for n in no_fn.notes)
    assert any("FRAX" in n.en for n in no_fn.notes)
