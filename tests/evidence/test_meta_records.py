"""The evidence-base adapter and ``kbone meta --outcome`` over records built here (not the shipped base)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from kbone.evidence.meta.effects import binary_effects, continuous_effects
from kbone.evidence.meta.estimators import rma
from kbone.evidence.meta.from_records import extract
from kbone.evidence.schema import Record

SRC = {"url": "https://example.org/paper", "location": "Table 2"}


def trial(rid, year, form, t_events=None, c_events=None, n=(100, 100), *, integrity="ok", design="rct",
          outcome="fracture_vertebral", metric="events", means=None, effect=None, extra_arms=(), timepoint=None,
          amount=45.0, unit="mg", country=("JP",)):
    arms = [{"id": "vk", "label": form, "role": "intervention", "n_randomized": n[0], "source": SRC,
             "intervention": {"form": form, "amount": amount, "unit": unit, "per": "day"}},
            {"id": "ctl", "label": "placebo", "role": "control", "n_randomized": n[1], "source": SRC,
             "comparator": "placebo"}, *extra_arms]
    o = {"id": "o1", "outcome": outcome, "metric": metric, "treatment_arm": "vk", "control_arm": "ctl", "source": SRC}
    if timepoint:
        o["timepoint_weeks"] = timepoint
    if t_events is not None:
        o["arm_values"] = [{"arm": "vk", "events": t_events, "total": n[0]},
                           {"arm": "ctl", "events": c_events, "total": n[1]}]
    if means is not None:
        (m1, s1), (m2, s2) = means
        o["arm_values"] = [{"arm": "vk", "mean": m1, "sd": s1, "n": n[0]}, {"arm": "ctl", "mean": m2, "se": s2, "n": n[1]}]
        o["unit"] = "%" if metric == "percent_change" else None
    if effect is not None:
        o["effect"] = effect
    if not (o.get("arm_values") or effect):
        o["result"] = "reported in words only"
    events = []
    if integrity == "retracted":
        events = [{"status": "retracted", "date": "2018", "reason": "fabrication", "source": SRC}]
    elif integrity == "flagged":
        events = [{"status": "flagged", "date": "2016", "reason": "implausible data", "source": SRC}]
    return Record.model_validate({
        "id": rid, "citation": {"authors": f"{rid.capitalize()} A", "year": year}, "design": design,
        "country": list(country), "arms": arms, "outcomes": [o], "provenance": "test record",
        "integrity": {"status": integrity, "events": events}})


@pytest.fixture
def vf_records():
    return [
        trial("shiraki2000", 2000, "MK-4", 10, 25, (120, 121), integrity="retracted"),
        trial("sato2005", 2005, "MK-4", 2, 9, (100, 100), integrity="retracted"),
        trial("iwamoto2001", 2001, "MK-4", 5, 12, (50, 50), integrity="flagged"),
        trial("knapen2013", 2013, "MK-7", 3, 4, (120, 124), amount=180, unit="ug", country=("NL",)),
        trial("cheung2008", 2008, "K1", 0, 3, (217, 223), amount=5, country=("CA",)),
        trial("booth2008", 2008, "K1", 0, 0, (200, 201), amount=500, unit="ug", country=("US",)),
        trial("mott2019", 2019, "MK-4", design="meta_analysis", effect={"measure": "OR", "value": 0.96,
                                                                      "ci_lower": 0.68, "ci_upper": 1.34}),
        trial("hr_trial", 2010, "K1", effect={"measure": "HR", "value": 0.8, "ci_lower": 0.5, "ci_upper": 1.2},
              metric="other"),
    ]


def test_extract_counts_and_exclusions(vf_records):
    ex = extract(vf_records, "vertebral_fracture", "OR")
    ids = {s.id for s in ex.studies}
    assert ids == {"shiraki2000", "sato2005", "iwamoto2001", "knapen2013", "cheung2008", "booth2008"}
    s = next(s for s in ex.studies if s.id == "shiraki2000")
    assert (s.ai, s.n1i, s.ci, s.n2i) == (10, 120, 25, 121)
    assert s.integrity == "retracted" and s.groups["form"] == "MK-4" and s.groups["dose_band"] == ">=10000"
    reasons = {e.id: e.reason for e in ex.excluded}
    assert "not a comparative trial" in reasons["mott2019"]
    assert "hr_trial" in reasons or "hr_trial/o1" in reasons


def test_cli_integrity_scenarios(cli, monkeypatch, vf_records):
    monkeypatch.setattr("kbone.evidence.loader.load_records", lambda *a, **k: vf_records)
    code, out, err = cli("meta", "--outcome", "vertebral_fracture", "--measure", "OR", "--json")
    assert code == 0, err
    rep = json.loads(out)
    sc = {s["scenario"]: s for s in rep["integrity"]}
    assert sc["all"]["k"] == 6
    assert set(sc["no_retracted"]["study_ids"]) == {"iwamoto2001", "knapen2013", "cheung2008", "booth2008"}
    assert set(sc["no_retracted_or_flagged"]["study_ids"]) == {"knapen2013", "cheung2008", "booth2008"}
    # independent check of one scenario: REML on escalc log ORs (1/2 added to zero cells, double zero kept)
    a = np.array([3, 0, 0.0])
    n1 = np.array([120, 217, 200.0])
    c = np.array([4, 3, 0.0])
    n2 = np.array([124, 223, 201.0])
    es = binary_effects("OR", a, n1 - a, c, n2 - c)
    ref = rma(es.yi, es.vi, method="REML")
    p = sc["no_retracted_or_flagged"]["pooled"]
    assert p["estimate"] == pytest.approx(ref.estimate, abs=1e-12)
    assert p["back"]["estimate"] == pytest.approx(math.exp(ref.estimate), abs=1e-12)
    for key in ("estimate", "se", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "i2", "q", "k", "study_ids"):
        assert key in rep
    assert rep["k"] == 6 and rep["outcome"] == "fracture_vertebral"
    assert any(e["id"] == "mott2019" for e in rep["excluded"])
    booth = next(s for s in rep["studies"] if s["id"] == "booth2008")
    assert any("no events in either group" in n for n in booth["notes"])


def test_cli_exclude_flagged_and_subgroups(cli, monkeypatch, vf_records):
    monkeypatch.setattr("kbone.evidence.loader.load_records", lambda *a, **k: vf_records)
    code, out, err = cli("meta", "--outcome", "椎体骨折", "--measure", "OR", "--method", "MH", "--exclude-flagged",
                         "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["integrity"] is None and rep["k"] == 3 and rep["model"] == "rma.mh"
    assert {e["id"] for e in rep["excluded"]} >= {"shiraki2000", "sato2005", "iwamoto2001"}
    code, out, _ = cli("meta", "--outcome", "vertebral_fracture", "--by", "form", "--drop00", "--json")
    rep = json.loads(out)
    groups = {g["group"]: g for g in rep["subgroups"]["groups"]}
    assert set(groups) == {"MK-4", "MK-7", "K1"}
    assert groups["MK-4"]["k"] == 3 and groups["K1"]["k"] == 1
    assert any(e["id"] == "booth2008" and "double-zero" in e["reason"] for e in rep["excluded"])


def test_bmd_percent_change_by_form_with_plots(cli, monkeypatch, tmp_path):
    recs = [
        trial("a2001", 2001, "MK-4", means=((1.0, 3.0), (-1.5, 0.3)), n=(100, 100), outcome="bmd_lumbar_spine",
              metric="percent_change"),
        trial("b2005", 2005, "MK-4", means=((0.2, 2.5), (-0.9, 0.25)), n=(80, 80), outcome="bmd_lumbar_spine",
              metric="percent_change"),
        trial("c2009", 2009, "MK-7", means=((0.1, 2.0), (-0.2, 0.2)), n=(120, 120), outcome="bmd_lumbar_spine",
              metric="percent_change", amount=180, unit="ug"),
        trial("d2013", 2013, "MK-7", means=((0.5, 2.2), (0.3, 0.2)), n=(90, 90), outcome="bmd_lumbar_spine",
              metric="percent_change", amount=375, unit="ug"),
        trial("e2008", 2008, "K1", means=((-1.2, 2.9), (-1.2, 0.3)), n=(200, 200), outcome="bmd_lumbar_spine",
              metric="percent_change", amount=5),
        trial("f2010", 2010, "K1", means=((0.01, 0.03), (0.0, 0.003)), n=(50, 50), outcome="bmd_lumbar_spine",
              metric="absolute_change", amount=1),
    ]
    monkeypatch.setattr("kbone.evidence.loader.load_records", lambda *a, **k: recs)
    for lang in ("en", "zh"):
        png, svg = tmp_path / f"f_{lang}.png", tmp_path / f"f_{lang}.svg"
        code, out, err = cli("meta", "--outcome", "lumbar spine BMD", "--measure", "MD", "--by", "form",
                             "--plot", png, "--json", "--lang", lang)
        assert code == 0, err
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        code, _, err = cli("meta", "--outcome", "bmd_lumbar_spine", "--by", "form", "--plot", svg, "--lang", lang)
        assert code == 0, err
        assert b"<svg" in svg.read_bytes()[:500]
    rep = json.loads(out)
    assert rep["metric"] == "percent_change" and rep["k"] == 5
    assert any(e["id"].startswith("f2010") and "absolute_change" in e["reason"] for e in rep["excluded"])
    # SD of the control arm came from SE × √n
    es = continuous_effects("MD", [1.0], [3.0], [100], [-1.5], [0.3 * 10], [100])
    a = next(s for s in rep["studies"] if s["id"] == "a2001")
    assert a["yi"] == pytest.approx(es.yi[0]) and a["vi"] == pytest.approx(es.vi[0])
    assert any("SE" in n for n in a["notes"])
    assert {g["group"] for g in rep["subgroups"]["groups"]} == {"MK-4", "MK-7", "K1"}


def test_multi_arm_trial_splits_the_shared_control():
    k1_arm = {"id": "k1", "label": "K1", "role": "intervention", "n_randomized": 100, "source": SRC,
              "intervention": {"form": "K1", "amount": 1, "unit": "mg", "per": "day"}}
    base = trial("binkley2009", 2009, "MK-4", 4, 10, (100, 100), extra_arms=[k1_arm])
    rec = base.model_copy(deep=True)
    o2 = rec.outcomes[0].model_copy(deep=True)
    o2.id = "o2"
    o2.treatment_arm = "k1"
    o2.arm_values = [o2.arm_values[0].model_copy(update={"arm": "k1", "events": 6}), o2.arm_values[1]]
    rec.outcomes.append(o2)
    ex = extract([rec], "fracture_vertebral", "OR")
    assert [s.id for s in ex.studies] == ["binkley2009/vk", "binkley2009/k1"]
    for s in ex.studies:
        assert s.n2i == 50 and s.ci == 5
        assert any("split 2 ways" in n for n in s.notes)


def test_no_trials_for_outcome_is_a_clear_error(cli, monkeypatch, vf_records):
    monkeypatch.setattr("kbone.evidence.loader.load_records", lambda *a, **k: vf_records)
    code, out, err = cli("meta", "--outcome", "hip fracture", "--json")
    assert code == 2
    assert "no trial" in json.loads(out)["problems"][0]["reason"]
    code, out, err = cli("meta", "--outcome", "no_such_outcome", "--json")
    assert code == 2
