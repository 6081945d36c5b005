"""GRADE-style certainty of the evidence for one question: does vitamin K form F change outcome O (in population P)?

``grade(records, form, outcome, population=None)`` is a pure function over evidence records (no I/O):

1. **Select** the outcomes that answer the question: the outcome id (or any outcome of a vocabulary
   group such as ``bmd``), given by a record whose tested form matches ``form`` (a parent such as ``K2``
   matches MK-4/MK-7; a record on unspecified vitamin K, or pooling several forms, matches indirectly).
   Retracted records are excluded (and listed); records that cannot carry an effect (guidelines,
   integrity analyses, trial registrations) are listed as related. Trials pooled by a meta-analysis in
   the body are covered by it and listed as supporting, not counted twice.
2. **Start** at the level of the best design present (``evidence_start`` in ``data/vocab/designs.yaml``:
   randomised = high, observational = low, case report/animal = very low); lower designs are supporting.
3. **Rate down** (GRADE domains): risk of bias (integrity flags count as a serious concern; open-label
   or untreated control, non-ITT analysis, high attrition, unequal co-interventions), inconsistency (CIs
   that do not overlap, or conflicting directions), imprecision (CI crossing no effect; total sample
   below the optimal information size; no interval at all), indirectness (population or form differs).
   Publication bias is not assessed (too few studies) and is said so.

The result names its level (``high|moderate|low|very_low`` or ``no_evidence``), the reasons in English and
Chinese, and every record id used. Thresholds live in ``data/rules/grading.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from kbone.evidence.schema import RATIO_MEASURES, Outcome, Record
from kbone.i18n import Text
from kbone.paths import data_path
from kbone.vocab import vocab

Level = Literal["high", "moderate", "low", "very_low", "no_evidence"]
LEVELS: tuple[str, ...] = ("very_low", "low", "moderate", "high")
LEVEL_LABELS = {"high": ("high", "高"), "moderate": ("moderate", "中"), "low": ("low", "低"),
                "very_low": ("very low", "极低"), "no_evidence": ("no evidence", "无证据")}
Domain = Literal["risk_of_bias", "inconsistency", "imprecision", "indirectness", "publication_bias"]
Rating = Literal["no_concern", "serious", "very_serious", "not_assessed"]
NO_EFFECT_DESIGNS_START = "none"


def level_label(level: str, lang: str = "en") -> str:
    en, zh = LEVEL_LABELS.get(level, (level, level))
    return zh if lang == "zh" else en


class DomainRating(BaseModel):
    """One GRADE domain: the judgement, how many levels it cost, why, and which records caused it."""

    domain: Domain
    rating: Rating
    downgrade: int = Field(ge=0, le=2)
    reasons: list[Text] = Field(default_factory=list)
    records: list[str] = Field(default_factory=list)


class Excluded(BaseModel):
    record: str
    reason: Text


class Estimate(BaseModel):
    """The effect the judgement of precision rests on (ratios on their natural scale)."""

    record: str
    outcome_id: str
    outcome: str
    measure: str
    value: float
    ci_lower: float | None = None
    ci_upper: float | None = None
    n: int | None = None
    pooled: bool = False


class Grade(BaseModel):
    """Certainty of the evidence for (form, outcome[, population])."""

    form: str
    outcomes: list[str]
    population: str | None = None
    level: Level
    start: str | None = None
    domains: list[DomainRating] = Field(default_factory=list)
    reasons: list[Text] = Field(default_factory=list)
    records: list[str] = Field(default_factory=list, description="records the rating rests on")
    supporting: list[str] = Field(default_factory=list, description="lower designs and pooled trials consulted")
    related: list[str] = Field(default_factory=list, description="guidelines, registrations, integrity papers")
    excluded: list[Excluded] = Field(default_factory=list)
    n_studies: int = 0
    n_participants: int | None = None
    trial_evidence: bool = False
    direction: Literal["benefit", "harm", "null", "mixed", "unclear"] | None = None
    estimate: Estimate | None = None
    assumptions: list[Text] = Field(default_factory=list)

    def label(self, lang: str = "en") -> str:
        return level_label(self.level, lang)

    @property
    def all_records(self) -> list[str]:
        """Every record id behind this grade: the body, then supporting and related records."""
        out: list[str] = []
        for rid in (*self.records, *self.supporting, *self.related):
            if rid not in out:
                out.append(rid)
        return out


# ---- parameters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradingParams:
    min_participants_continuous: int = 400
    min_events_binary: int = 300
    rob_serious_share: float = 0.5
    min_retention: float = 0.8
    indirect_serious_share: float = 0.5
    assumptions: tuple[Text, ...] = ()


@lru_cache(maxsize=1)
def default_params() -> GradingParams:
    """Thresholds from ``data/rules/grading.yaml``."""
    doc = yaml.safe_load(data_path("rules", "grading.yaml").read_text(encoding="utf-8"))
    imp, rob, ind = doc["imprecision"], doc["risk_of_bias"], doc["indirectness"]
    notes = tuple(Text(en=f"assumption: {d['assumption_note']}", zh=f"假设：{d.get('assumption_note_zh', d['assumption_note'])}")
                  for d in (imp, rob, ind) if d.get("assumption"))
    return GradingParams(imp["min_participants_continuous"], imp["min_events_binary"], rob["serious_share"],
                         rob["min_retention"], ind["serious_share"], notes)


# ---- selection ----------------------------------------------------------------------------------


@dataclass
class Unit:
    """One study (or meta-analysis) contributing one outcome to the body of evidence."""

    record: Record
    outcome: Outcome
    forms: list[str]
    start: str
    form_indirect: str | None = None     # reason, when the tested form only approximates the question's
    pop_indirect: bool = False
    concerns: list[Text] = field(default_factory=list)
    integrity_concern: bool = False

    @property
    def rid(self) -> str:
        return self.record.id

    @property
    def n(self) -> int | None:
        return self.record.n_total

    @property
    def is_meta(self) -> bool:
        return self.record.design == "meta_analysis"


def _expand_outcomes(outcome: str | Iterable[str]) -> list[str]:
    v = vocab()
    items = [outcome] if isinstance(outcome, str) else list(outcome)
    out: list[str] = []
    groups = {t.get("group") for t in v.terms("outcome")}
    for it in items:
        if v.has("outcome", it):
            ids = [it]
        elif it in groups:
            ids = [t.id for t in v.terms("outcome") if t.get("group") == it]
        else:
            v.get("outcome", it, field="outcome")  # raises with suggestions
            ids = []
        out.extend(i for i in ids if i not in out)
    return out


def covered_forms(form: str) -> frozenset[str]:
    """All forms a form id covers (``K2`` → MK-4, MK-7, MK-n), transitively, itself included."""
    return _covered_forms(vocab(), form)


@lru_cache(maxsize=256)
def _covered_forms(v, form: str) -> frozenset[str]:
    seen, todo = {form}, [form]
    while todo:
        f = todo.pop()
        t = v.resolve("form", f)
        for c in (t.get("parent_of") or []) if t else []:
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return frozenset(seen)


def _parents(form: str) -> frozenset[str]:
    return _parents_in(vocab(), form)


@lru_cache(maxsize=256)
def _parents_in(v, form: str) -> frozenset[str]:
    return frozenset(t.id for t in v.terms("form") if form in _covered_forms(v, t.id) and t.id != form)


def _outcome_forms(rec: Record, o: Outcome) -> list[str]:
    if o.treatment_arm:
        for a in rec.arms:
            if a.id == o.treatment_arm and a.intervention is not None:
                return [a.intervention.form]
    return rec.forms


def _form_match(q: str, forms: list[str]) -> tuple[bool, str | None]:
    """(matches, reason-if-indirect) for question form ``q`` against the forms a study tested."""
    if not forms:
        return False, None
    fs = set(forms)
    cover = covered_forms(q)
    if fs <= cover:
        return True, None
    if fs & cover:
        return True, "pooled"          # the study mixes the question's form with others
    if fs & _parents(q):
        return True, "unspecified"     # the study names vitamin K / K2 without the form
    return False, None


POP_SEX = {"women": "female", "postmenopausal": "female", "perimenopausal": "female", "men": "male"}


def _pop_match(q: str | None, rec: Record) -> bool:
    if q is None:
        return True
    pop = rec.population
    if pop is None:
        return False
    if q in pop.terms:
        return True
    sex = POP_SEX.get(q)
    return bool(sex and pop.sex == sex and q in ("women", "men"))


def _pick_outcome(cands: list[Outcome]) -> Outcome:
    """The main analysis of a record for the question: a correction supersedes the original; then the
    whole sample (no subgroup), the primary outcome, one with an interval, and the latest time point."""
    def key(o: Outcome):
        sub = (o.subgroup or "").lower()
        corrected = sub.startswith("correction")
        return (corrected, not sub or corrected, bool(o.primary),
                bool(o.effect and o.effect.ci_lower is not None), o.timepoint_weeks or 0)
    return max(cands, key=key)


def _direction(o: Outcome) -> str:
    if o.effect and o.effect.ci_lower is not None and o.effect.ci_upper is not None:
        null = _null(o.effect.measure)
        better = vocab().get("outcome", o.outcome).get("better", "none")
        if o.effect.ci_lower <= null <= o.effect.ci_upper:
            return "null"
        up = o.effect.ci_lower > null
        if better == "none":
            return "unclear"
        return "benefit" if (up == (better == "up")) else "harm"
    return o.direction or "unclear"


def _null(measure: str) -> float:
    return 1.0 if measure in RATIO_MEASURES else 0.0


# ---- risk of bias per unit ----------------------------------------------------------------------


def _unit_concerns(u: Unit, by_id: dict[str, Record], p: GradingParams) -> None:
    r, o = u.record, u.outcome
    if r.integrity.status in ("flagged", "expression_of_concern"):
        u.integrity_concern = True
        u.concerns.append(Text(en=f"{r.id}: research-integrity concern ({r.integrity.status.replace('_', ' ')})",
                               zh=f"{r.id}：存在科研诚信疑问（{'关注声明' if r.integrity.status != 'flagged' else '存疑'}）"))
    if u.is_meta:
        bad = [s for s in r.included_studies if s in by_id and by_id[s].integrity.status != "ok"]
        if bad:
            u.integrity_concern = True
            u.concerns.append(Text(en=f"{r.id} pools trials with integrity problems: {', '.join(bad)}",
                                   zh=f"{r.id} 合并了存在诚信问题的试验：{'、'.join(bad)}"))
        sens = _low_rob_sensitivity(r, o)
        if sens is not None:
            u.concerns.append(Text(
                en=f"{r.id}: restricted to low risk-of-bias trials the effect is no longer clear "
                   f"({sens.effect.measure} {sens.effect.value:g}, {sens.effect.ci_lower:g} to {sens.effect.ci_upper:g})",
                zh=f"{r.id}：仅纳入低偏倚风险试验时效应不再明确"
                   f"（{sens.effect.measure} {sens.effect.value:g}，{sens.effect.ci_lower:g}～{sens.effect.ci_upper:g}）"))
        return
    if r.design == "open_label_rct":
        u.concerns.append(Text(en=f"{r.id}: open-label", zh=f"{r.id}：开放标签"))
    ctrl = next((a for a in r.arms if a.id == o.control_arm), None)
    if ctrl is None and r.arms:
        ctrl = next((a for a in r.arms if a.role == "control"), None)
    if ctrl is not None and ctrl.comparator == "no_treatment":
        u.concerns.append(Text(en=f"{r.id}: untreated control (no placebo)", zh=f"{r.id}：对照组未治疗（无安慰剂）"))
    if o.analysis in ("completers", "per_protocol"):
        u.concerns.append(Text(en=f"{r.id}: {o.analysis.replace('_', '-')} analysis, not intention-to-treat",
                               zh=f"{r.id}：{'完成者' if o.analysis == 'completers' else '符合方案'}分析，非意向性分析"))
    for a in r.arms:
        if a.n_randomized and a.n_analysed and a.n_analysed / a.n_randomized < p.min_retention:
            u.concerns.append(Text(en=f"{r.id}: arm {a.id} analysed {a.n_analysed}/{a.n_randomized}",
                                   zh=f"{r.id}：{a.id} 组仅分析 {a.n_analysed}/{a.n_randomized} 例"))
            break
    trt = next((a for a in r.arms if a.id == o.treatment_arm), None)
    if trt is not None and ctrl is not None:
        extra = {c.agent for c in trt.co_interventions} - {c.agent for c in ctrl.co_interventions}
        if extra:
            names = ", ".join(sorted(extra))
            u.concerns.append(Text(en=f"{r.id}: co-interventions only in the vitamin K arm ({names})",
                                   zh=f"{r.id}：仅维生素K组有合并干预（{names}）"))


_LOW_ROB = re.compile(r"low[ -]risk[ -]of[ -]bias|低偏倚")


def _low_rob_sensitivity(r: Record, main: Outcome) -> Outcome | None:
    """A sensitivity analysis restricted to low risk-of-bias trials whose CI includes no effect while the
    main analysis's CI does not — the effect rests on the trials at risk of bias."""
    me = main.effect
    if me is None or me.ci_lower is None or me.ci_upper is None:
        return None
    if me.ci_lower <= _null(me.measure) <= me.ci_upper:
        return None
    for o in r.outcomes:
        e = o.effect
        if (o is not main and o.outcome == main.outcome and o.subgroup and _LOW_ROB.search(o.subgroup.lower())
                and e is not None and e.ci_lower is not None and e.ci_upper is not None
                and e.ci_lower <= _null(e.measure) <= e.ci_upper):
            return o
    return None


# ---- the rating ----------------------------------------------------------------------------------


def _share(units: list[Unit], pred) -> float:
    if not units:
        return 0.0
    ns = [u.n for u in units]
    if all(n for n in ns):
        tot = sum(ns)
        return sum(u.n for u in units if pred(u)) / tot
    return sum(1 for u in units if pred(u)) / len(units)


def _txt(en: str, zh: str) -> Text:
    return Text(en=en, zh=zh)


def grade(records: Iterable[Record], form: str, outcome: str | Iterable[str], population: str | None = None,
          *, params: GradingParams | None = None) -> Grade:
    """Certainty of the evidence in ``records`` that ``form`` affects ``outcome`` (in ``population``).

    ``outcome`` is an outcome id, a list of ids, or a vocabulary outcome group (``bmd``, ``fracture``,
    ``oa`` …). ``population`` is a population id (``postmenopausal``, ``oa`` …) or None for any.
    """
    v = vocab()
    form_id = v.resolve_or_raise("form", form, field="form").id
    outcomes = _expand_outcomes(outcome)
    if population is not None:
        population = v.resolve_or_raise("population", population, field="population").id
    p = params or default_params()
    records = list(records)
    by_id = {r.id: r for r in records}

    excluded: list[Excluded] = []
    related: list[str] = []
    units: list[Unit] = []
    for r in records:
        cands = [o for o in r.outcomes if o.outcome in outcomes]
        if not cands:
            continue
        matches = []
        for o in cands:
            ok, why = _form_match(form_id, _outcome_forms(r, o))
            if ok:
                matches.append((o, why))
        if not matches:
            continue
        if r.integrity.status == "retracted":
            excluded.append(Excluded(record=r.id, reason=_txt("retracted", "已撤稿")))
            continue
        start = v.get("design", r.design).get("evidence_start", "none")
        if start == NO_EFFECT_DESIGNS_START:
            related.append(r.id)
            continue
        direct = [m for m in matches if m[1] is None]
        pool = direct or matches
        o = _pick_outcome([m[0] for m in pool])
        why = next(m[1] for m in pool if m[0] is o)
        units.append(Unit(record=r, outcome=o, forms=_outcome_forms(r, o), start=start, form_indirect=why,
                          pop_indirect=not _pop_match(population, r)))

    base = dict(form=form_id, outcomes=outcomes, population=population, excluded=excluded,
                related=sorted(related), assumptions=list(p.assumptions))
    if not units:
        why = _txt("no study in the evidence base addresses this question",
                   "证据库中没有研究回答这一问题")
        if excluded:
            why = _txt(f"only retracted studies address this question ({', '.join(e.record for e in excluded)})",
                       f"回答这一问题的研究均已撤稿（{'、'.join(e.record for e in excluded)}）")
        return Grade(level="no_evidence", reasons=[why], **base)

    # direct evidence on the form asked about is preferred; indirect (pooled / unspecified form) supports it
    direct_units = [u for u in units if u.form_indirect is None]
    supporting: list[str] = []
    if direct_units:
        supporting += [u.rid for u in units if u.form_indirect is not None]
        units = direct_units
    best = max(LEVELS.index(u.start) for u in units)
    body = [u for u in units if LEVELS.index(u.start) == best]
    supporting += [u.rid for u in units if LEVELS.index(u.start) < best]
    # a meta-analysis in the body covers the trials it pooled
    covered = {s for u in body if u.is_meta for s in u.record.included_studies}
    supporting += [u.rid for u in body if u.rid in covered]
    body = [u for u in body if u.rid not in covered]
    for u in body:
        _unit_concerns(u, by_id, p)

    start = LEVELS[best]
    design_counts: dict[str, int] = {}
    for u in body:
        design_counts[u.record.design] = design_counts.get(u.record.design, 0) + 1
    n_known = [u.n for u in body if u.n]
    n_total = sum(n_known) if n_known and len(n_known) == len(body) else (sum(n_known) or None)
    designs_en = ", ".join(f"{k} {v.label('design', d, 'en')}" for d, k in design_counts.items())
    designs_zh = "、".join(f"{k} 项{v.label('design', d, 'zh')}" for d, k in design_counts.items())
    reasons = [_txt(f"{len(body)} stud{'y' if len(body) == 1 else 'ies'} ({designs_en}); starts at {level_label(start)}",
                    f"{len(body)} 项研究（{designs_zh}）；起始等级：{level_label(start, 'zh')}")]
    if excluded:
        reasons.append(_txt(f"excluded as retracted: {', '.join(e.record for e in excluded)}",
                            f"因撤稿排除：{'、'.join(e.record for e in excluded)}"))

    domains = [_risk_of_bias(body, p), _inconsistency(body), _imprecision(body, p, outcomes),
               _indirectness(body, p, population),
               DomainRating(domain="publication_bias", rating="not_assessed", downgrade=0,
                            reasons=[_txt("not assessed: too few studies for a funnel-plot judgement",
                                          "未评估：研究数量太少，无法判断发表偏倚")])]
    down = sum(d.downgrade for d in domains)
    level = LEVELS[max(0, best - down)]
    for d in domains:
        if d.downgrade:
            reasons.extend(d.reasons)
    est = _key_estimate(body)
    if est is not None and est.pooled:
        direction = _direction(next(u.outcome for u in body if u.rid == est.record and u.outcome.id == est.outcome_id))
    else:
        best_dir, share = _weighted_direction(body)
        direction = best_dir if share >= 2 / 3 or best_dir == "unclear" else "mixed"
    trials = any(v.get("design", u.record.design).get("evidence_start") == "high" for u in units)
    return Grade(level=level, start=start, domains=domains, reasons=reasons,
                 records=[u.rid for u in body], supporting=list(dict.fromkeys(supporting)),
                 n_studies=len(body), n_participants=n_total, trial_evidence=trials, direction=direction,
                 estimate=est, **base)


def _risk_of_bias(body: list[Unit], p: GradingParams) -> DomainRating:
    est = _key_estimate(body)
    key_unit = next((u for u in body if est and u.rid == est.record and u.outcome.id == est.outcome_id), None)
    flagged = [u for u in body if u.integrity_concern]
    concerned = [u for u in body if u.concerns]
    share_any = _share(body, lambda u: bool(u.concerns))
    share_int = _share(body, lambda u: u.integrity_concern)
    reasons = [c for u in concerned for c in u.concerns]
    if share_int > p.rob_serious_share:
        rating, down = "very_serious", 2
    elif flagged or share_any > p.rob_serious_share or (key_unit is not None and key_unit.concerns):
        rating, down = "serious", 1
    else:
        rating, down = "no_concern", 0
    if down:
        reasons.insert(0, _txt(f"risk of bias {rating.replace('_', ' ')}: {len(concerned)} of {len(body)} studies have concerns",
                               f"偏倚风险{'非常严重' if down == 2 else '严重'}：{len(body)} 项研究中 {len(concerned)} 项存在问题"))
    return DomainRating(domain="risk_of_bias", rating=rating, downgrade=down, reasons=reasons,
                        records=[u.rid for u in concerned])


def _numeric(u: Unit):
    e = u.outcome.effect
    if e is None or e.ci_lower is None or e.ci_upper is None:
        return None
    return ("ratio" if e.measure in RATIO_MEASURES else f"diff:{e.measure}:{u.outcome.unit}", e)


def _inconsistency(body: list[Unit]) -> DomainRating:
    if len(body) < 2:
        return DomainRating(domain="inconsistency", rating="not_assessed", downgrade=0,
                            reasons=[_txt("single study: consistency cannot be judged", "仅一项研究：无法判断一致性")])
    fam: dict[str, list[tuple[Unit, object]]] = {}
    for u in body:
        nm = _numeric(u)
        if nm:
            fam.setdefault(nm[0], []).append((u, nm[1]))
    pairs = max(fam.values(), key=len) if fam else []
    if len(pairs) >= 2:
        bad = set()
        for i, (ui, ei) in enumerate(pairs):
            for uj, ej in pairs[i + 1:]:
                if ei.ci_lower > ej.ci_upper or ej.ci_lower > ei.ci_upper:
                    bad |= {ui.rid, uj.rid}
        if bad:
            return DomainRating(domain="inconsistency", rating="serious", downgrade=1, records=sorted(bad),
                                reasons=[_txt(f"inconsistency serious: confidence intervals do not overlap ({', '.join(sorted(bad))})",
                                              f"不一致性严重：置信区间互不重叠（{'、'.join(sorted(bad))}）")])
        return DomainRating(domain="inconsistency", rating="no_concern", downgrade=0,
                            reasons=[_txt("confidence intervals overlap", "置信区间相互重叠")])
    dirs = {u.rid: _direction(u.outcome) for u in body}
    known = {k: d for k, d in dirs.items() if d in ("benefit", "harm", "null")}
    vals = list(known.values())
    if "benefit" in vals and "harm" in vals:
        return DomainRating(domain="inconsistency", rating="serious", downgrade=1, records=sorted(known),
                            reasons=[_txt("inconsistency serious: studies point in opposite directions",
                                          "不一致性严重：研究结果方向相反")])
    if "benefit" in vals and "null" in vals:
        _best, top = _weighted_direction(body)
        if top < 2 / 3:
            return DomainRating(domain="inconsistency", rating="serious", downgrade=1, records=sorted(known),
                                reasons=[_txt(f"inconsistency serious: {vals.count('benefit')} studies report benefit, "
                                              f"{vals.count('null')} no effect (no comparable intervals)",
                                              f"不一致性严重：{vals.count('benefit')} 项研究报告获益，{vals.count('null')} 项无效（无可比较的区间）")])
    return DomainRating(domain="inconsistency", rating="no_concern", downgrade=0,
                        reasons=[_txt("results point the same way", "结果方向一致")])


def _key_estimate(body: list[Unit]) -> Estimate | None:
    """The estimate precision is judged on: a meta-analysis if any, else the largest study with an interval,
    preferring studies without a research-integrity concern."""
    metas = [u for u in body if u.is_meta and _numeric(u)]
    clean = [u for u in body if _numeric(u) and not (u.integrity_concern or _flagged(u))]
    cands = metas or clean or [u for u in body if _numeric(u)]
    if not cands:
        return None
    u = max(cands, key=lambda x: (x.record.k_studies or 0, x.n or 0))
    e = u.outcome.effect
    return Estimate(record=u.rid, outcome_id=u.outcome.id, outcome=u.outcome.outcome, measure=e.measure,
                    value=e.value, ci_lower=e.ci_lower, ci_upper=e.ci_upper, n=u.n, pooled=u.is_meta)


def _flagged(u: Unit) -> bool:
    return u.record.integrity.status in ("flagged", "expression_of_concern")


def _weights(units: list[Unit]) -> dict[str, float]:
    """Participants per study when every study has a number, else one per study."""
    if all(u.n for u in units):
        return {u.rid: float(u.n) for u in units}
    return {u.rid: 1.0 for u in units}


def _weighted_direction(units: list[Unit]) -> tuple[str, float]:
    """The direction holding most weight among studies with a known direction, and its share."""
    dirs = {u.rid: _direction(u.outcome) for u in units}
    known = [u for u in units if dirs[u.rid] in ("benefit", "harm", "null")]
    if not known:
        return "unclear", 0.0
    w = _weights(known)
    tot: dict[str, float] = {}
    for u in known:
        tot[dirs[u.rid]] = tot.get(dirs[u.rid], 0.0) + w[u.rid]
    best = max(tot, key=tot.get)
    return best, tot[best] / sum(tot.values())


def _imprecision(body: list[Unit], p: GradingParams, outcomes: list[str]) -> DomainRating:
    est = _key_estimate(body)
    reasons: list[Text] = []
    down = 0
    recs: list[str] = []
    if est is None:
        down = 1
        reasons.append(_txt("imprecision: no confidence interval reported", "不精确：未报告置信区间"))
        recs = [u.rid for u in body]
    elif any(u.rid == est.record and (u.integrity_concern or _flagged(u)) for u in body) and not est.pooled:
        down = 1
        recs = [est.record]
        reasons.append(_txt(f"imprecision: the only confidence interval comes from a study with an integrity concern ({est.record})",
                            f"不精确：唯一的置信区间来自存在诚信疑问的研究（{est.record}）"))
    else:
        null = _null(est.measure)
        if est.ci_lower <= null <= est.ci_upper:
            down += 1
            recs.append(est.record)
            reasons.append(_txt(f"imprecision: the 95% CI ({est.ci_lower:g} to {est.ci_upper:g}, {est.record}) includes no effect",
                                f"不精确：95% 置信区间（{est.ci_lower:g}～{est.ci_upper:g}，{est.record}）包含无效值"))
    binary = all(vocab().get("outcome", u.outcome.outcome).get("group") == "fracture" for u in body)
    events = None
    if binary:
        ev = [sum(av.events for av in u.outcome.arm_values if av.events is not None) for u in body
              if any(av.events is not None for av in u.outcome.arm_values)]
        events = sum(ev) if len(ev) == len(body) else None
    n_known = [u.n for u in body if u.n]
    n_total = sum(n_known) if len(n_known) == len(body) else None
    if events is not None and events < p.min_events_binary:
        down += 1
        reasons.append(_txt(f"imprecision: only {events} events (fewer than {p.min_events_binary})",
                            f"不精确：仅 {events} 个事件（少于 {p.min_events_binary}）"))
    elif events is None and n_total is not None and n_total < p.min_participants_continuous:
        down += 1
        reasons.append(_txt(f"imprecision: {n_total} participants in total (fewer than {p.min_participants_continuous})",
                            f"不精确：总样本量仅 {n_total} 人（少于 {p.min_participants_continuous}）"))
    elif n_total is None and events is None:
        reasons.append(_txt("sample size not recorded for every study", "并非每项研究都记录了样本量"))
    down = min(down, 2)
    rating = ("no_concern", "serious", "very_serious")[down]
    if down:
        reasons.insert(0, _txt(f"imprecision {rating.replace('_', ' ')}", f"不精确性{'严重' if down == 1 else '非常严重'}"))
    return DomainRating(domain="imprecision", rating=rating, downgrade=down, reasons=reasons,
                        records=recs or ([u.rid for u in body] if down else []))


def _indirectness(body: list[Unit], p: GradingParams, population: str | None) -> DomainRating:
    reasons: list[Text] = []
    pop_share = _share(body, lambda u: u.pop_indirect)
    form_share = _share(body, lambda u: u.form_indirect is not None)
    down = 0
    recs: list[str] = []
    if pop_share > p.indirect_serious_share:
        down += 1
        who = [u.rid for u in body if u.pop_indirect]
        recs += who
        lbl = vocab().get("population", population)
        reasons.append(_txt(f"indirectness: studies were not in {lbl.en} ({', '.join(who)})",
                            f"间接性：研究人群并非{lbl.zh}（{'、'.join(who)}）"))
    if form_share > p.indirect_serious_share:
        down += 1
        who = [u.rid for u in body if u.form_indirect]
        recs += who
        reasons.append(_txt(f"indirectness: form unspecified or pooled with other forms ({', '.join(who)})",
                            f"间接性：维生素K形式未指明或与其他形式合并（{'、'.join(who)}）"))
    rating = ("no_concern", "serious", "very_serious")[down]
    return DomainRating(domain="indirectness", rating=rating, downgrade=down, reasons=reasons,
                        records=list(dict.fromkeys(recs)))


def grade_question(form: str, outcome: str | Iterable[str], population: str | None = None,
                   records: Iterable[Record] | None = None) -> Grade:
    """:func:`grade` over the shipped evidence base (``kbone.evidence.loader.load_records``)."""
    if records is None:
        from kbone.evidence.loader import load_records

        records = load_records()
    return grade(records, form, outcome, population)
