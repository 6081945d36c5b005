"""MBMA configuration: priors, grids, assumptions and natural BMD loss rates, read from ``data/model``."""

from __future__ import annotations

import math
from functools import lru_cache

import yaml
from pydantic import BaseModel, ConfigDict, Field

from kbone.paths import data_path

SITE_GROUP = {
    "lumbar_spine": "spine", "femoral_neck": "hip", "total_hip": "hip", "trochanter": "hip",
    "femoral_shaft": "hip", "radius": "peripheral", "metacarpal": "peripheral", "total_body": "total_body",
}
LOSS_CLASSES = ("early_postmenopausal", "postmenopausal", "men", "premenopausal")
REGIONS = ("western", "asian")


class Grid(BaseModel):
    min: float
    max: float
    n: int = Field(ge=2)

    def values(self) -> list[float]:
        step = (self.max - self.min) / (self.n - 1)
        return [self.min + i * step for i in range(self.n)]


class Priors(BaseModel):
    model_config = ConfigDict(extra="forbid")
    beta_sd: dict[str, float]
    tau_half_normal_scale: float = Field(gt=0)
    tau_grid: Grid
    time_constant_years: list[float]


class Sourced(BaseModel):
    model_config = ConfigDict(extra="allow")
    value: float
    source: str | None = None
    assumption: bool = False
    note: str | None = None
    cv: float | None = None


class Assumptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rho_time: float = Field(ge=0, le=1)
    rho_site: float = Field(ge=0, le=1)
    open_designs: list[str]
    open_comparators: list[str]
    secondary_populations: list[str]
    unknown_dose: str = "typical"
    typical_dose_ug_per_day: dict[str, Sourced]
    baseline_bmd_g_cm2: dict[str, Sourced]
    bmd_sd_percent_of_mean: Sourced
    min_sd_percent: float = 1.0


class GradientLink(BaseModel):
    entry: str
    site: str


class FractureConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gradient_record: str
    gradient_outcome: dict[str, GradientLink]
    direct_prior_sd: float = Field(gt=0)
    tau_half_normal_scale: float = Field(gt=0)
    tau_grid: Grid


class ExposureFallback(BaseModel):
    emax: Sourced
    ed50_ug_per_day: dict[str, Sourced]


class MbmaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priors: Priors
    assumptions: Assumptions
    fracture: FractureConfig
    exposure_fallback: ExposureFallback

    @property
    def covariates(self) -> list[str]:
        return list(self.priors.beta_sd)

    def time_constants(self) -> list[float]:
        return [float(x) for x in self.priors.time_constant_years]


class LossRate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    cls: str = Field(alias="class")
    region: str
    site_group: str
    rate: float
    low: float | None = None
    high: float | None = None
    source: str | None = None
    assumption: bool = False
    note: str | None = None


class LossTable(BaseModel):
    rates: list[LossRate]
    total_body_as: str = "spine"

    def lookup(self, cls: str, region: str | None, site: str) -> tuple[LossRate, list[str]]:
        """The natural loss row for a population class, region and BMD site, with fallback flags."""
        flags: list[str] = []
        group = SITE_GROUP.get(site, "spine")
        if group == "total_body":
            group = self.total_body_as
            flags.append(f"total-body loss taken as the {group} rate")
        regions = [region] if region in REGIONS else ["western", "asian"]
        if region not in REGIONS:
            flags.append(f"region {region or 'unknown'}: western and asian rates averaged")
        found: list[LossRate] = []
        for reg in regions:
            row = self._find(cls, reg, group)
            if row is None:
                other = "asian" if reg == "western" else "western"
                row = self._find(cls, other, group)
                if row is not None:
                    flags.append(f"no {reg} {cls} {group} rate: {other} rate used")
            if row is None:
                row = self._find(cls, reg, "spine") or self._find(cls, "western", "spine") or self._find(cls, "asian", "spine")
                if row is not None:
                    flags.append(f"no {cls} {group} rate: spine rate used")
            if row is None:
                row = self._find("postmenopausal", reg, group) or self._find("postmenopausal", "western", "spine")
                flags.append(f"no {cls} rate: postmenopausal rate used")
            found.append(row)
        if len(found) == 1:
            return found[0], flags
        a, b = found
        avg = LossRate(**{"class": cls, "region": "mixed", "site_group": group, "rate": (a.rate + b.rate) / 2,
                          "low": min(x for x in (a.low, b.low, a.rate, b.rate) if x is not None),
                          "high": max(x for x in (a.high, b.high, a.rate, b.rate) if x is not None),
                          "source": f"mean of: {a.source or a.note}; {b.source or b.note}",
                          "assumption": a.assumption or b.assumption})
        return avg, flags

    def _find(self, cls: str, region: str, group: str) -> LossRate | None:
        return next((r for r in self.rates if r.cls == cls and r.region == region and r.site_group == group), None)


@lru_cache(maxsize=1)
def load_config() -> MbmaConfig:
    raw = yaml.safe_load(data_path("model", "mbma_config.yaml").read_text(encoding="utf-8"))
    tc = raw["priors"]["time_constant_years"]
    raw["priors"]["time_constant_years"] = [math.inf if (isinstance(x, float) and math.isinf(x)) else float(x) for x in tc]
    return MbmaConfig.model_validate(raw)


@lru_cache(maxsize=1)
def load_loss_table() -> LossTable:
    raw = yaml.safe_load(data_path("model", "bmd_loss_rates.yaml").read_text(encoding="utf-8"))
    return LossTable.model_validate(raw)
