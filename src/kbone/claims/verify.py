"""Claim → verdict, from the evidence base (never from a list of known sentences).

Verdicts: ``supported``, ``partly_supported``, ``unsupported`` (no evidence for it), ``contradicted`` (the
evidence says otherwise), ``not_checkable`` (nothing in the claim can be compared with evidence). Each
comes with a reason in English and Chinese, the record ids it rests on and, for study mentions, the
field-by-field checks (n, duration, dose, form, population, site, numbers, direction, integrity).

How each kind is decided:

* **effect / association** — outcomes in the base that match the claim's form, outcome (or outcome group)
  and condition are collected; numbers in the claim must be found in a matching outcome (percentages,
  ratio reductions, arm changes) or they are unsupported; without numbers the verdict follows the clean
  (not retracted or flagged) trials and meta-analyses, then observational studies. Favourable results
  that rest on retracted or flagged work are named.
* **study** — the named (or described) study is linked to its record and compared field by field.
* **reference** — the journal is looked up in ``data/claims/journals.yaml`` and the article in the base.
* **safety / dose / pk** — anticoagulant interaction records, tested doses and reference intakes, and
  pharmacokinetic parameters.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz

from kbone.claims.evidence import (
    EvidenceBase,
    Finding,
    evidence_base,
    forms_match,
    k_direction,
    outcome_group,
    outcome_percents,
)
from kbone.claims.extract import group_direction
from kbone.claims.journals import journals
from kbone.claims.models import Check, Claim, Number, Verdict
from kbone.claims.rules import messages, patterns
from kbone.evidence.schema import Outcome, Record
from kbone.vocab import vocab

CLINICAL = {"bmd", "fracture", "oa", "osteoporosis"}


# ---- text helpers --------------------------------------------------------------------------------

def msg(key: str, **kw) -> tuple[str, str]:
    m = messages()[key]
    en_kw = {k: (v[0] if isinstance(v, tuple) else v) for k, v in kw.items()}
    zh_kw = {k: (v[1] if isinstance(v, tuple) else v) for k, v in kw.items()}
    return m["en"].format(**en_kw), m["zh"].format(**zh_kw)


def join(parts: list[tuple[str, str]]) -> tuple[str, str]:
    parts = [p for p in parts if p and p[0]]
    return " ".join(p[0] for p in parts), "".join(p[1] for p in parts)


def lst(items: list[tuple[str, str]]) -> tuple[str, str]:
    return "; ".join(i[0] for i in items), "；".join(i[1] for i in items)


def g(x: float | None) -> str:
    if x is None:
        return "?"
    return f"{x:g}" if abs(x) >= 0.01 or x == 0 else f"{x:.2g}"


def label(kind: str, tid: str) -> tuple[str, str]:
    v = vocab()
    return (v.label(kind, tid, "en"), v.label(kind, tid, "zh")) if v.has(kind, tid) else (tid, tid)


def rec_name(r: Record) -> tuple[str, str]:
    d = label("design", r.design)
    cit = r.citation.short()
    return f"{r.id} ({cit}, {d[0]})", f"{r.id}（{cit}，{d[1]}）"


def effect_text(o: Outcome) -> str:
    e = o.effect
    if e is not None:
        s = f"{e.measure} {g(e.value)}"
        if e.ci_lower is not None and e.ci_upper is not None:
            s += f" ({g(e.ci_lower)}–{g(e.ci_upper)})"
        return s
    means = [(av.arm, av.mean) for av in o.arm_values if av.mean is not None]
    if len(means) == 2:
        unit = "%" if o.metric == "percent_change" else ""
        return f"{g(means[0][1])}{unit} vs {g(means[1][1])}{unit}"
    ev = [(av.events, av.total) for av in o.arm_values if av.events is not None]
    if len(ev) == 2:
        return " vs ".join(f"{a}/{t}" if t else f"{a}" for a, t in ev)
    return ""


DIR_LABEL = {"benefit": ("favourable", "有利"), "harm": ("unfavourable", "不利"), "null": ("no effect", "无显著效果"),
             "unclear": ("unclear", "不明确")}


def finding_text(f: Finding) -> tuple[str, str]:
    r, o = f.record, f.outcome
    ol = label("outcome", o.outcome)
    eff = effect_text(o)
    sub = f" [{o.subgroup}]" if o.subgroup and len(o.subgroup) < 60 else ""
    d = DIR_LABEL.get(f.direction, DIR_LABEL["unclear"])
    en = f"{r.id} ({r.citation.short()}): {ol[0]}{sub} {eff or d[0]}".rstrip()
    zh = f"{r.id}（{r.citation.short()}）：{ol[1]}{sub} {eff or d[1]}".rstrip()
    if f.taint:
        t = taint_label(f.taint)
        en += f" — {t[0]}"
        zh += f"——{t[1]}"
    return en, zh


def taint_label(status: str) -> tuple[str, str]:
    return {"retracted": ("RETRACTED", "已撤稿"), "flagged": ("integrity flagged", "诚信存疑"),
            "expression_of_concern": ("expression of concern", "关注声明"),
            "includes_retracted": ("pools retracted trials", "纳入了已撤稿试验")}.get(status, (status, status))


def record_brief(r: Record) -> tuple[str, str]:
    """One line on what a record is: design, forms, population, duration, n, first result."""
    d = label("design", r.design)
    forms = "/".join(r.forms) or "vitamin K"
    bits_en = [d[0], forms]
    bits_zh = [d[1], forms]
    if r.population:
        pops = [label("population", p) for p in r.population.terms[:2]]
        bits_en.append(", ".join(p[0] for p in pops))
        bits_zh.append("、".join(p[1] for p in pops))
    if r.duration_weeks:
        w = r.duration_weeks
        bits_en.append(f"{g(round(w))} weeks" if w < 60 else f"{g(round(w / 52.18, 1))} years")
        bits_zh.append(f"{g(round(w))}周" if w < 60 else f"{g(round(w / 52.18, 1))}年")
    if r.n_total:
        bits_en.append(f"n={r.n_total}")
        bits_zh.append(f"{r.n_total}例")
    outs = ", ".join(dict.fromkeys(label("outcome", o.outcome)[0] for o in r.outcomes[:3]))
    outs_zh = "、".join(dict.fromkeys(label("outcome", o.outcome)[1] for o in r.outcomes[:3]))
    if outs:
        bits_en.append(f"measured {outs}")
        bits_zh.append(f"测量{outs_zh}")
    res = next((o.result for o in r.outcomes if o.result), None)
    en = f"{r.id}: " + ", ".join(bits_en) + (f" — {res[:140]}" if res else "")
    zh = f"{r.id}：" + "，".join(bits_zh)
    if res and re.search(r"no results|NO RESULTS|recruiting", res, re.I):
        zh += "——尚无结果"
    return en, zh


def topic(claim: Claim) -> tuple[str, str]:
    p = claim.parts
    forms = [label("form", f) for f in p.forms] or [("vitamin K", "维生素K")]
    outs = [label("outcome", o) for o in p.outcomes if not o.endswith("_unspecified")]
    if not outs:
        outs = [messages_group(gr) for gr in p.outcome_groups if gr in CLINICAL or gr in ("coagulation", "marker", "pk")]
    pops = [label("population", x) for x in p.populations if x not in ("healthy",)]
    en = "/".join(f[0] for f in forms) + (" and " + ", ".join(o[0] for o in outs) if outs else "")
    zh = "/".join(f[1] for f in forms) + ("与" + "、".join(o[1] for o in outs) if outs else "")
    if pops:
        en += " in " + ", ".join(x[0] for x in pops[:2])
        zh = "、".join(x[1] for x in pops[:2]) + "人群中" + zh
    return en, zh


def messages_group(gr: str) -> tuple[str, str]:
    m = messages().get(f"group_{gr}")
    return (m["en"], m["zh"]) if m else (gr, gr)


@lru_cache(maxsize=256)
def _grade_cached(form: str, outcomes: tuple[str, ...], population: str | None, n_records: int) -> str | None:
    try:
        from kbone.evidence.grade import grade
    except ImportError:  # pragma: no cover - grading module absent
        return None
    try:
        res = grade(evidence_base().records, form, list(outcomes) if len(outcomes) > 1 else outcomes[0], population)
    except Exception:  # grading must never break a check; the verdict stands without a grade
        return None
    return res.level


@lru_cache(maxsize=1)
def assess_questions() -> dict[str, tuple[str, ...]]:
    """Outcome group → the outcome list kbone.assess grades for it (``data/rules/options.yaml`` goals).

    A goal role whose outcomes all fall in one vocabulary group (bone ``primary`` = every fracture outcome,
    ``secondary`` = the three BMD sites; oa ``primary`` = WOMAC) is the question assess asks for that group.
    """
    import yaml

    from kbone.paths import data_path

    try:
        doc = yaml.safe_load(data_path("rules", "options.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for goal in (doc.get("goals") or {}).values():
        for role in ("primary", "secondary"):
            ids = tuple(goal.get(role) or [])
            groups = {outcome_group(o) for o in ids}
            if ids and len(groups) == 1 and None not in groups:
                out.setdefault(groups.pop(), ids)
    return out


def grade_question(claim: Claim, eb: EvidenceBase) -> tuple[str, tuple[str, ...], str | None] | None:
    """(form, outcomes, population) asked of :func:`kbone.evidence.grade.grade` for a claim.

    The question is the one kbone.assess asks for the same outcome group, so a claim and an assessment on
    the same (form, outcome) get the same grade: a group word ("fractures", "骨密度"; the outcome ids
    ``fracture_any`` and ``*_unspecified`` stand for it) is graded on assess's outcome list for that group,
    a named site or type ("vertebral fractures") on that outcome alone. Differences that remain are
    differences of question: a claim naming no population is graded for any population (assess always
    names the profile's: postmenopausal, women, men or oa), and a claim about vitamin K in general (``K``)
    is graded over every form, which assess, asking per form, never does.
    """
    p = claim.parts
    form = p.forms[0] if p.forms else "K"
    asked = assess_questions()
    outs: list[str] = []
    groups: list[str] = [x for x in p.outcome_groups if x in CLINICAL]
    for o in p.outcomes:
        grp = outcome_group(o)
        if grp not in CLINICAL | {"marker", "coagulation"}:
            continue
        if _generic(o):
            groups.append(grp)
        else:
            outs.append(o)
    if not outs:
        for grp in sorted(eb.expand_groups(groups)):
            outs.extend(o for o in asked.get(grp, ()) if o not in outs)
        if not outs:
            outs = sorted({o.outcome for r in eb.records for o in r.outcomes if outcome_group(o.outcome) in eb.expand_groups(groups)})
    if not outs:
        return None
    pop = next((x for x in p.populations if x in eb.disease), None)
    return form, tuple(outs), pop


def grade_of(claim: Claim, eb: EvidenceBase) -> str | None:
    q = grade_question(claim, eb)
    return _grade_cached(*q, len(eb.records)) if q else None


# ---- number matching -----------------------------------------------------------------------------

def percent_matches(num: Number, findings: list[Finding]) -> list[Finding]:
    if num.value is None:
        return []
    target = abs(num.value)
    out = []
    for f in findings:
        for v in outcome_percents(f.outcome):
            if abs(abs(v) - target) <= max(0.05 * target, 0.15):
                out.append(f)
                break
    return out


def ratio_matches(num: Number, findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(findings reporting this ratio, findings whose CI excludes it)."""
    same, outside = [], []
    for f in findings:
        e = f.outcome.effect
        if e is None or num.value is None:
            continue
        if abs(e.value - num.value) <= 0.02 and (num.measure is None or num.measure == e.measure or e.measure in ("OR", "RR", "HR")):
            same.append(f)
        elif e.ci_lower is not None and e.ci_upper is not None and not e.ci_lower <= num.value <= e.ci_upper:
            outside.append(f)
    return same, outside


def claimed_ratio_from_percent(num: Number) -> float | None:
    """A claimed '降低64%' as the ratio 0.36 (for comparison with OR/RR intervals)."""
    if num.kind != "percent" or num.role != "change" or num.value is None:
        return None
    return max(0.0, 1 - num.value / 100)


# ---- verdicts by kind -----------------------------------------------------------------------------

def verify_claim(claim: Claim, eb: EvidenceBase | None = None, *, context=None) -> Verdict:
    eb = eb or evidence_base()
    kind = claim.kind
    if kind == "reference":
        v = verify_reference(claim, eb)
    elif kind == "study":
        v = verify_study(claim, eb, context)
    elif kind == "safety":
        v = verify_safety(claim, eb)
    elif kind == "dose":
        v = verify_dose(claim, eb, context)
    elif kind == "pk":
        v = verify_pk(claim, eb)
    elif kind == "mechanism":
        en, zh = msg("mechanism")
        v = Verdict(verdict="not_checkable", reason_en=en, reason_zh=zh)
    else:
        v = verify_effect(claim, eb)
    if claim.parts.foods and kind in ("effect", "association"):
        en, zh = msg("food_form", foods=", ".join(claim.parts.foods), forms="/".join(claim.parts.forms))
        v.reason_en, v.reason_zh = f"{en} {v.reason_en}".strip(), f"{zh}{v.reason_zh}"
    if claim.attributed_to is not None and claim.attributed_to.journal:
        m = journals().lookup(claim.attributed_to.journal)
        if m.journal is None:
            en, zh = msg("attributed_unfound", journal=claim.attributed_to.journal)
            v.reason_en, v.reason_zh = f"{v.reason_en} {en}", f"{v.reason_zh}{zh}"
            v.checks.append(Check(field="source", claimed=claim.attributed_to.journal, found=None, ok=False,
                                  note_en=en, note_zh=zh))
    return v


def _comparative_agent(claim: Claim) -> str | None:
    if re.search(r"相比|优于|比[^例]{0,12}(?:更|少|多)|compared with|than|versus|vs\.?", claim.clean):
        agents = [a for a in claim.parts.agents if a not in ("placebo", "no_treatment")]
        if agents and not re.search(r"联用|合用|联合|combined|together with|plus", claim.clean):
            return agents[0]
    return None


def verify_effect(claim: Claim, eb: EvidenceBase) -> Verdict:
    p = claim.parts
    top = topic(claim)
    agent = _comparative_agent(claim)
    if agent:
        actives = [r for r in eb.records if any(a.comparator == "active" for a in r.arms)
                   and forms_match(p.forms, r.forms) and any(agent == c.agent for a in r.arms for c in a.co_interventions)]
        en, zh = msg("comparative", agent=label("agent", agent))
        if actives:
            e2, z2 = msg("closest", items=lst([record_brief(r) for r in actives[:3]]))
            en, zh = f"{en} {e2}", f"{zh}{z2}"
        return Verdict(verdict="not_checkable", reason_en=en, reason_zh=zh, records=[r.id for r in actives[:3]])
    groups = [x for x in p.outcome_groups if x in CLINICAL or x in ("marker",)]
    outcomes = [o for o in p.outcomes if outcome_group(o) not in ("pk", "safety", "other")]
    if set(groups) & CLINICAL:  # a clinical claim is judged on clinical outcomes, not on markers
        groups = [x for x in groups if x in CLINICAL]
        outcomes = [o for o in outcomes if outcome_group(o) in CLINICAL]
    if not groups and not outcomes:
        en, zh = msg("no_definite")
        return Verdict(verdict="not_checkable", reason_en=en, reason_zh=zh)
    F = eb.findings(p.forms, outcomes, groups, p.populations)
    nums = [n for n in p.numbers if n.kind in ("percent", "ratio", "fold") and n.role != "level" or n.kind == "ratio"]
    nums = [n for n in nums if n.kind != "percent" or n.role in ("change", "proportion")]
    covered = bool(F) or any(outcome_group(o.outcome) in eb.expand_groups(groups) for r in eb.records for o in r.outcomes)
    if nums:
        return _numbers_verdict(claim, eb, F, nums, top, covered)
    if p.direction not in ("benefit", "harm", "null"):
        en, zh = msg("no_definite")
        return Verdict(verdict="not_checkable", reason_en=en, reason_zh=zh)
    return _direction_verdict(claim, eb, F, top, covered)


def _split(F: list[Finding]):
    clean = [f for f in F if not f.taint]
    tm = [f for f in clean if f.dclass in ("meta", "trial")]
    obs = [f for f in clean if f.dclass == "observational"]
    tainted = [f for f in F if f.taint]
    return clean, tm, obs, tainted


def _pick(fs: list[Finding], n: int = 4) -> list[Finding]:
    """Meta-analyses first, then outcome-level matches, then larger trials; one line per record."""
    seen, out = set(), []
    for f in sorted(fs, key=lambda f: (f.dclass != "meta", f.level != "outcome", -(f.record.n_total or 0))):
        if f.record.id in seen:
            continue
        seen.add(f.record.id)
        out.append(f)
        if len(out) == n:
            break
    return out


def _direction_verdict(claim: Claim, eb: EvidenceBase, F: list[Finding], top, covered: bool) -> Verdict:
    p = claim.parts
    want = p.direction
    clean, tm, obs, tainted = _split(F)
    fav_tm = [f for f in tm if f.direction == want]
    null_tm = [f for f in tm if f.direction == "null" and want != "null"]
    fav_obs = [f for f in obs if f.direction == want]
    fav_taint = [f for f in tainted if f.direction == want]
    intervention = p.exposure == "intervention" or claim.kind == "effect"
    parts: list[tuple[str, str]] = []
    records: list[str] = []

    def add(key, fs):
        if fs:
            parts.append(msg(key, items=lst([finding_text(f) for f in _pick(fs)])))
            records.extend(f.record.id for f in _pick(fs))

    if claim.kind == "association" and not intervention or p.exposure in ("status", "deficiency"):
        if fav_obs:
            add("observational_support", fav_obs)
            if p.causal or p.exposure == "intervention":
                parts.append(msg("association_not_cause"))
            if null_tm and p.exposure == "intervention":
                add("trials_null", null_tm)
            # rule: a causal claim resting on observational associations is partly supported at most
            verdict = "partly_supported" if p.causal else "supported"
            if p.causal:
                parts.append(msg("causal_observational"))
        elif fav_tm:
            add("trials_favour", fav_tm)
            verdict = "partly_supported"
        elif F:
            add("evidence_other", _pick([f for f in F if f.direction != want]))
            verdict = "unsupported"
        else:
            parts.append(msg("no_evidence_topic", topic=top))
            verdict = "unsupported" if covered else "not_checkable"
    else:
        if fav_tm:
            add("trials_favour", fav_tm)
            mixed = bool(null_tm)
            add("trials_null", null_tm)
            verdict = "partly_supported" if mixed or fav_taint else "supported"
        elif null_tm:
            add("trials_null", null_tm)
            outcome_level = [f for f in null_tm if f.level == "outcome" and f.dclass == "meta"] or \
                [f for f in null_tm if f.level == "outcome"][1:]
            verdict = "contradicted" if outcome_level and not p.hedged else "unsupported"
            if fav_obs:
                add("observational_only", fav_obs)
        elif fav_obs:
            add("observational_only", fav_obs)
            verdict = "partly_supported" if not intervention else "unsupported"
            if p.causal and verdict == "partly_supported":
                parts.append(msg("causal_observational"))
            if intervention:
                parts.insert(0, msg("no_trial_effect", topic=top))
        else:
            parts.append(msg("no_evidence_topic", topic=top))
            verdict = "unsupported" if covered else "not_checkable"
        if fav_taint:
            add("tainted_favour", fav_taint)
            if not fav_tm:
                parts.append(msg("only_tainted"))
    if verdict in ("unsupported", "not_checkable") and not records:
        rel = eb.related(p.forms, p.populations, p.outcome_groups)
        if rel:
            parts.append(msg("closest", items=lst([record_brief(r) for r in rel[:3]])))
            records.extend(r.id for r in rel[:3])
    v = Verdict(verdict=verdict, reason_en="", reason_zh="", records=list(dict.fromkeys(records)))
    if verdict in ("supported", "partly_supported"):
        v.grade = grade_of(claim, eb)
        if v.grade:
            parts.append(msg("grade", level=grade_label(v.grade)))
    v.reason_en, v.reason_zh = join(parts)
    return v


def grade_label(level: str) -> tuple[str, str]:
    try:
        from kbone.evidence.grade import level_label

        return level_label(level, "en"), level_label(level, "zh")
    except ImportError:  # pragma: no cover
        return level, level


def _numbers_text(nums: list[Number]) -> str:
    return ", ".join(n.clean or n.text.strip() for n in nums)


def _numbers_verdict(claim: Claim, eb: EvidenceBase, F: list[Finding], nums: list[Number], top, covered: bool) -> Verdict:
    p = claim.parts
    matched: list[Finding] = []
    outside: list[Finding] = []
    specific = [o for o in p.outcomes if not _generic(o)]
    if specific:  # a number about a named outcome must come from that outcome
        F = [f for f in F if f.level == "outcome"] or F
        F_num = [f for f in F if f.outcome.outcome in specific]
    else:
        F_num = F
    for n in nums:
        if n.kind == "percent":
            matched += percent_matches(n, F_num)
            r = claimed_ratio_from_percent(n)
            if r is not None:
                outside += ratio_matches(Number(kind="ratio", value=r, text="", start=0, end=0), F_num)[1]
        elif n.kind == "ratio":
            same, out = ratio_matches(n, F_num)
            matched += same
            outside += out
    parts: list[tuple[str, str]] = []
    records: list[str] = []
    clean_match = [f for f in matched if not f.taint]
    meta_out = [f for f in outside if f.dclass == "meta" and not f.taint and f.level == "outcome"]
    if clean_match:
        parts.append(msg("number_found", numbers=_numbers_text(nums), items=lst([finding_text(f) for f in _pick(clean_match)])))
        records += [f.record.id for f in _pick(clean_match)]
        conflicting = [f for f in meta_out if f.record.id not in {m.record.id for m in clean_match}]
        if conflicting:
            parts.append(msg("number_outside", items=lst([finding_text(f) for f in _pick(conflicting)])))
            records += [f.record.id for f in _pick(conflicting)]
            verdict = "partly_supported"
        else:
            verdict = "supported" if p.direction != "null" else "partly_supported"
    elif matched:
        parts.append(msg("number_found", numbers=_numbers_text(nums), items=lst([finding_text(f) for f in _pick(matched)])))
        parts.append(msg("only_tainted"))
        records += [f.record.id for f in _pick(matched)]
        verdict = "unsupported"
    else:
        parts.append(msg("number_not_found", numbers=_numbers_text(nums), topic=top))
        if meta_out:
            parts.append(msg("number_outside", items=lst([finding_text(f) for f in _pick(meta_out)])))
            records += [f.record.id for f in _pick(meta_out)]
            verdict = "contradicted"
        else:
            verdict = "unsupported" if covered else "not_checkable"
        clean, tm, obs, tainted = _split(F)
        same_dir = [f for f in clean if f.direction == p.direction and f.dclass in ("meta", "trial", "observational")]
        if same_dir and verdict == "unsupported":
            key = "related_observational" if all(f.dclass == "observational" for f in same_dir) else "related_findings"
            parts.append(msg(key, items=lst([finding_text(f) for f in _pick(same_dir, 3)])))
            records += [f.record.id for f in _pick(same_dir, 3)]
        rel = eb.related(p.forms, p.populations, p.outcome_groups)
        rel = [r for r in rel if r.id not in records]
        if rel:
            parts.append(msg("closest", items=lst([record_brief(r) for r in rel[:2]])))
            records += [r.id for r in rel[:2]]
    v = Verdict(verdict=verdict, reason_en="", reason_zh="", records=list(dict.fromkeys(records)))
    v.reason_en, v.reason_zh = join(parts)
    return v


# ---- studies -------------------------------------------------------------------------------------

def _year_ok(mention_year: int | None, r: Record) -> bool:
    return mention_year is None or r.year is None or abs(r.year - mention_year) <= 1


def link_study(claim: Claim, eb: EvidenceBase, context=None) -> tuple[Record | None, list[str], str | None, float]:
    """The record a study mention refers to: (record, candidates, how, score)."""
    s = claim.study
    p = claim.parts
    if s is None:
        return None, [], None, 0.0
    if s.kind == "anaphora" and context is not None:
        rid = context.get(("study", s.start))
        if rid:
            return eb.by_id.get(rid), [rid], "anaphora", 1.0
    if s.kind in ("named", "anaphora") and s.author:
        sur = s.author.split()[0].lower()
        cands = eb.by_surname.get(sur, [])
        if not cands:
            close = [k for k in eb.by_surname if fuzz.ratio(k, sur) >= 88]
            cands = [r for k in close for r in eb.by_surname[k]]
        cands = [r for r in cands if _year_ok(s.year, r)]
        if not cands:
            return None, [], None, 0.0
        scored = sorted(((description_score(claim, r, eb), r) for r in cands), key=lambda x: -x[0])
        how = "author+year" if s.year else "author"
        return scored[0][1], [r.id for _, r in scored], how, scored[0][0]
    if s.kind == "guideline":
        gl = [r for r in eb.records if r.design == "guideline"]
        exact = [r for r in gl if (s.country is None or s.country in r.country) and (s.year is None or r.year == s.year)
                 and (s.country or s.year)]
        if exact:
            return exact[0], [r.id for r in exact], "guideline", 1.0
        topical = [r for r in gl if forms_match(p.forms, r.forms)]
        return None, [r.id for r in topical], None, 0.0
    if s.kind == "unnamed":
        feats = _features(claim)
        if len(feats) < 2:
            return None, [], None, 0.0
        designs = ("trial", "observational")
        scored = sorted(((description_score(claim, r, eb), r) for r in eb.records if eb.dclass(r) in designs),
                        key=lambda x: -x[0])
        if scored and scored[0][0] >= 7 and (len(scored) == 1 or scored[0][0] - scored[1][0] >= 2):
            return scored[0][1], [r.id for _, r in scored[:3]], "description", scored[0][0]
        return None, [r.id for sc, r in scored[:3] if sc > 0], None, scored[0][0] if scored else 0.0
    return None, [], None, 0.0


def _features(claim: Claim) -> list[str]:
    """Study-specific details in the sentence (duration, n, dose, comparator, condition, outcome)."""
    p = claim.parts
    f = []
    if p.nums("duration"):
        f.append("duration")
    if p.nums("n"):
        f.append("n")
    if p.nums("dose"):
        f.append("dose")
    if p.comparator:
        f.append("comparator")
    if not f:
        return f
    if [x for x in p.populations if x in evidence_base().disease]:
        f.append("population")
    if [o for o in p.outcomes if not _generic(o)]:
        f.append("outcome")
    return f


def _generic(outcome_id: str) -> bool:
    """Outcome ids that name a whole group ('骨折', '骨密度'), not a site or type."""
    return outcome_id.endswith("_unspecified") or outcome_id == "fracture_any"


def _n_values(r: Record) -> set[int]:
    ns = set()
    if r.n_participants:
        ns.add(r.n_participants)
    if r.n_total:
        ns.add(r.n_total)
    for a in r.arms:
        for x in (a.n_randomized, a.n_analysed):
            if x:
                ns.add(x)
    an = [a.n_analysed for a in r.arms if a.n_analysed]
    if an and len(an) == len(r.arms):
        ns.add(sum(an))
    if r.n_source:
        for t in (r.n_source.location, r.n_source.quote or ""):
            ns.update(int(x) for x in re.findall(r"\b(\d{2,6})\b", t))
    return ns


_NCACHE: dict[int, set[int]] = {}


def _n_values_cached(r: Record) -> set[int]:
    key = id(r)
    if key not in _NCACHE:
        _NCACHE[key] = _n_values(r)
    return _NCACHE[key]


def _durations(claim: Claim) -> list[tuple[float, float]]:
    out = []
    for n in claim.parts.nums("duration"):
        if n.weeks is None:
            continue
        lo = vocab().convert(n.low, n.unit, "week") if n.low is not None else n.weeks
        out.append((lo, n.weeks))
    return out


def description_score(claim: Claim, r: Record, eb: EvidenceBase) -> float:
    """How well a claim's description fits a record (duration, form, population, comparator, outcomes, n, numbers)."""
    p = claim.parts
    score = 0.0
    if r.duration_weeks:
        durs = _durations(claim)
        if durs:
            score += 2 if any(lo * 0.9 <= r.duration_weeks <= hi * 1.1 for lo, hi in durs) else -2
    fm = forms_match(p.forms, eb.forms.get(r.id, r.forms))
    score += {"exact": 1.5, "family": 1, "any": 0.5}.get(fm or "", -3)
    dis_c = {x for x in p.populations if x in eb.disease}
    dis_r = {x for x in (r.population.terms if r.population else []) if x in eb.disease}
    if dis_c:
        score += 2 if dis_c & dis_r else -1
    if "postmenopausal" in p.populations and r.population and "postmenopausal" in r.population.terms:
        score += 1
    if p.comparator:
        comps = {a.comparator for a in r.arms}
        score += 2 if p.comparator in comps else 0
    rec_out = {o.outcome for o in r.outcomes}
    rec_groups = {outcome_group(o) for o in rec_out}
    for o in p.outcomes:
        if o.endswith("_unspecified"):
            continue
        if o in rec_out:
            score += 2
        elif outcome_group(o) in rec_groups:
            score += 0.5
    for gname in set(p.outcome_groups) & CLINICAL - {"osteoporosis"}:
        score += 1 if gname in rec_groups else -1
    ns = _n_values_cached(r)
    for n in p.nums("n"):
        if n.value is not None and int(n.value) in ns:
            score += 3
    for n in p.nums("dose"):
        if any(a.intervention and a.intervention.ug_per_day is not None
               and abs(a.intervention.ug_per_day - (n.ug_per_day or -1)) < 1e-6 for a in r.arms):
            score += 2
    for n in p.nums("percent"):
        for o in r.outcomes:
            if any(abs(abs(v) - abs(n.value or 0)) <= 0.1 for v in outcome_percents(o)):
                score += 2
                break
    if claim.study and claim.study.country and claim.study.country in r.country:
        score += 1
    for c in p.countries:
        if c in r.country:
            score += 1
    # the record's own list of how articles describe it
    sq = _squash(claim.clean)
    for sm in r.seed_mentions:
        if fuzz.partial_ratio(_squash_cached(sm.text), sq) >= 80:
            score += 4
            break
    return score


@lru_cache(maxsize=1024)
def _squash_cached(t: str) -> str:
    return _squash(t)


def _squash(t: str) -> str:
    return re.sub(r"[\s：:，,。.；;！!？?’'“”\"()（）\[\]¨∞⋯]", "", t)


def study_checks(claim: Claim, r: Record, eb: EvidenceBase) -> list[Check]:
    p = claim.parts
    checks: list[Check] = []

    def add(field_, claimed_, found_, ok, key=None, **kw):
        ne, nz = msg(key, **kw) if key else (None, None)
        checks.append(Check(field=field_, claimed=claimed_, found=found_, ok=ok, record=r.id, note_en=ne, note_zh=nz))

    ns = _n_values(r)
    for n in p.nums("n"):
        v = int(n.value or 0)
        add("n", n.clean or n.text, ", ".join(str(x) for x in sorted(ns)) or None, (v in ns) if ns else None,
            "check_n_ok" if v in ns else ("check_n_bad" if ns else "check_unknown"), claimed=n.clean or n.text,
            found=", ".join(str(x) for x in sorted(ns)) or "?")
    if r.duration_weeks:
        for n, (lo, hi) in zip([x for x in p.nums("duration") if x.weeks], _durations(claim), strict=False):
            ok = lo * 0.9 <= r.duration_weeks <= hi * 1.1 or (lo < r.duration_weeks * 1.1 and hi >= r.duration_weeks)
            found = f"{g(r.duration.value)} {r.duration.unit}" if r.duration else "?"
            add("duration", n.clean, found, ok, "check_duration_ok" if ok else "check_duration_bad", claimed=n.clean, found=found)
    for n in p.nums("dose"):
        doses = [a.intervention for a in r.arms if a.intervention and a.intervention.ug_per_day is not None]
        if doses:
            ok = any(abs(d.ug_per_day - (n.ug_per_day or -1)) < 1e-6 or (n.low is not None and n.ug_per_day and
                     n.low * n.ug_per_day / n.value <= d.ug_per_day <= n.ug_per_day) for d in doses)
            found = ", ".join(f"{d.form} {g(d.amount)} {d.unit}/{d.per}" for d in doses)
            add("dose", n.clean, found, ok, "check_dose_ok" if ok else "check_dose_bad", claimed=n.clean, found=found)
    named_forms = [f for f in p.forms if f != "K"]
    if named_forms and r.forms:
        fm = forms_match(named_forms, r.forms)
        ok = fm in ("exact", "family")
        found = "/".join(r.forms)
        add("form", "/".join(named_forms), found, ok, "check_form_ok" if ok else "check_form_bad",
            claimed=label("form", named_forms[0]), found=label("form", r.forms[0]))
    dis_c = [x for x in p.populations if x in eb.disease]
    rpops = r.population.terms if r.population else []
    for x in dis_c:
        ok = x in rpops or any(eb.families.get(x) and eb.families.get(x) == eb.families.get(y) and x == y for y in rpops)
        found_pop = [y for y in rpops if y in eb.disease]
        if not ok:
            add("population", x, "/".join(found_pop) or None, False if found_pop or r.population else None,
                "check_population_bad", claimed=label("population", x),
                found=(", ".join(label("population", y)[0] for y in found_pop) or "?",
                       "、".join(label("population", y)[1] for y in found_pop) or "?"))
        else:
            add("population", x, x, True, "check_population_ok", claimed=label("population", x))
    for c in p.countries:
        if r.country:
            ok = c in r.country
            add("country", c, "/".join(r.country), ok, "check_country_ok" if ok else "check_country_bad",
                claimed=label("country", c), found=label("country", r.country[0]))
    # numbers and sites: a claimed percentage must be found in an outcome; its outcome must be the site claimed
    claimed_outs = [o for o in p.outcomes if not _generic(o)]
    for n in p.nums("percent"):
        hits = [(o, v) for o in r.outcomes for v in outcome_percents(o) if abs(abs(v) - abs(n.value or 0)) <= max(0.05 * abs(n.value or 0), 0.15)]
        if hits:
            o = hits[0][0]
            site_ok = not claimed_outs or o.outcome in claimed_outs or not any(
                outcome_group(c) == outcome_group(o.outcome) for c in claimed_outs)
            if site_ok:
                add("number", n.clean, effect_text(o) or o.result, True, "check_number_ok", claimed=n.clean,
                    outcome=label("outcome", o.outcome))
            else:
                wrong = next(c for c in claimed_outs if outcome_group(c) == outcome_group(o.outcome))
                add("site", f"{n.clean} ({wrong})", o.outcome, False, "check_site_bad", claimed=n.clean,
                    claimed_outcome=label("outcome", wrong), outcome=label("outcome", o.outcome))
        else:
            grp_outs = [o for o in r.outcomes if any(outcome_group(o.outcome) == outcome_group(c) for c in claimed_outs)]
            numeric = [o for o in grp_outs if o.effect or o.arm_values]
            add("number", n.clean, None, False if numeric else None,
                "check_number_bad" if numeric else "check_number_unknown", claimed=n.clean)
    # outcomes named without a number: is the outcome (site) in the record?
    rec_outs = {o.outcome for o in r.outcomes}
    for o in claimed_outs:
        if outcome_group(o) not in CLINICAL:
            continue
        if o in rec_outs or any(c.field == "site" for c in checks):
            continue
        same_group = [x for x in rec_outs if outcome_group(x) == outcome_group(o)]
        if same_group:
            add("outcome", o, "/".join(same_group), False, "check_outcome_other", claimed=label("outcome", o),
                found=(", ".join(label("outcome", x)[0] for x in same_group), "、".join(label("outcome", x)[1] for x in same_group)))
    # direction per outcome group
    for gname in {outcome_group(o) for o in claimed_outs} | (set(p.outcome_groups) & CLINICAL - {"osteoporosis"}):
        r_dirs = {k_dir for o in r.outcomes if outcome_group(o.outcome) == gname
                  for k_dir in [k_direction(r, o)] if k_dir in ("benefit", "null", "harm")}
        if not r_dirs or p.direction not in ("benefit", "null", "harm"):
            continue
        claim_dir = _clause_dir(claim, gname) or p.direction
        ok = claim_dir in r_dirs
        add("direction", f"{gname}:{claim_dir}", "/".join(sorted(r_dirs)), ok,
            "check_direction_ok" if ok else "check_direction_bad", group=messages_group(gname),
            claimed=DIR_LABEL[claim_dir], found=(", ".join(DIR_LABEL[d][0] for d in sorted(r_dirs)),
                                                  "、".join(DIR_LABEL[d][1] for d in sorted(r_dirs))))
    secondary = [o for o in r.outcomes if o.source.secondary and outcome_group(o.outcome) in set(p.outcome_groups)]
    if secondary:
        add("source", None, ", ".join(o.id for o in secondary), None, "check_secondary",
            outcome=label("outcome", secondary[0].outcome))
    return checks


def _clause_dir(claim: Claim, group: str) -> str | None:
    return group_direction(claim.clean, claim.parts.outcomes, group, claim.parts.exposure == "deficiency")


def verify_study(claim: Claim, eb: EvidenceBase, context=None) -> Verdict:
    s = claim.study
    p = claim.parts
    rec, cands, how, score = link_study(claim, eb, context)
    if s is not None:
        s.record, s.match, s.score, s.candidates = (rec.id if rec else None), how, score, cands
        if context is not None and rec is not None:
            context[("study", s.start)] = rec.id
    parts: list[tuple[str, str]] = []
    if rec is None:
        if s and s.kind == "named":
            parts.append(msg("study_not_found_named", author=s.author))
            return Verdict(verdict="not_checkable", reason_en=join(parts)[0], reason_zh=join(parts)[1])
        if s and s.kind == "guideline":
            parts.append(msg("guideline_not_found"))
            v = verify_effect(claim, eb) if (p.outcomes or p.outcome_groups) else None
            if v is not None and v.verdict in ("supported", "partly_supported"):
                v.reason_en, v.reason_zh = join([*parts, (v.reason_en, v.reason_zh)])
                v.verdict = "partly_supported"
                return v
            extra = (v.reason_en, v.reason_zh) if v else ("", "")
            en, zh = join([*parts, extra])
            return Verdict(verdict="unsupported", reason_en=en, reason_zh=zh, records=v.records if v else [])
        feats = _features(claim)
        if not feats and not (p.outcomes or [x for x in p.outcome_groups if x in CLINICAL]):
            en, zh = msg("study_no_content")
            return Verdict(verdict="not_checkable", reason_en=en, reason_zh=zh)
        v = verify_effect(claim, eb)
        if feats:
            fl = [messages().get(f"feature_{f}", {"en": f, "zh": f}) for f in feats]
            intro = msg("study_unnamed_no_match", features=(", ".join(x["en"] for x in fl), "、".join(x["zh"] for x in fl)))
            v.reason_en, v.reason_zh = join([intro, (v.reason_en, v.reason_zh)])
            if v.verdict == "supported":
                v.verdict = "partly_supported"
        return v
    checks = study_checks(claim, rec, eb)
    intro = msg("study_linked", record=rec_name(rec), how=_how(how))
    parts.append(intro)
    fails = [c for c in checks if c.ok is False]
    oks = [c for c in checks if c.ok is True]
    if fails:
        parts.append(msg("checks_bad", items=lst([(c.note_en or "", c.note_zh or "") for c in fails])))
    if oks:
        parts.append(msg("checks_ok", items=lst([(c.note_en or "", c.note_zh or "") for c in oks])))
    unknown = [c for c in checks if c.ok is None and c.note_en]
    if unknown:
        parts.append(msg("checks_unknown", items=lst([(c.note_en or "", c.note_zh or "") for c in unknown])))
    status = rec.integrity.status
    grade_claim = p.nums("grade")
    if rec.design == "guideline" and grade_claim:
        rec_grades = [x.grade for x in rec.recommendations if x.grade]
        claimed = grade_claim[0].label
        if not rec_grades:
            parts.append(msg("guideline_grade_unknown", claimed=claimed))
            verdict = "not_checkable"
        elif claimed in rec_grades:
            parts.append(msg("guideline_grade_ok", claimed=claimed))
            verdict = "supported" if not fails else "partly_supported"
        else:
            parts.append(msg("guideline_grade_bad", claimed=claimed, found=", ".join(rec_grades)))
            verdict = "contradicted"
    elif status == "retracted":
        verdict = "unsupported"
    elif any(c.field == "direction" for c in fails) and not any(c.field == "direction" for c in oks):
        verdict = "contradicted"
    elif fails:
        verdict = "partly_supported" if oks else "unsupported"
    elif oks:
        verdict = "supported" if status == "ok" else "partly_supported"
    else:
        parts.append(msg("study_nothing_to_compare"))
        verdict = "not_checkable"
    if status != "ok":
        ev = rec.integrity.events[-1] if rec.integrity.events else None
        parts.insert(1, msg("study_integrity", status=taint_label(status), reason=(ev.reason[:160] if ev else "", "")))
    records = [rec.id]
    # claims about fractures: say which favourable evidence rests on retracted or flagged work
    if {"fracture"} & ({outcome_group(o) for o in p.outcomes} | set(p.outcome_groups)):
        extra, ids = fracture_taint_note(claim, eb)
        if extra:
            parts.append(extra)
            records += ids
    en, zh = join(parts)
    return Verdict(verdict=verdict, reason_en=en, reason_zh=zh, records=list(dict.fromkeys(records)), checks=checks)


def _how(how: str | None) -> tuple[str, str]:
    return {"author": ("by first author", "按第一作者"), "author+year": ("by author and year", "按作者与年份"),
            "guideline": ("by country and year", "按国家与年份"), "description": ("by its description", "按研究描述"),
            "anaphora": ("as the study named just before", "即上文所述研究")}.get(how or "", ("", ""))


def fracture_taint_note(claim: Claim, eb: EvidenceBase) -> tuple[tuple[str, str] | None, list[str]]:
    """Favourable fracture results that rest on retracted/flagged work, and what clean meta-analyses show."""
    F = eb.findings(claim.parts.forms, [], ["fracture"], [])
    fav_taint = [f for f in F if f.taint and f.direction == "benefit"]
    if not fav_taint:
        return None, []
    clean_meta = [f for f in F if not f.taint and f.dclass == "meta"]
    items = _pick(fav_taint, 5)
    parts = [msg("tainted_favour", items=lst([finding_text(f) for f in items]))]
    ids = [f.record.id for f in items]
    if clean_meta:
        cm = _pick(clean_meta, 3)
        parts.append(msg("clean_meta", items=lst([finding_text(f) for f in cm])))
        ids += [f.record.id for f in cm]
    return join(parts), ids


# ---- references ----------------------------------------------------------------------------------

def verify_reference(claim: Claim, eb: EvidenceBase) -> Verdict:
    ref = claim.reference
    assert ref is not None
    parts: list[tuple[str, str]] = []
    checks: list[Check] = []
    if not ref.journal:
        rec = _match_title(ref.title, eb)
        if rec:
            en, zh = msg("ref_in_base", record=rec_name(rec))
            return Verdict(verdict="supported", reason_en=en, reason_zh=zh, records=[rec.id])
        en, zh = msg("ref_book", title=ref.title or ref.text)
        return Verdict(verdict="not_checkable", reason_en=en, reason_zh=zh)
    m = journals().lookup(ref.journal)
    if m.journal is None:
        sugg = "; ".join(m.suggestions) or "—"
        parts.append(msg("ref_journal_not_found", journal=ref.journal, n=len(journals()), suggestions=sugg))
        if m.foreign_translation:
            parts.append(msg("ref_foreign"))
        checks.append(Check(field="journal", claimed=ref.journal, found=None, ok=False,
                            note_en=parts[0][0], note_zh=parts[0][1]))
        title_claim = _title_claim(claim, eb)
        if title_claim:
            parts.append(title_claim[0])
        en, zh = join(parts)
        return Verdict(verdict="unsupported", reason_en=en, reason_zh=zh, checks=checks,
                       records=title_claim[1] if title_claim else [])
    j = m.journal
    issn_note = msg("issn_assumed") if j.assumption else ("", "")
    parts.append(msg("ref_journal_found", journal=(j.label("en"), j.label("zh")), issn=j.issn))
    if issn_note[0]:
        parts.append(issn_note)
    checks.append(Check(field="journal", claimed=ref.journal, found=f"{j.en} (ISSN {j.issn})", ok=True))
    rec = _match_title(ref.title, eb, journal=j)
    if rec is not None:
        parts.append(msg("ref_in_base", record=rec_name(rec)))
        en, zh = join(parts)
        return Verdict(verdict="supported", reason_en=en, reason_zh=zh, records=[rec.id], checks=checks)
    parts.append(msg("ref_not_in_base"))
    p = claim.parts
    if not p.forms and not (set(p.outcome_groups) & (CLINICAL | {"marker"})):
        parts.append(msg("ref_offtopic"))
    en, zh = join(parts)
    return Verdict(verdict="not_checkable", reason_en=en, reason_zh=zh, checks=checks)


def _match_title(title: str | None, eb: EvidenceBase, journal=None) -> Record | None:
    if not title:
        return None
    best, score = None, 0.0
    for r in eb.records:
        if not r.citation.title:
            continue
        s = fuzz.token_set_ratio(title.lower(), r.citation.title.lower())
        if journal is not None and r.citation.journal and journals().lookup(r.citation.journal).journal is journal:
            s += 5
        if s > score:
            best, score = r, s
    return best if score >= 90 else None


def _title_claim(claim: Claim, eb: EvidenceBase) -> tuple[tuple[str, str], list[str]] | None:
    """A reference title that announces a trial ('…随机对照试验') of a form in a condition: is there one?"""
    title = claim.reference.title if claim.reference else None
    if not title or not re.search(r"试验|trial|随机|randomi[sz]ed", title, re.I):
        return None
    p = claim.parts
    dis = [x for x in p.populations if x in eb.disease]
    trials = [r for r in eb.records if eb.dclass(r) in ("trial", "registry") and forms_match(p.forms, r.forms) in ("exact", "family")
              and (not dis or set(dis) & set(r.population.terms if r.population else []))]
    if not trials:
        return msg("ref_trial_absent", topic=topic(claim)), []
    return msg("ref_trials_known", items=lst([record_brief(r) for r in trials[:3]])), [r.id for r in trials[:3]]


# ---- safety, dose, pk ----------------------------------------------------------------------------

_DOSE_IN_TEXT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:µg|μg|ug)\s*(?:/\s*(?:day|d)|\s*day|\s*per day)?", re.I)


def vka_findings(eb: EvidenceBase, forms: list[str] | None = None) -> list[tuple[Record, Outcome, float | None]]:
    """Outcomes showing that vitamin K intake changes anticoagulation (INR), with the lowest dose named."""
    out = []
    for r in eb.records:
        if forms and forms_match(forms, r.forms) is None:
            continue
        for o in r.outcomes:
            if outcome_group(o.outcome) != "coagulation" or o.direction != "harm":
                continue
            doses = [float(x) for x in _DOSE_IN_TEXT.findall(f"{o.subgroup or ''} {o.result or ''}")]
            out.append((r, o, min(doses) if doses else None))
    out.sort(key=lambda x: (x[2] is None, x[2] or 0))
    return out


def _vka_items(found) -> tuple[str, str]:
    items = []
    seen = set()
    for r, o, dose in found:
        if r.id in seen:
            continue
        seen.add(r.id)
        forms = "/".join(r.forms) or "vitamin K"
        en = f"{r.id} ({r.citation.short()}): {o.result[:150] if o.result else forms}"
        zh = f"{r.id}（{r.citation.short()}）：{forms}" + (f" 每天{g(dose)}微克即可影响INR" if dose else " 可影响INR")
        items.append((en, zh))
        if len(items) == 4:
            break
    return lst(items)


def verify_safety(claim: Claim, eb: EvidenceBase) -> Verdict:
    p = claim.parts
    found = vka_findings(eb)
    if not found:
        en, zh = msg("safety_no_evidence")
        return Verdict(verdict="not_checkable", reason_en=en, reason_zh=zh, alert=True)
    items = _vka_items(found)
    parts = [msg("safety_evidence", items=items)]
    records = list(dict.fromkeys(r.id for r, _, _ in found))[:4]
    extra = re.search(r"受损|减少|降低|impair|reduce", claim.clean) and not p.caution
    advises_taking = bool(re.search(r"建议[^，,。]{0,12}补充|recommend[^.]{0,20}supplement", claim.clean, re.I))
    if p.caution and not advises_taking and not re.search(r"受损|impair", claim.clean):
        parts.insert(0, msg("safety_caution_right"))
        verdict = "supported"
    else:
        parts.insert(0, msg("safety_doctor_right") if (p.caution or re.search(r"医生|doctor", claim.clean)) else msg("safety_partial"))
        if extra or re.search(r"受损|impair", claim.clean):
            parts.append(msg("safety_extra_unchecked"))
        if advises_taking:
            parts.append(msg("safety_supplement_warning"))
        verdict = "partly_supported"
    en, zh = join(parts)
    return Verdict(verdict=verdict, reason_en=en, reason_zh=zh, records=records, alert=True)


def _reference_intakes() -> list[tuple[str, str, float, str]]:
    """(authority, sex, µg/day, citation) for adults, from kbone.diet (empty if that part is unavailable)."""
    try:
        from kbone.diet.reference import reference_values
    except ImportError:  # pragma: no cover
        return []
    try:
        vals = reference_values()
    except Exception:  # the diet part is optional here; the dose verdict stands without it
        return []
    return [(v.authority, v.sex, v.value_ug, v.citation) for v in vals if v.verified]


def verify_dose(claim: Claim, eb: EvidenceBase, context=None) -> Verdict:
    p = claim.parts
    dose = p.nums("dose")[0]
    hi = dose.ug_per_day or 0
    lo = (dose.low * hi / dose.value) if dose.low is not None and dose.value else hi
    forms = p.forms or ["K"]
    arms = []
    for r in eb.records:
        if eb.dclass(r) not in ("trial", "pk"):
            continue
        for a in r.arms:
            if a.intervention and forms_match(forms, [a.intervention.form]) in ("exact", "family", "any") \
                    and a.intervention.ug_per_day is not None:
                arms.append((r, a.intervention.ug_per_day))
    parts: list[tuple[str, str]] = []
    records: list[str] = []
    if not arms:
        parts.append(msg("dose_untested", dose=dose.clean))
        verdict = "unsupported"
    else:
        tested = sorted({d for _, d in arms})
        at_or_above = sorted({(r.id, d) for r, d in arms if d >= lo}, key=lambda x: x[1])
        span = f"{g(tested[0])}–{g(tested[-1])} µg/day"
        near = [x for x in at_or_above if x[1] <= max(hi * 4, 500)][:4] or at_or_above[:4]
        items = ", ".join(f"{rid} {g(d)} µg/day" for rid, d in near)
        parts.append(msg("dose_tested", dose=dose.clean, span=span, items=items))
        records += [rid for rid, _ in near]
        verdict = "partly_supported"
    refs = [x for x in _reference_intakes() if lo * 0.95 <= x[2] <= hi * 1.05]
    if refs:
        items = "; ".join(f"{a} {s} {g(v)} µg/day" for a, s, v, _ in refs[:3])
        parts.append(msg("dose_reference_intake", items=items))
    groups = [x for x in p.outcome_groups if x in CLINICAL] or (list(context.get("doc_groups", []))[:1] if context else [])
    if groups:
        F = eb.findings(forms, [], groups, p.populations)
        fav = [f for f in F if not f.taint and f.dclass in ("meta", "trial") and f.direction == "benefit"]
        gl = messages_group(groups[0])
        if fav:
            parts.append(msg("dose_efficacy", group=gl, items=lst([finding_text(f) for f in _pick(fav, 3)])))
            records += [f.record.id for f in _pick(fav, 3)]
        else:
            parts.append(msg("dose_no_efficacy", group=gl))
            verdict = "partly_supported" if arms else "unsupported"
    vka = [x for x in vka_findings(eb, forms) if x[2] is not None and x[2] <= hi]
    if vka:
        parts.append(msg("dose_vka", items=_vka_items(vka)))
        records += [r.id for r, _, _ in vka[:2]]
    en, zh = join(parts)
    return Verdict(verdict=verdict, reason_en=en, reason_zh=zh, records=list(dict.fromkeys(records)), alert=bool(vka))


def verify_pk(claim: Claim, eb: EvidenceBase) -> Verdict:
    p = claim.parts
    forms = [f for f in p.forms if f != "K"]
    by_form: dict[str, list[tuple[float, Record]]] = {}
    for r in eb.records:
        for k in r.pk_parameters:
            if k.parameter == "half_life" and k.form in forms:
                v = k.value if k.value is not None else ((k.low or 0) + (k.high or 0)) / 2
                unit_h = vocab().convert(v, k.unit, "h")
                by_form.setdefault(k.form, []).append((unit_h, r, k.source.secondary))
    parts: list[tuple[str, str]] = []
    records: list[str] = []
    n_claims = len(patterns().cue["comparison_cues"].findall(claim.clean))
    if re.search(r"半衰期|half-life", claim.clean, re.I) and len(by_form) >= 2:
        ranked = sorted(((sorted(x[0] for x in v)[len(v) // 2], f) for f, v in by_form.items()), reverse=True)

        def src(f):
            ids = list(dict.fromkeys(r.id for _, r, _ in by_form[f]))[:2]
            sec = any(x[2] for x in by_form[f])
            return ", ".join(ids) + (" — secondary source" if sec else "")

        items = "; ".join(f"{f} {g(round(h, 1))} h ({src(f)})" for h, f in ranked)
        parts.append(msg("pk_halflife", items=items, longest=ranked[0][1]))
        records += [r.id for f in by_form for _, r, _ in by_form[f][:2]]
        verdict = "supported" if n_claims <= 1 else "partly_supported"
        if n_claims > 1:
            parts.append(msg("pk_other_unchecked"))
    else:
        parts.append(msg("pk_no_data"))
        verdict = "not_checkable"
    en, zh = join(parts)
    return Verdict(verdict=verdict, reason_en=en, reason_zh=zh, records=list(dict.fromkeys(records)))
