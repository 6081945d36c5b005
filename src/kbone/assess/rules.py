"""Interaction and contraindication rules (``data/rules/interactions.yaml``) applied to a profile.

A rule fires when every key of its ``when`` holds and not every key of its ``unless`` holds (see the
header of the YAML for the keys). Alerts come back ordered most severe first (major, moderate, minor,
info), then by level of evidence (A before D), then in file order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from kbone.assess.profile import Profile, conditions
from kbone.evidence.schema import Source
from kbone.i18n import Text
from kbone.paths import data_path
from kbone.vocab import vocab

Severity = Literal["major", "moderate", "minor", "info"]
SEVERITY_RANK = {"major": 0, "moderate": 1, "minor": 2, "info": 3}
SEVERITY_LABELS = {"major": ("Major", "严重"), "moderate": ("Moderate", "中度"), "minor": ("Minor", "轻度"),
                   "info": ("Information", "提示")}
EVIDENCE_LEVELS = ("A", "B", "C", "D")
WHEN_KEYS = {"drug_class", "condition", "vitamin_k_supplement", "low_intake", "min_duration_days", "supplement_min",
             "intake_range_min_ug", "meal_mk7_min_ug"}


def severity_label(sev: str, lang: str = "en") -> str:
    en, zh = SEVERITY_LABELS[sev]
    return zh if lang == "zh" else en


class SupplementMin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    amount: float = Field(gt=0)
    unit: str


class When(BaseModel):
    model_config = ConfigDict(extra="forbid")
    drug_class: list[str] = Field(default_factory=list)
    condition: list[str] = Field(default_factory=list)
    vitamin_k_supplement: bool | None = None
    low_intake: bool | None = None
    min_duration_days: float | None = None
    supplement_min: SupplementMin | None = None
    intake_range_min_ug: float | None = Field(None, gt=0, description="diary: max - min daily vitamin K, µg/day")
    meal_mk7_min_ug: float | None = Field(None, gt=0, description="diary: MK-7 eaten at one meal, µg")

    @field_validator("condition")
    @classmethod
    def _conds(cls, v):
        bad = [c for c in v if c not in conditions()]
        if bad:
            raise ValueError(f"unknown condition(s) {bad} (see data/rules/conditions.yaml)")
        return v


class Rule(BaseModel):
    """One rule as written in the YAML."""

    model_config = ConfigDict(extra="forbid")
    id: str
    severity: Severity
    evidence: Literal["A", "B", "C", "D"]
    likelihood: Literal["likely", "probable", "possible", "unlikely"]
    when: When
    unless: When | None = None
    require_all_classes: bool = False
    flags: list[Literal["deficiency_risk", "blocks_supplements"]] = Field(default_factory=list)
    title: Text
    mechanism: Text
    action: Text
    records: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    assumption: Text | None = Field(None, description="what in the rule (e.g. a threshold) is not sourced")


class Trigger(BaseModel):
    kind: Literal["medicine", "condition", "supplement", "interest", "intake"]
    id: str
    name: str


class Alert(BaseModel):
    """A fired rule: what, how bad, how sure, why, what to do, and where it comes from."""

    id: str
    severity: Severity
    evidence_level: Literal["A", "B", "C", "D"]
    likelihood: str
    title: Text
    mechanism: Text
    action: Text
    triggered_by: list[Trigger] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    records: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    notes: list[Text] = Field(default_factory=list)


@lru_cache(maxsize=1)
def rules() -> list[Rule]:
    """The shipped rules, validated (drug classes checked against the drug vocabulary)."""
    from kbone.assess.drugs import drug_vocab

    doc = yaml.safe_load(data_path("rules", "interactions.yaml").read_text(encoding="utf-8"))
    out = [Rule.model_validate(r) for r in doc["rules"]]
    classes = set(drug_vocab().classes)
    ids = set()
    for r in out:
        if r.id in ids:
            raise ValueError(f"interactions.yaml: duplicate rule id {r.id!r}")
        ids.add(r.id)
        for w in (r.when, r.unless):
            if w is None:
                continue
            bad = [c for c in w.drug_class if c not in classes]
            if bad:
                raise ValueError(f"interactions.yaml rule {r.id!r}: unknown drug class(es) {bad}")
            if w.supplement_min and not _known_supplement(w.supplement_min.id):
                raise ValueError(f"interactions.yaml rule {r.id!r}: unknown supplement {w.supplement_min.id!r}")
    return out


def _known_supplement(sid: str) -> bool:
    from kbone.assess.drugs import drug_vocab

    return sid in drug_vocab().drugs or vocab().has("form", sid) or vocab().has("agent", sid)


@dataclass
class RuleContext:
    """What rules need beyond the profile: whether intake is below the reference (None = unknown)."""

    profile: Profile
    intake_below_reference: bool | None = None
    daily_totals_ug: list[float] | None = None
    max_meal_mk7_ug: float | None = None
    max_meal_mk7_food: str | None = None

    @property
    def low_intake(self) -> bool:
        p = self.profile
        status = any(conditions()[c].vk_status for c in p.conditions)
        return bool(self.intake_below_reference) or status


def _holds(w: When, ctx: RuleContext, require_all: bool, trig: list[Trigger]) -> bool:
    p = ctx.profile
    if w.drug_class:
        meds = [m for m in p.medicines if set(m.classes) & set(w.drug_class)]
        if require_all:
            if not all(any(c in m.classes for m in p.medicines) for c in w.drug_class):
                return False
        elif not meds:
            return False
        if w.min_duration_days is not None:
            meds = [m for m in meds if m.duration_days is None or m.duration_days >= w.min_duration_days]
            if not meds:
                return False
        trig += [Trigger(kind="medicine", id=m.drug or m.name, name=m.name) for m in meds]
    if w.condition:
        hits = [c for c in p.conditions if c in w.condition]
        if not hits:
            return False
        trig += [Trigger(kind="condition", id=c, name=conditions()[c].en) for c in hits]
    if w.vitamin_k_supplement is not None:
        taking = p.vk_supplements()
        asks = p.interests
        has = bool(taking or asks)
        if has != w.vitamin_k_supplement:
            return False
        trig += [Trigger(kind="supplement", id=s.id or s.name, name=s.name) for s in taking]
        trig += [Trigger(kind="interest", id=f, name=f) for f in asks]
    if w.low_intake is not None:
        if ctx.low_intake != w.low_intake:
            return False
        if w.low_intake:
            if ctx.intake_below_reference:
                trig.append(Trigger(kind="intake", id="below_reference", name="intake below reference"))
            trig += [Trigger(kind="condition", id=c, name=conditions()[c].en) for c in p.conditions
                     if conditions()[c].vk_status]
    if w.intake_range_min_ug is not None:
        days = ctx.daily_totals_ug or []
        if len(days) < 2 or max(days) - min(days) < w.intake_range_min_ug:
            return False
        trig.append(Trigger(kind="intake", id="day_to_day_range",
                            name=f"daily vitamin K {min(days):.0f}-{max(days):.0f} µg (range {max(days) - min(days):.0f} µg)"))
    if w.meal_mk7_min_ug is not None:
        mk7 = ctx.max_meal_mk7_ug
        if mk7 is None or mk7 < w.meal_mk7_min_ug:
            return False
        trig.append(Trigger(kind="intake", id="meal_mk7",
                            name=f"{mk7:.0f} µg MK-7 at one meal" + (f" ({ctx.max_meal_mk7_food})" if ctx.max_meal_mk7_food
                                                                     else "")))
    if w.supplement_min is not None:
        sm = w.supplement_min
        hits = []
        for s in p.supplements:
            if s.id != sm.id or s.dose is None:
                continue
            if s.dose.unit == "IU" and sm.unit == "IU":
                amt = s.dose.per_day("IU")
            elif s.dose.unit != "IU" and sm.unit != "IU":
                amt = s.dose.per_day(sm.unit)
            else:
                continue
            if amt >= sm.amount:
                hits.append(s)
        if not hits:
            return False
        trig += [Trigger(kind="supplement", id=s.id, name=s.name) for s in hits]
    return True


def evaluate(profile: Profile, intake_below_reference: bool | None = None,
             rule_list: list[Rule] | None = None, intake=None) -> list[Alert]:
    """All alerts for ``profile``, most severe first (``intake``: an IntakeSummary, for diary-based rules)."""
    ctx = RuleContext(profile, intake_below_reference)
    if intake is not None:
        ctx.daily_totals_ug = list(intake.daily_totals_ug) or None
        ctx.max_meal_mk7_ug = intake.max_meal_mk7_ug
        ctx.max_meal_mk7_food = intake.max_meal_mk7_food
    out: list[tuple[int, Alert]] = []
    for order, r in enumerate(rule_list if rule_list is not None else rules()):
        trig: list[Trigger] = []
        if not _holds(r.when, ctx, r.require_all_classes, trig):
            continue
        if r.unless is not None and _holds(r.unless, ctx, False, []):
            continue
        notes = []
        if intake_below_reference is None and r.when.low_intake is None and _mentions_intake(r):
            notes.append(Text(en="dietary intake unknown: the low-intake version of this rule could not be checked",
                              zh="饮食摄入未知：无法核对本规则的低摄入情形"))
        if r.assumption is not None:
            notes.append(Text(en=f"Assumption: {r.assumption.en}", zh=f"假设：{r.assumption.zh}"))
        seen, uniq = set(), []
        for t in trig:
            if (t.kind, t.id) not in seen:
                seen.add((t.kind, t.id))
                uniq.append(t)
        out.append((order, Alert(id=r.id, severity=r.severity, evidence_level=r.evidence, likelihood=r.likelihood,
                                 title=r.title, mechanism=r.mechanism, action=r.action, triggered_by=uniq,
                                 flags=list(r.flags), records=list(r.records), sources=list(r.sources), notes=notes)))
    out.sort(key=lambda x: (SEVERITY_RANK[x[1].severity], EVIDENCE_LEVELS.index(x[1].evidence_level), x[0]))
    return [a for _, a in out]


def _mentions_intake(r: Rule) -> bool:
    return r.unless is not None and r.unless.low_intake is True
