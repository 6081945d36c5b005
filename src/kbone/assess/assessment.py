"""The assessment: profile → alerts (most severe first), screening, intake, model status, graded options,
a plain-language summary, and the registry of every source a number links to.

``assess(profile)`` is the library entry point used by the CLI, the web face and the report renderers.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from kbone import __version__
from kbone.assess.intake import IntakeSummary, intake_for
from kbone.assess.options import Omitted, Option, build_options
from kbone.assess.profile import Profile
from kbone.assess.rules import Alert, evaluate
from kbone.assess.screen import Screening, screen
from kbone.assess.status import ModelStatus, model_status, skipped_status
from kbone.evidence.grade import default_params
from kbone.evidence.schema import Record, Source
from kbone.i18n import Text


class SourceEntry(BaseModel):
    """One entry of the report's source list: an evidence record, a rule, a method or a reference intake."""

    key: str = Field(description="anchor key, e.g. 'rec:mott2019', 'rule:vka_vitamin_k_intake', 'method:osta'")
    kind: Literal["record", "rule", "method", "reference", "model", "data"]
    title: str
    citation: str = ""
    url: str | None = None
    integrity: str | None = None
    secondary: bool = False
    assumption: bool = False
    locations: list[str] = Field(default_factory=list)


class Assessment(BaseModel):
    """Everything the report shows; the JSON of ``kbone assess --json``."""

    kbone_version: str = __version__
    date: str
    profile: Profile
    alerts: list[Alert]
    screening: Screening
    intake: IntakeSummary
    status: ModelStatus
    options: list[Option]
    omitted_options: list[Omitted] = Field(default_factory=list)
    summary: list[Text] = Field(default_factory=list, description="plain-language points for the person")
    sources: list[SourceEntry] = Field(default_factory=list)
    assumptions: list[Text] = Field(default_factory=list)
    todo: list[str] = Field(default_factory=list, description="parts another module has not provided yet")
    disclaimer: Text = Text(
        en="This report informs; it does not prescribe. Discuss any change in medicines, supplements or diet with "
           "your doctor, pharmacist or dietitian.",
        zh="本报告仅供参考，不构成处方。任何药物、补充剂或饮食的改变，请与医生、药师或营养师讨论。")


def _src_text(s: Source) -> str:
    return s.cite()


def _record_entry(r: Record) -> SourceEntry:
    c = r.citation
    url = c.url or (f"https://doi.org/{c.doi}" if c.doi else None) or (f"https://pubmed.ncbi.nlm.nih.gov/{c.pmid}/" if c.pmid else None)
    return SourceEntry(key=f"rec:{r.id}", kind="record", title=f"{c.short()} ({r.id})", citation=c.text(), url=url,
                       integrity=r.integrity.status)


def _entries_from_sources(key: str, kind: str, title: str, srcs: list[Source], assumption: bool = False) -> SourceEntry:
    url = next((s.url or (f"https://doi.org/{s.doi}" if s.doi else None) for s in srcs if s.url or s.doi), None)
    return SourceEntry(key=key, kind=kind, title=title, citation="; ".join(_src_text(s) for s in srcs), url=url,
                       secondary=any(s.secondary for s in srcs), assumption=assumption,
                       locations=[s.location for s in srcs])


def _sources(alerts: list[Alert], scr: Screening, intake: IntakeSummary, status: ModelStatus, options: list[Option],
             by_id: dict[str, Record]) -> list[SourceEntry]:
    out: dict[str, SourceEntry] = {}
    for a in alerts:
        out[f"rule:{a.id}"] = _entries_from_sources(f"rule:{a.id}", "rule", a.title.en, a.sources)
    out["method:osta"] = _entries_from_sources("method:osta", "method", "OSTA index", scr.osta.sources)
    out["method:who_t_score"] = _entries_from_sources("method:who_t_score", "method", "WHO T-score classes",
                                                      scr.t_score.sources)
    out["method:garvan"] = _entries_from_sources("method:garvan", "method", "Garvan fracture-risk nomogram (model I)",
                                                 scr.fracture_risk.sources)
    p = default_params()
    out["method:grading"] = SourceEntry(key="method:grading", kind="method", title="GRADE-style grading (kbone.evidence.grade)",
                                        citation="Guyatt GH et al. GRADE guidelines 6, J Clin Epidemiol 2011;64:1283-93; "
                                                 "thresholds in data/rules/grading.yaml",
                                        url="https://www.jclinepi.com/article/S0895-4356(11)00206-X/fulltext",
                                        assumption=bool(p.assumptions))
    for ref in intake.references:
        out[f"ref:{ref.authority}"] = SourceEntry(key=f"ref:{ref.authority}", kind="reference", title=ref.label.en,
                                                  citation=ref.citation, url=ref.url or None, secondary=ref.secondary,
                                                  assumption=not ref.verified)
    for mk in status.markers:
        out[f"marker:{mk.key}"] = _entries_from_sources(f"marker:{mk.key}", "method", mk.label.en, [mk.source])
    if intake.available:
        out["data:diet"] = SourceEntry(key="data:diet", kind="data", title="kbone.diet food composition data",
                                       citation="; ".join(intake.data_sources) or "src/kbone/data/foods (see sources.yaml)",
                                       assumption=bool(intake.assumptions))
    for m in status.sources:
        out[f"model:{m.key}"] = SourceEntry(key=f"model:{m.key}", kind="model", title=m.title, citation=m.citation,
                                            url=m.url, assumption=m.assumption)
    rec_ids: list[str] = []
    for a in alerts:
        rec_ids += a.records
    for o in options:
        rec_ids += o.records
        rec_ids += [x.record for q in o.evidence for x in q.grade.excluded]  # listed (as retracted) in the details
    rec_ids += status.records
    for rid in dict.fromkeys(rec_ids):
        if rid in by_id:
            out[f"rec:{rid}"] = _record_entry(by_id[rid])
    return list(out.values())


def _summary(profile: Profile, alerts: list[Alert], scr: Screening, intake: IntakeSummary,
             options: list[Option]) -> list[Text]:
    pts: list[Text] = []
    major = [a for a in alerts if a.severity == "major"]
    for a in major:
        pts.append(Text(en=f"Important — {a.title.en}. {a.action.en}", zh=f"重要提示——{a.title.zh}。{a.action.zh}"))
    o = scr.osta
    risk_zh = {"low": "低", "medium": "中", "high": "高"}[o.risk]
    pts.append(Text(en=f"Your osteoporosis self-assessment (OSTA) index is {o.index:g}: {o.risk} risk"
                       + (" — a bone density (DXA) test is advisable." if o.bmd_test_indicated else "."),
                    zh=f"您的亚洲人骨质疏松自我筛查指数（OSTA）为 {o.index:g}：{risk_zh}风险"
                       + ("——建议做骨密度（双能X线）检查。" if o.bmd_test_indicated else "。")))
    t = scr.t_score
    if t.lowest is not None:
        from kbone.assess.screen import CATEGORY_LABELS
        en, zh = CATEGORY_LABELS[t.category]
        pts.append(Text(en=f"Your lowest bone density T-score is {t.lowest:g}: {en}.",
                        zh=f"您最低的骨密度T值为 {t.lowest:g}：{zh}。"))
    if intake.available and intake.total_ug is not None:
        refs = [r for r in intake.references if r.percent is not None]
        ref_txt_en = "; ".join(f"{r.percent:.0f}% of the {r.label.en}" for r in refs[:2])
        ref_txt_zh = "；".join(f"为{r.label.zh}的 {r.percent:.0f}%" for r in refs[:2])
        pts.append(Text(en=f"You get about {intake.total_ug:.0f} µg of vitamin K a day from food" + (f" ({ref_txt_en})." if refs else "."),
                        zh=f"您每天从食物中摄入约 {intake.total_ug:.0f} 微克维生素K" + (f"（{ref_txt_zh}）。" if refs else "。")))
    elif not intake.available:
        pts.append(Text(en="Your vitamin K intake was not assessed (no diet information or not computable).",
                        zh="未评估您的维生素K摄入量（无饮食信息或无法计算）。"))
    from kbone.evidence.grade import level_label
    goal_txt = {"bone": ("bone density and fractures", "骨密度与骨折"), "oa": ("osteoarthritis symptoms", "骨关节炎症状")}
    dir_txt = {"benefit": ("the studies point to a benefit", "研究提示有益"), "null": ("the studies show no clear effect", "研究未显示明确效果"),
               "harm": ("the studies point to harm", "研究提示有害"), "mixed": ("the studies disagree", "研究结果不一致")}
    for opt in options:
        if not (opt.asked or opt.goal == "oa"):
            continue
        g_en, g_zh = goal_txt.get(opt.goal, (opt.goal, opt.goal))
        lvl_en, lvl_zh = level_label(opt.evidence_grade), level_label(opt.evidence_grade, "zh")
        if opt.no_trial_evidence:
            pts.append(Text(en=f"{opt.label.en}: no trial evidence for {g_en} (certainty: {lvl_en}).",
                            zh=f"{opt.label.zh}：没有关于{g_zh}的试验证据（证据确定性：{lvl_zh}）。"))
            continue
        if opt.evidence_grade == "no_evidence" and len(opt.evidence) > 1 and opt.evidence[1].grade.level != "no_evidence":
            sec = opt.evidence[1].grade
            pts.append(Text(en=f"{opt.label.en}: no study reports {g_en}; for related structural outcomes the certainty is "
                               f"{level_label(sec.level)}.",
                            zh=f"{opt.label.zh}：没有研究报告{g_zh}；相关结构结局的证据确定性为{level_label(sec.level, 'zh')}。"))
            continue
        d = opt.evidence[0].grade.direction if opt.evidence else None
        d_en, d_zh = dir_txt.get(d or "", ("", ""))
        pts.append(Text(en=f"{opt.label.en}: certainty of the evidence for {g_en} is {lvl_en}" + (f"; {d_en}." if d_en else "."),
                        zh=f"{opt.label.zh}：关于{g_zh}的证据确定性为{lvl_zh}" + (f"；{d_zh}。" if d_zh else "。")))
        if opt.status == "clinician_managed_only":
            pts.append(Text(en="Because you take a vitamin K antagonist, any vitamin K supplement belongs only in the anticoagulation clinic's hands.",
                            zh="由于您在服用维生素K拮抗剂，任何维生素K补充剂都只能由抗凝门诊决定和管理。"))
    return pts


def assess(profile: Profile, *, diary: str | Path | None = None, base_dir: Path | None = None,
           records: list[Record] | None = None, model: bool = True) -> Assessment:
    """Assess ``profile`` against the evidence base (``records``; default: the shipped base).

    ``model=False`` skips the PK/PD and bone-model estimates (faster; the report says they were skipped).
    """
    if records is None:
        from kbone.evidence.loader import load_records

        records = load_records()
    by_id = {r.id: r for r in records}
    intake = intake_for(profile, diary=diary, base_dir=base_dir)
    alerts = evaluate(profile, intake.below_reference, intake=intake)
    scr = screen(profile)
    if model:
        status, pm = model_status(profile, intake)
    else:
        status, pm = skipped_status(profile), None
    options, omitted = build_options(profile, records, alerts, effect_fn=pm.option_effects if pm else None,
                                     intake=intake)
    if pm is not None:
        status.projections = pm.projections
        status.notes += [n for n in pm.notes if n not in status.notes]
    todo = list(intake.todo) + list(status.todo)
    assumptions = list(scr.assumptions) + list(default_params().assumptions)
    return Assessment(date=date.today().isoformat(), profile=profile, alerts=alerts, screening=scr, intake=intake,
                      status=status, options=options, omitted_options=omitted,
                      summary=_summary(profile, alerts, scr, intake, options),
                      sources=_sources(alerts, scr, intake, status, options, by_id), assumptions=assumptions, todo=todo)
