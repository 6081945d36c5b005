"""Forest and funnel plots (matplotlib, no pyplot state), written as PNG or SVG with an atomic write.

Chinese labels need a CJK font: Debian ``fonts-noto-cjk`` ("Noto Sans CJK SC"/"JP"). Without one the plot is
still written, with a warning that Chinese glyphs may show as boxes.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from kbone.errors import KboneInputError, Problem
from kbone.evidence.meta.effects import is_ratio
from kbone.evidence.meta.groups import group_label
from kbone.evidence.meta.results import MetaReport, Pooled
from kbone.output import atomic_write
from kbone.vocab import vocab

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Source Han Sans SC", "WenQuanYi Zen Hei")
FORMATS = ("png", "svg")
COLORS = {"ok": "#1f3b73", "flagged": "#d9822b", "expression_of_concern": "#d9822b", "retracted": "#c0392b"}
MARKS = {"flagged": " ‡", "expression_of_concern": " ‡", "retracted": " †"}

T = {
    "study": ("Study", "研究"),
    "effect": ("{m} [95% CI]", "{m} [95% CI]"),
    "weight": ("Weight", "权重"),
    "overall_re": ("Random-effects model ({method})", "随机效应模型（{method}）"),
    "overall_fe": ("Fixed-effect model ({method})", "固定效应模型（{method}）"),
    "subtotal": ("Subtotal", "小计"),
    "pi": ("Prediction interval", "预测区间"),
    "het": ("Heterogeneity: τ² = {tau2}, I² = {i2}%, Q = {q} (df = {df}, p = {p})",
            "异质性：τ² = {tau2}，I² = {i2}%，Q = {q}（df = {df}，p = {p}）"),
    "between": ("Test for subgroup differences: Q = {q} (df = {df}, p = {p})",
                "亚组间差异检验：Q = {q}（df = {df}，p = {p}）"),
    "retracted": ("† retracted", "† 已撤稿"),
    "flagged": ("‡ flagged / expression of concern", "‡ 存在科研诚信质疑"),
    "favours_t": ("Favours vitamin K", "利于维生素K组"),
    "favours_c": ("Favours control", "利于对照组"),
    "funnel_title": ("Funnel plot", "漏斗图"),
    "se": ("Standard error", "标准误"),
    "filled": ("imputed (trim-and-fill)", "填补的研究（剪补法）"),
    "observed": ("studies", "研究"),
    "egger": ("Egger's test: p = {p}", "Egger检验：p = {p}"),
}
MEASURE_NAMES = {
    "OR": ("Odds ratio", "比值比 (OR)"), "PETO": ("Peto odds ratio", "Peto比值比"), "RR": ("Risk ratio", "相对危险度 (RR)"),
    "RD": ("Risk difference", "危险差 (RD)"), "MD": ("Mean difference", "均数差 (MD)"),
    "SMD": ("Standardised mean difference", "标准化均数差 (SMD)"), "GEN": ("Effect", "效应量"),
}


def _t(key: str, lang: str, **kw) -> str:
    en, zh = T[key]
    return (zh if lang == "zh" else en).format(**kw)


def cjk_font() -> str | None:
    """The name of an installed CJK font, or None."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def _rc(lang: str) -> dict:
    rc = {"svg.fonttype": "path", "axes.unicode_minus": False, "font.size": 9}
    font = cjk_font()
    if font:
        rc["font.family"] = "sans-serif"
        rc["font.sans-serif"] = [font, "DejaVu Sans"]
    elif lang == "zh":
        warnings.warn("no CJK font found (install Debian fonts-noto-cjk): Chinese labels may show as boxes",
                      stacklevel=3)
    return rc


def _fmt(x: float, nd: int = 2) -> str:
    return f"{x:.{nd}f}"


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _save(fig: Figure, path: str | Path) -> Path:
    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise KboneInputError(Problem(field="plot", reason=f"unknown image format {p.suffix or '(none)'!r}",
                                      fix="name the file .png or .svg"))
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=150, bbox_inches="tight")
    return atomic_write(p, buf.getvalue())


def _outcome_better(outcome: str | None) -> str | None:
    if outcome and vocab().has("outcome", outcome):
        return vocab().get("outcome", outcome).get("better")
    return None


def forest_plot(rep: MetaReport, path: str | Path, lang: str = "en", title: str | None = None) -> Path:
    """Forest plot of a report: study rows (grouped when the report has subgroups), subgroup and overall
    diamonds, the prediction interval, integrity markers, heterogeneity text. PNG or SVG by suffix."""
    ratio = is_ratio(rep.measure)
    rows: list[tuple] = []   # (kind, payload)
    by_id = {s.id: s for s in rep.studies}
    if rep.subgroups:
        for g in rep.subgroups.groups:
            rows.append(("header", group_label(rep.subgroups.by, g.group, lang)))
            for sid in g.study_ids:
                rows.append(("study", by_id[sid]))
            if g.k > 1:
                rows.append(("diamond", (g, True)))
            rows.append(("gap", None))
    else:
        for s in rep.studies:
            rows.append(("study", s))
    rows.append(("diamond", (rep, False)))
    n = len(rows)
    height = 1.2 + 0.28 * (n + 4)
    with rc_context(_rc(lang)):
        fig = Figure(figsize=(10.5, height))
        gs = fig.add_gridspec(1, 3, width_ratios=[3.2, 4.0, 2.6], wspace=0.02)
        axl, ax, axr = (fig.add_subplot(gs[0, i]) for i in range(3))
        ymax = n + 1
        for a in (axl, axr):
            a.set_xlim(0, 1)
            a.axis("off")
        ax.patch.set_alpha(0)
        axl.set_zorder(ax.get_zorder() + 1)
        for a in (axl, ax, axr):
            a.set_ylim(-1.5, ymax)
        ax.spines[["left", "right", "top"]].set_visible(False)
        ax.set_yticks([])
        mname = MEASURE_NAMES.get(rep.measure, (rep.measure, rep.measure))[1 if lang == "zh" else 0]
        top = ymax - 0.3
        axl.text(0.0, top, _t("study", lang), weight="bold", va="center")
        axr.text(0.02, top, _t("effect", lang, m=rep.measure if rep.measure != "PETO" else "OR"), weight="bold",
                 va="center")
        axr.text(0.98, top, _t("weight", lang), weight="bold", va="center", ha="right")
        xs_all = []
        for i, (kind, obj) in enumerate(rows):
            y = n - i - 0.5
            if kind == "header":
                axl.text(0.0, y, obj, weight="bold", va="center")
            elif kind == "study":
                s = obj
                col = COLORS.get(s.integrity, COLORS["ok"])
                axl.text(0.03, y, s.label + MARKS.get(s.integrity, ""), va="center", color=col)
                lo, hi, est = s.back.ci_lower, s.back.ci_upper, s.back.estimate
                ax.plot([lo, hi], [y, y], color=col, lw=1)
                size = 4 + 10 * np.sqrt(max(s.weight, 0) / 100)
                ax.plot([est], [y], marker="s", ms=size, color=col, ls="none")
                xs_all += [lo, hi]
                axr.text(0.02, y, f"{_fmt(est)} [{_fmt(lo)}, {_fmt(hi)}]", va="center")
                axr.text(0.98, y, f"{s.weight:.1f}%", va="center", ha="right")
            elif kind == "diamond":
                p, is_sub = obj
                est, lo, hi = p.back.estimate, p.back.ci_lower, p.back.ci_upper
                color = "#555555" if is_sub else "black"
                ax.add_patch(Polygon([[lo, y], [est, y + 0.3], [hi, y], [est, y - 0.3]], closed=True,
                                     facecolor=color, edgecolor=color))
                xs_all += [lo, hi]
                if is_sub:
                    lab = f"{_t('subtotal', lang)} (k = {p.k})"
                else:
                    key = "overall_fe" if (p.model != "rma.uni" or p.method == "FE") else "overall_re"
                    lab = _t(key, lang, method=p.method) + f" (k = {p.k})"
                axl.text(0.0, y, lab, weight="bold", va="center")
                axr.text(0.02, y, f"{_fmt(est)} [{_fmt(lo)}, {_fmt(hi)}]", va="center", weight="bold")
                if not is_sub and isinstance(p, Pooled) and p.tau2 > 0 and p.back.pi_lower is not None:
                    yp = y - 0.75
                    ax.plot([p.back.pi_lower, p.back.pi_upper], [yp, yp], color="black", lw=1.2, ls="--")
                    xs_all += [p.back.pi_lower, p.back.pi_upper]
                    axl.text(0.03, yp, _t("pi", lang), va="center", style="italic")
                    axr.text(0.02, yp, f"[{_fmt(p.back.pi_lower)}, {_fmt(p.back.pi_upper)}]", va="center",
                             style="italic")
        null = 1.0 if ratio else 0.0
        ax.axvline(null, color="grey", lw=0.8)
        ax.axvline(rep.back.estimate, color="black", lw=0.6, ls=":")
        lo_x, hi_x = min(xs_all + [null]), max(xs_all + [null])
        if ratio:
            ax.set_xscale("log")
            pad = (hi_x / lo_x) ** 0.08
            ax.set_xlim(lo_x / pad, hi_x * pad)
        else:
            pad = 0.08 * (hi_x - lo_x or 1.0)
            ax.set_xlim(lo_x - pad, hi_x + pad)
        ax.set_xlabel(mname)
        better = _outcome_better(rep.outcome)
        if better in ("up", "down"):
            left, right = ("favours_t", "favours_c") if better == "down" else ("favours_c", "favours_t")
            ax.text(0.02, -0.11, "← " + _t(left, lang), transform=ax.transAxes, ha="left", va="top", fontsize=8)
            ax.text(0.98, -0.11, _t(right, lang) + " →", transform=ax.transAxes, ha="right", va="top", fontsize=8)
        foot = [_t("het", lang, tau2=f"{rep.tau2:.4g}", i2=f"{rep.i2:.1f}", q=f"{rep.q:.2f}", df=rep.q_df,
                   p=_p(rep.q_p))]
        if rep.subgroups and len(rep.subgroups.groups) > 1:
            sg = rep.subgroups
            foot.append(_t("between", lang, q=f"{sg.q_between:.2f}", df=sg.q_between_df, p=_p(sg.q_between_p)))
        marks = {s.integrity for s in rep.studies}
        if "retracted" in marks:
            foot.append(_t("retracted", lang))
        if marks & {"flagged", "expression_of_concern"}:
            foot.append(_t("flagged", lang))
        bottom = -1.6 - 0.75 * len(foot)
        for a in (axl, ax, axr):
            a.set_ylim(bottom, ymax)
        for j, line in enumerate(foot):
            axl.text(0.0, -1.5 - 0.75 * j, line, va="center", fontsize=8)
        if ratio:
            lo_l, hi_l = ax.get_xlim()
            ticks = [t for t in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100,
                                 200, 500, 1000) if lo_l <= t <= hi_l]
            ax.set_xticks(ticks)
            ax.set_xticklabels([f"{t:g}" for t in ticks])
            ax.minorticks_off()
        if title:
            fig.suptitle(title, weight="bold")
        return _save(fig, path)


def funnel_plot(rep: MetaReport, path: str | Path, lang: str = "en", title: str | None = None) -> Path:
    """Funnel plot: effects (analysis scale) against standard errors, pseudo 95% limits around the pooled
    estimate, trim-and-fill studies as open circles when the report has them."""
    y = np.array([s.yi for s in rep.studies])
    se = np.array([s.se for s in rep.studies])
    with rc_context(_rc(lang)):
        fig = Figure(figsize=(6, 5))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        smax = float(se.max()) * 1.1
        if rep.trimfill and rep.trimfill.k0 > 0:
            smax = max(smax, float(np.sqrt(max(rep.trimfill.filled_vi))) * 1.1)
        grid = np.linspace(0, smax, 50)
        est = rep.estimate
        ax.fill_betweenx(grid, est - 1.96 * grid, est + 1.96 * grid, color="#eeeeee")
        ax.plot(est - 1.96 * grid, grid, color="grey", lw=0.8, ls="--")
        ax.plot(est + 1.96 * grid, grid, color="grey", lw=0.8, ls="--")
        ax.axvline(est, color="black", lw=1)
        cols = [COLORS.get(s.integrity, COLORS["ok"]) for s in rep.studies]
        ax.scatter(y, se, c=cols, s=28, zorder=3, label=_t("observed", lang))
        if rep.trimfill and rep.trimfill.k0 > 0:
            ax.scatter(rep.trimfill.filled_yi, np.sqrt(rep.trimfill.filled_vi), facecolors="none",
                       edgecolors="black", s=28, zorder=3, label=_t("filled", lang))
            ax.legend(loc="best", fontsize=8)
        ax.set_ylim(smax, 0)
        scale = "log " if is_ratio(rep.measure) else ""
        mname = MEASURE_NAMES.get(rep.measure, (rep.measure, rep.measure))[1 if lang == "zh" else 0]
        ax.set_xlabel(f"{mname} ({scale}scale)" if scale and lang != "zh" else (f"{mname}（对数尺度）" if scale else mname))
        ax.set_ylabel(_t("se", lang))
        if rep.egger:
            ax.set_title(_t("egger", lang, p=_p(rep.egger.p)), fontsize=9)
        if title:
            fig.suptitle(title, weight="bold")
        return _save(fig, path)
