"""Home-style dishes (家常菜) as recipes: grams of each ingredient per serving (data/foods/recipes.yaml).

A recipe's value per 100 g is the ingredient-weighted sum of the known ingredient values. An ingredient without
a value for a form is listed in ``incomplete`` (the dish value is then a lower bound); if no ingredient has a
value, or the known ones add up to 0 while others are missing, the dish value is ``None`` (never a filled-in 0).
Every recipe is an assumption-based composition and is marked as such.
"""

from __future__ import annotations

import csv

import yaml

from kbone.diet.foods import NUTRIENTS, FoodRecord, FoodTable, _per_gram
from kbone.diet.schema import ALL_FORMS, ValueSource
from kbone.paths import data_path

RECIPE_PREFIX = "recipe:"


def ingredient_names() -> dict[str, str]:
    """Chinese name or alias → food id (ndb_no) for the foods recipes may use."""
    out: dict[str, str] = {}
    with data_path("foods", "names.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["food_id"].startswith(RECIPE_PREFIX):
                continue
            for n in [r["name_zh"], *[a for a in r["aliases_zh"].split("|") if a]]:
                out.setdefault(n, r["food_id"])
    return out


def load_recipe_specs() -> list[dict]:
    doc = yaml.safe_load(data_path("foods", "recipes.yaml").read_text(encoding="utf-8"))
    defaults = doc.get("defaults", {})
    return [{**defaults, **r} for r in doc["recipes"]]


def build_recipe(spec: dict, table: FoodTable, names: dict[str, str]) -> FoodRecord:
    """Turn one recipe spec into a food record (values per 100 g of the dish)."""
    ingredients = []
    for name, grams in spec["ingredients"].items():
        if name not in names:
            raise ValueError(f"recipe {spec['name']}: unknown ingredient {name!r}")
        if grams <= 0:
            raise ValueError(f"recipe {spec['name']}: ingredient {name} must weigh > 0 g")
        ingredients.append((name, names[name], float(grams)))
    total_g = sum(g for _, _, g in ingredients)
    per100: dict[str, float | None] = {}
    incomplete: dict[str, list[str]] = {}
    source_ids: dict[str, set[str]] = {}
    for k in NUTRIENTS:
        known = [(n, fid, g) for n, fid, g in ingredients if table.get(fid).per100[k] is not None]
        missing = [n for n, fid, g in ingredients if table.get(fid).per100[k] is None]
        per100[k] = (sum(table.get(fid).per100[k] * g for _, fid, g in known) / total_g) if known else None
        if k in ALL_FORMS and missing and not per100[k]:
            # the known ingredients give 0 and others have no value: the dish value is unknown, not 0
            per100[k] = None
        if k in ALL_FORMS:
            if missing and known:
                incomplete[k] = missing
            for _, fid, _ in (known if per100[k] is not None else []):
                src = table.get(fid).sources.get(k)
                if src is not None:
                    source_ids.setdefault(k, set()).add(src.source_id)
    sources = {}
    for k, ids in source_ids.items():
        qualities = {table.sources[i]["quality"] for i in ids}
        worst = next((q for q in ("unverified", "approximate", "secondary") if q in qualities), "primary")
        sources[k] = ValueSource(source_id="+".join(sorted(ids)), quality="approximate",
                                 citation="; ".join(table.sources[i]["citation"] for i in sorted(ids)),
                                 basis=f"recipe: ingredient-weighted sum over {total_g:g} g (assumed composition)",
                                 note=f"ingredient values: {worst} and better")
    units = {"serving": total_g}
    for u, g in (spec.get("units") or {}).items():
        units[u] = total_g if g == "serving" else float(g)
    rec = FoodRecord(id=RECIPE_PREFIX + spec["name"], recipe=spec["name"], description=spec["en"],
                     food_group="kbone recipes (assumed composition)", per100=per100, sources=sources,
                     assumption=bool(spec.get("assumption", True)), incomplete=incomplete, units=units,
                     ingredients=ingredients, note=spec.get("note", ""))
    rec.per_gram = _per_gram(per100)
    return rec


def add_recipes(table: FoodTable) -> None:
    names = ingredient_names()
    for spec in load_recipe_specs():
        table.add_recipe(build_recipe(spec, table, names))
