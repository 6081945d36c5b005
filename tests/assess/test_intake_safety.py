"""QA fixes: unknown intake forms are null (not 0), VKA alerts for unsteady diaries and high-MK-7 meals, the
suggested example path exists, model estimates and assumptions in the terminal report, Chinese labels."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console

from kbone.assess.intake import IntakeSummary
from kbone.assess.profile import parse_profile
from kbone.assess.report import fmt, render_text
from kbone.assess.rules import SEVERITY_RANK, evaluate, rules
from tests.assess.conftest import EXAMPLES, assessed

REPO = EXAMPLES.parents[1]
DIARY = REPO / "examples" / "diary_zh_3days.csv"
WARFARIN = {"age": 72, "sex": "female", "weight": 55, "medicines": ["warfarin"]}


def test_unknown_forms_are_null_not_zero(cli):
    from kbone.diet.foods import load_foods
    from kbone.diet.names import name_index

    code, out, _ = cli("assess", EXAMPLES / "warfarin_asks_mk7.yaml", "--json", "--no-model")
    assert code == 0
    intake = json.loads(out)["intake"]
    # independent check: none of the profile's foods has an MK-7 value in the food table
    idx, table = name_index(), load_foods()
    for food in ("西兰花", "菠菜"):
        key, entry, _, _ = idx.resolve(food)
        assert table.get(entry.food_id).per100["mk7"] is None
    assert intake["by_form_ug"]["MK-7"] is None and "MK-7" in intake["partial_forms"]
    assert intake["by_form_ug"]["K1"] == pytest.approx(intake["total_ug"])
    assert all(v is None or v > 0 for v in intake["by_form_ug"].values())


def _threshold(rule_id: str, key: str) -> float:
    r = next(r for r in rules() if r.id == rule_id)
    return getattr(r.when, key)


def test_vka_diary_with_natto_day_gets_swing_and_mk7_alerts(cli):
    from kbone.diet import compute_intake

    days = [d.total for d in compute_intake(DIARY).days]
    assert max(days) - min(days) >= _threshold("vka_intake_swing", "intake_range_min_ug")
    code, out, _ = cli("assess", EXAMPLES / "warfarin_asks_mk7.yaml", "--diary", DIARY, "--json", "--no-model")
    assert code == 0
    alerts = json.loads(out)["alerts"]
    ids = [a["id"] for a in alerts]
    assert {"vka_intake_swing", "vka_high_mk7_food"} <= set(ids)
    ranks = [SEVERITY_RANK[a["severity"]] for a in alerts]
    assert ranks == sorted(ranks)
    swing = alerts[ids.index("vka_intake_swing")]
    assert swing["severity"] in ("major", "moderate")
    assert any(f"{min(days):.0f}-{max(days):.0f}" in t["name"] for t in swing["triggered_by"])
    assert any(n["en"].startswith("Assumption:") for n in swing["notes"])  # the threshold is not sourced
    mk7 = alerts[ids.index("vka_high_mk7_food")]
    assert any("纳豆" in t["name"] for t in mk7["triggered_by"])
    assert {"khan2004", "sconce2007"} <= set(swing["records"]) and "schurgers2007" in mk7["records"]


def test_diary_alerts_only_for_vka_users(cli):
    code, out, _ = cli("assess", EXAMPLES / "doac_user.yaml", "--diary", DIARY, "--json", "--no-model")
    ids = {a["id"] for a in json.loads(out)["alerts"]}
    assert code == 0 and not ids & {"vka_intake_swing", "vka_high_mk7_food"}


@pytest.mark.parametrize("days, fires", [([100.0, 349.0], False), ([100.0, 350.0], True), ([300.0], False),
                                         ([200.0, 210.0, 205.0], False)])
def test_swing_threshold_boundary(days, fires):
    thr = _threshold("vka_intake_swing", "intake_range_min_ug")
    assert thr == 250
    intake = IntakeSummary(available=True, basis="diary", daily_totals_ug=days)
    got = "vka_intake_swing" in [a.id for a in evaluate(parse_profile(WARFARIN), intake=intake)]
    assert got is fires


@pytest.mark.parametrize("mk7, fires", [(49.9, False), (50.0, True), (None, False)])
def test_mk7_meal_threshold_boundary(mk7, fires):
    intake = IntakeSummary(available=True, basis="diary", max_meal_mk7_ug=mk7, max_meal_mk7_food="纳豆")
    got = "vka_high_mk7_food" in [a.id for a in evaluate(parse_profile(WARFARIN), intake=intake)]
    assert got is fires


def test_missing_profile_suggests_a_file_that_exists(cli):
    code, out, err = cli("assess", "--json")
    assert code == 2
    paths = re.findall(r"examples/\S+\.yaml", out + err)
    assert paths and all((REPO / p).is_file() for p in paths)


def _text(a, lang: str) -> str:
    buf = io.StringIO()
    render_text(a, lang, Console(file=buf, width=200, color_system=None))
    return buf.getvalue()


def test_text_report_has_model_estimates_and_assumptions():
    a = assessed("warfarin_asks_mk7.yaml", model=True)
    assert a.status.ucoc is not None and a.status.inr_per_100ug is not None
    for lang in ("en", "zh"):
        out = _text(a, lang)
        assert fmt(a.status.ucoc.central) in out and fmt(a.status.ucoc.high) in out
        assert fmt(a.status.inr_per_100ug.central) in out
        for p in a.status.projections:
            assert fmt(p.points[-1].central) in out
        for x in a.assumptions:
            assert x(lang)[:30] in out
    assert "Model estimates" in _text(a, "en") and "模型估计" in _text(a, "zh")


@pytest.mark.parametrize("name, zh, en", [("osteoporosis_osta_high.yaml", "高风险", "high"),
                                          ("warfarin_asks_mk7.yaml", "低风险", "low")])
def test_osta_risk_in_chinese(name, zh, en):
    a = assessed(name)
    assert a.screening.osta.risk == en
    out = _text(a, "zh")
    assert f"→ {zh}" in out and f"→ {en}" not in out
    assert f"→ {en} risk" in _text(a, "en")


def test_text_intake_marks_unknown_forms():
    out = _text(assessed("warfarin_asks_mk7.yaml"), "en")
    line = next(x for x in out.splitlines() if x.startswith("Intake"))
    assert "—" in line and " 0 " not in line and "* lower bound" in out
