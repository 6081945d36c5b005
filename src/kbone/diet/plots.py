"""Bar chart of daily vitamin K intake by form (matplotlib), with reference intakes as lines.

Chinese labels need a CJK font: Noto Sans CJK (Debian ``fonts-noto-cjk``) or another CJK font found by
matplotlib. Without one, the chart falls back to English labels and says so.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from kbone.diet.schema import FORMS, IntakeResult
from kbone.errors import KboneInputError
from kbone.output import atomic_write

_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
              "Source Han Sans SC", "SimHei", "Microsoft YaHei", "AR PL UMing CN")
_COLORS = {"k1": "#2e7d32", "mk4": "#f9a825", "mk7": "#c62828", "mk_other": "#6a1b9a"}
_LABELS = {"k1": ("K1 (phylloquinone)", "K1（叶绿醌）"), "mk4": ("MK-4", "MK-4"), "mk7": ("MK-7", "MK-7"),
           "mk_other": ("other MK-n", "其他MK-n")}
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf", ".jpg": "jpg", ".jpeg": "jpg"}


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed CJK font known to matplotlib, or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in _CJK_FONTS if n in names), None)


def plot_intake(result: IntakeResult, path: str | Path, lang: str = "en") -> tuple[Path, list[str]]:
    """Write a stacked bar chart of intake by day (and the mean) to ``path``; returns (path, warnings)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise KboneInputError(f"cannot write a chart as {p.suffix or 'a file without extension'}", field="plot",
                              fix="name the file .png, .svg or .pdf")
    warnings: list[str] = []
    font = cjk_font()
    if lang == "zh" and font is None:
        warnings.append("no CJK font found (install Debian fonts-noto-cjk); chart labels are in English")
        lang = "en"

    def L(en: str, zh: str) -> str:  # noqa: N802
        return zh if lang == "zh" else en

    rc = {"font.family": "sans-serif", "font.sans-serif": ([font] if font else []) + ["DejaVu Sans"],
          "axes.unicode_minus": False}
    with plt.rc_context(rc):
        labels = [d.date for d in result.days] if result.basis == "diary" else []
        values = {f: [getattr(d, f) for d in result.days] for f in FORMS} if labels else {f: [] for f in FORMS}
        labels.append(L("mean", "平均"))
        for f in FORMS:
            values[f].append(getattr(result.mean, f))
        fig, ax = plt.subplots(figsize=(max(6.0, 1.0 + 0.9 * len(labels)), 4.5), dpi=120)
        bottom = [0.0] * len(labels)
        for f in FORMS:
            ax.bar(labels, values[f], bottom=bottom, color=_COLORS[f], label=L(*_LABELS[f]), width=0.6)
            bottom = [b + v for b, v in zip(bottom, values[f], strict=True)]
        seen = set()
        styles = ["--", ":", "-.", (0, (5, 1)), (0, (1, 3))]
        for i, c in enumerate(result.reference):
            ref = c.reference
            key = (ref.authority, ref.value_ug)
            if key in seen:
                continue
            seen.add(key)
            who = L(ref.authority_en, ref.authority_zh)
            sexlab = {"male": L(" men", " 男"), "female": L(" women", " 女"), "any": ""}[ref.sex]
            flag = {"secondary": L(" [secondary]", "［二手］"), "unverified": L(" [not verified]", "［未核实］")}.get(
                ref.quality, "")
            basis = L(" (K1 only)", "（仅K1）") if ref.compares == "k1" else ""
            ax.axhline(ref.value_ug, color="#455a64", lw=1, ls=styles[i % len(styles)],
                       label=f"{who}{sexlab}: {ref.value_ug:g} µg{basis}{flag}")
        ax.set_ylabel(L("vitamin K eaten (µg/day)", "维生素K摄入量（微克/天）"))
        ax.set_title(L("Vitamin K intake by form", "各形式维生素K摄入量"))
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, bbox_inches="tight")
        plt.close(fig)
    atomic_write(p, buf.getvalue())
    return p, warnings
