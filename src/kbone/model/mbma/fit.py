"""The bone-outcome model, its exact grid posterior, and predictions with 95 % prediction intervals.

BMD (``data/model/mbma_config.yaml`` states the model in full)::

    y_j = a_j (x_i' beta + eta_i) + eps_j,    a_j = L_j H_T(t_j),   H_T(t) = T (1 - exp(-t/T))
    eta_i ~ N(0, tau^2),   eps ~ N(0, V),   beta ~ N(0, diag(beta_sd^2))

y_j is the vitamin K minus control difference in BMD % change, L_j the natural loss (%/yr) of the trial's
population at that site, x_i the exposure E_i times the covariate indicators, so x_i' beta is the
fraction of natural loss prevented. Given (tau, T) the model is linear-Gaussian: the marginal
likelihood is N(y; 0, V + tau^2 (a a' o B) + X~ S0 X~') (B_jk = 1 when j, k are the same trial,
X~ = diag(a) X) and beta | y, tau, T is Gaussian. The posterior over (tau, T) is computed exactly on a
grid (half-normal prior on tau, uniform on T) — no sampling, no optimiser, the same answer every run.

Fractures: log RR_i = -ln(G) d_i / SD_BMD + gamma + nu_i + eps_i, with G the Marshall 1996 gradient
(RR per SD lower BMD, from the evidence record), d_i the BMD effect this model predicts for the trial,
SD_BMD the population SD of BMD in % of the mean, gamma ~ N(0, sd^2) a direct (non-BMD) effect and
nu_i ~ N(0, tau_F^2); conjugate in gamma, exact grid over tau_F.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special, stats

from kbone.errors import KboneInputError, Problem
from kbone.evidence.schema import Record
from kbone.model.mbma.config import SITE_GROUP, MbmaConfig, load_config
from kbone.model.mbma.context import Context
from kbone.model.mbma.data import BmdObs, Extraction, FractureObs, extract

WEEKS_PER_YEAR = 365.25 / 7


def time_loading(t_weeks, T: float):
    """H_T(t) in years: T (1 - exp(-t/T)); linear (t) when T is infinite."""
    t = np.asarray(t_weeks, dtype=float) / WEEKS_PER_YEAR
    if math.isinf(T):
        return t
    return T * -np.expm1(-t / T)


@dataclass(frozen=True)
class Mixture:
    """A finite mixture of normals: weights, means and SDs (the predictive distribution)."""

    w: np.ndarray
    mu: np.ndarray
    sd: np.ndarray

    @property
    def mean(self) -> float:
        return float(np.sum(self.w * self.mu))

    @property
    def var(self) -> float:
        return float(np.sum(self.w * (self.sd**2 + self.mu**2)) - self.mean**2)

    def cdf(self, x: float) -> float:
        return float(np.sum(self.w * special.ndtr((x - self.mu) / self.sd)))   # ndtr: the normal cdf ufunc

    def quantile(self, p: float) -> float:
        if np.all(self.sd == 0):
            return float(np.quantile(self.mu, p))
        lo = float(np.min(self.mu - 10 * self.sd))
        hi = float(np.max(self.mu + 10 * self.sd))
        return float(optimize.brentq(lambda x: self.cdf(x) - p, lo, hi, xtol=1e-10))

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        a = (1 - level) / 2
        return self.quantile(a), self.quantile(1 - a)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        k = rng.choice(len(self.w), size=size, p=self.w)
        return self.mu[k] + self.sd[k] * rng.standard_normal(size)


def _pruned(w: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    keep = w > tol * w.max()
    return keep


@dataclass
class BmdPosterior:
    """Grid posterior: for grid point g, tau_g, T_g, weight w_g and beta ~ N(m_g, S_g)."""

    names: list[str]
    tau: np.ndarray
    T: np.ndarray
    w: np.ndarray
    m: np.ndarray
    S: np.ndarray
    log_evidence: float

    def coef_mixture(self, k: int) -> Mixture:
        return Mixture(self.w, self.m[:, k], np.sqrt(self.S[:, k, k]))


@dataclass
class FracturePosterior:
    tau: np.ndarray
    w: np.ndarray
    m: np.ndarray
    s: np.ndarray
    gradients: dict[str, dict]
    n_obs: int


@dataclass
class MbmaFit:
    """A fitted bone-outcome model: data used, exclusions, posterior, and prediction methods."""

    cfg: MbmaConfig
    data: Extraction
    bmd: BmdPosterior
    fracture: FracturePosterior
    options: dict = field(default_factory=dict)

    # ---- BMD --------------------------------------------------------------------------------
    def loading(self, ctx: Context, site: str, t_weeks: float) -> tuple[np.ndarray, float, list[str], str]:
        """a = L H_T(t) for each grid point, with L (%/yr), its flags and source."""
        L, flags, src = ctx.loss_rate(site)
        Ts = np.unique(self.bmd.T)
        h = {T: float(time_loading(t_weeks, T)) for T in Ts}
        return np.array([L * h[T] for T in self.bmd.T]), L, flags, src

    def predict_bmd(self, ctx: Context, site: str, t_weeks: float, se_obs: float = 0.0) -> Mixture:
        """Predictive distribution of the effect (vitamin K − control, % change) in a new trial;
        ``se_obs`` adds that trial's sampling error (0: the trial's true mean effect)."""
        a, *_ = self.loading(ctx, site, t_weeks)
        x = ctx.covariates(site, self.cfg)
        mu = a * (self.bmd.m @ x)
        var = a**2 * (np.einsum("i,gij,j->g", x, self.bmd.S, x) + self.bmd.tau**2) + se_obs**2
        return Mixture(self.bmd.w, mu, np.sqrt(np.maximum(var, 1e-300)))

    def draw_bmd(self, ctx: Context, site: str, t_weeks: float, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draws of the true trial effect: grid point, then beta, then the new trial's eta."""
        a, *_ = self.loading(ctx, site, t_weeks)
        x = ctx.covariates(site, self.cfg)
        g = rng.choice(len(self.bmd.w), size=size, p=self.bmd.w)
        mean_f = self.bmd.m[g] @ x
        sd_f = np.sqrt(np.einsum("i,gij,j->g", x, self.bmd.S[g], x) + self.bmd.tau[g] ** 2)
        return a[g] * (mean_f + sd_f * rng.standard_normal(size))

    # ---- fractures -------------------------------------------------------------------------
    def gradient(self, fracture: str) -> dict:
        return self.fracture.gradients[fracture]

    def fracture_offset(self, ctx: Context, fracture: str, t_weeks: float) -> tuple[float, float, float]:
        """BMD-mediated log RR (mean, variance) and the BMD effect d (%) it comes from."""
        gr = self.gradient(fracture)
        mix = self.predict_bmd(ctx, gr["site"], t_weeks)
        d, vd = mix.mean, mix.var
        sdp = self.cfg.assumptions.bmd_sd_percent_of_mean.value
        lg, slg = gr["log_rr_per_sd"], gr["se_log"]
        mean = -lg * d / sdp
        var = (lg / sdp) ** 2 * vd + (d / sdp) ** 2 * slg**2
        return mean, var, d

    def predict_fracture(self, ctx: Context, fracture: str, t_weeks: float, se_obs: float = 0.0) -> Mixture:
        """Predictive distribution of log RR (vitamin K vs control) in a new trial."""
        off, voff, _ = self.fracture_offset(ctx, fracture, t_weeks)
        f = self.fracture
        mu = off + f.m
        sd = np.sqrt(voff + f.s**2 + f.tau**2 + se_obs**2)
        return Mixture(f.w, mu, sd)

    # ---- reporting -------------------------------------------------------------------------
    def parameters(self) -> dict:
        b = self.bmd
        coefs = []
        for k, name in enumerate(b.names):
            mix = b.coef_mixture(k)
            lo, hi = mix.interval()
            coefs.append({"name": name, "mean": mix.mean, "sd": math.sqrt(max(mix.var, 0.0)),
                          "ci_lower": lo, "ci_upper": hi, "prior_sd": self.cfg.priors.beta_sd[name]})
        tau_vals = np.unique(b.tau)
        tau_w = np.array([b.w[b.tau == t].sum() for t in tau_vals])
        T_vals = np.unique(b.T)
        T_w = {("inf" if math.isinf(t) else f"{t:g}"): float(b.w[b.T == t].sum()) for t in T_vals}
        f = self.fracture
        gam = Mixture(f.w, f.m, f.s)
        glo, ghi = gam.interval()
        ftau = float(np.sum(f.w * f.tau))
        return {
            "bmd": {
                "coefficients": coefs,
                "tau": {"mean": float(np.sum(tau_w * tau_vals)), **_discrete_ci(tau_vals, tau_w)},
                "time_constant_years_posterior": T_w,
                "log_evidence": b.log_evidence,
                "n_observations": len(self.data.bmd),
                "n_trials": len({o.record for o in self.data.bmd}),
            },
            "fracture": {
                "direct_log_rr": {"mean": gam.mean, "sd": math.sqrt(max(gam.var, 0.0)), "ci_lower": glo, "ci_upper": ghi,
                                  "prior_sd": self.cfg.fracture.direct_prior_sd},
                "direct_rr": {"mean": math.exp(gam.mean), "ci_lower": math.exp(glo), "ci_upper": math.exp(ghi)},
                "tau_mean": ftau,
                "n_observations": f.n_obs,
                "gradients": f.gradients,
            },
        }


def _discrete_ci(vals: np.ndarray, w: np.ndarray) -> dict:
    c = np.cumsum(w)
    return {"ci_lower": float(vals[np.searchsorted(c, 0.025)]), "ci_upper": float(vals[min(np.searchsorted(c, 0.975), len(vals) - 1)])}


def _half_normal_weights(grid: np.ndarray, scale: float) -> np.ndarray:
    d = stats.halfnorm.pdf(grid, scale=scale)
    step = np.gradient(grid) if len(grid) > 1 and np.ptp(grid) > 0 else np.ones(len(grid))
    w = d * step
    return w / w.sum()


def _design(obs: list[BmdObs], fit_cfg: MbmaConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """X (n, p), y, V (sampling covariance), same-trial matrix B, loss L and t (weeks)."""
    n = len(obs)
    X = np.array([o.context.covariates(o.site, fit_cfg) for o in obs]).reshape(n, len(fit_cfg.covariates))
    y = np.array([o.y for o in obs])
    se = np.array([o.se for o in obs])
    V = np.diag(se**2)
    rt, rs = fit_cfg.assumptions.rho_time, fit_cfg.assumptions.rho_site
    B = np.zeros((n, n))
    for j in range(n):
        for k in range(n):
            if obs[j].record == obs[k].record:
                B[j, k] = 1.0
                if j != k:
                    rho = rt if obs[j].site == obs[k].site else rs
                    if obs[j].comparison != obs[k].comparison:
                        rho = 0.0
                    V[j, k] = rho * se[j] * se[k]
    return X, y, V, B


def fit_bmd(obs: list[BmdObs], cfg: MbmaConfig) -> BmdPosterior:
    names = cfg.covariates
    p = len(names)
    S0 = np.diag([cfg.priors.beta_sd[k] ** 2 for k in names])
    S0inv = np.linalg.inv(S0)
    taus = np.array(cfg.priors.tau_grid.values())
    tau_prior = _half_normal_weights(taus, cfg.priors.tau_half_normal_scale)
    Ts = cfg.time_constants()
    G = len(taus) * len(Ts)
    tau_g, T_g, logw = np.empty(G), np.empty(G), np.empty(G)
    M, S = np.zeros((G, p)), np.zeros((G, p, p))
    if not obs:
        for gi, (T, (ti, tau)) in enumerate((T, x) for T in Ts for x in enumerate(taus)):
            tau_g[gi], T_g[gi], logw[gi] = tau, T, math.log(tau_prior[ti] / len(Ts))
            S[gi] = S0
        w = np.exp(logw - logw.max())
        return BmdPosterior(names, tau_g, T_g, w / w.sum(), M, S, 0.0)
    X, y, V, B = _design(obs, cfg)
    L = np.array([o.context.loss_rate(o.site)[0] for o in obs])
    tw = np.array([o.t_weeks for o in obs])
    n = len(y)
    gi = 0
    for T in Ts:
        a = L * time_loading(tw, T)
        Xt = a[:, None] * X
        AA = np.outer(a, a) * B
        for ti, tau in enumerate(taus):
            Sig = V + tau**2 * AA
            C = Sig + Xt @ S0 @ Xt.T
            cC = np.linalg.cholesky(C)
            z = np.linalg.solve(cC, y)
            ll = -0.5 * (z @ z) - np.sum(np.log(np.diag(cC))) - 0.5 * n * math.log(2 * math.pi)
            cS = np.linalg.cholesky(Sig)
            Xw = np.linalg.solve(cS, Xt)
            yw = np.linalg.solve(cS, y)
            P = S0inv + Xw.T @ Xw
            Sg = np.linalg.inv(P)
            Sg = (Sg + Sg.T) / 2
            M[gi] = Sg @ (Xw.T @ yw)
            S[gi] = Sg
            tau_g[gi], T_g[gi] = tau, T
            logw[gi] = ll + math.log(tau_prior[ti] / len(Ts))
            gi += 1
    mx = logw.max()
    w = np.exp(logw - mx)
    evidence = float(mx + math.log(w.sum()))
    w = w / w.sum()
    keep = _pruned(w)
    w = w[keep] / w[keep].sum()
    return BmdPosterior(names, tau_g[keep], T_g[keep], w, M[keep], S[keep], evidence)


def gradients_from_records(records: list[Record], cfg: MbmaConfig) -> dict[str, dict]:
    rid = cfg.fracture.gradient_record
    rec = next((r for r in records if r.id == rid), None)
    if rec is None:
        from kbone.evidence.loader import records_by_id

        rec = records_by_id().get(rid)
    if rec is None:
        raise KboneInputError(Problem(field="fracture.gradient_record", reason=f"evidence record {rid!r} not found",
                                      fix="restore the Marshall 1996 record or change mbma_config.yaml"))
    out = {}
    for frac, link in cfg.fracture.gradient_outcome.items():
        o = next((x for x in rec.outcomes if x.id == link.entry), None)
        if o is None or o.effect is None or not (o.effect.ci_lower and o.effect.ci_upper):
            raise KboneInputError(Problem(field="fracture.gradient_outcome", record=rid,
                                          reason=f"outcome {link.entry!r} with RR and CI not found"))
        e = o.effect
        lg = math.log(e.value)
        se = (math.log(e.ci_upper) - math.log(e.ci_lower)) / (2 * stats.norm.ppf(0.5 + e.ci_level / 2))
        out[frac] = {"rr_per_sd": e.value, "ci": [e.ci_lower, e.ci_upper], "log_rr_per_sd": lg, "se_log": se,
                     "site": link.site, "source": f"{rid}/{link.entry}: {o.source.cite()}"}
    return out


def fit_fracture(obs: list[FractureObs], bmd_fit: MbmaFit, cfg: MbmaConfig) -> FracturePosterior:
    taus = np.array(cfg.fracture.tau_grid.values())
    prior = _half_normal_weights(taus, cfg.fracture.tau_half_normal_scale)
    s0 = cfg.fracture.direct_prior_sd
    if not obs:
        return FracturePosterior(taus, prior, np.zeros_like(taus), np.full_like(taus, s0), bmd_fit.fracture.gradients, 0)
    r, v = [], []
    for o in obs:
        off, voff, _ = bmd_fit.fracture_offset(o.context, o.fracture, o.t_weeks)
        r.append(o.y - off)
        v.append(o.se**2 + voff)
    r, v = np.array(r), np.array(v)
    logw, m, s = np.empty(len(taus)), np.empty(len(taus)), np.empty(len(taus))
    for i, tau in enumerate(taus):
        vv = v + tau**2
        prec = 1 / s0**2 + np.sum(1 / vv)
        m[i] = np.sum(r / vv) / prec
        s[i] = math.sqrt(1 / prec)
        C = np.diag(vv) + s0**2
        sign, logdet = np.linalg.slogdet(C)
        logw[i] = -0.5 * (r @ np.linalg.solve(C, r) + logdet + len(r) * math.log(2 * math.pi)) + math.log(prior[i])
    w = np.exp(logw - logw.max())
    w /= w.sum()
    return FracturePosterior(taus, w, m, s, bmd_fit.fracture.gradients, len(obs))


def fit_mbma(records: list[Record] | None = None, *, exclude: tuple[str, ...] | list[str] = (),
             include_flagged: bool = False, include_retracted: bool = False,
             cfg: MbmaConfig | None = None, extraction: Extraction | None = None) -> MbmaFit:
    """Fit the BMD and fracture model to the evidence base (``exclude``: record ids left out)."""
    cfg = cfg or load_config()
    if records is None:
        from kbone.evidence.loader import load_records

        records = load_records()
    ext = extraction or extract(records, include_flagged=include_flagged, include_retracted=include_retracted,
                                exclude=exclude, cfg=cfg)
    bmd = fit_bmd(ext.bmd, cfg)
    grads = gradients_from_records(records, cfg)
    placeholder = FracturePosterior(np.zeros(1), np.ones(1), np.zeros(1), np.ones(1), grads, 0)
    fit = MbmaFit(cfg, ext, bmd, placeholder, {"exclude": sorted(exclude), "include_flagged": include_flagged,
                                               "include_retracted": include_retracted})
    fit.fracture = fit_fracture(ext.fractures, fit, cfg)
    return fit


def site_group(site: str) -> str:
    return SITE_GROUP.get(site, "spine")
