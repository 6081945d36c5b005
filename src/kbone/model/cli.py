"""Command-line face of kbone.model: ``kbone pk`` (dose → plasma → carboxylation, INR under warfarin)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Annotated

import typer

from kbone.errors import KboneInputError, Problem
from kbone.i18n import norm_lang, pick
from kbone.output import console, emit_json

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
LangOpt = Annotated[str | None, typer.Option("--lang", help="zh or en (default: KBONE_LANG or locale).")]


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root kbone app."""
    app.command("pk")(pk_cmd)


def _parse_intake(text: str | None) -> dict[str, float] | None:
    """``K1=80,MK-7=2`` → {form: µg/day}."""
    if not text:
        return None
    out: dict[str, float] = {}
    for part in text.split(","):
        if "=" not in part:
            raise KboneInputError(Problem(field="intake", reason=f"cannot read {part!r}",
                                          fix="write habitual intakes as K1=80,MK-7=2 (µg/day)"))
        k, v = part.split("=", 1)
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise KboneInputError(Problem(field="intake", reason=f"{v!r} is not a number",
                                          fix="write habitual intakes as K1=80,MK-7=2 (µg/day)")) from None
    return out


def _read_diet(path: Path) -> dict[str, list[float]]:
    """CSV with one row per day and a column per form (µg/day), e.g. ``day,K1,MK-7``."""
    if not path.exists():
        raise KboneInputError(Problem(field="diet", reason=f"file {path} not found", file=str(path),
                                      fix="give a CSV with one row per day and columns K1, MK-4, MK-7 (µg/day)"))
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise KboneInputError(Problem(field="diet", file=str(path), reason="no rows",
                                      fix="one row per day with columns K1, MK-4, MK-7 (µg/day)"))
    out: dict[str, list[float]] = {}
    for i, row in enumerate(rows, start=2):
        for k, v in row.items():
            if k is None or k.strip().lower() in ("day", "date", ""):
                continue
            try:
                out.setdefault(k.strip(), []).append(float(v))
            except (TypeError, ValueError):
                raise KboneInputError(Problem(field=k, file=str(path), line=i, reason=f"{v!r} is not a number",
                                              fix="give the intake in µg/day")) from None
    return out


def pk_cmd(
    form: Annotated[str, typer.Option("--form", help="Vitamin K form: K1, MK-4, MK-7 (any name, zh or en).")] = "MK-7",
    dose: Annotated[str | None, typer.Option("--dose", help="Amount per dose, e.g. 180ug or 1mg.")] = None,
    every: Annotated[str | None, typer.Option("--every", help="Dosing interval, e.g. 24h. Without it: one dose.")] = None,
    days: Annotated[float | None, typer.Option("--days", help="Days to simulate (default 90 with --every, else 4).")] = None,
    fat: Annotated[str | None, typer.Option("--fat", help="Fat eaten with each dose, e.g. 20g (default 20 g meal).")] = None,
    events: Annotated[Path | None, typer.Option("--events", help="CSV event table: TIME,AMT[,CMT,ADDL,II,EVID,RATE,FORM,FAT] (h, µg).")] = None,
    warfarin: Annotated[str | None, typer.Option("--warfarin", help="Daily warfarin dose, e.g. 5mg (on stable therapy from day 0).")] = None,
    target_inr: Annotated[float | None, typer.Option("--target-inr", help="Instead of --warfarin: titrate each subject to this INR.")] = None,
    vkorc1: Annotated[str | None, typer.Option("--vkorc1", help="VKORC1 -1639 genotype: GG, AG, AA.")] = None,
    cyp2c9: Annotated[str | None, typer.Option("--cyp2c9", help="CYP2C9 genotype, e.g. '*1/*1', '*1/*3'.")] = None,
    age: Annotated[float | None, typer.Option("--age", help="Age in years (default: sampled / typical).")] = None,
    sex: Annotated[str | None, typer.Option("--sex", help="female or male.")] = None,
    weight: Annotated[float | None, typer.Option("--weight", help="Body weight in kg.")] = None,
    intake: Annotated[str | None, typer.Option("--intake", help="Habitual intake, e.g. K1=80,MK-7=2 (µg/day).")] = None,
    diet: Annotated[Path | None, typer.Option("--diet", help="CSV of daily intakes (columns K1, MK-4, MK-7; µg/day), repeated.")] = None,
    n: Annotated[int, typer.Option("--n", help="Virtual subjects (1 = typical subject).")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the virtual population.")] = 0,
    population: Annotated[str, typer.Option("--population", help="Profile: general, european, han_chinese.")] = "general",
    step: Annotated[str | None, typer.Option("--step", help="Output time step, e.g. 1h (default chosen from --days).")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write curves with 5-95 % bands (.png/.svg/.pdf).")] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """Vitamin K dose → plasma level → carboxylation (ucOC, MGP), and INR under warfarin.
    / 维生素K剂量 → 血药浓度 → 羧化（ucOC、MGP），以及华法林下的INR。"""
    from kbone.model.api import simulate
    from kbone.model.events import EventTable, parse_quantity

    lang = norm_lang(lang)
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise KboneInputError(Problem(field="plot", reason=f"unknown plot format {plot.suffix!r}",
                                      fix="name the file .png, .svg or .pdf"))
    if plot is not None and not plot.parent.exists():
        raise KboneInputError(Problem(field="plot", reason=f"folder {plot.parent} does not exist",
                                      fix="create the folder or choose another path"))
    step_h = None if step is None else parse_quantity(step, field="step", default_unit="h", dimension="time")
    table = EventTable.from_csv(events) if events is not None else None
    res = simulate(form, dose, every=every, days=days, fat=fat, events=table,
                   diet=_read_diet(diet) if diet else None, warfarin=warfarin, target_inr=target_inr, n=n,
                   seed=seed, population=population, age=age, sex=sex, weight=weight, cyp2c9=cyp2c9,
                   vkorc1=vkorc1, intake=_parse_intake(intake), step_h=step_h)
    if plot is not None:
        from kbone.model.plot import plot_result

        plot_result(res, plot, lang)
    if as_json:
        emit_json(res.flat())
        return
    _print(res, lang, plot)


def _band(b: dict, nd: int = 2, pct: bool = False) -> str:
    f = (lambda x: f"{100 * x:+.{max(nd - 2, 0)}f} %") if pct else (lambda x: f"{x:.{nd}f}")
    if abs(b["p95"] - b["p5"]) < 1e-9:
        return f(b["median"])
    return f"{f(b['median'])} [{f(b['p5'])}, {f(b['p95'])}]"


def _print(res, lang: str, plot: Path | None) -> None:
    from rich.table import Table

    warf = res.warfarin_mg is not None or res.target_inr is not None
    if warf:
        console.print(pick(
            "[bold red]⚠ Anticoagulant safety:[/] vitamin K lowers the effect of warfarin and other vitamin K "
            "antagonists. These are model estimates for information only — do not change intake or dose "
            "without the treating clinician; the INR must be monitored.",
            "[bold red]⚠ 抗凝安全提示：[/]维生素K会减弱华法林等维生素K拮抗剂的作用。以下为模型估算，仅供参考——"
            "未经主治医生同意请勿改变维生素K摄入或药物剂量；必须监测INR。", lang))
    else:
        console.print(pick("[yellow]Note:[/] anyone taking warfarin or another vitamin K antagonist should not start "
                           "vitamin K supplements without their clinician (try --warfarin or --target-inr).",
                           "[yellow]提示：[/]服用华法林等维生素K拮抗剂者，未经医生同意不应开始补充维生素K"
                           "（可用 --warfarin 或 --target-inr 模拟）。", lang))
    dose = f"{res.dose_ug:g} µg" if res.dose_ug else pick("event table", "给药事件表", lang)
    every = pick(f" every {res.every_h:g} h", f"，每 {res.every_h:g} 小时", lang) if res.every_h else \
        pick(" once", "，单次", lang) if res.dose_ug else ""
    pop = pick(f"typical subject ({res.population})", f"典型个体（{res.population}）", lang) if res.n == 1 else \
        pick(f"{res.n} virtual subjects ({res.population}, seed {res.seed}); median [5 %, 95 %]",
             f"{res.n} 名虚拟受试者（{res.population}，种子 {res.seed}）；中位数 [5%，95%]", lang)
    console.print(f"[bold]{res.form} {dose}{every}, {res.days:g} {pick('days', '天', lang)}[/] — {pop}")
    t = Table(show_header=True, header_style="bold")
    t.add_column(pick("output", "指标", lang))
    t.add_column(pick("baseline", "基线", lang))
    t.add_column(pick("peak", "峰值", lang))
    t.add_column(pick("mean, last day", "末日均值", lang))
    t.add_column(pick("change at end", "终末变化", lang))
    s = res.summary
    c = s["concentration_nmol_l"]
    at = "" if res.every_h else pick(f" at {c['tmax_h']['median']:.1f} h", f"（{c['tmax_h']['median']:.1f} 小时）", lang)
    t.add_row(pick(f"plasma {res.form} (nmol/L)", f"血浆{res.form}（nmol/L）", lang), _band(c["baseline"], 3),
              _band(c["peak"], 3) + at, _band(c["mean_last_day"], 3), "")
    for key, en, zh in (("ucoc_percent", "%ucOC", "未羧化骨钙素 %ucOC"),
                        ("ucoc_coc_ratio", "ucOC/cOC", "ucOC/cOC 比值"),
                        ("dp_ucmgp_pmol_l", "dp-ucMGP (pmol/L)", "dp-ucMGP（pmol/L）"),
                        ("inr", "INR", "INR")):
        if key not in s:
            continue
        r = s[key]
        change = _band(r["change_end"], 2) if key == "inr" else _band(r["relative_change_end"], 3, pct=True)
        t.add_row(pick(en, zh, lang), _band(r["baseline"], 2), "", _band(r["mean_last_day"], 2), change)
    console.print(t)
    if res.warfarin_dose_mg is not None:
        b = res.warfarin_dose_mg.model_dump()
        console.print(pick(f"warfarin dose: {_band(b, 2)} mg/day", f"华法林剂量：{_band(b, 2)} 毫克/天", lang))
    console.print(pick("[dim]Assumptions (marked in the model data):[/]", "[dim]假设（模型数据中已标注）：[/]", lang))
    for a in res.assumptions[:8]:
        console.print(f"[dim]  • {_zh_line(a) if lang == 'zh' else a}[/]", markup=True, highlight=False)
    if len(res.assumptions) > 8:
        console.print(pick(f"[dim]  … {len(res.assumptions) - 8} more (see --json)[/]",
                           f"[dim]  ……另有 {len(res.assumptions) - 8} 条（见 --json）[/]", lang))
    if res.tensions:
        console.print(pick("[dim]Tensions between published figures (model fit residuals, |z| > 2):[/]",
                           "[dim]文献数据之间的矛盾（拟合残差 |z| > 2）：[/]", lang))
        for tline in res.tensions:
            console.print(f"[dim]  • {_zh_line(tline) if lang == 'zh' else tline}[/]")
    if plot is not None:
        console.print(pick(f"plot written to {plot}", f"图已写入 {plot}", lang))


_ZH_LINES = {
    "no vitamin K antagonist: INR stays at the pre-treatment baseline": "未用维生素K拮抗剂：INR保持治疗前基线",
    "dose taken with a meal of 20 g fat (reference meal; give --fat to change)":
        "随含20克脂肪的餐服用（参考餐；用 --fat 修改）",
}


def _zh_line(line: str) -> str:
    """A Chinese line for a model assumption or tension (parameter notes are English prose in the data:
    the line names the parameter and says where the note is)."""
    if line in _ZH_LINES:
        return _ZH_LINES[line]
    m = re.match(r"^(\w[\w-]*: )observed (.+), model (.+) \(z = (.+)\)$", line)
    if m:
        return f"{m.group(1)}观察值 {m.group(2)}，模型 {m.group(3)}（z = {m.group(4)}）"
    m = re.match(r"^([\w-]+\.\w+): ", line)
    if m:
        return f"{m.group(1)}：假设值（依据说明为英文，见 --json）"
    return line
