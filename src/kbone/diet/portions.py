"""Amounts and portions: "二两", "1碗", "半斤", "一个半", "100 g", "2 slices" → grams of a given food.

Units and food-specific weights are data (``data/foods/portion_units.yaml``); USDA SR28 household measures give
food-specific weights of cups, spoons, pieces and slices. Every weight carries the rule that produced it and
whether it rests on an assumption. Chinese numerals (一 二 两 三 … 十 百, 半) and free-form amounts are parsed here.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import yaml

from kbone.diet.foods import FoodRecord, FoodTable
from kbone.diet.schema import Portion
from kbone.paths import data_path

#: One diary line may not exceed this many grams of one food.
MAX_GRAMS = 5000.0

_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
_CN_MULT = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN_NUM = "零〇一壹二贰两俩三四五六七八九十百千万"
_VAGUE = ("几", "若干", "少许", "适量", "一些", "一点", "少量", "许多", "很多", "some", "a few", "a little", "several")
_RE_MIXED = re.compile(r"^(\d+)\s+(\d+)\s*[/⁄]\s*(\d+)")
_RE_FRAC = re.compile(r"^(\d+)\s*[/⁄]\s*(\d+)")
_RE_DEC = re.compile(r"^[-+]?\d+(?:\.\d+)?|^[-+]?\.\d+")
_RE_CN = re.compile(rf"^[{_CN_NUM}]+(?:点[{_CN_NUM}]+)?")
_RE_RANGE = re.compile(r"^\d+(?:\.\d+)?\s*(?:-|~|～|—|到|至)\s*\d")
_USDA_SKIP_WORDS = {"cup", "cups", "tbsp", "tsp", "tablespoon", "teaspoon", "oz", "fl", "lb", "lbs", "quart",
                    "pint", "gallon", "liter", "ml", "g", "serving", "nlea", "package", "container", "can", "jar",
                    "bottle", "box", "packet", "portion", "recipe", "yield", "batch", "bunch", "leaf", "leaves",
                    "sprig", "spear", "strip", "slice", "slices", "cubic", "pat", "dash", "pinch", "drop", "scoop",
                    "stick", "piece", "pieces", "pkg"}


class AmountError(ValueError):
    """An amount that cannot be turned into grams; ``reason`` and ``fix`` are shown to the user."""

    def __init__(self, reason: str, fix: str):
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


@dataclass(frozen=True, slots=True)
class Unit:
    id: str
    kind: str  # mass | volume | vessel | count | serving
    en: str
    zh: str
    grams: float | None = None
    ml: float | None = None
    usda: tuple[str, ...] = ()
    any_count_measure: bool = False
    default_g: float | None = None
    source: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class ParsedAmount:
    quantity: float
    unit: Unit | None
    size: str | None
    text: str
    word: str = ""  # the unit word as written (碗, 条, cup …)


def _key(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"\s+", " ", t).rstrip(".")


class Units:
    """The unit table of ``portion_units.yaml``."""

    def __init__(self) -> None:
        doc = yaml.safe_load(data_path("foods", "portion_units.yaml").read_text(encoding="utf-8"))
        self.by_id: dict[str, Unit] = {}
        self.synonyms: dict[str, Unit] = {}
        for kind, group in (("mass", "mass"), ("volume", "volume"), ("vessel", "vessels"), ("count", "count"),
                            ("serving", "servings")):
            for u in doc[group]:
                unit = Unit(id=u["id"], kind=kind, en=u["en"], zh=u["zh"], grams=u.get("grams"), ml=u.get("ml"),
                            usda=tuple(u.get("usda", []) or []), any_count_measure=bool(u.get("any_count_measure")),
                            default_g=u.get("default_g"), source=u.get("source", ""), note=u.get("note", ""))
                if unit.id in self.by_id:
                    raise ValueError(f"portion_units.yaml: duplicate unit id {unit.id}")
                self.by_id[unit.id] = unit
                for s in [u["id"], u["zh"], *u.get("synonyms", [])]:
                    k = _key(str(s))
                    if k in self.synonyms and self.synonyms[k].id != unit.id:
                        raise ValueError(f"portion_units.yaml: unit word {s!r} used by two units")
                    self.synonyms[k] = unit
        self.usda_volume_ml: dict[str, float] = doc["usda_volume_ml"]
        self.size_factor: dict[str, float] = doc["vessel_size_factor"]["factors"]
        self.by_food: dict[tuple[str, str], dict] = {}
        self.by_name: dict[tuple[str, str], dict] = {}
        for fu in doc["food_units"]:
            target = self.by_name if "name" in fu else self.by_food
            target[(fu.get("name") or fu["food"], fu["unit"])] = fu

    def lookup(self, text: str) -> Unit | None:
        return self.synonyms.get(_key(text))

    def known_words(self, lang: str = "zh") -> list[str]:
        return sorted({u.zh if lang == "zh" else u.id for u in self.by_id.values()})


@lru_cache(maxsize=1)
def units() -> Units:
    return Units()


# ---- numbers -------------------------------------------------------------------------------------------------------
def parse_cn_number(text: str) -> float:
    """Chinese numerals → number: 三 → 3, 十二 → 12, 二十 → 20, 一百五 → 150, 一点五 → 1.5, 两 → 2."""
    if "点" in text:
        whole, frac = text.split("点", 1)
        digits = "".join(str(_CN_DIGIT[c]) for c in frac if c in _CN_DIGIT)
        return parse_cn_number(whole or "零") + float("0." + (digits or "0"))
    total, section, num, last_mult = 0, 0, 0, 0
    for ch in text:
        if ch in _CN_DIGIT:
            num = _CN_DIGIT[ch]
        elif ch in _CN_MULT:
            m = _CN_MULT[ch]
            if m == 10000:
                total += (section + num) * m
                section = 0
            else:
                section += (num or 1) * m
            num, last_mult = 0, m
        else:
            raise ValueError(f"not a Chinese numeral: {ch}")
    if num and last_mult >= 100 and len(text) >= 2 and text[-2] in _CN_MULT:
        num *= last_mult // 10  # 一百五 = 150 (colloquial)
    return float(total + section + num)


def _take_number(s: str) -> tuple[float | None, str, str]:
    """Split a leading number off ``s``: (value or None, the number text, the rest)."""
    if m := _RE_MIXED.match(s):
        return int(m[1]) + int(m[2]) / int(m[3]), m[0], s[m.end():]
    if m := _RE_FRAC.match(s):
        if int(m[2]) == 0:
            raise AmountError(f"division by zero in {s!r}", "write the amount as a number, e.g. 0.5")
        return int(m[1]) / int(m[2]), m[0], s[m.end():]
    if m := _RE_DEC.match(s):
        return float(m[0]), m[0], s[m.end():]
    if s.startswith("半"):
        return 0.5, "半", s[1:]
    if m := _RE_CN.match(s):
        return parse_cn_number(m[0]), m[0], s[m.end():]
    return None, "", s


def parse_amount(amount: str | float | int | None, unit: str | None = None) -> ParsedAmount:
    """Parse an amount (and an optional separate unit): '二两', '1碗', '半斤', '一个半', '1.5', '100 g', '½ cup'."""
    table = units()
    a = "" if amount is None else (repr(amount) if isinstance(amount, float) else str(amount))
    a = _key(a).replace("½", "1/2").replace("¼", "1/4").replace("¾", "3/4")
    u = _key(unit or "")
    text = " ".join(x for x in (a, u) if x)
    if not text:
        raise AmountError("no amount given", "write an amount with a unit, e.g. 100 g, 二两, 1碗, 1 cup")
    if any(v in text for v in _VAGUE):
        raise AmountError(f"vague amount {text!r}", "give a number, e.g. 2个 or 100 g")
    if _RE_RANGE.match(a):
        raise AmountError(f"a range ({a}) is not one amount", "give one number, e.g. the middle of the range")
    value, numtext, rest = _take_number(a)
    rest = rest.strip()
    if value is not None and not math.isfinite(value):
        raise AmountError(f"amount {a!r} is not a finite number", "give a number such as 100")
    if value is None and not rest and not u:
        raise AmountError(f"no number in amount {a!r}", "write an amount such as 100 g or 二两")
    half = 0.0
    if rest.endswith("半") and (len(rest) > 1 or numtext):
        rest, half = rest[:-1].strip(), 0.5
    if not rest and u and len(numtext) > 1 and numtext.endswith("两"):
        raise AmountError(f"amount {a!r} already has a unit (两) but the unit column says {u!r}",
                          "write the unit in one place only")
    if not rest and not u and numtext.endswith("两") and numtext not in ("两", "俩"):
        # "二两" / "十二两": the last 两 is the unit (50 g), not the numeral two
        value, rest = (parse_cn_number(numtext[:-1]) if numtext[:-1] else 1.0), "两"
    elif not rest and not u and numtext in ("两",):
        value, rest = 1.0, "两"
    if rest and u:
        raise AmountError(f"amount {a!r} already has a unit but the unit column says {u!r}",
                          "write the unit in one place only")
    rest = rest or u
    qty = (1.0 if value is None else value) + half
    if qty < 0:
        raise AmountError(f"negative amount {qty:g}", "amounts must be zero or more")
    if not rest:
        return ParsedAmount(qty, None, None, text)
    found = table.lookup(rest)
    size = None
    if found is None and rest[:1] in ("大", "小", "中") and len(rest) > 1:
        found, size = table.lookup(rest[1:].strip()), rest[:1]
    if found is None and rest.startswith(("large ", "medium ", "small ")):
        word, _, restu = rest.partition(" ")
        found, size = table.lookup(restu), {"large": "大", "medium": "中", "small": "小"}[word]
    if found is None and rest in ("large", "medium", "small"):
        found, size = table.by_id["piece"], {"large": "大", "medium": "中", "small": "小"}[rest]
    if found is None:
        raise AmountError(f"unknown unit {rest!r}",
                          "use g/克, kg/公斤, 两, 斤, 碗, 杯, 勺, 个, 片, 根, 盘, 份, cup, tbsp, slice, piece …")
    if size and found.kind in ("mass", "volume"):
        raise AmountError(f"size word {size} does not apply to {found.zh}", "drop the size word")
    word = rest[1:].strip() if size and rest[:1] in ("大", "小", "中") else rest
    return ParsedAmount(qty, found, size, text, word)


# ---- grams ---------------------------------------------------------------------------------------------------------
_SIZE_WORDS = {"大": ("large", "extra large", "jumbo"), "中": ("medium",), "小": ("small", "extra small")}
_RECIPE_UNIT = {"bowl": "碗", "piece": "个", "sheet": "张", "stick": "根", "bei": "杯", "package": "盒", "shao": "勺"}


def _words(desc: str) -> list[str]:
    return re.findall(r"[a-z]+", desc.lower())


def _portion_for(table: FoodTable, food: FoodRecord, words: tuple[str, ...], any_count: bool = False):
    """First USDA measure of ``food`` matching one of ``words`` (in order of preference)."""
    measures = table.portions.get(food.ndb_no or "", [])
    for w in words:
        ws = w.split()
        for p in measures:
            pw = _words(p.description)
            if any(pw[i:i + len(ws)] == ws for i in range(len(pw))):
                return p
    if any_count:
        for p in measures:
            pw = _words(p.description)
            if pw and pw[0] not in _USDA_SKIP_WORDS and "cup" not in pw:
                return p
    return None


def _density(table: FoodTable, food: FoodRecord) -> tuple[float, str, bool]:
    """g per mL from the food's USDA volume measures; else 1 g/mL (assumption)."""
    u = units()
    for p in table.portions.get(food.ndb_no or "", []):
        pw = _words(p.description)
        for name, ml in u.usda_volume_ml.items():
            if pw[: len(name.split())] == name.split():
                return p.grams / (p.amount * ml), f"density {p.grams / (p.amount * ml):.3g} g/mL from USDA " \
                                                  f"'{p.amount:g} {p.description}' = {p.grams:g} g", False
    return 1.0, "1 g/mL (assumption: no USDA volume measure for this food)", True


def grams_for(table: FoodTable, food: FoodRecord, parsed: ParsedAmount, name: str | None = None) -> Portion:
    """Grams of ``food`` in the parsed amount, with the rule used. Raises :class:`AmountError`."""
    u = units()
    qty, unit, size = parsed.quantity, parsed.unit, parsed.size
    if unit is None:
        unit = u.by_id["piece"]
        counted = True
    else:
        counted = False

    def done(per_unit: float, basis: str, source: str, assumption: bool) -> Portion:
        grams = qty * per_unit
        if not math.isfinite(grams):
            raise AmountError("amount is not a finite number", "give a number such as 100")
        if grams > MAX_GRAMS:
            raise AmountError(f"{grams:,.0f} g of one food in one line is implausible (limit {MAX_GRAMS:,.0f} g)",
                              "check the amount and unit (e.g. 二两 = 100 g, 一斤 = 500 g)")
        if counted:
            basis = f"no unit: counted as pieces; {basis}"
        return Portion(quantity=qty, unit=unit.id, unit_text=parsed.text, grams=round(grams, 6), basis=basis,
                       source_id=source, assumption=assumption)

    if unit.kind == "mass":
        return done(unit.grams, f"1 {unit.zh} = {unit.grams:g} g", unit.source, False)

    if food.recipe is not None:
        zh = parsed.word if parsed.word in food.units else _RECIPE_UNIT.get(unit.id, unit.zh)
        if unit.kind == "serving":
            return done(food.units["serving"], f"one serving of the recipe = {food.units['serving']:g} g",
                        "kbone_assumption", True)
        if zh in food.units:
            return done(food.units[zh], f"1 {zh} of this dish = {food.units[zh]:g} g", "kbone_assumption", True)

    override = u.by_name.get((name or "", unit.id)) or u.by_food.get((food.id, unit.id))
    if override is not None:
        if "grams" in override:
            per, basis = float(override["grams"]), f"1 {unit.zh} = {override['grams']:g} g ({override['note']})"
        else:
            dens, dbasis, _ = _density(table, food)
            per = override["ml"] * dens
            basis = f"1 {unit.zh} = {override['ml']:g} mL × {dbasis} ({override['note']})"
        return done(per, basis, override["source"], override["source"] == "kbone_assumption")

    if unit.kind in ("vessel", "volume"):
        factor = u.size_factor.get(size, 1.0) if size else 1.0
        size_note = f" × {factor:g} for {size}" if size and factor != 1.0 else ""
        ml = unit.ml * factor
        if unit.kind == "vessel" and food.recipe is None:
            p = _portion_for(table, food, unit.usda)
            if p is not None:
                measure = next(w for w in unit.usda if w.split()[0] in _words(p.description))
                usda_ml = u.usda_volume_ml.get(measure, unit.ml)
                per = p.grams / p.amount * (unit.ml / usda_ml) * factor
                assumed = unit.source == "kbone_assumption" or bool(size_note)
                scale = "" if abs(unit.ml - usda_ml) < 0.05 else f" × {unit.ml:g}/{usda_ml:g} mL"
                return done(per, f"USDA SR28 '{p.amount:g} {p.description}' = {p.grams:g} g{scale}{size_note}",
                            "kbone_assumption" if assumed else "usda_sr28", assumed)
        if food.recipe is not None:
            dens, dbasis, assumed = 1.0, "1 g/mL (assumption for a dish)", True
        else:
            dens, dbasis, assumed = _density(table, food)
        assumed = assumed or unit.source == "kbone_assumption" or bool(size_note)
        return done(ml * dens, f"{unit.zh} = {ml:g} mL{size_note}; {dbasis}", unit.source, assumed)

    if unit.kind == "serving":
        p = _portion_for(table, food, unit.usda)
        if p is not None:
            return done(p.grams / p.amount, f"USDA SR28 '{p.amount:g} {p.description}' = {p.grams:g} g", "usda_sr28",
                        False)
        return done(unit.default_g, f"1 {unit.zh} = {unit.default_g:g} g ({unit.note})", unit.source, True)

    # count units
    words = unit.usda
    if size:
        words = (*_SIZE_WORDS[size], *words)
    p = _portion_for(table, food, words, unit.any_count_measure)
    if p is not None:
        return done(p.grams / p.amount, f"USDA SR28 '{p.amount:g} {p.description}' = {p.grams:g} g", "usda_sr28",
                    False)
    what = name or food.description
    if counted:
        raise AmountError(f"amount {parsed.text!r} has no unit and {what} has no weight per piece",
                          "add a unit, e.g. 100 g, 二两, 1碗")
    raise AmountError(f"no weight known for one {unit.zh} ({unit.en}) of {what}",
                      "give the amount in grams (克), 两 or a household measure such as 碗/杯/勺")
