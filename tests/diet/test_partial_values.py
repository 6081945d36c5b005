"""A form is unknown (not 0) when an ingredient or food lacks its value: recipes, days, the mean, JSON and tables."""

from __future__ import annotations

import json

import pytest

from kbone.diet import compute_intake
from kbone.diet.diary import Diary, DiaryLine
from kbone.diet.foods import load_foods
from kbone.diet.schema import ALL_FORMS

SPINACH, OIL, GARLIC, WATER_SPINACH = "11457", "04044", "11215", "11505"


def diary(*rows) -> Diary:
    return Diary([DiaryLine(i + 2, r[0], r[1], r[2], r[3], r[4] if len(r) > 4 else "") for i, r in enumerate(rows)])


def test_input_data_behind_the_bug():
    # the premise, read from the food table: oil's MK-4 is a measured 0, spinach and garlic have none
    t = load_foods()
    assert t.get(OIL).per100["mk4"] == 0
    assert t.get(SPINACH).per100["mk4"] is None and t.get(GARLIC).per100["mk4"] is None


def test_recipe_form_is_unknown_when_only_zeros_are_known():
    dish = load_foods().get("recipe:蒜蓉菠菜")
    assert dish.per100["mk4"] is None           # was 0.0: the oil's 0 alone
    assert set(dish.incomplete["mk4"]) == {"菠菜", "大蒜"}
    assert "mk4" not in dish.sources


def test_no_recipe_reports_zero_for_a_form_an_ingredient_lacks():
    t = load_foods()
    for rec in (f for f in t.foods.values() if f.recipe):
        for form in ALL_FORMS:
            missing = [n for n, fid, _ in rec.ingredients if t.get(fid).per100[form] is None]
            if missing:
                v = rec.per100[form]
                assert v is None or (v > 0 and form in rec.content().partial_forms), (rec.id, form, v)


def test_food_show_json_and_text(cli):
    code, out, _ = cli("food", "show", "蒜蓉菠菜", "--json")
    assert code == 0
    per = json.loads(out)["food"]["per_100g"]
    assert per["mk4"] is None and per["k1"] > 0
    code, out, _ = cli("food", "show", "蒜蓉空心菜", "--json")
    per = json.loads(out)["food"]["per_100g"]
    assert "k1" in per["partial_forms"] and per["k1"] == pytest.approx((10 * 183.9 + 10 * 1.7) / 320, abs=1e-3)
    code, out, _ = cli("food", "show", "蒜蓉菠菜", "--lang", "en")
    mk4_row = next(line for line in out.splitlines() if "MK-4" in line)
    assert "—" in mk4_row and "0.0" not in mk4_row


def test_contributor_day_and_mean_are_marked_partial():
    r = compute_intake(diary(("d1", "午餐", "蒜蓉菠菜", "一盘"), ("d1", "晚餐", "蒜蓉空心菜", "一盘")))
    by = {c.recipe: c for c in r.contributors}
    assert "mk4" in by["蒜蓉菠菜"].amounts.partial and by["蒜蓉菠菜"].amounts.mk4 == 0
    assert "k1" in by["蒜蓉空心菜"].amounts.partial and "total" in by["蒜蓉空心菜"].amounts.partial
    assert "k1" not in by["蒜蓉菠菜"].amounts.partial  # every ingredient has K1
    assert {"k1", "mk4", "total"} <= set(r.mean.partial)
    assert {"k1", "mk4"} <= set(r.days[0].incomplete_forms)
    assert all("mk4" in m.amounts.partial for m in r.meals)


def test_complete_food_is_not_marked():
    r = compute_intake(diary(("d1", "午餐", "cheddar cheese", "100", "g")))
    # cheddar has K1 and MK-4 (SR28) — those are complete
    assert "k1" not in r.mean.partial and "mk4" not in r.mean.partial


def test_tables_show_the_unknown_marker(cli, write_diary):
    p = write_diary("date,meal,food,amount,unit\n2024-05-01,午餐,蒜蓉菠菜,1,盘\n")
    code, out, _ = cli("diet", p, "--lang", "en")
    assert code == 0
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "Top contributors" in line)
    row = next(line for line in lines[start:] if "spinach" in line.lower())
    cells = [c.strip() for c in row.split("│") if c.strip()]
    # food, g, K1, MK-4, MK-7, other MK, total, share
    assert cells[-5:-2] == ["—", "—", "—"] and cells[-2].endswith("*")
    mean = next(line for line in lines if "mean / day" in line)
    mcells = [c.strip() for c in mean.split("│") if c.strip()]
    assert mcells[2] == "—" and mcells[5].endswith("*")   # MK-4 unknown; total a lower bound
    code, out, _ = cli("diet", p, "--json")
    d = json.loads(out)
    assert "mk4" in d["mean"]["partial"] and "mk4" in d["contributors"][0]["amounts"]["partial"]
