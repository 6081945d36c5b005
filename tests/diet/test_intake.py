"""Intake by form from diaries: hand-computed values, unknown values, errors, PK time series, food frequency."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbone.diet import compute_frequency, compute_intake, daily_doses, dose_events
from kbone.diet.diary import Diary, DiaryLine
from kbone.diet.schema import FORMS, Profile
from kbone.errors import KboneInputError

from .conftest import EXAMPLES


def diary(*rows) -> Diary:
    """rows: (date, meal, food, amount[, unit])."""
    return Diary([DiaryLine(i + 2, r[0], r[1], r[2], r[3], r[4] if len(r) > 4 else "") for i, r in enumerate(rows)])


def test_100g_raw_spinach_is_482_9_ug_k1():
    r = compute_intake(diary(("2024-05-01", "午餐", "菠菜", "100", "g")))
    assert r.days[0].k1 == pytest.approx(482.9)
    assert r.days[0].total == pytest.approx(482.9)
    assert r.mean.k1 == pytest.approx(482.9)


def test_50g_natto_gives_kamao_mk7_with_source():
    r = compute_intake(diary(("2024-05-01", "晚餐", "纳豆", "50", "g")))
    assert r.days[0].mk7 == pytest.approx(939 * 0.5)
    natto = r.contributors[0]
    assert natto.sources["mk7"].source_id == "kamao2007" and natto.sources["mk7"].quality == "primary"
    assert "kamao2007" in r.sources


def test_hand_computed_mixed_day():
    # 二两 spinach (100 g), 1 large egg (50 g), 1 tbsp soybean oil (13.6 g), 二两 of 蒜蓉菠菜 (100 g)
    r = compute_intake(diary(("2024-05-01", "早餐", "菠菜", "二两"), ("2024-05-01", "早餐", "鸡蛋", "1个"),
                             ("2024-05-01", "午餐", "大豆油", "1", "tbsp"), ("2024-05-01", "午餐", "蒜蓉菠菜", "二两")))
    dish_k1 = (300 * 482.9 + 10 * 183.9 + 10 * 1.7) / 320  # per 100 g
    k1 = 482.9 + 0.5 * 0.3 + 0.136 * 183.9 + dish_k1
    assert r.days[0].k1 == pytest.approx(k1)
    # MK-4: egg 50 g × 10.54/100 (yolk value scaled) + oil 0 + spinach unknown
    assert r.days[0].mk4 == pytest.approx(0.5 * 31 * 17 / 50)
    assert "mk4" in r.days[0].incomplete_forms  # spinach has no MK-4 value
    # fat per meal: breakfast = spinach 0.39 + egg 0.5 × 9.51
    bf = next(m for m in r.meals if m.meal == "breakfast")
    assert bf.fat_g == pytest.approx(0.39 + 0.5 * 9.51)
    assert bf.low_fat  # < 8.8 g with ≥ 10 µg vitamin K
    lunch = next(m for m in r.meals if m.meal == "lunch")
    assert not lunch.low_fat


def test_amount_written_in_the_food_cell():
    r = compute_intake(diary(("d1", "早餐", "一碗小米粥", ""), ("d1", "早餐", "一个鸡蛋", ""),
                             ("d1", "午饭", "蒜蓉菠菜 二两", ""), ("d1", "晚饭", "2 eggs", "")))
    grams = {c.name_zh: c.grams for c in r.contributors}
    assert grams == {"小米粥": 250, "鸡蛋": 150, "蒜蓉菠菜": 100}


def test_unknown_values_are_listed_not_zeroed():
    r = compute_intake(diary(("d1", "午餐", "空心菜", "200", "g"), ("d1", "午餐", "菠菜", "100", "g")))
    assert r.days[0].k1 == pytest.approx(482.9)  # 空心菜 K1 unknown: not counted
    u = next(u for u in r.unknown if u.name_zh == "空心菜")
    assert "k1" in u.forms
    assert "k1" in r.days[0].incomplete_forms
    comp = {c.reference.authority: c.intake_complete for c in r.reference}
    assert comp["EU"] is False


def test_recipe_with_missing_ingredient_is_flagged():
    r = compute_intake(diary(("d1", "午餐", "蒜蓉空心菜", "一盘")))
    u = r.unknown[0]
    assert u.partial_forms["k1"] == ["空心菜"]


def test_unknown_food_stops_with_line_and_suggestions():
    with pytest.raises(KboneInputError) as e:
        compute_intake(diary(("d1", "午餐", "菠菜", "100", "g"), ("d1", "午餐", "qwertyuiop", "100", "g"),
                             ("d1", "午餐", "火星菜", "100", "g")))
    probs = e.value.problems
    assert [p.line for p in probs] == [3, 4]
    assert all(p.field == "food" for p in probs)
    last = probs[-1]
    assert "火星菜" in last.reason and last.suggestions


def test_skip_unknown_lists_what_was_skipped():
    r = compute_intake(diary(("d1", "午餐", "菠菜", "100", "g"), ("d1", "午餐", "火星菜", "100", "g")),
                       skip_unknown=True)
    assert r.days[0].k1 == pytest.approx(482.9)
    assert [(s.line, s.food) for s in r.skipped] == [(3, "火星菜")]


@pytest.mark.parametrize("amount,unit,fragment", [("-5", "g", "negative"), ("6", "kg", "implausible"),
                                                  ("3", "furlong", "unknown unit"), ("", "", "no amount")])
def test_bad_amounts_stop_with_reason(amount, unit, fragment):
    with pytest.raises(KboneInputError) as e:
        compute_intake(diary(("d1", "午餐", "菠菜", amount, unit)))
    p = e.value.problems[0]
    assert p.field == "amount" and p.line == 2 and fragment in p.reason


def test_skip_unknown_does_not_hide_bad_amounts():
    with pytest.raises(KboneInputError):
        compute_intake(diary(("d1", "午餐", "菠菜", "-1", "g")), skip_unknown=True)


def test_days_means_and_pk_series():
    r = compute_intake(diary(("2024-05-01", "早餐", "菠菜", "100", "g"), ("2024-05-03", "晚餐", "纳豆", "50", "g")))
    assert [(d.date, d.day_index) for d in r.days] == [("2024-05-01", 0), ("2024-05-03", 2)]
    assert r.mean.k1 == pytest.approx((482.9 + 0.5 * 23.1) / 2)
    doses = daily_doses(r)
    assert [(d.day_index, d.mk7) for d in doses] == [(0, 0.0), (2, pytest.approx(469.5))]
    ev = dose_events(r)
    mk7 = [e for e in ev if e.form == "MK-7"]
    assert len(mk7) == 1 and mk7[0].time_h == pytest.approx(2 * 24 + 18.5) and mk7[0].amount_ug == pytest.approx(469.5)
    assert {e.form for e in ev} <= {"K1", "MK-4", "MK-7", "MK-n"}


def test_food_frequency():
    r = compute_frequency([{"food": "菠菜", "servings_per_week": 7, "serving": "二两"},
                           {"food": "纳豆", "servings_per_week": 2, "serving": "1盒"},
                           {"food": "鸡蛋", "servings_per_week": 7}], profile=Profile(sex="female", age=60))
    assert r.basis == "frequency"
    assert r.mean.k1 == pytest.approx(482.9 + 2 / 7 * 50 * 0.231 + 50 * 0.003, abs=1e-3)
    assert r.mean.mk7 == pytest.approx(2 / 7 * 469.5, abs=1e-3)
    us = next(c for c in r.reference if c.reference.authority == "US")
    assert us.reference.value_ug == 90 and us.intake_ug == pytest.approx(r.mean.total, abs=0.01)
    with pytest.raises(KboneInputError):
        compute_frequency([{"food": "火星菜", "servings_per_week": 1}])


def test_example_chinese_diary_parses_without_mapping():
    r = compute_intake(EXAMPLES / "diary_zh_3days.csv")
    assert r.n_days == 3 and not r.skipped
    assert len(r.matches) >= 25
    by = {c.name_zh: c for c in r.contributors}
    assert by["小米粥"].recipe == "小米粥" and by["蒜蓉菠菜"].grams == pytest.approx(100 / 3, abs=1e-3)
    assert by["鸡蛋"].grams == pytest.approx(50 / 3, abs=1e-3)
    assert r.mean.total > 0 and r.mean.mk7 == pytest.approx(469.5 / 3, abs=1e-3)


def test_example_english_diary():
    r = compute_intake(EXAMPLES / "diaries" / "diary_en_3days.yaml")
    assert r.n_days == 3 and not r.skipped
    assert all(m.method in ("exact", "fuzzy", "pinyin") for m in r.matches)


# ---- properties --------------------------------------------------------------------------------------------------
FOODS = ["菠菜", "纳豆", "鸡蛋", "牛奶", "蒜蓉菠菜", "西兰花", "切达奶酪", "米饭", "空心菜", "大豆油"]


def _totals(r):
    return [getattr(r.mean, f) for f in (*FORMS, "total", "dihydro_k1")]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=st.sampled_from(FOODS), b=st.sampled_from(FOODS),
       ga=st.floats(0, 2000, allow_nan=False), gb=st.floats(0, 2000, allow_nan=False))
def test_intake_is_additive(a, b, ga, gb):
    both = compute_intake(diary(("d1", "午餐", a, f"{ga:.3f}", "g"), ("d1", "晚餐", b, f"{gb:.3f}", "g")))
    one = compute_intake(diary(("d1", "午餐", a, f"{ga:.3f}", "g")))
    two = compute_intake(diary(("d1", "晚餐", b, f"{gb:.3f}", "g")))
    for x, y, z in zip(_totals(both), _totals(one), _totals(two), strict=True):
        assert x == pytest.approx(y + z, abs=2e-3)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(food=st.sampled_from(FOODS), g=st.floats(1, 1000, allow_nan=False), k=st.integers(2, 5))
def test_intake_scales_linearly_with_amount(food, g, k):
    base = compute_intake(diary(("d1", "午餐", food, f"{g:.3f}", "g")))
    scaled = compute_intake(diary(("d1", "午餐", food, f"{g * k:.3f}", "g")))
    for x, y in zip(_totals(scaled), _totals(base), strict=True):
        assert x == pytest.approx(k * y, rel=1e-3, abs=5e-3)


def test_free_form_chinese_lines():
    r = compute_intake(diary(("5月1日", "早饭", "两片面包", ""), ("5月1日", "午饭", "一勺油", ""),
                             ("5月1日", "午饭", "蒜蓉茼蒿", "二两半"), ("5月2日", "晚饭", "3个饺子", "")))
    grams = {c.name_zh: c.grams * r.n_days for c in r.contributors}
    assert grams["面包"] == pytest.approx(58, abs=1e-2)
    assert grams["调和油"] == pytest.approx(13.6 * 15 / 14.79, abs=1e-2)
    assert grams["蒜蓉茼蒿"] == pytest.approx(125, abs=1e-2)
    assert grams["猪肉白菜饺子"] == pytest.approx(54, abs=1e-2)
    assert [d.day_index for d in r.days] == [0, 1]


def test_english_csv_and_yaml_examples_agree():
    csv_r = compute_intake(EXAMPLES / "diary_en_3days.csv")
    yaml_r = compute_intake(EXAMPLES / "diaries" / "diary_en_3days.yaml")
    assert csv_r.n_lines == yaml_r.n_lines == 31
    for f in (*FORMS, "total"):
        assert getattr(csv_r.mean, f) == pytest.approx(getattr(yaml_r.mean, f), abs=1e-3)
