"""Virtual subjects: covariates (age, sex, weight, CYP2C9 and VKORC1 genotype, vitamin K intake) and
log-normal between-subject variability, reproducible from a seed.

``make_population(n, seed=…, profile=…)`` samples covariates from a profile in
``data/model/populations.yaml``; any covariate given explicitly is used for every subject.
``Population.parameters(spec)`` draws each parameter with ``iiv_cv`` as θ·exp(η), η ~ N(0, ln(1+CV²)).
Each spec draws from its own random stream (seed + spec name), so adding warfarin to a simulation does
not change the vitamin K draws. ``typical=True`` gives typical values (η = 0).
Units: age years, weight kg, intake µg/day.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from kbone.errors import KboneInputError, Problem
from kbone.model.library import FORMS, populations, resolve_form
from kbone.model.spec import ModelSpec

MAX_SUBJECTS = 1_000_000


@dataclass
class Population:
    """``n`` virtual subjects. Arrays have length ``n``; ``intake`` maps form → µg/day."""

    n: int
    age: np.ndarray
    weight: np.ndarray
    female: np.ndarray
    cyp2c9: list[str]
    vkorc1: list[str]
    intake: dict[str, np.ndarray]
    seed: int | None = None
    typical: bool = False
    profile: str = "general"
    assumptions: list[str] = field(default_factory=list)
    root_n: int | None = None            # size of the population this one was cut from
    index: np.ndarray | None = None      # this population's subjects within the root
    _etas: dict = field(default_factory=dict, repr=False)   # spec name → param → η (root_n,), shared

    def rng(self, name: str) -> np.random.Generator:
        key = zlib.crc32(name.encode("utf-8"))
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(key,)))

    def etas(self, spec: ModelSpec) -> dict[str, np.ndarray]:
        """Standard-normal-scaled deviations η per IIV parameter of ``spec`` for this population's subjects."""
        N = self.root_n or self.n
        cache = self._etas.get(spec.name)
        if cache is None:
            rng = self.rng(spec.name)
            cache = {}
            for name, p in spec.parameters.items():   # fixed order → reproducible draws
                if p.iiv_cv:
                    cache[name] = rng.normal(0.0, np.sqrt(np.log1p(p.iiv_cv ** 2)), N)
            self._etas[spec.name] = cache
        idx = self.index if self.index is not None else slice(None)
        return {k: v[idx] for k, v in cache.items()}

    def parameters(self, spec: ModelSpec, overrides: dict[str, float] | None = None) -> dict[str, np.ndarray]:
        """Per-subject parameter values for ``spec`` (typical × exp(η) for parameters with IIV)."""
        overrides = overrides or {}
        etas = {} if self.typical else self.etas(spec)
        out: dict[str, np.ndarray] = {}
        for name, p in spec.parameters.items():
            theta = float(overrides.get(name, p.value))
            out[name] = theta * np.exp(etas[name]) if name in etas else np.full(self.n, theta)
        return out

    def subset(self, idx) -> Population:
        idx = np.asarray(idx)
        root_idx = idx if self.index is None else self.index[idx]
        return Population(n=len(idx), age=self.age[idx], weight=self.weight[idx], female=self.female[idx],
                          cyp2c9=[self.cyp2c9[i] for i in idx], vkorc1=[self.vkorc1[i] for i in idx],
                          intake={k: v[idx] for k, v in self.intake.items()}, seed=self.seed,
                          typical=self.typical, profile=self.profile, assumptions=list(self.assumptions),
                          root_n=self.root_n or self.n, index=root_idx, _etas=self._etas)


def _choice(rng: np.random.Generator, freq: dict[str, float], n: int) -> list[str]:
    keys = list(freq)
    p = np.array([freq[k] for k in keys], dtype=float)
    return [keys[i] for i in rng.choice(len(keys), size=n, p=p / p.sum())]


def _check_range(value: float, lo: float, hi: float, field_name: str, unit: str) -> float:
    v = float(value)
    if not np.isfinite(v) or not lo <= v <= hi:
        raise KboneInputError(Problem(field=field_name, reason=f"{value} {unit} is outside {lo:g}-{hi:g} {unit}",
                                      fix=f"give {field_name} between {lo:g} and {hi:g} {unit}"))
    return v


def make_population(n: int = 1, *, seed: int | None = 0, profile: str = "general", typical: bool = False,
                    age: float | None = None, sex: str | None = None, weight: float | None = None,
                    cyp2c9: str | None = None, vkorc1: str | None = None,
                    intake: dict[str, float] | None = None) -> Population:
    """Sample ``n`` subjects from ``profile``; explicit covariates override the sampled ones.

    ``intake`` maps form (any name the vocabulary resolves) → habitual µg/day for every subject;
    forms not given are sampled from the profile (or its median when ``typical``).
    """
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_SUBJECTS:
        raise KboneInputError(Problem(field="n", reason=f"number of subjects {n!r} is not between 1 and {MAX_SUBJECTS}",
                                      fix="give --n between 1 and 1000000"))
    profs = populations()
    if profile not in profs:
        raise KboneInputError(Problem(field="population", reason=f"unknown population profile {profile!r}",
                                      fix=f"use one of: {', '.join(profs)}"))
    prof = profs[profile]
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(b"covariates"),)))
    assumptions: list[str] = []

    if sex is not None:
        s = str(sex).strip().lower()
        if s not in ("female", "male", "f", "m", "女", "男"):
            raise KboneInputError(Problem(field="sex", reason=f"unknown sex {sex!r}", fix="use female or male"))
        female = np.full(n, s in ("female", "f", "女"))
    elif typical:
        female = np.zeros(n, dtype=bool) if n == 1 else (np.arange(n) % 2 == 1)
    else:
        female = rng.random(n) < prof["female_fraction"]["value"]

    if age is not None:
        ages = np.full(n, _check_range(age, 18, 110, "age", "years"))
    elif typical:
        ages = np.full(n, 0.5 * (prof["age"]["low"] + prof["age"]["high"]))
    else:
        ages = rng.uniform(prof["age"]["low"], prof["age"]["high"], n)

    if weight is not None:
        w = np.full(n, _check_range(weight, 30, 250, "weight", "kg"))
    else:
        wm = np.where(female, prof["weight_kg"]["female"]["mean"], prof["weight_kg"]["male"]["mean"])
        ws = np.where(female, prof["weight_kg"]["female"]["sd"], prof["weight_kg"]["male"]["sd"])
        w = wm if typical else np.clip(wm + ws * rng.standard_normal(n), 40, 150)
        w = np.asarray(w, dtype=float)

    def geno(given: str | None, key: str) -> list[str]:
        freq = prof[key]["freq"]
        if given is not None:
            g = str(given).strip().upper().replace(" ", "")
            if key == "vkorc1" and len(g) == 2:
                g = "".join(sorted(g))                         # GA → AG
            elif key == "cyp2c9" and "/" in g:
                g = "/".join(sorted(g.split("/")))           # *3/*1 → *1/*3
            known = {k.upper(): k for k in freq} | {k.upper(): k for k in _ALL_GENOTYPES[key]}
            if g not in known:
                raise KboneInputError(Problem(field=key, reason=f"unknown {key.upper()} genotype {given!r}",
                                              fix=f"use one of: {', '.join(_ALL_GENOTYPES[key])}"))
            return [known[g]] * n
        if typical:
            return [max(freq, key=freq.get)] * n
        return _choice(rng, freq, n)

    cyp = geno(cyp2c9, "cyp2c9")
    vk = geno(vkorc1, "vkorc1")

    intake = {resolve_form(k, field="intake"): v for k, v in (intake or {}).items()}
    intakes: dict[str, np.ndarray] = {}
    for form in FORMS:
        spec_i = prof["intake_ug_per_day"][form]
        if form in intake:
            intakes[form] = np.full(n, _check_range(intake[form], 0, 100_000, f"intake {form}", "µg/day"))
        elif typical:
            intakes[form] = np.full(n, float(spec_i["median"]))
        else:
            intakes[form] = spec_i["median"] * np.exp(np.log(spec_i["gsd"]) * rng.standard_normal(n))
        if form not in intake and spec_i.get("assumption"):
            assumptions.append(f"habitual {form} intake from profile {profile!r}: {spec_i.get('note', 'assumed')}")
    return Population(n=int(n), age=ages, weight=w, female=female, cyp2c9=cyp, vkorc1=vk, intake=intakes,
                      seed=seed, typical=typical, profile=profile, assumptions=assumptions)


_ALL_GENOTYPES = {
    "cyp2c9": ["*1/*1", "*1/*2", "*1/*3", "*2/*2", "*2/*3", "*3/*3"],
    "vkorc1": ["GG", "AG", "AA"],
}
