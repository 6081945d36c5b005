"""Readable (rich) rendering of evidence records and summaries, in zh or en."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kbone.evidence.schema import Outcome, Record
from kbone.i18n import pick
from kbone.vocab import vocab

INTEGRITY_STYLE = {"ok": "green", "flagged": "yellow", "expression_of_concern": "dark_orange", "retracted": "bold red"}
INTEGRITY_LABEL = {"ok": ("ok", "无问题"), "flagged": ("flagged", "存疑"),
                   "expression_of_concern": ("expression of concern", "关注声明"), "retracted": ("RETRACTED", "已撤稿")}


def integrity_label(status: str, lang: str) -> str:
    en, zh = INTEGRITY_LABEL.get(status, (status, status))
    return pick(en, zh, lang)


def record_row(rec: Record, lang: str) -> list[str]:
    v = vocab()
    return [rec.id, rec.citation.short(), v.label("design", rec.design, lang),
            ", ".join(rec.forms) or "—",
            ", ".join(v.label("outcome", o, lang) for o in rec.outcome_ids[:3]) + ("…" if len(rec.outcome_ids) > 3 else ""),
            str(rec.n_total or "—"), integrity_label(rec.integrity.status, lang)]


def records_table(records: list[Record], lang: str) -> Table:
    t = Table(title=pick(f"{len(records)} records", f"{len(records)} 条记录", lang), show_lines=False)
    for h in (("id", "编号"), ("study", "研究"), ("design", "设计"), ("forms", "形式"), ("outcomes", "结局"),
              ("n", "例数"), ("integrity", "诚信状态")):
        t.add_column(pick(*h, lang))
    for r in records:
        row = record_row(r, lang)
        t.add_row(*row[:-1], Text(row[-1], style=INTEGRITY_STYLE.get(r.integrity.status, "")))
    return t


def _effect_text(o: Outcome) -> str:
    if o.effect:
        e = o.effect
        s = f"{e.measure} {e.value:g}"
        if e.ci_lower is not None and e.ci_upper is not None:
            s += f" (95% CI {e.ci_lower:g} to {e.ci_upper:g})"
        if e.p is not None:
            s += f", p={e.p:g}"
        elif e.p_text:
            s += f", p{e.p_text}"
        return s
    if o.arm_values:
        parts = []
        for av in o.arm_values:
            if av.events is not None:
                parts.append(f"{av.arm}: {av.events}/{av.total or '?'}")
            elif av.mean is not None:
                sd = f" ± {av.sd:g}" if av.sd is not None else ""
                parts.append(f"{av.arm}: {av.mean:g}{sd}")
        return "; ".join(parts)
    return "—"


def record_panel(rec: Record, lang: str) -> Group:
    v = vocab()
    head = Text()
    head.append(rec.citation.text() + "\n", style="bold")
    ids = " ".join(x for x in (f"DOI {rec.citation.doi}" if rec.citation.doi else "",
                               f"PMID {rec.citation.pmid}" if rec.citation.pmid else "") if x)
    if ids:
        head.append(ids + "\n")
    head.append(pick("Design: ", "设计：", lang) + v.label("design", rec.design, lang))
    if rec.country:
        head.append(" · " + ", ".join(v.label("country", c, lang) for c in rec.country))
    if rec.duration:
        head.append(" · " + pick("duration ", "疗程 ", lang) + f"{rec.duration.value:g} {v.label('unit', rec.duration.unit, lang)}")
    if rec.population:
        head.append("\n" + pick("Population: ", "人群：", lang) + rec.population.description)
    head.append("\n" + pick("Integrity: ", "诚信状态：", lang))
    head.append(integrity_label(rec.integrity.status, lang), style=INTEGRITY_STYLE.get(rec.integrity.status, ""))
    for e in rec.integrity.events:
        head.append(f"\n  - {e.status} {e.date or ''}: {e.reason} [{e.source.cite()}]")
    parts: list = [Panel(head, title=rec.id)]
    if rec.arms:
        t = Table(title=pick("Arms", "分组", lang))
        for h in (("arm", "组"), ("role", "角色"), ("n", "例数"), ("vitamin K", "维生素K"), ("co-interventions", "合并干预")):
            t.add_column(pick(*h, lang))
        for a in rec.arms:
            amount = f"{a.intervention.amount:g}" if a.intervention and a.intervention.amount else "?"
            dose = (f"{v.label('form', a.intervention.form, lang)} {amount} "
                    f"{v.label('unit', a.intervention.unit, lang)}/{pick(a.intervention.per, '天' if a.intervention.per == 'day' else '周', lang)}"
                    if a.intervention else pick(a.comparator or "control", a.comparator or "对照", lang))
            co = ", ".join(v.label("agent", c.agent, lang) for c in a.co_interventions) or "—"
            t.add_row(a.label, a.role, str(a.n_randomized or "—"), dose, co)
        parts.append(t)
    if rec.outcomes:
        t = Table(title=pick("Outcomes", "结局", lang), show_lines=True)
        for h in (("outcome", "结局"), ("when", "时间"), ("result", "结果"), ("source", "来源")):
            t.add_column(pick(*h, lang))
        for o in rec.outcomes:
            when = f"{o.timepoint_weeks:g} wk" if o.timepoint_weeks else "—"
            label = v.label("outcome", o.outcome, lang) + (f" ({o.subgroup})" if o.subgroup else "")
            res = _effect_text(o) + (f"\n{o.result}" if o.result else "")
            t.add_row(label, when, res, o.source.cite())
        parts.append(t)
    if rec.pk_parameters:
        t = Table(title=pick("Pharmacokinetics", "药代动力学", lang))
        for h in (("form", "形式"), ("parameter", "参数"), ("value", "数值"), ("source", "来源")):
            t.add_column(pick(*h, lang))
        for p in rec.pk_parameters:
            val = f"{p.value:g}" if p.value is not None else f"{p.low:g}–{p.high:g}"
            t.add_row(p.form, p.parameter, f"{val} {p.unit}", p.source.cite())
        parts.append(t)
    for r in rec.recommendations:
        parts.append(Text(pick("Recommendation: ", "推荐：", lang) + f"{r.indication}: grade {r.grade or pick('not found at source', '原文未见分级', lang)} [{r.source.cite()}]"))
    for d in rec.seed_discrepancies:
        parts.append(Text(pick("Seed discrepancy", "种子文本差异", lang) + f" ({d.seed}): {d.seed_says} ≠ {d.source_says}", style="yellow"))
    if rec.notes:
        parts.append(Text(pick("Notes: ", "备注：", lang) + rec.notes, style="dim"))
    return Group(*parts)
