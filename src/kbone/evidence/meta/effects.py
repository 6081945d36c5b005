"""Per-study effect sizes from what studies report (metafor ``escalc`` definitions).

Measures (the analysis scale is log for ratios):

- ``OR``  log odds ratio,  ``RR`` log risk ratio,  ``RD`` risk difference — from 2x2 counts
  ``ai, bi, ci, di`` (events / non-events in treatment, then control) or ``ai, n1i, ci, n2i``.
- ``PETO`` Peto's log odds ratio (one-step, O−E over V) from 2x2 counts.
- ``MD`` raw mean difference (heteroscedastic variance), ``SMD`` Hedges' g with the exact gamma-function
  bias correction — from ``m1i, sd1i, n1i, m2i, sd2i, n2i`` (units of the measurement for MD; SD units
  for SMD).
- ``GEN`` a generic effect ``yi`` with sampling variance ``vi`` (or standard error ``sei``).

Zero cells follow metafor's escalc rules: ``add`` (default 1/2) is added to every cell of the tables
selected by ``to`` (``"only0"``: tables with a zero cell; ``"all"``; ``"if0all"``: all tables when any has
a zero cell; ``"none"``), and ``drop00=True`` sets studies with no events (or only events) in both groups
to missing. Definitions: Viechtbauer W, metafor ``escalc`` documentation (version 3.8), and Hedges LV
(1981) J Educ Stat 6:107-128 for the bias correction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

BINARY_MEASURES = ("OR", "RR", "RD", "PETO")
CONTINUOUS_MEASURES = ("MD", "SMD")
MEASURES = (*BINARY_MEASURES, *CONTINUOUS_MEASURES, "GEN")
RATIO_MEASURES = ("OR", "RR", "PETO", "HR")
TO_OPTIONS = ("only0", "all", "if0all", "none")


def is_ratio(measure: str) -> bool:
    """True when the measure is analysed on the log scale (OR, RR, PETO, HR)."""
    return measure.upper() in RATIO_MEASURES


@dataclass
class EffectSizes:
    """Observed effects ``yi`` with sampling variances ``vi`` (NaN where a study cannot give one).

    ``corrected`` marks studies whose cells had ``add`` added; ``dropped`` maps a study position to the
    reason its effect is missing.
    """

    measure: str
    yi: np.ndarray
    vi: np.ndarray
    corrected: np.ndarray
    dropped: dict[int, str] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return int(np.sum(np.isfinite(self.yi) & np.isfinite(self.vi)))

    @property
    def sei(self) -> np.ndarray:
        return np.sqrt(self.vi)


def _arr(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


def two_by_two(ai, bi=None, ci=None, di=None, n1i=None, n2i=None):
    """Complete 2x2 tables from ``ai, bi, ci, di`` or ``ai, ci, n1i, n2i`` (counts, as float arrays)."""
    ai, ci = _arr(ai), _arr(ci)
    bi = _arr(bi) if bi is not None else _arr(n1i) - ai
    di = _arr(di) if di is not None else _arr(n2i) - ci
    return ai, bi, ci, di


def add_correction(ai, bi, ci, di, add: float = 0.5, to: str = "only0"):
    """Cells after the continuity correction and a mask of the corrected tables (metafor ``add``/``to``)."""
    if to not in TO_OPTIONS:
        raise ValueError(f"to must be one of {TO_OPTIONS}")
    has0 = (ai == 0) | (bi == 0) | (ci == 0) | (di == 0)
    if to == "all":
        mask = np.ones_like(ai, dtype=bool)
    elif to == "only0":
        mask = has0.copy()
    elif to == "if0all":
        mask = np.full(ai.shape, bool(np.any(has0)))
    else:
        mask = np.zeros_like(ai, dtype=bool)
    if add == 0:
        mask[:] = False
    a = np.where(mask, add, 0.0)
    return ai + a, bi + a, ci + a, di + a, mask


def double_zero(ai, bi, ci, di) -> np.ndarray:
    """Studies with no events (or only events) in both groups: ``ai=ci=0`` or ``bi=di=0``."""
    return ((ai == 0) & (ci == 0)) | ((bi == 0) & (di == 0))


def binary_effects(measure: str, ai, bi=None, ci=None, di=None, n1i=None, n2i=None, *,
                   add: float = 0.5, to: str = "only0", drop00: bool = False) -> EffectSizes:
    """OR, RR, RD or PETO effects from 2x2 counts, with metafor's zero-cell handling."""
    measure = measure.upper()
    if measure not in BINARY_MEASURES:
        raise ValueError(f"{measure} is not a 2x2 measure ({', '.join(BINARY_MEASURES)})")
    ai, bi, ci, di = two_by_two(ai, bi, ci, di, n1i, n2i)
    d00 = double_zero(ai, bi, ci, di)
    a, b, c, d, mask = add_correction(ai, bi, ci, di, add, to)
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(a * d / (b * c))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RR":
            yi = np.log((a / n1) / (c / n2))
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif measure == "RD":
            p1, p2 = a / n1, c / n2
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        else:  # PETO
            n = n1 + n2
            m1 = a + c
            m2 = b + d
            e = n1 * m1 / n
            v = n1 * n2 * m1 * m2 / (n * n * (n - 1))
            yi = (a - e) / v
            vi = 1 / v
    dropped: dict[int, str] = {}
    bad = ~(np.isfinite(yi) & np.isfinite(vi))
    for i in np.flatnonzero(bad):
        dropped[int(i)] = "effect not computable from these counts (zero cells with no correction)"
    if drop00:
        for i in np.flatnonzero(d00):
            dropped[int(i)] = "no events (or only events) in both groups: uninformative for a ratio"
    for i in dropped:
        yi[i] = np.nan
        vi[i] = np.nan
    return EffectSizes(measure, yi, vi, mask & ~np.isin(np.arange(len(yi)), list(dropped)), dropped)


def hedges_correction(m) -> np.ndarray:
    """Exact small-sample factor c(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)) for Hedges' g (Hedges 1981)."""
    m = _arr(m)
    return np.exp(special.gammaln(m / 2) - 0.5 * np.log(m / 2) - special.gammaln((m - 1) / 2))


def continuous_effects(measure: str, m1i, sd1i, n1i, m2i, sd2i, n2i) -> EffectSizes:
    """MD (variance sd1²/n1 + sd2²/n2) or SMD (Hedges' g, large-sample variance) from group summaries."""
    measure = measure.upper()
    m1, s1, n1, m2, s2, n2 = (_arr(x) for x in (m1i, sd1i, n1i, m2i, sd2i, n2i))
    if measure == "MD":
        yi = m1 - m2
        vi = s1**2 / n1 + s2**2 / n2
    elif measure == "SMD":
        mdf = n1 + n2 - 2
        sdp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / mdf)
        with np.errstate(divide="ignore", invalid="ignore"):
            yi = hedges_correction(mdf) * (m1 - m2) / sdp
            vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
    else:
        raise ValueError(f"{measure} is not a measure for means (MD, SMD)")
    dropped = {int(i): "effect not computable (zero pooled SD or too few participants)"
               for i in np.flatnonzero(~(np.isfinite(yi) & np.isfinite(vi)))}
    for i in dropped:
        yi[i] = vi[i] = np.nan
    return EffectSizes(measure, yi, vi, np.zeros(len(yi), dtype=bool), dropped)


def generic_effects(yi, vi=None, sei=None, measure: str = "GEN") -> EffectSizes:
    """Effects given directly as ``yi`` with ``vi`` (or ``sei``)."""
    y = _arr(yi).copy()
    v = _arr(vi).copy() if vi is not None else _arr(sei) ** 2
    return EffectSizes(measure, y, v, np.zeros(len(y), dtype=bool), {})


# ---- helpers for what papers report -------------------------------------------------------------

def from_ci(estimate, lower, upper, *, ratio: bool, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """(yi, vi) from a reported estimate and its CI; ratios are logged, SE = width / (2 z)."""
    est, lo, hi = _arr(estimate), _arr(lower), _arr(upper)
    if ratio:
        est, lo, hi = np.log(est), np.log(lo), np.log(hi)
    z = stats.norm.ppf(0.5 + level / 2)
    se = (hi - lo) / (2 * z)
    return est, se**2


def sd_from_se(se, n) -> np.ndarray:
    """SD = SE × √n (Cochrane Handbook 6.5.2.2)."""
    return _arr(se) * np.sqrt(_arr(n))


def sd_from_ci(lower, upper, n, level: float = 0.95) -> np.ndarray:
    """SD of a group from the CI of its mean: √n (upper − lower) / (2 t_{n−1}) (Cochrane Handbook 6.5.2.2)."""
    n = _arr(n)
    t = stats.t.ppf(0.5 + level / 2, n - 1)
    return np.sqrt(n) * (_arr(upper) - _arr(lower)) / (2 * t)


def change_sd(sd_baseline, sd_final, r) -> np.ndarray:
    """SD of change scores from baseline and final SDs and their correlation r (Cochrane Handbook 6.5.2.8):
    √(sd_b² + sd_f² − 2 r sd_b sd_f)."""
    b, f, r = _arr(sd_baseline), _arr(sd_final), _arr(r)
    if np.any((r < -1) | (r > 1)):
        raise ValueError("the baseline-final correlation r must lie in [-1, 1]")
    return np.sqrt(b**2 + f**2 - 2 * r * b * f)


def change_effects(measure: str, mb1, mf1, sdb1, sdf1, n1, mb2, mf2, sdb2, sdf2, n2, r) -> EffectSizes:
    """MD or SMD of change from baseline: mean change = final − baseline, SD of change imputed with
    correlation ``r`` (:func:`change_sd`). For SMD this standardises by the SD of change, which must not be
    pooled with SMDs of final values (Cochrane Handbook 10.5.2)."""
    d1 = _arr(mf1) - _arr(mb1)
    d2 = _arr(mf2) - _arr(mb2)
    s1 = change_sd(sdb1, sdf1, r)
    s2 = change_sd(sdb2, sdf2, r)
    return continuous_effects(measure, d1, s1, n1, d2, s2, n2)
