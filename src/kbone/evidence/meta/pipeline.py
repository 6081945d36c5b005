"""From per-study inputs to a full :class:`~kbone.evidence.meta.results.MetaReport`.

A :class:`StudyInput` holds what one study (one comparison) reports: 2x2 counts, group means/SDs/ns, or an
effect with its variance. :func:`analyse` turns the inputs into effects for one measure, says which studies
are excluded and why, pools them (inverse variance, Mantel-Haenszel or Peto), and adds the requested
analyses (integrity scenarios, subgroups, leave-one-out, cumulative, Egger, trim-and-fill).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from kbone.errors import KboneInputError, Problem
from kbone.evidence.meta import analyses as an
from kbone.evidence.meta.effects import (
    BINARY_MEASURES,
    CONTINUOUS_MEASURES,
    binary_effects,
    continuous_effects,
    double_zero,
    is_ratio,
)
from kbone.evidence.meta.estimators import METHODS, TESTS, Fit, rma
from kbone.evidence.meta.groups import group_label
from kbone.evidence.meta.mh import rma_mh, rma_peto
from kbone.evidence.meta.results import (
    Back,
    EggerReport,
    Excluded,
    MetaReport,
    Pooled,
    Scenario,
    SensitivityRow,
    StudyRow,
    SubgroupReport,
    SubgroupRow,
    TrimFillReport,
)

ALL_METHODS = (*METHODS, "MH", "PETO")
ALL_MEASURES = (*BINARY_MEASURES, *CONTINUOUS_MEASURES, "GEN")
FLAGGED = ("flagged", "expression_of_concern")
SCENARIOS = (
    ("all", "all trials", "全部试验", ()),
    ("no_retracted", "without retracted trials", "剔除已撤稿试验", ("retracted",)),
    ("no_retracted_or_flagged", "without retracted or flagged trials", "剔除已撤稿或被质疑的试验",
     ("retracted", *FLAGGED)),
)


@dataclass
class StudyInput:
    """What one comparison reports. Counts: events ``ai``/``ci`` of ``n1i``/``n2i`` (treatment first).
    Means: ``m1i, sd1i, n1i, m2i, sd2i, n2i``. Or an effect ``yi`` with variance ``vi`` (log for ratios)."""

    id: str
    label: str
    year: int | None = None
    record: str | None = None
    ai: float | None = None
    ci: float | None = None
    n1i: float | None = None
    n2i: float | None = None
    m1i: float | None = None
    sd1i: float | None = None
    m2i: float | None = None
    sd2i: float | None = None
    yi: float | None = None
    vi: float | None = None
    yi_measure: str | None = None
    integrity: str = "ok"
    groups: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def has_counts(self) -> bool:
        return None not in (self.ai, self.ci, self.n1i, self.n2i)

    @property
    def has_means(self) -> bool:
        return None not in (self.m1i, self.m2i, self.n1i, self.n2i)

    @property
    def has_effect(self) -> bool:
        return self.yi is not None and self.vi is not None


@dataclass
class Options:
    measure: str = "OR"
    method: str = "REML"
    test: str = "z"
    level: float = 0.95
    by: str | None = None
    exclude: tuple[str, ...] = ()            # integrity statuses to exclude
    scenarios: bool = True                   # integrity scenarios side by side
    leave_one_out: bool = False
    cumulative: bool = False
    bias: bool = True                        # Egger + trim-and-fill when k >= 3 (inverse variance only)
    add: float = 0.5
    to: str = "only0"
    drop00: bool = False
    control: dict | None = None


def _back(measure: str, est: float, lo: float, hi: float, plo: float | None = None, phi: float | None = None) -> Back:
    if is_ratio(measure):
        f = np.exp
        return Back(estimate=float(f(est)), ci_lower=float(f(lo)), ci_upper=float(f(hi)),
                    pi_lower=None if plo is None else float(f(plo)), pi_upper=None if phi is None else float(f(phi)))
    return Back(estimate=est, ci_lower=lo, ci_upper=hi, pi_lower=plo, pi_upper=phi)


def pooled_model(fit: Fit, measure: str, ids: list[str]) -> Pooled:
    pr = fit.predict()
    return Pooled(
        model=fit.model, method=fit.method, test=fit.test, measure=measure,
        scale="log" if is_ratio(measure) else "identity", level=fit.level, k=fit.k, study_ids=list(ids),
        estimate=pr.pred, se=pr.se, ci_lower=pr.ci_lb, ci_upper=pr.ci_ub, pi_lower=pr.pi_lb, pi_upper=pr.pi_ub,
        stat=float(fit.stat[0]), stat_name="t" if fit.df is not None else "z", df=fit.df, p=float(fit.pval[0]),
        back=_back(measure, pr.pred, pr.ci_lb, pr.ci_ub, pr.pi_lb, pr.pi_ub),
        tau2=fit.tau2, i2=fit.I2, h2=fit.H2, q=fit.QE, q_df=fit.QE_df, q_p=fit.QEp)


def _validate_options(opt: Options) -> None:
    opt.measure = opt.measure.upper()
    opt.method = opt.method.upper()
    if opt.measure not in ALL_MEASURES:
        raise KboneInputError(Problem(field="measure", reason=f"unknown measure {opt.measure!r}",
                                      fix=f"use one of {', '.join(ALL_MEASURES)}"))
    if opt.method not in ALL_METHODS:
        raise KboneInputError(Problem(field="method", reason=f"unknown method {opt.method!r}",
                                      fix=f"use one of {', '.join(ALL_METHODS)}"))
    if opt.test not in TESTS:
        raise KboneInputError(Problem(field="test", reason=f"unknown test {opt.test!r}", fix="use z or knha"))
    if opt.method == "MH" and opt.measure not in ("OR", "RR", "RD"):
        raise KboneInputError(Problem(field="measure", reason=f"Mantel-Haenszel pools OR, RR or RD, not {opt.measure}",
                                      fix="use --measure OR, RR or RD, or another --method"))
    if opt.method == "PETO" and opt.measure not in ("OR", "PETO"):
        raise KboneInputError(Problem(field="measure", reason=f"Peto's method pools odds ratios, not {opt.measure}",
                                      fix="use --measure OR with --method PETO"))
    if opt.method == "PETO":
        opt.measure = "PETO"
    if opt.method in ("MH", "PETO") and opt.test != "z":
        raise KboneInputError(Problem(field="test", reason="Knapp-Hartung applies to inverse-variance models only",
                                      fix="drop --test knha, or use --method FE/DL/REML…"))


@dataclass
class _Effects:
    idx: list[int]                # positions in the input list of usable studies
    yi: np.ndarray
    vi: np.ndarray
    counts: np.ndarray | None     # (k, 4) ai bi ci di for MH / Peto
    corrected: list[bool]
    excluded: list[Excluded]
    notes: dict[int, list[str]]


def compute_effects(studies: list[StudyInput], opt: Options) -> _Effects:
    """Effects of every usable study for ``opt.measure``; the rest are excluded with a reason."""
    m = opt.measure
    needs_counts = opt.method in ("MH", "PETO")
    excluded: list[Excluded] = []
    notes: dict[int, list[str]] = {}
    idx: list[int] = []
    ys: list[float] = []
    vs: list[float] = []
    cts: list[tuple[float, float, float, float]] = []
    corrected: list[bool] = []
    for i, s in enumerate(studies):
        def drop(reason: str, s=s) -> None:
            excluded.append(Excluded(id=s.id, label=s.label, reason=reason))
        if m in BINARY_MEASURES and s.has_counts:
            a, c, n1, n2 = float(s.ai), float(s.ci), float(s.n1i), float(s.n2i)
            if min(a, c) < 0 or n1 <= 0 or n2 <= 0 or a > n1 or c > n2:
                drop("invalid counts (events must lie between 0 and the group size)")
                continue
            b, d = n1 - a, n2 - c
            es = binary_effects(m, [a], [b], [c], [d], add=opt.add, to=opt.to, drop00=opt.drop00)
            dz = bool(double_zero(np.array([a]), np.array([b]), np.array([c]), np.array([d]))[0])
            if 0 in es.dropped:
                drop(es.dropped[0] if not dz else
                     ("no events in either group (double-zero study): uninformative for OR/RR, excluded (drop00)"
                      if a == 0 else "all participants had the event in both groups: excluded (drop00)"))
                continue
            if needs_counts and opt.method == "PETO" and dz:
                # Peto's method ignores such tables (V = 0); say so instead of silently carrying them
                drop("no events (or only events) in both groups: carries no information for Peto's method")
                continue
            y, v = float(es.yi[0]), float(es.vi[0])
            if not v > 0:
                drop("zero sampling variance (no events in either group for a risk difference with no correction)")
                continue
            nt = notes.setdefault(i, [])
            if es.corrected[0]:
                nt.append(f"zero cell: {opt.add:g} added to each cell for the study's own effect"
                          + (" (not used by the pooled MH/Peto estimate)" if needs_counts else ""))
            if dz:
                nt.append("no events in either group; kept with the continuity correction (metafor escalc "
                          "default); use --drop00 to exclude")
            idx.append(i)
            ys.append(y)
            vs.append(v)
            cts.append((a, b, c, d))
            corrected.append(bool(es.corrected[0]))
            continue
        if needs_counts:
            drop(f"{'Mantel-Haenszel' if opt.method == 'MH' else 'Peto'} pooling needs events and totals per group")
            continue
        if m in CONTINUOUS_MEASURES and s.has_means:
            if s.sd1i is None or s.sd2i is None:
                drop("missing SD (no SD, SE or CI reported for a group)")
                continue
            if s.sd1i <= 0 or s.sd2i <= 0 or s.n1i < 1 or s.n2i < 1 or (s.n1i + s.n2i) < 3:
                drop("SD must be > 0 and each group needs participants")
                continue
            es = continuous_effects(m, [s.m1i], [s.sd1i], [s.n1i], [s.m2i], [s.sd2i], [s.n2i])
            if 0 in es.dropped:
                drop(es.dropped[0])
                continue
            idx.append(i)
            ys.append(float(es.yi[0]))
            vs.append(float(es.vi[0]))
            cts.append((np.nan,) * 4)
            corrected.append(False)
            continue
        if s.has_effect:
            if s.yi_measure is not None and s.yi_measure.upper() != m and not (m == "PETO" and s.yi_measure == "OR"):
                drop(f"reports a {s.yi_measure}, not a {m}: measures cannot be mixed in one analysis")
                continue
            if not (np.isfinite(s.yi) and np.isfinite(s.vi)):
                drop("effect or variance missing")
                continue
            if s.vi <= 0:
                drop(f"sampling variance must be > 0 (got {s.vi:g})")
                continue
            idx.append(i)
            ys.append(float(s.yi))
            vs.append(float(s.vi))
            cts.append((np.nan,) * 4)
            corrected.append(False)
            continue
        if m in BINARY_MEASURES:
            drop(f"no events/totals per group and no reported {m} with a CI")
        elif m in CONTINUOUS_MEASURES:
            drop(f"no means with SD and n per group and no reported {m} with a CI")
        else:
            drop("no effect (yi) with a variance (vi) or standard error")
    return _Effects(idx, np.array(ys), np.array(vs), np.array(cts) if cts else None, corrected, excluded, notes)


def _fit(opt: Options, eff: _Effects, sel: list[int]) -> Fit:
    """Fit the chosen model on the positions ``sel`` (indices into ``eff`` arrays)."""
    if opt.method == "MH":
        c = eff.counts[sel]
        return rma_mh(c[:, 0], c[:, 1], c[:, 2], c[:, 3], measure=opt.measure, level=opt.level)
    if opt.method == "PETO":
        c = eff.counts[sel]
        return rma_peto(c[:, 0], c[:, 1], c[:, 2], c[:, 3], level=opt.level)
    return rma(eff.yi[sel], eff.vi[sel], method=opt.method, test=opt.test, level=opt.level,
               measure=opt.measure, control=opt.control)


def _too_few(k: int, what: str) -> KboneInputError:
    return KboneInputError(Problem(
        field="studies", reason=f"{k} usable stud{'y' if k == 1 else 'ies'} {what}: a pooled estimate needs at least 2",
        fix="add studies, relax the exclusions, or see the excluded list for why studies were left out"))


def analyse(studies: list[StudyInput], opt: Options, *, source: str, outcome: str | None = None,
            outcome_label: dict[str, str] | None = None, metric: str | None = None,
            pre_excluded: list[Excluded] | None = None, notes: list[str] | None = None) -> MetaReport:
    """Run the whole analysis; raises :class:`KboneInputError` (exit 2) when nothing can be pooled."""
    _validate_options(opt)
    excluded = list(pre_excluded or [])
    keep_studies = []
    for s in studies:
        if s.integrity in opt.exclude:
            excluded.append(Excluded(id=s.id, label=s.label, reason=f"integrity status: {s.integrity}"))
        else:
            keep_studies.append(s)
    eff = compute_effects(keep_studies, opt)
    excluded += eff.excluded
    k = len(eff.idx)
    if k < 2:
        err = _too_few(k, f"for {opt.measure}")
        err.problems += [Problem(field=f"study {e.id}", reason=e.reason) for e in excluded]
        raise err
    used = [keep_studies[i] for i in eff.idx]
    ids = [s.id for s in used]
    all_sel = list(range(k))
    fit = _fit(opt, eff, all_sel)
    main = pooled_model(fit, opt.measure, ids)
    z = float(stats.norm.ppf(0.5 + opt.level / 2))
    rows = []
    for j, s in enumerate(used):
        y, v = float(eff.yi[j]), float(eff.vi[j])
        se = float(np.sqrt(v))
        rows.append(StudyRow(id=s.id, record=s.record, label=s.label, year=s.year, yi=y, vi=v, se=se,
                             ci_lower=y - z * se, ci_upper=y + z * se,
                             back=_back(opt.measure, y, y - z * se, y + z * se),
                             weight=float(fit.weights[j]) if len(fit.weights) == k else 0.0,
                             integrity=s.integrity, groups=dict(s.groups),
                             notes=[*s.notes, *eff.notes.get(eff.idx[j], [])]))
    all_notes = list(notes or [])
    if opt.method in ("MH", "PETO"):
        all_notes.append("fixed-effect model: tau² is not estimated (0); the prediction interval equals the CI")
    rep = MetaReport(**main.model_dump(), source=source, outcome=outcome, outcome_label=outcome_label, metric=metric,
                     studies=rows, excluded=excluded, notes=all_notes)
    # integrity scenarios
    if opt.scenarios and not opt.exclude:
        rep.integrity = []
        for name, en, zh, drop in SCENARIOS:
            sel = [j for j, s in enumerate(used) if s.integrity not in drop]
            sids = [used[j].id for j in sel]
            out_ids = [used[j].id for j in range(k) if j not in sel]
            sc = Scenario(scenario=name, label_en=en, label_zh=zh, k=len(sel), study_ids=sids, excluded_ids=out_ids)
            if len(sel) >= 2:
                sc.pooled = pooled_model(_fit(opt, eff, sel), opt.measure, sids)
            else:
                sc.reason = f"{len(sel)} stud{'y' if len(sel) == 1 else 'ies'} left: nothing to pool"
            rep.integrity.append(sc)
    inverse_variance = opt.method not in ("MH", "PETO")
    y, v = eff.yi, eff.vi
    # subgroups
    if opt.by:
        labels = [s.groups.get(opt.by) or "unknown" for s in used]
        if inverse_variance:
            sg = an.subgroups(y, v, labels, method=opt.method, test=opt.test, level=opt.level, control=opt.control)
            groups = []
            for g in sg.groups:
                gid = [ids[i] for i in g.index]
                groups.append(SubgroupRow(
                    group=g.group, label=group_label(opt.by, g.group, "en"),
                    label_zh=group_label(opt.by, g.group, "zh"), k=len(g.index), study_ids=gid,
                    estimate=g.estimate, se=g.se, ci_lower=g.ci_lb, ci_upper=g.ci_ub,
                    back=_back(opt.measure, g.estimate, g.ci_lb, g.ci_ub),
                    pooled=pooled_model(g.fit, opt.measure, gid) if g.fit is not None else None))
            mf = sg.mods_fit
            rep.subgroups = SubgroupReport(by=opt.by, groups=groups, q_between=sg.Q_between,
                                           q_between_df=sg.Q_between_df, q_between_p=sg.Q_between_p,
                                           qm=mf.QM if mf else None, qm_df=list(mf.QM_df) if mf else None,
                                           qm_p=mf.QMp if mf else None)
        else:
            rep.subgroups = _subgroups_fixed(opt, eff, used, labels, ids)
    if opt.leave_one_out:
        if k < 3:
            rep.notes.append("leave-one-out needs at least 3 studies")
        else:
            rep.leave_one_out = []
            for j in range(k):
                sel = [i for i in range(k) if i != j]
                f = _fit(opt, eff, sel)
                rep.leave_one_out.append(_sens_row(used[j], f, opt.measure))
    if opt.cumulative:
        order = sorted(range(k), key=lambda j: (used[j].year is None, used[j].year or 0, j))
        rep.cumulative = []
        for n in range(1, k + 1):
            sel = order[:n]
            s = used[order[n - 1]]
            if n == 1:
                r1 = rows[sel[0]]
                rep.cumulative.append(SensitivityRow(id=s.id, label=s.label, year=s.year, k=1, estimate=r1.yi,
                                                     se=r1.se, ci_lower=r1.ci_lower, ci_upper=r1.ci_upper,
                                                     back=r1.back, tau2=0.0, i2=0.0, q=0.0))
            else:
                rep.cumulative.append(_sens_row(s, _fit(opt, eff, sel), opt.measure))
    if opt.bias and inverse_variance and k >= 3:
        try:
            e = an.egger_test(y, v, model="lm")
            rep.egger = EggerReport(model="lm", slope=e.slope, stat=e.stat, df=e.df, p=e.pval,
                                    limit_estimate=e.limit_estimate, k=k,
                                    note="fewer than 10 studies: the test has little power" if k < 10 else None)
            tf = an.trim_and_fill(y, v, method=opt.method, test=opt.test, level=opt.level, control=opt.control)
            rep.trimfill = TrimFillReport(k0=tf.k0, side=tf.side,
                                          pooled=pooled_model(tf.fit, opt.measure,
                                                              ids + [f"filled_{i + 1}" for i in range(tf.k0)]),
                                          filled_yi=[float(x) for x in tf.yi_filled],
                                          filled_vi=[float(x) for x in tf.vi_filled])
        except (KboneInputError, FloatingPointError, np.linalg.LinAlgError) as err:
            rep.notes.append(f"small-study analyses not estimable: {err}")
    return rep


def _sens_row(s: StudyInput, f: Fit, measure: str) -> SensitivityRow:
    return SensitivityRow(id=s.id, label=s.label, year=s.year, k=f.k, estimate=f.estimate, se=float(f.se[0]),
                          ci_lower=float(f.ci_lb[0]), ci_upper=float(f.ci_ub[0]),
                          back=_back(measure, f.estimate, float(f.ci_lb[0]), float(f.ci_ub[0])),
                          tau2=f.tau2, i2=f.I2, q=f.QE)


def _subgroups_fixed(opt, eff, used, labels, ids) -> SubgroupReport:
    """Subgroups for MH / Peto: each group pooled with the same method; Q across the group estimates."""
    levels = sorted(set(labels))
    groups = []
    est, se = [], []
    for g in levels:
        sel = [i for i, lab in enumerate(labels) if lab == g]
        gid = [ids[i] for i in sel]
        if len(sel) >= 2:
            f = _fit(opt, eff, sel)
            e, s_, lo, hi = f.estimate, float(f.se[0]), float(f.ci_lb[0]), float(f.ci_ub[0])
            pooled = pooled_model(f, opt.measure, gid)
        else:
            e, s_ = float(eff.yi[sel[0]]), float(np.sqrt(eff.vi[sel[0]]))
            zc = float(stats.norm.ppf(0.5 + opt.level / 2))
            lo, hi = e - zc * s_, e + zc * s_
            pooled = None
        est.append(e)
        se.append(s_)
        groups.append(SubgroupRow(group=g, label=group_label(opt.by, g, "en"), label_zh=group_label(opt.by, g, "zh"),
                                  k=len(sel), study_ids=gid,
                                  estimate=e, se=s_, ci_lower=lo, ci_upper=hi,
                                  back=_back(opt.measure, e, lo, hi), pooled=pooled))
    w = 1 / np.array(se) ** 2
    est_a = np.array(est)
    mean = np.sum(w * est_a) / np.sum(w)
    qb = float(np.sum(w * (est_a - mean) ** 2))
    dfb = len(levels) - 1
    return SubgroupReport(by=opt.by, groups=groups, q_between=qb, q_between_df=dfb,
                          q_between_p=float(stats.chi2.sf(qb, dfb)) if dfb > 0 else 1.0)
