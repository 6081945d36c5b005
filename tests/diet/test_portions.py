"""Amounts and portion weights: Chinese numerals and units, USDA household measures, refusals."""

from __future__ import annotations

import pytest

from kbone.diet.foods import load_foods
from kbone.diet.portions import AmountError, grams_for, parse_amount, parse_cn_number


@pytest.fixture(scope="module")
def table():
    return load_foods()


def grams(table, food_id: str, amount: str, unit: str | None = None, name: str | None = None) -> float:
    return grams_for(table, table.get(food_id), parse_amount(amount, unit), name).grams


@pytest.mark.parametrize("text,value", [("一", 1), ("两", 2), ("三", 3), ("十", 10), ("十二", 12), ("二十", 20),
                                        ("二十五", 25), ("一百", 100), ("一百零五", 105), ("一百五", 150),
                                        ("一点五", 1.5), ("三百二十", 320)])
def test_chinese_numerals(text, value):
    assert parse_cn_number(text) == value


@pytest.mark.parametrize("amount,unit,expected", [
    ("二两", None, 100), ("两", None, 50), ("一两", None, 50), ("两两", None, 100), ("十二两", None, 600),
    ("半斤", None, 250), ("一斤", None, 500), ("一斤半", None, 750), ("1.5", "斤", 750), ("100", "g", 100),
    ("100克", None, 100), ("0.2", "公斤", 200), ("0.1 kg", None, 100), ("3", "oz", 3 * 28.349523125),
    ("1", "lb", 453.59237), ("2", "两", 100), ("5钱", None, 25),
])
def test_mass_units(table, amount, unit, expected):
    assert grams(table, "11457", amount, unit) == pytest.approx(expected)


def test_usda_household_measures(table):
    assert grams(table, "11457", "1 cup") == pytest.approx(30)  # SR28: spinach 1 cup = 30 g
    assert grams(table, "11457", "1", "cup") == pytest.approx(30)
    assert grams(table, "20045", "½ cup") == pytest.approx(79)  # cooked rice 1 cup = 158 g
    assert grams(table, "18069", "2 slices") == pytest.approx(58)  # white bread 1 slice = 29 g
    assert grams(table, "09003", "1", "个") == pytest.approx(182)  # apple: 1 medium = 182 g
    assert grams(table, "09003", "1 large") == pytest.approx(223)
    assert grams(table, "09003", "一大个") == pytest.approx(223)  # 大 selects the USDA 'large' measure
    assert grams(table, "11215", "3瓣") == pytest.approx(9)  # garlic clove 3 g
    assert grams(table, "04044", "1", "tbsp") == pytest.approx(13.6)


def test_chinese_vessels_scale_usda_cup(table):
    # 碗 = 250 mL; rice 1 US cup (236.6 mL) = 158 g → 158 × 250 / 236.6
    assert grams(table, "20045", "一碗") == pytest.approx(158 * 250 / 236.6)
    assert grams(table, "20045", "一大碗") == pytest.approx(158 * 250 / 236.6 * 1.5)
    assert grams(table, "01077", "250", "ml") == pytest.approx(250 * 244 / 236.6)  # milk density from USDA cup


def test_food_specific_weights(table):
    assert grams(table, "01123", "一个") == 50  # USDA '1 large' egg
    assert grams(table, "01123", "一个半") == 75
    assert grams(table, "01123", "2") == 100  # a bare count = pieces when the food has a piece weight
    assert grams(table, "16113", "1盒") == 50  # natto pack (assumption)
    assert grams(table, "18069", "1个", name="馒头") == 100  # name-level weight beats the proxy food's


def test_recipe_units(table):
    assert grams(table, "recipe:蒜蓉菠菜", "一盘") == 320
    assert grams(table, "recipe:蒜蓉菠菜", "半盘") == 160
    assert grams(table, "recipe:小米粥", "1碗") == 250
    assert grams(table, "recipe:猪肉白菜饺子", "十个") == 180


def test_assumptions_are_flagged(table):
    p = grams_for(table, table.get("20045"), parse_amount("1碗"))
    assert p.assumption and "250" in p.basis
    p = grams_for(table, table.get("11457"), parse_amount("二两"))
    assert not p.assumption and p.source_id == "cn_metrology_1959"


@pytest.mark.parametrize("amount,unit,fragment", [
    ("-1", "g", "negative"), ("几个", None, "vague"), ("适量", None, "vague"), ("1-2", "碗", "range"),
    ("6", "kg", "implausible"), ("3", "furlong", "unknown unit"), ("", None, "no amount"),
    ("1", "块", "no weight known"), ("100", None, "no unit"),
])
def test_bad_amounts_are_refused(table, amount, unit, fragment):
    with pytest.raises(AmountError) as e:
        grams(table, "11457", amount, unit)
    assert fragment in e.value.reason
    assert e.value.fix


def test_unit_written_twice_is_refused():
    with pytest.raises(AmountError):
        parse_amount("二两", "克")


def test_more_chinese_amounts(table):
    assert grams(table, "11457", "二两半") == pytest.approx(125)
    assert grams(table, "11457", "一两半") == pytest.approx(75)
    assert grams(table, "16126", "一块") == pytest.approx(81 / 0.25)  # tofu: USDA '0.25 block' = 81 g
    assert grams(table, "recipe:清蒸鱼", "半条") == pytest.approx(555 / 2)  # whole steamed fish = one serving
    assert grams(table, "04044", "一勺") == pytest.approx(13.6 * 15 / 14.79)  # 勺 = 15 mL (assumption)
