"""Candidate options (``data/rules/options.yaml``), each graded against the evidence base.

An option carries its evidence grade (GRADE-style, :mod:`kbone.evidence.grade`) for the goal's primary
outcomes, the grades of its other outcomes, the record ids behind them, and "no trial evidence" where
no randomised study of the form addresses the goal. An option without any record id is not shown; it
is listed in ``omitted`` with the reason. For people on a vitamin K antagonist no supplement dose is
suggested: every option is marked ``clinician_managed_only`` (stable intake + INR monitoring).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from kbone.assess.profile import Profile
from kbone.assess.rules import Alert
from kbone.evidence.grade import Estimate, Grade, covered_forms, grade
from kbone.evidence.schema import Record, Source
from kbone.i18n import Text
from kbone.paths import data_path

Status = Literal["option", "prescription", "clinician_managed_only"]


@lru_cache(maxsize=1)
def options_data() -> dict:
    return yaml.safe_load(data_path("rules", "options.yaml").read_text(encoding="utf-8"))


class Question(BaseModel):
    """One graded evidence question of an option."""

    role: Literal["primary", "secondary", "marker", "related"]
    outcomes: list[str]
    population: str | None = None
    grade: Grade


class ExpectedEffect(BaseModel):
    """A model prediction for the option: outcome, change with its interval, unit and the model that made it."""

    outcome: str
    label: Text
    central: float
    low: float
    high: float
    unit: str
    model: str
    note: Text | None = None


class Option(BaseModel):
    id: str
    kind: Literal["diet", "supplement"]
    form: str
    goal: str
    label: Text
    status: Status = "option"
    dose_ug: tuple[float, float] | None = Field(None, description="daily amount as studied, µg (None: no dose suggested)")
    dose_source: Source | None = None
    evidence_grade: str = Field(description="GRADE level for the goal's primary outcomes, or no_evidence")
    records: list[str] = Field(min_length=1)
    no_trial_evidence: bool = False
    evidence: list[Question] = Field(default_factory=list)
    evidence_estimate: Estimate | None = None
    expected_effects: list[ExpectedEffect] = Field(default_factory=list)
    notes: list[Text] = Field(default_factory=list)
    asked: bool = False
    current: bool = False


class Omitted(BaseModel):
    id: str
    label: Text
    reason: Text


def _population(profile: Profile, goal: str) -> str | None:
    if goal == "oa":
        return "oa"
    if profile.sex == "male":
        return "men"
    return "postmenopausal" if profile.postmenopausal else "women"


EffectFn = Callable[[dict, Profile], list[ExpectedEffect]]


def _at_reference(intake) -> bool:
    """Intake at or above every verified reference intake it is compared with."""
    if intake is None or not intake.available:
        return False
    refs = [r for r in intake.references if r.verified and r.percent is not None]
    return bool(refs) and all(r.percent >= 100.0 for r in refs)


def build_options(profile: Profile, records: list[Record], alerts: list[Alert],
                  effect_fn: EffectFn | None = None, intake=None) -> tuple[list[Option], list[Omitted]]:
    """Options for ``profile`` graded over ``records``; ``effect_fn`` adds model predictions; ``intake``
    (an :class:`~kbone.assess.intake.IntakeSummary`) tailors the diet option."""
    doc = options_data()
    goals = doc["goals"]
    managed = any("blocks_supplements" in a.flags for a in alerts)
    out: list[Option] = []
    omitted: list[Omitted] = []
    for spec in doc["options"]:
        when = spec.get("when") or {}
        if when.get("conditions") and not set(when["conditions"]) & set(profile.conditions):
            continue
        g = goals[spec["goal"]]
        pop = _population(profile, spec["goal"])
        qs = [Question(role=role, outcomes=g[role], population=pop, grade=grade(records, spec["form"], g[role], pop))
              for role in ("primary", "secondary", "marker")]
        recs = [r for q in qs for r in q.grade.all_records]
        notes: list[Text] = []
        if spec.get("note"):
            notes.append(Text(**spec["note"]))
        trial = any(q.grade.trial_evidence for q in qs[:2])
        if not trial:
            goal_lbl = g["label"]
            notes.append(Text(en=f"No trial evidence: no randomised study of {spec['form']} reports {goal_lbl['en']}.",
                              zh=f"无试验证据：没有随机研究报告{spec['form']}对{goal_lbl['zh']}的作用。"))
        if not recs:
            for rf in spec.get("related_forms", []):
                rq = grade(records, rf, g["primary"] + g["secondary"], pop)
                if rq.all_records:
                    qs.append(Question(role="related", outcomes=g["primary"] + g["secondary"], population=pop, grade=rq))
                    recs += rq.all_records
                    notes.append(Text(
                        en=f"The records cited concern vitamin K ({rf}) status or intake in observational studies, not {spec['form']} supplements.",
                        zh=f"所引记录涉及观察性研究中的维生素K（{rf}）状态或摄入，而非{spec['form']}补充剂。"))
                    break
        recs = list(dict.fromkeys(recs))
        label = Text(**spec["label"])
        if not recs:
            omitted.append(Omitted(id=spec["id"], label=label,
                                   reason=Text(en="no record in the evidence base addresses it",
                                               zh="证据库中没有相关记录")))
            continue
        status: Status = "prescription" if spec["form"] == "MK-4" and spec.get("dose_ug", [0])[0] >= 15000 else "option"
        dose = tuple(spec["dose_ug"]) if spec.get("dose_ug") else None
        if spec["kind"] == "diet" and _at_reference(intake):
            label = Text(en="Keep eating vitamin K-rich foods (your intake is already at or above the reference intakes)",
                         zh="继续保持富含维生素K的饮食（您的摄入已达到或超过参考摄入量）")
        if managed:
            status, dose = "clinician_managed_only", None
            if spec["kind"] == "diet":
                label = Text(en="Keep vitamin K intake steady from day to day (no sudden increases or decreases)",
                             zh="保持每天维生素K摄入稳定（不要突然增加或减少）")
            notes.insert(0, Text(
                en="On a vitamin K antagonist: only as part of anticoagulation-clinic management with INR monitoring; "
                   "no dose is suggested here.",
                zh="正在服用维生素K拮抗剂：只能在抗凝门诊管理并监测INR的前提下考虑；此处不建议任何剂量。"))
        est = qs[0].grade.estimate or qs[1].grade.estimate
        opt = Option(id=spec["id"], kind=spec["kind"], form=spec["form"], goal=spec["goal"], label=label,
                     status=status, dose_ug=dose,
                     dose_source=Source(**spec["dose_source"]) if spec.get("dose_source") else None,
                     evidence_grade=qs[0].grade.level, records=recs, no_trial_evidence=not trial, evidence=qs,
                     evidence_estimate=est, notes=notes,
                     asked=any(spec["form"] in covered_forms(f) for f in profile.interests),
                     current=any(s.id == spec["form"] for s in profile.vk_supplements()))
        if effect_fn is not None and not managed:
            opt.expected_effects = effect_fn(spec, profile)
        out.append(opt)
    return out, omitted
