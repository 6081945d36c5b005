"""Options: every option carries a grade and >= 1 record; VKA users get no dose; truth about missing trials."""

from __future__ import annotations

import pytest

from kbone.assess.options import build_options
from kbone.assess.profile import parse_profile
from kbone.assess.rules import evaluate
from kbone.evidence.loader import load_records
from tests.assess.conftest import EXAMPLES, assessed

GRADES = {"high", "moderate", "low", "very_low", "no_evidence"}


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_option_has_a_grade_and_records(name):
    a = assessed(name)
    assert a.options, name
    ids = {r.id for r in load_records()}
    for o in a.options:
        assert o.evidence_grade in GRADES
        assert len(o.records) >= 1
        assert set(o.records) <= ids, "every record id must exist in the evidence base"
        for q in o.evidence:
            assert q.grade.level in GRADES


def test_options_without_records_are_omitted_not_shown():
    p = parse_profile({"age": 68, "sex": "female", "weight": 56, "conditions": ["knee OA"]})
    shown, omitted = build_options(p, [], evaluate(p))
    assert shown == []
    assert omitted and all(o.reason.en for o in omitted)


def test_mk7_for_knee_oa_has_no_trial_evidence():
    a = assessed("seed004_knee_oa.yaml")
    mk7 = next(o for o in a.options if o.id == "mk7_oa")
    assert mk7.no_trial_evidence
    assert mk7.evidence_grade == "no_evidence"
    assert any("No trial evidence" in n.en for n in mk7.notes)
    assert any("no trial evidence" in s.en for s in a.summary)


def test_retracted_records_are_never_behind_an_option():
    retracted = {r.id for r in load_records() if r.integrity.status == "retracted"}
    for name in ("osteoporosis_osta_high.yaml", "seed004_knee_oa.yaml"):
        for o in assessed(name).options:
            assert not set(o.records) & retracted, (o.id, set(o.records) & retracted)


def test_vka_user_gets_no_dose_and_only_the_managed_path():
    a = assessed("warfarin_asks_mk7.yaml")
    assert a.alerts[0].severity == "major" and a.alerts[0].id.startswith("vka")
    for o in a.options:
        assert o.status == "clinician_managed_only"
        assert o.dose_ug is None
        assert o.expected_effects == []
        assert "INR" in o.notes[0].en
    diet = next(o for o in a.options if o.kind == "diet")
    assert "steady" in diet.label.en
    # the plain-language summary leads with the warning
    assert a.summary[0].en.startswith("Important")


def test_options_have_model_effects_with_intervals_when_not_managed():
    a = assessed("seed004_knee_oa.yaml", model=True)
    mk7 = next(o for o in a.options if o.id == "mk7_supplement")
    assert mk7.dose_ug == (90.0, 180.0)
    effs = {e.outcome: e for e in mk7.expected_effects}
    assert "ucoc_percent" in effs
    e = effs["ucoc_percent"]
    assert e.low <= e.central <= e.high
    assert e.central < 0, "more vitamin K lowers the undercarboxylated share"
    bmd = effs["bmd_lumbar_spine"]
    assert bmd.low < bmd.central < bmd.high


def test_interest_in_k2_marks_the_menaquinone_options():
    p = parse_profile({"age": 66, "sex": "female", "weight": 60, "menopause": "post", "interests": ["维生素K2"]})
    shown, _ = build_options(p, load_records(), evaluate(p))
    asked = {o.id for o in shown if o.asked}
    assert asked == {"mk4_45mg", "mk7_supplement"}


def test_diet_option_follows_the_intake():
    from kbone.assess.assessment import assess

    def diet_label(ug):
        p = parse_profile({"age": 66, "sex": "female", "weight": 60, "menopause": "post",
                           "diet": {"intake_ug_per_day": ug}})
        a = assess(p, model=False)
        return a.intake, next(o for o in a.options if o.kind == "diet").label.en

    low, lab_low = diet_label(30)
    high, lab_high = diet_label(400)
    assert low.below_reference is True and lab_low.startswith("Reach the reference intake")
    assert high.below_reference is False and lab_high.startswith("Keep eating")
    # 30 µg/day against the US AI for women (90 µg/day): 33.3 %
    us = next(r for r in low.references if r.authority == "US")
    assert us.value_ug == 90 and us.percent == pytest.approx(100 * 30 / 90, abs=0.1)
