"""One simulation: vitamin K doses and diet → plasma levels → carboxylation, and INR under warfarin.

:class:`Scenario` describes what happens (doses as an event table in µg, fat with the doses, a daily
intake series per form, warfarin), :func:`run` simulates it for a :class:`~kbone.model.population.Population`
and returns every output as (T, n) arrays on the time grid ``time_h``; :func:`summarise` gives the
median and 5–95 % band per time point.

Conventions: subjects start at the steady state of their habitual diet (and, with warfarin, on stable
therapy); a daily intake series (µg/day, one value per day) repeats cyclically over the simulation and
its mean is taken as the habitual intake unless ``habitual`` gives it (to simulate a change of diet);
time is in hours from the first dose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from kbone.errors import KboneInputError, Problem
from kbone.model.events import EventTable
from kbone.model.library import FORMS, resolve_form
from kbone.model.pd import MARKERS, Carboxylation
from kbone.model.pk import MAX_DOSE_UG, Dose, FormPK
from kbone.model.population import Population
from kbone.model.warfarin import MAX_WARFARIN_MG, WarfarinModel

MAX_DAYS = 3653.0
MAX_CELLS = 3.0e7          # time points × subjects kept per output


@dataclass
class Scenario:
    """What is simulated. ``events`` AMT in µg of ``form`` (rows may name their own FORM)."""

    form: str = "MK-7"
    events: EventTable | None = None
    fat_g: float | None = None
    days: float = 90.0
    diet: dict[str, np.ndarray] | None = None
    habitual: dict[str, float] | None = None
    warfarin_mg: float | None = None
    target_inr: float | None = None
    warfarin_every_h: float = 24.0
    output_step_h: float | None = None
    pk_overrides: dict[str, dict[str, float]] = field(default_factory=dict)
    pd_overrides: dict[str, float] | None = None
    inr_overrides: dict[str, float] | None = None

    def validate(self) -> None:
        probs: list[Problem] = []
        self.form = resolve_form(self.form)
        if not (isinstance(self.days, (int, float)) and math.isfinite(self.days) and 0 < self.days <= MAX_DAYS):
            probs.append(Problem(field="days", reason=f"{self.days} days is not between 0 and {MAX_DAYS:g}",
                                 fix="give --days between 1 and 3653"))
        if self.fat_g is not None and not 0 <= self.fat_g <= 300:
            probs.append(Problem(field="fat", reason=f"{self.fat_g} g fat is outside 0-300 g", fix="give e.g. --fat 20g"))
        if self.warfarin_mg is not None and not 0 < self.warfarin_mg <= MAX_WARFARIN_MG:
            probs.append(Problem(field="warfarin", reason=f"warfarin {self.warfarin_mg} mg per dose is outside 0-{MAX_WARFARIN_MG:g} mg",
                                 fix="give the daily warfarin dose in mg, e.g. --warfarin 5mg"))
        if self.warfarin_mg is not None and self.target_inr is not None:
            probs.append(Problem(field="target_inr", reason="give either a warfarin dose or a target INR, not both",
                                 fix="drop --warfarin or --target-inr"))
        if not self.warfarin_every_h > 0:
            probs.append(Problem(field="warfarin_every", reason="the warfarin interval must be > 0", fix="use 24h"))
        if self.output_step_h is not None and not self.output_step_h > 0:
            probs.append(Problem(field="step", reason="the output step must be > 0 h", fix="give e.g. --step 1h"))
        if self.diet:
            clean = {}
            for k, v in self.diet.items():
                f = resolve_form(k, field="diet")
                arr = np.atleast_1d(np.asarray(v, dtype=float))
                if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 100_000):
                    probs.append(Problem(field=f"diet {f}", reason="daily intakes must be finite numbers between 0 and 100000 µg/day",
                                         fix="give one intake per day in µg"))
                clean[f] = arr
            self.diet = clean
        if probs:
            raise KboneInputError(probs)
        if self.events is not None:
            self.events.validate_rows(amt_max=max(MAX_DOSE_UG.values()), amt_unit="µg")
            for ev in self.events.events:
                if ev.form is not None:
                    ev.form = resolve_form(ev.form, field="FORM")
            if self.events.end_time() > self.days * 24 + 1e-9:
                pass  # doses after the horizon are simply not reached


@dataclass
class ScenarioOutput:
    time_h: np.ndarray
    n: int
    form: str
    concentration: dict[str, np.ndarray]
    act_ext: np.ndarray
    act_hep: np.ndarray
    markers: dict[str, np.ndarray]
    inr: np.ndarray | None = None
    e_vka: np.ndarray | None = None
    cw: np.ndarray | None = None
    warfarin_dose_mg: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def output_grid(days: float, n: int, step_h: float | None = None) -> np.ndarray:
    """Output times (h): fine for short runs, coarser for long or large runs (≤ MAX_CELLS values per output)."""
    t_end = days * 24.0
    if step_h is None:
        step_h = 0.25 if days <= 3 else 1.0 if days <= 30 else float(math.ceil(t_end / 1500.0))
    step_h = max(step_h, t_end * n / MAX_CELLS)
    k = int(math.floor(t_end / step_h + 1e-9))
    return np.linspace(0.0, k * step_h, k + 1)


def _doses_by_form(sc: Scenario) -> dict[str, list[Dose]]:
    out: dict[str, list[Dose]] = {}
    if sc.events is None:
        return out
    ex = sc.events.expand()
    for t, a, c, r, f, fat in zip(ex.time, ex.amt, ex.cmt, ex.rate, ex.form, ex.fat_g, strict=True):
        form = f or sc.form
        if a > MAX_DOSE_UG[form]:
            raise KboneInputError(Problem(field="AMT", reason=f"{a:g} µg {form} is above {MAX_DOSE_UG[form]:g} µg per dose",
                                          fix="check the unit: AMT is in µg"))
        out.setdefault(form, []).append(Dose(float(t), float(a), sc.fat_g if fat is None else fat,
                                             c or "gut", float(r)))
    return out


def run(sc: Scenario, pop: Population, *, t_out: np.ndarray | None = None, batch: int = 2000) -> ScenarioOutput:
    """Simulate ``sc`` for every subject of ``pop`` (in batches of ``batch`` subjects)."""
    sc.validate()
    t_out = output_grid(sc.days, pop.n, sc.output_step_h) if t_out is None else np.asarray(t_out, float)
    if sc.events is not None:
        obs = sc.events.observation_times()
        obs = obs[obs <= sc.days * 24]
        if obs.size:
            t_out = np.unique(np.concatenate([t_out, obs]))
    doses = _doses_by_form(sc)
    notes: list[str] = list(pop.assumptions)
    parts = [_run_batch(sc, pop.subset(np.arange(i, min(i + batch, pop.n))), t_out, doses)
             for i in range(0, pop.n, batch)]

    def cat(key, sub=None):
        vals = [getattr(p, key) if sub is None else getattr(p, key)[sub] for p in parts]
        if vals[0] is None:
            return None
        return np.concatenate(vals, axis=-1)

    return ScenarioOutput(
        time_h=t_out, n=pop.n, form=sc.form,
        concentration={f: cat("concentration", f) for f in parts[0].concentration},
        act_ext=cat("act_ext"), act_hep=cat("act_hep"),
        markers={k: cat("markers", k) for k in MARKERS},
        inr=cat("inr"), e_vka=cat("e_vka"), cw=cat("cw"), warfarin_dose_mg=cat("warfarin_dose_mg"),
        notes=notes)


def _run_batch(sc: Scenario, pop: Population, t_out: np.ndarray, doses: dict[str, list[Dose]]) -> ScenarioOutput:
    n = pop.n
    t_end = float(t_out[-1])
    warf = sc.warfarin_mg is not None or sc.target_inr is not None
    grid = np.unique(np.concatenate([t_out, np.arange(0.0, t_end + 1e-9, 1.0)])) if warf else t_out
    pop = pop.subset(np.arange(n))
    diet_changes: dict[str, list] = {}
    for form, series in (sc.diet or {}).items():
        hab = (sc.habitual or {}).get(form)
        pop.intake[form] = np.full(n, float(np.mean(series) if hab is None else hab))
        days = int(math.ceil(t_end / 24.0)) + 1
        vals = np.resize(series, days)
        diet_changes[form] = [(24.0 * d, float(vals[d])) for d in range(days)
                              if d == 0 or vals[d] != vals[d - 1]]
    forms = [f for f in FORMS if f in doses or f == sc.form or np.any(pop.intake[f] > 0)]
    act_ext = np.zeros((len(grid), n))
    act_hep = np.zeros((len(grid), n))
    conc: dict[str, np.ndarray] = {}
    sel = np.searchsorted(grid, t_out)
    for form in forms:
        pk = FormPK(form, pop, overrides=sc.pk_overrides.get(form), pd_overrides=sc.pd_overrides)
        out = pk.run(grid, doses.get(form, []), diet=diet_changes.get(form))
        act_ext += out["act_ext"]
        act_hep += out["act_hep"]
        conc[form] = np.ascontiguousarray(out["concentration_nmol_l"][sel])
    res = ScenarioOutput(time_h=t_out, n=n, form=sc.form, concentration=conc,
                         act_ext=np.ascontiguousarray(act_ext[sel]), act_hep=np.ascontiguousarray(act_hep[sel]),
                         markers={})
    e_vka = 0.0
    if warf:
        wm = WarfarinModel(pop, tau=sc.warfarin_every_h, inr_overrides=sc.inr_overrides)
        act_ref = act_hep[0]
        dose = wm.titrate(sc.target_inr, act_ref) if sc.target_inr is not None else np.full(n, sc.warfarin_mg)
        w = wm.simulate(t_out, dose, grid=grid, act_hep=act_hep, act_ref=act_ref)
        res.inr, res.e_vka, res.cw, res.warfarin_dose_mg = w["INR"], w["E_vka"], w["Cw"], dose
        e_vka = w["E_ext"]        # extrahepatic carboxylation sees VKOR inhibition without the liver's rescue
    res.markers = Carboxylation(pop, sc.pd_overrides).markers(res.act_ext, e_vka)
    return res


def summarise(values: np.ndarray, qs=(5, 50, 95)) -> dict[str, np.ndarray]:
    """Median and 5/95 % band over subjects for (T, n) values."""
    p = np.percentile(values, qs, axis=1)
    return {"p5": p[0], "median": p[1], "p95": p[2]}
