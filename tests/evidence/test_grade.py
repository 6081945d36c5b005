"""kbone.evidence.grade: GRADE-style certainty over constructed records (independent hand-worked levels)."""

from __future__ import annotations

import pytest

from kbone.errors import KboneInputError
from kbone.evidence.grade import grade
from kbone.evidence.schema import Record

URL = "https://example.org/study"


def _src(loc: str = "abstract") -> dict:
    return {"url": URL, "location": loc}


def rct(rid: str, *, form: str = "MK-7", outcome: str = "bmd_lumbar_spine", measure: str = "MD",
        value: float = 1.0, lo: float | None = 0.5, hi: float | None = 1.5, n: int = 1000, design: str = "rct",
        pop: list[str] | None = None, sex: str = "female", integrity: str = "ok", comparator: str = "placebo",
        analysis: str | None = "itt", subgroups: list[dict] | None = None, unit: str | None = "%",
        metric: str = "percent_change", arm_events: tuple[int, int] | None = None,
        direction: str | None = None) -> Record:
    """A two-arm trial record with one outcome (and optional extra subgroup outcomes)."""
    half = n // 2
    eff = {"measure": measure, "value": value}
    if lo is not None:
        eff |= {"ci_lower": lo, "ci_upper": hi}
    outcome_doc = {"id": "main", "outcome": outcome, "metric": metric, "unit": unit, "treatment_arm": "k",
                   "control_arm": "c", "effect": eff, "analysis": analysis, "source": _src()}
    if direction:
        outcome_doc["direction"] = direction
    if arm_events:
        outcome_doc["arm_values"] = [{"arm": "k", "events": arm_events[0], "total": half},
                                     {"arm": "c", "events": arm_events[1], "total": n - half}]
    outs = [outcome_doc]
    for i, sg in enumerate(subgroups or []):
        outs.append({"id": f"sg{i}", "outcome": outcome, "metric": metric, "unit": unit, "subgroup": sg["subgroup"],
                     "effect": sg["effect"], "source": _src()})
    doc = {
        "id": rid, "citation": {"authors": "Doe J", "year": 2010}, "design": design,
        "population": {"terms": pop if pop is not None else ["postmenopausal"], "description": "test", "sex": sex},
        "arms": [
            {"id": "k", "label": "vitamin K", "role": "intervention", "n_randomized": half,
             "intervention": {"form": form, "amount": 180, "unit": "ug"}, "source": _src()},
            {"id": "c", "label": "control", "role": "control", "n_randomized": n - half, "comparator": comparator,
             "source": _src()},
        ],
        "outcomes": outs,
        "provenance": "constructed for a unit test",
    }
    if integrity != "ok":
        doc["integrity"] = {"status": integrity, "events": [{"status": integrity, "reason": "test", "source": _src()}]}
    return Record.model_validate(doc)


def meta(rid: str, *, forms: list[str], included: list[str], outcome: str = "fracture_clinical",
         value: float = 0.7, lo: float = 0.55, hi: float = 0.9, k: int = 10, subgroups: list[dict] | None = None) -> Record:
    outs = [{"id": "main", "outcome": outcome, "metric": "events", "effect": {"measure": "OR", "value": value,
                                                                             "ci_lower": lo, "ci_upper": hi},
             "source": _src()}]
    for i, sg in enumerate(subgroups or []):
        outs.append({"id": f"sg{i}", "outcome": outcome, "metric": "events", "subgroup": sg["subgroup"],
                     "effect": sg["effect"], "source": _src()})
    return Record.model_validate({
        "id": rid, "citation": {"authors": "Roe R", "year": 2019}, "design": "meta_analysis",
        "population": {"terms": ["postmenopausal"], "description": "test"},
        "tags": [f"form:{f}" for f in forms], "k_studies": k, "included_studies": included,
        "outcomes": outs, "provenance": "constructed for a unit test"})


def observational(rid: str, *, form: str = "K1", outcome: str = "fracture_hip", n: int = 5000) -> Record:
    return Record.model_validate({
        "id": rid, "citation": {"authors": "Poe P", "year": 1999}, "design": "cohort",
        "population": {"terms": ["women"], "description": "test", "sex": "female"},
        "tags": [f"form:{form}"], "n_participants": n, "n_source": _src(),
        "outcomes": [{"id": "main", "outcome": outcome, "metric": "association",
                      "effect": {"measure": "RR", "value": 0.7, "ci_lower": 0.53, "ci_upper": 0.93}, "source": _src()}],
        "provenance": "constructed for a unit test"})


def domain(g, name):
    return next(d for d in g.domains if d.domain == name)


# ---- starting level and single-domain downgrades (hand-worked: high = 4 levels, each concern -1) ----------------


def test_large_precise_placebo_rct_is_high():
    g = grade([rct("a")], "MK-7", "bmd_lumbar_spine", "postmenopausal")
    assert g.level == "high"
    assert g.start == "high"
    assert g.records == ["a"] and g.n_studies == 1 and g.n_participants == 1000
    assert all(d.downgrade == 0 for d in g.domains)
    assert g.direction == "benefit" and g.trial_evidence


def test_ci_crossing_null_costs_one_level():
    g = grade([rct("a", value=0.5, lo=-0.2, hi=1.2)], "MK-7", "bmd_lumbar_spine")
    assert g.level == "moderate"
    assert domain(g, "imprecision").downgrade == 1
    assert g.direction == "null"


def test_ci_crossing_null_and_small_sample_cost_two_levels():
    g = grade([rct("a", value=0.5, lo=-0.2, hi=1.2, n=120)], "MK-7", "bmd_lumbar_spine")
    assert domain(g, "imprecision").rating == "very_serious"
    assert g.level == "low"


def test_no_interval_is_imprecise():
    g = grade([rct("a", lo=None, hi=None)], "MK-7", "bmd_lumbar_spine")
    assert domain(g, "imprecision").downgrade == 1
    assert g.level == "moderate"


def test_binary_outcome_uses_events():
    # 1000 participants but only 40 events (< 300): rated down although the CI excludes 1
    r = rct("a", outcome="fracture_vertebral", metric="events", measure="RR", value=0.5, lo=0.3, hi=0.9, unit=None,
            arm_events=(13, 27))
    g = grade([r], "MK-7", "fracture_vertebral")
    assert domain(g, "imprecision").downgrade == 1
    assert any("40 events" in x.en for x in domain(g, "imprecision").reasons)


def test_observational_starts_low():
    g = grade([observational("o")], "K1", "fracture_hip")
    assert g.start == "low" and g.level == "low"
    assert not g.trial_evidence


def test_trials_outrank_observational_which_become_supporting():
    g = grade([observational("o", outcome="bmd_lumbar_spine"), rct("a", form="K1")], "K1", "bmd_lumbar_spine")
    assert g.records == ["a"] and g.supporting == ["o"]
    assert g.start == "high"


# ---- integrity --------------------------------------------------------------------------------------------


def test_retracted_records_are_excluded():
    g = grade([rct("ret", integrity="retracted"), rct("a")], "MK-7", "bmd_lumbar_spine")
    assert "ret" not in g.records and "ret" not in g.all_records
    assert [e.record for e in g.excluded] == ["ret"]
    assert g.level == "high"


def test_only_retracted_evidence_is_no_evidence():
    g = grade([rct("ret", integrity="retracted")], "MK-7", "bmd_lumbar_spine")
    assert g.level == "no_evidence"
    assert g.records == [] and g.excluded[0].record == "ret"
    assert "retracted" in g.reasons[0].en


def test_flagged_record_is_a_serious_concern():
    g = grade([rct("f", integrity="flagged"), rct("a"), rct("b")], "MK-7", "bmd_lumbar_spine")
    rob = domain(g, "risk_of_bias")
    assert rob.rating == "serious" and rob.downgrade == 1 and "f" in rob.records
    assert g.level == "moderate"


def test_mostly_flagged_body_is_very_serious():
    g = grade([rct("f1", integrity="flagged"), rct("f2", integrity="expression_of_concern"), rct("a", n=200)],
              "MK-7", "bmd_lumbar_spine")
    assert domain(g, "risk_of_bias").rating == "very_serious"


def test_flagged_study_cannot_carry_the_precision_judgement():
    g = grade([rct("f", integrity="flagged", outcome="fracture_vertebral", metric="events", measure="RR",
                   value=0.4, lo=0.2, hi=0.8, unit=None),
               rct("big", outcome="fracture_vertebral", metric="events", measure="RR", value=1.0, lo=None, hi=None,
                   unit=None, n=4000, direction="null")], "MK-7", "fracture_vertebral")
    assert domain(g, "imprecision").downgrade >= 1
    assert "integrity" in " ".join(x.en for x in domain(g, "imprecision").reasons)
    # 4000 of 4200 participants are in the null trial: the body points to no effect
    assert g.direction == "null"


def test_untreated_open_label_and_per_protocol_are_risk_of_bias():
    g = grade([rct("a", comparator="no_treatment", design="open_label_rct", analysis="per_protocol")],
              "MK-7", "bmd_lumbar_spine")
    rob = domain(g, "risk_of_bias")
    texts = " ".join(x.en for x in rob.reasons)
    assert rob.downgrade == 1
    assert "open-label" in texts and "untreated" in texts and "per-protocol" in texts


def test_low_risk_of_bias_sensitivity_analysis_losing_the_effect_rates_down():
    m = meta("m", forms=["MK-7"], included=[],
             subgroups=[{"subgroup": "low risk-of-bias trials only",
                         "effect": {"measure": "OR", "value": 0.8, "ci_lower": 0.6, "ci_upper": 1.05}}])
    g = grade([m], "MK-7", "fracture_clinical")
    assert domain(g, "risk_of_bias").downgrade == 1
    assert g.estimate.record == "m" and g.estimate.pooled


# ---- inconsistency, indirectness, overlap -------------------------------------------------------------------


def test_non_overlapping_intervals_are_inconsistent():
    g = grade([rct("a", value=2.0, lo=1.5, hi=2.5), rct("b", value=-0.5, lo=-1.0, hi=-0.1)], "MK-7", "bmd_lumbar_spine")
    inc = domain(g, "inconsistency")
    assert inc.downgrade == 1 and set(inc.records) == {"a", "b"}


def test_overlapping_intervals_are_consistent():
    g = grade([rct("a", value=1.0, lo=0.5, hi=1.5), rct("b", value=1.3, lo=0.7, hi=1.9)], "MK-7", "bmd_lumbar_spine")
    assert domain(g, "inconsistency").downgrade == 0
    assert g.level == "high"


def test_population_indirectness():
    g = grade([rct("a")], "MK-7", "bmd_lumbar_spine", "men")
    ind = domain(g, "indirectness")
    assert ind.downgrade == 1 and g.level == "moderate"
    assert "men" in ind.reasons[0].en


def test_form_unspecified_is_indirect_and_direct_evidence_is_preferred():
    unspecified = rct("k", form="K")
    g = grade([unspecified], "MK-7", "bmd_lumbar_spine")
    assert domain(g, "indirectness").downgrade == 1
    g2 = grade([unspecified, rct("a")], "MK-7", "bmd_lumbar_spine")
    assert g2.records == ["a"] and "k" in g2.supporting


def test_parent_form_question_matches_child_forms():
    g = grade([rct("a", form="MK-4"), rct("b", form="MK-7")], "K2", "bmd_lumbar_spine")
    assert set(g.records) == {"a", "b"}
    assert domain(g, "indirectness").downgrade == 0


def test_meta_analysis_covers_its_trials():
    t = rct("t1", outcome="fracture_clinical", metric="events", measure="OR", value=0.6, lo=0.4, hi=0.9, unit=None)
    m = meta("m", forms=["MK-7"], included=["t1"])
    g = grade([t, m], "MK-7", "fracture_clinical")
    assert g.records == ["m"] and "t1" in g.supporting
    assert g.estimate.record == "m"


def test_outcome_group_and_unrelated_outcomes():
    g = grade([rct("a")], "MK-7", "bmd")
    assert g.records == ["a"] and "bmd_lumbar_spine" in g.outcomes
    none = grade([rct("a")], "MK-7", "womac_pain")
    assert none.level == "no_evidence" and none.records == [] and not none.trial_evidence


def test_reasons_are_bilingual_and_input_is_not_mutated():
    recs = [rct("f", integrity="flagged", value=0.5, lo=-0.1, hi=1.1, n=150)]
    before = [r.model_dump() for r in recs]
    g = grade(recs, "MK-7", "bmd_lumbar_spine")
    assert g.level == "very_low"  # high - RoB 1 - imprecision 2 (CI crosses 0, n 150 < 400)
    for r in g.reasons:
        assert r.en and r.zh and r.en != r.zh
    assert [r.model_dump() for r in recs] == before
    assert grade(recs, "MK-7", "bmd_lumbar_spine") == g


def test_unknown_form_or_outcome_raises_with_suggestions():
    with pytest.raises(KboneInputError) as e:
        grade([rct("a")], "MK-77", "bmd_lumbar_spine")
    assert e.value.problems[0].field == "form"
    with pytest.raises(KboneInputError):
        grade([rct("a")], "MK-7", "bone_density_spine")


# ---- the shipped evidence base -------------------------------------------------------------------------------


def test_retracted_records_in_the_base_never_carry_a_grade():
    from kbone.evidence.loader import load_records
    from kbone.vocab import vocab

    recs = load_records()
    retracted = {r.id for r in recs if r.integrity.status == "retracted"}
    for r in recs:
        if r.id not in retracted:
            continue
        for f in r.forms:
            for o in r.outcome_ids:
                if not vocab().has("outcome", o):
                    continue
                g = grade(recs, f, o)
                assert not (set(g.all_records) & retracted), (f, o)
                assert r.id in {e.record for e in g.excluded}
