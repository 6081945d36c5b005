"""``kbone trial …``: virtual trials from the bone-outcome MBMA — simulate, power, schema, validate."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kbone.errors import KboneInputError, Problem
from kbone.i18n import norm_lang, pick
from kbone.output import atomic_write, console, emit_json
from kbone.vocab import vocab

trial_app = typer.Typer(no_args_is_help=True,
                        help="Virtual trials from the bone-outcome model / 虚拟试验：骨密度与骨折的模型化荟萃分析。")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
LangOpt = Annotated[str | None, typer.Option("--lang", help="zh or en (default: KBONE_LANG or locale).")]
DesignArg = Annotated[Path, typer.Argument(metavar="DESIGN.yaml", help="Trial design (see `kbone trial schema`).")]
ExcludeOpt = Annotated[list[str] | None, typer.Option("--exclude-study", help="Refit without this record id (repeatable).")]
FlaggedOpt = Annotated[bool, typer.Option("--include-flagged", help="Also fit integrity-flagged trials.")]
RetractedOpt = Annotated[bool, typer.Option("--include-retracted", help="Also fit retracted trials.")]
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="Write a PNG plot to this file.")]


def register(app: typer.Typer) -> None:
    app.add_typer(trial_app, name="trial")


def _check_plot(path: Path | None) -> None:
    if path is not None and path.suffix.lower() != ".png":
        raise KboneInputError(Problem(field="--plot", reason=f"{path.name}: only PNG plots are written",
                                      fix="give a file name ending in .png"))
    if path is not None and not path.parent.exists():
        raise KboneInputError(Problem(field="--plot", reason=f"folder {path.parent} does not exist",
                                      fix="create the folder or choose another path"))


def fit_for_trials(exclude: list[str] | None, include_flagged: bool, include_retracted: bool):
    """(records, MBMA fit) as ``kbone trial`` fits them (the web's trial page uses the same)."""
    from kbone.evidence.loader import load_records
    from kbone.model.mbma.fit import fit_mbma

    records = load_records()
    ids = {r.id for r in records}
    for rid in exclude or []:
        if rid not in ids:
            from rapidfuzz import process

            sugg = [m[0] for m in process.extract(rid, sorted(ids), limit=3)]
            raise KboneInputError(Problem(field="--exclude-study", reason=f"no evidence record {rid!r}",
                                          fix="give a record id (kbone evidence list)", suggestions=sugg))
    return records, fit_mbma(records, exclude=exclude or [], include_flagged=include_flagged,
                             include_retracted=include_retracted)


def _backend(value: str) -> str:
    if value not in ("inprocess", "dask"):
        raise KboneInputError(Problem(field="--backend", reason=f"unknown backend {value!r}", fix="use inprocess or dask"))
    return value


def _fmt(x: float | None, nd: int = 2) -> str:
    return "—" if x is None else f"{x:.{nd}f}"


def _print_result(res, lang: str) -> None:
    bmd = res.outcome == "bmd"
    t = Table(title=f"{res.design}", show_header=True)
    t.add_column(pick("quantity", "指标", lang))
    t.add_column(pick("value", "数值", lang))
    term = vocab().resolve("outcome", f"bmd_{res.site}") if bmd else vocab().resolve("outcome", res.outcome)
    en_o, zh_o = (term.en, term.zh) if term else (res.site if bmd else res.outcome,) * 2
    what = (pick(f"{en_o}: % change, vitamin K − control (percentage points)",
                 f"{zh_o}变化率差值（维生素K − 对照，百分点）", lang) if bmd
            else pick(f"{en_o}: risk ratio, vitamin K vs control", f"{zh_o}：风险比（维生素K vs 对照）", lang))
    t.add_row(pick("outcome", "结局", lang), what)
    t.add_row(pick("predicted effect", "预测效应", lang), _fmt(res.effect))
    t.add_row(pick("95% prediction interval (observed, this n)", "95%预测区间（本样本量下的观测值）", lang),
              f"{_fmt(res.pi_lower)} … {_fmt(res.pi_upper)}")
    t.add_row(pick("95% PI of the trial's true mean", "试验真实均值的95%预测区间", lang),
              f"{_fmt(res.mean_pi_lower)} … {_fmt(res.mean_pi_upper)}")
    if bmd:
        t.add_row(pick("control arm change (natural loss)", "对照组变化（自然骨量丢失）", lang),
                  f"{_fmt(res.control_change)} % ({_fmt(res.natural_loss_percent_per_year)} "
                  f"{pick('%/yr', '%/年', lang)})")
        src = res.sd_source or ""
        if lang == "zh":
            src = re.sub(r"^median per-arm SD of (\d+) trial\(s\)", r"\1 项试验的每组标准差中位数", src)
        t.add_row(pick("per-arm SD of % change", "每组变化率标准差", lang), f"{_fmt(res.sd_percent)} ({src})")
    t.add_row(pick("n per arm (completers)", "每组人数（完成者）", lang), f"{res.n_per_arm} ({res.n_completers_per_arm:.0f})")
    t.add_row(pick("power at the predicted mean", "按预测均值的检验效能", lang), f"{res.power:.1%}")
    t.add_row(pick("assurance (over the prediction)", "保证概率（计入预测不确定性）", lang), f"{res.assurance:.1%}")
    if res.target is not None:
        t.add_row(pick(f"n per arm for {res.target:.0%} power", f"达到{res.target:.0%}效能的每组人数", lang),
                  str(res.n_for_target) if res.n_for_target else pick("not reachable", "无法达到", lang))
        t.add_row(pick(f"n per arm for {res.target:.0%} assurance", f"达到{res.target:.0%}保证概率的每组人数", lang),
                  str(res.n_for_target_assurance) if res.n_for_target_assurance else pick("not reachable", "无法达到", lang))
    if res.simulated:
        s = res.simulated
        t.add_row(pick("simulated replicates (success rate)", "模拟重复（成功率）", lang),
                  f"{s.replicates} · {s.success_rate:.1%} ± {s.success_mc_se:.1%} ({s.backend}, seed {s.seed})")
    t.add_row(pick("exposure (fall in ucOC)", "暴露（ucOC下降比例）", lang), f"{res.exposure:.2f} ({res.exposure_method})")
    t.add_row(pick("trials fitted", "纳入拟合的试验", lang), ", ".join(res.trials_used))
    console.print(t)
    for w in res.warnings:
        console.print(f"[yellow]{pick('warning', '警告', lang)}: {w}[/]")
    if res.target_note:
        console.print(f"[yellow]{res.target_note}[/]")
    if res.assumptions:
        console.print(pick("Assumptions used:", "所用假设：", lang))
        for a in res.assumptions:
            console.print(f"  • {a}", markup=False)
    console.print(pick("Model output informs trial planning; it is not a treatment recommendation.",
                       "模型结果仅供试验设计参考，不构成治疗建议。", lang))


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def _simulate_plot(res, sims, bmd: bool) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    obs = sims[0] if bmd else np.exp(sims[0])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.hist(obs, bins=50, color="tab:blue", alpha=0.7)
    for x, ls in ((res.effect, "-"), (res.pi_lower, "--"), (res.pi_upper, "--")):
        ax.axvline(x, color="k", ls=ls, lw=1)
    ax.set_xlabel("observed effect (percentage points)" if bmd else "observed risk ratio")
    ax.set_ylabel("replicates")
    ax.set_title(f"{res.design}: {len(obs)} simulated trials; success {res.simulated.success_rate:.1%}", fontsize=9)
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


def power_curve_png(res) -> bytes:
    """The power curve of a :class:`~kbone.model.trial.TrialResult` as PNG bytes (CLI ``--plot`` and web)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [p.n_per_arm for p in res.power_curve]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(ns, [p.power for p in res.power_curve], label="power at the predicted mean effect")
    ax.plot(ns, [p.assurance for p in res.power_curve], label="assurance (over the prediction)")
    if res.target:
        ax.axhline(res.target, color="grey", ls=":", lw=1)
    if res.n_for_target:
        ax.axvline(res.n_for_target, color="tab:blue", ls="--", lw=1, label=f"n = {res.n_for_target} per arm")
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("participants randomised per arm")
    ax.set_ylabel("probability of a significant benefit")
    ax.set_title(res.design, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


@trial_app.command("simulate")
def simulate_cmd(
    design: DesignArg,
    replicates: Annotated[int, typer.Option("--replicates", help="Simulated trials.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same result on every backend).")] = 20240501,
    exclude_study: ExcludeOpt = None, include_flagged: FlaggedOpt = False, include_retracted: RetractedOpt = False,
    backend: Annotated[str, typer.Option("--backend", help="inprocess or dask (a local Dask cluster).")] = "inprocess",
    as_json: JsonOpt = False, plot: PlotOpt = None, lang: LangOpt = None,
) -> None:
    """Predict a design's effect with its 95 % PI and simulate replicate trials. / 预测试验效应并模拟重复试验。"""
    from kbone.model import trial

    lang = norm_lang(lang)
    backend = _backend(backend)
    _check_plot(plot)
    if replicates <= 0 or replicates > 10_000_000:
        raise KboneInputError(Problem(field="--replicates", reason=f"{replicates} is not in 1 … 10,000,000",
                                      fix="e.g. --replicates 1000"))
    d = trial.load_design(design)
    records, fit = fit_for_trials(exclude_study, include_flagged, include_retracted)
    pred = trial.predict(fit, d, records)
    sim, sims = trial.simulate(pred, replicates, seed, backend)
    res = trial.result(fit, pred, simulated=sim)
    if plot is not None:
        atomic_write(plot, _simulate_plot(res, sims, d.is_bmd))
    if as_json:
        emit_json(res)
        return
    _print_result(res, lang)


@trial_app.command("power")
def power_cmd(
    design: DesignArg,
    target: Annotated[float, typer.Option("--target", help="Target power, e.g. 0.8.")] = 0.8,
    exclude_study: ExcludeOpt = None, include_flagged: FlaggedOpt = False, include_retracted: RetractedOpt = False,
    as_json: JsonOpt = False, plot: PlotOpt = None, lang: LangOpt = None,
) -> None:
    """n per arm for a target power, and the power curve. / 计算达到目标检验效能所需样本量及效能曲线。"""
    from kbone.model import trial

    lang = norm_lang(lang)
    _check_plot(plot)
    if not 0 < target < 1:
        raise KboneInputError(Problem(field="--target", reason=f"{target} is not a probability in (0, 1)", fix="e.g. --target 0.8"))
    d = trial.load_design(design)
    records, fit = fit_for_trials(exclude_study, include_flagged, include_retracted)
    pred = trial.predict(fit, d, records)
    res = trial.result(fit, pred, target=target, curve=True)
    if plot is not None:
        atomic_write(plot, power_curve_png(res))
    if as_json:
        emit_json(res)
        return
    _print_result(res, lang)


@trial_app.command("schema")
def schema_cmd(as_json: JsonOpt = False, lang: LangOpt = None) -> None:
    """Print the design file's JSON Schema. / 打印试验设计文件的 JSON Schema。"""
    from kbone.model.trial import design_schema

    norm_lang(lang)
    print(json.dumps(design_schema(), ensure_ascii=False, indent=2))


@trial_app.command("validate")
def validate_cmd(
    include_flagged: FlaggedOpt = False, include_retracted: RetractedOpt = False,
    as_json: JsonOpt = False, plot: PlotOpt = None, lang: LangOpt = None,
) -> None:
    """Leave-one-trial-out validation: observed vs predicted, coverage, RMSE. / 留一试验交叉验证。"""
    from kbone.model.validate import calibration_plot, loo

    lang = norm_lang(lang)
    _check_plot(plot)
    rep = loo(include_flagged=include_flagged, include_retracted=include_retracted)
    if plot is not None:
        atomic_write(plot, calibration_plot(rep))
    if as_json:
        emit_json(rep)
        return
    t = Table(title=pick("Leave-one-trial-out validation", "留一试验交叉验证", lang))
    for h in (pick("trial", "试验", lang), pick("site / outcome", "部位/结局", lang), pick("weeks", "周", lang),
              pick("observed", "观测", lang), pick("predicted", "预测", lang), "95% PI", pick("inside", "覆盖", lang)):
        t.add_column(h)
    for r in rep.rows:
        t.add_row(r.record, r.site, f"{r.t_weeks:g}", f"{r.observed:.2f}", f"{r.predicted:.2f}",
                  f"{r.pi_lower:.2f} … {r.pi_upper:.2f}", "✓" if r.inside else "✗")
    console.print(t)
    console.print(pick(f"Lumbar spine: 95% PI coverage {_pct(rep.coverage_lumbar_spine)} (target ≥ 90%), "
                       f"median PI width {_fmt(rep.median_pi_width_lumbar_spine)} points (target ≤ 3), "
                       f"RMSE {_fmt(rep.rmse_lumbar_spine)}; all results: coverage {_pct(rep.coverage_all)}.",
                       f"腰椎：95%预测区间覆盖率 {_pct(rep.coverage_lumbar_spine)}（目标 ≥ 90%），"
                       f"区间宽度中位数 {_fmt(rep.median_pi_width_lumbar_spine)} 个百分点（目标 ≤ 3），"
                       f"RMSE {_fmt(rep.rmse_lumbar_spine)}；全部结果覆盖率 {_pct(rep.coverage_all)}。", lang))
    for n in rep.notes:
        console.print(f"[yellow]{n}[/]")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"
