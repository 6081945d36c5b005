"""Fixed-effect pooling of 2x2 tables: Mantel-Haenszel (OR, RR, RD) and Peto's one-step odds ratio.

Definitions follow metafor's ``rma.mh`` and ``rma.peto`` (metafor 3.8 documentation):

- MH odds ratio, Robins-Breslow-Greenland variance of log OR (Robins, Breslow & Greenland 1986,
  Biometrics 42:311); Cochran-Mantel-Haenszel test with continuity correction.
- MH risk ratio with the Greenland-Robins variance of log RR (Greenland & Robins 1985, Biometrics 41:55).
- MH risk difference with the Sato-Greenland-Robins variance (Sato, Greenland & Robins 1989,
  Biometrics 45:1323).
- Peto: log OR = Σ(O − E) / ΣV, SE = 1/√ΣV (Yusuf et al. 1985).

The pooled estimates use the raw counts (zero cells need no correction; double-zero tables add nothing).
Study-level effects, Cochran's Q, I² and H² use escalc effects with 1/2 added to tables with a zero cell and
double-zero studies dropped (metafor's defaults ``add=1/2, to="only0", drop00=TRUE``).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from kbone.errors import KboneInputError, Problem
from kbone.evidence.meta.effects import binary_effects, two_by_two
from kbone.evidence.meta.estimators import Fit

MH_MEASURES = ("OR", "RR", "RD")


def _check_counts(ai, bi, ci, di):
    for name, x in (("ai", ai), ("bi", bi), ("ci", ci), ("di", di)):
        if np.any(~np.isfinite(x)) or np.any(x < 0):
            raise KboneInputError(Problem(field=name, reason="counts must be non-negative numbers",
                                          fix="give events and totals for every study (events ≤ total)"))
    n1, n2 = ai + bi, ci + di
    empty = np.flatnonzero((n1 == 0) | (n2 == 0))
    if empty.size:
        raise KboneInputError(Problem(field="n1i/n2i", reason=f"studies {list(empty + 1)} have an empty group",
                                      fix="each group needs at least one participant"))
    if len(ai) < 2:
        raise KboneInputError(Problem(field="k", reason=f"{len(ai)} study: nothing to pool",
                                      fix="a meta-analysis needs at least two studies"))


def _heterogeneity(measure: str, ai, bi, ci, di, beta: float):
    """Q, its p-value, I², H² and the studies' escalc effects (drop00, 1/2 to tables with a zero).

    For Peto's method Q is computed from the uncorrected O − E and V (metafor ``rma.peto``):
    Q = Σ (O − E)²/V − (Σ(O − E))² / ΣV over tables with V > 0.
    """
    es = binary_effects(measure, ai, bi, ci, di, add=0.5, to="only0", drop00=True)
    ok = np.isfinite(es.yi)
    kyi = int(ok.sum())
    if measure == "PETO":
        raw = binary_effects("PETO", ai, bi, ci, di, add=0.0, to="none", drop00=True)
        okr = np.isfinite(raw.yi)
        y, w = raw.yi[okr], 1.0 / raw.vi[okr]
    else:
        y, w = es.yi[ok], 1.0 / es.vi[ok]
    if kyi > 1:
        Q = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2)) if measure == "PETO" else \
            float(np.sum(w * (y - beta) ** 2))
        Qp = float(stats.chi2.sf(Q, kyi - 1))
        I2 = 100.0 * max(0.0, (Q - (kyi - 1)) / Q) if Q > 0 else 0.0
        H2 = Q / (kyi - 1)
    else:
        Q, Qp, I2, H2 = 0.0, 1.0, 0.0, 1.0
    return es, kyi, Q, Qp, I2, H2


def _finish(model, method, measure, beta, se, ai, bi, ci, di, level, extra, weights) -> Fit:
    es, kyi, Q, Qp, I2, H2 = _heterogeneity(measure, ai, bi, ci, di, beta)
    z = beta / se
    crit = stats.norm.ppf(0.5 + level / 2)
    extra = {**extra, "k_yi": kyi, "dropped": es.dropped}
    return Fit(model=model, method=method, test="z", measure=measure, k=len(ai), beta=np.array([beta]),
               vb=np.array([[se * se]]), se=np.array([se]), stat=np.array([z]),
               pval=np.array([2 * stats.norm.sf(abs(z))]), ci_lb=np.array([beta - crit * se]),
               ci_ub=np.array([beta + crit * se]), tau2=0.0, I2=I2, H2=H2, QE=Q, QEp=Qp, QE_df=max(kyi - 1, 0),
               yi=es.yi, vi=es.vi, weights=weights, level=level, extra=extra)


def rma_mh(ai, bi=None, ci=None, di=None, n1i=None, n2i=None, *, measure: str = "OR", level: float = 0.95,
           correct: bool = True) -> Fit:
    """Mantel-Haenszel pooled OR, RR or RD (log scale for OR/RR) from 2x2 tables."""
    measure = measure.upper()
    if measure not in MH_MEASURES:
        raise KboneInputError(Problem(field="measure", reason=f"Mantel-Haenszel needs OR, RR or RD, not {measure}",
                                      fix="use --measure OR, RR or RD with --method MH"))
    a, b, c, d = two_by_two(ai, bi, ci, di, n1i, n2i)
    _check_counts(a, b, c, d)
    n1, n2 = a + b, c + d
    n = n1 + n2
    extra: dict = {}
    if measure == "OR":
        Ri, Si = a * d / n, b * c / n
        R, S = Ri.sum(), Si.sum()
        if R == 0 or S == 0:
            raise KboneInputError(Problem(field="events", reason="the Mantel-Haenszel odds ratio is 0 or infinite "
                                          "(no discordant information in any table)",
                                          fix="pool with a risk difference, or check the event counts"))
        P, Q = (a + d) / n, (b + c) / n
        var = (np.sum(P * Ri) / (2 * R * R) + np.sum(P * Si + Q * Ri) / (2 * R * S)
               + np.sum(Q * Si) / (2 * S * S))
        beta = float(np.log(R / S))
        m1 = a + c
        m2 = b + d
        with np.errstate(divide="ignore", invalid="ignore"):
            Ea = n1 * m1 / n
            Va = np.where(n > 1, n1 * n2 * m1 * m2 / (n * n * (n - 1)), 0.0)
        num = abs(float(np.sum(a - Ea))) - (0.5 if correct else 0.0)
        cmh = num * num / float(Va.sum()) if Va.sum() > 0 else 0.0
        extra.update(MH=cmh, MHp=float(stats.chi2.sf(cmh, 1)))
        wts = Si
    elif measure == "RR":
        Ri, Si = a * n2 / n, c * n1 / n
        R, S = Ri.sum(), Si.sum()
        if R == 0 or S == 0:
            raise KboneInputError(Problem(field="events", reason="the Mantel-Haenszel risk ratio is 0 or infinite "
                                          "(no events in one group of every table)",
                                          fix="pool with a risk difference, or check the event counts"))
        var = float(np.sum((n1 * n2 * (a + c) - a * c * n) / (n * n))) / (R * S)
        beta = float(np.log(R / S))
        wts = Si
    else:  # RD
        W = n1 * n2 / n
        beta = float(np.sum((a * n2 - c * n1) / n) / W.sum())
        Pn = np.sum((n1 * n1 * c - n2 * n2 * a + n1 * n2 * (n2 - n1) / 2) / (n * n))
        Qn = np.sum((a * (n2 - c) + c * (n1 - a)) / (2 * n))
        var = float((beta * Pn + Qn) / W.sum() ** 2)
        wts = W
    se = float(np.sqrt(var))
    weights = 100.0 * wts / wts.sum()
    return _finish("rma.mh", "MH", measure, beta, se, a, b, c, d, level, extra, weights)


def rma_peto(ai, bi=None, ci=None, di=None, n1i=None, n2i=None, *, level: float = 0.95) -> Fit:
    """Peto's one-step pooled log odds ratio from 2x2 tables."""
    a, b, c, d = two_by_two(ai, bi, ci, di, n1i, n2i)
    _check_counts(a, b, c, d)
    n1, n2 = a + b, c + d
    n = n1 + n2
    m1, m2 = a + c, b + d
    E = n1 * m1 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        V = np.where(n > 1, n1 * n2 * m1 * m2 / (n * n * (n - 1)), 0.0)
    if V.sum() <= 0:
        raise KboneInputError(Problem(field="events", reason="Peto's method has no information: no table has "
                                      "both events and non-events", fix="check the event counts"))
    beta = float(np.sum(a - E) / V.sum())
    se = float(1 / np.sqrt(V.sum()))
    weights = 100.0 * V / V.sum()
    return _finish("rma.peto", "PETO", "PETO", beta, se, a, b, c, d, level, {}, weights)
