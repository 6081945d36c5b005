"""Evidence records → per-comparison study inputs for one outcome.

Rules (each exclusion is reported with its reason):

- only comparative trials are pooled (designs ``rct``, ``open_label_rct``, ``crossover``,
  ``non_randomised_trial``); meta-analyses, guidelines, reviews, observational and PK studies are skipped.
- an outcome entry is used when its ``outcome`` matches; entries for a subgroup are skipped; of several
  time points of one comparison the longest follow-up is used (or the one nearest ``timepoint_weeks``).
- the data are, in order of preference: events/totals per arm (``metric: events``), mean/SD/n per arm
  (SD from SE × √n or from a 95 % CI when the SD is not given), or the reported effect with its CI.
- continuous outcomes are pooled on one metric (``percent_change``, ``absolute_change`` or ``final_value``);
  entries on another metric are excluded, since mean differences on different scales cannot be pooled.
- a multi-arm trial contributes one comparison per intervention arm; when several comparisons share one
  control arm its participants (and events) are split evenly between them (Cochrane Handbook 23.3.4), so
  nobody is counted twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from kbone.evidence.meta.effects import from_ci, is_ratio, sd_from_ci, sd_from_se
from kbone.evidence.meta.groups import dose_band
from kbone.evidence.meta.pipeline import StudyInput
from kbone.evidence.meta.results import Excluded
from kbone.evidence.schema import Arm, ArmValue, Outcome, Record
from kbone.vocab import vocab

TRIAL_DESIGNS = ("rct", "open_label_rct", "crossover", "non_randomised_trial")
METRICS = ("percent_change", "absolute_change", "final_value")


@dataclass
class Extraction:
    studies: list[StudyInput]
    excluded: list[Excluded]
    metric: str | None
    notes: list[str] = field(default_factory=list)


def resolve_outcome(text: str) -> str:
    """Outcome id for any synonym (``vertebral_fracture`` → ``fracture_vertebral``)."""
    return vocab().resolve_or_raise("outcome", text, field="outcome").id



def _n(av: ArmValue | None, arm: Arm | None) -> float | None:
    if av is not None and av.n:
        return float(av.n)
    if av is not None and av.total:
        return float(av.total)
    if arm is not None:
        return float(arm.n_analysed or arm.n_randomized) if (arm.n_analysed or arm.n_randomized) else None
    return None


def _sd(av: ArmValue, n: float | None) -> tuple[float | None, str | None]:
    if av.sd is not None:
        return float(av.sd), None
    if av.se is not None and n:
        return float(sd_from_se(av.se, n)[0]), "SD derived from SE × √n"
    if av.ci_lower is not None and av.ci_upper is not None and n and n > 1:
        return float(sd_from_ci(av.ci_lower, av.ci_upper, n)[0]), "SD derived from the 95% CI of the mean"
    return None, None


def _groups(rec: Record, arm: Arm | None) -> dict[str, str]:
    g: dict[str, str] = {"design": rec.design}
    if arm is not None and arm.intervention is not None:
        g["form"] = arm.intervention.form
        band = dose_band(arm.intervention.ug_per_day)
        if band:
            g["dose_band"] = band
    elif rec.forms:
        g["form"] = rec.forms[0]
    if rec.population and rec.population.terms:
        g["population"] = rec.population.terms[0]
    if rec.country:
        g["country"] = rec.country[0] if len(rec.country) == 1 else "multinational"
    return g


def _label(rec: Record) -> str:
    return rec.citation.short()


def extract(records: list[Record], outcome: str, measure: str, *, metric: str | None = None,
            timepoint_weeks: float | None = None, method: str = "REML") -> Extraction:
    """Study inputs for ``outcome`` pooled as ``measure``, with every skipped record and why."""
    oid = resolve_outcome(outcome)
    measure = measure.upper()
    binary = measure in ("OR", "RR", "RD", "PETO")
    excluded: list[Excluded] = []
    candidates: list[tuple[Record, Outcome]] = []
    for rec in records:
        outs = [o for o in rec.outcomes if o.outcome == oid]
        if not outs:
            continue
        if rec.design not in TRIAL_DESIGNS:
            what = vocab().label("design", rec.design, "en")
            excluded.append(Excluded(id=rec.id, label=_label(rec),
                                     reason=f"not a comparative trial ({what}); only trials are pooled"))
            continue
        main = [o for o in outs if not o.subgroup]
        if not main:
            excluded.append(Excluded(id=rec.id, label=_label(rec), reason="reports this outcome only for a subgroup"))
            continue
        for o in main:
            candidates.append((rec, o))
    # the metric for continuous outcomes
    notes: list[str] = []
    if not binary:
        if metric is None:
            counts = Counter(o.metric for _, o in candidates if o.metric in METRICS and _usable_continuous(o, measure))
            if counts:
                best = max(counts.values())
                metric = next(m for m in METRICS if counts.get(m) == best)
        if metric is not None:
            notes.append(f"continuous outcome pooled as {metric}")
    # one entry per (record, comparison): the chosen time point
    by_comp: dict[tuple[str, str | None, str | None], list[Outcome]] = {}
    recs: dict[str, Record] = {}
    for rec, o in candidates:
        recs[rec.id] = rec
        t, c = rec.comparison_arms(o)
        if not binary and o.metric != metric:
            excluded.append(Excluded(id=f"{rec.id}/{o.id}", label=_label(rec),
                                     reason=f"reported as {o.metric}, the analysis pools {metric}: "
                                            f"mean differences on different scales cannot be pooled"
                                            + (f" (use --metric {o.metric})" if o.metric in METRICS else "")))
            continue
        if binary and o.metric not in ("events", "incidence") and not (o.effect and o.effect.measure in ("OR", "RR", "RD")):
            excluded.append(Excluded(id=f"{rec.id}/{o.id}", label=_label(rec),
                                     reason=f"no events per arm or reported {measure} (metric {o.metric})"))
            continue
        by_comp.setdefault((rec.id, t, c), []).append(o)
    chosen: list[tuple[Record, Outcome, str | None, str | None]] = []
    for (rid, t, c), outs in by_comp.items():
        rec = recs[rid]
        if len(outs) > 1:
            if timepoint_weeks is not None:
                o = min(outs, key=lambda x: abs((x.timepoint_weeks or 0) - timepoint_weeks))
            else:
                o = max(outs, key=lambda x: (x.timepoint_weeks or 0, bool(x.primary)))
            for other in outs:
                if other is not o:
                    excluded.append(Excluded(id=f"{rid}/{other.id}", label=_label(rec),
                                             reason=f"another time point of the same comparison is used "
                                                    f"({o.timepoint_weeks:g} weeks)" if o.timepoint_weeks else
                                             "another entry of the same comparison is used"))
        else:
            o = outs[0]
        chosen.append((rec, o, t, c))
    # multi-arm trials: treatment arms used once; shared control arms split
    used_t: set[tuple[str, str | None]] = set()
    final: list[tuple[Record, Outcome, str | None, str | None]] = []
    for rec, o, t, c in chosen:
        if t is None or c is None:
            excluded.append(Excluded(id=f"{rec.id}/{o.id}", label=_label(rec),
                                     reason="treatment and control arms are not identified (treatment_arm/control_arm)"))
            continue
        if (rec.id, t) in used_t:
            excluded.append(Excluded(id=f"{rec.id}/{o.id}", label=_label(rec),
                                     reason=f"arm {t!r} is already compared with another control (not counted twice)"))
            continue
        used_t.add((rec.id, t))
        final.append((rec, o, t, c))
    share = Counter((rec.id, c) for rec, _, _, c in final)
    per_record = Counter(rec.id for rec, _, _, _ in final)
    studies: list[StudyInput] = []
    for rec, o, t, c in final:
        split = share[(rec.id, c)]
        sid = rec.id if per_record[rec.id] == 1 else f"{rec.id}/{t}"
        label = _label(rec) if per_record[rec.id] == 1 else f"{_label(rec)} ({_arm_name(rec, t)})"
        s = _study(rec, o, t, c, measure, sid, label, split, method)
        if isinstance(s, Excluded):
            excluded.append(s)
        else:
            studies.append(s)
    return Extraction(studies=studies, excluded=excluded, metric=None if binary else metric, notes=notes)


def _arm_name(rec: Record, arm_id: str) -> str:
    a = rec.arm(arm_id)
    if a is not None and a.intervention is not None:
        return a.intervention.form
    return arm_id


def _usable_continuous(o: Outcome, measure: str) -> bool:
    if o.arm_values and all(v.mean is not None for v in o.arm_values):
        return True
    return o.effect is not None and o.effect.measure == measure


def _study(rec: Record, o: Outcome, t: str, c: str, measure: str, sid: str, label: str, split: int,
           method: str) -> StudyInput | Excluded:
    ta, ca = rec.arm(t), rec.arm(c)
    tv, cv = o.value_for(t), o.value_for(c)
    base = dict(id=sid, label=label, year=rec.year, record=rec.id, integrity=rec.integrity_status,
                groups=_groups(rec, ta))
    notes: list[str] = []
    if split > 1:
        notes.append(f"shared control arm split {split} ways (Cochrane Handbook 23.3.4)")
    binary = measure in ("OR", "RR", "RD", "PETO")
    if binary and tv is not None and cv is not None and tv.events is not None and cv.events is not None:
        n1, n2 = _n(tv, ta), _n(cv, ca)
        if n1 and n2:
            return StudyInput(**base, ai=float(tv.events), n1i=n1, ci=cv.events / split, n2i=n2 / split, notes=notes)
    if not binary and tv is not None and cv is not None and tv.mean is not None and cv.mean is not None:
        n1, n2 = _n(tv, ta), _n(cv, ca)
        if n1 and n2:
            s1, how1 = _sd(tv, n1)
            s2, how2 = _sd(cv, n2)
            notes += sorted({h for h in (how1, how2) if h})
            if s1 is not None and s2 is not None:
                return StudyInput(**base, m1i=float(tv.mean), sd1i=s1, n1i=n1, m2i=float(cv.mean), sd2i=s2,
                                  n2i=n2 / split, notes=notes)
            if not (o.effect and o.effect.measure == measure):
                return Excluded(id=sid, label=label, reason="missing SD (no SD, SE or CI of the mean for an arm)")
    e = o.effect
    if e is not None:
        want = "OR" if measure == "PETO" else measure
        if e.measure != want:
            return Excluded(id=sid, label=label,
                            reason=f"reports a {e.measure}, not a {want}: measures cannot be mixed in one analysis")
        if e.ci_lower is None or e.ci_upper is None:
            return Excluded(id=sid, label=label, reason=f"reported {e.measure} has no confidence interval")
        if method in ("MH", "PETO"):
            return Excluded(id=sid, label=label, reason="only a reported effect (no 2x2 counts) for MH/Peto pooling")
        yi, vi = from_ci(e.value, e.ci_lower, e.ci_upper, ratio=is_ratio(e.measure), level=e.ci_level)
        notes.append(f"effect from the reported {e.measure} and its {e.ci_level:.0%} CI")
        return StudyInput(**base, yi=float(yi[0]), vi=float(vi[0]), yi_measure=want, notes=notes)
    if binary:
        return Excluded(id=sid, label=label, reason="no events/totals per arm and no reported effect with a CI")
    if tv is None or cv is None or tv.mean is None or cv.mean is None:
        return Excluded(id=sid, label=label, reason="no means per arm and no reported effect with a CI")
    return Excluded(id=sid, label=label, reason="group sizes (n) missing for an arm")
