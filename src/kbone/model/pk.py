"""Vitamin K pharmacokinetics: K1, MK-4 and MK-7 from dose (µg) to plasma (nmol/L) and effect sites.

Each form's model is the spec ``data/model/pk_<form>.yaml`` (absorption, disposition, effect
compartments). This module supplies what is specific to vitamin K — converting µg to nmol with the
vocabulary's molar masses, the fat eaten with a dose, the food matrix of dietary intake, and the effect
link parameters owned by ``pd_carboxylation.yaml`` — and leaves the solving to the generic solvers.

Conventions: doses in µg, fat in g, time in h, intake in µg/day, concentrations in nmol/L. A dose
without a stated fat is taken with the reference meal (``FATREF``, 20 g). Dietary intake is a
zero-order input over the day with the food-matrix bioavailability ``F_food``. Subjects start at the
steady state of their habitual intake.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kbone.model.library import FORMS, form_key, pk_spec, spec
from kbone.model.linear import Bolus, RateChange
from kbone.model.population import Population
from kbone.model.system import Individualised

# Plausible maximum single dose per form (µg): far above any studied dose (menatetrenone 45 mg/day is
# given as 15 mg three times a day; ECKO used K1 5 mg/day). Larger values are almost surely unit errors.
MAX_DOSE_UG = {"K1": 50_000.0, "MK-4": 50_000.0, "MK-7": 50_000.0}
OUTPUTS = ("concentration_nmol_l", "act_ext", "act_hep")


def ug_to_nmol(form: str, ug):
    """µg → nmol with the vocabulary's molar mass of ``form`` (K1 450.7, MK-4 444.7, MK-7 649.0 g/mol)."""
    from kbone.vocab import vocab

    return np.asarray(ug, dtype=float) * vocab().convert(1.0, "ug", "nmol", substance=form)


def nmol_to_ng_ml(form: str, nmol_l):
    from kbone.vocab import vocab

    return np.asarray(nmol_l, dtype=float) * vocab().convert(1.0, "nmol/L", "ng/mL", substance=form)


def link_values(form: str, pd_overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Effect-link covariates of ``form`` from the PD spec: keo_ext, keo_hep, w_ext, w_hep."""
    pd = spec("pd_carboxylation")
    v = {k: p.value for k, p in pd.parameters.items()}
    v.update(pd_overrides or {})
    key = form_key(form)
    return {"keo_ext": v["keo_ext"], "keo_hep": v["keo_hep"], "w_ext": v[f"w_ext_{key}"], "w_hep": v[f"w_hep_{key}"]}


@dataclass
class Dose:
    """One vitamin K dose: time (h), amount (µg), fat eaten with it (g; None = reference meal).

    ``cmt`` other than ``gut`` (e.g. ``central`` for an intravenous dose) bypasses absorption, food
    and fat effects; ``rate_ug_h`` > 0 gives the amount as a zero-order input at that rate; ``food``
    marks vitamin K eaten in a food (food-matrix bioavailability ``F_food``) rather than a supplement."""

    time: float
    amt_ug: float
    fat_g: float | None = None
    cmt: str = "gut"
    rate_ug_h: float = 0.0
    food: bool = False


class FormPK:
    """The PK model of one form for the subjects of ``pop``."""

    def __init__(self, form: str, pop: Population, *, overrides: dict[str, float] | None = None,
                 pd_overrides: dict[str, float] | None = None, model_spec=None):
        if form not in FORMS:
            raise ValueError(f"no PK model for form {form!r}")
        self.form = form
        self.pop = pop
        sp = model_spec or pk_spec(form)
        params = pop.parameters(sp, overrides)
        cov = {"WT": pop.weight, **link_values(form, pd_overrides)}
        self.model = Individualised(sp, pop.n, params, cov)

    @property
    def n(self) -> int:
        return self.pop.n

    def _amount_scale(self, dose: Dose) -> np.ndarray:
        """nmol reaching the dose compartment per µg given, per subject."""
        if dose.cmt != "gut":
            self.model.index(dose.cmt)
            return np.full(self.n, float(ug_to_nmol(self.form, 1.0)))
        fat = {} if dose.fat_g is None else {"FAT": dose.fat_g}
        i = self.model.index("gut")
        food = 1.0 if dose.food else 0.0
        return ug_to_nmol(self.form, 1.0) * self.model.F[:, i] * self.model.dose_factor(FOOD=food, **fat)

    def inputs_for(self, doses: list[Dose]) -> tuple[list[Bolus], list[RateChange]]:
        """Boluses and zero-order inputs (as start/stop rate changes) for ``doses``."""
        boluses, rates = [], []
        for d in doses:
            scale = self._amount_scale(d)
            i = self.model.index(d.cmt)
            if d.rate_ug_h > 0:
                dur = d.amt_ug / d.rate_ug_h
                rates += [RateChange(d.time, i, d.rate_ug_h * scale), RateChange(d.time + dur, i, -d.rate_ug_h * scale)]
            else:
                boluses.append(Bolus(d.time, i, d.amt_ug * scale))
        return boluses, rates

    def bolus(self, dose: Dose) -> Bolus:
        return self.inputs_for([Dose(dose.time, dose.amt_ug, dose.fat_g, dose.cmt, 0.0, dose.food)])[0][0]

    def mean_steady_state(self, daily_ug: float, *, every_h: float = 24.0, fat_g: float | None = None,
                          habitual=None, names=OUTPUTS) -> dict[str, np.ndarray]:
        """Time-averaged outputs (n,) at steady state of ``daily_ug`` µg/day given every ``every_h`` hours on
        top of the habitual diet. Linear forms: exact (the period average of a linear system's periodic
        steady state equals its steady state under the same mean input rate). Nonlinear forms: simulated
        to periodic steady state and averaged over the last dosing interval."""
        habitual = self.pop.intake[self.form] if habitual is None else habitual
        per_dose = daily_ug * every_h / 24.0
        scale = self._amount_scale(Dose(0.0, 1.0, fat_g))
        diet = self.diet_rate(0.0, habitual)
        if self.model.spec.is_linear:
            i = self.model.index("gut")
            x = self.model.steady_state([diet, RateChange(0.0, i, per_dose * scale / every_h)])
            st = {c: x[None, :, k] for k, c in enumerate(self.model.spec.state_names)}
            out = self.model.outputs(st, np.array([0.0]), None, list(names))
            return {k: v[0] for k, v in out.items()}
        x0 = self.baseline_state(habitual)
        if per_dose == 0:
            st = {c: x0[None, :, k] for k, c in enumerate(self.model.spec.state_names)}
            return {k: v[0] for k, v in self.model.outputs(st, np.array([0.0]), None, list(names)).items()}
        # Simulate until the compartments that feed back reach their periodic steady state (10 half-lives
        # of the slowest of them, at least two intervals); observers (effect sites) follow exactly from the
        # period average (Individualised.observer_means), so their slow equilibration need not be waited for.
        obs = set(self.model.observers())
        keep = [k for k in range(self.model.m) if k not in obs]
        lam = np.abs(np.linalg.eigvals(self.model.K[:, keep][:, :, keep]).real)
        slow = float(np.log(2) / max(np.min(lam), 1e-9))
        days = float(np.ceil(max(2 * every_h, 10 * slow) / 24.0)) + 1.0
        times = np.arange(0.0, days * 24.0 - 1e-9, every_h)
        t = np.linspace(times[-1], times[-1] + every_h, 97)
        boluses, _ = self.inputs_for([Dose(float(tt), per_dose, fat_g) for tt in times])
        st = self.model.solve(np.concatenate([[0.0], t]), boluses=boluses, rates=[diet], x0=x0)[1:]
        r = np.zeros((self.n, self.model.m))
        r[:, diet.cmt] = diet.rate
        for k, v in self.model.observer_means(st, t, r).items():
            st[:, k, :] = v[None, :]      # exact for outputs linear in the observers (act_ext, act_hep)
        out = self.model.outputs(st, t, None, list(names))
        return {k: np.trapezoid(v, t, axis=0) / (t[-1] - t[0]) for k, v in out.items()}

    def diet_rate(self, time: float, intake_ug_per_day) -> RateChange:
        """Dietary intake (µg/day, scalar or (n,)) as a zero-order input (nmol/h) added from ``time`` on."""
        r = ug_to_nmol(self.form, intake_ug_per_day) / 24.0
        return self.model.rate(time, "gut", r, FOOD=1.0)

    def baseline_state(self, intake_ug_per_day=None) -> np.ndarray:
        """Steady state (n, m) under habitual intake (default: the population's intake of this form)."""
        intake = self.pop.intake[self.form] if intake_ug_per_day is None else intake_ug_per_day
        return self.model.steady_state([self.diet_rate(0.0, intake)])

    def run(self, t_out: np.ndarray, doses: list[Dose] = (), *, diet: list[tuple[float, np.ndarray]] | None = None,
            x0: np.ndarray | None = None, names=OUTPUTS) -> dict[str, np.ndarray]:
        """Outputs (T, n) at ``t_out`` hours. ``diet`` = [(time_h, intake µg/day (n,) or scalar), …] changes;
        without it the habitual intake continues. ``x0`` defaults to the habitual steady state."""
        habitual = self.pop.intake[self.form]
        x0 = self.baseline_state(habitual) if x0 is None else x0
        if diet:
            rates, prev = [], 0.0
            for t, v in sorted(diet, key=lambda d: d[0]):
                rates.append(self.diet_rate(t, np.asarray(v, float) - prev))
                prev = np.asarray(v, float)
        else:
            rates = [self.diet_rate(0.0, habitual)]
        boluses, dose_rates = self.inputs_for(list(doses))
        if not boluses and not dose_rates and not diet:
            # nothing perturbs the habitual steady state: the outputs stay at their baseline values
            x = np.asarray(x0, float).T[:, None, :]
            states = np.broadcast_to(x, (len(self.model.spec.state_names),) + (len(t_out), self.n))
            return self.model.outputs({c: states[i] for i, c in enumerate(self.model.spec.state_names)},
                                      np.asarray(t_out, dtype=float), None, list(names))
        rates += dose_rates
        return self.model.solve_outputs(np.asarray(t_out, dtype=float), list(names), boluses=boluses,
                                        rates=rates, x0=x0)


def single_dose_profile(form: str, amt_ug: float, t_h: np.ndarray, pop: Population, *, fat_g: float | None = None,
                        baseline: bool = False, overrides=None) -> np.ndarray:
    """Concentration (T, n) nmol/L after one dose at t = 0; ``baseline=False`` removes the dietary baseline."""
    if not baseline:
        pop = _without_diet(pop)
    pk = FormPK(form, pop, overrides=overrides)
    return pk.run(t_h, [Dose(0.0, amt_ug, fat_g)], names=("concentration_nmol_l",))["concentration_nmol_l"]


def _without_diet(pop: Population) -> Population:
    p = pop.subset(np.arange(pop.n))
    p.intake = {k: np.zeros(pop.n) for k in pop.intake}
    return p


def repeated_dose_profile(form: str, amt_ug: float, every_h: float, days: float, t_h: np.ndarray, pop: Population, *,
                          fat_g: float | None = None, baseline: bool = False, overrides=None) -> np.ndarray:
    """Concentration (T, n) with a dose every ``every_h`` hours for ``days`` days (from t = 0)."""
    if not baseline:
        pop = _without_diet(pop)
    times = np.arange(0.0, days * 24.0 - 1e-9, every_h)
    pk = FormPK(form, pop, overrides=overrides)
    return pk.run(t_h, [Dose(float(t), amt_ug, fat_g) for t in times],
                  names=("concentration_nmol_l",))["concentration_nmol_l"]
