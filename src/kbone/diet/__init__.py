"""kbone.diet — vitamin K intake (K1, MK-4, MK-7, other MK-n) from what a person eats, in Chinese and English.

Python API (all results are pydantic models; amounts in µg):

- ``search_foods(name, limit=10) -> list[Candidate]`` — ranked foods for a zh/traditional/pinyin/English name.
- ``read_diary(path) -> Diary`` / ``parse_diary_text(text, fmt)`` — CSV or YAML diaries.
- ``compute_intake(diary_or_path, profile=Profile(...), skip_unknown=False) -> IntakeResult`` — per-day and mean
  intake by form, contributors, fat per meal, unknown values, reference comparison.
- ``daily_doses(result) -> list[DailyDose]`` — per-day µg of each form (for the PK model).
- ``dose_events(result) -> list[DoseEvent]`` — (time h, form vocab id, µg) per meal, for a PK dose table.
- ``compute_frequency(items, profile=...) -> IntakeResult`` — mean daily intake from food + servings per week.
- ``reference_values(profile) -> list[ReferenceValue]`` — reference intakes by authority, age, sex, with sources.
"""

from kbone.diet.diary import Diary, DiaryLine, parse_diary_text, read_diary
from kbone.diet.intake import compute_frequency, compute_intake, daily_doses, dose_events
from kbone.diet.names import search_foods
from kbone.diet.reference import reference_values
from kbone.diet.schema import (
    Candidate,
    DailyDose,
    DoseEvent,
    FrequencyItem,
    IntakeResult,
    Profile,
    ReferenceValue,
)

__all__ = [
    "Candidate", "DailyDose", "Diary", "DiaryLine", "DoseEvent", "FrequencyItem", "IntakeResult", "Profile",
    "ReferenceValue", "compute_frequency", "compute_intake", "daily_doses", "dose_events", "parse_diary_text",
    "read_diary", "reference_values", "search_foods",
]
