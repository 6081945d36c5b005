"""Vitamin K intake from a diary: per day and mean, by form (K1, MK-4, MK-7, other MK-n; dihydrophylloquinone
apart), top contributors, fat per meal with an absorption note, and comparison with reference intakes.

Intake is linear in grams, so lines are first summed to grams per (day, meal, food) and multiplied by each
food's per-gram values once. Food names, amounts and gram weights are resolved once per distinct text (cached).
A food value the data do not have is never counted as zero: the result lists those foods (``unknown``).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import yaml

from kbone.diet.diary import MEALS, Diary, DiaryLine, meal_labels, norm_meal, parse_date, read_diary
from kbone.diet.foods import NUTRIENTS, FoodRecord, FoodTable, load_foods
from kbone.diet.names import NameIndex, has_cjk, name_index
from kbone.diet.portions import AmountError, grams_for, parse_amount
from kbone.diet.reference import compare, reference_values
from kbone.diet.schema import (
    ALL_FORMS,
    FORM_VOCAB,
    FORMS,
    Contributor,
    DailyDose,
    DayIntake,
    DoseEvent,
    FormAmounts,
    FrequencyItem,
    IntakeResult,
    MealFat,
    NameMatch,
    Profile,
    SkippedLine,
    UnknownValue,
)
from kbone.errors import KboneInputError, Problem
from kbone.paths import data_path

MAX_PROBLEMS_SHOWN = 25
_IDX = {k: i for i, k in enumerate(NUTRIENTS)}


@lru_cache(maxsize=1)
def absorption_facts() -> dict:
    return yaml.safe_load(data_path("foods", "absorption.yaml").read_text(encoding="utf-8"))


class _Resolver:
    """Caches: food text → entry, (entry, amount, unit) → grams."""

    def __init__(self, index: NameIndex, table: FoodTable, cache: bool = True):
        self.index, self.table, self.cache = index, table, cache
        self.names: dict[str, tuple] = {}
        self.grams: dict[tuple, tuple] = {}
        self.splits: dict[str, tuple[str, str] | None] = {}

    def food(self, text: str) -> tuple:
        if self.cache and text in self.names:
            return self.names[text]
        res = self.index.resolve(text, use_cache=self.cache)
        if self.cache:
            self.names[text] = res
        return res

    def portion(self, entry_key: str, amount: str, unit: str) -> tuple:
        key = (entry_key, amount, unit)
        if self.cache and key in self.grams:
            return self.grams[key]
        entry = self.index.entries[entry_key]
        food = self.table.get(entry.food_id)
        try:
            p = grams_for(self.table, food, parse_amount(amount, unit), entry.name_zh)
            out = (p, None)
        except AmountError as e:
            out = (None, e)
        if self.cache:
            self.grams[key] = out
        return out

    def split(self, text: str) -> tuple[str, str] | None:
        """Split a food cell that carries its amount: '一碗小米粥', '蒜蓉菠菜 二两', '2 eggs', 'spinach 100 g'."""
        if self.cache and text in self.splits:
            return self.splits[text]
        out = self._split(text)
        if self.cache:
            self.splits[text] = out
        return out

    def _split(self, text: str) -> tuple[str, str] | None:
        t = text.strip()
        parts = t.split()
        fallback = None
        if len(parts) >= 2:
            for food, amount in ((" ".join(parts[:-2]), " ".join(parts[-2:])), (" ".join(parts[2:]), " ".join(parts[:2])),
                                 (" ".join(parts[:-1]), parts[-1]), (" ".join(parts[1:]), parts[0])):
                if food and _is_amount(amount):
                    if self.food(food)[0] is not None:
                        return food, amount
                    fallback = fallback or (food, amount)
        if has_cjk(t):
            best = None
            for i in range(1, len(t)):
                head, tail = t[:i], t[i:]
                for food, amount in ((tail, head), (head, tail)):
                    if _is_amount(amount, need_unit=True):
                        res = self.food(food)
                        if res[0] is not None and (best is None or res[2] > best[2]):
                            best = (food, amount, res[2])
            if best is not None:
                return best[0], best[1]
        return fallback


_NUMBERISH = re.compile(r"[\d½¼¾半零〇一二两俩三四五六七八九十百千]")


@lru_cache(maxsize=4096)
def _is_amount(text: str, need_unit: bool = False) -> bool:
    """True if ``text`` is an amount with a number ('二两', '1碗', '2', '100 g'), used to split food cells."""
    if not _NUMBERISH.match(text.strip()):
        return False
    try:
        p = parse_amount(text)
    except (AmountError, ValueError):
        return False
    return p.unit is not None or not need_unit


def _resolve_line(res: _Resolver, food_text: str, amount: str, unit: str) -> tuple:
    """One diary line's food and grams: ('ok', food id, entry key, grams, food text, entry, score, method,
    assumption text or None) or ('error', field, food text, reason, fix, suggestions, kind)."""
    resolved = res.food(food_text)
    if not amount and not unit:
        split = None if (resolved[0] is not None and resolved[2] >= 100) else res.split(food_text)
        if split is not None:
            food_text, amount = split
            resolved = res.food(food_text)
        elif resolved[0] is not None:
            return ("error", "amount", food_text, f"no amount for {food_text!r}",
                    "write an amount such as 100 g, 二两, 1碗 or 1 cup", [], "amount")
    key, entry, score, method = resolved
    if key is None:
        sugg = [_sugg_text(c) for c in entry[:5]]
        reason = (f"ambiguous food {food_text!r}: several foods match equally well" if method == "ambiguous"
                  else f"unknown food {food_text!r}")
        return ("error", "food", food_text, reason,
                "use one of the suggested names, or find the food with `kbone food search`", sugg, method)
    portion, err = res.portion(key, amount, unit)
    if err is not None:
        return ("error", "amount", food_text, f"{food_text!r}: {err.reason}", err.fix, [], "amount")
    assumption = (f"{entry.name_zh or entry.name_en}: {portion.unit_text} → {portion.grams:.0f} g ({portion.basis})"
                  if portion.assumption else None)
    return ("ok", entry.food_id, key, portion.grams, food_text, entry, score, method, assumption)


def _problem(line: DiaryLine, field: str, reason: str, fix: str, source: str | None, sugg=()) -> Problem:
    return Problem(field=field, reason=reason, fix=fix, file=source, line=line.line, suggestions=list(sugg))


def _sugg_text(c) -> str:
    label = c.name_zh or c.description
    return f"{label} ({c.name_en}, score {c.score:g})" if c.name_zh else f"{label} (score {c.score:g})"


def compute_intake(diary: Diary | str | Path, *, profile: Profile | None = None, skip_unknown: bool = False,
                   authorities: list[str] | None = None, cache: bool = True) -> IntakeResult:
    """Vitamin K intake of a diary (a :class:`Diary` or a path to a .csv/.yaml file).

    Unknown or ambiguous foods and bad amounts raise :class:`KboneInputError` with one problem per line (line
    number, reason, suggestions); with ``skip_unknown`` unknown foods are skipped and listed instead.
    ``cache=False`` resolves every line afresh (the benchmark's baseline).
    """
    if not isinstance(diary, Diary):
        diary = read_diary(diary)
    profile = profile or Profile()
    table, index = load_foods(), name_index()
    res = _Resolver(index, table, cache)
    problems: list[Problem] = []
    skipped: list[SkippedLine] = []
    grams_dmf: dict[tuple[str, str, str], float] = defaultdict(float)  # (date, meal, food id) → g
    items_per_day: dict[str, int] = defaultdict(int)
    date_info: dict[str, tuple[str, int | None]] = {}
    matches: dict[tuple[str, str], NameMatch] = {}
    entry_of_food: dict[str, str] = {}
    assumptions: dict[str, None] = {}
    line_cache: dict[tuple[str, str, str], tuple] = {}
    for ln in diary.lines:
        ck = (ln.food, ln.amount, ln.unit)
        hit = line_cache.get(ck) if cache else None
        if hit is None:
            hit = _resolve_line(res, ln.food, ln.amount, ln.unit)
            if cache:
                line_cache[ck] = hit
        if hit[0] != "ok":
            _, field, food_text, reason, fix, sugg, kind = hit
            if field == "food" and skip_unknown:
                skipped.append(SkippedLine(line=ln.line, food=food_text, reason=kind, suggestions=sugg))
            else:
                problems.append(_problem(ln, field, reason, fix, diary.source, sugg))
            continue
        _, fid, key, grams, food_text, entry, score, method, assumption = hit
        entry_of_food.setdefault(fid, key)
        if ln.date not in date_info:
            date_info[ln.date] = parse_date(ln.date)
        grams_dmf[(ln.date, norm_meal(ln.meal), fid)] += grams
        items_per_day[ln.date] += 1
        mk = (food_text, key)
        m = matches.get(mk)
        if m is None:
            m = matches[mk] = NameMatch(text=food_text, food_id=fid, name=entry.name_zh or entry.name_en,
                                        score=score, method=method, match_quality=entry.match_quality)
        if len(m.lines) < 50:
            m.lines.append(ln.line)
        if assumption is not None:
            assumptions.setdefault(assumption, None)
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            shown.append(Problem(field="diary", file=diary.source,
                                 reason=f"… and {len(problems) - MAX_PROBLEMS_SHOWN} more problem(s)",
                                 fix="fix the lines above and run again"))
        raise KboneInputError(shown)
    if not grams_dmf:
        raise KboneInputError(Problem(field="diary", file=diary.source,
                                      reason="no food could be counted" + (" (all skipped)" if skipped else ""),
                                      fix="check the diary has rows with a food and an amount"))
    return _summarise(table, index, diary, grams_dmf, items_per_day, date_info, entry_of_food, matches, skipped,
                      list(assumptions), profile, authorities, "diary")


def _day_order(date_info: dict[str, tuple[str, int | None]]) -> list[tuple[str, str, int]]:
    """(raw date, display date, day index) in diary order; indexes from the dates when all of them parse."""
    raw = list(date_info)
    ords = [date_info[d][1] for d in raw]
    if all(o is not None for o in ords):
        first = min(ords)
        order = sorted(raw, key=lambda d: date_info[d][1])
        return [(d, date_info[d][0], date_info[d][1] - first) for d in order]
    return [(d, date_info[d][0], i) for i, d in enumerate(raw)]


def _vec(food: FoodRecord, grams: float) -> list[float]:
    return [v * grams for v in food.per_gram]


def _summarise(table, index, diary, grams_dmf, items_per_day, date_info, entry_of_food, matches, skipped,
               assumptions, profile, authorities, basis, per_day_factor: float = 1.0) -> IntakeResult:
    nf = len(NUTRIENTS)
    day_tot: dict[str, list[float]] = defaultdict(lambda: [0.0] * nf)
    meal_tot: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0] * nf)
    meal_fat_unknown: set[tuple[str, str]] = set()
    food_tot: dict[str, list[float]] = defaultdict(lambda: [0.0] * nf)
    food_grams: dict[str, float] = defaultdict(float)
    unknown_forms: dict[str, set[str]] = defaultdict(set)
    day_unknown: dict[str, set[str]] = defaultdict(set)
    meal_unknown: dict[tuple[str, str], set[str]] = defaultdict(set)
    food_partial: dict[str, set[str]] = defaultdict(set)
    for (d, meal, fid), g in grams_dmf.items():
        food = table.get(fid)
        vec = _vec(food, g)
        food_grams[fid] += g
        if g > 0:
            inc = [k for k in food.incomplete if k in ALL_FORMS]
            day_unknown[d].update(inc)
            meal_unknown[(d, meal)].update(inc)
            food_partial[fid].update(inc)
        dt, mt, ft = day_tot[d], meal_tot[(d, meal)], food_tot[fid]
        for i, v in enumerate(vec):
            if math.isnan(v):
                if g > 0 and NUTRIENTS[i] in ALL_FORMS:
                    unknown_forms[fid].add(NUTRIENTS[i])
                    day_unknown[d].add(NUTRIENTS[i])
                    meal_unknown[(d, meal)].add(NUTRIENTS[i])
                    food_partial[fid].add(NUTRIENTS[i])
                if NUTRIENTS[i] == "fat_g" and g > 0:
                    meal_fat_unknown.add((d, meal))
                continue
            dt[i] += v
            mt[i] += v
            ft[i] += v
    order = _day_order(date_info) if date_info else []
    days: list[DayIntake] = []
    for raw, shown, idx in order:
        t = day_tot[raw]
        days.append(DayIntake(date=shown, day_index=idx, **{f: _r(t[_IDX[f]]) for f in ALL_FORMS},
                              total=_r(sum(t[_IDX[f]] for f in FORMS)), fat_g=_r(t[_IDX["fat_g"]]),
                              energy_kcal=_r(t[_IDX["energy_kcal"]]), n_items=items_per_day.get(raw, 0),
                              incomplete_forms=[f for f in ALL_FORMS if f in day_unknown[raw]]))
    n_days = len(days) or 1
    grand = [sum(day_tot[d][i] for d in day_tot) for i in range(nf)]
    scale = per_day_factor / (n_days if basis == "diary" else 1)
    mean = FormAmounts(**{f: _r(grand[_IDX[f]] * scale) for f in ALL_FORMS},
                       total=_r(sum(grand[_IDX[f]] for f in FORMS) * scale),
                       partial=_partial(set().union(*day_unknown.values()) if day_unknown else set()))
    grand_total = sum(grand[_IDX[f]] for f in FORMS)
    # contributors
    contributors = []
    for fid, t in food_tot.items():
        food = table.get(fid)
        e = index.entries[entry_of_food[fid]]
        total = sum(t[_IDX[f]] for f in FORMS)
        contributors.append(Contributor(
            food_id=fid, ndb_no=food.ndb_no, recipe=food.recipe, name_zh=e.name_zh, name_en=e.name_en,
            grams=_r(food_grams[fid] * scale), amounts=FormAmounts(**{f: _r(t[_IDX[f]] * scale) for f in ALL_FORMS},
                                                                   total=_r(total * scale),
                                                                   partial=_partial(food_partial.get(fid, set()))),
            share_of_total=round(total / grand_total, 4) if grand_total > 0 else 0.0, match_quality=e.match_quality,
            assumption=food.assumption, unknown_forms=sorted(unknown_forms.get(fid, ()), key=ALL_FORMS.index),
            sources={f: s for f, s in food.sources.items() if f in ALL_FORMS}))
    contributors.sort(key=lambda c: (-c.amounts.total, -(c.grams), c.food_id))
    # unknown values
    unknown = []
    for fid in sorted(set(unknown_forms) | {f for f in food_tot if table.get(f).incomplete},
                      key=lambda f: -food_grams[f]):
        food = table.get(fid)
        e = index.entries[entry_of_food[fid]]
        partial = {k: v for k, v in food.incomplete.items() if k in ALL_FORMS}
        unknown.append(UnknownValue(food_id=fid, name_zh=e.name_zh, name_en=e.name_en,
                                    forms=sorted(unknown_forms.get(fid, ()), key=ALL_FORMS.index),
                                    partial_forms=partial))
    complete = {f: not any(f in u.forms or f in u.partial_forms for u in unknown) for f in ALL_FORMS}
    # meals and the absorption note
    facts = absorption_facts()
    low = float(facts["low_fat_threshold_g"])
    min_k = float(facts["min_k_for_note_ug"])
    meals = []
    if basis == "diary":
        shown_of = {raw: shown for raw, shown, _ in order}
        meal_order = {m: i for i, m in enumerate(MEALS)}
        for (d, meal), t in sorted(meal_tot.items(), key=lambda kv: (
                [r for r, _, _ in order].index(kv[0][0]), meal_order.get(kv[0][1], 99), kv[0][1])):
            k_total = sum(t[_IDX[f]] for f in FORMS)
            fat = t[_IDX["fat_g"]]
            is_low = k_total >= min_k and fat < low
            en, zh = meal_labels(meal)
            amounts = FormAmounts(**{f: _r(t[_IDX[f]]) for f in ALL_FORMS}, total=_r(k_total),
                                  partial=_partial(meal_unknown.get((d, meal), set())))
            meals.append(MealFat(date=shown_of[d], meal=meal, meal_label_en=en, meal_label_zh=zh, fat_g=_r(fat),
                                 fat_complete=(d, meal) not in meal_fat_unknown, amounts=amounts, low_fat=is_low,
                                 note_en=facts["low_fat_note_en"].format(fat=fat, k=k_total, low=low) if is_low else "",
                                 note_zh=facts["low_fat_note_zh"].format(fat=fat, k=k_total, low=low) if is_low else ""))
    refs = compare(mean, reference_values(profile, authorities), complete)
    used_sources = {"usda_sr28"}
    for c in contributors:
        for s in c.sources.values():
            used_sources.update(s.source_id.split("+"))
    for r in refs:
        used_sources.add(r.reference.source_id)
    if assumptions or any(c.assumption for c in contributors):
        used_sources.add("kbone_assumption")
    sources = {s: table.sources[s]["citation"] for s in sorted(used_sources) if s in table.sources}
    notes_en, notes_zh = _notes(facts, contributors, unknown, complete)
    return IntakeResult(basis=basis, source_file=diary.source if diary else None,
                        n_lines=len(diary.lines) if diary else len(grams_dmf), n_days=len(days) if basis == "diary" else 0,
                        days=days if basis == "diary" else [], mean=mean,
                        mean_fat_g=_r(grand[_IDX["fat_g"]] * scale), contributors=contributors, meals=meals,
                        unknown=unknown, skipped=skipped, matches=list(matches.values()), assumptions=assumptions,
                        profile=profile, reference=refs, sources=sources, notes_en=notes_en, notes_zh=notes_zh)


def _notes(facts, contributors, unknown, complete) -> tuple[list[str], list[str]]:
    en, zh = [], []
    for f in facts["general"]:
        en.append(f["en"])
        zh.append(f["zh"])
    if any(c.recipe for c in contributors):
        en.append("Dishes (家常菜) are assumption-based recipes: typical home proportions, not analysed dishes.")
        zh.append("家常菜按假设配方计算（常见家庭用量），并非实测菜肴成分。")
    if not complete["mk7"] or not complete["mk_other"]:
        en.append("USDA SR28 has no long-chain menaquinones (MK-5 … MK-13); MK-7 and other MK-n are counted only for "
                  "foods with literature values (natto, cheeses, milk). Unknown values are not counted as zero.")
        zh.append("USDA SR28 不含长链甲萘醌（MK-5 至 MK-13）；MK-7 及其他 MK-n 只计入有文献数值的食物（纳豆、奶酪、"
                  "牛奶等）。未知数值不按零计。")
    if any(c.match_quality == "proxy" for c in contributors):
        en.append("Some foods are stand-ins (proxy): USDA lacks the food and a related one is used.")
        zh.append("部分食物为替代（proxy）：USDA 无该食物，以相近食物代替。")
    return en, zh


def _partial(forms: set[str]) -> list[str]:
    """Forms counted from known values only (some food lacks a value), plus 'total' when any counted form is."""
    out = [f for f in ALL_FORMS if f in forms]
    return out + (["total"] if any(f in forms for f in FORMS) else [])


def _r(x: float) -> float:
    return round(x, 3)


# ---- time series for the PK model ------------------------------------------------------------------------------------
def daily_doses(result: IntakeResult) -> list[DailyDose]:
    """Per-day µg of each form (day_index from the diary dates; days without entries are absent)."""
    return [DailyDose(day_index=d.day_index, date=d.date, k1=d.k1, mk4=d.mk4, mk7=d.mk7, mk_other=d.mk_other)
            for d in result.days]


def dose_events(result: IntakeResult) -> list[DoseEvent]:
    """Oral dose events (time h since the start of day 0, form vocab id, µg) from the diary's meals.

    Meal times are assumptions (breakfast 07:30, lunch 12:00, snack 15:30, dinner 18:30, late snack 21:30; other
    meals 12:00). Dihydrophylloquinone is not a dose of any modelled form and is left out.
    """
    if result.basis != "diary":
        raise KboneInputError("dose events need a dated diary, not a food-frequency estimate", field="basis",
                              fix="use daily_doses() or a diary")
    day_index = {d.date: d.day_index for d in result.days}
    out: list[DoseEvent] = []
    for m in result.meals:
        hour = MEALS.get(m.meal, ("", "", 12.0))[2]
        t = day_index[m.date] * 24.0 + hour
        for form in FORMS:
            amt = getattr(m.amounts, form)
            if amt > 0:
                out.append(DoseEvent(time_h=t, form=FORM_VOCAB[form], amount_ug=round(amt, 3), meal=m.meal,
                                     fat_g=m.fat_g))
    out.sort(key=lambda e: (e.time_h, e.form))
    return out


# ---- food frequency -------------------------------------------------------------------------------------------------
def compute_frequency(items: list[FrequencyItem | dict], *, profile: Profile | None = None,
                      authorities: list[str] | None = None) -> IntakeResult:
    """Mean daily intake from a short food-frequency list (food + servings per week [+ serving size])."""
    table, index = load_foods(), name_index()
    res = _Resolver(index, table)
    problems: list[Problem] = []
    grams: dict[tuple[str, str, str], float] = defaultdict(float)
    entry_of_food: dict[str, str] = {}
    matches: list[NameMatch] = []
    assumptions: dict[str, None] = {}
    for i, raw in enumerate(items, start=1):
        try:
            it = raw if isinstance(raw, FrequencyItem) else FrequencyItem(**raw)
        except Exception as e:  # pydantic validation
            problems.append(Problem(field="items", record=str(i), reason=f"bad item: {e}",
                                    fix="give {food: 菠菜, servings_per_week: 3, serving: 二两}"))
            continue
        key, entry, score, method = res.food(it.food)
        if key is None:
            problems.append(Problem(field="food", record=str(i), reason=f"unknown or ambiguous food {it.food!r}",
                                    fix="use one of the suggestions", suggestions=[_sugg_text(c) for c in entry[:5]]))
            continue
        if it.serving:
            serving = it.serving
            p, err = res.portion(key, serving, "")
        else:  # default serving: one piece when the food has a piece weight, else one serving (份)
            serving = "1个"
            p, err = res.portion(key, serving, "")
            if err is not None or entry.food_id.startswith("recipe:"):
                serving = "1份"
                p, err = res.portion(key, serving, "")
        if err is not None:
            problems.append(Problem(field="serving", record=str(i), reason=f"{it.food!r}: {err.reason}", fix=err.fix))
            continue
        grams[("week", "all", entry.food_id)] += p.grams * it.servings_per_week
        entry_of_food.setdefault(entry.food_id, key)
        matches.append(NameMatch(text=it.food, food_id=entry.food_id, name=entry.name_zh or entry.name_en,
                                 score=score, method=method, match_quality=entry.match_quality, lines=[i]))
        if p.assumption:
            assumptions.setdefault(f"{entry.name_zh or entry.name_en}: {serving} → {p.grams:g} g ({p.basis})", None)
    if problems:
        raise KboneInputError(problems)
    if not grams:
        raise KboneInputError("no food in the food-frequency list", field="items", fix="list at least one food")
    diary = Diary([], None)
    return _summarise(table, index, diary, grams, {}, {}, entry_of_food, {(m.text, m.food_id): m for m in matches},
                      [], list(assumptions), profile or Profile(), authorities, "frequency", per_day_factor=1 / 7)

