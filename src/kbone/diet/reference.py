"""Reference intakes of vitamin K by authority, age and sex (data/foods/reference_intakes.yaml).

Each value carries its source and quality; values read only in secondary sources are marked ``secondary`` and the
FAO/WHO values, which could not be read, are marked ``unverified``. EFSA's AI counts phylloquinone (K1) only and
is compared with K1; the others are compared with total vitamin K (K1 + menaquinones).
"""

from __future__ import annotations

from functools import lru_cache

import yaml

from kbone.diet.schema import FormAmounts, Profile, ReferenceComparison, ReferenceValue
from kbone.errors import KboneInputError
from kbone.paths import data_path

ADULT_AGE_DEFAULT = 30.0
AUTHORITY_ORDER = ("CN", "US", "EU", "JP", "WHO")


@lru_cache(maxsize=1)
def _doc() -> dict:
    return yaml.safe_load(data_path("foods", "reference_intakes.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _sources() -> dict:
    return yaml.safe_load(data_path("foods", "sources.yaml").read_text(encoding="utf-8"))["sources"]


def authorities() -> dict[str, dict]:
    """Authority code → labels and notes."""
    return dict(_doc()["authorities"])


def _value(row: dict, profile: Profile) -> ReferenceValue:
    auth = _doc()["authorities"][row["authority"]]
    src = _sources()[row["source"]]
    value = float(row["ug"])
    per_kg = auth.get("per_kg")
    note_en, note_zh = auth.get("note_en", ""), auth.get("note_zh", "")
    if per_kg and profile.weight_kg:
        value = round(per_kg * profile.weight_kg, 1)
        note_en = f"{per_kg:g} µg/kg × {profile.weight_kg:g} kg = {value:g} µg/day (table value {row['ug']:g}). " + note_en
        note_zh = f"{per_kg:g} µg/kg × {profile.weight_kg:g} kg = {value:g} µg/天（表中值 {row['ug']:g}）。" + note_zh
    if row.get("note"):
        note_en += f" ({row['note']})"
    quality = row["quality"]
    return ReferenceValue(
        authority=row["authority"], authority_en=auth["en"], authority_zh=auth["zh"], kind=auth["kind"],
        value_ug=value, compares=auth["compares"], age_min=row["age_min"], age_max=row["age_max"], sex=row["sex"],
        stage=row["stage"], source_id=row["source"], citation=src["citation"], url=src.get("url", ""),
        quality=quality, verified=quality in ("primary", "secondary"), secondary=quality == "secondary",
        per_kg_rule=per_kg, note_en=note_en.strip(), note_zh=note_zh.strip())


def reference_values(profile: Profile | None = None, authorities_wanted: list[str] | None = None) -> list[ReferenceValue]:
    """Reference intakes that apply to ``profile`` (age in years; unknown age → adult; unknown sex → both)."""
    profile = profile or Profile()
    age = ADULT_AGE_DEFAULT if profile.age is None else profile.age
    if age < 0 or age > 130:
        raise KboneInputError(f"age {age:g} is outside 0-130 years", field="age", fix="give the age in years")
    if profile.stage != "general" and profile.sex == "male":
        raise KboneInputError(f"{profile.stage} applies to women", field="stage", fix="use --sex female")
    wanted = [a.upper() for a in (authorities_wanted or AUTHORITY_ORDER)]
    unknown = [a for a in wanted if a not in _doc()["authorities"]]
    if unknown:
        raise KboneInputError(f"unknown authority {', '.join(unknown)}", field="authority",
                              fix=f"use one of {', '.join(AUTHORITY_ORDER)}")
    sexes = [profile.sex] if profile.sex else ["male", "female"]
    out: list[ReferenceValue] = []
    for auth in wanted:
        rows = [r for r in _doc()["values"] if r["authority"] == auth and r["age_min"] <= age < r["age_max"]]
        seen: set[tuple] = set()
        for sex in sexes:
            cand = [r for r in rows if r["sex"] in (sex, "any")]
            stage_rows = [r for r in cand if r["stage"] == profile.stage] if sex == "female" else []
            chosen = stage_rows or [r for r in cand if r["stage"] == "general"]
            # a sex-specific row wins over an 'any' row
            chosen.sort(key=lambda r: r["sex"] == "any")
            for r in chosen[:1]:
                key = (r["authority"], r["age_min"], r["sex"], r["stage"])
                if key not in seen:
                    seen.add(key)
                    out.append(_value(r, profile))
    return out


def compare(mean: FormAmounts, refs: list[ReferenceValue], complete: dict[str, bool] | None = None) \
        -> list[ReferenceComparison]:
    """Mean daily intake against each reference (K1 for EFSA, total for the others)."""
    complete = complete or {}
    out = []
    for r in refs:
        intake = mean.k1 if r.compares == "k1" else mean.total
        forms = ("k1",) if r.compares == "k1" else ("k1", "mk4", "mk7", "mk_other")
        ok = all(complete.get(f, True) for f in forms)
        out.append(ReferenceComparison(reference=r, intake_ug=round(intake, 2),
                                       percent=round(100.0 * intake / r.value_ug, 1) if r.value_ug else 0.0,
                                       intake_complete=ok))
    return out
