"""A person's vitamin K intake and reference intakes, computed by :mod:`kbone.diet` (never re-implemented here).

:func:`intake_for` turns the profile's diet (a diary file, a food-frequency list, or a known total) into an
:class:`IntakeSummary`: mean µg/day by form, supplements taken, the reference intakes that apply to the
person (from ``kbone.diet``), and whether intake is below every verified reference. When ``kbone.diet`` does
not provide what is needed, the summary says so (``available: false``) instead of guessing.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from kbone.assess.profile import Profile
from kbone.errors import KboneInputError, Problem
from kbone.i18n import Text

FORM_KEYS = {"k1": "K1", "mk4": "MK-4", "mk7": "MK-7", "mk_other": "MK-n"}


class ReferenceLine(BaseModel):
    """One reference intake that applies to the person, and the intake as a percent of it."""

    authority: str
    label: Text
    value_ug: float
    compares: str = Field(description="'total' (all forms) or 'k1' (phylloquinone only)")
    intake_ug: float | None = None
    percent: float | None = None
    verified: bool = True
    secondary: bool = False
    citation: str = ""
    url: str = ""
    source_id: str = ""
    note: Text | None = None


class Contributor(BaseModel):
    name: Text
    ug_per_day: float
    share: float


class IntakeSummary(BaseModel):
    available: bool
    basis: str = Field(description="diary | frequency | given | none")
    source_file: str | None = None
    n_days: int | None = None
    by_form_ug: dict[str, float | None] = Field(
        default_factory=dict, description="mean µg/day from food, by form id; null = unknown (no food eaten has a value)")
    total_ug: float | None = None
    daily_totals_ug: list[float] = Field(default_factory=list, description="diary: total vitamin K of each day, µg")
    max_meal_mk7_ug: float | None = Field(None, description="diary: most MK-7 eaten at one meal, µg")
    max_meal_mk7_food: str | None = Field(None, description="the food giving most MK-7 in the diary")
    partial_forms: list[str] = Field(default_factory=list,
                                     description="form ids (and 'total') counted from known values only: lower bounds")
    supplements_ug: dict[str, float] = Field(default_factory=dict, description="µg/day from supplements, by form id")
    references: list[ReferenceLine] = Field(default_factory=list)
    below_reference: bool | None = Field(None, description="below every verified reference intake (None = unknown)")
    contributors: list[Contributor] = Field(default_factory=list)
    notes: list[Text] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    data_sources: list[str] = Field(default_factory=list, description="citations of the food data used")
    todo: list[str] = Field(default_factory=list, description="what kbone.diet did not provide")


def supplement_ug(profile: Profile) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in profile.vk_supplements():
        ug = s.ug_per_day()
        if ug is not None:
            out[s.id] = out.get(s.id, 0.0) + ug
    return out


def _diet_profile(profile: Profile):
    from kbone.diet.schema import Profile as DietProfile

    stage = "pregnancy" if "pregnancy" in profile.conditions else "general"
    return DietProfile(age=profile.age, sex=profile.sex, weight_kg=profile.weight_kg, stage=stage)


def _reference_lines(comparisons) -> list[ReferenceLine]:
    out = []
    for c in comparisons:
        r = c.reference
        note = Text(en=r.note_en, zh=r.note_zh) if (r.note_en or r.note_zh) else None
        out.append(ReferenceLine(authority=r.authority, label=Text(en=f"{r.authority_en} {r.kind}", zh=f"{r.authority_zh}{r.kind}"),
                                 value_ug=r.value_ug, compares=r.compares, intake_ug=c.intake_ug, percent=c.percent,
                                 verified=r.verified, secondary=r.secondary, citation=r.citation, url=r.url,
                                 source_id=r.source_id, note=note))
    return out


def _below(lines: list[ReferenceLine]) -> bool | None:
    """Below every verified reference intake (None when there is none to compare with)."""
    ver = [x for x in lines if x.verified and x.percent is not None]
    if not ver:
        return None
    return all(x.percent < 100.0 for x in ver)


def intake_for(profile: Profile, *, diary: str | Path | None = None, base_dir: Path | None = None) -> IntakeSummary:
    """Intake summary for the profile (``diary`` overrides the profile's own diet)."""
    from kbone.diet.intake import compute_frequency, compute_intake
    from kbone.diet.reference import compare, reference_values
    from kbone.diet.schema import FormAmounts

    supp = supplement_ug(profile)
    diet = profile.diet
    if diary is None and diet is not None and diet.diary:
        diary = Path(diet.diary)
        if not diary.is_absolute() and base_dir is not None:
            diary = base_dir / diary
    if diary is not None and not Path(diary).is_file():
        raise KboneInputError(Problem(field="diary", reason=f"diary file {diary} does not exist",
                                      fix="give the path of a diary CSV/YAML file (relative paths in a profile are "
                                          "relative to the profile file)"))
    dprof = _diet_profile(profile)
    if diary is not None:
        res = compute_intake(diary, profile=dprof)
        basis = "diary"
    elif diet is not None and diet.foods:
        res = compute_frequency([{"food": f.food, "servings_per_week": f.servings_per_week, "serving": f.serving}
                                 for f in diet.foods], profile=dprof)
        basis = "frequency"
    elif diet is not None and diet.intake_ug_per_day is not None:
        # a total given by the clinician: only references that count all forms can be compared
        refs = [r for r in reference_values(dprof) if r.compares == "total"]
        tot = diet.intake_ug_per_day
        lines = _reference_lines(compare(FormAmounts(total=tot), refs))
        return IntakeSummary(available=True, basis="given", total_ug=tot, supplements_ug=supp, references=lines,
                             below_reference=_below(lines),
                             notes=[Text(en="Intake as given in the profile (not split by form).",
                                         zh="摄入量为资料中给出的数值（未按形式区分）。")])
    else:
        return IntakeSummary(available=False, basis="none", supplements_ug=supp,
                             notes=[Text(en="No diet information: intake not assessed.",
                                         zh="未提供饮食信息：未评估摄入量。")])
    return _summary_from(res, basis, supp)


def _summary_from(res, basis: str, supp: dict[str, float]) -> IntakeSummary:
    m = res.mean
    by_form = {FORM_KEYS[k]: (None if k in m.partial and getattr(m, k) == 0 else round(getattr(m, k), 2))
               for k in FORM_KEYS}
    partial = [FORM_KEYS[k] for k in FORM_KEYS if k in m.partial] + (["total"] if "total" in m.partial else [])
    lines = _reference_lines(res.reference)
    contribs = [Contributor(name=Text(en=c.name_en or (c.name_zh or c.food_id), zh=c.name_zh or c.name_en or c.food_id),
                            ug_per_day=round(c.share_of_total * m.total, 2),
                            share=c.share_of_total)
                for c in res.contributors[:5]]
    notes = [Text(en=en, zh=zh) for en, zh in zip(res.notes_en, res.notes_zh, strict=False)]
    if res.unknown:
        notes.append(Text(en=f"{len(res.unknown)} food(s) lack values for some forms; intake counts only known values.",
                          zh=f"{len(res.unknown)} 种食物部分形式缺少数据；摄入量只计已知数值。"))
    mk7_meal = max((x.amounts.mk7 for x in res.meals), default=None)
    mk7_top = max(res.contributors, key=lambda c: c.amounts.mk7, default=None)
    mk7_food = (mk7_top.name_zh or mk7_top.name_en) if mk7_top is not None and mk7_top.amounts.mk7 > 0 else None
    return IntakeSummary(available=True, basis=basis, source_file=res.source_file, n_days=res.n_days or None,
                         daily_totals_ug=[round(d.total, 2) for d in res.days], max_meal_mk7_ug=mk7_meal,
                         max_meal_mk7_food=mk7_food,
                         by_form_ug=by_form, total_ug=round(m.total, 2), partial_forms=partial, supplements_ug=supp, references=lines,
                         below_reference=_below(lines), contributors=contribs, notes=notes,
                         assumptions=list(res.assumptions), data_sources=sorted(set(res.sources.values())))
