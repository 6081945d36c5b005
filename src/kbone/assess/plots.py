"""Report figures as self-contained SVG (base64 data URIs): intake by form against reference intakes, T-scores
against the WHO thresholds, and model projections with their bands. Text stays text in the SVG
(``svg.fonttype = none``) so Chinese labels render with the reader's CJK font.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from kbone.assess.intake import IntakeSummary  # noqa: E402
from kbone.assess.screen import TScoreClass, screening_params  # noqa: E402
from kbone.assess.status import Projection  # noqa: E402
from kbone.i18n import pick  # noqa: E402
from kbone.vocab import vocab  # noqa: E402

FONTS = ["Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", "Droid Sans Fallback", "DejaVu Sans"]
UNIT_ZH = {"% vs control": "% 相对对照"}
FORM_COLORS = {"K1": "#3a7d44", "MK-4": "#c07b28", "MK-7": "#7b4fa0", "MK-n": "#8c8c8c"}


def _svg_uri(fig) -> str:
    buf = io.BytesIO()
    with plt.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _style():
    return plt.rc_context({"font.family": "sans-serif", "font.sans-serif": FONTS, "font.size": 9,
                           "axes.spines.top": False, "axes.spines.right": False})


def intake_plot(intake: IntakeSummary, lang: str) -> str | None:
    """Intake by form (food, then supplements) as stacked bars, and one row per reference intake below."""
    if not intake.available or intake.total_ug is None:
        return None
    v = vocab()
    food = intake.by_form_ug or {"K": intake.total_ug}
    rows = [(pick("your food", "您的食物", lang), food)]
    if intake.supplements_ug:
        rows.append((pick("your supplements", "您的补充剂", lang), intake.supplements_ug))
    refs = intake.references
    n = len(rows) + len(refs)
    with _style():
        fig, ax = plt.subplots(figsize=(6.4, 0.9 + 0.32 * n))
        seen: set[str] = set()
        for i, (_name, forms) in enumerate(rows):
            left = 0.0
            for f, ug in forms.items():
                if ug is None or ug <= 0:
                    continue
                lbl = v.label("form", f, lang) if f not in seen else None
                seen.add(f)
                ax.barh(i, ug, left=left, color=FORM_COLORS.get(f, "#6b7b8c"), label=lbl, height=0.6)
                left += ug
        for j, ref in enumerate(refs):
            y = len(rows) + j
            col = "#b22222" if ref.verified and not ref.secondary else "#d98c8c"
            ax.plot([0, ref.value_ug], [y, y], color=col, lw=1.2, ls="--" if ref.compares == "k1" else "-")
            ax.plot([ref.value_ug], [y], "o", color=col, ms=4)
            ax.text(ref.value_ug, y, f"  {ref.value_ug:g}", va="center", fontsize=7, color=col)
        ax.set_yticks(range(n), [r[0] for r in rows] + [r.label(lang) for r in refs])
        ax.invert_yaxis()
        ax.set_xlabel(pick("vitamin K, µg/day (references: dashed = K1 only; pale = secondary/unverified)",
                           "维生素K，微克/天（参考值：虚线=仅K1；浅色=二手/未核实）", lang))
        ax.set_xlim(0, max([intake.total_ug + sum(intake.supplements_ug.values())] + [r.value_ug for r in refs]) * 1.2)
        if seen:
            ax.legend(fontsize=7, frameon=False, loc="lower right")
        return _svg_uri(fig)


def t_score_plot(t: TScoreClass, lang: str) -> str | None:
    """T-scores by site against the WHO thresholds (−1 and −2.5)."""
    if not t.scores:
        return None
    w = screening_params()["who_t_score"]
    labels = {"lumbar_spine": ("lumbar spine", "腰椎"), "femoral_neck": ("femoral neck", "股骨颈"),
              "total_hip": ("total hip", "全髋"), "radius": ("radius", "桡骨")}
    with _style():
        fig, ax = plt.subplots(figsize=(6.4, 0.6 + 0.45 * len(t.scores)))
        sites = list(t.scores)
        vals = [t.scores[s] for s in sites]
        cols = ["#b22222" if x <= w["osteoporosis_at_or_below"] else "#d98c1f" if x < w["normal_at_or_above"] else "#3a7d44"
                for x in vals]
        ax.barh(range(len(sites)), vals, color=cols)
        ax.axvline(w["normal_at_or_above"], color="#555", lw=0.8, ls=":")
        ax.axvline(w["osteoporosis_at_or_below"], color="#555", lw=0.8, ls="--")
        ax.axvline(0, color="#000", lw=0.6)
        ax.set_yticks(range(len(sites)), [pick(*labels[s], lang) for s in sites])
        for i, x in enumerate(vals):
            ax.text(x, i, f" {x:g} ", va="center", ha="right" if x < 0 else "left", fontsize=8)
        ax.set_xlim(min(-4.0, min(vals) - 0.5), max(1.5, max(vals) + 0.5))
        ax.set_xlabel(pick("T-score (dotted −1: low bone mass; dashed −2.5: osteoporosis)",
                           "T值（点线 −1：低骨量；虚线 −2.5：骨质疏松）", lang))
        return _svg_uri(fig)


def projection_plot(projections: list[Projection], lang: str) -> str | None:
    """Model projections (central line and band) per outcome."""
    if not projections:
        return None
    # one line per outcome and form: the highest dose (projections are appended in ascending dose order)
    keep: dict[tuple[str, str], Projection] = {}
    for p in projections:
        keep[(p.outcome, p.scenario.en.split(" ")[0])] = p
    projections = list(keep.values())
    outcomes = list(dict.fromkeys(p.outcome for p in projections))
    v = vocab()
    with _style():
        fig, axes = plt.subplots(1, len(outcomes), figsize=(3.2 * len(outcomes), 2.6), squeeze=False)
        for ax, out in zip(axes[0], outcomes, strict=True):
            for p in (x for x in projections if x.outcome == out):
                t = [pt.t for pt in p.points]
                line = ax.plot(t, [pt.central for pt in p.points], label=p.scenario(lang))[0]
                ax.fill_between(t, [pt.low for pt in p.points], [pt.high for pt in p.points], color=line.get_color(), alpha=0.2)
                ax.set_xlabel(pick("weeks", "周", lang) if p.time_unit == "weeks" else p.time_unit)
                ax.set_ylabel(pick(p.unit, UNIT_ZH.get(p.unit, p.unit), lang))
            ax.set_title(v.label("outcome", out, lang) if v.has("outcome", out) else out, fontsize=9)
            ax.legend(fontsize=7, frameon=False)
        return _svg_uri(fig)
