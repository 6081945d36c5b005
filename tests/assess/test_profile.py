"""Profiles: validation (field + reason + fix), name resolution (zh/en, generic/brand), unit handling."""

from __future__ import annotations

import json

import pytest

from kbone.assess.drugs import drug_vocab
from kbone.assess.profile import parse_profile, servings_per_week
from kbone.errors import KboneInputError

BASE = {"age": 60, "sex": "female", "weight": 60}


def problems(data):
    with pytest.raises(KboneInputError) as e:
        parse_profile(data)
    return e.value.problems


@pytest.mark.parametrize("name", ["华法林钠", "华法林", "Coumadin", "coumadin", "苄丙酮香豆素", "華法林鈉片",
                                  "Warfarin Sodium 3 mg", "Marevan"])
def test_warfarin_names_resolve(name):
    r = drug_vocab().resolve(name)
    assert r.drug.id == "warfarin" and "vka" in r.drug.classes


@pytest.mark.parametrize("name, drug, cls", [("拜瑞妥", "rivaroxaban", "doac"), ("Eliquis", "apixaban", "doac"),
                                             ("头孢哌酮舒巴坦", "cefoperazone", "nmtt_cephalosporin"),
                                             ("拉氧头孢", "latamoxef", "nmtt_cephalosporin"),
                                             ("消胆胺", "colestyramine", "bile_acid_sequestrant"),
                                             ("Xenical", "orlistat", "lipase_inhibitor"),
                                             ("得理多", "carbamazepine", "enzyme_inducing_anticonvulsant"),
                                             ("强的松", "prednisone", "glucocorticoid"),
                                             ("福善美", "alendronate", "bisphosphonate"),
                                             ("Prolia", "denosumab", "rank_ligand_inhibitor")])
def test_brand_and_chinese_names(name, drug, cls):
    r = drug_vocab().resolve(name)
    assert r.drug.id == drug and cls in r.drug.classes


def test_valid_profile_resolves_everything():
    p = parse_profile({**BASE, "sex": "女", "height": 155, "menopause": "绝经后", "conditions": ["膝关节炎", "骨松"],
                       "medicines": [{"name": "华法林钠片", "dose": "25 mg/week", "inr_target": [2.0, 3.0]}],
                       "supplements": [{"name": "MK-7", "dose": "90 µg/day"}, {"name": "维生素E", "dose": "400 IU/day"}],
                       "labs": {"t_scores": {"腰椎": -2.6, "fn": -1.9}, "vitamin_d_25oh": {"value": 20, "unit": "ng/mL"}},
                       "interests": ["维生素K2"]})
    assert p.sex == "female" and p.postmenopausal
    assert p.conditions == ["knee_oa", "osteoporosis"]
    med = p.medicines[0]
    assert med.drug == "warfarin" and med.inr_target.low == 2.0 and med.inr_target.high == 3.0
    assert med.dose.per_day("mg") == pytest.approx(25 / 7)          # 3.571 mg/day
    assert p.supplements[0].kind == "vitamin_k" and p.supplements[0].ug_per_day() == pytest.approx(90)
    assert p.supplements[1].kind == "drug" and p.supplements[1].id == "vitamin_e"
    assert p.labs.t_scores == {"lumbar_spine": -2.6, "femoral_neck": -1.9}
    assert p.labs.vitamin_d_25oh_nmol_l == pytest.approx(20 * 2.496)  # 49.92 nmol/L
    assert p.interests == ["K2"]
    assert p.bmi == pytest.approx(60 / 1.55 ** 2)
    assert {"postmenopausal", "oa", "osteoporotic", "on_vka"} <= set(p.populations())


def test_single_inr_target_is_a_range_around_it():
    p = parse_profile({**BASE, "medicines": [{"name": "warfarin", "inr_target": 2.5}]})
    assert (p.medicines[0].inr_target.low, p.medicines[0].inr_target.high) == (2.0, 3.0)


def test_age_300():
    (p,) = problems({**BASE, "age": 300})
    assert p.field == "age" and "110" in p.reason and "300" in p.reason


def test_negative_weight():
    (p,) = problems({**BASE, "weight": -5})
    assert p.field == "weight" and "greater than 0" in p.reason


def test_unknown_medicine_gets_suggestions():
    (p,) = problems({**BASE, "medicines": ["warfrin"]})
    assert p.field == "medicines[0]" and "unknown medicine" in p.reason and "warfrin" in p.reason
    assert p.suggestions and p.suggestions[0].startswith("warfarin")
    assert "other: true" in p.fix


def test_unknown_medicine_can_be_kept_unchecked():
    p = parse_profile({**BASE, "medicines": [{"name": "metformin", "other": True}]})
    assert p.medicines[0].drug is None and p.medicines[0].classes == []


@pytest.mark.parametrize("target", ["two to three", "2.5", "2-3", True])
def test_inr_target_as_text(target):
    (p,) = problems({**BASE, "medicines": [{"name": "warfarin", "inr_target": target}]})
    assert p.field == "medicines[0].inr_target" and "INR target" in p.reason
    assert "2.5" in p.fix


def test_inr_target_only_for_vka():
    (p,) = problems({**BASE, "medicines": [{"name": "prednisone", "inr_target": 2.5}]})
    assert "vitamin K antagonist" in p.reason


def test_unknown_field_gets_suggestion():
    (p,) = problems({**BASE, "wieght": 60})
    assert p.field == "wieght" and "weight" in p.suggestions


def test_several_problems_reported_together():
    ps = problems({"age": 300, "sex": "female", "weight": -1, "conditions": ["osteoporsis"]})
    fields = {p.field for p in ps}
    assert {"age", "weight", "conditions"} <= fields
    cond = next(p for p in ps if p.field == "conditions")
    assert "osteoporosis" in cond.suggestions


def test_inconsistent_profiles():
    assert "menopause" in problems({**BASE, "sex": "male", "menopause": "post"})[0].reason
    assert "impossible" in problems({**BASE, "menopause": {"status": "post", "years_since": 55}})[0].reason
    assert problems({**BASE, "labs": {"t_scores": {"femoral_neck": -9}}})[0].field == "labs.t_scores"
    assert problems({**BASE, "labs": {"inr": "high"}})[0].field == "labs.inr"


@pytest.mark.parametrize("text, per_week", [("daily", 7), ("3/week", 3), ("每周3次", 3), ("每天2次", 14),
                                            ("2 per day", 14), ("weekly", 1), ("每月2次", 2 * 12 / 52.1775)])
def test_food_frequency_text(text, per_week):
    assert servings_per_week(text) == pytest.approx(per_week)


def test_profile_schema_names_the_fields(cli):
    code, out, _ = cli("assess", "--schema")
    assert code == 0
    schema = json.loads(out)
    for f in ("age", "sex", "weight", "medicines", "labs", "diet"):
        assert f in schema["properties"]
    assert schema["properties"]["age"]["maximum"] == 110


def test_brand_name_matches_are_marked():
    p = parse_profile({**BASE, "medicines": ["Coumadin", "warfarin"]})
    assert p.medicines[0].matched_synonym and not p.medicines[1].matched_synonym
