"""Render an :class:`~kbone.assess.assessment.Assessment`: rich text, self-contained HTML (Jinja2, inline SVG
plots), and PDF through WeasyPrint when a CJK font is installed (Debian: ``apt-get install fonts-noto-cjk``).

In the HTML every number links to its source entry (``#src-<key>``): an evidence record, a rule, a
screening method, a reference intake or the model.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from rich.console import Console
from rich.markup import escape as escape_markup
from rich.panel import Panel
from rich.table import Table

from kbone.assess.assessment import Assessment
from kbone.assess.plots import intake_plot, projection_plot, t_score_plot
from kbone.assess.profile import conditions
from kbone.assess.rules import severity_label
from kbone.assess.screen import CATEGORY_LABELS
from kbone.errors import KboneInputError, Problem
from kbone.evidence.grade import level_label
from kbone.i18n import pick
from kbone.vocab import vocab

SITE_LABELS = {"lumbar_spine": ("lumbar spine", "腰椎"), "femoral_neck": ("femoral neck", "股骨颈"),
               "total_hip": ("total hip", "全髋"), "radius": ("radius", "桡骨")}
LIKELIHOOD = {"likely": ("likely", "很可能"), "probable": ("probable", "可能"), "possible": ("possible", "有可能"),
              "unlikely": ("unlikely", "不太可能")}
ROLE = {"primary": ("Main outcomes", "主要结局"), "secondary": ("Bone density / structure", "骨密度/结构"),
        "marker": ("Markers", "标志物"), "related": ("Related evidence", "相关证据")}
GOALS = {"bone": ("bone density and fractures", "骨密度与骨折"), "oa": ("osteoarthritis symptoms and structure", "骨关节炎症状与结构")}
INTEGRITY = {"flagged": ("integrity concern", "诚信存疑"), "expression_of_concern": ("expression of concern", "关注声明"),
             "retracted": ("RETRACTED", "已撤稿")}
STATUS = {"option": ("option", "可选"), "prescription": ("prescription", "处方"),
          "clinician_managed_only": ("clinician-managed only", "仅限医生管理下")}


UNITS_ZH = {"percentage points": "个百分点", "% (95% prediction interval)": "%（95% 预测区间）",
            "INR per +100 µg/day": "INR/每天+100微克", "% vs control": "%（相对对照）"}
OSTA_RISK = {"low": ("low risk", "低风险"), "medium": ("medium risk", "中风险"), "high": ("high risk", "高风险")}
TIME_UNITS = {"weeks": ("weeks", "周"), "days": ("days", "天"), "years": ("years", "年"), "hours": ("hours", "小时")}


def anchor(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", key)


def fmt(x) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 10 else f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}".rstrip("0").rstrip(".")
    return str(x)


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=PackageLoader("kbone.assess", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = fmt
    return env


def render_html(a: Assessment, lang: str) -> str:
    """Self-contained HTML report in ``lang`` (zh or en)."""
    v = vocab()
    keys = {s.key for s in a.sources}

    def T(en, zh):  # noqa: N802 - template helper
        return pick(en, zh, lang)

    def num(value, key):
        txt = fmt(value)
        if key not in keys:
            return Markup(f"<span class=\"num\">{escape(txt)}</span>")
        return Markup(f"<a class=\"num\" href=\"#src-{anchor(key)}\">{escape(txt)}</a>")

    def reclink(rid):
        return Markup(f"<a class=\"rec\" href=\"#src-{anchor('rec:' + rid)}\">{escape(rid)}</a>")

    integ = {s.key[4:]: s.integrity for s in a.sources if s.kind == "record"}

    def rec_flag(rid):
        st = integ.get(rid)
        if st and st != "ok":
            return Markup(f" <span class=\"flag-retracted\">[{escape(pick(*INTEGRITY.get(st, (st, st)), lang))}]</span>")
        return ""

    def srclink(key, text):
        return Markup(f"<a href=\"#src-{anchor(key)}\">{escape(text)}</a>")

    def dose(d):
        lo, hi = d
        def one(x):
            return f"{x / 1000:g} mg" if x >= 1000 else f"{x:g} µg"
        return (one(lo) if lo == hi else f"{one(lo)}–{one(hi)}") + pick("/day", "/天", lang)

    env = _env()

    def outcome(o):
        return v.label("outcome", o, lang) if v.has("outcome", o) else o
    plots = {"intake": intake_plot(a.intake, lang), "t_score": t_score_plot(a.screening.t_score, lang),
             "projection": projection_plot(a.status.projections, lang)}
    intake_key = "data:diet" if "data:diet" in keys else ""
    return env.get_template("report.html.j2").render(
        a=a, lang=lang, T=T, num=num, reclink=reclink, srclink=srclink, rec_flag=rec_flag, plots=plots, intake_key=intake_key,
        anchor=anchor, dose=dose, outcome=outcome, outcomes=lambda xs: ", ".join(outcome(x) for x in xs),
        conds=lambda cs: pick(", ", "、", lang).join(conditions()[c].label(lang) for c in cs),
        sev=lambda s: severity_label(s, lang), likelihood=lambda x: pick(*LIKELIHOOD[x], lang),
        site=lambda s: pick(*SITE_LABELS.get(s, (s, s)), lang), category=lambda c: pick(*CATEGORY_LABELS[c], lang),
        form=lambda f: v.label("form", f, lang) if v.has("form", f) else f,
        grade_label=lambda g: level_label(g, lang), goal=lambda g: pick(*GOALS.get(g, (g, g)), lang),
        role=lambda r: pick(*ROLE[r], lang), unit=lambda u: pick(u, UNITS_ZH.get(u, u), lang),
        population=lambda p: v.label("population", p, lang),
        integrity=lambda s: pick(*INTEGRITY.get(s, (s, s)), lang))


# ---- PDF ----------------------------------------------------------------------------------------


def cjk_font_available() -> bool:
    """True when fontconfig knows a CJK font (Noto CJK, WenQuanYi, Droid Sans Fallback …)."""
    if not shutil.which("fc-list"):
        return False
    try:
        out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out.strip())


def render_pdf(html: str) -> bytes:
    """PDF bytes of the HTML report (WeasyPrint); needs a CJK font for Chinese text."""
    try:
        import weasyprint
    except ImportError:
        raise KboneInputError(Problem(field="--pdf", reason="PDF output needs the weasyprint package",
                                      fix="pip install weasyprint (see docs/assess.md)")) from None
    if not cjk_font_available():
        raise KboneInputError(Problem(field="--pdf", reason="no CJK font is installed, Chinese text would not render",
                                      fix="install one: sudo apt-get install fonts-noto-cjk (see docs/assess.md)"))
    return weasyprint.HTML(string=html).write_pdf()


# ---- rich text ----------------------------------------------------------------------------------

SEV_STYLE = {"major": "bold white on red", "moderate": "bold black on dark_orange", "minor": "black on yellow",
             "info": "white on grey39"}


def render_text(a: Assessment, lang: str, console: Console) -> None:
    """Readable terminal report: summary, alerts first, screening, intake, status, options."""
    v = vocab()

    def T(en, zh):  # noqa: N802
        return pick(en, zh, lang)

    console.rule(T("Vitamin K and bone health assessment", "维生素K与骨骼健康评估"))
    for al in a.alerts:
        if al.severity == "major":
            extra = "".join(f"\n[italic]{escape_markup(n(lang))}[/]" for n in al.notes)
            console.print(Panel(f"{al.action(lang)}\n[dim]{al.mechanism(lang)}[/]{extra}",
                                title=f"[{SEV_STYLE['major']}] {severity_label('major', lang)} [/] {al.title(lang)}",
                                border_style="red"))
    console.print(f"[bold]{T('Summary', '要点')}[/]")
    for s in a.summary:
        console.print(f"  • {s(lang)}", markup=False)
    rest = [x for x in a.alerts if x.severity != "major"]
    if rest:
        t = Table(title=T("Other alerts", "其他警示"), show_lines=False)
        for h in (("severity", "严重度"), ("evidence", "证据"), ("alert", "警示"), ("what to do", "怎么做")):
            t.add_column(T(*h))
        for al in rest:
            notes = "".join(f"\n[italic]{escape_markup(n(lang))}[/]" for n in al.notes)
            t.add_row(f"[{SEV_STYLE[al.severity]}] {severity_label(al.severity, lang)} [/]", al.evidence_level,
                      al.title(lang), al.action(lang) + notes)
        console.print(t)
    s = a.screening
    t = Table(title=T("Bone screening", "骨骼筛查"))
    t.add_column(T("measure", "指标"))
    t.add_column(T("result", "结果"))
    t.add_row("OSTA", f"{s.osta.index:g} → {pick(*OSTA_RISK[s.osta.risk], lang)}")
    if s.t_score.lowest is not None:
        t.add_row(T("lowest T-score", "最低T值"), f"{s.t_score.lowest:g} ({pick(*SITE_LABELS[s.t_score.lowest_site], lang)}) → "
                  f"{pick(*CATEGORY_LABELS[s.t_score.category], lang)}")
    fr = s.fracture_risk
    t.add_row(T("10-year fracture risk", "10年骨折风险"),
              f"{fr.bound or ''}{fr.percent:g}% ({fr.method})" if fr.available else T("not given", "不提供"))
    t.add_row(T("risk factors", "危险因素"), ", ".join(r.label(lang) for r in s.risk_factors) or "—")
    console.print(t)
    i = a.intake
    if i.available and i.total_ug is not None:
        star = "*" if "total" in i.partial_forms else ""
        forms = pick(", ", "，", lang).join(
            f"{v.label('form', f, lang) if v.has('form', f) else f} "
            + ("—" if ug is None else f"{ug:.0f}" + ("*" if f in i.partial_forms else "")) for f, ug in i.by_form_ug.items())
        rest = (f"{i.total_ug:.0f}{star} µg/{T('day', '天')} " + (T(f"({forms}) ", f"（{forms}）") if forms else "")
                + ", ".join(f"{r.label(lang)} {r.percent:.0f}%" for r in i.references if r.percent is not None))
        console.print(f"[bold]{T('Intake', '摄入')}[/]: {escape_markup(rest)}")
        if i.partial_forms:
            console.print("  " + T("* lower bound: some foods have no value for this form; — unknown (not zero).",
                                   "* 下限值：部分食物缺少该形式的数据；— 未知（并非零）。"), style="dim", markup=False)
    else:
        console.print(f"[bold]{T('Intake', '摄入')}[/]: " + " ".join(n(lang) for n in i.notes), markup=True)
    if a.status.inr_evidence:
        e = a.status.inr_evidence
        console.print(f"{e.label(lang)}: {e.value:g} ({e.record})")
    _model_text(a, lang, console)
    t = Table(title=T("Options (evidence grade, records)", "可选方案（证据等级，记录）"), show_lines=True)
    for h in (("option", "方案"), ("status", "状态"), ("grade", "证据等级"), ("records", "记录")):
        t.add_column(T(*h))
    for op in a.options:
        g = level_label(op.evidence_grade, lang) + (T(" · no trial evidence", " · 无试验证据") if op.no_trial_evidence else "")
        t.add_row(op.label(lang), pick(*STATUS[op.status], lang), g, ", ".join(op.records[:6]) + (" …" if len(op.records) > 6 else ""))
    console.print(t)
    if a.assumptions:
        console.print(f"[bold]{T('Assumptions', '假设')}[/]")
        for x in a.assumptions:
            console.print(f"  • {x(lang)}", style="dim", markup=False)
    console.print(f"[dim]{a.disclaimer(lang)}[/]")


def _model_text(a: Assessment, lang: str, console: Console) -> None:
    """Model estimates in the terminal: %ucOC at the person's intake, INR sensitivity, end of each projection."""
    st, v = a.status, vocab()

    def T(en, zh):  # noqa: N802
        return pick(en, zh, lang)

    def iv(x, unit=""):
        return f"{fmt(x.central)}{unit} ({fmt(x.low)}–{fmt(x.high)}{unit})"

    if not st.available and not st.projections:
        for n in st.notes:
            console.print(f"[dim]{T('Model', '模型')}: {escape_markup(n(lang))}[/]")
        return
    t = Table(title=T("Model estimates (central, 5–95% of virtual people like you)",
                      "模型估计（中位值，与您相似的虚拟人群的5–95%范围）"))
    t.add_column(T("estimate", "估计项"))
    t.add_column(T("scenario", "情景"))
    t.add_column(T("value", "数值"))
    if st.ucoc:
        t.add_row(T("ucOC (% of total osteocalcin)", "未羧化骨钙素（占总骨钙素%）"), T("your intake", "您目前的摄入"),
                  iv(st.ucoc, "%"))
    if st.inr_per_100ug:
        t.add_row(T("INR change 2 weeks after +100 µg/day K1", "食物K1每天+100微克两周后INR变化"), T("your intake", "您目前的摄入"),
                  iv(st.inr_per_100ug))
    for p in st.projections:
        if not p.points:
            continue
        last = p.points[-1]
        name = v.label("outcome", p.outcome, lang) if v.has("outcome", p.outcome) else p.outcome
        when = f"{fmt(float(last.t))} {pick(*TIME_UNITS.get(p.time_unit, (p.time_unit, p.time_unit)), lang)}"
        unit = pick(p.unit, UNITS_ZH.get(p.unit, p.unit), lang)
        t.add_row(f"{name} ({when})", p.scenario(lang),
                  f"{fmt(last.central)} ({fmt(last.low)}–{fmt(last.high)}) {unit}")
    if t.row_count:
        console.print(t)
    for n in st.notes:
        console.print(f"  • {n(lang)}", style="dim", markup=False)
