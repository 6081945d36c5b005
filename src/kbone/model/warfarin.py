"""Warfarin and INR (Hamberg 2007) with kbone's vitamin K term.

S-warfarin PK (``data/model/warfarin_pk.yaml``: 2-compartment, CYP2C9 and age on clearance) drives an
inhibitory Emax (γ = 0.424, VKORC1-specific EC50) on coagulation-factor synthesis, two transit chains
and INR = BASE + INRmax (1 − A6·A7)^λ (``data/model/inr.yaml``). Hepatic vitamin K activity ``act_hep``
(K1-equivalent nmol/L, from the vitamin K PK effect compartments) raises the EC50 competitively
relative to the subject's habitual activity ``act_ref`` — so habitual intake does not change a
patient's maintenance dose (Khan 2004), while a change in intake shifts the INR.

Units: warfarin doses in mg of racemate (S-warfarin = half), concentrations mg/L, time h.
Subjects are taken to be on stable therapy at t = 0 (periodic steady state of their dose, habitual diet).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from kbone.errors import KboneInputError, Problem
from kbone.model.library import spec
from kbone.model.linear import Bolus
from kbone.model.population import Population
from kbone.model.system import Individualised, Inputs

MAX_WARFARIN_MG = 50.0    # per daily dose; maintenance doses reach ~11 mg/day (78.75 mg/week, Hamberg 2007)
DOSE_RANGE_MG = (0.05, 100.0)


class WarfarinModel:
    """S-warfarin PK and INR for the subjects of ``pop``; ``tau`` = dosing interval (h)."""

    def __init__(self, pop: Population, *, tau: float = 24.0, inr_overrides: dict[str, float] | None = None,
                 pk_overrides: dict[str, float] | None = None):
        self.pop = pop
        self.n = pop.n
        self.tau = float(tau)
        pk_spec = spec("warfarin_pk")
        cyp = pk_spec.tables["CYP2C9"].lookup(pop.cyp2c9, field="cyp2c9")
        self.pk = Individualised(pk_spec, pop.n, pop.parameters(pk_spec, pk_overrides),
                                 {"AGE": pop.age, "CYP2C9_CL": cyp})
        self.inr_spec = spec("inr")
        self.inr_params = pop.parameters(self.inr_spec, inr_overrides)
        self.ec50_geno = self.inr_spec.tables["VKORC1"].lookup(pop.vkorc1, field="vkorc1")
        self._inr_models: dict[bytes, Individualised] = {}

    def inr_model(self, act_ref: np.ndarray) -> Individualised:
        """The INR model for reference hepatic activity ``act_ref`` (kept for the last few values: titration
        asks for the same one at every bisection step)."""
        ref = np.ascontiguousarray(np.broadcast_to(np.asarray(act_ref, float), (self.n,)))
        key = ref.tobytes()
        if key not in self._inr_models:
            if len(self._inr_models) >= 4:
                self._inr_models.pop(next(iter(self._inr_models)))
            self._inr_models[key] = Individualised(self.inr_spec, self.n, self.inr_params,
                                                   {"EC50_VKORC1": self.ec50_geno, "act_ref": ref})
        return self._inr_models[key]

    # ---- steady state ----------------------------------------------------------------------------
    @cached_property
    def unit_profile(self) -> tuple[np.ndarray, np.ndarray]:
        """Steady-state S-warfarin concentration (G, n) over one interval per 1 mg racemate every ``tau``."""
        dose = np.zeros((self.n, self.pk.m))
        i = self.pk.index("depot")
        dose[:, i] = self.pk.F[:, i] * self.pk.dose_factor()
        x0 = self.pk.system.periodic_trough(dose, self.tau)
        t = np.linspace(0.0, self.tau, 49)
        out = self.pk.solve_outputs(t, ["Cw"], boluses=[Bolus(0.0, i, dose[:, i])], x0=x0)
        return t, out["Cw"]

    def mean_inhibition(self, dose_mg, act_hep, act_ref) -> np.ndarray:
        """Interval-average inhibition Ē (n,) at steady state of ``dose_mg`` (n,) with hepatic activity act_hep."""
        t, c1 = self.unit_profile
        model = self.inr_model(act_ref)
        ns = model._algebraic({"Cw": c1 * np.asarray(dose_mg, float)[None, :],
                               "act_hep": np.broadcast_to(np.asarray(act_hep, float), (self.n,))[None, :]})
        E = np.asarray(ns["E"])
        return np.trapezoid(E, t, axis=0) / (t[-1] - t[0])

    def inr_from_inhibition(self, e_bar: np.ndarray, act_ref) -> np.ndarray:
        """Steady-state INR (n,) when every transit compartment sits at 1 − Ē."""
        model = self.inr_model(act_ref)
        a = 1.0 - np.asarray(e_bar, float)[None, :]
        return model.outputs({"A6": a, "A7": a}, np.array([0.0]), None, ["INR"])["INR"][0]

    def inr_steady_state(self, dose_mg, act_hep, act_ref) -> np.ndarray:
        return self.inr_from_inhibition(self.mean_inhibition(dose_mg, act_hep, act_ref), act_ref)

    def titrate(self, target_inr: float, act_ref) -> np.ndarray:
        """Daily dose (mg racemate, (n,)) giving steady-state INR ``target_inr`` at the habitual diet."""
        if not 1.2 <= float(target_inr) <= 5.0:
            raise KboneInputError(Problem(field="target_inr", reason=f"target INR {target_inr} is outside 1.2-5.0",
                                          fix="give a therapeutic target such as 2.5"))
        lo = np.full(self.n, np.log(DOSE_RANGE_MG[0]))
        hi = np.full(self.n, np.log(DOSE_RANGE_MG[1]))
        for _ in range(45):
            mid = 0.5 * (lo + hi)
            inr = self.inr_steady_state(np.exp(mid), act_ref, act_ref)
            up = inr < target_inr
            lo = np.where(up, mid, lo)
            hi = np.where(up, hi, mid)
        return np.exp(0.5 * (lo + hi))

    # ---- time course -----------------------------------------------------------------------------
    def simulate(self, t_out: np.ndarray, dose_mg, *, grid: np.ndarray, act_hep: np.ndarray, act_ref) -> dict:
        """INR, E_vka (hepatic inhibition), E_ext (extrahepatic) and Cw (T, n) at ``t_out``; ``act_hep`` (G, n)
        on ``grid`` (h), doses every ``tau``."""
        dose_mg = np.broadcast_to(np.asarray(dose_mg, float), (self.n,))
        i = self.pk.index("depot")
        unit = np.zeros((self.n, self.pk.m))
        unit[:, i] = self.pk.F[:, i] * self.pk.dose_factor()
        x0 = self.pk.system.periodic_trough(unit * dose_mg[:, None], self.tau)
        t_end = float(max(grid[-1], t_out[-1]))
        doses = [self.pk.bolus(t, "depot", dose_mg) for t in np.arange(0.0, t_end + 1e-9, self.tau)]
        cw = self.pk.solve_outputs(grid, ["Cw"], boluses=doses, x0=x0)["Cw"]
        model = self.inr_model(act_ref)
        e0 = self.mean_inhibition(dose_mg, act_ref, act_ref)
        a0 = np.repeat((1.0 - e0)[:, None], model.m, axis=1)
        inputs = Inputs(np.asarray(grid, float), {"Cw": cw, "act_hep": np.asarray(act_hep, float)})
        out = model.solve_outputs(np.asarray(t_out, float), ["INR", "E_vka", "E_ext"], inputs=inputs, x0=a0)
        out["Cw"] = inputs.at(t_out)["Cw"]
        out["dose_mg"] = dose_mg
        return out
