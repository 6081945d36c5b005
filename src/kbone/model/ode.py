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
from scipy import sparse
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


def _block_jacobian(f: Callable[[float, np.ndarray], np.ndarray], m: int, n: int):
    """Sparse Jacobian of a system whose subjects are independent: column j of every subject's block is
    found with one evaluation (compartment j of all subjects perturbed at once)."""
    rows = (np.arange(m)[:, None, None] * n + np.arange(n)[None, None, :]) * np.ones((1, m, 1), int)
    cols = (np.arange(m)[None, :, None] * n + np.arange(n)[None, None, :]) * np.ones((m, 1, 1), int)

    def jac(t: float, y: np.ndarray):
        x = y.reshape(m, n)
        f0 = f(t, y).reshape(m, n)
        vals = np.empty((m, m, n))
        for j in range(m):
            h = 1e-7 * np.maximum(np.abs(x[j]), 1e-3)
            xp = x.copy()
            xp[j] += h
            vals[:, j, :] = (f(t, xp.ravel()).reshape(m, n) - f0) / h
        return sparse.csc_matrix((vals.ravel(), (rows.ravel(), cols.ravel())), shape=(m * n, m * n))

    return jac


def solve_ode(prob: ODEProblem, t_out: np.ndarray, *, method: str | None = None, rtol: float = 1e-6,
              atol: float = 1e-9, max_step: float = np.inf) -> np.ndarray:
    """States (T, m, n) at sorted output times ``t_out``.

    Default method: LSODA for small systems; RK45 for populations (an implicit method on the stacked
    system pays for a Jacobian of every subject; BDF/Radau get a sparse block Jacobian when asked for)."""
    t_out = np.asarray(t_out, dtype=float)
    n, m = prob.n, prob.m
    if method is None:
        method = "LSODA" if n * m <= 64 else "RK45"
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
            rate_now[rates[ri].cmt] += rates[ri].rate
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
        kw = {"jac": _block_jacobian(rhs, m, n)} if method in ("BDF", "Radau") else {}
        sol = solve_ivp(rhs, (t_a, t_b), x.ravel(), method=method, t_eval=t_eval, rtol=rtol, atol=atol,
                        max_step=max_step, **kw)
        if not sol.success:
            raise RuntimeError(f"ODE solver failed between t={t_a} and {t_b}: {sol.message}")
        ys = sol.y.T.reshape(-1, m, n)
        out[inside] = ys[:-1]
        done |= inside
        x = ys[-1].copy()
    return out


def steady_state(K: np.ndarray, rate: np.ndarray, nonlinear: Callable[[float, np.ndarray], np.ndarray] | None,
                 x_guess: np.ndarray, *, tol: float = 1e-10, max_iter: int = 60) -> np.ndarray | None:
    """Root of K x + rate + nonlinear(x) = 0 per subject by damped Newton (states (n, m)); None if it fails."""
    n, m, _ = K.shape
    Kt = np.transpose(K, (1, 2, 0))
    x = np.ascontiguousarray(x_guess.T).copy()
    r = rate.T

    def f(xx: np.ndarray) -> np.ndarray:
        out = np.einsum("ijn,jn->in", Kt, xx) + r
        return out + nonlinear(0.0, xx) if nonlinear is not None else out

    rscale = np.maximum(np.max(np.abs(r), axis=0), 1e-300)
    for _ in range(max_iter):
        fx = f(x)
        if np.all(np.abs(fx) <= tol * rscale):
            break
        J = np.empty((n, m, m))
        for j in range(m):
            h = 1e-7 * np.maximum(np.abs(x[j]), 1e-6)
            xp = x.copy()
            xp[j] += h
            J[:, :, j] = ((f(xp) - fx) / h).T
        try:
            step = np.linalg.solve(J, -fx.T[..., None])[..., 0].T
        except np.linalg.LinAlgError:
            return None
        lam = 1.0
        norm0 = np.linalg.norm(fx, axis=0)
        for _ls in range(30):
            xn = np.maximum(x + lam * step, 0.0)
            if np.all(np.linalg.norm(f(xn), axis=0) <= norm0 * (1 - 1e-4 * lam) + 1e-300):
                break
            lam *= 0.5
        done = np.all(np.abs(xn - x) <= 1e-12 * (np.abs(x) + 1e-300))
        x = xn
        if done:
            break
    else:
        return None
    if not np.all(np.isfinite(x)):
        return None
    return x.T
