"""Inverse-variance pooling: fixed effect and random effects with eight tau² estimators.

``rma(yi, vi, method=..., test=...)`` follows the definitions of metafor's ``rma.uni`` (Viechtbauer 2010,
J Stat Softw 36(3); metafor 3.8 documentation), for models with an intercept and optional moderators:

- ``FE`` fixed (equal) effect: weights 1/vi, tau² = 0.
- ``DL`` DerSimonian-Laird, ``HE`` Hedges (variance component), ``HS`` Hunter-Schmidt — closed-form
  method-of-moments estimators, truncated at 0.
- ``SJ`` Sidik-Jonkman (crude start from the OLS residuals, one update; never negative).
- ``ML`` / ``REML`` (restricted) maximum likelihood and ``PM`` Paule-Mandel — solved to machine precision
  on [0, ∞); an estimate is 0 when the estimating equation has no positive root.

``test="knha"`` applies the Knapp-Hartung (Hartung-Knapp-Sidik-Jonkman) adjustment: standard errors
scaled by the weighted residual mean square (not truncated), t and F distributions with k − p df.
I² = 100 tau² / (tau² + s²) with s² = (k − p) / tr(P) the "typical" within-study variance (random
effects); for the fixed-effect model I² = 100 max(0, Q − (k − p)) / Q. The prediction interval is
estimate ± crit √(se² + tau²), crit from z, or from t(k − p) under Knapp-Hartung.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special, stats

from kbone.errors import KboneInputError, Problem

METHODS = ("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "PM")
TESTS = ("z", "knha")
ITERATIVE = ("ML", "REML", "PM")


@dataclass(frozen=True)
class Prediction:
    """Predicted (average) effect on the analysis scale with its CI and prediction interval."""

    pred: float
    se: float
    ci_lb: float
    ci_ub: float
    pi_lb: float
    pi_ub: float


@dataclass
class Fit:
    """A fitted meta-analysis (fixed, random, Mantel-Haenszel or Peto), on the analysis scale."""

    model: str                 # "rma.uni", "rma.mh" or "rma.peto"
    method: str                # FE, DL, … or MH / PETO
    test: str                  # "z" or "knha"
    measure: str
    k: int
    beta: np.ndarray
    vb: np.ndarray
    se: np.ndarray
    stat: np.ndarray           # z or t values
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    tau2: float
    I2: float
    H2: float
    QE: float
    QEp: float
    QE_df: int
    yi: np.ndarray
    vi: np.ndarray
    weights: np.ndarray        # percent weight of each study (intercept-only models)
    level: float = 0.95
    df: int | None = None      # t df under Knapp-Hartung
    QM: float | None = None
    QMp: float | None = None
    QM_df: tuple[int, ...] | None = None
    s2: float | None = None    # "typical" within-study variance used in I²
    iterations: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def estimate(self) -> float:
        return float(self.beta[0])

    @property
    def p(self) -> int:
        return len(self.beta)

    def crit(self) -> float:
        a = 0.5 + self.level / 2
        return float(special.stdtrit(self.df, a)) if self.df is not None else float(special.ndtri(a))

    def predict(self, x0: np.ndarray | None = None) -> Prediction:
        """Average effect at moderator values ``x0`` (default: the intercept), with CI and PI."""
        if x0 is None:
            x0 = np.zeros(self.p)
            x0[0] = 1.0
        x0 = np.asarray(x0, dtype=float)
        pred = float(x0 @ self.beta)
        se = float(np.sqrt(x0 @ self.vb @ x0))
        c = self.crit()
        spi = float(np.sqrt(se * se + self.tau2))
        return Prediction(pred, se, pred - c * se, pred + c * se, pred - c * spi, pred + c * spi)


# ---- input checks -------------------------------------------------------------------------------

def _check(yi, vi, X, method: str, test: str, level: float):
    if method not in METHODS:
        raise KboneInputError(Problem(field="method", reason=f"unknown method {method!r}",
                                      fix=f"use one of {', '.join(METHODS)}"))
    if test not in TESTS:
        raise KboneInputError(Problem(field="test", reason=f"unknown test {test!r}", fix="use z or knha"))
    if not 0 < level < 1:
        raise KboneInputError(Problem(field="level", reason=f"level {level} is not in (0, 1)", fix="e.g. 0.95"))
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.shape != v.shape:
        raise KboneInputError(Problem(field="vi", reason=f"{len(y)} effects but {len(v)} variances"))
    bad = np.flatnonzero(~np.isfinite(y) | ~np.isfinite(v))
    if bad.size:
        raise KboneInputError(Problem(field="yi/vi", reason=f"missing or non-finite values in studies {list(bad + 1)}",
                                      fix="remove those studies or supply their effects and variances"))
    neg = np.flatnonzero(v <= 0)
    if neg.size:
        raise KboneInputError(Problem(field="vi", reason=f"sampling variances must be > 0 (studies {list(neg + 1)})",
                                      fix="check the variances (a variance is an SE squared, never negative)"))
    if X is None:
        X = np.ones((len(y), 1))
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    p = X.shape[1]
    if len(y) <= p:
        raise KboneInputError(Problem(field="k", reason=f"{len(y)} studie(s) for {p} coefficient(s): nothing to pool",
                                      fix="a meta-analysis needs at least two studies (more than the number of coefficients)"))
    if p > 1 and np.linalg.matrix_rank(X) < p:
        raise KboneInputError(Problem(field="mods", reason="the moderators are collinear (a group has no studies?)",
                                      fix="drop empty or redundant moderator levels"))
    return y, v, X


# ---- weighted least squares pieces -------------------------------------------------------------

def _wls(y, X, w):
    WX = X * w[:, None]
    if X.shape[1] == 1:
        M = np.array([[1.0 / float(X[:, 0] @ WX[:, 0])]])
    else:
        M = np.linalg.inv(X.T @ WX)
    beta = M @ (WX.T @ y)
    r = y - X @ beta
    return WX, M, beta, r


def _trP(w, WX, M) -> float:
    return float(w.sum() - np.trace(M @ (WX.T @ WX)))


def _trPP(w, X, WX, M) -> float:
    A = M @ (WX.T @ WX)                       # M X'W²X
    B = M @ (WX.T @ (WX * w[:, None]))        # M X'W³X
    return float(np.sum(w * w) - 2 * np.trace(B) + np.trace(A @ A))


def _score(method: str, y, v, X, tau2: float) -> tuple[float, float]:
    """Score (×2) of the (restricted) log-likelihood in tau² and its Fisher information (×2)."""
    w = 1.0 / (v + tau2)
    WX, M, _, r = _wls(y, X, w)
    wr2 = float(np.sum((w * r) ** 2))
    if method == "ML":
        return wr2 - float(w.sum()), float(np.sum(w * w))
    return wr2 - _trP(w, WX, M), _trPP(w, X, WX, M)


def _q(y, v, X, tau2: float) -> float:
    w = 1.0 / (v + tau2)
    _, _, _, r = _wls(y, X, w)
    return float(np.sum(w * r * r))


def _upper_bracket(f, start: float) -> float:
    hi = max(start, 1e-4)
    for _ in range(200):
        if f(hi) < 0:
            return hi
        hi *= 2.0
    raise KboneInputError(Problem(field="tau2", reason="the heterogeneity estimate does not converge",
                                  fix="check the effects and variances for gross errors"))


EPS = float(np.finfo(float).eps)
#: Convergence settings; the defaults are metafor's (Fisher scoring stops when tau² changes by < 1e-5;
#: Paule-Mandel root found to tol = eps^0.25 in [0, max(100, 10 mad(yi)²)]). ``exact=True`` instead solves
#: the estimating equations to machine precision.
DEFAULT_CONTROL = {"threshold": 1e-5, "tol": EPS**0.25, "maxiter": 100, "tau2_init": None, "exact": False}


def zeroin(f, lower: float, upper: float, f_lower: float, f_upper: float, tol: float, maxiter: int = 1000) -> float:
    """Brent's (1973) root finder ("zero"), the algorithm R's ``uniroot`` uses; ``f`` changes sign on
    [lower, upper]. Stops when the bracket is below 2 eps |b| + tol/2."""
    a, b, fa, fb = lower, upper, f_lower, f_upper
    c, fc = a, fa
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:                       # secant step
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:                            # inverse quadratic interpolation
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _mad(y) -> float:
    return 1.4826 * float(np.median(np.abs(y - np.median(y))))


def tau2_estimate(method: str, yi, vi, X=None, *, control: dict | None = None) -> tuple[float, int]:
    """tau² for ``method`` and the number of iterations used (0 for closed forms)."""
    ctl = {**DEFAULT_CONTROL, **(control or {})}
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    X = np.ones((len(y), 1)) if X is None else np.asarray(X, dtype=float)
    k, p = X.shape
    if method == "FE":
        return 0.0, 0
    w0 = 1.0 / v
    if method in ("DL", "HS"):
        WX, M, _, r = _wls(y, X, w0)
        Q = float(np.sum(w0 * r * r))
        if method == "DL":
            return max(0.0, (Q - (k - p)) / _trP(w0, WX, M)), 0
        return max(0.0, (Q - k) / float(w0.sum())), 0
    # ordinary least squares pieces (HE, SJ start)
    Mo = np.linalg.inv(X.T @ X)
    ro = y - X @ (Mo @ (X.T @ y))
    rss = float(ro @ ro)
    if method == "HE":
        trPV = float(v.sum() - np.trace(Mo @ (X.T @ (X * v[:, None]))))
        return max(0.0, (rss - trPV) / (k - p)), 0
    if method == "SJ":
        t0 = rss / k if ctl["tau2_init"] is None else float(ctl["tau2_init"])
        if t0 <= 0:
            return 0.0, 0
        return t0 * _q(y, v, X, t0) / (k - p), 0
    if method == "PM":
        f = lambda t: _q(y, v, X, t) - (k - p)  # noqa: E731
        f0 = f(0.0)
        if f0 <= 0:
            return 0.0, 0
        if ctl["exact"]:
            hi = _upper_bracket(f, max(1.0, rss / max(k - p, 1)))
            root, res = optimize.brentq(f, 0.0, hi, xtol=1e-15, rtol=4 * EPS, full_output=True)
            return float(root), int(res.iterations)
        hi = max(100.0, 10 * _mad(y) ** 2)
        fhi = f(hi)
        if fhi > 0:
            hi = _upper_bracket(f, hi)
            fhi = f(hi)
        return float(zeroin(f, 0.0, hi, f0, fhi, ctl["tol"], ctl["maxiter"])), 1
    if method in ("ML", "REML"):
        return _likelihood_root(method, y, v, X, ctl)
    raise KboneInputError(Problem(field="method", reason=f"unknown method {method!r}", fix=f"use one of {METHODS}"))


def _likelihood_root(method, y, v, X, ctl):
    """Fisher scoring from the HE estimate with step halving at 0 (as metafor); with ``exact`` the root of
    the score is then polished by a bracketing search."""
    g = lambda t: _score(method, y, v, X, t)[0]  # noqa: E731
    t = ctl["tau2_init"] if ctl["tau2_init"] is not None else tau2_estimate("HE", y, v, X)[0]
    it = 0
    converged = False
    while it < int(ctl["maxiter"]):
        it += 1
        s, info = _score(method, y, v, X, t)
        step = s / info
        if t == 0 and step < 0:
            converged = True
            break
        while t + step < 0:
            step /= 2
        t += step
        if abs(step) < (1e-14 * max(1.0, t) if ctl["exact"] else ctl["threshold"]):
            converged = True
            break
    if ctl["exact"] or not converged:
        if g(0.0) <= 0:
            return 0.0, it
        lo, hi = 0.0, None
        if g(t) < 0:
            hi = t
        else:
            lo = t
            hi = _upper_bracket(g, max(2 * t, 1.0))
        if hi > lo:
            t = float(optimize.brentq(g, lo, hi, xtol=1e-15, rtol=4 * EPS))
    return float(t), it


# ---- the model --------------------------------------------------------------------------------

def rma(yi, vi, *, method: str = "REML", test: str = "z", mods=None, intercept: bool = True,
        level: float = 0.95, measure: str = "GEN", tau2: float | None = None,
        control: dict | None = None) -> Fit:
    """Fit a fixed- or random-effects model (optionally with moderators ``mods``) by inverse variance.

    ``yi`` effects on the analysis scale (log for ratios), ``vi`` their sampling variances; ``tau2`` fixes
    the heterogeneity instead of estimating it; ``control`` overrides :data:`DEFAULT_CONTROL`.
    """
    method = method.upper()
    X = None
    if mods is not None:
        m = np.asarray(mods, dtype=float)
        m = m[:, None] if m.ndim == 1 else m
        X = np.column_stack([np.ones(len(m)), m]) if intercept else m
    y, v, X = _check(yi, vi, X, method, test, level)
    k, p = X.shape
    iters = 0
    if tau2 is None:
        t2, iters = tau2_estimate(method, y, v, X, control=control)
    else:
        t2 = float(tau2)
    # heterogeneity statistics from the fixed-effect weights
    w0 = 1.0 / v
    WX0, M0, _, r0 = _wls(y, X, w0)
    QE = float(np.sum(w0 * r0 * r0))
    dfq = k - p
    QEp = float(special.chdtrc(dfq, QE))
    s2 = dfq / _trP(w0, WX0, M0)
    if method == "FE":
        I2 = 100.0 * max(0.0, (QE - dfq) / QE) if QE > 0 else 0.0
        H2 = QE / dfq
    else:
        I2 = 100.0 * t2 / (t2 + s2)
        H2 = (t2 + s2) / s2
    # coefficients with the model weights
    w = 1.0 / (v + t2)
    WX, M, beta, r = _wls(y, X, w)
    vb = M
    df = None
    if test == "knha":
        s2w = float(np.sum(w * r * r)) / dfq
        vb = M * s2w
        df = dfq
    se = np.sqrt(np.diag(vb))
    if not np.all(np.isfinite(se) & (se > 0)):
        raise KboneInputError(Problem(
            field="test", reason="the standard error of the pooled estimate is 0 (no residual variation between "
                                 "studies under Knapp-Hartung, or degenerate variances)",
            fix="use --test z, or check for duplicated studies"))
    stat = beta / se
    if df is None:
        pval = 2 * special.ndtr(-np.abs(stat))
        crit = special.ndtri(0.5 + level / 2)
    else:
        pval = 2 * special.stdtr(df, -np.abs(stat))
        crit = special.stdtrit(df, 0.5 + level / 2)
    QM = QMp = None
    QM_df = None
    btt = list(range(1, p)) if intercept and mods is not None else (list(range(p)) if mods is not None else [])
    if btt:
        b = beta[btt]
        QM = float(b @ np.linalg.solve(vb[np.ix_(btt, btt)], b))
        mdf = len(btt)
        if df is None:
            QMp = float(stats.chi2.sf(QM, mdf))
            QM_df = (mdf,)
        else:
            QM = QM / mdf
            QMp = float(stats.f.sf(QM, mdf, df))
            QM_df = (mdf, df)
    weights = 100.0 * w / w.sum()
    return Fit(model="rma.uni", method=method, test=test, measure=measure, k=k, beta=beta, vb=vb, se=se,
               stat=stat, pval=pval, ci_lb=beta - crit * se, ci_ub=beta + crit * se, tau2=t2, I2=I2, H2=H2,
               QE=QE, QEp=QEp, QE_df=dfq, yi=y, vi=v, weights=weights, level=level, df=df, QM=QM, QMp=QMp,
               QM_df=QM_df, s2=s2, iterations=iters)
