"""A model spec made individual: per-subject values, doses, inputs → solver problem → outputs.

:class:`Individualised` joins a :class:`~kbone.model.spec.ModelSpec` with ``n`` subjects' parameter and
covariate values. It turns doses (compartment, time, amount), zero-order rates and time-varying inputs
into a :class:`~kbone.model.linear.LinearProblem` (linear specs, solved exactly) or an
:class:`~kbone.model.ode.ODEProblem` (specs with nonlinear terms), and evaluates the spec's outputs.
It is as generic as the solvers: nothing here knows what the compartments stand for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kbone.model.expr import closure, evaluate_all
from kbone.model.linear import Bolus, Forcing, LinearProblem, LinearSystem, RateChange, solve
from kbone.model.ode import ODEProblem, interp_rows, solve_ode
from kbone.model.ode import steady_state as ode_steady_state
from kbone.model.spec import ModelSpec


@dataclass
class Inputs:
    """Time-varying inputs on a common grid: ``times`` (G,) and name → values (G, n)."""

    times: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def at(self, t: np.ndarray) -> dict[str, np.ndarray]:
        """Values linearly interpolated at times ``t`` (T,) → (T, n); held constant outside the grid."""
        t = np.clip(np.asarray(t, dtype=float), self.times[0], self.times[-1])
        j = np.clip(np.searchsorted(self.times, t), 1, len(self.times) - 1)
        t0, t1 = self.times[j - 1], self.times[j]
        w = np.where(t1 > t0, (t - t0) / np.where(t1 > t0, t1 - t0, 1.0), 1.0)[:, None]
        return {k: (1 - w) * v[j - 1] + w * v[j] for k, v in self.values.items()}


class Individualised:
    """``spec`` for ``n`` subjects with per-subject parameter values ``params`` and ``covariates``."""

    def __init__(self, spec: ModelSpec, n: int, params: dict | None = None, covariates: dict | None = None):
        self.spec = spec
        self.n = n
        self.ns = spec.individual(n, params, covariates)
        self.K = spec.rate_matrix(self.ns, n)
        self.F = spec.bioavailability_vector(self.ns, n)
        self._system: LinearSystem | None = None

    @property
    def m(self) -> int:
        return len(self.spec.compartments)

    @property
    def compiled(self):
        """The nonlinear term compiled for the Rosenbrock kernel (:mod:`kbone.model.jit`), or None."""
        if not hasattr(self, "_compiled"):
            from kbone.model.jit import compiled_term

            self._compiled = compiled_term(self.spec)
        return self._compiled

    @property
    def system(self) -> LinearSystem:
        if self._system is None:
            self._system = LinearSystem(self.K)
        return self._system

    def index(self, compartment: str) -> int:
        return self.spec.index(compartment)

    def dose_factor(self, **dose_vars: float | np.ndarray) -> np.ndarray:
        """Per-subject multiplier of a dose amount for the given dose-row variables (defaults from the spec)."""
        ns = dict(self.ns)
        for k, v in self.spec.dose_variables.items():
            ns[k] = np.broadcast_to(np.asarray(dose_vars.get(k, v), dtype=float), (self.n,))
        val = self.spec.expressions("dose_factor").evaluate(ns)
        return np.broadcast_to(np.asarray(val, dtype=float), (self.n,))

    def bolus(self, time: float, compartment: str, amount, **dose_vars) -> Bolus:
        """A dose of ``amount`` (scalar or (n,)) into ``compartment``, scaled by bioavailability and dose factor."""
        i = self.index(compartment)
        return Bolus(float(time), i, np.asarray(amount, dtype=float) * self.F[:, i] * self.dose_factor(**dose_vars))

    def rate(self, time: float, compartment: str, rate, **dose_vars) -> RateChange:
        """A zero-order input ``rate`` (amount/time, scalar or (n,)) from ``time`` on, scaled like a dose."""
        i = self.index(compartment)
        return RateChange(float(time), i, np.asarray(rate, dtype=float) * self.F[:, i] * self.dose_factor(**dose_vars))

    # ---- inputs, forcing, nonlinear terms -----------------------------------------------------
    def _algebraic(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        ns = dict(self.ns)
        ns.update(inputs)
        evaluate_all(self.spec.expressions("algebraic"), ns)
        return ns

    def forcings(self, inputs: Inputs | None) -> list[Forcing]:
        if not self.spec.forcing:
            return []
        if inputs is None:
            raise ValueError(f"model {self.spec.name} needs inputs {self.spec.inputs}")
        ns = self._algebraic(inputs.values)
        out = []
        for c, e in self.spec.expressions("forcing").items():
            vals = np.broadcast_to(np.asarray(e.evaluate(ns), dtype=float), (len(inputs.times), self.n))
            out.append(Forcing(self.index(c), np.asarray(inputs.times, dtype=float), np.ascontiguousarray(vals)))
        return out

    def nonlinear_term(self, inputs: Inputs | None):
        """The spec's nonlinear rates as ``term(t, x)`` → (m, n) from states (m, n), or None for linear specs.

        ``term.reads`` lists the states the term reads (through algebraic definitions too) and ``term.timed``
        whether it depends on t (time-varying inputs); the Rosenbrock integrator uses both to build its
        Jacobian with as few evaluations as possible."""
        if self.spec.is_linear:
            return None
        exprs = self.spec.expressions("nonlinear")
        names = self.spec.state_names
        alg_used, read_names = self.spec.nonlinear_dependencies()
        idx = [(self.index(c), e) for c, e in exprs.items()]
        base = dict(self.ns)
        timed = inputs is not None and bool(read_names & set(inputs.values))

        def term(t, x: np.ndarray) -> np.ndarray:
            ns = dict(base)
            for i, c in enumerate(names):
                ns[c] = x[i]
            if timed:
                for k, v in inputs.values.items():
                    ns[k] = interp_rows(inputs.times, v, t)
            if alg_used:
                evaluate_all(alg_used, ns)
            out = np.zeros(x.shape)
            for i, e in idx:
                out[i] += e.evaluate(ns)
            return out

        term.reads = tuple(i for i, c in enumerate(names) if c in read_names)
        term.timed = timed
        return term

    def observers(self) -> list[int]:
        """Compartments that feed nothing back: no flow or signal leaves them except elimination, no other
        equation reads them, and their own nonlinear term (if any) does not read them. Their time average
        at a periodic steady state follows from the others' (see :meth:`observer_means`)."""
        sp = self.spec
        readers: set[str] = set()
        for c, e in sp.expressions("nonlinear").items():
            readers |= {nm for nm in e.names if nm != c}
            if c in e.names:
                readers.add(c)
        for e in sp.expressions("algebraic").values():
            readers |= set(e.names)
        out = []
        for i, c in enumerate(sp.state_names):
            if any(f.source == c and f.target is not None for f in sp.flows):
                continue
            if any(sg.source == c for sg in sp.signals) or c in readers:
                continue
            out.append(i)
        return out

    def observer_means(self, states: np.ndarray, t: np.ndarray, rates: np.ndarray) -> dict[int, np.ndarray]:
        """Period averages (n,) of the observer compartments from the other states over one period.

        At a periodic steady state the average of dx_i/dt is 0, so for an observer i
        mean(x_i) = mean(inputs_i) / (−K_ii), inputs being everything in its equation but its own decay.
        ``states`` (T, m, n) cover one period at ``t`` (T,); ``rates`` (n, m) constant zero-order inputs."""
        obs = self.observers()
        nl = self.nonlinear_term(None)
        out: dict[int, np.ndarray] = {}
        Kt = np.transpose(self.K, (1, 2, 0))                    # (m, m, n)
        extra = np.stack([nl(float(tt), states[k]) for k, tt in enumerate(t)]) if nl is not None else 0.0
        for i in obs:
            row = Kt[i].copy()
            decay = -row[i].copy()
            row[i] = 0.0
            inp = np.einsum("jn,tjn->tn", row, states) + rates[:, i][None, :]
            if nl is not None:
                inp = inp + extra[:, i, :]
            out[i] = np.trapezoid(inp, t, axis=0) / (t[-1] - t[0]) / decay
        return out

    def initial(self) -> np.ndarray:
        return self.spec.initial_state(self.ns, self.n)

    # ---- solving -------------------------------------------------------------------------------
    def solve(self, t_out: np.ndarray, *, boluses: list[Bolus] = (), rates: list[RateChange] = (),
              inputs: Inputs | None = None, x0: np.ndarray | None = None, t0: float = 0.0,
              ode: bool | None = None, **ode_kw) -> np.ndarray:
        """States (T, m, n) at ``t_out``. Linear specs use the exact solver unless ``ode=True``."""
        x0 = self.initial() if x0 is None else x0
        use_ode = (not self.spec.is_linear) if ode is None else ode
        forc = self.forcings(inputs)
        if use_ode:
            nl = self.nonlinear_term(inputs)
            comp = self.compiled if not nl.timed else None
            prob = ODEProblem(self.K, x0, list(boluses), list(rates), forc, nl, t0, nonlinear_reads=nl.reads,
                              nonlinear_timed=nl.timed, compiled=comp,
                              params=comp.param_matrix(self.ns, self.n) if comp is not None else None)
            return solve_ode(prob, t_out, **ode_kw)
        if not self.spec.is_linear:
            raise ValueError(f"model {self.spec.name} has nonlinear terms; use the ODE path")
        prob = LinearProblem(self.K, x0, list(boluses), list(rates), forc, t0)
        return solve(prob, t_out, system=self.system)

    def steady_state(self, rates: list[RateChange], *, burn_in: float = 0.0) -> np.ndarray:
        """State (n, m) at steady state under constant ``rates`` (exact for linear specs; by burn-in otherwise)."""
        r = np.zeros((self.n, self.m))
        for rc in rates:
            r[:, rc.cmt] += rc.rate
        if self.spec.is_linear:
            return self.system.steady_state_infusion(r)
        x0 = np.maximum(self.system_linear_guess(r), 0.0)
        x = ode_steady_state(self.K, r, self.nonlinear_term(None), x0)
        if x is not None:
            return x
        t = np.array([burn_in or 24.0 * 30])
        rr = [RateChange(0.0, i, r[:, i]) for i in range(self.m) if np.any(r[:, i])]
        return self.solve(t, rates=rr, x0=x0)[0].T

    def system_linear_guess(self, r: np.ndarray) -> np.ndarray:
        try:
            return LinearSystem(self.K, force_dense=True).steady_state_infusion(r)
        except np.linalg.LinAlgError:
            return np.zeros((self.n, self.m))

    def _output_deps(self, names: list[str]) -> set[str]:
        return closure(names, self.spec.expressions("outputs"))

    def output_states(self, names: list[str]) -> list[str]:
        """Compartments that the outputs ``names`` read (directly or through other outputs/algebraic)."""
        exprs = {**self.spec.expressions("outputs"), **self.spec.expressions("algebraic")}
        used = {nm for k in closure(names, exprs) for nm in exprs[k].names}
        return [c for c in self.spec.state_names if c in used]

    def solve_outputs(self, t_out: np.ndarray, names: list[str], *, boluses: list[Bolus] = (),
                      rates: list[RateChange] = (), inputs: Inputs | None = None, x0: np.ndarray | None = None,
                      t0: float = 0.0, ode: bool | None = None, **ode_kw) -> dict[str, np.ndarray]:
        """Outputs ``names`` (T, n) at ``t_out``, observing only the compartments they need (memory-light)."""
        t_out = np.asarray(t_out, dtype=float)
        need = self.output_states(names)
        x0 = self.initial() if x0 is None else x0
        use_ode = (not self.spec.is_linear) if ode is None else ode
        idx = [self.index(c) for c in need]
        if use_ode:
            full = self.solve(t_out, boluses=boluses, rates=rates, inputs=inputs, x0=x0, t0=t0, ode=True, **ode_kw)
            part = full[:, idx, :]
        else:
            C = np.zeros((len(idx), self.m))
            C[np.arange(len(idx)), idx] = 1.0
            prob = LinearProblem(self.K, x0, list(boluses), list(rates), self.forcings(inputs), t0)
            part = solve(prob, t_out, C=C, system=self.system) if idx else np.zeros((len(t_out), 0, self.n))
        return self.outputs({c: part[:, k, :] for k, c in enumerate(need)}, t_out, inputs, names)

    def outputs(self, states: np.ndarray | dict[str, np.ndarray], t_out: np.ndarray,
                inputs: Inputs | dict[str, np.ndarray] | None = None,
                names: list[str] | None = None, dtype=None) -> dict[str, np.ndarray]:
        """Spec outputs (T, n) from states (T, m, n), or from a dict compartment → (T, n) (others taken as 0).

        ``inputs`` is an :class:`Inputs` grid (interpolated at ``t_out``) or a dict of values already at
        ``t_out``. ``dtype=np.float32`` evaluates in single precision (large output batches)."""
        if dtype is not None:
            ns_d = {k: v.astype(dtype) for k, v in self.ns.items()}
            if isinstance(inputs, dict):
                inputs = {k: np.asarray(v).astype(dtype) for k, v in inputs.items()}
            if isinstance(states, dict):
                states = {k: np.asarray(v).astype(dtype) for k, v in states.items()}
        else:
            ns_d = self.ns
        ns: dict[str, object] = {k: v[None, :] for k, v in ns_d.items()}
        if isinstance(states, dict):
            for c in self.spec.state_names:
                ns[c] = states.get(c, 0.0)
        else:
            for i, c in enumerate(self.spec.state_names):
                ns[c] = states[:, i, :]
        if isinstance(inputs, dict):
            ns.update(inputs)
        elif inputs is not None:
            ns.update(inputs.at(np.asarray(t_out)))
        exprs = self.spec.expressions("outputs")
        if names is not None:
            deps = self._output_deps(names)
            exprs = {k: e for k, e in exprs.items() if k in deps}
        if self.spec.algebraic:
            alg = self.spec.expressions("algebraic")
            needed = closure({nm for e in exprs.values() for nm in e.names}, alg)
            evaluate_all({k: alg[k] for k in needed}, ns)
        res = evaluate_all(exprs, ns)
        T = len(t_out)
        keep = names if names is not None else list(res)
        return {k: np.broadcast_to(np.asarray(res[k], dtype=float), (T, self.n)) for k in keep}
