"""``kbone food search|show`` and ``kbone diet DIARY``: foods, portions and vitamin K intake (zh / en)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kbone.errors import KboneInputError, Problem
from kbone.i18n import norm_lang, pick
from kbone.output import console, emit_json, err_console

food_app = typer.Typer(no_args_is_help=True, help="Foods and their vitamin K / 食物及其维生素K含量.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
LangOpt = Annotated[str | None, typer.Option("--lang", help="zh or en (default: KBONE_LANG or locale).")]


def register(app: typer.Typer) -> None:
    """Add ``food`` (group) and ``diet`` (command) to the root app."""
    app.add_typer(food_app, name="food")
    app.command("diet")(diet_cmd)


@food_app.command("search")
def search_cmd(
    query: Annotated[str, typer.Argument(metavar="NAME", help="Food name: 菠菜, 菠菜 (traditional), bocai, spinach …")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="Number of candidates.")] = 10,
    as_json: JsonOpt = False, lang: LangOpt = None,
) -> None:
    """Find foods by name (Chinese, pinyin, English; typos allowed). / 按名称查找食物。"""
    from kbone.diet.names import search_foods
    from kbone.diet.render import candidates_table

    lang = norm_lang(lang)
    cands = search_foods(query, limit)
    if as_json:
        emit_json({"query": query, "unit": "µg per 100 g", "candidates": cands})
        return
    if not cands:
        console.print(pick(f"No food matches {query!r}.", f"没有与“{query}”匹配的食物。", lang))
        return
    console.print(candidates_table(query, cands, lang))


@food_app.command("show")
def show_cmd(
    food: Annotated[str, typer.Argument(metavar="FOOD", help="ndb_no (11457), a recipe (蒜蓉菠菜) or a food name.")],
    as_json: JsonOpt = False, lang: LangOpt = None,
) -> None:
    """Show a food's vitamin K values with every source, its portions or recipe. / 显示食物详情及来源。"""
    from kbone.diet.foods import load_foods
    from kbone.diet.names import name_index
    from kbone.diet.render import food_detail

    lang = norm_lang(lang)
    idx, table = name_index(), load_foods()
    key, entry, score, method = idx.resolve(food)
    if key is None:
        raise KboneInputError(Problem(field="food", reason=f"unknown or ambiguous food {food!r}",
                                      fix="use `kbone food search` to find the name",
                                      suggestions=[(c.name_zh or c.description) for c in entry[:5]]))
    cand = idx.candidate(key, score, food, method)
    rec = table.get(cand.food_id)
    alts = table.alternatives(rec.ndb_no) if rec.ndb_no else []
    portions = table.portions.get(rec.ndb_no or "", [])
    if as_json:
        emit_json({"food": cand, "alternatives": alts,
                   "portions": [{"amount": p.amount, "unit_description": p.description, "gram_weight": p.grams}
                                for p in portions],
                   "recipe": [{"ingredient": n, "ndb_no": f, "grams": g} for n, f, g in rec.ingredients]})
        return
    console.print(food_detail(cand, alts, portions, rec.ingredients, lang))


def diet_cmd(
    diary: Annotated[Path, typer.Argument(metavar="DIARY", help="Food diary, .csv or .yaml (date, meal, food, amount, unit).")],
    as_json: JsonOpt = False, lang: LangOpt = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a bar chart (.png/.svg/.pdf).")] = None,
    skip_unknown: Annotated[bool, typer.Option("--skip-unknown", help="Skip unknown foods (and list them) instead of stopping.")] = False,
    sex: Annotated[str | None, typer.Option("--sex", help="male | female (男/女); default: show both.")] = None,
    age: Annotated[float | None, typer.Option("--age", help="Age in years (default: adult).")] = None,
    weight: Annotated[float | None, typer.Option("--weight", help="Body weight in kg (EFSA: 1 µg/kg).")] = None,
    stage: Annotated[str, typer.Option("--stage", help="general | pregnancy | lactation")] = "general",
    authority: Annotated[str | None, typer.Option("--authority", help="Comma list of CN,US,EU,JP,WHO (default all).")] = None,
    top: Annotated[int, typer.Option("--top", help="Contributors shown in the table.")] = 10,
) -> None:
    """Vitamin K intake of a food diary by form, against reference intakes. / 根据膳食记录计算维生素K摄入量。"""
    from kbone.diet.intake import compute_intake
    from kbone.diet.render import intake_report
    from kbone.diet.schema import Profile

    lang = norm_lang(lang)
    profile = Profile(age=_age(age), sex=_sex(sex), weight_kg=_weight(weight), stage=_stage(stage))
    auths = [a.strip() for a in authority.split(",") if a.strip()] if authority else None
    if plot is not None and not plot.parent.exists():
        raise KboneInputError(Problem(field="plot", reason=f"folder {plot.parent} does not exist",
                                      fix="create the folder or choose another path"))
    result = compute_intake(diary, profile=profile, skip_unknown=skip_unknown, authorities=auths)
    warnings: list[str] = []
    if plot is not None:
        from kbone.diet.plots import plot_intake

        _, warnings = plot_intake(result, plot, lang)
    if as_json:
        payload = result.model_dump(mode="json")
        if plot is not None:
            payload["plot"] = str(plot)
            payload["plot_warnings"] = warnings
        emit_json(payload)
        return
    console.print(intake_report(result, lang, top=top))
    for w in warnings:
        err_console.print(f"[yellow]warning: {w}[/]")
    if plot is not None:
        console.print(pick(f"Chart written to {plot}", f"图表已保存：{plot}", lang))


def _sex(s: str | None):
    if s is None:
        return None
    t = s.strip().lower()
    m = {"male": "male", "m": "male", "man": "male", "men": "male", "男": "male", "男性": "male",
         "female": "female", "f": "female", "woman": "female", "women": "female", "女": "female", "女性": "female"}
    if t not in m:
        raise KboneInputError(Problem(field="sex", reason=f"unknown sex {s!r}", fix="use --sex male or --sex female"))
    return m[t]


def _age(a: float | None):
    if a is not None and not (0 <= a <= 130):
        raise KboneInputError(Problem(field="age", reason=f"age {a:g} is outside 0-130 years", fix="give the age in years"))
    return a


def _weight(w: float | None):
    if w is not None and not (1 <= w <= 400):
        raise KboneInputError(Problem(field="weight", reason=f"weight {w:g} kg is implausible",
                                      fix="give the body weight in kg, e.g. --weight 60"))
    return w


def _stage(s: str):
    m = {"general": "general", "pregnancy": "pregnancy", "pregnant": "pregnancy", "孕期": "pregnancy",
         "lactation": "lactation", "lactating": "lactation", "哺乳期": "lactation"}
    if s.strip().lower() not in m:
        raise KboneInputError(Problem(field="stage", reason=f"unknown stage {s!r}",
                                      fix="use general, pregnancy or lactation"))
    return m[s.strip().lower()]
