"""Evidence records → the observations the bone model is fitted to, and every exclusion with its reason.

BMD rules (one observation per trial x comparison x site x time point):

- comparative trials only (rct, open_label_rct, crossover, non_randomised_trial); integrity ``ok`` unless
  flagged / retracted trials are asked for; entries reported for a subgroup are not used;
- the contrast must be vitamin K vs control on the *same* co-interventions: an active comparator or a
  vitamin K arm with extra co-interventions is excluded (the difference would not be vitamin K's);
- data, in order: a reported mean difference with its CI (or with only a P value: SE = |MD| / z(P/2),
  flagged); arm means with SD/SE/CI and n; arm means without dispersion get the **imputed SD** = the
  median per-arm SD of the trials at the same site group that report one (flagged, visible);
- percent change is modelled; an absolute change (g/cm²) is converted to % of the assumed baseline BMD
  for that site (``mbma_config.yaml``), adding the baseline's relative uncertainty; final values and
  results given only in words are excluded;
- a missing group size is taken from the arm, else the record's total split evenly (flagged); none → excluded;
- a dose the source did not state uses the form-typical dose (flagged) or excludes the trial
  (``unknown_dose: exclude``).

Fracture rules: events/total per arm → log RR (½ added to zero cells, metafor ``escalc``), or a reported
RR/OR/HR with its CI (log scale, read as a risk ratio for rare events, flagged); same contrast rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel
from scipy import stats

from kbone.evidence.meta.effects import binary_effects, from_ci, sd_from_ci, sd_from_se
from kbone.evidence.meta.from_records import TRIAL_DESIGNS
from kbone.evidence.schema import Arm, ArmValue, Outcome, Record
from kbone.model.mbma.config import SITE_GROUP, MbmaConfig, load_config
from kbone.model.mbma.context import Context, make_context
from kbone.vocab import vocab

INTEGRITY_FLAGGED = ("flagged", "expression_of_concern")


class Exclusion(BaseModel):
    """A record (or one of its outcomes) the model does not use, and why."""

    record: str
    outcome: str | None = None
    reason: str


@dataclass
class BmdObs:
    """Difference (vitamin K − control) in BMD % change at one site and time, with its SE."""

    record: str
    outcome: str
    site: str
    t_weeks: float
    y: float
    se: float
    n_t: float
    n_c: float
    context: Context
    comparison: str
    integrity: str
    flags: list[str] = field(default_factory=list)
    ctrl_change: float | None = None     # control-arm % change, when reported
    sd_arm: float | None = None          # per-arm SD of % change derived from reported dispersion
    arm_sds: tuple[float, float] | None = None
    needs_sd: bool = False


@dataclass
class FractureObs:
    """Log risk ratio (vitamin K vs control) of one fracture outcome, with its SE."""

    record: str
    outcome: str
    fracture: str
    t_weeks: float
    y: float
    se: float
    context: Context
    comparison: str
    integrity: str
    events_t: int | None = None
    n_t: float | None = None
    events_c: int | None = None
    n_c: float | None = None
    flags: list[str] = field(default_factory=list)


@dataclass
class Extraction:
    bmd: list[BmdObs]
    fractures: list[FractureObs]
    excluded: list[Exclusion]
    sd_imputed: dict[str, dict] = field(default_factory=dict)

    @property
    def trials(self) -> list[str]:
        return sorted({o.record for o in self.bmd} | {o.record for o in self.fractures})



def _agents(arm: Arm) -> set[str]:
    return {c.agent for c in arm.co_interventions}


def _arm_n(rec: Record, av: ArmValue | None, arm: Arm, flags: list[str]) -> float | None:
    if av is not None and av.n:
        return float(av.n)
    if av is not None and av.total:
        return float(av.total)
    if arm.n_analysed or arm.n_randomized:
        return float(arm.n_analysed or arm.n_randomized)
    if rec.n_participants and rec.arms:
        msg = (f"group sizes not reported: the record's {rec.n_participants} participants split evenly over "
               f"{len(rec.arms)} arms (assumption)")
        if msg not in flags:
            flags.append(msg)
        return rec.n_participants / len(rec.arms)
    return None


def _arm_sd(av: ArmValue, n: float | None) -> tuple[float | None, str | None]:
    if av.sd is not None:
        return float(av.sd), None
    if av.se is not None and n:
        return float(sd_from_se(av.se, n)[0]), "SD from SE x sqrt(n)"
    if av.ci_lower is not None and av.ci_upper is not None and n and n > 1:
        return float(sd_from_ci(av.ci_lower, av.ci_upper, n)[0]), "SD from the 95% CI of the mean"
    return None, None


def _integrity_ok(rec: Record, include_flagged: bool, include_retracted: bool) -> str | None:
    s = rec.integrity_status
    if s == "ok":
        return None
    if s in INTEGRITY_FLAGGED and not include_flagged:
        return f"integrity {s}: excluded by default (use --include-flagged)"
    if s == "retracted" and not include_retracted:
        return "retracted: excluded by default (use --include-retracted)"
    return None


def _context(rec: Record, t_arm: Arm, c_arm: Arm, cfg: MbmaConfig) -> tuple[Context | None, str | None]:
    dose = t_arm.intervention
    flags: list[str] = []
    ug = dose.ug_per_day
    tagged = "dose:not_stated" in rec.tags or (dose.regimen and "not stated" in dose.regimen.lower())
    if ug is None:
        if cfg.assumptions.unknown_dose == "exclude":
            return None, "dose not stated in the source (unknown_dose: exclude)"
        typ = cfg.assumptions.typical_dose_ug_per_day.get(dose.form)
        if typ is None:
            return None, f"dose not stated and no typical {dose.form} dose is configured"
        ug = typ.value
        flags.append(f"dose not stated: form-typical {dose.form} {ug:g} ug/day used (assumption; {typ.source})")
    elif tagged:
        flags.append(f"dose {ug:g} ug/day as recorded, but the record says the source did not state it (assumption)")
    terms = set(rec.population.terms) if rec.population else set()
    open_label = rec.design in cfg.assumptions.open_designs or (c_arm.comparator in cfg.assumptions.open_comparators)
    pop = rec.population
    ctx = make_context(form=dose.form, dose_ug_per_day=ug, terms=terms, region=rec.region, co_agents=_agents(c_arm),
                       open_label=open_label, sex=pop.sex if pop else None, age_max=pop.age_max if pop else None,
                       flags=flags, cfg=cfg)
    return ctx, None


def _contrast_problem(t_arm: Arm | None, c_arm: Arm | None) -> str | None:
    if t_arm is None or c_arm is None:
        return "vitamin K and control arms are not identified (treatment_arm/control_arm)"
    if t_arm.intervention is None:
        return f"arm {t_arm.id!r} has no vitamin K intervention"
    if c_arm.intervention is not None:
        return f"control arm {c_arm.id!r} also receives vitamin K"
    if c_arm.comparator == "active":
        extra = ", ".join(sorted(_agents(c_arm))) or "an active treatment"
        return f"active comparator ({extra}): the contrast is not vitamin K vs control"
    ta, ca = _agents(t_arm), _agents(c_arm)
    if ta != ca:
        if ta - ca:
            return (f"confounded contrast: the vitamin K arm also receives {', '.join(sorted(ta - ca))}, "
                    "the control does not")
        return f"active comparator: the control arm receives {', '.join(sorted(ca - ta))}, the vitamin K arm does not"
    return None


def extract(records: list[Record], *, include_flagged: bool = False, include_retracted: bool = False,
            exclude: tuple[str, ...] | list[str] = (), cfg: MbmaConfig | None = None) -> Extraction:
    """BMD and fracture observations for the model from ``records``; ``exclude`` drops record ids."""
    cfg = cfg or load_config()
    bmd: list[BmdObs] = []
    frac: list[FractureObs] = []
    excl: list[Exclusion] = []
    drop = set(exclude)
    for rec in sorted(records, key=lambda r: r.id):
        outs = [o for o in rec.outcomes if vocab().get("outcome", o.outcome).get("group") in ("bmd", "fracture")]
        if not outs:
            continue
        if rec.id in drop:
            excl.append(Exclusion(record=rec.id, reason="excluded on request (--exclude-study)"))
            continue
        if rec.design not in TRIAL_DESIGNS:
            excl.append(Exclusion(record=rec.id, reason=f"not a comparative trial ({rec.design})"))
            continue
        bad = _integrity_ok(rec, include_flagged, include_retracted)
        if bad:
            excl.append(Exclusion(record=rec.id, reason=bad))
            continue
        for o in outs:
            group = vocab().get("outcome", o.outcome).get("group")
            reason = _bmd(rec, o, cfg, bmd) if group == "bmd" else _fracture(rec, o, cfg, frac)
            if reason:
                excl.append(Exclusion(record=rec.id, outcome=o.id, reason=reason))
    bmd = _one_per_comparison(bmd, records, excl)
    _split_shared_controls(bmd)
    sd_info = _impute_sds(bmd, cfg)
    return Extraction(bmd=bmd, fractures=frac, excluded=excl, sd_imputed=sd_info)


def _timepoint(rec: Record, o: Outcome) -> float | None:
    return o.timepoint_weeks or rec.duration_weeks


def _contrast(rec: Record, o: Outcome) -> tuple[str | None, Arm | None, Arm | None, float | None]:
    """Checks shared by BMD and fracture results: (reason to exclude, treatment arm, control arm, weeks)."""
    if o.subgroup:
        return f"reported for a subgroup only ({o.subgroup})", None, None, None
    t, c = rec.comparison_arms(o)
    t_arm, c_arm = rec.arm(t), rec.arm(c)
    prob = _contrast_problem(t_arm, c_arm)
    if prob:
        return prob, None, None, None
    tw = _timepoint(rec, o)
    if tw is None:
        return "no time point", None, None, None
    return None, t_arm, c_arm, tw


def _bmd(rec: Record, o: Outcome, cfg: MbmaConfig, out: list[BmdObs]) -> str | None:
    site = vocab().get("outcome", o.outcome).get("site")
    if site not in SITE_GROUP:
        return f"BMD site not modelled ({o.outcome})"
    why, t_arm, c_arm, tw = _contrast(rec, o)
    if why:
        return why
    t, c = t_arm.id, c_arm.id
    if o.metric not in ("percent_change", "absolute_change"):
        return f"metric {o.metric}: only % or absolute change from baseline is modelled" + (
            "" if o.metric != "final_value" else " (final values carry baseline imbalance)")
    scale, extra_cv, flags = 1.0, 0.0, []
    if o.metric == "absolute_change":
        base = cfg.assumptions.baseline_bmd_g_cm2.get(site)
        if base is None:
            return f"absolute change at {site}: no baseline BMD configured to convert it to %"
        scale, extra_cv = 100.0 / base.value, base.cv or 0.0
        flags.append(f"absolute change converted to % of an assumed baseline {base.value} g/cm2 (+/-{extra_cv:.0%})")
    ctx, why = _context(rec, t_arm, c_arm, cfg)
    if ctx is None:
        return why
    tv, cv = o.value_for(t), o.value_for(c)
    n_t = _arm_n(rec, tv, t_arm, flags)
    n_c = _arm_n(rec, cv, c_arm, flags)
    e = o.effect
    obs = None
    if e is not None and e.measure == "MD":
        y = e.value * scale
        if e.ci_lower is not None and e.ci_upper is not None:
            _, v = from_ci(e.value, e.ci_lower, e.ci_upper, ratio=False, level=e.ci_level)
            se = float(math.sqrt(v[0])) * scale
            flags.append("reported mean difference and its CI")
        elif e.se is not None:
            se = e.se * scale
            flags.append("reported mean difference and its SE")
        elif e.p is not None and 0 < e.p < 1:
            se = abs(e.value) / stats.norm.isf(e.p / 2) * scale
            flags.append(f"SE derived from the reported P = {e.p:g} (normal approximation)")
        else:
            return "reported mean difference without CI, SE or P"
        obs = BmdObs(record=rec.id, outcome=o.id, site=site, t_weeks=tw, y=y, se=se, n_t=n_t or 0, n_c=n_c or 0,
                     context=ctx, comparison=f"{t} vs {c}", integrity=rec.integrity_status, flags=flags)
        if n_t and n_c:
            obs.sd_arm = se / math.sqrt(1 / n_t + 1 / n_c)
    elif tv is not None and cv is not None and tv.mean is not None and cv.mean is not None:
        if not (n_t and n_c):
            return "group sizes (n) not reported for an arm and no total to split"
        y = (tv.mean - cv.mean) * scale
        s1, how1 = _arm_sd(tv, n_t)
        s2, how2 = _arm_sd(cv, n_c)
        flags += sorted({h for h in (how1, how2) if h})
        obs = BmdObs(record=rec.id, outcome=o.id, site=site, t_weeks=tw, y=y, se=float("nan"), n_t=n_t, n_c=n_c,
                     context=ctx, comparison=f"{t} vs {c}", integrity=rec.integrity_status, flags=flags,
                     ctrl_change=cv.mean * scale)
        if s1 is not None and s2 is not None:
            obs.sd_arm = float(np.sqrt((s1**2 + s2**2) / 2)) * scale
            obs.se = math.sqrt(s1**2 / n_t + s2**2 / n_c) * scale   # heteroscedastic MD variance (escalc "MD")
            obs.arm_sds = (s1 * scale, s2 * scale)
        else:
            obs.needs_sd = True
    else:
        return "no numbers: neither arm means nor a mean difference" + (" (result given in words only)" if o.result else "")
    if extra_cv:
        obs.se = math.sqrt(obs.se**2 + (extra_cv * obs.y) ** 2) if math.isfinite(obs.se) else obs.se
    out.append(obs)
    return None


def _one_per_comparison(bmd: list[BmdObs], records: list[Record], excl: list[Exclusion]) -> list[BmdObs]:
    """Several entries for one comparison, site and time (e.g. unadjusted and adjusted analyses): keep one —
    the primary, else the unadjusted, else the first — and report the others."""
    outcome_of = {(r.id, o.id): o for r in records for o in r.outcomes}

    def rank(ob: BmdObs) -> tuple:
        o = outcome_of.get((ob.record, ob.outcome))
        adjusted = bool(o and o.effect and o.effect.adjusted) or "adjusted" in ob.outcome
        return (not (o and o.primary), adjusted)

    groups: dict[tuple, list[BmdObs]] = {}
    for ob in bmd:
        groups.setdefault((ob.record, ob.comparison, ob.site, ob.t_weeks), []).append(ob)
    keep: list[BmdObs] = []
    for obs in groups.values():
        best = min(obs, key=rank)
        keep.append(best)
        for other in obs:
            if other is not best:
                excl.append(Exclusion(record=other.record, outcome=other.outcome,
                                      reason=f"another analysis of the same comparison is used ({best.outcome})"))
    return keep


def _split_shared_controls(bmd: list[BmdObs]) -> None:
    """Several vitamin K arms against one control arm: its participants are split (Cochrane 23.3.4)."""
    from collections import Counter

    key = lambda o: (o.record, o.comparison.split(" vs ")[1], o.site, o.t_weeks)  # noqa: E731
    share = Counter(key(o) for o in bmd)
    for o in bmd:
        k = share[key(o)]
        if k > 1 and o.n_c:
            o.n_c = o.n_c / k
            o.flags.append(f"shared control arm split {k} ways (Cochrane Handbook 23.3.4)")
            if o.arm_sds is not None:
                o.se = math.sqrt(o.arm_sds[0] ** 2 / o.n_t + o.arm_sds[1] ** 2 / o.n_c)


def _impute_sds(bmd: list[BmdObs], cfg: MbmaConfig) -> dict[str, dict]:
    """Per-arm SD of % change for arms without dispersion: median over trials at the same site group."""
    by_group: dict[str, dict[str, list[float]]] = {}
    for o in bmd:
        if o.sd_arm is not None and math.isfinite(o.sd_arm):
            by_group.setdefault(SITE_GROUP[o.site], {}).setdefault(o.record, []).append(o.sd_arm)
    info: dict[str, dict] = {}
    all_trials = {r: v for g in by_group.values() for r, v in g.items()}
    for o in bmd:
        if not o.needs_sd:
            continue
        g = SITE_GROUP[o.site]
        pool = by_group.get(g) or all_trials
        if not pool:
            o.flags.append("no trial reports a dispersion: SD cannot be imputed")
            continue
        per_trial = {r: float(np.median(v)) for r, v in pool.items()}
        sd = max(float(np.median(list(per_trial.values()))), cfg.assumptions.min_sd_percent)
        where = g if by_group.get(g) else "all sites"
        info[g] = {"sd_percent": sd, "from_trials": sorted(per_trial), "site_group": where,
                   "rule": "median over trials of the per-arm SD of % change (one value per trial)"}
        o.sd_arm = sd
        o.se = sd * math.sqrt(1 / o.n_t + 1 / o.n_c)
        o.flags.append(f"SD not reported: imputed {sd:.2f} % = median per-arm SD of {len(per_trial)} trial(s) at "
                       f"{where} ({', '.join(sorted(per_trial))})")
        o.needs_sd = False
    return info


def typical_sd(ext: Extraction, site: str) -> tuple[float, str]:
    """Per-arm SD of % change for a design at ``site``: same rule as the imputation."""
    g = SITE_GROUP.get(site, "spine")
    vals: dict[str, list[float]] = {}
    for o in ext.bmd:
        if o.sd_arm is not None and not any("imputed" in f for f in o.flags) and SITE_GROUP[o.site] == g:
            vals.setdefault(o.record, []).append(o.sd_arm)
    if not vals:
        for o in ext.bmd:
            if o.sd_arm is not None and not any("imputed" in f for f in o.flags):
                vals.setdefault(o.record, []).append(o.sd_arm)
    if not vals:
        return 4.0, "ASSUMPTION: no trial reports a dispersion; 4 % used"
    per = [float(np.median(v)) for v in vals.values()]
    return float(np.median(per)), f"median per-arm SD of {len(per)} trial(s): {', '.join(sorted(vals))}"


def _fracture(rec: Record, o: Outcome, cfg: MbmaConfig, out: list[FractureObs]) -> str | None:
    if o.outcome not in cfg.fracture.gradient_outcome:
        return f"fracture outcome {o.outcome} is not modelled"
    why, t_arm, c_arm, tw = _contrast(rec, o)
    if why:
        return why
    t, c = t_arm.id, c_arm.id
    ctx, why = _context(rec, t_arm, c_arm, cfg)
    if ctx is None:
        return why
    flags: list[str] = []
    tv, cv = o.value_for(t), o.value_for(c)
    if o.metric == "events" and tv is not None and cv is not None and tv.events is not None and cv.events is not None:
        n1 = _arm_n(rec, tv, t_arm, flags)
        n2 = _arm_n(rec, cv, c_arm, flags)
        if n1 and n2:
            es = binary_effects("RR", tv.events, n1i=n1, ci=cv.events, n2i=n2)
            if np.isfinite(es.yi[0]):
                if es.corrected[0]:
                    flags.append("1/2 added to the cells (a zero count)")
                out.append(FractureObs(record=rec.id, outcome=o.id, fracture=o.outcome, t_weeks=tw, y=float(es.yi[0]),
                                       se=float(math.sqrt(es.vi[0])), context=ctx, comparison=f"{t} vs {c}",
                                       integrity=rec.integrity_status, events_t=tv.events, n_t=n1, events_c=cv.events,
                                       n_c=n2, flags=flags))
                return None
    e = o.effect
    if e is not None and e.measure in ("RR", "OR", "HR", "IRR") and e.ci_lower and e.ci_upper:
        yi, vi = from_ci(e.value, e.ci_lower, e.ci_upper, ratio=True, level=e.ci_level)
        if e.measure != "RR":
            flags.append(f"reported {e.measure} read as a risk ratio (rare events)")
        out.append(FractureObs(record=rec.id, outcome=o.id, fracture=o.outcome, t_weeks=tw, y=float(yi[0]),
                               se=float(math.sqrt(vi[0])), context=ctx, comparison=f"{t} vs {c}",
                               integrity=rec.integrity_status, flags=flags))
        return None
    return "no events with denominators per arm and no reported ratio with a CI"
