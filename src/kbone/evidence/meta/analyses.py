"""Analyses built on the pooled model: subgroups, leave-one-out, cumulative, small-study tests, trim-and-fill.

Definitions follow metafor (``leave1out``, ``cumul``, ``regtest``, ``trimfill``; metafor 3.8
documentation) and the cited papers:

- subgroups: each group pooled with its own tau²; the test for subgroup differences is Cochran's Q across
  the group estimates (fixed effect across groups; Borenstein et al. 2009, ch. 19), and the meta-regression
  on group indicators with a common tau² (metafor ``rma(yi, vi, mods = ~ factor(group))``, Q_M test).
- Egger's regression test (Egger et al. 1997, BMJ 315:629): weighted regression of yi on their standard
  errors; ``model="lm"`` is the classical test (multiplicative dispersion, t with k − 2 df),
  ``model="rma"`` the meta-regression version (metafor ``regtest`` default).
- trim-and-fill with Duval & Tweedie's L0 estimator (Biometrics 2000;56:455), the side chosen from the sign
  of the Egger slope, and the same model used for trimming and for the filled analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from kbone.errors import KboneInputError, Problem
from kbone.evidence.meta.estimators import Fit, rma


@dataclass(frozen=True)
class Single:
    """One row of a leave-one-out or cumulative analysis (analysis scale)."""

    estimate: float
    se: float
    ci_lb: float
    ci_ub: float
    tau2: float
    I2: float
    Q: float
    k: int


def _single_study(y: float, v: float, level: float) -> Single:
    z = stats.norm.ppf(0.5 + level / 2)
    se = float(np.sqrt(v))
    return Single(float(y), se, y - z * se, y + z * se, 0.0, 0.0, 0.0, 1)


def _row(f: Fit) -> Single:
    return Single(f.estimate, float(f.se[0]), float(f.ci_lb[0]), float(f.ci_ub[0]), f.tau2, f.I2, f.QE, f.k)


def leave_one_out(yi, vi, *, method: str = "REML", test: str = "z", level: float = 0.95,
                  control: dict | None = None) -> list[Single]:
    """The model refitted k times, each time without one study (metafor ``leave1out``)."""
    y, v = np.asarray(yi, float), np.asarray(vi, float)
    if len(y) < 3:
        raise KboneInputError(Problem(field="leave-one-out", reason=f"needs at least 3 studies, got {len(y)}",
                                      fix="drop --leave-one-out or add studies"))
    out = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        out.append(_row(rma(y[keep], v[keep], method=method, test=test, level=level, control=control)))
    return out


def cumulative(yi, vi, order=None, *, method: str = "REML", test: str = "z", level: float = 0.95,
               control: dict | None = None) -> list[Single]:
    """The model refitted adding one study at a time in ``order`` (e.g. by year; metafor ``cumul``)."""
    y, v = np.asarray(yi, float), np.asarray(vi, float)
    idx = np.arange(len(y)) if order is None else np.asarray(order, dtype=int)
    out = [_single_study(y[idx[0]], v[idx[0]], level)]
    for j in range(2, len(idx) + 1):
        sel = idx[:j]
        out.append(_row(rma(y[sel], v[sel], method=method, test=test, level=level, control=control)))
    return out


@dataclass(frozen=True)
class EggerTest:
    """Egger's test: the slope on the standard error (the classical intercept of the radial regression)."""

    model: str          # "lm" or "rma"
    slope: float        # coefficient of sei
    stat: float         # t (lm, knha) or z
    pval: float
    df: int | None
    limit_estimate: float   # intercept: the effect as the standard error → 0
    limit_ci_lb: float
    limit_ci_ub: float
    k: int


def egger_test(yi, vi, *, model: str = "lm", method: str = "REML", test: str = "z",
               level: float = 0.95, control: dict | None = None) -> EggerTest:
    """Egger's regression test for funnel-plot asymmetry (metafor ``regtest``, predictor = sei)."""
    y, v = np.asarray(yi, float), np.asarray(vi, float)
    if len(y) < 3:
        raise KboneInputError(Problem(field="egger", reason=f"Egger's test needs at least 3 studies, got {len(y)}",
                                      fix="add studies (at least 10 are advised for a meaningful test)"))
    sei = np.sqrt(v)
    if model == "lm":
        f = rma(y, v, mods=sei, method="FE", test="knha", level=level)
    elif model == "rma":
        f = rma(y, v, mods=sei, method=method, test=test, level=level, control=control)
    else:
        raise KboneInputError(Problem(field="model", reason=f"unknown Egger model {model!r}", fix="use lm or rma"))
    return EggerTest(model=model, slope=float(f.beta[1]), stat=float(f.stat[1]), pval=float(f.pval[1]), df=f.df,
                     limit_estimate=float(f.beta[0]), limit_ci_lb=float(f.ci_lb[0]), limit_ci_ub=float(f.ci_ub[0]),
                     k=f.k)


@dataclass
class TrimFill:
    """Trim-and-fill result: the number of filled studies, the side and the model on the augmented data."""

    k0: int
    side: str
    fit: Fit
    yi_filled: np.ndarray
    vi_filled: np.ndarray


def trim_and_fill(yi, vi, *, method: str = "REML", test: str = "z", side: str | None = None,
                  level: float = 0.95, maxiter: int = 100, control: dict | None = None) -> TrimFill:
    """Duval & Tweedie trim-and-fill with the L0 estimator (metafor ``trimfill`` defaults)."""
    y0, v0 = np.asarray(yi, float), np.asarray(vi, float)
    k = len(y0)
    if k < 3:
        raise KboneInputError(Problem(field="trimfill", reason=f"trim-and-fill needs at least 3 studies, got {k}",
                                      fix="add studies"))
    if side is None:
        slope = rma(y0, v0, mods=np.sqrt(v0), method=method, control=control).beta[1]
        side = "right" if slope < 0 else "left"
    if side not in ("left", "right"):
        raise KboneInputError(Problem(field="side", reason=f"side must be left or right, not {side!r}"))
    sign = -1.0 if side == "right" else 1.0      # work so that missing studies are on the left
    y = sign * y0
    order = np.argsort(y, kind="stable")
    ys, vs = y[order], v0[order]
    k0 = 0
    beta = 0.0
    for _ in range(maxiter):
        keep = k - k0
        beta = rma(ys[:keep], vs[:keep], method=method, test=test, level=level, control=control).estimate
        d = ys - beta
        ranks = stats.rankdata(np.abs(d))
        sr = float(np.sum(ranks[d > 0]))
        l0 = (4 * sr - k * (k + 1)) / (2 * k - 1)
        k0_new = max(0, int(np.round(l0)))
        if k0_new == k0:
            break
        k0 = min(k0_new, k - 2)   # keep at least two studies to re-estimate from
    if k0 > 0:
        y_fill = 2 * beta - ys[k - k0:]
        v_fill = vs[k - k0:]
    else:
        y_fill = np.array([])
        v_fill = np.array([])
    fit = rma(sign * np.concatenate([ys, y_fill]) if k0 else y0,
              np.concatenate([vs, v_fill]) if k0 else v0, method=method, test=test, level=level, control=control)
    return TrimFill(k0=k0, side=side, fit=fit, yi_filled=sign * y_fill, vi_filled=v_fill)


@dataclass
class SubgroupFit:
    """One subgroup: its studies' positions and its own pooled model (None for a single study)."""

    group: str
    index: list[int]
    fit: Fit | None
    estimate: float
    se: float
    ci_lb: float
    ci_ub: float


@dataclass
class Subgroups:
    groups: list[SubgroupFit]
    Q_between: float
    Q_between_df: int
    Q_between_p: float
    mods_fit: Fit | None   # meta-regression on group indicators (common tau²)


def subgroups(yi, vi, labels, *, method: str = "REML", test: str = "z", level: float = 0.95,
              control: dict | None = None) -> Subgroups:
    """Pool each subgroup separately and test for differences between subgroups."""
    y, v = np.asarray(yi, float), np.asarray(vi, float)
    labels = [str(g) for g in labels]
    levels = sorted(set(labels))
    groups: list[SubgroupFit] = []
    for g in levels:
        idx = [i for i, lab in enumerate(labels) if lab == g]
        if len(idx) == 1:
            s = _single_study(y[idx[0]], v[idx[0]], level)
            groups.append(SubgroupFit(g, idx, None, s.estimate, s.se, s.ci_lb, s.ci_ub))
        else:
            f = rma(y[idx], v[idx], method=method, test=test, level=level, control=control)
            groups.append(SubgroupFit(g, idx, f, f.estimate, float(f.se[0]), float(f.ci_lb[0]), float(f.ci_ub[0])))
    G = len(groups)
    if G > 1:
        est = np.array([g.estimate for g in groups])
        w = 1.0 / np.array([g.se for g in groups]) ** 2
        mean = np.sum(w * est) / np.sum(w)
        Qb = float(np.sum(w * (est - mean) ** 2))
        Qbp = float(stats.chi2.sf(Qb, G - 1))
    else:
        Qb, Qbp = 0.0, 1.0
    mods_fit = None
    if G > 1 and len(y) > G:
        D = np.array([[1.0 if lab == g else 0.0 for g in levels[1:]] for lab in labels])
        mods_fit = rma(y, v, mods=D, method=method, test=test, level=level, control=control)
    return Subgroups(groups, Qb, G - 1, Qbp, mods_fit)
