"""Compiled Rosenbrock kernel: the template that :mod:`kbone.model.jit` joins with a spec's generated
nonlinear term ``nl(x, p, out)`` and compiles with numba. Not imported on its own.

It is the algorithm of :class:`kbone.model.ode._Rosenbrock` (same tableau form, error norm and step
control) written as plain loops over subjects, so that each subject's steps cost microseconds:
``x' = K x + rate + nl(x)`` for one autonomous segment between dose times, per subject.
"""

import numpy as np
from numba import njit


def nl(x, p, out):  # pragma: no cover - replaced by the generated term when the kernel is compiled
    raise NotImplementedError


@njit(cache=True, error_model="numpy")
def _rhs(K, x, p, rate, out):
    m = x.shape[0]
    for i in range(m):
        acc = rate[i]
        for j in range(m):
            acc += K[i, j] * x[j]
        out[i] = acc
    nl(x, p, out)


@njit(cache=True, error_model="numpy")
def _lu(G, piv):
    """In-place LU factorisation with partial pivoting of the small matrix G (rows swapped as in ``piv``)."""
    m = G.shape[0]
    for k in range(m):
        p = k
        big = abs(G[k, k])
        for i in range(k + 1, m):
            if abs(G[i, k]) > big:
                big = abs(G[i, k])
                p = i
        piv[k] = p
        if p != k:
            for j in range(m):
                tmp = G[k, j]
                G[k, j] = G[p, j]
                G[p, j] = tmp
        for i in range(k + 1, m):
            G[i, k] /= G[k, k]
            for j in range(k + 1, m):
                G[i, j] -= G[i, k] * G[k, j]


@njit(cache=True, error_model="numpy")
def _lu_solve(G, piv, b):
    """Solve in place (b becomes the solution) with the factors of :func:`_lu`."""
    m = G.shape[0]
    for k in range(m):
        p = piv[k]
        if p != k:
            tmp = b[k]
            b[k] = b[p]
            b[p] = tmp
    for i in range(m):
        for j in range(i):
            b[i] -= G[i, j] * b[j]
    for i in range(m - 1, -1, -1):
        for j in range(i + 1, m):
            b[i] -= G[i, j] * b[j]
        b[i] /= G[i, i]


@njit(cache=True, error_model="numpy")
def _step(K, x, p, rate, h, gamma, A, C, M, E, newf, reads, f0, ks, xn, err, G, piv, g0, g1, xp, fi, y):
    """One step of size h from x; fills xn (new state) and err (error estimate). f0 = f(x) is built from the
    nonlinear term's value g0, which the Jacobian's finite differences need as well (one evaluation)."""
    m = x.shape[0]
    S = M.shape[0]
    for i in range(m):
        for j in range(m):
            G[i, j] = -K[i, j]
        G[i, i] += 1.0 / (h * gamma)
        g0[i] = 0.0
        xp[i] = x[i]
    nl(x, p, g0)
    for i in range(m):
        acc = rate[i] + g0[i]
        for j in range(m):
            acc += K[i, j] * x[j]
        f0[i] = acc
    for jj in range(reads.shape[0]):
        j = reads[jj]
        d = 1e-7 * max(abs(x[j]), 1e-6)
        xp[j] = x[j] + d
        for i in range(m):
            g1[i] = 0.0
        nl(xp, p, g1)
        for i in range(m):
            G[i, j] -= (g1[i] - g0[i]) / d
        xp[j] = x[j]
    _lu(G, piv)
    for i in range(m):
        fi[i] = f0[i]
    for st in range(S):
        if st > 0 and newf[st]:
            for i in range(m):
                acc = x[i]
                for j in range(st):
                    acc += A[st, j] * ks[j, i]
                y[i] = acc
            _rhs(K, y, p, rate, fi)
        for i in range(m):
            acc = fi[i]
            for j in range(st):
                acc += C[st, j] / h * ks[j, i]
            ks[st, i] = acc
        _lu_solve(G, piv, ks[st])
    for i in range(m):
        a = x[i]
        b = 0.0
        for st in range(S):
            a += M[st] * ks[st, i]
            b += E[st] * ks[st, i]
        xn[i] = a
        err[i] = b


@njit(cache=True, error_model="numpy")
def integrate(K, x0, P, rate, t_a, stops, rtol, atol, max_step, h0, gamma, A, C, M, E, newf, order, reads, out, hout):
    """Every subject from t_a through the sorted ``stops``: states into ``out`` (len(stops), n, m), last step
    sizes into ``hout``. Returns the number of steps taken (accepted and rejected), or -1 - s if subject s
    failed (step size underflow or non-finite states)."""
    n, m = x0.shape
    S = M.shape[0]
    expo = 1.0 / order
    steps = 0
    f0 = np.empty(m)
    ks = np.zeros((S, m))
    xn = np.empty(m)
    err = np.empty(m)
    G = np.empty((m, m))
    piv = np.empty(m, dtype=np.int64)
    g0 = np.empty(m)
    g1 = np.empty(m)
    xp = np.empty(m)
    fi = np.empty(m)
    y = np.empty(m)
    for s in range(n):
        x = x0[s].copy()
        t = t_a
        h = min(h0[s], max_step)
        Ks = K[s]
        ps = P[s]
        rs = rate[s]
        for k in range(stops.shape[0]):
            t_stop = stops[k]
            while t < t_stop:
                left = t_stop - t
                last = h >= left
                hs = left if last else h
                _step(Ks, x, ps, rs, hs, gamma, A, C, M, E, newf, reads, f0, ks, xn, err, G, piv, g0, g1, xp, fi, y)
                steps += 1
                e = 0.0
                finite = True
                for i in range(m):
                    if not np.isfinite(xn[i]):
                        finite = False
                    sc = atol + rtol * max(abs(x[i]), abs(xn[i]))
                    e += (err[i] / sc) ** 2
                e = np.sqrt(e / m) if finite else np.inf
                if e <= 1.0:
                    t = t_stop if last else t + hs
                    x[:] = xn
                    fac = 5.0 if e == 0.0 else min(5.0, max(0.2, 0.9 * e ** -expo))
                    if not last or fac < 1.0:
                        h = min(hs * fac, max_step)
                else:
                    if hs < 1e-12 * max(abs(t), 1.0):
                        return -1 - s
                    fac = 0.2 if not np.isfinite(e) else max(0.2, 0.9 * e ** -expo)
                    h = hs * fac
            for i in range(m):
                out[k, s, i] = x[i]
        hout[s] = h
    return steps
