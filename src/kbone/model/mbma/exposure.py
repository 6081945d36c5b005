"""The one exposure scale of the bone-outcome model: the predicted steady-state fall in
uncarboxylated osteocalcin (fraction 0..1 of the value without the supplement), for every form.

When the PK/PD model offers ``steady_state_carboxylation`` it is the source (method ``pkpd``); until
then a documented dose-based Emax model stands in (method ``dose_emax_fallback``,
``data/model/mbma_config.yaml: exposure_fallback``), and every output says which one was used.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from functools import lru_cache

from kbone.model.mbma.config import load_config

_PKPD_MODULES = ("kbone.model.pd", "kbone.model.pkpd", "kbone.model.carboxylation", "kbone.model.pk")


@dataclass(frozen=True)
class Exposure:
    """Exposure E (fractional fall in ucOC at steady state) and how it was obtained."""

    value: float
    method: str
    flags: tuple[str, ...] = field(default_factory=tuple)


@lru_cache(maxsize=1)
def _pkpd_function():
    for name in _PKPD_MODULES:
        try:
            mod = importlib.import_module(name)
        except Exception:  # a module under construction must not break the bone model
            continue
        fn = getattr(mod, "steady_state_carboxylation", None)
        if callable(fn):
            return fn
    return None


def _from_pkpd_result(res) -> float | None:
    """Fractional fall in ucOC from whatever the PK/PD API returns (object, mapping or number)."""
    keys = ("ucoc_fraction_fall", "ucoc_relative_fall", "ucoc_relative_change", "ucoc_change", "relative_change")
    get = (lambda k: res.get(k)) if isinstance(res, dict) else (lambda k: getattr(res, k, None))
    for k in keys:
        v = get(k)
        if v is not None:
            v = float(v if not hasattr(v, "mean") else v.mean())
            return -v if v < 0 else v
    if isinstance(res, (int, float)):
        v = float(res)
        return -v if v < 0 else v
    return None


def pkpd_available() -> bool:
    return _pkpd_function() is not None


def fallback_exposure(form: str, dose_ug_per_day: float) -> Exposure:
    """Emax on dose: E = Emax D / (ED50 + D) with the form's ED50 (``exposure_fallback``)."""
    fb = load_config().exposure_fallback
    key = form if form in fb.ed50_ug_per_day else None
    flags = ["exposure from the dose-based Emax fallback (PK/PD steady-state carboxylation not available)"]
    if key is None:
        # unspecified K2 / MK-n: the least potent listed form, flagged
        key = max(fb.ed50_ug_per_day, key=lambda k: fb.ed50_ug_per_day[k].value)
        flags.append(f"form {form}: no exposure parameters, {key} used (assumption)")
    ed50 = fb.ed50_ug_per_day[key]
    if ed50.assumption:
        flags.append(f"{key} ED50 is an assumption: {ed50.note}")
    return Exposure(fb.emax.value * dose_ug_per_day / (ed50.value + dose_ug_per_day), "dose_emax_fallback", tuple(flags))


@lru_cache(maxsize=256)
def exposure(form: str, dose_ug_per_day: float) -> Exposure:
    """Exposure for ``form`` at ``dose_ug_per_day`` µg/day (PK/PD when available, else the fallback)."""
    if not (dose_ug_per_day > 0 and math.isfinite(dose_ug_per_day)):
        raise ValueError("dose must be a positive number of µg/day")
    fn = _pkpd_function()
    if fn is not None:
        try:
            v = _from_pkpd_result(fn(form, dose_ug_per_day))
        except Exception as err:  # noqa: BLE001 - report and fall back, never crash a prediction
            v = None
            reason = f"PK/PD steady_state_carboxylation failed for {form} ({err}); fallback used"
        else:
            reason = f"PK/PD steady_state_carboxylation gave no usable ucOC change for {form}; fallback used"
        if v is not None and math.isfinite(v):
            return Exposure(min(max(v, 0.0), 1.0), "pkpd")
        fb = fallback_exposure(form, dose_ug_per_day)
        return Exposure(fb.value, fb.method, (*fb.flags, reason))
    return fallback_exposure(form, dose_ug_per_day)


def method() -> str:
    return "pkpd" if pkpd_available() else "dose_emax_fallback"
