"""The food table: USDA SR28 vitamin K values, literature menaquinones and kbone recipes, with provenance.

Values are µg per 100 g of food (fat g/100 g, energy kcal/100 g). A value the data do not have stays ``None``.
Built tables live in ``kbone/data/foods`` (see its README and ``scripts/build_foods.py``).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from kbone.diet.schema import ALL_FORMS, FORMS, FoodContent, ValueSource
from kbone.paths import data_path

NUTRIENTS: tuple[str, ...] = (*ALL_FORMS, "fat_g", "energy_kcal")
_SR28_COLS = {"k1": "phylloquinone_ug_per_100g", "mk4": "menaquinone4_ug_per_100g",
              "dihydro_k1": "dihydrophylloquinone_ug_per_100g", "fat_g": "fat_g_per_100g",
              "energy_kcal": "energy_kcal_per_100g"}
NAN = math.nan


def _num(text: str) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


@dataclass(slots=True)
class FoodRecord:
    """One food: per-100 g values (None = unknown) and the source of each vitamin K value."""

    id: str
    description: str
    food_group: str
    per100: dict[str, float | None]
    sources: dict[str, ValueSource]
    ndb_no: str | None = None
    recipe: str | None = None
    assumption: bool = False
    #: recipes: form → names of ingredients without a value for that form
    incomplete: dict[str, list[str]] = field(default_factory=dict)
    #: recipes: unit text → grams (碗, 个 …); serving grams under "serving"
    units: dict[str, float] = field(default_factory=dict)
    ingredients: list[tuple[str, str, float]] = field(default_factory=list)  # (name, food id, grams)
    note: str = ""
    #: per-gram vector over NUTRIENTS, NaN for unknown (fast path for intake sums)
    per_gram: tuple[float, ...] = ()

    def content(self) -> FoodContent:
        known = [self.per100[f] for f in FORMS if self.per100[f] is not None]
        partial = [f for f in ALL_FORMS if f in self.incomplete and self.per100[f] is not None]
        return FoodContent(**{k: self.per100[k] for k in NUTRIENTS}, total_known=round(sum(known), 4),
                           partial_forms=partial)

    def unknown_forms(self) -> list[str]:
        return [f for f in ALL_FORMS if self.per100[f] is None]


@dataclass(slots=True)
class Portion:
    amount: float
    description: str
    grams: float


class FoodTable:
    """All foods by id (ndb_no, or ``recipe:NAME``), their USDA portions and the source registry."""

    def __init__(self) -> None:
        self.sources: dict[str, dict] = yaml.safe_load(
            data_path("foods", "sources.yaml").read_text(encoding="utf-8"))["sources"]
        self.foods: dict[str, FoodRecord] = {}
        self.portions: dict[str, list[Portion]] = {}
        self.literature: list[dict] = []
        self._load_sr28()
        self._load_menaquinones()
        self._load_portions()

    # ---- loading -----------------------------------------------------------------------------------------------
    def source(self, source_id: str, quality: str | None = None, basis: str = "", note: str = "") -> ValueSource:
        s = self.sources[source_id]
        return ValueSource(source_id=source_id, quality=quality or s["quality"], citation=s["citation"],
                           basis=basis, note=note)

    def _load_sr28(self) -> None:
        sr28 = self.source("usda_sr28")
        with data_path("foods", "sr28_foods.csv").open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                per100: dict[str, float | None] = {k: _num(r[c]) for k, c in _SR28_COLS.items()}
                per100["mk7"] = None
                per100["mk_other"] = None
                srcs = {f: sr28 for f in ("k1", "mk4", "dihydro_k1") if per100[f] is not None}
                self.foods[r["ndb_no"]] = FoodRecord(id=r["ndb_no"], ndb_no=r["ndb_no"], description=r["description"],
                                                     food_group=r["food_group"], per100=per100, sources=srcs)

    def _load_menaquinones(self) -> None:
        with data_path("foods", "menaquinones.csv").open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        self.literature = rows
        for r in rows:
            if r["chosen"] != "yes":
                continue
            food = self.foods[r["ndb_no"]]
            form = r["form"]
            if food.per100[form] is not None:
                raise ValueError(f"menaquinones.csv: {r['ndb_no']} {form} already has a value")
            food.per100[form] = float(r["ug_per_100g"])
            food.sources[form] = self.source(r["source_id"], r["quality"], r["basis"], r["note"])
        for food in self.foods.values():
            food.per_gram = _per_gram(food.per100)

    def _load_portions(self) -> None:
        with data_path("foods", "sr28_portions.csv").open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                self.portions.setdefault(r["ndb_no"], []).append(
                    Portion(float(r["amount"]), r["unit_description"], float(r["gram_weight"])))

    def add_recipe(self, rec: FoodRecord) -> None:
        self.foods[rec.id] = rec

    # ---- access ------------------------------------------------------------------------------------------------
    def get(self, food_id: str) -> FoodRecord:
        return self.foods[food_id]

    def __contains__(self, food_id: str) -> bool:
        return food_id in self.foods

    def alternatives(self, ndb_no: str) -> list[dict]:
        """Literature menaquinone values for a food that were read but not chosen (sources disagree)."""
        return [r for r in self.literature if r["ndb_no"] == ndb_no and r["chosen"] != "yes"]


def _per_gram(per100: dict[str, float | None]) -> tuple[float, ...]:
    return tuple(NAN if per100[k] is None else per100[k] / 100.0 for k in NUTRIENTS)


@lru_cache(maxsize=1)
def load_foods() -> FoodTable:
    """The shipped food table with recipes added (loaded once per process)."""
    from kbone.diet.recipes import add_recipes

    table = FoodTable()
    add_recipes(table)
    return table
