"""The shipped evidence base: valid, complete for the named studies, numbers traceable to sources."""

import json
from pathlib import Path

import pytest

from kbone.evidence.loader import load_records, validate_path

HERE = Path(__file__).parent
SHARED_TRIALS = HERE.parents[1].parent / "shared" / "research" / "trials.yaml"
SEED_STUDIES = ["je2011", "hirao2008", "braam2003", "cheung2008", "shiraki2000", "jos2006_guideline"]
RETRACTED = ["sato1998", "sato2002", "sato2005", "iwamoto2009"]


@pytest.fixture(scope="module")
def records():
    return {r.id: r for r in load_records()}


def test_shipped_base_validates_with_no_problems():
    recs, problems = validate_path()
    assert problems == []
    assert len(recs) >= 60


def test_trials_yaml_ids_list_is_current():
    if not SHARED_TRIALS.exists():
        pytest.skip("shared/research/trials.yaml not beside the repo")
    import yaml

    ids = [t["id"] for t in yaml.safe_load(SHARED_TRIALS.read_text(encoding="utf-8"))]
    assert ids == (HERE / "trials_yaml_ids.txt").read_text().split()


def test_every_trials_yaml_and_seed_study_is_present(records):
    wanted = (HERE / "trials_yaml_ids.txt").read_text().split() + SEED_STUDIES
    missing = [i for i in wanted if i not in records]
    assert missing == []


def test_retracted_records(records):
    for rid in RETRACTED:
        rec = records[rid]
        assert rec.integrity.status == "retracted", rid
        assert any(e.status == "retracted" and e.source for e in rec.integrity.events), rid


def test_every_outcome_and_n_has_a_source(records):
    for rec in records.values():
        for o in rec.outcomes:
            assert o.source.url or o.source.pmid or o.source.doi, (rec.id, o.id)
            assert o.source.location
        for a in rec.arms:
            if a.n_randomized:
                assert a.source is not None, (rec.id, a.id)


def test_seed_studies_carry_their_seed_mentions(records):
    for rid in SEED_STUDIES:
        assert records[rid].seed_mentions, rid


def test_braam_femoral_neck_difference_and_discrepancy(cli):
    code, out, _ = cli("evidence", "show", "braam2003", "--json")
    assert code == 0
    data = json.loads(out)
    fn = [o for o in data["outcomes"] if o["outcome"] == "bmd_femoral_neck" and o["control_arm"] == "placebo"][0]
    assert (fn["effect"]["value"], fn["effect"]["ci_lower"], fn["effect"]["ci_upper"]) == (1.7, 0.35, 3.44)
    assert fn["source"]["location"] and (fn["source"].get("url") or fn["source"].get("pmid"))
    assert any("femoral neck" in d["source_says"] for d in data["seed_discrepancies"])
