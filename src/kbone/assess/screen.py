"""Bone screening from a profile: OSTA index, WHO T-score class, clinical risk factors, and a 10-year
fracture risk only where a method with public equations is implementable (Garvan nomogram, model I,
women with a femoral-neck T-score). Coefficients and sources live in ``data/rules/screening.yaml``.

Units: weight kg, age years, T-score SD units, risk in percent over 10 years.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from kbone.assess.profile import Profile, conditions
from kbone.evidence.schema import Source
from kbone.i18n import Text
from kbone.paths import data_path


@lru_cache(maxsize=1)
def screening_params() -> dict:
    return yaml.safe_load(data_path("rules", "screening.yaml").read_text(encoding="utf-8"))


def _sources(section: str) -> list[Source]:
    return [Source(**s) for s in screening_params()[section]["sources"]]


class Osta(BaseModel):
    """OSTA = (weight − age) × 0.2; > −1 low, −1 to −4 medium, < −4 high."""

    index: float
    risk: Literal["low", "medium", "high"]
    bmd_test_indicated: bool
    applicable: bool = Field(description="derived in postmenopausal Asian women")
    note: Text | None = None
    sources: list[Source] = Field(default_factory=list)


def osta_index(weight_kg: float, age: float) -> float:
    """OSTA index from weight (kg) and age (years)."""
    return (weight_kg - age) * screening_params()["osta"]["factor"]


def osta_risk(index: float) -> str:
    o = screening_params()["osta"]
    if index > o["low_above"]:
        return "low"
    if index < o["high_below"]:
        return "high"
    return "medium"


def osta(profile: Profile) -> Osta:
    o = screening_params()["osta"]
    idx = osta_index(profile.weight_kg, profile.age)
    applicable = profile.postmenopausal
    note = None
    if not applicable:
        note = Text(en="OSTA was derived in postmenopausal Asian women; for this person it is indicative only.",
                    zh="OSTA源自亚洲绝经后女性；对此人仅供参考。")
    return Osta(index=round(idx, 2), risk=osta_risk(idx), bmd_test_indicated=idx <= o["bmd_test_at_or_below"],
                applicable=applicable, note=note, sources=_sources("osta"))


class TScoreClass(BaseModel):
    """WHO densitometric class from the lowest T-score among the sites measured."""

    scores: dict[str, float]
    lowest_site: str | None = None
    lowest: float | None = None
    category: Literal["normal", "low_bone_mass", "osteoporosis", "severe_osteoporosis", "not_measured"]
    applicable: bool = True
    note: Text | None = None
    sources: list[Source] = Field(default_factory=list)


CATEGORY_LABELS = {"normal": ("normal", "正常"), "low_bone_mass": ("low bone mass (osteopenia)", "低骨量（骨量减少）"),
                   "osteoporosis": ("osteoporosis", "骨质疏松"),
                   "severe_osteoporosis": ("severe (established) osteoporosis", "严重骨质疏松"),
                   "not_measured": ("not measured", "未测")}


def who_class(t: float) -> str:
    w = screening_params()["who_t_score"]
    if t <= w["osteoporosis_at_or_below"]:
        return "osteoporosis"
    if t >= w["normal_at_or_above"]:
        return "normal"
    return "low_bone_mass"


def t_score_class(profile: Profile) -> TScoreClass:
    w = screening_params()["who_t_score"]
    scores = dict(profile.labs.t_scores)
    if not scores:
        return TScoreClass(scores={}, category="not_measured", sources=_sources("who_t_score"),
                           note=Text(en="No DXA T-score given.", zh="未提供双能X线T值。"))
    site = min(scores, key=scores.get)
    low = scores[site]
    cat = who_class(low)
    if cat == "osteoporosis" and ("prior_fragility_fracture" in profile.conditions
                                  or profile.risk_factors.fractures_after_50 > 0):
        cat = "severe_osteoporosis"
    applicable = profile.postmenopausal or (profile.sex == "male" and profile.age >= w["min_age_men"])
    note = None
    if not applicable:
        note = Text(en="WHO T-score classes apply to postmenopausal women and men aged 50 or more; here they are indicative only.",
                    zh="WHO T值分级适用于绝经后女性和50岁及以上男性；此处仅供参考。")
    return TScoreClass(scores=scores, lowest_site=site, lowest=low, category=cat, applicable=applicable,
                       note=note, sources=_sources("who_t_score"))


class RiskFactor(BaseModel):
    id: str
    label: Text
    detail: Text | None = None
    assumption: bool = False


def risk_factors(profile: Profile) -> list[RiskFactor]:
    """Clinical risk factors for fracture present in the profile (listed, not scored)."""
    rp = screening_params()["risk_factors"]
    rf = profile.risk_factors
    out: list[RiskFactor] = []
    if profile.age >= rp["age_from"]:
        out.append(RiskFactor(id="age", label=Text(en=f"age {profile.age:g} years", zh=f"年龄 {profile.age:g} 岁"),
                              detail=Text(en="fracture risk rises steeply with age", zh="骨折风险随年龄急剧上升")))
    if profile.sex == "female" and profile.postmenopausal:
        out.append(RiskFactor(id="postmenopausal", label=Text(en="postmenopausal", zh="绝经后")))
    meno = profile.menopause
    if meno and meno.age_at is not None and meno.age_at < rp["early_menopause_before"]:
        out.append(RiskFactor(id="early_menopause", assumption=True,
                              label=Text(en=f"early menopause (age {meno.age_at:g})", zh=f"过早绝经（{meno.age_at:g} 岁）")))
    bmi = profile.bmi
    if bmi is not None and bmi < rp["low_bmi_below"]:
        out.append(RiskFactor(id="low_bmi", assumption=True,
                              label=Text(en=f"low BMI ({bmi:.1f} kg/m²)", zh=f"体重指数低（{bmi:.1f} kg/m²）")))
    nfx = rf.fractures_after_50
    if "prior_fragility_fracture" in profile.conditions or nfx:
        n = max(nfx, 1)
        out.append(RiskFactor(id="prior_fracture", label=Text(en=f"prior fragility fracture ({n})", zh=f"既往脆性骨折（{n} 次）")))
    if rf.parental_hip_fracture:
        out.append(RiskFactor(id="parental_hip_fracture", label=Text(en="parent had a hip fracture", zh="父母髋部骨折史")))
    if rf.current_smoker:
        out.append(RiskFactor(id="smoking", label=Text(en="current smoking", zh="目前吸烟")))
    if rf.alcohol_3_or_more_units_per_day:
        out.append(RiskFactor(id="alcohol", label=Text(en="alcohol 3 or more units a day", zh="每日饮酒3个单位及以上")))
    if rf.falls_past_year:
        out.append(RiskFactor(id="falls", label=Text(en=f"{rf.falls_past_year} fall(s) in the past year",
                                                     zh=f"过去一年跌倒 {rf.falls_past_year} 次")))
    gcs = profile.medicines_in("glucocorticoid")
    if gcs:
        out.append(RiskFactor(id="glucocorticoids", label=Text(en="glucocorticoid use: " + ", ".join(m.name for m in gcs),
                                                               zh="使用糖皮质激素：" + "、".join(m.name for m in gcs))))
    for c in profile.conditions:
        cond = conditions()[c]
        if cond.risk_factor and c != "prior_fragility_fracture":
            out.append(RiskFactor(id=c, label=Text(en=cond.en, zh=cond.zh)))
    return out


class FractureRisk(BaseModel):
    """10-year fracture risk from a method whose equations are public — or why none is given."""

    available: bool
    method: str | None = None
    outcome: Text | None = None
    percent: float | None = None
    bound: Literal["<", ">"] | None = None
    points: float | None = None
    public_equations: bool = True
    coefficients_secondary: bool = False
    notes: list[Text] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)


def garvan_points(age: float, fn_t: float, fractures: int, falls: int) -> float:
    """Total points of the Garvan nomogram (model I, women)."""
    g = screening_params()["garvan"]["points"]
    return (g["age"]["slope"] * age + g["age"]["intercept"] + g["t_score"]["slope"] * fn_t + g["t_score"]["intercept"]
            + min(g["fracture_max"], fractures * g["fracture_each"]) + min(g["fall_max"], falls * g["fall_each"]))


def garvan_risk10(points: float) -> tuple[float, str | None]:
    """10-year risk (%) of any low-trauma fracture from total points; bound '<'/'>' outside the curve."""
    r = screening_params()["garvan"]["risk10"]
    if points < r["below"]["points"]:
        return float(r["below"]["risk"]), "<"
    if points > r["above"]["points"]:
        return float(r["above"]["risk"]), ">"
    for piece in r["pieces"]:
        if piece["from"] <= points <= piece["to"]:
            return piece["a"] * points ** 2 + piece["b"] * points + piece["c"], None
    raise AssertionError("garvan risk curve has a gap")  # the pieces cover [below, above]


def fracture_risk(profile: Profile) -> FractureRisk:
    g = screening_params()["garvan"]
    srcs = [Source(**s) for s in g["sources"]]
    na = Text(**g["not_available"])
    fn = profile.labs.t_scores.get("femoral_neck")
    reasons = []
    if profile.sex != g["sex"]:
        reasons.append(Text(en="the implementable Garvan model is for women only", zh="可实现的Garvan模型仅适用于女性"))
    if fn is None:
        reasons.append(Text(en="needs a femoral-neck T-score", zh="需要股骨颈T值"))
    if not g["age_min"] <= profile.age <= g["age_max"]:
        reasons.append(Text(en=f"derived for ages {g['age_min']}-{g['age_max']}", zh=f"适用年龄 {g['age_min']}–{g['age_max']} 岁"))
    if fn is not None and not g["t_min"] <= fn <= g["t_max"]:
        reasons.append(Text(en="T-score outside the nomogram's range", zh="T值超出列线图范围"))
    if reasons:
        return FractureRisk(available=False, notes=[*reasons, na], sources=srcs)
    nfx = max(profile.risk_factors.fractures_after_50, 1 if "prior_fragility_fracture" in profile.conditions else 0)
    pts = garvan_points(profile.age, fn, nfx, profile.risk_factors.falls_past_year)
    pct, bound = garvan_risk10(pts)
    return FractureRisk(available=True, method=g["model"], percent=round(pct, 1), bound=bound, points=round(pts, 1),
                        outcome=Text(en="10-year risk of any low-trauma fracture", zh="10年内任何低创伤性骨折风险"),
                        coefficients_secondary=True,
                        notes=[Text(**g["calibration_note"]),
                               Text(en="Point scale and risk curve read on a secondary page transcribing the published nomogram.",
                                    zh="分值与风险曲线取自转录已发表列线图的二手网页。")],
                        sources=srcs)


class Screening(BaseModel):
    osta: Osta
    t_score: TScoreClass
    risk_factors: list[RiskFactor]
    fracture_risk: FractureRisk
    assumptions: list[Text] = Field(default_factory=list)


def screen(profile: Profile) -> Screening:
    rp = screening_params()["risk_factors"]
    rfs = risk_factors(profile)
    assumptions = []
    if any(r.assumption for r in rfs):
        assumptions.append(Text(en="assumption: " + rp["assumption_note"], zh="假设：" + rp["assumption_note_zh"]))
    return Screening(osta=osta(profile), t_score=t_score_class(profile), risk_factors=rfs,
                     fracture_risk=fracture_risk(profile), assumptions=assumptions)
