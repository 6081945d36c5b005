"""General ODE path for systems with nonlinear terms, vectorised over subjects.

The problem is the linear one of :mod:`kbone.model.linear` (rate matrix K, boluses, zero-order rates,
piecewise-linear forcing) plus an optional ``nonlinear(t, x)`` term returning extra rates (m, n) from
the states (m, n). Integration runs segment by segment between dose times.

Integrators:

- Rosenbrock methods (``"ROS4"`` default, ``"ROS3"``, ``"ROS2"``; tableaus in :data:`TABLEAUS`), batched over
  subjects with a step size per subject: every subject has its own Jacobian (the rate matrix plus
  finite-difference columns for the states the nonlinear term reads) and its own small linear solves.
  Stiff saturable elimination (MK-4: a time constant of minutes against a dosing interval of a day) then
  costs tens of steps per day instead of thousands for an explicit method. Autonomous problems with a
  compiled nonlinear term (:mod:`kbone.model.jit`) run the same method in the numba kernel.
- any :func:`scipy.integrate.solve_ivp` method (``"RK45"``, ``"LSODA"``, ``"BDF"``, ``"Radau"``) on
  the stacked system; the tests use these as the reference implementation.

The solvers know nothing of what the compartments are.
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
    nonlinear_reads: tuple[int, ...] | None = None   # states the nonlinear term reads (None: all)
    nonlinear_timed: bool = True                     # does the nonlinear term depend on t (inputs)?
    compiled: object | None = None                   # kbone.model.jit.CompiledTerm of the nonlinear term
    params: np.ndarray | None = None                 # (n, q) its per-subject parameters

    @property
    def n(self) -> int:
        return self.K.shape[0]

    @property
    def m(self) -> int:
        return self.K.shape[1]

    @property
    def autonomous(self) -> bool:
        """No forcings and a nonlinear term (if any) that does not depend on t."""
        return not self.forcings and not (self.nonlinear is not None and self.nonlinear_timed)


def interp_rows(times: np.ndarray, values: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Linear interpolation in time of ``values`` (G, n) at ``t`` (held constant outside the grid).

    ``t`` is one time for every subject, or one time per subject ((n,): the batched Rosenbrock integrator,
    where each subject has its own clock)."""
    if np.ndim(t) == 0:
        j = int(np.searchsorted(times, t))
        if j <= 0:
            return values[0]
        if j >= len(times):
            return values[-1]
        w = (t - times[j - 1]) / (times[j] - times[j - 1])
        return (1 - w) * values[j - 1] + w * values[j]
    tt = np.clip(np.asarray(t, dtype=float), times[0], times[-1])
    j = np.clip(np.searchsorted(times, tt), 1, max(len(times) - 1, 1))
    cols = np.arange(values.shape[1])
    if len(times) == 1:
        return values[0]
    t0, t1 = times[j - 1], times[j]
    w = np.where(t1 > t0, (tt - t0) / np.where(t1 > t0, t1 - t0, 1.0), 1.0)
    return (1 - w) * values[j - 1, cols] + w * values[j, cols]


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


@dataclass(frozen=True)
class RosenbrockTableau:
    """A Rosenbrock method in the transformed form of Hairer & Wanner (Solving ODEs II, 2nd ed. 1996, §IV.7):
    (I/(hγ) - J) K_i = f(t + α_i h, x + Σ_j a_ij K_j) + Σ_j (c_ij / h) K_j;  x1 = x + Σ m_j K_j;  error Σ e_j K_j.
    ``new_f[i]`` is False where stage i reuses the previous stage's f."""

    name: str
    order: int                     # order of the embedded estimate + 1 (exponent of the step controller)
    gamma: float
    a: tuple[tuple[float, ...], ...]
    c: tuple[tuple[float, ...], ...]
    m: tuple[float, ...]
    e: tuple[float, ...]
    alpha: tuple[float, ...]
    new_f: tuple[bool, ...]


_G2 = 1.0 + 1.0 / np.sqrt(2.0)
TABLEAUS = {
    # Verwer, Spee, Blom & Hundsdorfer, SIAM J Sci Comput 1999;20:1456-80: 2 stages, order 2, L-stable
    "ROS2": RosenbrockTableau("ROS2", 2, _G2, ((), (1.0 / _G2,)), ((), (-2.0 / _G2,)),
                              (1.5 / _G2, 0.5 / _G2), (0.5 / _G2, 0.5 / _G2), (0.0, 1.0), (True, True)),
    # Sandu, Verwer, Blom et al., Atmos Environ 1997;31:3459-72: 3 stages, order 3(2), L-stable, 2 f-evaluations
    "ROS3": RosenbrockTableau(
        "ROS3", 3, 0.43586652150845899942,
        ((), (1.0,), (1.0, 0.0)),
        ((), (-1.0156171083877702092,), (4.0759956452537699825, 9.2076794298330791242)),
        (1.0, 6.1697947043828245593, -0.42772256543218573326),
        (0.5, -2.9079558716805469822, 0.22354069897811569627),
        (0.0, 0.43586652150845899942, 0.43586652150845899942), (True, True, False)),
    # Hairer & Wanner 1996 (ROS4, the L-stable variant of Shampine's method): 4 stages, order 4(3), 3 f-evaluations
    "ROS4": RosenbrockTableau(
        "ROS4", 4, 0.57282,
        ((), (2.0,), (1.867943637803922, 0.2344449711399156), (1.867943637803922, 0.2344449711399156, 0.0)),
        ((), (-7.137615036412310,), (2.580708087951457, 0.6515950076447975),
         (-2.137148994382534, -0.3214669691237626, -0.6949742501781779)),
        (2.255570073418735, 0.2870493262186792, 0.4353179431840180, 1.093502252409163),
        (-0.2815431932141155, -0.07276199124938920, -0.1082196201495311, -1.093502252409163),
        (0.0, 1.14564, 0.65521686381559, 0.65521686381559), (True, True, True, False)),
}


class _Rosenbrock:
    """A Rosenbrock method on ``x' = f(t, x)`` for ``n`` independent subjects with ``m`` states each
    (states (m, n)), vectorised over subjects.

    Every subject has its own clock and step size (vectors (n,)): one subject's sharp transition (e.g. a
    saturable pathway leaving saturation) does not shorten the others' steps, and one iteration advances
    every subject that has not reached the next stop by one step of its own size.

    The Jacobian of subject ``s`` is ``K[s]`` plus finite-difference columns of the nonlinear term for the
    states it reads; when the right-hand side depends on t (forcings, inputs), time is carried as an extra
    state with its own Jacobian column, the usual way a Rosenbrock method treats non-autonomous systems.
    """

    def __init__(self, prob: ODEProblem, rhs: Callable[[np.ndarray, np.ndarray], np.ndarray],
                 linear: Callable[[np.ndarray, np.ndarray], np.ndarray], tab: RosenbrockTableau,
                 rtol: float, atol: float, max_step: float):
        """``rhs`` is the whole right-hand side, ``linear`` all of it but ``prob.nonlinear``."""
        self.prob, self.rhs, self.linear, self.tab = prob, rhs, linear, tab
        self.rtol, self.atol, self.max_step = rtol, atol, max_step
        n, m = prob.n, prob.m
        self.timed = not prob.autonomous
        self.size = m + 1 if self.timed else m
        self.J0 = np.zeros((n, self.size, self.size))
        self.J0[:, :m, :m] = prob.K
        self.eye = np.eye(self.size)[None]
        self.reads = list(range(m)) if prob.nonlinear_reads is None else list(prob.nonlinear_reads)
        self.h: np.ndarray | None = None

    def jacobian(self, t: np.ndarray, x: np.ndarray, f0: np.ndarray, g0: np.ndarray | None) -> np.ndarray:
        """(n, s, s): the rate matrix plus the nonlinear term's (and time's) finite-difference columns;
        ``f0`` = f(t, x) and ``g0`` the nonlinear term's value there (None without one), both (m, n)."""
        J = self.J0.copy()
        m = self.prob.m
        nl = self.prob.nonlinear
        if g0 is not None and self.reads:
            for j in self.reads:
                d = 1e-7 * np.maximum(np.abs(x[j]), 1e-6)
                xp = x.copy()
                xp[j] += d
                J[:, :m, j] += ((nl(t, xp) - g0) / d).T
        if self.timed:
            d = 1e-7 * np.maximum(np.abs(t), 1.0)
            J[:, :m, m] = ((self.rhs(t + d, x) - f0) / d).T
        return J

    def _aug(self, f: np.ndarray) -> np.ndarray:
        """f (m, n) as the stage right-hand side (n, s): transposed, with time's rate 1 when carried."""
        return f.T if not self.timed else np.concatenate([f.T, np.ones((self.prob.n, 1))], axis=1)

    def step(self, t: np.ndarray, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step per subject from (t, x) of sizes h (n,), all > 0: new states (m, n) and each subject's
        scaled error norm (n,)."""
        tab, m = self.tab, self.prob.m
        nl = self.prob.nonlinear
        g0 = nl(t, x) if nl is not None else None
        f0 = self.linear(t, x) if g0 is None else self.linear(t, x) + g0
        J = self.jacobian(t, x, f0, g0)
        f0 = self._aug(f0)
        Ginv = np.linalg.inv(self.eye / (h * tab.gamma)[:, None, None] - J)
        ks: list[np.ndarray] = []
        fi = f0
        for i in range(len(tab.m)):
            if i and tab.new_f[i]:
                y = x + sum(a * k[:, :m].T for a, k in zip(tab.a[i], ks, strict=False) if a)
                fi = self._aug(self.rhs(t + tab.alpha[i] * h, y))
            r = fi + sum((c / h)[:, None] * k for c, k in zip(tab.c[i], ks, strict=False) if c) if i else fi
            ks.append(np.einsum("nij,nj->ni", Ginv, r))
        x_new = x + sum(mj * k[:, :m] for mj, k in zip(tab.m, ks, strict=True) if mj).T
        err = sum(ej * k[:, :m] for ej, k in zip(tab.e, ks, strict=True) if ej).T
        scale = self.atol + self.rtol * np.maximum(np.abs(x), np.abs(x_new))
        e = np.sqrt(np.mean((err / scale) ** 2, axis=0))
        e[~np.all(np.isfinite(x_new), axis=0)] = np.inf
        return x_new, e

    def advance(self, x: np.ndarray, t_a: float, stops: np.ndarray) -> np.ndarray:
        """States (len(stops), m, n) at the sorted times ``stops`` (the last is the segment end)."""
        n = self.prob.n
        out = np.empty((len(stops), *x.shape))
        t = np.full(n, float(t_a))
        h = self.h if self.h is not None else _first_step(n, t_a, stops, self.max_step)
        expo = 1.0 / self.tab.order
        for k, t_stop in enumerate(stops):
            while True:
                left = t_stop - t
                active = left > 0
                if not active.any():
                    break
                last = active & (h >= left)
                hs = np.where(active, np.where(last, left, h), 1.0)   # inactive subjects: a dummy step, discarded
                x_new, e = self.step(t, x, hs)
                ok = active & (e <= 1.0)
                bad = active & ~ok
                if np.any(bad & (hs < 1e-12 * np.maximum(np.abs(t), 1.0))):
                    raise RuntimeError(f"ODE solver ({self.tab.name}) failed near t={float(np.min(t[bad]))}: "
                                       "step size too small")
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    fac = np.where(e == 0, 5.0, np.clip(0.9 * e ** -expo, 0.2, 5.0))
                fac = np.where(np.isfinite(e), fac, 0.2)
                t = np.where(ok, np.where(last, t_stop, t + hs), t)
                x = np.where(ok[None, :], x_new, x)
                grow = ok & (~last | (fac < 1.0))          # a step cut short to hit the stop keeps its size
                h = np.where(grow | bad, np.minimum(hs * fac, self.max_step), h)
            out[k] = x
        self.h = h
        return out


class _CompiledRosenbrock:
    """The same method through the compiled kernel (:mod:`kbone.model.jit`): subjects one after the other,
    each with its own steps, in machine code. For autonomous problems (no forcings, no timed inputs)."""

    def __init__(self, prob: ODEProblem, tab: RosenbrockTableau, rtol: float, atol: float, max_step: float):
        S = len(tab.m)
        self.kernel = prob.compiled.module.integrate
        self.K = np.ascontiguousarray(prob.K)
        self.P = prob.params
        self.tab = (tab.gamma, _square(tab.a, S), _square(tab.c, S), np.array(tab.m, float), np.array(tab.e, float),
                    np.array(tab.new_f, dtype=np.bool_), float(tab.order),
                    np.array(range(prob.m) if prob.nonlinear_reads is None else prob.nonlinear_reads, dtype=np.int64))
        self.rtol, self.atol, self.max_step = float(rtol), float(atol), float(max_step)
        self.h: np.ndarray | None = None
        self.name = tab.name

    def advance(self, x: np.ndarray, t_a: float, stops: np.ndarray, rate: np.ndarray) -> np.ndarray:
        n, m = self.K.shape[0], self.K.shape[1]
        h = self.h if self.h is not None else _first_step(n, t_a, stops, self.max_step)
        out = np.empty((len(stops), n, m))
        hout = np.empty(n)
        r = self.kernel(self.K, np.ascontiguousarray(x.T), self.P, np.ascontiguousarray(rate.T), float(t_a),
                        np.ascontiguousarray(stops, dtype=float), self.rtol, self.atol,
                        self.max_step if np.isfinite(self.max_step) else 1e300, h, *self.tab, out, hout)
        if r < 0:
            raise RuntimeError(f"ODE solver ({self.name}, compiled) failed for subject {-1 - r} after t={t_a}")
        self.h = hout
        return np.transpose(out, (0, 2, 1))


def _first_step(n: int, t_a: float, stops: np.ndarray, max_step: float) -> np.ndarray:
    """Initial step size per subject: a thousandth of the first segment (the controller adapts from there)."""
    return np.full(n, min(1e-3 * max(float(stops[-1]) - t_a, 1e-9), max_step))


def _square(rows: tuple[tuple[float, ...], ...], S: int) -> np.ndarray:
    out = np.zeros((S, S))
    for i, row in enumerate(rows):
        out[i, :len(row)] = row
    return out


def solve_ode(prob: ODEProblem, t_out: np.ndarray, *, method: str = "ROS4", rtol: float = 1e-4,
              atol: float = 1e-7, max_step: float = np.inf) -> np.ndarray:
    """States (T, m, n) at sorted output times ``t_out``.

    ``method``: a Rosenbrock tableau ("ROS4" default, "ROS3", "ROS2"; compiled when ``prob.compiled`` is set
    and the problem is autonomous) or a :func:`scipy.integrate.solve_ivp` method ("RK45", "LSODA", ...)."""
    t_out = np.asarray(t_out, dtype=float)
    n, m = prob.n, prob.m
    Kt = np.ascontiguousarray(np.transpose(prob.K, (1, 2, 0)))     # (m, m, n)
    breaks = sorted({prob.t0, *[b.time for b in prob.boluses], *[r.time for r in prob.rates]}
                    | ({float(t_out[-1])} if t_out.size else set()))
    breaks = [b for b in breaks if b >= prob.t0]
    rates = sorted(prob.rates, key=lambda r: r.time)
    rate_now = np.zeros((m, n))

    def linear(t: float | np.ndarray, x: np.ndarray) -> np.ndarray:
        dx = np.einsum("ijn,jn->in", Kt, x) + rate_now
        for fc in prob.forcings:
            dx[fc.cmt] += interp_rows(fc.times, fc.values, t)
        return dx

    def f(t: float | np.ndarray, x: np.ndarray) -> np.ndarray:
        dx = linear(t, x)
        if prob.nonlinear is not None:
            dx += prob.nonlinear(t, x)
        return dx

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        return f(t, y.reshape(m, n)).ravel()

    ros = comp = None
    if method in TABLEAUS:
        if prob.compiled is not None and prob.autonomous:
            comp = _CompiledRosenbrock(prob, TABLEAUS[method], rtol, atol, max_step)
        else:
            ros = _Rosenbrock(prob, f, linear, TABLEAUS[method], rtol, atol, max_step)
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
        if comp is not None:
            ys = comp.advance(x, t_a, t_eval, rate_now)
        elif ros is not None:
            ys = ros.advance(x, t_a, t_eval)
        else:
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
