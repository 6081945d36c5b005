"""kbone.model — vitamin K from dose to blood to carboxylation, INR under warfarin, virtual populations;
and (``kbone.model.mbma``) the bone-outcome model-based meta-analysis.

PK/PD API for other parts (details and units in :mod:`kbone.model.api`)::

    from kbone.model.api import simulate, steady_state_carboxylation, estimate_status, inr_sensitivity

- ``steady_state_carboxylation(form, dose_ug_per_day, fat_g=None, baseline_intake=None)`` — one exposure
  scale for all forms: added K1-equivalent activity and the relative change in ucOC, ucOC/cOC, dp-ucMGP.
- ``estimate_status(intake)`` — expected plasma levels, %ucOC, ucOC and dp-ucMGP from habitual intake.
- ``inr_sensitivity(delta_ug_per_day, form, source="food", target_inr=2.5, ...)`` — INR change of a VKA user.
- ``simulate(form, dose, every=..., days=..., warfarin=..., n=...)`` — time courses (``kbone pk``).

Model structure lives in ``data/model/*.yaml`` (specs with sourced parameters; fitted values in
``fitted.yaml`` from ``scripts/calibrate_pkpd.py``); the solvers (:mod:`.linear`, :mod:`.ode`) are generic.
"""

_API = ("simulate", "steady_state_carboxylation", "estimate_status", "inr_sensitivity")


def __getattr__(name: str):
    if name in _API:
        from kbone.model import api

        return getattr(api, name)
    raise AttributeError(f"module 'kbone.model' has no attribute {name!r}")
