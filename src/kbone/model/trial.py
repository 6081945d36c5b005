"""Virtual trials: a design file → predicted effect with a 95 % prediction interval, simulated trial
replicates, power at the planned n and n for a target power — from the bone-outcome MBMA.

Design file (YAML; ``kbone trial schema`` prints the JSON Schema)::

    name: ECKO-like K1 trial
    population: {terms: [postmenopausal, osteopenic], region: western}
    n_per_arm: 220
    duration_weeks: 104
    intervention: {form: K1, amount: 5, unit: mg, per: day}
    co_interventions: [calcium, vitamin_d]
    control: placebo
    outcome: bmd
    site: lumbar_spine
    dropout: 0.15

Effects are vitamin K minus control: percentage points of BMD % change from baseline (BMD outcomes), or
a risk ratio (fracture outcomes). "Success" in a replicate is a two-sided test at ``alpha`` that is
significant *and* favours vitamin K. Two kinds of power are reported: ``power`` at the predicted mean
effect (the conventional calculation) and ``assurance``, the probability of success averaged over the
prediction (parameter uncertainty and between-trial heterogeneity included), which the simulated
replicates estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from scipy import optimize, stats

from kbone.errors import KboneInputError, Problem
from kbone.model.mbma.config import SITE_GROUP
from kbone.model.mbma.context import Context, make_context
from kbone.model.mbma.fit import WEEKS_PER_YEAR, MbmaFit, Mixture
from kbone.vocab import vocab

BLOCK = 250          # replicates per block: the unit of work for every backend (fixes the random streams)
BMD_SITES = tuple(SITE_GROUP)
FRACTURES = ("fracture_vertebral", "fracture_hip", "fracture_nonvertebral", "fracture_clinical", "fracture_any")


# ---- the design schema ----------------------------------------------------------------------------

class DoseSpec(BaseModel):
    """The vitamin K regimen of the intervention arm."""

    model_config = ConfigDict(extra="forbid")
    form: str = Field(description="K1, MK-4 or MK-7 (any vocabulary synonym, zh or en)")
    amount: float = Field(gt=0, description="amount per `per`")
    unit: str = Field("ug", description="mass unit: ug, µg, mg, 微克, 毫克 …")
    per: Literal["day", "week"] = "day"

    @field_validator("form")
    @classmethod
    def _form(cls, v: str) -> str:
        t = vocab().resolve("form", v)
        if t is None or t.id not in ("K1", "MK-4", "MK-7"):
            raise ValueError(f"unknown or unmodelled form {v!r}; use K1, MK-4 or MK-7")
        return t.id

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        t = vocab().resolve("unit", v)
        if t is None or t.get("dimension") != "mass":
            raise ValueError(f"unknown mass unit {v!r}; use ug or mg")
        return t.id

    @property
    def ug_per_day(self) -> float:
        ug = vocab().convert(self.amount, self.unit, "ug")
        return ug / 7 if self.per == "week" else ug


class PopulationSpec(BaseModel):
    """Who is randomised: vocabulary population terms and region (or country)."""

    model_config = ConfigDict(extra="forbid")
    terms: list[str] = Field(description="population terms: postmenopausal, osteopenic, osteoporotic, men, ckd …")
    region: Literal["asian", "western"] | None = None
    country: str | None = Field(None, description="ISO country code (sets the region)")
    sex: Literal["female", "male", "mixed"] | None = None
    age_max: float | None = Field(None, gt=0, lt=120)
    menopause: Literal["early", "established"] | None = Field(
        None, description="early: within ~5 years of the final menstrual period (faster natural loss)")

    @field_validator("terms")
    @classmethod
    def _terms(cls, v: list[str]) -> list[str]:
        out = []
        for t in v:
            term = vocab().resolve("population", t)
            if term is None:
                sugg = vocab().suggest("population", t)
                raise ValueError(f"unknown population term {t!r}" + (f"; did you mean {', '.join(sugg)}?" if sugg else ""))
            out.append(term.id)
        if not out:
            raise ValueError("give at least one population term (e.g. postmenopausal)")
        return out

    @model_validator(mode="after")
    def _region(self):
        if self.country is not None:
            c = vocab().resolve("country", self.country)
            if c is None:
                raise ValueError(f"unknown country {self.country!r}")
            self.country = c.id
            if self.region is None:
                self.region = c.get("region")
        return self


class TrialDesign(BaseModel):
    """A two-arm parallel trial of vitamin K vs control."""

    model_config = ConfigDict(extra="forbid")
    name: str = "virtual trial"
    population: PopulationSpec
    n_per_arm: int = Field(gt=0, description="participants randomised per arm")
    duration_weeks: float = Field(gt=0, le=520, description="time from randomisation to the outcome, weeks")
    intervention: DoseSpec
    co_interventions: list[str] = Field(default_factory=list, description="given to both arms: calcium, vitamin_d, bisphosphonate …")
    control: Literal["placebo", "no_treatment", "co_intervention_only"] = "placebo"
    open_label: bool = False
    outcome: str = Field("bmd", description="bmd (with site) or a fracture outcome: fracture_vertebral, fracture_hip …")
    site: str | None = Field(None, description="BMD site: lumbar_spine, femoral_neck, total_hip, trochanter, radius …")
    dropout: float = Field(0.1, ge=0, lt=1, description="fraction lost before the outcome (missing completely at random)")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="two-sided significance level")
    sd_percent: float | None = Field(None, gt=0, description="per-arm SD of BMD % change (default: from the evidence)")
    control_risk: float | None = Field(None, gt=0, lt=1, description="fracture outcomes: control-arm risk over the trial")

    @field_validator("co_interventions")
    @classmethod
    def _agents(cls, v: list[str]) -> list[str]:
        out = []
        for a in v:
            t = vocab().resolve("agent", a)
            if t is None:
                sugg = vocab().suggest("agent", a)
                raise ValueError(f"unknown co-intervention {a!r}" + (f"; did you mean {', '.join(sugg)}?" if sugg else ""))
            out.append(t.id)
        return out

    @model_validator(mode="after")
    def _outcome(self):
        t = vocab().resolve("outcome", self.outcome)
        if self.outcome.lower() in ("bmd", "骨密度"):
            kind = "bmd"
        elif t is not None and t.get("group") == "bmd" and t.get("site"):
            kind = "bmd"
            if self.site is None:
                self.site = t.get("site")
        elif t is not None and t.id in FRACTURES:
            kind = t.id
        else:
            raise ValueError(f"unknown outcome {self.outcome!r}; use bmd (with site) or one of {', '.join(FRACTURES)}")
        self.outcome = kind
        if kind == "bmd":
            if self.site is None:
                raise ValueError("a BMD outcome needs a site (lumbar_spine, femoral_neck, total_hip …)")
            site = self.site.strip().lower().replace(" ", "_").replace("-", "_")
            if site not in BMD_SITES:
                st = vocab().resolve("outcome", self.site)
                site = st.get("site") if st is not None and st.get("group") == "bmd" else site
            if site not in BMD_SITES:
                raise ValueError(f"unknown BMD site {self.site!r}; use one of {', '.join(BMD_SITES)}")
            self.site = site
        elif self.control_risk is None:
            raise ValueError("a fracture outcome needs control_risk (the control-arm risk over the trial, 0-1)")
        return self

    @property
    def is_bmd(self) -> bool:
        return self.outcome == "bmd"

    @property
    def n_completers(self) -> float:
        return self.n_per_arm * (1 - self.dropout)


def design_schema() -> dict:
    return TrialDesign.model_json_schema()


def _field_of(loc: tuple) -> str:
    return ".".join(str(x) for x in loc if not str(x).startswith("function-")) or "design"


def _fix_for(field: str) -> str:
    fixes = {
        "n_per_arm": "give a whole number of participants per arm, > 0",
        "duration_weeks": "give the follow-up in weeks, > 0 and at most 520 (10 years)",
        "site": f"use one of {', '.join(BMD_SITES)}",
        "intervention.amount": "give the daily (or weekly) amount, > 0",
        "intervention.form": "use K1, MK-4 or MK-7",
        "dropout": "a fraction in [0, 1), e.g. 0.15",
    }
    return fixes.get(field, "see `kbone trial schema` for the fields and their units")


def load_design(source: str | Path | dict) -> TrialDesign:
    """Read and validate a design (YAML file or mapping); every problem names its field and the fix."""
    file = None
    if isinstance(source, dict):
        raw = source
    else:
        file = str(source)
        p = Path(source)
        if not p.is_file():
            raise KboneInputError(Problem(field="DESIGN", reason=f"design file {file} not found", fix="give the path of a YAML design file"))
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise KboneInputError(Problem(field="DESIGN", file=file, reason=f"not valid YAML: {err}",
                                          fix="check indentation and colons")) from None
        if not isinstance(raw, dict):
            raise KboneInputError(Problem(field="DESIGN", file=file, reason="a design must be a YAML mapping",
                                          fix="see `kbone trial schema`"))
    try:
        return TrialDesign.model_validate(raw)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            f = _field_of(e["loc"])
            msg = e["msg"].removeprefix("Value error, ")
            if f == "design":
                # model-level checks: name the field they concern
                for cand in ("site", "control_risk", "outcome"):
                    if cand in msg:
                        f = cand
                        break
            problems.append(Problem(field=f, reason=msg, fix=_fix_for(f), file=file))
        raise KboneInputError(problems) from None


# ---- design → model context, with extrapolation checks ------------------------------------------

def evidence_dose_range(records=None) -> dict[str, tuple[float, float]]:
    """Lowest and highest daily dose of each form anywhere in the evidence base (trials and PK studies)."""
    if records is None:
        from kbone.evidence.loader import load_records

        records = load_records()
    rng: dict[str, list[float]] = {}
    for r in records:
        doses = [a.intervention for a in r.arms if a.intervention] + [p.dose for p in r.pk_parameters if p.dose]
        for d in doses:
            if d.ug_per_day:
                rng.setdefault(d.form, []).append(d.ug_per_day)
    return {k: (min(v), max(v)) for k, v in rng.items()}


def design_context(design: TrialDesign, fit: MbmaFit, records=None) -> tuple[Context, list[str]]:
    """The model's view of the design, and warnings wherever the model is outside its data."""
    ug = design.intervention.ug_per_day
    form = design.intervention.form
    rng = evidence_dose_range(records)
    lo, hi = rng.get(form, (None, None))
    if lo is None or not (lo <= ug <= hi):
        where = f"{lo:g}-{hi:g} ug/day" if lo is not None else "none"
        raise KboneInputError(Problem(field="intervention.amount", reason=(
            f"{form} {ug:g} ug/day is outside any evidence (doses of {form} in the evidence base: {where})"),
            fix="choose a dose within the studied range"))
    warnings: list[str] = []
    terms = set(design.population.terms)
    early = None if design.population.menopause is None else design.population.menopause == "early"
    ctx = make_context(form=form, dose_ug_per_day=ug, terms=terms, region=design.population.region,
                       co_agents=set(design.co_interventions),
                       open_label=design.open_label or design.control != "placebo", sex=design.population.sex,
                       age_max=design.population.age_max, early=early, cfg=fit.cfg)
    used = fit.data.bmd
    if used:
        fd = [o.context.dose_ug_per_day for o in used if o.context.form == form]
        if not fd:
            warnings.append(f"extrapolation: no {form} trial with BMD results was fitted; its effect rests on the "
                            "exposure scale and the prior of the form term")
        elif not (min(fd) <= ug <= max(fd)):
            warnings.append(f"extrapolation: {form} {ug:g} ug/day is outside the doses of the fitted {form} BMD trials "
                            f"({min(fd):g}-{max(fd):g} ug/day)")
        tmax = max(o.t_weeks for o in used)
        if design.duration_weeks > tmax:
            warnings.append(f"extrapolation: {design.duration_weeks:g} weeks is longer than any fitted BMD result "
                            f"({tmax:g} weeks)")
        if design.is_bmd and not any(SITE_GROUP[o.site] == SITE_GROUP[design.site] for o in used):
            warnings.append(f"extrapolation: no fitted BMD result at the {SITE_GROUP[design.site]} site group")
        x = ctx.covariates(design.site or "lumbar_spine", fit.cfg)
        X = np.array([o.context.covariates(o.site, fit.cfg) for o in used])
        for k, name in enumerate(fit.cfg.covariates):
            if x[k] != 0 and not np.any(X[:, k] != 0):
                warnings.append(f"extrapolation: no fitted trial has '{name}'; its effect is the prior only "
                                f"(N(0, {fit.cfg.priors.beta_sd[name]:g}^2))")
    else:
        warnings.append("no BMD trial could be fitted: predictions are the priors only")
    if not design.is_bmd and fit.fracture.n_obs == 0:
        warnings.append("no fracture trial could be fitted: the direct (non-BMD) fracture effect is its prior only")
    return ctx, warnings


# ---- replicates -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReplicateSpec:
    """Everything a block of replicates needs (plain arrays: cheap to ship to Dask workers)."""

    kind: str                 # "bmd" or "fracture"
    w: np.ndarray             # predictive mixture of the true effect (BMD %-points or log RR)
    mu: np.ndarray
    sd: np.ndarray
    n_per_arm: int
    dropout: float
    alpha: float
    sd_arm: float = 0.0       # BMD: per-arm SD of % change
    control_mean: float = 0.0  # BMD: control-arm mean % change (natural loss)
    control_risk: float = 0.0  # fracture: control-arm risk


def block_seeds(seed: int, replicates: int) -> list[tuple[int, int, int]]:
    """(block index, seed, size) for every block: the same for every backend."""
    n_blocks = math.ceil(replicates / BLOCK)
    return [(k, seed, min(BLOCK, replicates - k * BLOCK)) for k in range(n_blocks)]


def run_block(spec: ReplicateSpec, k: int, seed: int, size: int) -> np.ndarray:
    """Simulate ``size`` trials; rows: observed effect, SE, p, success, completers (control, vitamin K),
    true effect. The random stream of block k depends only on (seed, k)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k,)))
    comp = rng.choice(len(spec.w), size=size, p=spec.w)
    true = spec.mu[comp] + spec.sd[comp] * rng.standard_normal(size)
    nc = rng.binomial(spec.n_per_arm, 1 - spec.dropout, size).astype(float)
    nt = rng.binomial(spec.n_per_arm, 1 - spec.dropout, size).astype(float)
    nc, nt = np.maximum(nc, 2), np.maximum(nt, 2)
    out = np.empty((7, size))
    if spec.kind == "bmd":
        # individual participants: % change ~ N(mean, SD^2); completers only
        n = spec.n_per_arm
        zc = rng.standard_normal((size, n))
        zt = rng.standard_normal((size, n))
        idx = np.arange(n)
        mc_mask = idx[None, :] < nc[:, None]
        mt_mask = idx[None, :] < nt[:, None]
        xc = spec.control_mean + spec.sd_arm * zc
        xt = spec.control_mean + true[:, None] + spec.sd_arm * zt
        mean_c = np.where(mc_mask, xc, 0).sum(1) / nc
        mean_t = np.where(mt_mask, xt, 0).sum(1) / nt
        var_c = np.where(mc_mask, (xc - mean_c[:, None]) ** 2, 0).sum(1) / (nc - 1)
        var_t = np.where(mt_mask, (xt - mean_t[:, None]) ** 2, 0).sum(1) / (nt - 1)
        diff = mean_t - mean_c
        se = np.sqrt(var_c / nc + var_t / nt)
        df = (var_c / nc + var_t / nt) ** 2 / ((var_c / nc) ** 2 / (nc - 1) + (var_t / nt) ** 2 / (nt - 1))
        p = 2 * stats.t.sf(np.abs(diff / se), df)
        good = diff > 0
    else:
        pt = np.clip(spec.control_risk * np.exp(true), 0, 1)
        ec = rng.binomial(nc.astype(int), spec.control_risk)
        et = rng.binomial(nt.astype(int), pt)
        a, c = et + 0.5, ec + 0.5
        diff = np.log((a / (nt + 1)) / (c / (nc + 1)))
        se = np.sqrt(1 / a - 1 / (nt + 1) + 1 / c - 1 / (nc + 1))
        p = 2 * stats.norm.sf(np.abs(diff / se))
        good = diff < 0
    out[0], out[1], out[2] = diff, se, p
    out[3] = (p < spec.alpha) & good
    out[4], out[5], out[6] = nc, nt, true
    return out


def run_blocks(spec: ReplicateSpec, blocks: list[tuple[int, int, int]]) -> list[np.ndarray]:
    """Several blocks in one task (for the Dask backend)."""
    return [run_block(spec, k, s, n) for k, s, n in blocks]


def run_replicates(spec: ReplicateSpec, replicates: int, seed: int, backend: str = "inprocess",
                   client=None) -> np.ndarray:
    """All replicates (7 × R), in block order; ``backend`` "inprocess" or "dask" (a LocalCluster, or ``client``)."""
    blocks = block_seeds(seed, replicates)
    if backend == "inprocess":
        parts = [run_block(spec, k, s, n) for k, s, n in blocks]
    elif backend == "dask":
        parts = _run_dask(spec, blocks, client)
    else:
        raise KboneInputError(Problem(field="backend", reason=f"unknown backend {backend!r}", fix="use inprocess or dask"))
    return np.concatenate(parts, axis=1)


def _run_dask(spec: ReplicateSpec, blocks, client=None):
    from dask.distributed import Client, LocalCluster

    own = client is None
    if own:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        # tasks run consecutive blocks (the blocks, not the tasks, fix the random streams); the spec is a few
        # small arrays shipped with each task (no scatter, so no shared keys to race on)
        n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
        n_tasks = min(len(blocks), 4 * n_workers)
        chunks = [blocks[i::n_tasks] for i in range(n_tasks)]
        futs = [client.submit(run_blocks, spec, ch, pure=False) for ch in chunks]
        parts = {}
        for ch, res in zip(chunks, client.gather(futs), strict=True):
            for (k, _, _), arr in zip(ch, res, strict=True):
                parts[k] = arr
        return [parts[k] for k, _, _ in blocks]
    finally:
        if own:
            client.close()
            cluster.close()


# ---- prediction, power ------------------------------------------------------------------------

class Simulated(BaseModel):
    replicates: int
    seed: int
    backend: str
    success_rate: float = Field(description="share of replicates significant and favouring vitamin K (assurance)")
    success_mc_se: float
    observed_mean: float
    observed_q025: float
    observed_q975: float
    observed_coverage_of_pi: float = Field(description="share of simulated observed effects inside the 95 % PI")


class PowerPoint(BaseModel):
    n_per_arm: int
    power: float
    assurance: float


class TrialResult(BaseModel):
    """Predicted result of a design (effects: vitamin K minus control)."""

    model_config = ConfigDict(protected_namespaces=())
    design: str
    outcome: str
    site: str | None
    unit: str
    effect: float = Field(description="predicted mean effect (BMD: percentage points; fracture: RR)")
    pi_lower: float = Field(description="95 % prediction interval of the observed effect at this n")
    pi_upper: float
    mean_pi_lower: float = Field(description="95 % prediction interval of the trial's true mean effect")
    mean_pi_upper: float
    control_change: float | None = Field(None, description="BMD: predicted control-arm % change (natural loss)")
    treatment_change: float | None = None
    natural_loss_percent_per_year: float | None = None
    natural_loss_source: str | None = None
    control_risk: float | None = None
    n_per_arm: int
    n_completers_per_arm: float
    sd_percent: float | None = None
    sd_source: str | None = None
    se: float = Field(description="standard error of the observed effect at this n (BMD: %-points; fracture: log RR)")
    power: float = Field(description="power at the predicted mean effect")
    assurance: float = Field(description="probability of success over the prediction")
    n_for_target: int | None = None
    n_for_target_assurance: int | None = None
    target: float | None = None
    target_note: str | None = None
    exposure: float
    exposure_method: str
    context: dict
    warnings: list[str]
    assumptions: list[str]
    trials_used: list[str]
    excluded_on_request: list[str]
    include_flagged: bool
    simulated: Simulated | None = None
    power_curve: list[PowerPoint] | None = None


@dataclass
class Prediction:
    design: TrialDesign
    ctx: Context
    mean_mix: Mixture      # true effect (analysis scale)
    obs_mix: Mixture       # observed effect at the design's n (analysis scale)
    se: float
    sd_arm: float | None
    sd_source: str | None
    L: float | None
    L_src: str | None
    flags: list[str]
    warnings: list[str]


def _se(design: TrialDesign, sd_arm: float | None, mu: float | None = None, n: float | None = None) -> float:
    n_eff = (n if n is not None else design.n_per_arm) * (1 - design.dropout)
    n_eff = max(n_eff, 2.0)
    if design.is_bmd:
        return sd_arm * math.sqrt(2 / n_eff)
    pc = design.control_risk
    pt = min(pc * math.exp(mu or 0.0), 0.999)
    return math.sqrt((1 - pt) / (n_eff * pt) + (1 - pc) / (n_eff * pc))


def predict(fit: MbmaFit, design: TrialDesign, records=None) -> Prediction:
    ctx, warnings = design_context(design, fit, records)
    flags = list(ctx.flags)
    t = design.duration_weeks
    if design.is_bmd:
        from kbone.model.mbma.data import typical_sd

        if design.sd_percent is not None:
            sd_arm, sd_src = design.sd_percent, "given in the design"
        else:
            sd_arm, sd_src = typical_sd(fit.data, design.site)
        mean_mix = fit.predict_bmd(ctx, design.site, t)
        se = _se(design, sd_arm)
        L, lflags, lsrc = ctx.loss_rate(design.site)
        flags += lflags
    else:
        sd_arm = sd_src = None
        mean_mix = fit.predict_fracture(ctx, design.outcome, t)
        se = _se(design, None, mean_mix.mean)
        L = lsrc = None
    obs_mix = Mixture(mean_mix.w, mean_mix.mu, np.sqrt(mean_mix.sd**2 + se**2))
    return Prediction(design, ctx, mean_mix, obs_mix, se, sd_arm, sd_src, L, lsrc, flags, warnings)


def _success_prob(mix: Mixture, se: float, alpha: float, bmd: bool) -> float:
    """P(observed effect significant and favourable) when the true effect ~ mix and sampling SE = se."""
    z = stats.norm.isf(alpha / 2)
    tot = np.sqrt(mix.sd**2 + se**2)
    if bmd:
        return float(np.sum(mix.w * stats.norm.sf((z * se - mix.mu) / tot)))
    return float(np.sum(mix.w * stats.norm.cdf((-z * se - mix.mu) / tot)))


def power_at(pred: Prediction, n: float) -> tuple[float, float]:
    """(power at the predicted mean effect, assurance) for n per arm."""
    d = pred.design
    mu = pred.mean_mix.mean
    se = _se(d, pred.sd_arm, mu, n)
    point = Mixture(np.ones(1), np.array([mu]), np.zeros(1))
    return _success_prob(point, se, d.alpha, d.is_bmd), _success_prob(pred.mean_mix, se, d.alpha, d.is_bmd)


def n_for_power(pred: Prediction, target: float) -> tuple[int | None, int | None, str | None]:
    """n per arm for ``target`` power at the predicted mean, and for ``target`` assurance (None if unreachable)."""
    notes = []

    def solve(idx: int) -> int | None:
        f = lambda n: power_at(pred, n)[idx] - target  # noqa: E731
        hi = 10.0
        while f(hi) < 0:
            hi *= 2
            if hi > 1e8:
                return None
        if f(2) >= 0:
            return 2
        return int(math.ceil(optimize.brentq(f, 2, hi, xtol=0.01)))

    mu = pred.mean_mix.mean
    favourable = mu > 0 if pred.design.is_bmd else mu < 0
    n_pow = solve(0) if favourable else None
    if not favourable:
        notes.append("the model predicts no benefit on average: no n reaches the target power")
    m = pred.mean_mix
    limit = float(np.sum(m.w * (stats.norm.sf(-m.mu / m.sd) if pred.design.is_bmd else stats.norm.cdf(-m.mu / m.sd))))
    if limit <= target:
        notes.append(f"assurance cannot exceed P(true effect favours vitamin K) = {limit:.2f} < {target:g} at any n")
        n_ass = None
    else:
        n_ass = solve(1)
    return n_pow, n_ass, "; ".join(notes) or None


def power_curve(pred: Prediction, n_max: int | None = None) -> list[PowerPoint]:
    n_max = n_max or max(4 * pred.design.n_per_arm, 200)
    grid = np.unique(np.geomspace(5, n_max, 40).astype(int))
    return [PowerPoint(n_per_arm=int(n), power=p, assurance=a) for n in grid for p, a in [power_at(pred, n)]]


def replicate_spec(pred: Prediction) -> ReplicateSpec:
    d = pred.design
    m = pred.mean_mix
    if d.is_bmd:
        return ReplicateSpec("bmd", m.w, m.mu, m.sd, d.n_per_arm, d.dropout, d.alpha, sd_arm=pred.sd_arm,
                             control_mean=-pred.L * d.duration_weeks / WEEKS_PER_YEAR)
    return ReplicateSpec("fracture", m.w, m.mu, m.sd, d.n_per_arm, d.dropout, d.alpha, control_risk=d.control_risk)


def simulate(pred: Prediction, replicates: int, seed: int, backend: str = "inprocess") -> tuple[Simulated, np.ndarray]:
    if replicates <= 0:
        raise KboneInputError(Problem(field="replicates", reason="must be > 0", fix="e.g. --replicates 1000"))
    sims = run_replicates(replicate_spec(pred), replicates, seed, backend)
    obs = sims[0] if pred.design.is_bmd else np.exp(sims[0])
    lo, hi = _interval(pred)
    succ = sims[3]
    return Simulated(replicates=replicates, seed=seed, backend=backend, success_rate=float(succ.mean()),
                     success_mc_se=float(math.sqrt(max(succ.mean() * (1 - succ.mean()), 1e-12) / replicates)),
                     observed_mean=float(obs.mean()), observed_q025=float(np.quantile(obs, 0.025)),
                     observed_q975=float(np.quantile(obs, 0.975)),
                     observed_coverage_of_pi=float(np.mean((obs >= lo) & (obs <= hi)))), sims


def _interval(pred: Prediction) -> tuple[float, float]:
    lo, hi = pred.obs_mix.interval()
    return (lo, hi) if pred.design.is_bmd else (math.exp(lo), math.exp(hi))


def result(fit: MbmaFit, pred: Prediction, *, simulated: Simulated | None = None, target: float | None = None,
           curve: bool = False) -> TrialResult:
    d = pred.design
    bmd = d.is_bmd
    tr = (lambda x: x) if bmd else math.exp
    lo, hi = pred.obs_mix.interval()
    mlo, mhi = pred.mean_mix.interval()
    pw, ass = power_at(pred, d.n_per_arm)
    n_pow = n_ass = note = None
    if target is not None:
        n_pow, n_ass, note = n_for_power(pred, target)
    ctrl = -pred.L * d.duration_weeks / WEEKS_PER_YEAR if bmd else None
    assumptions = sorted(set(pred.flags))
    return TrialResult(
        design=d.name, outcome=d.outcome, site=d.site, unit="percentage points (BMD % change, vitamin K - control)" if bmd else "risk ratio",
        effect=tr(pred.mean_mix.mean) if bmd else math.exp(pred.mean_mix.mean),
        pi_lower=tr(lo), pi_upper=tr(hi), mean_pi_lower=tr(mlo), mean_pi_upper=tr(mhi),
        control_change=ctrl, treatment_change=(ctrl + pred.mean_mix.mean) if bmd else None,
        natural_loss_percent_per_year=pred.L, natural_loss_source=pred.L_src,
        control_risk=d.control_risk, n_per_arm=d.n_per_arm, n_completers_per_arm=d.n_completers,
        sd_percent=pred.sd_arm, sd_source=pred.sd_source, se=pred.se, power=pw, assurance=ass,
        n_for_target=n_pow, n_for_target_assurance=n_ass, target=target, target_note=note,
        exposure=pred.ctx.exposure, exposure_method=pred.ctx.exposure_method, context=pred.ctx.summary(),
        warnings=pred.warnings, assumptions=assumptions,
        trials_used=sorted({o.record for o in fit.data.bmd} | {o.record for o in fit.data.fractures}),
        excluded_on_request=fit.options.get("exclude", []), include_flagged=fit.options.get("include_flagged", False),
        simulated=simulated, power_curve=power_curve(pred) if curve else None,
    )
