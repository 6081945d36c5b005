"""Schema of an evidence record (one YAML file per study in ``data/evidence/``).

Every number carries a :class:`Source` (URL/PMID/DOI plus the passage it was read in), given on the
number's own object or on the outcome/arm that holds it. Unknown values stay ``null``; they are never
invented. Vocabulary ids (forms, outcomes, units, designs, populations, agents, countries) are checked
against :mod:`kbone.vocab`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    field_validator,
    model_validator,
)

from kbone.vocab import vocab

IntegrityStatus = Literal["ok", "flagged", "expression_of_concern", "retracted"]
INTEGRITY_ORDER = {"ok": 0, "flagged": 1, "expression_of_concern": 2, "retracted": 3}
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _check_term(kind: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not vocab().has(kind, value):
        sugg = vocab().suggest(kind, value)
        raise ValueError(f"unknown {kind} {value!r}" + (f"; did you mean {', '.join(sugg)}?" if sugg else ""))
    return value


def _check_unit(value: str | None, dimensions: tuple[str, ...] | None = None) -> str | None:
    if value is None:
        return None
    t = vocab().resolve("unit", value)
    if t is None:
        raise ValueError(f"unknown unit {value!r}; use a unit from data/vocab/units.yaml")
    if dimensions and t["dimension"] not in dimensions:
        raise ValueError(f"unit {value!r} is a {t['dimension']} unit; expected {' or '.join(dimensions)}")
    return t.id


def _term(kind: str) -> AfterValidator:
    return AfterValidator(lambda v: _check_term(kind, v))


def _unit_of(*dimensions: str) -> AfterValidator:
    return AfterValidator(lambda v: _check_unit(v, dimensions or None))


# Vocabulary-checked string types: one definition, used by every model below.
FormId = Annotated[str, _term("form")]
OutcomeId = Annotated[str, _term("outcome")]
AgentId = Annotated[str, _term("agent")]
DesignId = Annotated[str, _term("design")]
CountryId = Annotated[str, _term("country")]
PopulationId = Annotated[str, _term("population")]
UnitId = Annotated[str, _unit_of()]
MassUnitId = Annotated[str, _unit_of("mass")]
DoseUnitId = Annotated[str, _unit_of("mass", "iu")]


class Source(_Strict):
    """Where a number was read: an address (URL, PMID or DOI) and the passage within it."""

    url: str | None = None
    pmid: str | None = None
    doi: str | None = None
    location: str = Field(min_length=2, description="passage location, e.g. 'abstract, Results'")
    quote: str | None = Field(None, description="the words read, where short")
    secondary: bool = Field(False, description="true when read in a secondary source, not the paper")

    @model_validator(mode="after")
    def _address(self):
        if not (self.url or self.pmid or self.doi):
            raise ValueError("a source needs a url, pmid or doi")
        if self.pmid is not None and not str(self.pmid).isdigit():
            raise ValueError(f"pmid must be digits, got {self.pmid!r}")
        return self

    def cite(self) -> str:
        addr = f"PMID {self.pmid}" if self.pmid else (f"doi:{self.doi}" if self.doi else self.url)
        return f"{addr} ({self.location})" + (" [secondary]" if self.secondary else "")


class Citation(_Strict):
    authors: str
    title: str | None = None
    journal: str | None = None
    year: int | None = Field(None, ge=1900, le=2100)
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    url: str | None = None
    language: str | None = None

    @field_validator("pmid")
    @classmethod
    def _pmid(cls, v):
        if v is not None and not str(v).isdigit():
            raise ValueError(f"pmid must be digits, got {v!r}")
        return v

    def short(self) -> str:
        first = self.authors.split(",")[0].split(" ")[0] if self.authors else "?"
        return f"{first} {self.year or 'n.d.'}"

    def text(self) -> str:
        parts = [self.authors.rstrip(".") + "."]
        if self.title:
            parts.append(self.title.rstrip(".") + ".")
        j = " ".join(x for x in [self.journal, f"{self.year};" if self.year else None,
                                 f"{self.volume}" if self.volume else None,
                                 f"({self.issue})" if self.issue else None,
                                 f":{self.pages}" if self.pages else None] if x)
        if j:
            parts.append(j.replace(" (", "(").replace(" :", ":"))
        return " ".join(parts)


class Quantity(_Strict):
    """A number with its unit and source."""

    value: float
    unit: UnitId
    source: Source | None = None


class Dose(_Strict):
    """What a vitamin K arm took: form, amount per ``per`` (day or week)."""

    form: FormId
    amount: float | None = Field(None, gt=0, description="null when the source does not state the dose")
    unit: MassUnitId = "ug"
    per: Literal["day", "week"] = "day"
    regimen: str | None = None

    @property
    def ug_per_day(self) -> float | None:
        """Dose in µg/day, or None when the source does not state it."""
        if self.amount is None:
            return None
        ug = vocab().convert(self.amount, self.unit, "ug")
        return ug / 7.0 if self.per == "week" else ug


class CoIntervention(_Strict):
    agent: AgentId
    amount: float | None = Field(None, gt=0)
    unit: DoseUnitId | None = None
    per: Literal["day", "week"] | None = None
    note: str | None = None


class Arm(_Strict):
    """One randomised group. ``intervention`` is null for a control arm."""

    id: str
    label: str
    role: Literal["intervention", "control"]
    n_randomized: PositiveInt | None = None
    n_analysed: PositiveInt | None = None
    intervention: Dose | None = None
    co_interventions: list[CoIntervention] = Field(default_factory=list)
    comparator: Literal["placebo", "no_treatment", "active", "co_intervention_only"] | None = None
    source: Source | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.role == "intervention" and self.intervention is None:
            raise ValueError(f"arm {self.id!r}: an intervention arm needs 'intervention' (form, amount, unit)")
        if (self.n_randomized or self.n_analysed) and self.source is None:
            raise ValueError(f"arm {self.id!r}: numbers (n) need a 'source'")
        if self.n_randomized and self.n_analysed and self.n_analysed > self.n_randomized:
            raise ValueError(f"arm {self.id!r}: n_analysed ({self.n_analysed}) exceeds n_randomized ({self.n_randomized})")
        return self


class ArmValue(_Strict):
    """A per-arm summary: mean with SD/SE/CI, or events out of total."""

    arm: str
    mean: float | None = None
    sd: float | None = Field(None, ge=0)
    se: float | None = Field(None, ge=0)
    ci_lower: float | None = None
    ci_upper: float | None = None
    median: float | None = None
    n: PositiveInt | None = None
    events: int | None = Field(None, ge=0)
    total: PositiveInt | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.events is not None and self.total is not None and self.events > self.total:
            raise ValueError(f"arm {self.arm!r}: events ({self.events}) exceed total ({self.total})")
        if all(getattr(self, k) is None for k in ("mean", "median", "events")):
            raise ValueError(f"arm {self.arm!r}: give a mean, median or events")
        return self


EffectMeasure = Literal["MD", "SMD", "OR", "RR", "HR", "RD", "PR", "IRR", "ratio_of_means", "percent_difference", "other"]
RATIO_MEASURES = {"OR", "RR", "HR", "PR", "IRR", "ratio_of_means"}


class Effect(_Strict):
    """A reported between-group effect with its interval (ratios on their natural scale)."""

    measure: EffectMeasure
    value: float
    ci_lower: float | None = None
    ci_upper: float | None = None
    ci_level: float = Field(0.95, gt=0, lt=1)
    se: float | None = Field(None, gt=0, description="standard error as reported (analysis scale)")
    p: float | None = Field(None, ge=0, le=1)
    p_text: str | None = None
    adjusted: bool | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.measure in RATIO_MEASURES:
            for k in ("value", "ci_lower", "ci_upper"):
                v = getattr(self, k)
                if v is not None and v <= 0:
                    raise ValueError(f"{self.measure} {k} must be > 0, got {v}")
        if self.ci_lower is not None and self.ci_upper is not None:
            if not self.ci_lower <= self.value <= self.ci_upper:
                raise ValueError(f"effect {self.value} is outside its interval [{self.ci_lower}, {self.ci_upper}]")
        return self


Metric = Literal["percent_change", "absolute_change", "final_value", "events", "incidence", "association", "other"]


class Outcome(_Strict):
    """One outcome of a study: what was measured, when, in whom, and what was found — with its source."""

    id: str
    outcome: OutcomeId
    metric: Metric
    unit: UnitId | None = None
    timepoint_weeks: float | None = Field(None, gt=0)
    treatment_arm: str | None = None
    control_arm: str | None = None
    arm_values: list[ArmValue] = Field(default_factory=list)
    effect: Effect | None = None
    result: str | None = Field(None, description="the finding in words, as the source states it")
    direction: Literal["benefit", "harm", "null", "unclear"] | None = None
    analysis: Literal["itt", "per_protocol", "completers", "unclear"] | None = None
    subgroup: str | None = None
    primary: bool | None = None
    source: Source

    def value_for(self, arm_id: str | None) -> ArmValue | None:
        """The per-arm value reported for ``arm_id`` (None when absent)."""
        return next((v for v in self.arm_values if v.arm == arm_id), None)

    @model_validator(mode="after")
    def _check(self):
        if not (self.arm_values or self.effect or self.result):
            raise ValueError(f"outcome {self.id!r}: give arm_values, an effect, or the result in words")
        if self.metric == "percent_change" and self.unit not in (None, "percent"):
            raise ValueError(f"outcome {self.id!r}: percent_change must have unit '%'")
        if self.metric == "events":
            for av in self.arm_values:
                if av.events is None:
                    raise ValueError(f"outcome {self.id!r}: metric 'events' needs events per arm")
        return self


class PKParameter(_Strict):
    """A pharmacokinetic observation (Tmax, half-life, Cmax …) with its dose and source."""

    form: FormId
    parameter: Literal["tmax", "cmax", "half_life", "auc", "accumulation_ratio", "detectable_until",
                       "bioavailability", "baseline_level", "steady_state_level", "other"]
    value: float | None = None
    low: float | None = None
    high: float | None = None
    unit: UnitId
    dose: Dose | None = None
    single_dose: bool | None = None
    note: str | None = None
    source: Source

    @model_validator(mode="after")
    def _check(self):
        if self.value is None and self.low is None and self.high is None:
            raise ValueError(f"pk parameter {self.parameter!r}: give value or low/high")
        return self


class Recommendation(_Strict):
    """A guideline's statement about a vitamin K form, with its grade as printed (null when not found)."""

    form: FormId | None = None
    indication: str
    grade: str | None = None
    grade_system: str | None = None
    text: str | None = None
    source: Source


class IntegrityEvent(_Strict):
    status: Literal["flagged", "expression_of_concern", "retracted", "correction"]
    date: str | None = Field(None, description="YYYY, YYYY-MM or YYYY-MM-DD")
    reason: str
    source: Source

    @field_validator("date")
    @classmethod
    def _date(cls, v):
        if v is not None and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", str(v)):
            raise ValueError(f"date must be YYYY, YYYY-MM or YYYY-MM-DD, got {v!r}")
        return None if v is None else str(v)


class Integrity(_Strict):
    status: IntegrityStatus = "ok"
    events: list[IntegrityEvent] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self):
        worst = "ok"
        for e in self.events:
            s = e.status if e.status != "correction" else "ok"
            if INTEGRITY_ORDER[s] > INTEGRITY_ORDER[worst]:
                worst = s
        if self.status != worst:
            raise ValueError(f"integrity status {self.status!r} does not match its events (worst is {worst!r})")
        return self


class Population(_Strict):
    terms: list[PopulationId] = Field(default_factory=list)
    description: str
    sex: Literal["female", "male", "mixed"] | None = None
    age_mean: float | None = Field(None, gt=0, lt=120)
    age_min: float | None = Field(None, ge=0, lt=120)
    age_max: float | None = Field(None, gt=0, lt=120)


class SeedMention(_Strict):
    seed: str
    text: str = Field(description="the seed's words about this study, as printed (OCR damage kept)")
    location: str | None = None


class SeedDiscrepancy(_Strict):
    seed: str
    seed_says: str
    source_says: str
    field: str | None = None
    note: str | None = None


class Record(_Strict):
    """One study, meta-analysis, guideline, PK study or integrity analysis."""

    id: str
    citation: Citation
    design: DesignId
    country: list[CountryId] = Field(default_factory=list)
    population: Population | None = None
    duration: Quantity | None = None
    arms: list[Arm] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(default_factory=list)
    pk_parameters: list[PKParameter] = Field(default_factory=list)
    recommendations: list[Recommendation] = Field(default_factory=list)
    included_studies: list[str] = Field(default_factory=list, description="record ids pooled (meta-analyses)")
    included_other: list[str] = Field(default_factory=list, description="pooled studies not in the base (free text)")
    k_studies: PositiveInt | None = None
    n_participants: PositiveInt | None = None
    n_source: Source | None = None
    integrity: Integrity = Field(default_factory=Integrity)
    seed_mentions: list[SeedMention] = Field(default_factory=list)
    seed_discrepancies: list[SeedDiscrepancy] = Field(default_factory=list)
    provenance: str = Field(description="how this record was made and checked")
    notes: str | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, v):
        if not _ID_RE.match(v):
            raise ValueError(f"id {v!r} must be lower case letters, digits and '_' (e.g. braam2003)")
        return v

    @field_validator("duration")
    @classmethod
    def _duration(cls, v):
        if v is not None:
            _check_unit(v.unit, ("time",))
            if v.value <= 0:
                raise ValueError("duration must be > 0")
        return v

    @model_validator(mode="after")
    def _check(self):
        arm_ids = [a.id for a in self.arms]
        if len(set(arm_ids)) != len(arm_ids):
            raise ValueError("arm ids must be unique within a record")
        oids = [o.id for o in self.outcomes]
        if len(set(oids)) != len(oids):
            raise ValueError("outcome ids must be unique within a record")
        for o in self.outcomes:
            for ref in (o.treatment_arm, o.control_arm, *(av.arm for av in o.arm_values)):
                if ref is not None and ref not in arm_ids:
                    raise ValueError(f"outcome {o.id!r} names arm {ref!r}, which is not among the arms {arm_ids}")
        if self.n_participants is not None and self.n_source is None:
            raise ValueError("n_participants needs n_source")
        if self.duration is not None and self.duration.source is None:
            raise ValueError("duration needs a source")
        return self

    # ---- derived views --------------------------------------------------------------------
    def arm(self, arm_id: str | None) -> Arm | None:
        """The arm with this id (None when absent)."""
        return next((a for a in self.arms if a.id == arm_id), None)

    def comparison_arms(self, outcome: Outcome) -> tuple[str | None, str | None]:
        """(treatment, control) arm ids of an outcome; inferred when the record has one arm of a role."""
        t, c = outcome.treatment_arm, outcome.control_arm
        if t is None:
            ints = [a.id for a in self.arms if a.role == "intervention"]
            t = ints[0] if len(ints) == 1 else None
        if c is None:
            ctl = [a.id for a in self.arms if a.role == "control"]
            c = ctl[0] if len(ctl) == 1 else None
        return t, c

    @property
    def year(self) -> int | None:
        return self.citation.year

    @property
    def forms(self) -> list[str]:
        out: list[str] = []
        for a in self.arms:
            if a.intervention and a.intervention.form not in out:
                out.append(a.intervention.form)
        for p in self.pk_parameters:
            if p.form not in out:
                out.append(p.form)
        for r in self.recommendations:
            if r.form and r.form not in out:
                out.append(r.form)
        for t in self.tags:
            if t.startswith("form:") and t[5:] not in out:
                out.append(t[5:])
        return out

    @property
    def outcome_ids(self) -> list[str]:
        out: list[str] = []
        for o in self.outcomes:
            if o.outcome not in out:
                out.append(o.outcome)
        if self.pk_parameters and "pk_parameters" not in out:
            out.append("pk_parameters")
        return out

    @property
    def duration_weeks(self) -> float | None:
        if self.duration is None:
            return None
        return vocab().convert(self.duration.value, self.duration.unit, "week")

    @property
    def n_total(self) -> int | None:
        if self.n_participants:
            return self.n_participants
        ns = [a.n_randomized for a in self.arms if a.n_randomized]
        return sum(ns) if ns and len(ns) == len(self.arms) else None

    @property
    def integrity_status(self) -> str:
        return self.integrity.status

    @property
    def region(self) -> str | None:
        regions = {vocab().get("country", c).get("region") for c in self.country}
        return regions.pop() if len(regions) == 1 else ("mixed" if regions else None)
