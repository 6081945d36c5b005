"""Food table: SR28 values, literature menaquinones, recipes — provenance kept, missing never 0."""

from __future__ import annotations

import csv

import pytest

from kbone.diet.foods import load_foods
from kbone.paths import data_path


@pytest.fixture(scope="module")
def table():
    return load_foods()


def test_spinach_k1_is_the_usda_value(table):
    spinach = table.get("11457")
    assert spinach.description == "Spinach, raw"
    assert spinach.per100["k1"] == pytest.approx(482.9)  # USDA SR28, nutrient 430
    assert spinach.sources["k1"].source_id == "usda_sr28"


def test_natto_mk7_is_kamao_2007_primary(table):
    natto = table.get("16113")
    assert natto.per100["mk7"] == pytest.approx(939.0)  # Kamao 2007, 939 µg/100 g
    src = natto.sources["mk7"]
    assert src.source_id == "kamao2007" and src.quality == "primary"
    assert "Kamao" in src.citation
    # the rounded secondary value is kept as an alternative, not used
    alts = table.alternatives("16113")
    assert any(a["form"] == "mk7" and float(a["ug_per_100g"]) == 1000 and a["quality"] == "secondary" for a in alts)


def test_missing_values_stay_missing(table):
    """Every empty SR28 cell stays None; none becomes 0."""
    with data_path("foods", "sr28_foods.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    empty_k1 = {r["ndb_no"] for r in rows if not r["phylloquinone_ug_per_100g"]}
    zero_k1 = {r["ndb_no"] for r in rows if r["phylloquinone_ug_per_100g"] and float(r["phylloquinone_ug_per_100g"]) == 0}
    assert len(empty_k1) == 8789 - 5226  # README: phylloquinone for 5,226 foods
    assert all(table.get(n).per100["k1"] is None for n in empty_k1)
    assert all(table.get(n).per100["k1"] == 0.0 for n in zero_k1)
    # water spinach (空心菜) has no K1 in SR28
    assert table.get("11503").per100["k1"] is None
    # SR28 has no MK-7 at all: only literature foods carry one
    with_mk7 = [f.id for f in table.foods.values() if f.per100["mk7"] is not None and not f.recipe]
    assert with_mk7 == ["16113"]


def test_every_literature_value_has_source_and_quality(table):
    allowed = {"primary", "secondary", "approximate"}
    for r in table.literature:
        assert r["quality"] in allowed
        assert r["source_id"] in table.sources
        assert r["basis"]
    chosen = [(r["ndb_no"], r["form"]) for r in table.literature if r["chosen"] == "yes"]
    assert len(chosen) == len(set(chosen)), "one chosen value per food and form"


def test_derived_dairy_value_arithmetic(table):
    # cheddar: Fu 2017 hard-cheese total 282 − SR28 K1 2.4 − SR28 MK-4 8.6 = 271
    cheddar = table.get("01009")
    assert cheddar.per100["mk_other"] == pytest.approx(282 - 2.4 - 8.6)
    assert cheddar.sources["mk_other"].quality == "approximate"
    assert cheddar.per100["mk4"] == pytest.approx(8.6) and cheddar.sources["mk4"].source_id == "usda_sr28"
    # whole egg MK-4 = yolk 31 × 17 g / 50 g
    assert table.get("01123").per100["mk4"] == pytest.approx(31 * 17 / 50)


def test_recipe_composition_hand_computed(table):
    # 蒜蓉菠菜 = spinach 300 g (482.9) + soybean oil 10 g (183.9) + garlic 10 g (1.7) per 320 g
    dish = table.get("recipe:蒜蓉菠菜")
    assert dish.assumption
    assert dish.units["serving"] == 320
    assert dish.per100["k1"] == pytest.approx((300 * 482.9 + 10 * 183.9 + 10 * 1.7) / 320)
    assert dish.per100["fat_g"] == pytest.approx((300 * 0.39 + 10 * 100 + 10 * 0.5) / 320)


def test_recipe_with_unknown_ingredient_is_a_lower_bound(table):
    # water spinach has no K1: the dish counts oil + garlic only and names the missing ingredient
    dish = table.get("recipe:蒜蓉空心菜")
    assert dish.per100["k1"] == pytest.approx((10 * 183.9 + 10 * 1.7) / 320)
    assert dish.incomplete["k1"] == ["空心菜"]


def test_at_least_300_chinese_food_names():
    with data_path("foods", "names.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len({r["name_zh"] for r in rows}) >= 300
    assert sum(r["food_id"].startswith("recipe:") for r in rows) >= 50


def test_form_keys_map_to_vocabulary_ids():
    from kbone.diet.schema import FORM_VOCAB
    from kbone.vocab import vocab

    for key, form_id in FORM_VOCAB.items():
        assert vocab().has("form", form_id), key
