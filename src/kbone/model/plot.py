"""Plots of ``kbone pk`` results: median curves with 5–95 % bands (matplotlib, written atomically)."""

from __future__ import annotations

import io
from pathlib import Path

from kbone.errors import KboneInputError, Problem
from kbone.output import atomic_write

_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
_LABELS = {
    "concentration_nmol_l": ("plasma {form} (nmol/L)", "血浆 {form}（nmol/L）"),
    "ucoc_percent": ("%ucOC", "未羧化骨钙素比例 %ucOC"),
    "dp_ucmgp_pmol_l": ("dp-ucMGP (pmol/L)", "dp-ucMGP（pmol/L）"),
    "inr": ("INR", "INR"),
}


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    for f in font_manager.fontManager.ttflist:
        if any(k in f.name for k in ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "Source Han", "SimHei")):
            return f.name
    return None


def plot_result(result, path: str | Path, lang: str = "en") -> Path:
    """Write panels of the result's series to ``path`` (.png, .svg or .pdf)."""
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise KboneInputError(Problem(field="plot", reason=f"unknown plot format {path.suffix!r}",
                                      fix="name the file .png, .svg or .pdf"))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    use_zh = lang == "zh" and _cjk_font() is not None
    rc = {"font.family": [_cjk_font(), "DejaVu Sans"]} if use_zh else {}
    panels = ["concentration_nmol_l", "ucoc_percent", "dp_ucmgp_pmol_l", "inr"]
    if result.warfarin_mg is None and result.target_inr is None:
        panels = panels[:3]
    t_days = [t / 24.0 for t in result.time_h]
    with matplotlib.rc_context(rc):
        fig, axes = plt.subplots(len(panels), 1, figsize=(7.5, 2.4 * len(panels)), sharex=True)
        for ax, key in zip(axes, panels, strict=True):
            s = result.series[key]
            en, zh = _LABELS[key]
            label = (zh if use_zh else en).format(form=result.form)
            if result.n > 1:
                ax.fill_between(t_days, s["p5"], s["p95"], alpha=0.25, color="tab:blue",
                                label="5–95 %" if not use_zh else "5–95 % 区间")
            ax.plot(t_days, s["median"], color="tab:blue", lw=1.5,
                    label=("median" if not use_zh else "中位数") if result.n > 1 else None)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            if result.n > 1:
                ax.legend(loc="best", fontsize=8)
        axes[-1].set_xlabel("天 days" if use_zh else "days")
        dose = f"{result.dose_ug:g} µg" if result.dose_ug else "event table"
        every = f" every {result.every_h:g} h" if result.every_h else ""
        title = f"{result.form} {dose}{every}, n = {result.n}"
        if result.warfarin_mg:
            title += f", warfarin {result.warfarin_mg:g} mg/day"
        elif result.target_inr:
            title += f", warfarin titrated to INR {result.target_inr:g}"
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=120)
        plt.close(fig)
    return atomic_write(path, buf.getvalue())
