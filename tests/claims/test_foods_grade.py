"""Food-only claims, grade consistency with kbone.assess, corrected outcomes and causal wording.

Independent values: Kamao 2007 (J Nutr Sci Vitaminol 53:464) natto carries MK-7 (939 µg/100 g); USDA SR28
spinach (11457) 482.9 µg/100 g phylloquinone (K1); Mott 2019 (Osteoporos Int 30:1543) clinical-fracture
OR 0.72 (0.55–0.95), corrected with YOPS removed to OR 0.74 (0.56–0.97); Misra 2013 and Shea 2015 are
cohort studies (associations, not trials).
"""

from __future__ import annotations

import pytest
import yaml

from kbone.claims.check import check_text
from kbone.claims.evidence import evidence_base
from kbone.claims.verify import grade_question
from kbone.evidence.grade import grade
from kbone.paths import data_path


def one(text: str):
    rep = check_text(text)
    assert len(rep.claims) == 1, [c.text for c in rep.claims]
    return rep.claims[0]


@pytest.mark.parametrize("text, food, form", [
    ("每天吃纳豆可以预防骨折。", "natto", "MK-7"),
    ("吃纳豆能预防骨质疏松。", "natto", "MK-7"),
    ("Eating natto every day prevents fractures.", "natto", "MK-7"),
    ("多吃菠菜可以提高骨密度。", "leafy_greens", "K1"),
    ("Eating spinach improves bone density.", "leafy_greens", "K1"),
])
def test_food_only_claim_is_extracted_with_the_foods_form(text, food, form):
    c = one(text)
    assert c.kind == "effect"
    assert c.parts.foods == [food] and c.parts.forms == [form]
    assert "natto" in c.reason_en or "leafy" in c.reason_en
    assert "间接" in c.reason_zh  # the food is indirect evidence for a supplement trial's form


def test_food_inside_a_longer_word_is_not_a_food():
    # "青菜" is a food; "菜籽" is not (and no vitamin K is named): no claim
    assert check_text("菜籽油能预防骨折。").claims == []


def test_named_form_wins_over_food():
    c = one("纳豆中的维生素K1可以预防骨折。")
    assert c.parts.forms == ["K1"] and c.parts.foods == []


def _assess_grade(form: str, role: str) -> str:
    goals = yaml.safe_load(data_path("rules", "options.yaml").read_text(encoding="utf-8"))["goals"]
    return grade(evidence_base().records, form, goals["bone"][role], None).level


@pytest.mark.parametrize("text, form, role", [
    ("Vitamin K2 prevents fractures.", "K2", "primary"),
    ("维生素K2可以预防骨折。", "K2", "primary"),
    ("MK-7 improves bone density.", "MK-7", "secondary"),
    ("MK-4可以提高骨密度。", "MK-4", "secondary"),
])
def test_claim_grade_is_the_grade_assess_asks_for(text, form, role):
    c = one(text)
    q = grade_question(c, evidence_base())
    assert q is not None and q[0] == form
    goals = yaml.safe_load(data_path("rules", "options.yaml").read_text(encoding="utf-8"))["goals"]
    assert set(q[1]) == set(goals["bone"][role])
    if c.grade is not None:
        assert c.grade == _assess_grade(form, role)


def test_k2_fracture_grade_is_not_moderate_on_any_fracture_alone():
    # "fractures" is the whole fracture group, not only the 'any fracture' outcome id
    c = one("Vitamin K2 prevents fractures.")
    assert c.grade == _assess_grade("K2", "primary")
    only_any = grade(evidence_base().records, "K2", "fracture_any").level
    assert only_any != c.grade  # the old question (fracture_any only) gave a different level


def test_named_site_is_graded_on_that_outcome():
    c = one("Vitamin K2 reduces vertebral fractures.")
    assert grade_question(c, evidence_base())[1] == ("fracture_vertebral",)


def test_corrected_outcome_is_quoted_not_the_original():
    c = one("Vitamin K2 prevents fractures.")
    assert "OR 0.74 (0.56–0.97)" in c.reason_en
    assert "OR 0.72" not in c.reason_en
    ids = {o.id for f in evidence_base().findings(["K2"], [], ["fracture"], []) for o in [f.outcome]
           if f.record.id == "mott2019"}
    assert "clinical_fracture_corrected" in ids and "clinical_fracture" not in ids


@pytest.mark.parametrize("text", [
    "缺乏维生素K是关节退化加重的幕后推手。",
    "维生素K缺乏会导致关节退化加重。",
    "Vitamin K deficiency causes cartilage damage.",
])
def test_causal_claim_on_observational_association_is_partly_supported_at_most(text):
    c = one(text)
    assert c.parts.causal
    assert c.verdict == "partly_supported", c.reason_en
    assert "observational association only" in c.reason_en and "观察性关联" in c.reason_zh


def test_non_causal_association_is_supported():
    c = one("维生素K缺乏与关节退化加重有关。")
    assert not c.parts.causal
    assert c.verdict == "supported", c.reason_en
