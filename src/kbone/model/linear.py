"""Exact solution of linear (affine) compartment systems, vectorised over subjects.

For dx/dt = K x + r(t) + f(t), with K a per-subject (n, m, m) rate matrix, r piecewise-constant
zero-order inputs and f piecewise-linear forcing, the state after a step Δ is exactly

    x(t+Δ) = Φ x(t) + Γ0 (r + f(t)) + Γ1 (f(t+Δ) − f(t)) / Δ,

with Φ = e^{KΔ}, Γ0 = ∫₀^Δ e^{Ks} ds and Γ1 = ∫₀^Δ e^{K(Δ−s)} s ds — all read from one matrix exponential
of a block matrix (Van Loan 1978). Bolus doses are added at their times (superposition). When every
subject's K is diagonalisable with a well-conditioned eigenbasis the propagation runs in modal
coordinates (element-wise products only); otherwise (e.g. transit chains with equal rates, whose K
has repeated eigenvalues) it uses the dense propagators. Arrays are laid out (compartment, subject)
so each step touches contiguous memory.

The solver knows nothing of what the compartments are. Time and amount units are the caller's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

_COND_MAX = 1e7


def expm(A: np.ndarray) -> np.ndarray:
    """Matrix exponential of a stack of square matrices (..., k, k), vectorised over the stack.

    Scaling and squaring with a degree-18 Taylor polynomial on matrices scaled to norm ≤ 1/2
    (truncation error < 1e-20 relative), so one batched matmul chain serves every subject.
    """
    A = np.asarray(A, dtype=float)
    norm = float(np.max(np.sum(np.abs(A), axis=-2))) if A.size else 0.0
    s = max(0, int(np.ceil(np.log2(norm / 0.5)))) if norm > 0.5 else 0
    X = A / (2.0 ** s)
    eye = np.broadcast_to(np.eye(A.shape[-1]), A.shape)
    E = eye.copy()
    for k in range(18, 0, -1):          # Horner: I + X/1 (I + X/2 (I + ... ))
        E = eye + (X @ E) / k
    for _ in range(s):
        E = E @ E
    return E


@dataclass
class Bolus:
    """Amount(s) added to compartment ``cmt`` at ``time``; ``amount`` is a scalar or a per-subject (n,) array."""

    time: float
    cmt: int
    amount: float | np.ndarray


@dataclass
class RateChange:
    """From ``time`` on, add ``rate`` (scalar or (n,); negative to stop) to the zero-order input into ``cmt``."""

    time: float
    cmt: int
    rate: float | np.ndarray


@dataclass
class Forcing:
    """Piecewise-linear input into ``cmt`` with values (G, n) at ``times`` (G,); held constant outside."""

    cmt: int
    times: np.ndarray
    values: np.ndarray


@dataclass
class LinearProblem:
    """Everything the solver needs; ``x0`` is (n, m) at time ``t0``."""

    K: np.ndarray
    x0: np.ndarray
    boluses: list[Bolus] = field(default_factory=list)
    rates: list[RateChange] = field(default_factory=list)
    forcings: list[Forcing] = field(default_factory=list)
    t0: float = 0.0

    @property
    def n(self) -> int:
        return self.K.shape[0]

    @property
    def m(self) -> int:
        return self.K.shape[1]


def _phi_gammas(K: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Φ, Γ0, Γ1 for step ``dt`` for every subject: each (n, m, m)."""
    n, m, _ = K.shape
    M = np.zeros((n, 3 * m, 3 * m))
    M[:, :m, :m] = K * dt
    eye = np.eye(m) * dt
    M[:, :m, m:2 * m] = eye
    M[:, m:2 * m, 2 * m:] = eye
    E = expm(M)
    # Γ blocks carry dt factors from the scaling: block(0,1) = Γ0, block(0,2) = Γ1 / 1
    return E[:, :m, :m], E[:, :m, m:2 * m], E[:, :m, 2 * m:]


def _modal(K: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Eigen-decomposition (λ (n,m), V (n,m,m), V⁻¹ (n,m,m)) if real and well conditioned, else None."""
    try:
        lam, V = np.linalg.eig(K)
    except np.linalg.LinAlgError:
        return None
    if np.iscomplexobj(lam):
        if np.max(np.abs(lam.imag)) > 1e-12 * max(1.0, float(np.max(np.abs(lam.real)))):
            return None
        lam, V = lam.real, V.real
    cond = np.linalg.cond(V)
    if not np.all(np.isfinite(cond)) or np.max(cond) > _COND_MAX:
        return None
    return lam, V, np.linalg.inv(V)


def _phi_fn(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(e^x − 1)/x and (e^x − 1 − x)/x², accurate near 0."""
    small = np.abs(x) < 1e-6
    xs = np.where(small, 1.0, x)
    em1 = np.expm1(xs)
    p1 = np.where(small, 1 + x / 2 + x * x / 6, em1 / xs)
    p2 = np.where(small, 0.5 + x / 6 + x * x / 24, (em1 - xs) / (xs * xs))
    return p1, p2


class LinearSystem:
    """A linear system for ``n`` subjects, with propagators cached per step length."""

    def __init__(self, K: np.ndarray, *, force_dense: bool = False):
        self.K = np.asarray(K, dtype=float)
        self.n, self.m, _ = self.K.shape
        eig = None if force_dense else _modal(self.K)
        self.modal = eig is not None
        if eig is not None:
            lam, V, Vi = eig
            self.lam = np.ascontiguousarray(lam.T)                        # (m, n)
            self.V = np.ascontiguousarray(np.transpose(V, (1, 2, 0)))     # (m_x, m_z, n)
            self.Vi = np.ascontiguousarray(np.transpose(Vi, (1, 2, 0)))   # (m_z, m_x, n)
        self._cache: dict[float, tuple] = {}

    def restricted(self, modes: np.ndarray) -> LinearSystem:
        """The same system keeping only the given modes (modal form): modes that no observation reads and
        that feed nothing observed can be dropped, since modes evolve independently."""
        sub = object.__new__(LinearSystem)
        sub.K, sub.n, sub.m, sub.modal = self.K, self.n, int(np.sum(modes)), True
        sub.lam = np.ascontiguousarray(self.lam[modes])
        sub.V = np.ascontiguousarray(self.V[:, modes, :])
        sub.Vi = np.ascontiguousarray(self.Vi[modes])
        sub._cache = {}
        return sub

    # ---- propagators ---------------------------------------------------------------------------
    def propagators(self, dt: float):
        key = dt if type(dt) is float and dt == round(dt, 9) else round(float(dt), 9)
        p = self._cache.get(key)
        if p is None:
            if self.modal:
                x = self.lam * dt
                p1, p2 = _phi_fn(x)
                p = (np.exp(x), p1 * dt, p2 * dt * dt)
            else:
                Phi, G0, G1 = _phi_gammas(self.K, dt)
                p = tuple(np.ascontiguousarray(np.transpose(a, (1, 2, 0))) for a in (Phi, G0, G1))
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = p
        return p

    # ---- coordinate changes (layout (m, n)) ---------------------------------------------------
    def to_internal(self, x: np.ndarray) -> np.ndarray:
        """(m, n) state → internal coordinates."""
        return np.einsum("ijn,jn->in", self.Vi, x) if self.modal else x.copy()

    def to_state(self, z: np.ndarray) -> np.ndarray:
        return np.einsum("ijn,jn->in", self.V, z) if self.modal else z

    def unit_input(self, cmt: int) -> np.ndarray:
        """Internal-coordinate image (m, n) of a unit amount in compartment ``cmt``."""
        if self.modal:
            return np.ascontiguousarray(self.Vi[:, cmt, :])
        e = np.zeros((self.m, self.n))
        e[cmt] = 1.0
        return e

    def observation(self, C: np.ndarray | None) -> np.ndarray:
        """Observation matrix (q, m, n) acting on internal coordinates (identity when C is None)."""
        if C is None:
            C = np.broadcast_to(np.eye(self.m)[:, :, None], (self.m, self.m, self.n))
        C = np.broadcast_to(C, (C.shape[0], self.m, self.n))
        return np.einsum("qjn,jkn->qkn", C, self.V) if self.modal else np.ascontiguousarray(C)

    # ---- stepping -----------------------------------------------------------------------------
    def step(self, z: np.ndarray, dt: float, u0: np.ndarray | None, slope: np.ndarray | None) -> np.ndarray:
        """Advance internal state z (m, n) by dt with constant input u0 and input slope (both internal)."""
        P, G0, G1 = self.propagators(dt)
        if self.modal:
            z *= P
            if u0 is not None:
                z += G0 * u0
            if slope is not None:
                z += G1 * slope
            return z
        new = np.einsum("ijn,jn->in", P, z)
        if u0 is not None:
            new += np.einsum("ijn,jn->in", G0, u0)
        if slope is not None:
            new += np.einsum("ijn,jn->in", G1, slope)
        return new

    def propagate(self, z: np.ndarray, dt: float) -> np.ndarray:
        """Homogeneous step: Φ z (in place in modal coordinates)."""
        P = self.propagators(dt)[0]
        if self.modal:
            z *= P
            return z
        return np.einsum("ijn,jn->in", P, z)

    def input_term(self, dt: float, u0: np.ndarray) -> np.ndarray:
        """Γ0 u0: the effect over a step of a constant input u0 (internal coordinates)."""
        G0 = self.propagators(dt)[1]
        return G0 * u0 if self.modal else np.einsum("ijn,jn->in", G0, u0)

    # ---- steady states ------------------------------------------------------------------------
    def steady_state_infusion(self, rate: np.ndarray) -> np.ndarray:
        """State (n, m) at steady state under constant input ``rate`` (n, m): x = −K⁻¹ r."""
        return -np.linalg.solve(self.K, rate[..., None])[..., 0]

    def periodic_trough(self, dose: np.ndarray, tau: float) -> np.ndarray:
        """State (n, m) just before a dose at steady state of repeated boluses ``dose`` (n, m) every ``tau``."""
        Phi = expm(self.K * tau)
        eye = np.eye(self.m)[None]
        return np.linalg.solve(eye - Phi, (Phi @ dose[..., None]))[..., 0]


def _grid(prob: LinearProblem, t_out: np.ndarray) -> np.ndarray:
    pts = [np.asarray(t_out, dtype=float), [prob.t0]]
    pts += [[b.time for b in prob.boluses], [r.time for r in prob.rates]]
    pts += [f.times for f in prob.forcings]
    g = np.unique(np.concatenate([np.asarray(p, dtype=float).ravel() for p in pts]))
    return g[g >= prob.t0]


def iter_solve(prob: LinearProblem, t_out: np.ndarray, *, C: np.ndarray | None = None,
               chunk: int = 0, system: LinearSystem | None = None,
               ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (times, Y) chunks of observations Y (T_chunk, q, n) at the sorted output times ``t_out``.

    ``C`` (q, m) or (q, m, n) observes linear combinations of the states; without it Y holds all
    states (q = m). ``chunk`` = output times per chunk (0 = all at once).
    """
    t_out = np.asarray(t_out, dtype=float)
    if t_out.size and (np.any(np.diff(t_out) < 0) or t_out[0] < prob.t0):
        raise ValueError("output times must be sorted and not before t0")
    sys_ = system or LinearSystem(prob.K)
    n, m = prob.n, prob.m
    if C is not None:
        C = np.asarray(C, dtype=float)
        C = C[:, :, None] if C.ndim == 2 else C          # (q, m) or (q, m, n)
    Cz = sys_.observation(C)
    if sys_.modal and C is not None:
        used = np.any(np.abs(Cz) > 1e-13 * np.max(np.abs(Cz)), axis=(0, 2))
        if not np.all(used):                   # unobserved modes never influence the outputs: skip them
            sys_ = sys_.restricted(used)
            Cz = np.ascontiguousarray(Cz[:, used, :])
            m = sys_.m
    grid = _grid(prob, t_out)
    out_idx = np.searchsorted(grid, t_out)

    # boluses grouped by grid index; rates and forcings as functions of the grid
    bol: dict[int, list[Bolus]] = {}
    for b in prob.boluses:
        bol.setdefault(int(np.searchsorted(grid, b.time)), []).append(b)
    units = {c: sys_.unit_input(c) for c in {b.cmt for b in prob.boluses} | {r.cmt for r in prob.rates}
             | {f.cmt for f in prob.forcings}}
    rate_state = np.zeros((prob.m, n))       # compartment coordinates
    rate_events: dict[int, list[RateChange]] = {}
    for r in sorted(prob.rates, key=lambda r: r.time):
        rate_events.setdefault(int(np.searchsorted(grid, r.time)), []).append(r)
    forc = list(prob.forcings)

    def forcing_at(k: int) -> np.ndarray | None:
        if not forc:
            return None
        tot = np.zeros((m, n))
        t = grid[k]
        for f in forc:
            j = np.searchsorted(f.times, t)
            if j <= 0:
                v = f.values[0]
            elif j >= len(f.times):
                v = f.values[-1]
            elif f.times[j] == t:
                v = f.values[j]
            else:
                w = (t - f.times[j - 1]) / (f.times[j] - f.times[j - 1])
                v = (1 - w) * f.values[j - 1] + w * f.values[j]
            tot += units[f.cmt] * v
        return tot

    z = sys_.to_internal(np.ascontiguousarray(prob.x0.T))
    u_internal = np.zeros((m, n)) if prob.rates else None
    rate_version = 0
    const_cache: dict[tuple, np.ndarray] = {}
    bolus_cache: dict[tuple, np.ndarray] = {}     # a dose array shared by many boluses is transformed once
    f_k = forcing_at(0)
    T = len(t_out)
    size = chunk if chunk else T
    q = Cz.shape[0]
    buf = np.empty((min(size, T), q, n))
    buf_t: list[float] = []
    oi = 0
    last_dt, last_key = None, None
    for k in range(len(grid)):
        if k in rate_events:
            for r in rate_events[k]:
                rate_state[r.cmt] += r.rate
            u_internal = np.einsum("ijn,jn->in", sys_.Vi, rate_state) if sys_.modal else rate_state.copy()
            rate_version += 1
            const_cache.clear()
        for b in bol.get(k, ()):
            if isinstance(b.amount, np.ndarray):
                key = (b.cmt, id(b.amount))
                term = bolus_cache.get(key)
                if term is None or term[0] is not b.amount:
                    term = bolus_cache[key] = (b.amount, units[b.cmt] * b.amount)
                z += term[1]
            else:
                z += units[b.cmt] * b.amount
        while oi < T and out_idx[oi] == k:
            np.einsum("qjn,jn->qn", Cz, z, out=buf[len(buf_t)])
            buf_t.append(t_out[oi])
            oi += 1
            if len(buf_t) == size:
                yield np.array(buf_t), buf.copy()
                buf_t = []
                buf = np.empty((min(size, T - oi), q, n)) if oi < T else buf
        if k + 1 == len(grid) or oi >= T:
            break
        dt = grid[k + 1] - grid[k]
        if dt != last_dt:
            last_dt, last_key = dt, round(float(dt), 9)
        if f_k is None:       # constant inputs only: reuse Γ0 u for repeated step lengths
            z = sys_.propagate(z, last_key)
            if u_internal is not None:
                ck = (last_key, rate_version)
                c = const_cache.get(ck)
                if c is None:
                    c = const_cache[ck] = sys_.input_term(last_key, u_internal)
                z += c
            continue
        f_next = forcing_at(k + 1)
        u0 = f_k if u_internal is None else u_internal + f_k
        z = sys_.step(z, dt, u0, (f_next - f_k) / dt)
        f_k = f_next
    if buf_t:
        yield np.array(buf_t), buf[:len(buf_t)].copy()


def solve(prob: LinearProblem, t_out: np.ndarray, *, C: np.ndarray | None = None,
          system: LinearSystem | None = None) -> np.ndarray:
    """Observations (T, q, n) at ``t_out`` (all states when ``C`` is None)."""
    parts = [y for _, y in iter_solve(prob, t_out, C=C, system=system)]
    if not parts:
        return np.zeros((0, prob.m if C is None else np.asarray(C).shape[0], prob.n))
    return np.concatenate(parts, axis=0)


def reduce_chunks(prob: LinearProblem, t_out: np.ndarray, fn: Callable[[np.ndarray, np.ndarray], None], *,
                  C: np.ndarray | None = None, chunk: int = 365) -> None:
    """Stream observations chunk by chunk into ``fn(times, Y)`` (for long simulations)."""
    for t, y in iter_solve(prob, t_out, C=C, chunk=chunk):
        fn(t, y)
