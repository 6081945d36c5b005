"""Typed results of kbone.diet (pydantic), shared by the CLI, the web face, assessment and the PK model.

All vitamin K amounts are in micrograms (µg); fat in grams; energy in kcal. A value that the food data do not
have is ``None`` — never 0 — and the result lists which foods had unknown values.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Forms counted in the total, in output order (JSON keys). dihydrophylloquinone is reported separately.
FORMS: tuple[str, ...] = ("k1", "mk4", "mk7", "mk_other")
ALL_FORMS: tuple[str, ...] = (*FORMS, "dihydro_k1")
#: The kbone vocabulary id (``kbone.vocab``, kind ``form``) of each output key.
FORM_VOCAB: dict[str, str] = {"k1": "K1", "mk4": "MK-4", "mk7": "MK-7", "mk_other": "MK-n", "dihydro_k1": "dihydro_K1"}

Quality = Literal["primary", "secondary", "approximate", "unverified", "assumption", "definition"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValueSource(_Model):
    """Where one number comes from: a source id (data/foods/sources.yaml), its quality and how it was derived."""

    source_id: str
    quality: Quality
    citation: str = ""
    basis: str = ""
    note: str = ""


class FormAmounts(_Model):
    """Amounts of each vitamin K form, µg. ``total`` = k1 + mk4 + mk7 + mk_other (known parts only)."""

    k1: float = 0.0
    mk4: float = 0.0
    mk7: float = 0.0
    mk_other: float = 0.0
    total: float = 0.0
    dihydro_k1: float = 0.0
    partial: list[str] = Field(default_factory=list,
                               description="keys (forms, 'total') whose amount counts only known values because some "
                                           "food eaten has no value: a lower bound, unknown when it is 0")


class FoodContent(_Model):
    """Vitamin K content of a food per 100 g (µg; ``None`` = no value in the data), fat g and energy kcal."""

    k1: float | None = None
    mk4: float | None = None
    mk7: float | None = None
    mk_other: float | None = None
    total_known: float = Field(0.0, description="sum of the known forms, µg/100 g (a lower bound if any is None)")
    partial_forms: list[str] = Field(default_factory=list,
                                     description="recipes: forms whose value is a lower bound (an ingredient has no value)")
    dihydro_k1: float | None = None
    fat_g: float | None = None
    energy_kcal: float | None = None


class Candidate(_Model):
    """One ranked answer of a food-name search."""

    food_id: str = Field(description="ndb_no for USDA foods, 'recipe:NAME' for kbone recipes")
    ndb_no: str | None = None
    recipe: str | None = None
    name_zh: str | None = None
    name_en: str = ""
    description: str = Field("", description="USDA SR28 description (or the recipe's English name)")
    names: list[str] = Field(default_factory=list, description="other names and aliases")
    score: float = Field(description="0-100; 100 = exact name")
    matched: str = Field("", description="the name or alias that matched")
    method: str = Field("", description="exact | traditional | pinyin | fuzzy | ndb_no")
    match_quality: str = Field("", description="exact | close | proxy (how well the USDA food matches the name) | recipe")
    note: str = ""
    assumption: bool = False
    per_100g: FoodContent
    sources: dict[str, ValueSource] = Field(default_factory=dict, description="per form: where the value comes from")


class Portion(_Model):
    """A parsed amount turned into grams, with the rule (and source) that gave the weight."""

    quantity: float
    unit: str = Field(description="unit id (g, liang, bowl, piece …)")
    unit_text: str = ""
    grams: float
    basis: str = Field("", description="how the grams were found, e.g. \"USDA SR28 '1 large' = 50 g\"")
    source_id: str = ""
    assumption: bool = False


class NameMatch(_Model):
    """How a food name written in a diary was resolved."""

    text: str
    food_id: str
    name: str
    score: float
    method: str
    match_quality: str
    lines: list[int] = Field(default_factory=list)


class Contributor(_Model):
    """A food's share of the intake over the whole diary (sums over all days)."""

    food_id: str
    ndb_no: str | None = None
    recipe: str | None = None
    name_zh: str | None = None
    name_en: str = ""
    grams: float
    amounts: FormAmounts
    share_of_total: float = Field(description="fraction of the diary's total vitamin K (0-1)")
    match_quality: str = ""
    assumption: bool = False
    unknown_forms: list[str] = Field(default_factory=list)
    sources: dict[str, ValueSource] = Field(default_factory=dict)


class DayIntake(_Model):
    """Intake of one diary day (µg of each form; fat g; energy kcal)."""

    date: str
    day_index: int = Field(description="days since the first diary day (gaps kept)")
    k1: float
    mk4: float
    mk7: float
    mk_other: float
    total: float
    dihydro_k1: float
    fat_g: float
    energy_kcal: float
    n_items: int
    incomplete_forms: list[str] = Field(default_factory=list,
                                        description="forms for which some food eaten that day had no value")


class MealFat(_Model):
    """Fat eaten with a meal and the vitamin K in it, with an absorption note when the meal is low in fat."""

    date: str
    meal: str
    meal_label_zh: str
    meal_label_en: str
    fat_g: float
    fat_complete: bool
    amounts: FormAmounts
    low_fat: bool
    note_en: str = ""
    note_zh: str = ""


class UnknownValue(_Model):
    """A food whose data lack some form(s): the intake counts only what is known."""

    food_id: str
    name_zh: str | None = None
    name_en: str = ""
    forms: list[str]
    partial_forms: dict[str, list[str]] = Field(default_factory=dict,
                                                description="recipes: form → ingredients without a value")


class SkippedLine(_Model):
    line: int
    food: str
    reason: str
    suggestions: list[str] = Field(default_factory=list)


class ReferenceValue(_Model):
    """A reference intake that applies to the person (µg/day)."""

    authority: str
    authority_en: str
    authority_zh: str
    kind: str
    value_ug: float
    compares: Literal["total", "k1"]
    age_min: float
    age_max: float
    sex: str
    stage: str
    source_id: str
    citation: str
    url: str = ""
    quality: Quality
    verified: bool
    secondary: bool
    per_kg_rule: float | None = None
    note_en: str = ""
    note_zh: str = ""


class ReferenceComparison(_Model):
    """Mean intake against one reference value."""

    reference: ReferenceValue
    intake_ug: float = Field(description="mean daily intake of the form(s) the reference counts")
    percent: float = Field(description="intake as % of the reference value")
    intake_complete: bool = Field(description="False if some foods had unknown values for the compared forms")


class Profile(_Model):
    """Who the intake is compared for. Unknown sex → both sexes' values are shown."""

    age: float | None = None
    sex: Literal["male", "female"] | None = None
    weight_kg: float | None = None
    stage: Literal["general", "pregnancy", "lactation"] = "general"


class IntakeResult(_Model):
    """Vitamin K intake computed from a diary (or a food-frequency list)."""

    basis: Literal["diary", "frequency"] = "diary"
    unit: str = "µg"
    source_file: str | None = None
    n_lines: int
    n_days: int
    days: list[DayIntake]
    mean: FormAmounts
    mean_fat_g: float
    contributors: list[Contributor]
    meals: list[MealFat] = Field(default_factory=list)
    unknown: list[UnknownValue] = Field(default_factory=list)
    skipped: list[SkippedLine] = Field(default_factory=list)
    matches: list[NameMatch] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list, description="portion weights and recipes resting on assumptions")
    profile: Profile = Field(default_factory=Profile)
    reference: list[ReferenceComparison] = Field(default_factory=list)
    sources: dict[str, str] = Field(default_factory=dict, description="source id → citation, for every value used")
    notes_en: list[str] = Field(default_factory=list)
    notes_zh: list[str] = Field(default_factory=list)


class DailyDose(_Model):
    """Per-day dose of each form (µg) — the input the PK model turns into a dose event table."""

    day_index: int
    date: str
    k1: float
    mk4: float
    mk7: float
    mk_other: float


class DoseEvent(_Model):
    """One oral dose for the PK model: time since the start of diary day 0 (h), vitamin K form (vocab id), µg."""

    time_h: float
    form: str
    amount_ug: float
    meal: str
    fat_g: float
    time_assumed: bool = True


class FrequencyItem(_Model):
    """A food-frequency answer: a food eaten ``servings_per_week`` times a week, each ``serving`` (e.g. '1碗',
    '100 g'; default: the dish's serving or 100 g)."""

    food: str
    servings_per_week: float = Field(ge=0)
    serving: str | None = None
