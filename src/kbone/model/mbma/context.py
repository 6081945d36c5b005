"""What a trial or a design *is* for the bone model: form, dose, exposure, population class, region,
co-interventions and control type — and its covariate vector for a BMD site."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kbone.model.mbma.config import SITE_GROUP, MbmaConfig, load_config, load_loss_table
from kbone.model.mbma.exposure import exposure


def loss_class(terms: set[str], sex: str | None = None, age_max: float | None = None,
               early: bool | None = None) -> str:
    """Population class of the natural-loss table from population terms (and age, menopause stage)."""
    female = {"women", "postmenopausal", "perimenopausal", "premenopausal"}
    if ("men" in terms and not (terms & female)) or sex == "male":
        return "men"
    if "premenopausal" in terms and "postmenopausal" not in terms:
        return "premenopausal"
    if early is True or "perimenopausal" in terms:
        return "early_postmenopausal"
    if early is None and "postmenopausal" in terms and age_max is not None and age_max <= 60:
        return "early_postmenopausal"
    return "postmenopausal"


def region_of(region: str | None, terms: set[str]) -> str | None:
    if region in ("asian", "western"):
        return region
    if "asian" in terms and "western" not in terms:
        return "asian"
    if "western" in terms and "asian" not in terms:
        return "western"
    return None


@dataclass(frozen=True)
class Context:
    """One vitamin K regimen in one population, as the model sees it."""

    form: str
    dose_ug_per_day: float
    exposure: float
    exposure_method: str
    loss_class: str
    region: str | None
    osteoporotic: bool
    secondary: bool
    men: float                 # 1 men only, 0.5 mixed sexes, 0 women
    open_label: bool
    calcium_vitamin_d: bool
    bisphosphonate: bool
    flags: tuple[str, ...] = field(default_factory=tuple)

    def covariates(self, site: str, cfg: MbmaConfig | None = None) -> np.ndarray:
        """x (before the exposure multiplier is applied it is 1 for 'exposure'), times exposure E."""
        cfg = cfg or load_config()
        group = SITE_GROUP.get(site, "spine")
        asian = 1.0 if self.region == "asian" else (0.0 if self.region == "western" else 0.5)
        vals = {
            "exposure": 1.0, "asian": asian, "osteoporotic": float(self.osteoporotic),
            "secondary": float(self.secondary), "men": float(self.men), "open_label": float(self.open_label),
            "calcium_vitamin_d": float(self.calcium_vitamin_d), "bisphosphonate": float(self.bisphosphonate),
            "site_hip": float(group == "hip"), "site_peripheral": float(group == "peripheral"),
            "form_MK-4": float(self.form == "MK-4"), "form_MK-7": float(self.form == "MK-7"),
        }
        unknown = [k for k in cfg.covariates if k not in vals]
        if unknown:
            raise ValueError(f"mbma_config.yaml names covariates the model does not know: {unknown}")
        return self.exposure * np.array([vals[k] for k in cfg.covariates])

    def loss_rate(self, site: str) -> tuple[float, list[str], str]:
        """Natural loss (%/yr) at ``site`` for this population, with fallback flags and its source."""
        row, flags = load_loss_table().lookup(self.loss_class, self.region, site)
        src = row.source or ("ASSUMPTION: " + (row.note or ""))
        if row.assumption:
            flags = [*flags, f"natural loss rate for {self.loss_class}/{row.region}/{row.site_group} is an assumption"]
        if self.secondary:
            flags = [*flags, "secondary bone loss: no sourced natural-loss rate; the base class rate is used"]
        return row.rate, flags, src

    def summary(self) -> dict:
        return {"form": self.form, "dose_ug_per_day": self.dose_ug_per_day, "exposure": round(self.exposure, 4),
                "exposure_method": self.exposure_method, "loss_class": self.loss_class, "region": self.region,
                "osteoporotic": self.osteoporotic, "secondary": self.secondary, "men": self.men,
                "open_label": self.open_label, "calcium_vitamin_d": self.calcium_vitamin_d,
                "bisphosphonate": self.bisphosphonate, "flags": list(self.flags)}


def make_context(*, form: str, dose_ug_per_day: float, terms: set[str], region: str | None,
                 co_agents: set[str], open_label: bool, sex: str | None = None, age_max: float | None = None,
                 early: bool | None = None, flags: list[str] | None = None,
                 cfg: MbmaConfig | None = None) -> Context:
    cfg = cfg or load_config()
    ex = exposure(form, float(dose_ug_per_day))
    secondary = bool(terms & set(cfg.assumptions.secondary_populations))
    cls = loss_class(terms, sex, age_max, early)
    men = 1.0 if cls == "men" else (0.5 if ("men" in terms and terms & {"women", "postmenopausal"}) or sex == "mixed" else 0.0)
    return Context(
        form=form, dose_ug_per_day=float(dose_ug_per_day), exposure=ex.value, exposure_method=ex.method,
        loss_class=cls, region=region_of(region, terms), osteoporotic="osteoporotic" in terms,
        secondary=secondary, men=men, open_label=open_label,
        calcium_vitamin_d=bool(co_agents & {"calcium", "vitamin_d"}), bisphosphonate="bisphosphonate" in co_agents,
        flags=tuple([*(flags or []), *ex.flags]),
    )
