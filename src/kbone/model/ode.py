"""General ODE path (scipy ``solve_ivp``) for systems with nonlinear terms, vectorised over subjects.

The problem is the linear one of :mod:`kbone.model.linear` (rate matrix K, boluses, zero-order rates,
piecewise-linear forcing) plus an optional ``nonlinear(t, x)`` term returning extra rates (m, n) from
the states (m, n). All subjects are integrated as one system (states flattened), segment by segment
between dose times, so a population costs one call per segment. Used for nonlinear specs (e.g.
saturable elimination) and, with ``n = 1`` per call, as the per-subject reference in tests and
benchmarks. The solver knows nothing of what the compartments are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from kbone.model.linear import Bolus, Forcing, RateChange


@dataclass
class ODEProblem:
    K: np.ndarray                                   # (n, m, m)
    x0: np.ndarray                                  # (n, m)
    boluses: list[Bolus] = field(default_factory=list)
    rates: list[RateChange] = field(default_factory=list)
    forcings: list[Forcing] = field(default_factory=list)
    nonlinear: Callable[[float, np.ndarray], np.ndarray] | None = None
    t0: float = 0.0

    @property
    def n(self) -> int:
        return self.K.shape[0]

    @property
    def m(self) -> int:
        return self.K.shape[1]


def interp_rows(times: np.ndarray, values: np.ndarray, t: float) -> np.ndarray:
    """Linear interpolation in time of ``values`` (G, n) at scalar ``t`` (held constant outside)."""
    j = int(np.searchsorted(times, t))
    if j <= 0:
        return values[0]
    if j >= len(times):
        return values[-1]
    w = (t - times[j - 1]) / (times[j] - times[j - 1])
    return (1 - w) * values[j - 1] + w * values[j]


def solve_ode(prob: ODEProblem, t_out: np.ndarray, *, method: str = "LSODA", rtol: float = 1e-6,
              atol: float = 1e-9, max_step: float = np.inf) -> np.ndarray:
    """States (T, m, n) at sorted output times ``t_out``."""
    t_out = np.asarray(t_out, dtype=float)
    n, m = prob.n, prob.m
    Kt = np.ascontiguousarray(np.transpose(prob.K, (1, 2, 0)))     # (m, m, n)
    breaks = sorted({prob.t0, *[b.time for b in prob.boluses], *[r.time for r in prob.rates]}
                    | ({float(t_out[-1])} if t_out.size else set()))
    breaks = [b for b in breaks if b >= prob.t0]
    rates = sorted(prob.rates, key=lambda r: r.time)
    rate_now = np.zeros((m, n))

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        x = y.reshape(m, n)
        dx = np.einsum("ijn,jn->in", Kt, x) + rate_now
        for f in prob.forcings:
            dx[f.cmt] += interp_rows(f.times, f.values, t)
        if prob.nonlinear is not None:
            dx += prob.nonlinear(t, x)
        return dx.ravel()

    x = np.ascontiguousarray(prob.x0.T).copy()
    out = np.zeros((len(t_out), m, n))
    done = np.zeros(len(t_out), dtype=bool)
    ri = 0
    for si, t_a in enumerate(breaks):
        while ri < len(rates) and rates[ri].time <= t_a:
            rate_now[rates[ri].cmt] = rates[ri].rate
            ri += 1
        for b in prob.boluses:
            if b.time == t_a:
                x[b.cmt] += b.amount
        sel = (t_out == t_a) & ~done
        out[sel] = x
        done |= sel
        if si + 1 >= len(breaks):
            break
        t_b = breaks[si + 1]
        inside = (t_out > t_a) & (t_out < t_b)
        t_eval = np.concatenate([t_out[inside], [t_b]])
        sol = solve_ivp(rhs, (t_a, t_b), x.ravel(), method=method, t_eval=t_eval, rtol=rtol, atol=atol,
                        max_step=max_step)
        if not sol.success:
            raise RuntimeError(f"ODE solver failed between t={t_a} and {t_b}: {sol.message}")
        ys = sol.y.T.reshape(-1, m, n)
        out[inside] = ys[:-1]
        done |= inside
        x = ys[-1].copy()
    return out
