"""A person's profile for an assessment: body, conditions, medicines, supplements, labs and diet.

Units: age in years, weight in kg, height in cm, doses per day or week (mass units or IU), ucOC in
ng/mL, 25-OH-D in nmol/L (ng/mL accepted and converted ×2.496), eGFR in mL/min/1.73 m². Profiles are
YAML or JSON; :func:`load_profile` validates one and raises :class:`KboneInputError` naming each bad
field, the reason and the fix. Names of conditions and medicines are accepted in Chinese or English
(generic or brand) and resolved to ids; an unknown name comes back with suggestions.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from rapidfuzz import process

from kbone.assess.drugs import drug_vocab
from kbone.errors import KboneInputError, Problem, read_text_input
from kbone.paths import data_path
from kbone.vocab import normalize_key, vocab

T_SCORE_SITES = ("lumbar_spine", "femoral_neck", "total_hip", "radius")
NGML_TO_NMOLL_25OHD = 2.496  # 25-OH-D: 1 ng/mL = 2.496 nmol/L (molar mass 400.6 g/mol)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ---- conditions -----------------------------------------------------------------------------------


class Condition(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    en: str
    zh: str
    population: str | None = None
    risk_factor: bool = False
    vk_status: bool = False
    sex: str | None = None
    synonyms: tuple[str, ...] = ()

    def label(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en


@lru_cache(maxsize=1)
def conditions() -> dict[str, Condition]:
    """Known conditions (``data/rules/conditions.yaml``) by id."""
    doc = yaml.safe_load(data_path("rules", "conditions.yaml").read_text(encoding="utf-8"))
    out = {}
    for raw in doc["conditions"]:
        raw = dict(raw)
        raw["synonyms"] = tuple(str(s) for s in raw.get("synonyms", []))
        c = Condition(**raw)
        out[c.id] = c
    return out


@lru_cache(maxsize=1)
def _condition_index() -> dict[str, str]:
    idx: dict[str, str] = {}
    for c in conditions().values():
        for s in (c.id, c.en, c.zh):
            idx.setdefault(normalize_key(s), c.id)
    for c in conditions().values():
        for s in c.synonyms:
            idx.setdefault(normalize_key(s), c.id)
    return idx


def resolve_condition(text: str) -> str | None:
    return _condition_index().get(normalize_key(str(text)))


def _suggest(index: dict[str, str], text: str, n: int = 3) -> list[str]:
    out: list[str] = []
    for k, _s, _ in process.extract(normalize_key(str(text)), list(index), limit=n * 3):
        if index[k] not in out:
            out.append(index[k])
        if len(out) == n:
            break
    return out


def _unknown(kind: str, value: Any, suggestions: list[str], fix: str):
    return PydanticCustomError("unknown_name", "unknown {kind} '{value}'",
                               {"kind": kind, "value": str(value), "suggestions": suggestions, "fix": fix})


# ---- doses ----------------------------------------------------------------------------------------

_DOSE_RE = re.compile(
    r"^\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[^\d\s/]+)?\s*(?:(?:/|per|每|a|an)\s*(?P<per>[^\s\d]+))?\s*$",
    re.IGNORECASE)
_PER = {"d": "day", "day": "day", "天": "day", "日": "day", "daily": "day", "qd": "day",
        "w": "week", "wk": "week", "week": "week", "周": "week", "星期": "week", "weekly": "week"}


class Dose(_Strict):
    """An amount per day or per week (mass units or IU)."""

    amount: float = Field(gt=0)
    unit: str = "mg"
    per: Literal["day", "week"] = "day"

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, v):
        if isinstance(v, bool):
            raise ValueError("a dose must be a number with a unit, e.g. '3 mg/day'")
        if isinstance(v, (int, float)):
            return {"amount": v}
        if isinstance(v, str):
            m = _DOSE_RE.match(v.replace("，", ",").replace("／", "/"))
            if not m:
                raise ValueError(f"cannot read the dose {v!r}; write it like '3 mg/day', '90 µg/d' or '1000 IU/day'")
            per = (m.group("per") or "day").lower()
            if per not in _PER:
                raise ValueError(f"dose {v!r}: 'per {per}' is not a day or a week")
            out = {"amount": float(m.group("amount")), "per": _PER[per]}
            if m.group("unit"):
                out["unit"] = m.group("unit")
            return out
        return v

    @field_validator("unit")
    @classmethod
    def _unit(cls, v):
        t = vocab().resolve("unit", v)
        if t is None or t["dimension"] not in ("mass", "iu"):
            raise ValueError(f"unit {v!r} is not a mass unit (µg, mg, g) or IU")
        return t.id

    def per_day(self, unit: str = "mg") -> float:
        """Amount per day in ``unit`` (mass units only; IU stays IU)."""
        if self.unit == "IU":
            amt = self.amount
        else:
            amt = vocab().convert(self.amount, self.unit, unit)
        return amt / 7.0 if self.per == "week" else amt

    def text(self) -> str:
        u = vocab().get("unit", self.unit).en
        return f"{self.amount:g} {u}/{self.per}"


# ---- medicines and supplements --------------------------------------------------------------------


class InrTarget(_Strict):
    low: float = Field(ge=1.0, le=5.0)
    high: float = Field(ge=1.0, le=5.0)

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, v):
        if isinstance(v, bool) or isinstance(v, str):
            raise PydanticCustomError(
                "inr_target_text", "INR target must be a number or a range of two numbers, not text ('{value}')",
                {"value": str(v), "fix": "write e.g. 2.5 or [2.0, 3.0]"})
        if isinstance(v, (int, float)):
            # a single target value: the usual therapeutic range is ±0.5 around it
            return {"low": float(v) - 0.5, "high": float(v) + 0.5}
        if isinstance(v, (list, tuple)):
            if len(v) != 2 or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
                raise PydanticCustomError("inr_target_text", "INR target range must be two numbers, got {value}",
                                          {"value": str(v), "fix": "write e.g. [2.0, 3.0]"})
            return {"low": float(v[0]), "high": float(v[1])}
        return v

    @model_validator(mode="after")
    def _order(self):
        if self.low > self.high:
            raise ValueError(f"INR target low ({self.low}) is above high ({self.high})")
        return self

    @property
    def mid(self) -> float:
        return (self.low + self.high) / 2


class Medicine(_Strict):
    """A medicine the person takes. ``other: true`` keeps a medicine kbone does not know, unchecked."""

    name: str = Field(min_length=1)
    dose: Dose | None = None
    inr_target: InrTarget | None = None
    duration_days: float | None = Field(None, gt=0, le=36500, description="how long it has been / will be taken")
    other: bool = Field(False, description="true: not in kbone's drug vocabulary; listed but not checked")
    drug: str | None = Field(None, description="resolved drug id (filled in)")
    classes: list[str] = Field(default_factory=list, description="resolved drug classes (filled in)")
    matched_synonym: bool = Field(False, description="resolved through a brand name or synonym (names_source: assumption)")

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, v):
        if isinstance(v, str):
            return {"name": v}
        return v

    @model_validator(mode="after")
    def _resolve(self):
        if self.other:
            return self
        r = drug_vocab().find(self.name)
        if r is None:
            raise _unknown("medicine", self.name, drug_vocab().suggest(self.name),
                           "write the generic or brand name (中文或英文), or add 'other: true' to keep a medicine "
                           "kbone does not know (it will be listed but not checked)")
        self.drug = r.drug.id
        self.classes = list(r.drug.classes)
        self.matched_synonym = r.brand_or_synonym
        if self.inr_target is not None and "vka" not in self.classes:
            raise ValueError(f"an INR target only applies to a vitamin K antagonist, not {r.drug.en}")
        return self


class Supplement(_Strict):
    """A supplement: a vitamin K form (K1, MK-4, MK-7 …), vitamin E, calcium, vitamin D, or other."""

    name: str = Field(min_length=1)
    dose: Dose | None = None
    kind: Literal["vitamin_k", "drug", "agent", "other"] | None = None
    id: str | None = Field(None, description="resolved form / drug / agent id (filled in)")
    other: bool = False

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, v):
        return {"name": v} if isinstance(v, str) else v

    @model_validator(mode="after")
    def _resolve(self):
        if self.other:
            self.kind = "other"
            return self
        v = vocab()
        t = v.resolve("form", self.name) or v.resolve("form", _strip_dose(self.name))
        if t is not None:
            self.kind, self.id = "vitamin_k", t.id
            return self
        r = drug_vocab().find(self.name)
        if r is not None:
            self.kind, self.id = "drug", r.drug.id
            return self
        a = v.resolve("agent", self.name) or v.resolve("agent", _strip_dose(self.name))
        if a is not None:
            self.kind, self.id = "agent", a.id
            return self
        sugg = v.suggest("form", self.name, 2) + v.suggest("agent", self.name, 2)
        raise _unknown("supplement", self.name, sugg,
                       "name a vitamin K form (K1, MK-4, MK-7, 维生素K2…), vitamin E, calcium or vitamin D, "
                       "or add 'other: true'")

    def ug_per_day(self) -> float | None:
        if self.dose is None or self.dose.unit == "IU":
            return None
        return self.dose.per_day("ug")


def _strip_dose(name: str) -> str:
    return re.sub(r"\s*\d+(\.\d+)?\s*(µg|ug|mcg|mg|微克|毫克)?\s*$", "", name).strip()


# ---- labs -----------------------------------------------------------------------------------------


class LabValue(_Strict):
    value: float
    unit: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _num(cls, v):
        if isinstance(v, bool):
            raise ValueError("a lab value must be a number")
        if isinstance(v, (int, float)):
            return {"value": v}
        if isinstance(v, str):
            raise ValueError(f"a lab value must be a number (or {{value, unit}}), not text {v!r}")
        return v


class Labs(_Strict):
    """Laboratory and DXA results. T-scores by site (SD units)."""

    t_scores: dict[str, float] = Field(default_factory=dict)
    ucoc_ng_ml: float | None = Field(None, ge=0, le=200, alias="ucoc")
    inr: float | None = Field(None, ge=0.5, le=15)
    vitamin_d_25oh_nmol_l: float | None = Field(None, ge=0, le=750, alias="vitamin_d_25oh")
    egfr: float | None = Field(None, ge=0, le=200, description="mL/min/1.73 m²")

    @field_validator("t_scores", mode="before")
    @classmethod
    def _sites(cls, v):
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise ValueError("t_scores must map a site (lumbar_spine, femoral_neck, total_hip, radius) to a number")
        out = {}
        for k, x in v.items():
            site = _site(k)
            if site is None:
                raise _unknown("T-score site", k, list(T_SCORE_SITES), f"use one of {', '.join(T_SCORE_SITES)}")
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise ValueError(f"T-score at {k} must be a number, got {x!r}")
            if not -7.0 <= float(x) <= 5.0:
                raise ValueError(f"T-score {x} at {k} is outside the plausible range -7 to +5")
            out[site] = float(x)
        return out

    @field_validator("vitamin_d_25oh_nmol_l", mode="before")
    @classmethod
    def _vitd(cls, v):
        if isinstance(v, dict):
            lv = LabValue.model_validate(v)
            u = (lv.unit or "nmol/L").replace(" ", "").lower()
            if u in ("ng/ml", "ug/l", "µg/l"):
                return lv.value * NGML_TO_NMOLL_25OHD
            if u in ("nmol/l", "nm"):
                return lv.value
            raise ValueError(f"25-OH-D unit {lv.unit!r}: use nmol/L or ng/mL")
        if isinstance(v, str) or isinstance(v, bool):
            raise ValueError(f"25-OH-D must be a number in nmol/L (or {{value, unit}}), got {v!r}")
        return v

    @field_validator("ucoc_ng_ml", mode="before")
    @classmethod
    def _ucoc(cls, v):
        if isinstance(v, dict):
            lv = LabValue.model_validate(v)
            if lv.unit is None:
                return lv.value
            t = vocab().resolve("unit", lv.unit)
            if t is None or t["dimension"] != "concentration_mass":
                raise ValueError(f"ucOC unit {lv.unit!r}: use ng/mL")
            return vocab().convert(lv.value, t.id, "ng/mL")
        if isinstance(v, str) or isinstance(v, bool):
            raise ValueError(f"ucOC must be a number in ng/mL, got {v!r}")
        return v

    @field_validator("inr", "egfr", mode="before")
    @classmethod
    def _numbers(cls, v):
        if isinstance(v, str) or isinstance(v, bool):
            raise ValueError(f"must be a number, got {v!r}")
        return v


_SITE_ALIASES = {"ls": "lumbar_spine", "spine": "lumbar_spine", "lumbar": "lumbar_spine", "腰椎": "lumbar_spine",
                 "fn": "femoral_neck", "股骨颈": "femoral_neck", "th": "total_hip", "hip": "total_hip",
                 "全髋": "total_hip", "髋部": "total_hip", "桡骨": "radius", "forearm": "radius"}


def _site(k: str) -> str | None:
    key = normalize_key(k)
    for s in T_SCORE_SITES:
        if key == normalize_key(s):
            return s
    return _SITE_ALIASES.get(key)


# ---- diet -----------------------------------------------------------------------------------------


_FREQ_RE = re.compile(r"^\s*(?:(?P<n>\d+(?:\.\d+)?)\s*(?:次|times?|x|×)?\s*)?(?:/|per|a|每|一)?\s*(?P<per>day|d|天|日|week|wk|w|周|星期|month|mo|月)\s*(?:(?P<n2>\d+(?:\.\d+)?)\s*次)?\s*$",
                      re.IGNORECASE)
_FREQ_WORDS = {"daily": 7.0, "every day": 7.0, "每天": 7.0, "每日": 7.0, "天天": 7.0, "weekly": 1.0, "每周": 1.0,
               "monthly": 12 / 52.1775, "每月": 12 / 52.1775, "never": 0.0, "从不": 0.0, "不吃": 0.0}
_PER_WEEK = {"day": 7.0, "d": 7.0, "天": 7.0, "日": 7.0, "week": 1.0, "wk": 1.0, "w": 1.0, "周": 1.0, "星期": 1.0,
             "month": 12 / 52.1775, "mo": 12 / 52.1775, "月": 12 / 52.1775}


def servings_per_week(text: str) -> float:
    """'daily' → 7, '3/week' → 3, '每周3次' → 3, '2 per day' → 14, '每月2次' → 0.46 (weeks of 7 days)."""
    t = str(text).strip().lower()
    if t in _FREQ_WORDS:
        return _FREQ_WORDS[t]
    t2 = t.replace("每", "/").replace("一", "")
    m = _FREQ_RE.match(t2) or _FREQ_RE.match(t)
    if not m:
        raise ValueError(f"cannot read the frequency {text!r}; write e.g. 'daily', '3/week', '每周3次' or a number of times per week")
    n = float(m.group("n") or m.group("n2") or 1)
    return n * _PER_WEEK[m.group("per")]


class FoodItem(_Strict):
    """One line of a short food-frequency list: what, how much each time, how often."""

    food: str = Field(min_length=1)
    serving: str | None = Field(None, description="one serving: '1碗', '100 g', '1 cup' (default: the dish's serving)")
    servings_per_week: float | None = Field(None, ge=0, le=100)
    frequency: str | None = Field(None, description="'daily', '3/week', '每周3次' (alternative to servings_per_week)")

    @field_validator("serving", mode="before")
    @classmethod
    def _serving(cls, v):
        return f"{v:g} g" if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    @model_validator(mode="after")
    def _freq(self):
        if self.servings_per_week is None:
            if self.frequency is None:
                raise ValueError(f"food {self.food!r}: give servings_per_week or frequency")
            self.servings_per_week = servings_per_week(self.frequency)
        return self


class Diet(_Strict):
    """Where the person's intake comes from: a diary file, a food-frequency list, or a known intake."""

    diary: str | None = Field(None, description="diary file (CSV/TXT), relative to the profile file")
    foods: list[FoodItem] = Field(default_factory=list)
    intake_ug_per_day: float | None = Field(None, ge=0, le=20000, description="total vitamin K intake if already known")

    @model_validator(mode="after")
    def _one(self):
        if self.diary and self.foods:
            raise ValueError("give either a diary file or a food list, not both")
        return self


# ---- the profile ----------------------------------------------------------------------------------


class Menopause(_Strict):
    status: Literal["pre", "peri", "post", "not_applicable"] = "post"
    years_since: float | None = Field(None, ge=0, le=80)
    age_at: float | None = Field(None, ge=20, le=70)

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, v):
        if isinstance(v, str):
            return {"status": _MENO.get(v.strip().lower(), v)}
        return v


_MENO = {"premenopausal": "pre", "绝经前": "pre", "perimenopausal": "peri", "围绝经期": "peri",
         "postmenopausal": "post", "绝经后": "post", "已绝经": "post", "n/a": "not_applicable"}
_SEX = {"female": "female", "f": "female", "woman": "female", "女": "female", "女性": "female",
        "male": "male", "m": "male", "man": "male", "男": "male", "男性": "male"}


class RiskFactors(_Strict):
    """Clinical risk factors not captured elsewhere (counts are numbers)."""

    current_smoker: bool = False
    alcohol_3_or_more_units_per_day: bool = False
    parental_hip_fracture: bool = False
    falls_past_year: int = Field(0, ge=0, le=100)
    fractures_after_50: int = Field(0, ge=0, le=50)


class Profile(_Strict):
    """Everything an assessment needs to know about one adult."""

    id: str | None = Field(None, description="a label for the report (no personal identifiers needed)")
    age: float = Field(ge=18, le=110, description="years")
    sex: Literal["female", "male"]
    weight_kg: float = Field(gt=0, le=350, alias="weight")
    height_cm: float | None = Field(None, ge=100, le=250, alias="height")
    menopause: Menopause | None = None
    conditions: list[str] = Field(default_factory=list)
    medicines: list[Medicine] = Field(default_factory=list)
    supplements: list[Supplement] = Field(default_factory=list)
    labs: Labs = Field(default_factory=Labs)
    diet: Diet | None = None
    risk_factors: RiskFactors = Field(default_factory=RiskFactors)
    interests: list[str] = Field(default_factory=list, description="vitamin K forms the person asks about (MK-7, K2 …)")
    model_population: Literal["general", "han_chinese", "european"] = Field(
        "general", description="virtual-population profile the PK/PD model draws genotypes and spread from "
                               "(kbone.model: data/model/populations.yaml)")
    notes: str | None = None

    @field_validator("sex", mode="before")
    @classmethod
    def _sex(cls, v):
        if isinstance(v, str) and v.strip().lower() in _SEX:
            return _SEX[v.strip().lower()]
        return v

    @field_validator("weight_kg")
    @classmethod
    def _weight(cls, v):
        if v < 25:
            raise ValueError(f"weight {v:g} kg is implausibly low for an adult; give the weight in kg")
        return v

    @field_validator("conditions", mode="before")
    @classmethod
    def _conditions(cls, v):
        if v is None:
            return []
        if isinstance(v, str):
            v = [v]
        out = []
        for c in v:
            cid = resolve_condition(str(c))
            if cid is None:
                raise _unknown("condition", c, _suggest(_condition_index(), str(c)),
                               "use a condition kbone knows (see src/kbone/data/rules/conditions.yaml)")
            if cid not in out:
                out.append(cid)
        return out

    @field_validator("interests", mode="before")
    @classmethod
    def _interests(cls, v):
        if v is None:
            return []
        if isinstance(v, str):
            v = [v]
        out = []
        for x in v:
            t = vocab().resolve("form", str(x)) or vocab().resolve("form", _strip_dose(str(x)))
            if t is None:
                raise _unknown("vitamin K form", x, vocab().suggest("form", str(x)), "use K1, MK-4, MK-7, K2 or 维生素K")
            if t.id not in out:
                out.append(t.id)
        return out

    @model_validator(mode="after")
    def _consistent(self):
        if self.sex == "male":
            if self.menopause is not None and self.menopause.status != "not_applicable":
                raise ValueError("menopause applies to women only; remove it for a man")
            if "pregnancy" in self.conditions:
                raise ValueError("pregnancy is listed for a man")
        if self.menopause and self.menopause.years_since is not None and self.menopause.years_since > self.age - 10:
            raise ValueError(f"years since menopause ({self.menopause.years_since:g}) is impossible at age {self.age:g}")
        if self.menopause and self.menopause.age_at is not None and self.menopause.age_at > self.age:
            raise ValueError(f"age at menopause ({self.menopause.age_at:g}) is above the current age ({self.age:g})")
        return self

    # ---- derived views ----
    @property
    def bmi(self) -> float | None:
        return self.weight_kg / (self.height_cm / 100) ** 2 if self.height_cm else None

    @property
    def postmenopausal(self) -> bool:
        return self.sex == "female" and self.menopause is not None and self.menopause.status == "post"

    def has_class(self, cls: str) -> bool:
        return any(cls in m.classes for m in self.medicines)

    def medicines_in(self, cls: str) -> list[Medicine]:
        return [m for m in self.medicines if cls in m.classes]

    def vk_supplements(self) -> list[Supplement]:
        return [s for s in self.supplements if s.kind == "vitamin_k"]

    def populations(self) -> list[str]:
        """Evidence-vocabulary population ids that describe this person."""
        out = ["women" if self.sex == "female" else "men"]
        if self.postmenopausal:
            out.append("postmenopausal")
        if self.age >= 65:
            out.append("older_adults")
        for c in self.conditions:
            p = conditions()[c].population
            if p and p not in out:
                out.append(p)
        if self.has_class("vka"):
            out.append("on_vka")
        if self.has_class("glucocorticoid"):
            out.append("glucocorticoid")
        return out


# ---- loading --------------------------------------------------------------------------------------


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after[_resolve()]", "function-before[_parse()]"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "profile"


def _field_suggestions(loc: tuple, model=Profile) -> list[str]:
    """Closest allowed field names for an unknown key."""
    name = str(loc[-1]) if loc else ""
    cur = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        f = cur.model_fields.get(str(part)) or next((x for x in cur.model_fields.values() if x.alias == part), None)
        if f is None:
            return []
        ann = f.annotation
        args = getattr(ann, "__args__", ()) or ()
        nxt = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if nxt is None:
            for a in args:
                for b in getattr(a, "__args__", ()) or ():
                    if isinstance(b, type) and issubclass(b, BaseModel):
                        nxt = b
        if nxt is None:
            return []
        cur = nxt
    names = [f.alias or k for k, f in cur.model_fields.items()] + list(cur.model_fields)
    return [m[0] for m in process.extract(name, list(dict.fromkeys(names)), limit=3) if m[1] > 50]


def problems_from(err: ValidationError, file: str | None = None) -> list[Problem]:
    """Readable problems (field, reason, fix, suggestions) from a pydantic error."""
    probs = []
    for e in err.errors(include_url=False):
        loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        msg = e["msg"].removeprefix("Value error, ")
        ctx = e.get("ctx") or {}
        fix = ctx.get("fix") if isinstance(ctx.get("fix"), str) else None
        sugg = list(ctx.get("suggestions") or [])
        t = e["type"]
        if t == "extra_forbidden":
            msg = f"unknown field {loc[-1]!r}"
            sugg = _field_suggestions(loc)
            fix = "remove or rename it; 'kbone assess --schema' lists the allowed fields"
        elif t == "missing":
            fix = "add this field"
        elif t in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            msg = f"{msg} (got {e.get('input')!r})"
            fix = "give a value in the plausible range (age 18-110 y, weight in kg, height in cm)"
        elif t == "literal_error":
            fix = "use one of the allowed values"
        probs.append(Problem(field=_loc(loc), reason=msg, fix=fix, file=file, suggestions=sugg))
    return probs


def parse_profile(data: Any, *, file: str | None = None) -> Profile:
    """Validate a profile mapping; raise :class:`KboneInputError` with every problem found."""
    if not isinstance(data, dict):
        raise KboneInputError(Problem(field="profile", file=file, reason="a profile must be a mapping (age:, sex:, weight: …)",
                                      fix="see examples/*.yaml or 'kbone assess --schema'"))
    try:
        return Profile.model_validate(data)
    except ValidationError as e:
        raise KboneInputError(problems_from(e, file)) from None


def load_profile(path: str | Path) -> Profile:
    """Read and validate a YAML or JSON profile file."""
    p, text = read_text_input(path, field="PROFILE", what="a profile YAML/JSON file (see examples/)")
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else getattr(e, "lineno", None)
        raise KboneInputError(Problem(field="PROFILE", file=str(p), line=line,
                                      reason=f"cannot parse {p.suffix.lstrip('.') or 'YAML'}: {getattr(e, 'problem', None) or e}",
                                      fix="fix the syntax (indentation, quotes, colons)")) from None
    return parse_profile(data, file=str(p))


def profile_schema() -> dict:
    """JSON Schema of the profile (``kbone assess --schema``)."""
    return Profile.model_json_schema(by_alias=True, mode="validation")
