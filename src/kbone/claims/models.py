"""Result objects of kbone.claims (pydantic, so the CLI, JSON output and web API share them).

Offsets (``start``/``end``) are code-point offsets into the decoded input text; ``text`` is always
``input[start:end]``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from kbone.claims.normalize import Repair

VerdictName = Literal["supported", "partly_supported", "unsupported", "contradicted", "not_checkable"]
VERDICTS: tuple[str, ...] = ("supported", "partly_supported", "unsupported", "contradicted", "not_checkable")
VERDICT_LABELS = {"supported": ("supported", "有证据支持"), "partly_supported": ("partly supported", "部分有证据支持"),
                  "unsupported": ("unsupported", "缺乏证据"), "contradicted": ("contradicted", "与证据矛盾"),
                  "not_checkable": ("not checkable", "无法核查")}
ClaimKind = Literal["effect", "association", "study", "reference", "safety", "dose", "pk", "mechanism", "general"]


class Number(BaseModel):
    """A number stated in a claim, with its unit (vocabulary id) and its span in the input."""

    kind: Literal["percent", "ratio", "dose", "duration", "n", "fold", "p", "age", "grade"]
    value: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str | None = None
    per: str | None = None
    measure: str | None = None
    qualifier: str | None = Field(None, description="'over', 'about' … for '超过68%'")
    role: str | None = Field(None, description="percent: change | proportion | level")
    label: str | None = Field(None, description="a grade letter")
    text: str = Field(description="as in the input: input[start:end]")
    clean: str = Field("", description="after normalisation (half-width, OCR repaired)")
    start: int
    end: int
    ug_per_day: float | None = None
    weeks: float | None = None

    def range(self) -> tuple[float, float]:
        lo = self.low if self.low is not None else self.value
        hi = self.value if self.value is not None else self.low
        return (float(lo), float(hi)) if lo is not None and hi is not None else (float("nan"), float("nan"))


class Parts(BaseModel):
    """What a claim is about: form, outcome, population, direction, numbers, hedges."""

    forms: list[str] = Field(default_factory=list)
    forms_inferred: bool = False
    foods: list[str] = Field(default_factory=list, description="foods (data/claims/foods.yaml ids) read as the "
                             "vitamin K exposure when no form is named; ``forms`` then holds their forms")
    outcomes: list[str] = Field(default_factory=list)
    outcome_groups: list[str] = Field(default_factory=list)
    populations: list[str] = Field(default_factory=list)
    agents: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    comparator: str | None = None
    exposure: Literal["intervention", "status", "deficiency"] | None = None
    direction: Literal["benefit", "harm", "null", "unclear"] = "unclear"
    causal: bool = False
    hedged: bool = False
    hedges: list[str] = Field(default_factory=list)
    numbers: list[Number] = Field(default_factory=list)
    anticoagulant: bool = False
    caution: bool = False
    advice: bool = False
    mechanism: bool = False
    question: bool = False

    def nums(self, kind: str) -> list[Number]:
        return [n for n in self.numbers if n.kind == kind]


class StudyMention(BaseModel):
    """A study named or described in the text, and the record it was linked to."""

    kind: Literal["named", "guideline", "unnamed", "anaphora"]
    author: str | None = None
    year: int | None = None
    country: str | None = None
    text: str = ""
    start: int = 0
    end: int = 0
    record: str | None = None
    match: str | None = Field(None, description="how the record was found: author, author+year, guideline, description")
    score: float | None = None
    candidates: list[str] = Field(default_factory=list)


class Reference(BaseModel):
    """A reference (list entry or in-text citation) with its parts."""

    kind: Literal["list", "intext"]
    title: str | None = None
    journal: str | None = None
    year: int | None = None
    volume: str | None = None
    issue: str | None = None
    authors: str | None = None
    text: str
    start: int
    end: int


class Check(BaseModel):
    """One comparison of what the text says with what a record says."""

    field: str
    claimed: str | None = None
    found: str | None = None
    ok: bool | None = Field(None, description="true = agrees, false = disagrees, null = cannot be compared")
    record: str | None = None
    note_en: str | None = None
    note_zh: str | None = None


class Verdict(BaseModel):
    verdict: VerdictName
    reason_en: str
    reason_zh: str
    records: list[str] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    grade: str | None = Field(None, description="GRADE certainty of the evidence used (kbone.evidence.grade)")
    alert: bool = Field(False, description="a safety point (anticoagulants) — shown first")


class Claim(BaseModel):
    """A checkable sentence: its exact span in the input, its parts and its verdict."""

    id: str
    kind: ClaimKind
    text: str = Field(description="the sentence exactly as in the input: input[start:end]")
    start: int
    end: int
    sentence: int
    clean: str = Field(description="the sentence after normalisation")
    parts: Parts
    study: StudyMention | None = None
    reference: Reference | None = None
    attributed_to: Reference | None = Field(None, description="an in-text citation that introduces this sentence")
    verdict: VerdictName = "not_checkable"
    reason: str = ""
    reason_en: str = ""
    reason_zh: str = ""
    records: list[str] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    grade: str | None = None
    alert: bool = False
    repairs: list[Repair] = Field(default_factory=list)

    def apply(self, v: Verdict, lang: str) -> Claim:
        self.verdict, self.reason_en, self.reason_zh = v.verdict, v.reason_en, v.reason_zh
        self.reason = v.reason_zh if lang == "zh" else v.reason_en
        self.records, self.checks, self.grade, self.alert = v.records, v.checks, v.grade, v.alert
        return self


class Sentence(BaseModel):
    index: int
    start: int
    end: int
    clean_start: int
    clean_end: int
    text: str
    clean: str
    paragraph: int
    heading: bool = False
    in_references: bool = False


class Report(BaseModel):
    """Everything ``kbone check`` / ``kbone ingest`` found in one text."""

    source: str
    encoding: str
    chars: int
    lang: str
    ocr: bool
    converted_traditional: bool
    clean_text: str
    repairs: list[Repair]
    layout_changes: int
    sentences: int
    claims: list[Claim]
    studies: list[StudyMention]
    references: list[Reference]
    summary: dict[str, int]
    alerts: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
