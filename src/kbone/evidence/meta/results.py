"""Result objects of a meta-analysis (pydantic, so the CLI, JSON output and web API share them).

Numbers are on the analysis scale (log for OR/RR/Peto OR; the measure's own unit for RD, MD, SMD) with a
``back`` block on the natural scale (exp for ratios, identical otherwise).
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class Back(BaseModel):
    """Back-transformed values (ratios exponentiated)."""

    estimate: float
    ci_lower: float
    ci_upper: float
    pi_lower: float | None = None
    pi_upper: float | None = None


class Pooled(BaseModel):
    """One pooled estimate with its heterogeneity statistics."""

    model: str = Field(description="rma.uni (inverse variance), rma.mh (Mantel-Haenszel) or rma.peto")
    method: str
    test: str
    measure: str
    scale: str = Field(description="'log' for ratio measures, else 'identity'")
    level: float
    k: int
    study_ids: list[str]
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pi_lower: float
    pi_upper: float
    stat: float
    stat_name: str = Field(description="z, or t under Knapp-Hartung")
    df: int | None = None
    p: float
    back: Back
    tau2: float
    i2: float = Field(description="I² in percent")
    h2: float
    q: float
    q_df: int
    q_p: float


class StudyRow(BaseModel):
    id: str
    record: str | None = None
    label: str
    year: int | None = None
    yi: float
    vi: float
    se: float
    ci_lower: float
    ci_upper: float
    back: Back
    weight: float = Field(description="percent weight in the main model")
    integrity: str = "ok"
    groups: dict[str, str] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


class Excluded(BaseModel):
    id: str
    label: str | None = None
    reason: str


class Scenario(BaseModel):
    """The same analysis on a subset of trials chosen by research-integrity status."""

    scenario: str = Field(description="all | no_retracted | no_retracted_or_flagged")
    label_en: str
    label_zh: str
    k: int
    study_ids: list[str]
    excluded_ids: list[str]
    pooled: Pooled | None = None
    reason: str | None = Field(None, description="why no pooled estimate (k < 2)")


class SubgroupRow(BaseModel):
    group: str
    label: str
    label_zh: str
    k: int
    study_ids: list[str]
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    back: Back
    pooled: Pooled | None = Field(None, description="null for a single-study group")


class SubgroupReport(BaseModel):
    by: str
    groups: list[SubgroupRow]
    q_between: float = Field(description="Cochran's Q across subgroup estimates (separate tau² per group)")
    q_between_df: int
    q_between_p: float
    qm: float | None = Field(None, description="meta-regression Q_M on group indicators (common tau²)")
    qm_df: list[int] | None = None
    qm_p: float | None = None


class SensitivityRow(BaseModel):
    id: str = Field(description="study omitted (leave-one-out) or added (cumulative)")
    label: str
    year: int | None = None
    k: int
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    back: Back
    tau2: float
    i2: float
    q: float


class EggerReport(BaseModel):
    model: str
    slope: float
    stat: float
    df: int | None
    p: float
    limit_estimate: float
    k: int
    note: str | None = None


class TrimFillReport(BaseModel):
    k0: int
    side: str
    pooled: Pooled
    filled_yi: list[float]
    filled_vi: list[float]


class MetaReport(Pooled):
    """A full analysis: the main pooled estimate (top-level fields) and everything around it."""

    source: str = Field(description="'evidence' (kbone's evidence base) or the CSV file read")
    outcome: str | None = None
    outcome_label: dict[str, str] | None = None
    metric: str | None = None
    studies: list[StudyRow]
    excluded: list[Excluded] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    integrity: list[Scenario] | None = None
    subgroups: SubgroupReport | None = None
    leave_one_out: list[SensitivityRow] | None = None
    cumulative: list[SensitivityRow] | None = None
    egger: EggerReport | None = None
    trimfill: TrimFillReport | None = None
