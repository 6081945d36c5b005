"""The evidence base as the claims checker sees it: records indexed by author, form, outcome and design.

Everything here is derived from :func:`kbone.evidence.loader.load_records` — no verdict is stored.
Directions are normalised to "the effect of *more* vitamin K" (an association reported for *deficiency*
is turned round), and every finding knows its record's integrity status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kbone.claims.rules import lexicon
from kbone.evidence.schema import RATIO_MEASURES, Outcome, Record
from kbone.vocab import vocab

_PCT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_DEFICIENCY = re.compile(r"deficien|insufficien|very low|low plasma|low vitamin k|low status|lowest", re.I)


def design_class(design: str) -> str:
    """meta | trial | observational | nonrandomised | pk | guideline | registry | other."""
    if design == "meta_analysis":
        return "meta"
    if design in ("pk_study",):
        return "pk"
    if design in ("guideline",):
        return "guideline"
    if design in ("registry_record",):
        return "registry"
    term = vocab().get("design", design) if vocab().has("design", design) else None
    start = term.get("evidence_start") if term else None
    if start == "high":
        return "trial"
    if design in ("cohort", "case_control", "cross_sectional"):
        return "observational"
    if design == "non_randomised_trial":
        return "nonrandomised"
    return "other"


def surname(rec: Record) -> str | None:
    first = re.split(r"[,;]", rec.citation.authors or "")[0].strip()
    tok = first.split()[0] if first.split() else ""
    return tok.lower() if tok[:1].isupper() and tok.isalpha() else None


def form_parents(form: str) -> set[str]:
    out = set()
    for t in vocab().terms("form"):
        if form in (t.get("parent_of") or []):
            out.add(t.id)
    return out


@lru_cache(maxsize=256)
def _children(form: str) -> frozenset[str]:
    return frozenset(vocab().get("form", form).get("parent_of") or []) if vocab().has("form", form) else frozenset()


def forms_match(claim: list[str], rec_forms: list[str]) -> str | None:
    """'exact', 'family' (a parent/child form), 'any' (claim says vitamin K in general) or None.

    A record that names no vitamin K form at all (e.g. a bone-density epidemiology paper) matches nothing.
    """
    if not rec_forms:
        return None
    if not claim or "K" in claim:
        return "any"
    level = None
    for c in claim:
        for r in rec_forms:
            if c == r:
                return "exact"
            if r in _children(c) or c in _children(r):
                level = "family"
    return level


@lru_cache(maxsize=1024)
def outcome_group(outcome_id: str) -> str | None:
    return vocab().get("outcome", outcome_id).get("group") if vocab().has("outcome", outcome_id) else None


def k_direction(rec: Record, o: Outcome) -> str:
    """Direction of more vitamin K on this outcome: benefit | harm | null | unclear."""
    d = o.direction
    if d is None and o.effect is not None and o.effect.ci_lower is not None and o.effect.ci_upper is not None:
        e = o.effect
        null = 1.0 if e.measure in RATIO_MEASURES else 0.0
        better = vocab().get("outcome", o.outcome).get("better") if vocab().has("outcome", o.outcome) else None
        if e.ci_lower <= null <= e.ci_upper:
            d = "null"
        elif better in ("up", "down"):
            up = e.ci_lower > null
            d = "benefit" if (up and better == "up") or (not up and better == "down") else "harm"
    d = d or "unclear"
    text = f"{o.subgroup or ''} {o.result or ''}"
    if design_class(rec.design) == "observational" and d in ("benefit", "harm") and _DEFICIENCY.search(text):
        d = "harm" if d == "benefit" else "benefit"
    return d


def outcome_percents(o: Outcome) -> list[float]:
    """Percentages a reader could quote from this outcome (differences, arm changes, ratio reductions)."""
    vals: list[float] = []
    e = o.effect
    if e is not None:
        if e.measure in RATIO_MEASURES:
            vals += [round((1 - e.value) * 100, 1), round((e.value - 1) * 100, 1)]
        elif o.metric == "percent_change" or o.unit == "percent" or e.measure == "percent_difference":
            vals += [e.value, abs(e.value)]
    means = [av.mean for av in o.arm_values if av.mean is not None]
    if o.metric == "percent_change":
        vals += means
        if len(means) == 2:
            vals.append(round(abs(means[0] - means[1]), 2))
    ev = [(av.events, av.total) for av in o.arm_values if av.events is not None]
    if len(ev) == 2 and all(t for _, t in ev):
        (a, n1), (b, n2) = ev
        if b and n1 and n2:
            vals.append(round((1 - (a / n1) / (b / n2)) * 100, 1))
    vals += [float(x) for x in _PCT.findall(o.result or "")]
    return vals


def taint(rec: Record, by_id: dict[str, Record]) -> tuple[str | None, list[str]]:
    """(status, ids): the record's own integrity problem, or retracted studies it pools."""
    if rec.integrity.status != "ok":
        return rec.integrity.status, [rec.id]
    bad = [s for s in rec.included_studies if s in by_id and by_id[s].integrity.status == "retracted"]
    if bad:
        return "includes_retracted", bad
    return None, []


def superseded(rec: Record) -> list[Outcome]:
    """Whole-sample outcomes replaced by a correction of the same outcome (subgroup "correction: …", e.g.
    Mott 2019's clinical-fracture OR 0.72 → 0.74 with YOPS removed); the same rule as
    :func:`kbone.evidence.grade._pick_outcome`, so claims quote what grading uses."""
    corrected = {o.outcome for o in rec.outcomes if (o.subgroup or "").lower().startswith("correction")}
    return [o for o in rec.outcomes if o.outcome in corrected and not o.subgroup]


@dataclass
class Finding:
    record: Record
    outcome: Outcome
    level: str  # outcome | group
    direction: str
    dclass: str
    taint: str | None


class EvidenceBase:
    """Records plus the indexes the checker needs."""

    def __init__(self, records: list[Record]):
        self.records = list(records)
        self.by_id = {r.id: r for r in self.records}
        self.by_surname: dict[str, list[Record]] = {}
        for r in self.records:
            s = surname(r)
            if s:
                self.by_surname.setdefault(s, []).append(r)
        lex = lexicon()
        self.disease = set(lex.get("disease_populations", []))
        self.families = {p: fam for fam, ps in (lex.get("population_families") or {}).items() for p in ps}
        self.group_aliases = dict(lex.get("group_aliases", {}))
        self.taints = {r.id: taint(r, self.by_id) for r in self.records}
        # derived views computed once (record properties recompute on every access)
        self.forms = {r.id: r.forms for r in self.records}
        self.dcls = {r.id: design_class(r.design) for r in self.records}
        self.pops = {r.id: list(r.population.terms) if r.population else [] for r in self.records}
        self.groups = {r.id: {outcome_group(o.outcome) for o in r.outcomes} for r in self.records}
        self.superseded = {(r.id, o.id) for r in self.records for o in superseded(r)}

    def dclass(self, rec: Record) -> str:
        return self.dcls.get(rec.id) or design_class(rec.design)

    def disease_compatible(self, claim_pops: list[str], rec: Record) -> bool:
        cd = {self.families.get(p, p) for p in claim_pops if p in self.disease}
        rd = {self.families.get(p, p) for p in self.pops.get(rec.id, []) if p in self.disease}
        return not cd or not rd or bool(cd & rd)

    def expand_groups(self, groups: list[str]) -> set[str]:
        out = set()
        for g in groups:
            out.update(self.group_aliases.get(g, [g]))
        return out

    def findings(self, forms: list[str], outcomes: list[str], groups: list[str], populations: list[str],
                 designs: tuple[str, ...] = ("meta", "trial", "observational")) -> list[Finding]:
        """Outcomes in the base that bear on (forms × outcomes/groups × disease population)."""
        specific = {o for o in outcomes if not o.endswith("_unspecified")}
        grp = self.expand_groups(groups) | {g for o in outcomes if (g := outcome_group(o))}
        out = []
        for r in self.records:
            dc = self.dcls[r.id]
            if dc not in designs:
                continue
            if not (self.groups[r.id] & grp) and not any(o.outcome in specific for o in r.outcomes):
                continue
            if forms_match(forms, self.forms[r.id]) is None:
                continue
            if not self.disease_compatible(populations, r):
                continue
            for o in r.outcomes:
                if (r.id, o.id) in self.superseded:
                    continue
                if o.outcome in specific:
                    level = "outcome"
                elif outcome_group(o.outcome) in grp:
                    level = "group"
                else:
                    continue
                out.append(Finding(r, o, level, k_direction(r, o), dc, self.taints[r.id][0]))
        return out

    def related(self, forms: list[str], populations: list[str], groups: list[str]) -> list[Record]:
        """Records on the same form and condition, whatever they measured (registrations included)."""
        grp = self.expand_groups(groups)
        dis = [p for p in populations if p in self.disease]
        out = []
        for r in self.records:
            rf = self.forms[r.id]
            if forms_match(forms, rf) not in ("exact", "family") and not (forms == ["K"] and rf):
                continue
            pops = self.pops[r.id]
            if dis and set(dis) & set(pops):
                out.append(r)
            elif not dis and grp & self.groups[r.id]:
                out.append(r)
        return out


_CACHE: dict[str, tuple[tuple, EvidenceBase]] = {}


def _stamp() -> tuple:
    """Cheap fingerprint of the evidence folder (names, sizes, mtimes) to notice edits without re-reading."""
    import os

    from kbone.evidence.loader import EVIDENCE_DIR

    out = []
    with os.scandir(EVIDENCE_DIR) as it:
        for e in it:
            if e.name.endswith(".yaml"):
                st = e.stat()
                out.append((e.name, st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


def evidence_base() -> EvidenceBase:
    """The shipped evidence base, indexed (rebuilt when a record file changes)."""
    from kbone.evidence.loader import load_records

    stamp = _stamp()
    hit = _CACHE.get("base")
    if hit is None or hit[0] != stamp:
        _CACHE["base"] = (stamp, EvidenceBase(load_records()))
    return _CACHE["base"][1]
