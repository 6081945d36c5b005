"""Virtual populations: covariates from the profile, log-normal IIV, reproducible from the seed."""

from __future__ import annotations

import numpy as np
import pytest

from kbone.errors import KboneInputError
from kbone.model.library import populations, spec
from kbone.model.population import make_population


def test_same_seed_same_subjects_and_other_seed_differs():
    a = make_population(50, seed=11)
    b = make_population(50, seed=11)
    c = make_population(50, seed=12)
    s = spec("pk_MK-7")
    assert np.array_equal(a.age, b.age) and a.cyp2c9 == b.cyp2c9
    assert np.array_equal(a.parameters(s)["CL"], b.parameters(s)["CL"])
    assert not np.array_equal(a.parameters(s)["CL"], c.parameters(s)["CL"])


def test_batches_draw_the_same_values_as_the_whole():
    pop = make_population(40, seed=3)
    s = spec("warfarin_pk")
    whole = pop.parameters(s)["CL_S"]
    parts = np.concatenate([pop.subset(np.arange(i, i + 10)).parameters(s)["CL_S"] for i in range(0, 40, 10)])
    assert np.array_equal(whole, parts)


def test_iiv_matches_declared_cv():
    pop = make_population(20000, seed=5)
    s = spec("warfarin_pk")
    cl = pop.parameters(s)["CL_S"]
    omega = np.std(np.log(cl / s.parameters["CL_S"].value))
    assert omega == pytest.approx(np.sqrt(np.log1p(0.31 ** 2)), rel=0.03)   # Hamberg 2007: IIV CL 31 %


def test_genotype_frequencies_follow_the_profile():
    pop = make_population(20000, seed=1, profile="han_chinese")
    freq = populations()["han_chinese"]["vkorc1"]["freq"]            # Xia 2024: AA 80.3 %
    assert np.mean(np.array(pop.vkorc1) == "AA") == pytest.approx(freq["AA"], abs=0.015)


def test_typical_subject_has_typical_values_and_explicit_covariates():
    pop = make_population(1, typical=True, age=71, vkorc1="ga", cyp2c9="*3/*1", intake={"phylloquinone": 120})
    s = spec("pk_K1")
    assert pop.parameters(s)["CL"][0] == pytest.approx(s.parameters["CL"].value)
    assert pop.vkorc1 == ["AG"] and pop.cyp2c9 == ["*1/*3"] and pop.intake["K1"][0] == 120


@pytest.mark.parametrize("kw,field", [({"age": 5}, "age"), ({"weight": 900}, "weight"), ({"sex": "x"}, "sex"),
                                      ({"vkorc1": "TT"}, "vkorc1"), ({"profile": "mars"}, "population"),
                                      ({"intake": {"vitamin C": 5}}, "intake")])
def test_bad_covariates_name_the_field(kw, field):
    with pytest.raises(KboneInputError) as e:
        make_population(2, **kw)
    assert e.value.problems[0].field == field
