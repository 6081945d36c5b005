"""Design files: schema, bad input → exit 2 naming the field, extrapolation warnings."""

from __future__ import annotations

import json

import pytest
import yaml

GOOD = {
    "name": "t", "population": {"terms": ["postmenopausal", "osteopenic"], "region": "western"},
    "n_per_arm": 100, "duration_weeks": 104, "intervention": {"form": "MK-7", "amount": 180, "unit": "ug"},
    "outcome": "bmd", "site": "lumbar_spine", "dropout": 0.1,
}


def _write(tmp_path, **changes):
    d = json.loads(json.dumps(GOOD))
    for k, v in changes.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    p = tmp_path / "design.yaml"
    p.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    return p


@pytest.mark.parametrize("changes, field", [
    ({"site": "elbow"}, "site"),
    ({"n_per_arm": 0}, "n_per_arm"),
    ({"n_per_arm": -5}, "n_per_arm"),
    ({"duration_weeks": 0}, "duration_weeks"),
    ({"intervention": {"form": "MK-7", "amount": 50, "unit": "mg"}}, "intervention.amount"),
    ({"intervention": {"form": "K1", "amount": 0.01, "unit": "ug"}}, "intervention.amount"),
    ({"intervention": {"form": "MK-9", "amount": 50, "unit": "ug"}}, "intervention.form"),
    ({"outcome": "fracture_hip", "site": None}, "control_risk"),
    ({"population": {"terms": ["martians"]}}, "population.terms"),
    ({"dropout": 1.2}, "dropout"),
])
def test_bad_designs_exit_2_naming_the_field(cli, tmp_path, changes, field):
    code, out, _ = cli("trial", "simulate", str(_write(tmp_path, **changes)), "--replicates", "10", "--json")
    assert code == 2
    problems = json.loads(out)["problems"]
    assert field in [p["field"] for p in problems], problems


def test_missing_file_and_bad_yaml_exit_2(cli, tmp_path):
    code, out, _ = cli("trial", "power", str(tmp_path / "nope.yaml"), "--json")
    assert code == 2 and json.loads(out)["problems"][0]["field"] == "DESIGN"
    p = tmp_path / "bad.yaml"
    p.write_text("n_per_arm: [1,\n", encoding="utf-8")
    code, _, _ = cli("trial", "power", str(p), "--json")
    assert code == 2


def test_unknown_exclude_study_exit_2(cli, tmp_path):
    code, out, _ = cli("trial", "simulate", str(_write(tmp_path)), "--exclude-study", "cheung2009", "--json")
    assert code == 2
    pr = json.loads(out)["problems"][0]
    assert pr["field"] == "--exclude-study" and "cheung2008" in pr["suggestions"]


def test_extrapolation_is_warned_not_hidden(cli, tmp_path):
    code, out, _ = cli("trial", "simulate", str(_write(tmp_path, duration_weeks=400, co_interventions=["bisphosphonate"])),
                       "--replicates", "20", "--json")
    assert code == 0
    warns = " ".join(json.loads(out)["warnings"])
    assert "400 weeks is longer than any fitted BMD result" in warns
    assert "'bisphosphonate'" in warns


def test_schema_is_json_schema_of_the_design(cli):
    code, out, _ = cli("trial", "schema")
    assert code == 0
    s = json.loads(out)
    assert {"n_per_arm", "duration_weeks", "intervention", "site", "dropout"} <= set(s["properties"])
    assert s["properties"]["n_per_arm"]["exclusiveMinimum"] == 0


def test_synonyms_in_chinese_are_accepted(cli, tmp_path):
    p = _write(tmp_path, population={"terms": ["绝经后", "骨量减少"], "country": "CN"},
               intervention={"form": "维生素K1", "amount": 1, "unit": "mg"})
    code, out, _ = cli("trial", "simulate", str(p), "--replicates", "20", "--json")
    assert code == 0, out
    d = json.loads(out)
    assert d["context"]["form"] == "K1" and d["context"]["region"] == "asian"
