"""The model's Python API for the other parts of kbone (MBMA, assessment, web) and the CLI.

Functions (all inputs validated; bad input raises :class:`kbone.errors.KboneInputError`):

``simulate(form, dose, *, every=None, days=None, fat=None, events=None, diet=None, warfarin=None,
target_inr=None, n=1, seed=0, population="general", age=None, sex=None, weight=None, cyp2c9=None,
vkorc1=None, intake=None, step_h=None) -> PKResult``
    Time courses of plasma concentration (nmol/L), %ucOC, ucOC/cOC, ucOC (ng/mL), dp-ucMGP (pmol/L)
    and INR, with median and 5–95 % bands over a virtual population (``n`` > 1) — what ``kbone pk`` prints.

``steady_state_carboxylation(form, dose_ug_per_day, *, fat_g=None, baseline_intake=None, every_h=24,
population="general", n=200, seed=0) -> CarboxylationResult``
    One exposure scale for all forms (issue 5, MBMA): the supplement's added extrahepatic vitamin K
    activity in K1-equivalent nmol/L, and the predicted relative change at steady state in ucOC
    (= %ucOC, total OC held constant), the ucOC/cOC ratio and dp-ucMGP, each as median and 5–95 %
    between-subject band. ``baseline_intake`` maps form → habitual µg/day (default: profile medians).

``estimate_status(intake, *, population="general", age=None, sex=None, weight=None, n=400, seed=0)
-> StatusResult``
    A person's expected plasma K1/MK-4/MK-7, %ucOC, ucOC and dp-ucMGP from habitual intake
    (form → µg/day, e.g. from ``kbone.diet``), with the 5–95 % range expected between people.

``inr_sensitivity(delta_ug_per_day, form="K1", *, source="food", baseline_intake=None,
target_inr=2.5, warfarin_mg=None, vkorc1=None, cyp2c9=None, age=None, weight=None, n=400, seed=0)
-> INRSensitivityResult``
    For a VKA user stabilised at ``target_inr`` (or on ``warfarin_mg`` daily): the steady-state INR
    change when daily intake of ``form`` changes by ``delta_ug_per_day`` (negative = less), the share
    of patients with a fall or rise ≥ 0.3 (or ≥ 0.5), and the days to 90 % of the new steady state.

Uncertainty shown is between-subject variability (virtual population); parameter uncertainty of
the fitted model is not propagated (see ``fitted.yaml`` residuals and tensions).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from kbone.errors import KboneInputError, Problem
from kbone.model.events import EventTable, parse_quantity
from kbone.model.library import FORMS, fitted, form_key, resolve_form, spec
from kbone.model.pd import Carboxylation
from kbone.model.pk import MAX_DOSE_UG, FormPK
from kbone.model.population import Population, make_population
from kbone.model.scenario import Scenario, run, summarise
from kbone.model.warfarin import WarfarinModel

RELEVANT_INR_CHANGE = 0.5   # assumption: 'clinically relevant' INR change (no numeric definition in the sources)


class Band(BaseModel):
    """Median and 5–95 % range over subjects."""

    median: float
    p5: float
    p95: float

    @classmethod
    def of(cls, x) -> Band:
        x = np.asarray(x, dtype=float).ravel()
        p = np.percentile(x, [5, 50, 95])
        return cls(median=float(p[1]), p5=float(p[0]), p95=float(p[2]))


class PKResult(BaseModel):
    form: str
    dose_ug: float | None
    every_h: float | None
    days: float
    fat_g: float | None
    n: int
    seed: int | None
    population: str
    warfarin_mg: float | None = None
    target_inr: float | None = None
    time_h: list[float]
    series: dict[str, dict[str, list[float]]] = Field(description="output → {median, p5, p95} arrays")
    summary: dict[str, dict[str, Any]]
    warfarin_dose_mg: Band | None = None
    assumptions: list[str] = Field(default_factory=list)
    tensions: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)

    def flat(self) -> dict[str, Any]:
        """JSON layout of ``kbone pk --json``: ``time_h`` and each output as equal-length arrays
        (``<output>`` = median, ``<output>_p5`` / ``<output>_p95`` = band when n > 1)."""
        d = self.model_dump(exclude={"series"})
        for k, v in self.series.items():
            d[k] = v["median"]
            if self.n > 1:
                d[f"{k}_p5"] = v["p5"]
                d[f"{k}_p95"] = v["p95"]
        return d


class CarboxylationResult(BaseModel):
    form: str
    dose_ug_per_day: float
    fat_g: float | None
    baseline_intake_ug_per_day: dict[str, float]
    exposure_k1eq_nmol_l: Band = Field(description="added extrahepatic vitamin K activity, K1-equivalent nmol/L")
    plasma_increase_nmol_l: Band
    ucoc_percent_baseline: Band
    ucoc_percent_on: Band
    ucoc_relative_change: Band = Field(description="fractional change of ucOC (= %ucOC), e.g. -0.6")
    ucoc_fraction_fall: float = Field(description="median fractional fall of ucOC (0..1), the MBMA exposure scale")
    ucoc_coc_ratio_relative_change: Band
    dp_ucmgp_relative_change: Band
    n: int
    notes: list[str] = Field(default_factory=list)


class StatusResult(BaseModel):
    intake_ug_per_day: dict[str, float]
    plasma_nmol_l: dict[str, Band]
    ucoc_percent: Band
    ucoc_ng_ml: Band
    ucoc_coc_ratio: Band
    dp_ucmgp_pmol_l: Band
    n: int
    notes: list[str] = Field(default_factory=list)


class INRSensitivityResult(BaseModel):
    form: str
    source: str
    delta_ug_per_day: float
    baseline_inr: Band
    new_inr: Band
    delta_inr: Band
    fraction_fall_ge_0_3: float
    fraction_fall_ge_0_5: float
    fraction_rise_ge_0_3: float
    days_to_90pct: float | None
    warfarin_dose_mg: Band
    n: int
    notes: list[str] = Field(default_factory=list)


# ---- helpers ------------------------------------------------------------------------------------
def _pop(n, seed, population, **cov) -> Population:
    typical = n == 1
    return make_population(n, seed=seed, profile=population, typical=typical, **cov)


def model_tensions() -> list[str]:
    return list(fitted().get("tensions") or [])


def model_assumptions(forms: list[str], warfarin: bool) -> list[str]:
    names = [f"pk_{f}" for f in forms] + ["pd_carboxylation"] + (["warfarin_pk", "inr"] if warfarin else [])
    out = []
    for nm in names:
        for k, p in spec(nm).parameters.items():
            if p.assumption:
                out.append(f"{nm}.{k}: {p.note or 'assumed value'}")
    return out


def _check_dose(form: str, ug: float, field: str = "dose") -> float:
    if not np.isfinite(ug) or ug <= 0:
        raise KboneInputError(Problem(field=field, reason=f"dose {ug:g} µg is not positive",
                                      fix="give a positive dose such as 180ug or 1mg"))
    if ug > MAX_DOSE_UG[form]:
        raise KboneInputError(Problem(field=field, reason=f"{ug:g} µg {form} per dose is implausibly large "
                                                          f"(> {MAX_DOSE_UG[form]:g} µg)",
                                      fix="check the unit (ug vs mg)"))
    return ug


def _baseline(baseline_intake, population) -> dict[str, float] | None:
    if baseline_intake is None:
        return None
    if isinstance(baseline_intake, (int, float)):
        return {"K1": float(baseline_intake)}
    return {resolve_form(k, field="baseline_intake"): float(v) for k, v in baseline_intake.items()}


# ---- simulate (CLI) ---------------------------------------------------------------------------------
def simulate(form: str = "MK-7", dose: str | float | None = None, *, every: str | float | None = None,
             days: float | None = None, fat: str | float | None = None, events: EventTable | str | None = None,
             diet: dict[str, Any] | None = None, warfarin: str | float | None = None,
             target_inr: float | None = None, n: int = 1, seed: int | None = 0, population: str = "general",
             age: float | None = None, sex: str | None = None, weight: float | None = None,
             cyp2c9: str | None = None, vkorc1: str | None = None, intake: dict[str, float] | None = None,
             step_h: float | None = None) -> PKResult:
    """Time course for one subject (n = 1, typical values) or a virtual population (median, 5–95 %)."""
    form = resolve_form(form)
    dose_ug = None if dose is None else _check_dose(form, parse_quantity(dose, field="dose", default_unit="ug",
                                                                         dimension="mass"))
    every_h = None if every is None else parse_quantity(every, field="every", default_unit="h", dimension="time")
    if every_h is not None and not every_h > 0:
        raise KboneInputError(Problem(field="every", reason="the dosing interval must be greater than 0",
                                      fix="give an interval such as 24h"))
    fat_g = None if fat is None else parse_quantity(fat, field="fat", default_unit="g", dimension="mass")
    if fat_g is not None and not 0 <= fat_g <= 300:
        raise KboneInputError(Problem(field="fat", reason=f"{fat_g:g} g of fat is outside 0-300 g", fix="e.g. --fat 20g"))
    warf_mg = None if warfarin is None else parse_quantity(warfarin, field="warfarin", default_unit="mg",
                                                           dimension="mass")
    if warf_mg is not None and not warf_mg > 0:
        raise KboneInputError(Problem(field="warfarin", reason="the warfarin dose must be greater than 0",
                                      fix="give the daily dose, e.g. --warfarin 5mg"))
    if isinstance(events, str):
        events = EventTable.from_csv(events)
    if events is None and dose_ug is None:
        raise KboneInputError(Problem(field="dose", reason="no dose given", fix="give --dose (e.g. 180ug) or --events FILE"))
    if events is not None and dose_ug is not None:
        raise KboneInputError(Problem(field="events", reason="give either --dose/--every or an event table, not both",
                                      fix="drop --dose or --events"))
    if days is None:
        days = 90.0 if (every_h is not None or events is not None) else 4.0
        if events is not None:
            days = max(4.0, float(np.ceil(events.end_time() / 24.0 + 3)))
    if every_h is not None and every_h > days * 24:
        raise KboneInputError(Problem(field="every", reason="the dosing interval is longer than the simulation",
                                      fix="lengthen --days or shorten --every"))
    if events is None:
        events = EventTable.regular(dose_ug, every_h=every_h, duration_h=days * 24.0)
    pop = _pop(n, seed, population, age=age, sex=sex, weight=weight, cyp2c9=cyp2c9, vkorc1=vkorc1, intake=intake)
    diet_series = None
    if diet:
        diet_series = {resolve_form(k, field="diet"): np.atleast_1d(np.asarray(v, dtype=float)) for k, v in diet.items()}
    sc = Scenario(form=form, events=events, fat_g=fat_g, days=float(days), diet=diet_series, warfarin_mg=warf_mg,
                  target_inr=target_inr, output_step_h=step_h)
    out = run(sc, pop)

    series: dict[str, dict[str, list[float]]] = {}
    conc = out.concentration[form]

    def put(name, arr):
        s = summarise(arr)
        series[name] = {k: [float(x) for x in v] for k, v in s.items()}

    put("concentration_nmol_l", conc)
    put("ucoc_percent", out.markers["ucoc_percent"])
    put("ucoc_coc_ratio", out.markers["ucoc_coc_ratio"])
    put("ucoc_ng_ml", out.markers["ucoc_ng_ml"])
    put("dp_ucmgp_pmol_l", out.markers["dp_ucmgp_pmol_l"])
    warf = out.inr is not None
    if warf:
        put("inr", out.inr)
    else:
        inr_spec = spec("inr")
        base = pop.parameters(inr_spec)["BASE"]
        put("inr", np.broadcast_to(base[None, :], conc.shape))
    for f, c in out.concentration.items():
        if f != form:
            put(f"concentration_{form_key(f)}_nmol_l", c)

    t = out.time_h
    last_day = t >= t[-1] - 24.0

    def stats(arr, kind: str) -> dict[str, Any]:
        d = {"baseline": Band.of(arr[0]).model_dump(), "end": Band.of(arr[-1]).model_dump(),
             "mean_last_day": Band.of(arr[last_day].mean(axis=0)).model_dump()}
        if kind == "peak":
            d["peak"] = Band.of(arr.max(axis=0)).model_dump()
            d["tmax_h"] = Band.of(t[np.argmax(arr, axis=0)]).model_dump()
        else:
            d["relative_change_end"] = Band.of((arr[-1] - arr[0]) / arr[0]).model_dump()
        return d

    summary = {"concentration_nmol_l": stats(conc, "peak"),
               "ucoc_percent": stats(out.markers["ucoc_percent"], "change"),
               "ucoc_coc_ratio": stats(out.markers["ucoc_coc_ratio"], "change"),
               "dp_ucmgp_pmol_l": stats(out.markers["dp_ucmgp_pmol_l"], "change")}
    if warf:
        summary["inr"] = stats(out.inr, "change")
        summary["inr"]["change_end"] = Band.of(out.inr[-1] - out.inr[0]).model_dump()
    assumptions = model_assumptions(sorted(out.concentration), warf) + out.notes
    if fat_g is None:
        assumptions.insert(0, "dose taken with a meal of 20 g fat (reference meal; give --fat to change)")
    if not warf:
        assumptions.insert(0, "no vitamin K antagonist: INR stays at the pre-treatment baseline")
    sources = sorted({r for nm in [f"pk_{f}" for f in out.concentration] + ["pd_carboxylation"]
                      + (["warfarin_pk", "inr"] if warf else []) for r in spec(nm).references})
    return PKResult(form=form, dose_ug=dose_ug, every_h=every_h, days=float(days), fat_g=fat_g, n=pop.n, seed=seed,
                    population=population, warfarin_mg=warf_mg, target_inr=target_inr,
                    time_h=[float(x) for x in t], series=series, summary=summary,
                    warfarin_dose_mg=Band.of(out.warfarin_dose_mg) if warf else None,
                    assumptions=assumptions, tensions=model_tensions(), sources=sources)


# ---- steady states (MBMA / assessment) ------------------------------------------------------------
def _form_means(pop: Population, extra: dict[str, tuple[float, float, float | None]] | None = None,
                names=("concentration_nmol_l", "act_ext", "act_hep")) -> dict[str, dict[str, np.ndarray]]:
    """Per form: time-averaged outputs (n,) at steady state of habitual diet (+ extra supplement)."""
    out = {}
    for f in FORMS:
        pk = FormPK(f, pop)
        daily, every_h, fat = (extra or {}).get(f, (0.0, 24.0, None))
        out[f] = pk.mean_steady_state(daily, every_h=every_h, fat_g=fat, names=names)
    return out


def steady_state_carboxylation(form: str, dose_ug_per_day: float, *, fat_g: float | None = None,
                               baseline_intake: dict[str, float] | float | None = None, every_h: float = 24.0,
                               population: str = "general", n: int = 200, seed: int | None = 0) -> CarboxylationResult:
    """Predicted steady-state change in carboxylation markers for a daily supplement (see module docstring)."""
    form = resolve_form(form)
    dose = float(dose_ug_per_day)
    if not np.isfinite(dose) or dose < 0 or dose * every_h / 24.0 > MAX_DOSE_UG[form]:
        raise KboneInputError(Problem(field="dose_ug_per_day", reason=f"{dose_ug_per_day} µg/day is not a plausible dose",
                                      fix="give 0 < dose ≤ 50000 µg per intake"))
    if not every_h > 0:
        raise KboneInputError(Problem(field="every_h", reason="interval must be > 0", fix="use 24"))
    base = _baseline(baseline_intake, population)
    pop = _pop(n, seed, population, intake=base)
    off = _form_means(pop)
    on = _form_means(pop, {form: (dose, every_h, fat_g)})
    pd = Carboxylation(pop)
    act0 = sum(off[f]["act_ext"] for f in FORMS)
    act1 = sum(on[f]["act_ext"] for f in FORMS)
    m0 = pd.markers(act0[None, :])
    m1 = pd.markers(act1[None, :])
    rel = {k: (m1[k][0] - m0[k][0]) / m0[k][0] for k in m0}
    notes = ["uncertainty = between-subject variability; parameter uncertainty not propagated",
             "ucOC relative change equals the %ucOC change (total osteocalcin held constant)"]
    return CarboxylationResult(
        form=form, dose_ug_per_day=dose, fat_g=fat_g,
        baseline_intake_ug_per_day={f: float(np.median(pop.intake[f])) for f in FORMS},
        exposure_k1eq_nmol_l=Band.of(act1 - act0),
        plasma_increase_nmol_l=Band.of(on[form]["concentration_nmol_l"] - off[form]["concentration_nmol_l"]),
        ucoc_percent_baseline=Band.of(m0["ucoc_percent"]), ucoc_percent_on=Band.of(m1["ucoc_percent"]),
        ucoc_relative_change=Band.of(rel["ucoc_ng_ml"]),
        ucoc_fraction_fall=float(max(0.0, -np.median(rel["ucoc_ng_ml"]))), ucoc_coc_ratio_relative_change=Band.of(rel["ucoc_coc_ratio"]),
        dp_ucmgp_relative_change=Band.of(rel["dp_ucmgp_pmol_l"]), n=pop.n, notes=notes + pop.assumptions)


def estimate_status(intake: dict[str, float], *, population: str = "general", age: float | None = None,
                    sex: str | None = None, weight: float | None = None, n: int = 400,
                    seed: int | None = 0) -> StatusResult:
    """Expected vitamin K status markers for habitual ``intake`` (form → µg/day)."""
    base = _baseline(intake, population) or {}
    full = {f: float(base.get(f, 0.0)) for f in FORMS}
    pop = _pop(n, seed, population, age=age, sex=sex, weight=weight, intake=full)
    means = _form_means(pop)
    act = sum(means[f]["act_ext"] for f in FORMS)
    m = Carboxylation(pop).markers(act[None, :])
    return StatusResult(intake_ug_per_day=full,
                        plasma_nmol_l={f: Band.of(means[f]["concentration_nmol_l"]) for f in FORMS},
                        ucoc_percent=Band.of(m["ucoc_percent"]), ucoc_ng_ml=Band.of(m["ucoc_ng_ml"]),
                        ucoc_coc_ratio=Band.of(m["ucoc_coc_ratio"]), dp_ucmgp_pmol_l=Band.of(m["dp_ucmgp_pmol_l"]),
                        n=pop.n, notes=["range = expected spread between people with this intake",
                                        "forms not given are taken as 0 µg/day"])


def inr_sensitivity(delta_ug_per_day: float, form: str = "K1", *, source: str = "food",
                    baseline_intake: dict[str, float] | float | None = None, target_inr: float | None = 2.5,
                    warfarin_mg: float | None = None, vkorc1: str | None = None, cyp2c9: str | None = None,
                    age: float | None = None, weight: float | None = None, population: str = "general",
                    n: int = 400, seed: int | None = 0) -> INRSensitivityResult:
    """Steady-state INR change of a VKA user when daily intake changes (see module docstring)."""
    form = resolve_form(form)
    if source not in ("food", "supplement"):
        raise KboneInputError(Problem(field="source", reason=f"unknown source {source!r}", fix="use food or supplement"))
    delta = float(delta_ug_per_day)
    if not np.isfinite(delta) or abs(delta) > MAX_DOSE_UG[form]:
        raise KboneInputError(Problem(field="delta_ug_per_day", reason=f"{delta_ug_per_day} µg/day is not plausible",
                                      fix="give a change between -50000 and 50000 µg/day"))
    if warfarin_mg is not None:
        target_inr = None
    base = _baseline(baseline_intake, population)
    pop = _pop(n, seed, population, age=age, weight=weight, cyp2c9=cyp2c9, vkorc1=vkorc1, intake=base)
    habitual = pop.intake[form]
    if delta < 0 and source == "food" and np.any(habitual + delta < 0):
        raise KboneInputError(Problem(field="delta_ug_per_day", reason="the decrease is larger than the habitual intake",
                                      fix="give a decrease no larger than the habitual intake"))
    a0 = np.zeros(pop.n)
    a1 = np.zeros(pop.n)
    for f in FORMS:
        pk = FormPK(f, pop)
        c0 = pk.mean_steady_state(0.0, names=("act_hep",))["act_hep"]
        a0 += c0
        if f != form:
            a1 += c0
        elif source == "food":
            a1 += pk.mean_steady_state(0.0, habitual=habitual + delta, names=("act_hep",))["act_hep"]
        else:
            if delta < 0:
                raise KboneInputError(Problem(field="delta_ug_per_day", reason="a supplement cannot be negative",
                                              fix="use source='food' for a lower intake"))
            a1 += pk.mean_steady_state(delta, names=("act_hep",))["act_hep"]
    wm = WarfarinModel(pop)
    dose = np.full(pop.n, float(warfarin_mg)) if warfarin_mg is not None else wm.titrate(target_inr, a0)
    inr0 = wm.inr_steady_state(dose, a0, a0)
    inr1 = wm.inr_steady_state(dose, a1, a0)
    d = inr1 - inr0
    days90 = _days_to_90pct(form, delta, source, pop, dose)
    return INRSensitivityResult(
        form=form, source=source, delta_ug_per_day=delta, baseline_inr=Band.of(inr0), new_inr=Band.of(inr1),
        delta_inr=Band.of(d), fraction_fall_ge_0_3=float(np.mean(d <= -0.3)), fraction_fall_ge_0_5=float(np.mean(d <= -0.5)),
        fraction_rise_ge_0_3=float(np.mean(d >= 0.3)), days_to_90pct=days90, warfarin_dose_mg=Band.of(dose), n=pop.n,
        notes=["model estimate for information; INR must be monitored by the treating clinician",
               f"'clinically relevant' change: ≥ {RELEVANT_INR_CHANGE} INR units assumed (shares for ≥ 0.3 given too)",
               "vitamin K term calibrated to Khan 2004 and Theuwissen 2013 (acenocoumarol modelled as warfarin)"])


def _days_to_90pct(form, delta, source, pop: Population, dose) -> float | None:
    """Days until the typical subject's INR change reaches 90 % of its steady-state value."""
    if delta == 0:
        return None
    typ = make_population(1, typical=True, profile=pop.profile,
                          intake={f: float(np.median(pop.intake[f])) for f in FORMS},
                          cyp2c9=pop.cyp2c9[0] if len(set(pop.cyp2c9)) == 1 else None,
                          vkorc1=pop.vkorc1[0] if len(set(pop.vkorc1)) == 1 else None)
    days = 60.0
    med = float(np.median(pop.intake[form]))
    if source == "food":
        sc = Scenario(form=form, days=days, diet={form: np.array([med + delta])}, habitual={form: med},
                      warfarin_mg=float(np.median(dose)), output_step_h=6.0)
    else:
        sc = Scenario(form=form, events=EventTable.regular(delta, every_h=24.0, duration_h=days * 24), days=days,
                      warfarin_mg=float(np.median(dose)), output_step_h=6.0)
    out = run(sc, typ)
    change = out.inr[:, 0] - out.inr[0, 0]
    final = change[-1]
    if abs(final) < 1e-6:
        return None
    k = int(np.argmax(np.abs(change) >= 0.9 * abs(final)))
    return float(out.time_h[k] / 24.0)
