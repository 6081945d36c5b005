"""Interaction rules: each major rule fires on a profile built for it; ordering; boundaries; data integrity."""

from __future__ import annotations

from kbone.assess.profile import parse_profile
from kbone.assess.rules import SEVERITY_RANK, evaluate, rules

OLD_WOMAN = {"age": 72, "sex": "female", "weight": 55, "menopause": "post"}


def ids(alerts):
    return [a.id for a in alerts]


def test_rules_file_is_valid_and_every_record_exists():
    from kbone.evidence.loader import records_by_id

    by_id = records_by_id()
    rs = rules()
    assert len({r.id for r in rs}) == len(rs)
    for r in rs:
        assert r.sources, r.id
        for s in r.sources:
            assert s.location and (s.url or s.pmid or s.doi)
        for rid in r.records:
            assert rid in by_id, f"rule {r.id} cites unknown record {rid}"
        assert r.title.en and r.title.zh and r.action.en and r.action.zh


def test_vka_any_intake_change_is_major_and_first():
    p = parse_profile({**OLD_WOMAN, "medicines": ["华法林", "prednisone"]})
    alerts = evaluate(p)
    assert alerts[0].id == "vka_vitamin_k_intake" and alerts[0].severity == "major"
    assert "blocks_supplements" in alerts[0].flags
    assert "khan2004" in alerts[0].records


def test_vka_user_asking_for_mk7_gets_the_supplement_rule():
    p = parse_profile({**OLD_WOMAN, "medicines": ["Coumadin"], "interests": ["MK-7"]})
    alerts = evaluate(p)
    assert ids(alerts)[:2] == ["vka_vitamin_k_intake", "vka_vitamin_k_supplement"]
    sup = alerts[1]
    assert sup.severity == "major"
    assert {"interest"} <= {t.kind for t in sup.triggered_by}
    assert "theuwissen2013" in sup.records
    # the same person without the question still gets the intake rule but not the supplement rule
    assert "vka_vitamin_k_supplement" not in ids(evaluate(parse_profile({**OLD_WOMAN, "medicines": ["Coumadin"]})))


def test_vka_user_already_taking_k_supplement():
    p = parse_profile({**OLD_WOMAN, "medicines": ["acenocoumarol"], "supplements": [{"name": "维生素K2(MK-7)", "dose": "45 µg/day"}]})
    alerts = evaluate(p)
    assert "vka_vitamin_k_supplement" in ids(alerts)
    assert any(t.kind == "supplement" for t in alerts[1].triggered_by)


def test_nmtt_with_poor_intake_flags_deficiency_risk():
    p = parse_profile({**OLD_WOMAN, "medicines": ["头孢哌酮舒巴坦"], "conditions": ["营养不良"]})
    alerts = evaluate(p)
    assert alerts[0].id == "nmtt_low_intake" and alerts[0].severity == "major"
    assert "deficiency_risk" in alerts[0].flags
    assert "nmtt_cephalosporin" not in ids(alerts)  # the moderate version is suppressed


def test_nmtt_low_intake_from_measured_intake():
    p = parse_profile({**OLD_WOMAN, "medicines": ["cefotetan"]})
    assert "nmtt_low_intake" in ids(evaluate(p, intake_below_reference=True))
    normal = evaluate(p, intake_below_reference=False)
    assert "nmtt_low_intake" not in ids(normal)
    assert normal[0].id == "nmtt_cephalosporin" and normal[0].severity == "moderate"
    unknown = evaluate(p, intake_below_reference=None)
    assert unknown[0].notes, "unknown intake must be said"


def test_nmtt_with_vka_is_major():
    p = parse_profile({**OLD_WOMAN, "medicines": ["warfarin", "拉氧头孢"]})
    assert {"nmtt_vka", "vka_vitamin_k_intake"} <= set(ids(evaluate(p)))
    assert all(a.severity == "major" for a in evaluate(p) if a.id == "nmtt_vka")


def test_doac_says_no_vitamin_k_interaction():
    p = parse_profile({**OLD_WOMAN, "medicines": ["rivaroxaban"], "supplements": [{"name": "MK-7", "dose": "100 ug/d"}]})
    alerts = evaluate(p)
    assert ids(alerts) == ["doac_no_vitamin_k_interaction"]
    assert alerts[0].severity == "info" and "no vitamin K interaction" in alerts[0].title.en


def test_vitamin_e_threshold_boundary():
    def fired(iu):
        p = parse_profile({**OLD_WOMAN, "supplements": [{"name": "vitamin E", "dose": f"{iu} IU/day"}]})
        return "vitamin_e_high_dose" in ids(evaluate(p))

    assert not fired(400) and not fired(999) and fired(1000) and fired(1200)


def test_vitamin_e_with_vka_is_moderate():
    p = parse_profile({**OLD_WOMAN, "medicines": ["warfarin"], "supplements": [{"name": "VE", "dose": "1000 IU/day"}]})
    a = next(x for x in evaluate(p) if x.id == "vitamin_e_vka")
    assert a.severity == "moderate"
    assert "vitamin_e_high_dose" not in ids(evaluate(p))


def test_glucocorticoid_duration():
    def fired(days):
        med = {"name": "prednisone", "dose": "7.5 mg/day"}
        if days is not None:
            med["duration_days"] = days
        return "glucocorticoid_bone" in ids(evaluate(parse_profile({**OLD_WOMAN, "medicines": [med]})))

    assert not fired(30) and fired(90) and fired(400)
    assert fired(None)  # unknown duration counts


def test_sequestrant_orlistat_anticonvulsant_pregnancy():
    p = parse_profile({"age": 30, "sex": "female", "weight": 60, "conditions": ["pregnancy"],
                       "medicines": ["colestyramine", "orlistat", "carbamazepine"]})
    got = ids(evaluate(p))
    assert {"bile_acid_sequestrant", "orlistat", "anticonvulsant_pregnancy"} <= set(got)
    assert "enzyme_inducer" not in got


def test_alerts_are_ordered_most_severe_first():
    p = parse_profile({**OLD_WOMAN, "medicines": ["warfarin", "cefoperazone", "prednisone", "alendronate", "orlistat"],
                       "interests": ["MK-7"], "conditions": ["malabsorption"]})
    alerts = evaluate(p)
    ranks = [SEVERITY_RANK[a.severity] for a in alerts]
    assert ranks == sorted(ranks) and len(set(ranks)) >= 3
    assert alerts[0].severity == "major"
