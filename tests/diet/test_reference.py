"""Reference intakes by authority, age and sex, each with its source and quality."""

from __future__ import annotations

import pytest

from kbone.diet.reference import compare, reference_values
from kbone.diet.schema import FormAmounts, Profile
from kbone.errors import KboneInputError


def by_auth(refs):
    out = {}
    for r in refs:
        out.setdefault(r.authority, []).append(r)
    return out


def test_adult_values_and_sources():
    refs = by_auth(reference_values(Profile(age=40, sex="male")))
    assert [r.value_ug for r in refs["US"]] == [120]
    assert refs["US"][0].quality == "primary" and refs["US"][0].source_id == "iom2001"
    assert [r.value_ug for r in refs["EU"]] == [70] and refs["EU"][0].compares == "k1"
    assert [r.value_ug for r in refs["JP"]] == [150] and refs["JP"][0].secondary
    cn = refs["CN"][0]
    assert cn.value_ug == 80 and cn.secondary and cn.quality == "secondary"
    who = refs["WHO"][0]
    assert who.value_ug == 65 and not who.verified and who.quality == "unverified"
    women = by_auth(reference_values(Profile(age=40, sex="female")))
    assert women["US"][0].value_ug == 90 and women["WHO"][0].value_ug == 55


def test_unknown_sex_shows_both():
    us = [r for r in reference_values(Profile(age=40)) if r.authority == "US"]
    assert sorted((r.sex, r.value_ug) for r in us) == [("female", 90), ("male", 120)]


@pytest.mark.parametrize("age,us,eu", [(0.3, 2.0, None), (2, 30, 12), (5, 55, 20), (8, 55, 30), (12, 60, 45),
                                       (16, 75, 65)])
def test_children_by_age(age, us, eu):
    refs = by_auth(reference_values(Profile(age=age, sex="female")))
    assert refs["US"][0].value_ug == us
    assert (refs["EU"][0].value_ug if "EU" in refs else None) == eu
    assert "CN" not in refs  # no sourced Chinese value for children


def test_efsa_per_kg_with_body_weight():
    eu = [r for r in reference_values(Profile(age=40, weight_kg=58), ["EU"])][0]
    assert eu.value_ug == pytest.approx(58.0) and eu.per_kg_rule == 1.0


def test_pregnancy():
    refs = by_auth(reference_values(Profile(age=17, sex="female", stage="pregnancy")))
    assert refs["US"][0].value_ug == 75 and refs["US"][0].stage == "pregnancy"
    with pytest.raises(KboneInputError):
        reference_values(Profile(age=30, sex="male", stage="pregnancy"))


def test_compare_uses_k1_for_efsa_and_total_for_others():
    mean = FormAmounts(k1=35, mk4=5, mk7=20, mk_other=0, total=60)
    comps = {c.reference.authority: c for c in compare(mean, reference_values(Profile(age=40, sex="male")))}
    assert comps["EU"].intake_ug == 35 and comps["EU"].percent == pytest.approx(50.0)
    assert comps["US"].intake_ug == 60 and comps["US"].percent == pytest.approx(50.0)


def test_unknown_authority():
    with pytest.raises(KboneInputError):
        reference_values(Profile(), ["XX"])
