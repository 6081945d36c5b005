"""``kbone meta``: pool the evidence base (or a user's CSV) for one outcome, with integrity sensitivity."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kbone.errors import KboneInputError, Problem
from kbone.evidence.meta.groups import BY_CHOICES, group_label
from kbone.evidence.meta.pipeline import ALL_MEASURES, ALL_METHODS, Options, analyse
from kbone.evidence.meta.results import MetaReport, Pooled
from kbone.i18n import norm_lang, pick
from kbone.output import console, emit_json, err_console
from kbone.vocab import vocab

HELP = ("Meta-analysis / 荟萃分析: pool trials of the evidence base for one outcome (or your own CSV), with "
        "integrity sensitivity (all / without retracted / without retracted or flagged trials).")


METRIC_LABELS = {"percent_change": ("% change from baseline", "较基线变化百分比"),
                 "absolute_change": ("absolute change from baseline", "较基线绝对变化"),
                 "final_value": ("final value", "终点值")}


def register(app: typer.Typer) -> None:
    app.command("meta", help=HELP)(meta)


def meta(
    outcome: Annotated[str | None, typer.Option("--outcome", help="Outcome (any zh/en name), e.g. vertebral_fracture.")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="CSV with metafor-style columns instead of the evidence base.")] = None,
    measure: Annotated[str | None, typer.Option("--measure", help=f"{' | '.join(ALL_MEASURES)} (default OR for events, MD for means).")] = None,
    method: Annotated[str, typer.Option("--method", help=f"{' | '.join(ALL_METHODS)}.")] = "REML",
    test: Annotated[str, typer.Option("--test", help="z, or knha (Knapp-Hartung).")] = "z",
    knha: Annotated[bool, typer.Option("--knha", help="Same as --test knha.")] = False,
    by: Annotated[str | None, typer.Option("--by", help=f"Subgroups: {', '.join(BY_CHOICES)} (or a CSV column).")] = None,
    metric: Annotated[str | None, typer.Option("--metric", help="Continuous outcomes: percent_change | absolute_change | final_value.")] = None,
    timepoint: Annotated[float | None, typer.Option("--timepoint", help="Weeks: use the time point nearest this (default: the longest).")] = None,
    exclude_retracted: Annotated[bool, typer.Option("--exclude-retracted", help="Leave out retracted trials.")] = False,
    exclude_flagged: Annotated[bool, typer.Option("--exclude-flagged", help="Leave out retracted and flagged trials.")] = False,
    leave_one_out: Annotated[bool, typer.Option("--leave-one-out", help="Refit without each study in turn.")] = False,
    cumulative: Annotated[bool, typer.Option("--cumulative", help="Cumulative meta-analysis by year.")] = False,
    drop00: Annotated[bool, typer.Option("--drop00", help="Exclude studies without events in both groups (OR/RR).")] = False,
    drop_incomplete: Annotated[bool, typer.Option("--drop-incomplete", help="CSV: exclude rows with missing or invalid values instead of stopping.")] = False,
    level: Annotated[float, typer.Option("--level", help="Confidence level, 0-1 or percent.")] = 0.95,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a forest plot (.png or .svg).")] = None,
    funnel: Annotated[Path | None, typer.Option("--funnel", help="Write a funnel plot (.png or .svg).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="zh or en (default: KBONE_LANG or locale).")] = None,
) -> int:
    lg = norm_lang(lang)
    if (outcome is None) == (data is None):
        raise KboneInputError(Problem(field="--outcome/--data", reason="give exactly one of --outcome or --data",
                                      fix="kbone meta --outcome vertebral_fracture, or kbone meta --data FILE.csv"))
    lvl = level / 100 if level > 1 else level
    if not 0 < lvl < 1:
        raise KboneInputError(Problem(field="level", reason=f"{level} is not a confidence level", fix="e.g. 0.95 or 95"))
    exclude: tuple[str, ...] = ()
    if exclude_flagged:
        exclude = ("retracted", "flagged", "expression_of_concern")
    elif exclude_retracted:
        exclude = ("retracted",)
    opt = Options(measure=(measure or "").upper(), method=method.upper(), test="knha" if knha else test.lower(),
                  level=lvl, by=by, exclude=exclude, leave_one_out=leave_one_out, cumulative=cumulative,
                  drop00=drop00)
    if data is not None:
        rep = _from_csv(data, opt, drop_incomplete)
    else:
        rep = analyse_evidence(outcome, opt, metric, timepoint)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = []
        title = None
        if rep.outcome_label:
            title = rep.outcome_label.get(lg)
            if rep.metric in METRIC_LABELS:
                en, zh = METRIC_LABELS[rep.metric]
                title += f"（{zh}）" if lg == "zh" else f" ({en})"
        if plot is not None:
            from kbone.evidence.meta.plots import forest_plot

            written.append(str(forest_plot(rep, plot, lg, title=title)))
        if funnel is not None:
            from kbone.evidence.meta.plots import funnel_plot

            written.append(str(funnel_plot(rep, funnel, lg, title=title)))
    for w in caught:
        err_console.print(f"warning: {w.message}")
    if as_json:
        out = rep.model_dump(mode="json")
        if written:
            out["files"] = written
        emit_json(out)
    else:
        render(rep, lg)
        for f in written:
            console.print(pick(f"written: {f}", f"已写入：{f}", lg))
    return 0


def _from_csv(path: Path, opt: Options, drop_incomplete: bool) -> MetaReport:
    from kbone.evidence.meta.data import read_csv

    studies, excluded, file_measure, kind = read_csv(path, drop_incomplete=drop_incomplete)
    if opt.measure and file_measure and opt.measure != file_measure and not (opt.measure == "PETO" and file_measure == "OR"):
        raise KboneInputError(Problem(field="measure", reason=f"--measure {opt.measure} but the table's measure column says {file_measure}",
                                      fix="drop --measure or make them agree"))
    if not opt.measure:
        opt.measure = file_measure or {"counts": "OR", "means": "MD", "effects": "GEN"}[kind]
    if kind == "counts" and opt.measure in ("MD", "SMD"):
        raise KboneInputError(Problem(field="measure", reason=f"{opt.measure} needs means, the table has 2x2 counts",
                                      fix="use --measure OR, RR or RD"))
    if kind == "means" and opt.measure in ("OR", "RR", "RD", "PETO"):
        raise KboneInputError(Problem(field="measure", reason=f"{opt.measure} needs 2x2 counts, the table has means",
                                      fix="use --measure MD or SMD"))
    has_integrity = any(s.integrity != "ok" for s in studies)
    opt.scenarios = has_integrity
    return analyse(studies, opt, source=str(path), pre_excluded=excluded)


def analyse_evidence(outcome: str, opt: Options, metric: str | None, timepoint: float | None) -> MetaReport:
    """Pool the evidence base for ``outcome`` (``kbone meta --outcome``; the web's meta page uses the same)."""
    from kbone.evidence.loader import load_records
    from kbone.evidence.meta.from_records import METRICS, extract, resolve_outcome

    oid = resolve_outcome(outcome)
    term = vocab().get("outcome", oid)
    if metric is not None and metric not in METRICS:
        raise KboneInputError(Problem(field="metric", reason=f"unknown metric {metric!r}", fix=f"use one of {', '.join(METRICS)}"))
    records = load_records()
    if not opt.measure:
        events = any(o.outcome == oid and o.metric in ("events", "incidence") for r in records for o in r.outcomes)
        opt.measure = "OR" if events or term.get("group") == "fracture" else "MD"
    if opt.by is not None and opt.by not in BY_CHOICES:
        raise KboneInputError(Problem(field="by", reason=f"unknown subgroup variable {opt.by!r}",
                                      fix=f"use one of {', '.join(BY_CHOICES)}"))
    ex = extract(records, oid, opt.measure, metric=metric, timepoint_weeks=timepoint, method=opt.method)
    try:
        return analyse(ex.studies, opt, source="evidence", outcome=oid, outcome_label={"en": term.en, "zh": term.zh},
                       metric=ex.metric, pre_excluded=ex.excluded, notes=ex.notes)
    except KboneInputError as err:
        if not ex.studies and not ex.excluded:
            raise KboneInputError(Problem(field="outcome", reason=f"no trial in the evidence base reports {oid}",
                                          fix="choose another outcome (kbone evidence list shows what is there)")) from None
        raise err


# ---- readable output ------------------------------------------------------------------------------

def _ci(p, lg) -> str:
    b = p.back
    return f"{b.estimate:.3f} [{b.ci_lower:.3f}, {b.ci_upper:.3f}]"


def _pval(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def render(rep: MetaReport, lg: str) -> None:
    m = "OR (Peto)" if rep.measure == "PETO" else rep.measure
    head = pick("Meta-analysis", "荟萃分析", lg)
    what = rep.outcome_label.get(lg) if rep.outcome_label else rep.source
    console.print(f"[bold]{head}: {what}[/] — {m}, {rep.method}{' + Knapp-Hartung' if rep.test == 'knha' else ''}"
                  + (f", {rep.metric}" if rep.metric else ""))
    t = Table(title=pick("Studies", "纳入研究", lg))
    for col in (pick("Study", "研究", lg), pick("Year", "年份", lg), f"{m} [95% CI]", pick("Weight", "权重", lg),
                pick("Integrity", "诚信状态", lg)):
        t.add_column(col)
    for s in rep.studies:
        t.add_row(s.label, str(s.year or ""), f"{s.back.estimate:.3f} [{s.back.ci_lower:.3f}, {s.back.ci_upper:.3f}]",
                  f"{s.weight:.1f}%", _integrity(s.integrity, lg))
    console.print(t)
    console.print(_pooled_line(rep, lg, pick("Pooled", "合并", lg)))
    if rep.integrity:
        t = Table(title=pick("Integrity sensitivity", "科研诚信敏感性分析", lg))
        for col in (pick("Trials", "试验", lg), "k", f"{m} [95% CI]", pick("95% PI", "95% 预测区间", lg), "I²",
                    pick("Left out", "剔除的研究", lg)):
            t.add_column(col)
        for sc in rep.integrity:
            lab = sc.label_zh if lg == "zh" else sc.label_en
            if sc.pooled:
                p = sc.pooled
                t.add_row(lab, str(sc.k), _ci(p, lg), f"[{p.back.pi_lower:.3f}, {p.back.pi_upper:.3f}]",
                          f"{p.i2:.1f}%", ", ".join(sc.excluded_ids) or "—")
            else:
                t.add_row(lab, str(sc.k), sc.reason or "", "", "", ", ".join(sc.excluded_ids) or "—")
        console.print(t)
    if rep.subgroups:
        sg = rep.subgroups
        t = Table(title=pick(f"Subgroups by {sg.by}", f"按{sg.by}分组", lg))
        for col in (pick("Group", "亚组", lg), "k", f"{m} [95% CI]", "I²"):
            t.add_column(col)
        for g in sg.groups:
            t.add_row(group_label(sg.by, g.group, lg), str(g.k),
                      f"{g.back.estimate:.3f} [{g.back.ci_lower:.3f}, {g.back.ci_upper:.3f}]",
                      f"{g.pooled.i2:.1f}%" if g.pooled else "—")
        console.print(t)
        console.print(pick("Test for subgroup differences", "亚组间差异检验", lg)
                      + f": Q = {sg.q_between:.2f}, df = {sg.q_between_df}, p = {_pval(sg.q_between_p)}")
    for name, rows in ((pick("Leave-one-out", "逐一剔除", lg), rep.leave_one_out),
                       (pick("Cumulative by year", "按年份累积", lg), rep.cumulative)):
        if rows:
            t = Table(title=name)
            for col in (pick("Study", "研究", lg), "k", f"{m} [95% CI]", "tau²", "I²"):
                t.add_column(col)
            for r in rows:
                t.add_row(r.label, str(r.k), f"{r.back.estimate:.3f} [{r.back.ci_lower:.3f}, {r.back.ci_upper:.3f}]",
                          f"{r.tau2:.4f}", f"{r.i2:.1f}%")
            console.print(t)
    if rep.egger:
        e = rep.egger
        console.print(pick("Egger's test", "Egger检验", lg) + f": t = {e.stat:.3f}, df = {e.df}, p = {_pval(e.p)}"
                      + (f" ({pick('few studies: low power', '研究数少，检验效能低', lg)})" if e.note else ""))
    if rep.trimfill:
        tf = rep.trimfill
        console.print(pick("Trim-and-fill", "剪补法", lg) + f": k0 = {tf.k0} ({tf.side}); {_ci(tf.pooled, lg)}")
    for n in rep.notes:
        console.print(f"[dim]• {n}[/]")
    if rep.excluded:
        console.print(pick("Excluded", "未纳入", lg) + ":")
        for e in rep.excluded:
            console.print(f"  - {e.id}: {e.reason}", markup=False)


def _integrity(status: str, lg: str) -> str:
    zh = {"ok": "正常", "flagged": "被质疑", "expression_of_concern": "关注声明", "retracted": "已撤稿"}
    return zh.get(status, status) if lg == "zh" else status


def _pooled_line(p: Pooled, lg: str, head: str) -> str:
    s = (f"[bold]{head}[/]: {_ci(p, lg)}; {p.stat_name} = {p.stat:.3f}, p = {_pval(p.p)}; "
         f"tau² = {p.tau2:.4g}, I² = {p.i2:.1f}%, Q = {p.q:.2f} (df {p.q_df}, p = {_pval(p.q_p)}); k = {p.k}")
    if p.tau2 > 0:
        s += f"; {pick('95% PI', '95%预测区间', lg)} [{p.back.pi_lower:.3f}, {p.back.pi_upper:.3f}]"
    return s
